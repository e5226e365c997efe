"""``POST /v1/models/{id}/optimize``: scenarios, frontier and weekly plans over HTTP,
equal to the service's plans for the same model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from conftest import upload
from mediamix.api.config import ApiConfig
from mediamix.api.worker import run_worker
from mediamix.service.optimize import model_response, optimize
from mediamix.service.weekly import optimize_weekly


def _fit(
    client: TestClient, h: dict[str, str], config: ApiConfig, folder: Path, spec: bytes
) -> str:
    r = upload(client, h, folder, spec=("spec.yaml", spec))
    assert r.status_code == 201, r.text
    started = client.post("/v1/models", headers=h, json={"dataset_id": r.json()["id"]}).json()
    assert run_worker(config, once=True) == 1
    return str(started["model_id"])


def test_scenarios_frontier_and_weekly_plans(
    client: TestClient, key_for: Any, synth_dir: Path, api_config: ApiConfig
) -> None:
    h = key_for("acme", "admin")
    spec = yaml.safe_load((synth_dir / "spec.yaml").read_text())
    free = _fit(client, h, api_config, synth_dir, yaml.safe_dump(spec).encode())
    folder = api_config.root / "tenants" / "acme" / "models" / free

    what_if = {"all_tv": {"tv": 40000.0, "search": 0.0}}
    body = {"budget": 40000.0, "scenarios": what_if, "frontier": True, "risk_level": None}
    r = client.post(f"/v1/models/{free}/optimize", headers=h, json=body)
    assert r.status_code == 200, r.text
    plan = r.json()
    expected = optimize(
        {"budget": 40000.0, "scenarios": what_if, "frontier": True, "risk_level": None},
        response_model=model_response(folder),
    ).to_dict()
    assert plan["scenarios"] == expected["scenarios"]
    assert "all_tv" in str(plan["scenarios"])
    assert plan["frontier"] == expected["frontier"]
    bad = client.post(
        f"/v1/models/{free}/optimize",
        headers=h,
        json={"budget": 1000.0, "scenarios": {"x": {"radio": 1.0}}},
    )
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["file"] == "scenarios"

    refused = client.post(
        f"/v1/models/{free}/optimize", headers=h, json={"budget": 40000.0, "weekly": True}
    )
    summary = client.get(f"/v1/models/{free}/summary", headers=h).json()
    kinds = {c["adstock"]["type"] for c in summary["channels"].values()}
    if kinds == {"geometric"}:
        assert refused.status_code == 200, refused.text
    else:  # weekly plans need geometric carry-over on every channel
        assert refused.status_code == 422, refused.text
        assert "geometric" in refused.text

    for channel in spec["channels"].values():
        channel["adstock"] = {"type": "geometric"}
    geometric = _fit(client, h, api_config, synth_dir, yaml.safe_dump(spec).encode())
    body = {"budget": 30000.0, "periods": 8, "weekly": True}
    r = client.post(f"/v1/models/{geometric}/optimize", headers=h, json=body)
    assert r.status_code == 200, r.text
    weekly = r.json()
    expected_weekly = optimize_weekly(
        api_config.root / "tenants" / "acme" / "models" / geometric, body
    ).to_dict()
    assert weekly == expected_weekly
    assert weekly["status"] in ("converged", "iteration_limit")

    # the same weekly plan made by a job
    queued = client.post(f"/v1/models/{geometric}/optimize?as_job=true", headers=h, json=body)
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["job_id"]
    assert queued.headers["location"] == f"/v1/jobs/{job_id}"
    assert run_worker(api_config, once=True) == 1
    job = client.get(f"/v1/jobs/{job_id}", headers=h).json()
    assert job["state"] == "succeeded", job
    assert job["result"]["plan"] == expected_weekly
