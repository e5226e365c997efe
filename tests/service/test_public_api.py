"""The public Python API: ``mediamix.fit``, ``optimize``, ``attribute`` and friends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import mediamix
from mediamix.errors import InputError

ROLES = {
    "date": "date",
    "kpi": "revenue",
    "channels": {"tv": "tv_spend", "search": "search_spend"},
    "controls": ["price_index"],
    "events": ["event_1", "event_2"],
}
QUICK = {"candidates": 400, "bootstrap": 20}


@pytest.fixture(scope="module")
def data() -> mediamix.SynthResult:  # type: ignore[name-defined]
    return mediamix.synth(seed=5, weeks=80, channels=2)


@pytest.fixture(scope="module")
def result(data) -> mediamix.FitResult:
    return mediamix.fit(data.frame, ridge=QUICK, **ROLES)


def _spec_file(data, folder: Path) -> Path:
    data.frame.to_csv(folder / "weekly.csv", index=False)
    spec = {"data": "weekly.csv", **ROLES}
    spec["channels"] = {k: {"spend": v} for k, v in ROLES["channels"].items()}
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_import_and_first_use_stay_light() -> None:
    code = (
        "import sys, mediamix\n"
        "mediamix.fit, mediamix.optimize, mediamix.attribute, mediamix.load_model\n"
        "heavy = ['fastapi', 'mlflow', 'duckdb', 'jax', 'numpyro', 'matplotlib', 'pyspark',"
        " 'airflow', 'dbt', 'typer', 'rich']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_are_documented() -> None:
    for name in (
        "load_spec",
        "fit",
        "optimize",
        "optimize_weekly",
        "attribute",
        "load_model",
        "synth",
    ):
        doc = getattr(mediamix, name).__doc__
        assert doc is not None, name
        assert "Examples" in doc, name
    assert set(mediamix.__all__) <= set(dir(mediamix))
    with pytest.raises(AttributeError):
        mediamix.no_such_name  # noqa: B018


def test_dataframe_path_and_spec_give_the_same_fit(data, result, tmp_path: Path) -> None:
    path = _spec_file(data, tmp_path)
    from_path = mediamix.fit(path, ridge=QUICK)
    from_spec = mediamix.fit(mediamix.load_spec(path), ridge=QUICK)
    expected = result.summary()
    for other in (from_path, from_spec):
        summary = other.summary()
        assert summary["channels"] == expected["channels"]
        assert summary["metrics"] == expected["metrics"]


def test_summary_is_the_summary_json_of_the_cli(data, tmp_path: Path) -> None:
    from mediamix.service.fit import fit as fit_use_case

    path = _spec_file(data, tmp_path)
    outcome = fit_use_case(path, tmp_path / "fit", {"ridge": QUICK})
    written = json.loads((tmp_path / "fit" / "summary.json").read_text())
    direct = mediamix.fit(path, ridge=QUICK).summary()
    written.pop("warnings")
    assert written == json.loads(json.dumps(direct))
    assert outcome.summary["channels"] == direct["channels"]


def test_decompose_sums_to_fitted_and_matches_contributions(result) -> None:
    frame = result.decompose()
    assert list(frame.columns[:3]) == ["date", "actual", "fitted"]
    components = frame.drop(columns=["date", "actual", "fitted"]).sum(axis=1)
    np.testing.assert_allclose(components, frame["fitted"], rtol=1e-9)
    summary = result.summary()["channels"]
    for name in ("tv", "search"):
        assert frame[name].sum() == pytest.approx(summary[name]["contribution"], rel=1e-9)


def test_response_curves_are_tidy_and_pass_through_history(result) -> None:
    curves = result.response_curves()
    assert list(curves.columns) == ["channel", "multiple", "spend", "response", "marginal_roi"]
    assert set(curves["channel"]) == {"tv", "search"}
    summary = result.summary()["channels"]
    for name, group in curves.groupby("channel"):
        at = group[np.isclose(group["multiple"], 1.0)]
        assert at["response"].item() == pytest.approx(summary[name]["contribution"], rel=1e-9)
        assert at["spend"].item() == pytest.approx(summary[name]["spend"], rel=1e-9)
        assert group.sort_values("multiple")["response"].is_monotonic_increasing
        assert group[group["multiple"] == 0.0]["response"].item() == 0.0


def test_response_curves_equal_what_the_ridge_engine_stores(result) -> None:
    stored = result.summary()["info"]["response_curves"]
    curves = result.response_curves()
    for name, group in curves.groupby("channel"):
        np.testing.assert_allclose(group["response"], stored[name]["response"], rtol=1e-12)


def test_optimize_returns_the_plan_json_document(result, tmp_path: Path) -> None:
    from mediamix.service.optimize import model_response, optimize

    budget = float(result.data.spend[0].sum())
    cons = {"channels": {"tv": {"min_ratio": 0.8}}}
    plan = mediamix.optimize(result, budget=budget, constraints=cons)
    doc = plan.to_dict()
    assert sum(c["spend"] for c in doc["channels"].values()) == pytest.approx(budget)
    tv_history = float(result.data.spend[0][:, 0].sum())
    assert doc["channels"]["tv"]["spend"] >= 0.8 * tv_history - 1e-6
    # the same plan as the use case the CLI runs, from the saved model
    from mediamix.service.fit import write_fit

    folder = write_fit(result, tmp_path / "fit")
    out = tmp_path / "plan.json"
    optimize(
        {"budget": budget, "constraints": cons}, response_model=model_response(folder), out=out
    )
    assert json.loads(out.read_text()) == json.loads(json.dumps(doc))


def test_optimize_constraints_file_is_named_in_errors(result, tmp_path: Path) -> None:
    cons = tmp_path / "c.yaml"
    cons.write_text("channels:\n  tv: {min: 1.0e12}\n")
    with pytest.raises(InputError) as err:
        mediamix.optimize(result, budget=100.0, constraints=cons)
    assert err.value.problems[0].file == str(cons)


def test_optimize_weekly_plan() -> None:
    from mediamix.models.result import example_result

    plan = mediamix.optimize_weekly(
        example_result(),
        budget=1000.0,
        periods=4,
        constraints={"weeks": {"tv": {"max": [0, 0, 500, 500]}}},
    )
    doc = plan.to_dict()
    assert doc["mode"] == "weekly"
    assert doc["status"] == "converged"
    assert [row["tv"] for row in doc["weekly"][:2]] == pytest.approx([0.0, 0.0], abs=1e-6)
    assert sum(c["spend"] for c in doc["channels"].values()) == pytest.approx(1000.0)


def test_attribute_paths_and_events_from_dataframes() -> None:
    paths = pd.DataFrame({"path": ["a > b", "b", "a > c"], "total_conversions": [2, 1, 1]})
    table = mediamix.attribute(paths, "linear")
    assert table["conversions"].sum() == pytest.approx(4.0)
    events = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2"],
            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-01"],
            "channel": ["a", "b", "b"],
            "conversion": [0, 1, 1],
        }
    )
    table = mediamix.attribute(events, "first_touch")
    assert dict(zip(table["channel"], table["conversions"], strict=True)) == {"a": 1.0, "b": 1.0}


def test_attribute_mmm_from_a_decomposition_frame(result) -> None:
    dec = result.decompose()
    events = pd.DataFrame(
        {
            "user_id": ["u1", "u2"],
            "timestamp": [dec["date"].iloc[0]] * 2,
            "channel": ["tv", "search"],
            "conversion": [1, 1],
        }
    )
    table = mediamix.attribute(events, "mmm", decomposition=dec)
    assert set(table["channel"]) == {"tv", "search"}


def test_load_model_round_trip(result, tmp_path: Path) -> None:
    from mediamix.service.fit import write_fit

    folder = write_fit(result, tmp_path / "fit")
    loaded = mediamix.load_model(folder)
    assert loaded.summary() == json.loads(json.dumps(result.summary()))
    with pytest.raises(InputError) as err:
        mediamix.load_model("models:/mmm/1")
    assert err.value.problems[0].column == "model"


def test_synth_writes_files(tmp_path: Path) -> None:
    data = mediamix.synth(tmp_path / "s", seed=2, weeks=30, channels=1)
    assert (tmp_path / "s" / "spec.yaml").is_file()
    assert len(pd.read_csv(tmp_path / "s" / "synth.csv")) == len(data.frame) == 30


@pytest.mark.parametrize(
    ("call", "column"),
    [
        (lambda df: mediamix.fit(df, engine="glm", **ROLES), "engine"),
        (
            lambda df: mediamix.fit(df, engine="bayes", sampler={"chains": 0}, **ROLES),
            "sampler.chains",
        ),
        (lambda df: mediamix.fit(df, sampler={"method": "map"}, **ROLES), "engine"),
        (lambda df: mediamix.fit(df, engine="bayes", ridge={"candidates": 100}, **ROLES), "engine"),
        (lambda df: mediamix.fit(df, date="date", kpi="revenue"), "channels"),
        (lambda df: mediamix.fit(df, **ROLES, kpi_typ="revenue"), "kpi_typ"),
        (lambda df: mediamix.fit("spec.yaml", kpi="revenue"), "kpi"),
        (lambda df: mediamix.fit(df, **{**ROLES, "kpi": "sales"}), "sales"),
        (lambda df: mediamix.attribute(df, "magic"), "method"),
        (lambda df: mediamix.optimize(mediamix.load_model("x"), budget=1.0), None),
        (lambda df: mediamix.synth(weeks=5), "weeks"),
    ],
)
def test_errors_are_input_errors_naming_the_field(data, call, column) -> None:
    with pytest.raises(InputError) as err:
        call(data.frame)
    if column is not None:
        assert err.value.problems[0].column == column


def test_bad_dataframe_cells_name_row_and_column(data) -> None:
    frame = data.frame.astype({"tv_spend": object}).copy()
    frame.loc[3, "tv_spend"] = "$1,234"
    with pytest.raises(InputError) as err:
        mediamix.fit(frame, **ROLES)
    problem = err.value.problems[0]
    assert (problem.file, problem.row, problem.column) == ("DataFrame", 4, "tv_spend")


def test_optimize_rejects_bad_options(result) -> None:
    with pytest.raises(InputError) as err:
        mediamix.optimize(result, budget=-1.0, objective="profit")
    assert {p.column for p in err.value.problems} == {"budget", "objective"}
