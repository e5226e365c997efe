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


def check_job_cap_holds_under_concurrent_submissions(
    engine: Engine, cap: int = 3, n_threads: int = 8
) -> None:
    """Submissions racing on one tenant's cap: exactly ``cap`` get in."""
    accepted: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(n_threads)

    def submit(i: int) -> None:
        start.wait()
        try:
            job = jobs.submit(engine, "capped", "fit", {"i": i}, max_active=cap)
        except jobs.TooManyJobsError:
            with lock:
                refused.append(str(i))
        else:
            with lock:
                accepted.append(job.id)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == cap, (accepted, refused)
    assert len(refused) == n_threads - cap
    assert jobs.count_by_state(engine)["queued"] >= cap


def check_job_log_follows_the_job(engine: Engine) -> None:
    """Queued, started, progress stages (not every step), lost worker, retry, outcome."""
    job = jobs.submit(engine, "logs", "fit", {}, max_attempts=2)
    first = jobs.claim(engine, "w1", lease_seconds=60, kinds=("fit",))
    assert first is not None
    for step in range(1, 101):
        assert jobs.report_progress(engine, first, step / 200, f"search: {step} of 200")
    _expire(engine, job.id)
    jobs.expire_leases(engine)
    second = jobs.claim(engine, "w2", lease_seconds=60, kinds=("fit",))
    assert second is not None
    assert jobs.report_progress(engine, second, 0.9, "writing: model")
    assert jobs.finish(engine, second, "succeeded", result={})
    log = jobs.job_log(engine, job.id, "logs")
    assert log is not None
    lines = [(e.level, e.message) for e in log]
    assert lines[0] == ("info", "queued (fit)")
    assert lines[1] == ("info", "started by worker w1")
    progress = [m for _, m in lines if "search:" in m]
    # the stage's first step, then one line per tenth passed: 10%, 20%, 30%, 40%, 50%
    assert progress == [
        "0% search: 1 of 200",
        "10% search: 20 of 200",
        "20% search: 40 of 200",
        "30% search: 60 of 200",
        "40% search: 80 of 200",
        "50% search: 100 of 200",
    ]
    assert ("warning", "worker lost after attempt 1; re-queued") in lines
    assert lines[-3:] == [
        ("info", "started by worker w2"),
        ("info", "90% writing: model"),
        ("info", "succeeded"),
    ]
    assert jobs.job_log(engine, job.id, "someone-else") is None
    tail = jobs.job_log(engine, job.id, "logs", after=log[-2].seq)
    assert tail is not None
    assert [e.message for e in tail] == ["succeeded"]
