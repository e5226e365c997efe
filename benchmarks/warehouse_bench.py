"""Warehouse benchmark: ingest plus dbt build of 3 years x 50 channels x 20 geos, daily.

About 1.1 million media rows in the unified long layout, with a daily KPI and one
control per geo, loaded through ``Warehouse.load_batch`` (validation, raw Parquet,
one transaction) and built with ``dbt build`` (seeds, every model and data test).
Target: ingest + build <= 60 s.

Run: ``.venv/bin/python benchmarks/warehouse_bench.py [--write]``; ``--write``
stores the figures in ``benchmarks/results/warehouse.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results" / "warehouse.md"


def make_batch(days: int, channels: int, geos: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Media (days x channels x geos rows), KPI and control rows in the long layouts."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-04", periods=days, freq="D")
    channel_names = np.array([f"ch_{c:02d}" for c in range(channels)], dtype=object)
    geo_names = np.array([f"geo_{g:02d}" for g in range(geos)], dtype=object)
    n = days * channels * geos
    date_col = np.repeat(dates.to_numpy(), channels * geos)
    channel_col = np.tile(np.repeat(channel_names, geos), days)
    geo_col = np.tile(geo_names, days * channels)
    media = pd.DataFrame(
        {
            "date_day": date_col,
            "platform": "file",
            "account_id": "bench",
            "campaign_id": channel_col,
            "channel": channel_col,
            "geo": geo_col,
            "currency_code": "USD",
            "spend": np.round(rng.gamma(2.0, 150.0, n), 2),
            "impressions": rng.integers(0, 100_000, n).astype(float),
            "clicks": rng.integers(0, 2_000, n).astype(float),
            "conversions": rng.integers(0, 50, n).astype(float),
            "conversions_value": np.round(rng.gamma(2.0, 400.0, n), 2),
        }
    )
    kd = np.repeat(dates.to_numpy(), geos)
    kg = np.tile(geo_names, days)
    kpi = pd.DataFrame(
        {
            "date_day": kd,
            "geo": kg,
            "name": "revenue",
            "value": np.round(rng.gamma(5, 2e4, len(kd)), 2),
        }
    )
    controls = pd.DataFrame(
        {
            "date_day": kd,
            "geo": kg,
            "name": "price_index",
            "kind": "control",
            "value": np.round(100 + rng.normal(0, 2, len(kd)), 4),
        }
    )
    return {"media": media, "kpi": kpi, "controls": controls}


def run(days: int, channels: int, geos: int, threads: int) -> dict[str, float]:
    """Time ingest and dbt build in a fresh home; return the figures."""
    from mediamix.warehouse.store import Warehouse
    from mediamix.warehouse.transform import run_dbt

    home = Path(tempfile.mkdtemp(prefix="mediamix-bench-"))
    try:
        t0 = time.perf_counter()
        batch = make_batch(days, channels, geos)
        t_gen = time.perf_counter() - t0

        t0 = time.perf_counter()
        with Warehouse.writer(home) as wh:
            load = wh.load_batch(
                "file", "bench", batch["media"], kpi=batch["kpi"], controls=batch["controls"]
            )
        t_ingest = time.perf_counter() - t0

        t0 = time.perf_counter()
        with Warehouse.writer(home) as wh:
            again = wh.load_batch(
                "file", "bench", batch["media"], kpi=batch["kpi"], controls=batch["controls"]
            )
        t_noop = time.perf_counter() - t0
        assert again.status == "unchanged"

        t0 = time.perf_counter()
        result = run_dbt(home, duckdb_threads=threads)
        t_build = time.perf_counter() - t0

        with Warehouse.reader(home) as wh:
            mart_rows = int(wh.query("select count(*) as n from mmm_weekly_input")["n"][0])
            mart_spend = float(wh.query("select sum(spend) as s from mmm_weekly_input")["s"][0])
        raw_spend = float(batch["media"]["spend"].sum())
        size = (home / "warehouse.duckdb").stat().st_size
        raw_size = load.raw_path.stat().st_size
        return {
            "rows": float(load.media_rows),
            "generate": t_gen,
            "ingest": t_ingest,
            "noop": t_noop,
            "build": t_build,
            "total": t_ingest + t_build,
            "nodes": float(len(result.nodes)),
            "passed": float(sum(n.status in {"pass", "success"} for n in result.nodes)),
            "mart_rows": float(mart_rows),
            "spend_gap": abs(mart_spend - raw_spend) / raw_spend,
            "db_mb": size / 1e6,
            "raw_mb": raw_size / 1e6,
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=1096)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--geos", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="DuckDB threads inside dbt.")
    parser.add_argument("--write", action="store_true", help="Write results/warehouse.md.")
    args = parser.parse_args()
    figures = run(args.days, args.channels, args.geos, args.threads)
    lines = [
        "# Warehouse benchmark",
        "",
        f"Command: `.venv/bin/python benchmarks/warehouse_bench.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`",
        f"Machine: {platform.machine()}, {platform.processor() or 'unknown cpu'}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
        f"{os.cpu_count()} cores shared with other jobs",
        "",
        f"Data: {args.days} days x {args.channels} channels x {args.geos} geos = "
        f"{int(figures['rows']):,} media rows (unified long layout), plus "
        f"{args.days * args.geos:,} KPI rows and {args.days * args.geos:,} control rows; "
        f"DuckDB threads inside dbt: {args.threads}.",
        "",
        "| step | seconds |",
        "|---|---:|",
        f"| ingest (validate, raw Parquet, one transaction) | {figures['ingest']:.1f} |",
        f"| dbt build (seed, 11 models, {int(figures['nodes'])} nodes with tests) | {figures['build']:.1f} |",
        f"| **ingest + build** (target <= 60 s) | **{figures['total']:.1f}** |",
        f"| same load again (content unchanged: no-op) | {figures['noop']:.1f} |",
        f"| (generating the frame, not counted) | {figures['generate']:.1f} |",
        "",
        f"- dbt nodes passed: {int(figures['passed'])} / {int(figures['nodes'])}",
        f"- mmm_weekly_input rows: {int(figures['mart_rows']):,}; relative gap between the "
        f"mart's total spend and the input's: {figures['spend_gap']:.1e}",
        f"- warehouse file {figures['db_mb']:.0f} MB; raw Parquet {figures['raw_mb']:.0f} MB",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text)


if __name__ == "__main__":
    main()
