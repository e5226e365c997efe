"""Use cases of the scheduled path: the steps the Airflow DAGs run, one function each.

The DAGs in :mod:`mediamix.orchestration` are thin: each task calls one function
here and passes on only references (folders, files, model URIs). Three pipelines:

- ingest (daily): :func:`stage_ingest` copies the warehouse into a staging home,
  :func:`ingest_source` fetches one configured source chain for the interval into
  it (the first source of the chain that serves wins; skipped ones are recorded),
  :func:`transform_staged` runs ``dbt build`` with its tests there, and
  :func:`publish_ingest` swaps the copy in. A failed load or dbt test leaves the
  live warehouse byte-identical.
- train (weekly): :func:`prepare_training` exports the modelling input from the
  marts and fingerprints it, :func:`training_gate` decides whether to train (always
  under the ``refit`` strategy; under ``refresh``, only when the drift check of the
  newest weeks against the champion says retraining is due), :func:`train_model`
  fits it from scratch, or refreshes the champion with the weeks it has not seen,
  unless a registered version was trained on exactly that input,
  :func:`register_and_promote` registers it and applies the promotion rule (a
  refresh becomes the challenger first), :func:`drift_report` checks the newest
  weeks against the champion.
- optimize (weekly): :func:`plan_with_champion` plans with the champion under the
  stored constraints, :func:`render_report` writes the report.

The configuration (:class:`ScheduleConfig`) is one YAML file, read by
:func:`read_schedule_config`; it holds no secrets: ad platforms take their
credentials from their client libraries' own environment variables, and the
report's delivery (``delivery:`` inline, or ``delivery_file:`` naming a
``delivery.yaml``, see :mod:`mediamix.service.distribute`) names environment
variables or connections (``conn_id``) for its password and webhooks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mediamix.documents import parse_yaml, read_text
from mediamix.errors import InputError, problems_from_validation
from mediamix.io.atomic import atomic_write_text
from mediamix.io.spec import line_of
from mediamix.service.distribute import DeliveryConfig, read_delivery_config
from mediamix.tracking.config import TrackingConfig

__all__ = [
    "ScheduleConfig",
    "SourceChain",
    "TrainingInput",
    "drift_report",
    "ingest_source",
    "plan_with_champion",
    "prepare_training",
    "publish_ingest",
    "read_schedule_config",
    "register_and_promote",
    "render_report",
    "stage_ingest",
    "train_model",
    "training_gate",
    "transform_staged",
]

log = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileSourceConfig(_Strict):
    """A CSV/Parquet file: wide with ``spec``, else the unified long layout."""

    kind: Literal["file"]
    path: Path
    spec: Path | None = None
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")


class SyntheticSourceConfig(_Strict):
    """Synthetic weekly data (offline, always serves): the last resort of a chain."""

    kind: Literal["synthetic"]
    seed: int = 0
    channels: int = Field(default=4, ge=1, le=50)
    geos: int = Field(default=1, ge=1, le=500)


class GoogleAdsSourceConfig(_Strict):
    """A Google Ads customer; credentials from the client library's environment."""

    kind: Literal["google_ads"]
    customer_id: str = Field(pattern=r"^[0-9-]+$")


class MetaSourceConfig(_Strict):
    """A Meta ad account; the token from ``META_ACCESS_TOKEN``."""

    kind: Literal["meta"]
    account_id: str = Field(pattern=r"^(act_)?[0-9]+$")


SourceConfig = Annotated[
    FileSourceConfig | SyntheticSourceConfig | GoogleAdsSourceConfig | MetaSourceConfig,
    Field(discriminator="kind"),
]


