"""R integration: glmnet against the ridge engine, Robyn import, the R script hook.

Usage::

    nice .venv/bin/python benchmarks/rlang_bench.py [--seeds 10]
        [--out benchmarks/results/rlang.md]

Needs R with glmnet and jsonlite (``make system``) and the ``r`` extra.

Sections
--------
1. Robyn's simulated weekly data (``examples/robyn-simulated-weekly/spec.yaml``), default
   ridge options (seed 0): wall time of ``--engine ridge`` and ``--engine r-glmnet``
   (the same search, then glmnet), glmnet's coefficients and contributions against the
   ridge engine's on the same design and penalty, and how far glmnet's
   ``standardize = TRUE`` (Robyn's default) moves them.
2. The same comparison on ``--seeds`` synthetic datasets of the ridge benchmark's
   shapes (``benchmarks/ridge_bench.py``: ``synth_config``).
3. The robynpy fixture (``tests/rlang/data``): import, Robyn's aggregate decomposition
   against the imported model's, and Robyn's glmnet step refitted through the bridge
   against robynpy's coefficients.
4. ``examples/r-script/model.R`` on Robyn's simulated data: wall time of the hook.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from mediamix.models.ridge import RidgeOptions, fit_ridge
from mediamix.rlang.glmnet import compare_glmnet, fit_r_glmnet, glmnet_ridge, model_design
from mediamix.service.data import load_dataset
from mediamix.service.rlang import check_r_glmnet, import_robyn, run_r_script_model

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
ROBYN_SPEC = ROOT / "examples" / "robyn-simulated-weekly" / "spec.yaml"
FIXTURE = ROOT / "tests" / "rlang" / "data" / "robyn_simulated_model.json"
INPUT = ROOT / "datasets" / "robyn-simulated-weekly" / "dt_simulated_weekly.csv"


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def robyn_simulated() -> list[str]:
    loaded = load_dataset(ROBYN_SPEC)
    ridge, t_ridge = _timed(fit_ridge, loaded.dataset, loaded.spec, RidgeOptions(seed=0))
    glm, t_glm = _timed(fit_r_glmnet, loaded.dataset, loaded.spec, seed=0)
    design = model_design(ridge)
    _, t_one = _timed(glmnet_ridge, design)
    report = compare_glmnet(ridge)
    return [
        "## Robyn's simulated weekly data (208 weeks, 5 channels)",
        "",
        "| what | figure |",
        "|---|---|",
        f"| `fit_ridge` (10,000 candidates, bootstrap, ensemble) | {t_ridge:.1f} s |",
        f"| `fit_r_glmnet` (same search without bootstrap/ensemble, then glmnet) | {t_glm:.1f} s |",
        f"| one glmnet fit through rpy2 (first call loads R and glmnet) | {t_one:.2f} s |",
        f"| ridge penalty lambda; on glmnet's scale | {report['lambda']:.4g}; "
        f"{report['lambda_glmnet']:.4g} |",
        f"| max coefficient difference, glmnet vs ridge (relative to the largest) | "
        f"{report['max_rel_diff_coef']:.2e} |",
        f"| max contribution difference (relative to total media contribution) | "
        f"{report['max_rel_diff_contribution']:.2e} |",
        f"| same, glmnet with standardize=TRUE (Robyn's default) | "
        f"{report['max_rel_diff_coef_other_convention']:.2e} |",
        f"| r-glmnet model: engine, glmnet vs ridge on its own design | {glm.engine}, "
        f"{glm.info['glmnet']['max_abs_diff_to_ridge']:.2e} |",
        "",
    ]


def synthetic(seeds: int) -> list[str]:
    from ridge_bench import synth_config, synth_data

    lines = [
        f"## Synthetic datasets (seeds 0-{seeds - 1}, shapes of the ridge benchmark)",
        "",
        "| seed | weeks | channels | lambda | coef diff | contribution diff | "
        "standardize=TRUE diff |",
        "|---|---|---|---|---|---|---|",
    ]
    worst = 0.0
    for seed in range(seeds):
        config = synth_config(seed)
        _, spec, data = synth_data(config)
        ridge = fit_ridge(data, spec, RidgeOptions(seed=0, bootstrap=0, ensemble=0))
        r = compare_glmnet(ridge)
        worst = max(worst, r["max_rel_diff_coef"], r["max_rel_diff_contribution"])
        lines.append(
            f"| {seed} | {config.weeks} | {config.channels} | {r['lambda']:.3g} | "
            f"{r['max_rel_diff_coef']:.2e} | {r['max_rel_diff_contribution']:.2e} | "
            f"{r['max_rel_diff_coef_other_convention']:.2e} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    lines += ["", f"Largest difference over all seeds: {worst:.2e} (tests hold 1e-5).", ""]
    return lines


def robyn_fixture(tmp: Path) -> list[str]:
    (result, _), t = _timed(import_robyn, FIXTURE, INPUT, tmp / "imported")
    doc = json.loads(FIXTURE.read_text())
    agg = {r["variable"]: r["decompAgg"] for r in doc["ExportedModel"]["summary"]}
    contrib = dict(zip(result.channel_names, result.contributions(), strict=True))
    worst = max(abs(contrib[c] / agg[c] - 1) for c in contrib)
    check = check_r_glmnet(tmp / "imported", tolerance=1e-4)
    return [
        "## Robyn model import (the robynpy 0.3.6 fixture)",
        "",
        "| what | figure |",
        "|---|---|",
        f"| import (read, validate, decompose, write) | {t:.2f} s |",
        f"| largest channel contribution difference vs Robyn's decompAgg | {worst:.1e} |",
        f"| Robyn's glmnet step refitted (standardize=TRUE, its lambda) vs robynpy's "
        f"coefficients | {check['max_rel_diff_coef']:.2e} |",
        "",
    ]


def r_script(tmp: Path) -> list[str]:
    script = ROOT / "examples" / "r-script" / "model.R"
    (result, summary), t = _timed(run_r_script_model, script, ROBYN_SPEC, tmp / "script")
    return [
        "## R script hook (`examples/r-script/model.R`, Robyn's simulated data)",
        "",
        f"Validate, write the input, run Rscript, read and check the output, write the model: "
        f"{t:.2f} s, of which Rscript {result.info['r_script']['seconds']:.2f} s; "
        f"the example model's R2 {summary['metrics']['r2']:.3f}.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "rlang.md")
    args = parser.parse_args()
    from mediamix.rlang.bridge import r_session

    ro = r_session(["glmnet"], purpose="the benchmark")
    r_string = str(ro.r("R.version.string")[0])
    glmnet_version = str(ro.r('as.character(packageVersion("glmnet"))')[0])
    r_version = f"{r_string}, glmnet {glmnet_version}"
    started = dt.datetime.now(dt.UTC)
    lines = [
        "# R integration: glmnet vs the ridge engine, Robyn import, R scripts",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {platform.platform()}, Python "
        f"{platform.python_version()}, {r_version}; the 2-core machine was shared with "
        "other jobs, so times are upper bounds.",
        "",
        f"Command: `nice .venv/bin/python benchmarks/rlang_bench.py --seeds {args.seeds}`",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        lines += robyn_simulated()
        lines += synthetic(args.seeds)
        lines += robyn_fixture(Path(tmp))
        lines += r_script(Path(tmp))
    text = "\n".join(lines)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
