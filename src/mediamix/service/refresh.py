"""Use case: refresh a fitted model with new weeks (``mediamix refresh``).

The new data file (CSV or Parquet) has the columns of the model's spec. It may hold
the model's whole window plus the new weeks, only the new weeks, or any stretch of
the window followed by new weeks: every row inside the model's window must agree
with the data the model was fitted on (the model folder stores it), every row after
the window is a new week, and the first new week must follow the window's last one.
A row that disagrees, a row before the window, a gap or no new week at all is bad
input: an :class:`~mediamix.errors.InputError` naming file, row and column, and
nothing is written.

The refreshed model (:func:`mediamix.models.refresh.refresh_ridge`) is written like
any fit (``summary.json``, ``decomposition.csv``, ``model/``, so it can be registered
and promoted as a challenger) plus ``refresh.json``: what moved and why. Its
``model/lineage.json`` names the model refreshed (registry version, manifest
SHA-256, dataset fingerprint and its own lineage) and the new data file with its
SHA-256 (:func:`mediamix.service.lineage.refresh_lineage`). When
tracking is on the refresh is an MLflow run whose ``mlflow.parentRunId`` is the
previous fit's run (when that run is in the same store).

A channel whose earlier weeks move by more than the tolerance is a warning, not an
error: the refresh is written, ``refresh.json`` says ``"within_tolerance": false``
and names the channels, and the promotion rule and the people deciding see it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mediamix.data.dataset import Dataset
from mediamix.data.spec import ModelSpec
from mediamix.data.validation import ValidationRules, validate_table
from mediamix.errors import InputError, Problem
from mediamix.io.artifacts import load_lineage, sha256_file
from mediamix.io.table import ReadLimits, read_table
from mediamix.models.refresh import RefreshOptions, refresh_ridge
from mediamix.models.result import FitResult
from mediamix.secrets import redact_url
from mediamix.service.fit import summary_document, write_fit
from mediamix.service.lineage import refresh_lineage
from mediamix.service.registry import load_result, resolve_model_version
from mediamix.tracking.config import TrackingConfig
from mediamix.tracking.fingerprint import data_fingerprint
from mediamix.tracking.runs import fit_run
from mediamix.tracking.runs import prepare as prepare_tracking

__all__ = ["REFRESH_FILE", "RefreshOutcome", "append_new_weeks", "refresh"]

log = logging.getLogger(__name__)

REFRESH_FILE = "refresh.json"
# Cells read back from a file are compared with the stored data to this precision.
_RTOL, _ATOL = 1e-7, 1e-9
_MAX_LISTED = 20

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class RefreshOutcome:
    """What a refresh wrote: the folder, its summary, ``refresh.json`` and the result."""

    out: Path
    summary: dict[str, Any]
    report: dict[str, Any]
    result: FitResult


def _file_rows(frame: pd.DataFrame, date_column: str) -> dict[np.datetime64, int]:
    """1-based data row of each date's first occurrence in the file."""
    parsed = pd.to_datetime(frame[date_column].astype(str), errors="coerce")
    rows: dict[np.datetime64, int] = {}
    for i, value in enumerate(parsed):
        if not pd.isna(value):
            rows.setdefault(np.datetime64(value.date(), "D"), i + 1)
    return rows


def _series(data: Dataset, spec: ModelSpec) -> dict[str, np.ndarray]:
    """Every series of a national dataset by the file column it comes from."""
    out: dict[str, np.ndarray] = {spec.kpi: np.asarray(data.kpi[0], float)}
    for c, name in enumerate(data.channels):
        out[spec.channels[name].spend] = np.asarray(data.spend[0][:, c], float)
    for group, names in (
        (data.controls[0], data.control_names),
        (data.organic[0], data.organic_names),
        (data.events[0], data.event_names),
    ):
        for k, name in enumerate(names):
            out[name] = np.asarray(group[:, k], float)
    return out


