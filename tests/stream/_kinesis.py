"""Helpers shared by the streaming test and benchmark: events, sending, reading back.

The events are generated, sent to a Kinesis stream (moto's server on loopback),
and what the warehouse landed is compared with what was sent by count and by an
order-independent checksum over every event field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHANNELS = ("search", "social", "video", "display")
CHECKSUM_COLUMNS = (
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


def _linear_moto_puts() -> None:
    """Make moto's in-memory shard append in constant time.

    moto's ``Shard.get_max_sequence_number`` copies every key of the shard to find
    the last one, so filling a shard is quadratic in its records: 100,000 puts
    take many minutes in the test server before the consumer reads anything. The
    last key of the ordered dict is the same answer in constant time. Only the
    test server changes; the consumer under test is untouched.
    """
    from moto.kinesis.models import Shard

    def last(self: Any) -> int:
        return next(reversed(self.records)) if self.records else 0

    Shard.get_max_sequence_number = last  # type: ignore[method-assign]


@contextmanager
def moto_kinesis() -> Iterator[str]:
    """A moto server on a free loopback port; yields its URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    _linear_moto_puts()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def kinesis_client(url: str) -> Any:
    import boto3

    return boto3.client(
        "kinesis",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def make_events(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` valid events, ad deliveries and conversions mixed."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    events: list[dict[str, Any]] = []
    for i in range(n):
        when = (start + dt.timedelta(seconds=rng.randrange(7 * 86400))).isoformat()
        if rng.random() < 0.8:
            event = {
                "event_id": f"ev-{i}",
                "event_type": "ad_delivery",
                "event_time": when,
                "channel": rng.choice(CHANNELS),
                "campaign_id": f"c{rng.randrange(20)}",
                "impressions": rng.randrange(1, 5000),
                "clicks": rng.randrange(0, 50),
                "spend": round(rng.uniform(0, 100), 2),
            }
            if rng.random() < 0.3:
                event["user_id"] = f"u{rng.randrange(1000)}"
        else:
            event = {
                "event_id": f"ev-{i}",
                "event_type": "conversion",
                "event_time": when,
                "user_id": f"u{rng.randrange(1000)}",
                "conversion_value": round(rng.uniform(1, 300), 2),
                "channel": rng.choice(CHANNELS),
            }
        events.append(event)
    return events


BAD_PAYLOADS = (
    b"not json at all",
    b'{"event_id": "bad-1", "event_type": "click", "event_time": "2026-01-05T10:00:00Z"}',
    b'{"event_id": "bad-2", "event_type": "ad_delivery", "event_time": "2026-01-05T10:00:00Z",'
    b' "channel": "tv", "spend": -3}',
    b'{"event_id": "bad-3", "event_type": "conversion", "event_time": "2026-01-05 10:00"}',
    b"\xff\xfe not utf-8",
    b"[1, 2, 3]",
    b'{"event_id": "bad-4", "event_type": "conversion", "event_time": "2026-01-05T10:00:00Z",'
    b' "user_id": "u1", "revenue": 10}',
)


def bad_payloads(n: int) -> list[bytes]:
    """``n`` distinct invalid records (each payload made unique by a suffix)."""
    return [BAD_PAYLOADS[i % len(BAD_PAYLOADS)] + b" #%d" % i for i in range(n)]


def send(client: Any, stream: str, events: Sequence[dict[str, Any]], bad: Sequence[bytes]) -> None:
    """Put the events and the bad records, shuffled together, 500 per call."""
    records = [{"Data": json.dumps(e).encode(), "PartitionKey": str(e["event_id"])} for e in events]
    records += [{"Data": b, "PartitionKey": f"bad{i}"} for i, b in enumerate(bad)]
    random.Random(len(records)).shuffle(records)
    for k in range(0, len(records), 500):
        answer = client.put_records(StreamName=stream, Records=records[k : k + 500])
        assert answer["FailedRecordCount"] == 0


def _canonical(row: dict[str, Any]) -> str:
    values = []
    for name in CHECKSUM_COLUMNS:
        value = row.get(name)
        if name == "event_time":
            value = dt.datetime.fromisoformat(str(value)).replace(tzinfo=None).isoformat()
        elif name == "currency" and value is None:
            value = "USD"
        elif name in {"spend", "conversion_value"} and value is not None:
            value = f"{float(value):.6f}"
        elif value is not None:
            value = str(value)
        values.append("" if value is None else value)
    return "\x1f".join(values)


def checksum(rows: Sequence[dict[str, Any]]) -> str:
    """Order-independent SHA-256 over the event fields of ``rows``."""
    digest = hashlib.sha256()
    for line in sorted(_canonical(r) for r in rows):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def landed(home: Path, stream: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of ``stream_events`` and ``stream_dead_letters`` of one stream."""
    import pandas as pd

    from mediamix.warehouse.store import Warehouse

    with Warehouse.reader(home) as wh:
        events = wh.query("select * from stream_events where stream = ?", [stream])
        dead = wh.query("select * from stream_dead_letters where stream = ?", [stream])
    events = events.astype(object).where(pd.notna(events), None)
    return events.to_dict("records"), dead.to_dict("records")
