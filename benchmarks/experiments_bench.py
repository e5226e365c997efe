"""Does the suggested lift test help more than a test on a random channel?

For each fresh synthetic dataset: fit the ridge engine, ask
:func:`mediamix.optimization.experiments.suggest_tests` which channel to test, run
that test in the truth (the channel's true contribution over the last ``weeks`` of
the window, plus noise with the design's standard error), refit with it as a lift
test, and do the same for a channel drawn at random among the others (its own
design). Judged with the true curves:

* contribution error: sum_c |estimated - true| / sum_c true;
* plan regret: (true(best plan) - true(recommended plan)) / true(current media
  response), the plans at the historical budget within the default band, the best
  plan optimized on the true curves under the same band.

Run: ``nice .venv/bin/python benchmarks/experiments_bench.py --seeds 6 [--first 7000] [--write]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

RESULTS = Path(__file__).parent / "results" / "experiments.md"


def _fit(frame: Any, spec: dict[str, Any], folder: Path) -> Any:
    import mediamix

    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "synth.csv", index=False)
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return mediamix.fit(folder / "spec.yaml")


def _contribution_error(result: Any, truth: dict[str, Any]) -> float:
    est = result.contributions()
    true = np.array([truth["channels"][c]["contribution"] for c in result.channel_names])
    return float(np.abs(est - true).sum() / true.sum())


def _true_model(truth: dict[str, Any], history: np.ndarray) -> Any:
    from mediamix.models.response import FittedResponse
    from mediamix.models.result import ChannelFit

    fits = {
        c: ChannelFit(adstock=v["adstock"], saturation=v["saturation"], beta=float(v["beta"]))
        for c, v in truth["channels"].items()
    }
    return FittedResponse.from_parts(fits, history)


def _regret(result: Any, truth: dict[str, Any], history: np.ndarray) -> float:
    from mediamix.data.synthetic import true_plan_response
    from mediamix.models.response import planning_response
    from mediamix.service.optimize import optimize, optimize_request

    model = planning_response(result)
    budget = float(history.sum())
    plan = optimize(optimize_request(budget), response_model=model)
    best = optimize(
        optimize_request(budget, risk_level=None), response_model=_true_model(truth, history)
    )
    names = list(truth["channels"])
    current = dict(zip(names, history.sum(axis=0), strict=True))
    at_current = true_plan_response(truth, history, current)
    got = true_plan_response(truth, history, {c: a.spend for c, a in plan.channels.items()})
    top = true_plan_response(truth, history, {c: a.spend for c, a in best.channels.items()})
    return float((top - got) / at_current), float((got - at_current) / at_current)


def _lift_test(res: Any, channel: str, design: Any, rng: np.random.Generator) -> dict[str, Any]:
    from mediamix.data.synthetic import channel_response

    info = res.truth["channels"][channel]
    spend = res.frame[f"{channel}_spend"].to_numpy(float)
    contrib = channel_response(spend, info["adstock"], info["saturation"], info["beta"])
    weeks = int(design.weeks)
    lift = float(contrib[-weeks:].sum()) + float(rng.normal(0.0, design.standard_error))
    dates = res.frame["date"].tolist()
    return {
        "channel": channel,
        "start": dates[-weeks],
        "end": dates[-1],
        "lift": round(lift, 2),
        "standard_error": round(float(design.standard_error), 2),
    }


def one(seed: int, channels: int, folder: Path) -> dict[str, Any]:
    from mediamix.data.synthetic import SynthConfig, synthesize
    from mediamix.models.response import planning_response
    from mediamix.optimization.experiments import suggest_tests
    from mediamix.service.optimize import optimize, optimize_request

    res = synthesize(SynthConfig(seed=seed, weeks=156, channels=channels, noise=0.03))
    names = list(res.truth["channels"])
    history = res.frame[[f"{c}_spend" for c in names]].to_numpy(float)
    base = _fit(res.frame, res.spec, folder / "base")
    model = planning_response(base)
    plan = optimize(optimize_request(float(history.sum())), response_model=model)
    spend = np.array([plan.risk.optimized_spend[c] for c in names]) if plan.risk else plan.spend
    sigma = float(np.std(np.asarray(base.actual) - np.asarray(base.fitted), ddof=1))
    ranked = suggest_tests(model, spend, model.current_spend, sigma, model.periods)
    rng = np.random.default_rng(seed)
    others = [s for s in ranked[1:]]
    pick = others[int(rng.integers(len(others)))]
    row: dict[str, Any] = {"seed": seed, "suggested": ranked[0].channel, "random": pick.channel}
    row["error_none"] = _contribution_error(base, res.truth)
    row["regret_none"], row["uplift_none"] = _regret(base, res.truth, history)
    for label, s in (("suggested", ranked[0]), ("random", pick)):
        spec = dict(res.spec, lift_tests=[_lift_test(res, s.channel, s.design, rng)])
        fit = _fit(res.frame, spec, folder / label)
        row[f"error_{label}"] = _contribution_error(fit, res.truth)
        row[f"regret_{label}"], row[f"uplift_{label}"] = _regret(fit, res.truth, history)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--first", type=int, default=7000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.seeds):
            seed = args.first + k
            row = one(seed, 3 + k % 4, Path(tmp) / str(seed))
            rows.append(row)
            print(
                f"seed {seed}: test {row['suggested']} vs {row['random']}: error "
                f"{row['error_none']:.3f} -> {row['error_suggested']:.3f} / {row['error_random']:.3f}; "
                f"regret {row['regret_none']:+.4f} -> {row['regret_suggested']:+.4f} / "
                f"{row['regret_random']:+.4f}; worst uplift "
                f"{min(row['uplift_none'], row['uplift_suggested'], row['uplift_random']):+.4f}",
                flush=True,
            )
    lines = [
        "# Suggested lift test against a random one (`benchmarks/experiments_bench.py`)",
        "",
        f"Seeds {args.first}-{args.first + args.seeds - 1}, 156 weeks, 3-6 channels, 3% noise; "
        f"{time.perf_counter() - start:.0f} s.",
        "",
        "| seed | suggested | random | error none | error suggested | error random "
        "| regret none | regret suggested | regret random |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['suggested']} | {r['random']} | {r['error_none']:.3f} | "
            f"{r['error_suggested']:.3f} | {r['error_random']:.3f} | {r['regret_none']:.4f} | "
            f"{r['regret_suggested']:.4f} | {r['regret_random']:.4f} |"
        )
    med = {
        k: float(np.median([r[k] for r in rows]))
        for k in rows[0]
        if k.startswith(("error", "regret", "uplift"))
    }
    lines += [
        "",
        "medians: " + ", ".join(f"{k} {v:.4f}" for k, v in med.items()),
        f"worst true uplift of a recommended plan vs current: "
        f"{min(min(r['uplift_none'], r['uplift_suggested'], r['uplift_random']) for r in rows):+.4f}",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        RESULTS.write_text(text)


if __name__ == "__main__":
    main()
