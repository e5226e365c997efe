"""Use case: the run log of the scheduled path (``mediamix pipeline status``).

``mediamix pipeline run`` and the tasks of the Airflow DAGs record each step here
(start, end, rows, what it did or why it failed) in the home's service database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["begin_step", "end_step", "finish_run", "pipeline_status"]


def _log(home: str | Path) -> Any:
    from mediamix.state.runs import RunLog

    return RunLog.for_home(home)


def begin_step(
    home: str | Path, run_id: str, step: str, *, pipeline: str, interval: str | None = None
) -> int:
    """Record that ``step`` of ``run_id`` started; returns its attempt number."""
    return int(_log(home).begin_step(run_id, step, pipeline=pipeline, interval=interval))


def end_step(
    home: str | Path,
    run_id: str,
    step: str,
    attempt: int,
    *,
    rows: int | None = None,
    detail: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    """Record how a step attempt ended (``error`` marks it and its run failed)."""
    _log(home).end_step(run_id, step, attempt, rows=rows, detail=detail, error=error)


def finish_run(home: str | Path, run_id: str, error: str | None = None) -> None:
    """Mark a run succeeded, or failed with ``error``."""
    _log(home).finish_run(run_id, error)


def pipeline_status(
    home: str | Path, *, limit: int = 20, pipeline: str | None = None
) -> list[dict[str, Any]]:
    """The newest runs first, each with its steps (latest attempt), durations and rows."""
    return [run.to_dict() for run in _log(home).recent(limit=limit, pipeline=pipeline)]
