"""``mediamix ingest``: load data into the warehouse (registered on the main app by the lead).

Sub-commands: ``csv`` (a CSV or Parquet file, wide with ``--spec`` or in the
unified long layout), ``synthetic``, ``google-ads`` and ``meta`` (the ad platforms,
through their official client libraries; credentials from the libraries' own
config files or environment variables), ``kaggle`` and ``huggingface`` (public
datasets, served from a local copy under ``$MEDIAMIX_HOME/datasets``). The
warehouse lives in ``MEDIAMIX_HOME``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mediamix.cli.progress import working
from mediamix.settings import Settings, load_settings

__all__ = ["ingest_app"]

ingest_app = typer.Typer(
    name="ingest",
    help="Load data into the warehouse ($MEDIAMIX_HOME/warehouse.duckdb).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
_out = Console(soft_wrap=True, highlight=False)
_err = Console(stderr=True, soft_wrap=True, highlight=False)


def _print_load(load: object) -> None:
    from mediamix.warehouse.store import LoadResult

    assert isinstance(load, LoadResult)  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    verb = "loaded" if load.status == "loaded" else "unchanged (same content as the last load)"
    _out.print(
        f"{load.source}/{load.account} {load.period_start} to {load.period_end}: {verb}; "
        f"{load.media_rows} media rows, {load.kpi_rows} KPI rows, {load.control_rows} driver rows"
        + (f"; replaced {load.replaced_rows} rows" if load.replaced_rows else ""),
        markup=False,
    )
    _out.print(f"raw file: {load.raw_path}", markup=False)


def _publish(settings: Settings, load: object) -> None:
    """With MEDIAMIX_STORAGE_URI, publish the load's raw landing file (once per file)."""
    from mediamix.service.ingest import publish_landed
    from mediamix.warehouse.store import LoadResult

    assert isinstance(load, LoadResult)  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    publish_landed(settings.home, load, settings.storage_config())


@ingest_app.command("csv")
def ingest_csv_cmd(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file.")],
    spec: Annotated[
        Path | None,
        typer.Option(help="Spec of a wide MMM file; without it the file is in the long layout."),
    ] = None,
    account: Annotated[str, typer.Option(help="Account the load covers.")] = "default",
    currency: Annotated[str, typer.Option(help="ISO 4217 code of a wide file's spend.")] = "USD",
    start: Annotated[
        str | None, typer.Option(help="First day the load replaces (default: the file's first).")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Last day the load replaces (default: the file's last).")
    ] = None,
) -> None:
    """Load a file; loading the same account and period again replaces it."""
    from mediamix.io.table import ReadLimits
    from mediamix.service.ingest import LoadTarget, ingest_file

    settings = load_settings()
    limits = ReadLimits(
        max_rows=settings.max_rows, max_columns=settings.max_columns, max_bytes=settings.max_bytes
    )
    with working("loading into the warehouse"):
        outcome = ingest_file(
            settings.home,
            file,
            spec=spec,
            target=LoadTarget(
                account=account, currency=currency, period_start=start, period_end=end
            ),
            limits=limits,
            storage=settings.storage_config(),
        )
    for warning in outcome.warnings:
        _err.print(f"warning: {warning}", markup=False)
    _print_load(outcome.load)


@ingest_app.command("synthetic")
def ingest_synthetic_cmd(
    seed: Annotated[int, typer.Option(help="Random seed; the data is deterministic by seed.")] = 0,
    weeks: Annotated[int, typer.Option(min=20, max=2000)] = 156,
    channels: Annotated[int, typer.Option(min=1, max=50)] = 4,
    geos: Annotated[int, typer.Option(min=1, max=500)] = 1,
    account: Annotated[str | None, typer.Option(help="Account (default seed-N).")] = None,
) -> None:
    """Generate synthetic data with known truth and load it (always available, offline)."""
    from mediamix.data.synthetic import SynthConfig
    from mediamix.service.ingest import ingest_synthetic

    settings = load_settings()
    with working("loading synthetic data into the warehouse"):
        outcome = ingest_synthetic(
            settings.home,
            SynthConfig(seed=seed, weeks=weeks, channels=channels, geos=geos),
            account=account,
            storage=settings.storage_config(),
        )
    _print_load(outcome.load)


@ingest_app.command("events")
def ingest_events_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="Event log: user_id,timestamp,channel,conversion[,conversion_value]"
            "[,milestone]; CSV or Parquet."
        ),
    ],
) -> None:
    """Load a user-level event log (for attribution); ids are pseudonymized when
    MEDIAMIX_PSEUDONYMIZE_KEY is set. `mediamix privacy` erases or exports users."""
    from mediamix.io.table import ReadLimits
    from mediamix.service.privacy import ingest_events

    settings = load_settings()
    limits = ReadLimits(
        max_rows=settings.max_rows, max_columns=settings.max_columns, max_bytes=settings.max_bytes
    )
    with working("loading events into the warehouse"):
        load = ingest_events(
            settings.home, file, pseudonymize_key=settings.pseudonymize_secret(), limits=limits
        )
    how = "pseudonymized" if load.pseudonymized else "as given"
    _out.print(
        f"loaded {load.rows} event(s) of {load.users} user(s), ids {how} (load {load.load_id})",
        markup=False,
    )


