"""Spark benchmarks: many small ridge models (Spark local[2] vs the local process pool),
and event-log journeys (Spark SQL vs DuckDB) at the attribution benchmark's size.

Run from the repository root::

    .venv/bin/python benchmarks/spark_many_bench.py many [--groups 200] [--candidates 200]
    .venv/bin/python benchmarks/spark_many_bench.py journeys [--journeys 1000000]

``many`` writes a table of ``--groups`` synthetic 52-week series (two channels each),
then times :func:`mediamix.service.many.fit_many` on a local Spark session (session
start counted separately) and on the local process pool (2 workers), and checks that
both give the same summaries. ``journeys`` generates the attribution benchmark's
event log (``attribution_bench.generate_event_log``) and times
``read_event_log`` (DuckDB) and ``read_event_log_spark`` on it, checking the journeys
are equal. Each prints a JSON line; ``--write`` appends it to
``benchmarks/results/spark.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def _table(folder: Path, groups: int) -> Path:
    from mediamix.data.synthetic import SynthConfig, synthesize

    frames = []
    spec: dict[str, Any] = {}
    for g in range(groups):
        synth = synthesize(SynthConfig(seed=g, weeks=52, channels=2, events=0, controls=0))
        frame = synth.frame.copy()
        frame.insert(0, "market", f"m{g % 10}")
        frame.insert(0, "brand", f"b{g // 10}")
        frames.append(frame)
        spec = synth.spec
    pd.concat(frames, ignore_index=True).to_csv(folder / "many.csv", index=False)
    (folder / "spec.yaml").write_text(yaml.safe_dump({**spec, "data": "many.csv"}))
    return folder / "spec.yaml"


def bench_many(groups: int, candidates: int, master: str) -> dict[str, Any]:
    from mediamix.service.many import ManyBackend, ManyOptions, fit_many
    from mediamix.warehouse.spark import SparkOptions, local_session

    with tempfile.TemporaryDirectory() as tmp:
        spec = _table(Path(tmp), groups)
        options = ManyOptions(group_by=("brand", "market"), candidates=candidates, bootstrap=0)
        started = time.perf_counter()
        local = fit_many(spec, Path(tmp) / "local", _with(options, ManyBackend.LOCAL))
        t_local = time.perf_counter() - started
        started = time.perf_counter()
        spark = local_session(SparkOptions(master=master, shuffle_partitions=2))
        t_session = time.perf_counter() - started
        started = time.perf_counter()
        on_spark = fit_many(
            spec, Path(tmp) / "spark", _with(options, ManyBackend.SPARK), spark=spark
        )
        t_spark = time.perf_counter() - started
        spark.stop()
        same = on_spark.summaries.drop(columns=["seconds"]).equals(
            local.summaries.drop(columns=["seconds"])
        )
        per_fit = float(local.summaries["seconds"].mean())
    return {
        "bench": "many",
        "groups": groups,
        "candidates": candidates,
        "local_pool_2_workers_s": round(t_local, 2),
        "spark_session_start_s": round(t_session, 2),
        f"spark_{master}_s": round(t_spark, 2),
        "mean_fit_s": round(per_fit, 3),
        "same_summaries": bool(same),
    }


def _with(options: Any, backend: Any) -> Any:
    import dataclasses

    return dataclasses.replace(options, backend=backend)


def bench_journeys(journeys: int, master: str) -> dict[str, Any]:
    from attribution_bench import generate_event_log
    from mediamix.attribution import read_event_log
    from mediamix.attribution.spark_events import read_event_log_spark
    from mediamix.warehouse.spark import SparkOptions, local_session

    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.parquet"
        meta = generate_event_log(log, journeys)
        started = time.perf_counter()
        duck = read_event_log(log, lookback_days=30)
        t_duck = time.perf_counter() - started
        started = time.perf_counter()
        spark = local_session(SparkOptions(master=master, shuffle_partitions=4, driver_memory="2g"))
        t_session = time.perf_counter() - started
        started = time.perf_counter()
        sp = read_event_log_spark(spark, log, lookback_days=30)
        t_spark = time.perf_counter() - started
        spark.stop()
        same = (
            duck.channels == sp.channels
            and np.array_equal(duck.offsets, sp.offsets)
            and np.array_equal(duck.codes, sp.codes)
            and np.array_equal(duck.conversions, sp.conversions)
            and np.allclose(duck.days_to_conversion, sp.days_to_conversion, equal_nan=True)
        )
    return {
        "bench": "journeys",
        **meta,
        "journeys_after_rules": int(duck.n_journeys),
        "duckdb_s": round(t_duck, 2),
        "spark_session_start_s": round(t_session, 2),
        f"spark_{master}_s": round(t_spark, 2),
        "equal": bool(same),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["many", "journeys"])
    ap.add_argument("--groups", type=int, default=200)
    ap.add_argument("--candidates", type=int, default=200)
    ap.add_argument("--journeys", type=int, default=1_000_000)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    if args.what == "many":
        result = bench_many(args.groups, args.candidates, args.master)
    else:
        result = bench_journeys(args.journeys, args.master)
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    result["machine"] = (
        f"nproc {nproc}, load average {load} at the end, Python {platform.python_version()}"
    )
    line = json.dumps(result)
    print(line)
    if args.write:
        with open(ROOT / "benchmarks" / "results" / "spark.jsonl", "a") as handle:
            handle.write(line + "\n")


if __name__ == "__main__":
    main()
