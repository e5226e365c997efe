r"""R scripts as models: run a user's R script on the modelling input, read its model back.

mediamix runs ``Rscript --vanilla SCRIPT INPUT_DIR OUTPUT_DIR`` in a subprocess (its own
process group, killed with all its children past the timeout) in a temporary folder
that is removed afterwards, whatever happens.

Input (written by mediamix into ``INPUT_DIR``):

- ``input.csv``: ``date`` (ISO), the KPI, one spend column per channel (named as the
  channel), then the controls, organic and event columns of the spec; national data.
- ``input.json``: ``{"kpi": ..., "kpi_type": "revenue"|"conversions", "date": "date",
  "channels": [...], "controls": [...], "organic": [...], "events": [...],
  "frequency": "weekly"|"daily"}``.

Output (written by the script into ``OUTPUT_DIR``):

- ``curves.json``: ``{"channels": {CHANNEL: {"adstock": {...}, "saturation": {...},
  "beta": number}}}`` for every channel, with adstock and saturation as in a spec or a
  ``CURVES.json`` (the transform registry's names and parameters, e.g. ``{"type":
  "geometric", "alpha": 0.5}``, ``{"type": "hill", "half_saturation": 1000, "slope":
  1}``). A channel's response to a spend series is ``beta * saturation(adstock(x))``.
- ``decomposition.csv``: ``date`` (the input's dates, in order), one column per
  channel (its contribution per period) and at least one baseline column (any other
  name, e.g. ``baseline`` or ``intercept``, ``trend``, ...), all numbers.

The channel columns must equal the curves applied to the input spend (relative
tolerance 1e-6 of the column's largest value): the optimizer plans on the curves, so
a decomposition that disagrees with them is refused, naming the channel and row. The
model's fitted KPI is the sum of the decomposition's columns.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mediamix.data.dataset import Dataset
from mediamix.data.spec import ModelSpec
from mediamix.errors import InputError, Problem
from mediamix.models.design import BaselineDesign
from mediamix.models.result import ChannelFit, FitResult
from mediamix.rlang.bridge import r_version, rscript_path

__all__ = ["ENGINE", "ScriptRun", "run_r_script"]

log = logging.getLogger(__name__)

ENGINE = "r-script"
#: Relative tolerance between a script's decomposition and its curves.
CURVE_TOLERANCE = 1e-6
_TAIL = 12  # lines of the script's output shown in an error


@dataclass(frozen=True)
class ScriptRun:
    """How the script ran."""

    seconds: float
    stdout: str
    stderr: str
    r_version: str


def _input_frame(data: Dataset) -> pd.DataFrame:
    frame = pd.DataFrame({"date": pd.to_datetime(data.dates).strftime("%Y-%m-%d")})
    frame[data.kpi_name] = data.kpi[0]
    for c, name in enumerate(data.channels):
        frame[name] = data.spend[0][:, c]
    for names, values in (
        (data.control_names, data.controls[0]),
        (data.organic_names, data.organic[0]),
        (data.event_names, data.events[0]),
    ):
        for k, name in enumerate(names):
            frame[name] = values[:, k]
    return frame


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n    ".join(lines[-_TAIL:]) if lines else "(no output)"


def _run(script: Path, work: Path, timeout: float) -> ScriptRun:
    rscript = rscript_path(purpose="an R script model")
    inp, out = work / "input", work / "output"
    start = time.monotonic()
    # the user asked to run this script: it is theirs, not input from elsewhere
    proc = subprocess.Popen(  # noqa: S603 -- argument list without a shell; the user asked to run this script
        [str(rscript), "--vanilla", str(script), str(inp), str(out)],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: R may have started children
        stdout, stderr = proc.communicate()
        raise InputError.single(
            f"the R script did not finish within {timeout:g} s and was stopped; "
            f"its last output:\n    {_tail(stderr or stdout)}",
            file=str(script),
        ) from None
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise InputError.single(
            f"the R script failed (exit code {proc.returncode}); its last output:\n    "
            f"{_tail(stderr or stdout)}",
            file=str(script),
        )
    return ScriptRun(seconds=seconds, stdout=stdout, stderr=stderr, r_version=r_version(rscript))


def _read_curves(path: Path, channels: tuple[str, ...]) -> dict[str, ChannelFit]:
    if not path.is_file():
        raise InputError.single("the R script wrote no curves.json", file=path.name)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError.single(f"not valid JSON: {exc}", file=path.name) from None
    found = doc.get("channels") if isinstance(doc, dict) else None
    if not isinstance(found, dict):
        raise InputError.single('no "channels" object', file=path.name, column="channels")
    problems: list[Problem] = []
    fits: dict[str, ChannelFit] = {}
    from mediamix.transforms.registry import adstock_from_dict, saturation_from_dict

    for name in channels:
        entry = found.get(name)
        key = f"channels.{name}"
        if not isinstance(entry, dict):
            problems.append(Problem("missing", file=path.name, column=key))
            continue
        try:
            beta = float(entry["beta"])
            if not math.isfinite(beta):
                raise ValueError
            adstock_from_dict(entry["adstock"])
            saturation_from_dict(entry["saturation"])
        except InputError as exc:
            problems.extend(Problem(p.message, file=path.name, column=key) for p in exc.problems)
            continue
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append(
                Problem(
                    "needs adstock, saturation (objects with a type) and a finite beta",
                    file=path.name,
                    column=key,
                )
            )
            continue
        fits[name] = ChannelFit(
            adstock=dict(entry["adstock"]), saturation=dict(entry["saturation"]), beta=beta
        )
    extra = sorted(set(found) - set(channels))
    if extra:
        problems.append(
            Problem(f"channels {extra} are not in the spec", file=path.name, column="channels")
        )
    if problems:
        raise InputError(problems)
    return fits


def _read_decomposition(path: Path, data: Dataset, fits: dict[str, ChannelFit]) -> pd.DataFrame:  # noqa: C901, PLR0912 -- one check per malformed-output case, each named
    if not path.is_file():
        raise InputError.single("the R script wrote no decomposition.csv", file=path.name)
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError.single(f"not a readable CSV: {exc}", file=path.name) from None
    problems: list[Problem] = []
    dates = list(pd.to_datetime(data.dates).strftime("%Y-%m-%d"))
    if "date" not in frame.columns:
        raise InputError.single("no date column", file=path.name, column="date")
    if len(frame) != len(dates):
        raise InputError.single(
            f"{len(frame)} rows, the input has {len(dates)} periods", file=path.name
        )
    for row, (seen, want) in enumerate(zip(frame["date"].astype(str), dates, strict=True)):
        if seen != want:
            raise InputError.single(
                f"date {seen!r} where the input has {want}",
                file=path.name,
                row=row + 1,
                column="date",
            )
    for name in fits:
        if name not in frame.columns:
            problems.append(Problem("channel column missing", file=path.name, column=name))
    baseline = [c for c in frame.columns if c != "date" and c not in fits]
    if not baseline:
        problems.append(
            Problem("no baseline column (any column besides date and channels)", file=path.name)
        )
    for column in frame.columns.drop("date"):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(float)))
        if bad.size:
            problems.append(
                Problem(
                    f"not a number: {frame[column].iloc[bad[0]]!r}",
                    file=path.name,
                    row=int(bad[0]) + 1,
                    column=str(column),
                )
            )
        else:
            frame[column] = values.astype(float)
    if problems:
        raise InputError(problems)
    spend = data.spend[0]
    for c, name in enumerate(data.channels):
        expected = fits[name].response(spend[:, c])
        got = frame[name].to_numpy(float)
        scale = max(float(np.max(np.abs(expected))), float(np.max(np.abs(got))), 1e-12)
        gap = np.abs(got - expected) / scale
        if gap.max() > CURVE_TOLERANCE:
            row = int(np.argmax(gap))
            raise InputError.single(
                f"the contribution {got[row]:.6g} is not the channel's curve applied to its "
                f"spend ({expected[row]:.6g}); the optimizer plans on the curves, so they "
                "must agree",
                file=path.name,
                row=row + 1,
                column=name,
            )
    return frame


def run_r_script(
    script: str | Path, data: Dataset, spec: ModelSpec, timeout: float = 600.0
) -> FitResult:
    """Run an R script model on national data and return it as a mediamix model.

    The baseline columns of the script's decomposition become the model's baseline
    (each a component with coefficient 1), so ``summary``, ``decomposition`` and
    plans work as for any model; decomposing new periods needs those columns and is
    not available.

    Raises
    ------
    RMissingError
        No ``Rscript``.
    InputError
        The script fails, runs past ``timeout`` seconds, or writes output that does not
        follow the layout (each problem names the file, row and column).
    """
    script = Path(script).resolve()
    if not script.is_file():
        raise InputError.single("R script not found", file=str(script))
    if timeout <= 0:
        raise InputError.single("the timeout must be positive", column="--timeout")
    data = data.national()
    with tempfile.TemporaryDirectory(prefix="mediamix-rscript-") as tmp:
        work = Path(tmp)
        (work / "input").mkdir()
        (work / "output").mkdir()
        _input_frame(data).to_csv(work / "input" / "input.csv", index=False)
        meta = {
            "kpi": data.kpi_name,
            "kpi_type": data.kpi_type.value,
            "date": "date",
            "channels": list(data.channels),
            "controls": list(data.control_names),
            "organic": list(data.organic_names),
            "events": list(data.event_names),
            "frequency": str(getattr(data.frequency, "value", data.frequency)),
        }
        (work / "input" / "input.json").write_text(json.dumps(meta, indent=2))
        run = _run(script, work, timeout)
        fits = _read_curves(work / "output" / "curves.json", data.channels)
        frame = _read_decomposition(work / "output" / "decomposition.csv", data, fits)
    baseline = [c for c in frame.columns if c != "date" and c not in fits]
    design = BaselineDesign(
        origin=str(data.dates[0]),
        trend_span_days=max(float((data.dates[-1] - data.dates[0]).astype(int)), 1.0),
        trend=False,
        yearly=0,
        weekly=0,
        events=(),
        controls=tuple(baseline),
        organic=(),
    )
    model_data = Dataset(
        dates=data.dates,
        geos=("national",),
        channels=data.channels,
        kpi=data.kpi[0],
        spend=data.spend[0],
        kpi_name=data.kpi_name,
        kpi_type=data.kpi_type,
        frequency=data.frequency,
        controls=frame[baseline].to_numpy(float),
        control_names=tuple(baseline),
        source=data.source,
    )
    info: dict[str, Any] = {
        "r_script": {
            "script": str(script),
            "sha256": hashlib.sha256(script.read_bytes()).hexdigest(),
            "seconds": round(run.seconds, 3),
            "timeout": timeout,
            "r_version": run.r_version,
            "baseline_columns": baseline,
            "output": _tail(run.stdout),
        }
    }
    log.info("R script %s ran in %.1f s", script.name, run.seconds)
    return FitResult(
        engine=ENGINE,
        spec=spec.to_dict(),
        data=model_data,
        design=design,
        intercept=0.0,
        baseline_coef=np.ones(len(baseline)),
        channels={name: fits[name] for name in data.channels},
        roi_interval={name: None for name in data.channels},
        info=info,
    )
