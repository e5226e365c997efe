"""Use case: consume a stream of events into the warehouse, exactly once.

The loop: read the committed checkpoints, open the source after them, then per
micro-batch poll at most ``batch_size`` records, validate each one
(:func:`~mediamix.ingest.stream.parse_event`), and land the valid events, the dead
letters and the new shard positions in one warehouse transaction
(:func:`~mediamix.warehouse.stream.land_batch`). The warehouse writer lock is
held across consecutive batches for a few seconds at most and released whenever
the stream is idle, never for the whole run, so a daily ingest or a dbt build gets
its turn beside a long-lived consumer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from mediamix.errors import BusyError, InputError
from mediamix.ingest.stream import (
    RawRecord,
    RecordBatch,
    ShardPosition,
    StreamEvent,
    StreamSource,
    parse_event,
)
from mediamix.service.privacy import pseudonym

if TYPE_CHECKING:
    from mediamix.warehouse.store import Warehouse
    from mediamix.warehouse.stream import Checkpoint

__all__ = ["BatchReport", "ConsumeOptions", "ConsumeResult", "consume", "split_records"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumeOptions:
    """When a consumer stops and how it polls.

    Attributes
    ----------
    batch_size : int
        Most records per micro-batch (one warehouse transaction).
    max_batches : int, optional
        Stop after this many landed batches.
    until_idle : float, optional
        Stop once no record arrived for this many seconds.
    poll_interval : float
        Seconds to wait after a poll that returned nothing (Kinesis allows five
        reads per shard per second).
    busy_timeout : float
        How long a batch waits for another warehouse writer (a dbt build, a daily
        load) to finish before the consumer gives up.
    hold_seconds : float
        Longest time the consumer keeps the warehouse writer across consecutive
        batches before letting other writers in.
    """

    batch_size: int = 500
    max_batches: int | None = None
    until_idle: float | None = None
    poll_interval: float = 1.0
    busy_timeout: float = 300.0
    hold_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 10_000:
            raise InputError.single(
                f"batch size {self.batch_size} is outside 1..10000", column="--batch-size"
            )
        if self.max_batches is not None and self.max_batches < 1:
            raise InputError.single("--max-batches must be at least 1", column="--max-batches")
        if self.until_idle is not None and self.until_idle < 0:
            raise InputError.single("--until-idle must be >= 0 seconds", column="--until-idle")


@dataclass(frozen=True)
class BatchReport:
    """What one landed batch did, and the totals so far."""

    batch_no: int
    events: int
    dead_letters: int
    total_events: int
    total_dead_letters: int
    lag_ms: int | None


@dataclass(frozen=True)
class ConsumeResult:
    """What a consumer run landed."""

    stream: str
    batches: int
    events: int
    dead_letters: int
    seconds: float
    stopped_because: str


def split_records(
    stream: str, records: tuple[RawRecord, ...] | list[RawRecord]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Valid events as rows of ``stream_events``, the rest as dead letters with their reason.

    Examples
    --------
    >>> good = RawRecord("s-0", "1", "k", b'{"event_id": "e1", "event_type": "conversion", '
    ...                  b'"event_time": "2026-01-05T10:00:00Z", "user_id": "u1"}')
    >>> events, dead = split_records("clicks", [good, RawRecord("s-0", "2", "k", b"oops")])
    >>> len(events), list(dead["reason"])
    (1, ['not JSON: Expecting value (line 1, column 1)'])
    """
    from mediamix.warehouse.stream import DEAD_LETTER_COLUMNS, EVENT_COLUMNS

    good: list[dict[str, object]] = []
    bad: list[dict[str, object]] = []
    for record in records:
        parsed = parse_event(record.data)
        where = {
            "stream": stream,
            "shard_id": record.shard_id,
            "sequence_number": record.sequence_number,
        }
        if isinstance(parsed, StreamEvent):
            row = {**where, **parsed.model_dump()}
            # stored as naive UTC: DuckDB's timestamp column carries no zone
            row["event_time"] = parsed.event_time.replace(tzinfo=None)
            good.append(row)
        else:
            bad.append(
                {
                    **where,
                    "partition_key": record.partition_key,
                    "reason": parsed,
                    "payload": bytes(record.data),
                }
            )
            log.warning(
                "dead letter %s/%s: %s", record.shard_id, record.sequence_number, parsed[:200]
            )
    events = pd.DataFrame(good, columns=list(EVENT_COLUMNS))
    events = events.astype(
        {
            "impressions": "Int64",
            "clicks": "Int64",
            "spend": "float64",
            "conversion_value": "float64",
        }
    )
    events["event_time"] = pd.to_datetime(events["event_time"])
    return events, pd.DataFrame(bad, columns=list(DEAD_LETTER_COLUMNS))


