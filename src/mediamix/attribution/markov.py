"""Markov-chain attribution of order k, solved exactly (no simulation).

Model (ChannelAttribution's conventions, Anderl et al. 2014):

* States: ``(start)``, the transient states, ``(conversion)`` and ``(null)``
  (absorbing). With order ``k`` a transient state is the tuple of the last ``k``
  channels: a path ``c_0 > ... > c_{n-1}`` visits the windows
  ``(c_{i-k+1}, ..., c_i)`` for ``i = k-1 .. n-1``, or the single state
  ``(c_0, ..., c_{n-1})`` when ``n < k``.
* Consecutive repeated channels are merged first (``A > A > B`` is ``A > B``),
  as ChannelAttribution does; ``collapse_repeats=False`` keeps them (self-loops).
  ChannelAttribution merges repeated *windows* of the raw path instead; for
  order 1 the two are the same.
* Transition counts: every transition of a path counts ``conversions + nulls`` of
  that path; its last state goes to ``(conversion)`` with weight ``conversions``
  and to ``(null)`` with weight ``nulls``. Rows are normalised into probabilities.
* ``P(conversion)``: the absorption probability from ``(start)``, from the
  linear system ``(I - Q) x = r`` where ``Q`` holds the transient-to-transient
  probabilities and ``r_s = P(s -> conversion)``; ``P(conversion) = x_start``.
* Removal effect of channel ``c``: ``RE_c = 1 - P_{-c}(conversion) / P(conversion)``
  where removing ``c`` sends every transition into a state containing ``c`` to
  ``(null)`` (solve the same system without those states). ``RE_c`` equals the
  share of converting journeys of the chain that visit ``c``, which is what
  ChannelAttribution 2.x estimates by simulation.
* Credited conversions: ``total_conversions * RE_c / sum_d RE_d``.
* Value: each conversion carries the mean value per conversion of paths ending in
  the same state (ChannelAttribution draws it from the last state). The expected
  value ``V = y_start`` solves ``(I - Q) y = r^v`` with
  ``r^v_s = value ending in s / transitions out of s``; the value removal effect is
  ``RE^v_c = 1 - V_{-c} / V`` and credited value ``total_value * RE^v_c / sum RE^v``.

Each removal is one sparse LU solve (``scipy.sparse.linalg.splu``) on at most the
number of states, so order 3 with thousands of states takes well under a second.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.linalg import splu

from mediamix.attribution.journeys import Journeys

logger = logging.getLogger(__name__)

START = "(start)"


@dataclass(frozen=True, eq=False)
class MarkovResult:
    """The fitted chain and its attribution.

    Attributes
    ----------
    channels : tuple of str
    order : int
    p_conversion : float
        Probability of reaching ``(conversion)`` from ``(start)``.
    removal_effects : ndarray, shape (n_channels,)
    value_removal_effects : ndarray or None
    conversions : ndarray
        Credited conversions per channel.
    conversion_value : ndarray
        Credited value per channel (NaN without a value column).
    states : tuple of tuple of str
        Transient states (channel tuples), in matrix order after ``(start)``.
    transitions : scipy.sparse.csr_matrix
        Transition probabilities among ``(start)`` + states (absorbing columns left out).
    to_conversion, to_null : ndarray
        Probability of moving from each of ``(start)`` + states to the absorbing states.
    """

    channels: tuple[str, ...]
    order: int
    p_conversion: float
    removal_effects: np.ndarray
    value_removal_effects: np.ndarray | None
    conversions: np.ndarray
    conversion_value: np.ndarray
    states: tuple[tuple[str, ...], ...]
    transitions: sparse.csr_matrix
    to_conversion: np.ndarray
    to_null: np.ndarray

    def table(self) -> pd.DataFrame:
        """``channel``, ``conversions``, ``conversion_value``, ``removal_effect``."""
        return pd.DataFrame(
            {
                "channel": list(self.channels),
                "conversions": self.conversions,
                "conversion_value": self.conversion_value,
                "removal_effect": self.removal_effects,
            }
        )

    def transition_table(self) -> pd.DataFrame:
        """Long table ``channel_from``, ``channel_to``, ``transition_probability``."""
        names = [START] + [" > ".join(s) for s in self.states]
        coo = self.transitions.tocoo()
        rows = [(names[i], names[j], p) for i, j, p in zip(coo.row, coo.col, coo.data, strict=True)]
        rows += [(names[i], "(conversion)", p) for i, p in enumerate(self.to_conversion) if p > 0]
        rows += [(names[i], "(null)", p) for i, p in enumerate(self.to_null) if p > 0]
        df = pd.DataFrame(rows, columns=["channel_from", "channel_to", "transition_probability"])
        return df.sort_values(["channel_from", "channel_to"], ignore_index=True)


def _state_keys(journeys: Journeys, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """State of every visited position: returns (keys as 2-D windows, journey ids, valid mask).

    ``windows[t, l]`` is ``code + 1`` of the channel ``order - 1 - l`` touches before
    touch ``t`` (0 when the window reaches past the journey start).
    """
    offsets = journeys.offsets
    jid = journeys.journey_of_touch
    t = np.arange(len(journeys.codes))
    start = offsets[:-1][jid]
    n = journeys.lengths[jid]
    pos = t - start
    valid = (pos >= order - 1) | ((n < order) & (pos == n - 1))
    windows = np.zeros((int(valid.sum()), order), dtype=np.int64)
    tv = t[valid]
    sv = start[valid]
    for lag in range(order):
        src = tv - lag
        ok = src >= sv
        windows[ok, order - 1 - lag] = journeys.codes[src[ok]].astype(np.int64) + 1
    return windows, jid[valid], valid


def _encode_states(windows: np.ndarray, n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique windows (rows) and the index of each window among them."""
    base = n_channels + 1
    order = windows.shape[1]
    if order * np.log2(base) < 62:
        key = np.zeros(len(windows), dtype=np.int64)
        for col in range(order):
            key = key * base + windows[:, col]
        uniq_key, inverse = np.unique(key, return_inverse=True)
        uniq = np.zeros((len(uniq_key), order), dtype=np.int64)
        rest = uniq_key.copy()
        for col in range(order - 1, -1, -1):
            uniq[:, col] = rest % base
            rest //= base
        return uniq, inverse.ravel()
    found = np.unique(windows, axis=0, return_inverse=True)
    return np.asarray(found[0]), np.asarray(found[1]).ravel()


