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

import numpy as np

from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.data.validation import build_dataset
from mediamix.models.response import FittedResponse
from mediamix.models.result import ChannelFit
from mediamix.models.ridge import RidgeOptions, fit_ridge
from mediamix.optimization.solver import optimize_budget

RESULTS = Path(__file__).parent / "results" / "decision.md"


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


def plan_totals(model: FittedResponse) -> dict[str, float]:
    current = model.current_spend
    plan = optimize_budget(
        model,
        float(sum(current.values())),
        current_spend=current,
        bounds={c: (0.5 * v, 2.0 * v) for c, v in current.items()},
    )
    return {c: a.spend for c, a in plan.channels.items()}


def run(n: int) -> list[dict[str, float]]:
    rows = []
    for config in shapes(n):
        t0 = time.perf_counter()
        synth = synthesize(config)
        spec = ModelSpec.model_validate(synth.spec)
        data, _ = build_dataset(synth.frame, spec, source="synth.csv")
        result = fit_ridge(data, spec, RidgeOptions(seed=0))
        fitted = FittedResponse(result)
        history = result.data.spend[0]
        true_fits = {
            name: ChannelFit(adstock=c["adstock"], saturation=c["saturation"], beta=c["beta"])
            for name, c in synth.truth["channels"].items()
        }
        truth = FittedResponse.from_parts(true_fits, history)
        current = fitted.current_spend
        plan = plan_totals(fitted)
        best = plan_totals(truth)
        names = list(truth.channels)

        def vec(d: dict[str, float], names: list[str] = names) -> np.ndarray:
            return np.array([d[c] for c in names])

        t_hist = float(truth.response(vec(current)))
        t_plan = float(truth.response(vec(plan)))
        t_best = float(truth.response(vec(best)))
        gap = t_best - t_hist
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
                "seconds": time.perf_counter() - t0,
            }
        )
        r = rows[-1]
        print(
            f"seed {r['seed']}: {r['channels']} ch x {r['weeks']} wk, contribution error "
            f"{r['contribution_error']:.1%}, captured {r['captured']:.2f}, plan vs historical "
            f"{r['plan_vs_hist']:+.2%} (optimum {r['best_vs_hist']:+.2%}), {r['seconds']:.1f} s"
        )
    return rows


def report(rows: list[dict[str, float]]) -> str:
    captured = np.array([r["captured"] for r in rows])
    worst = min(r["plan_vs_hist"] for r in rows)
    lines = [
        "# Decision quality (ridge engine)",
        "",
        f"Command: `.venv/bin/python benchmarks/decision_bench.py --seeds {len(rows)} --write`",
        f"Machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, 2 cores",
        "",
        "Plans at the historical budget, each channel bounded to 0.5x-2x of historical "
        "spend, judged with the true curves. captured = (true(plan) - true(historical)) / "
        "(true(optimum) - true(historical)); plan vs historical is the true change in "
        "media response.",
        "",
        "| seed | channels | weeks | contribution error | captured | plan vs historical | "
        "optimum vs historical |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['channels']} | {r['weeks']} | {r['contribution_error']:.1%} | "
            f"{r['captured']:.2f} | {r['plan_vs_hist']:+.2%} | {r['best_vs_hist']:+.2%} |"
        )
    lines += [
        "",
        f"- median captured: **{np.nanmedian(captured):.2f}** (target >= 0.6)",
        f"- worst plan vs historical in truth: **{worst:+.2%}** (target: no worse than -1%)",
        f"- median contribution error: {np.median([r['contribution_error'] for r in rows]):.1%}",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS}")
    args = parser.parse_args()
    text = report(run(args.seeds))
    print(text)
    if args.write:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(text)


if __name__ == "__main__":
    main()
