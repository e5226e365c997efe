"""Lineage: each model traces back to its spec, data file, warehouse loads and dbt models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mediamix.errors import InputError
from mediamix.io.artifacts import load_artifact, load_lineage, sha256_file
from mediamix.service.fit import fit
from mediamix.service.ingest import ingest_synthetic
from mediamix.service.transform import export_mmm_input, transform
from mediamix.warehouse.store import Warehouse

pytest.importorskip("dbt")
pytestmark = pytest.mark.warehouse


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A home with one synthetic load, built by dbt, and the mart exported."""
    from mediamix.data.synthetic import SynthConfig

    home = tmp_path_factory.mktemp("lineage") / "home"
    ingest_synthetic(home, SynthConfig(seed=2, weeks=60, channels=2))
    transform(home)
    export = home.parent / "export"
    export_mmm_input(home, export)
    return home, export


def test_each_build_exports_dbt_s_lineage_graph(built: tuple[Path, Path]) -> None:
    home, _ = built
    graph = json.loads((home / "dbt" / "lineage.json").read_text())
    manifest = json.loads((home / "dbt" / "target" / "manifest.json").read_text())
    mart = graph["nodes"]["model.mediamix.mmm_weekly_input"]
    assert mart["depends_on"] == sorted(
        manifest["nodes"]["model.mediamix.mmm_weekly_input"]["depends_on"]["nodes"]
    )
    assert (
        mart["checksum"]
        == manifest["nodes"]["model.mediamix.mmm_weekly_input"]["checksum"]["checksum"]
    )
    assert any(node["kind"] == "source" for node in graph["nodes"].values())


def _check_warehouse_part(part: dict, home: Path) -> None:
    assert part["mart"] == "mmm_weekly_input"
    with Warehouse.reader(home) as wh:
        log = wh.query("select sha256, raw_path from load_log")
    assert [load["sha256"] for load in part["loads"]] == list(log["sha256"])
    for load in part["loads"]:
        assert (home / load["raw_path"]).is_file()
    models = {m["unique_id"]: m for m in part["dbt"]["models"]}
    graph = json.loads((home / "dbt" / "lineage.json").read_text())["nodes"]
    assert "model.mediamix.mmm_weekly_input" in models
    # upstream only: every model named is an ancestor of the mart, with its checksum
    assert any(uid.startswith("source.") for uid in models)
    for uid, model in models.items():
        assert model["checksum"] == graph[uid]["checksum"]


def test_a_fit_of_the_exported_file_traces_to_loads_and_dbt_models(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    home, export = built
    outcome = fit(export / "spec.yaml", tmp_path / "fit")
    folder = outcome.out / "model"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"]["lineage.json"] == sha256_file(folder / "lineage.json")
    lineage = load_lineage(folder)
    assert lineage is not None
    assert lineage["spec"]["sha256"] == sha256_file(export / "spec.yaml")
    assert lineage["data"]["kind"] == "file"
    assert lineage["data"]["sha256"] == sha256_file(export / "mmm_weekly_input.csv")
    _check_warehouse_part(lineage["data"]["upstream"], home)

    # a changed file keeps its own checksum but loses the export's lineage
    edited = tmp_path / "edited"
    edited.mkdir()
    for name in ("spec.yaml", "mmm_weekly_input.csv", "lineage.json"):
        (edited / name).write_bytes((export / name).read_bytes())
    with open(edited / "mmm_weekly_input.csv", "a") as handle:
        handle.write("\n")
    again = fit(edited / "spec.yaml", tmp_path / "fit2")
    second = load_lineage(again.out / "model")
    assert second is not None
    assert "upstream" not in second["data"]

    # lineage.json is covered by the manifest: changing it refuses the model
    (folder / "lineage.json").write_text(json.dumps({**lineage, "spec": {}}))
    with pytest.raises(InputError, match=r"checksum mismatch for lineage\.json"):
        load_artifact(folder)


def test_a_fit_from_the_mart_traces_to_the_warehouse(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    home, export = built
    spec = yaml.safe_load((export / "spec.yaml").read_text())
    spec["data"] = "warehouse"
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    outcome = fit(tmp_path / "spec.yaml", tmp_path / "fit", home=home)
    lineage = load_lineage(outcome.out / "model")
    assert lineage is not None
    assert lineage["data"]["kind"] == "warehouse"
    _check_warehouse_part(lineage["data"], home)
    assert len(lineage["fingerprint"]) == 64


def test_models_show_prints_the_lineage_and_the_run_stores_it(
    built: tuple[Path, Path], tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    from mediamix.tracking.config import TrackingConfig

    _, export = built
    home = tmp_path / "home"
    monkeypatch.setenv("MEDIAMIX_HOME", str(home))
    monkeypatch.setenv("MEDIAMIX_TRACKING", "true")
    monkeypatch.delenv("MEDIAMIX_TRACKING_URI", raising=False)
    run = run_cli(["fit", export / "spec.yaml", "--out", tmp_path / "fit"])
    assert run.code == 0, run.err
    registered = run_cli(["models", "register", tmp_path / "fit", "--name", "lineage_demo"])
    assert registered.code == 0, registered.err
    shown = run_cli(["models", "show", "models:/lineage_demo/1"])
    assert shown.code == 0, shown.err
    lineage = load_lineage(tmp_path / "fit" / "model")
    assert lineage is not None
    assert "lineage:" in shown.out
    assert lineage["data"]["sha256"][:12] in shown.out
    assert "from warehouse mart mmm_weekly_input" in shown.out
    assert "dbt model.mediamix.mmm_weekly_input" in shown.out
    as_json = json.loads(run_cli(["models", "show", "models:/lineage_demo/1", "--json"]).out)
    assert as_json["lineage"] == lineage

    run_id = json.loads((tmp_path / "fit" / "summary.json").read_text())["tracking"]["run_id"]
    client = MlflowClient(tracking_uri=TrackingConfig(home=home).uri)
    stored = client.download_artifacts(run_id, "lineage.json", str(tmp_path))
    assert json.loads(Path(stored).read_text()) == lineage
