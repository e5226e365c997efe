"""Streamed events: their schema, the stream-source protocol, and the Kinesis source.

Producers put one JSON object per record (UTF-8), version 1 of the event schema
(:class:`StreamEvent`, documented in ``docs/streaming.md``):

=================  ========================================================
field              meaning
=================  ========================================================
event_id           producer's id of the event (non-empty text)
event_type         ``ad_delivery`` (impressions, clicks, spend of a campaign)
                   or ``conversion`` (a user converted, with its value)
event_time         ISO 8601 timestamp with a time zone (stored in UTC)
channel            the MMM channel; required for ``ad_delivery``
user_id            required for ``conversion``
campaign_id        optional
impressions,       ``ad_delivery`` only, >= 0
clicks, spend
conversion_value   ``conversion`` only, >= 0
currency           ISO 4217 code of ``spend`` and ``conversion_value``
=================  ========================================================

Unknown fields are refused, so a producer's typo does not silently lose data.

A :class:`StreamSource` hands out :class:`RecordBatch` es of raw records with the
position each shard reached; it never decides what is landed. The consumer
(:mod:`mediamix.service.stream`) validates the records and commits the rows with
the positions in one transaction, then tells nothing back to the source: a
restarted consumer opens the source at the committed positions. That is what
makes the landing exactly-once, and it is all a Kafka consumer would need too
(partitions as shards, offsets as sequence numbers).

:class:`KinesisSource` reads every shard of a Kinesis stream through ``boto3``
(the ``aws`` extra, imported when the source opens). A shard with a committed
sequence number resumes ``AFTER_SEQUENCE_NUMBER``; a new one starts at
``TRIM_HORIZON``. Resharding: a child shard is read only once its parent (and
adjacent parent, after a merge) is finished, that is, closed and read to its end,
so the events of one partition key stay in order across a split or a merge.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mediamix.ingest.base import SourceUnavailableError

__all__ = [
    "EVENT_FIELDS",
    "KinesisSource",
    "RawRecord",
    "RecordBatch",
    "ShardPosition",
    "StreamEvent",
    "StreamSource",
    "parse_event",
]

log = logging.getLogger(__name__)


class StreamEvent(BaseModel):
    """One streamed event, version 1 of the schema (see the module docstring).

    Examples
    --------
    >>> e = StreamEvent.model_validate({"event_id": "e1", "event_type": "conversion",
    ...     "event_time": "2026-01-05T10:00:00+01:00", "user_id": "u1", "conversion_value": 12.5})
    >>> e.event_time.isoformat(), e.currency
    ('2026-01-05T09:00:00+00:00', 'USD')
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    event_id: str = Field(min_length=1, max_length=200)
    event_type: Literal["ad_delivery", "conversion"]
    event_time: dt.datetime
    channel: str | None = Field(default=None, min_length=1, max_length=200)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    campaign_id: str | None = Field(default=None, max_length=200)
    impressions: int | None = Field(default=None, ge=0)
    clicks: int | None = Field(default=None, ge=0)
    spend: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    conversion_value: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")

    @model_validator(mode="after")
    def _consistent(self) -> StreamEvent:
        if self.event_time.tzinfo is None:
            raise ValueError("event_time needs a time zone (for example 2026-01-05T10:00:00Z)")
        object.__setattr__(self, "event_time", self.event_time.astimezone(dt.UTC))
        if self.event_type == "ad_delivery":
            if self.channel is None:
                raise ValueError("an ad_delivery event needs a channel")
            if self.conversion_value is not None:
                raise ValueError("an ad_delivery event has no conversion_value")
        else:
            if self.user_id is None:
                raise ValueError("a conversion event needs a user_id")
            if any(v is not None for v in (self.impressions, self.clicks, self.spend)):
                raise ValueError("a conversion event has no impressions, clicks or spend")
        return self


EVENT_FIELDS = tuple(StreamEvent.model_fields)


