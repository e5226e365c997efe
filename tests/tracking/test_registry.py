"""Registry end to end, on the embedded SQLite store and on a real ``mlflow server``.

The server is started by the test on 127.0.0.1 with a free port, a SQLite backend
and a local artifact root: log, register, alias, load, promote, refuse tampering.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from mediamix.tracking.config import TrackingConfig

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("server")
    port = _free_port()
    log = open(root / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            str(BIN / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'server.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 240
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            log.close()
            raise AssertionError((root / "server.log").read_text()[-3000:])
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(params=["embedded", "server"])
def store(request, tmp_path, monkeypatch) -> TrackingConfig:
    home = tmp_path / "home"
    monkeypatch.setenv("MEDIAMIX_HOME", str(home))
    monkeypatch.setenv("MEDIAMIX_TRACKING", "true")
    if request.param == "server":
        uri = request.getfixturevalue("mlflow_server")
        monkeypatch.setenv("MEDIAMIX_TRACKING_URI", uri)
        return TrackingConfig(home=home, tracking_uri=uri)
    monkeypatch.delenv("MEDIAMIX_TRACKING_URI", raising=False)
    return TrackingConfig(home=home)


def test_log_register_alias_load_and_refuse_tampering(store, synth_spec, tmp_path, run_cli):
    from mlflow.tracking import MlflowClient

    name = f"brand_{tmp_path.name[-12:].replace('-', '_')}"
    fit = run_cli(["fit", synth_spec, "--out", tmp_path / "fit"])
    assert fit.code == 0, fit.err
    ref = json.loads((tmp_path / "fit" / "summary.json").read_text())["tracking"]
    assert ref["tracking_uri"] == store.uri
    client = MlflowClient(tracking_uri=store.uri, registry_uri=store.uri)
    assert client.get_run(ref["run_id"]).info.status == "FINISHED"

    first = run_cli(["models", "register", tmp_path / "fit", "--name", name])
    assert first.code == 0, first.err
    second = run_cli(["models", "register", tmp_path / "fit", "--name", name])
    assert (first.out.strip(), second.out.strip()) == ("1", "2")

    listed = run_cli(["models", "list", "--json"])
    assert listed.code == 0, listed.err
    models = {m["name"]: m for m in json.loads(listed.out)}
    assert [v["version"] for v in models[name]["versions"]] == [1, 2]
    assert all(v["aliases"] == [] for v in models[name]["versions"])
    version = models[name]["versions"][0]
    assert version["tags"]["mediamix.fit_run_id"] == ref["run_id"]

    promoted = run_cli(["models", "promote", name, "1", "--alias", "champion"])
    assert promoted.code == 0, promoted.err
    challenger = run_cli(["models", "promote", name, "2", "--alias", "challenger"])
    assert challenger.code == 0, challenger.err
    models = {m["name"]: m for m in json.loads(run_cli(["models", "list", "--json"]).out)}
    assert [v["aliases"] for v in models[name]["versions"]] == [["champion"], ["challenger"]]
    record = json.loads(client.get_model_version(name, "1").tags["mediamix.promotion.champion"])
    assert record["accepted"]
    assert record["decided_by"]

    # registry references wherever --model is accepted
    plan = run_cli(
        [
            "optimize",
            "--model",
            f"models:/{name}@champion",
            "--budget",
            "50000",
            "--no-risk",
            "--out",
            tmp_path / "plan.json",
        ]
    )
    assert plan.code == 0, plan.err
    from_folder = run_cli(
        [
            "optimize",
            "--model",
            tmp_path / "fit",
            "--budget",
            "50000",
            "--no-risk",
            "--out",
            tmp_path / "plan_folder.json",
        ]
    )
    assert from_folder.code == 0, from_folder.err
    assert json.loads((tmp_path / "plan.json").read_text()) == json.loads(
        (tmp_path / "plan_folder.json").read_text()
    )
    dec = run_cli(["decompose", f"models:/{name}/2", "--out", tmp_path / "d.csv"])
    assert dec.code == 0, dec.err
    expected = pd.read_csv(tmp_path / "fit" / "decomposition.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "d.csv"), expected)

    # the Python API resolves the same references, given where the registry is
    import mediamix

    via_api = mediamix.load_model(
        f"models:/{name}@champion", home=tmp_path / "api-home", tracking_uri=store.uri
    )
    assert via_api.summary() == json.loads(
        json.dumps(mediamix.load_model(tmp_path / "fit").summary())
    )

    # the pyfunc flavour loads through MLflow itself (models-from-code, no pickle)
    import mlflow

    mlflow.set_tracking_uri(store.uri)
    mlflow.set_registry_uri(store.uri)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    spend = pd.read_csv(synth_spec.parent / "synth.csv")
    channels = [c for c in expected.columns if c.endswith(("tv", "search", "social", "display"))]
    assert channels
    from mediamix.service.fit import load_model

    result = load_model(tmp_path / "fit")
    plan_frame = pd.DataFrame(result.data.spend[0], columns=list(result.channel_names))
    predicted = pyfunc.predict(plan_frame)
    for c in result.channel_names:
        assert predicted[f"contribution.{c}"].to_numpy() == pytest.approx(expected[c].to_numpy())
    assert len(spend) == len(predicted)

    # a cached copy whose files no longer match is refused (exit 2), nothing written
    cached = store.cache_dir / name / "2" / "artifacts" / "model"
    meta = json.loads((cached / "model.json").read_text())
    meta["intercept"] = 0.0
    (cached / "model.json").write_text(json.dumps(meta))
    bad = run_cli(["decompose", f"models:/{name}/2", "--out", tmp_path / "bad.csv"])
    assert bad.code == 2
    assert "checksum mismatch" in bad.err
    assert not (tmp_path / "bad.csv").exists()

    # a rewritten manifest that matches its files is still refused: the registry
    # recorded the manifest's checksum at registration
    from mediamix.io.artifacts import sha256_file

    manifest = json.loads((cached / "manifest.json").read_text())
    manifest["files"]["model.json"] = sha256_file(cached / "model.json")
    (cached / "manifest.json").write_text(json.dumps(manifest))
    bad = run_cli(["decompose", f"models:/{name}/2", "--out", tmp_path / "bad.csv"])
    assert bad.code == 2
    assert "not the one registered" in bad.err

    # unknown references: exit 2
    missing = run_cli(["optimize", "--model", f"models:/{name}/9", "--budget", "1"])
    assert missing.code == 2
    assert "not in the registry" in missing.err
    shutil.rmtree(store.cache_dir)


def test_compare_shows_metrics_roi_contributions_and_plans(run_cli, tracked_fit, tmp_path):
    done = run_cli(
        [
            "models",
            "compare",
            tracked_fit.out,
            tracked_fit.out / "model",
            "--budget",
            "40000",
            "--json",
        ]
    )
    assert done.code == 0, done.err
    compared = json.loads(done.out)
    summary = tracked_fit.summary
    assert compared["a"]["metrics"] == summary["metrics"]
    for name, row in compared["channels"].items():
        assert row["a"]["roi"] == pytest.approx(summary["channels"][name]["roi"])
        assert row["contribution_difference"] == pytest.approx(0.0)
        assert row["shared_periods"] == summary["n_periods"]
    for plan in compared["plans"].values():
        assert sum(c["spend"] for c in plan["channels"].values()) == pytest.approx(40000, rel=1e-6)
    assert compared["plans"]["a"] == compared["plans"]["b"]
