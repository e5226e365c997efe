"""Benchmark of the Bayesian geo model with NUTS on Google Meridian's simulated geo data.

Fits ``geo_all_channels.csv`` (40 geos x 156 weeks, 5 paid channels, conversions KPI,
per-capita scaling by the ``population`` column) with ``BayesOptions(geo_hierarchy=True)``
and reports wall-clock fit time (JIT compilation and posterior summaries included),
max R-hat, min bulk/tail ESS, divergences, mean leapfrog steps per draw, the 90%
posterior predictive coverage, the national summary's R2, the geo-effect spreads
``tau`` and the peak resident memory of the process. Prints JSON (``--json FILE``
writes it to a file too). Usage::

    .venv/bin/python benchmarks/bayes_geo_bench.py --chains 2 --warmup 1000 --draws 1000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

from mediamix.data.spec import ModelSpec
from mediamix.data.validation import build_dataset
from mediamix.models.bayes.fit import BayesOptions, fit_bayes

HERE = Path(__file__).resolve().parent
MERIDIAN_CSV = HERE.parent / "datasets" / "meridian-simulated" / "geo_all_channels.csv"


def meridian_geo(path: Path):
    """The Meridian geo dataset and its spec (as in ``bayes_bench.py``)."""
    import pandas as pd

    frame = pd.read_csv(path).drop(columns=["Unnamed: 0"])
    spec = ModelSpec.model_validate(
        {
            "data": str(path),
            "date": "time",
            "kpi": "conversions",
            "kpi_type": "conversions",
            "geo": "geo",
            "population": "population",
            "channels": {f"channel{i}": {"spend": f"Channel{i}_spend"} for i in range(5)},
            "controls": ["competitor_sales_control", "sentiment_score_control", "Promo"],
            "organic": ["Organic_channel0_impression"],
        }
    )
    data, _ = build_dataset(frame, spec, source=str(path))
    return data, spec


def run(args) -> dict:
    data, spec = meridian_geo(Path(args.data))
    options = BayesOptions(
        seed=args.seed,
        chains=args.chains,
        warmup=args.warmup,
        draws=args.draws,
        target_accept=args.target_accept,
        geo_hierarchy=True,
    )
    started = time.perf_counter()
    res = fit_bayes(data, spec, options)
    seconds = time.perf_counter() - started
    d = res.info["diagnostics"]
    worst = sorted(
        (r for r in d["parameters"] if np.isfinite(r["rhat"])), key=lambda r: -r["rhat"]
    )[:5]
    geo = res.draws["geo_contribution"]  # (S, G, C)
    roi_g = geo.mean(axis=0) / data.spend.sum(axis=1)  # conversions per currency, per geo
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{platform.system()} {platform.release()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "load_average_at_end": os.getloadavg(),
        "seconds": seconds,
        "chain_method": res.info["chain_method"],
        "max_rhat": d["max_rhat"],
        "min_ess_bulk": d["min_ess_bulk"],
        "min_ess_tail": d["min_ess_tail"],
        "divergences": d["divergences"],
        "mean_tree_steps": d.get("mean_tree_steps"),
        "ppc_coverage_90": d["ppc"]["coverage_90"],
        "national_r2": res.metrics()["r2"],
        "worst": [(r["parameter"], round(r["rhat"], 4), round(r["ess_bulk"])) for r in worst],
        "contribution": dict(zip(res.channel_names, res.contributions().tolist(), strict=True)),
        "geo_roi_q10_q90": {
            ch: np.quantile(roi_g[:, c], [0.1, 0.9]).tolist()
            for c, ch in enumerate(res.channel_names)
        },
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(MERIDIAN_CSV))
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--target-accept", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    out = run(args)
    text = json.dumps(out, indent=2, default=float)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
