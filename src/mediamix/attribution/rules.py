"""Rule-based (heuristic) attribution.

Each rule gives every touch ``i`` of a journey ``j`` a weight ``w_ji >= 0`` with
``sum_i w_ji = 1``; a channel is credited

    conversions_c = sum_j sum_{i: channel(j, i) = c} w_ji * conversions_j
    value_c       = sum_j sum_{i: channel(j, i) = c} w_ji * value_j

so the credited conversions (value) of all channels sum to the total. Rules work on
the path as given (repeated channels are touches too, as in ChannelAttribution's
``heuristic_models``); null journeys carry no credit.

Every function returns a DataFrame with columns ``channel``, ``conversions``,
``conversion_value`` (NaN when the input has no value), one row per channel, sorted
by channel.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from mediamix.attribution.journeys import Journeys

logger = logging.getLogger(__name__)

#: Default half-life of time decay: 7 days for event logs ...
DEFAULT_HALF_LIFE_DAYS = 7.0
#: ... and 1 touch for aggregated paths (the position fallback, see :func:`time_decay`).
DEFAULT_HALF_LIFE_TOUCHES = 1.0


def credit(journeys: Journeys, weights: np.ndarray) -> pd.DataFrame:
    """Credit conversions and value to channels from per-touch weights.

    Parameters
    ----------
    journeys : Journeys
    weights : ndarray, shape (n_touches,)
        Weight of each touch; the weights of a journey sum to 1.

    Returns
    -------
    DataFrame
        ``channel``, ``conversions``, ``conversion_value``.

    Examples
    --------
    >>> j = Journeys.from_paths(["A > B"], conversions=[2], value=[10.0])
    >>> credit(j, np.array([0.25, 0.75]))
      channel  conversions  conversion_value
    0       A          0.5               2.5
    1       B          1.5               7.5
    """
    jid = journeys.journey_of_touch
    conv = np.bincount(
        journeys.codes, weights * journeys.conversions[jid], minlength=journeys.n_channels
    )
    if journeys.value is None:
        value = np.full(journeys.n_channels, np.nan)
    else:
        value = np.bincount(
            journeys.codes, weights * journeys.value[jid], minlength=journeys.n_channels
        )
    return pd.DataFrame(
        {"channel": list(journeys.channels), "conversions": conv, "conversion_value": value}
    )


def _position(journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
    """Position of every touch in its journey (0-based) and its journey's length."""
    lengths = journeys.lengths
    jid = journeys.journey_of_touch
    pos = np.arange(len(journeys.codes)) - journeys.offsets[:-1][jid]
    return pos, lengths[jid]


def first_touch_weights(journeys: Journeys) -> np.ndarray:
    """Weight 1 on each journey's first touch."""
    w = np.zeros(len(journeys.codes))
    w[journeys.offsets[:-1]] = 1.0
    return w


def last_touch_weights(journeys: Journeys) -> np.ndarray:
    """Weight 1 on each journey's last touch."""
    w = np.zeros(len(journeys.codes))
    w[journeys.offsets[1:] - 1] = 1.0
    return w


def linear_weights(journeys: Journeys) -> np.ndarray:
    """Per touch: ``w_i = 1 / n`` for a journey of ``n`` touches (ChannelAttribution)."""
    _, n = _position(journeys)
    return 1.0 / n


def linear_channel_weights(journeys: Journeys) -> np.ndarray:
    """Per distinct channel: each of the journey's ``k`` distinct channels gets ``1 / k``.

    A channel's share is split evenly over its touches in the journey, so a touch
    of channel ``c`` seen ``m_c`` times gets ``1 / (k * m_c)``.
    """
    jid = journeys.journey_of_touch
    key = jid.astype(np.int64) * journeys.n_channels + journeys.codes
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    m = counts[inverse]  # touches of this channel in this journey
    k = np.bincount(jid, 1.0 / m, minlength=journeys.n_journeys)  # distinct channels
    return 1.0 / (k[jid] * m)


