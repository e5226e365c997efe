"""Benchmarks of the ridge engine: throughput, a 10,000-candidate search, recovery, memory.

Usage::

    .venv/bin/python benchmarks/ridge_bench.py [--seeds 20] [--holdout 20]
        [--candidates N] [--search-seeds 1,2] [--optimizer de|random|scipy|pymoo|nevergrad]

``scipy``, ``pymoo`` and ``nevergrad`` are in ``benchmarks/search_optimizers.py``
(``pymoo`` and ``nevergrad`` need ``pip install "nevergrad>=1.0" "pymoo>=0.6.1"``).
        [--out benchmarks/results/ridge.md]

Sections
--------
1. Throughput of the batched evaluation on 156 weeks x 10 channels (candidates/s).
2. A full 10,000-candidate search (plus refit and bootstrap) on Robyn's simulated
   weekly data (``examples/robyn-simulated-weekly/spec.yaml``).
3. Recovery on ``--seeds`` synthetic datasets of varied shape: 104-208 weeks, 3-8
   channels, 2-6% noise, media 15-40% of the KPI; carry-over cycles through geometric,
   Weibull PDF and delayed-peak, saturation through Hill (slope 0.8-2.5) and logistic.
   Error per dataset = sum_c |est_c - true_c| / sum_c true_c over channel
   contributions. Every selection rule is scored on the same search, which is the
   evidence for the default rule.
4. Peak resident memory of the process (``resource.getrusage``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.data.validation import build_dataset
from mediamix.models import ridge as R  # noqa: N812
from mediamix.models.search import (
    SELECTION_RULES,
    SearchOptions,
    evaluate,
    run_search,
    search_space,
    select,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_optimizers import by_name

ROOT = Path(__file__).resolve().parents[1]
ROBYN_SPEC = ROOT / "examples" / "robyn-simulated-weekly" / "spec.yaml"


def synth_config(seed: int) -> SynthConfig:
    """Varied shape per seed (drawn from a generator seeded by the seed)."""
    r = np.random.default_rng(1000 + seed)
    return SynthConfig(
        seed=seed,
        weeks=int(r.integers(104, 209)),
        channels=int(r.integers(3, 9)),
        noise=float(r.uniform(0.02, 0.06)),
        media_share=float(r.uniform(0.15, 0.4)),
    )


def synth_data(config: SynthConfig):
    s = synthesize(config)
    spec = ModelSpec.from_mapping(s.spec)
    data, _ = build_dataset(s.frame, spec, source=f"synth seed {config.seed}")
    return s, spec, data


def throughput(batch: int = 200, batches: int = 10) -> dict[str, float]:
    """Candidates/s of :func:`evaluate` alone and of a whole search, 156 x 10."""
    _, spec, data = synth_data(SynthConfig(seed=0, weeks=156, channels=10))
    prep = R.prepare(data, spec)
    space = search_space(spec, prep.data.channels)
    rng = np.random.default_rng(0)
    evaluate(prep.problem, space.decode(rng.random((batch, space.n_dims))))  # warm-up
    start = time.perf_counter()
    for _ in range(batches):
        evaluate(prep.problem, space.decode(rng.random((batch, space.n_dims))))
    eval_rate = batch * batches / (time.perf_counter() - start)

    def search(candidates: int, optimizer: str):
        options = SearchOptions(candidates, batch, seed=0, optimizer=by_name(optimizer))
        return run_search(prep.problem, space, options)

    sr = search(4000, "scipy")
    jade = search(4000, "de")
    ng = search(2000, "nevergrad")
    return {
        "nevergrad": ng.rate,
        "evaluate": eval_rate,
        "search": sr.rate,
        "jade": jade.rate,
        "search_seconds": sr.seconds,
        "search_candidates": float(len(sr.u)),
    }


def robyn(candidates: int = 10_000, optimizer: str = "scipy") -> dict[str, object]:
    """The 10,000-candidate search on Robyn's simulated weekly data."""
    from mediamix.service.data import load_dataset

    loaded = load_dataset(ROBYN_SPEC)
    start = time.perf_counter()
    res = R.fit_ridge(
        loaded.dataset,
        loaded.spec,
        R.RidgeOptions(seed=0, candidates=candidates, optimizer=by_name(optimizer)),
    )
    total = time.perf_counter() - start
    # search alone, same settings
    prep = R.prepare(loaded.dataset, loaded.spec)
    space = search_space(loaded.spec, prep.data.channels)
    sr = run_search(prep.problem, space, SearchOptions(candidates, 200, 0, by_name(optimizer)))
    return {
        "total_seconds": total,
        "search_seconds": sr.seconds,
        "rate": sr.rate,
        "periods": loaded.dataset.n_periods,
        "channels": loaded.dataset.n_channels,
        "metrics": res.metrics(),
        "selection": res.info["selection"],
        "front": res.info["search"]["front_size"],
        "roi": {k: (v["roi"], v["roi_interval"]) for k, v in res.channel_metrics().items()},
    }


