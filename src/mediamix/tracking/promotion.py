"""The written promotion rule: when a challenger may become champion.

A candidate is promoted to ``champion`` only if all three hold:

1. **Not worse out of sample.** Its NRMSE on the newest weeks is at most
   ``(1 + holdout_tolerance)`` times the champion's. With ``new_data`` (weeks that
   follow both models' windows, so neither saw them) both models predict those
   weeks, adstock carried over from their own history; without it, each model's own
   recorded holdout error (the newest weeks it held out while searching) is used.
2. **Agrees with lift tests** in the candidate's spec: over each test's periods, the
   channel's modeled contribution is within ``lift_sigmas`` standard errors of the
   measured lift (or within ``lift_tolerance`` of it when no standard error is given).
3. **ROIs do not jump.** Every channel's ROI moves by at most ``roi_tolerance``
   (relative) from the champion's, unless a reason is given; the reason is recorded.

Without a champion, only rule 2 applies. Every decision is recorded on the version
with the figures behind it (see :func:`mediamix.service.registry.promote_model`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mediamix.data.dataset import Dataset
from mediamix.errors import InputError
from mediamix.models.metrics import nrmse
from mediamix.models.result import FitResult

__all__ = ["Decision", "PromotionRule", "decide", "holdout_nrmse", "lift_checks"]


@dataclass(frozen=True)
class PromotionRule:
    """Tolerances of the rule (all relative)."""

    holdout_tolerance: float = 0.05
    roi_tolerance: float = 0.5
    lift_sigmas: float = 2.0
    lift_tolerance: float = 0.3


@dataclass(frozen=True)
class Decision:
    """Whether the candidate passes, why, and the figures behind it."""

    accepted: bool
    reasons: list[str]
    figures: dict[str, Any] = field(default_factory=dict)
    rule: dict[str, float] = field(default_factory=dict)
    reason_given: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as recorded on the model version."""
        return asdict(self)


def holdout_nrmse(model: FitResult, new: Dataset) -> float:
    """NRMSE of ``model`` on periods after its window (adstock carried over)."""
    last = np.asarray(model.data.dates)[-1]
    if np.asarray(new.dates)[0] <= last:
        raise InputError.single(
            f"the holdout weeks start {new.dates[0]}, inside a model's window (ends {last}): "
            "give weeks that neither model was fitted on",
            file=new.source or None,
        )
    frame = model.predict(new)
    return nrmse(frame["actual"].to_numpy(), frame["fitted"].to_numpy())


def _own_holdout(model: FitResult) -> float:
    """The holdout NRMSE the engine recorded for ``model`` (NaN when it recorded none)."""
    value = model.engine_info.holdout_nrmse
    return float("nan") if value is None else value


def lift_checks(model: FitResult, rule: PromotionRule) -> list[dict[str, Any]]:
    """Each lift test of the model's spec against the model's contribution over its periods."""
    tests = model.spec.get("lift_tests") or []
    dates = np.asarray(model.data.dates).astype("datetime64[D]")
    media = model.media_components()
    out = []
    for test in tests:
        name = test["channel"]
        if name not in model.channel_names:
            continue
        start, end = np.datetime64(str(test["start"])), np.datetime64(str(test["end"]))
        mask = (dates >= start) & (dates <= end)
        modeled = float(media[mask, model.channel_names.index(name)].sum())
        lift = float(test["lift"])
        se = test.get("standard_error")
        if se:
            ok = abs(modeled - lift) <= rule.lift_sigmas * float(se)
        else:
            ok = abs(modeled - lift) <= rule.lift_tolerance * abs(lift)
        out.append(
            {
                "channel": name,
                "start": str(start),
                "end": str(end),
                "lift": lift,
                "standard_error": se,
                "modeled": modeled,
                "agrees": bool(ok),
            }
        )
    return out


def decide(
    candidate: FitResult,
    champion: FitResult | None,
    *,
    rule: PromotionRule | None = None,
    new_data: Dataset | None = None,
    reason: str | None = None,
    candidate_holdout: float | None = None,
    champion_holdout: float | None = None,
) -> Decision:
    """Apply the promotion rule to ``candidate`` against the current ``champion``.

    ``candidate_holdout`` / ``champion_holdout`` are the models' recorded holdout
    NRMSE, used when no ``new_data`` is given.
    """
    rule = rule or PromotionRule()
    reasons: list[str] = []
    figures: dict[str, Any] = {}
    lifts = lift_checks(candidate, rule)
    figures["lift_tests"] = lifts
    for check in lifts:
        if not check["agrees"]:
            reasons.append(
                f"lift test on {check['channel']} ({check['start']} to {check['end']}) measured "
                f"{check['lift']:.4g}, the model gives {check['modeled']:.4g}"
            )
    if champion is not None:
        if new_data is not None:
            cand_err = holdout_nrmse(candidate, new_data)
            champ_err = holdout_nrmse(champion, new_data)
            figures["holdout"] = {"source": "new weeks", "periods": int(new_data.n_periods)}
        else:
            cand_err = (
                candidate_holdout if candidate_holdout is not None else _own_holdout(candidate)
            )
            champ_err = champion_holdout if champion_holdout is not None else _own_holdout(champion)
            figures["holdout"] = {"source": "each model's own holdout weeks"}
        figures["holdout"].update({"candidate_nrmse": cand_err, "champion_nrmse": champ_err})
        if not (np.isfinite(cand_err) and np.isfinite(champ_err)):
            reasons.append("no out-of-sample error to compare: give --holdout weeks")
        elif cand_err > champ_err * (1 + rule.holdout_tolerance):
            reasons.append(
                f"worse out of sample: NRMSE {cand_err:.4f} against the champion's "
                f"{champ_err:.4f} (tolerance {rule.holdout_tolerance:.0%})"
            )
        cand_roi = {k: v.get("roi") for k, v in candidate.channel_metrics().items()}
        champ_roi = {k: v.get("roi") for k, v in champion.channel_metrics().items()}
        moves = {}
        for name, roi in cand_roi.items():
            old = champ_roi.get(name)
            if roi is None or old is None or old == 0:
                continue
            moves[name] = {"champion": old, "candidate": roi, "change": (roi - old) / abs(old)}
        figures["roi"] = moves
        jumped = [n for n, m in moves.items() if abs(m["change"]) > rule.roi_tolerance]
        if jumped and not reason:
            reasons.append(
                "ROI moved beyond the tolerance ("
                + ", ".join(f"{n} {moves[n]['change']:+.0%}" for n in jumped)
                + f", tolerance {rule.roi_tolerance:.0%}) and no reason was given"
            )
    return Decision(
        accepted=not reasons,
        reasons=reasons,
        figures=figures,
        rule=asdict(rule),
        reason_given=reason,
    )
