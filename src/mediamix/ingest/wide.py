"""Split a validated wide MMM dataset into the warehouse's long layouts.

A wide file (one row per period and geo, one spend column per channel, the KPI
and the controls beside) is validated by :func:`mediamix.data.validation.validate_table`
first, so its errors are exactly those of ``mediamix validate``. The validated
:class:`~mediamix.data.dataset.Dataset` is then split into

- media rows: one per (period, geo, channel), ``campaign_id`` = channel, spend and
  exposure (as ``impressions``); clicks and conversions unknown;
- KPI rows: one per (period, geo);
- driver rows: one per (period, geo, control/organic/event column).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mediamix.data.dataset import Dataset

__all__ = ["LongBatch", "dataset_to_long"]


@dataclass(frozen=True)
class LongBatch:
    """A dataset in the three long layouts, ready for ``Warehouse.load_batch``."""

    media: pd.DataFrame
    kpi: pd.DataFrame
    controls: pd.DataFrame
    period_start: str
    period_end: str


def dataset_to_long(
    dataset: Dataset, *, platform: str = "file", account: str = "default", currency: str = "USD"
) -> LongBatch:
    """The long layouts of a validated dataset.

    Parameters
    ----------
    dataset : Dataset
        Validated wide data (``G`` geos, ``T`` periods, ``C`` channels).
    platform, account, currency : str
        Values of ``platform``, ``account_id`` and ``currency_code`` in every media row.

    Returns
    -------
    LongBatch
        ``G*T*C`` media rows, ``G*T`` KPI rows, ``G*T*K`` driver rows; the period
        runs from the first period's date to the last one's.

    Examples
    --------
    >>> import numpy as np
    >>> from mediamix.data.dataset import Dataset
    >>> ds = Dataset(dates=np.array(["2024-01-01", "2024-01-08"], dtype="datetime64[D]"),
    ...              geos=("national",), channels=("tv",), kpi=np.array([[5.0, 6.0]]),
    ...              spend=np.array([[[1.0], [2.0]]]), kpi_name="revenue")
    >>> batch = dataset_to_long(ds)
    >>> batch.media[["date_day", "channel", "spend"]].to_dict("records")[1]["spend"]
    2.0
    """
    G, T, _C = dataset.spend.shape
    dates = pd.to_datetime(dataset.dates.astype("datetime64[ns]"))
    date_gt = np.tile(dates.to_numpy(), G)
    geo_gt = np.repeat(np.array(dataset.geos, dtype=object), T)

    media_parts = []
    for c, channel in enumerate(dataset.channels):
        exposure = dataset.exposure.get(channel)
        media_parts.append(
            pd.DataFrame(
                {
                    "date_day": date_gt,
                    "platform": platform,
                    "account_id": account,
                    "campaign_id": channel,
                    "channel": channel,
                    "geo": geo_gt,
                    "currency_code": currency,
                    "spend": dataset.spend[:, :, c].reshape(-1),
                    "impressions": exposure.reshape(-1) if exposure is not None else np.nan,
                    "clicks": np.nan,
                    "conversions": np.nan,
                    "conversions_value": np.nan,
                }
            )
        )
    media = pd.concat(media_parts, ignore_index=True)
    kpi = pd.DataFrame(
        {
            "date_day": date_gt,
            "geo": geo_gt,
            "name": dataset.kpi_name,
            "value": dataset.kpi.reshape(-1),
        }
    )
    driver_parts = []
    for kind, names, cube in (
        ("control", dataset.control_names, dataset.controls),
        ("organic", dataset.organic_names, dataset.organic),
        ("event", dataset.event_names, dataset.events),
    ):
        for k, name in enumerate(names):
            driver_parts.append(
                pd.DataFrame(
                    {
                        "date_day": date_gt,
                        "geo": geo_gt,
                        "name": name,
                        "kind": kind,
                        "value": cube[:, :, k].reshape(-1),
                    }
                )
            )
    controls = (
        pd.concat(driver_parts, ignore_index=True)
        if driver_parts
        else pd.DataFrame({c: [] for c in ("date_day", "geo", "name", "kind", "value")})
    )
    return LongBatch(
        media=media,
        kpi=kpi,
        controls=controls,
        period_start=str(dataset.dates[0]),
        period_end=str(dataset.dates[-1]),
    )
