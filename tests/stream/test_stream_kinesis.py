"""Exactly-once landing from Kinesis (moto's server on loopback), with SIGKILLs.

The consumer runs as ``mediamix stream consume`` in a subprocess, is killed with
SIGKILL at random points (a random delay after a batch was reported) and started
again; at the end the landed events equal the sent events (count and checksum)
and the dead-letter table holds exactly the injected bad records.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _kinesis import (
    bad_payloads,
    checksum,
    kinesis_client,
    landed,
    make_events,
    moto_kinesis,
    send,
)

pytest.importorskip("boto3")
pytest.importorskip("moto")

MEDIAMIX = Path(sys.executable).with_name("mediamix")


@pytest.fixture(scope="module")
def kinesis_url() -> Iterator[str]:
    with moto_kinesis() as url:
        yield url


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, MEDIAMIX_HOME=str(home))
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")  # moto's dummies
    env.pop("MEDIAMIX_PSEUDONYMIZE_KEY", None)
    return env


def _consumer(url: str, stream: str, home: Path, *extra: str) -> list[str]:
    return [
        str(MEDIAMIX),
        "stream",
        "consume",
        "--stream",
        stream,
        "--endpoint-url",
        url,
        "--batch-size",
        "200",
        "--poll-interval",
        "0.05",
        *extra,
    ]


def _kill_after_progress(proc: subprocess.Popen[str], delay: float, timeout: float) -> bool:
    """SIGKILL ``proc`` ``delay`` seconds after its first progress line; False if it ended first."""
    seen = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("batch "):
                seen.set()

    threading.Thread(target=watch, daemon=True).start()
    if not seen.wait(timeout):
        proc.kill()
        proc.wait()
        raise AssertionError("the consumer reported no batch in time")
    time.sleep(delay)
    alive = proc.poll() is None
    proc.kill()
    proc.wait()
    return alive


@pytest.mark.slow
def test_consumer_killed_and_restarted_lands_every_event_once(
    kinesis_url: str, tmp_path: Path
) -> None:
    stream, home = "killed", tmp_path / "home"
    client = kinesis_client(kinesis_url)
    client.create_stream(StreamName=stream, ShardCount=4)
    events = make_events(5000, seed=15)
    bad = bad_payloads(40)
    send(client, stream, events, bad)
    shards = {s["ShardId"] for s in client.list_shards(StreamName=stream)["Shards"]}
    assert len(shards) == 4

    rng = random.Random(4)
    counts = []
    for _ in range(5):
        proc = subprocess.Popen(
            _consumer(kinesis_url, stream, home),
            env=_env(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert _kill_after_progress(proc, rng.uniform(0.0, 0.25), timeout=120)
        counts.append(len(landed(home, stream)[0]))
    # the kills hit a consumer with work left, and each run landed more
    assert counts[-1] < len(events)
    assert counts == sorted(counts)

    done = subprocess.run(
        _consumer(kinesis_url, stream, home, "--until-idle", "1"),
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "stopped: no new record for 1 s" in done.stdout

    rows, dead = landed(home, stream)
    assert len(rows) == len(events)
    assert checksum(rows) == checksum(events)
    assert {(r["shard_id"], r["sequence_number"]) for r in rows}.__len__() == len(rows)
    assert {r["shard_id"] for r in rows} == shards
    assert sorted(bytes(d["payload"]) for d in dead) == sorted(bad)
    assert all(d["reason"] for d in dead)

    # a restart with nothing new lands nothing
    again = subprocess.run(
        _consumer(kinesis_url, stream, home, "--until-idle", "0.3"),
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert "landed 0 event(s) and 0 dead letter(s)" in again.stdout
    assert len(landed(home, stream)[0]) == len(events)


def test_unknown_stream_is_a_clear_error(
    kinesis_url: str, tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    done = run_cli(_consumer(kinesis_url, "no-such-stream", tmp_path, "--max-batches", "1")[1:])
    assert done.code == 1
    assert "Kinesis stream 'no-such-stream' not found" in done.err
    assert "Traceback" not in done.err


def test_both_stop_conditions_are_refused(run_cli: Any) -> None:
    done = run_cli(
        ["stream", "consume", "--stream", "s", "--max-batches", "1", "--until-idle", "1"]
    )
    assert done.code == 2
    assert "--max-batches or --until-idle" in done.err


def test_stop_on_sigterm_finishes_the_batch(kinesis_url: str, tmp_path: Path) -> None:
    stream, home = "termed", tmp_path / "home"
    client = kinesis_client(kinesis_url)
    client.create_stream(StreamName=stream, ShardCount=1)
    events = make_events(50, seed=3)
    send(client, stream, events, [])
    proc = subprocess.Popen(
        _consumer(kinesis_url, stream, home),
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("batch "):
            break
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "stopped: asked to stop" in out
    assert checksum(landed(home, stream)[0]) == checksum(events)