class SourceChain(_Strict):
    """One configured source: an account and the sources to try for it, in order.

    Attributes
    ----------
    name : str
        Label of the source in the run log (and of its Airflow task).
    account : str
        Warehouse account of the load (with the source and period, the upsert key).
    lookback_days : int
        Days before the interval fetched again (restated conversions; weekly files
        need at least the weeks the interval can touch).
    chain : list
        Sources tried in order: the first that serves wins, skipped ones are recorded.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    account: str = Field(default="default", pattern=r"^[A-Za-z0-9_.-]+$")
    lookback_days: int = Field(default=0, ge=0, le=3660)
    chain: list[SourceConfig] = Field(min_length=1)


class Schedules(_Strict):
    """Cron expressions (UTC) of the three DAGs."""

    ingest: str = "0 6 * * *"
    train: str = "0 2 * * 1"
    optimize: str = "0 8 * * 1"


class TrainConfig(_Strict):
    """How the weekly model is trained and judged.

    ``strategy`` ``refit`` fits a new model from scratch every run and lets the
    promotion rule decide; ``refresh`` trains only when the drift check of the newest
    ``drift_weeks`` weeks against the champion says retraining is due, and then
    refreshes the champion (ridge) with the weeks it has not seen, keeping earlier
    weeks' decomposition within ``refresh_tolerance``; the refresh is registered as
    the challenger and promoted only if the rule passes.
    """

    model_name: str = Field(default="mediamix", pattern=r"^[A-Za-z0-9_.-]+$")
    engine: Literal["ridge", "bayes"] = "ridge"
    seed: int = 0
    kpi_type: Literal["revenue", "conversions"] = "revenue"
    weeks: int = Field(default=104, ge=20, le=2000)
    drift_weeks: int = Field(default=8, ge=1, le=520)
    strategy: Literal["refit", "refresh"] = "refit"
    refresh_tolerance: float = Field(default=0.05, gt=0, le=1)


class OptimizeConfig(_Strict):
    """How the weekly plan is made: the stored constraints and the budget."""

    constraints: Path | None = None
    budget: float | None = Field(default=None, gt=0)


class TaskPolicy(_Strict):
    """Retries with exponential backoff and the time limit of every task."""

    retries: int = Field(default=2, ge=0, le=10)
    retry_delay_seconds: float = Field(default=60.0, gt=0)
    max_retry_delay_seconds: float = Field(default=1800.0, gt=0)
    timeout_minutes: float = Field(default=60.0, gt=0)


class ScheduleConfig(_Strict):
    """The scheduled path's configuration (one YAML file; paths relative to it).

    Examples
    --------
    >>> cfg = ScheduleConfig.model_validate(
    ...     {"sources": [{"name": "main", "chain": [{"kind": "synthetic"}]}]}
    ... )
    >>> cfg.schedules.ingest, cfg.train.model_name
    ('0 6 * * *', 'mediamix')
    """

    sources: list[SourceChain] = Field(min_length=1)
    schedules: Schedules = Field(default_factory=Schedules)
    train: TrainConfig = Field(default_factory=TrainConfig)
    optimize: OptimizeConfig = Field(default_factory=OptimizeConfig)
    tasks: TaskPolicy = Field(default_factory=TaskPolicy)
    recipients: list[str] = Field(default_factory=list)
    delivery: DeliveryConfig | None = None
    delivery_file: Path | None = None

    def source(self, name: str) -> SourceChain:
        """The source chain called ``name``."""
        for chain in self.sources:
            if chain.name == name:
                return chain
        raise InputError.single(f"no source named '{name}' is configured", column="sources")


def read_schedule_config(path: str | Path) -> ScheduleConfig:
    """Read and validate the YAML configuration; relative paths become absolute.

    Raises
    ------
    InputError
        Missing file, YAML syntax error, or invalid and unknown keys (each named
        with its line and key path), or source names used twice.
    """
    path = Path(path)
    text = read_text(path, "pipeline configuration")
    document = parse_yaml(text, file=str(path))
    if not isinstance(document.content, dict):
        raise InputError.single("expected a mapping (sources, schedules, ...)", file=str(path))
    try:
        config = ScheduleConfig.model_validate(document.content)
    except ValidationError as exc:

        def keys(dotted: str) -> list[Any]:
            return [int(k) if k.isdigit() else k for k in dotted.split(".")] if dotted else []

        raise InputError(
            problems_from_validation(
                exc,
                file=str(path),
                row=lambda dotted: line_of(document.root, keys(dotted)),
                skip=("file", "synthetic", "google_ads", "meta"),
            )
        ) from None
    names = [chain.name for chain in config.sources]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError.single(
            f"source names used twice: {twice}", file=str(path), column="sources"
        )
    config = _resolve_paths(config, path.resolve().parent)
    return _resolve_delivery(config, path, lambda key: line_of(document.root, [key]))


def _resolve_delivery(config: ScheduleConfig, path: Path, line: Any) -> ScheduleConfig:
    """Read ``delivery_file`` into ``delivery``; add ``recipients`` to its email recipients."""
    delivery = config.delivery
    if config.delivery_file is not None:
        if delivery is not None:
            raise InputError.single(
                "give the delivery inline (delivery) or as a file (delivery_file), not both",
                file=str(path),
                row=line("delivery_file"),
                column="delivery_file",
            )
        delivery = read_delivery_config(config.delivery_file)
    if config.recipients:
        if delivery is None or delivery.email is None:
            raise InputError.single(
                "recipients need an SMTP server: configure delivery.email (or delivery_file)",
                file=str(path),
                row=line("recipients"),
                column="recipients",
            )
        extra = [r for r in config.recipients if r not in delivery.email.recipients]
        email = delivery.email.model_copy(
            update={"recipients": [*delivery.email.recipients, *extra]}
        )
        delivery = delivery.model_copy(update={"email": email})
    return config.model_copy(update={"delivery": delivery})


def _resolve_paths(config: ScheduleConfig, root: Path) -> ScheduleConfig:
    def absolute(value: Path | None) -> Path | None:
        return None if value is None or value.is_absolute() else (root / value).resolve()

    sources = []
    for chain in config.sources:
        members: list[Any] = []
        for member in chain.chain:
            if isinstance(member, FileSourceConfig):
                member = member.model_copy(
                    update={
                        "path": absolute(member.path) or member.path,
                        "spec": absolute(member.spec) or member.spec,
                    }
                )
            members.append(member)
        sources.append(chain.model_copy(update={"chain": members}))
    constraints = config.optimize.constraints
    optimize = config.optimize.model_copy(
        update={"constraints": absolute(constraints) or constraints}
    )
    delivery_file = absolute(config.delivery_file) or config.delivery_file
    return config.model_copy(
        update={"sources": sources, "optimize": optimize, "delivery_file": delivery_file}
    )


# ---- ingest ------------------------------------------------------------------------------


def stage_ingest(home: str | Path, key: str) -> Path:
    """Copy the live warehouse into ``home/staging/<key>`` for this run's loads and build."""
    from mediamix.warehouse.staging import stage

    return stage(home, key)


