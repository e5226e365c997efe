"""The API as real processes: serve + worker, CLI commands, CLI = API bytes, kill -9 recovery."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from _server import env_for, free_port, mediamix, run, stop, wait_job, wait_ready

from conftest import make_config

pytestmark = pytest.mark.slow


def _key(env: dict[str, str], tenant: str, *scopes: str) -> dict[str, str]:
    args = ["keys", "create", "--tenant", tenant]
    for s in scopes:
        args += ["--scope", s]
    done = run(*args, env=env)
    assert done.returncode == 0, done.stderr
    key = done.stdout
    assert key.count("\n") == 1  # the key alone on stdout
    return {"Authorization": f"Bearer {key.strip()}"}


def _upload(base: str, h: dict[str, str], folder: Path) -> str:
    files = {
        "data": ("synth.csv", (folder / "synth.csv").read_bytes()),
        "spec": ("spec.yaml", (folder / "spec.yaml").read_bytes()),
    }
    r = httpx.post(f"{base}/v1/datasets", headers=h, files=files, timeout=60)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_keys_cli_create_list_revoke_and_audit_verify(tmp_path: Path) -> None:
    env = env_for(tmp_path / "home")
    h = _key(env, "acme", "model:read", "data:read")
    listed = run("keys", "list", "--json", env=env)
    assert listed.returncode == 0
    keys = json.loads(listed.stdout)
    assert keys[0]["tenant"] == "acme"
    assert keys[0]["scopes"] == ["data:read", "model:read"]
    secret = h["Authorization"].split()[1]
    assert secret not in listed.stdout
    bad = run("keys", "create", "--tenant", "acme", "--scope", "root", env=env)
    assert bad.returncode == 2
    assert "--scope" in bad.stderr
    assert run("keys", "revoke", keys[0]["key_id"], env=env).returncode == 0
    assert run("keys", "revoke", keys[0]["key_id"], env=env).returncode == 2
    log = tmp_path / "home" / "api" / "audit.log"
    assert secret not in log.read_text()
    ok = run("audit", "verify", env=env)
    assert ok.returncode == 0, ok.stderr
    lines = log.read_text().splitlines(keepends=True)
    log.write_text(lines[1])
    broken = run("audit", "verify", env=env)
    assert broken.returncode == 2
    assert "line 1" in broken.stderr


def test_serve_fit_livez_stays_fast_and_summary_equals_cli(tmp_path: Path, synth_dir: Path) -> None:
    """One fit through `mediamix serve` (worker process) and through `mediamix fit`."""
    env = env_for(tmp_path / "home")
    h = _key(env, "acme", "data:write", "model:train", "model:read")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = mediamix("serve", "--port", str(port), "--job-workers", "1", env=env)
    try:
        wait_ready(base, server)
        dataset = _upload(base, h, synth_dir)
        started = httpx.post(f"{base}/v1/models", headers=h, json={"dataset_id": dataset}).json()
        # while the fit runs in the worker process, /livez answers at once
        latencies = []
        running_seen = 0
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            t = time.perf_counter()
            assert httpx.get(f"{base}/livez", timeout=5).status_code == 200
            latencies.append(time.perf_counter() - t)
            job = httpx.get(f"{base}/v1/jobs/{started['job_id']}", headers=h).json()
            running_seen += job["state"] == "running"
            if job["state"] in {"succeeded", "failed"}:
                break
            time.sleep(0.05)
        assert job["state"] == "succeeded", job
        assert running_seen >= 3
        # generous for a shared, loaded machine; the fit itself takes many seconds
        assert max(latencies) < 2.0, max(latencies)
        api_summary = httpx.get(f"{base}/v1/models/{started['model_id']}/summary", headers=h)
    finally:
        code = stop(server)
    assert code == 0
    cli = run("fit", str(synth_dir / "spec.yaml"), "--out", str(tmp_path / "cli"), env=env)
    assert cli.returncode == 0, cli.stderr
    assert api_summary.content == (tmp_path / "cli" / "summary.json").read_bytes()


def test_kill_9_api_and_worker_during_fit_then_restart(tmp_path: Path, synth_dir: Path) -> None:
    home = tmp_path / "home"
    env = env_for(home, lease_seconds="3", job_max_attempts="2")
    h = _key(env, "acme", "data:write", "model:train", "model:read")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = mediamix("serve", "--port", str(port), "--job-workers", "1", env=env)
    wait_ready(base, server)
    dataset = _upload(base, h, synth_dir)
    started = httpx.post(f"{base}/v1/models", headers=h, json={"dataset_id": dataset}).json()
    job = wait_job(base, h, started["job_id"], {"running", "succeeded", "failed"})
    assert job["state"] == "running", "the fit finished before it could be killed"
    # the whole process group: the API and its worker process, mid-fit
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    models = home / "api" / "tenants" / "acme" / "models"
    assert not (models / started["model_id"]).exists()

    time.sleep(3.5)  # the dead worker's lease runs out
    server = mediamix("serve", "--port", str(port), "--job-workers", "1", env=env)
    try:
        wait_ready(base, server)
        job = wait_job(base, h, started["job_id"], {"succeeded", "failed"})
        assert job["state"] == "succeeded", job
        assert job["attempts"] == 2
        summary = httpx.get(f"{base}/v1/models/{started['model_id']}/summary", headers=h)
        assert summary.status_code == 200
    finally:
        stop(server)
    assert not list(models.glob(".*.tmp"))
    verified = run("audit", "verify", env=env)
    assert verified.returncode == 0, verified.stderr


def test_kill_9_without_retries_fails_the_job_with_the_reason(
    tmp_path: Path, synth_dir: Path
) -> None:
    home = tmp_path / "home"
    env = env_for(home, lease_seconds="3", job_max_attempts="1")
    h = _key(env, "acme", "data:write", "model:train", "model:read")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = mediamix("serve", "--port", str(port), "--job-workers", "0", env=env)
    worker = mediamix("worker", env=env)
    try:
        wait_ready(base, server)
        dataset = _upload(base, h, synth_dir)
        started = httpx.post(f"{base}/v1/models", headers=h, json={"dataset_id": dataset}).json()
        job = wait_job(base, h, started["job_id"], {"running", "succeeded", "failed"})
        assert job["state"] == "running"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        time.sleep(3.5)
        job = httpx.get(f"{base}/v1/jobs/{started['job_id']}", headers=h).json()
        assert job["state"] == "failed"
        assert job["error"]["code"] == "worker_lost"
        assert httpx.get(f"{base}/v1/models/{started['model_id']}", headers=h).status_code == 404
    finally:
        stop(server)
        stop(worker)
    assert not (home / "api" / "tenants" / "acme" / "models" / started["model_id"]).exists()


def test_pool_workers_yield_the_cpu_to_the_api(tmp_path: Path) -> None:
    from mediamix.api.worker import start_pool, stop_pool

    config = make_config(tmp_path / "home", worker_nice=7)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    own_policy = os.sched_getscheduler(0) if hasattr(os, "sched_getscheduler") else None
    pool = start_pool(config, 1, log_json=False)
    try:
        deadline = time.monotonic() + 60
        seen = own
        while time.monotonic() < deadline and seen == own:
            time.sleep(0.2)
            seen = os.getpriority(os.PRIO_PROCESS, pool[0].pid)
        assert seen == min(own + 7, 19)
        assert os.getpriority(os.PRIO_PROCESS, 0) == own  # the API process keeps its priority
        if hasattr(os, "SCHED_IDLE"):  # Linux: preempted at once by a request handler
            assert os.sched_getscheduler(pool[0].pid) == os.SCHED_IDLE
            assert os.sched_getscheduler(0) == own_policy
    finally:
        stop_pool(pool, grace=10)


def test_pool_workers_can_be_only_niced(tmp_path: Path) -> None:
    from mediamix.api.worker import start_pool, stop_pool

    if not hasattr(os, "SCHED_IDLE"):
        pytest.skip("SCHED_IDLE is Linux's")
    config = make_config(tmp_path / "home", worker_nice=3, worker_idle_priority=False)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    pool = start_pool(config, 1, log_json=False)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and os.getpriority(os.PRIO_PROCESS, pool[0].pid) == own:
            time.sleep(0.2)
        assert os.getpriority(os.PRIO_PROCESS, pool[0].pid) == min(own + 3, 19)
        # the policy it was started with (the test's own), not SCHED_IDLE
        assert os.sched_getscheduler(pool[0].pid) == os.sched_getscheduler(0)
    finally:
        stop_pool(pool, grace=10)
