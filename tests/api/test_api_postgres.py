"""The job queue and the API on a real PostgreSQL server started on loopback by the test.

Debian's ``postgresql`` package provides the binaries (scripts/system-packages.txt;
``make test`` installs it). As root, the server runs as the ``postgres`` user, which
owns its data folder.
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from _server import free_port
from fastapi.testclient import TestClient

from _queue_checks import (
    check_each_job_claimed_once,
    check_job_cap_holds_under_concurrent_submissions,
    check_job_log_follows_the_job,
    check_lease_expiry_retry_then_fail,
)
from conftest import make_config, upload
from mediamix.api.app import create_app
from mediamix.api.worker import run_worker
from mediamix.state.db import open_database
from mediamix.state.keys import create_key

pytestmark = pytest.mark.slow


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise AssertionError(
            "PostgreSQL binaries not found: install Debian's postgresql (make system)"
        )
    return Path(initdb).parent


def _as_owner(command: list[str]) -> None:
    line = shlex.join(command)
    argv = ["su", "postgres", "-c", line] if os.geteuid() == 0 else ["sh", "-c", line]
    subprocess.run(argv, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    bindir = _pg_bin()
    base = Path(tempfile.mkdtemp(prefix="mediamix-pg-"))
    base.chmod(0o755)
    data = base / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    _as_owner(
        [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]
    )
    options = f"-h 127.0.0.1 -p {port} -k {data} -F"
    _as_owner(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(data / "log"),
            "-w",
            "start",
        ]
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_engine(pg_url: str):  # type: ignore[no-untyped-def]
    engine = open_database(pg_url)
    with engine.begin() as conn:
        for table in ("job_events", "jobs", "models", "datasets", "api_keys"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    yield engine
    engine.dispose()


def test_postgres_each_job_claimed_once(pg_engine) -> None:  # type: ignore[no-untyped-def]
    assert pg_engine.dialect.name == "postgresql"
    check_each_job_claimed_once(pg_engine, n_jobs=40, n_workers=6)


def test_postgres_lost_jobs_retried_then_failed(pg_engine) -> None:  # type: ignore[no-untyped-def]
    check_lease_expiry_retry_then_fail(pg_engine)


def test_postgres_job_cap_holds_under_concurrent_submissions(pg_engine) -> None:  # type: ignore[no-untyped-def]
    check_job_cap_holds_under_concurrent_submissions(pg_engine)


def test_postgres_job_log_follows_the_job(pg_engine) -> None:  # type: ignore[no-untyped-def]
    check_job_log_follows_the_job(pg_engine)


def test_postgres_api_fit_flow(pg_engine, pg_url: str, tmp_path: Path, synth_dir: Path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path / "home", database_url=pg_url)
    with TestClient(create_app(config)) as c:
        ready = c.get("/readyz").json()
        assert ready["checks"]["database"] == "ok"
        key = create_key(pg_engine, "acme", ["admin"])
        h = {"Authorization": f"Bearer {key}"}
        dataset = upload(c, h, synth_dir).json()["id"]
        started = c.post("/v1/models", headers=h, json={"dataset_id": dataset}).json()
        assert run_worker(config, once=True) == 1
        job = c.get(f"/v1/jobs/{started['job_id']}", headers=h).json()
        assert job["state"] == "succeeded", job
        assert c.get(f"/v1/models/{started['model_id']}/summary", headers=h).status_code == 200
    assert not (tmp_path / "home" / "api" / "state.db").exists()
