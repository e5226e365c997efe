"""Use cases: land user-level event logs, erase users (GDPR art. 17), export them (art. 15).

User ids may be pseudonymized on ingest with a keyed hash (HMAC-SHA256 with a secret
from the settings): the warehouse then never holds the raw ids, and erasure and
export hash the ids they are given with the same key. Each erasure is recorded in
the service's hash-chained audit log with counts, never the ids.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mediamix.errors import InputError
from mediamix.io.atomic import atomic_write_text
from mediamix.io.table import ReadLimits, read_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EventLoad",
    "export_users",
    "forget_users",
    "ingest_event_frame",
    "ingest_events",
    "pseudonym",
]


@dataclass(frozen=True)
class EventLoad:
    """What an event-log load put into the warehouse."""

    load_id: str
    rows: int
    users: int
    pseudonymized: bool


def pseudonym(user_id: str, key: str) -> str:
    """The keyed hash that stands for ``user_id`` when ids are pseudonymized.

    Examples
    --------
    >>> pseudonym("u1", "secret") == pseudonym("u1", "secret") != pseudonym("u1", "other")
    True
    >>> len(pseudonym("u1", "secret"))
    64
    """
    return hmac.new(key.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def _ids(user_ids: Sequence[str], key: str | None) -> list[str]:
    ids = [str(u).strip() for u in user_ids]
    if not ids or any(not u for u in ids):
        raise InputError.single("give at least one non-empty user id", column="--user-id")
    return [pseudonym(u, key) for u in ids] if key else ids


def ingest_events(
    home: str | Path,
    file: str | Path,
    *,
    pseudonymize_key: str | None = None,
    limits: ReadLimits | None = None,
) -> EventLoad:
    """Load an event log (CSV or Parquet, the attribution event-log columns).

    The file is checked like ``mediamix attribute`` checks it (every problem named by
    row and column) before anything is written.

    Raises
    ------
    InputError
        Bad file, columns or values; nothing is written.
    """
    table = read_table(file, limits)
    return ingest_event_frame(home, table.frame, table.source, pseudonymize_key=pseudonymize_key)


def ingest_event_frame(
    home: str | Path, frame: pd.DataFrame, source: str, *, pseudonymize_key: str | None = None
) -> EventLoad:
    """Load an event log already in memory (``source`` names it in errors); see :func:`ingest_events`.

    Raises
    ------
    InputError
        Bad columns or values; nothing is written.
    """
    from mediamix.attribution.events import check_event_log
    from mediamix.warehouse.events import load_events
    from mediamix.warehouse.store import Warehouse

    check_event_log(frame, source)
    frame = frame.copy()
    frame["user_id"] = frame["user_id"].astype(str).str.strip()
    if pseudonymize_key:
        frame["user_id"] = [pseudonym(u, pseudonymize_key) for u in frame["user_id"]]
    load_id = uuid.uuid4().hex
    with Warehouse.writer(home) as wh:
        rows = load_events(wh, frame, load_id)
    return EventLoad(load_id, rows, int(frame["user_id"].nunique()), bool(pseudonymize_key))


def forget_users(
    home: str | Path, user_ids: Sequence[str], *, pseudonymize_key: str | None = None
) -> dict[str, int]:
    """Erase every row about the users and rebuild the aggregates; audit the erasure.

    Returns rows deleted per table. A second call with the same ids deletes nothing.
    """
    from mediamix.state.audit import service_audit_log
    from mediamix.warehouse.events import forget_users as forget
    from mediamix.warehouse.store import Warehouse

    ids = _ids(user_ids, pseudonymize_key)
    with Warehouse.writer(home) as wh:
        deleted = forget(wh, ids)
    service_audit_log(Path(home)).append(
        action="privacy.forget",
        outcome=f"{len(ids)} user id(s) asked; {sum(deleted.values())} row(s) deleted",
        obj=",".join(f"{t}:{n}" for t, n in sorted(deleted.items())) or None,
    )
    return deleted


def export_users(
    home: str | Path,
    user_ids: Sequence[str],
    out: str | Path,
    *,
    pseudonymize_key: str | None = None,
) -> dict[str, int]:
    """Write everything held about the users as JSON (table -> rows); rows per table."""
    from mediamix.warehouse.events import export_users as export
    from mediamix.warehouse.store import Warehouse

    ids = _ids(user_ids, pseudonymize_key)
    with Warehouse.reader(home) as wh:
        found = export(wh, ids)
    document = {
        table: json.loads(frame.to_json(orient="records", date_format="iso"))
        for table, frame in found.items()
    }
    atomic_write_text(out, json.dumps(document, indent=2) + "\n")
    return {table: len(frame) for table, frame in found.items()}
