"""Streaming: events landed per second from Kinesis, and exactly-once under SIGKILL.

Starts moto's Kinesis server on loopback, sends N events (plus invalid records) over
4 shards, then

1. ``steady``: one uninterrupted ``mediamix stream consume --until-idle 1`` run on a
   copy of the stream; throughput = events landed / (run time - the idle second);
2. ``killed``: the consumer is killed with SIGKILL K times, each a random delay
   (0 to ``--max-delay`` s) after its first progress line, and started again, then
   run to the end; the landed table must equal the sent events (count and
   checksum) and the dead letters the injected records.

    python benchmarks/stream_bench.py [--events 100000] [--kills 20] [--batch-size 500]

Prints a Markdown table; ``--out`` also writes it (benchmarks/results/stream.md).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "stream"))

from _kinesis import (
    bad_payloads,
    checksum,
    kinesis_client,
    landed,
    make_events,
    moto_kinesis,
    send,
)

MEDIAMIX = Path(sys.executable).with_name("mediamix")
SUMMARY = re.compile(
    r"landed (\d+) event\(s\) and (\d+) dead letter\(s\) in (\d+) batch\(es\), ([\d.]+) s"
)


def _command(url: str, stream: str, batch_size: int, *extra: str) -> list[str]:
    return [
        str(MEDIAMIX), "stream", "consume", "--stream", stream, "--endpoint-url", url,
        "--batch-size", str(batch_size), "--poll-interval", "0.05", *extra,
    ]  # fmt: skip


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, MEDIAMIX_HOME=str(home))
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    env.pop("MEDIAMIX_PSEUDONYMIZE_KEY", None)
    return env


def _kill_once(cmd: list[str], env: dict[str, str], delay: float) -> None:
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    seen = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("batch "):
                seen.set()

    threading.Thread(target=watch, daemon=True).start()
    seen.wait(300)
    time.sleep(delay)
    proc.kill()
    proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--bad", type=int, default=200)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--max-delay", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    events = make_events(args.events, seed=args.seed)
    bad = bad_payloads(args.bad)
    rows = []
    with moto_kinesis() as url, tempfile.TemporaryDirectory(prefix="mediamix-stream-") as tmp:
        client = kinesis_client(url)
        for stream in ("steady", "killed"):
            client.create_stream(StreamName=stream, ShardCount=4)
            t0 = time.perf_counter()
            send(client, stream, events, bad)
            print(
                f"sent {len(events) + len(bad)} records to {stream} in {time.perf_counter() - t0:.1f} s",
                flush=True,
            )

        home = Path(tmp) / "steady"
        done = subprocess.run(
            _command(url, "steady", args.batch_size, "--until-idle", "1"),
            env=_env(home), capture_output=True, text=True, check=True,
        )  # fmt: skip
        found = SUMMARY.search(done.stdout)
        assert found, done.stdout
        n, _, batches, seconds = int(found[1]), int(found[2]), int(found[3]), float(found[4])
        rate = n / max(seconds - 1.0, 1e-9)
        rows.append(("steady, one run", n, batches, f"{seconds - 1.0:.1f}", f"{rate:,.0f}", "-"))
        print(f"steady: {n} events in {seconds - 1.0:.1f} s: {rate:,.0f} events/s", flush=True)

        home = Path(tmp) / "killed"
        t0 = time.perf_counter()
        for k in range(args.kills):
            _kill_once(
                _command(url, "killed", args.batch_size), _env(home), rng.uniform(0, args.max_delay)
            )
            print(f"kill {k + 1}: {len(landed(home, 'killed')[0])} events landed", flush=True)
        last = subprocess.run(
            _command(url, "killed", args.batch_size, "--until-idle", "1"),
            env=_env(home), capture_output=True, text=True, check=True,
        )  # fmt: skip
        wall = time.perf_counter() - t0 - 1.0
        got, dead = landed(home, "killed")
        exact = (
            len(got) == len(events)
            and checksum(got) == checksum(events)
            and sorted(bytes(d["payload"]) for d in dead) == sorted(bad)
        )
        rows.append(
            (f"{args.kills} SIGKILLs and restarts", len(got), "-", f"{wall:.1f}", f"{len(got) / wall:,.0f}", "yes" if exact else "NO")
        )  # fmt: skip
        print(last.stdout.strip(), flush=True)

    load = os.getloadavg()[0]
    table = [
        f"Kinesis (moto server, 4 shards) -> warehouse; {args.events:,} events + {args.bad} invalid records, "
        f"batch size {args.batch_size}; load average at the end {load:.1f} on {os.cpu_count()} cores.",
        "",
        "| run | events landed | batches | seconds | events/s landed | exact (count, checksum, dead letters) |",
        "|---|---:|---:|---:|---:|---|",
        *(f"| {' | '.join(str(c) for c in row)} |" for row in rows),
    ]
    text = "\n".join(table) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0 if rows[-1][-1] == "yes" else 1


if __name__ == "__main__":
    raise SystemExit(main())
