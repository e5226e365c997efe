"""CURVES.json parsing, constraints resolution, infeasibility naming, rules respected."""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path

import numpy as np
import pytest

from mediamix.errors import InputError
from mediamix.optimization.constraints import (
    constraints_from_dict,
    read_constraints,
    resolve_constraints,
)
from mediamix.optimization.response import curves_from_dict, read_curves
from mediamix.optimization.solver import SpendReference, optimize_budget

HILL = {"type": "hill", "half_saturation": 40.0, "slope": 2.0}


def three_channels():
    return curves_from_dict(
        {
            "channels": {
                "tv": {"beta": 300.0, "saturation": HILL, "current_spend": 40.0},
                "radio": {
                    "beta": 120.0,
                    "saturation": {"type": "logistic", "lam": 0.05},
                    "current_spend": 20.0,
                },
                "search": {
                    "beta": 200.0,
                    "saturation": {"type": "hill", "half_saturation": 25.0, "slope": 0.8},
                    "current_spend": 30.0,
                },
            }
        }
    )


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        (
            {"channels": {"tv": {"beta": 1.0, "saturation": {"type": "weibull", "k": 1.0}}}},
            "channels.tv.saturation",
        ),
        ({"channels": {"tv": {"beta": -1.0, "saturation": HILL}}}, "channels.tv.beta"),
        ({"channels": {"tv": {"saturation": HILL}}}, "channels.tv.beta"),
        ({"channels": {"tv": {"beta": 1.0}}}, "channels.tv.saturation"),
        (
            {"channels": {"tv": {"beta": 1.0, "saturation": {"type": "hill", "slope": 1.0}}}},
            "channels.tv.saturation.hill.half_saturation",
        ),
        (
            {"channels": {"tv": {"beta": 1.0, "saturation": HILL, "colour": "red"}}},
            "channels.tv.colour",
        ),
        ({"channels": {}}, "channels"),
        ({}, "channels"),
    ],
)
def test_curves_errors_name_the_key(doc, key) -> None:
    with pytest.raises(InputError) as info:
        curves_from_dict(doc, file="c.json")
    assert key in [p.column for p in info.value.problems]
    assert all(p.file == "c.json" for p in info.value.problems)


def test_read_curves_file(tmp_path: Path) -> None:
    path = tmp_path / "curves.json"
    path.write_text(
        json.dumps(
            {
                "channels": {
                    "tv": {"beta": 2.0, "saturation": HILL, "current_spend": 5.0, "max": 90.0}
                }
            }
        )
    )
    model = read_curves(path)
    assert model.channels == ("tv",)
    assert model.bounds == {"tv": (0.0, 90.0)}
    path.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        read_curves(path)


