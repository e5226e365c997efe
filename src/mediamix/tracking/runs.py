"""One MLflow run per fit, logged by a child process (see :mod:`mediamix.tracking.worker`).

Usage from the fit use case::

    with fit_run(config, data=loaded.dataset, spec=loaded.spec, engine="ridge") as run:
        result = ...                      # fit; the child opens MLflow meanwhile
        summary.update(run.summary_fields())
        ... write the output folder into tmp ...
        run.log_outputs(tmp, summary)     # before the folder is moved in place

The run ends FINISHED only when the block completes; any exception (or the fit
process dying) leaves it FAILED. With tracking turned off, :func:`fit_run` returns a
run that does nothing, so the fit code has one path.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from mediamix import __version__
from mediamix.data.dataset import Dataset
from mediamix.errors import MediamixError
from mediamix.models.info import EngineInfo
from mediamix.secrets import redact_url
from mediamix.tracking.config import TrackingConfig
from mediamix.tracking.fingerprint import data_fingerprint, spec_hash

__all__ = ["FitRun", "TrackingError", "fit_metrics", "fit_params", "fit_run", "prepare"]

log = logging.getLogger(__name__)


class TrackingError(MediamixError):
    """The tracking store refused or could not be reached."""


class FitRun:
    """A fit's MLflow run; a no-op when tracking is off (``config`` is ``None``)."""

    def __init__(self, config: TrackingConfig | None) -> None:
        self.config = config
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None
        self._ref: dict[str, str] | None = None
        self._started = False
        if config is None or not config.enabled:
            return
        if config.embedded:
            Path(config.home, "mlflow").mkdir(parents=True, exist_ok=True)
        # closed in close(), after the child has exited
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(  # noqa: S603 -- this interpreter running mediamix's own worker module, no shell
            [sys.executable, "-m", "mediamix.tracking.worker", config.uri],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )

    def start(self, start: Mapping[str, Any]) -> None:
        """Create the run (the child answers when the store is ready)."""
        if self._proc is not None and not self._started:
            self._send({"op": "start", **start})
            self._started = True

    @property
    def enabled(self) -> bool:
        """True when this fit is tracked."""
        return self._proc is not None

    def _send(self, cmd: Mapping[str, Any]) -> None:
        assert self._proc is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
        assert self._proc.stdin is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
        try:
            self._proc.stdin.write(json.dumps(cmd, default=str) + "\n")
            self._proc.stdin.flush()
        except BrokenPipeError:
            raise TrackingError(self._failure("the tracking process exited")) from None

    def _answer(self) -> dict[str, Any]:
        assert self._proc is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
        assert self._proc.stdout is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
        line = self._proc.stdout.readline()
        if not line:
            raise TrackingError(self._failure("the tracking process exited"))
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise TrackingError(f"tracking at {self._uri()} failed: {answer.get('error')}")
        return answer

    def _uri(self) -> str:
        return self.config.uri if self.config is not None else "-"

    def _failure(self, what: str) -> str:
        tail = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            tail = self._stderr.read().decode(errors="replace").strip()[-2000:]
        return f"{what} (tracking URI {redact_url(self._uri())})" + (f": {tail}" if tail else "")

    def reference(self) -> dict[str, str] | None:
        """``{"run_id", "tracking_uri"}`` once the run exists (waits for it); ``None`` if off."""
        if self._proc is None or not self._started:
            return None
        if self._ref is None:
            answer = self._answer()
            # summary.json and logs keep the URI without a password it may carry
            self._ref = {
                "run_id": answer["run_id"],
                "tracking_uri": redact_url(str(answer["tracking_uri"])),
            }
        return dict(self._ref)

    def summary_fields(self) -> dict[str, Any]:
        """What summary.json gains: ``{"tracking": {...}}``, or nothing when off."""
        ref = self.reference()
        return {} if ref is None else {"tracking": ref}

    def log_outputs(self, folder: Path, summary: Mapping[str, Any], spec_file: Path | None) -> None:
        """Log metrics, parameters and the output folder's files; waits until stored."""
        if self._proc is None:
            return
        self.reference()
        folder = Path(folder)
        artifacts = [
            [str(folder / name), ""]
            for name in ("summary.json", "decomposition.csv")
            if (folder / name).is_file()
        ]
        if (folder / "model").is_dir():
            artifacts.append([str(folder / "model"), "model"])
        if (folder / "model" / "lineage.json").is_file():
            # also at the run's top level, where the MLflow UI shows it first
            artifacts.append([str(folder / "model" / "lineage.json"), ""])
        if spec_file is not None and Path(spec_file).is_file():
            artifacts.append([str(spec_file), "spec"])
        self._send(
            {
                "op": "log",
                "params": fit_params(summary),
                "metrics": fit_metrics(summary),
                "artifacts": artifacts,
            }
        )
        self._answer()

    def close(self, error: BaseException | None) -> None:
        """End the run: FINISHED without ``error``, else FAILED with its message."""
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        try:
            if proc.poll() is None and proc.stdin is not None:
                status = "FINISHED" if error is None else "FAILED"
                message = None if error is None else f"{type(error).__name__}: {error}"
                proc.stdin.write(json.dumps({"op": "end", "status": status, "error": message}))
                proc.stdin.write("\n")
                proc.stdin.flush()
                assert proc.stdout is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
                # the start answer may still be unread when the fit failed early
                lines = proc.stdout.read().splitlines()
                ended = lines and json.loads(lines[-1]).get("ok")
                if error is None and not ended:
                    self._proc = proc
                    raise TrackingError(self._failure("could not finish the run"))
        except BrokenPipeError:
            if error is None:
                raise TrackingError(self._failure("the tracking process exited")) from None
        finally:
            if self._proc is None:
                proc.wait(timeout=120)
                if self._stderr is not None:
                    self._stderr.close()


