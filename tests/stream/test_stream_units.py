"""The event schema, the consumer loop with an in-memory source, and resharding order.

The in-memory source implements :class:`~mediamix.ingest.stream.StreamSource` the
way a Kafka consumer would (partitions as shards, offsets as sequence numbers); the
resharding test drives :class:`~mediamix.ingest.stream.KinesisSource` through a stub
client with Kinesis's semantics for closed shards (moto's server moves a parent's
records into its children instead, so it cannot show the order).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from mediamix.ingest.stream import (
    KinesisSource,
    RawRecord,
    RecordBatch,
    ShardPosition,
    StreamEvent,
    StreamSource,
    parse_event,
)
from mediamix.service.stream import ConsumeOptions, consume
from mediamix.warehouse.store import Warehouse

pytest.importorskip("duckdb")


def _event(i: int, **extra: Any) -> bytes:
    body = {
        "event_id": f"e{i}",
        "event_type": "ad_delivery",
        "event_time": "2026-01-05T10:00:00Z",
        "channel": "search",
        "spend": 1.0,
    }
    return json.dumps({**body, **extra}).encode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{", "not JSON"),
        (b"\xff", "not UTF-8"),
        (b"3", "not a JSON object: found int"),
        (_event(1, spend=-1), "spend: Input should be greater than or equal to 0"),
        (_event(1, colour="red"), "colour: Extra inputs are not permitted"),
        (_event(1, channel=None), "an ad_delivery event needs a channel"),
        (_event(1, event_time="2026-01-05T10:00:00"), "event_time needs a time zone"),
        (_event(1, event_type="conversion"), "a conversion event needs a user_id"),
        (_event(1, currency="usd"), "currency: String should match pattern"),
    ],
)
def test_invalid_records_say_why(payload: bytes, reason: str) -> None:
    parsed = parse_event(payload)
    assert isinstance(parsed, str)
    assert reason in parsed


def test_valid_event_is_normalised_to_utc() -> None:
    parsed = parse_event(_event(1, event_time="2026-01-05T12:30:00+02:00"))
    assert isinstance(parsed, StreamEvent)
    assert parsed.event_time.isoformat() == "2026-01-05T10:30:00+00:00"


class MemorySource:
    """Partitions of records in memory, read from committed offsets."""

    def __init__(self, partitions: Mapping[str, list[bytes]]) -> None:
        self.partitions = partitions
        self.offsets: dict[str, int] = {}

    @property
    def name(self) -> str:
        return "memory"

    def open(self, positions: Mapping[str, ShardPosition]) -> None:
        self.offsets = {
            p: int(positions[p].sequence_number or 0) if p in positions else 0
            for p in self.partitions
        }

    def poll(self, max_records: int) -> RecordBatch:
        records: list[RawRecord] = []
        touched: dict[str, ShardPosition] = {}
        for p, data in self.partitions.items():
            take = data[self.offsets[p] : self.offsets[p] + max_records - len(records)]
            for k, payload in enumerate(take, start=self.offsets[p] + 1):
                records.append(RawRecord(p, str(k), "key", payload))
            if take:
                self.offsets[p] += len(take)
                touched[p] = ShardPosition(str(self.offsets[p]))
        return RecordBatch(tuple(records), touched, 0)

    def close(self) -> None:
        pass


def test_memory_source_follows_the_protocol() -> None:
    assert isinstance(MemorySource({}), StreamSource)


def test_a_failed_commit_lands_nothing_and_a_rerun_lands_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    partitions = {"p0": [_event(i) for i in range(30)], "p1": [_event(100 + i) for i in range(30)]}
    partitions["p1"][5] = b"broken"
    options = ConsumeOptions(batch_size=25, until_idle=0.0, poll_interval=0.0)

    import mediamix.warehouse.stream as landing

    real = landing.land_batch
    calls = []

    class CommitFails:
        """The connection of the second batch: every statement runs, the commit fails."""

        def __init__(self, con: Any) -> None:
            self.con = con

        def execute(self, sql: str, *args: Any) -> Any:
            if sql == "commit":
                raise RuntimeError("killed inside the transaction")
            return self.con.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.con, name)

    def crash_on_second(wh: Any, *args: Any) -> int:
        calls.append(1)
        if len(calls) == 2:
            wh = Warehouse(wh.home, CommitFails(wh.con), writable=True)  # type: ignore[arg-type]
        return real(wh, *args)

    monkeypatch.setattr(landing, "land_batch", crash_on_second)
    with pytest.raises(RuntimeError):
        consume(tmp_path, MemorySource(partitions), options)
    with Warehouse.reader(tmp_path) as wh:
        (first,) = wh.con.execute("select count(*) from stream_events").fetchone() or (0,)
        marks = wh.query("select shard_id, sequence_number from stream_checkpoints")
    assert first == 25  # the first batch only
    assert dict(zip(marks["shard_id"], marks["sequence_number"], strict=True)) == {"p0": "25"}

    monkeypatch.setattr(landing, "land_batch", real)
    result = consume(tmp_path, MemorySource(partitions), options)
    assert (result.events, result.dead_letters) == (34, 1)
    with Warehouse.reader(tmp_path) as wh:
        ids = wh.query("select event_id from stream_events")["event_id"].tolist()
        dead = wh.query("select shard_id, sequence_number, reason from stream_dead_letters")
    assert sorted(ids) == sorted(f"e{i}" for i in [*range(30), *range(100, 130)] if i != 105)
    assert dead.to_dict("records") == [
        {"shard_id": "p1", "sequence_number": "6", "reason": dead["reason"][0]}
    ]
    assert dead["reason"][0].startswith("not JSON")


def test_pseudonymized_user_ids(tmp_path: Path) -> None:
    from mediamix.service.privacy import pseudonym

    source = MemorySource(
        {"p": [_event(1, event_type="conversion", channel=None, spend=None, user_id="alice")]}
    )
    consume(
        tmp_path,
        source,
        ConsumeOptions(until_idle=0.0, poll_interval=0.0),
        pseudonymize_key="k",
    )
    with Warehouse.reader(tmp_path) as wh:
        users = wh.query("select user_id from stream_events")["user_id"].tolist()
    assert users == [pseudonym("alice", "k")]


class ReshardedKinesis:
    """A stub boto3 Kinesis client: shard 0 was split into 1 and 2 (closed parent kept)."""

    def __init__(self) -> None:
        self.shards = {
            "s0": ([b"p-%d" % i for i in range(5)], None, False),
            "s1": ([b"a-%d" % i for i in range(3)], "s0", True),
            "s2": ([b"b-%d" % i for i in range(3)], "s0", True),
        }
        self.reads: list[str] = []

    def list_shards(self, **_: Any) -> dict[str, Any]:
        return {
            "Shards": [
                {"ShardId": s, **({"ParentShardId": parent} if parent else {})}
                for s, (_, parent, _) in self.shards.items()
            ]
        }

    def get_shard_iterator(self, ShardId: str, ShardIteratorType: str, **kw: Any) -> Any:
        start = (
            int(kw.get("StartingSequenceNumber", 0)) if ShardIteratorType != "TRIM_HORIZON" else 0
        )
        return {"ShardIterator": f"{ShardId}:{start}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard, start = ShardIterator.split(":")
        data, _, is_open = self.shards[shard]
        offset = int(start)
        take = data[offset : offset + min(Limit, 2)]
        self.reads.append(shard)
        end = offset + len(take)
        answer: dict[str, Any] = {
            "Records": [
                {"SequenceNumber": str(offset + k + 1), "PartitionKey": "k", "Data": d}
                for k, d in enumerate(take)
            ],
            "MillisBehindLatest": 0,
        }
        if is_open or end < len(data):
            answer["NextShardIterator"] = f"{shard}:{end}"
        return answer


def test_children_are_read_after_their_closed_parent() -> None:
    client = ReshardedKinesis()
    client.shards["s0"] = (client.shards["s0"][0], None, False)
    source = KinesisSource("s", client_factory=lambda: client)
    source.open({})
    order: list[bytes] = []
    finished: dict[str, bool] = {}
    for _ in range(10):
        batch = source.poll(100)
        order += [r.data for r in batch.records]
        finished.update({s: p.finished for s, p in batch.positions.items()})
    parent_done = max(i for i, d in enumerate(order) if d.startswith(b"p-"))
    child_first = min(i for i, d in enumerate(order) if not d.startswith(b"p-"))
    assert parent_done < child_first
    assert len(order) == 11
    assert finished == {"s0": True, "s1": False, "s2": False}


def test_a_finished_parent_is_not_read_again() -> None:
    client = ReshardedKinesis()
    source = KinesisSource("s", client_factory=lambda: client)
    source.open({"s0": ShardPosition("5", finished=True), "s1": ShardPosition("1")})
    got = []
    for _ in range(5):
        got += [r.data for r in source.poll(100).records]
    assert "s0" not in client.reads
    assert sorted(got) == sorted([b"a-1", b"a-2", b"b-0", b"b-1", b"b-2"])


def test_privacy_forget_reaches_streamed_events(tmp_path: Path) -> None:
    from mediamix.service.privacy import forget_users

    conversion = {"event_type": "conversion", "channel": None, "spend": None}
    source = MemorySource(
        {"p": [_event(1, user_id="alice", **conversion), _event(2, user_id="bob", **conversion)]}
    )
    consume(tmp_path, source, ConsumeOptions(until_idle=0.0, poll_interval=0.0))
    assert forget_users(tmp_path, ["alice"])["stream_events"] == 1
    with Warehouse.reader(tmp_path) as wh:
        users = wh.query("select user_id from stream_events")["user_id"].tolist()
    assert users == ["bob"]


def test_privacy_forget_reaches_dead_letters_that_name_the_user(tmp_path: Path) -> None:
    from mediamix.service.privacy import export_users, forget_users

    conversion = {"event_type": "conversion", "channel": None, "spend": None}
    source = MemorySource(
        {
            "p": [
                _event(1, user_id="alice", **conversion),
                _event(2, user_id="alice", spend=-1),  # invalid: a dead letter about alice
                b'{"user_id": "alice", "event_id": "e3"',  # not JSON, still names alice
                _event(4, user_id="alice2", spend=-1),  # another user whose id contains it
                _event(5, user_id="bob", spend=-1),
            ]
        }
    )
    result = consume(tmp_path, source, ConsumeOptions(until_idle=0.0, poll_interval=0.0))
    assert (result.events, result.dead_letters) == (1, 4)

    exported = tmp_path / "alice.json"
    assert export_users(tmp_path, ["alice"], exported)["stream_dead_letters"] == 2
    assert all(
        "alice" in row["payload"] for row in json.loads(exported.read_text())["stream_dead_letters"]
    )

    deleted = forget_users(tmp_path, ["alice"])
    assert (deleted["stream_events"], deleted["stream_dead_letters"]) == (1, 2)
    with Warehouse.reader(tmp_path) as wh:
        left = wh.query("select payload from stream_dead_letters order by sequence_number")
    payloads = [bytes(p).decode() for p in left["payload"]]
    assert len(payloads) == 2
    assert '"alice2"' in payloads[0]
    assert '"bob"' in payloads[1]
    assert forget_users(tmp_path, ["alice"])["stream_dead_letters"] == 0
