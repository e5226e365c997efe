"""Lambda handlers called as Lambda calls them, against a moto server (S3 store)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _aws_helpers import make_bucket

from mediamix.aws.clients import AwsConfig
from mediamix.aws.s3store import S3Store
from mediamix.lambdas.handlers import drift_handler, optimize_handler


@pytest.fixture(scope="module")
def store(aws: AwsConfig, fitted: Path) -> S3Store:
    bucket = make_bucket(aws, "mediamix-lambda")
    store = S3Store(f"s3://{bucket}/prod", aws)
    store.publish("models", "brand-a", fitted)
    return store


@pytest.fixture(autouse=True)
def _storage(store: S3Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDIAMIX_STORAGE_URI", store.root.uri())
    monkeypatch.setattr("mediamix.lambdas.handlers._CACHE", tmp_path / "cache")


def _body(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["headers"]["Content-Type"] == "application/json"
    return json.loads(answer["body"])


def test_optimize_direct_event_gives_the_plan() -> None:
    answer = optimize_handler({"model": "brand-a", "budget": 5000.0, "periods": 10}, None)
    assert answer["statusCode"] == 200, answer["body"]
    plan = _body(answer)
    assert plan["status"] == "optimal"
    assert plan["model"]["name"] == "brand-a"
    spent = sum(c["spend"] for c in plan["channels"].values())
    assert spent == pytest.approx(5000.0, rel=1e-6)


def test_optimize_api_gateway_event_with_constraints_equals_the_service() -> None:
    request = {
        "model": "brand-a",
        "budget": 4000.0,
        "periods": 8,
        "constraints": {"channels": {"tv": {"max": 1000.0}}},
    }
    event = {"httpMethod": "POST", "requestContext": {}, "body": json.dumps(request)}
    answer = optimize_handler(event, None)
    assert answer["statusCode"] == 200, answer["body"]
    plan = _body(answer)
    assert plan["channels"]["tv"]["spend"] <= 1000.0 + 1e-6
    import mediamix
    from mediamix.models.result import example_result

    direct = mediamix.optimize(
        example_result(), 4000.0, {"channels": {"tv": {"max": 1000.0}}}, periods=8
    ).to_dict()
    for name, channel in direct["channels"].items():
        assert plan["channels"][name]["spend"] == pytest.approx(channel["spend"], rel=1e-6)


@pytest.mark.parametrize(
    ("event", "status", "column"),
    [
        ({"budget": 100.0}, 422, "model"),
        ({"model": "brand-a", "budget": -5}, 422, "budget"),
        ({"model": "nope", "budget": 100.0}, 422, "version"),
        ({"httpMethod": "POST", "body": "{not json"}, 422, None),
    ],
)
def test_optimize_bad_input_is_a_json_4xx(
    event: dict[str, Any], status: int, column: str | None
) -> None:
    answer = optimize_handler(event, None)
    assert answer["statusCode"] == status
    doc = _body(answer)
    assert doc["code"] == "invalid_input"
    assert doc["problems"]
    if column is not None:
        assert any(column in str(p["column"]) for p in doc["problems"]), doc


def _landing(folder: Path, shift: float) -> Path:
    folder.mkdir(parents=True)
    t = np.arange(12)
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2025-01-06", periods=12, freq="7D").strftime("%Y-%m-%d"),
            "revenue": 5000.0 + 10 * t,
            "tv_spend": (100.0 + 50 * np.sin(t)) * shift,
            "search_spend": 60.0 + 20 * np.cos(t),
        }
    )
    frame.to_csv(folder / "weekly.csv", index=False)
    (folder / "spec.yaml").write_text(
        "data: weekly.csv\ndate: date\nkpi: revenue\nkpi_type: revenue\n"
        "channels:\n  tv: {spend: tv_spend}\n  search: {spend: search_spend}\n"
    )
    return folder


def test_scheduled_drift_check_publishes_its_report(store: S3Store, tmp_path: Path) -> None:
    store.publish("landing", "weekly", _landing(tmp_path / "same", 1.0))
    calm = _body(drift_handler({"detail": {"model": "brand-a", "data": "weekly"}}, None))
    store.publish("landing", "weekly", _landing(tmp_path / "shifted", 8.0))
    shifted = drift_handler({"detail": {"model": "brand-a", "data": "weekly"}}, None)
    assert shifted["statusCode"] == 200, shifted["body"]
    doc = _body(shifted)
    assert doc["retrain"] is True
    assert any("tv" in reason for reason in doc["reasons"])
    assert calm["data"]["version"] != doc["data"]["version"]
    report = store.fetch("reports", "drift-brand-a", tmp_path / "report", doc["report"]["version"])
    assert json.loads((report / "drift.json").read_text())["retrain"] is True
    assert (report / "drift.html").is_file()


def test_drift_without_names_is_a_json_4xx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIAMIX_DRIFT_MODEL", raising=False)
    answer = drift_handler({"detail": {}}, None)
    assert answer["statusCode"] == 422
    assert _body(answer)["problems"][0]["column"] == "model"


def test_handlers_load_no_web_or_tracking_stack() -> None:
    """The Lambda package holds the core stack and boto3 only (docs/deploy-aws.md)."""
    import subprocess
    import sys

    code = (
        "import sys, mediamix.lambdas.handlers, mediamix.service.cloud, mediamix.service.drift, "
        "mediamix.service.optimize, mediamix.models.response\n"
        "heavy = ('fastapi', 'mlflow', 'duckdb', 'jax', 'matplotlib', 'pyspark', 'sqlalchemy')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
