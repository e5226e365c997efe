"""Every fit is an MLflow run: parameters, metrics, tags, artifacts; failures end FAILED."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from mediamix.tracking.config import TrackingConfig
from mediamix.tracking.fingerprint import data_fingerprint


def _client(config: TrackingConfig):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=config.uri)


def test_fit_is_a_finished_run_with_everything_logged(tracked_fit, embedded):
    summary = json.loads((tracked_fit.out / "summary.json").read_text())
    ref = summary["tracking"]
    assert ref["tracking_uri"] == embedded.uri
    assert embedded.uri.startswith("sqlite:///")
    assert str(embedded.home) in embedded.uri
    run = _client(embedded).get_run(ref["run_id"])
    assert run.info.status == "FINISHED"
    data = tracked_fit.result.data
    assert run.data.tags["mediamix.data_fingerprint"] == data_fingerprint(data)
    assert run.data.tags["mediamix.version"]
    assert len(run.data.tags["mediamix.spec_hash"]) == 64
    # the package is a git checkout here, so the commit is known
    assert len(run.data.tags.get("mediamix.git_commit", "")) == 40
    assert run.data.params["engine"] == "ridge"
    assert run.data.params["seed"] == "0"
    for name in data.channels:
        assert json.loads(run.data.params[f"{name}.adstock"])["type"]
        assert run.data.metrics[f"roi.{name}"] == pytest.approx(summary["channels"][name]["roi"])
    assert run.data.metrics["nrmse"] == pytest.approx(summary["metrics"]["nrmse"])
    assert run.data.metrics["holdout_nrmse"] == pytest.approx(summary["info"]["holdout_nrmse"])
    listed = {a.path for a in _client(embedded).list_artifacts(ref["run_id"])}
    assert {"summary.json", "decomposition.csv", "model", "spec"} <= listed
    model_files = {a.path for a in _client(embedded).list_artifacts(ref["run_id"], "model")}
    assert model_files == {
        "model/model.json",
        "model/arrays.npz",
        "model/manifest.json",
        "model/lineage.json",
    }
    # the logged summary is the written one, tracking block included
    local = _client(embedded).download_artifacts(ref["run_id"], "summary.json")
    assert json.loads(Path(local).read_text()) == summary


def test_a_failed_fit_leaves_a_failed_run_and_no_output(
    synth_spec, embedded, tmp_path, monkeypatch
):
    from mediamix.service import fit as fit_service

    def broken(*args, **kwargs):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(fit_service, "fit_loaded", broken)
    client = _client(embedded)
    experiment = client.get_experiment_by_name(embedded.experiment)
    known = (
        {r.info.run_id for r in client.search_runs([experiment.experiment_id])}
        if experiment
        else set()
    )
    with pytest.raises(RuntimeError, match="solver exploded"):
        fit_service.fit(synth_spec, tmp_path / "out", tracking=embedded)
    assert not (tmp_path / "out").exists()
    experiment = client.get_experiment_by_name(embedded.experiment)
    new = [r for r in client.search_runs([experiment.experiment_id]) if r.info.run_id not in known]
    assert len(new) == 1
    assert new[0].info.status == "FAILED"
    assert "solver exploded" in new[0].data.tags["mediamix.error"]


def test_untracked_fit_has_no_tracking_block(synth_spec, tmp_path):
    from mediamix.service.fit import fit

    off = TrackingConfig(home=tmp_path / "home", enabled=False)
    outcome = fit(synth_spec, tmp_path / "out", tracking=off)
    assert "tracking" not in json.loads((tmp_path / "out" / "summary.json").read_text())
    assert outcome.summary.get("tracking") is None
    assert not (tmp_path / "home").exists()


def test_cli_tracks_by_default_and_no_track_turns_it_off(
    run_cli, synth_spec, tmp_path, monkeypatch
):
    monkeypatch.setenv("MEDIAMIX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MEDIAMIX_TRACKING", "true")
    done = run_cli(["fit", synth_spec, "--out", tmp_path / "a", "--no-track"])
    assert done.code == 0, done.err
    assert "tracking" not in json.loads((tmp_path / "a" / "summary.json").read_text())
    done = run_cli(["fit", synth_spec, "--out", tmp_path / "b"])
    assert done.code == 0, done.err
    ref = json.loads((tmp_path / "b" / "summary.json").read_text())["tracking"]
    assert ref["run_id"] in done.out
    assert (tmp_path / "home" / "mlflow" / "mlflow.db").is_file()


def test_fingerprint_follows_values_not_layout(tracked_fit):
    data = tracked_fit.result.data
    same = dataclasses.replace(data, spend=data.spend.copy())
    assert data_fingerprint(same) == data_fingerprint(data)
    spend = data.spend.copy()
    spend[0, 3, 0] += 1.0
    assert data_fingerprint(dataclasses.replace(data, spend=spend)) != data_fingerprint(data)
    shorter = dataclasses.replace(
        data,
        dates=data.dates[:-1],
        kpi=data.kpi[:, :-1],
        spend=data.spend[:, :-1],
        controls=data.controls[:, :-1],
        organic=data.organic[:, :-1],
        events=data.events[:, :-1],
        exposure={k: v[:, :-1] for k, v in data.exposure.items()},
    )
    assert data_fingerprint(shorter) != data_fingerprint(data)
