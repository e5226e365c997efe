"""The run log of the scheduled path: runs, their steps, durations, row counts, failures.

``mediamix pipeline run`` and every task of the Airflow DAGs write here, in the
service database of the home (``MEDIAMIX_HOME/api/state.db`` unless a URL is given),
so ``mediamix pipeline status`` shows both in one list. A retried step gets one row
per attempt; the latest attempt is the step's state.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from mediamix.state import db

__all__ = ["RunLog", "RunRecord", "StepRecord"]

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"


@dataclass(frozen=True)
class StepRecord:
    """One attempt of one step."""

    step: str
    attempt: int
    state: str
    started_at: float
    finished_at: float | None
    rows: int | None
    detail: dict[str, Any]

    @property
    def seconds(self) -> float | None:
        """Duration of a finished attempt."""
        return None if self.finished_at is None else self.finished_at - self.started_at

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (``mediamix pipeline status --json``)."""
        return {
            "step": self.step,
            "attempt": self.attempt,
            "state": self.state,
            "started_at": self.started_at,
            "seconds": self.seconds,
            "rows": self.rows,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class RunRecord:
    """A run and its steps (latest attempt of each, in the order they started)."""

    run_id: str
    pipeline: str
    interval: str | None
    state: str
    started_at: float
    finished_at: float | None
    error: str | None
    steps: tuple[StepRecord, ...] = field(default_factory=tuple)

    @property
    def seconds(self) -> float | None:
        """Duration of a finished run."""
        return None if self.finished_at is None else self.finished_at - self.started_at

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (``mediamix pipeline status --json``)."""
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "interval": self.interval,
            "state": self.state,
            "started_at": self.started_at,
            "seconds": self.seconds,
            "error": self.error,
            "steps": [s.to_dict() for s in self.steps],
        }


class RunLog:
    """Runs and steps in the service database.

    Parameters
    ----------
    url : str
        SQLAlchemy URL (``db.database_url(home)`` for the embedded SQLite file).

    Examples
    --------
    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp())
    >>> runs = RunLog.for_home(home)
    >>> runs.begin_step("pipeline/1", "ingest", pipeline="pipeline", interval="2024-01-01")
    1
    >>> runs.end_step("pipeline/1", "ingest", 1, rows=12)
    >>> runs.finish_run("pipeline/1")
    >>> run = runs.recent()[0]
    >>> run.state, run.steps[0].rows
    ('succeeded', 12)
    """

    def __init__(self, url: str) -> None:
        self.engine: Engine = db.open_database(url)

    @classmethod
    def for_home(cls, home: str | Path, url: str | None = None) -> RunLog:
        """The run log of a mediamix home (its service database unless ``url`` is given)."""
        return cls(url or db.database_url(Path(home)))

    def _ensure_run(self, conn: Any, run_id: str, pipeline: str, interval: str | None) -> None:
        found = conn.execute(
            select(db.pipeline_runs.c.run_id).where(db.pipeline_runs.c.run_id == run_id)
        ).first()
        if found is None:
            conn.execute(
                insert(db.pipeline_runs).values(
                    run_id=run_id,
                    pipeline=pipeline,
                    interval=interval,
                    state=RUNNING,
                    started_at=time.time(),
                )
            )
        else:
            # a retried or re-run step reopens a run that had failed
            conn.execute(
                update(db.pipeline_runs)
                .where(db.pipeline_runs.c.run_id == run_id)
                .values(state=RUNNING, finished_at=None, error=None)
            )

    def begin_step(
        self, run_id: str, step: str, *, pipeline: str, interval: str | None = None
    ) -> int:
        """Record that a step started (creating the run); returns the attempt number."""
        with self.engine.begin() as conn:
            self._ensure_run(conn, run_id, pipeline, interval)
            attempts = conn.execute(
                select(func.count())
                .select_from(db.pipeline_steps)
                .where(db.pipeline_steps.c.run_id == run_id, db.pipeline_steps.c.step == step)
            ).scalar_one()
            attempt = int(attempts) + 1
            conn.execute(
                insert(db.pipeline_steps).values(
                    run_id=run_id,
                    step=step,
                    attempt=attempt,
                    state=RUNNING,
                    started_at=time.time(),
                )
            )
        return attempt

    def end_step(
        self,
        run_id: str,
        step: str,
        attempt: int,
        *,
        rows: int | None = None,
        detail: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Record how an attempt ended; with ``error`` the step and its run failed."""
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                update(db.pipeline_steps)
                .where(
                    db.pipeline_steps.c.run_id == run_id,
                    db.pipeline_steps.c.step == step,
                    db.pipeline_steps.c.attempt == attempt,
                )
                .values(
                    state=FAILED if error else SUCCEEDED,
                    finished_at=now,
                    rows=rows,
                    detail=json.dumps(detail or {}, default=str, sort_keys=True),
                )
            )
            if error:
                conn.execute(
                    update(db.pipeline_runs)
                    .where(db.pipeline_runs.c.run_id == run_id)
                    .values(state=FAILED, finished_at=now, error=f"{step}: {error}")
                )

    def finish_run(self, run_id: str, error: str | None = None) -> None:
        """Mark a run succeeded (or failed with ``error``)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(db.pipeline_runs)
                .where(db.pipeline_runs.c.run_id == run_id)
                .values(state=FAILED if error else SUCCEEDED, finished_at=time.time(), error=error)
            )

    def recent(self, limit: int = 20, pipeline: str | None = None) -> list[RunRecord]:
        """The newest runs first, each with the latest attempt of its steps."""
        query = select(db.pipeline_runs).order_by(db.pipeline_runs.c.started_at.desc())
        if pipeline is not None:
            query = query.where(db.pipeline_runs.c.pipeline == pipeline)
        with self.engine.connect() as conn:
            runs = conn.execute(query.limit(limit)).all()
            out = []
            for run in runs:
                rows = conn.execute(
                    select(db.pipeline_steps)
                    .where(db.pipeline_steps.c.run_id == run.run_id)
                    .order_by(db.pipeline_steps.c.seq)
                ).all()
                latest: dict[str, Any] = {}
                for row in rows:
                    latest.pop(row.step, None)  # keep the order of the latest attempts
                    latest[row.step] = row
                steps = tuple(
                    StepRecord(
                        step=r.step,
                        attempt=int(r.attempt),
                        state=r.state,
                        started_at=float(r.started_at),
                        finished_at=r.finished_at,
                        rows=r.rows,
                        detail=json.loads(r.detail) if r.detail else {},
                    )
                    for r in latest.values()
                )
                out.append(
                    RunRecord(
                        run_id=run.run_id,
                        pipeline=run.pipeline,
                        interval=run.interval,
                        state=run.state,
                        started_at=float(run.started_at),
                        finished_at=run.finished_at,
                        error=run.error,
                        steps=steps,
                    )
                )
        return out
