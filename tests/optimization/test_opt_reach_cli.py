"""mediamix reach-fit and optimize --objective reach, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).parent / "data" / "meridian_rf_channel3.csv"


def test_reach_fit_then_optimize_reach(run_cli, tmp_path):
    reach = tmp_path / "reach.json"
    res = run_cli(["reach-fit", DATA, "--channel", "Channel3", "--out", reach])
    assert res.code == 0, res.err
    doc = json.loads(reach.read_text())
    frame = pd.read_csv(DATA)
    channel = doc["channels"]["Channel3"]
    # Meridian simulates reach as population * (1 - exp(-impressions per person))
    assert abs(channel["curve"]["r_max"] - 1.0) < 0.01
    assert abs(channel["curve"]["k"] - 1.0) < 0.02
    assert channel["curve"]["r2"] > 0.999
    assert np.isclose(
        channel["cost_per_impression"],
        frame["Channel3_spend"].sum() / frame["Channel3_impression"].sum(),
    )
    assert np.isclose(doc["population"], frame.groupby("geo")["population"].first().sum())
    plan_path = tmp_path / "plan.json"
    res = run_cli(
        [
            "optimize",
            "--objective",
            "reach",
            "--reach",
            reach,
            "--budget",
            "100000",
            "--periods",
            "10",
            "--out",
            plan_path,
        ]
    )
    assert res.code == 0, res.err
    plan = json.loads(plan_path.read_text())
    assert plan["objective"] == "reach"
    # reach of the plan, recomputed from the curve: spend spread over 10 weeks
    i = 100000 / (channel["cost_per_impression"] * 10 * doc["population"])
    expected = (
        doc["population"] * channel["curve"]["r_max"] * (1 - np.exp(-channel["curve"]["k"] * i))
    )
    assert np.isclose(plan["total_response"], expected, rtol=1e-6)


def test_reach_errors_name_the_key_or_column(run_cli, tmp_path):
    bad = tmp_path / "reach.json"
    bad.write_text(
        json.dumps(
            {
                "population": 100,
                "channels": {
                    "tv": {
                        "curve": {"form": "exponential", "r_max": 0.5},
                        "cost_per_impression": 0.1,
                    }
                },
            }
        )
    )
    res = run_cli(["optimize", "--objective", "reach", "--reach", bad, "--budget", "10"])
    assert res.code == 2
    assert "needs k" in res.err
    res = run_cli(["reach-fit", DATA, "--channel", "Channel9", "--out", tmp_path / "r.json"])
    assert res.code == 2
    assert "column 'Channel9_impression'" in res.err
    assert not (tmp_path / "r.json").exists()
    res = run_cli(["optimize", "--objective", "reach", "--budget", "10"])
    assert res.code == 2
    assert "--reach" in res.err


def test_reach_objective_with_curves_given_directly(run_cli, tmp_path):
    # CONTRACTS.md: --objective reach also plans from CURVES.json whose response is reach
    curves = tmp_path / "curves.json"
    curves.write_text(
        json.dumps(
            {
                "channels": {
                    "tv": {
                        "beta": 1000.0,
                        "saturation": {"type": "hill", "half_saturation": 500.0, "slope": 1.0},
                    },
                    "radio": {
                        "beta": 800.0,
                        "saturation": {"type": "hill", "half_saturation": 300.0, "slope": 1.0},
                    },
                }
            }
        )
    )
    plan_path = tmp_path / "plan.json"
    res = run_cli(
        [
            "optimize",
            "--curves",
            curves,
            "--objective",
            "reach",
            "--budget",
            "1000",
            "--out",
            plan_path,
        ]
    )
    assert res.code == 0, res.err
    plan = json.loads(plan_path.read_text())
    assert plan["objective"] == "reach"
    assert np.isclose(sum(c["spend"] for c in plan["channels"].values()), 1000.0)