@dataclass(frozen=True)
class _Unavailable:
    """A source that could not even be set up (SDK or credentials missing)."""

    name: str
    reason: str

    def check(self) -> str | None:
        return self.reason

    def fetch(self, request: Any) -> Any:  # pragma: no cover - check() always skips it
        raise AssertionError(self.reason)


def _build_source(member: Any, account: str) -> Any:
    from mediamix.ingest.base import Retry
    from mediamix.ingest.sources import FileSource, SyntheticSource

    if isinstance(member, FileSourceConfig):
        return FileSource(member.path, spec=member.spec, account=account, currency=member.currency)
    if isinstance(member, SyntheticSourceConfig):
        return SyntheticSource(
            seed=member.seed, channels=member.channels, geos=member.geos, account=account
        )
    from mediamix.service.ingest import TRANSPORT_FACTORIES

    try:
        transport = TRANSPORT_FACTORIES[member.kind](None)
    except InputError as exc:
        return _Unavailable(member.kind, "; ".join(p.message for p in exc.problems))
    if isinstance(member, GoogleAdsSourceConfig):
        from mediamix.ingest.google_ads import GoogleAdsSource

        return GoogleAdsSource(
            member.customer_id.replace("-", ""), transport=transport, retry=Retry()
        )
    from mediamix.ingest.meta import DEFAULT_CONVERSIONS, MetaSource

    return MetaSource(
        member.account_id.removeprefix("act_"),
        transport=transport,
        conversion_actions=tuple(DEFAULT_CONVERSIONS),
        retry=Retry(),
    )


