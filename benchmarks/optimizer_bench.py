"""Optimizer benchmark: single-period timing, the 20x52 multi-period plan, accuracy.

Run: ``python benchmarks/optimizer_bench.py`` (from the repository root). Prints a
Markdown report; ``--write`` also saves it to ``benchmarks/results/optimizer.md``.
Accuracy uses the brute-force references of ``tests/optimization/_opt_problems.py``.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "optimization"))

from _opt_problems import limits_of, random_problem, reference_optimum  # noqa: E402

from mediamix.optimization.multiperiod import MultiPeriodModel, optimize_multiperiod  # noqa: E402
from mediamix.optimization.response import HillSaturationSchema, curves_from_dict  # noqa: E402
from mediamix.optimization.solver import optimize_budget  # noqa: E402


def timed(fn, repeat=5):
    best = np.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def single_period_rows():
    rng = np.random.default_rng(0)
    rows = []
    for C in (2, 5, 10, 20):
        chans = {
            f"c{i}": {
                "beta": float(rng.uniform(50, 200)),
                "saturation": {
                    "type": "hill",
                    "half_saturation": float(rng.uniform(10, 60)),
                    "slope": float(rng.uniform(0.7, 3.0)),
                },
            }
            for i in range(C)
        }
        m = curves_from_dict({"channels": chans})
        t, plan = timed(lambda m=m, C=C: optimize_budget(m, 20.0 * C))
        rows.append((C, t, plan.method))
    return rows


def multiperiod_row():
    rng = np.random.default_rng(0)
    C, H = 20, 52
    sats = tuple(
        HillSaturationSchema(
            type="hill",
            half_saturation=float(rng.uniform(500, 3000)),
            slope=float(rng.uniform(0.7, 3.0)),
        )
        for _ in range(C)
    )
    m = MultiPeriodModel(
        tuple(f"c{i}" for i in range(C)), rng.uniform(1e3, 5e3, C), sats, rng.uniform(0.0, 0.8, C)
    )
    hist = rng.uniform(0, 2000, (20, C))
    t, plan = timed(lambda: optimize_multiperiod(m, 1_000_000.0, H, history=hist), repeat=3)
    return t, plan


def accuracy_rows(n=50):
    gaps = []
    for seed in range(n):
        p = random_problem(seed)
        plan = optimize_budget(p.model, p.budget, limits_of(p))
        ref = reference_optimum(p)
        gaps.append(plan.total_response / ref - 1.0)
    return np.array(gaps)


def main() -> str:
    lines = [
        "# Optimizer benchmark",
        "",
        "Command: `.venv/bin/python benchmarks/optimizer_bench.py --write`",
        f"Machine: {platform.machine()}, {platform.processor() or 'unknown cpu'}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.system()} {platform.release()} (2 cores shared with other jobs)",
        "",
        "## Single-period solve (revenue, Hill slopes 0.7-3, best of 5)",
        "",
        "| channels | seconds | method |",
        "|---:|---:|---|",
    ]
    for C, t, method in single_period_rows():
        lines.append(f"| {C} | {t:.4f} | {method} |")
    t, plan = multiperiod_row()
    lines += [
        "",
        "## Multi-period plan, 20 channels x 52 weeks (best of 3)",
        "",
        f"- time: {t:.3f} s (target <= 2 s); SPG iterations: {plan.iterations}",
        f"- response in horizon {plan.response:,.0f}, carried in {plan.carryover_in:,.0f}, "
        f"carried out {plan.carryover_out:,.0f}; total spend {plan.total_spend:,.2f}",
    ]
    gaps = accuracy_rows()
    lines += [
        "",
        "## Accuracy vs brute force (50 random problems, 2-8 channels, bounds)",
        "",
        "Gap = plan response / reference - 1 (negative = worse than the reference).",
        "",
        f"- worst gap: {gaps.min():+.2e}; median: {np.median(gaps):+.2e}; best: {gaps.max():+.2e}",
        f"- within 0.1%: {(gaps >= -1e-3).sum()} / {len(gaps)}",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    report = main()
    print(report)
    if "--write" in sys.argv:
        (ROOT / "benchmarks" / "results" / "optimizer.md").write_text(report, encoding="utf-8")
