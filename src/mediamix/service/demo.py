"""Use case: the end-to-end demo, offline, both engines judged against the known truth.

synth -> validate -> fit (ridge and Bayesian, same data) -> optimize each -> judge
every estimate and plan with the true curves -> report.

What the demo measures, per engine (definitions, over the modelling window):

- contribution error: ``sum_c |est_c - true_c| / sum_c true_c`` over the channels'
  contributions (the figure ``benchmarks/`` reports);
- ROI error: the mean over channels of ``|roi_est_c - roi_true_c| / roi_true_c``;
- coverage: how many true ROIs lie inside the engine's 90% interval;
- plan uplift in truth: the recommended plan (same budget, each channel within
  0.5x-2x of its historical spend, risk-checked) evaluated with the true curves,
  ``(true(plan) - true(history)) / sum(KPI)``, beside the best possible uplift under
  the same bounds (the plan optimized on the true curves).

Per channel it also reports how much of the channel's true media response moves
with the baseline (trend, seasonality, events, controls): the R^2 of that response
regressed on the baseline features. A channel whose response is mostly explained
by the baseline is weakly identified: the data say little about how much of the
movement is media and how much is season.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mediamix.data.synthetic import SynthConfig
from mediamix.io.atomic import atomic_write_json, atomic_write_text
from mediamix.io.exports import write_csv
from mediamix.service.data import validate_spec
from mediamix.service.fit import fit
from mediamix.service.report import write_report
from mediamix.service.synth import write_synth

__all__ = [
    "DEMO_SAMPLER",
    "ENGINE_LABELS",
    "DemoOutcome",
    "comparison_lines",
    "conclusion",
    "engine_metrics",
    "run_demo",
]

Step = Callable[[str], None]

#: Bayesian sampler of the demo: two chains (one per core) of 500 + 500 draws keep
#: ``make demo`` within its minute; the library default is 1000 + 1000.
DEMO_SAMPLER: dict[str, Any] = {"method": "nuts", "chains": 2, "warmup": 500, "draws": 500}
#: Engines the demo fits, with the words it prints.
ENGINE_LABELS: dict[str, str] = {"ridge": "ridge", "bayes": "Bayesian"}
#: A channel whose true response the baseline explains beyond this R^2 is called
#: weakly identified in the conclusion.
WEAK_R2 = 0.6


@dataclass(frozen=True)
class DemoOutcome:
    """Where the demo wrote everything, and the headline numbers.

    ``recovery`` has one row per channel and engine; ``comparison`` is the
    ``comparison.json`` document (per engine metrics, per channel figures and the
    conclusion).
    """

    out: Path
    files: dict[str, Path]
    recovery: pd.DataFrame
    comparison: dict[str, Any]
    plans: dict[str, dict[str, Any]]

    @property
    def conclusion(self) -> str:
        """The one sentence a user should take away."""
        return str(self.comparison["conclusion"])


def engine_metrics(recovery: pd.DataFrame) -> dict[str, Any]:
    """Contribution error, ROI error and coverage of one engine's recovery rows.

    Parameters
    ----------
    recovery : DataFrame
        One row per channel with ``true_contribution``, ``estimated_contribution``,
        ``true_roi``, ``estimated_roi``, ``roi_low`` and ``roi_high`` (NaN when the
        engine gives no interval).

    Returns
    -------
    dict
        ``contribution_error`` (sum |est - true| / sum true), ``roi_error`` (mean of
        |est - true| / true), ``covered`` (true ROIs inside the interval) and
        ``channels``.

    Examples
    --------
    >>> rows = pd.DataFrame({"true_contribution": [100.0, 50.0],
    ...     "estimated_contribution": [80.0, 60.0], "true_roi": [2.0, 1.0],
    ...     "estimated_roi": [1.6, 1.2], "roi_low": [1.0, 1.1], "roi_high": [2.5, 1.5]})
    >>> m = engine_metrics(rows)
    >>> round(m["contribution_error"], 3), round(m["roi_error"], 3), m["covered"]
    (0.2, 0.2, 1)
    """
    true_c = recovery["true_contribution"].to_numpy(float)
    est_c = recovery["estimated_contribution"].to_numpy(float)
    true_r = recovery["true_roi"].to_numpy(float)
    est_r = recovery["estimated_roi"].to_numpy(float)
    low = recovery["roi_low"].to_numpy(float)
    high = recovery["roi_high"].to_numpy(float)
    covered = int(np.sum((low <= true_r) & (true_r <= high)))
    return {
        "contribution_error": float(np.abs(est_c - true_c).sum() / true_c.sum()),
        "roi_error": float(np.mean(np.abs(est_r - true_r) / true_r)),
        "covered": covered,
        "channels": len(recovery),
    }


def _pct(x: float) -> str:
    return f"{x:.0%}"


def conclusion(comparison: Mapping[str, Any]) -> str:
    """One sentence a user should conclude, built from the comparison's numbers.

    It says whether the recommended plans can be acted on (their uplift in truth),
    whether the ROI point estimates can (the contribution error), which engine's
    intervals held the truth, and names the weakly identified channels with the
    reason (their response moves with trend and seasonality).

    Examples
    --------
    >>> comp = {"engines": {
    ...   "ridge": {"contribution_error": 0.6, "covered": 1, "channels": 4,
    ...             "plan_uplift_in_truth": 0.02},
    ...   "bayes": {"contribution_error": 0.5, "covered": 4, "channels": 4,
    ...             "plan_uplift_in_truth": 0.03}},
    ...  "best_uplift_in_truth": 0.04,
    ...  "channels": [{"channel": "tv", "baseline_r2": 0.7, "true_roi": 3.9}]}
    >>> print(conclusion(comp))  # doctest: +NORMALIZE_WHITESPACE
    Act on the direction of the plans, not on the point ROIs: both recommended
    plans raise the KPI in truth (ridge +2.0%, Bayesian +3.0% of a possible +4.0%),
    but contributions are off by 60% (ridge) and 50% (Bayesian), and only the
    Bayesian 90% intervals hold every true ROI; tv is weakly identified (70% of its
    response moves with trend and seasonality), so test it before betting on its
    ROI.
    """
    engines = comparison["engines"]
    names = list(engines)
    labels = [ENGINE_LABELS.get(n, n) for n in names]
    ups = [float(engines[n]["plan_uplift_in_truth"]) for n in names]
    errs = [float(engines[n]["contribution_error"]) for n in names]
    best = float(comparison["best_uplift_in_truth"])
    good_plans = [u > 0 for u in ups]
    accurate = max(errs) <= 0.2
    plans_txt = ", ".join(f"{lab} {u:+.1%}" for lab, u in zip(labels, ups, strict=True))
    if all(good_plans):
        plan_clause = (
            f"{'both' if len(names) == 2 else 'all'} recommended plans raise the KPI in "
            f"truth ({plans_txt} of a possible {best:+.1%})"
        )
    elif any(good_plans):
        losers = [lab for lab, ok in zip(labels, good_plans, strict=True) if not ok]
        plan_clause = (
            f"only some recommended plans raise the KPI in truth ({plans_txt} of a possible "
            f"{best:+.1%}; the {' and '.join(losers)} plan does not)"
        )
    else:
        plan_clause = (
            f"no recommended plan raises the KPI in truth ({plans_txt} of a possible {best:+.1%})"
        )
    err_txt = " and ".join(f"{_pct(e)} ({lab})" for lab, e in zip(labels, errs, strict=True))
    full = [
        lab
        for n, lab in zip(names, labels, strict=True)
        if engines[n]["covered"] == engines[n]["channels"]
    ]
    if len(full) == len(names):
        cover_clause = "every engine's 90% intervals hold every true ROI"
    elif full:
        cover_clause = f"only the {' and '.join(full)} 90% intervals hold every true ROI"
    else:
        cover_clause = "no engine's 90% intervals hold every true ROI"
    weak = [
        c
        for c in comparison.get("channels", [])
        if c.get("baseline_r2") is not None and c["baseline_r2"] >= WEAK_R2
    ]
    weak_clause = ""
    if weak:
        names_w = " and ".join(str(c["channel"]) for c in weak)
        r2s = ", ".join(_pct(float(c["baseline_r2"])) for c in weak)
        weak_clause = (
            f"; {names_w} {'is' if len(weak) == 1 else 'are'} weakly identified ({r2s} of "
            f"{'its' if len(weak) == 1 else 'their'} response moves with trend and "
            f"seasonality), so test {'it' if len(weak) == 1 else 'them'} before betting on "
            f"{'its' if len(weak) == 1 else 'their'} ROI"
        )
    if accurate and all(good_plans):
        head = "Act on these estimates and plans"
        mid = f"contributions are within {_pct(max(errs))} of the truth"
    elif all(good_plans):
        head = "Act on the direction of the plans, not on the point ROIs"
        mid = f"but contributions are off by {err_txt}"
    else:
        head = "Do not act on these plans or point ROIs without an experiment"
        mid = f"and contributions are off by {err_txt}"
    return f"{head}: {plan_clause}, {mid}, and {cover_clause}{weak_clause}."


def _baseline_r2(features: np.ndarray, response: np.ndarray) -> float | None:
    """R^2 of ``response`` (T,) regressed on an intercept and ``features`` (T, K)."""
    if np.std(response) == 0:
        return None
    X = np.column_stack([np.ones(len(response)), features])
    coef, *_ = np.linalg.lstsq(X, response, rcond=None)
    resid = response - X @ coef
    return float(1.0 - resid.var() / response.var())


def _interval(est: Mapping[str, Any]) -> tuple[float, float]:
    interval = est.get("roi_interval")
    if not interval:
        return (math.nan, math.nan)
    return (float(interval[0]), float(interval[1]))


def run_demo(  # noqa: PLR0915 -- one straight story: synth, fit both engines, plan, judge, write
    out: str | Path,
    *,
    seed: int = 7,
    weeks: int = 156,
    channels: int = 4,
    step: Step | None = None,
    sampler: Mapping[str, Any] | None = None,
) -> DemoOutcome:
    """Run the whole platform on synthetic data with known truth, with both engines.

    Writes into ``out``: ``data/`` (CSV, spec, truth), ``ridge/`` and ``bayes/``
    (summary, decomposition, model, ``plan.json``), ``recovery.csv`` (per channel and
    engine: true vs estimated ROI with the 90% interval and contribution),
    ``comparison.json`` (the metrics of the module docstring per engine, per channel
    figures and the conclusion), ``report.html`` (the ridge model's report),
    ``report-bayes.html`` and ``README.txt``.

    ``sampler`` overrides :data:`DEMO_SAMPLER` (e.g. a compilation cache).
    """
    from mediamix.data.synthetic import true_plan_response
    from mediamix.models.design import baseline_features
    from mediamix.models.response import FittedResponse, planning_response
    from mediamix.models.result import ChannelFit
    from mediamix.optimization.risk import risk_adjusted_plan
    from mediamix.optimization.solver import SpendReference, optimize_budget

    def say(message: str) -> None:
        if step:
            step(message)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say("synthesizing data with known truth")
    spec_path, synth = write_synth(
        out / "data", SynthConfig(seed=seed, weeks=weeks, channels=channels)
    )
    truth = synth.truth
    say("validating")
    _, report = validate_spec(spec_path)
    say(f"validated: {len(report.errors)} errors, {len(report.warnings)} warnings")

    outcomes = {}
    seconds = {}
    say("fitting the ridge model")
    start = time.perf_counter()
    outcomes["ridge"] = fit(spec_path, out / "ridge", {"seed": seed})
    seconds["ridge"] = time.perf_counter() - start
    say("fitting the Bayesian model (NUTS)")
    start = time.perf_counter()
    outcomes["bayes"] = fit(
        spec_path,
        out / "bayes",
        {"engine": "bayes", "seed": seed, "sampler": {**DEMO_SAMPLER, **dict(sampler or {})}},
    )
    seconds["bayes"] = time.perf_counter() - start

    say("optimizing each engine's budget (same total, each channel 0.5x-2x of current)")
    first = outcomes["ridge"].result
    history = first.data.spend[0]
    names = list(first.channel_names)
    current = {c: float(v) for c, v in zip(names, history.sum(axis=0), strict=True)}
    budget = float(sum(current.values()))
    reference = SpendReference(current, {c: (0.5 * v, 2.0 * v) for c, v in current.items()})
    kpi_total = max(float(first.actual.sum()), 1e-12)
    true_current = true_plan_response(truth, history, current)

    # the best any model could do under the same bounds: the plan optimized on the truth
    true_model = FittedResponse.from_parts(
        {
            c: ChannelFit(
                adstock=truth["channels"][c]["adstock"],
                saturation=truth["channels"][c]["saturation"],
                beta=float(truth["channels"][c]["beta"]),
            )
            for c in names
        },
        history,
    )
    best = optimize_budget(true_model, budget, reference=reference).to_dict()
    best_uplift = (
        true_plan_response(truth, history, {c: best["channels"][c]["spend"] for c in names})
        - true_current
    ) / kpi_total

    plans: dict[str, dict[str, Any]] = {}
    uplift: dict[str, float] = {}
    for engine, outcome in outcomes.items():
        response = planning_response(outcome.result)
        optimized = optimize_budget(response, budget, reference=reference)
        # recommend only what the model's own uncertainty supports (see optimization.risk)
        plan = risk_adjusted_plan(response, optimized, current).to_dict()
        atomic_write_json(out / engine / "plan.json", plan)
        plans[engine] = plan
        spent = {c: plan["channels"][c]["spend"] for c in names}
        uplift[engine] = (true_plan_response(truth, history, spent) - true_current) / kpi_total

    # how much of each channel's true response the baseline features explain
    features = baseline_features(first.design, first.data)
    r2 = {}
    for c, name in enumerate(names):
        info = truth["channels"][name]
        fit_c = ChannelFit(adstock=info["adstock"], saturation=info["saturation"], beta=1.0)
        r2[name] = _baseline_r2(features, fit_c.response(history[:, c]))

    rows = []
    for engine, outcome in outcomes.items():
        for name in names:
            est = outcome.summary["channels"][name]
            true = truth["channels"][name]
            low, high = _interval(est)
            rows.append(
                {
                    "engine": engine,
                    "channel": name,
                    "spend": float(est["spend"]),
                    "true_roi": float(true["roi"]),
                    "estimated_roi": float(est["roi"]),
                    "roi_low": low,
                    "roi_high": high,
                    "covered": bool(low <= true["roi"] <= high),
                    "true_contribution": float(true["contribution"]),
                    "estimated_contribution": float(est["contribution"]),
                    "baseline_r2": r2[name],
                }
            )
    recovery = pd.DataFrame(rows)
    write_csv(recovery, out / "recovery.csv")

    engines_doc: dict[str, Any] = {}
    for engine in outcomes:
        part = recovery[recovery["engine"] == engine]
        engines_doc[engine] = {
            **engine_metrics(part),
            "plan_uplift_in_truth": float(uplift[engine]),
            "plan_status": plans[engine].get("status"),
            "fit_seconds": seconds[engine],
        }
    comparison: dict[str, Any] = {
        "schema_version": 1,
        "seed": seed,
        "definitions": {
            "contribution_error": "sum_c |est_c - true_c| / sum_c true_c over contributions",
            "roi_error": "mean over channels of |est_roi - true_roi| / true_roi",
            "covered": "channels whose true ROI lies inside the engine's 90% interval",
            "plan_uplift_in_truth": (
                "(true response of the recommended plan - true response of the "
                "historical mix) / sum of the KPI, same budget, each channel 0.5x-2x"
            ),
            "best_uplift_in_truth": "the same for the plan optimized on the true curves",
            "fit_seconds": "wall-clock seconds of each engine's fit, writing its files included",
            "baseline_r2": (
                "R^2 of the channel's true media response regressed on the baseline "
                "features (trend, seasonality, events, controls)"
            ),
        },
        "engines": engines_doc,
        "best_uplift_in_truth": float(best_uplift),
        "channels": [
            {
                "channel": name,
                "true_roi": float(truth["channels"][name]["roi"]),
                "baseline_r2": r2[name],
                **{
                    f"{engine}_roi": float(outcomes[engine].summary["channels"][name]["roi"])
                    for engine in outcomes
                },
            }
            for name in names
        ],
    }
    comparison["conclusion"] = conclusion(comparison)
    atomic_write_json(out / "comparison.json", comparison)

    say("writing the reports")
    write_report(out / "ridge", out / "report.html", plan=plans["ridge"])
    write_report(out / "bayes", out / "report-bayes.html", plan=plans["bayes"])
    atomic_write_text(out / "README.txt", _readme(comparison, recovery))
    files = {
        "data": out / "data" / "synth.csv",
        "spec": spec_path,
        "truth": out / "data" / "truth.json",
        "ridge": out / "ridge",
        "bayes": out / "bayes",
        "recovery": out / "recovery.csv",
        "comparison": out / "comparison.json",
        "report": out / "report.html",
        "report_bayes": out / "report-bayes.html",
    }
    return DemoOutcome(out=out, files=files, recovery=recovery, comparison=comparison, plans=plans)


def comparison_lines(comparison: Mapping[str, Any]) -> list[str]:
    """The side-by-side table of engines as plain text lines (README and logs)."""
    engines = comparison["engines"]
    lines = [
        f"{'engine':<10}{'contribution error':>20}{'ROI error':>11}{'true ROI in 90%':>17}"
        f"{'plan uplift in truth':>22}",
    ]
    for engine, m in engines.items():
        lines.append(
            f"{ENGINE_LABELS.get(engine, engine):<10}{m['contribution_error']:>20.1%}"
            f"{m['roi_error']:>11.1%}{m['covered']:>12d} of {m['channels']}"
            f"{m['plan_uplift_in_truth']:>+22.2%}"
        )
    lines.append(
        f"{'truth':<10}{'':>20}{'':>11}{'':>17}{comparison['best_uplift_in_truth']:>+22.2%}"
        "  (plan optimized on the true curves)"
    )
    return lines


def _readme(comparison: Mapping[str, Any], recovery: pd.DataFrame) -> str:
    per_channel = [
        f"{'channel':<10}{'engine':<10}{'true ROI':>9}{'estimated':>11}{'90% interval':>16}"
        f"{'baseline R^2':>14}"
    ]
    for row in recovery.to_dict("records"):
        per_channel.append(
            f"{row['channel']!s:<10}{ENGINE_LABELS.get(str(row['engine']), '?'):<10}"
            f"{row['true_roi']:>9.2f}{row['estimated_roi']:>11.2f}"
            f"{row['roi_low']:>8.2f}-{row['roi_high']:<7.2f}"
            + ("-".rjust(14) if row["baseline_r2"] is None else f"{row['baseline_r2']:>14.2f}")
        )
    return "\n".join(
        [
            "mediamix demo output",
            "",
            "data/              synthetic weekly data (synth.csv), its spec and the true parameters",
            "ridge/, bayes/     each engine's summary.json, decomposition.csv, model/ and plan.json",
            "recovery.csv       per channel and engine: true vs estimated ROI, 90% interval, "
            "contribution",
            "comparison.json    the table below, its definitions and the conclusion",
            "report.html        the executive report of the ridge model (opens offline)",
            "report-bayes.html  the same for the Bayesian model",
            "",
            "Both engines against the known truth:",
            "",
            *comparison_lines(comparison),
            "",
            *per_channel,
            "",
            str(comparison["conclusion"]),
            "",
            "Why a channel can be off: docs/demo-truth.md in the repository.",
            "",
        ]
    )
