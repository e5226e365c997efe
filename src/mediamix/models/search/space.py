r"""The search space of the ridge MMM: per-channel transform bounds and their encoding.

A candidate is one choice of, per channel, the adstock family (``geometric``:
Robyn's infinite recursion :math:`a_t = x_t + \alpha a_{t-1}`; ``weibull_pdf``:
PyMC-Marketing convention, scale in periods, ``l_max`` = :data:`WEIBULL_L_MAX`,
normalized weights, so the effect may peak some periods after the spend), its
parameters, the Hill half-saturation :math:`K_c = m_c \cdot \bar a_c` as a
multiple :math:`m_c` of the channel's mean non-zero adstocked spend, the Hill slope
:math:`s_c`, and :math:`\log_{10}\lambda` (and, when searched, the training window).
Optimizers work on the unit hypercube; :meth:`SearchSpace.decode` turns points into
:class:`Candidates`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mediamix.data.spec import ModelSpec
from mediamix.errors import InputError, Problem

__all__ = [
    "ADSTOCK_FAMILIES",
    "GENES_PER_CHANNEL",
    "WEIBULL_L_MAX",
    "Candidates",
    "ChannelSpace",
    "SearchSpace",
    "search_space",
]

#: Adstock families the search can choose between (registry names).
ADSTOCK_FAMILIES = ("geometric", "weibull_pdf")
#: Window of the Weibull PDF adstock (PyMC-Marketing convention), in periods.
WEIBULL_L_MAX = 13
#: Genes per channel in the unit hypercube: family, adstock 1, adstock 2,
#: half-saturation, slope.
GENES_PER_CHANNEL = 5


@dataclass(frozen=True)
class ChannelSpace:
    """Search bounds of one channel (all closed intervals; a fixed value is low == high).

    ``kmult`` (Hill half-saturation as a multiple of the mean non-zero adstocked
    spend) and ``half_saturation`` (absolute, spend units; used instead of
    ``kmult`` when the spec gives it) are searched on a log scale.
    """

    families: tuple[str, ...] = ADSTOCK_FAMILIES
    alpha: tuple[float, float] = (0.0, 0.9)
    shape: tuple[float, float] = (0.5, 5.0)
    scale: tuple[float, float] = (0.5, 8.0)
    kmult: tuple[float, float] = (0.4, 4.0)
    half_saturation: tuple[float, float] | None = None
    slope: tuple[float, float] = (0.5, 3.0)


@dataclass(frozen=True)
class Candidates:
    """A batch of decoded candidates; every array is (B, C) except ``lam`` and
    ``val_share`` (B,).

    ``family`` indexes :data:`ADSTOCK_FAMILIES`; ``half_saturation`` is NaN where
    the half-saturation is relative (``kmult``).
    """

    family: np.ndarray
    alpha: np.ndarray
    shape: np.ndarray
    scale: np.ndarray
    kmult: np.ndarray
    half_saturation: np.ndarray
    slope: np.ndarray
    lam: np.ndarray
    val_share: np.ndarray

    def __len__(self) -> int:
        return int(self.lam.shape[0])

    def take(self, index: np.ndarray | Sequence[int]) -> Candidates:
        """The candidates at ``index``."""
        idx = np.asarray(index)
        return Candidates(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})


def _lin(u: np.ndarray, b: tuple[float, float]) -> np.ndarray:
    return b[0] + u * (b[1] - b[0])


def _log(u: np.ndarray, b: tuple[float, float]) -> np.ndarray:
    return np.exp(np.log(b[0]) + u * (np.log(b[1]) - np.log(b[0])))


@dataclass(frozen=True)
class SearchSpace:
    """Unit hypercube -> candidates.

    A point ``u`` in :math:`[0, 1]^D`, :math:`D = 5C + 1` (+1), holds per channel the
    genes (family, adstock 1, adstock 2, half-saturation, slope), then
    :math:`\\log_{10}\\lambda` and, when its bounds differ, the validation share (the
    training window of the time-ordered split, searched as Robyn searches
    ``train_size``). The family gene picks among the allowed families by
    equal-width bins; ``alpha`` (geometric) uses adstock gene 1, ``shape`` and
    ``scale`` (Weibull) genes 1 and 2.
    """

    channels: tuple[ChannelSpace, ...]
    log10_lambda: tuple[float, float] = (-6.0, -1.0)
    val_share: tuple[float, float] = (0.15, 0.15)

    @property
    def searches_window(self) -> bool:
        """Whether the validation share is searched (its bounds differ)."""
        return self.val_share[0] != self.val_share[1]

    @property
    def n_dims(self) -> int:
        """Dimension ``D`` of the unit hypercube."""
        return GENES_PER_CHANNEL * len(self.channels) + 1 + int(self.searches_window)

    def decode(self, u: np.ndarray) -> Candidates:
        """Candidates for points ``u`` (B, D) in the unit cube (clipped to it)."""
        u = np.clip(np.atleast_2d(np.asarray(u, float)), 0.0, 1.0)
        B, C = u.shape[0], len(self.channels)
        n = GENES_PER_CHANNEL * C
        g = u[:, :n].reshape(B, C, GENES_PER_CHANNEL)
        out = {
            k: np.empty((B, C))
            for k in ("family", "alpha", "shape", "scale", "kmult", "half_saturation", "slope")
        }
        for c, cs in enumerate(self.channels):
            allowed = np.array([ADSTOCK_FAMILIES.index(f) for f in cs.families])
            pick = np.minimum((g[:, c, 0] * len(allowed)).astype(int), len(allowed) - 1)
            out["family"][:, c] = allowed[pick]
            out["alpha"][:, c] = _lin(g[:, c, 1], cs.alpha)
            out["shape"][:, c] = _lin(g[:, c, 1], cs.shape)
            out["scale"][:, c] = _lin(g[:, c, 2], cs.scale)
            out["kmult"][:, c] = _log(g[:, c, 3], cs.kmult)
            out["half_saturation"][:, c] = (
                np.nan if cs.half_saturation is None else _log(g[:, c, 3], cs.half_saturation)
            )
            out["slope"][:, c] = _lin(g[:, c, 4], cs.slope)
        lam = 10.0 ** _lin(u[:, n], self.log10_lambda)
        if self.searches_window:
            val_share = _lin(u[:, n + 1], self.val_share)
        else:
            val_share = np.full(B, self.val_share[0])
        return Candidates(
            family=out["family"].astype(int),
            alpha=out["alpha"],
            shape=out["shape"],
            scale=out["scale"],
            kmult=out["kmult"],
            half_saturation=out["half_saturation"],
            slope=out["slope"],
            lam=lam,
            val_share=val_share,
        )


def _bounds(
    value: float | tuple[float, float] | None,
    default: tuple[float, float],
    low: float,
    high: float,
    where: str,
    problems: list[Problem],
) -> tuple[float, float]:
    if value is None:
        return default
    lo, hi = (value, value) if not isinstance(value, tuple) else value
    if lo < low or hi > high:
        problems.append(
            Problem(f"bounds [{lo}, {hi}] outside the allowed range [{low}, {high}]", column=where)
        )
        return default
    return (float(lo), float(hi))


def _adstock_bounds(
    ch: str, adstock: Any, base: ChannelSpace, problems: list[Problem]
) -> dict[str, Any]:
    """A channel's adstock family and parameter bounds from its spec entry."""
    key = f"channels.{ch}.adstock"
    kind = adstock.type
    params = adstock.params
    allowed = {"geometric": {"alpha"}, "weibull_pdf": {"shape", "scale"}}
    if kind not in allowed:
        problems.append(
            Problem(
                f"the ridge engine searches adstock {' or '.join(ADSTOCK_FAMILIES)}; "
                f"'{kind}' is not supported",
                column=f"{key}.type",
            )
        )
        return {}
    kw: dict[str, Any] = {"families": (kind,)}
    for name in sorted(set(params) - allowed[kind]):
        problems.append(
            Problem(
                f"unknown parameter '{name}' for {kind} (expected {sorted(allowed[kind])})",
                column=f"{key}.{name}",
            )
        )
    if kind == "geometric":
        kw["alpha"] = _bounds(params.get("alpha"), base.alpha, 0.0, 0.99, f"{key}.alpha", problems)
    else:
        kw["shape"] = _bounds(params.get("shape"), base.shape, 0.05, 20.0, f"{key}.shape", problems)
        kw["scale"] = _bounds(params.get("scale"), base.scale, 0.05, 50.0, f"{key}.scale", problems)
    return kw


