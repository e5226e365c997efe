"""Transform throughput: a batch of parameter sets x channels x weeks.

The ridge search evaluates candidates in batches, so the transforms must be fast
on (B, T, C) arrays. Run: ``.venv/bin/python benchmarks/transforms_bench.py``
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable

import numpy as np

from mediamix.transforms.adstock import binomial_adstock, geometric_adstock, weibull_adstock
from mediamix.transforms.saturation import hill


def best_of(fn: Callable[[], object], repeats: int = 5) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 100, size=(156, 10))
    alpha = rng.uniform(0, 0.9, size=(1000, 10))
    k = rng.uniform(20, 200, size=(1000, 10))
    s = rng.uniform(0.5, 3.0, size=(1000, 10))
    cases = {
        "geometric, infinite (Robyn)": lambda: geometric_adstock(x, alpha),
        "geometric, l_max 13 normalized (PyMC)": lambda: geometric_adstock(
            x, alpha, l_max=13, normalize=True
        ),
        "binomial, max_lag 8 (Meridian)": lambda: binomial_adstock(x, alpha, 8),
        "Weibull PDF, PyMC convention, l_max 13": lambda: weibull_adstock(
            x, 1 + 2 * alpha, 1 + 3 * alpha, kind="pdf", convention="pymc", l_max=13
        ),
        "Hill": lambda: hill(x, k, s),
    }
    print(
        f"1000 parameter sets x 10 channels x 156 weeks, best of 5 ({platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__})"
    )
    for name, fn in cases.items():
        print(f"  {name:<42} {best_of(fn) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
