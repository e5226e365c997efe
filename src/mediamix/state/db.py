"""The SQL database of the service: schema and engine (SQLite WAL or PostgreSQL).

Tables hold metadata only (keys as hashes, dataset and model records, jobs); the
data files and fitted models live in folders under the service home.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.exc import DatabaseError

__all__ = [
    "api_keys",
    "database_url",
    "datasets",
    "deliveries",
    "job_events",
    "jobs",
    "metadata",
    "models",
    "open_database",
    "ping",
    "pipeline_runs",
    "pipeline_steps",
]

log = logging.getLogger(__name__)

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("tenant", String(63), nullable=False, index=True),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", Text, nullable=False),  # space-separated
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
    Column("note", Text, nullable=True),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(63), nullable=False, index=True),
    Column("data_file", String(255), nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("n_periods", Integer, nullable=False),
    Column("channels", Text, nullable=False),  # JSON list
    Column("created_at", Float, nullable=False),
)

models = Table(
    "models",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(63), nullable=False, index=True),
    Column("dataset_id", String(32), nullable=False),
    Column("engine", String(16), nullable=False),
    Column("job_id", String(32), nullable=False),
    Column("created_at", Float, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("params", Text, nullable=False),  # JSON
    Column("state", String(16), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("message", Text, nullable=True),
    Column("result", Text, nullable=True),  # JSON
    Column("error", Text, nullable=True),  # JSON
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("claim_token", String(32), nullable=True),
    Column("worker", String(128), nullable=True),
    Column("lease_until", Float, nullable=True),
    Column("cancel_requested", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Index("ix_jobs_state_created", "state", "created_at"),
    Index("ix_jobs_tenant_state", "tenant", "state"),
)

# A job's log: what happened to it, in order (claimed, progress steps, lease lost,
# finished); the rows are short messages, never data or secrets.
job_events = Table(
    "job_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(32), nullable=False),
    Column("time", Float, nullable=False),
    Column("level", String(8), nullable=False),
    Column("message", Text, nullable=False),
    Index("ix_job_events_job", "job_id", "seq"),
)

# Runs of the scheduled path (``mediamix pipeline run`` and the Airflow DAGs) and their
# steps, for ``mediamix pipeline status``: durations, row counts and failures, never data.
pipeline_runs = Table(
    "pipeline_runs",
    metadata,
    Column("run_id", String(255), primary_key=True),
    Column("pipeline", String(64), nullable=False),
    Column("interval", String(64), nullable=True),
    Column("state", String(16), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_pipeline_runs_started", "started_at"),
)

pipeline_steps = Table(
    "pipeline_steps",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(255), nullable=False),
    Column("step", String(128), nullable=False),
    Column("attempt", Integer, nullable=False, default=1),
    Column("state", String(16), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("rows", Integer, nullable=True),
    Column("detail", Text, nullable=True),
    Index("ix_pipeline_steps_run", "run_id", "seq"),
)

# Reports delivered: one row per report (its hash) and recipient, written after the
# recipient accepted it, so a retried run skips whoever already has it. Addresses
# and webhook names only, never secrets.
deliveries = Table(
    "deliveries",
    metadata,
    Column("report_hash", String(64), primary_key=True),
    Column("recipient", String(320), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("delivered_at", Float, nullable=False),
)


def database_url(home: Path) -> str:
    """The embedded default: a SQLite file ``home/api/state.db``."""
    return f"sqlite:///{home / 'api' / 'state.db'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the API) run while a worker writes progress
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_database(url: str, *, ca_bundle: str | Path | None = None) -> Engine:
    """An engine for ``url`` with the schema created (idempotent).

    SQLite files get WAL mode and a busy timeout, so API processes and workers can
    share one file. PostgreSQL URLs (``postgresql+psycopg://...``) verify the
    server's certificate whenever TLS is asked for (``sslmode=require``) or the host
    is remote, against ``ca_bundle`` or the system's CAs
    (:func:`mediamix.tls.postgres_connect_args`).
    """
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        from mediamix.tls import postgres_connect_args

        engine = create_engine(
            url, pool_pre_ping=True, connect_args=postgres_connect_args(url, ca_bundle)
        )
    _create_schema(engine)
    return engine


def _create_schema(engine: Engine, attempts: int = 5) -> None:
    """Create the missing tables, tolerating another process doing the same at once.

    API processes (``serve --workers N``) and job workers start together on a fresh
    database: each checks which tables exist, then creates them, so one of them can
    find a table created in between. That is not an error; a second pass sees it.
    """
    for attempt in range(1, attempts + 1):
        try:
            metadata.create_all(engine)
            return
        except DatabaseError as exc:
            message = str(exc).lower()
            raced = "already exists" in message or "duplicate key" in message
            if not raced or attempt == attempts:
                raise
            log.info("state schema created by another process at the same time; checking again")
            time.sleep(0.05 * attempt)


def ping(engine: Engine) -> None:
    """Raise when the database cannot answer a trivial query."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