def append_new_weeks(
    previous: Dataset, new: Dataset, spec: ModelSpec, *, source: str, frame: pd.DataFrame
) -> Dataset:
    """The model's window followed by the new periods of ``new``, or every problem.

    Parameters
    ----------
    previous : Dataset
        The data the model was fitted on (national).
    new : Dataset
        The validated new data: any stretch of the window, then new periods.
    spec : ModelSpec
        Maps series to file columns, for the problems.
    source : str
        File name named in problems.
    frame : DataFrame
        The file as read, to name rows.

    Raises
    ------
    InputError
        A row before the window, a row inside it that disagrees with the stored data,
        a date inside the window that is not one of its periods, no period after the
        window, or a gap between the window and the first new period.
    """
    new = new.national()
    rows = _file_rows(frame, spec.date)
    old_dates = previous.dates.astype("datetime64[D]")
    start, end = old_dates[0], old_dates[-1]
    dates = new.dates.astype("datetime64[D]")
    problems: list[Problem] = []
    old_series, new_series = _series(previous, spec), _series(new, spec)
    index = {d: i for i, d in enumerate(old_dates)}
    for j, d in enumerate(dates):
        if d > end:
            break
        row = rows.get(d)
        if d < start:
            problems.append(
                Problem(
                    f"{d} is before the model's window ({start} to {end}); a refresh only "
                    "appends periods after it",
                    file=source,
                    row=row,
                    column=spec.date,
                )
            )
            continue
        i = index.get(d)
        if i is None:
            problems.append(
                Problem(
                    f"{d} is inside the model's window but is not one of its periods",
                    file=source,
                    row=row,
                    column=spec.date,
                )
            )
            continue
        for column, values in new_series.items():
            old = old_series[column][i]
            if not np.isclose(values[j], old, rtol=_RTOL, atol=_ATOL):
                problems.append(
                    Problem(
                        f"{d} is in the model's window and disagrees with the data the "
                        f"model was fitted on: {values[j]:.10g} here, {old:.10g} stored",
                        file=source,
                        row=row,
                        column=column,
                    )
                )
        if len(problems) >= _MAX_LISTED:
            break
    if problems:
        raise InputError(problems)
    after = dates > end
    if not after.any():
        raise InputError.single(
            f"no new period: the file ends on {dates[-1]}, the model's window on {end}",
            file=source,
            column=spec.date,
        )
    first = dates[after][0]
    expected = end + np.timedelta64(previous.period_days, "D")
    if first != expected:
        raise InputError.single(
            f"the first new period {first} does not follow the model's last period "
            f"{end} (expected {expected})",
            file=source,
            row=rows.get(first),
            column=spec.date,
        )
    return Dataset(
        dates=np.concatenate([old_dates, dates[after]]),
        geos=previous.geos,
        channels=previous.channels,
        kpi=np.concatenate([previous.kpi[0], new.kpi[0][after]]),
        spend=np.concatenate([previous.spend[0], new.spend[0][after]]),
        kpi_name=previous.kpi_name,
        kpi_type=previous.kpi_type,
        frequency=previous.frequency,
        controls=np.concatenate([previous.controls[0], new.controls[0][after]]),
        control_names=previous.control_names,
        organic=np.concatenate([previous.organic[0], new.organic[0][after]]),
        organic_names=previous.organic_names,
        events=np.concatenate([previous.events[0], new.events[0][after]]),
        event_names=previous.event_names,
        source=source,
    )


def _read_new(
    previous: FitResult, path: Path, limits: ReadLimits | None
) -> tuple[Dataset, tuple[Problem, ...]]:
    """The window plus the file's new periods, validated against the model's spec."""
    spec = ModelSpec.from_mapping({**dict(previous.spec), "data": str(path)})
    table = read_table(path, limits)
    report = validate_table(
        table.frame, spec, source=table.source, rules=ValidationRules(min_periods=1)
    )
    if not report.ok or report.dataset is None:
        raise InputError(report.problems)
    combined = append_new_weeks(
        previous.data, report.dataset, spec, source=table.source, frame=table.frame
    )
    return combined, tuple(report.warnings)


def _previous_model(
    model: str | Path, folder: Path, version: dict[str, Any] | None, previous: FitResult
) -> dict[str, Any]:
    """What a refresh's lineage says of the model it refreshed."""
    model_dir = folder / "model" if (folder / "model" / "manifest.json").is_file() else folder
    tracked = None
    summary = folder / "summary.json"
    if summary.is_file():
        try:
            tracked = json.loads(summary.read_text()).get("tracking")
        except (OSError, ValueError):
            log.warning("%s is not readable JSON: its tracked run is not named", summary)
    return {
        "model": str(model),
        "folder": str(folder.resolve()),
        "registry": version,
        "artifact_sha256": sha256_file(model_dir / "manifest.json"),
        "tracking": tracked,
        "fingerprint": data_fingerprint(previous.data),
        "lineage": load_lineage(model_dir),
    }


