"""Benchmark of the ridge refresh: 104 weeks, then +13 weeks, on synthetic data with known truth.

Usage::

    .venv/bin/python benchmarks/refresh_bench.py [--seeds 101-110] [--candidates 10000]
        [--weeks 104] [--new 13] [--tolerance 0.05] [--out benchmarks/results/refresh.md]

Per seed: synthesize ``weeks + new`` weeks (4 channels, the generator's defaults),
fit the ridge engine on the first ``weeks`` (the previous model), refresh it with the
``new`` weeks (:func:`mediamix.models.refresh.refresh_ridge`), and fit from scratch on
all ``weeks + new`` weeks with the same search settings. Reported:

- movement: the largest share by which any channel's contribution over the earlier
  weeks moved (sum of |new - old| over those weeks / old total), refresh and scratch;
- contribution error on the truth over all weeks: sum_c |est_c - true_c| / sum_c true_c,
  for the refresh, the scratch fit, and the previous model left as it was (its
  decomposition of the new weeks predicted with carry-over);
- contribution error over the earlier weeks only, for the previous model, for another
  fit of the earlier weeks with a different search seed, and for the scratch fit: does
  the scratch fit win by the 13 extra weeks or by the luck of its search?
- seconds of the refresh and of the scratch fit.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, channel_response, synthesize
from mediamix.data.validation import build_dataset
from mediamix.models.refresh import RefreshOptions, _head, _movement, _tail, refresh_ridge
from mediamix.models.ridge import RidgeOptions, fit_ridge


def seeds_of(text: str) -> list[int]:
    """``101-110`` or ``1,2,5``."""
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def error(est: np.ndarray, true: np.ndarray) -> float:
    """sum_c |sum_t est - sum_t true| / sum_c sum_t true."""
    return float(np.abs(est.sum(axis=0) - true.sum(axis=0)).sum() / true.sum())


def one(seed: int, args: argparse.Namespace) -> dict[str, float]:
    s = synthesize(SynthConfig(seed=seed, weeks=args.weeks + args.new, channels=4))
    spec = ModelSpec.from_mapping(s.spec)
    data, _ = build_dataset(s.frame, spec, source=f"synth seed {seed}")
    spend = data.spend[0]
    truth = np.column_stack(
        [
            channel_response(spend[:, c], t["adstock"], t["saturation"], t["beta"])
            for c, t in enumerate(s.truth["channels"].values())
        ]
    )
    options = RidgeOptions(seed=seed, candidates=args.candidates, ensemble=0, bootstrap=50)
    previous = fit_ridge(_head(data, args.weeks), spec, options)
    t0 = time.perf_counter()
    refreshed = refresh_ridge(previous, data, RefreshOptions(tolerance=args.tolerance)).result
    t_refresh = time.perf_counter() - t0
    t0 = time.perf_counter()
    scratch = fit_ridge(data, spec, options)
    t_scratch = time.perf_counter() - t0
    other = fit_ridge(_head(data, args.weeks), spec, dataclasses.replace(options, seed=seed + 1000))
    old = previous.media_components()
    kept = np.vstack(
        [old, previous.predict(_tail(data, args.weeks))[list(previous.channel_names)].to_numpy()]
    )
    n = args.weeks
    return {
        "seed": seed,
        "move_refresh": float(_movement(old, refreshed.media_components()[:n]).max()),
        "move_scratch": float(_movement(old, scratch.media_components()[:n]).max()),
        "err_refresh": error(refreshed.media_components(), truth),
        "err_scratch": error(scratch.media_components(), truth),
        "err_kept": error(kept, truth),
        "early_previous": error(old, truth[:n]),
        "early_other_seed": error(other.media_components(), truth[:n]),
        "early_scratch": error(scratch.media_components()[:n], truth[:n]),
        "t_refresh": t_refresh,
        "t_scratch": t_scratch,
    }


def spread(values: list[float]) -> str:
    v = np.asarray(values)
    return f"median {np.median(v):.3f}, range {v.min():.3f}-{v.max():.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="101-110")
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--new", type=int, default=13)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for seed in seeds_of(args.seeds):
        row = one(seed, args)
        rows.append(row)
        print(
            f"seed {seed}: movement refresh {row['move_refresh']:.3f} scratch "
            f"{row['move_scratch']:.3f}; error refresh {row['err_refresh']:.3f} scratch "
            f"{row['err_scratch']:.3f} kept {row['err_kept']:.3f}; "
            f"{row['t_refresh']:.2f} s vs {row['t_scratch']:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    wins = sum(r["err_refresh"] <= r["err_scratch"] for r in rows)
    diff = [r["err_refresh"] - r["err_scratch"] for r in rows]
    lines = [
        "# Refresh benchmark",
        "",
        f"Command: `.venv/bin/python benchmarks/refresh_bench.py --seeds {args.seeds} "
        f"--candidates {args.candidates} --weeks {args.weeks} --new {args.new} "
        f"--tolerance {args.tolerance}`",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared, Python "
        f"{platform.python_version()}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| seed | movement refresh | movement scratch | error refresh | error scratch "
        "| error kept | earlier weeks: previous / other seed / scratch | refresh s | scratch s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['move_refresh']:.3f} | {r['move_scratch']:.3f} "
            f"| {r['err_refresh']:.3f} | {r['err_scratch']:.3f} | {r['err_kept']:.3f} "
            f"| {r['early_previous']:.3f} / {r['early_other_seed']:.3f} / "
            f"{r['early_scratch']:.3f} | {r['t_refresh']:.2f} | {r['t_scratch']:.1f} |"
        )
    lines += [
        "",
        f"- largest movement of earlier weeks, refresh: {spread([r['move_refresh'] for r in rows])}",
        f"- largest movement of earlier weeks, scratch: {spread([r['move_scratch'] for r in rows])}",
        f"- contribution error, refresh: {spread([r['err_refresh'] for r in rows])}",
        f"- contribution error, scratch: {spread([r['err_scratch'] for r in rows])}",
        f"- contribution error, previous model kept: {spread([r['err_kept'] for r in rows])}",
        "- earlier weeks only: previous "
        f"{spread([r['early_previous'] for r in rows])}; other search seed "
        f"{spread([r['early_other_seed'] for r in rows])}; scratch "
        f"{spread([r['early_scratch'] for r in rows])}",
        f"- refresh no worse than scratch on {wins} of {len(rows)} seeds; error refresh - "
        f"scratch: mean {statistics.mean(diff):+.3f}, {spread(diff)}",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