def parse_event(data: bytes) -> StreamEvent | str:
    """The event a record holds, or why it is not one (the dead-letter reason).

    Examples
    --------
    >>> parse_event(b"{not json")
    'not JSON: Expecting property name enclosed in double quotes (line 1, column 2)'
    >>> parse_event(b'{"event_id": "e1", "event_type": "click"}')[:60]
    "event_type: Input should be 'ad_delivery' or 'conversion'; e"
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text: {exc.reason} at byte {exc.start}"
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    if not isinstance(document, dict):
        return f"not a JSON object: found {type(document).__name__}"
    try:
        return StreamEvent.model_validate(document)
    except ValidationError as exc:
        return "; ".join(
            f"{'.'.join(map(str, err['loc'])) or 'event'}: {err['msg']}" for err in exc.errors()
        )


@dataclass(frozen=True)
class RawRecord:
    """A record as the stream delivered it."""

    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes


@dataclass(frozen=True)
class ShardPosition:
    """How far a shard has been read: the last sequence number, and whether it is finished.

    ``finished`` means the shard is closed (after resharding) and read to its end.
    """

    sequence_number: str | None
    finished: bool = False


@dataclass(frozen=True)
class RecordBatch:
    """Records read since the last batch, and the position every shard touched reached.

    ``lag_ms`` is the largest ``MillisBehindLatest`` the shards reported (None when
    the source does not know).
    """

    records: tuple[RawRecord, ...]
    positions: Mapping[str, ShardPosition]
    lag_ms: int | None = None


@runtime_checkable
class StreamSource(Protocol):
    """A partitioned stream read from committed positions (Kinesis shards, Kafka partitions)."""

    @property
    def name(self) -> str:
        """The stream's name, the key of its checkpoints."""
        ...

    def open(self, positions: Mapping[str, ShardPosition]) -> None:
        """Start after the committed positions (shards not listed start at the oldest record)."""
        ...

    def poll(self, max_records: int) -> RecordBatch:
        """At most ``max_records`` new records (possibly none) and the positions they reach."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass
class _Shard:
    shard_id: str
    parents: tuple[str, ...]
    iterator: str | None = None
    last: str | None = None
    finished: bool = False


@dataclass
class KinesisSource:
    """Every shard of one Kinesis stream, through ``boto3``.

    Parameters
    ----------
    stream : str
        Stream name.
    endpoint_url : str, optional
        Another endpoint than AWS's (a local test server).
    region : str
        AWS region; credentials come from boto3's usual chain.
    client_factory : callable, optional
        Builds the boto3 client (tests); default ``boto3.client("kinesis", ...)``.
    sleep : callable
        Waits between retries after ``ProvisionedThroughputExceededException``.
    """

    stream: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    client_factory: Callable[[], Any] | None = None
    sleep: Callable[[float], None] = time.sleep
    _client: Any = field(default=None, init=False, repr=False)
    _shards: dict[str, _Shard] = field(default_factory=dict, init=False, repr=False)
    _next: int = field(default=0, init=False, repr=False)
    _stale: bool = field(default=False, init=False, repr=False)

    @property
    def name(self) -> str:
        """The stream name."""
        return self.stream

    def _make_client(self) -> Any:
        if self.client_factory is not None:
            return self.client_factory()
        try:
            import boto3
        except ImportError:
            raise SourceUnavailableError(
                "reading Kinesis needs boto3: pip install 'mediamix[aws]'"
            ) from None
        return boto3.client("kinesis", endpoint_url=self.endpoint_url, region_name=self.region)

    def _call(self, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        for attempt in range(8):
            try:
                return getattr(self._client, method)(**kwargs)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in {"ProvisionedThroughputExceededException", "LimitExceededException"}:
                    self.sleep(min(5.0, 0.2 * 2**attempt))
                    continue
                if code == "ResourceNotFoundException":
                    raise SourceUnavailableError(
                        f"Kinesis stream '{self.stream}' not found: {exc}"
                    ) from None
                raise
            except BotoCoreError as exc:
                raise SourceUnavailableError(f"Kinesis unreachable: {exc}") from None
        raise SourceUnavailableError(f"Kinesis {method}: still throttled after 8 attempts")

    def _list_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        answer = self._call("list_shards", StreamName=self.stream)
        shards += answer["Shards"]
        while answer.get("NextToken"):
            answer = self._call("list_shards", NextToken=answer["NextToken"])
            shards += answer["Shards"]
        return shards

    def open(self, positions: Mapping[str, ShardPosition]) -> None:
        """List the shards and remember where each one resumes."""
        self._client = self._make_client()
        self._shards = {}
        self._refresh(positions)

    def _refresh(self, positions: Mapping[str, ShardPosition] | None = None) -> None:
        for info in self._list_shards():
            shard_id = info["ShardId"]
            if shard_id in self._shards:
                continue
            parents = tuple(
                p for p in (info.get("ParentShardId"), info.get("AdjacentParentShardId")) if p
            )
            shard = _Shard(shard_id, parents)
            if positions and shard_id in positions:
                shard.last = positions[shard_id].sequence_number
                shard.finished = positions[shard_id].finished
            self._shards[shard_id] = shard
        log.info("stream %s: %d shard(s)", self.stream, len(self._shards))

    def _ready(self, shard: _Shard) -> bool:
        # a parent that expired out of retention is not listed any more: nothing left to wait for
        return not shard.finished and all(
            self._shards[p].finished for p in shard.parents if p in self._shards
        )

    def _iterator(self, shard: _Shard) -> str:
        if shard.iterator is None:
            where: dict[str, str] = (
                {
                    "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                    "StartingSequenceNumber": shard.last,
                }
                if shard.last is not None
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            answer = self._call(
                "get_shard_iterator", StreamName=self.stream, ShardId=shard.shard_id, **where
            )
            shard.iterator = answer["ShardIterator"]
        assert shard.iterator is not None  # noqa: S101 -- set just above
        return shard.iterator

    def _read(self, shard: _Shard, limit: int) -> tuple[list[RawRecord], int | None]:
        from botocore.exceptions import ClientError

        try:
            answer = self._call("get_records", ShardIterator=self._iterator(shard), Limit=limit)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                raise
            shard.iterator = None  # an idle iterator expires after 5 minutes: reopen at last
            answer = self._call("get_records", ShardIterator=self._iterator(shard), Limit=limit)
        records = [
            RawRecord(shard.shard_id, r["SequenceNumber"], r.get("PartitionKey", ""), r["Data"])
            for r in answer["Records"]
        ]
        if records:
            shard.last = records[-1].sequence_number
        shard.iterator = answer.get("NextShardIterator")
        if shard.iterator is None:
            shard.finished = True
            self._stale = True
            log.info("shard %s is closed and read to its end", shard.shard_id)
        return records, answer.get("MillisBehindLatest")

    def poll(self, max_records: int) -> RecordBatch:
        """Read the ready shards in turn until ``max_records`` or every shard was asked once."""
        if self._client is None:
            raise RuntimeError("open the source before polling it")
        if self._stale:
            self._stale = False
            self._refresh()  # a shard was closed by resharding: its children are listed now
        ready = [s for s in self._shards.values() if self._ready(s)]
        records: list[RawRecord] = []
        touched: dict[str, ShardPosition] = {}
        lags: list[int] = []
        if ready:
            start = self._next % len(ready)
            for shard in ready[start:] + ready[:start]:
                room = max_records - len(records)
                if room <= 0:
                    break
                got, lag = self._read(shard, min(room, 10_000))
                records += got
                if lag is not None:
                    lags.append(int(lag))
                if got or shard.finished:
                    touched[shard.shard_id] = ShardPosition(shard.last, shard.finished)
            self._next += 1
        return RecordBatch(tuple(records), touched, max(lags) if lags else None)

    def close(self) -> None:
        """Forget the client."""
        self._client = None