def _parent_run(folder: Path, tracking: TrackingConfig | None) -> str | None:
    """The previous fit's MLflow run id, when it was tracked in the store used now."""
    summary = folder / "summary.json"
    if not summary.is_file() or tracking is None or not tracking.enabled:
        return None
    try:
        ref = json.loads(summary.read_text()).get("tracking") or {}
    except (OSError, ValueError):
        return None
    if ref.get("tracking_uri") != redact_url(tracking.uri):
        return None
    run_id = ref.get("run_id")
    return str(run_id) if run_id else None


def refresh(  # noqa: PLR0913 -- keyword-only settings of one refresh
    model: str | Path,
    data: str | Path,
    out: str | Path | None = None,
    *,
    tolerance: float = 0.05,
    limits: ReadLimits | None = None,
    registry: TrackingConfig | None = None,
    tracking: TrackingConfig | None = None,
    progress: Progress | None = None,
) -> RefreshOutcome:
    """Refresh a ridge model with new weeks and write it like a fit, plus ``refresh.json``.

    Parameters
    ----------
    model : str or Path
        A fit output folder, or ``models:/NAME/VERSION`` / ``models:/NAME@ALIAS``
        (resolved and verified through ``registry``).
    data : str or Path
        CSV or Parquet with the spec's columns: new weeks, optionally after any part
        of the model's window (which must agree with the stored data).
    out : str or Path, optional
        Output folder; default ``refresh-<last new period>`` in the working folder.
    tolerance : float
        Largest movement of a channel's contribution over the earlier weeks, as a
        share of its total over them (:mod:`mediamix.models.refresh`).
    limits : ReadLimits, optional
    registry : TrackingConfig, optional
        Where ``models:/`` references are looked up.
    tracking : TrackingConfig, optional
        Track the refresh as an MLflow run (``None`` or disabled: not tracked).
    progress : callable(fraction, message), optional

    Returns
    -------
    RefreshOutcome

    Raises
    ------
    InputError
        A bad reference or artifact, a model that is not ridge, a data file that
        does not continue the model's window (see :func:`append_new_weeks`), or a
        tolerance outside [0, 1]. Nothing is written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> try:
    ...     refresh(pathlib.Path(tempfile.mkdtemp()) / "none", "new.csv", tolerance=2.0)
    ... except InputError as err:
    ...     print(err.problems[0].column)
    --tolerance
    """
    if not 0.0 <= tolerance <= 1.0:
        raise InputError.single(
            f"tolerance must be between 0 and 1, got {tolerance}", column="--tolerance"
        )
    folder, version = resolve_model_version(model, registry)
    previous = load_result(folder)
    if previous.engine != "ridge":
        raise InputError.single(
            f"refresh works on ridge models; {model} is a {previous.engine!r} model",
            column="--model",
        )
    prepared = prepare_tracking(tracking)
    combined, warnings = _read_new(previous, Path(data), limits)
    for warning in warnings:
        log.warning("%s", warning)
    out = Path(out) if out is not None else Path(f"refresh-{combined.dates[-1]}")
    parent = _parent_run(folder, tracking)
    lineage = refresh_lineage(
        _previous_model(model, folder, version, previous), data, previous.spec, combined
    )
    with fit_run(
        tracking,
        data=combined,
        spec=previous.spec,
        engine="ridge",
        seed=0,
        source=f"refresh of {model} with {data}",
        parent_run_id=parent,
        prepared=prepared,
    ) as run:
        refreshed = refresh_ridge(previous, combined, RefreshOptions(tolerance=tolerance), progress)
        document = {
            "schema_version": 1,
            "model": str(model),
            "data": str(data),
            "parent_run_id": parent,
            **refreshed.report,
        }
        summary = summary_document(
            refreshed.result,
            warnings,
            {
                **run.summary_fields(),
                "refresh": {
                    "model": str(model),
                    "parent_run_id": parent,
                    "tolerance": tolerance,
                    "max_movement": refreshed.report["max_movement"],
                    "within_tolerance": refreshed.report["within_tolerance"],
                },
            },
        )

        def publish(tmp: Path) -> None:
            text = json.dumps(document, indent=2, allow_nan=False)
            (tmp / REFRESH_FILE).write_text(text + "\n")
            run.log_outputs(tmp, summary, None)

        write_fit(refreshed.result, out, summary=summary, lineage=lineage, before_publish=publish)
    if not refreshed.report["within_tolerance"]:
        log.warning(
            "earlier weeks moved beyond the tolerance %.1f%% for %s",
            100 * tolerance,
            ", ".join(refreshed.report["channels_beyond_tolerance"]),
        )
    return RefreshOutcome(out=out, summary=summary, report=document, result=refreshed.result)
