"""The warehouse: one DuckDB file under the mediamix home, one writer at a time.

Layout of ``home``::

    warehouse.duckdb        raw tables, load_log, and the dbt models (schema main)
    warehouse.lock          held (flock) by the one process writing
    raw/<source>/<account>/<start>_<end>_<sha12>.parquet   immutable landed batches

A load (:meth:`Warehouse.load_batch`) validates the batch, lands it as an immutable
Parquet file named by its content hash, then in ONE transaction deletes the rows of
that source, account and period and inserts the batch with a ``load_log`` row. A
crash at any point leaves either the old rows or the new ones; a batch whose
content equals the last load of that period is a no-op.

``duckdb`` is imported inside functions: ``import mediamix`` stays free of it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mediamix.errors import BusyError, InputError, Problem
from mediamix.io.atomic import atomic_write_bytes
from mediamix.warehouse.crypto import (
    SEALED_SUFFIX,
    WarehouseKey,
    connect_database,
    current_key,
    seal,
)
from mediamix.warehouse.layout import (
    CONTROL_COLUMNS,
    KPI_COLUMNS,
    MEDIA_COLUMNS,
    MEDIA_GRAIN,
    validate_long,
)

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = ["DB_NAME", "LoadResult", "Warehouse", "warehouse_path"]

log = logging.getLogger(__name__)

DB_NAME = "warehouse.duckdb"
LOCK_NAME = "warehouse.lock"

_DDL = (
    """
    create table if not exists raw_ad_reporting (
        load_id varchar not null, source varchar not null, source_account varchar not null,
        date_day date not null, platform varchar not null, account_id varchar not null,
        campaign_id varchar not null, channel varchar not null, geo varchar not null,
        currency_code varchar not null, spend double not null, impressions double,
        clicks double, conversions double, conversions_value double)
    """,
    """
    create table if not exists raw_kpi (
        load_id varchar not null, source varchar not null, source_account varchar not null,
        date_day date not null, geo varchar not null, name varchar not null,
        value double not null)
    """,
    """
    create table if not exists raw_controls (
        load_id varchar not null, source varchar not null, source_account varchar not null,
        date_day date not null, geo varchar not null, name varchar not null,
        kind varchar not null, value double not null)
    """,
    """
    create table if not exists load_log (
        load_id varchar not null, source varchar not null, source_account varchar not null,
        period_start date not null, period_end date not null, media_rows bigint not null,
        kpi_rows bigint not null, control_rows bigint not null, sha256 varchar not null,
        loaded_at timestamp not null, raw_path varchar not null)
    """,
)

RAW_TABLES = ("raw_ad_reporting", "raw_kpi", "raw_controls")
_SORT = {
    "media": list(MEDIA_GRAIN),
    "kpi": ["date_day", "geo", "name"],
    "controls": ["date_day", "geo", "name"],
}


def warehouse_path(home: str | Path) -> Path:
    """The DuckDB file of a mediamix home."""
    return Path(home) / DB_NAME


@dataclass(frozen=True)
class LoadResult:
    """What a load did.

    Attributes
    ----------
    status : {"loaded", "unchanged"}
        ``unchanged`` when the same content was already the last load of the period.
    """

    status: str
    source: str
    account: str
    period_start: dt.date
    period_end: dt.date
    media_rows: int
    kpi_rows: int
    control_rows: int
    sha256: str
    raw_path: Path
    replaced_rows: int = 0


def _safe_segment(value: str, what: str) -> str:
    text = value.strip()
    if not text or any(c in text for c in "/\\\0") or text in {".", ".."}:
        raise InputError.single(
            f"{what} '{value}' cannot be used as a folder name (no slashes, not empty)",
            column=what,
        )
    return text


class Warehouse:
    """A DuckDB warehouse file with an exclusive writer lock.

    Use :meth:`writer` to load or transform (the lock is held until the block
    ends) and :meth:`reader` to query. Both are context managers.

    Examples
    --------
    >>> import tempfile
    >>> home = tempfile.mkdtemp()
    >>> with Warehouse.writer(home) as wh:
    ...     sorted(wh.tables())[:2]
    ['load_log', 'raw_ad_reporting']
    """

    def __init__(
        self,
        home: Path,
        con: duckdb.DuckDBPyConnection,
        *,
        writable: bool,
        key: WarehouseKey | None = None,
    ) -> None:
        self.home = home
        self.con = con
        self.writable = writable
        self.key = key

    @property
    def path(self) -> Path:
        """The DuckDB file."""
        return warehouse_path(self.home)

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    @contextlib.contextmanager
    def writer(cls, home: str | Path, *, key: WarehouseKey | None = None) -> Iterator[Warehouse]:
        """Open for writing: take the lock, create the tables if needed.

        ``key`` (default: the process's key source, :mod:`mediamix.warehouse.crypto`)
        creates and opens the warehouse encrypted.

        Raises
        ------
        BusyError
            Another process (or another writer in this process) holds the lock.
        InputError
            The warehouse is encrypted and no key (or a wrong one) was given.
        """
        home = Path(home)
        key = current_key(key)
        with hold_lock(home):
            con = connect_database(warehouse_path(home), key=key)
            try:
                for ddl in _DDL:
                    con.execute(ddl)
                yield cls(home, con, writable=True, key=key)
            finally:
                con.close()

    @classmethod
    @contextlib.contextmanager
    def reader(cls, home: str | Path, *, key: WarehouseKey | None = None) -> Iterator[Warehouse]:
        """Open read-only (no lock taken; fails with BusyError while a writer works).

        Raises
        ------
        InputError
            There is no warehouse yet, or it is encrypted and no key (or a wrong one)
            was given.
        BusyError
            A writer holds the file.
        """
        path = warehouse_path(home)
        if not path.is_file():
            raise InputError.single(
                "no warehouse yet: load data first (mediamix ingest ...)", file=str(path)
            )
        key = current_key(key)
        con = connect_database(path, key=key, read_only=True)
        try:
            yield cls(Path(home), con, writable=False, key=key)
        finally:
            con.close()

    # -- queries ---------------------------------------------------------------------------

    def tables(self) -> list[str]:
        """Names of the tables and views in the main schema."""
        rows = self.con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "and table_catalog = current_database() order by table_name"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a query and return a DataFrame."""
        return self.con.execute(sql, params or []).df()

    def checksum(self, table: str) -> str:
        """Order-independent SHA-256 of a table's content (rows sorted as text)."""
        rows = self.con.execute(f'select * from "{table}"').fetchall()  # noqa: S608 -- table names come from the warehouse catalog
        text = sorted(repr(tuple(r)) for r in rows)
        digest = hashlib.sha256()
        for line in text:
            digest.update(line.encode())
            digest.update(b"\n")
        return digest.hexdigest()

    def checksums(self) -> dict[str, str]:
        """:meth:`checksum` of every table and view in the main schema."""
        return {name: self.checksum(name) for name in self.tables()}

    # -- loading ---------------------------------------------------------------------------

    def load_batch(
        self,
        source: str,
        account: str,
        media: pd.DataFrame,
        period_start: dt.date | str | None = None,
        period_end: dt.date | str | None = None,
        *,
        kpi: pd.DataFrame | None = None,
        controls: pd.DataFrame | None = None,
        origin: str | None = None,
        loaded_at: dt.datetime | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> LoadResult:
        """Validate, land and upsert one batch of a source's account over a period.

        Parameters
        ----------
        source : str
            Source name (``file``, ``synthetic``, ``google_ads`` ...).
        account : str
            The account the batch covers; with ``source`` and the period it is the
            key of the upsert.
        media : DataFrame
            Rows in the unified long layout (:data:`~mediamix.warehouse.layout.MEDIA_COLUMNS`).
        period_start, period_end : date or ISO str, optional
            Inclusive period the batch replaces; default the first and last day in it.
        kpi, controls : DataFrame, optional
            KPI and baseline drivers in the long layouts, same period.
        origin : str, optional
            Name used in error messages (the file the rows came from).
        loaded_at : datetime, optional
            Timestamp recorded in ``load_log`` (default: now, UTC).
        before_commit : callable, optional
            Called inside the transaction right before the commit (crash tests).

        Returns
        -------
        LoadResult

        Raises
        ------
        InputError
            Any row or column is invalid: nothing is landed or changed.
        """
        if not self.writable:
            raise RuntimeError("load_batch needs a warehouse opened with Warehouse.writer")
        where = origin or f"{source} batch"
        source = _safe_segment(source, "source")
        account = _safe_segment(account, "account")
        period = _period(media, period_start, period_end, where)
        problems: list[Problem] = []
        media_t, found = validate_long(media, "media", source=where, period=period)
        problems += found
        kpi_t, found = validate_long(
            kpi if kpi is not None else _empty(KPI_COLUMNS), "kpi", source=where, period=period
        )
        problems += found
        controls_t, found = validate_long(
            controls if controls is not None else _empty(CONTROL_COLUMNS),
            "controls",
            source=where,
            period=period,
        )
        problems += found
        if problems:
            raise InputError(problems)

        tables = {
            "media": _arrow(media_t, "media"),
            "kpi": _arrow(kpi_t, "kpi"),
            "controls": _arrow(controls_t, "controls"),
        }
        sha = _content_hash(tables)
        start, end = period[0].date(), period[1].date()
        raw_path = self.home / "raw" / source / account / f"{start}_{end}_{sha[:12]}.parquet"
        if self.key is not None:
            raw_path = raw_path.with_name(raw_path.name + SEALED_SUFFIX)
        result = LoadResult(
            status="loaded",
            source=source,
            account=account,
            period_start=start,
            period_end=end,
            media_rows=tables["media"].num_rows,
            kpi_rows=tables["kpi"].num_rows,
            control_rows=tables["controls"].num_rows,
            sha256=sha,
            raw_path=raw_path,
        )
        if self._last_load_equals(source, account, start, end, sha):
            log.info(
                "%s/%s %s..%s: same content as the last load, nothing to do",
                source,
                account,
                start,
                end,
            )
            return _replace(result, status="unchanged")
        loaded_at = loaded_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if not raw_path.is_file():
            _land(raw_path, tables, _Landing(source, account, start, end, sha, loaded_at), self.key)
        replaced = self._upsert(result, tables, loaded_at, before_commit)
        log.info(
            "%s/%s %s..%s: loaded %d media rows (replaced %d)",
            source,
            account,
            start,
            end,
            result.media_rows,
            replaced,
        )
        return _replace(result, replaced_rows=replaced)

    def _last_load_equals(
        self, source: str, account: str, start: dt.date, end: dt.date, sha: str
    ) -> bool:
        row = self.con.execute(
            "select period_start, period_end, sha256 from load_log "
            "where source = ? and source_account = ? and period_start <= ? and period_end >= ? "
            "order by loaded_at desc, rowid desc limit 1",
            [source, account, end, start],
        ).fetchone()
        return row is not None and (row[0], row[1], row[2]) == (start, end, sha)

    def _upsert(
        self,
        result: LoadResult,
        tables: dict[str, pa.Table],
        loaded_at: dt.datetime,
        before_commit: Callable[[], None] | None,
    ) -> int:
        con = self.con
        key = [result.source, result.account, result.period_start, result.period_end]
        load_id = result.sha256[:16]
        con.execute("begin transaction")
        try:
            replaced = 0
            for table in ("raw_ad_reporting", "raw_kpi", "raw_controls"):
                deleted = con.execute(
                    f"delete from {table} where source = ? and source_account = ? "  # noqa: S608 -- table names are a fixed tuple; values are bound
                    "and date_day between ? and ?",
                    key,
                ).fetchone()
                if table == "raw_ad_reporting" and deleted is not None:
                    replaced = int(deleted[0])
            for name, table in (
                ("raw_ad_reporting", "media"),
                ("raw_kpi", "kpi"),
                ("raw_controls", "controls"),
            ):
                batch = tables[table]
                if batch.num_rows == 0:
                    continue
                con.register("_batch", batch)
                columns = ", ".join(batch.column_names)
                con.execute(
                    f"insert into {name} (load_id, source, source_account, {columns}) "  # noqa: S608 -- fixed table and column schema; values are bound
                    f"select ?, ?, ?, {columns} from _batch",
                    [load_id, result.source, result.account],
                )
                con.unregister("_batch")
            con.execute(
                "insert into load_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    load_id,
                    result.source,
                    result.account,
                    result.period_start,
                    result.period_end,
                    result.media_rows,
                    result.kpi_rows,
                    result.control_rows,
                    result.sha256,
                    loaded_at,
                    str(result.raw_path.relative_to(self.home)),
                ],
            )
            if before_commit is not None:
                before_commit()
            con.execute("commit")
        except BaseException:
            with contextlib.suppress(Exception):
                con.execute("rollback")
            raise
        return replaced


@contextlib.contextmanager
def hold_lock(home: str | Path) -> Iterator[Path]:
    """Hold the exclusive writer lock of a home (``fcntl.flock``, non-blocking).

    The lock dies with the process, so a killed writer never leaves it stuck.

    Raises
    ------
    BusyError
        Another writer holds it.
    """
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise BusyError(
                f"warehouse is busy: another mediamix process is writing "
                f"({path}, held by pid {holder}); retry later"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _replace(result: LoadResult, **changes: Any) -> LoadResult:
    from dataclasses import replace

    return replace(result, **changes)


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def _period(
    media: pd.DataFrame,
    start: dt.date | str | None,
    end: dt.date | str | None,
    where: str,
) -> tuple[pd.Timestamp, pd.Timestamp]:
    def parse(value: dt.date | str, name: str) -> pd.Timestamp:
        try:
            return pd.Timestamp(value).normalize()
        except (ValueError, TypeError):
            raise InputError.single(
                f"period {name} '{value}' is not an ISO date (YYYY-MM-DD)", column=name
            ) from None

    if start is None or end is None:
        if "date_day" not in media.columns or media.empty:
            raise InputError.single(
                "the batch has no rows and no period: nothing to load", file=where
            )
        days = pd.to_datetime(media["date_day"], errors="coerce", format="ISO8601")
        if days.isna().all():
            raise InputError.single(
                "no valid date_day in the batch to infer its period", file=where, column="date_day"
            )
    first = parse(start, "period_start") if start is not None else days.min().normalize()
    last = parse(end, "period_end") if end is not None else days.max().normalize()
    if last < first:
        raise InputError.single(
            f"period end {last.date()} is before its start {first.date()}", column="period_end"
        )
    return first, last


def _arrow(frame: pd.DataFrame, kind: str) -> pa.Table:
    import pyarrow as pa

    columns = {"media": MEDIA_COLUMNS, "kpi": KPI_COLUMNS, "controls": CONTROL_COLUMNS}[kind]
    arrays: dict[str, pa.Array] = {}
    for column in columns:
        series = frame[column]
        if column == "date_day":
            arrays[column] = pa.array(series.dt.date.to_numpy(), type=pa.date32())
        elif pd.api.types.is_float_dtype(series.dtype):
            arrays[column] = pa.array(
                series.to_numpy(dtype=float), type=pa.float64(), from_pandas=True
            )
        else:
            arrays[column] = pa.array(series.astype(str).to_numpy(), type=pa.string())
    table = pa.table(arrays)
    return table.sort_by([(c, "ascending") for c in _SORT[kind]])


def _content_hash(tables: dict[str, pa.Table]) -> str:
    """SHA-256 over the canonical (sorted, typed) Arrow IPC bytes of the batch."""
    import pyarrow as pa

    digest = hashlib.sha256()
    for name in ("media", "kpi", "controls"):
        sink = io.BytesIO()
        table = tables[name]
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=1 << 30)
        digest.update(name.encode())
        digest.update(sink.getvalue())
    return digest.hexdigest()


@dataclass(frozen=True)
class _Landing:
    source: str
    account: str
    start: dt.date
    end: dt.date
    sha: str
    loaded_at: dt.datetime


def _land(
    path: Path, tables: dict[str, pa.Table], what: _Landing, key: WarehouseKey | None
) -> None:
    """Write the immutable raw file: one Parquet with a ``table`` column per part.

    With a warehouse key the Parquet bytes are sealed (AES-256-GCM) before they touch
    the disk, labelled with the file's name, so no clear copy of the batch is kept.
    """
    source, account, start, end, sha, loaded_at = (
        what.source,
        what.account,
        what.start,
        what.end,
        what.sha,
        what.loaded_at,
    )
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = []
    for name, table in tables.items():
        if table.num_rows:
            parts.append(
                table.append_column("table", pa.array([name] * table.num_rows, pa.string()))
            )
    combined = pa.concat_tables(parts, promote_options="permissive") if parts else tables["media"]
    metadata = {
        b"mediamix.source": source.encode(),
        b"mediamix.account": account.encode(),
        b"mediamix.period_start": str(start).encode(),
        b"mediamix.period_end": str(end).encode(),
        b"mediamix.media_rows": str(tables["media"].num_rows).encode(),
        b"mediamix.kpi_rows": str(tables["kpi"].num_rows).encode(),
        b"mediamix.control_rows": str(tables["controls"].num_rows).encode(),
        b"mediamix.content_sha256": sha.encode(),
        b"mediamix.loaded_at": loaded_at.isoformat().encode(),
    }
    combined = combined.replace_schema_metadata(metadata)
    sink = io.BytesIO()
    pq.write_table(combined, sink, compression="zstd")
    data = sink.getvalue()
    if key is not None:
        data = seal(data, key, label=path.name)
    atomic_write_bytes(path, data)
