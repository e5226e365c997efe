"""Use case: load data into the warehouse (files, synthetic data).

A wide MMM file is validated exactly as ``mediamix validate`` does (same reader,
same validator, same messages), then split into the warehouse's long layouts; a
file in the unified long layout (``date_day, platform, account_id, campaign_id,
channel, geo, currency_code, spend, ...``) is loaded as it is. Either way a bad
file raises :class:`~mediamix.errors.InputError` naming row and column, and the
warehouse is left unchanged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.data.validation import validate_table
from mediamix.errors import InputError, Problem
from mediamix.ingest.base import FetchRequest, MediaDataClient, Source
from mediamix.ingest.sources import CachedDatasetSource, SyntheticSource
from mediamix.ingest.wide import LongBatch, dataset_to_long
from mediamix.io.spec import read_spec
from mediamix.io.table import ReadLimits, read_table
from mediamix.warehouse.store import LoadResult, Warehouse

__all__ = [
    "IngestOutcome",
    "SourceOutcome",
    "ingest_dataset",
    "ingest_file",
    "ingest_sources",
    "ingest_synthetic",
    "load_long_batch",
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
) -> LoadResult:
    """Load a batch in the long layouts under the writer lock."""
    with Warehouse.writer(home) as wh:
        return wh.load_batch(
            source,
            account,
            batch.media,
            batch.period_start,
            batch.period_end,
            kpi=batch.kpi,
            controls=batch.controls,
            origin=origin,
        )


def ingest_file(
    home: str | Path,
    data: str | Path,
    *,
    spec: str | Path | None = None,
    account: str = "default",
    currency: str = "USD",
    period_start: dt.date | str | None = None,
    period_end: dt.date | str | None = None,
    limits: ReadLimits | None = None,
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
    account : str
        Account the load covers (with the source and period, the upsert key).
    currency : str
        ISO 4217 code of a wide file's spend (a long file has its own column).
    period_start, period_end : date or ISO str, optional
        Period the load replaces; default the file's first and last date.
    limits : ReadLimits, optional
        Size limits of the reader.

    Raises
    ------
    InputError
        The file or spec is invalid (every problem, with row and column); nothing
        is written.
    BusyError
        Another process is writing the warehouse.
    """
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
        return IngestOutcome(load=load)
    model_spec = read_spec(spec).with_data(str(Path(data).resolve()))
    report = validate_table(table.frame, model_spec, source=table.source)
    if not report.ok or report.dataset is None:
        raise InputError(report.problems)
    batch = dataset_to_long(report.dataset, platform="file", account=account, currency=currency)
    if period_start is not None or period_end is not None:
        batch = LongBatch(
            media=batch.media,
            kpi=batch.kpi,
            controls=batch.controls,
            period_start=str(period_start or batch.period_start),
            period_end=str(period_end or batch.period_end),
        )
    load = load_long_batch(home, "file", account, batch, origin=table.source)
    return IngestOutcome(load=load, warnings=report.warnings, spec=model_spec)


def ingest_synthetic(
    home: str | Path, config: SynthConfig, *, account: str | None = None
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
    load = load_long_batch(home, "synthetic", account, batch, origin=source)
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
) -> SourceOutcome:
    """Fetch the period from the first source that serves and load it.

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
    return SourceOutcome(served_by=result.served_by, skipped=result.skipped, load=load)


def ingest_dataset(
    home: str | Path,
    provider: str,
    dataset: str,
    *,
    file: str,
    spec: str | Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    fallback_synthetic: bool = False,
) -> SourceOutcome:
    """Load a Kaggle or Hugging Face dataset from its local copy under ``home/datasets``.

    The copy lives in ``home/datasets/<provider>/<owner>__<name>/<file>`` (a wide
    MMM file described by ``spec``). Downloading is not built in (neither the
    ``kaggle`` nor the ``datasets`` client is a dependency): without a local copy
    the source is skipped with the reason, and with ``fallback_synthetic`` synthetic
    data is loaded instead.

    Raises
    ------
    InputError
        The local copy is invalid (row and column named).
    SourceUnavailableError
        No local copy and no fallback.
    """
    if provider not in {"kaggle", "huggingface"}:
        raise InputError.single(
            f"unknown dataset provider '{provider}' (kaggle or huggingface)", column="provider"
        )
    sources: list[Source] = [
        CachedDatasetSource(provider, dataset, file, spec=Path(spec), cache=Path(home) / "datasets")
    ]
    if fallback_synthetic:
        sources.append(SyntheticSource())
    first = start or dt.date(1900, 1, 1)
    last = end or dt.date(2999, 12, 31)
    return ingest_sources(home, sources, first, last)