def _absorption(
    A: sparse.csc_matrix, rhs: np.ndarray, keep: np.ndarray | None = None
) -> np.ndarray:
    """Solve ``A x = rhs`` restricted to ``keep`` (other states absorb nothing): x at start."""
    if keep is not None:
        idx = np.flatnonzero(keep)
        A = A[idx][:, idx]
        rhs = rhs[idx]
    x = splu(A.tocsc()).solve(np.ascontiguousarray(rhs))
    return np.asarray(x)[0]


def _channels_in_states(uniq: np.ndarray, n_states: int, n_channels: int) -> np.ndarray:
    """``contains[s, c]``: whether state ``s`` (0 is the start) holds channel ``c``."""
    contains = np.zeros((n_states, n_channels), dtype=bool)
    for col in range(uniq.shape[1]):
        d = uniq[:, col]
        ok = d > 0
        contains[np.flatnonzero(ok) + 1, d[ok] - 1] = True
    return contains


def _removal_effects(
    A: sparse.csc_matrix, rhs: np.ndarray, base: np.ndarray, contains: np.ndarray
) -> np.ndarray:
    """``1 - x_{-c} / x`` per channel (rows) and right-hand side (columns), in [0, 1]."""
    removal = np.zeros((contains.shape[1], rhs.shape[1]))
    for c in range(contains.shape[1]):
        removed = _absorption(A, rhs, ~contains[:, c])
        removal[c] = np.divide(base - removed, base, out=np.zeros_like(base), where=base > 0)
    return np.clip(removal, 0.0, 1.0)  # round-off only: RE is in [0, 1]


def _chain(
    journeys: Journeys, order: int, weight: np.ndarray
) -> tuple[np.ndarray, sparse.csr_matrix, np.ndarray, np.ndarray, np.ndarray | None]:
    """The chain's states and weighted transition counts.

    Returns the state windows (``uniq``, channel codes + 1, 0 padded), the counts
    between states (state 0 is the start), and per state the weight ending in
    conversion, in null and (with values) the conversion value ending there.
    """
    windows, sjid, _ = _state_keys(journeys, order)
    uniq, inverse = _encode_states(windows, journeys.n_channels)
    n_states = len(uniq) + 1  # + start
    state = inverse.astype(np.int64) + 1  # state index of each visited window
    # transitions: start -> first state, state -> next state (same journey)
    first = np.ones(len(state), dtype=bool)
    first[1:] = sjid[1:] != sjid[:-1]
    src = np.where(first, 0, np.concatenate(([0], state[:-1])))
    counts = sparse.coo_matrix((weight[sjid], (src, state)), shape=(n_states, n_states)).tocsr()
    last = np.ones(len(state), dtype=bool)
    last[:-1] = sjid[1:] != sjid[:-1]
    end_state = state[last]
    end_jid = sjid[last]
    to_conv = np.bincount(end_state, journeys.conversions[end_jid], minlength=n_states)
    to_null = np.bincount(end_state, journeys.nulls[end_jid], minlength=n_states)
    value_end = None
    if journeys.value is not None:
        value_end = np.bincount(end_state, journeys.value[end_jid], minlength=n_states)
    return uniq, counts, to_conv, to_null, value_end


