"""``POST /v1/models/{id}/report``: the executive report of a model and a plan over
HTTP, byte for byte the CLI's ``report MODEL --plan plan.json --pdf`` for the same
model and plan; bad plans answer 422 with every problem and nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from conftest import upload
from mediamix.api.config import ApiConfig
from mediamix.api.worker import run_worker


def _fit(client: TestClient, h: dict[str, str], config: ApiConfig, folder: Path) -> str:
    r = upload(client, h, folder)
    assert r.status_code == 201, r.text
    started = client.post("/v1/models", headers=h, json={"dataset_id": r.json()["id"]}).json()
    assert run_worker(config, once=True) == 1
    return str(started["model_id"])


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if "api" not in p.parts[:1])


def test_report_with_a_plan_equals_the_cli(
    client: TestClient,
    key_for: Any,
    synth_dir: Path,
    api_config: ApiConfig,
    run_cli: Any,
    tmp_path: Path,
) -> None:
    h = key_for("acme", "admin")
    model = _fit(client, h, api_config, synth_dir)
    folder = api_config.root / "tenants" / "acme" / "models" / model

    body = {"budget": 40000.0}
    queued = client.post(f"/v1/models/{model}/optimize?as_job=true", headers=h, json=body)
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["job_id"]
    reader = key_for("acme", "report:read")
    # the plan is not made yet: the job has none to give
    early = client.post(f"/v1/models/{model}/report", headers=reader, json={"plan_job_id": job_id})
    assert early.status_code == 409, early.text
    assert early.json()["problems"][0]["column"] == "plan_job_id"
    assert run_worker(api_config, once=True) == 1
    plan = client.get(f"/v1/jobs/{job_id}", headers=h).json()["result"]["plan"]

    (tmp_path / "plan.json").write_text(json.dumps(plan))
    cli = run_cli(
        ["report", folder, "--plan", tmp_path / "plan.json", "--out", tmp_path / "cli", "--pdf"]
    )
    assert cli.code == 0, cli.err
    cli_html = (tmp_path / "cli" / "report.html").read_bytes()
    cli_pdf = (tmp_path / "cli" / "report.pdf").read_bytes()

    by_job = client.post(f"/v1/models/{model}/report", headers=reader, json={"plan_job_id": job_id})
    assert by_job.status_code == 200, by_job.text
    assert by_job.headers["content-type"].startswith("text/html")
    assert by_job.content == cli_html
    assert "Budget shift: current vs recommended" in by_job.text  # the executive report
    in_body = client.post(
        f"/v1/models/{model}/report", headers=reader, json={"plan": plan, "format": "pdf"}
    )
    assert in_body.status_code == 200, in_body.text
    assert in_body.headers["content-type"] == "application/pdf"
    assert in_body.content == cli_pdf
    # without a plan the model-only report, as `mediamix report MODEL --out x.html` writes it
    plain = client.get(f"/v1/models/{model}/report", headers=reader)
    assert plain.status_code == 200
    assert run_cli(["report", folder, "--out", tmp_path / "plain.html"]).code == 0
    assert plain.content == (tmp_path / "plain.html").read_bytes()

    # the scope: a key without report:read gets no report
    no_report = key_for("acme", "model:read", "optimize:run")
    r = client.post(f"/v1/models/{model}/report", headers=no_report, json={"plan": plan})
    assert r.status_code == 403

    before = _files(api_config.root)
    url = f"/v1/models/{model}/report"
    bad = dict(plan, total_response="a lot")
    bad["channels"] = {**plan["channels"], "radio": {"spend": -5.0}}
    r = client.post(url, headers=reader, json={"plan": bad})
    assert r.status_code == 422, r.text
    problems = {(p["file"], p["column"]) for p in r.json()["problems"]}
    assert ("plan", "total_response") in problems
    assert ("plan", "channels.radio.spend") in problems
    r = client.post(
        url, headers=reader, json={"plan": dict(plan, channels={"radio": {"spend": 1}})}
    )
    assert r.status_code == 422
    assert "different channels" in r.text
    r = client.post(url, headers=reader, json={"plan": plan, "plan_job_id": job_id})
    assert r.status_code == 422
    assert client.post(url, headers=reader, json={}).status_code == 422
    r = client.post(url, headers=reader, json={"plan": plan, "format": "docx"})
    assert r.status_code == 422
    # a fit job holds no plan; a missing job is not found
    fit_job = client.get("/v1/jobs?state=succeeded", headers=h).json()
    fit_id = next(j["id"] for j in fit_job if j["kind"] == "fit")
    r = client.post(url, headers=reader, json={"plan_job_id": fit_id})
    assert r.status_code == 422
    assert "not an optimize job" in r.text
    assert client.post(url, headers=reader, json={"plan_job_id": "e" * 32}).status_code == 404
    assert client.post(url, headers=reader, json={"plan_job_id": "../x"}).status_code == 404
    # a week-by-week plan says what to do instead
    weekly = {"status": "converged", "weekly_response": [1.0], "channels": plan["channels"]}
    r = client.post(url, headers=reader, json={"plan": weekly})
    assert r.status_code == 422
    assert "without 'weekly'" in r.text
    assert _files(api_config.root) == before  # nothing stored by any of them

    # another tenant: acme's job id is not found from its own model, like a missing one
    globex = key_for("globex", "admin")
    theirs = _fit(client, globex, api_config, synth_dir)
    other_url = f"/v1/models/{theirs}/report"
    foreign = client.post(other_url, headers=globex, json={"plan_job_id": job_id})
    absent = client.post(other_url, headers=globex, json={"plan_job_id": "e" * 32})
    assert foreign.status_code == absent.status_code == 404
    assert foreign.content == absent.content
    foreign_model = client.post(url, headers=globex, json={"plan": plan})
    assert foreign_model.status_code == 404
    assert model not in foreign_model.text