def recovery(
    seeds: int,
    candidates: int,
    first: int = 0,
    search_seeds: tuple[int, ...] = (),
    optimizer: str = "scipy",
) -> list[dict[str, object]]:
    """Contribution error per seed and selection rule (one search per seed).

    ``search_seeds``: further searches per dataset with these optimizer seeds,
    scored with the default rule only (``errors_by_search_seed``).
    """
    rows = []
    for seed in range(first, first + seeds):
        cfg = synth_config(seed)
        synth, spec, data = synth_data(cfg)
        prep = R.prepare(data, spec)
        space = search_space(spec, prep.data.channels)
        start = time.perf_counter()
        sr = run_search(prep.problem, space, SearchOptions(candidates, 200, 0, by_name(optimizer)))
        seconds = time.perf_counter() - start
        true = np.array([synth.truth["channels"][c]["contribution"] for c in prep.data.channels])
        errors = {}
        for rule in SELECTION_RULES:
            i, _ = select(sr.scores, sr.front, rule, sr.with_lift)
            cand = sr.candidates.take([i])
            coef, _X, K = R.refit(prep, cand)
            res = R.build_result(prep, cand, coef, K, {})
            errors[rule] = float(np.abs(res.contributions() - true).sum() / true.sum())
        by_seed = {0: errors[SELECTION_RULES[0]]}
        for s_seed in search_seeds:
            other = run_search(
                prep.problem, space, SearchOptions(candidates, 200, s_seed, by_name(optimizer))
            )
            cand = other.candidates.take([other.chosen])
            coef, _X, K = R.refit(prep, cand)
            res = R.build_result(prep, cand, coef, K, {})
            by_seed[s_seed] = float(np.abs(res.contributions() - true).sum() / true.sum())
        kinds = [
            synth.truth["channels"][c]["adstock"]["type"][0]
            + "/"
            + synth.truth["channels"][c]["saturation"]["type"][0]
            for c in prep.data.channels
        ]
        rows.append(
            {
                "seed": seed,
                "weeks": cfg.weeks,
                "channels": cfg.channels,
                "noise": cfg.noise,
                "media_share": cfg.media_share,
                "kinds": " ".join(kinds),
                "seconds": seconds,
                "errors": errors,
                "by_seed": by_seed,
            }
        )
        print(
            f"seed {seed}: " + " ".join(f"{k}={v:.3f}" for k, v in errors.items()),
            file=sys.stderr,
            flush=True,
        )
    return rows


