"""Benchmark of the Bayesian engine: speed, convergence and accuracy against known truth.

Runs, on synthetic data from :func:`mediamix.data.synthetic.synthesize`:

1. ``timing``: one 156-week x 4-channel dataset (seed 0), NUTS with the given chains,
   warmup and draws: wall-clock fit time, max R-hat, min bulk/tail ESS, divergences.
2. ``accuracy``: ``--seeds`` datasets of varied shape, the same as the ridge engine's
   recovery benchmark (``ridge_bench.synth_config``: 104-208 weeks, 3-8 channels, 2-6%
   noise, media 15-40% of the KPI; carry-over cycles through geometric, Weibull PDF and
   delayed-peak). Headline, per dataset, the contribution error of issue 4::

       error = sum_c |estimated_c - true_c| / sum_c true_c

   over channel contributions (estimated = posterior mean, and the point model), with
   its median and mean over datasets; as detail, per channel the relative error and
   whether the true ROI lies in the 90% ``roi_interval``.
3. ``meridian`` (optional): time on Google Meridian's simulated 40-geo x 156-week
   dataset summed to national, and with ``--meridian-geo-svi`` the experimental geo
   model fitted by SVI (no published truth, so no accuracy figure).

Writes a markdown report (``--out``, default ``benchmarks/results/bayes.md``) with
the command line, machine and versions. Usage::

    .venv/bin/python benchmarks/bayes_bench.py --seeds 10 --chains 2 --warmup 1000 --draws 1000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.data.validation import build_dataset
from mediamix.models.bayes.fit import BayesOptions, fit_bayes

# the script's directory is on sys.path: the accuracy datasets are the ridge recovery's
from ridge_bench import synth_config

HERE = Path(__file__).resolve().parent
MERIDIAN_CSV = HERE.parent / "datasets" / "meridian-simulated" / "geo_all_channels.csv"


def contribution_error(estimated, true) -> float:
    """Issue 4's contribution error of one dataset.

    ``sum_c |estimated_c - true_c| / sum_c true_c`` over the channels' total
    contributions (KPI units): a dataset-level error in which each channel counts in
    proportion to its true contribution.

    >>> contribution_error([1.5, 2.0], [1.0, 3.0])
    0.375
    """
    est = np.asarray(estimated, dtype=float)
    tru = np.asarray(true, dtype=float)
    return float(np.abs(est - tru).sum() / tru.sum())


def _synth(config: SynthConfig):
    syn = synthesize(config)
    spec = ModelSpec.model_validate(syn.spec)
    data, _ = build_dataset(syn.frame, spec, source=f"synth seed {config.seed}")
    return data, spec, syn


def _fit(data, spec, args, seed: int):
    options = BayesOptions(
        seed=seed,
        chains=args.chains,
        warmup=args.warmup,
        draws=args.draws,
        method=args.method,
        adstock=args.adstock,
        saturation=args.saturation,
        target_accept=args.target_accept,
        dense_mass=args.mass == "dense",
        media_share=args.media_share,
        roi_sigma=args.roi_sigma,
        compile_cache=args.compile_cache,
    )
    started = time.perf_counter()
    res = fit_bayes(data, spec, options)
    return res, time.perf_counter() - started


def _diag(res) -> dict:
    d = res.info["diagnostics"]
    return {k: d.get(k) for k in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences")}


def timing(args) -> dict:
    """The timing fit twice: in this process with an empty compilation cache (cold, the
    first fit on a machine), then in a fresh process that finds the first one's compiled
    sampler in the cache (warm, every later fit of the same shapes)."""
    import subprocess
    import tempfile

    data, spec, syn = _synth(SynthConfig(seed=0, weeks=args.weeks, channels=args.channels))
    truth = syn.truth
    # an empty cache for this run (the rest of the process keeps using it)
    args.compile_cache = tempfile.mkdtemp(prefix="bayes-bench-jax-")
    res, seconds = _fit(data, spec, args, 0)
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *_warm_args(args)],
        capture_output=True,
        text=True,
        check=False,
    )
    warm = [x for x in proc.stdout.splitlines() if x.startswith("WARM ")]
    if not warm:
        raise RuntimeError(f"warm timing run failed:\n{proc.stderr[-3000:]}")
    d = _diag(res)
    true = np.array([truth["channels"][ch]["contribution"] for ch in res.channel_names])
    return {
        "seconds": seconds,
        "seconds_warm": float(warm[-1].split()[1]),
        **d,
        "contribution_error": contribution_error(res.contributions(), true),
        "mean_estimate_contribution_error": contribution_error(
            res.draws["contribution"].mean(axis=0), true
        ),
        "worst": _worst(res),
    }


def _warm_args(args) -> list[str]:
    return [
        "--warm-timing",
        *("--weeks", str(args.weeks), "--channels", str(args.channels)),
        *("--chains", str(args.chains), "--warmup", str(args.warmup)),
        *("--draws", str(args.draws), "--method", args.method),
        *("--adstock", args.adstock, "--saturation", args.saturation),
        *("--target-accept", str(args.target_accept), "--mass", args.mass),
        *("--media-share", str(args.media_share), "--roi-sigma", str(args.roi_sigma)),
        *("--compile-cache", args.compile_cache),
    ]


def _worst(res) -> list[str]:
    table = res.info["diagnostics"].get("parameters") or []
    rows = sorted(table, key=lambda r: -(r["rhat"] if np.isfinite(r["rhat"]) else 0))[:3]
    return [f"{r['parameter']}: R-hat {r['rhat']:.3f}, ESS bulk {r['ess_bulk']:.0f}" for r in rows]


def accuracy(args) -> dict:
    """Per dataset, the contribution error of the reported estimate (summary.json: the
    posterior median) and of the posterior mean; with ``--pymc-python``, PyMC-Marketing
    fitted on the same dataset in the same loop."""
    rows = []
    datasets = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        cfg = synth_config(seed)
        data, spec, syn = _synth(cfg)
        truth = syn.truth
        res, seconds = _fit(data, spec, args, seed)
        peer = _pymc_or_failure(syn, args) if args.pymc_python else {}
        d = _diag(res)
        reported = res.contributions()
        mean = res.draws["contribution"].mean(axis=0)
        true = np.array([truth["channels"][ch]["contribution"] for ch in res.channel_names])
        mine = []
        for c, ch in enumerate(res.channel_names):
            t = truth["channels"][ch]
            lo, hi = res.roi_interval[ch] or (np.nan, np.nan)
            mine.append(
                {
                    "seed": seed,
                    "channel": ch,
                    "kind": t["adstock"]["type"] + "/" + t["saturation"]["type"],
                    "true_contribution": t["contribution"],
                    "reported_contribution": float(reported[c]),
                    "posterior_mean_contribution": float(mean[c]),
                    "rel_error": abs(float(reported[c]) - t["contribution"]) / t["contribution"],
                    "true_roi": t["roi"],
                    "roi_lo": lo,
                    "roi_hi": hi,
                    "covered": bool(lo <= t["roi"] <= hi),
                    "pymc_contribution": (peer.get("contribution") or [None] * len(true))[c],
                }
            )
        rows += mine
        datasets.append(
            {
                "seed": seed,
                "weeks": cfg.weeks,
                "channels": cfg.channels,
                "noise": cfg.noise,
                "media_share": cfg.media_share,
                "contribution_error": contribution_error(reported, true),
                "mean_estimate_contribution_error": contribution_error(mean, true),
                "covered": sum(r["covered"] for r in mine),
                "seconds": seconds,
                **d,
                **{f"pymc_{k}": v for k, v in peer.items() if not k.endswith("contribution")},
            }
        )
        print(
            f"seed {seed} ({cfg.weeks} weeks x {cfg.channels} channels): {seconds:.1f}s, "
            f"max R-hat {d['max_rhat']}, divergences {d['divergences']}, contribution error "
            f"{datasets[-1]['contribution_error']:.3f} (posterior mean "
            f"{datasets[-1]['mean_estimate_contribution_error']:.3f}); PyMC-Marketing "
            f"{peer.get('contribution_error', peer.get('failed', 'not run'))}",
            file=sys.stderr,
            flush=True,
        )
    covered = np.array([r["covered"] for r in rows])
    return {
        "first_seed": args.first_seed,
        "n_datasets": args.seeds,
        "n_channels": len(rows),
        "coverage_90": float(covered.mean()),
        "median_channel_rel_error": float(np.median([r["rel_error"] for r in rows])),
        "datasets": datasets,
        "rows": rows,
    }


def _error_stats(datasets: list[dict], key: str) -> tuple[int, float, float, float]:
    """(count, median, mean, max) of a per-dataset error over the datasets that have it."""
    e = np.array([x[key] for x in datasets if x.get(key) is not None])
    if not e.size:
        return 0, np.nan, np.nan, np.nan
    return e.size, float(np.median(e)), float(np.mean(e)), float(np.max(e))


def meridian(args) -> dict:
    import pandas as pd

    frame = pd.read_csv(MERIDIAN_CSV).drop(columns=["Unnamed: 0"])
    spec = ModelSpec.model_validate(
        {
            "data": str(MERIDIAN_CSV),
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
    data, _ = build_dataset(frame, spec, source=str(MERIDIAN_CSV))
    out: dict = {}
    if args.meridian_geo_svi:
        started = time.perf_counter()
        geo = fit_bayes(
            data, spec, BayesOptions(method="svi", geo_hierarchy=True, draws=1000, seed=0)
        )
        out["geo_svi_seconds"] = time.perf_counter() - started
        out["geo_svi_ppc_coverage_90"] = geo.info["diagnostics"]["ppc"]["coverage_90"]
        out["geo_svi_national_r2"] = geo.metrics()["r2"]
        print(f"meridian geo svi: {out}", file=sys.stderr, flush=True)
    res, seconds = _fit(data, spec, args, 0)
    return {
        **out,
        "seconds": seconds,
        **_diag(res),
        "geos": int(res.info["geos"]),
        "chain_method": res.info["chain_method"],
        "national_r2": res.metrics()["r2"],
        "ppc_coverage_90": res.info["diagnostics"]["ppc"]["coverage_90"],
        "notes": res.info["notes"],
    }


_PYMC_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np, pandas as pd
warnings.filterwarnings("ignore")
import arviz as az
from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation
cfg = json.loads(sys.argv[1])
frame = pd.read_csv(cfg["csv"], parse_dates=["date"])
mmm = MMM(date_column="date", channel_columns=cfg["channels"], control_columns=cfg["controls"],
          adstock=GeometricAdstock(l_max=cfg["l_max"]), saturation=LogisticSaturation(),
          yearly_seasonality=2)
X = frame.drop(columns=[cfg["kpi"]])
y = frame[cfg["kpi"]]
kwargs = dict(chains=cfg["chains"], draws=cfg["draws"], tune=cfg["warmup"], random_seed=0,
              progressbar=False)
if cfg["sampler"] != "pymc":
    kwargs["nuts_sampler"] = cfg["sampler"]
started = time.perf_counter()
idata = mmm.fit(X, y, **kwargs)
seconds = time.perf_counter() - started
summary = az.summary(idata, var_names=["~channel_contribution", "~mu", "~yearly_seasonality_contribution", "~control_contribution"], filter_vars="like")
out = {"seconds": seconds, "max_rhat": float(summary["r_hat"].max()),
       "min_ess_bulk": float(summary["ess_bulk"].min()),
       "divergences": int(idata.sample_stats["diverging"].sum())}
try:
    contrib = mmm.compute_channel_contribution_original_scale()
    totals = contrib.sum("date")
    out["contribution"] = totals.mean(("chain", "draw")).values.tolist()
    out["median_contribution"] = totals.median(("chain", "draw")).values.tolist()
except Exception as exc:  # reporting only
    out["contribution_error"] = repr(exc)
print("RESULT " + json.dumps(out))
"""