def interval_days(start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date]:
    """The days of a data interval: its start's day to the last day complete at its end.

    A daily interval ending at 06:00 covers the day before (its data is complete by
    then); an interval ending at midnight covers up to that midnight's previous day.

    Examples
    --------
    >>> import datetime as dt
    >>> interval_days(dt.datetime(2024, 3, 1, 6), dt.datetime(2024, 3, 2, 6))
    (datetime.date(2024, 3, 1), datetime.date(2024, 3, 1))
    """
    first = start.date()
    midnight = end.replace(hour=0, minute=0, second=0, microsecond=0)
    last = max(first, (midnight - dt.timedelta(days=1)).date())
    return first, last


def ingest_source(
    staged: str | Path, chain: SourceChain, start: dt.date, end: dt.date
) -> dict[str, Any]:
    """Fetch one source chain for the days ``start..end`` (plus its lookback) into ``staged``.

    Returns what the run log records: the source that served, the ones skipped and
    why, the load's status and row count and its raw file.

    Raises
    ------
    InputError
        The serving source returned invalid rows (row and column named).
    SourceUnavailableError
        No source of the chain could serve.
    """
    from mediamix.service.ingest import ingest_sources

    first = start - dt.timedelta(days=chain.lookback_days)
    sources = [_build_source(member, chain.account) for member in chain.chain]
    outcome = ingest_sources(staged, sources, first, end, account=chain.account)
    load = outcome.load
    if outcome.skipped:
        log.warning(
            "source %s served by the fallback %s (skipped: %s)",
            chain.name,
            outcome.served_by,
            "; ".join(f"{n}: {why}" for n, why in outcome.skipped),
        )
    return {
        "served_by": outcome.served_by,
        "skipped": [list(s) for s in outcome.skipped],
        "status": load.status,
        "rows": load.media_rows,
        "period": f"{load.period_start}..{load.period_end}",
        "raw_path": str(load.raw_path.relative_to(staged)),
    }


def transform_staged(staged: str | Path) -> dict[str, Any]:
    """``dbt build`` (models and tests) on the staged warehouse.

    Raises
    ------
    InputError
        A dbt test failed: the run stops here and the live warehouse is untouched.
    """
    from mediamix.service.transform import transform

    result = transform(staged)
    rows = _table_rows(staged, "mmm_weekly_input")
    return {"counts": result.counts(), "seconds": round(result.seconds, 3), "rows": rows}


def _table_rows(home: str | Path, table: str) -> int | None:
    from mediamix.warehouse.store import Warehouse

    with Warehouse.reader(home) as wh:
        if table not in wh.tables():
            return None
        return int(wh.query(f'select count(*) as n from "{table}"')["n"].iloc[0])  # noqa: S608 -- a fixed mart name


def publish_ingest(home: str | Path, staged: str | Path) -> dict[str, Any]:
    """Swap the staged warehouse in; returns the row counts of the live tables."""
    from mediamix.warehouse.staging import publish
    from mediamix.warehouse.store import Warehouse

    publish(home, staged)
    with Warehouse.reader(home) as wh:
        tables = wh.tables()
        counts = {
            name: int(wh.query(f'select count(*) as n from "{name}"')["n"].iloc[0])  # noqa: S608 -- names from the catalog
            for name in tables
        }
    return {"tables": counts, "rows": counts.get("raw_ad_reporting")}


# ---- train ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingInput:
    """The exported modelling input and its fingerprint."""

    spec: Path
    data: Path
    fingerprint: str
    periods: int

    def to_dict(self) -> dict[str, Any]:
        """References only (for the next task)."""
        return {
            "spec": str(self.spec),
            "data": str(self.data),
            "fingerprint": self.fingerprint,
            "rows": self.periods,
        }


