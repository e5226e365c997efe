"""Multi-touch attribution: rule-based, Markov chain, Shapley and MMM-based.

Inputs are journeys (:class:`~mediamix.attribution.journeys.Journeys`), read from
aggregated paths or built from event logs with DuckDB SQL; every method returns one
row per channel with ``channel``, ``conversions``, ``conversion_value``.

>>> from mediamix.attribution import Journeys, compare_methods
>>> j = Journeys.from_paths(["A > B", "B"], conversions=[1, 1], nulls=[0, 1])
>>> compare_methods(j, ["linear", "markov"])["markov_conversions"].round(4).tolist()
[0.5, 1.5]
"""

from mediamix.attribution.compare import (
    AttributionOptions,
    Method,
    available_methods,
    compare_methods,
    run_method,
)
from mediamix.attribution.events import read_event_log
from mediamix.attribution.journeys import Journeys
from mediamix.attribution.markov import MarkovResult, markov, markov_attribution
from mediamix.attribution.mmm import mmm_attribution, mmm_shares
from mediamix.attribution.paths import read_paths
from mediamix.attribution.readers import read_journeys
from mediamix.attribution.rules import (
    first_touch,
    last_touch,
    linear,
    linear_channel,
    position_based,
    time_decay,
    w_shaped,
)
from mediamix.attribution.shapley import ShapleyResult, shapley, shapley_attribution

__all__ = [
    "AttributionOptions",
    "Journeys",
    "MarkovResult",
    "Method",
    "ShapleyResult",
    "available_methods",
    "compare_methods",
    "first_touch",
    "last_touch",
    "linear",
    "linear_channel",
    "markov",
    "markov_attribution",
    "mmm_attribution",
    "mmm_shares",
    "position_based",
    "read_event_log",
    "read_journeys",
    "read_paths",
    "run_method",
    "shapley",
    "shapley_attribution",
    "time_decay",
    "w_shaped",
]
