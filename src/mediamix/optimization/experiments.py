"""Which lift test would make the plan safer: value of information over the model's draws.

A plan's gain over the current mix, ``G = R(x_plan) - R(x_0)`` (``x_0`` the
current mix scaled to the plan's budget), is uncertain: draw ``s`` of the model
gives ``G_s``. A lift test on channel ``c`` measures the channel's contribution
over the test window, ``m_c``, with a standard error ``se_c``; in draw ``s`` that
contribution is ``m_sc``. Treating ``(G, m_c)`` as jointly normal across the
draws, observing the test shrinks the variance of the plan's gain by::

    reduction_c = Cov(G, m_c)^2 / (Var(m_c) + se_c^2)

the expected value of the test for this plan (the linear-Gaussian form of the
expected reduction in the posterior variance of the gain). Channels are ranked by
it; each comes with the reduction of the gain's 90% interval width
(``3.29 * (sd(G) - sqrt(Var(G) - reduction_c))``).

**The design.** A geo holdout: the channel goes dark in a share ``h`` of the market
for ``D`` weeks. With the model's weekly residual standard deviation ``sigma``
(national), the holdout region's KPI has noise ``sigma * sqrt(h)`` per week, and
the test compares it with a prediction from the rest of the market; the national
contribution it measures has standard error::

    se = sigma * sqrt(2 * D / h)

and the minimum detectable lift at 80% power and a two-sided 5% test is
``(1.96 + 0.84) * se``. The design proposed is the cheapest (smallest ``h * D``,
the share of the channel's spend and effect given up) whose expected lift, the
model's median contribution of the channel over ``D`` weeks, is at least that; if
none is, the largest, flagged as underpowered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mediamix.optimization.response import PosteriorResponseModel

__all__ = [
    "DURATIONS",
    "HOLDOUT_SHARES",
    "TestDesign",
    "TestSuggestion",
    "holdout_design",
    "suggest_tests",
]

DURATIONS = (4, 6, 8, 10, 12)
"""Test lengths considered, in periods (weeks)."""

HOLDOUT_SHARES = (0.1, 0.2, 0.3, 0.5)
"""Shares of the market held out considered."""

_Z = 1.959964 + 0.841621  # two-sided 5% test, 80% power


@dataclass(frozen=True)
class TestDesign:
    """A geo holdout design for one channel.

    Attributes
    ----------
    weeks : int
        Duration in periods.
    holdout_share : float
        Share of the market where the channel goes dark.
    expected_lift : float
        The model's median contribution of the channel over ``weeks`` (national, KPI).
    standard_error : float
        Standard error of the measured national contribution.
    minimum_detectable_lift : float
        At 80% power, two-sided 5%.
    powered : bool
        Whether ``expected_lift`` reaches the minimum detectable lift.
    """

    weeks: int
    holdout_share: float
    expected_lift: float
    standard_error: float
    minimum_detectable_lift: float
    powered: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "weeks": self.weeks,
            "holdout_share": self.holdout_share,
            "spend_change": -1.0,
            "expected_lift": self.expected_lift,
            "standard_error": self.standard_error,
            "minimum_detectable_lift": self.minimum_detectable_lift,
            "powered": self.powered,
        }


def holdout_design(weekly_contribution: float, sigma: float) -> TestDesign:
    """The cheapest powered holdout for a channel adding ``weekly_contribution`` per week.

    Examples
    --------
    >>> d = holdout_design(weekly_contribution=1000.0, sigma=2000.0)
    >>> d.weeks, d.holdout_share, d.powered
    (12, 0.5, False)
    >>> d = holdout_design(weekly_contribution=5000.0, sigma=1000.0)
    >>> d.weeks, d.holdout_share, d.powered
    (4, 0.2, True)
    """
    options = sorted(
        ((d, h) for d in DURATIONS for h in HOLDOUT_SHARES), key=lambda o: (o[0] * o[1], o[0])
    )
    best = None
    for d, h in options:
        se = sigma * math.sqrt(2.0 * d / h)
        lift = weekly_contribution * d
        design = TestDesign(d, h, lift, se, _Z * se, lift >= _Z * se)
        if design.powered:
            return design
        best = design
    d, h = DURATIONS[-1], HOLDOUT_SHARES[-1]
    se = sigma * math.sqrt(2.0 * d / h)
    assert best is not None  # noqa: S101 -- the option grid is not empty
    return TestDesign(d, h, weekly_contribution * d, se, _Z * se, False)


@dataclass(frozen=True)
class TestSuggestion:
    """One channel's lift test: what it would tell, and how to run it.

    ``variance_reduction`` is the expected reduction of the variance of the plan's
    gain; ``interval_reduction`` the expected narrowing of the gain's 90% interval
    (KPI units), also as a share of its width (``interval_share``).
    """

    channel: str
    variance_reduction: float
    interval_reduction: float
    interval_share: float
    design: TestDesign

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "variance_reduction": self.variance_reduction,
            "interval_reduction": self.interval_reduction,
            "interval_share": self.interval_share,
            "design": self.design.to_dict(),
        }


def suggest_tests(
    model: PosteriorResponseModel,
    plan_spend: Sequence[float] | np.ndarray,
    current: Mapping[str, float],
    sigma: float,
    periods: int,
) -> list[TestSuggestion]:
    """Rank the channels by how much a lift test would narrow the plan's gain.

    Parameters
    ----------
    model : PosteriorResponseModel
        The model with its draws (bootstrap, ensemble members or posterior).
    plan_spend : array (C,)
        The plan to make safer (totals over the plan).
    current : mapping
        Current spend per channel over the plan's periods.
    sigma : float
        The model's weekly residual standard deviation (KPI units, national).
    periods : int
        Periods the plan covers (to turn plan totals into weekly figures).

    Returns
    -------
    list of TestSuggestion
        Best first.

    Examples
    --------
    >>> from mediamix.optimization.response import DrawsResponse, curves_from_dict
    >>> hill = {"type": "hill", "half_saturation": 10.0, "slope": 1.0}
    >>> def model(a, b):
    ...     return curves_from_dict({"channels": {"a": {"beta": a, "saturation": hill},
    ...                                           "b": {"beta": b, "saturation": hill}}})
    >>> draws = DrawsResponse(tuple(model(a, 20.0 + 0.1 * k)
    ...                             for k, a in enumerate([5.0, 15.0, 25.0, 35.0])))
    >>> ranked = suggest_tests(draws, [15.0, 5.0], {"a": 10.0, "b": 10.0}, sigma=0.1, periods=4)
    >>> [s.channel for s in ranked]
    ['a', 'b']
    """
    names = model.channels
    x = np.asarray(plan_spend, float)
    cur = np.array([float(current[c]) for c in names])
    base = cur * (x.sum() / cur.sum()) if cur.sum() > 0 else cur
    off = np.repeat(cur[None], len(names), axis=0)
    np.fill_diagonal(off, 0.0)
    d = np.asarray(model.response_draws(np.vstack([x, base, cur, off])), float)  # (S, 3 + C)
    gain = d[:, 0] - d[:, 1]
    per_week = (d[:, 2:3] - d[:, 3:]) / periods  # (S, C): each channel's weekly contribution
    var_g = float(np.var(gain))
    sd_g = math.sqrt(var_g)
    out = []
    for c, name in enumerate(names):
        weekly = float(np.median(per_week[:, c]))
        design = holdout_design(max(weekly, 0.0), sigma)
        m = per_week[:, c] * design.weeks
        cov = float(np.mean((gain - gain.mean()) * (m - m.mean())))
        red = cov**2 / (float(np.var(m)) + design.standard_error**2) if var_g > 0 else 0.0
        red = min(red, var_g)
        narrowing = 3.29 * (sd_g - math.sqrt(max(var_g - red, 0.0)))
        share = narrowing / (3.29 * sd_g) if sd_g > 0 else 0.0
        out.append(TestSuggestion(name, red, narrowing, share, design))
    return sorted(out, key=lambda s: -s.variance_reduction)