def _print_source(outcome: object) -> None:
    from mediamix.service.ingest import SourceOutcome

    assert isinstance(outcome, SourceOutcome)  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    for name, why in outcome.skipped:
        _err.print(f"skipped {name}: {why}", markup=False)
    _out.print(f"served by {outcome.served_by}", markup=False)
    _print_load(outcome.load)


def _period(start: str, end: str | None) -> tuple[dt.date, dt.date]:
    first = _date(start, "--start")
    assert first is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    last = _date(end, "--end") or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    return first, last


@ingest_app.command("google-ads")
def ingest_google_ads_cmd(
    customer_id: Annotated[str, typer.Option(help="Customer id, e.g. 123-456-7890.")],
    start: Annotated[str, typer.Option(help="First day (ISO date).")],
    end: Annotated[
        str | None, typer.Option(help="Last day (ISO date; default yesterday, UTC).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="google-ads.yaml; default GOOGLE_ADS_* variables or ~/google-ads.yaml."),
    ] = None,
    repull_days: Annotated[
        int, typer.Option(min=0, max=90, help="Days before --start fetched again.")
    ] = 3,
) -> None:
    """Load daily campaign spend and conversions of a Google Ads customer (GAQL)."""
    from mediamix.service.ingest import PullOptions, ingest_google_ads

    settings = load_settings()
    first, last = _period(start, end)
    with working("fetching from Google Ads"):
        outcome = ingest_google_ads(
            settings.home,
            customer_id,
            first,
            last,
            pull=PullOptions(config=config, repull_days=repull_days),
        )
    _publish(settings, outcome.load)
    _print_source(outcome)


@ingest_app.command("meta")
def ingest_meta_cmd(
    account_id: Annotated[str, typer.Option(help="Ad account id, e.g. act_1234.")],
    start: Annotated[str, typer.Option(help="First day (ISO date).")],
    end: Annotated[
        str | None, typer.Option(help="Last day (ISO date; default yesterday, UTC).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="JSON file with access_token; default META_ACCESS_TOKEN."),
    ] = None,
    repull_days: Annotated[
        int, typer.Option(min=0, max=90, help="Days before --start fetched again.")
    ] = 3,
    conversion_actions: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated action types counted as conversions, first present wins "
            "(default omni_purchase,purchase,offsite_conversion.fb_pixel_purchase)."
        ),
    ] = None,
) -> None:
    """Load daily campaign insights of a Meta ad account (spend, actions as conversions)."""
    from mediamix.service.ingest import PullOptions, ingest_meta

    settings = load_settings()
    first, last = _period(start, end)
    actions = conversion_actions.split(",") if conversion_actions is not None else None
    with working("fetching from Meta"):
        outcome = ingest_meta(
            settings.home,
            account_id,
            first,
            last,
            pull=PullOptions(config=config, repull_days=repull_days),
            conversion_actions=actions,
        )
    _publish(settings, outcome.load)
    _print_source(outcome)


