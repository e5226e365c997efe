"""``POST /v1/attribution``: the table of ``mediamix attribute`` over HTTP."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from conftest import upload
from mediamix.api.config import ApiConfig
from mediamix.api.worker import run_worker
from mediamix.service.attribute import attribute

TOUR = Path(__file__).resolve().parents[2] / "examples" / "tour"


def _post(client: TestClient, headers: dict[str, str], path: Path, **form: Any) -> Any:
    files = {"journeys": (path.name, path.read_bytes())}
    fmt = form.pop("format", "json")
    data = {k: str(v) for k, v in form.items()}
    return client.post(f"/v1/attribution?format={fmt}", headers=headers, files=files, data=data)


def test_paths_and_event_logs_give_the_cli_tables(
    client: TestClient, key_for: Any, api_config: ApiConfig
) -> None:
    h = key_for("acme", "data:read")
    r = _post(client, h, TOUR / "paths.csv", method="markov", order=2)
    assert r.status_code == 200, r.text
    expected = attribute(TOUR / "paths.csv", "markov", order=2)
    got = pd.DataFrame(r.json())
    assert list(got.columns) == list(expected.columns)
    assert got["channel"].tolist() == expected["channel"].tolist()
    assert got["conversions"].to_numpy() == pytest.approx(expected["conversions"].to_numpy())

    r = _post(client, h, TOUR / "events.csv", method="all", lookback_days=30, format="csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    expected_all = attribute(TOUR / "events.csv", "all", lookback_days=30)
    got_all = pd.read_csv(io.StringIO(r.text))
    assert list(got_all.columns) == list(expected_all.columns)
    numeric = expected_all.columns.drop("channel")
    assert got_all[numeric].to_numpy() == pytest.approx(expected_all[numeric].to_numpy())
    # nothing of the uploads is kept
    tenant = api_config.root / "tenants" / "acme"
    assert not tenant.exists() or not any(tenant.rglob("*.csv"))


def test_bad_journeys_are_422_by_row_and_column_without_server_paths(
    client: TestClient, key_for: Any, tmp_path: Path
) -> None:
    h = key_for("acme", "data:read")
    bad = tmp_path / "events.csv"
    bad.write_text(
        "user_id,timestamp,channel,conversion\n"
        "u1,2025-01-01T10:00:00,tv,0\n"
        "u1,not-a-time,search,1\n"
    )
    r = _post(client, h, bad, method="linear")
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["problems"], body
    assert all(p["file"] in (None, "events.csv") for p in body["problems"])
    assert any(p["row"] is not None and p["column"] == "timestamp" for p in body["problems"])
    assert "/" not in r.text.replace("\\/", "")  # no server path anywhere in the answer
    odd = tmp_path / "notes.txt"
    odd.write_text("x")
    r = _post(client, h, odd)
    assert r.status_code == 422
    assert r.json()["problems"][0]["column"] == "journeys"
    r = _post(client, h, TOUR / "paths.csv", method="magic")
    assert r.status_code == 422


def test_mmm_needs_model_read_and_an_own_model(
    client: TestClient, key_for: Any, synth_dir: Path, api_config: ApiConfig
) -> None:
    owner = key_for("acme", "admin")
    dataset = upload(client, owner, synth_dir).json()["id"]
    started = client.post("/v1/models", headers=owner, json={"dataset_id": dataset}).json()
    assert run_worker(api_config, once=True) == 1
    model_id = started["model_id"]
    reader = key_for("acme", "data:read")
    r = _post(client, reader, TOUR / "events.csv", method="mmm", model_id=model_id)
    assert r.status_code == 403
    stranger = key_for("globex", "data:read", "model:read")
    foreign = _post(client, stranger, TOUR / "events.csv", method="mmm", model_id=model_id)
    missing = _post(client, stranger, TOUR / "events.csv", method="mmm", model_id="e" * 32)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    # the owner's model: its channels get the MMM's conversions, the others none
    full = key_for("acme", "data:read", "model:read")
    r = _post(client, full, TOUR / "events.csv", method="mmm", model_id=model_id)
    assert r.status_code == 200, r.text
    rows = {row["channel"]: row for row in r.json()}
    assert rows["tv"]["conversions"] > 0
    assert rows["search"]["conversions"] > 0
    assert rows["email"]["conversions"] is None
