"""Use case: ``mediamix pipeline run``, the scheduled path end to end.

ingest (a file or synthetic data) -> transform (dbt build) -> export the
``mmm_weekly_input`` mart of the ingested period to CSV + spec -> validate -> fit
-> optimize -> report. Outputs go to ``$home/runs/<start>_<end>/``:

    data/mmm_weekly_input.csv, data/spec.yaml   the modeling table and its spec
    fit/                                        summary.json, decomposition.csv, model/
    plan.json                                   budget plan at the current total
    report.html                                 the executive report
    report/                                     with delivery: the report folder (HTML,
                                                PDF, report.json) that was sent
    pipeline.json                               what ran, with the load and dbt outcome

With ``delivery`` (a :class:`~mediamix.service.distribute.DeliveryConfig`) the last
step emails the report with its PDF and posts its summary to Slack; the delivery
log keeps a second run for the same period (same report) from sending it again.

Every step is idempotent: loading the same content again is a no-op, dbt rebuilds
the same tables, and every file is written atomically from the same inputs, so
running the pipeline again for the same period gives identical tables and files.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mediamix.data.synthetic import SynthConfig
from mediamix.errors import InputError
from mediamix.io.atomic import atomic_write_json
from mediamix.io.table import ReadLimits
from mediamix.service.data import validate_spec
from mediamix.service.distribute import DeliveryConfig, DistributeRequest, distribute_report
from mediamix.service.fit import fit
from mediamix.service.ingest import IngestOutcome, LoadTarget, ingest_file, ingest_synthetic
from mediamix.service.report import write_report
from mediamix.service.transform import export_mmm_input, transform
from mediamix.tracking.config import TrackingConfig

__all__ = ["PipelineDelivery", "PipelineOutcome", "PipelineRequest", "run_pipeline"]

log = logging.getLogger(__name__)

Step = Callable[[str], None]


@dataclass(frozen=True)
class PipelineRequest:
    """What to run.

    Attributes
    ----------
    source : {"file", "synthetic"}
        Where the data comes from.
    data, spec : Path, optional
        The file (and, for a wide file, its spec) when ``source`` is ``file``.
    account : str, optional
        Account of the load (default ``default`` for files, ``seed-N`` for synthetic).
    synth : SynthConfig
        Synthetic data to generate when ``source`` is ``synthetic``.
    engine, seed : str, int
        Model engine and seed of the fit.
    budget : float, optional
        Total budget of the plan; default the current (historical) total.
    min_ratio, max_ratio : float
        Each channel's plan spend stays within these multiples of its current spend.
    params : path, optional
        Transform parameters CSV for ``int_media_transforms``.
    """

    source: Literal["file", "synthetic"] = "synthetic"
    data: Path | None = None
    spec: Path | None = None
    account: str | None = None
    synth: SynthConfig = field(default_factory=SynthConfig)
    engine: str = "ridge"
    seed: int = 0
    budget: float | None = None
    min_ratio: float = 0.5
    max_ratio: float = 2.0
    params: Path | None = None


@dataclass(frozen=True)
class PipelineOutcome:
    """Where the run wrote its outputs, and the headline of each step."""

    run_dir: Path
    period: str
    load_status: str
    dbt_counts: dict[str, int]
    files: dict[str, Path]
    plan: dict[str, Any]
    delivered: dict[str, Any] | None = None


@dataclass(frozen=True)
class PipelineDelivery:
    """Send the report when the pipeline is done.

    Attributes
    ----------
    config : DeliveryConfig
        Recipients and webhooks (``delivery.yaml``).
    state_url : str
        The state store holding the delivery log.
    environ : mapping
        Where the secrets named in ``config`` are read (the shell passes ``os.environ``).
    """

    config: DeliveryConfig
    state_url: str
    environ: Mapping[str, str] = field(default_factory=dict)


# Longer than a unit should be, on purpose: the pipeline's steps read top to bottom in
# the order they run (ingest, transform, validate, fit, optimize, report), each one line
# of progress and one call; splitting it would scatter that order across helpers.
def run_pipeline(
    home: str | Path,
    request: PipelineRequest,
    *,
    limits: ReadLimits | None = None,
    step: Step | None = None,
    tracking: TrackingConfig | None = None,
    delivery: PipelineDelivery | None = None,
) -> PipelineOutcome:
    """Run every step for one period; see the module docstring.

    With ``tracking`` (enabled), the fit is an MLflow run like a CLI fit's; with
    ``delivery``, the report is sent (a ``send`` step).

    Raises
    ------
    InputError
        Bad input at any step (the step's message names file, row and column).
    BusyError
        Another process is writing the warehouse.
    """

    def say(message: str) -> None:
        log.info("pipeline: %s", message)
        if step is not None:
            step(message)

    home = Path(home)
    steps = _StepLog(home)
    try:
        outcome = _run(home, request, limits, tracking, say, steps)
        if delivery is not None:
            outcome = _send(outcome, delivery, say, steps)
    except Exception as exc:
        steps.fail(exc)
        raise
    steps.close()
    return outcome


def _run(
    home: Path,
    request: PipelineRequest,
    limits: ReadLimits | None,
    tracking: TrackingConfig | None,
    say: Step,
    steps: _StepLog,
) -> PipelineOutcome:
    from mediamix.models.response import planning_response
    from mediamix.optimization.solver import SpendReference, optimize_budget

    say("ingest")
    steps.start("ingest")
    ingested = _ingest(home, request, limits)
    load = ingested.load
    period = f"{load.period_start}_{load.period_end}"
    run_dir = home / "runs" / period
    steps.rows, steps.detail = load.media_rows, {"status": load.status, "period": period}
    say(f"ingested {load.media_rows} media rows for {period} ({load.status})")

    say("transform (dbt build)")
    steps.start("transform")
    result = transform(home, params=request.params)
    steps.detail = {"counts": result.counts()}
    say(f"dbt build: {result.counts()}")

    say("export the mmm_weekly_input mart")
    steps.start("export")
    kpi_type = ingested.spec.kpi_type.value if ingested.spec is not None else "revenue"
    exported = export_mmm_input(
        home,
        run_dir / "data",
        kpi_type=kpi_type,
        start=load.period_start,
        end=load.period_end,
    )

    steps.rows = exported.periods
    say("validate")
    steps.start("validate")
    _, report = validate_spec(exported.spec, engine=request.engine, limits=limits)
    if not report.ok:
        raise InputError(report.problems)

    say(f"fit ({request.engine})")
    steps.start("fit")
    outcome = fit(
        exported.spec,
        run_dir / "fit",
        {"engine": request.engine, "seed": request.seed},
        tracking=tracking,
    )

    say("optimize")
    steps.start("optimize")
    response = planning_response(outcome.result)
    current = dict(zip(response.channels, response.current.tolist(), strict=True))
    budget = float(request.budget if request.budget is not None else sum(current.values()))
    bounds = {c: (request.min_ratio * v, request.max_ratio * v) for c, v in current.items()}
    plan = optimize_budget(response, budget, reference=SpendReference(current, bounds))
    plan_dict = plan.to_dict()
    atomic_write_json(run_dir / "plan.json", plan_dict)

    say("report")
    steps.start("report")
    write_report(run_dir / "fit", run_dir / "report.html", plan=plan_dict)
    files = {
        "data": exported.data,
        "spec": exported.spec,
        "summary": run_dir / "fit" / "summary.json",
        "decomposition": run_dir / "fit" / "decomposition.csv",
        "model": run_dir / "fit" / "model",
        "plan": run_dir / "plan.json",
        "report": run_dir / "report.html",
    }
    atomic_write_json(
        run_dir / "pipeline.json",
        {
            "period": period,
            "source": load.source,
            "account": load.account,
            "content_sha256": load.sha256,
            "raw_path": str(load.raw_path.relative_to(home)),
            "media_rows": load.media_rows,
            "channels": list(exported.channels),
            "periods": exported.periods,
            "geos": exported.geos,
            "engine": request.engine,
            "seed": request.seed,
            "files": {k: str(v.relative_to(run_dir)) for k, v in files.items()},
        },
    )
    say("done")
    return PipelineOutcome(
        run_dir=run_dir,
        period=period,
        load_status=load.status,
        dbt_counts=result.counts(),
        files=files,
        plan=plan_dict,
    )


def _send(
    outcome: PipelineOutcome, delivery: PipelineDelivery, say: Step, steps: _StepLog
) -> PipelineOutcome:
    """Write the report folder with its PDF and send it (once per recipient)."""
    from dataclasses import replace

    folder = outcome.run_dir / "report"
    say("send the report")
    steps.start("send")
    write_report(outcome.run_dir / "fit", folder, pdf=True, plan=outcome.plan)
    request = DistributeRequest(
        report_dir=str(folder),
        config=delivery.config,
        state_url=delivery.state_url,
        delivery_key=f"pipeline {outcome.period}",
    )
    sent = distribute_report(request, delivery.environ)
    steps.detail = {"to": sent.sent, "skipped": sent.skipped, "report_hash": sent.report_hash}
    say(f"sent to {len(sent.sent)}, already sent to {len(sent.skipped)}")
    return replace(outcome, delivered=dict(steps.detail))


class _StepLog:
    """Records the run's steps in the home's run log (``mediamix pipeline status``)."""

    def __init__(self, home: Path) -> None:
        import uuid

        from mediamix.service import runs

        self._runs = runs
        self.home = home
        self.run_id = (
            f"pipeline/{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}"
        )
        self.current: tuple[str, int] | None = None
        self.rows: int | None = None
        self.detail: dict[str, Any] = {}

    def start(self, step: str) -> None:
        self._end()
        attempt = self._runs.begin_step(self.home, self.run_id, step, pipeline="pipeline")
        self.current, self.rows, self.detail = (step, attempt), None, {}

    def _end(self, error: str | None = None) -> None:
        if self.current is not None:
            step, attempt = self.current
            self._runs.end_step(
                self.home,
                self.run_id,
                step,
                attempt,
                rows=self.rows,
                detail=self.detail,
                error=error,
            )
            self.current = None

    def fail(self, exc: BaseException) -> None:
        self._end(error=f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        self._end()
        self._runs.finish_run(self.home, self.run_id)


def _ingest(home: Path, request: PipelineRequest, limits: ReadLimits | None) -> IngestOutcome:
    if request.source == "file":
        if request.data is None:
            raise InputError.single("pipeline run from a file needs --data", column="--data")
        return ingest_file(
            home,
            request.data,
            spec=request.spec,
            target=LoadTarget(account=request.account or "default"),
            limits=limits,
        )
    if request.source == "synthetic":
        return ingest_synthetic(home, request.synth, account=request.account)
    raise InputError.single(  # pragma: no cover - Literal keeps this out
        f"unknown source '{request.source}'", column="--source"
    )
