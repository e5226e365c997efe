"""Typed views of what an engine reports about its fit (``FitResult.info``).

The engines store their facts as a JSON document (``info`` in ``model.json`` and
``summary.json``, whose layout is a contract). Code that acts on those facts --
the planner's model ensemble and Pareto front, the CLI's diagnostics -- reads
them through these types instead of string keys, so a missing or malformed entry
is handled in one place: :meth:`EngineInfo.from_dict` keeps what it can read and
leaves the rest empty.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Diagnostics", "EngineInfo", "EnsembleMember", "ParetoModel"]


def _number(value: Any) -> float | None:
    """A finite float, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class Diagnostics:
    """Sampler diagnostics of a Bayesian fit, with warnings in plain words.

    ``max_rhat``, ``min_ess_bulk`` and ``divergences`` are ``None`` where the
    inference method has none (MAP, SVI).
    """

    method: str | None = None
    max_rhat: float | None = None
    min_ess_bulk: float | None = None
    divergences: int | None = None
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Diagnostics:
        """Read ``info["diagnostics"]``."""
        divergences = doc.get("divergences")
        return cls(
            method=str(doc["method"]) if doc.get("method") is not None else None,
            max_rhat=_number(doc.get("max_rhat")),
            min_ess_bulk=_number(doc.get("min_ess_bulk")),
            divergences=int(divergences) if isinstance(divergences, int) else None,
            warnings=tuple(str(w) for w in doc.get("warnings") or ()),
        )


@dataclass(frozen=True)
class ParetoModel:
    """One model of the ridge search's Pareto front: its fit and ROI per channel."""

    nrmse_train: float | None
    roi: Mapping[str, float | None]


@dataclass(frozen=True)
class EnsembleMember:
    """One model of the ridge fit's ensemble: per channel, transforms and coefficient
    in the registry's JSON form (``{"adstock": ..., "saturation": ..., "beta": ...}``)."""

    channels: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class EngineInfo:
    """The facts of ``FitResult.info`` that other code acts on.

    Attributes
    ----------
    diagnostics : Diagnostics or None
        Bayesian fits.
    pareto : tuple of ParetoModel
        Ridge fits: the search's Pareto front (empty when not stored, or malformed).
    ensemble : tuple of EnsembleMember
        Ridge fits: the models the data cannot tell from the best (empty when none).

    Examples
    --------
    >>> info = EngineInfo.from_dict({"diagnostics": {"method": "map", "warnings": ["MAP"]},
    ...                              "pareto": [{"nrmse_train": 0.1, "roi": {"tv": 2.0}}]})
    >>> info.diagnostics.warnings, info.pareto[0].roi["tv"], info.ensemble
    (('MAP',), 2.0, ())
    """

    diagnostics: Diagnostics | None = None
    pareto: tuple[ParetoModel, ...] = ()
    ensemble: tuple[EnsembleMember, ...] = field(default=())

    @classmethod
    def from_dict(cls, info: Mapping[str, Any] | None) -> EngineInfo:
        """Read the facts from ``info``; entries that are missing or malformed are empty."""
        info = info or {}
        diag = info.get("diagnostics")
        return cls(
            diagnostics=Diagnostics.from_dict(diag) if isinstance(diag, Mapping) else None,
            pareto=_pareto(info.get("pareto")),
            ensemble=_ensemble(info.get("ensemble")),
        )


def _pareto(rows: Any) -> tuple[ParetoModel, ...]:
    """Every row of the front, or none when any row lacks its ROI mapping."""
    if not isinstance(rows, Sequence) or isinstance(rows, str):
        return ()
    out = []
    for row in rows:
        roi = row.get("roi") if isinstance(row, Mapping) else None
        if not isinstance(roi, Mapping):
            return ()
        out.append(
            ParetoModel(
                nrmse_train=_number(row.get("nrmse_train")),
                roi={str(c): _number(v) for c, v in roi.items()},
            )
        )
    return tuple(out)


def _ensemble(block: Any) -> tuple[EnsembleMember, ...]:
    members = block.get("members") if isinstance(block, Mapping) else None
    if not isinstance(members, Sequence) or isinstance(members, str):
        return ()
    out = []
    for member in members:
        channels = member.get("channels") if isinstance(member, Mapping) else None
        if not isinstance(channels, Mapping):
            return ()
        out.append(EnsembleMember(channels=dict(channels)))
    return tuple(out)