LOAD_AT_START = os.getloadavg()[0]
PYMC_L_MAX = 8  # issue 4's setting for the peer: GeometricAdstock(l_max=8)


def pymc_fit(syn, args, env: dict | None = None) -> dict:
    """Fit PyMC-Marketing's MMM (geometric + logistic) on one synthetic dataset, own venv.

    Returns its fit time, diagnostics, per-channel contributions (spec order) and the
    contribution error against ``syn.truth``.
    """
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "synth.csv"
        syn.frame.to_csv(csv, index=False)
        cfg = {
            "csv": str(csv),
            "kpi": syn.spec["kpi"],
            "channels": [c["spend"] for c in syn.spec["channels"].values()],
            "controls": list(syn.spec.get("controls", [])) + list(syn.spec.get("events", [])),
            "chains": args.chains,
            "warmup": args.warmup,
            "draws": args.draws,
            "l_max": PYMC_L_MAX,
            "sampler": args.pymc_sampler,
        }
        proc = subprocess.run(
            [args.pymc_python, "-c", _PYMC_SCRIPT, json.dumps(cfg)],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if not line:
        raise RuntimeError(f"PyMC-Marketing run failed:\n{proc.stderr[-3000:]}")
    out = json.loads(line[-1][len("RESULT ") :])
    out["sampler"] = args.pymc_sampler
    if "contribution" in out:
        true = [syn.truth["channels"][ch]["contribution"] for ch in syn.spec["channels"]]
        out["contribution_error"] = contribution_error(out["contribution"], true)
        out["median_contribution_error"] = contribution_error(out["median_contribution"], true)
    return out


def _pymc_or_failure(syn, args) -> dict:
    try:
        return pymc_fit(syn, args)
    except Exception as exc:  # a failed peer fit is reported, not fatal
        return {"failed": repr(exc)[-500:]}


def pymc_marketing(args) -> dict:
    """PyMC-Marketing on the timing dataset (seed 0), three times in fresh processes:

    1. cold: empty PyTensor compile directory and empty jax persistent cache;
    2. warm as shipped: PyTensor's compiled modules from run 1, no jax persistent cache
       (PyMC-Marketing does not turn it on);
    3. warm with jax's persistent cache as well (filled by run 1), which mediamix turns
       on by default: the most favourable setting for PyMC-Marketing.
    """
    import tempfile

    syn = synthesize(SynthConfig(seed=0, weeks=args.weeks, channels=args.channels))
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp}/pytensor"}
        env.pop("JAX_COMPILATION_CACHE_DIR", None)
        jax_cache = {
            "JAX_COMPILATION_CACHE_DIR": f"{tmp}/jax",
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        }
        cold = pymc_fit(syn, args, {**env, **jax_cache})
        warm = pymc_fit(syn, args, env)
        warm_jax = pymc_fit(syn, args, {**env, **jax_cache})
    return {**cold, "seconds_warm": warm["seconds"], "seconds_warm_jax_cache": warm_jax["seconds"]}


