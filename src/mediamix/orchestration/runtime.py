"""What every mediamix DAG shares: configuration, task policy, the run log, callbacks.

Settings come from the environment (``MEDIAMIX_HOME``, ``MEDIAMIX_PIPELINE_CONFIG``,
``MEDIAMIX_TRACKING_URI``), read here, in the shell, as the CLI does; the service
functions get them as arguments. Every task body runs through :func:`run_step`,
which records the step (start, end, rows, detail or error) in the home's run log
that ``mediamix pipeline status`` lists.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediamix.errors import InputError
from mediamix.orchestration.notify import notify
from mediamix.secrets import resolve_secret
from mediamix.service.distribute import state_url
from mediamix.service.runs import begin_step, end_step, finish_run, pipeline_status
from mediamix.service.schedule import (
    ScheduleConfig,
    Schedules,
    TaskPolicy,
    read_schedule_config,
)
from mediamix.settings import load_settings

__all__ = [
    "START_DATE",
    "RunInfo",
    "dag_arguments",
    "dag_defaults",
    "delivery_state_url",
    "load_config",
    "on_task_failure",
    "run_step",
    "schedule_of",
]

log = logging.getLogger(__name__)

#: First data interval of the schedules; runs before it happen only as backfills.
START_DATE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def load_config() -> ScheduleConfig:
    """The configuration named by ``MEDIAMIX_PIPELINE_CONFIG``.

    Raises
    ------
    InputError
        The variable is not set, or the file is invalid (file, line and key named).
    """
    path = load_settings().pipeline_config
    if path is None:
        raise InputError.single(
            "MEDIAMIX_PIPELINE_CONFIG is not set: name the pipeline's YAML configuration",
            column="MEDIAMIX_PIPELINE_CONFIG",
        )
    return read_schedule_config(path)


def schedule_of(pipeline: str) -> str:
    """The cron expression of a pipeline: the configuration's override, else the default.

    Read when Airflow parses the DAG file, so an invalid configuration shows as the
    DAG's import error (with the file, line and key).
    """
    path = load_settings().pipeline_config
    schedules = read_schedule_config(path).schedules if path is not None else Schedules()
    return str(getattr(schedules, pipeline))


def dag_arguments(pipeline: str, doc: str | None, *, interval: bool = False) -> dict[str, Any]:
    """The ``@dag`` arguments every mediamix DAG shares, for ``pipeline`` (ingest, train, optimize).

    ``interval`` makes the schedule a data-interval one (each run covers the time
    since the previous one, as a daily ingest needs); otherwise runs are triggered
    at the cron times and cover that moment.
    """
    from airflow.sdk import CronDataIntervalTimetable

    cron = schedule_of(pipeline)
    return {
        "dag_id": f"mediamix_{pipeline}",
        "schedule": CronDataIntervalTimetable(cron, timezone="UTC") if interval else cron,
        "start_date": START_DATE,
        "catchup": False,
        # one run at a time: the warehouse and the registry take one writer
        "max_active_runs": 1,
        "default_args": dag_defaults(pipeline),
        "tags": ["mediamix"],
        "doc_md": doc,
    }


def dag_defaults(pipeline: str) -> dict[str, Any]:
    """``default_args`` of a DAG: retries with exponential backoff, a timeout, callbacks."""
    path = load_settings().pipeline_config
    policy = read_schedule_config(path).tasks if path is not None else TaskPolicy()
    return {
        "owner": "mediamix",
        "retries": policy.retries,
        "retry_delay": dt.timedelta(seconds=policy.retry_delay_seconds),
        "retry_exponential_backoff": True,
        "max_retry_delay": dt.timedelta(seconds=policy.max_retry_delay_seconds),
        "execution_timeout": dt.timedelta(minutes=policy.timeout_minutes),
        "on_failure_callback": on_task_failure,
        "on_retry_callback": on_task_retry,
    }


@dataclass(frozen=True)
class RunInfo:
    """The running task's DAG run, as references the service functions take."""

    home: Path
    tracking: Any  # the settings' TrackingConfig (the registry and fit tracking)
    dag_id: str
    run_id: str
    start: dt.datetime
    end: dt.datetime

    @property
    def key(self) -> str:
        """The run's id in the run log: ``<dag_id>/<run_id>``."""
        return f"{self.dag_id}/{self.run_id}"

    @property
    def label(self) -> str:
        """The data interval (``start..end``, UTC), shown by ``pipeline status``."""
        return f"{self.start:%Y-%m-%dT%H:%M}..{self.end:%Y-%m-%dT%H:%M}"

    def folder(self) -> Path:
        """Outputs of this interval: ``home/runs/<dag_id>/<end date>`` (re-runs replace them)."""
        return self.home / "runs" / self.dag_id / f"{self.end:%Y-%m-%d}"

    @classmethod
    def from_context(cls, context: Any) -> RunInfo:
        """Read the DAG run, its data interval and the settings."""
        settings = load_settings()
        run = context["dag_run"]
        start = context.get("data_interval_start") or context.get("logical_date") or run.run_after
        end = context.get("data_interval_end") or start
        return cls(
            home=settings.home,
            tracking=settings.tracking_config(),
            dag_id=run.dag_id,
            run_id=run.run_id,
            start=start,
            end=end,
        )


