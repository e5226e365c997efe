"""Streamed events in the warehouse, landed exactly once with their checkpoints.

Three tables:

* ``stream_events``: valid events, one row per stream record, keyed by
  ``(stream, shard_id, sequence_number)``, with ``batch_no`` (the landing
  transaction that wrote it, increasing per stream);
* ``stream_dead_letters``: records that are not valid events, with the reason and
  the raw payload exactly as received (nothing is dropped);
* ``stream_checkpoints``: per stream and shard, the last sequence number landed
  and whether the shard is finished (closed and read to its end).

:func:`land_batch` writes the rows of a batch and moves the checkpoints in ONE
DuckDB transaction: a process killed at any point leaves either all of it or none,
and a consumer restarted from :func:`read_checkpoints` resumes right after the last
record landed. The primary keys make a second landing of the same record fail
loudly instead of duplicating it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from mediamix.warehouse.store import Warehouse

__all__ = [
    "DEAD_LETTER_COLUMNS",
    "EVENT_COLUMNS",
    "STREAM_TABLES",
    "Checkpoint",
    "ensure_stream_tables",
    "land_batch",
    "read_checkpoints",
]

EVENT_COLUMNS = (
    "stream",
    "shard_id",
    "sequence_number",
    "event_id",
    "event_type",
    "event_time",
    "channel",
    "user_id",
    "campaign_id",
    "impressions",
    "clicks",
    "spend",
    "conversion_value",
    "currency",
)
DEAD_LETTER_COLUMNS = (
    "stream",
    "shard_id",
    "sequence_number",
    "partition_key",
    "reason",
    "payload",
)
STREAM_TABLES = ("stream_events", "stream_dead_letters", "stream_checkpoints")

_DDL = (
    """
    create table if not exists stream_events (
        stream varchar not null, shard_id varchar not null, sequence_number varchar not null,
        event_id varchar not null, event_type varchar not null, event_time timestamp not null,
        channel varchar, user_id varchar, campaign_id varchar, impressions bigint,
        clicks bigint, spend double, conversion_value double, currency varchar not null,
        batch_no bigint not null, primary key (stream, shard_id, sequence_number))
    """,
    """
    create table if not exists stream_dead_letters (
        stream varchar not null, shard_id varchar not null, sequence_number varchar not null,
        partition_key varchar not null, reason varchar not null, payload blob not null,
        batch_no bigint not null, primary key (stream, shard_id, sequence_number))
    """,
    """
    create table if not exists stream_checkpoints (
        stream varchar not null, shard_id varchar not null, sequence_number varchar,
        finished boolean not null, batch_no bigint not null, updated_at timestamp not null,
        primary key (stream, shard_id))
    """,
)


@dataclass(frozen=True)
class Checkpoint:
    """The committed position of one shard."""

    sequence_number: str | None
    finished: bool


def ensure_stream_tables(wh: Warehouse) -> None:
    """Create the stream tables when they are not there yet."""
    for ddl in _DDL:
        wh.con.execute(ddl)


def dead_letters_about(wh: Warehouse, user_ids: Sequence[str]) -> pd.DataFrame:
    """The dead letters whose raw payload names one of ``user_ids``.

    A dead letter is a record that failed validation, so its payload may not be JSON
    at all: it is searched as text for each id as a whole token (not inside a longer
    id). Erasure errs on the side of erasing: a payload that mentions the id in any
    field counts as being about that user.

    Returns the matching rows with the payload decoded as UTF-8 text (undecodable
    bytes replaced), keyed by ``(stream, shard_id, sequence_number)``.
    """
    ids = [str(u) for u in user_ids if str(u)]
    if "stream_dead_letters" not in wh.tables() or not ids:
        return pd.DataFrame(columns=list(DEAD_LETTER_COLUMNS))
    token = re.compile(r"(?<![\w.@-])(?:" + "|".join(map(re.escape, ids)) + r")(?![\w.@-])")
    rows = wh.con.execute(
        f"select {', '.join(DEAD_LETTER_COLUMNS)} from stream_dead_letters order by all"  # noqa: S608 -- fixed column names
    ).df()
    rows["payload"] = [bytes(p).decode("utf-8", errors="replace") for p in rows["payload"]]
    return rows[[bool(token.search(text)) for text in rows["payload"]]].reset_index(drop=True)


def erase_dead_letters(wh: Warehouse, about: pd.DataFrame) -> int:
    """Delete the dead letters listed in ``about`` (from :func:`dead_letters_about`).

    Runs inside the caller's transaction. Returns the number of rows deleted.
    """
    if about.empty:
        return 0
    keys = about.loc[:, ["stream", "shard_id", "sequence_number"]]
    wh.con.register("erased_dead_letters", keys)
    try:
        wh.con.execute(
            "delete from stream_dead_letters d using erased_dead_letters e "
            "where d.stream = e.stream and d.shard_id = e.shard_id "
            "and d.sequence_number = e.sequence_number"
        )
    finally:
        wh.con.unregister("erased_dead_letters")
    return len(keys)


def read_checkpoints(wh: Warehouse, stream: str) -> dict[str, Checkpoint]:
    """The committed position of every shard of ``stream`` (empty before the first batch)."""
    if "stream_checkpoints" not in wh.tables():
        return {}
    rows = wh.con.execute(
        "select shard_id, sequence_number, finished from stream_checkpoints where stream = ?",
        [stream],
    ).fetchall()
    return {str(r[0]): Checkpoint(r[1], bool(r[2])) for r in rows}


def land_batch(
    wh: Warehouse,
    stream: str,
    events: pd.DataFrame,
    dead_letters: pd.DataFrame,
    checkpoints: Mapping[str, Checkpoint],
) -> int:
    """Insert a batch's events and dead letters and move its checkpoints, in one transaction.

    Parameters
    ----------
    wh : Warehouse
        Opened with :meth:`~mediamix.warehouse.store.Warehouse.writer`.
    stream : str
        The stream the batch came from.
    events : DataFrame
        Valid events, columns :data:`EVENT_COLUMNS` (``event_time`` as UTC timestamps).
    dead_letters : DataFrame
        Invalid records, columns :data:`DEAD_LETTER_COLUMNS` (``payload`` as bytes).
    checkpoints : mapping
        The position each shard of the batch reached.

    Returns
    -------
    int
        The batch number given to the rows.

    Raises
    ------
    duckdb.ConstraintException
        A record of the batch was already landed (the caller resumed from a wrong
        position); nothing of the batch is written.
    """
    con = wh.con
    ensure_stream_tables(wh)
    (last,) = con.execute(
        "select coalesce(max(batch_no), 0) from stream_checkpoints where stream = ?", [stream]
    ).fetchone() or (0,)
    batch_no = int(last) + 1
    marks = pd.DataFrame(
        {
            "stream": stream,
            "shard_id": list(checkpoints),
            "sequence_number": [c.sequence_number for c in checkpoints.values()],
            "finished": [c.finished for c in checkpoints.values()],
        }
    )
    con.execute("begin transaction")
    try:
        if len(events):
            con.register("incoming_stream_events", events.loc[:, list(EVENT_COLUMNS)])
            con.execute(
                f"insert into stream_events select {', '.join(EVENT_COLUMNS)}, ? "  # noqa: S608 -- fixed column names
                "from incoming_stream_events",
                [batch_no],
            )
            con.unregister("incoming_stream_events")
        if len(dead_letters):
            con.register("incoming_dead_letters", dead_letters.loc[:, list(DEAD_LETTER_COLUMNS)])
            con.execute(
                f"insert into stream_dead_letters select {', '.join(DEAD_LETTER_COLUMNS)}, ? "  # noqa: S608 -- fixed column names
                "from incoming_dead_letters",
                [batch_no],
            )
            con.unregister("incoming_dead_letters")
        if len(marks):
            con.register("incoming_checkpoints", marks)
            con.execute(
                "insert or replace into stream_checkpoints "
                "select stream, shard_id, sequence_number, finished, ?, now() "
                "from incoming_checkpoints",
                [batch_no],
            )
            con.unregister("incoming_checkpoints")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return batch_no
