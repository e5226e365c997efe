"""Safe default plans: the band around the current mix, the optimum beside it, cuts explained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from mediamix.cli.optimize import optimize_cmd
from mediamix.errors import InputError
from mediamix.optimization.band import DEFAULT_BAND, explain_cuts
from mediamix.optimization.constraints import constraints_from_dict, resolve_constraints
from mediamix.optimization.response import DrawsResponse, curves_from_dict
from mediamix.service.optimize import optimize, optimize_request

HILL = {"type": "hill", "half_saturation": 40000.0, "slope": 1.0}


def _curves(beta_flat: float = 2000.0) -> dict[str, Any]:
    """Three channels at 40,000 each; ``flat`` earns almost nothing at the margin."""
    return {
        "channels": {
            "tv": {"beta": 300000.0, "saturation": HILL, "current_spend": 40000.0},
            "search": {"beta": 250000.0, "saturation": HILL, "current_spend": 40000.0},
            "flat": {"beta": beta_flat, "saturation": HILL, "current_spend": 40000.0},
        }
    }


@pytest.fixture
def curves(tmp_path: Path) -> Path:
    p = tmp_path / "curves.json"
    p.write_text(json.dumps(_curves()))
    return p


def test_default_plan_stays_in_band_and_shows_the_optimum(curves: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    plan = optimize(optimize_request(120000.0), curves=curves, out=out)
    for a in plan.channels.values():
        assert 40000.0 * (1 - DEFAULT_BAND) - 1e-6 <= a.spend <= 40000.0 * (1 + DEFAULT_BAND) + 1e-6
    assert plan.channels["flat"].spend == pytest.approx(28000.0)  # the band's floor binds
    doc = json.loads(out.read_text())["optimum_without_band"]
    assert doc["band"] == DEFAULT_BAND
    assert doc["channels"]["flat"]["spend"] < 0.05 * 40000.0  # the exact optimum cuts it
    assert doc["total_response"] > plan.total_response
    assert doc["change_vs_plan"] > 0
    assert [c["channel"] for c in doc["cuts"]] == ["flat"]
    cut = doc["cuts"][0]
    assert cut["marginal_roi"] < cut["others_marginal_roi"]
    assert cut["certainty"] is None  # curves have no draws
    # the exact optimum is what planning without the band gives
    free = optimize(optimize_request(120000.0, constraints={"band": None}), curves=curves)
    assert free.channels["flat"].spend == pytest.approx(doc["channels"]["flat"]["spend"], abs=1.0)
    assert free.optimum_without_band is None
    assert any("cuts flat" in n and "marginal ROI" in n for n in free.notes)
    assert any("within 30%" in n for n in plan.notes)


def test_band_scales_with_the_budget_and_spares_channels_with_own_bounds() -> None:
    cons = constraints_from_dict({"band": 0.5, "channels": {"tv": {"max": 1000.0}}})
    current = {"tv": 100.0, "search": 300.0}
    limits = resolve_constraints(cons, ["tv", "search"], 800.0, current_spend=current)
    # search: 300 of 400 now, scaled to 800 -> 600, +-50%
    assert limits.lower.tolist() == [0.0, 300.0]
    assert limits.upper.tolist() == [1000.0, 900.0]
    no_current = resolve_constraints(cons, ["tv", "search"], 800.0)
    assert no_current.upper[1] == np.inf  # nothing to centre the band on
    with pytest.raises(InputError, match="band"):
        constraints_from_dict({"band": -0.1})


def test_band_conflicts_are_named(curves: Path) -> None:
    group = {"channels": ["flat"], "min": 90000}
    req = optimize_request(120000.0, constraints={"band": 0.3, "groups": [group]})
    with pytest.raises(InputError, match=r"band = 0\.3: flat within"):
        optimize(req, curves=curves)


def test_the_default_band_gives_way_to_the_users_own_rules(curves: Path) -> None:
    group = {"channels": ["flat"], "min": 90000}
    plan = optimize(optimize_request(120000.0, constraints={"groups": [group]}), curves=curves)
    assert plan.channels["flat"].spend >= 90000.0 - 1e-6
    assert plan.optimum_without_band is None
    assert any("default band" in n and "flat within" in n for n in plan.notes)
    # a conflict that is not the band's still fails, naming the user's rules only
    bad = {"groups": [group], "channels": {"tv": {"min": 50000.0}}}
    with pytest.raises(InputError) as raised:
        optimize(optimize_request(120000.0, constraints=bad), curves=curves)
    assert "band" not in str(raised.value)


def test_target_objectives_get_no_default_band(curves: Path) -> None:
    plan = optimize(optimize_request(120000.0, objective="target_roi", target=0.5), curves=curves)
    assert plan.optimum_without_band is None


def _draws(betas_flat: list[float]) -> DrawsResponse:
    models = []
    for b in betas_flat:
        doc = _curves(b)
        models.append(curves_from_dict(doc))
    return DrawsResponse(tuple(models))


def test_certainty_counts_the_draws_that_agree_with_a_cut() -> None:
    current = {"tv": 40000.0, "search": 40000.0, "flat": 40000.0}
    spend = {"tv": 60000.0, "search": 59000.0, "flat": 1000.0}
    sure = explain_cuts(_draws([1000.0, 2000.0, 3000.0, 4000.0]), spend, current)
    assert [e.channel for e in sure] == ["flat"]
    assert sure[0].certainty == 1.0
    assert sure[0].n_draws == 4
    assert "confident" in sure[0].sentence("The plan")
    # in half the draws flat is the best channel at the margin
    unsure = explain_cuts(_draws([1000.0, 2000.0, 900000.0, 800000.0]), spend, current)
    assert unsure[0].certainty == 0.5
    assert "lift test on flat" in unsure[0].sentence("The plan")
    # a smaller budget spread like today's is not a cut
    assert explain_cuts(_draws([1.0]), {"tv": 20.0, "search": 20.0, "flat": 20.0}, current) == []


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(optimize_cmd)
    return app


def test_cli_band_options(curves: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "plan.json"
    args = ["--curves", str(curves), "--budget", "120000", "--out", str(out)]
    res = runner.invoke(_app(), args)
    assert res.exit_code == 0, res.output
    assert "optimum without the band" in res.output
    res = runner.invoke(_app(), [*args, "--band", "1.0"])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["optimum_without_band"]["band"] == 1.0
    res = runner.invoke(_app(), [*args, "--no-band"])
    assert res.exit_code == 0, res.output
    assert "optimum_without_band" not in json.loads(out.read_text())
    out.unlink()
    res = runner.invoke(_app(), [*args, "--no-band", "--band", "0.2"])
    assert res.exit_code != 0
    assert not out.exists()