def position_based_weights(journeys: Journeys, first: float = 0.4, last: float = 0.4) -> np.ndarray:
    """U-shaped: ``first`` to the first touch, ``last`` to the last, the rest split.

    With the defaults 40/20/40: three or more touches give 0.4 to the first, 0.4
    to the last and 0.2 / (n - 2) to each middle touch; two touches get 0.5 each;
    one touch gets 1.
    """
    pos, n = _position(journeys)
    middle = (1.0 - first - last) / np.maximum(n - 2, 1)
    w = np.where(pos == 0, first, np.where(pos == n - 1, last, middle))
    w = np.where(n == 2, 0.5, w)
    return np.where(n == 1, 1.0, w)


def time_decay_weights(journeys: Journeys, half_life: float | None = None) -> np.ndarray:
    """Time decay: ``w_i = 2^(-dt_i / h) / sum_l 2^(-dt_l / h)`` within a journey.

    ``dt_i`` is the time from touch ``i`` to the conversion: in days when the
    journeys come from an event log (``days_to_conversion``), with ``h`` in days
    (default 7). Aggregated paths carry no timestamps; then the documented fallback
    uses positions: ``dt_i = n - 1 - i``, the number of touches between touch ``i``
    and the conversion, with ``h`` in touches (default 1).
    """
    jid = journeys.journey_of_touch
    if journeys.days_to_conversion is not None:
        h = DEFAULT_HALF_LIFE_DAYS if half_life is None else half_life
        dt = np.nan_to_num(journeys.days_to_conversion, nan=0.0)
        # null journeys have no conversion time: measure from their last touch instead
        # (their weights carry no credit anyway, they only need to be finite).
        dt = np.maximum(dt, 0.0)
    else:
        h = DEFAULT_HALF_LIFE_TOUCHES if half_life is None else half_life
        pos, n = _position(journeys)
        dt = (n - 1 - pos).astype(np.float64)
        logger.info("time decay on aggregated paths: touches stand in for time (h=%g touches)", h)
    if not h > 0:
        raise ValueError("half_life must be positive")
    # Subtract each journey's smallest dt before exponentiating so long journeys do not
    # underflow to 0/0; the normalised weights are unchanged.
    dt_min = np.minimum.reduceat(dt, journeys.offsets[:-1]) if len(dt) else dt
    raw = np.exp2(-(dt - dt_min[jid]) / h)
    total = np.add.reduceat(raw, journeys.offsets[:-1]) if len(raw) else raw
    return raw / total[jid]


def w_shaped_weights(
    journeys: Journeys, first: float = 0.3, milestone: float = 0.3, last: float = 0.3
) -> np.ndarray:
    """W-shaped: 30% first touch, 30% milestone touch, 30% last touch, 10% the rest.

    The milestone touch is the journey's first touch flagged ``milestone = 1``
    (e.g. lead creation). Each touch sums the shares of the roles it holds (a
    milestone on the last touch gets 60%); the remaining share is split evenly over
    the touches holding no role, or, when there are none, the weights are
    renormalised to sum to 1. Journeys without a milestone fall back to
    position-based 40/20/40.
    """
    if journeys.milestone is None:
        raise ValueError(
            "W-shaped attribution needs milestone flags (event log column 'milestone')"
        )
    pos, n = _position(journeys)
    jid = journeys.journey_of_touch
    flagged = journeys.milestone.astype(bool)
    idx = np.arange(len(journeys.codes))
    first_flag = np.full(journeys.n_journeys, np.iinfo(np.int64).max)
    np.minimum.at(first_flag, jid[flagged], idx[flagged])
    has_m = first_flag < np.iinfo(np.int64).max
    is_first, is_last = pos == 0, pos == n - 1
    is_m = idx == first_flag[jid]
    role = first * is_first + last * is_last + milestone * is_m
    free = ~(is_first | is_last | is_m)
    n_free = np.bincount(jid, free.astype(np.float64), minlength=journeys.n_journeys)
    rest = 1.0 - first - milestone - last
    w = role + np.where(free, rest / np.maximum(n_free[jid], 1), 0.0)
    total = np.bincount(jid, w, minlength=journeys.n_journeys)
    w = w / total[jid]
    fallback = position_based_weights(journeys)
    return np.where(has_m[jid], w, fallback)


