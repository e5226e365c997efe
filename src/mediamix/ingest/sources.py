"""Local sources: files, cached public datasets, and synthetic data (always available).

- :class:`FileSource`: a CSV or Parquet file, wide (described by a spec) or in the
  unified long layout.
- :class:`CachedDatasetSource`: a Kaggle or Hugging Face dataset read from a local
  cache folder, so it works offline once a copy is there; a ``download`` callable
  (:mod:`mediamix.ingest.datasets_client` wraps the ``kaggle`` and ``datasets``
  clients) fills the cache. The copy is a CSV/Parquet file or a folder written by
  ``datasets.Dataset.save_to_disk``.
- :class:`SyntheticSource`: generated data with known truth, the last fallback.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.data.validation import validate_table
from mediamix.errors import InputError
from mediamix.ingest.base import FetchRequest, SourceBatch, SourceUnavailableError
from mediamix.ingest.datasets_client import is_saved_dataset, read_saved_dataset
from mediamix.ingest.wide import dataset_to_long
from mediamix.io.spec import read_spec
from mediamix.io.table import ReadLimits, read_table

__all__ = ["CachedDatasetSource", "FileSource", "SyntheticSource", "wide_batch"]

log = logging.getLogger(__name__)


def wide_batch(
    frame: pd.DataFrame,
    spec: ModelSpec,
    *,
    source: str,
    platform: str,
    account: str,
    origin: str,
    request: FetchRequest | None = None,
    currency: str = "USD",
) -> SourceBatch:
    """Validate a wide MMM frame (as ``mediamix validate`` does) and split it into long rows.

    With a request, only the periods inside it are kept.

    Raises
    ------
    InputError
        Every problem of the frame, with row and column.
    """
    report = validate_table(frame, spec, source=origin)
    if not report.ok or report.dataset is None:
        raise InputError(report.problems)
    long = dataset_to_long(report.dataset, platform=platform, account=account, currency=currency)
    media, kpi, controls = long.media, long.kpi, long.controls
    start = dt.date.fromisoformat(long.period_start)
    end = dt.date.fromisoformat(long.period_end)
    if request is not None:
        lo, hi = pd.Timestamp(request.start), pd.Timestamp(request.end)
        media = media[media["date_day"].between(lo, hi)]
        kpi = kpi[kpi["date_day"].between(lo, hi)]
        controls = controls[pd.to_datetime(controls["date_day"]).between(lo, hi)]
        if media.empty:
            raise SourceUnavailableError(
                f"{origin} has no periods from {request.start} to {request.end} "
                f"(it covers {start} to {end})"
            )
        # the batch covers what the data and the request have in common
        start, end = max(start, request.start), min(end, request.end)
    return SourceBatch(
        source=source,
        account=account,
        media=media.reset_index(drop=True),
        kpi=kpi.reset_index(drop=True),
        controls=controls.reset_index(drop=True),
        period_start=start,
        period_end=end,
        origin=origin,
    )


@dataclass(frozen=True)
class FileSource:
    """A CSV or Parquet file: wide with a spec, else the unified long layout."""

    path: Path
    spec: Path | None = None
    account: str = "default"
    currency: str = "USD"
    limits: ReadLimits | None = None
    name: str = "file"

    def check(self) -> str | None:
        """Skip when the file is not there."""
        return None if Path(self.path).is_file() else f"no file at {self.path}"

    def fetch(self, request: FetchRequest) -> SourceBatch:
        """Read, validate and keep the request's period."""
        table = read_table(self.path, self.limits)
        if self.spec is not None:
            spec = read_spec(self.spec).with_data(str(Path(self.path).resolve()))
            return wide_batch(
                table.frame,
                spec,
                source=self.name,
                platform="file",
                account=self.account,
                origin=table.source,
                request=request,
                currency=self.currency,
            )
        frame = table.frame
        if "date_day" not in frame.columns:
            kept = frame  # the warehouse names every missing column
        else:
            days = pd.to_datetime(frame["date_day"], errors="coerce", format="ISO8601")
            # unparseable dates stay in, so the warehouse reports them with their row
            inside = days.between(pd.Timestamp(request.start), pd.Timestamp(request.end))
            inside = inside | days.isna()
            if not inside.any():
                raise SourceUnavailableError(
                    f"{table.source} has no rows from {request.start} to {request.end}"
                )
            # error messages count rows of the file only when none are dropped here
            kept = frame if inside.all() else frame[inside.to_numpy()].reset_index(drop=True)
        return SourceBatch(
            source=self.name,
            account=self.account,
            media=kept,
            period_start=request.start,
            period_end=request.end,
            origin=table.source,
        )


