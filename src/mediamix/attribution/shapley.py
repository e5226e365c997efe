"""Shapley-value attribution over coalitions of channels.

Characteristic function (the issue's "conversion rate of journeys whose channels
all lie in the coalition"): for a set of channels ``S``, let ``J(S)`` be the
journeys whose set of distinct channels is a subset of ``S``. Then

    v(S) = sum_{j in J(S)} conversions_j / sum_{j in J(S)} (conversions_j + nulls_j)

and ``v(S) = 0`` when ``J(S)`` is empty (in particular ``v({}) = 0``). A conversion
*rate* is used, not a count: with counts, ``v`` is additive over journeys and the
Shapley value collapses to linear attribution per distinct channel.

Shapley value of channel ``i`` among ``n`` channels:

    phi_i = sum_{S ⊆ N \\ {i}} |S|! (n - |S| - 1)! / n! * (v(S ∪ {i}) - v(S))

Efficiency gives ``sum_i phi_i = v(N) - v({})``, the overall conversion rate
``CR = total conversions / total journeys``. Scaling: credited conversions are
``phi_i * W`` with ``W = sum_j (conversions_j + nulls_j)`` the number of journeys,
i.e. ``phi_i / CR * total conversions``, so they sum to the total conversions.
Shapley values of a rate can be negative (a channel whose journeys convert less
than the others lowers the rate). Value is attributed the same way with
``v^value(S) = value of J(S) / journeys in J(S)``, scaled by ``W`` to sum to the
total value. Without null journeys every non-empty ``v(S)`` is 1 and the method
says little: give ``total_null``.

Computation: exact for up to :data:`EXACT_MAX_CHANNELS` channels by enumerating
all ``2^n`` coalitions with bitmasks (a subset-sum transform gives every
``J(S)`` total in ``O(n 2^n)``); beyond, Monte Carlo over random permutations,
reporting the standard error ``sd / sqrt(n_permutations)`` of each channel's
estimate (scaled like the estimate).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from math import factorial

import numpy as np
import pandas as pd

from mediamix.attribution.journeys import Journeys

logger = logging.getLogger(__name__)

EXACT_MAX_CHANNELS = 15


@dataclass(frozen=True, eq=False)
class ShapleyResult:
    """Shapley attribution.

    Attributes
    ----------
    channels : tuple of str
    phi : ndarray
        Shapley values of the conversion rate (sum to the overall rate).
    conversions, conversion_value : ndarray
        Scaled credit (sum to total conversions / total value; value NaN if absent).
    standard_error, value_standard_error : ndarray
        Monte Carlo standard errors of ``conversions`` / ``conversion_value``
        (zeros when exact).
    exact : bool
    n_permutations : int
        Permutations sampled (0 when exact).
    """

    channels: tuple[str, ...]
    phi: np.ndarray
    conversions: np.ndarray
    conversion_value: np.ndarray
    standard_error: np.ndarray
    value_standard_error: np.ndarray
    exact: bool
    n_permutations: int

    def table(self) -> pd.DataFrame:
        """``channel``, ``conversions``, ``conversion_value``, ``standard_error``."""
        return pd.DataFrame(
            {
                "channel": list(self.channels),
                "conversions": self.conversions,
                "conversion_value": self.conversion_value,
                "standard_error": self.standard_error,
            }
        )


def _rate(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


def _subset_sums(x: np.ndarray, n: int) -> np.ndarray:
    """``out[S] = sum_{T ⊆ S} x[T]`` (zeta transform over ``n`` bits)."""
    out = x.astype(np.float64).copy()
    for i in range(n):
        view = out.reshape(-1, 2, 1 << i)
        view[:, 1, :] += view[:, 0, :]
    return out


def _popcount(n: int) -> np.ndarray:
    pc = np.zeros(1 << n, dtype=np.int64)
    for i in range(n):
        pc.reshape(-1, 2, 1 << i)[:, 1, :] += 1
    return pc


def shapley_exact_values(v: np.ndarray, n: int) -> np.ndarray:
    """Shapley values from a characteristic function given on all ``2^n`` bitmasks.

    Bit ``i`` of the mask means channel ``i`` is in the coalition.

    Examples
    --------
    A glove game: ``v = 1`` only for the grand coalition of two players.

    >>> shapley_exact_values(np.array([0.0, 0.0, 0.0, 1.0]), 2).tolist()
    [0.5, 0.5]
    """
    pc = _popcount(n)
    w = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    phi = np.zeros(n)
    for i in range(n):
        vv = v.reshape(-1, 2, 1 << i)
        pcv = pc.reshape(-1, 2, 1 << i)[:, 0, :]
        phi[i] = float(np.sum(w[pcv] * (vv[:, 1, :] - vv[:, 0, :])))
    return phi


def _unique_sets(journeys: Journeys) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct channel sets: (set_codes CSR, set_offsets, (conv, weight, value) sums)."""
    weight = journeys.conversions + journeys.nulls
    value = journeys.value if journeys.value is not None else np.zeros(journeys.n_journeys)
    masks = journeys.channel_sets()
    uniq, inv = np.unique(masks, return_inverse=True)
    inv = inv.ravel()
    sums = np.vstack(
        [np.bincount(inv, w, minlength=len(uniq)) for w in (journeys.conversions, weight, value)]
    )
    bits = (uniq[:, None] >> np.arange(journeys.n_channels)[None, :]) & 1
    cols = np.nonzero(bits)[1]
    offsets = np.zeros(len(uniq) + 1, dtype=np.int64)
    np.cumsum(bits.sum(axis=1), out=offsets[1:])
    return cols.astype(np.int64), offsets, uniq, sums


