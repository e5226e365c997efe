"""A tracked refresh: an MLflow run linked to its parent, registered and made challenger."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mediamix.cli.models import lineage_lines
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.io.artifacts import load_lineage, sha256_file
from mediamix.service.refresh import refresh
from mediamix.service.registry import list_models, promote_model, register_model, show_model
from mediamix.service.schedule import (
    TrainConfig,
    TrainingInput,
    register_and_promote,
    train_model,
    training_gate,
)


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
    assert {"summary.json", "decomposition.csv", "model", "lineage.json"} <= artifacts

    # the lineage names the registry version the alias pointed to, its manifest and
    # the fit's own lineage; the run stores it
    lineage = load_lineage(tmp_path / "refreshed" / "model")
    assert lineage is not None
    previous = lineage["previous"]
    assert previous["registry"] == {
        "name": name,
        "version": int(first["version"]),
        "run_id": previous["registry"]["run_id"],
    }
    version = client.get_model_version(name, str(first["version"]))
    assert previous["artifact_sha256"] == version.tags["mediamix.manifest_sha256"]
    assert previous["tracking"]["run_id"] == parent
    assert previous["lineage"] == load_lineage(tracked_fit.out / "model")
    assert lineage["data"]["sha256"] == sha256_file(tmp_path / "new.csv")
    stored = client.download_artifacts(run_id, "lineage.json", str(tmp_path / "dl"))
    assert json.loads(Path(stored).read_text()) == lineage

    second = register_model(tmp_path / "refreshed", name, embedded)
    promote_model(name, int(second["version"]), "challenger", embedded)
    versions = {m["name"]: m for m in list_models(embedded)}[name]["versions"]
    assert [v["aliases"] for v in versions] == [["champion"], ["challenger"]]

    # models show: the challenger's lineage, the champion's nested in it
    shown = show_model(f"models:/{name}@challenger", embedded)
    assert shown["lineage"] == lineage
    text = lineage_lines(shown["lineage"])
    assert (
        f"  refresh of models:/{name}@champion = models:/{name}/{first['version']}, "
        in "\n".join(text)
    )
    assert "  previous model's lineage:" in text
    assert any(line.startswith("    spec: ") for line in text)  # the fit's, indented


REF_WEEKS, NEW_WEEKS = 80, 13


def _stationary(rng: np.random.Generator, weeks: int, *, tv: float = 1.0) -> pd.DataFrame:
    """Weeks drawn independently around fixed levels (no trend, no flighting)."""
    spend = {
        "tv_spend": rng.lognormal(np.log(5000), 0.4, weeks) * tv,
        "search_spend": rng.lognormal(np.log(3000), 0.3, weeks),
        "social_spend": rng.lognormal(np.log(1500), 0.5, weeks),
    }
    price = rng.normal(100, 2, weeks)
    revenue = 50000 + 3 * spend["tv_spend"] ** 0.8 + 4 * spend["search_spend"] ** 0.8
    revenue = revenue - 300 * (price - 100) + rng.normal(0, 1500, weeks)
    return pd.DataFrame({"revenue": revenue, **spend, "price_index": price})


def _write_input(frame: pd.DataFrame, folder: Path) -> TrainingInput:
    import hashlib

    import yaml

    frame = frame.copy()
    frame.insert(0, "date", pd.date_range("2022-01-03", periods=len(frame), freq="7D"))
    folder.mkdir(parents=True)
    frame.to_csv(folder / "data.csv", index=False)
    spec = {
        "data": "data.csv",
        "date": "date",
        "kpi": "revenue",
        "kpi_type": "revenue",
        "channels": {c: {"spend": f"{c}_spend"} for c in ("tv", "search", "social")},
        "controls": ["price_index"],
        "seasonality": 0,
    }
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    digest = hashlib.sha256((folder / "data.csv").read_bytes()).hexdigest()
    return TrainingInput(folder / "spec.yaml", folder / "data.csv", digest, len(frame))


@pytest.fixture(scope="module")
def weekly(embedded, tmp_path_factory) -> dict[str, TrainingInput]:
    """A champion fitted on 80 stationary weeks, and two later inputs with 13 new weeks:
    one from the same distribution, one with TV's spend tripled."""
    from mediamix.service.fit import fit

    root = tmp_path_factory.mktemp("weekly")
    rng = np.random.default_rng(11)
    history = _stationary(rng, REF_WEEKS)
    steady, tripled = _stationary(rng, NEW_WEEKS), _stationary(rng, NEW_WEEKS, tv=3.0)
    first = _write_input(history, root / "first")
    fitted = fit(first.spec, root / "fit", tracking=embedded)
    return {
        "fit": fitted.out,
        "steady": _write_input(pd.concat([history, steady], ignore_index=True), root / "steady"),
        "tripled": _write_input(pd.concat([history, tripled], ignore_index=True), root / "tripled"),
    }