def _machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import jax
    import numpyro

    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, jax {jax.__version__}, numpyro {numpyro.__version__}"
    )


_PEER_SETUP = (
    "PyMC-Marketing 0.19.2 in a separate venv; `MMM(GeometricAdstock(l_max={l_max}), "
    "LogisticSaturation(), yearly_seasonality=2)`, controls and events as control columns, "
    "{args.chains} chains x {args.warmup} tune + {args.draws} draws, sampler `{sampler}`."
)


def _fmt(x: object, spec: str = ".3f") -> str:
    return "n/a" if x is None else format(x, spec)


def report(args, results: dict) -> str:
    lines = [
        "# Bayesian engine benchmark",
        "",
        f"- Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`",
        f"- Machine: {_machine()}; load average over the minute before the run: "
        f"{LOAD_AT_START:.2f} (about 0 on an idle machine; higher means the times are "
        "upper bounds).",
        f"- Date (UTC): {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}",
        f"- Model: {args.adstock} adstock (l_max 13, normalized) + {args.saturation} "
        f"saturation, default ROI priors (media share {args.media_share}, log-sd "
        f"{args.roi_sigma}), Normal likelihood, NUTS (target accept "
        f"{args.target_accept}) "
        f"{args.chains} chain(s) x {args.warmup} warmup + {args.draws} draws, {args.mass} "
        "mass matrix.",
        f"- Data: timing on `synthesize(SynthConfig(seed=0, weeks={args.weeks}, "
        f"channels={args.channels}))` (noise 4% of the mean KPI); accuracy on "
        "`synthesize(ridge_bench.synth_config(seed))`, the ridge engine's recovery datasets: "
        "104-208 weeks, 3-8 channels, noise 2-6% of the mean KPI, media 15-40% of the KPI. "
        "Channels cycle through geometric, Weibull-PDF and delayed-peak carry-over and Hill "
        "or logistic saturation.",
        "- Contribution error of a dataset (issue 4): sum over channels of |estimated - true "
        "contribution| / sum of true contributions. Reports before 2026-11-27 08:00 UTC gave "
        "instead the median over all (dataset, channel) pairs of per-channel relative "
        "errors, on 156-week x 4-channel datasets only.",
        "",
    ]
    if "timing" in results:
        t = results["timing"]
        lines += [
            f"## Timing ({args.weeks} weeks x {args.channels} channels, seed 0)",
            "",
            "| fit time, cold cache (s) | warm cache (s) | max R-hat | min ESS bulk "
            "| min ESS tail | divergences |",
            "|---|---|---|---|---|---|",
            f"| {t['seconds']:.1f} | {_fmt(t.get('seconds_warm'), '.1f')} | "
            f"{_fmt(t['max_rhat'])} | {_fmt(t['min_ess_bulk'], '.0f')} "
            f"| {_fmt(t['min_ess_tail'], '.0f')} | {t['divergences']} |",
            "",
            "Worst parameters: " + "; ".join(t["worst"]),
            "",
            "Fit time includes JIT compilation and the posterior summaries. Cold: the "
            "first fit, with an empty compilation cache (compiling is a large share of it); warm: "
            "the same fit in a fresh process that loads the compiled programs from the "
            "cache (`BayesOptions.compile_cache`; `mediamix fit` keeps one under `$MEDIAMIX_HOME/cache/jax`), as every later fit of the same shapes does.",
            "",
        ]
    if "accuracy" in results:
        a = results["accuracy"]
        first, last = a["first_seed"], a["first_seed"] + a["n_datasets"] - 1
        ds = a["datasets"]
        estimates = [
            ("mediamix, reported (summary.json: posterior median)", "contribution_error"),
            ("mediamix, posterior mean", "mean_estimate_contribution_error"),
            ("PyMC-Marketing, posterior mean", "pymc_contribution_error"),
            ("PyMC-Marketing, posterior median", "pymc_median_contribution_error"),
        ]
        lines += [
            f"## Accuracy over {a['n_datasets']} synthetic datasets (seeds {first}-{last}, "
            f"{a['n_channels']} channels)",
            "",
            "Contribution error per dataset (issue 4's definition), over datasets"
            + (
                " (PyMC-Marketing fitted on each dataset in the same loop: "
                + _PEER_SETUP.format(args=args, sampler=args.pymc_sampler, l_max=PYMC_L_MAX)
                + ")"
                if any("pymc_contribution_error" in x for x in ds)
                else ""
            )
            + ":",
            "",
            "| estimate | datasets | median | mean | max |",
            "|---|---|---|---|---|",
        ]
        for i, (label, key) in enumerate(estimates):
            n, med, mean, worst = _error_stats(ds, key)
            shown = f"**{med:.1%}**" if i == 0 else f"{med:.1%}"
            if n:
                lines.append(f"| {label} | {n} | {shown} | {mean:.1%} | {worst:.1%} |")
        lines += [
            "",
            f"90% ROI intervals contain the true ROI for {a['coverage_90']:.0%} of the "
            f"{a['n_channels']} channels. (Median over (dataset, channel) pairs of the "
            f"per-channel relative error of the reported contribution: "
            f"{a['median_channel_rel_error']:.1%}.)",
            "",
            "| seed | weeks | channels | noise | media share | error (reported) "
            "| error (posterior mean) | ROI covered | fit s | max R-hat | divergences "
            "| PyMC-Marketing error (mean / median) | PyMC-Marketing fit s "
            "| PyMC-Marketing max R-hat | PyMC-Marketing divergences |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for x in ds:
            lines.append(
                f"| {x['seed']} | {x['weeks']} | {x['channels']} | {x['noise']:.3f} | "
                f"{x['media_share']:.2f} | {x['contribution_error']:.1%} | "
                f"{x['mean_estimate_contribution_error']:.1%} | {x['covered']}/{x['channels']} | "
                f"{x['seconds']:.0f} | {_fmt(x['max_rhat'])} | {x['divergences']} | "
                f"{_fmt(x.get('pymc_contribution_error'), '.1%')} / "
                f"{_fmt(x.get('pymc_median_contribution_error'), '.1%')} | "
                f"{_fmt(x.get('pymc_seconds'), '.0f')} | {_fmt(x.get('pymc_max_rhat'))} | "
                f"{x.get('pymc_divergences', 'n/a')} |"
            )
        lines += [
            "",
            "Per channel (detail):",
            "",
            "| seed | channel | carry-over / saturation | true contribution | reported "
            "| relative error | posterior mean | PyMC-Marketing (mean) | true ROI | 90% interval "
            "| covered |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in a["rows"]:
            lines.append(
                f"| {r['seed']} | {r['channel']} | {r['kind']} | {r['true_contribution']:.4g} | "
                f"{r['reported_contribution']:.4g} | {r['rel_error']:.1%} | "
                f"{r['posterior_mean_contribution']:.4g} | {_fmt(r['pymc_contribution'], '.4g')} | "
                f"{r['true_roi']:.3f} | [{r['roi_lo']:.3f}, {r['roi_hi']:.3f}] | "
                f"{'yes' if r['covered'] else 'no'} |"
            )
        lines.append("")
    if "pymc" in results and "failed" in results["pymc"]:
        lines += ["## PyMC-Marketing", "", f"Run failed: `{results['pymc']['failed']}`", ""]
    if "pymc" in results and "failed" not in results["pymc"]:
        p = results["pymc"]
        t = results.get("timing", {})

        def ratio(key: str) -> str:
            return f"{t[key] / p[key]:.2f}" if t.get(key) and p.get(key) else "n/a"

        lines += [
            f"## Side by side with PyMC-Marketing on the timing dataset ({args.weeks} weeks x "
            f"{args.channels} channels, seed 0), same run",
            "",
            _PEER_SETUP.format(args=args, sampler=p["sampler"], l_max=PYMC_L_MAX)
            + " Time is `mmm.fit` wall time (model build, compilation and sampling), as "
            "ours is `fit_bayes` wall time. Cold: the first fit with empty compilation "
            "caches (ours: jax's persistent cache, on by default; PyMC-Marketing: "
            "PyTensor's compiled modules, and jax's persistent cache, which it does not "
            "turn on by itself); warm: a later fit, in a fresh process, with the caches an "
            "earlier one filled (what every later fit of the same shapes costs), for "
            "PyMC-Marketing both as shipped and given jax's persistent cache too.",
            "",
            "| engine | fit time, cold (s) | fit time, warm (s) | max R-hat | min ESS bulk "
            "| divergences | contribution error, posterior mean / median |",
            "|---|---|---|---|---|---|---|",
            f"| PyMC-Marketing | {p['seconds']:.1f} | {_fmt(p.get('seconds_warm'), '.1f')} "
            f"as shipped; {_fmt(p.get('seconds_warm_jax_cache'), '.1f')} given jax's cache | "
            f"{_fmt(p['max_rhat'])} | {_fmt(p['min_ess_bulk'], '.0f')} | {p['divergences']} | "
            f"{_fmt(p.get('contribution_error'), '.1%')} / "
            f"{_fmt(p.get('median_contribution_error'), '.1%')} |",
            f"| mediamix bayes | {_fmt(t.get('seconds'), '.1f')} | "
            f"{_fmt(t.get('seconds_warm'), '.1f')} | {_fmt(t.get('max_rhat'))} | "
            f"{_fmt(t.get('min_ess_bulk'), '.0f')} | {t.get('divergences')} | "
            f"{_fmt(t.get('mean_estimate_contribution_error'), '.1%')} / "
            f"{_fmt(t.get('contribution_error'), '.1%')} (reported) |",
            "",
            f"Time ratio mediamix / PyMC-Marketing: {ratio('seconds')} cold, "
            f"{ratio('seconds_warm')} warm as shipped"
            + (
                f", {t['seconds_warm'] / p['seconds_warm_jax_cache']:.2f} warm with PyMC-Marketing "
                "given jax's persistent cache"
                if t.get("seconds_warm") and p.get("seconds_warm_jax_cache")
                else ""
            )
            + ". The models differ (their default geometric + "
            "logistic against our delayed-peak + Hill), so this compares the tools on the same "
            "data and sampler settings, not identical posteriors.",
            "",
        ]
    if "meridian" in results and "failed" in results["meridian"]:
        lines += ["## Meridian", "", f"Run failed: `{results['meridian']['failed']}`", ""]
    if "meridian" in results and "failed" not in results["meridian"]:
        m = results["meridian"]
        lines += [
            "## Meridian simulated geo dataset (40 geos x 156 weeks, no published truth)",
            "",
            "NUTS on the data summed to national (the default; the geo model is "
            "experimental), conversions KPI, 5 spend channels, controls "
            f"competitor_sales_control, sentiment_score_control and Promo, organic "
            f"Organic_channel0_impression; {args.chains} chains ({m['chain_method']}) x "
            f"{args.warmup} + {args.draws}. Fit time {m['seconds']:.1f} s, max R-hat "
            f"{_fmt(m['max_rhat'])}, min ESS bulk {_fmt(m['min_ess_bulk'], '.0f')}, "
            f"divergences {m['divergences']}, 90% predictive coverage "
            f"{_fmt(m['ppc_coverage_90'], '.2f')}, national-summary R2 "
            f"{_fmt(m['national_r2'], '.3f')}. "
            + (
                f"Geo model (40 geos, per-capita, geo intercepts and geo media effects "
                f"pooled toward national) with SVI (3000 steps, AutoNormal): "
                f"{m['geo_svi_seconds']:.1f} s, 90% predictive coverage "
                f"{m['geo_svi_ppc_coverage_90']:.2f}, national-summary R2 "
                f"{m['geo_svi_national_r2']:.3f}. "
                if "geo_svi_seconds" in m
                else ""
            )
            + " ".join(m["notes"]),
            "",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--method", default="nuts", choices=["nuts", "svi", "map"])
    parser.add_argument(
        "--adstock", default="delayed", choices=["delayed", "weibull_pdf", "geometric"]
    )
    parser.add_argument("--saturation", default="hill", choices=["hill", "logistic"])
    parser.add_argument("--skip", nargs="*", default=[], choices=["timing", "accuracy"])
    defaults = BayesOptions()
    # the national model's defaults (BayesOptions leaves None: chosen per model shape)
    parser.add_argument("--target-accept", type=float, default=0.95)
    parser.add_argument("--mass", choices=["diag", "dense"], default="diag")
    parser.add_argument("--media-share", type=float, default=defaults.media_share)
    parser.add_argument("--roi-sigma", type=float, default=defaults.roi_sigma)
    parser.add_argument("--meridian", action="store_true")
    parser.add_argument("--meridian-geo-svi", action="store_true")
    parser.add_argument("--pymc-python", default=None, help="python of a venv with pymc-marketing")
    parser.add_argument("--pymc-sampler", default="numpyro", choices=["pymc", "numpyro"])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "bayes.md")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--warm-timing", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--compile-cache", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warm_timing:  # the second, warm-cache half of timing(), in its own process
        data, spec, _ = _synth(SynthConfig(seed=0, weeks=args.weeks, channels=args.channels))
        print(f"WARM {_fit(data, spec, args, 0)[1]}", flush=True)
        return

    results: dict = {}

    def save() -> None:
        # after every stage, so a long last stage never loses the earlier figures
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report(args, results))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=float))

    if "timing" not in args.skip:
        results["timing"] = timing(args)
        print(f"timing: {results['timing']}", file=sys.stderr, flush=True)
        save()
    if args.pymc_python and "timing" not in args.skip:
        try:
            results["pymc"] = pymc_marketing(args)
        except Exception as exc:  # a failed side run must not lose the others
            results["pymc"] = {"failed": repr(exc)[-2000:]}
        print(f"pymc: {results['pymc']}", file=sys.stderr, flush=True)
        save()
    if "accuracy" not in args.skip and args.seeds > 0:
        results["accuracy"] = accuracy(args)
        save()
    if args.meridian:
        try:
            results["meridian"] = meridian(args)
        except Exception as exc:
            results["meridian"] = {"failed": repr(exc)[-2000:]}
        print(f"meridian: {results['meridian']}", file=sys.stderr, flush=True)
    save()
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