def peak_memory_mb() -> float:
    """Peak resident set size of this process in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine() -> str:
    import scipy

    return (
        f"{platform.platform()}, {os.cpu_count()} logical CPUs, Python "
        f"{platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}"
    )


def render(tp, rb, sets, mem, args) -> str:
    lines = [
        "# Ridge engine benchmarks",
        "",
        f"Measured {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} on {machine()}; "
        "the machine was shared with other jobs, so times are upper bounds.",
        "",
        f"Command: `.venv/bin/python benchmarks/ridge_bench.py --seeds {args.seeds} "
        f"--holdout {args.holdout} --candidates {args.candidates} "
        f"--search-seeds {args.search_seeds} --optimizer {args.optimizer}`",
        "",
        "## Throughput (156 weeks x 10 channels, batches of 200)",
        "",
        "| what | candidates/s |",
        "|---|---|",
        f"| batched evaluation (features, 2 ridge solves, objectives) | {tp['evaluate']:.0f} |",
        f"| whole search, `optimizer='scipy'` (scipy.optimize.differential_evolution, "
        f"vectorized, {tp['search_candidates']:.0f} candidates, "
        f"{tp['search_seconds']:.2f} s) | {tp['search']:.0f} |",
        f"| whole search, `optimizer='de'` (numpy JADE, 4000 candidates) | {tp['jade']:.0f} |",
        f"| whole search with `optimizer='nevergrad'` (TwoPointsDE ask/tell, 2000 "
        f"candidates) | {tp['nevergrad']:.0f} |",
        "",
        "## 10,000-candidate search on robyn-simulated-weekly",
        "",
        f"{rb['periods']} weeks x {rb['channels']} channels. Search alone "
        f"{rb['search_seconds']:.2f} s ({rb['rate']:.0f} candidates/s); `fit_ridge` with "
        f"10,000 candidates including refit, Pareto front ({rb['front']} models), "
        f"clustering and 200 bootstrap refits: {rb['total_seconds']:.2f} s (target <= 10 s).",
        "",
        f"Selection: {rb['selection']['reason']}.",
        "",
        "| channel | ROI | 90% bootstrap interval |",
        "|---|---|---|",
    ]
    for ch, (roi, iv) in rb["roi"].items():
        ivs = f"[{iv[0]:.2f}, {iv[1]:.2f}]" if iv else "-"
        lines.append(f"| {ch} | {roi:.2f} | {ivs} |")
    m = rb["metrics"]
    lines += [
        "",
        f"Fit: R2 {m['r2']:.3f}, NRMSE {m['nrmse']:.4f}, MAPE {m['mape']:.4f}, "
        f"DECOMP.RSSD {m['decomp_rssd']:.3f}.",
        "",
    ]
    for title, rows in sets:
        lines += recovery_table(title, rows, args.candidates)
    lines += [
        "",
        "## Peak memory",
        "",
        f"Peak RSS of the whole benchmark process: {mem:.0f} MB (target < 2 GB).",
        "",
    ]
    return "\n".join(lines)


def recovery_table(title: str, rows: list[dict], candidates: int) -> list[str]:
    """Markdown lines: one row per dataset, then a summary per selection rule."""
    lines = [
        f"## Recovery: {title} ({len(rows)} datasets, {candidates} candidates each)",
        "",
        "Error = sum_c |estimated - true contribution| / sum_c true contribution. "
        "Kinds per channel: adstock g(eometric) / w(eibull_pdf, delayed peak possible) / "
        "d(elayed) and saturation h(ill) / l(ogistic).",
        "",
        "| seed | weeks | channels | noise | media share | kinds | search s | "
        + " | ".join(SELECTION_RULES)
        + " |",
        "|---|---|---|---|---|---|---|" + "---|" * len(SELECTION_RULES),
    ]
    for r in rows:
        errs = " | ".join(f"{r['errors'][k]:.3f}" for k in SELECTION_RULES)
        lines.append(
            f"| {r['seed']} | {r['weeks']} | {r['channels']} | {r['noise']:.3f} | "
            f"{r['media_share']:.2f} | {r['kinds']} | {r['seconds']:.2f} | {errs} |"
        )
    lines += ["", "| rule | median error | mean error | 75th percentile |", "|---|---|---|---|"]
    for k in SELECTION_RULES:
        v = np.array([r["errors"][k] for r in rows])
        lines.append(
            f"| {k}{' (default)' if k == SELECTION_RULES[0] else ''} | "
            f"{np.median(v):.3f} | {v.mean():.3f} | {np.percentile(v, 75):.3f} |"
        )
    seeds = sorted(rows[0]["by_seed"]) if rows else []
    if len(seeds) > 1:
        lines += [
            "",
            "Sensitivity of the default rule to the optimizer's seed (same datasets):",
            "",
            "| search seed | median error | mean error |",
            "|---|---|---|",
        ]
        medians = []
        for s_seed in seeds:
            v = np.array([r["by_seed"][s_seed] for r in rows])
            medians.append(float(np.median(v)))
            lines.append(f"| {s_seed} | {np.median(v):.3f} | {v.mean():.3f} |")
        lines.append(f"| average of the medians | {np.mean(medians):.3f} | |")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument(
        "--search-seeds", default="1,2", help="extra optimizer seeds for the sensitivity table"
    )
    parser.add_argument(
        "--holdout", type=int, default=20, help="further seeds from 100, not used to tune"
    )
    parser.add_argument("--candidates", type=int, default=R.RidgeOptions().candidates)
    parser.add_argument(
        "--optimizer", default=R.RidgeOptions().optimizer, help="optimizer of every search"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ridge.md")
    args = parser.parse_args()
    tp = throughput()
    print(f"throughput: {tp}", file=sys.stderr, flush=True)
    rb = robyn(optimizer=args.optimizer)
    print(
        f"robyn: {rb['total_seconds']:.2f} s total, search {rb['search_seconds']:.2f} s",
        file=sys.stderr,
        flush=True,
    )
    extra = tuple(int(x) for x in args.search_seeds.split(",") if x.strip())
    sets = [
        (
            f"seeds 0-{args.seeds - 1}",
            recovery(args.seeds, args.candidates, 0, extra, args.optimizer),
        )
    ]
    if args.holdout:
        sets.append(
            (
                f"held-out seeds 100-{99 + args.holdout} (never used while choosing the rule)",
                recovery(args.holdout, args.candidates, 100, extra, args.optimizer),
            )
        )
    text = render(tp, rb, sets, peak_memory_mb(), args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