def current() -> RunInfo:
    """The :class:`RunInfo` of the task being run."""
    from airflow.sdk import get_current_context

    return RunInfo.from_context(get_current_context())


def run_step(
    step: str, body: Callable[[RunInfo], dict[str, Any]], *, last: bool = False
) -> dict[str, Any]:
    """Run a task body and record it in the run log; ``last`` closes the run on success.

    The body returns references and figures (small: it becomes the task's XCom); its
    ``rows`` entry is the step's row count.
    """
    info = current()
    attempt = begin_step(info.home, info.key, step, pipeline=info.dag_id, interval=info.label)
    try:
        result = body(info)
    except BaseException as exc:
        # a timeout arrives here as an exception too, so the log names it
        end_step(info.home, info.key, step, attempt, error=f"{type(exc).__name__}: {exc}")
        raise
    rows = result.get("rows")
    end_step(
        info.home,
        info.key,
        step,
        attempt,
        rows=int(rows) if isinstance(rows, int) else None,
        detail=result,
    )
    if last:
        finish_run(info.home, info.key)
    return result


def _describe(context: Any) -> tuple[str, str]:
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    task = getattr(ti, "task_id", "?")
    dag_id = getattr(context.get("dag_run"), "dag_id", "?")
    kind = "timed out" if type(exc).__name__ == "AirflowTaskTimeout" else "failed"
    reason = f"{type(exc).__name__}: {exc}" if exc else _logged_error(context)
    return f"{dag_id}.{task} {kind}", reason


def _logged_error(context: Any) -> str:
    """The error ``run_step`` recorded for this DAG run (``dag.test()`` passes no exception)."""
    try:
        info = RunInfo.from_context(context)
        runs = pipeline_status(info.home, limit=50, pipeline=info.dag_id)
    except Exception:  # the callback must report the failure even if the log is unreadable
        return "no exception given; see the task log"
    for run in runs:
        if run.get("run_id") == info.key and run.get("error"):
            return str(run["error"])[:1000]
    return "no exception given; see the task log"


def delivery_state_url(home: Path) -> str:
    """The state store of the delivery log, the one ``mediamix report send`` uses.

    ``MEDIAMIX_API_DATABASE_URL`` (or the secrets-manager reference it holds) when
    set, else ``home/api/state.db``.
    """
    value = os.environ.get("MEDIAMIX_API_DATABASE_URL")
    resolved = resolve_secret(value, setting="MEDIAMIX_API_DATABASE_URL") if value else None
    return state_url(home, resolved.get_secret_value() if resolved is not None else None)


def on_task_failure(context: Any) -> None:
    """Failure and timeout callback: log it and send a short notice (no report).

    A notice that cannot be sent is logged; the callback never raises, so the
    failure it reports stays the task's outcome.
    """
    subject, reason = _describe(context)
    log.error("%s: %s", subject, reason)
    try:
        notify(f"mediamix: {subject}", lines=[reason], delivery=load_config().delivery)
    except Exception as exc:  # a callback must not mask the task's failure
        log.error("failure notice for %s not sent: %s", subject, type(exc).__name__)


def on_task_retry(context: Any) -> None:
    """Retry callback: log the attempt that failed (the backoff is Airflow's)."""
    subject, reason = _describe(context)
    log.warning("%s, retrying: %s", subject, reason)
