"""``mediamix_optimize``: Mondays at 08:00 UTC, the weekly plan and its report.

plan (the champion under the stored constraints) -> report (HTML and PDF, with the
plan) -> notify (logs; with ``delivery`` configured, emails the report with the PDF
and posts its summary to Slack, once per recipient and interval).
"""

# TaskFlow passes a task's future output (XComArg) where the task declares the value it
# will receive; mypy sees the XComArg, Airflow resolves it before the call.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from mediamix.orchestration.notify import notify as send_notice
from mediamix.orchestration.runtime import (
    RunInfo,
    dag_arguments,
    delivery_state_url,
    load_config,
    run_step,
)
from mediamix.service import schedule


@dag(**dag_arguments("optimize", __doc__))
def mediamix_optimize() -> None:
    """Plan, render, notify."""

    @task
    def plan() -> dict[str, Any]:
        def body(run: RunInfo) -> dict[str, Any]:
            config = load_config()
            return schedule.plan_with_champion(
                run.folder(), config.optimize, config.train.model_name, run.tracking
            )

        return run_step("plan", body)

    @task
    def report(planned: dict[str, Any]) -> dict[str, Any]:
        def body(run: RunInfo) -> dict[str, Any]:
            return schedule.render_report(
                planned["model"], planned["plan"], run.folder() / "report"
            )

        return run_step("report", body)

    @task
    def notify(planned: dict[str, Any], reported: dict[str, Any]) -> dict[str, Any]:
        def body(run: RunInfo) -> dict[str, Any]:
            return send_notice(
                f"mediamix: plan for {run.end:%Y-%m-%d} ({planned['status']})",
                lines=[f"budget {planned['budget']:,.0f}", f"model {planned['model_uri']}"],
                report=reported["report"],
                delivery=load_config().delivery,
                state_url=delivery_state_url(run.home),
                key=f"{run.dag_id} {run.label}",
            )

        return run_step("notify", body, last=True)

    planned = plan()
    notify(planned, report(planned))


mediamix_optimize()
