"""Plans a marketer can act on: the default band, the optimum beside it, and cuts explained.

The exact optimum of a fitted model often moves most of the budget: a channel
whose curve the model estimates as flat is cut to nothing, even when the data
barely distinguish its curve from the others'. Plans therefore stay, by default,
within a band around the current mix (Meridian's default is +-30%; see
:mod:`mediamix.optimization.constraints` for the band itself), and the exact
optimum without the band is shown beside the plan (:func:`optimum_block`), so the
user sees what the model would do and can widen the band on purpose.

Any channel that a plan or the optimum cuts below :data:`CUT_SHARE` of its current
spend (scaled to the budget) is explained (:func:`cut_notes`) by

* its curve: the channel's marginal ROI at current spend against the others'
  (spend-weighted), which is why the optimizer moves money away from it;
* the model's certainty: the share of the model's draws (bootstrap, ensemble
  members or posterior) in which that channel's marginal ROI at current spend is
  indeed below the others'. A low share means the cut rests on a curve the data do
  not pin down, and a lift test should come before it.

Marginal ROIs per draw are backward differences over 1% of the channel's current
spend, because the draws of a fitted model credit no increasing returns above the
historical spend (:mod:`mediamix.models.response`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mediamix.optimization.response import PosteriorResponseModel, ResponseModel, has_draws
from mediamix.optimization.solver import Plan

__all__ = [
    "CUT_SHARE",
    "DEFAULT_BAND",
    "CutExplanation",
    "cut_notes",
    "explain_cuts",
    "optimum_block",
]

DEFAULT_BAND = 0.3
"""Default half-width of the band around the current mix (Meridian's default)."""

CUT_SHARE = 0.5
"""A channel whose plan spend is below this share of its current spend is explained."""

_STEP = 0.01


def _marginals(model: ResponseModel, base: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Marginal ROI per channel at ``base``: point (C,) and per draw (S, C) or None."""
    C = len(base)
    h = np.where(base > 0, _STEP * base, _STEP * max(float(base.sum()), 1.0) / C)
    lower = np.clip(base[None, :] - np.diag(h), 0.0, None)  # (C, C): one channel stepped down
    step = base - np.diag(lower)
    point = (float(model.response(base)) - np.asarray(model.response(lower), float)) / step
    if not (isinstance(model, PosteriorResponseModel) and has_draws(model)):
        return point, None
    draws = np.asarray(model.response_draws(np.vstack([base[None], lower])), float)  # (S, 1+C)
    return point, (draws[:, :1] - draws[:, 1:]) / step[None, :]


@dataclass(frozen=True)
class CutExplanation:
    """Why one channel is cut: its marginal ROI against the others', and the certainty.

    Attributes
    ----------
    channel : str
    spend, reference : float
        Its spend in the plan and its current spend scaled to the plan's budget.
    marginal_roi, others_marginal_roi : float
        Marginal ROI at the reference mix of the channel and of the other channels
        (spend-weighted mean), KPI per currency unit.
    certainty : float or None
        Share of the model's draws in which the channel's marginal ROI is below the
        others'; None when the model has no draws.
    n_draws : int
    """

    channel: str
    spend: float
    reference: float
    marginal_roi: float
    others_marginal_roi: float
    certainty: float | None
    n_draws: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready facts (the ``cuts`` of ``plan.json``)."""
        return {
            "channel": self.channel,
            "spend": self.spend,
            "reference": self.reference,
            "share_of_reference": self.spend / self.reference if self.reference > 0 else None,
            "marginal_roi": self.marginal_roi,
            "others_marginal_roi": self.others_marginal_roi,
            "certainty": self.certainty,
            "n_draws": self.n_draws,
        }

    def sentence(self, what: str) -> str:
        """The explanation in plain words; ``what`` names the allocation ("The plan")."""
        share = self.spend / self.reference if self.reference > 0 else 0.0
        head = (
            f"{what} cuts {self.channel} to {share:.0%} of its current spend "
            f"({self.spend:,.0f} of {self.reference:,.0f}): at current spend its curve gives "
            f"a marginal ROI of {self.marginal_roi:.3g} against {self.others_marginal_roi:.3g} "
            "for the other channels."
        )
        if self.certainty is None:
            return head + " The model has no draws to say how certain that is."
        tail = (
            f" {self.channel}'s marginal ROI is below the others' in {self.certainty:.0%} of the "
            f"model's {self.n_draws} draws"
        )
        if self.certainty >= 0.9:
            return head + tail + ": the model is confident about this cut."
        return (
            head
            + tail
            + ": the data do not pin this curve down; a lift test on "
            + f"{self.channel} should come before a cut this deep."
        )


def explain_cuts(
    model: ResponseModel,
    spend: np.ndarray | Mapping[str, float],
    current: Mapping[str, float],
    share: float = CUT_SHARE,
) -> list[CutExplanation]:
    """The channels ``spend`` cuts below ``share`` of their current spend, explained.

    The current spend is first scaled to the total of ``spend`` (the current mix at
    the same budget), so a smaller budget alone does not count as a cut.

    Examples
    --------
    >>> from mediamix.optimization.response import curves_from_dict
    >>> hill = {"type": "hill", "half_saturation": 10.0, "slope": 1.0}
    >>> m = curves_from_dict({"channels": {"a": {"beta": 10.0, "saturation": hill},
    ...                                    "b": {"beta": 40.0, "saturation": hill}}})
    >>> [c.channel for c in explain_cuts(m, {"a": 1.0, "b": 19.0}, {"a": 10.0, "b": 10.0})]
    ['a']
    """
    names = model.channels
    x = np.array([float(spend[c]) for c in names]) if isinstance(spend, Mapping) else spend
    x = np.asarray(x, float)
    cur = np.array([float(current[c]) for c in names])
    if cur.sum() <= 0 or x.sum() <= 0:
        return []
    ref = cur * x.sum() / cur.sum()
    cut = [i for i in range(len(names)) if ref[i] > 0 and x[i] < share * ref[i]]
    if not cut:
        return []
    point, draws = _marginals(model, ref)
    out = []
    for i in cut:
        others = np.delete(np.arange(len(names)), i)
        w = ref[others] / ref[others].sum() if ref[others].sum() > 0 else None
        other_point = float(np.average(point[others], weights=w)) if len(others) else 0.0
        certainty = None
        n = 0
        if draws is not None and len(others):
            other_draws = np.average(draws[:, others], axis=1, weights=w)
            certainty = float(np.mean(draws[:, i] < other_draws))
            n = int(draws.shape[0])
        out.append(
            CutExplanation(
                names[i], float(x[i]), float(ref[i]), float(point[i]), other_point, certainty, n
            )
        )
    return out


def cut_notes(
    model: ResponseModel,
    plan: Plan,
    current: Mapping[str, float],
    what: str = "The plan",
) -> tuple[str, ...]:
    """Plain-language notes for every channel ``plan`` cuts below :data:`CUT_SHARE`."""
    return tuple(e.sentence(what) for e in explain_cuts(model, plan.spend, current))


def optimum_block(
    model: ResponseModel,
    plan: Plan,
    optimum: Plan,
    current: Mapping[str, float],
    band: float,
) -> dict[str, Any]:
    """The optimum without the band, beside the plan (``optimum_without_band`` of plan.json).

    ``total_response`` and the channels as in a plan; ``reference`` the current
    spend per channel scaled to the optimum's total (the band's centre);
    ``change_vs_plan`` is the
    relative change of the expected response against the plan's; with draws,
    ``probability_better_than_plan`` and ``probability_better_than_current`` (the
    current mix scaled to the optimum's total) say how often the draws agree;
    ``cuts`` explains every channel it cuts below :data:`CUT_SHARE`.
    """
    cur = np.array([float(current[c]) for c in model.channels])
    x = optimum.spend
    doc: dict[str, Any] = {
        "band": band,
        "total_spend": optimum.total_spend,
        "total_response": optimum.total_response,
        "roi": optimum.roi,
        "change_vs_plan": (
            (optimum.total_response - plan.total_response) / abs(plan.total_response)
            if plan.total_response
            else None
        ),
        "channels": {k: v.to_dict() for k, v in optimum.channels.items()},
        "reference": {
            c: float(v) * optimum.total_spend / cur.sum() if cur.sum() > 0 else 0.0
            for c, v in zip(model.channels, cur, strict=True)
        },
        "cuts": [e.to_dict() for e in explain_cuts(model, x, current)],
    }
    if isinstance(model, PosteriorResponseModel) and has_draws(model) and cur.sum() > 0:
        base = cur * x.sum() / cur.sum()
        d = np.asarray(model.response_draws(np.vstack([x, plan.spend, base])), float)
        doc["probability_better_than_plan"] = float(np.mean(d[:, 0] > d[:, 1]))
        doc["probability_better_than_current"] = float(np.mean(d[:, 0] > d[:, 2]))
    return doc
