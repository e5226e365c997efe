"""``mediamix_ingest``: daily at 06:00 UTC, the data interval's media data into the warehouse.

stage (copy the warehouse) -> fetch each configured source chain (fallbacks recorded)
-> transform (dbt build with its tests) -> publish (swap the copy in). A failed load
or dbt test stops the run before publish: the live warehouse stays byte-identical.
Re-running an interval loads the same content (a no-op) and rebuilds the same tables.
"""

# TaskFlow passes a task's future output (XComArg) where the task declares the value it
# will receive; mypy sees the XComArg, Airflow resolves it before the call.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from mediamix.orchestration.runtime import (
    RunInfo,
    dag_arguments,
    load_config,
    run_step,
)
from mediamix.service import schedule


@dag(**dag_arguments("ingest", __doc__, interval=True))
def mediamix_ingest() -> None:
    """Fetch, validate, land and transform one data interval."""

    @task
    def stage() -> dict[str, Any]:
        def body(run: RunInfo) -> dict[str, Any]:
            return {"staging": str(schedule.stage_ingest(run.home, run.key))}

        return run_step("stage", body)

    @task
    def source_names() -> list[str]:
        return [chain.name for chain in load_config().sources]

    # one source at a time: the staged warehouse has one writer
    @task(max_active_tis_per_dagrun=1)
    def fetch(staged: dict[str, Any], source: str) -> dict[str, Any]:
        def body(run: RunInfo) -> dict[str, Any]:
            first, last = schedule.interval_days(run.start, run.end)
            chain = load_config().source(source)
            return schedule.ingest_source(staged["staging"], chain, first, last)

        return run_step(f"fetch {source}", body)

    @task
    def transform(staged: dict[str, Any]) -> dict[str, Any]:
        return run_step("transform", lambda run: schedule.transform_staged(staged["staging"]))

    @task
    def publish(staged: dict[str, Any]) -> dict[str, Any]:
        def body(run: RunInfo) -> dict[str, Any]:
            return schedule.publish_ingest(run.home, staged["staging"])

        return run_step("publish", body, last=True)

    staged = stage()
    fetched = fetch.partial(staged=staged).expand(source=source_names())
    built = transform(staged)
    fetched >> built >> publish(staged)


mediamix_ingest()
