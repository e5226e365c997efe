"""The job queue in SQL: submit, claim with a lease, heartbeat, finish, cancel, recover.

Safe claiming without database-specific locks: a worker claims a queued job with a
conditional ``UPDATE ... WHERE state = 'queued'`` and owns it only if that update
changed one row; the claim carries a fresh token, and every later write of the
worker (progress, heartbeat, result) is conditional on that token, so a worker
whose lease ran out can no longer touch a job another worker has taken over.

A worker extends its lease with heartbeats. A job whose lease ran out (its worker
died, was killed, or the whole service crashed) is taken back by
:func:`expire_leases`: queued again while it has attempts left, otherwise failed
with the reason. Nothing is ever left ``running`` without a live lease.

Every change of a job's state, and each new stage of its progress, is appended to
the job's log (:func:`job_log`), which the API serves as the job's logs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select, text, update

from mediamix.state.db import job_events, jobs
from mediamix.state.ids import new_id

__all__ = [
    "ACTIVE",
    "STATES",
    "Claim",
    "JobEvent",
    "JobRecord",
    "TooManyJobsError",
    "claim",
    "count_by_state",
    "expire_leases",
    "finish",
    "get_job",
    "heartbeat",
    "job_log",
    "list_jobs",
    "report_progress",
    "request_cancel",
    "submit",
]

STATES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE = ("queued", "running")


class TooManyJobsError(Exception):
    """The tenant already has its cap of queued and running jobs."""

    def __init__(self, tenant: str, cap: int) -> None:
        super().__init__(f"tenant {tenant!r} already has {cap} active job(s), the cap")
        self.cap = cap


@dataclass(frozen=True)
class JobEvent:
    """One line of a job's log."""

    seq: int
    time: float
    level: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": self.time, "level": self.level, "message": self.message}


def _log(conn: Connection, job_id: str, message: str, level: str = "info") -> None:
    conn.execute(
        insert(job_events).values(
            job_id=job_id, time=time.time(), level=level, message=message[:500]
        )
    )


def _lock_tenant(conn: Connection, tenant: str) -> None:
    """Serialize job submissions of one tenant until the transaction ends.

    The cap check counts the tenant's active jobs and then inserts one; two
    submissions must not both count before either inserts. PostgreSQL takes a
    transaction-level advisory lock on the tenant; SQLite takes the database's
    write lock with a write that changes nothing (the driver opens the transaction
    before it), so the count that follows sees every committed submission.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": tenant})
    else:
        conn.execute(update(jobs).where(jobs.c.id == "").values(tenant=jobs.c.tenant))


@dataclass(frozen=True)
class JobRecord:
    """A job as stored (``params``, ``result`` and ``error`` decoded)."""

    id: str
    tenant: str
    kind: str
    params: dict[str, Any]
    state: str
    progress: float
    message: str | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    attempts: int
    max_attempts: int
    cancel_requested: bool
    created_at: float
    started_at: float | None
    finished_at: float | None

    def to_dict(self) -> dict[str, Any]:
        """The public view of the job (no worker or lease internals)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "progress": self.progress,
            "message": self.message,
            "result": self.result,
            "error": self.error,
            "attempts": self.attempts,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


@dataclass(frozen=True)
class Claim:
    """A job a worker holds: its record and the token that proves ownership."""

    job: JobRecord
    token: str
    worker: str


