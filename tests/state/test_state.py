"""The service's state: safe ids and paths, keys, the audit chain, the job queue (SQLite)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from _queue_checks import (
    check_each_job_claimed_once,
    check_job_cap_holds_under_concurrent_submissions,
    check_job_log_follows_the_job,
    check_lease_expiry_retry_then_fail,
)
from mediamix.state import jobs
from mediamix.state.audit import AuditLog, verify
from mediamix.state.db import api_keys, open_database
from mediamix.state.ids import InvalidNameError, check_id, child_path, new_id
from mediamix.state.keys import authenticate, create_key, list_keys, revoke_key

TRAVERSAL = [
    "..",
    "../x",
    "a/../../b",
    "/etc/passwd",
    "..\\..\\windows",
    "%2e%2e%2f",
    "a\x00b",
    " ..",
    "",
    ".",
]


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    return open_database(f"sqlite:///{tmp_path / 'state.db'}")


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_ids_refuse_anything_but_hex(bad: str) -> None:
    with pytest.raises(InvalidNameError):
        check_id(bad)
    assert check_id(new_id())


def test_child_path_refuses_traversal_and_symlink_escape(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "link")
    for bad in ("..", "a/b", "a\\b", "a\x00"):
        with pytest.raises(InvalidNameError):
            child_path(root, bad)
    with pytest.raises(InvalidNameError, match="leaves its folder"):
        child_path(root, "link")
    assert child_path(root, "ok") == root.resolve() / "ok"


def test_keys_are_stored_as_hashes_and_checked(engine) -> None:  # type: ignore[no-untyped-def]
    key = create_key(engine, "acme", ["model:read", "data:read"])
    with engine.connect() as conn:
        stored = conn.execute(select(api_keys)).one()
    secret = key.split("_", 2)[2]
    assert secret not in json.dumps([str(v) for v in stored])
    found = authenticate(engine, key)
    assert found is not None
    assert found.tenant == "acme"
    assert found.allows("model:read")
    assert not found.allows("model:train")
    assert authenticate(engine, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert authenticate(engine, "mmx_nothing") is None
    assert [k.key_id for k in list_keys(engine)] == [found.key_id]
    assert revoke_key(engine, found.key_id)
    assert authenticate(engine, key) is None
    assert not revoke_key(engine, found.key_id)


def test_keys_refuse_unknown_scopes_and_bad_tenants(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown scope"):
        create_key(engine, "acme", ["root"])
    with pytest.raises(InvalidNameError):
        create_key(engine, "../acme", ["admin"])


def test_audit_chain_detects_edit_removal_and_truncation(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log")
    for i in range(5):
        log.append(action="dataset.create", outcome="ok", tenant="acme", obj=f"dataset/{i}")
    assert verify(log.path).ok
    lines = log.path.read_text().splitlines(keepends=True)

    edited = list(lines)
    edited[2] = edited[2].replace('"outcome":"ok"', '"outcome":"denied"')
    log.path.write_text("".join(edited))
    result = verify(log.path)
    assert not result.ok
    assert result.problem is not None
    assert result.problem.startswith("line 3")

    log.path.write_text("".join(lines[:1] + lines[2:]))
    result = verify(log.path)
    assert not result.ok
    assert result.problem is not None
    assert result.problem.startswith("line 2")

    log.path.write_text("".join(lines[:4]))
    result = verify(log.path)
    assert not result.ok
    assert "removed from the end" in (result.problem or "")

    log.path.write_text("".join(lines))
    assert verify(log.path).ok


def test_each_job_is_claimed_once(engine) -> None:  # type: ignore[no-untyped-def]
    check_each_job_claimed_once(engine)


def test_lost_jobs_are_retried_then_failed(engine) -> None:  # type: ignore[no-untyped-def]
    check_lease_expiry_retry_then_fail(engine)


def test_job_cap_holds_under_concurrent_submissions(engine) -> None:  # type: ignore[no-untyped-def]
    check_job_cap_holds_under_concurrent_submissions(engine)


def test_job_log_follows_the_job(engine) -> None:  # type: ignore[no-untyped-def]
    check_job_log_follows_the_job(engine)


def test_cancel_queued_at_once_running_on_request(engine) -> None:  # type: ignore[no-untyped-def]
    queued = jobs.submit(engine, "acme", "fit", {})
    assert jobs.request_cancel(engine, queued.id, "other") is None
    cancelled = jobs.request_cancel(engine, queued.id, "acme")
    assert cancelled is not None
    assert cancelled.state == "cancelled"
    running = jobs.submit(engine, "acme", "fit", {})
    claim = jobs.claim(engine, "w", lease_seconds=60)
    assert claim is not None
    assert claim.job.id == running.id
    after = jobs.request_cancel(engine, running.id, "acme")
    assert after is not None
    assert after.state == "running"
    assert after.cancel_requested
    assert jobs.heartbeat(engine, claim, lease_seconds=60) == (True, True)


def test_tenant_job_cap(engine) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        jobs.submit(engine, "acme", "fit", {}, max_active=2)
    with pytest.raises(jobs.TooManyJobsError):
        jobs.submit(engine, "acme", "fit", {}, max_active=2)
    jobs.submit(engine, "other", "fit", {}, max_active=2)


def test_processes_opening_a_fresh_database_at_once_all_succeed(tmp_path: Path) -> None:
    """``serve --workers N`` and job workers create the schema together on first start."""
    import subprocess
    import sys
    import time

    url = f"sqlite:///{tmp_path / 'state.db'}"
    go = tmp_path / "go"
    script = (
        "import pathlib, sys, time\n"
        "from mediamix.state.db import open_database\n"
        f"go = pathlib.Path({str(go)!r})\n"
        "while not go.exists():\n"
        "    time.sleep(0.001)\n"
        f"open_database({url!r})\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(6)
    ]
    time.sleep(3.0)  # every process imported and waiting
    go.touch()
    failures = []
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            failures.append(err.decode()[-400:])
    assert failures == []
    engine = open_database(url)
    with engine.connect() as conn:
        assert conn.execute(select(api_keys)).fetchall() == []
