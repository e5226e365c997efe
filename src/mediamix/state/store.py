"""Where the service keeps things: the database, the audit log and tenants' folders.

Layout under the service root (``MEDIAMIX_HOME/api`` by default)::

    state.db                          SQLite database (unless a URL is given)
    audit.log, audit.log.head         hash-chained audit log
    tenants/<tenant>/datasets/<id>/   an uploaded data file and spec.yaml
    tenants/<tenant>/models/<id>/     a fit output (summary.json, decomposition.csv, model/)
    tenants/<tenant>/warehouse/       the tenant's warehouse (a mediamix home of its own)

Every folder name that comes from a request is checked (:mod:`mediamix.state.ids`)
before it becomes a path.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from mediamix.state import db
from mediamix.state.audit import AuditLog
from mediamix.state.ids import check_id, check_tenant, child_path

__all__ = ["DatasetRecord", "ModelRecord", "StateStore"]


@dataclass(frozen=True)
class DatasetRecord:
    """An uploaded, validated dataset."""

    id: str
    tenant: str
    data_file: str
    bytes: int
    n_periods: int
    channels: list[str]
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        """The public view (no tenant or paths)."""
        return {
            "id": self.id,
            "data_file": self.data_file,
            "bytes": self.bytes,
            "n_periods": self.n_periods,
            "channels": self.channels,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class ModelRecord:
    """A fitted model."""

    id: str
    tenant: str
    dataset_id: str
    engine: str
    job_id: str
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        """The public view (no tenant or paths)."""
        return {
            "id": self.id,
            "dataset_id": self.dataset_id,
            "engine": self.engine,
            "job_id": self.job_id,
            "created_at": self.created_at,
        }


class StateStore:
    """The service's database, audit log and folders under ``root``.

    Parameters
    ----------
    root : Path
        Folder for files (``MEDIAMIX_HOME/api``).
    url : str, optional
        SQLAlchemy database URL; default a SQLite file in ``root``.
    ca_bundle : path, optional
        CAs a PostgreSQL server's certificate is verified against (default: the
        system's); see :func:`mediamix.tls.postgres_connect_args`.
    """

    def __init__(
        self, root: Path, url: str | None = None, *, ca_bundle: str | Path | None = None
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = url or f"sqlite:///{self.root / 'state.db'}"
        self.engine: Engine = db.open_database(self.url, ca_bundle=ca_bundle)
        self.audit = AuditLog(self.root / "audit.log")

    # ---- folders ---------------------------------------------------------
    def tenant_dir(self, tenant: str) -> Path:
        """``root/tenants/<tenant>`` (checked)."""
        return child_path(self.root, "tenants", check_tenant(tenant))

    def warehouse_dir(self, tenant: str) -> Path:
        """The tenant's own mediamix home for the warehouse (its DuckDB file, dbt state)."""
        return child_path(self.tenant_dir(tenant), "warehouse")

    def dataset_dir(self, tenant: str, dataset_id: str) -> Path:
        """Folder of a dataset (checked; may not exist)."""
        return child_path(self.tenant_dir(tenant), "datasets", check_id(dataset_id))

    def model_dir(self, tenant: str, model_id: str) -> Path:
        """Folder of a model (checked; may not exist)."""
        return child_path(self.tenant_dir(tenant), "models", check_id(model_id))

    # ---- datasets -----------------------------------------------------------
    def add_dataset(self, record: DatasetRecord) -> None:
        """Record a dataset whose folder is already in place."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(db.datasets).values(
                    id=record.id,
                    tenant=record.tenant,
                    data_file=record.data_file,
                    bytes=record.bytes,
                    n_periods=record.n_periods,
                    channels=json.dumps(record.channels),
                    created_at=record.created_at,
                )
            )

    def get_dataset(self, tenant: str, dataset_id: str) -> DatasetRecord | None:
        """A tenant's dataset, or ``None`` (missing and foreign look the same)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(db.datasets).where(
                    db.datasets.c.id == dataset_id, db.datasets.c.tenant == tenant
                )
            ).first()
        return None if row is None else _dataset(row)

    def list_datasets(self, tenant: str, limit: int = 100, offset: int = 0) -> list[DatasetRecord]:
        """A tenant's datasets, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(db.datasets)
                .where(db.datasets.c.tenant == tenant)
                .order_by(db.datasets.c.created_at.desc(), db.datasets.c.id)
                .limit(limit)
                .offset(offset)
            ).all()
        return [_dataset(r) for r in rows]

    def delete_dataset(self, tenant: str, dataset_id: str) -> bool:
        """Delete a tenant's dataset row and folder; False when there is none."""
        with self.engine.begin() as conn:
            done = conn.execute(
                delete(db.datasets).where(
                    db.datasets.c.id == dataset_id, db.datasets.c.tenant == tenant
                )
            )
        if done.rowcount:
            shutil.rmtree(self.dataset_dir(tenant, dataset_id), ignore_errors=True)
        return bool(done.rowcount)

    # ---- models ---------------------------------------------------------------
    def add_model(self, record: ModelRecord) -> None:
        """Record a model whose folder is complete."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(db.models).values(
                    id=record.id,
                    tenant=record.tenant,
                    dataset_id=record.dataset_id,
                    engine=record.engine,
                    job_id=record.job_id,
                    created_at=record.created_at,
                )
            )

    def get_model(self, tenant: str, model_id: str) -> ModelRecord | None:
        """A tenant's model, or ``None`` (missing and foreign look the same)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(db.models).where(db.models.c.id == model_id, db.models.c.tenant == tenant)
            ).first()
        return None if row is None else _model(row)

    def list_models(self, tenant: str, limit: int = 100, offset: int = 0) -> list[ModelRecord]:
        """A tenant's models, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(db.models)
                .where(db.models.c.tenant == tenant)
                .order_by(db.models.c.created_at.desc(), db.models.c.id)
                .limit(limit)
                .offset(offset)
            ).all()
        return [_model(r) for r in rows]

    def delete_model(self, tenant: str, model_id: str) -> bool:
        """Delete a tenant's model row and folder; False when there is none."""
        with self.engine.begin() as conn:
            done = conn.execute(
                delete(db.models).where(db.models.c.id == model_id, db.models.c.tenant == tenant)
            )
        if done.rowcount:
            shutil.rmtree(self.model_dir(tenant, model_id), ignore_errors=True)
        return bool(done.rowcount)


def _model(row: Any) -> ModelRecord:
    return ModelRecord(
        id=row.id,
        tenant=row.tenant,
        dataset_id=row.dataset_id,
        engine=row.engine,
        job_id=row.job_id,
        created_at=float(row.created_at),
    )


def _dataset(row: Any) -> DatasetRecord:
    return DatasetRecord(
        id=row.id,
        tenant=row.tenant,
        data_file=row.data_file,
        bytes=int(row.bytes),
        n_periods=int(row.n_periods),
        channels=json.loads(row.channels),
        created_at=float(row.created_at),
    )


def now() -> float:
    """Seconds since the epoch (one clock for every record)."""
    return time.time()