def _champion_of(name: str, folder: Path, embedded) -> TrainConfig:
    first = register_model(folder, name, embedded)
    promote_model(name, int(first["version"]), "champion", embedded)
    return TrainConfig(model_name=name, strategy="refresh", drift_weeks=8)


def _versions(name: str, embedded) -> list[dict]:
    return {m["name"]: m for m in list_models(embedded)}[name]["versions"]


def test_the_refresh_strategy_trains_only_when_drift_says_so(weekly, embedded, tmp_path):
    train = _champion_of("steady", weekly["fit"], embedded)
    steady = weekly["steady"]
    gate = training_gate(tmp_path / "gate", steady, train, embedded)
    assert gate["train"] is False, gate
    assert json.loads(Path(gate["drift"]["json"]).read_text())["retrain"] is False
    trained = train_model(steady, tmp_path / "fit", train, embedded, gate)
    assert trained == {"model": None, "version": None, "skipped": True, "reason": gate["reason"]}
    assert register_and_promote(trained, steady, train, embedded, tmp_path)["registered"] is False
    assert [v["version"] for v in _versions("steady", embedded)] == [1]

    # refit ignores the drift signal; with no champion, refresh fits from scratch
    refit = train.model_copy(update={"strategy": "refit"})
    assert training_gate(tmp_path / "g2", steady, refit, embedded)["train"] is True
    fresh = train.model_copy(update={"model_name": "never_registered"})
    assert training_gate(tmp_path / "g3", steady, fresh, embedded) == {
        "train": True,
        "refresh": None,
        "reason": "no champion yet: a fit from scratch",
    }


def test_drift_refreshes_the_champion_into_a_challenger_once(weekly, embedded, tmp_path):
    train = _champion_of("drifting", weekly["fit"], embedded)
    tripled = weekly["tripled"]
    gate = training_gate(tmp_path / "gate", tripled, train, embedded)
    assert gate["train"] is True, gate
    assert gate["refresh"] == "models:/drifting/1"
    assert any(
        "tv spend" in r for r in json.loads(Path(gate["drift"]["json"]).read_text())["reasons"]
    )

    trained = train_model(tripled, tmp_path / "fit", train, embedded, gate)
    assert trained["refreshed_from"] == "models:/drifting/1"
    refreshed = json.loads((Path(trained["model"]) / "refresh.json").read_text())
    assert refreshed["new_periods"] == NEW_WEEKS
    lineage = load_lineage(Path(trained["model"]) / "model")
    assert lineage is not None
    assert lineage["previous"]["registry"]["version"] == 1
    # the new weeks the gate cut from the prepared input, with their checksum
    assert lineage["data"]["sha256"] == sha256_file(Path(lineage["data"]["path"]))
    assert len(pd.read_csv(lineage["data"]["path"])) == NEW_WEEKS
    cut = lineage["data"]["upstream"]["export"]
    assert cut["cut_from"]["sha256"] == sha256_file(tripled.data)
    assert cut["period"][0] > json.loads((weekly["fit"] / "summary.json").read_text())["end"]
    registered = register_and_promote(trained, tripled, train, embedded, tmp_path)
    assert (registered["version"], registered["registered"]) == (2, True)
    aliases = _versions("drifting", embedded)[1]["aliases"]
    assert aliases == (["champion"] if registered["promoted"] else ["challenger"])

    # the same interval again: that input is registered already, nothing is trained
    again = train_model(tripled, tmp_path / "fit2", train, embedded, gate)
    assert again == {"model": None, "version": 2, "skipped": True}