def shapley(
    journeys: Journeys,
    *,
    exact_max_channels: int = EXACT_MAX_CHANNELS,
    n_permutations: int = 2000,
    seed: int = 0,
) -> ShapleyResult:
    """Shapley attribution with the conversion-rate characteristic function.

    Parameters
    ----------
    journeys : Journeys
        Paths with conversions and nulls (null journeys are needed: see module).
    exact_max_channels : int
        Enumerate all coalitions up to this many channels (default 15), else sample.
    n_permutations : int
        Permutations for the Monte Carlo estimate.
    seed : int
        Seed of the permutation sampler.

    Examples
    --------
    ``A`` alone converts 1 of 2 journeys, ``B`` alone 0 of 2, ``A > B`` 2 of 2:
    ``v({A}) = 1/2``, ``v({B}) = 0``, ``v({A, B}) = 3/6``, so
    ``phi_A = (1/2 + (1/2 - 0)) / 2 = 1/2`` and ``phi_B = (0 + 0) / 2 = 0``.
    Scaled by the 6 journeys: ``A`` gets 3 conversions, ``B`` none.

    >>> j = Journeys.from_paths(["A", "B", "A > B"], conversions=[1, 0, 2], nulls=[1, 2, 0])
    >>> shapley(j).conversions.tolist()
    [3.0, 0.0]
    """
    n = journeys.n_channels
    weight_total = float((journeys.conversions + journeys.nulls).sum())
    has_value = journeys.value is not None
    if n <= min(exact_max_channels, 25):
        masks = journeys.channel_sets()
        size = 1 << n
        weight = journeys.conversions + journeys.nulls
        conv_s = _subset_sums(np.bincount(masks, journeys.conversions, minlength=size), n)
        n_s = _subset_sums(np.bincount(masks, weight, minlength=size), n)
        phi = shapley_exact_values(_rate(conv_s, n_s), n)
        if has_value:
            assert journeys.value is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
            val_s = _subset_sums(np.bincount(masks, journeys.value, minlength=size), n)
            phi_v = shapley_exact_values(_rate(val_s, n_s), n)
        zeros = np.zeros(n)
        return ShapleyResult(
            journeys.channels,
            phi,
            phi * weight_total,
            phi_v * weight_total if has_value else np.full(n, np.nan),
            zeros,
            zeros if has_value else np.full(n, np.nan),
            True,
            0,
        )
    return _shapley_monte_carlo(journeys, n_permutations, seed, weight_total)


def _shapley_monte_carlo(
    journeys: Journeys, n_permutations: int, seed: int, weight_total: float
) -> ShapleyResult:
    n = journeys.n_channels
    if n_permutations < 2:
        raise ValueError("n_permutations must be at least 2")
    set_codes, set_offsets, _, sums = _unique_sets(journeys)
    conv, weight, value = sums
    rng = np.random.default_rng(seed)
    total = np.zeros((2, n))
    total_sq = np.zeros((2, n))
    batch = int(max(1, min(256, 4_000_000 // max(len(set_codes), 1))))
    done = 0
    while done < n_permutations:
        b = min(batch, n_permutations - done)
        perm = np.argsort(rng.random((b, n)), axis=1)  # perm[b, p] = channel at position p
        rank = np.argsort(perm, axis=1)  # rank[b, c] = position of channel c
        # a set is covered once its last channel has joined: step = max rank of members
        step = np.maximum.reduceat(rank[:, set_codes], set_offsets[:-1], axis=1)
        idx = (np.arange(b)[:, None] * n + step).ravel()
        for k, num in enumerate((conv, value)):
            num_c = np.bincount(idx, np.tile(num, b), minlength=b * n).reshape(b, n).cumsum(1)
            den_c = np.bincount(idx, np.tile(weight, b), minlength=b * n).reshape(b, n).cumsum(1)
            v = _rate(num_c, den_c)  # v of the first p+1 channels of each permutation
            marg = np.diff(v, axis=1, prepend=0.0)
            by_channel = np.take_along_axis(marg, rank, axis=1)
            total[k] += by_channel.sum(axis=0)
            total_sq[k] += (by_channel**2).sum(axis=0)
        done += b
    mean = total / n_permutations
    var = (
        np.maximum(total_sq / n_permutations - mean**2, 0.0) * n_permutations / (n_permutations - 1)
    )
    se = np.sqrt(var / n_permutations) * weight_total
    has_value = journeys.value is not None
    logger.info("shapley: Monte Carlo over %d permutations of %d channels", n_permutations, n)
    return ShapleyResult(
        journeys.channels,
        mean[0],
        mean[0] * weight_total,
        mean[1] * weight_total if has_value else np.full(n, np.nan),
        se[0],
        se[1] if has_value else np.full(n, np.nan),
        False,
        n_permutations,
    )


def shapley_attribution(journeys: Journeys, **kwargs: int) -> pd.DataFrame:
    """Table of :func:`shapley` (``channel``, ``conversions``, ``conversion_value``,
    ``standard_error``).

    Examples
    --------
    ``v({A}) = 1/2``, ``v({B}) = 0``, ``v({A, B}) = 2/3``: ``phi_A = (1/2 + 2/3) / 2
    = 7/12``, ``phi_B = (0 + 1/6) / 2 = 1/12``; times 3 journeys: 1.75 and 0.25.

    >>> j = Journeys.from_paths(["A", "A > B"], conversions=[1, 1], nulls=[1, 0])
    >>> shapley_attribution(j)[["channel", "conversions"]]
      channel  conversions
    0       A         1.75
    1       B         0.25
    """
    return shapley(journeys, **kwargs).table()
