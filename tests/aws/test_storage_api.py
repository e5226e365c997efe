"""The API with an S3 store: fit jobs publish their model; a replica without it fetches it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from _aws_helpers import make_bucket

pytest.importorskip("fastapi", reason="needs the api extra")

from fastapi.testclient import TestClient

from mediamix.api.app import create_app
from mediamix.api.config import ApiConfig, ApiSettings
from mediamix.api.worker import run_worker
from mediamix.aws.clients import AwsConfig
from mediamix.aws.s3store import S3Store
from mediamix.aws.storage import StorageConfig
from mediamix.state.keys import create_key


def test_fit_job_publishes_and_a_replica_without_the_folder_fetches_it(
    aws: AwsConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mediamix.api import usecases
    from mediamix.data.synthetic import SynthConfig
    from mediamix.service.synth import write_synth

    real_fit = usecases.fit_model

    def quick_fit(spec: Path, out: Path, request: dict[str, Any], **kw: Any) -> dict[str, Any]:
        # a small search keeps the test short; the job, the fit and the publication are real
        return real_fit(spec, out, {**request, "ridge": {"candidates": 40, "bootstrap": 0}}, **kw)

    monkeypatch.setattr(usecases, "fit_model", quick_fit)

    root = f"s3://{make_bucket(aws, 'mediamix-api')}/svc"
    config = ApiConfig(
        home=tmp_path / "home",
        api=ApiSettings(job_workers=0, rate_per_minute=100_000, rate_burst=10_000),
        storage=StorageConfig(uri=root, aws=aws),
    )
    data = tmp_path / "synth"
    write_synth(data, SynthConfig(seed=1, weeks=60, channels=2))
    with TestClient(create_app(config)) as client:
        engine = client.app.state.ctx.store.engine  # type: ignore[attr-defined]
        key = create_key(engine, "acme", ["data:write", "model:train", "model:read"])
        h = {"Authorization": f"Bearer {key}"}
        files = {
            "data": ("synth.csv", (data / "synth.csv").read_bytes()),
            "spec": ("spec.yaml", (data / "spec.yaml").read_bytes()),
        }
        dataset = client.post("/v1/datasets", headers=h, files=files).json()["id"]
        job = client.post("/v1/models", headers=h, json={"dataset_id": dataset}).json()
        assert run_worker(config, once=True) == 1
        model_id = job["model_id"]
        store = S3Store(root, aws)
        assert len(store.versions("models", f"acme.{model_id}")) == 1
        first = client.get(f"/v1/models/{model_id}/summary", headers=h).json()

        # another replica: same database, no local copy of the model
        folder = config.root / "tenants" / "acme" / "models" / model_id
        shutil.rmtree(folder)
        again = client.get(f"/v1/models/{model_id}/summary", headers=h)
        assert again.status_code == 200, again.text
        assert again.json() == first
        assert (folder / "model" / "manifest.json").is_file()
