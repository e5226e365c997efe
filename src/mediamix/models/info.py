"""Typed views of what an engine reports about its fit (``FitResult.info``).

The engines store their facts as a JSON document (``info`` in ``model.json`` and
``summary.json``, whose layout is a contract). Code that acts on those facts --
the planner's model ensemble and Pareto front, the CLI's diagnostics, model
promotion and drift (the holdout error), tracking (settings and diagnostics), the
R bridges (the ridge penalty, a Robyn import, an R script's run) -- reads them
through these types instead of string keys, so a missing or malformed entry is
handled in one place: :meth:`EngineInfo.from_dict` keeps what it can read and
leaves the rest empty (``None``, an empty tuple or mapping). The document itself
stays the engine's: only the engine that wrote ``info`` indexes it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Diagnostics",
    "EngineInfo",
    "EnsembleMember",
    "ParetoModel",
    "RScriptRun",
    "RobynImport",
    "Setting",
]

Setting = str | int | float | bool | None
"""A scalar setting of an engine, as ``info`` records it."""

SETTING_GROUPS = ("search", "sampler", "options")
"""The ``info`` blocks that hold an engine's settings (tracked as parameters)."""


def _number(value: Any) -> float | None:
    """A finite float, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value: Any) -> str | None:
    """A string, or None."""
    return value if isinstance(value, str) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Diagnostics:
    """Sampler diagnostics of a Bayesian fit, with warnings in plain words.

    ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail`` and ``divergences`` are ``None``
    where the inference method has none (MAP, SVI) or the entry is malformed.
    """

    method: str | None = None
    max_rhat: float | None = None
    min_ess_bulk: float | None = None
    min_ess_tail: float | None = None
    divergences: int | None = None
    warnings: tuple[str, ...] = ()
    figures: Mapping[str, float] = field(default_factory=dict)
    """Every finite number at the top of the report by its name (the ones above and
    the inference method's own, such as ``final_loss`` or ``mean_tree_steps``): what
    tracking logs as metrics."""

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Diagnostics:
        """Read ``info["diagnostics"]``.

        Examples
        --------
        >>> d = Diagnostics.from_dict({"method": "nuts", "max_rhat": 1.01,
        ...                            "divergences": 2, "warnings": "junk"})
        >>> d.max_rhat, d.divergences, d.min_ess_bulk, d.warnings, dict(d.figures)
        (1.01, 2, None, (), {'max_rhat': 1.01, 'divergences': 2.0})
        """
        divergences = doc.get("divergences")
        warnings = doc.get("warnings")
        numbers = {str(k): _number(v) for k, v in doc.items() if k not in ("method", "warnings")}
        return cls(
            method=str(doc["method"]) if doc.get("method") is not None else None,
            max_rhat=_number(doc.get("max_rhat")),
            min_ess_bulk=_number(doc.get("min_ess_bulk")),
            min_ess_tail=_number(doc.get("min_ess_tail")),
            divergences=(
                divergences
                if isinstance(divergences, int) and not isinstance(divergences, bool)
                else None
            ),
            warnings=(
                tuple(str(w) for w in warnings)
                if isinstance(warnings, Sequence) and not isinstance(warnings, str)
                else ()
            ),
            figures={k: v for k, v in numbers.items() if v is not None},
        )


@dataclass(frozen=True)
class RobynImport:
    """A model read from a Robyn JSON export (``info["robyn"]``).

    ``penalty`` is Robyn's ridge ``lambda`` (``hyper_values``), on glmnet's scale
    for the raw KPI; ``decomp_agg`` Robyn's own total contribution per variable.
    """

    select_model: str | None = None
    version: str | None = None
    penalty: float | None = None
    decomp_agg: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> RobynImport:
        """Read ``info["robyn"]``; missing or malformed entries are None or empty.

        Examples
        --------
        >>> r = RobynImport.from_dict({"select_model": "1_2_3",
        ...     "hyper_values": {"lambda": 12.5}, "decompAgg": {"tv": 3.0, "x": "junk"}})
        >>> r.select_model, r.version, r.penalty, dict(r.decomp_agg)
        ('1_2_3', None, 12.5, {'tv': 3.0})
        """
        decomp = {str(k): _number(v) for k, v in _mapping(doc.get("decompAgg")).items()}
        return cls(
            select_model=_text(doc.get("select_model")),
            version=_text(doc.get("version")),
            penalty=_number(_mapping(doc.get("hyper_values")).get("lambda")),
            decomp_agg={k: v for k, v in decomp.items() if v is not None},
        )


@dataclass(frozen=True)
class RScriptRun:
    """How an R script model ran (``info["r_script"]``): the script, its SHA-256 and
    the seconds it took."""

    script: str | None = None
    sha256: str | None = None
    seconds: float | None = None

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> RScriptRun:
        """Read ``info["r_script"]``; missing or malformed entries are None.

        Examples
        --------
        >>> RScriptRun.from_dict({"script": "model.R", "seconds": "slow"})
        RScriptRun(script='model.R', sha256=None, seconds=None)
        """
        return cls(
            script=_text(doc.get("script")),
            sha256=_text(doc.get("sha256")),
            seconds=_number(doc.get("seconds")),
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
    penalty : float or None
        Ridge fits (and r-glmnet): the chosen ridge penalty ``info["lambda"]``, in the
        ridge engine's convention (standardized baseline features, KPI divided by
        its mean).
    holdout_nrmse : float or None
        Ridge fits: NRMSE of the chosen model on its own validation weeks, the
        out-of-sample error promotion and drift compare against.
    settings : mapping of str to mapping of str to Setting
        The engine's settings blocks (``search``, ``sampler``, ``options``), their
        scalar entries only: what tracking logs as parameters.
    robyn : RobynImport or None
        Models read from a Robyn JSON export.
    r_script : RScriptRun or None
        Models fitted by an R script.

    Examples
    --------
    >>> info = EngineInfo.from_dict({"diagnostics": {"method": "map", "warnings": ["MAP"]},
    ...                              "pareto": [{"nrmse_train": 0.1, "roi": {"tv": 2.0}}],
    ...                              "lambda": 0.5, "holdout_nrmse": "junk"})
    >>> info.diagnostics.warnings, info.pareto[0].roi["tv"], info.ensemble
    (('MAP',), 2.0, ())
    >>> info.penalty, info.holdout_nrmse, info.robyn
    (0.5, None, None)
    """

    diagnostics: Diagnostics | None = None
    pareto: tuple[ParetoModel, ...] = ()
    ensemble: tuple[EnsembleMember, ...] = field(default=())
    penalty: float | None = None
    holdout_nrmse: float | None = None
    settings: Mapping[str, Mapping[str, Setting]] = field(default_factory=dict)
    robyn: RobynImport | None = None
    r_script: RScriptRun | None = None

    @classmethod
    def from_dict(cls, info: Mapping[str, Any] | None) -> EngineInfo:
        """Read the facts from ``info``; entries that are missing or malformed are empty.

        ``info`` is a fit's ``info`` document, from ``FitResult.info`` or from the
        ``info`` block of its ``summary.json``.
        """
        info = info or {}
        diag = info.get("diagnostics")
        robyn = info.get("robyn")
        r_script = info.get("r_script")
        return cls(
            diagnostics=Diagnostics.from_dict(diag) if isinstance(diag, Mapping) else None,
            pareto=_pareto(info.get("pareto")),
            ensemble=_ensemble(info.get("ensemble")),
            penalty=_number(info.get("lambda")),
            holdout_nrmse=_number(info.get("holdout_nrmse")),
            settings=_settings(info),
            robyn=RobynImport.from_dict(robyn) if isinstance(robyn, Mapping) else None,
            r_script=RScriptRun.from_dict(r_script) if isinstance(r_script, Mapping) else None,
        )


def _settings(info: Mapping[str, Any]) -> dict[str, dict[str, Setting]]:
    """The scalar entries of each settings block present in ``info``."""
    out: dict[str, dict[str, Setting]] = {}
    for group in SETTING_GROUPS:
        block = info.get(group)
        if isinstance(block, Mapping):
            out[group] = {
                str(k): v for k, v in block.items() if v is None or isinstance(v, str | int | float)
            }
    return out


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
