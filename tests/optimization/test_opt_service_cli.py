"""The optimize use case and the CLI command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mediamix.cli.optimize import optimize_cmd
from mediamix.errors import InputError
from mediamix.service.optimize import optimize, optimize_request

CURVES = {
    "channels": {
        "tv": {
            "beta": 200000.0,
            "saturation": {"type": "hill", "half_saturation": 50000.0, "slope": 1.5},
            "current_spend": 40000.0,
            "min": 0.0,
            "max": 100000.0,
        },
        "search": {
            "beta": 90000.0,
            "saturation": {"type": "logistic", "lam": 0.00004},
            "current_spend": 30000.0,
        },
    }
}


@pytest.fixture
def curves(tmp_path: Path) -> Path:
    p = tmp_path / "curves.json"
    p.write_text(json.dumps(CURVES))
    return p


def test_writes_plan_json_in_the_contract_layout(curves: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "plan.json"
    plan = optimize({"budget": 100000.0, "objective": "revenue"}, curves=curves, out=out)
    data = json.loads(out.read_text())
    assert {"objective", "budget", "status", "total_response", "channels"} <= set(data)
    assert data["objective"] == "revenue"
    assert data["budget"] == 100000.0
    assert data["status"] == "optimal"
    assert set(data["channels"]) == {"tv", "search"}
    for ch in data["channels"].values():
        assert {"spend", "response", "marginal_roi"} <= set(ch)
    assert sum(c["spend"] for c in data["channels"].values()) == pytest.approx(100000.0)
    assert data["total_response"] == pytest.approx(plan.total_response)
    assert [p.name for p in out.parent.iterdir()] == ["plan.json"]  # no temp files left


def test_infeasible_constraints_write_nothing(curves: Path, tmp_path: Path) -> None:
    cons = tmp_path / "c.yaml"
    cons.write_text("channels:\n  tv: {min: 90000}\n  search: {min_ratio: 1.0}\n")
    out = tmp_path / "plan.json"
    with pytest.raises(InputError) as info:
        optimize(optimize_request(100000.0, constraints=cons), curves=curves, out=out)
    assert "channels.tv.min" in str(info.value)
    assert "channels.search.min_ratio" in str(info.value)
    assert info.value.problems[0].file == str(cons)
    assert not out.exists()


def test_exactly_one_source() -> None:
    with pytest.raises(InputError, match="exactly one"):
        optimize({"budget": 1.0})


def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.command("optimize")(optimize_cmd)

    @app.callback()
    def _main() -> None:  # keep "optimize" as a subcommand
        pass

    return app


def test_cli_prints_a_table_and_writes(curves: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    res = CliRunner().invoke(
        cli_app(), ["optimize", "--curves", str(curves), "--budget", "100000", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "tv" in res.output
    assert "total" in res.output
    assert out.exists()


def test_cli_model_folder_without_model_is_an_input_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli_app(), ["optimize", "--model", str(tmp_path), "--budget", "1"])
    assert isinstance(res.exception, InputError)
    assert "not a mediamix model folder" in str(res.exception)
