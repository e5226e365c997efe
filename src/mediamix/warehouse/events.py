"""User-level event logs in the warehouse, and their erasure and export per user.

Event logs (the attribution event-log columns: ``user_id``, ``timestamp``,
``channel``, ``conversion`` and optionally ``conversion_value``, ``milestone``) hold
personal data. Unlike media loads they are not landed as immutable Parquet files:
every copy of a user's rows lives in tables of the DuckDB file, so erasing a user is
one transaction.

* ``raw_events``: the rows as loaded, with the load they came from;
* ``event_channel_daily``: the aggregate built from them (touches, converting
  touches and value per day and channel), rebuilt whenever rows are removed.

Attribution reads ``raw_events`` where it is (:func:`event_journeys`): journeys are
built per run and never stored, so no per-user derived table exists to erase, and a
run after an erasure sees only what is left.

:func:`forget_users` deletes the users' rows from every table with a ``user_id``
column, and the stream's dead letters whose raw payload names them, and rebuilds the aggregates in the same transaction: a process killed
half-way leaves everything deleted or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from mediamix.errors import InputError
from mediamix.warehouse.stream import dead_letters_about, erase_dead_letters

if TYPE_CHECKING:
    from mediamix.attribution.journeys import Journeys
    from mediamix.warehouse.store import Warehouse

__all__ = [
    "EVENT_TABLES",
    "event_journeys",
    "export_users",
    "forget_users",
    "load_events",
    "user_tables",
]

_DDL = """
create table if not exists raw_events (
    load_id varchar not null, user_id varchar not null, event_time timestamp not null,
    channel varchar not null, conversion integer not null, conversion_value double,
    milestone varchar)
"""

_AGGREGATE = """
create or replace table event_channel_daily as
select cast(event_time as date) as day, channel, count(*) as touches,
       sum(conversion) as conversions, sum(coalesce(conversion_value, 0.0)) as value
from raw_events
group by all
order by all
"""

EVENT_TABLES = ("raw_events", "event_channel_daily")


def load_events(wh: Warehouse, frame: pd.DataFrame, load_id: str) -> int:
    """Append validated event rows (typed columns) and rebuild the aggregates.

    Returns the number of rows loaded.
    """
    con = wh.con
    con.execute(_DDL)
    rows = pd.DataFrame(
        {
            "load_id": load_id,
            "user_id": frame["user_id"].astype(str),
            "event_time": pd.to_datetime(frame["timestamp"]),
            "channel": frame["channel"].astype(str),
            "conversion": frame["conversion"].astype(int),
            "conversion_value": (
                frame["conversion_value"].astype(float)
                if "conversion_value" in frame
                else pd.Series(float("nan"), index=frame.index)
            ),
            "milestone": frame["milestone"].astype(str) if "milestone" in frame else None,
        }
    )
    con.execute("begin transaction")
    try:
        con.register("incoming_events", rows)
        con.execute("insert into raw_events select * from incoming_events")
        con.unregister("incoming_events")
        con.execute(_AGGREGATE)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return len(rows)


def event_journeys(wh: Warehouse, *, lookback_days: float = 30.0) -> Journeys:
    """The attribution journeys of every event in ``raw_events``, built in the database.

    Raises
    ------
    InputError
        The warehouse holds no event log (nothing was ingested with
        ``mediamix ingest events``, or every row was erased).
    """
    from mediamix.attribution.events import read_event_table

    where = f"{wh.path} (raw_events)"
    if "raw_events" not in wh.tables():
        raise InputError.single(
            "the warehouse holds no event log: load one with mediamix ingest events FILE",
            file=where,
        )
    return read_event_table(wh.con, "raw_events", lookback_days=lookback_days, source=where)


def user_tables(wh: Warehouse) -> list[str]:
    """Every table of the warehouse with a ``user_id`` column (views left out)."""
    rows = wh.con.execute(
        "select distinct c.table_name from information_schema.columns c "
        "join information_schema.tables t "
        "on t.table_schema = c.table_schema and t.table_name = c.table_name "
        "and t.table_catalog = c.table_catalog "
        "where c.table_schema = 'main' and c.column_name = 'user_id' "
        "and c.table_catalog = current_database() "
        "and t.table_type = 'BASE TABLE' order by 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def forget_users(wh: Warehouse, user_ids: Sequence[str]) -> dict[str, int]:
    """Delete every row about ``user_ids`` and rebuild what was aggregated from them.

    One transaction: all of it happens, or (on any error or a killed process) none.
    Returns the rows deleted per table (zero everywhere when the users are unknown).
    """
    con = wh.con
    tables = user_tables(wh)
    deleted: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        con.register("forgotten", pd.DataFrame({"user_id": list(map(str, user_ids))}))
        for table in tables:
            (count,) = con.execute(
                f"select count(*) from {table} where user_id in (select user_id from forgotten)"  # noqa: S608 -- table names come from the warehouse's own catalogue
            ).fetchone() or (0,)
            con.execute(
                f"delete from {table} where user_id in (select user_id from forgotten)"  # noqa: S608 -- table names come from the warehouse's own catalogue
            )
            deleted[table] = int(count)
        con.unregister("forgotten")
        if "stream_dead_letters" in wh.tables():
            about = dead_letters_about(wh, user_ids)
            deleted["stream_dead_letters"] = erase_dead_letters(wh, about)
        removed: int = sum(deleted.values())
        if "raw_events" in tables and removed > 0:
            con.execute(_AGGREGATE)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return deleted


def export_users(wh: Warehouse, user_ids: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Every row about ``user_ids``, per table that holds any."""
    ids = pd.DataFrame({"user_id": list(map(str, user_ids))})
    wh.con.register("asked", ids)
    try:
        out = {}
        for table in user_tables(wh):
            rows = wh.con.execute(
                f"select * from {table} where user_id in (select user_id from asked) order by all"  # noqa: S608 -- table names come from the warehouse's own catalogue
            ).df()
            if len(rows):
                out[table] = rows
        letters = dead_letters_about(wh, user_ids)
        if len(letters):
            out["stream_dead_letters"] = letters
        return out
    finally:
        wh.con.unregister("asked")