def prepare_training(
    home: str | Path, out: str | Path, train: TrainConfig, end: dt.date
) -> TrainingInput:
    """Export the ``train.weeks`` weeks of the marts up to ``end`` and fingerprint them.

    The fingerprint covers the CSV, the spec and the fit settings (engine, seed), so
    two runs over the same data and settings share it.
    """
    from mediamix.service.transform import export_mmm_input

    start = end - dt.timedelta(weeks=train.weeks)
    exported = export_mmm_input(home, out, kpi_type=train.kpi_type, start=start, end=end)
    digest = hashlib.sha256()
    for part in (exported.data.read_bytes(), exported.spec.read_bytes()):
        digest.update(hashlib.sha256(part).digest())
    digest.update(json.dumps({"engine": train.engine, "seed": train.seed}).encode())
    return TrainingInput(
        spec=exported.spec,
        data=exported.data,
        fingerprint=digest.hexdigest(),
        periods=exported.periods,
    )


_FINGERPRINT_TAG = "mediamix.input_fingerprint"


def _version_with_fingerprint(config: TrackingConfig, name: str, fingerprint: str) -> int | None:
    from mlflow.exceptions import MlflowException

    from mediamix.tracking.registry import Registry

    registry = Registry(config)
    try:
        versions = registry.versions(name)
    except MlflowException:  # no model of that name yet
        return None
    for version in versions:
        tag = version["tags"].get(_FINGERPRINT_TAG)
        if tag and json.loads(tag).get("sha256") == fingerprint:
            return int(version["version"])
    return None


def _champion(config: TrackingConfig, name: str) -> dict[str, Any] | None:
    """The champion's registry record, or ``None`` when there is no champion yet."""
    from mlflow.exceptions import MlflowException

    from mediamix.tracking.registry import Registry

    try:
        return Registry(config).resolve(f"models:/{name}@champion")
    except (InputError, MlflowException):
        return None


def _recent_input(prepared: TrainingInput, weeks: int, out: Path) -> Path:
    """The last ``weeks`` rows of the prepared input, with a spec of their own."""
    import pandas as pd
    import yaml

    frame = pd.read_csv(prepared.data)
    spec = yaml.safe_load(prepared.spec.read_text())
    spec["data"] = "recent.csv"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "recent.csv", frame.tail(weeks).to_csv(index=False))
    atomic_write_text(out / "spec.yaml", yaml.safe_dump(spec, sort_keys=False))
    return out / "spec.yaml"


def training_gate(
    out: str | Path, prepared: TrainingInput, train: TrainConfig, config: TrackingConfig
) -> dict[str, Any]:
    """Whether this run trains, and how: the drift signal of the ``refresh`` strategy.

    Under ``refit`` every run trains from scratch. Under ``refresh`` the newest
    ``train.drift_weeks`` weeks of the prepared input are checked against the
    champion (report under ``out``): retraining due gives ``{"train": True,
    "refresh": "models:/NAME/V"}`` (the champion to refresh), no drift gives
    ``{"train": False}``; with no champion yet the run fits from scratch.
    ``reason`` says which, for the run log.
    """
    from mediamix.service.drift import drift_check

    if train.strategy == "refit":
        return {"train": True, "refresh": None, "reason": "the refit strategy trains every run"}
    champion = _champion(config, train.model_name)
    if champion is None:
        return {"train": True, "refresh": None, "reason": "no champion yet: a fit from scratch"}
    reference = f"models:/{train.model_name}/{champion['version']}"
    out = Path(out)
    recent = _recent_input(prepared, train.drift_weeks, out / "recent")
    outcome = drift_check(reference, recent, out / "report", config=config)
    checked = {"retrain": bool(outcome.report.retrain), "json": str(outcome.json_path)}
    if checked["retrain"]:
        reason = f"drift against {reference}: retraining is due"
        return {"train": True, "refresh": reference, "reason": reason, "drift": checked}
    reason = f"no drift beyond the thresholds against {reference}: nothing to train"
    return {"train": False, "refresh": None, "reason": reason, "drift": checked}


