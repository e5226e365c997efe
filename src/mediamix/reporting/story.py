"""The executive summary: page 1 of the report, in plain words built from the numbers.

Every figure on page 1 comes from two documents, ``summary.json`` (the model)
and ``plan.json`` (the recommendation), plus, optionally, each channel's spend
variation over the modelling window (a property of the data the model saw).
:func:`executive_summary` returns the figures (``facts``) and the sentences that
quote them, so a test, or an analyst, can recompute every number a CMO reads.

Rules, stated once:

- *what drove the KPI*: the media share is the sum of the channels'
  ``contribution_share``; the rest is the baseline (trend, season, controls).
- *which channels pay back* (revenue KPI): a channel pays back when the low end
  of its 90% ROI interval is at least 1, does not when the high end is below 1,
  and is undecided otherwise; without an interval the point ROI decides and the
  sentence says there is no interval. For a conversions KPI channels are ranked
  by cost per acquisition.
- *what to do*: the plan's spend per channel against the current spend (the
  plan's own ``risk.baseline`` when it has one, else its ``current`` scenario,
  else the model's historical spend), and what it is expected to bring: the
  change against the current mix (median and 90% range over the model's draws)
  and the probability that it beats the current mix, from ``risk.recommended``.
- *what the model cannot tell*: ROI intervals wider than :data:`WIDE_INTERVAL`
  times the ROI, channels whose spend varies by less than
  :data:`LOW_VARIATION` (coefficient of variation across periods), the data's
  validation warnings, and failed sampler diagnostics (R-hat above
  :data:`MAX_RHAT`, divergent transitions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LOW_VARIATION",
    "MAX_RHAT",
    "WIDE_INTERVAL",
    "ExecutiveSummary",
    "current_spend",
    "executive_summary",
    "money",
    "payback",
]

WIDE_INTERVAL = 1.0
"""An ROI interval wider than this multiple of the ROI is called too wide to act on."""
LOW_VARIATION = 0.1
"""A channel whose weekly spend varies less than this (std / mean) is hard to read."""
MAX_RHAT = 1.05
"""Sampler R-hat above this means the chains disagree: the posterior is not trusted."""


def money(value: float) -> str:
    """A currency or KPI amount, rounded for reading: ``1.2M``, ``350k``, ``900``.

    Examples
    --------
    >>> money(1_234_567.0), money(349_800.0), money(912.4), money(-2_500.0)
    ('1.23M', '350k', '912', '-2.50k')
    """
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:.2f}B"
    if size >= 1e6:
        return f"{value / 1e6:.2f}M"
    if size >= 1e4:
        return f"{value / 1e3:.0f}k"
    if size >= 1e3:
        return f"{value / 1e3:.2f}k"
    return f"{value:.0f}"


def payback(roi: float | None, interval: Any) -> str:
    """``"pays back"``, ``"does not pay back"`` or ``"undecided"`` (see the module rules).

    Examples
    --------
    >>> payback(1.8, [1.2, 2.4]), payback(0.6, [0.3, 0.9]), payback(1.1, [0.4, 1.9])
    ('pays back', 'does not pay back', 'undecided')
    >>> payback(1.3, None)
    'pays back'
    """
    if interval:
        low, high = float(interval[0]), float(interval[1])
        if low >= 1.0:
            return "pays back"
        if high < 1.0:
            return "does not pay back"
        return "undecided"
    if roi is None:
        return "undecided"
    return "pays back" if roi >= 1.0 else "does not pay back"


def current_spend(summary: Mapping[str, Any], plan: Mapping[str, Any]) -> dict[str, float]:
    """Current spend per channel over the plan's periods (see the module rules).

    Examples
    --------
    >>> current_spend({"channels": {"tv": {"spend": 10.0}}},
    ...               {"risk": {"baseline": {"tv": 12.0}}})
    {'tv': 12.0}
    >>> current_spend({"channels": {"tv": {"spend": 10.0}}}, {})
    {'tv': 10.0}
    """
    risk = plan.get("risk") or {}
    if risk.get("baseline"):
        return {str(c): float(v) for c, v in risk["baseline"].items()}
    scenario = (plan.get("scenarios") or {}).get("current")
    if scenario:
        return {str(c): float(v["spend"]) for c, v in scenario["channels"].items()}
    return {str(c): float(v["spend"]) for c, v in summary["channels"].items()}


@dataclass(frozen=True)
class ExecutiveSummary:
    """Page 1: the figures and the sentences that quote them, by section.

    ``facts`` holds every number the sentences use (plain floats, strings and
    lists, JSON-ready); ``sections`` maps a heading to its sentences.
    """

    facts: dict[str, Any]
    sections: dict[str, list[str]] = field(default_factory=dict)

    @property
    def headline(self) -> str:
        """The first sentence of each section, joined: the message for a chat post."""
        return " ".join(lines[0] for lines in self.sections.values() if lines)


def _drivers(summary: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    channels = summary["channels"]
    kpi = str(summary.get("kpi") or "the KPI")
    media = sum(float(c.get("contribution_share") or 0.0) for c in channels.values())
    order = sorted(channels, key=lambda c: -float(channels[c].get("contribution") or 0.0))
    top = order[:3]
    facts = {
        "media_share": media,
        "baseline_share": 1.0 - media,
        "top_channels": top,
        "top_contributions": [float(channels[c]["contribution"]) for c in top],
        "top_shares": [float(channels[c].get("contribution_share") or 0.0) for c in top],
    }
    named = ", ".join(
        f"{c} ({money(float(channels[c]['contribution']))}, "
        f"{float(channels[c].get('contribution_share') or 0.0):.1%})"
        for c in top
    )
    lines = [
        f"Paid media drove {media:.1%} of {kpi} from {summary.get('start')} to "
        f"{summary.get('end')}; the other {1.0 - media:.1%} is the baseline (trend, "
        "season, prices and other controls).",
        f"The largest contributions came from {named}.",
    ]
    return facts, lines


def _returns(summary: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    channels = summary["channels"]
    if summary.get("kpi_type", "revenue") != "revenue":
        cpa = {c: v.get("cpa") for c, v in channels.items() if v.get("cpa") is not None}
        order = sorted(cpa, key=lambda c: float(cpa[c]))
        line = "Cost per conversion, cheapest first: " + ", ".join(
            f"{c} {float(cpa[c]):,.2f}" for c in order
        )
        return {"cpa": {c: float(cpa[c]) for c in order}}, [line + "."]
    verdict = {c: payback(v.get("roi"), v.get("roi_interval")) for c, v in channels.items()}
    groups: dict[str, list[str]] = {"pays back": [], "does not pay back": [], "undecided": []}
    for c, v in verdict.items():
        groups[v].append(c)

    def describe(c: str) -> str:
        ch = channels[c]
        interval = ch.get("roi_interval")
        roi = float(ch["roi"]) if ch.get("roi") is not None else float("nan")
        if interval:
            return f"{c} {roi:.2f} (90% interval {float(interval[0]):.2f}-{float(interval[1]):.2f})"
        return f"{c} {roi:.2f} (no interval)"

    lines = []
    if groups["pays back"]:
        lines.append(
            "Pay back (each unit of spend returns more than one unit of KPI): "
            + "; ".join(describe(c) for c in groups["pays back"])
            + "."
        )
    if groups["does not pay back"]:
        lines.append(
            "Do not pay back at today's spend: "
            + "; ".join(describe(c) for c in groups["does not pay back"])
            + "."
        )
    if groups["undecided"]:
        lines.append(
            "Cannot say whether they pay back (the interval spans break-even): "
            + "; ".join(describe(c) for c in groups["undecided"])
            + "."
        )
    return {"payback": verdict}, lines


def _budget(
    summary: Mapping[str, Any], plan: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    now = current_spend(summary, plan)
    spend = {c: float(v["spend"]) for c, v in plan["channels"].items()}
    change = {c: (spend[c] / now[c] - 1.0) if now.get(c) else None for c in spend}
    moves = sorted(
        (c for c in spend if change[c] is not None and abs(change[c] or 0.0) >= 0.005),
        key=lambda c: -abs(change[c] or 0.0),
    )
    up = [c for c in moves if (change[c] or 0.0) > 0]
    down = [c for c in moves if (change[c] or 0.0) < 0]
    total_now, total_plan = sum(now.values()), sum(spend.values())
    facts: dict[str, Any] = {
        "current_total": total_now,
        "plan_total": total_plan,
        "spend_change": change,
        "total_response": float(plan["total_response"]),
        "response_interval": plan.get("response_interval"),
    }
    if not moves:
        lines = [f"Keep the current split of {money(total_plan)}: the plan moves no channel."]
    else:
        parts = []
        if up:
            parts.append("raise " + ", ".join(f"{c} {change[c]:+.0%}" for c in up))
        if down:
            parts.append("cut " + ", ".join(f"{c} {change[c]:+.0%}" for c in down))
        lines = [
            f"With a total of {money(total_plan)} (today {money(total_now)}): "
            + " and ".join(parts)
            + "."
        ]
    risk = plan.get("risk") or {}
    rec = risk.get("recommended") or {}
    best = risk.get("optimized") or {}
    if risk.get("recommendation") == "current" and best.get("probability_better") is not None:
        # the recommendation is the current mix itself: comparing it with itself says
        # nothing; what matters is how far the optimized plan fell short of the rule
        facts.update(
            probability_better=float(rec.get("probability_better") or 0.0),
            change_median=float(rec.get("change_q50") or 0.0),
            optimized_probability_better=float(best["probability_better"]),
            optimized_change_median=float(best["change_q50"]),
            optimized_change_low=float(best["change_q05"]),
            optimized_change_high=float(best["change_q95"]),
            n_draws=int(best.get("n_draws") or 0),
        )
        level = risk.get("level")
        bar = f"the {float(level):.0%} the rule asks" if level is not None else "the rule's bar"
        lines.append(
            "Keep the current mix: the optimized plan beats it in only "
            f"{facts['optimized_probability_better']:.0%} of {facts['n_draws']} model draws "
            f"(expected effect {facts['optimized_change_median']:+.1%} of the media response, "
            f"90% range {facts['optimized_change_low']:+.1%} to "
            f"{facts['optimized_change_high']:+.1%}), short of {bar}; test before moving budget."
        )
    elif rec.get("probability_better") is not None:
        facts.update(
            probability_better=float(rec["probability_better"]),
            change_median=float(rec["change_q50"]),
            change_low=float(rec["change_q05"]),
            change_high=float(rec["change_q95"]),
            n_draws=int(rec.get("n_draws") or 0),
        )
        lines.append(
            f"Expected effect against the current mix: {facts['change_median']:+.1%} of the "
            f"media response (90% range {facts['change_low']:+.1%} to "
            f"{facts['change_high']:+.1%}); it beats the current mix in "
            f"{facts['probability_better']:.0%} of {facts['n_draws']} model draws."
        )
    else:
        lines.append("The plan carries no comparison with the current mix across model draws.")
    interval = plan.get("response_interval")
    kpi = str(summary.get("kpi") or "KPI")
    if interval:
        lines.append(
            f"Expected media response: {money(facts['total_response'])} {kpi} "
            f"(90% interval {money(float(interval[0]))}-{money(float(interval[1]))})."
        )
    else:
        lines.append(f"Expected media response: {money(facts['total_response'])} {kpi}.")
    return facts, lines


def _limits(
    summary: Mapping[str, Any], spend_variation: Mapping[str, float] | None
) -> tuple[dict[str, Any], list[str]]:
    channels = summary["channels"]
    wide = []
    for c, v in channels.items():
        interval, roi = v.get("roi_interval"), v.get("roi")
        if interval and roi:
            width = float(interval[1]) - float(interval[0])
            if width > WIDE_INTERVAL * abs(float(roi)):
                wide.append(c)
    flat = sorted(c for c, cv in (spend_variation or {}).items() if cv < LOW_VARIATION)
    diagnostics = (summary.get("info") or {}).get("diagnostics") or {}
    rhat, divergences = diagnostics.get("max_rhat"), diagnostics.get("divergences")
    facts: dict[str, Any] = {
        "wide_intervals": wide,
        "low_variation": flat,
        "warnings": list(summary.get("warnings") or []),
        "max_rhat": rhat,
        "divergences": divergences,
    }
    lines = []
    if wide:
        lines.append(
            "Too uncertain to act on alone (90% ROI interval wider than the ROI itself): "
            + ", ".join(wide)
            + "."
        )
    if flat:
        lines.append(
            "Spend barely varied, so the data cannot show its effect: "
            + ", ".join(
                f"{c} (weekly spend varies {float((spend_variation or {})[c]):.0%})" for c in flat
            )
            + "."
        )
    if rhat is not None and float(rhat) > MAX_RHAT:
        lines.append(f"The sampler did not converge (max R-hat {float(rhat):.3f}).")
    if divergences:
        lines.append(f"The sampler reported {int(divergences)} divergent transitions.")
    lines += [str(w) for w in facts["warnings"]]
    if not lines:
        lines.append("No channel is flagged: intervals are narrow and diagnostics passed.")
    return facts, lines


def executive_summary(
    summary: Mapping[str, Any],
    plan: Mapping[str, Any],
    *,
    spend_variation: Mapping[str, float] | None = None,
) -> ExecutiveSummary:
    """Page 1 of the report: what drove the KPI, what pays back, what to do, what is unknown.

    Parameters
    ----------
    summary : mapping
        The ``summary.json`` document.
    plan : mapping
        The ``plan.json`` document.
    spend_variation : mapping of str to float, optional
        Coefficient of variation (std / mean) of each channel's spend per period.

    Returns
    -------
    ExecutiveSummary
        Four sections (``What drove the KPI``, ``Which channels pay back``, ``What to
        do with the budget``, ``What the model cannot tell``) and their figures.

    Examples
    --------
    >>> summary = {"kpi": "sales", "start": "2024-01-01", "end": "2024-12-30",
    ...     "channels": {
    ...     "tv": {"spend": 100.0, "contribution": 180.0, "contribution_share": 0.2,
    ...            "roi": 1.8, "roi_interval": [1.2, 2.4]},
    ...     "search": {"spend": 100.0, "contribution": 60.0, "contribution_share": 0.1,
    ...                "roi": 0.6, "roi_interval": [0.1, 1.4]}}}
    >>> plan = {"total_response": 260.0, "channels": {"tv": {"spend": 130.0},
    ...                                                "search": {"spend": 70.0}}}
    >>> page = executive_summary(summary, plan)
    >>> print(page.sections["What drove the KPI"][0])  # doctest: +NORMALIZE_WHITESPACE
    Paid media drove 30.0% of sales from 2024-01-01 to 2024-12-30; the other 70.0% is
    the baseline (trend, season, prices and other controls).
    >>> page.facts["spend_change"]
    {'tv': 0.30000000000000004, 'search': -0.30000000000000004}
    >>> page.facts["wide_intervals"]
    ['search']
    """
    sections: dict[str, list[str]] = {}
    facts: dict[str, Any] = {}
    for heading, (part, lines) in (
        ("What drove the KPI", _drivers(summary)),
        ("Which channels pay back", _returns(summary)),
        ("What to do with the budget", _budget(summary, plan)),
        ("What the model cannot tell", _limits(summary, spend_variation)),
    ):
        facts.update(part)
        sections[heading] = lines
    return ExecutiveSummary(facts=facts, sections=sections)