@dataclass(frozen=True)
class CachedDatasetSource:
    """A public dataset (Kaggle, Hugging Face) served from a local cache folder.

    The cache holds ``<cache>/<provider>/<dataset>/<file>`` (a wide MMM file, or a
    ``save_to_disk`` folder of one) and its spec. Offline, a present copy serves; an absent one is skipped with the
    reason, unless ``download`` (a callable filling the folder, e.g. wrapping the
    ``kaggle`` or ``datasets`` client) is given and succeeds.
    """

    provider: str
    dataset: str
    file: str
    spec: Path
    cache: Path
    download: Callable[[Path], None] | None = None
    account: str | None = None

    @property
    def name(self) -> str:
        """``kaggle`` or ``huggingface``."""
        return self.provider

    @property
    def folder(self) -> Path:
        """Where the local copy lives."""
        return Path(self.cache) / self.provider / self.dataset.replace("/", "__")

    def check(self) -> str | None:
        """Skip when there is no local copy and nothing to download it with."""
        if (self.folder / self.file).exists() or self.download is not None:
            return None
        return (
            f"no local copy of {self.provider} dataset '{self.dataset}' in {self.folder} "
            "and no downloader configured (offline)"
        )

    def fetch(self, request: FetchRequest) -> SourceBatch:
        """Serve from the cache, downloading first when the copy is missing."""
        path = self.folder / self.file
        if not path.exists():
            assert self.download is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                self.download(self.folder)
            except (OSError, ConnectionError, TimeoutError) as exc:
                raise SourceUnavailableError(
                    f"download of {self.provider} dataset '{self.dataset}' failed: {exc}"
                ) from None
            if not path.exists():
                raise SourceUnavailableError(
                    f"the download of '{self.dataset}' did not produce {self.file}"
                )
        if is_saved_dataset(path):
            frame, origin = read_saved_dataset(path), str(path)
        else:
            table = read_table(path)
            frame, origin = table.frame, table.source
        spec = read_spec(self.spec).with_data(str(path))
        return wide_batch(
            frame,
            spec,
            source=self.provider,
            platform=self.provider,
            account=self.account or self.dataset.replace("/", "__"),
            origin=origin,
            request=request,
        )


@dataclass(frozen=True)
class SyntheticSource:
    """Synthetic weekly data with known truth; always available, offline."""

    seed: int = 0
    channels: int = 4
    geos: int = 1
    account: str | None = None
    name: str = "synthetic"
    max_weeks: int = 2000
    default_start: str = "2021-01-04"
    default_weeks: int = 156

    def check(self) -> str | None:
        """Always available."""
        return None

    def fetch(self, request: FetchRequest) -> SourceBatch:
        """Generate the weeks from the Monday on or before the request's start to its end.

        At least 20 weeks are generated (the generator's minimum) and then cut to
        the request. An open-ended request (more than ``max_weeks``) gets the
        default window: ``default_weeks`` weeks from ``default_start``.
        """
        monday = request.start - dt.timedelta(days=request.start.weekday())
        needed = (request.end - monday).days // 7 + 1
        end = request.end
        if needed > self.max_weeks:
            monday = dt.date.fromisoformat(self.default_start)
            needed = self.default_weeks
            end = monday + dt.timedelta(days=7 * (needed - 1))
        config = SynthConfig(
            seed=self.seed,
            weeks=max(needed, 20),
            channels=self.channels,
            geos=self.geos,
            start=str(monday),
        )
        result = synthesize(config)
        spec = ModelSpec.model_validate(result.spec)
        batch = wide_batch(
            result.frame,
            spec,
            source=self.name,
            platform="synthetic",
            account=self.account or f"seed-{self.seed}",
            origin=f"synthetic seed {self.seed}",
        )
        lo, hi = pd.Timestamp(monday), pd.Timestamp(end)

        def keep(frame: pd.DataFrame | None) -> pd.DataFrame | None:
            if frame is None:
                return None
            days = pd.to_datetime(frame["date_day"])
            return frame[days.between(lo, hi)].reset_index(drop=True)

        media = keep(batch.media)
        assert media is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
        return SourceBatch(
            source=batch.source,
            account=batch.account,
            media=media,
            kpi=keep(batch.kpi),
            controls=keep(batch.controls),
            period_start=monday,
            period_end=end,
            origin=batch.origin,
        )