class _Landing:
    """The warehouse writer, held across consecutive batches for at most ``hold`` seconds.

    Opening DuckDB (and checkpointing it on close) costs more than landing a batch,
    so a busy stream keeps the writer; it is released after ``hold`` seconds and
    whenever the stream is idle, so a daily load or a dbt build gets its turn.
    """

    def __init__(self, home: str | Path, stream: str, options: ConsumeOptions) -> None:
        self.home, self.stream, self.options = home, stream, options
        self._held: contextlib.ExitStack | None = None
        self._wh: Warehouse | None = None
        self._since = 0.0

    def _open(self) -> Warehouse:
        from mediamix.warehouse.store import Warehouse

        deadline = time.monotonic() + self.options.busy_timeout
        wait = 0.05
        while True:
            stack = contextlib.ExitStack()
            try:
                wh = stack.enter_context(Warehouse.writer(self.home))
            except BusyError:
                stack.close()
                if time.monotonic() + wait > deadline:
                    raise
                log.info("warehouse busy, batch of %s waits %.2f s", self.stream, wait)
                time.sleep(wait)
                wait = min(wait * 2, 2.0)
                continue
            self._held, self._wh, self._since = stack, wh, time.monotonic()
            return wh

    def land(self, rows: tuple[pd.DataFrame, pd.DataFrame], marks: dict[str, Checkpoint]) -> int:
        from mediamix.warehouse.stream import land_batch

        if self._wh is not None and time.monotonic() - self._since > self.options.hold_seconds:
            self.release()
        wh = self._wh if self._wh is not None else self._open()
        return land_batch(wh, self.stream, rows[0], rows[1], marks)

    def release(self) -> None:
        if self._held is not None:
            self._held.close()
        self._held, self._wh = None, None


def _stop_reason(
    options: ConsumeOptions, batches: int, should_stop: Callable[[], bool]
) -> str | None:
    if should_stop():
        return "asked to stop"
    if options.max_batches is not None and batches >= options.max_batches:
        return f"{batches} batch(es) landed"
    return None


def consume(
    home: str | Path,
    source: StreamSource,
    options: ConsumeOptions,
    *,
    on_batch: Callable[[BatchReport], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    pseudonymize_key: str | None = None,
) -> ConsumeResult:
    """Land a stream's events in the warehouse of ``home`` until a stop condition holds.

    Without ``max_batches`` or ``until_idle`` it runs until ``should_stop`` says so.
    With ``pseudonymize_key``, user ids are stored as their keyed hash
    (:func:`~mediamix.service.privacy.pseudonym`), like ``mediamix ingest events`` does.
    A run killed at any point and started again neither loses nor duplicates a record.

    Raises
    ------
    SourceUnavailableError
        The stream cannot be read (missing library, unknown stream, no network).
    BusyError
        Another process holds the warehouse for longer than a batch waits.
    """
    from mediamix.warehouse.store import Warehouse
    from mediamix.warehouse.stream import Checkpoint, ensure_stream_tables
    from mediamix.warehouse.stream import read_checkpoints as committed

    with Warehouse.writer(home) as wh:
        ensure_stream_tables(wh)
        positions = {
            shard: ShardPosition(c.sequence_number, c.finished)
            for shard, c in committed(wh, source.name).items()
        }
    log.info("stream %s: resuming %d shard checkpoint(s)", source.name, len(positions))
    source.open(positions)
    started = idle_since = time.monotonic()
    batches = events_total = dead_total = 0
    reason: str | None = None
    landing = _Landing(home, source.name, options)
    try:
        while (reason := _stop_reason(options, batches, should_stop)) is None:
            batch: RecordBatch = source.poll(options.batch_size)
            if batch.records:
                idle_since = time.monotonic()
            elif options.until_idle is not None and (
                time.monotonic() - idle_since >= options.until_idle
            ):
                reason = f"no new record for {options.until_idle:g} s"
            if batch.positions:
                events, dead = split_records(source.name, batch.records)
                if pseudonymize_key:
                    events["user_id"] = [
                        None if pd.isna(u) else pseudonym(str(u), pseudonymize_key)
                        for u in events["user_id"]
                    ]
                marks = {
                    s: Checkpoint(p.sequence_number, p.finished) for s, p in batch.positions.items()
                }
                batch_no = landing.land((events, dead), marks)
                batches += 1
                events_total += len(events)
                dead_total += len(dead)
                if on_batch is not None:
                    on_batch(
                        BatchReport(
                            batch_no, len(events), len(dead), events_total, dead_total, batch.lag_ms
                        )
                    )
            if reason is not None:
                break
            if not batch.records:
                landing.release()
                time.sleep(options.poll_interval)
    finally:
        landing.release()
        source.close()
    seconds = time.monotonic() - started
    log.info(
        "stream %s: %d event(s) and %d dead letter(s) in %d batch(es), %.1f s (%s) at %s",
        source.name,
        events_total,
        dead_total,
        batches,
        seconds,
        reason,
        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    return ConsumeResult(source.name, batches, events_total, dead_total, seconds, reason)
