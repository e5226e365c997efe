"""Run attribution methods by name and set them side by side.

Method names (docs/cli.md, ``mediamix attribute``): ``first_touch``, ``last_touch``, ``linear``
(per touch), ``linear_channel`` (per distinct channel), ``time_decay``,
``position_based``, ``w_shaped`` (needs milestone flags), ``markov``, ``shapley``,
``mmm`` (needs a decomposition), and ``all``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from mediamix.attribution import rules
from mediamix.attribution.journeys import Journeys
from mediamix.attribution.markov import markov
from mediamix.attribution.mmm import mmm_attribution
from mediamix.attribution.shapley import shapley

logger = logging.getLogger(__name__)


class Method(StrEnum):
    """Attribution methods by their CLI / output names."""

    FIRST_TOUCH = "first_touch"
    LAST_TOUCH = "last_touch"
    LINEAR = "linear"
    LINEAR_CHANNEL = "linear_channel"
    TIME_DECAY = "time_decay"
    POSITION_BASED = "position_based"
    W_SHAPED = "w_shaped"
    MARKOV = "markov"
    SHAPLEY = "shapley"
    MMM = "mmm"
    ALL = "all"


@dataclass(frozen=True)
class AttributionOptions:
    """Options of the methods, in one request object.

    Attributes
    ----------
    order : int
        Markov order.
    collapse_repeats : bool
        Markov: merge consecutive repeated channels (default True).
    half_life : float, optional
        Time decay half-life (days for event logs, touches for aggregated paths).
    shapley_permutations : int
        Monte Carlo permutations when there are more than 15 channels.
    seed : int
        Seed of the Shapley sampler.
    decomposition : DataFrame, optional
        MMM decomposition (``date`` + channel columns) for ``mmm``.
    window_start, window_end : str, optional
        MMM window (inclusive dates).
    """

    order: int = 1
    collapse_repeats: bool = True
    half_life: float | None = None
    shapley_permutations: int = 2000
    seed: int = 0
    decomposition: pd.DataFrame | None = None
    window_start: str | None = None
    window_end: str | None = None


def available_methods(journeys: Journeys, options: AttributionOptions) -> list[Method]:
    """The methods ``all`` runs for these inputs (W-shaped needs milestones, MMM a
    decomposition)."""
    methods = [m for m in Method if m not in (Method.ALL, Method.W_SHAPED, Method.MMM)]
    if journeys.milestone is not None:
        methods.insert(methods.index(Method.MARKOV), Method.W_SHAPED)
    if options.decomposition is not None:
        methods.append(Method.MMM)
    return methods


def run_method(
    journeys: Journeys, method: Method | str, options: AttributionOptions | None = None
) -> pd.DataFrame:
    """One method's table: ``channel``, ``conversions``, ``conversion_value`` (+ extras).

    Markov adds ``removal_effect``; Shapley adds ``standard_error``.

    Examples
    --------
    >>> j = Journeys.from_paths(["A > B", "B"], conversions=[1, 1], nulls=[0, 1])
    >>> run_method(j, "last_touch")["conversions"].tolist()
    [0.0, 2.0]
    """
    opts = options or AttributionOptions()
    m = Method(method)
    if m is Method.FIRST_TOUCH:
        return rules.first_touch(journeys)
    if m is Method.LAST_TOUCH:
        return rules.last_touch(journeys)
    if m is Method.LINEAR:
        return rules.linear(journeys)
    if m is Method.LINEAR_CHANNEL:
        return rules.linear_channel(journeys)
    if m is Method.TIME_DECAY:
        return rules.time_decay(journeys, opts.half_life)
    if m is Method.POSITION_BASED:
        return rules.position_based(journeys)
    if m is Method.W_SHAPED:
        return rules.w_shaped(journeys)
    if m is Method.MARKOV:
        return markov(journeys, opts.order, collapse_repeats=opts.collapse_repeats).table()
    if m is Method.SHAPLEY:
        return shapley(journeys, n_permutations=opts.shapley_permutations, seed=opts.seed).table()
    if m is Method.MMM:
        if opts.decomposition is None:
            raise ValueError("MMM-based attribution needs a decomposition table")
        return mmm_attribution(
            opts.decomposition,
            list(journeys.channels),
            total_conversions=journeys.total_conversions,
            total_value=journeys.total_value,
            start=opts.window_start,
            end=opts.window_end,
        )
    raise ValueError("'all' is not a single method; use compare_methods")


def compare_methods(
    journeys: Journeys,
    methods: Sequence[Method | str] | None = None,
    options: AttributionOptions | None = None,
) -> pd.DataFrame:
    """Side-by-side table: ``channel``, then ``<method>_conversions``, ``<method>_value``.

    Parameters
    ----------
    journeys : Journeys
    methods : sequence, optional
        Methods to run; :func:`available_methods` by default.
    options : AttributionOptions, optional

    Examples
    --------
    >>> j = Journeys.from_paths(["A > B", "B"], conversions=[1, 1], nulls=[0, 1])
    >>> t = compare_methods(j, ["first_touch", "last_touch"])
    >>> t.columns.tolist()
    ['channel', 'first_touch_conversions', 'first_touch_value', 'last_touch_conversions', \
'last_touch_value']
    >>> t["first_touch_conversions"].tolist()
    [1.0, 1.0]
    """
    opts = options or AttributionOptions()
    chosen = (
        [Method(m) for m in methods] if methods is not None else available_methods(journeys, opts)
    )
    out = pd.DataFrame({"channel": list(journeys.channels)})
    for m in chosen:
        table = run_method(journeys, m, opts)
        out[f"{m.value}_conversions"] = table["conversions"].to_numpy()
        out[f"{m.value}_value"] = table["conversion_value"].to_numpy()
    return out