def _saturation_bounds(
    ch: str, saturation: Any, base: ChannelSpace, problems: list[Problem]
) -> dict[str, Any]:
    """A channel's Hill slope (and absolute half-saturation) bounds from its spec entry."""
    key = f"channels.{ch}.saturation"
    params = saturation.params
    if saturation.type != "hill":
        problems.append(
            Problem(
                f"the ridge engine searches Hill saturation; '{saturation.type}' is not supported",
                column=f"{key}.type",
            )
        )
        return {}
    for name in sorted(set(params) - {"half_saturation", "slope"}):
        problems.append(Problem(f"unknown parameter '{name}' for hill", column=f"{key}.{name}"))
    kw: dict[str, Any] = {
        "slope": _bounds(params.get("slope"), base.slope, 0.05, 10.0, f"{key}.slope", problems)
    }
    if "half_saturation" in params:
        kw["half_saturation"] = _bounds(
            params["half_saturation"], (1.0, 1.0), 1e-12, np.inf, f"{key}.half_saturation", problems
        )
    return kw


def search_space(
    spec: ModelSpec,
    channels: Sequence[str],
    log10_lambda: tuple[float, float] = (-6.0, -1.0),
    val_share: tuple[float, float] = (0.15, 0.15),
) -> SearchSpace:
    """The search space a spec allows: defaults narrowed by each channel's transforms.

    Every problem in every channel is reported at once.

    Raises
    ------
    InputError
        An adstock other than ``geometric``/``weibull_pdf``, a saturation other than
        ``hill``, an unknown parameter, or bounds outside the allowed range.

    Examples
    --------
    >>> from mediamix.data.spec import ModelSpec
    >>> spec = ModelSpec.model_validate({
    ...     "data": "weekly.csv", "date": "date", "kpi": "revenue",
    ...     "channels": {"tv": {"spend": "tv_spend", "adstock": {"type": "geometric"}}},
    ... })
    >>> space = search_space(spec, ["tv"])
    >>> space.channels[0].families, space.n_dims
    (('geometric',), 6)
    """
    problems: list[Problem] = []
    spaces = []
    base = ChannelSpace()
    for ch in channels:
        cs = spec.channels[ch]
        kw: dict[str, Any] = {}
        if cs.adstock is not None:
            kw.update(_adstock_bounds(ch, cs.adstock, base, problems))
        if cs.saturation is not None:
            kw.update(_saturation_bounds(ch, cs.saturation, base, problems))
        spaces.append(ChannelSpace(**kw))
    if problems:
        raise InputError(problems)
    if not 0.0 < val_share[0] <= val_share[1] < 0.5:
        raise InputError.single(
            f"val_share bounds {val_share} must satisfy 0 < low <= high < 0.5",
            column="val_share",
        )
    return SearchSpace(channels=tuple(spaces), log10_lambda=log10_lambda, val_share=val_share)
