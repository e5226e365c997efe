"""Job-queue checks shared by the SQLite and the PostgreSQL tests."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, update

from mediamix.state import jobs
from mediamix.state.db import jobs as jobs_table


def check_each_job_claimed_once(engine: Engine, n_jobs: int = 24, n_workers: int = 4) -> None:
    """Workers racing on one queue: every job is claimed, none twice."""
    for i in range(n_jobs):
        jobs.submit(engine, "acme", "fit", {"i": i})
    claimed: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(n_workers)

    def work(name: str) -> None:
        start.wait()
        while (c := jobs.claim(engine, name, lease_seconds=60)) is not None:
            with lock:
                claimed.append(c.job.id)
            jobs.finish(engine, c, "succeeded", result={})

    threads = [threading.Thread(target=work, args=(f"w{k}",)) for k in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == n_jobs
    assert len(set(claimed)) == n_jobs
    assert jobs.count_by_state(engine)["succeeded"] == n_jobs


def check_lease_expiry_retry_then_fail(engine: Engine) -> None:
    """A dead worker's job is re-queued while attempts remain, then failed with the reason."""
    job = jobs.submit(engine, "acme", "fit", {}, max_attempts=2)
    first = jobs.claim(engine, "w1", lease_seconds=60)
    assert first is not None
    assert first.job.id == job.id
    _expire(engine, job.id)
    assert jobs.expire_leases(engine) == [(job.id, "queued")]
    # the lost worker can no longer write to the job
    assert not jobs.report_progress(engine, first, 0.5, "late")
    assert not jobs.finish(engine, first, "succeeded", result={})
    second = jobs.claim(engine, "w2", lease_seconds=60)
    assert second is not None
    assert second.job.attempts == 2
    _expire(engine, job.id)
    assert jobs.expire_leases(engine) == [(job.id, "failed")]
    final = jobs.get_job(engine, job.id)
    assert final is not None
    assert final.state == "failed"
    assert final.error is not None
    assert final.error["code"] == "worker_lost"
    assert "2 attempt(s) of 2" in final.error["message"]


def _expire(engine: Engine, job_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(jobs_table).where(jobs_table.c.id == job_id).values(lease_until=0.0))