def fit_params(summary: Mapping[str, Any]) -> dict[str, str]:
    """MLflow parameters of a fit: engine, window, search options, fitted transforms."""
    params: dict[str, str] = {
        "engine": str(summary.get("engine")),
        "kpi": str(summary.get("kpi")),
        "kpi_type": str(summary.get("kpi_type")),
        "start": str(summary.get("start")),
        "end": str(summary.get("end")),
        "n_periods": str(summary.get("n_periods")),
        "channels": ",".join(summary.get("channels") or {}),
    }
    for group, settings in EngineInfo.from_dict(summary.get("info")).settings.items():
        for key, value in settings.items():
            params[f"{group}.{key}"] = str(value)
    for name, c in (summary.get("channels") or {}).items():
        for part in ("adstock", "saturation"):
            spec = c.get(part) or {}
            params[f"{name}.{part}"] = json.dumps(spec, sort_keys=True)
    return params


def fit_metrics(summary: Mapping[str, Any]) -> dict[str, float]:
    """MLflow metrics of a fit: errors, holdout error, diagnostics and per-channel ROI."""
    out: dict[str, float] = {}

    def put(key: str, value: Any) -> None:
        if isinstance(value, bool) or (isinstance(value, int | float) and value == value):
            out[key] = float(value)

    for key, value in (summary.get("metrics") or {}).items():
        put(key, value)
    info = EngineInfo.from_dict(summary.get("info"))
    put("holdout_nrmse", info.holdout_nrmse)
    for key, value in (info.diagnostics.figures if info.diagnostics else {}).items():
        put(f"diagnostics.{key}", value)
    for name, c in (summary.get("channels") or {}).items():
        for key in ("roi", "mroi", "cpa", "contribution", "contribution_share", "spend"):
            put(f"{key}.{name}", c.get(key))
    return out


def prepare(config: TrackingConfig | None) -> FitRun:
    """Start the tracking child now, so MLflow loads while the caller reads its data.

    Pass the result to :func:`fit_run` as ``prepared``; a prepared run that is never
    started ends with its child, creating nothing.
    """
    return FitRun(config)


@contextmanager
def fit_run(  # noqa: PLR0913 -- keyword-only: what one run records about its fit
    config: TrackingConfig | None,
    *,
    data: Dataset,
    spec: Mapping[str, Any],
    engine: str,
    seed: int,
    source: str | None = None,
    parent_run_id: str | None = None,
    prepared: FitRun | None = None,
) -> Iterator[FitRun]:
    """A tracked fit: the run starts now and ends FINISHED only if the block completes.

    ``config`` ``None`` (or disabled) yields a run that logs nothing. ``prepared``
    is the result of :func:`prepare` for the same ``config``.
    """
    start = {
        "uri": config.uri if config else None,
        "artifact_root": config.artifact_root if config else None,
        "experiment": config.experiment if config else None,
        "run_name": f"fit-{engine}",
        "tags": {
            "mediamix.data_fingerprint": data_fingerprint(data),
            "mediamix.spec_hash": spec_hash(spec),
            "mediamix.version": __version__,
            "mediamix.engine": engine,
            "mediamix.kind": "fit",
            **({"mediamix.source": source} if source else {}),
            **({"mlflow.parentRunId": parent_run_id} if parent_run_id else {}),
        },
        "params": {"seed": seed, "spec_hash": spec_hash(spec)},
    }
    run = prepared if prepared is not None else FitRun(config)
    run.start(start)
    try:
        yield run
    except BaseException as exc:
        try:
            run.close(exc)
        except Exception:
            log.warning("could not mark the tracking run FAILED", exc_info=True)
        raise
    run.close(None)
