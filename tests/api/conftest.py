"""Fixtures of the API tests: an app on a temporary home, keys, a small synthetic dataset."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="needs the api extra")

from fastapi.testclient import TestClient

from mediamix.api.app import create_app
from mediamix.api.config import ApiConfig, ApiSettings
from mediamix.state.keys import create_key


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic dataset (80 weeks, 2 channels): synth.csv and spec.yaml."""
    from mediamix.data.synthetic import SynthConfig
    from mediamix.service.synth import write_synth

    out = tmp_path_factory.mktemp("synth")
    write_synth(out, SynthConfig(seed=1, weeks=80, channels=2))
    return out


def make_config(home: Path, **settings: object) -> ApiConfig:
    """A configuration on ``home`` with settings overridden (nothing read from the env)."""
    base = {"job_workers": 0, "rate_per_minute": 100_000, "rate_burst": 10_000}
    base.update(settings)
    return ApiConfig(home=home, api=ApiSettings(**base))  # type: ignore[arg-type]


@pytest.fixture
def api_config(tmp_path: Path) -> ApiConfig:
    return make_config(tmp_path / "home")


@pytest.fixture
def client(api_config: ApiConfig) -> Iterator[TestClient]:
    with TestClient(create_app(api_config)) as c:
        yield c


@pytest.fixture
def key_for(client: TestClient) -> Callable[..., dict[str, str]]:
    """``key_for(tenant, *scopes)``: headers with a new key of that tenant and scopes."""

    def make(tenant: str, *scopes: str) -> dict[str, str]:
        key = create_key(client.app.state.ctx.store.engine, tenant, list(scopes))  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {key}"}

    return make


def upload(client: TestClient, headers: dict[str, str], folder: Path, **override: object) -> object:
    """POST the dataset of ``folder`` (synth.csv + spec.yaml); ``override`` replaces parts."""
    data = override.get("data", ("synth.csv", (folder / "synth.csv").read_bytes()))
    spec = override.get("spec", ("spec.yaml", (folder / "spec.yaml").read_bytes()))
    return client.post("/v1/datasets", headers=headers, files={"data": data, "spec": spec})
