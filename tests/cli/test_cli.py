"""The CLI tour: help, fit on the shipped examples, decompose, report (the demo: test_demo.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]


def test_help_lists_commands(run_cli):
    res = run_cli(["--help"])
    assert res.code == 0
    for command in (
        "validate",
        "synth",
        "fit",
        "decompose",
        "optimize",
        "attribute",
        "report",
        "demo",
    ):
        assert command in res.out


def test_unknown_option_is_usage_error(run_cli):
    res = run_cli(["fit", "--nope"])
    assert res.code == 2


def test_unknown_engine_exit_2(run_cli, tmp_path):
    spec = REPO / "examples" / "pymc-marketing-mmm-example" / "spec.yaml"
    res = run_cli(["fit", spec, "--out", tmp_path / "o", "--engine", "magic"])
    assert res.code == 2
    assert "unknown engine 'magic'" in res.err
    assert not (tmp_path / "o").exists()


EXAMPLES = sorted(p.parent.name for p in (REPO / "examples").glob("*/spec.yaml"))


def test_every_example_is_listed():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("example", EXAMPLES)
def test_fit_examples_write_three_outputs(run_cli, tmp_path, example):
    spec = REPO / "examples" / example / "spec.yaml"
    out = tmp_path / "fit"
    res = run_cli(["fit", spec, "--out", out])
    assert res.code == 0, res.err
    summary = json.loads((out / "summary.json").read_text())
    dec = pd.read_csv(out / "decomposition.csv")
    assert (out / "model" / "manifest.json").is_file()
    assert summary["n_periods"] == len(dec)
    parts = dec.drop(columns=["date", "actual", "fitted"]).sum(axis=1)
    np.testing.assert_allclose(parts, dec["fitted"], rtol=1e-6)
    for channel in summary["channels"].values():
        assert channel["spend"] > 0
        assert np.isfinite(channel["contribution"])
    assert summary["metrics"]["r2"] > 0.5


def test_synth_fit_decompose_report(run_cli, tmp_path):
    data = tmp_path / "data"
    assert (
        run_cli(["synth", "--out", data, "--seed", "3", "--weeks", "104", "--channels", "3"]).code
        == 0
    )
    assert {p.name for p in data.iterdir()} == {"synth.csv", "spec.yaml", "truth.json"}
    fit = tmp_path / "fit"
    assert run_cli(["fit", data / "spec.yaml", "--out", fit, "--seed", "1"]).code == 0
    dec_path = tmp_path / "dec.csv"
    assert run_cli(["decompose", fit, "--out", dec_path]).code == 0
    pd.testing.assert_frame_equal(pd.read_csv(dec_path), pd.read_csv(fit / "decomposition.csv"))
    report = tmp_path / "report.html"
    res = run_cli(["report", fit, "--out", report, "--pdf", tmp_path / "report.pdf"])
    assert res.code == 0, res.err
    html = report.read_text()
    assert "<svg" in html
    # opens offline: nothing is fetched from elsewhere
    for external in ('src="http', "src='http", 'href="http', "@import", "<script src"):
        assert external not in html
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")


def test_refit_is_deterministic(run_cli, tmp_path):
    data = tmp_path / "data"
    run_cli(["synth", "--out", data, "--seed", "9", "--weeks", "80", "--channels", "2"])
    run_cli(["fit", data / "spec.yaml", "--out", tmp_path / "a", "--seed", "4"])
    run_cli(["fit", data / "spec.yaml", "--out", tmp_path / "b", "--seed", "4"])
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert a == b


def test_tampered_model_is_refused(run_cli, tmp_path):
    data = tmp_path / "data"
    run_cli(["synth", "--out", data, "--seed", "2", "--weeks", "80", "--channels", "2"])
    run_cli(["fit", data / "spec.yaml", "--out", tmp_path / "fit"])
    meta = tmp_path / "fit" / "model" / "model.json"
    meta.write_text(meta.read_text().replace('"engine": "ridge"', '"engine": "ridge "'))
    res = run_cli(["report", tmp_path / "fit", "--out", tmp_path / "r.html"])
    assert res.code == 2
    assert "checksum mismatch for model.json" in res.err
    assert not (tmp_path / "r.html").exists()


def test_import_is_light():
    code = (
        "import sys, mediamix, mediamix.data.validation, mediamix.models.ridge, mediamix.cli.app,"
        " mediamix.orchestration;"
        "heavy = ['fastapi', 'mlflow', 'duckdb', 'jax', 'numpyro', 'matplotlib', 'plotly', 'pyspark',"
        " 'airflow', 'dbt', 'boto3', 'botocore'];"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_optimize_from_fitted_model(run_cli, tmp_path):
    data = tmp_path / "data"
    run_cli(["synth", "--out", data, "--seed", "5", "--weeks", "104", "--channels", "3"])
    run_cli(["fit", data / "spec.yaml", "--out", tmp_path / "fit"])
    summary = json.loads((tmp_path / "fit" / "summary.json").read_text())
    current = sum(c["spend"] for c in summary["channels"].values())
    plan_path = tmp_path / "plan.json"
    res = run_cli(
        ["optimize", "--model", tmp_path / "fit", "--budget", str(current), "--out", plan_path]
    )
    assert res.code == 0, res.err
    plan = json.loads(plan_path.read_text())
    assert np.isclose(sum(c["spend"] for c in plan["channels"].values()), current, rtol=1e-6)
    # at the same budget the optimum is at least as good as the historical split
    historical = sum(c["contribution"] for c in summary["channels"].values())
    assert plan["total_response"] >= historical * (1 - 1e-9)
    # a 13-week plan uses the last 13 weeks' pattern: a quarter of the budget
    res = run_cli(
        [
            "optimize",
            "--model",
            tmp_path / "fit",
            "--budget",
            str(current / 8),
            "--periods",
            "13",
            "--out",
            tmp_path / "q.json",
        ]
    )
    assert res.code == 0, res.err
    bad = run_cli(["optimize", "--model", tmp_path / "fit", "--budget", "10", "--periods", "0"])
    assert bad.code == 2
    assert "--periods" in bad.err


def test_airflow_dags_path_prints_the_packaged_dag_folder(run_cli):
    res = run_cli(["airflow", "dags-path"])
    assert res.code == 0, res.err
    folder = Path(res.out.strip())
    assert sorted(p.name for p in folder.glob("mediamix_*.py")) == [
        "mediamix_ingest.py",
        "mediamix_optimize.py",
        "mediamix_train.py",
    ]