def _new_weeks(prepared: TrainingInput, model: Path, out: Path) -> Path | None:
    """The prepared rows after the model's last week, as a CSV (``None``: no new week).

    Beside it, the export lineage a fit or refresh of it picks up: the prepared
    input's own (the loads and dbt models of the export) with the cut recorded, so a
    refreshed model's lineage reaches the warehouse like a fitted one's.
    """
    import pandas as pd

    from mediamix.io.artifacts import sha256_file
    from mediamix.io.spec import read_spec
    from mediamix.service.lineage import file_lineage
    from mediamix.service.transform import EXPORT_LINEAGE

    spec = read_spec(prepared.spec)
    summary = json.loads((model / "summary.json").read_text())
    frame = pd.read_csv(prepared.data)
    dates = pd.to_datetime(frame[spec.date])
    newer = frame[dates > pd.Timestamp(summary["end"])]
    if newer.empty:
        return None
    out.mkdir(parents=True, exist_ok=True)
    target = out / "new_weeks.csv"
    atomic_write_text(target, newer.to_csv(index=False))
    source = file_lineage(prepared.data)
    lineage = dict(source.get("upstream") or {})
    lineage["export"] = {
        "file": target.name,
        "sha256": sha256_file(target),
        "period": [str(newer[spec.date].iloc[0]), str(newer[spec.date].iloc[-1])],
        "cut_from": {"path": source["path"], "sha256": source["sha256"]},
    }
    atomic_write_text(out / EXPORT_LINEAGE, json.dumps(lineage, indent=2) + "\n")
    return target


