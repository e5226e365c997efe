"""Use case: load data into the warehouse (files, synthetic data, ad platforms, datasets).

A wide MMM file is validated exactly as ``mediamix validate`` does (same reader,
same validator, same messages), then split into the warehouse's long layouts; a
file in the unified long layout (``date_day, platform, account_id, campaign_id,
channel, geo, currency_code, spend, ...``) is loaded as it is. Either way a bad
file raises :class:`~mediamix.errors.InputError` naming row and column, and the
warehouse is left unchanged.

Ad platforms (:func:`ingest_google_ads`, :func:`ingest_meta`) are fetched through a
transport built by :data:`TRANSPORT_FACTORIES` (the official client libraries,
credentials from their own config files or environment variables) unless one is
passed in; loading the same account and period again replaces it (upsert), so the
re-pull window never duplicates days.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediamix.aws.storage import StorageConfig
from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.data.validation import validate_table
from mediamix.errors import InputError, Problem
from mediamix.ingest.base import FetchRequest, MediaDataClient, Retry, Source
from mediamix.ingest.google_ads import GoogleAdsSource, GoogleAdsTransport
from mediamix.ingest.meta import DEFAULT_CONVERSIONS, MetaSource, MetaTransport
from mediamix.ingest.sources import CachedDatasetSource, SyntheticSource
from mediamix.ingest.wide import LongBatch, dataset_to_long
from mediamix.io.spec import read_spec
from mediamix.io.table import ReadLimits, read_table
from mediamix.warehouse.store import LoadResult, Warehouse

__all__ = [
    "TRANSPORT_FACTORIES",
    "DatasetRef",
    "IngestOutcome",
    "LoadTarget",
    "PullOptions",
    "SourceOutcome",
    "ingest_dataset",
    "ingest_file",
    "ingest_google_ads",
    "ingest_meta",
    "ingest_sources",
    "ingest_synthetic",
    "load_long_batch",
    "publish_landed",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestOutcome:
    """What a load did, the warnings validation raised and the spec it used."""

    load: LoadResult
    warnings: tuple[Problem, ...] = ()
    spec: ModelSpec | None = None


def load_long_batch(
    home: str | Path,
    source: str,
    account: str,
    batch: LongBatch,
    *,
    origin: str | None = None,
    storage: StorageConfig | None = None,
) -> LoadResult:
    """Load a batch in the long layouts under the writer lock; with an enabled
    ``storage``, publish its raw landing file (:func:`publish_landed`)."""
    with Warehouse.writer(home) as wh:
        load = wh.load_batch(
            source,
            account,
            batch.media,
            batch.period_start,
            batch.period_end,
            kpi=batch.kpi,
            controls=batch.controls,
            origin=origin,
        )
    publish_landed(home, load, storage)
    return load


def publish_landed(home: str | Path, load: LoadResult, storage: StorageConfig | None) -> None:
    """Publish the raw landing file of ``load`` to the S3 store of ``storage``, if enabled.

    The file is the version of ``landing/raw.<source>.<account>`` named by its
    fingerprint, so a load whose file is already published (an unchanged re-load)
    uploads nothing; the warehouse lock is not held while uploading. A load that
    landed no file (``unchanged`` before it was ever published elsewhere) is
    published too, from the file already in ``home``.
    """
    if storage is None or not storage.enabled or not load.raw_path.is_file():
        return
    from mediamix.service.storage import publish_landing

    publish_landing(storage, home, load.raw_path)


@dataclass(frozen=True)
class LoadTarget:
    """Where a file's rows land: the account and period they replace, and their currency.

    Attributes
    ----------
    account : str
        Account the load covers (with the source and period, the upsert key).
    currency : str
        ISO 4217 code of a wide file's spend (a long file has its own column).
    period_start, period_end : date or ISO str, optional
        Period the load replaces; default the file's first and last date.
    """

    account: str = "default"
    currency: str = "USD"
    period_start: dt.date | str | None = None
    period_end: dt.date | str | None = None


def ingest_file(
    home: str | Path,
    data: str | Path,
    *,
    spec: str | Path | None = None,
    target: LoadTarget | None = None,
    limits: ReadLimits | None = None,
    storage: StorageConfig | None = None,
) -> IngestOutcome:
    """Load a CSV or Parquet file into the warehouse (source ``file``).

    Parameters
    ----------
    home : path
        The mediamix home holding the warehouse.
    data : path
        The file. With ``spec``: the wide MMM layout the spec describes (its own
        ``data`` key is ignored). Without: the unified long layout.
    spec : path, optional
        Model spec (YAML) naming date, KPI, channels and controls of a wide file.
    target : LoadTarget, optional
        Account, period and currency of the load (default: account ``default``, the
        file's period, USD).
    limits : ReadLimits, optional
        Size limits of the reader.
    storage : StorageConfig, optional
        With an S3 store, the raw landing file is published there too.

    Raises
    ------
    InputError
        The file or spec is invalid (every problem, with row and column); nothing
        is written.
    BusyError
        Another process is writing the warehouse.
    """
    target = target or LoadTarget()
    account, period_start, period_end = target.account, target.period_start, target.period_end
    table = read_table(data, limits)
    if spec is None:
        with Warehouse.writer(home) as wh:
            load = wh.load_batch(
                "file",
                account,
                table.frame,
                period_start,
                period_end,
                origin=table.source,
            )
        publish_landed(home, load, storage)
        return IngestOutcome(load=load)
    model_spec = read_spec(spec).with_data(str(Path(data).resolve()))
    report = validate_table(table.frame, model_spec, source=table.source)
    if not report.ok or report.dataset is None:
        raise InputError(report.problems)
    batch = dataset_to_long(
        report.dataset, platform="file", account=account, currency=target.currency
    )
    if period_start is not None or period_end is not None:
        batch = LongBatch(
            media=batch.media,
            kpi=batch.kpi,
            controls=batch.controls,
            period_start=str(period_start or batch.period_start),
            period_end=str(period_end or batch.period_end),
        )
    load = load_long_batch(home, "file", account, batch, origin=table.source, storage=storage)
    return IngestOutcome(load=load, warnings=report.warnings, spec=model_spec)


def ingest_synthetic(
    home: str | Path,
    config: SynthConfig,
    *,
    account: str | None = None,
    storage: StorageConfig | None = None,
) -> IngestOutcome:
    """Generate synthetic data (deterministic by seed) and load it (source ``synthetic``).

    The account defaults to ``seed-<seed>``, so loading the same seed again is a
    no-op and another seed lands beside it.
    """
    result = synthesize(config)
    spec = ModelSpec.model_validate(result.spec)
    source = f"synthetic seed {config.seed}"
    report = validate_table(result.frame, spec, source=source)
    if not report.ok or report.dataset is None:  # pragma: no cover - the generator is valid
        raise InputError(report.problems)
    account = account or f"seed-{config.seed}"
    batch = dataset_to_long(report.dataset, platform="synthetic", account=account)
    load = load_long_batch(home, "synthetic", account, batch, origin=source, storage=storage)
    return IngestOutcome(load=load, warnings=report.warnings, spec=spec)


@dataclass(frozen=True)
class SourceOutcome:
    """Which source served, why earlier ones were skipped, and what the load did."""

    served_by: str
    skipped: tuple[tuple[str, str], ...]
    load: LoadResult


def ingest_sources(
    home: str | Path,
    sources: Sequence[Source],
    start: dt.date,
    end: dt.date,
    *,
    account: str | None = None,
    storage: StorageConfig | None = None,
) -> SourceOutcome:
    """Fetch the period from the first source that serves and load it (and, with an
    enabled ``storage``, publish its raw landing file).

    Raises
    ------
    InputError
        The serving source returned invalid rows (named by row and column); nothing
        is written.
    SourceUnavailableError
        No source could serve (every reason listed).
    """
    client = MediaDataClient(sources)
    result = client.fetch(FetchRequest(start=start, end=end, account=account))
    batch = result.batch
    with Warehouse.writer(home) as wh:
        load = wh.load_batch(
            batch.source,
            batch.account,
            batch.media,
            batch.period_start,
            batch.period_end,
            kpi=batch.kpi,
            controls=batch.controls,
            origin=batch.origin,
        )
    publish_landed(home, load, storage)
    return SourceOutcome(served_by=result.served_by, skipped=result.skipped, load=load)


@dataclass(frozen=True)
class DatasetRef:
    """A file of a public dataset, and how to read it.

    Attributes
    ----------
    provider : {"kaggle", "huggingface"}
    dataset : str
        Dataset id, ``owner/name``.
    file : str
        The file (or ``Dataset.save_to_disk`` folder) of the dataset to load.
    spec : path
        Model spec (YAML) describing that file's wide MMM layout.
    split, config_name : str
        Hugging Face split and configuration.
    """

    provider: str
    dataset: str
    file: str
    spec: str | Path
    split: str = "train"
    config_name: str | None = None


def ingest_dataset(
    home: str | Path,
    ref: DatasetRef,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    fallback_synthetic: bool = False,
    download: bool = False,
    downloader: Callable[[Path], None] | None = None,
) -> SourceOutcome:
    """Load a Kaggle or Hugging Face dataset from its local copy under ``home/datasets``.

    The copy of ``ref`` lives in ``home/datasets/<provider>/<owner>__<name>/<file>``: a
    wide MMM file described by ``spec``, or a folder written by ``Dataset.save_to_disk``.
    A present copy is always used (offline). Without one, ``download`` fetches it
    first (``kaggle`` or ``datasets`` client, credentials from their own
    configuration; ``datasets`` caches under ``home/datasets/huggingface/.cache``),
    else the source is skipped with the reason; with ``fallback_synthetic``
    synthetic data is loaded instead.

    Parameters
    ----------
    home : path
        The mediamix home holding the warehouse and the local copies.
    ref : DatasetRef
        Provider, dataset, file and the spec describing it.
    start, end : date, optional
        Period to load (default: all of it).
    fallback_synthetic : bool
        Load synthetic data when the dataset cannot be served.
    download : bool
        Fetch a missing copy with the provider's client.
    downloader : callable, optional
        Fills the folder it is given; replaces the provider's client (tests).

    Raises
    ------
    InputError
        The local copy is invalid (row and column named).
    SourceUnavailableError
        No local copy and it could not be downloaded, and no fallback.
    """
    from mediamix.ingest.datasets_client import huggingface_downloader, kaggle_downloader

    provider, dataset, file = ref.provider, ref.dataset, ref.file
    if provider not in {"kaggle", "huggingface"}:
        raise InputError.single(
            f"unknown dataset provider '{provider}' (kaggle or huggingface)", column="provider"
        )
    cache = Path(home) / "datasets"
    if download and downloader is None:
        if provider == "kaggle":
            downloader = kaggle_downloader(dataset)
        else:
            downloader = huggingface_downloader(
                dataset,
                file,
                cache_dir=cache / "huggingface" / ".cache",
                config_name=ref.config_name,
                split=ref.split,
            )
    sources: list[Source] = [
        CachedDatasetSource(
            provider,
            dataset,
            file,
            spec=Path(ref.spec),
            cache=cache,
            download=downloader if download or downloader is not None else None,
        )
    ]
    if fallback_synthetic:
        sources.append(SyntheticSource())
    first = start or dt.date(1900, 1, 1)
    last = end or dt.date(2999, 12, 31)
    return ingest_sources(home, sources, first, last)


def _google_ads_transport(config: Path | None) -> Any:
    from mediamix.ingest.google_ads_client import GoogleAdsClientTransport

    return GoogleAdsClientTransport.from_config(config)


def _meta_transport(config: Path | None) -> Any:
    from mediamix.ingest.meta_client import MetaSdkTransport

    return MetaSdkTransport.from_config(config)


#: platform -> builds its transport from an optional config file. The client
#: libraries are imported only when a factory runs; tests and embedders may
#: replace an entry (e.g. with a transport over recorded payloads).
TRANSPORT_FACTORIES: dict[str, Callable[[Path | None], Any]] = {
    "google_ads": _google_ads_transport,
    "meta": _meta_transport,
}


@dataclass(frozen=True)
class PullOptions:
    """How an ad platform is pulled: its client's configuration, re-pull window, backoff.

    Attributes
    ----------
    config : path, optional
        The client library's configuration file (``google-ads.yaml``; for Meta a JSON
        file with ``access_token``); default the library's own lookup.
    repull_days : int
        Trailing days before the period fetched again, for restated conversions.
    retry : Retry, optional
        Backoff policy (default ``Retry()``).
    """

    config: str | Path | None = None
    repull_days: int = 3
    retry: Retry | None = None


def ingest_google_ads(
    home: str | Path,
    customer_id: str,
    start: dt.date,
    end: dt.date,
    *,
    pull: PullOptions | None = None,
    transport: GoogleAdsTransport | None = None,
) -> SourceOutcome:
    """Fetch a Google Ads customer's daily campaign metrics and load them (source ``google_ads``).

    Parameters
    ----------
    home : path
        The mediamix home holding the warehouse.
    customer_id : str
        Customer id, digits with or without dashes.
    start, end : date
        Inclusive period; ``pull.repull_days`` days before ``start`` are fetched again.
    pull : PullOptions, optional
        ``config``: a google-ads.yaml, default the library's own lookup (environment,
        home folder); the re-pull window (default 3 days) and the backoff policy.
    transport : GoogleAdsTransport, optional
        Default: built by ``TRANSPORT_FACTORIES["google_ads"]``.

    Raises
    ------
    InputError
        Bad arguments, the library is missing or credentials are not configured.
    SourceUnavailableError
        The API refused or could not serve (reason redacted of credentials).
    """
    pull = pull or PullOptions()
    digits = customer_id.replace("-", "")
    if not digits.isdigit():
        raise InputError.single(
            f"customer id '{customer_id}' is not a Google Ads id (digits, dashes allowed)",
            column="--customer-id",
        )
    if pull.repull_days < 0:
        raise InputError.single("the re-pull window cannot be negative", column="--repull-days")
    request = FetchRequest(start=start, end=end, account=digits)
    if transport is None:
        transport = TRANSPORT_FACTORIES["google_ads"](Path(pull.config) if pull.config else None)
    source = GoogleAdsSource(
        digits, transport=transport, repull_days=pull.repull_days, retry=pull.retry or Retry()
    )
    return ingest_sources(home, [source], request.start, request.end, account=digits)


def ingest_meta(
    home: str | Path,
    account_id: str,
    start: dt.date,
    end: dt.date,
    *,
    pull: PullOptions | None = None,
    conversion_actions: Sequence[str] | None = None,
    transport: MetaTransport | None = None,
) -> SourceOutcome:
    """Fetch a Meta ad account's daily campaign insights and load them (source ``meta``).

    Parameters
    ----------
    home : path
        The mediamix home holding the warehouse.
    account_id : str
        Ad account id, with or without ``act_``.
    start, end : date
        Inclusive period; ``pull.repull_days`` days before ``start`` are fetched again.
    pull : PullOptions, optional
        ``config``: a JSON file with ``access_token`` (and ``app_id``, ``app_secret``),
        default the ``META_ACCESS_TOKEN`` environment variable; the re-pull window for
        restated attribution (default 3 days) and the backoff policy.
    conversion_actions : sequence of str, optional
        Action types counted as conversions, in priority order (default
        ``omni_purchase, purchase, offsite_conversion.fb_pixel_purchase``).
    transport : MetaTransport, optional
        Default: built by ``TRANSPORT_FACTORIES["meta"]``.

    Raises
    ------
    InputError
        Bad arguments, the SDK is missing or no token is configured.
    SourceUnavailableError
        The API refused or could not serve (reason redacted of credentials).
    """
    pull = pull or PullOptions()
    account = account_id.removeprefix("act_")
    if not account.isdigit():
        raise InputError.single(
            f"account id '{account_id}' is not a Meta ad account id (act_<digits>)",
            column="--account-id",
        )
    if pull.repull_days < 0:
        raise InputError.single("the re-pull window cannot be negative", column="--repull-days")
    actions = tuple(a.strip() for a in (conversion_actions or DEFAULT_CONVERSIONS) if a.strip())
    if not actions:
        raise InputError.single("no conversion action types given", column="--conversion-actions")
    request = FetchRequest(start=start, end=end, account=account)
    if transport is None:
        transport = TRANSPORT_FACTORIES["meta"](Path(pull.config) if pull.config else None)
    source = MetaSource(
        account,
        transport=transport,
        conversion_actions=actions,
        repull_days=pull.repull_days,
        retry=pull.retry or Retry(),
    )
    return ingest_sources(home, [source], request.start, request.end, account=account)