def markov(journeys: Journeys, order: int = 1, *, collapse_repeats: bool = True) -> MarkovResult:
    """Markov-chain attribution of order ``order`` with exact removal effects.

    Parameters
    ----------
    journeys : Journeys
        Paths with conversions and (ideally) nulls; without null journeys every
        path converts and removal effects only reflect path structure.
    order : int
        Markov order ``k >= 1``: states are the last ``k`` channels.
    collapse_repeats : bool
        Merge consecutive repeated channels first (default, as ChannelAttribution).

    Returns
    -------
    MarkovResult

    Notes
    -----
    See the module docstring for the formulas. Journeys standing for zero
    conversions and zero nulls are ignored.

    Examples
    --------
    A worked example (the arithmetic, by hand, is in
    ``tests/attribution/test_attribution_worked_example.py``):

    >>> j = Journeys.from_paths(["A > B > C", "A > C", "B", "A > A > B", "C"],
    ...                         conversions=[1, 1, 0, 0, 1], nulls=[1, 0, 1, 1, 0])
    >>> res = markov(j)
    >>> round(res.p_conversion, 12), res.removal_effects.round(12).tolist()
    (0.5, [0.625, 0.5, 1.0])
    >>> (res.conversions * 17).round(9).tolist()
    [15.0, 12.0, 24.0]
    """
    if order < 1:
        raise ValueError("order must be >= 1")
    weight = journeys.conversions + journeys.nulls
    if np.any(weight <= 0):
        keep_rows = np.flatnonzero(weight > 0)
        journeys = _select(journeys, keep_rows)
        weight = weight[keep_rows]
    if collapse_repeats:
        journeys = journeys.collapse_repeats()
    C = journeys.n_channels
    uniq, P, to_conv, to_null, value_end = _chain(journeys, order, weight)
    n_states = P.shape[0]
    out = np.asarray(P.sum(axis=1)).ravel() + to_conv + to_null
    inv_out = np.divide(1.0, out, out=np.zeros_like(out), where=out > 0)
    P = sparse.diags(inv_out) @ P
    r = to_conv * inv_out
    has_value = value_end is not None
    rhs = np.column_stack([r, value_end * inv_out]) if value_end is not None else r[:, None]
    A = (sparse.identity(n_states, format="csc") - P).tocsc()
    base = _absorption(A, rhs)
    p_conv = float(base[0])
    removal = _removal_effects(A, rhs, base, _channels_in_states(uniq, n_states, C))
    re = removal[:, 0]
    total = journeys.total_conversions
    conversions = total * re / re.sum() if re.sum() > 0 else np.zeros(C)
    if has_value:
        rev = removal[:, 1]
        total_value = journeys.total_value or 0.0
        value = total_value * rev / rev.sum() if rev.sum() > 0 else np.zeros(C)
    else:
        rev = None
        value = np.full(C, np.nan)
    if p_conv == 0:
        logger.warning("no conversions reachable: every removal effect is 0")
    names = journeys.channels
    states = tuple(tuple(names[d - 1] for d in row if d > 0) for row in uniq)
    logger.info("markov order %d: %d states, P(conversion)=%.6f", order, n_states - 1, p_conv)
    return MarkovResult(
        channels=names,
        order=order,
        p_conversion=p_conv,
        removal_effects=re,
        value_removal_effects=rev,
        conversions=conversions,
        conversion_value=value,
        states=states,
        transitions=P.tocsr(),
        to_conversion=r,
        to_null=to_null * inv_out,
    )


def markov_attribution(
    journeys: Journeys, order: int = 1, *, collapse_repeats: bool = True
) -> pd.DataFrame:
    """Credited conversions and value per channel; see :func:`markov`.

    Examples
    --------
    >>> j = Journeys.from_paths(["A > B", "B"], conversions=[1, 0], nulls=[0, 1])
    >>> markov_attribution(j)[["channel", "removal_effect", "conversions"]].round(4)
      channel  removal_effect  conversions
    0       A             0.5       0.3333
    1       B             1.0       0.6667
    """
    return markov(journeys, order, collapse_repeats=collapse_repeats).table()


def _select(journeys: Journeys, rows: np.ndarray) -> Journeys:
    """The journeys at ``rows`` (in order)."""
    lengths = journeys.lengths[rows]
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    starts = journeys.offsets[:-1][rows]
    touch = np.repeat(starts - offsets[:-1], lengths) + np.arange(int(offsets[-1]))
    return Journeys(
        journeys.channels,
        journeys.codes[touch],
        offsets,
        journeys.conversions[rows],
        journeys.nulls[rows],
        None if journeys.value is None else journeys.value[rows],
        None if journeys.days_to_conversion is None else journeys.days_to_conversion[touch],
        None if journeys.milestone is None else journeys.milestone[touch],
    )
