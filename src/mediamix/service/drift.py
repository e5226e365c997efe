"""Use case: ``mediamix drift check``: new weeks against a model's training data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mediamix.errors import InputError
from mediamix.io.atomic import atomic_dir
from mediamix.service.registry import load_new_weeks, load_result, resolve_model
from mediamix.tracking.config import TrackingConfig
from mediamix.tracking.drift import DriftReport, check_drift, read_thresholds, report_html

__all__ = ["DriftOutcome", "drift_check"]


@dataclass(frozen=True)
class DriftOutcome:
    """The report and where it was written."""

    report: DriftReport
    json_path: Path
    html_path: Path


def drift_check(
    model: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    thresholds: str | Path | None = None,
    config: TrackingConfig | None = None,
    home: str | Path | None = None,
) -> DriftOutcome:
    """Check new weeks (spec ``data``) against ``model`` (folder or ``models:/`` reference).

    Writes ``drift.json`` and ``drift.html`` into ``out`` (atomically). The report's
    ``retrain`` says whether retraining is due.
    """
    result = load_result(resolve_model(model, config))
    current = load_new_weeks(data, home)
    missing = [c for c in result.channel_names if c not in current.channels]
    if missing:
        raise InputError.single(f"the new weeks lack channels {missing}", file=str(data))
    report = check_drift(result.data, current, read_thresholds(thresholds), model=result)
    out = Path(out)
    with atomic_dir(out) as tmp:
        (tmp / "drift.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
        (tmp / "drift.html").write_text(report_html(report))
    return DriftOutcome(report=report, json_path=out / "drift.json", html_path=out / "drift.html")