def _record(row: Any) -> JobRecord:
    return JobRecord(
        id=row.id,
        tenant=row.tenant,
        kind=row.kind,
        params=json.loads(row.params),
        state=row.state,
        progress=float(row.progress or 0.0),
        message=row.message,
        result=json.loads(row.result) if row.result else None,
        error=json.loads(row.error) if row.error else None,
        attempts=int(row.attempts or 0),
        max_attempts=int(row.max_attempts),
        cancel_requested=bool(row.cancel_requested),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def submit(
    engine: Engine,
    tenant: str,
    kind: str,
    params: dict[str, Any],
    *,
    max_attempts: int = 2,
    max_active: int | None = None,
    job_id: str | None = None,
) -> JobRecord:
    """Queue a job; :class:`TooManyJobsError` when the tenant is at ``max_active``.

    The cap holds under concurrent submissions (see :func:`_lock_tenant`).
    """
    job_id = job_id or new_id()
    with engine.begin() as conn:
        if max_active is not None:
            _lock_tenant(conn, tenant)
            active = conn.execute(
                select(func.count())
                .select_from(jobs)
                .where(jobs.c.tenant == tenant, jobs.c.state.in_(ACTIVE))
            ).scalar_one()
            if active >= max_active:
                raise TooManyJobsError(tenant, max_active)
        conn.execute(
            insert(jobs).values(
                id=job_id,
                tenant=tenant,
                kind=kind,
                params=json.dumps(params, sort_keys=True),
                state="queued",
                progress=0.0,
                attempts=0,
                max_attempts=max_attempts,
                cancel_requested=0,
                created_at=time.time(),
            )
        )
        _log(conn, job_id, f"queued ({kind})")
    job = get_job(engine, job_id)
    assert job is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    return job


def get_job(engine: Engine, job_id: str, tenant: str | None = None) -> JobRecord | None:
    """A job by id, only if it belongs to ``tenant`` (when given)."""
    query = select(jobs).where(jobs.c.id == job_id)
    if tenant is not None:
        query = query.where(jobs.c.tenant == tenant)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else _record(row)


def list_jobs(
    engine: Engine, tenant: str, *, state: str | None = None, limit: int = 100, offset: int = 0
) -> list[JobRecord]:
    """A tenant's jobs, newest first."""
    query = select(jobs).where(jobs.c.tenant == tenant)
    if state is not None:
        query = query.where(jobs.c.state == state)
    query = query.order_by(jobs.c.created_at.desc(), jobs.c.id).limit(limit).offset(offset)
    with engine.connect() as conn:
        return [_record(r) for r in conn.execute(query).all()]


def count_by_state(engine: Engine) -> dict[str, int]:
    """How many jobs are in each state (every state present, zero included)."""
    with engine.connect() as conn:
        rows = conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state)).all()
    counts = dict.fromkeys(STATES, 0)
    for state, n in rows:
        counts[str(state)] = int(n)  # type: ignore[call-overload]
    return counts


def expire_leases(engine: Engine, now: float | None = None) -> list[tuple[str, str]]:
    """Take back running jobs whose lease ran out: re-queue or fail by the retry limit.

    Returns ``(job_id, new_state)`` for every job taken back.
    """
    now = time.time() if now is None else now
    changed: list[tuple[str, str]] = []
    with engine.connect() as conn:
        expired = conn.execute(
            select(jobs.c.id, jobs.c.attempts, jobs.c.max_attempts, jobs.c.claim_token).where(
                jobs.c.state == "running", jobs.c.lease_until < now
            )
        ).all()
    for row in expired:
        job_id, token = str(row.id), row.claim_token
        attempts, max_attempts = int(row.attempts), int(row.max_attempts)
        retry = attempts < max_attempts
        values: dict[str, Any] = {"claim_token": None, "worker": None, "lease_until": None}
        if retry:
            reason = f"worker lost after attempt {attempts}; re-queued"
            values.update(state="queued", progress=0.0, message="re-queued: worker lost")
        else:
            reason = (
                f"the worker running this job stopped (crash or kill) "
                f"and its lease ran out; {attempts} attempt(s) of {max_attempts} used"
            )
            values.update(
                state="failed",
                finished_at=now,
                error=json.dumps({"code": "worker_lost", "message": reason, "problems": []}),
            )
        with engine.begin() as conn:
            done = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.claim_token == token, jobs.c.state == "running")
                .values(**values)
            )
            if done.rowcount:
                _log(conn, job_id, reason, "warning" if retry else "error")
        if done.rowcount:
            changed.append((job_id, values["state"]))
    return changed


def claim(
    engine: Engine, worker: str, *, lease_seconds: float, kinds: tuple[str, ...] | None = None
) -> Claim | None:
    """Take the oldest queued job, or ``None``; the claim holds for ``lease_seconds``."""
    expire_leases(engine)
    query = select(jobs.c.id).where(jobs.c.state == "queued")
    if kinds is not None:
        query = query.where(jobs.c.kind.in_(kinds))
    with engine.connect() as conn:
        candidates: list[str] = list(
            conn.execute(query.order_by(jobs.c.created_at).limit(8)).scalars().all()
        )
    for job_id in candidates:
        token = new_id()
        now = time.time()
        with engine.begin() as conn:
            done = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.state == "queued")
                .values(
                    state="running",
                    claim_token=token,
                    worker=worker,
                    lease_until=now + lease_seconds,
                    attempts=jobs.c.attempts + 1,
                    started_at=now,
                    progress=0.0,
                )
            )
            if done.rowcount == 1:
                _log(conn, job_id, f"started by worker {worker}")
        if done.rowcount == 1:
            job = get_job(engine, job_id)
            assert job is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
            return Claim(job=job, token=token, worker=worker)
    return None


