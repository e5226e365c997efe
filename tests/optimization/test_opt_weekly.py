"""Weekly plans from a fitted model: carry-over in from history and out past the horizon."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from mediamix.cli.optimize import optimize_cmd
from mediamix.errors import InputError
from mediamix.optimization.multiperiod import multiperiod_from_transforms
from mediamix.service.fit import load_model
from mediamix.service.optimize import optimize_request, optimize_weekly


def test_multiperiod_model_reproduces_the_fitted_components(geometric_model_dir: Path) -> None:
    """Same adstock and saturation: the weekly model's response on history is the fit's."""
    from mediamix.optimization.multiperiod import evaluate_multiperiod

    result = load_model(geometric_model_dir)
    names = list(result.channels)
    model = multiperiod_from_transforms(
        names,
        [result.channels[c].beta for c in names],
        [dict(result.channels[c].adstock) for c in names],
        [dict(result.channels[c].saturation) for c in names],
    )
    spend = result.data.spend[0]
    # the last 30 weeks as a "plan" after the first part as history
    plan = evaluate_multiperiod(model, spend[-30:], spend[:-30])
    expected = result.media_components()[-30:].sum()
    assert plan.response == pytest.approx(expected, rel=1e-6)


def test_weekly_plan_counts_carryover_and_beats_the_historical_pattern(
    geometric_model_dir: Path, tmp_path: Path
) -> None:
    result = load_model(geometric_model_dir)
    budget = float(result.data.spend[0][-13:].sum())
    out = tmp_path / "plan.json"
    doc = optimize_weekly(geometric_model_dir, {"budget": budget, "periods": 13}, out=out).to_dict()
    data = json.loads(out.read_text())
    assert data == json.loads(json.dumps(doc))
    assert data["periods"] == 13
    assert len(data["weekly"]) == 13
    names = list(result.channels)
    weekly = np.array([[row[c] for c in names] for row in data["weekly"]])
    assert weekly.sum() == pytest.approx(budget, rel=1e-9)
    assert (weekly >= -1e-9).all()
    for c in names:
        assert data["channels"][c]["spend"] == pytest.approx(weekly[:, names.index(c)].sum())
    assert sum(ch["response"] for ch in data["channels"].values()) == pytest.approx(
        data["total_response"], rel=1e-9
    )
    assert sum(row["response"] for row in data["weekly"]) == pytest.approx(data["total_response"])
    assert data["carryover_in"] > 0  # the history keeps working in the first weeks
    assert data["carryover_out"] > 0  # the plan keeps working after week 13
    assert data["carryover_in"] < data["total_response"]
    # the optimizer's objective (response + carry-over out) beats the historical pattern
    current = data["current"]
    assert data["objective_value"] >= current["total_response"] + current["carryover_out"] - 1e-6
    first = np.datetime64(data["weekly"][0]["date"])
    assert first == np.asarray(result.data.dates).astype("datetime64[D]")[-1] + np.timedelta64(
        7, "D"
    )


def test_non_geometric_adstock_is_a_clear_input_error(weibull_model_dir: Path) -> None:
    with pytest.raises(InputError, match=r"weibull_pdf.* adstock"):
        optimize_weekly(weibull_model_dir, {"budget": 1000.0, "periods": 4})


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("optimize")(optimize_cmd)

    @app.callback()
    def _main() -> None:
        pass

    return app


def test_cli_weekly(geometric_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    res = CliRunner().invoke(
        _app(),
        [
            "optimize", "--model", str(geometric_model_dir), "--budget", "50000",
            "--weekly", "--periods", "8", "--out", str(out),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "carried over from history" in res.output
    data = json.loads(out.read_text())
    assert {"weekly", "carryover_in", "carryover_out"} <= set(data)


def test_weekly_flighting_bounds(geometric_model_dir: Path, tmp_path: Path) -> None:
    result = load_model(geometric_model_dir)
    names = list(result.channels)
    cons = tmp_path / "c.yaml"
    cons.write_text(
        f"weeks:\n  {names[0]}: {{max: [0, 0, 1000000, 1000000, 1000000, 1000000]}}\n"
        f"  {names[1]}: {{min: 500, max: 4000}}\n"
    )
    doc = optimize_weekly(
        geometric_model_dir, optimize_request(30000.0, constraints=cons, periods=6)
    ).to_dict()
    w = np.array([[row[c] for c in names] for row in doc["weekly"]])
    assert w.sum() == pytest.approx(30000.0)
    np.testing.assert_allclose(w[:2, 0], 0.0, atol=1e-6)  # dark weeks
    assert (w[:, 1] >= 500 - 1e-6).all()
    assert (w[:, 1] <= 4000 + 1e-6).all()


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("channels: {}\n", "channels"),
        ("weeks:\n  nope: {max: 1}\n", "weeks.nope"),
        ("weeks:\n  CH: {max: [1, 2]}\n", "weeks.CH.max"),
        ("weeks:\n  CH: {min: 10, max: 5}\n", "weeks.CH"),
    ],
)
def test_weekly_bounds_errors_name_the_key(
    geometric_model_dir: Path, tmp_path: Path, text: str, column: str
) -> None:
    name = next(iter(load_model(geometric_model_dir).channels))
    cons = tmp_path / "c.yaml"
    cons.write_text(text.replace("CH", name))
    with pytest.raises(InputError) as info:
        optimize_weekly(geometric_model_dir, optimize_request(1000.0, constraints=cons, periods=4))
    problem = info.value.problems[0]
    assert problem.file == str(cons)
    assert problem.column == column.replace("CH", name)


def test_weekly_plan_reports_the_solvers_own_status(
    geometric_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mediamix.service.weekly as weekly

    request = {"budget": 50_000.0, "periods": 8}
    assert optimize_weekly(geometric_model_dir, request).status == "converged"
    monkeypatch.setattr(weekly, "MAX_ITERATIONS", 1)
    stopped = optimize_weekly(geometric_model_dir, request)
    assert stopped.status == "iteration_limit"
    assert stopped.to_dict()["status"] == "iteration_limit"
