"""MMM-based (data-driven) attribution: channel shares of a fitted model's decomposition.

A fitted MMM splits the KPI of every period into a baseline and one contribution
per channel (docs/formats.md ``decomposition.csv``: ``date``, ``actual``, ``fitted``,
baseline components, one column per channel). Over a window ``[start, end]`` the
share of channel ``c`` is

    share_c = sum_{t in window} contribution_{c,t} / sum_d sum_{t in window} contribution_{d,t}

(the sum runs over the channels only, so the baseline takes no credit). To set the
MMM beside path-based methods, the shares are applied to the journeys' totals:
``conversions_c = share_c * total_conversions`` and
``conversion_value_c = share_c * total_value``. The MMM measures incremental KPI
across all customers while paths see tracked journeys only: the comparison is of
shares, not of levels.

Negative summed contributions (a channel the model found harmful) are kept, and
logged, so the shares still sum to 1.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: Columns of decomposition.csv that are never channels.
NON_CHANNEL_COLUMNS = ("date", "actual", "fitted")


def mmm_shares(
    decomposition: pd.DataFrame,
    channels: Sequence[str],
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.Series:
    """Channel shares of the summed contributions over ``[start, end]`` (inclusive).

    Parameters
    ----------
    decomposition : DataFrame
        ``date`` plus one column per channel (other columns are ignored).
    channels : sequence of str
        Channel columns to use.
    start, end : date-like, optional
        Window bounds (inclusive); the whole table by default.

    Returns
    -------
    Series
        Share per channel (index: channel), summing to 1.

    Raises
    ------
    ValueError
        Missing ``date`` or channel columns, an empty window, or zero total.

    Examples
    --------
    >>> dec = pd.DataFrame({"date": ["2024-01-01", "2024-01-08", "2024-01-15"],
    ...                     "tv": [30.0, 10.0, 0.0], "search": [10.0, 10.0, 40.0]})
    >>> mmm_shares(dec, ["tv", "search"], end="2024-01-08").tolist()
    [0.6666666666666666, 0.3333333333333333]
    """
    missing = [c for c in ("date", *channels) if c not in decomposition.columns]
    if missing:
        raise ValueError(f"decomposition lacks column(s) {missing}")
    dates = pd.to_datetime(decomposition["date"])
    mask = np.ones(len(decomposition), dtype=bool)
    if start is not None:
        mask &= (dates >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        mask &= (dates <= pd.Timestamp(end)).to_numpy()
    if not mask.any():
        raise ValueError(f"no decomposition rows between {start} and {end}")
    sums = decomposition.loc[mask, list(channels)].astype(float).sum(axis=0)
    total = float(sums.sum())
    if total == 0:
        raise ValueError("the channels' contributions sum to zero over the window")
    negative = sums[sums < 0]
    if len(negative):
        logger.warning("negative total contribution for %s", list(negative.index))
    return sums / total


def mmm_attribution(
    decomposition: pd.DataFrame,
    channels: Sequence[str],
    *,
    total_conversions: float,
    total_value: float | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """MMM shares applied to the journeys' totals, one row per channel in ``channels``.

    Channels absent from the decomposition get NaN (and a warning), so they are
    visible in a side-by-side table rather than silently zero. Shares are taken
    over the channels the decomposition has.

    Examples
    --------
    >>> dec = pd.DataFrame({"date": ["2024-01-01"], "tv": [3.0], "search": [1.0]})
    >>> mmm_attribution(dec, ["search", "tv"], total_conversions=100.0)
      channel  conversions  conversion_value
    0  search         25.0               NaN
    1      tv         75.0               NaN
    """
    present = [c for c in channels if c in decomposition.columns]
    absent = [c for c in channels if c not in decomposition.columns]
    if absent:
        logger.warning("channels not in the decomposition: %s", absent)
    if not present:
        raise ValueError(f"none of the channels {list(channels)} is in the decomposition")
    shares = mmm_shares(decomposition, present, start=start, end=end).reindex(list(channels))
    value = np.nan if total_value is None else total_value
    return pd.DataFrame(
        {
            "channel": list(channels),
            "conversions": shares.to_numpy() * total_conversions,
            "conversion_value": shares.to_numpy() * value,
        }
    )
