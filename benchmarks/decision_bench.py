"""Decision quality: do the plans a fitted model recommends earn more in truth?

For each seeded synthetic dataset: fit the ridge engine, optimize at the historical
budget with every channel bounded to 0.5x-2x of its historical spend, then judge
the plan with the TRUE response curves from the generator's truth:

    captured = (true(plan) - true(historical)) / (true(optimum) - true(historical))

where ``optimum`` is the same optimization run on the true curves. Also reported:
the plan's true change relative to the historical allocation, as a share of the
historical media response.

Run: ``.venv/bin/python benchmarks/decision_bench.py [--seeds 20] [--write]``
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.data.validation import build_dataset
from mediamix.models.response import FittedResponse
from mediamix.models.result import ChannelFit
from mediamix.models.ridge import RidgeOptions, fit_ridge
from mediamix.optimization.risk import DEFAULT_LEVEL, PlanRisk, risk_adjusted_plan
from mediamix.optimization.solver import Plan, SpendReference, optimize_budget

RESULTS = Path(__file__).parent / "results" / "decision.md"
LEVELS = (0.8, 0.9, 0.95)


def shapes(n: int) -> list[SynthConfig]:
    """Varied datasets: 3-8 channels, 104-208 weeks, 2-6% noise, media 15-40%."""
    rng = np.random.default_rng(2026)
    out = []
    for seed in range(n):
        out.append(
            SynthConfig(
                seed=1000 + seed,
                weeks=int(rng.choice([104, 156, 208])),
                channels=int(rng.integers(3, 9)),
                noise=float(rng.uniform(0.02, 0.06)),
                media_share=float(rng.uniform(0.15, 0.40)),
            )
        )
    return out


def optimized_plan(model: FittedResponse) -> Plan:
    current = model.current_spend
    bounds = {c: (0.5 * v, 2.0 * v) for c, v in current.items()}
    return optimize_budget(
        model, float(sum(current.values())), reference=SpendReference(current, bounds)
    )


def plan_totals(model: FittedResponse) -> dict[str, float]:
    return {c: a.spend for c, a in optimized_plan(model).channels.items()}


ENGINE: dict[str, Any] = {"name": "ridge", "chains": 1, "warmup": 500, "draws": 500}


def fit_engine(data: Any, spec: ModelSpec) -> Any:
    """Fit the engine chosen on the command line (ridge, or bayes with NUTS)."""
    if ENGINE["name"] == "bayes":
        from mediamix.models.bayes.fit import BayesOptions, fit_bayes

        options = BayesOptions(
            seed=0, chains=ENGINE["chains"], warmup=ENGINE["warmup"], draws=ENGINE["draws"]
        )
        return fit_bayes(data, spec, options)
    return fit_ridge(data, spec, RidgeOptions(seed=0))


def run(n: int, skip: int = 0) -> list[dict[str, Any]]:
    rows = []
    for config in shapes(n + skip)[skip:]:
        t0 = time.perf_counter()
        synth = synthesize(config)
        spec = ModelSpec.model_validate(synth.spec)
        data, _ = build_dataset(synth.frame, spec, source="synth.csv")
        result = fit_engine(data, spec)
        fitted = FittedResponse(result)
        history = result.data.spend[0]
        true_fits = {
            name: ChannelFit(adstock=c["adstock"], saturation=c["saturation"], beta=c["beta"])
            for name, c in synth.truth["channels"].items()
        }
        truth = FittedResponse.from_parts(true_fits, history)
        current = fitted.current_spend
        opt = optimized_plan(fitted)
        plan = {c: a.spend for c, a in opt.channels.items()}
        best = plan_totals(truth)
        names = list(truth.channels)

        def vec(d: dict[str, float], names: list[str] = names) -> np.ndarray:
            return np.array([d[c] for c in names])

        t_hist = float(truth.response(vec(current)))
        t_plan = float(truth.response(vec(plan)))
        t_best = float(truth.response(vec(best)))
        gap = t_best - t_hist
        safe: dict[float, float] = {}
        risk: PlanRisk | None = None
        for level in LEVELS:
            adjusted = risk_adjusted_plan(fitted, opt, current, level=level)
            t_safe = float(truth.response(vec({c: a.spend for c, a in adjusted.channels.items()})))
            safe[level] = t_safe
            if level == DEFAULT_LEVEL:
                risk = adjusted.risk
        if risk is None:
            raise RuntimeError("the fitted model has no draws: there is no risk check to report")
        est = result.contributions()
        tru = np.array([synth.truth["channels"][c]["contribution"] for c in result.channel_names])
        rows.append(
            {
                "seed": config.seed,
                "weeks": config.weeks,
                "channels": config.channels,
                "contribution_error": float(np.abs(est - tru).sum() / tru.sum()),
                "captured": (t_plan - t_hist) / gap if gap > 0 else float("nan"),
                "plan_vs_hist": (t_plan - t_hist) / t_hist,
                "best_vs_hist": gap / t_hist,
                "p_better": risk.optimized.probability_better,
                "recommendation": risk.recommendation,
                "step": risk.step,
                **{f"safe_captured_{lv}": (safe[lv] - t_hist) / gap for lv in LEVELS},
                **{f"safe_vs_hist_{lv}": (safe[lv] - t_hist) / t_hist for lv in LEVELS},
                "seconds": time.perf_counter() - t0,
            }
        )
        r = rows[-1]
        print(
            f"seed {r['seed']}: {r['channels']} ch x {r['weeks']} wk, contribution error "
            f"{r['contribution_error']:.1%}, captured {r['captured']:.2f}, plan vs historical "
            f"{r['plan_vs_hist']:+.2%} (optimum {r['best_vs_hist']:+.2%}); P(better) "
            f"{r['p_better']:.2f}, {r['recommendation']} (step {r['step']:.2f}): captured "
            f"{r[f'safe_captured_{DEFAULT_LEVEL}']:.2f}, vs historical "
            f"{r[f'safe_vs_hist_{DEFAULT_LEVEL}']:+.2%}; {r['seconds']:.1f} s"
        )
    return rows


_FINGERPRINT: list[str] = []


def engine_fingerprint() -> str:
    """SHA-256 prefixes of the ridge engine's source files, to tie results to a version.

    Computed once (at the start of ``main``), when the engine is imported.
    """
    import hashlib

    if _FINGERPRINT:
        return _FINGERPRINT[0]

    import mediamix.models.ridge as ridge_module

    folder = Path(ridge_module.__file__).parent
    names = ["ridge.py", "search.py"]
    if ENGINE["name"] == "bayes":
        names = [f"bayes/{p.name}" for p in sorted((folder / "bayes").glob("*.py"))]
    parts = []
    for name in names:
        path = folder / name
        if path.is_file():
            parts.append(f"{name} {hashlib.sha256(path.read_bytes()).hexdigest()[:12]}")
    _FINGERPRINT.append(", ".join(parts))
    return _FINGERPRINT[0]


def summary(rows: list[dict[str, Any]]) -> list[str]:
    """The summary table: optimized plan and risk-adjusted plan at each level."""
    captured = np.array([r["captured"] for r in rows])
    worst = min(r["plan_vs_hist"] for r in rows)
    lines = [
        "",
        "| plan | median captured | worst vs historical | plans worse than -1% |",
        "|---|---:|---:|---:|",
        f"| optimized (no risk check) | {np.nanmedian(captured):.2f} | {worst:+.2%} | "
        f"{sum(r['plan_vs_hist'] < -0.01 for r in rows)} |",
    ]
    for level in LEVELS:
        cap = np.array([r[f"safe_captured_{level}"] for r in rows])
        vs = np.array([r[f"safe_vs_hist_{level}"] for r in rows])
        lines.append(
            f"| recommended, level {level} | {np.nanmedian(cap):.2f} | {vs.min():+.2%} | "
            f"{int((vs < -0.01).sum())} |"
        )
    return lines


def report(rows: list[dict[str, Any]], holdout: int = 0) -> str:
    lv = DEFAULT_LEVEL
    lines = [
        f"# Decision quality ({ENGINE['name']} engine)",
        "",
        f"Command: `.venv/bin/python benchmarks/decision_bench.py --engine {ENGINE['name']} "
        f"--seeds {len(rows)}{f' --holdout {holdout}' if holdout else ''} --write`"
        + (
            f" (NUTS {ENGINE['chains']} chain(s) x {ENGINE['warmup']} warmup + "
            f"{ENGINE['draws']} draws)"
            if ENGINE["name"] == "bayes"
            else ""
        ),
        f"Machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, 2 cores",
        f"Engine source: {engine_fingerprint()} (SHA-256 prefixes of the files "
        "measured; figures move with the engine)",
        "",
        "Plans at the historical budget, each channel bounded to 0.5x-2x of historical "
        "spend, judged with the true curves. captured = (true(plan) - true(historical)) / "
        "(true(optimum) - true(historical)); plan vs historical is the true change in "
        "media response (not the KPI total). 'optimized' is the plan that maximizes the "
        "model's expected response (ridge: over its ensemble); 'recommended' is "
        f"the risk-adjusted plan (`mediamix.optimization.risk`, level {lv}): the "
        "optimized plan when it beats the historical mix in at least that share of the "
        "model's draws (ridge: the members of its model ensemble plus as many bootstrap x "
        "Pareto-front draws; bayes: posterior draws of "
        "the curves), else the best point on the line "
        "from the historical mix to it that does.",
        "",
        "| seed | channels | weeks | contribution error | optimized: captured | "
        "optimized vs historical | P(better) | recommendation (step) | "
        "recommended: captured | recommended vs historical | optimum vs historical |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['channels']} | {r['weeks']} | {r['contribution_error']:.1%} | "
            f"{r['captured']:.2f} | {r['plan_vs_hist']:+.2%} | {r['p_better']:.2f} | "
            f"{r['recommendation']} ({r['step']:.2f}) | {r[f'safe_captured_{lv}']:.2f} | "
            f"{r[f'safe_vs_hist_{lv}']:+.2%} | {r['best_vs_hist']:+.2%} |"
        )
    lines += [
        "",
        f"Summary (targets: median captured >= {0.7 if ENGINE['name'] == 'bayes' else 0.6}, no plan worse than -1% in truth):",
    ]
    lines += summary(rows)
    safe = [lv for lv in LEVELS if min(r[f"safe_vs_hist_{lv}"] for r in rows) >= -0.01]
    lines += [
        "",
        f"Rule: the default level is {DEFAULT_LEVEL}. On these datasets the levels with no "
        f"plan worse than -1% are {safe or 'none'}; the lowest such level keeps the most "
        "uplift. "
        + (
            "The draws are the posterior draws, each with its own curve (plans maximize the expected response over them)"
            if ENGINE["name"] == "bayes"
            else "The draws are the members of the fit's model ensemble plus as many "
            "bootstrap x Pareto-front draws of the recommended model. The members: up to 100 "
            "models of the search's likelihood-ratio set at 90% (in-sample NRMSE within "
            "sqrt(1 + chi2_p(0.9) / (T - p)) - 1 of the best), each with its own "
            "transforms and coefficients; plans maximize the expected response over them "
            "(`mediamix.models.ridge.model_ensemble`)"
        )
        + "; above historical spend they credit no increasing returns "
        "(see `mediamix.models.response`).",
    ]
    lines += [
        "",
        f"- median contribution error: {np.median([r['contribution_error'] for r in rows]):.1%}",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument(
        "--skip", type=int, default=0, help="skip the first datasets (held-out check)"
    )
    parser.add_argument(
        "--holdout", type=int, default=0, help="also summarize this many further datasets"
    )
    parser.add_argument("--engine", choices=["ridge", "bayes"], default="ridge")
    parser.add_argument("--chains", type=int, default=1, help="bayes: NUTS chains")
    parser.add_argument("--warmup", type=int, default=500, help="bayes: warmup per chain")
    parser.add_argument("--draws", type=int, default=500, help="bayes: draws per chain")
    parser.add_argument("--write", action="store_true", help="write the results file")
    args = parser.parse_args()
    ENGINE.update(name=args.engine, chains=args.chains, warmup=args.warmup, draws=args.draws)
    engine_fingerprint()
    text = report(run(args.seeds, args.skip), args.holdout)
    if args.holdout:
        held = run(args.holdout, args.seeds + args.skip)
        text += "\n".join(
            [
                "",
                f"## Held-out datasets ({args.holdout} more seeds, seeds "
                f"{1000 + args.seeds + args.skip}-{999 + args.seeds + args.skip + args.holdout})",
                "",
                f"Command: `.venv/bin/python benchmarks/decision_bench.py --seeds "
                f"{args.holdout} --skip {args.seeds + args.skip}` (same layout).",
                *summary(held),
                "",
            ]
        )
    print(text)
    if args.write:
        out = RESULTS if ENGINE["name"] == "ridge" else RESULTS.with_name("decision_bayes.md")
        out.parent.mkdir(exist_ok=True)
        out.write_text(text)


if __name__ == "__main__":
    main()