def test_gradient_matches_finite_differences() -> None:
    m = three_channels()
    x = np.array([30.0, 15.0, 22.0])
    g = m.gradient(x)
    eps = 1e-5
    fd = [(m.response(x + eps * e) - m.response(x - eps * e)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(g, fd, rtol=1e-6)


def test_infeasible_constraints_name_the_culprits(tmp_path: Path) -> None:
    m = three_channels()
    cons = constraints_from_dict(
        {
            "channels": {"tv": {"min": 50.0}, "radio": {"max_ratio": 2.0}},
            "groups": [{"name": "offline", "channels": ["tv", "radio"], "max": 40.0}],
        }
    )
    with pytest.raises(InputError) as info:
        optimize_budget(m, 100.0, cons, reference=SpendReference(m.current_spend))
    msg = str(info.value)
    assert "channels.tv.min" in msg
    assert "offline" in msg
    assert "max_ratio" not in msg  # not part of the conflict
    assert "budget" not in msg


def test_infeasible_budget_named() -> None:
    m = three_channels()
    cons = constraints_from_dict(
        {"channels": {"tv": {"max": 10.0}, "radio": {"max": 10.0}, "search": {"max_ratio": 0.5}}}
    )
    with pytest.raises(InputError) as info:
        resolve_constraints(cons, m.channels, 100.0, current_spend=m.current_spend)
    msg = str(info.value)
    for part in ("channels.tv.max", "channels.radio.max", "channels.search.max_ratio", "budget"):
        assert part in msg


def test_unknown_channel_and_missing_current_spend() -> None:
    with pytest.raises(InputError) as info:
        resolve_constraints(
            constraints_from_dict({"channels": {"print": {"min": 1.0}, "tv": {"min_ratio": 0.5}}}),
            ("tv",),
            10.0,
        )
    cols = [p.column for p in info.value.problems]
    assert "channels.print" in cols
    assert "channels.tv.min_ratio" in cols


def test_yaml_reader_and_strictness(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "total: at_most\nchannels:\n  tv: {min: 10, max: 200}\n"
        "groups:\n  - {channels: [tv, radio], max: 150}\n"
    )
    cons = read_constraints(path)
    assert cons.total == "at_most"
    assert cons.channels["tv"].max == 200
    path.write_text("channels:\n  tv: {minimum: 10}\n")
    with pytest.raises(InputError) as info:
        read_constraints(path)
    assert info.value.problems[0].column == "channels.tv.minimum"


def brute_force_3(m, budget, ok, steps=600):
    g = np.linspace(0, budget, steps + 1)
    best, arg = -np.inf, None
    for a, b in product(g, g):
        c = budget - a - b
        if c < -1e-9:
            continue
        x = np.array([a, b, max(c, 0.0)])
        if ok(x):
            v = float(m.response(x))
            if v > best:
                best, arg = v, x
    return best, arg


def test_rules_are_respected_and_optimal_vs_brute_force() -> None:
    """Group, ratio, share-of-voice and min-if-on rules against a grid over the plane."""
    m = three_channels()
    B = 90.0
    cons = constraints_from_dict(
        {
            "channels": {"search": {"min_if_on": 30.0}},
            "groups": [{"channels": ["tv", "radio"], "max": 60.0}],
            "ratios": [{"numerator": ["radio"], "denominator": ["tv"], "min": 0.5}],
            "share_of_voice": [{"channels": ["tv"], "competitor_spend": 100.0, "min_share": 0.2}],
        }
    )

    def ok(x):
        tv, radio, search = x
        return (
            tv + radio <= 60 + 1e-9
            and radio >= 0.5 * tv - 1e-9
            and tv >= 25 - 1e-9
            and (search <= 1e-9 or search >= 30 - 1e-9)
        )

    plan = optimize_budget(m, B, cons)
    x = plan.spend
    assert ok(x)
    assert x.sum() == pytest.approx(B, rel=1e-9)
    ref, _ = brute_force_3(m, B, ok, steps=300)
    assert plan.total_response >= ref * (1 - 1e-3)


def test_semi_continuous_switches_off_when_worth_it() -> None:
    steep = {"type": "hill", "half_saturation": 50.0, "slope": 3.0}
    m = curves_from_dict(
        {
            "channels": {
                "a": {
                    "beta": 100.0,
                    "saturation": {"type": "hill", "half_saturation": 20.0, "slope": 1.0},
                },
                "b": {"beta": 100.0, "saturation": steep},
            }
        }
    )
    cons = constraints_from_dict({"channels": {"b": {"min_if_on": 45.0}}})
    plan = optimize_budget(m, 60.0, cons)
    b = plan.channels["b"].spend
    assert b == 0.0 or b >= 45.0 - 1e-9

    def ok(x):
        return x[1] == 0.0 or x[1] >= 45.0

    g = np.linspace(0, 60.0, 60001)
    pts = np.stack([60.0 - g, g], axis=1)
    vals = np.where([ok(p) for p in pts], m.response(pts), -np.inf)
    assert plan.total_response >= vals.max() * (1 - 1e-6)


def test_total_at_most_can_leave_money_unspent() -> None:
    m = curves_from_dict({"channels": {"a": {"beta": 10.0, "saturation": HILL, "max": 30.0}}})
    plan = optimize_budget(
        m,
        100.0,
        constraints_from_dict({"total": "at_most"}),
        reference=SpendReference(bounds={"a": (0.0, 30.0)}),
    )
    assert plan.total_spend == pytest.approx(30.0)
    assert plan.budget == 100.0


def test_currency_rescaling_gives_the_same_allocation() -> None:
    def model(scale):
        return curves_from_dict(
            {
                "channels": {
                    "tv": {
                        "beta": 300.0,
                        "saturation": {
                            "type": "hill",
                            "half_saturation": 40.0 * scale,
                            "slope": 2.5,
                        },
                    },
                    "radio": {
                        "beta": 120.0,
                        "saturation": {"type": "logistic", "lam": 0.05 / scale},
                    },
                    "search": {
                        "beta": 200.0,
                        "saturation": {
                            "type": "hill",
                            "half_saturation": 25.0 * scale,
                            "slope": 0.8,
                        },
                    },
                }
            }
        )

    cons = {
        "channels": {"tv": {"min": 5.0}},
        "groups": [{"channels": ["tv", "radio"], "max": 50.0}],
    }
    cons100 = {
        "channels": {"tv": {"min": 500.0}},
        "groups": [{"channels": ["tv", "radio"], "max": 5000.0}],
    }
    p1 = optimize_budget(model(1.0), 90.0, constraints_from_dict(cons))
    p100 = optimize_budget(model(100.0), 9000.0, constraints_from_dict(cons100))
    np.testing.assert_allclose(p100.spend, 100 * p1.spend, rtol=1e-5, atol=1e-6)
    assert p100.total_response == pytest.approx(p1.total_response, rel=1e-8)