def _dataset_cmd(provider: str) -> None:
    """Register ``ingest kaggle`` / ``ingest huggingface`` (same options)."""

    def command(
        dataset: Annotated[str, typer.Argument(help="Dataset id, e.g. owner/name.")],
        file: Annotated[str, typer.Option(help="File of the dataset to load (wide MMM layout).")],
        spec: Annotated[Path, typer.Option(help="Spec describing that file.")],
        start: Annotated[str | None, typer.Option(help="First day to load (ISO date).")] = None,
        end: Annotated[str | None, typer.Option(help="Last day to load (ISO date).")] = None,
        fallback_synthetic: Annotated[
            bool, typer.Option(help="Load synthetic data when there is no local copy.")
        ] = False,
        download: Annotated[
            bool,
            typer.Option(
                help="Download a missing copy with the provider's client "
                "(its own credentials/config)."
            ),
        ] = False,
        split: Annotated[str, typer.Option(help="Hugging Face split.")] = "train",
    ) -> None:
        from mediamix.service.ingest import DatasetRef, ingest_dataset

        settings = load_settings()
        with working("loading the dataset"):
            outcome = ingest_dataset(
                settings.home,
                DatasetRef(provider, dataset, file=file, spec=spec, split=split),
                start=_date(start, "--start"),
                end=_date(end, "--end"),
                fallback_synthetic=fallback_synthetic,
                download=download,
            )
        _publish(settings, outcome.load)
        _print_source(outcome)

    command.__doc__ = (
        f"Load a {provider} dataset from its local copy in "
        f"$MEDIAMIX_HOME/datasets/{provider}/<owner>__<name>/ (offline unless --download)."
    )
    ingest_app.command(provider)(command)


def _date(value: str | None, option: str) -> dt.date | None:
    from mediamix.errors import InputError

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError.single(
            f"{option} '{value}' is not an ISO date (YYYY-MM-DD)", column=option
        ) from None


_dataset_cmd("kaggle")
_dataset_cmd("huggingface")


@ingest_app.command("ga4-export")
def ingest_ga4_export_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(help="GA4 BigQuery export files (events_YYYYMMDD; NDJSON or Parquet)."),
    ],
    channel_rules: Annotated[
        Path | None,
        typer.Option(
            help="YAML list of {channel, source, medium} rules (regular expressions) tried "
            "before the default channel grouping."
        ),
    ] = None,
    conversion_event: Annotated[
        list[str] | None,
        typer.Option(help="Event name counted as a conversion (repeat; default purchase)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the event log here (CSV, for `mediamix attribute`) instead."),
    ] = None,
) -> None:
    """Turn GA4 BigQuery exports into the attribution event log (one touch per session,
    channel from source and medium) and load it like `ingest events`, or write it with --out."""
    from mediamix.service.ga4 import ingest_ga4_export

    settings = load_settings()
    with working("reading the GA4 export"):
        outcome = ingest_ga4_export(
            settings.home,
            files,
            rules_file=channel_rules,
            conversion_events=conversion_event or ["purchase"],
            out=out,
            pseudonymize_key=settings.pseudonymize_secret(),
        )
    where = (
        f"wrote {outcome.out}"
        if outcome.out is not None
        else f"loaded into the warehouse (load {outcome.load.load_id})"
        if outcome.load is not None
        else ""
    )
    _out.print(
        f"{outcome.sessions} session(s), {outcome.conversions} converting; {where}", markup=False
    )


@ingest_app.command("ga4")
def ingest_ga4_cmd(
    property_id: Annotated[str, typer.Option("--property", help="GA4 property id (digits).")],
    start: Annotated[str, typer.Option(help="First day (ISO date).")],
    end: Annotated[
        str | None, typer.Option(help="Last day (ISO date; default yesterday, UTC).")
    ] = None,
    fallback_synthetic: Annotated[
        bool, typer.Option(help="Load synthetic data when the Data API cannot serve.")
    ] = False,
) -> None:
    """Load daily revenue, key events and sessions by session default channel group from
    the GA4 Data API (credentials: Application Default Credentials)."""
    from mediamix.service.ga4 import ingest_ga4

    settings = load_settings()
    first, last = _period(start, end)
    with working("fetching from GA4"):
        outcome = ingest_ga4(
            settings.home, property_id, first, last, fallback_synthetic=fallback_synthetic
        )
    _publish(settings, outcome.load)
    _print_source(outcome)
