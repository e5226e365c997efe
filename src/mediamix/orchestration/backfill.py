"""Backfill a mediamix DAG over a date range without a running scheduler.

Airflow 3's own backfill (``airflow backfill create --dag-id mediamix_ingest
--from-date 2024-03-01 --to-date 2024-03-03``) asks the scheduler to create the runs;
it needs a running scheduler and API server. :func:`backfill` is for a machine
without them (a laptop, a CI job, a first load): it lists the DAG's scheduled data
intervals in the range from its own timetable and runs each one, in order, with
``dag.test()``, the path the DAG tests exercise, so each run is the run the
scheduler would have made for that interval (same data interval, same tasks,
same callbacks).

Intervals that already have a succeeded run in the home's run log are skipped,
so a backfill that stopped can be started again over the same range; a run that
fails stops the backfill (later intervals build on earlier ones).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mediamix.errors import InputError
from mediamix.service.runs import pipeline_status
from mediamix.settings import load_settings

__all__ = ["BackfillRun", "backfill", "scheduled_intervals"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackfillRun:
    """One interval of a backfill: its data interval and what happened to it."""

    start: dt.datetime
    end: dt.datetime
    state: str  # "success", "failed" or "skipped" (already done)

    @property
    def label(self) -> str:
        """The interval as the run log shows it (``start..end``, UTC)."""
        return f"{self.start:%Y-%m-%dT%H:%M}..{self.end:%Y-%m-%dT%H:%M}"


def scheduled_intervals(
    dag: Any, first: dt.date, last: dt.date
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The data intervals the DAG's schedule creates with logical dates in ``first..last``.

    As Airflow's backfill counts them: a daily 06:00 interval DAG has the intervals
    starting at 06:00 on each day; a Monday cron DAG has each Monday in the range.
    """
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction
    from airflow.utils.timezone import coerce_datetime

    if last < first:
        raise InputError.single(f"--end {last} is before --start {first}", column="--end")
    # the DAG holds the Task SDK's timetable; the core one lists scheduled intervals
    timetable = coerce_to_core_timetable(dag.timetable)
    earliest = coerce_datetime(dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC))
    latest = coerce_datetime(dt.datetime.combine(last, dt.time.max, tzinfo=dt.UTC))
    restriction = TimeRestriction(earliest=earliest, latest=latest, catchup=True)
    out: list[tuple[dt.datetime, dt.datetime]] = []
    previous = None
    while True:
        info = timetable.next_dagrun_info(
            last_automated_data_interval=previous, restriction=restriction
        )
        if info is None or info.logical_date is None or info.logical_date > latest:
            return out
        out.append((info.data_interval.start, info.data_interval.end))
        previous = info.data_interval


def _done(dag_id: str) -> set[str]:
    home = load_settings().home
    runs = pipeline_status(home, limit=100_000, pipeline=dag_id)
    return {str(r["interval"]) for r in runs if r["state"] == "succeeded" and r["interval"]}


def backfill(
    dag_id: str,
    first: dt.date,
    last: dt.date,
    *,
    rerun: bool = False,
    progress: Callable[[BackfillRun], None] | None = None,
) -> list[BackfillRun]:
    """Run ``dag_id`` for every scheduled interval with its logical date in ``first..last``.

    Parameters
    ----------
    dag_id : str
        ``mediamix_ingest``, ``mediamix_train`` or ``mediamix_optimize``.
    first, last : date
        The range of logical dates (inclusive, UTC).
    rerun : bool
        Run intervals that already succeeded again (each DAG is idempotent per
        interval, so this only costs time).
    progress : callable, optional
        Called with each interval's outcome as it is known (the shell prints it).

    Returns
    -------
    list of BackfillRun
        Each interval in order; after a failed one the backfill stops.

    Raises
    ------
    InputError
        Unknown DAG, a DAG file that does not import, or an empty range.
    """
    from airflow.dag_processing.dagbag import DagBag

    from mediamix.orchestration import dags_path

    bag = DagBag(dag_folder=str(dags_path()), include_examples=False)
    if bag.import_errors:
        file, error = next(iter(bag.import_errors.items()))
        raise InputError.single(f"the DAG file does not import: {error}", file=str(file))
    if dag_id not in bag.dags:
        raise InputError.single(
            f"no DAG '{dag_id}'; the DAGs are {sorted(bag.dag_ids)}", column="DAG"
        )
    dag = bag.dags[dag_id]
    done = set() if rerun else _done(dag_id)
    runs: list[BackfillRun] = []
    intervals = scheduled_intervals(dag, first, last)
    for number, (start, end) in enumerate(intervals, 1):
        run = BackfillRun(start, end, "skipped")
        if run.label not in done:
            log.info("backfill %s: interval %d/%d %s", dag_id, number, len(intervals), run.label)
            # the manual run of the interval's end time covers exactly that interval
            dag_run = dag.test(logical_date=end)
            run = BackfillRun(start, end, str(dag_run.state))
        runs.append(run)
        if progress is not None:
            progress(run)
        if run.state == "failed":
            log.error("backfill %s stopped: the run for %s failed", dag_id, run.label)
            break
    return runs