def train_model(
    prepared: TrainingInput,
    out: str | Path,
    train: TrainConfig,
    config: TrackingConfig,
    gate: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fit (or refresh) the prepared input, unless a registered version holds it already.

    ``gate`` is :func:`training_gate`'s answer (``None``: train from scratch). Returns
    ``{"model": folder}`` for a new model (``"refreshed_from"`` names the champion a
    refresh started from), or ``{"model": None, "version": N}`` when version N already
    holds this exact input, or ``{"model": None, "version": None}`` when the gate
    says there is nothing to train (nothing is fitted or tracked in either case).
    """
    from mediamix.service.fit import fit
    from mediamix.service.refresh import refresh
    from mediamix.service.registry import resolve_model

    existing = _version_with_fingerprint(config, train.model_name, prepared.fingerprint)
    if existing is not None:
        log.info(
            "models:/%s/%d was trained on this input: not fitted again", train.model_name, existing
        )
        return {"model": None, "version": existing, "skipped": True}
    if gate is not None and not gate["train"]:
        return {"model": None, "version": None, "skipped": True, "reason": gate["reason"]}
    source = gate.get("refresh") if gate is not None else None
    if source is not None:
        new = _new_weeks(prepared, resolve_model(source, config), Path(out).parent / "new")
        if new is None:
            reason = f"{source} already holds every prepared week: nothing to refresh"
            return {"model": None, "version": None, "skipped": True, "reason": reason}
        refreshed = refresh(
            source, new, out, tolerance=train.refresh_tolerance, registry=config, tracking=config
        )
        metrics = refreshed.summary.get("metrics", {})
        return {
            "model": str(refreshed.out),
            "version": None,
            "skipped": False,
            "metrics": metrics,
            "refreshed_from": source,
            "within_tolerance": bool(refreshed.report["within_tolerance"]),
        }
    outcome = fit(prepared.spec, out, {"engine": train.engine, "seed": train.seed}, tracking=config)
    metrics = outcome.summary.get("metrics", {})
    return {"model": str(outcome.out), "version": None, "skipped": False, "metrics": metrics}


def register_and_promote(
    trained: dict[str, Any],
    prepared: TrainingInput,
    train: TrainConfig,
    config: TrackingConfig,
    home: str | Path,
) -> dict[str, Any]:
    """Register a new fit (tagged with its input's fingerprint) and try to promote it.

    The promotion rule of :func:`mediamix.service.registry.promote_model` decides; a
    refusal is a normal outcome (recorded on the version), not a failure.
    """
    from mediamix.service.registry import promote_model
    from mediamix.tracking.registry import Registry

    name = train.model_name
    if trained.get("model") is None:
        if trained.get("version") is None:
            return {"uri": None, "version": None, "registered": False}
        version = int(trained["version"])
        return {"uri": f"models:/{name}/{version}", "version": version, "registered": False}
    registry = Registry(config)
    info = registry.register(trained["model"], name)
    version = int(info["version"])
    registry.record(name, version, _FINGERPRINT_TAG, {"sha256": prepared.fingerprint})
    if trained.get("refreshed_from"):
        # a refresh is judged as the challenger before the rule may make it champion
        promote_model(
            name,
            version,
            "challenger",
            config,
            decided_by="mediamix_train",
            reason=f"refresh of {trained['refreshed_from']} after drift",
            home=home,
        )
    try:
        decision = promote_model(
            name, version, "champion", config, decided_by="mediamix_train", home=home
        )
        promoted, reasons = True, list(decision.get("reasons", []))
    except InputError as exc:
        promoted, reasons = False, [p.message for p in exc.problems]
    log.info("models:/%s/%d %s", name, version, "promoted" if promoted else "not promoted")
    return {
        "uri": f"models:/{name}/{version}",
        "version": version,
        "registered": True,
        "promoted": promoted,
        "reasons": reasons,
    }


def drift_report(
    home: str | Path, out: str | Path, train: TrainConfig, config: TrackingConfig, end: dt.date
) -> dict[str, Any]:
    """Check the newest ``train.drift_weeks`` weeks against the champion's training data."""
    from mediamix.service.drift import drift_check
    from mediamix.service.transform import export_mmm_input

    out = Path(out)
    start = end - dt.timedelta(weeks=train.drift_weeks)
    recent = export_mmm_input(home, out / "recent", kpi_type=train.kpi_type, start=start, end=end)
    outcome = drift_check(
        f"models:/{train.model_name}@champion",
        recent.spec,
        out / "report",
        config=config,
        home=home,
    )
    return {
        "retrain": bool(outcome.report.retrain),
        "json": str(outcome.json_path),
        "html": str(outcome.html_path),
        "rows": recent.periods,
    }


# ---- optimize ------------------------------------------------------------------------------


def plan_with_champion(
    out: str | Path, optimize_config: OptimizeConfig, model_name: str, config: TrackingConfig
) -> dict[str, Any]:
    """Plan with ``models:/<name>@champion`` under the stored constraints.

    The budget is the configured one, else the champion's current (historical)
    total. Writes ``out/plan.json``.
    """
    from mediamix.models.response import FittedResponse
    from mediamix.service.optimize import optimize, optimize_request
    from mediamix.service.registry import load_result, resolve_model

    ref = f"models:/{model_name}@champion"
    folder = resolve_model(ref, config)
    response = FittedResponse(load_result(folder))
    budget = optimize_config.budget or float(sum(response.current_spend.values()))
    request = optimize_request(budget, constraints=optimize_config.constraints)
    out = Path(out)
    document = optimize(request, response_model=response, out=out / "plan.json").to_dict()
    return {
        "plan": str(out / "plan.json"),
        "model": str(folder),
        "model_uri": ref,
        "status": document.get("status"),
        "budget": budget,
    }


def render_report(model_dir: str | Path, plan: str | Path, out: str | Path) -> dict[str, Any]:
    """Render the executive report of the champion with its plan into the folder ``out``.

    The folder holds ``report.html``, ``report.pdf`` and ``report.json`` (what
    :func:`mediamix.service.distribute.distribute_report` sends); the same model
    and plan give the same bytes, so a re-run's report has the same hash.
    """
    from mediamix.service.report import write_report

    folder = write_report(model_dir, out, pdf=True, plan=plan)
    return {"report": str(folder), "html": str(Path(folder) / "report.html")}
