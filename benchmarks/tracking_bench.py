"""Tracking overhead: wall time of ``mediamix fit`` (ridge) with and without MLflow tracking.

Run from the repository root::

    .venv/bin/python benchmarks/tracking_bench.py [--pairs 5] [--write]

Each repetition is a fresh ``mediamix fit`` process on the same synthetic data
(156 weeks x 4 channels), untracked (``--no-track``) and tracked into the embedded
SQLite store under a temporary ``MEDIAMIX_HOME``, run in alternating order so that
load on the machine hits both alike. One tracked fit first creates the store (its
one-time schema creation is reported separately). Target: the tracked median at
most 10% above the untracked median.

``--write`` writes benchmarks/results/tracking.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIAMIX = Path(sys.executable).parent / "mediamix"


CPU: dict[bool, list[float]] = {False: [], True: []}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _fit(spec: Path, out: Path, env: dict[str, str], track: bool) -> float:
    """Wall seconds of one fit; its CPU seconds (tracking child included) go to CPU."""
    args = [str(MEDIAMIX), "fit", str(spec), "--out", str(out)]
    if not track:
        args.append("--no-track")
    cpu = _cpu()
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    CPU[track].append(_cpu() - cpu)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, "MEDIAMIX_HOME": str(tmp / "home"), "MEDIAMIX_TRACKING": "true"}
        env.pop("MEDIAMIX_TRACKING_URI", None)
        subprocess.run(
            [str(MEDIAMIX), "synth", "--out", str(tmp / "data"), "--seed", "3"],
            env=env,
            check=True,
            capture_output=True,
        )
        spec = tmp / "data" / "spec.yaml"
        first = _fit(spec, tmp / "first", env, track=True)
        plain: list[float] = []
        tracked: list[float] = []
        for i in range(args.pairs):
            order = (False, True) if i % 2 == 0 else (True, False)
            for track in order:
                seconds = _fit(spec, tmp / f"fit-{i}-{track}", env, track)
                (tracked if track else plain).append(seconds)
                print(
                    f"pair {i}: {'tracked' if track else 'untracked'} {seconds:.2f} s", flush=True
                )
    p50, t50 = statistics.median(plain), statistics.median(tracked)
    overhead = t50 / p50 - 1
    load = os.getloadavg()
    lines = [
        "# Tracking overhead on a ridge fit",
        "",
        f"Command: `.venv/bin/python benchmarks/tracking_bench.py --pairs {args.pairs}`",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.python_version()}, load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min).",
        "",
        "| | median wall time (s) | runs (s) | median CPU time, user + sys (s) |",
        "|---|---|---|---|",
        f"| `mediamix fit --no-track` | {p50:.2f} | {', '.join(f'{x:.2f}' for x in plain)} | "
        f"{statistics.median(CPU[False][-len(plain) :]):.2f} |",
        f"| `mediamix fit` (tracked, embedded SQLite) | {t50:.2f} | "
        f"{', '.join(f'{x:.2f}' for x in tracked)} | {statistics.median(CPU[True][1:]):.2f} |",
        "",
        f"Overhead of the median: {overhead:+.1%} (target at most +10%). The first tracked fit, "
        f"which also created the store, took {first:.2f} s.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        out = ROOT / "benchmarks" / "results" / "tracking.md"
        out.write_text(text)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