def first_touch(journeys: Journeys) -> pd.DataFrame:
    """First-touch attribution: the first touch gets the whole conversion.

    Examples
    --------
    >>> j = Journeys.from_paths(["A > B > C", "C"], conversions=[1, 1])
    >>> first_touch(j).conversions.tolist()
    [1.0, 0.0, 1.0]
    """
    return credit(journeys, first_touch_weights(journeys))


def last_touch(journeys: Journeys) -> pd.DataFrame:
    """Last-touch attribution: the last touch gets the whole conversion.

    Examples
    --------
    >>> j = Journeys.from_paths(["A > B > C", "B"], conversions=[1, 1])
    >>> last_touch(j).conversions.tolist()
    [0.0, 1.0, 1.0]
    """
    return credit(journeys, last_touch_weights(journeys))


def linear(journeys: Journeys) -> pd.DataFrame:
    """Linear per touch (ChannelAttribution's ``linear_touch``): ``1 / n`` per touch.

    Examples
    --------
    >>> j = Journeys.from_paths(["A > A > B"], conversions=[3])
    >>> linear(j).conversions.tolist()
    [2.0, 1.0]
    """
    return credit(journeys, linear_weights(journeys))


def linear_channel(journeys: Journeys) -> pd.DataFrame:
    """Linear per distinct channel: ``1 / k`` per distinct channel of the journey.

    Examples
    --------
    >>> j = Journeys.from_paths(["A > A > B"], conversions=[3])
    >>> linear_channel(j).conversions.tolist()
    [1.5, 1.5]
    """
    return credit(journeys, linear_channel_weights(journeys))


def position_based(journeys: Journeys, first: float = 0.4, last: float = 0.4) -> pd.DataFrame:
    """Position-based (U-shaped, 40/20/40; 50/50 for two touches; 100% for one).

    Examples
    --------
    >>> j = Journeys.from_paths(["A > B > C > D", "A > B"], conversions=[1, 1])
    >>> position_based(j).conversions.round(6).tolist()
    [0.9, 0.6, 0.1, 0.4]
    """
    return credit(journeys, position_based_weights(journeys, first, last))


def time_decay(journeys: Journeys, half_life: float | None = None) -> pd.DataFrame:
    """Time-decay attribution, ``w_i ∝ 2^(-dt_i / h)``; see :func:`time_decay_weights`.

    Examples
    --------
    Aggregated paths fall back to positions (``h`` in touches): with ``h = 1`` the
    touches of ``A > B`` weigh 1/2 and 1, normalised to 1/3 and 2/3.

    >>> j = Journeys.from_paths(["A > B"], conversions=[3])
    >>> time_decay(j, half_life=1.0).conversions.round(6).tolist()
    [1.0, 2.0]
    """
    return credit(journeys, time_decay_weights(journeys, half_life))


def w_shaped(journeys: Journeys) -> pd.DataFrame:
    """W-shaped attribution (30/30/30 + 10); see :func:`w_shaped_weights`.

    Examples
    --------
    >>> j = Journeys(("A", "B", "C", "D"), np.array([0, 1, 2, 3], dtype=np.int32),
    ...              np.array([0, 4]), np.array([1.0]), np.array([0.0]),
    ...              milestone=np.array([False, False, True, False]))
    >>> w_shaped(j).conversions.round(6).tolist()
    [0.3, 0.1, 0.3, 0.3]
    """
    return credit(journeys, w_shaped_weights(journeys))
