"""Reach curves fitted to Meridian's simulated R&F data; reach model; revenue-ROI-reach front."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mediamix.errors import InputError
from mediamix.optimization.reach import (
    FrontSweep,
    ReachCurve,
    ReachResponse,
    fit_reach_curve,
    reach_pareto_front,
)
from mediamix.optimization.response import curves_from_dict
from mediamix.optimization.solver import optimize_budget

DATA = Path(__file__).parent / "data" / "meridian_rf_channel3.csv"
FULL = Path(__file__).resolve().parents[2] / "datasets" / "meridian-simulated" / "geo_media_rf.csv"


@pytest.fixture(scope="module")
def rf() -> pd.DataFrame:
    return pd.read_csv(DATA)


def test_exponential_and_hill_curves_fit_the_rf_data(rf: pd.DataFrame) -> None:
    exp = fit_reach_curve(rf["Channel3_impression"], rf["Channel3_reach"], rf["population"])
    hill = fit_reach_curve(
        rf["Channel3_impression"], rf["Channel3_reach"], rf["population"], form="hill"
    )
    on = rf["Channel3_impression"] > 0
    assert exp.n == hill.n == int(on.sum())
    for c in (exp, hill):
        assert c.r2 is not None
        assert c.r2 > 0.85
        assert c.rmse is not None
        assert c.rmse < 0.1
        assert 0.8 < c.params[0] <= 1.0  # reach saturates below the population
    # the fitted curve tracks the binned data: mean reach share per impression decile
    i = (rf["Channel3_impression"] / rf["population"])[on]
    r = (rf["Channel3_reach"] / rf["population"])[on]
    bins = pd.qcut(i, 5)
    observed = r.groupby(bins, observed=True).mean().to_numpy()
    fitted = pd.Series(exp.reach(i.to_numpy()), index=i.index).groupby(bins, observed=True).mean()
    np.testing.assert_allclose(fitted.to_numpy(), observed, atol=0.05)
    # frequency = impressions / reach rises with impressions, as the curve implies
    assert np.all(np.diff(exp.reach(np.array([0.5, 1.0, 2.0]))) > 0)


def test_fit_on_the_full_file() -> None:
    d = pd.read_csv(FULL)
    c = fit_reach_curve(d["Channel3_impression"], d["Channel3_reach"], d["population"])
    assert c.n > 2500
    assert c.r2 is not None
    assert c.r2 > 0.85


def test_bad_reach_data_is_an_input_error() -> None:
    with pytest.raises(InputError, match="at least 5"):
        fit_reach_curve([0.0, 1.0], [0.0, 0.5])
    with pytest.raises(InputError, match="between 0 and the population"):
        fit_reach_curve(np.ones(6), np.full(6, 2.0))


def _models(rf: pd.DataFrame) -> tuple[object, ReachResponse]:
    curve = fit_reach_curve(rf["Channel3_impression"], rf["Channel3_reach"], rf["population"])
    cpi = float((rf["Channel3_spend"] / rf["Channel3_impression"]).dropna().median())
    pop = float(rf.groupby("geo")["population"].first().sum())
    hill = {"type": "hill", "half_saturation": 30000.0, "slope": 1.0}
    revenue = curves_from_dict(
        {
            "channels": {
                "tv": {"beta": 400000.0, "saturation": hill},
                "video": {"beta": 150000.0, "saturation": hill},
            }
        }
    )
    # "video" reaches people like Channel3; "tv" reaches them 3x more cheaply
    reach = ReachResponse(
        ["tv", "video"],
        {"tv": curve, "video": curve},
        {"tv": cpi / 3.0, "video": cpi},
        population=pop,
        periods=4,
    )
    return revenue, reach


def test_reach_model_gradient_and_independence(rf: pd.DataFrame) -> None:
    _, reach = _models(rf)
    x = np.array([20000.0, 50000.0])
    g = reach.gradient(x)
    eps = 1e-3
    for c in range(2):
        e = np.zeros(2)
        e[c] = eps
        fd = (reach.response(x + e) - reach.response(x - e)) / (2 * eps)
        assert g[c] == pytest.approx(float(fd), rel=1e-5)
    shares = reach.shares(x)
    expected = reach.population * (1 - (1 - shares[0]) * (1 - shares[1]))
    assert float(reach.response(x)) == pytest.approx(float(expected))
    assert float(reach.response(x)) <= reach.population
    # the optimizer maximizes reach directly (non-separable model)
    plan = optimize_budget(reach, 70000.0, objective="reach")
    assert plan.total_spend == pytest.approx(70000.0)
    even = float(reach.response(np.array([35000.0, 35000.0])))
    assert plan.total_response >= even - 1e-6


def test_pareto_front_spans_revenue_and_reach(rf: pd.DataFrame) -> None:
    revenue, reach = _models(rf)
    sweep = FrontSweep(fractions=(0.5, 1.0))
    table = reach_pareto_front(revenue, reach, 70000.0, sweep=sweep)  # type: ignore[arg-type]
    assert len(table) == 22
    spend_cols = ["spend_tv", "spend_video"]
    np.testing.assert_allclose(table[spend_cols].sum(axis=1), table["budget"], rtol=1e-9)
    at_b = table[table["budget"] == 70000.0].sort_values("weight")
    # weight 1 is the revenue optimum, weight 0 the reach optimum
    best_rev = optimize_budget(revenue, 70000.0)  # type: ignore[arg-type]
    assert at_b["revenue"].iloc[-1] == pytest.approx(best_rev.total_response, rel=1e-4)
    best_reach = optimize_budget(reach, 70000.0, objective="reach")
    assert at_b["reach"].iloc[0] == pytest.approx(best_reach.total_response, rel=1e-3)
    # along the sweep, revenue rises and reach falls (a real trade-off)
    assert np.all(np.diff(at_b["revenue"]) >= -1e-6 * at_b["revenue"].max())
    assert np.all(np.diff(at_b["reach"]) <= 1e-6 * at_b["reach"].max())
    assert at_b["reach"].iloc[0] > at_b["reach"].iloc[-1]
    # front: no point beats a front point on all three objectives
    front = table[table["pareto"]]
    assert len(front) >= 2
    obj = table[["revenue", "roi", "reach"]].to_numpy()
    for row in front[["revenue", "roi", "reach"]].to_numpy():
        dominated = np.all(obj >= row, axis=1) & np.any(obj > row * (1 + 1e-9) + 1e-9, axis=1)
        assert not dominated.any()
    # the smaller budget has the better ROI at weight 1 (diminishing returns)
    w1 = table[table["weight"] == 1.0].sort_values("budget")
    assert w1["roi"].iloc[0] > w1["roi"].iloc[1]


def test_curve_to_dict() -> None:
    d = ReachCurve("hill", (0.9, 1.0, 1.2), r2=0.9).to_dict()
    assert d["form"] == "hill"
    assert d["h"] == 1.0
