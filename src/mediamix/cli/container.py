"""``mediamix-sagemaker serve|train|health``: the image's entry points, as SageMaker runs them.

SageMaker starts the container as ``docker run IMAGE serve`` for endpoints and
``docker run IMAGE train`` for training jobs, with everything under ``/opt/ml``::

    /opt/ml/model/                          the model (serve: read; train: written)
    /opt/ml/input/config/hyperparameters.json   train: {"spec", "engine", "seed",
                                                 "candidates", "bootstrap"} (all text)
    /opt/ml/input/data/training/            train: the spec and its data (channel ``training``)
    /opt/ml/output/failure                  train: why the job failed

``MEDIAMIX_SAGEMAKER_ROOT`` moves that root (tests use a temporary folder);
``SAGEMAKER_BIND_TO_PORT`` the serving port (default 8080). ``health`` is the
image's HEALTHCHECK: it pings ``/ping`` when this container serves, and succeeds
otherwise (a training container has nothing to answer).

Exit codes: 0 success; 2 bad input (the spec or hyperparameters; the reason is in
``output/failure``); 1 internal error.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from mediamix.errors import InputError

__all__ = ["main"]

log = logging.getLogger("mediamix.container")

SERVING_MARKER = Path(tempfile.gettempdir()) / "mediamix-serving"
_HYPERPARAMETERS = {"spec", "engine", "seed", "candidates", "bootstrap"}


def _root() -> Path:
    return Path(os.environ.get("MEDIAMIX_SAGEMAKER_ROOT", "/opt/ml"))


def _port() -> int:
    return int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))


def serve() -> int:
    """Serve ``/opt/ml/model`` on the SageMaker contract until SIGTERM."""
    from mediamix.api.sagemaker import serve_sagemaker

    # uvicorn drains requests on SIGTERM, then raises the signal again: make that a
    # normal exit, which is how SageMaker stops a container
    signal.signal(signal.SIGTERM, _exit_on_signal)
    SERVING_MARKER.write_text(str(_port()))
    try:
        serve_sagemaker(_root() / "model", port=_port())
    finally:
        SERVING_MARKER.unlink(missing_ok=True)
    return 0


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _hyperparameters(root: Path) -> dict[str, str]:
    path = root / "input" / "config" / "hyperparameters.json"
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError.single(
            f"invalid JSON: {exc.msg}", file=str(path), row=exc.lineno
        ) from None
    if not isinstance(doc, dict):
        raise InputError.single("expected a JSON object", file=str(path))
    unknown = sorted(set(doc) - _HYPERPARAMETERS)
    if unknown:
        raise InputError.single(
            f"unknown hyperparameters {unknown}; expected {sorted(_HYPERPARAMETERS)}",
            file=str(path),
        )
    return {k: str(v) for k, v in doc.items()}


def _integer(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        return int(params[name])
    except ValueError:
        raise InputError.single(f"{name} must be an integer", column=name) from None


def _fit_request(params: dict[str, str]) -> dict[str, object]:
    """The fit request of the hyperparameters (SageMaker passes every value as text)."""
    request: dict[str, object] = {"engine": params.get("engine", "ridge")}
    request["seed"] = _integer(params, "seed") or 0
    ridge = {k: _integer(params, k) for k in ("candidates", "bootstrap") if k in params}
    if ridge:
        request["ridge"] = ridge
    return request


def train() -> int:
    """Fit the spec of the ``training`` channel and write the fit output to /opt/ml/model."""
    from mediamix.service.fit import fit

    root = _root()
    failure = root / "output" / "failure"
    try:
        params = _hyperparameters(root)
        channel = root / "input" / "data" / "training"
        spec = channel / params.get("spec", "spec.yaml")
        if not spec.resolve().is_relative_to(channel.resolve()):
            raise InputError.single("the spec must be inside the training channel", column="spec")
        request = _fit_request(params)
        model_dir = root / "model"
        scratch = Path(tempfile.mkdtemp(prefix="mediamix-train-"))
        try:
            fit(spec, scratch / "fit", request)
            model_dir.mkdir(parents=True, exist_ok=True)
            for entry in (scratch / "fit").iterdir():
                shutil.move(str(entry), model_dir / entry.name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    except InputError as exc:
        _fail(failure, f"bad input: {exc}")
        return 2
    except Exception as exc:
        log.exception("training failed")
        _fail(failure, f"internal error: {type(exc).__name__}: {exc}")
        return 1
    log.info("wrote %s", root / "model")
    return 0


def _fail(failure: Path, message: str) -> None:
    failure.parent.mkdir(parents=True, exist_ok=True)
    failure.write_text(message + "\n")
    print(message, file=sys.stderr)


def health() -> int:
    """0 when this container is not serving, or when ``/ping`` answers 200."""
    if not SERVING_MARKER.is_file():
        return 0
    url = f"http://127.0.0.1:{SERVING_MARKER.read_text().strip()}/ping"
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return 0 if answer.status == 200 else 1
    except OSError:
        return 1


def main(argv: Sequence[str] | None = None) -> None:
    """Dispatch ``serve``, ``train`` or ``health``."""
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=os.environ.get("MEDIAMIX_LOG_LEVEL", "INFO"), stream=sys.stderr)
    commands = {"serve": serve, "train": train, "health": health}
    if len(args) != 1 or args[0] not in commands:
        print("usage: mediamix-sagemaker serve|train|health", file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[args[0]]())


if __name__ == "__main__":
    main()
