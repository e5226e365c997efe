"""Customer journeys: the store every attribution method works on, and its input layouts.

Two input layouts are accepted (CONTRACTS.md, ``mediamix attribute``):

* **aggregated paths** (ChannelAttribution's layout): columns ``path``,
  ``total_conversions``, optional ``total_conversion_value``, optional
  ``total_null``; steps separated by ``>``; delimiter ``;`` or ``,``.
* **event logs**: ``user_id``, ``timestamp``, ``channel``, ``conversion`` (0/1),
  optional ``conversion_value`` and ``milestone`` (0/1, for W-shaped attribution).
  They are turned into journeys by DuckDB SQL (window functions, out of core):

  - a user's touches are ordered by ``timestamp`` (ties by file order);
  - ``conversion = 1`` marks the touch after which the user converted: the journey
    ends with it, and the user's later touches start a new journey;
  - touches more than ``lookback_days`` before the conversion are dropped;
  - journeys without a conversion are null journeys (all their touches are kept).

Readers: :mod:`.paths` (aggregated paths), :mod:`.events` (event logs, DuckDB) and
:func:`~mediamix.attribution.readers.read_journeys` (either, from the header).
Whatever the layout, the result is a :class:`Journeys` object: a compressed
sparse-row (CSR) store of touches, one row per journey (or per aggregated path),
with the journey's conversions, null count and conversion value. All methods
work on it with vectorised numpy, so their cost is linear in the number of touches.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_REQUIRED",
    "PATH_COLUMNS",
    "PATH_REQUIRED",
    "STEP_SEPARATOR",
    "Journeys",
    "journey_paths_table",
]

PATH_COLUMNS = ("path", "total_conversions", "total_conversion_value", "total_null")
PATH_REQUIRED = ("path", "total_conversions")
EVENT_COLUMNS = ("user_id", "timestamp", "channel", "conversion", "conversion_value", "milestone")
EVENT_REQUIRED = ("user_id", "timestamp", "channel", "conversion")
STEP_SEPARATOR = ">"


@dataclass(frozen=True, eq=False)
class Journeys:
    """Journeys (or aggregated paths) stored as compressed sparse rows of touches.

    Journey ``j`` has touches ``codes[offsets[j]:offsets[j + 1]]`` (indices into
    ``channels``), in time order, and stands for ``conversions[j]`` converting and
    ``nulls[j]`` non-converting journeys (1 and 0 for a single converting journey of
    an event log). Validated once at the boundary; trusted everywhere inside.

    Parameters
    ----------
    channels : tuple of str
        Channel names, sorted; ``codes`` index into it.
    codes : ndarray of int32, shape (n_touches,)
        Channel code of each touch.
    offsets : ndarray of int64, shape (n_journeys + 1,)
        Start of each journey in ``codes``; every journey has at least one touch.
    conversions, nulls : ndarray of float64, shape (n_journeys,)
        Converting and non-converting journeys each row stands for.
    value : ndarray of float64, shape (n_journeys,), optional
        Total conversion value of the row (``None`` when the input had none).
    days_to_conversion : ndarray of float64, shape (n_touches,), optional
        Days from each touch to its journey's conversion (event logs only; NaN in
        null journeys). Needed by time-decay attribution.
    milestone : ndarray of bool, shape (n_touches,), optional
        Milestone flags (event logs with a ``milestone`` column), for W-shaped.

    Examples
    --------
    >>> j = Journeys.from_paths(["A > B", "B"], conversions=[1, 0], nulls=[0, 2])
    >>> j.channels, j.n_journeys, j.total_conversions
    (('A', 'B'), 2, 1.0)
    >>> j.paths()
    ['A > B', 'B']
    """

    channels: tuple[str, ...]
    codes: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    value: np.ndarray | None = None
    days_to_conversion: np.ndarray | None = None
    milestone: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.offsets) - 1
        if n < 0 or self.offsets[0] != 0 or self.offsets[-1] != len(self.codes):
            raise ValueError("offsets must start at 0 and end at len(codes)")
        if n and np.any(np.diff(self.offsets) < 1):
            raise ValueError("every journey needs at least one touch")
        for name in ("conversions", "nulls"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} must have one entry per journey")
        if self.value is not None and len(self.value) != n:
            raise ValueError("value must have one entry per journey")

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_paths(
        cls,
        paths: Sequence[str] | Sequence[Sequence[str]],
        conversions: Sequence[float] | np.ndarray,
        nulls: Sequence[float] | np.ndarray | None = None,
        value: Sequence[float] | np.ndarray | None = None,
        *,
        separator: str = STEP_SEPARATOR,
    ) -> Journeys:
        """Build journeys from path strings (``"A > B"``) or lists of channels.

        Steps are stripped of surrounding spaces. Raises ``ValueError`` on an empty
        path or step (readers report those as :class:`InputError` with the row).
        """
        steps: list[list[str]] = []
        for p in paths:
            parts = [s.strip() for s in p.split(separator)] if isinstance(p, str) else list(p)
            if not parts or any(not s for s in parts):
                raise ValueError(f"empty path or empty step in {p!r}")
            steps.append(parts)
        channels = tuple(sorted({s for parts in steps for s in parts}))
        index = {c: i for i, c in enumerate(channels)}
        lengths = np.fromiter((len(p) for p in steps), dtype=np.int64, count=len(steps))
        offsets = np.zeros(len(steps) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        codes = np.fromiter(
            (index[s] for parts in steps for s in parts), dtype=np.int32, count=int(offsets[-1])
        )
        conv = np.asarray(conversions, dtype=np.float64)
        nul = np.zeros(len(steps)) if nulls is None else np.asarray(nulls, dtype=np.float64)
        val = None if value is None else np.asarray(value, dtype=np.float64)
        return cls(channels, codes, offsets, conv, nul, val)

    # -- views --------------------------------------------------------------------------
    @property
    def n_journeys(self) -> int:
        """Number of rows (journeys or aggregated paths)."""
        return len(self.offsets) - 1

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.channels)

    @property
    def lengths(self) -> np.ndarray:
        """Touches per journey, shape (n_journeys,)."""
        return np.diff(self.offsets)

    @property
    def journey_of_touch(self) -> np.ndarray:
        """Journey index of every touch, shape (n_touches,)."""
        return np.repeat(np.arange(self.n_journeys), self.lengths)

    @property
    def total_conversions(self) -> float:
        """Sum of conversions."""
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float | None:
        """Sum of conversion value (``None`` without a value column)."""
        return None if self.value is None else float(self.value.sum())

    def paths(self, separator: str = " > ") -> list[str]:
        """Path strings, one per journey (for display and tests; not vectorised)."""
        names = np.asarray(self.channels, dtype=object)[self.codes]
        return [
            separator.join(names[a:b])
            for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)
        ]

    def collapse_repeats(self) -> Journeys:
        """Merge consecutive repeated channels (``A > A > B`` becomes ``A > B``).

        This is ChannelAttribution's convention for Markov models. Per-touch
        arrays keep the entry of the first touch of each run.

        Examples
        --------
        >>> Journeys.from_paths(["A > A > B > A"], [1]).collapse_repeats().paths()
        ['A > B > A']
        """
        keep = np.ones(len(self.codes), dtype=bool)
        keep[1:] = self.codes[1:] != self.codes[:-1]
        keep[self.offsets[:-1]] = True  # a journey's first touch always stays
        if keep.all():
            return self
        counts = np.add.reduceat(keep.astype(np.int64), self.offsets[:-1]) if len(keep) else keep
        offsets = np.zeros_like(self.offsets)
        np.cumsum(counts, out=offsets[1:])
        return Journeys(
            self.channels,
            self.codes[keep],
            offsets,
            self.conversions,
            self.nulls,
            self.value,
            None if self.days_to_conversion is None else self.days_to_conversion[keep],
            None if self.milestone is None else self.milestone[keep],
        )

    def channel_sets(self) -> np.ndarray:
        """Bitmask (int64) of the distinct channels of each journey; needs <= 62 channels."""
        if self.n_channels > 62:
            raise ValueError("channel bitmasks need at most 62 channels")
        bits = np.left_shift(np.int64(1), self.codes.astype(np.int64))
        return np.bitwise_or.reduceat(bits, self.offsets[:-1]) if len(bits) else bits


def journey_paths_table(journeys: Journeys) -> pd.DataFrame:
    """Aggregate identical journeys into ChannelAttribution's layout.

    Examples
    --------
    >>> j = Journeys.from_paths(["A > B", "A > B", "C"], [1, 0, 1], [0, 1, 0])
    >>> journey_paths_table(j)
        path  total_conversions  total_null
    0  A > B                1.0         1.0
    1      C                1.0         0.0
    """
    df = pd.DataFrame(
        {
            "path": journeys.paths(),
            "total_conversions": journeys.conversions,
            "total_null": journeys.nulls,
        }
    )
    if journeys.value is not None:
        df["total_conversion_value"] = journeys.value
    out = df.groupby("path", sort=True, as_index=False).sum()
    return out


#: Readers that lived in this module before it was split, by their new home: the old
#: import paths keep working (resolved lazily, since those modules import this one).
_MOVED = {
    "JOURNEY_PATHS_SQL": "mediamix.attribution.events",
    "JOURNEY_TOUCHES_SQL": "mediamix.attribution.events",
    "read_event_log": "mediamix.attribution.events",
    "detect_delimiter": "mediamix.attribution.layout",
    "detect_input_kind": "mediamix.attribution.layout",
    "parse_paths_frame": "mediamix.attribution.paths",
    "read_paths": "mediamix.attribution.paths",
    "read_journeys": "mediamix.attribution.readers",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
