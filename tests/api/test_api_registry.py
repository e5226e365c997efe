"""``/v1/registry``: tenant-scoped registration, promotion by the rule, overrides that
need the ``model:promote`` scope and a reason, and plans from a registry reference."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import make_config, upload
from mediamix.api.app import create_app
from mediamix.api.config import ApiConfig
from mediamix.api.worker import run_worker
from mediamix.state.audit import verify
from mediamix.state.keys import create_key
from mediamix.tracking.config import TrackingConfig

pytest.importorskip("mlflow", reason="needs the tracking extra")


@pytest.fixture(scope="module")
def other_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data with another truth (same channel names): a model whose ROIs move."""
    from mediamix.data.synthetic import SynthConfig
    from mediamix.service.synth import write_synth

    out = tmp_path_factory.mktemp("synth-other")
    write_synth(out, SynthConfig(seed=5, weeks=80, channels=2))
    return out


@pytest.fixture
def tracked(tmp_path: Path) -> ApiConfig:
    home = tmp_path / "home"
    config = make_config(home)
    return ApiConfig(
        home=config.home, api=config.api, tracking=TrackingConfig(home=home, enabled=False)
    )


@pytest.fixture
def reg(tracked: ApiConfig) -> Iterator[TestClient]:
    with TestClient(create_app(tracked)) as c:
        yield c


@pytest.fixture
def key(reg: TestClient) -> Callable[..., dict[str, str]]:
    def make(tenant: str, *scopes: str) -> dict[str, str]:
        k = create_key(reg.app.state.ctx.store.engine, tenant, list(scopes))  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {k}"}

    return make


def _fit(c: TestClient, config: ApiConfig, headers: dict[str, str], folder: Path) -> str:
    dataset = upload(c, headers, folder).json()["id"]  # type: ignore[attr-defined]
    started = c.post("/v1/models", headers=headers, json={"dataset_id": dataset}).json()
    assert run_worker(config, once=True) == 1
    return str(started["model_id"])


def test_register_promote_and_plan_from_the_champion(
    reg: TestClient,
    tracked: ApiConfig,
    key: Callable[..., dict[str, str]],
    synth_dir: Path,
    other_synth: Path,
) -> None:
    admin = key("acme", "admin")
    first = _fit(reg, tracked, admin, synth_dir)
    second = _fit(reg, tracked, admin, other_synth)

    r = reg.post("/v1/registry/brand/versions", headers=admin, json={"model_id": first})
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1
    assert r.json()["model_id"] == first
    # another tenant sees nothing and cannot reach acme's versions, nor register acme's model
    globex = key("globex", "admin")
    assert reg.get("/v1/registry", headers=globex).json() == []
    foreign = reg.get("/v1/registry/brand/versions/1", headers=globex)
    missing = reg.get("/v1/registry/nothing/versions/1", headers=globex)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    r = reg.post("/v1/registry/brand/versions", headers=globex, json={"model_id": first})
    assert r.status_code == 404

    promoter = key("acme", "model:promote")
    r = reg.post("/v1/registry/brand/versions/1/promote", headers=promoter, json={})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] is True
    assert r.json()["decided_by"].startswith("api-key:")

    assert (
        reg.post("/v1/registry/brand/versions", headers=admin, json={"model_id": second}).json()[
            "version"
        ]
        == 2
    )
    listed = reg.get("/v1/registry", headers=key("acme", "model:read")).json()
    assert [v["aliases"] for v in listed[0]["versions"]] == [["champion"], []]

    # ROIs moved beyond the tolerance with no reason: refused, champion unchanged
    refuse = {"alias": "champion", "roi_tolerance": 0.01}
    r = reg.post("/v1/registry/brand/versions/2/promote", headers=promoter, json=refuse)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "promotion_refused"
    champion = reg.get("/v1/registry/brand/versions/champion", headers=admin).json()
    assert champion["version"] == 1
    assert (
        "mediamix.promotion.refused"
        in reg.get("/v1/registry/brand/versions/2", headers=admin).json()["decisions"]
    )

    # an override needs the promote scope and a reason
    trainer = key("acme", "model:train", "model:read")
    forced = {**refuse, "force": True, "reason": "new creative agreed with finance"}
    assert (
        reg.post("/v1/registry/brand/versions/2/promote", headers=trainer, json=forced).status_code
        == 403
    )
    no_reason = {"alias": "champion", "roi_tolerance": 0.01, "force": True}
    r = reg.post("/v1/registry/brand/versions/2/promote", headers=promoter, json=no_reason)
    assert r.status_code == 422
    r = reg.post("/v1/registry/brand/versions/2/promote", headers=promoter, json=forced)
    assert r.status_code == 200, r.text
    assert r.json()["override"] is True
    assert reg.get("/v1/registry/brand/versions/champion", headers=admin).json()["version"] == 2

    log = tracked.root / "audit.log"
    assert verify(log).ok
    events = [json.loads(line) for line in log.open()]
    outcomes = [e["outcome"] for e in events if e["action"] == "registry.promote"]
    assert outcomes == ["ok", "refused", "override"]
    assert any(
        e["action"] == "model.promote" and "override" in e["outcome"] and "api-key:" in e["outcome"]
        for e in events
    )

    # a plan from the champion reference equals the plan from the model it points at
    body = {"budget": 50_000.0}
    planner = key("acme", "optimize:run")
    by_ref = reg.post("/v1/registry/brand/versions/champion/optimize", headers=planner, json=body)
    direct = reg.post(f"/v1/models/{second}/optimize", headers=planner, json=body)
    assert by_ref.status_code == direct.status_code == 200, by_ref.text
    assert by_ref.json()["channels"] == direct.json()["channels"]


def test_a_server_without_registry_says_so(
    client: TestClient, key_for: Callable[..., dict[str, str]]
) -> None:
    r = client.get("/v1/registry", headers=key_for("acme", "model:read"))
    assert r.status_code == 409
    assert r.json()["code"] == "registry_off"