def _owned(c: Claim) -> Any:
    return and_(jobs.c.id == c.job.id, jobs.c.claim_token == c.token, jobs.c.state == "running")


def heartbeat(engine: Engine, c: Claim, *, lease_seconds: float) -> tuple[bool, bool]:
    """Extend the lease; returns ``(still_owned, cancel_requested)``."""
    with engine.begin() as conn:
        done = conn.execute(
            update(jobs).where(_owned(c)).values(lease_until=time.time() + lease_seconds)
        )
        if not done.rowcount:
            return False, False
        flag: int = conn.execute(
            select(jobs.c.cancel_requested).where(jobs.c.id == c.job.id)
        ).scalar_one()
    return True, bool(flag)


def report_progress(engine: Engine, c: Claim, fraction: float, message: str) -> bool:
    """Store progress (0..1) and its message; False when the claim is lost.

    The job's log gets a line when the stage changes (the message's text before
    its first ``:``) or the progress passes a tenth.
    """
    fraction = min(max(float(fraction), 0.0), 1.0)
    with engine.begin() as conn:
        before = conn.execute(select(jobs.c.progress, jobs.c.message).where(_owned(c))).first()
        if before is None:
            return False
        done = conn.execute(
            update(jobs).where(_owned(c)).values(progress=fraction, message=message[:500])
        )
        stage = (before.message or "").split(":", 1)[0] != message.split(":", 1)[0]
        if done.rowcount and (stage or int(fraction * 10) > int((before.progress or 0.0) * 10)):
            _log(conn, c.job.id, f"{fraction:.0%} {message}")
    return bool(done.rowcount)


def finish(
    engine: Engine,
    c: Claim,
    state: str,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> bool:
    """End a claimed job as ``succeeded``, ``failed`` or ``cancelled``; False if lost."""
    if state not in {"succeeded", "failed", "cancelled"}:
        raise ValueError(f"not a final state: {state}")
    values: dict[str, Any] = {
        "state": state,
        "finished_at": time.time(),
        "lease_until": None,
        "result": json.dumps(result) if result is not None else None,
        "error": json.dumps(error) if error is not None else None,
    }
    if state == "succeeded":
        values["progress"] = 1.0
    with engine.begin() as conn:
        done = conn.execute(update(jobs).where(_owned(c)).values(**values))
        if done.rowcount:
            detail = f": {error.get('code')}: {error.get('message')}" if error else ""
            _log(conn, c.job.id, state + detail, "error" if state == "failed" else "info")
    return bool(done.rowcount)


def request_cancel(engine: Engine, job_id: str, tenant: str) -> JobRecord | None:
    """Cancel a tenant's job: a queued job at once, a running one at its next step.

    Returns the job after the request, or ``None`` when the tenant has no such job.
    A finished job is returned unchanged.
    """
    now = time.time()
    with engine.begin() as conn:
        queued = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.tenant == tenant, jobs.c.state == "queued")
            .values(state="cancelled", finished_at=now, cancel_requested=1)
        )
        running = conn.execute(
            update(jobs)
            .where(
                jobs.c.id == job_id,
                jobs.c.tenant == tenant,
                jobs.c.state == "running",
                jobs.c.cancel_requested == 0,
            )
            .values(cancel_requested=1)
        )
        if queued.rowcount:
            _log(conn, job_id, "cancelled while queued")
        elif running.rowcount:
            _log(conn, job_id, "cancel requested; stops at its next progress step")
    return get_job(engine, job_id, tenant)


def job_log(
    engine: Engine, job_id: str, tenant: str, *, after: int = 0, limit: int = 1000
) -> list[JobEvent] | None:
    """The lines of a tenant's job log after line ``after``, oldest first.

    ``None`` when the tenant has no such job (so another tenant's job reads as missing).
    """
    with engine.connect() as conn:
        owned = conn.execute(
            select(jobs.c.id).where(jobs.c.id == job_id, jobs.c.tenant == tenant)
        ).first()
        if owned is None:
            return None
        rows = conn.execute(
            select(job_events)
            .where(job_events.c.job_id == job_id, job_events.c.seq > after)
            .order_by(job_events.c.seq)
            .limit(limit)
        ).all()
    return [JobEvent(int(r.seq), float(r.time), str(r.level), str(r.message)) for r in rows]
