"""``mediamix pipeline run``: ingest, transform, validate, fit, optimize, report.

Registered on the main app by the lead. The same steps the scheduled DAGs run.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mediamix.settings import load_settings

__all__ = ["pipeline_app"]

pipeline_app = typer.Typer(
    name="pipeline",
    help="Run the scheduled pipeline end to end.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
_out = Console(soft_wrap=True, highlight=False)
_err = Console(stderr=True, soft_wrap=True, highlight=False)


@pipeline_app.command("run")
def pipeline_run_cmd(
    data: Annotated[
        Path | None, typer.Option(help="File to ingest; without it, synthetic data is used.")
    ] = None,
    spec: Annotated[Path | None, typer.Option(help="Spec of a wide --data file.")] = None,
    account: Annotated[str | None, typer.Option(help="Account of the load.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data and of the fit.")] = 0,
    weeks: Annotated[int, typer.Option(min=20, max=2000, help="Synthetic weeks.")] = 156,
    channels: Annotated[int, typer.Option(min=1, max=50, help="Synthetic channels.")] = 4,
    geos: Annotated[int, typer.Option(min=1, max=500, help="Synthetic geos.")] = 1,
    engine: Annotated[str, typer.Option(help="ridge|bayes")] = "ridge",
    budget: Annotated[
        float | None, typer.Option(help="Plan budget (default: the current total).")
    ] = None,
    params: Annotated[
        Path | None, typer.Option(help="Transform parameters CSV for the dbt models.")
    ] = None,
    no_track: Annotated[
        bool, typer.Option("--no-track", help="Do not track the fit in MLflow.")
    ] = False,
    delivery: Annotated[
        Path | None,
        typer.Option(
            help="delivery.yaml: email the report (PDF attached) and post it to Slack "
            "when the run is done, once per recipient."
        ),
    ] = None,
) -> None:
    """Ingest -> transform -> export the mart -> validate -> fit -> optimize -> report.

    Outputs go to $MEDIAMIX_HOME/runs/<start>_<end>/; running again for the same
    period gives the same tables and files (a tracked fit's summary.json names its
    own MLflow run).
    """
    from mediamix.data.synthetic import SynthConfig
    from mediamix.io.table import ReadLimits
    from mediamix.service.pipeline import PipelineDelivery, PipelineRequest, run_pipeline

    settings = load_settings()
    sending = None
    if delivery is not None:
        from mediamix.api.config import load_config
        from mediamix.service.distribute import read_delivery_config, state_url

        # the delivery log lives in the state store `report send` and the API use
        service = load_config(settings)
        sending = PipelineDelivery(
            config=read_delivery_config(delivery),
            state_url=state_url(settings.home, service.api.database_url),
            environ=os.environ,
        )
    limits = ReadLimits(
        max_rows=settings.max_rows, max_columns=settings.max_columns, max_bytes=settings.max_bytes
    )
    request = PipelineRequest(
        source="file" if data is not None else "synthetic",
        data=data,
        spec=spec,
        account=account,
        synth=SynthConfig(seed=seed, weeks=weeks, channels=channels, geos=geos),
        engine=engine,
        seed=seed,
        budget=budget,
        params=params,
    )
    outcome = run_pipeline(
        settings.home,
        request,
        limits=limits,
        step=lambda message: _err.print(f"pipeline: {message}", markup=False),
        tracking=settings.tracking_config(enabled=False if no_track else None),
        delivery=sending,
    )
    plan = outcome.plan
    _out.print(
        f"run {outcome.period}: load {outcome.load_status}; plan {plan['status']} at budget "
        f"{plan['budget']:,.0f}",
        markup=False,
    )
    for name, path in outcome.files.items():
        _out.print(f"  {name:<14}{path}", markup=False)
    if outcome.delivered is not None:
        for recipient in outcome.delivered["to"]:
            _out.print(f"sent to {recipient}", markup=False)
        for recipient in outcome.delivered["skipped"]:
            _out.print(f"already sent to {recipient}: skipped", markup=False)


@pipeline_app.command("backfill")
def pipeline_backfill_cmd(
    dag_id: Annotated[
        str, typer.Argument(help="mediamix_ingest, mediamix_train or mediamix_optimize.")
    ],
    start: Annotated[
        datetime.datetime, typer.Option(formats=["%Y-%m-%d"], help="First logical date (UTC).")
    ],
    end: Annotated[
        datetime.datetime, typer.Option(formats=["%Y-%m-%d"], help="Last logical date (UTC).")
    ],
    rerun: Annotated[
        bool, typer.Option("--rerun", help="Run intervals that already succeeded again.")
    ] = False,
) -> None:
    """Run a DAG for each scheduled interval from --start to --end, in order, without a scheduler.

    Each interval runs through dag.test() (Airflow's metadata database must exist:
    `airflow db migrate`); intervals with a succeeded run in `pipeline status` are
    skipped, and a failed run stops the backfill (exit code 1). With a running
    scheduler, `airflow backfill create` does the same through Airflow.
    """
    from mediamix.orchestration.backfill import BackfillRun, backfill

    def show(run: BackfillRun) -> None:
        _out.print(f"{run.label}  {run.state}", markup=False)

    runs = backfill(dag_id, start.date(), end.date(), rerun=rerun, progress=show)
    if not runs:
        _out.print("no scheduled interval in the range", markup=False)
    if any(r.state == "failed" for r in runs):
        raise typer.Exit(1)


@pipeline_app.command("status")
def pipeline_status_cmd(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many runs, newest first.")] = 10,
    pipeline: Annotated[
        str | None,
        typer.Option(help="Only this pipeline: pipeline, mediamix_ingest, mediamix_train, ..."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
) -> None:
    """Recent runs of `pipeline run` and of the Airflow DAGs: steps, durations, rows, failures."""
    import json

    from mediamix.service.runs import pipeline_status

    runs = pipeline_status(load_settings().home, limit=limit, pipeline=pipeline)
    if as_json:
        _out.print(json.dumps(runs, indent=2), markup=False)
        return
    if not runs:
        _out.print("no runs recorded yet", markup=False)
        return
    for run in runs:
        _out.print(
            f"{run['run_id']}  {run['state']}  {_seconds(run['seconds'])}"
            + (f"  interval {run['interval']}" if run["interval"] else ""),
            markup=False,
        )
        for step in run["steps"]:
            rows = "" if step["rows"] is None else f"  {step['rows']:,} rows"
            attempt = f"  attempt {step['attempt']}" if step["attempt"] > 1 else ""
            _out.print(
                f"  {step['step']:<24}{step['state']:<10}{_seconds(step['seconds'])}{rows}{attempt}",
                markup=False,
            )
        if run["error"]:
            _out.print(f"  error: {run['error']}", markup=False)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"
