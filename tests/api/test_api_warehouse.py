"""``/v1/warehouse``: a tenant's own warehouse fed from its datasets, dbt models run as
a job, and the mart stored as a dataset that fits like an uploaded one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import upload
from mediamix.api.config import ApiConfig
from mediamix.api.worker import run_worker

pytestmark = pytest.mark.warehouse

pytest.importorskip("duckdb")


def _job(client: TestClient, h: dict[str, str], config: ApiConfig, job_id: str) -> dict[str, Any]:
    assert run_worker(config, once=True) == 1
    job = client.get(f"/v1/jobs/{job_id}", headers=h).json()
    assert job["state"] == "succeeded", job
    return dict(job["result"])


def test_ingest_transform_export_then_fit(
    client: TestClient, key_for: Any, synth_dir: Path, api_config: ApiConfig
) -> None:
    h = key_for("acme", "data:write", "data:read", "model:train", "model:read")
    dataset = upload(client, h, synth_dir).json()["id"]

    r = client.post(
        "/v1/warehouse/ingest", headers=h, json={"dataset_id": dataset, "account": "brand"}
    )
    assert r.status_code == 202, r.text
    load = _job(client, h, api_config, r.json()["job_id"])["load"]
    assert load["status"] == "loaded"
    assert load["account"] == "brand"
    assert load["media_rows"] == 80 * 2
    again = client.post(
        "/v1/warehouse/ingest", headers=h, json={"dataset_id": dataset, "account": "brand"}
    )
    assert _job(client, h, api_config, again.json()["job_id"])["load"]["status"] == "unchanged"
    assert (api_config.root / "tenants" / "acme" / "warehouse" / "warehouse.duckdb").is_file()

    r = client.post("/v1/warehouse/transform", headers=h, json={"export": True})
    assert r.status_code == 202, r.text
    result = _job(client, h, api_config, r.json()["job_id"])
    assert result["counts"].get("error", 0) == 0
    assert result["counts"].get("success", 0) > 0
    mart = client.get(f"/v1/datasets/{result['dataset_id']}", headers=h).json()
    assert mart["data_file"] == "mmm_weekly_input.csv"
    assert mart["n_periods"] == 80
    assert sorted(mart["channels"]) == ["search", "tv"]

    fit = client.post("/v1/models", headers=h, json={"dataset_id": mart["id"]}).json()
    assert _job(client, h, api_config, fit["job_id"]) == {"model_id": fit["model_id"]}
    summary = client.get(f"/v1/models/{fit['model_id']}/summary", headers=h).json()
    assert summary["n_periods"] == 80


def test_another_tenants_dataset_is_not_found_and_scopes_hold(
    client: TestClient, key_for: Any, synth_dir: Path
) -> None:
    owner = key_for("acme", "data:write")
    dataset = upload(client, owner, synth_dir).json()["id"]
    stranger = key_for("globex", "data:write")
    foreign = client.post("/v1/warehouse/ingest", headers=stranger, json={"dataset_id": dataset})
    missing = client.post("/v1/warehouse/ingest", headers=stranger, json={"dataset_id": "e" * 32})
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    reader = key_for("acme", "data:read")
    assert client.post("/v1/warehouse/transform", headers=reader, json={}).status_code == 403
    bad = client.post(
        "/v1/warehouse/ingest", headers=owner, json={"dataset_id": dataset, "account": "../x"}
    )
    assert bad.status_code == 422
