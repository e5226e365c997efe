"""A tracked refresh: an MLflow run linked to its parent, registered and made challenger."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.service.refresh import refresh
from mediamix.service.registry import list_models, promote_model, register_model


def _new_weeks(fit_out: Path, tmp_path: Path) -> Path:
    """13 weeks that follow the fitted window (same columns as the fit's data)."""
    summary = json.loads((fit_out / "summary.json").read_text())
    longer = synthesize(SynthConfig(seed=5, weeks=summary["n_periods"] + 13, channels=2))
    frame = longer.frame.iloc[summary["n_periods"] :]
    assert pd.Timestamp(frame["date"].iloc[0]) > pd.Timestamp(summary["end"])
    path = tmp_path / "new.csv"
    frame.to_csv(path, index=False)
    return path


def test_refresh_of_the_champion_is_a_child_run_and_becomes_challenger(
    tracked_fit, embedded, tmp_path
):
    from mlflow.tracking import MlflowClient

    name = f"refresh_{tmp_path.name[-10:].replace('-', '_')}"
    parent = json.loads((tracked_fit.out / "summary.json").read_text())["tracking"]["run_id"]
    first = register_model(tracked_fit.out, name, embedded)
    promote_model(name, int(first["version"]), "champion", embedded)

    outcome = refresh(
        f"models:/{name}@champion",
        _new_weeks(tracked_fit.out, tmp_path),
        tmp_path / "refreshed",
        registry=embedded,
        tracking=embedded,
    )
    assert outcome.report["parent_run_id"] == parent
    run_id = outcome.summary["tracking"]["run_id"]
    client = MlflowClient(tracking_uri=embedded.uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.parentRunId"] == parent
    assert run.data.tags["mediamix.source"].startswith(f"refresh of models:/{name}@champion")
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"summary.json", "decomposition.csv", "model"} <= artifacts

    second = register_model(tmp_path / "refreshed", name, embedded)
    promote_model(name, int(second["version"]), "challenger", embedded)
    versions = {m["name"]: m for m in list_models(embedded)}[name]["versions"]
    assert [v["aliases"] for v in versions] == [["champion"], ["challenger"]]
