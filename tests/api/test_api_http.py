"""The REST API in-process: health, errors, auth, datasets, fit jobs, models, limits."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from conftest import make_config, upload
from mediamix.api.app import create_app
from mediamix.api.config import ApiConfig
from mediamix.api.worker import run_worker
from mediamix.state.audit import verify
from mediamix.state.keys import create_key

KeyFor = Callable[..., dict[str, str]]


def _error_shape(body: dict) -> None:
    assert set(body) == {"code", "message", "problems"}
    for p in body["problems"]:
        assert set(p) == {"file", "row", "column", "message"}


def test_health_openapi_and_no_docs(client: TestClient) -> None:
    assert client.get("/livez").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "model_store": "ok"}
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    for path in (
        "/v1/datasets",
        "/v1/models",
        "/v1/jobs/{job_id}",
        "/v1/models/{model_id}/summary",
    ):
        assert path in doc["paths"]
    assert "ApiKey" in doc["components"]["securitySchemes"]
    # no page that would load scripts from a CDN
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_security_headers_request_id_and_closed_cors(client: TestClient) -> None:
    r = client.get("/livez", headers={"X-Request-ID": "abc-123", "Origin": "https://evil.example"})
    assert r.headers["x-request-id"] == "abc-123"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "access-control-allow-origin" not in r.headers
    pre = client.options(
        "/v1/datasets",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in pre.headers
    weird = client.get("/livez", headers={"X-Request-ID": "../../bad id"})
    assert weird.headers["x-request-id"] != "../../bad id"


def test_deny_by_default(client: TestClient, key_for: KeyFor) -> None:
    r = client.get("/v1/datasets")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    _error_shape(r.json())
    assert client.get("/v1/datasets", headers={"Authorization": "Bearer nope"}).status_code == 401
    reader = key_for("acme", "model:read")
    r = client.get("/v1/datasets", headers=reader)
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    assert client.get("/v1/models", headers=reader).status_code == 200


def test_upload_rejects_bad_data_with_problems_and_writes_nothing(
    client: TestClient, key_for: KeyFor, synth_dir: Path, api_config: ApiConfig
) -> None:
    h = key_for("acme", "data:write", "data:read")
    lines = (synth_dir / "synth.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[3].split(",")
    row[header.index("tv_spend")] = "abc"
    lines[3] = ",".join(row)
    bad = ("synth.csv", ("\n".join(lines) + "\n").encode())
    r = upload(client, h, synth_dir, data=bad)
    assert r.status_code == 422
    body = r.json()
    _error_shape(body)
    assert body["code"] == "invalid_input"
    hit = [p for p in body["problems"] if p["column"] == "tv_spend"]
    assert hit
    assert hit[0]["row"] == 3
    assert hit[0]["file"] == "synth.csv"
    assert str(api_config.home) not in r.text
    assert client.get("/v1/datasets", headers=h).json() == []
    tenant_dir = api_config.root / "tenants" / "acme" / "datasets"
    assert not any(tenant_dir.iterdir())


@pytest.mark.parametrize(
    "spec_data", ["../../../etc/passwd", "/etc/passwd", "warehouse", "other.csv"]
)
def test_upload_spec_must_name_the_uploaded_file(
    client: TestClient, key_for: KeyFor, synth_dir: Path, spec_data: str
) -> None:
    h = key_for("acme", "data:write")
    spec = (synth_dir / "spec.yaml").read_text().replace("data: synth.csv", f"data: {spec_data}")
    r = upload(client, h, synth_dir, spec=("spec.yaml", spec.encode()))
    assert r.status_code == 422
    assert r.json()["problems"][0]["column"] == "data"
    assert "root:" not in r.text


@pytest.mark.parametrize("name", ["../synth.csv", "..", "a b.csv", "synth.exe", ".hidden.csv"])
def test_upload_file_names_are_checked(
    client: TestClient, key_for: KeyFor, synth_dir: Path, name: str
) -> None:
    h = key_for("acme", "data:write")
    r = upload(client, h, synth_dir, data=(name, (synth_dir / "synth.csv").read_bytes()))
    # a path-like name is cut to its last part by the client or us; what is left must be plain
    if Path(name).name == "synth.csv":
        assert r.status_code == 201
    else:
        assert r.status_code == 422


def test_upload_size_limit_413(tmp_path: Path, synth_dir: Path) -> None:
    config = make_config(tmp_path / "home", max_upload_bytes=2000)
    with TestClient(create_app(config)) as c:
        from mediamix.state.keys import create_key

        key = create_key(c.app.state.ctx.store.engine, "acme", ["data:write"])  # type: ignore[attr-defined]
        r = upload(c, {"Authorization": f"Bearer {key}"}, synth_dir)
        assert r.status_code == 413
        assert r.json()["code"] == "too_large"
        big = c.post(
            "/v1/models",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            content=b"{" + b" " * 2_000_000 + b"}",
        )
        assert big.status_code == 413
    assert not list((config.root / "tenants").rglob("*.csv"))


def test_rate_limit_429_with_retry_after(tmp_path: Path) -> None:
    config = make_config(tmp_path / "home", rate_per_minute=60, rate_burst=3)
    with TestClient(create_app(config)) as c:
        from mediamix.state.keys import create_key

        key = create_key(c.app.state.ctx.store.engine, "acme", ["model:read"])  # type: ignore[attr-defined]
        h = {"Authorization": f"Bearer {key}"}
        codes = [c.get("/v1/models", headers=h).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/v1/models", headers=h)
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        _error_shape(r.json())


def test_authenticated_keys_are_cached_until_revocation_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key is read from the database once per cache period; a revoked key is refused
    once its cached entry expires, and at once without a cache."""
    import mediamix.api.auth as auth
    from mediamix.state.keys import authenticate, revoke_key

    lookups: list[str] = []

    def counted(engine: object, presented: str) -> object:
        lookups.append(presented)
        return authenticate(engine, presented)  # type: ignore[arg-type]

    monkeypatch.setattr(auth, "authenticate", counted)
    clock = [1000.0]
    for ttl, after_revoke in ((5.0, [200, 401]), (0.0, [401, 401])):
        config = make_config(tmp_path / f"home{ttl:g}", key_cache_seconds=ttl)
        with TestClient(create_app(config)) as c:
            ctx = c.app.state.ctx  # type: ignore[attr-defined]
            assert ctx.keys.ttl == ttl
            ctx.keys.clock = lambda: clock[0]
            engine = ctx.store.engine
            key = create_key(engine, "acme", ["model:read"])
            h = {"Authorization": f"Bearer {key}"}
            lookups.clear()
            assert [c.get("/v1/models", headers=h).status_code for _ in range(3)] == [200] * 3
            assert len(lookups) == (1 if ttl else 3)
            revoke_key(engine, key.split("_")[1])
            codes = [c.get("/v1/models", headers=h).status_code]
            clock[0] += ttl + 0.1
            codes.append(c.get("/v1/models", headers=h).status_code)
            assert codes == after_revoke
            assert c.get("/v1/models", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_validation_errors_are_422_with_problems(client: TestClient, key_for: KeyFor) -> None:
    h = key_for("acme", "model:train")
    r = client.post("/v1/models", headers=h, json={"dataset_id": "x", "engine": "gpt"})
    assert r.status_code == 422
    body = r.json()
    _error_shape(body)
    assert any(p["column"] == "engine" for p in body["problems"])
    r = client.post("/v1/models", headers=h, json={"dataset_id": "0" * 32, "surprise": 1})
    assert r.status_code == 422
    r = client.post(
        "/v1/models", headers={**h, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert r.status_code == 422
    _error_shape(r.json())


def test_unexpected_error_is_500_with_request_id_only(
    client: TestClient, key_for: KeyFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mediamix.state.store import StateStore

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("secret detail /srv/private/path")

    monkeypatch.setattr(StateStore, "list_models", boom)
    h = key_for("acme", "model:read")
    with TestClient(client.app, raise_server_exceptions=False) as c:
        r = c.get("/v1/models", headers=h)
    assert r.status_code == 500
    body = r.json()
    assert body["code"] == "internal"
    assert r.headers["x-request-id"] in body["message"]
    assert "secret" not in r.text
    assert "/srv" not in r.text
    assert "Traceback" not in r.text


def test_timeout_is_503(tmp_path: Path, key_for: KeyFor, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from mediamix.state.store import StateStore

    config = make_config(tmp_path / "home", request_timeout=0.2)

    def slow(self: StateStore, *_a: object, **_k: object) -> list:
        time.sleep(1.0)
        return []

    monkeypatch.setattr(StateStore, "list_models", slow)
    with TestClient(create_app(config)) as c:
        from mediamix.state.keys import create_key

        key = create_key(c.app.state.ctx.store.engine, "acme", ["model:read"])  # type: ignore[attr-defined]
        r = c.get("/v1/models", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 503
    assert r.json()["code"] == "timeout"
    assert "retry-after" in r.headers


def test_fit_job_end_to_end(
    client: TestClient, key_for: KeyFor, synth_dir: Path, api_config: ApiConfig
) -> None:
    h = key_for("acme", "data:write", "data:read", "model:train", "model:read", "optimize:run")
    r = upload(client, h, synth_dir)
    assert r.status_code == 201, r.text
    dataset = r.json()
    assert dataset["n_periods"] == 80
    assert dataset["channels"] == ["tv", "search"]
    assert client.get(f"/v1/datasets/{dataset['id']}", headers=h).json()["id"] == dataset["id"]

    r = client.post("/v1/models", headers=h, json={"dataset_id": dataset["id"], "engine": "ridge"})
    assert r.status_code == 202
    job_id, model_id = r.json()["job_id"], r.json()["model_id"]
    assert r.headers["location"] == f"/v1/jobs/{job_id}"
    job = client.get(f"/v1/jobs/{job_id}", headers=h).json()
    assert job["state"] == "queued"
    assert job["progress"] == 0.0
    assert client.get(f"/v1/models/{model_id}/summary", headers=h).status_code == 404

    assert run_worker(api_config, once=True) == 1
    job = client.get(f"/v1/jobs/{job_id}", headers=h).json()
    assert job["state"] == "succeeded", job
    assert job["progress"] == 1.0
    assert job["result"] == {"model_id": model_id}

    summary = client.get(f"/v1/models/{model_id}/summary", headers=h)
    assert summary.status_code == 200
    doc = summary.json()
    assert set(doc["channels"]) == {"tv", "search"}
    assert doc["n_periods"] == 80

    page = client.get(f"/v1/models/{model_id}/decomposition?offset=10&limit=5", headers=h).json()
    assert page["total"] == 80
    assert len(page["rows"]) == 5
    full_csv = (
        api_config.root / "tenants/acme/models" / model_id / "decomposition.csv"
    ).read_text()
    csv_page = client.get(
        f"/v1/models/{model_id}/decomposition?offset=10&limit=5&format=csv", headers=h
    )
    lines = full_csv.splitlines()
    assert csv_page.text.splitlines() == [lines[0], *lines[11:16]]
    row = page["rows"][0]
    parts = sum(v for k, v in row.items() if k not in {"date", "actual", "fitted"})
    assert parts == pytest.approx(row["fitted"], rel=1e-9)

    plan = client.post(
        f"/v1/models/{model_id}/optimize",
        headers=h,
        json={"budget": 50000.0, "constraints": {"channels": {"tv": {"min": 5000}}}},
    )
    assert plan.status_code == 200, plan.text
    p = plan.json()
    assert p["budget"] == 50000.0
    assert sum(c["spend"] for c in p["channels"].values()) == pytest.approx(50000.0, rel=1e-6)
    assert p["channels"]["tv"]["spend"] >= 5000 - 1e-6
    bad = client.post(
        f"/v1/models/{model_id}/optimize",
        headers=h,
        json={"budget": 50000.0, "constraints": {"channels": {"radio": {"min": 1}}}},
    )
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["file"] == "constraints"

    curves = client.get(f"/v1/models/{model_id}/curves?points=3", headers=h)
    assert curves.status_code == 200, curves.text
    rows = {(r["channel"], r["multiple"]): r for r in curves.json()}
    assert set(rows) == {(c, m) for c in ("tv", "search") for m in (0.0, 1.0, 2.0)}
    for name, channel in doc["channels"].items():
        assert rows[(name, 0.0)]["response"] == pytest.approx(0.0, abs=1e-9)
        assert rows[(name, 1.0)]["spend"] == pytest.approx(channel["spend"], rel=1e-9)
        assert rows[(name, 1.0)]["response"] == pytest.approx(channel["contribution"], rel=1e-6)
        assert rows[(name, 2.0)]["response"] > rows[(name, 1.0)]["response"]
    curves_csv = client.get(f"/v1/models/{model_id}/curves?points=3&format=csv", headers=h)
    assert curves_csv.text.splitlines()[0] == "channel,multiple,spend,response,marginal_roi"
    assert client.get(f"/v1/models/{model_id}/curves?points=1", headers=h).status_code == 422

    weekly = pd.read_csv(synth_dir / "synth.csv")
    plan = {"spend": {c: weekly[f"{c}_spend"].tolist() for c in ("tv", "search")}}
    predicted = client.post(f"/v1/models/{model_id}/predict", headers=h, json=plan)
    assert predicted.status_code == 200, predicted.text
    decomposition = pd.read_csv(io.StringIO(full_csv))
    for c in ("tv", "search"):  # the window's own spend gives the window's contributions
        assert predicted.json()["contributions"][c] == pytest.approx(decomposition[c].tolist())
    # a plan too large to predict on the event loop (worker thread): the same numbers
    # for its first periods, since the carry-over only runs forward
    repeat = 10_001 // (2 * len(weekly)) + 1
    long_plan = {"spend": {c: v * repeat for c, v in plan["spend"].items()}}
    long = client.post(f"/v1/models/{model_id}/predict", headers=h, json=long_plan)
    assert long.status_code == 200, long.text
    assert len(long.json()["response"]) == repeat * len(weekly) > 5_000
    head = long.json()["response"][: len(weekly)]
    assert head == pytest.approx(predicted.json()["response"], rel=1e-12)
    loads = client.app.state.ctx.metrics.model_load.collect()[0].samples  # type: ignore[attr-defined]
    assert next(x.value for x in loads if x.name.endswith("_count")) == 1  # curves loaded it once
    unknown = client.post(
        f"/v1/models/{model_id}/predict",
        headers=h,
        json={"spend": {"tv": [1.0], "radio": [1.0]}},
    )
    assert unknown.status_code == 422
    columns = {p["column"] for p in unknown.json()["problems"]}
    assert columns == {"radio", "search"}  # unknown and missing channels

    reader = key_for("acme", "report:read")
    report = client.get(f"/v1/models/{model_id}/report", headers=reader)
    assert report.status_code == 200, report.text
    assert report.headers["content-type"].startswith("text/html")
    assert "<html" in report.text.lower()
    assert not re.search(r"(src|href)=[\"']?https?:", report.text)  # opens offline
    pdf = client.get(f"/v1/models/{model_id}/report?format=pdf", headers=reader)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert client.get(f"/v1/models/{model_id}/report", headers=h).status_code == 403

    diag = client.get(f"/v1/models/{model_id}/diagnostics", headers=h)
    assert diag.status_code == 200, diag.text
    d = diag.json()
    assert d["engine"] == "ridge"
    assert d["metrics"] == doc["metrics"]
    assert d["holdout_nrmse"] == doc["info"]["holdout_nrmse"]
    assert d["sampler"] is None
    for name, channel in doc["channels"].items():
        lo, hi = channel["roi_interval"]
        assert d["channels"][name]["interval_wider_than_estimate"] == (hi - lo > channel["roi"])

    log = client.get(f"/v1/jobs/{job_id}/logs", headers=h).json()
    messages = [line["message"] for line in log]
    assert messages[0] == "queued (fit)"
    assert messages[1].startswith("started by worker ")
    assert messages[-1] == "succeeded"
    assert len(messages) > 3  # progress stages in between
    assert [line["seq"] for line in log] == sorted(line["seq"] for line in log)
    tail = client.get(f"/v1/jobs/{job_id}/logs?after={log[-2]['seq']}", headers=h).json()
    assert tail == log[-1:]
    other = key_for("globex", "model:read")
    assert client.get(f"/v1/jobs/{job_id}/logs", headers=other).status_code == 404

    models = client.get("/v1/models", headers=h).json()
    assert [m["id"] for m in models] == [model_id]
    assert client.delete(f"/v1/models/{model_id}", headers=h).status_code == 204
    assert client.get(f"/v1/models/{model_id}", headers=h).status_code == 404
    assert client.delete(f"/v1/datasets/{dataset['id']}", headers=h).status_code == 204
    assert verify(api_config.root / "audit.log").ok
    actions = [json.loads(x)["action"] for x in (api_config.root / "audit.log").open()]
    for action in ("dataset.create", "model.fit", "job.fit", "model.delete", "dataset.delete"):
        assert action in actions


def test_other_tenants_objects_are_404_like_missing_ones(
    client: TestClient, key_for: KeyFor, synth_dir: Path, api_config: ApiConfig
) -> None:
    scopes = ("data:write", "data:read", "model:train", "model:read", "optimize:run")
    acme = key_for("acme", *scopes)
    other = key_for("globex", *scopes)
    dataset = upload(client, acme, synth_dir).json()["id"]
    started = client.post("/v1/models", headers=acme, json={"dataset_id": dataset}).json()
    run_worker(api_config, once=True)
    model, job = started["model_id"], started["job_id"]
    missing = "f" * 32
    pairs = [
        ("GET", "/v1/datasets/{}", dataset),
        ("DELETE", "/v1/datasets/{}", dataset),
        ("GET", "/v1/models/{}", model),
        ("GET", "/v1/models/{}/summary", model),
        ("GET", "/v1/models/{}/decomposition", model),
        ("DELETE", "/v1/models/{}", model),
        ("GET", "/v1/jobs/{}", job),
        ("POST", "/v1/jobs/{}/cancel", job),
    ]
    for method, template, real in pairs:
        foreign = client.request(method, template.format(real), headers=other)
        absent = client.request(method, template.format(missing), headers=other)
        assert foreign.status_code == 404, (method, template)
        assert foreign.json() == absent.json()
    r = client.post("/v1/models", headers=other, json={"dataset_id": dataset})
    assert r.status_code == 404
    r = client.post(f"/v1/models/{model}/optimize", headers=other, json={"budget": 1000.0})
    assert r.status_code == 404
    # the owner still sees everything
    assert client.get(f"/v1/models/{model}/summary", headers=acme).status_code == 200
    assert client.get("/v1/datasets", headers=other).json() == []


def test_tenant_job_cap_429_and_cancel(tmp_path: Path, synth_dir: Path) -> None:
    config = make_config(tmp_path / "home", max_active_jobs=1)
    with TestClient(create_app(config)) as c:
        from mediamix.state.keys import create_key

        key = create_key(
            c.app.state.ctx.store.engine,
            "acme",
            ["data:write", "model:train", "model:read"],  # type: ignore[attr-defined]
        )
        h = {"Authorization": f"Bearer {key}"}
        dataset = upload(c, h, synth_dir).json()["id"]
        first = c.post("/v1/models", headers=h, json={"dataset_id": dataset})
        assert first.status_code == 202
        second = c.post("/v1/models", headers=h, json={"dataset_id": dataset})
        assert second.status_code == 429
        assert second.json()["code"] == "too_many_jobs"
        assert int(second.headers["retry-after"]) > 0
        job = first.json()["job_id"]
        cancelled = c.post(f"/v1/jobs/{job}/cancel", headers=h).json()
        assert cancelled["state"] == "cancelled"
        assert c.post("/v1/models", headers=h, json={"dataset_id": dataset}).status_code == 202
        # a queued job that was cancelled is never run
        assert run_worker(config, once=True) == 1


def test_bayes_options_refused_for_ridge(
    client: TestClient, key_for: KeyFor, synth_dir: Path
) -> None:
    h = key_for("acme", "data:write", "model:train")
    dataset = upload(client, h, synth_dir).json()["id"]
    r = client.post("/v1/models", headers=h, json={"dataset_id": dataset, "chains": 2})
    assert r.status_code == 422
    assert r.json()["problems"][0]["column"] == "chains"


def test_metrics(client: TestClient, key_for: KeyFor) -> None:
    client.get("/livez")
    client.get("/v1/models", headers=key_for("acme", "model:read"))
    text = client.get("/metrics").text
    assert (
        'mediamix_http_request_duration_seconds_count{method="GET",route="/livez",status="200"}'
        in text
    )
    assert 'route="/v1/models"' in text
    assert 'mediamix_jobs{state="queued"} 0.0' in text


def test_fit_jobs_are_tracked_like_cli_fits(tmp_path: Path, synth_dir: Path) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    from mediamix.tracking.config import TrackingConfig

    home = tmp_path / "home"
    tracking = TrackingConfig(home=home, enabled=True)
    config = dataclasses.replace(make_config(home), tracking=tracking)
    with TestClient(create_app(config)) as client:
        key = create_key(client.app.state.ctx.store.engine, "acme", ["admin"])  # type: ignore[attr-defined]
        h = {"Authorization": f"Bearer {key}"}
        dataset = upload(client, h, synth_dir).json()["id"]
        started = client.post("/v1/models", headers=h, json={"dataset_id": dataset}).json()
        assert run_worker(config, once=True) == 1
        summary = client.get(f"/v1/models/{started['model_id']}/summary", headers=h).json()
    run = MlflowClient(tracking_uri=tracking.uri).get_run(summary["tracking"]["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["engine"] == "ridge"
