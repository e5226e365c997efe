"""The planner's routes: scenarios against the current mix, their export (CSV, XLSX,
constraints YAML), planning curves with a band, ``/v1/session``; and the dashboard's
files under ``/ui``."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from conftest import upload
from mediamix.api.config import ApiConfig
from mediamix.api.worker import run_worker
from mediamix.optimization.constraints import read_constraints
from mediamix.optimization.solver import evaluate_allocation
from mediamix.service.optimize import model_response

# text that a spreadsheet would run as a formula, as scenario names
INJECTIONS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]


@pytest.fixture
def fitted(client: TestClient, key_for: Any, synth_dir: Path, api_config: ApiConfig) -> tuple:
    h = key_for("acme", "admin")
    r = upload(client, h, synth_dir)
    assert r.status_code == 201, r.text
    started = client.post("/v1/models", headers=h, json={"dataset_id": r.json()["id"]}).json()
    assert run_worker(api_config, once=True) == 1
    model_id = str(started["model_id"])
    folder = api_config.root / "tenants" / "acme" / "models" / model_id
    return h, model_id, folder


def test_scenarios_equal_the_planning_model_and_reach_only_the_tenant(
    client: TestClient, key_for: Any, fitted: tuple
) -> None:
    h, model_id, folder = fitted
    model = model_response(folder)
    plan = {"tv": 12345.0, "search": 23456.0}
    r = client.post(
        f"/v1/models/{model_id}/scenarios", headers=h, json={"scenarios": {"mine": plan}}
    )
    assert r.status_code == 200, r.text
    block = r.json()
    assert list(block) == ["current", "mine"]
    direct = evaluate_allocation(model, plan)
    assert block["mine"]["total_response"] == pytest.approx(direct.total_response, rel=1e-12)
    assert block["mine"]["response_interval"] == pytest.approx(list(direct.response_interval))
    low, high = block["mine"]["response_interval"]
    assert low < block["mine"]["total_response"] < high
    assert 0.0 <= block["mine"]["probability_better"] <= 1.0
    current = model.current_spend
    assert block["current"]["total_spend"] == pytest.approx(sum(current.values()))
    assert block["current"]["change_vs_current"] == 0.0

    # the optimizer, with every channel held at the plan, answers the same response
    locked = {c: {"min": v, "max": v} for c, v in plan.items()}
    body = {"budget": sum(plan.values()), "constraints": {"channels": locked}, "risk_level": None}
    opt = client.post(f"/v1/models/{model_id}/optimize", headers=h, json=body).json()
    assert opt["total_response"] == pytest.approx(block["mine"]["total_response"], rel=1e-9)

    bad = client.post(
        f"/v1/models/{model_id}/scenarios",
        headers=h,
        json={"scenarios": {"x": {"tv": 1.0, "radio": 2.0}}},
    )
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["file"] == "scenarios"
    reserved = client.post(
        f"/v1/models/{model_id}/scenarios", headers=h, json={"scenarios": {"current": plan}}
    )
    assert reserved.status_code == 422
    assert "reserved" in reserved.text

    other = key_for("globex", "admin")
    for path in ("scenarios", "scenarios/export"):
        foreign = client.post(
            f"/v1/models/{model_id}/{path}", headers=other, json={"scenarios": {"m": plan}}
        )
        assert foreign.status_code == 404
        assert foreign.json()["code"] == "not_found"
    assert client.get(f"/v1/models/{model_id}/planning-curves", headers=other).status_code == 404
    reader = key_for("acme", "model:read")
    denied = client.post(
        f"/v1/models/{model_id}/scenarios", headers=reader, json={"scenarios": {"m": plan}}
    )
    assert denied.status_code == 403


def test_exports_neutralize_formulas_and_keep_numbers(
    client: TestClient, fitted: tuple, tmp_path: Path
) -> None:
    h, model_id, folder = fitted
    scenarios = {
        name: {"tv": 1000.0 * (k + 1), "search": 500.0} for k, name in enumerate(INJECTIONS)
    }
    body = {"scenarios": scenarios}
    url = f"/v1/models/{model_id}/scenarios/export"

    r = client.post(f"{url}?format=csv", headers=h, json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8"))))
    names = {row["scenario"] for row in rows}
    assert names == {"current"} | {"'" + n for n in INJECTIONS}
    model = model_response(folder)
    for k, name in enumerate(INJECTIONS):
        total = next(x for x in rows if x["scenario"] == "'" + name and x["channel"] == "total")
        expected = evaluate_allocation(model, scenarios[name]).total_response
        assert float(total["response"]) == pytest.approx(expected, rel=1e-12)
        assert float(total["spend"]) == 1000.0 * (k + 1) + 500.0

    x = client.post(f"{url}?format=xlsx", headers=h, json=body)
    assert x.status_code == 200, x.text
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(x.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:4] == ("scenario", "channel", "spend", "response")
    for row in values[1:]:
        assert not str(row[0]).startswith(("=", "+", "-", "@"))
        assert isinstance(row[2], float | int)  # numbers stay numbers
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)

    cons = {"channels": {"tv": {"min": 100.0, "max": 5000.0}}, "groups": []}
    y = client.post(f"{url}?format=yaml", headers=h, json={**body, "constraints": cons})
    assert y.status_code == 200, y.text
    path = tmp_path / "c.yaml"
    path.write_bytes(y.content)
    parsed = read_constraints(path)  # what `mediamix optimize --constraints` reads
    assert parsed.channels["tv"].min == 100.0
    assert parsed.channels["tv"].max == 5000.0
    assert yaml.safe_load(y.content)["channels"]["tv"] == {"min": 100.0, "max": 5000.0}
    bad = client.post(
        f"{url}?format=yaml",
        headers=h,
        json={**body, "constraints": {"channels": {"radio": {"min": 1.0}}}},
    )
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["file"] == "constraints"
    typo = client.post(
        f"{url}?format=yaml", headers=h, json={**body, "constraints": {"chanels": {}}}
    )
    assert typo.status_code == 422
    control = client.post(f"{url}?format=csv", headers=h, json={"scenarios": {"a\nb": {}}})
    assert control.status_code == 422


def test_planning_curves_have_a_band_around_the_expected_response(
    client: TestClient, fitted: tuple
) -> None:
    h, model_id, folder = fitted
    r = client.get(f"/v1/models/{model_id}/planning-curves?points=5", headers=h)
    assert r.status_code == 200, r.text
    rows = r.json()
    model = model_response(folder)
    assert {row["channel"] for row in rows} == set(model.channels)
    for row in rows:
        assert row["lower"] <= row["response"] + 1e-6 <= row["upper"] + 2e-6
    at_current = [row for row in rows if row["multiple"] == 1.0]
    plan = evaluate_allocation(model, model.current_spend)
    for row in at_current:
        expected = plan.channels[row["channel"]].response
        assert row["response"] == pytest.approx(expected, rel=1e-9)


def test_session_names_the_tenant_and_scopes_only(client: TestClient, key_for: Any) -> None:
    h = key_for("acme", "model:read", "optimize:run")
    r = client.get("/v1/session", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["tenant"] == "acme"
    assert body["scopes"] == ["model:read", "optimize:run"]
    assert h["Authorization"].split()[1] not in r.text
    assert client.get("/v1/session").status_code == 401
    assert client.get("/v1/session", headers=key_for("acme", "data:read")).status_code == 403


def test_dashboard_files_ship_in_the_package_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/ui/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy
    for src in ("assets/app.js", "assets/charts.js", "assets/app.css"):
        assert src in page.text
        asset = client.get(f"/ui/{src}")
        assert asset.status_code == 200, src
        # no CDN: the only URL in the files is the SVG namespace
        text = asset.content.replace(b"http://www.w3.org/2000/svg", b"")
        assert b"http://" not in text
        assert b"https://" not in text
        assert b"//cdn" not in text
    assert client.get("/ui/assets/..%2Fapp.py").status_code == 404
    assert client.get("/ui/assets/routes.py").status_code == 404
    assert client.get("/", follow_redirects=False).headers["location"] == "/ui/"
    assert "/ui/" not in client.get("/openapi.json").json()["paths"]
