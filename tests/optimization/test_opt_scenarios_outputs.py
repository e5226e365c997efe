"""Scenarios and the efficient frontier in plan.json, the CLI and the HTML report."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mediamix.cli.optimize import optimize_cmd
from mediamix.errors import InputError
from mediamix.service.optimize import model_response, optimize, optimize_request

CURVES = {
    "channels": {
        "tv": {
            "beta": 200000.0,
            "saturation": {"type": "hill", "half_saturation": 50000.0, "slope": 1.5},
            "current_spend": 40000.0,
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


@pytest.fixture
def what_if(tmp_path: Path) -> Path:
    p = tmp_path / "what_if.yaml"
    p.write_text(
        "scenarios:\n  all_tv: {tv: 70000, search: 0}\n  even: {tv: 35000, search: 35000}\n"
    )
    return p


def test_scenarios_and_frontier_in_plan_json(curves: Path, what_if: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    plan = optimize(optimize_request(70000.0, scenarios=what_if), curves=curves, out=out)
    data = json.loads(out.read_text())
    sc = data["scenarios"]
    assert list(sc) == ["current", "optimized", "optimum without band", "all_tv", "even"]
    assert sc["optimized"]["total_response"] == pytest.approx(plan.total_response)
    assert sc["current"]["change_vs_current"] == 0.0
    # the plan (within the default band) beats every what-if inside the band, and the
    # optimum without the band beats every what-if at the same budget
    for name in ("even", "current"):
        assert sc["optimized"]["total_response"] >= sc[name]["total_response"] - 1e-6
    for name in ("optimized", "all_tv", "even", "current"):
        assert sc["optimum without band"]["total_response"] >= sc[name]["total_response"] - 1e-6
    assert sc["all_tv"]["channels"]["tv"]["spend"] == 70000.0
    points = data["frontier"]["points"]
    assert len(points) == 16
    assert points[0]["budget"] == pytest.approx(0.5 * 70000.0)
    assert points[-1]["budget"] == pytest.approx(2.0 * 70000.0)
    responses = [p["response"] for p in points]
    assert responses == sorted(responses)  # more budget never earns less at the optimum
    at_current = next(p for p in points if p["fraction"] == pytest.approx(1.0))
    # the frontier is the exact optimum per budget, without the band
    best = sc["optimum without band"]["total_response"]
    assert at_current["response"] == pytest.approx(best, rel=1e-6)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a: {tv: 1, search: 2}\nb: {tv: 1}\n", "missing \\['search'\\]"),
        ("a: {tv: -1, search: 2}\n", "number >= 0"),
        ("current: {tv: 1, search: 2}\n", "reserved"),
        ("[1, 2]\n", "mapping"),
    ],
)
def test_bad_what_if_files_name_file_and_key(
    curves: Path, tmp_path: Path, text: str, match: str
) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    out = tmp_path / "plan.json"
    with pytest.raises(InputError, match=match) as info:
        optimize(optimize_request(70000.0, scenarios=p), curves=curves, out=out)
    assert info.value.problems[0].file == str(p)
    assert not out.exists()


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("optimize")(optimize_cmd)

    @app.callback()
    def _main() -> None:
        pass

    return app


def test_cli_prints_scenarios(curves: Path, what_if: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    res = CliRunner().invoke(
        _app(),
        [
            "optimize", "--curves", str(curves), "--budget", "70000",
            "--scenarios", str(what_if), "--out", str(out),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "scenarios" in res.output
    assert "all_tv" in res.output
    assert "frontier" in json.loads(out.read_text())


def test_fitted_model_plan_has_risk_scenarios_and_report(
    geometric_model_dir: Path, what_if: Path, tmp_path: Path
) -> None:
    from mediamix.service.report import write_report

    model = model_response(geometric_model_dir, 26)
    cur = model.current_spend  # type: ignore[attr-defined]
    names = list(cur)
    p = tmp_path / "wi.yaml"
    p.write_text(
        "shift:\n" + "".join(f"  {c}: {v * (1.2 if i == 0 else 0.9)}\n" for i, (c, v) in
                             enumerate(cur.items()))
    )  # fmt: skip
    out = tmp_path / "plan.json"
    optimize(optimize_request(sum(cur.values()), scenarios=p), response_model=model, out=out)
    data = json.loads(out.read_text())
    assert data["risk"]["recommendation"] in {"optimized", "partial", "current"}
    assert data["notes"]
    assert {"current", "optimized", "shift"} <= set(data["scenarios"])
    assert 0.0 <= data["scenarios"]["shift"]["probability_better"] <= 1.0
    assert set(data["scenarios"]["shift"]["channels"]) == set(names)
    html_out = tmp_path / "report.html"
    write_report(geometric_model_dir, html_out, plan=out)
    text = html_out.read_text()
    assert "<h2>Scenarios</h2>" in text
    assert "<h2>Efficient frontier</h2>" in text
    assert text.count("<svg") >= 4
    assert "<h2>Budget shift: current vs recommended</h2>" in text
    assert html.escape(data["notes"][0]) in text  # what the plan recommends, in its words


def test_cli_with_a_model_prints_the_risk_note(geometric_model_dir: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        _app(),
        ["optimize", "--model", str(geometric_model_dir), "--budget", "100000", "--periods", "26"],
    )
    assert res.exit_code == 0, res.output
    assert "recommendation:" in res.output
    assert "of the model's draws" in res.output
