r"""Fit the Bayesian MMM with NUTS (or SVI / MAP) and build an engine-agnostic FitResult.

The model and its priors are in :mod:`mediamix.models.bayes.model`. This module
scales the data, runs inference, and turns posterior draws into a
:class:`~mediamix.models.result.FitResult`:

- per-draw metrics, exact for each draw: ``contribution_c = beta_c * mean(kpi) *
  sum_t m_tc`` (KPI units), ``roi_c = contribution_c / spend_c``, ``mroi_c =
  (contribution_c(spend x 1.01) - contribution_c) / (0.01 spend_c)``; stored as
  ``draws["contribution"]``, ``draws["roi"]``, ``draws["mroi"]`` of shape (S, C);
- ``roi_interval``: the 5% and 95% quantiles of the ROI draws (revenue KPI);
- the point model of the result (what summary.json reports) gives each channel its
  posterior **median** contribution, the estimate that minimizes the expected absolute
  error: the posterior-median transform parameters, with each channel's coefficient
  (``beta``, KPI units) set so that its contribution over the data equals that median.
  ROI is contribution / spend, so the reported ROI is the posterior median ROI and
  always lies inside ``roi_interval``. The baseline keeps the posterior-mean
  coefficients; the intercept takes up the difference between the posterior mean and
  the median media total, so the point model's mean fitted KPI is the posterior mean.
  Skewed posteriors of weakly identified channels are why the median, not the mean:
  on the accuracy benchmark it moved the median contribution error from 22.9% to 20.9%
  on seeds 0-9 (mean 24.3% to 21.0%) and from 19.5% to 21.2% on seeds 10-19 (mean
  25.1% to 23.2%): lower on average, not on every dataset (benchmarks/results/bayes.md).

Units go back to the input's: ``half_saturation = K_scaled * mean(spend_c)``
(currency), logistic ``lam = lam_scaled / mean(spend_c)``, ``beta = beta_scaled *
mean(kpi)``. Adstocks are stored under their registry names, all normalized over a
window of ``l_max`` periods: ``delayed`` (default), ``weibull_pdf`` in PyMC-Marketing's
convention, and geometric as ``geometric_window``. All are linear in spend, so they
need no unit conversion.

Geo data is summed to national by default. With ``geo_hierarchy=True`` it is fitted
with the geo hierarchy of :mod:`mediamix.models.bayes.model` (per-capita scaling, geo
levels, geo media effects pooled toward the national effect); the result is still
national (the contract of :class:`FitResult`): draws of contribution, ROI and mROI are
summed over geos exactly per draw, and the point model is a national summary (see
``info["point_estimate"]``). Geo detail: ``draws["geo_contribution"]`` (S, G, C, KPI
units; sums over geos to ``draws["contribution"]``) and ``info["geo_names"]``.

A geo NUTS run keeps per draw only the sampled parameters (about ``G (C + 1)`` numbers):
the mean ``mu`` (G, T) for the predictive check is computed afterwards in chunks of 50
draws, and ``beta_geo`` from ``beta``, ``tau`` and ``eta``. The mass matrix is dense
over the shared parameters and diagonal over the per-geo ones (``eta``, ``geo_level``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mediamix.data.dataset import Dataset
from mediamix.data.spec import Frequency, ModelSpec
from mediamix.errors import InputError, Problem
from mediamix.models.bayes.diagnostics import convergence_table, convergence_warnings
from mediamix.models.bayes.model import (
    AdstockKind,
    Likelihood,
    MediaPrior,
    ModelInputs,
    SaturationKind,
    media_transform,
    mmm_model,
    prepare_inputs,
)
from mediamix.models.design import BaselineDesign, baseline_features
from mediamix.models.result import ChannelFit, FitResult

__all__ = ["BayesOptions", "fit_bayes"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Method = Literal["nuts", "svi", "map"]

_ADSTOCK_NAMES: dict[str, AdstockKind] = {
    "geometric": "geometric",
    "geometric_window": "geometric",
    "weibull_pdf": "weibull_pdf",
    "delayed": "delayed",
}
_SATURATION_NAMES: dict[str, SaturationKind] = {"hill": "hill", "logistic": "logistic"}
_LATENT_SKIP = {"mu", "beta_geo"}


@dataclass(frozen=True)
class BayesOptions:
    """Settings of the Bayesian engine.

    Attributes
    ----------
    seed : int
        Seeds the sampler; the same seed, data and options give the same draws.
    method : {"nuts", "svi", "map"}
        NUTS (default), fast SVI with a mean-field normal guide, or MAP (a point, no
        interval).
    chains : int or None
        NUTS chains; ``None`` means one per CPU core. Chains run in parallel when jax
        is not initialized yet at the first fit of the process, else sequentially; a
        geo model runs each chain in a spawned process of its own instead of on jax
        devices (bounded memory, see ``fit_bayes``); the draws equal those of the same
        chains run in one process (tested).
    warmup, draws : int
        Warmup and kept draws per chain (SVI/MAP: ``draws`` posterior samples).
    target_accept : float, optional
        NUTS target acceptance probability; raise it (0.99) when there are divergences.
        ``None`` (default): 0.95 for a national model, 0.9 for a geo model (the setting
        its benchmark was measured with). Measured on 156-week x 4-channel synthetic data (2 chains x 1000 + 1000, seeds
        1, 3, 6 and 9, diagonal mass): 0.9 gave 0, 0, 2 and 2 divergences, 0.95 none,
        at about the same fit time.
    max_tree_depth : int
    dense_mass : bool, optional
        Adapt a dense mass matrix instead of a diagonal one. ``None`` (default): dense
        blocks for a geo model (dense over the shared parameters, diagonal over the
        per-geo ones, as measured in its benchmark), diagonal for a national one: since the
        national model samples the mean fitted KPI rather than the intercept (see
        :mod:`mediamix.models.bayes.model`), the strong posterior correlation between
        intercept and media effects is gone, and on the data above a diagonal mass
        matrix gave more effective draws (minimum bulk ESS 761-900 against 205-799
        with a dense one, both at target accept 0.95) and no divergences against 0-1.
    svi_steps : int
        Optimization steps for SVI / MAP.
    svi_learning_rate : float
    likelihood : {"normal", "student_t"}
    adstock : {"delayed", "weibull_pdf", "geometric"}
        Used unless the spec names one adstock type for every channel. The default,
        the delayed-peak kernel of Jin et al. (2017) (registry ``delayed``, normalized),
        covers both immediate and delayed carry-over with smooth weights; geometric
        cannot delay the peak, and the Weibull PDF's min-max scaling has kinks that
        NUTS trips on. Measured on 156-week x 4-channel synthetic data (1 chain, 500 +
        500): divergences were 10 and 63 with ``weibull_pdf`` (seeds 0 and 3), 1 and 0
        with ``delayed``, 3 with ``geometric`` (seed 0). On 104 weeks x 3 channels (seed 1)
        the geometric model's residual sd was twice the noise (0.080 vs 0.040 of mean
        KPI) because two channels there peak late.
    l_max : int
        Adstock window in periods (lags 0 to l_max - 1).
    saturation : {"hill", "logistic"}
        Used unless the spec names one saturation type for every channel.
    media_prior : {"roi", "coefficient"}
        Prior on ROI (Meridian style) or on the scaled coefficient.
    roi_prior : mapping channel -> (mean, sd)
        ROI priors in KPI units per currency unit, e.g. ``{"tv": (2.0, 1.0)}`` for "TV's
        ROI is around 2, maybe 1-4". Other channels get the default prior.
    media_share : float
        The default ROI prior is centred on the ROI every channel would have if paid
        media drove this share of the KPI in proportion to spend.
    roi_sigma : float
        Log-sd of the default ROI prior (1.0: the 90% prior range spans a factor ~27).
    lift_se_share : float
        Standard error of a lift test without one, as a share of its lift.
    progress_bar : bool
        Show numpyro's progress bar (stderr).
    geo_hierarchy : bool
        With geo data, fit the geo model (per-capita scaling, geo levels, geo media
        effects pooled toward the national ones; see
        :mod:`mediamix.models.bayes.model`). Off (the default), geo data is summed to
        national first. On Meridian's simulated 40 geos x 156 weeks x 5 channels, NUTS
        with 2 chains x 1000 + 1000 took 4.6 minutes on the idle 2-core machine (one
        process per chain), max R-hat 1.021, 6 divergent draws, about 63 leapfrog
        steps per draw, 1.45 GB peak memory per process
        (``benchmarks/results/bayes.md``, "Geo model (NUTS)"). Cost grows with
        ``G x T x C x l_max`` per gradient.
    compile_cache : str, optional
        Directory of jax's persistent compilation cache: compiling the sampler is much
        of a small model's fit time, and a later fit of the same shapes and settings, in
        any process, loads the compiled program instead (156 weeks x 4 channels: see
        ``benchmarks/results/bayes.md``, cold against warm). ``None`` (the library
        default): no cache. ``mediamix fit`` uses ``$MEDIAMIX_HOME/cache/jax`` unless
        ``MEDIAMIX_COMPILE_CACHE=false``. jax trusts the cache: keep it private.
    """

    seed: int = 0
    method: Method = "nuts"
    chains: int | None = None
    warmup: int = 1000
    draws: int = 1000
    target_accept: float | None = None
    max_tree_depth: int = 10
    dense_mass: bool | None = None
    svi_steps: int = 3000
    svi_learning_rate: float = 0.02
    likelihood: Likelihood = "normal"
    adstock: AdstockKind = "delayed"
    l_max: int = 13
    saturation: SaturationKind = "hill"
    media_prior: MediaPrior = "roi"
    roi_prior: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    media_share: float = 0.2
    roi_sigma: float = 1.0
    lift_se_share: float = 0.1
    progress_bar: bool = False
    geo_hierarchy: bool = False
    compile_cache: str | None = None


def _use_compilation_cache(path: str | None) -> None:
    """Point jax's persistent compilation cache at ``path`` (created private to the user)
    unless the process set one already; ``None``: leave jax as it is.

    Compiling the NUTS sampler is much of a small model's fit time (about 5 of 10 s on
    156 weeks x 4 channels), and a model of the same shapes and settings compiles to the
    same program, so later fits, in any process, load it instead. jax trusts its cache
    (a compiled program runs as code), so the directory is made mode 700 and must not be
    shared with other users.
    """
    import jax

    if path is None or jax.config.jax_compilation_cache_dir:  # type: ignore[attr-defined]
        return
    try:
        Path(path).mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:  # e.g. a read-only home: fit without the cache
        log.warning("no compilation cache at %s: %s", path, exc)
        return
    jax.config.update("jax_compilation_cache_dir", path)
    # every program, not only those that took over a second to compile: a fit compiles
    # dozens of small ones (initialization, summaries) besides the sampler
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


def _setup_jax(n_chains: int, compile_cache: str | None = None) -> str:
    """Ask for one host device per chain if jax has not started; returns the chain method.

    Also float64, and the persistent compilation cache in ``compile_cache``.
    """
    import jax
    import numpyro

    try:
        from jax._src import xla_bridge

        started = bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):  # private API moved: assume jax has started
        started = True
    if not started:
        numpyro.set_host_device_count(max(n_chains, 1))
    numpyro.enable_x64()
    _use_compilation_cache(compile_cache)
    if n_chains > 1 and jax.local_device_count() >= n_chains:
        return "parallel"
    return "sequential"


def _design(data: Dataset, spec: ModelSpec) -> BaselineDesign:
    span = float((data.dates[-1] - data.dates[0]).astype(int))
    yearly = spec.yearly_harmonics if span >= 300 else 0
    weekly = (
        spec.seasonality.weekly
        if (not isinstance(spec.seasonality, int) and data.frequency == Frequency.daily)
        else 0
    )
    return BaselineDesign(
        origin=str(data.dates[0]),
        trend_span_days=max(span, 1.0),
        trend=spec.trend,
        yearly=yearly,
        weekly=weekly,
        events=data.event_names,
        controls=data.control_names,
        organic=data.organic_names,
    )


def _transform_kinds(spec: ModelSpec, options: BayesOptions) -> tuple[AdstockKind, SaturationKind]:
    problems: list[Problem] = []
    ad_types = {cs.adstock.type for cs in spec.channels.values() if cs.adstock is not None}
    sat_types = {cs.saturation.type for cs in spec.channels.values() if cs.saturation is not None}
    adstock, saturation = options.adstock, options.saturation
    for t in sorted(ad_types - set(_ADSTOCK_NAMES)):
        problems.append(
            Problem(
                f"the bayes engine supports adstock {sorted(_ADSTOCK_NAMES)}; "
                f"'{t}' is not supported yet",
                column="channels.*.adstock.type",
            )
        )
    for t in sorted(sat_types - set(_SATURATION_NAMES)):
        problems.append(
            Problem(
                f"the bayes engine supports saturation "
                f"{sorted(_SATURATION_NAMES)}; '{t}' is not supported yet",
                column="channels.*.saturation.type",
            )
        )
    if problems:
        raise InputError(problems)
    kinds = {_ADSTOCK_NAMES[t] for t in ad_types}
    if len(kinds) > 1:
        raise InputError.single(
            "the bayes engine uses one adstock type for all channels; the "
            f"spec names {sorted(ad_types)}",
            column="channels.*.adstock.type",
        )
    if kinds:
        adstock = kinds.pop()
    if len(sat_types) > 1:
        raise InputError.single(
            "the bayes engine uses one saturation type for all channels; "
            f"the spec names {sorted(sat_types)}",
            column="channels.*.saturation.type",
        )
    if sat_types:
        saturation = _SATURATION_NAMES[sat_types.pop()]
    return adstock, saturation


def _lifts(
    spec: ModelSpec, data: Dataset, options: BayesOptions
) -> tuple[list[tuple[int, np.ndarray, float, float]], list[str]]:
    dates = data.dates.astype("datetime64[D]")
    index = {ch: i for i, ch in enumerate(data.channels)}
    out: list[tuple[int, np.ndarray, float, float]] = []
    notes: list[str] = []
    for test in spec.lift_tests:
        mask = (dates >= np.datetime64(test.start, "D")) & (dates <= np.datetime64(test.end, "D"))
        if not mask.any():
            notes.append(
                f"lift test on {test.channel} ({test.start} to {test.end}) covers no "
                "period of the data and was not used"
            )
            continue
        se = test.standard_error
        if se is None:
            se = max(options.lift_se_share * abs(test.lift), 1e-9)
            notes.append(
                f"lift test on {test.channel} has no standard error; used "
                f"{options.lift_se_share:.0%} of its lift ({se:g})"
            )
        out.append((index[test.channel], mask, float(test.lift), float(se)))
    return out, notes


def _check_inputs(data: Dataset, options: BayesOptions) -> None:
    problems: list[Problem] = []
    totals = data.spend[0].sum(axis=0)
    for ch, total in zip(data.channels, totals, strict=True):
        if not total > 0:
            problems.append(
                Problem(
                    f"channel '{ch}' has no spend in the modeling window; the "
                    "bayes engine needs positive spend to scale it",
                    column=ch,
                )
            )
    if not float(np.mean(data.kpi[0])) > 0:
        problems.append(
            Problem("the KPI mean must be positive for the bayes engine", column=data.kpi_name)
        )
    for ch in options.roi_prior:
        if ch not in data.channels:
            problems.append(
                Problem(f"roi_prior names channel '{ch}', not in the data", column="roi_prior")
            )
    for ch, (mean, sd) in options.roi_prior.items():
        if not (mean > 0 and sd > 0):
            problems.append(
                Problem(
                    f"roi_prior for '{ch}' needs mean > 0 and sd > 0, got ({mean}, {sd})",
                    column="roi_prior",
                )
            )
    if problems:
        raise InputError(problems)


def fit_bayes(
    data: Dataset,
    spec: ModelSpec,
    options: BayesOptions | None = None,
    progress: Progress | None = None,
) -> FitResult:
    """Fit the Bayesian MMM to national data.

    Parameters
    ----------
    data : Dataset
        Validated data; geo data is summed to national first.
    spec : ModelSpec
        Baseline choices, transform types and lift tests.
    options : BayesOptions, optional
    progress : callable(fraction, message), optional

    Returns
    -------
    FitResult
        ``engine="bayes"``; ``draws`` holds ``roi``, ``contribution`` and ``mroi`` of
        shape (S, C); ``info["diagnostics"]`` holds R-hat, ESS, divergences, the
        posterior predictive check, prior vs posterior and plain-language warnings.

    Raises
    ------
    InputError
        A channel without spend, a non-positive KPI mean, unsupported transform types,
        or a malformed ROI prior.

    Notes
    -----
    Process-wide jax settings: the first call asks for one host device per chain
    (``numpyro.set_host_device_count``, only possible before jax starts; chains run
    sequentially otherwise) and every call enables float64 (``numpyro.enable_x64``),
    which the transforms need to match the numpy reference to 1e-6, and jax's
    persistent compilation cache in ``options.compile_cache`` unless the process set one
    already.
    """
    options = options or BayesOptions()
    started = time.perf_counter()
    notes: list[str] = []
    geo_data = data if (data.is_geo and options.geo_hierarchy) else None
    if data.is_geo and geo_data is None:
        notes.append(
            f"geo data ({data.n_geos} geos) was summed to national; "
            "BayesOptions(geo_hierarchy=True) fits the geo model"
        )
    if geo_data is not None and geo_data.population is None:
        notes.append("no population column: geos are modeled without per-capita scaling")
    data = data.national()
    _check_inputs(data, options)
    adstock, saturation = _transform_kinds(spec, options)
    for ch, cs in spec.channels.items():
        for t in (cs.adstock, cs.saturation):
            if t is not None and t.params:
                notes.append(
                    f"{ch}: transform parameters in the spec ({t.params}) are not "
                    "used as priors by the bayes engine yet; its default priors apply"
                )
    lifts, lift_notes = _lifts(spec, data, options)
    notes += lift_notes

    n_chains = options.chains or os.cpu_count() or 1
    chain_method = _setup_jax(n_chains if options.method == "nuts" else 1, options.compile_cache)

    design = _design(data, spec)
    source = geo_data if geo_data is not None else data
    raw = np.stack([baseline_features(design, source, geo=g) for g in range(source.n_geos)])
    spend = source.spend
    kpi = source.kpi
    population = None if geo_data is None else geo_data.population
    index = {ch: i for i, ch in enumerate(data.channels)}
    inputs, scales = prepare_inputs(
        spend=spend,
        kpi=kpi,
        features=raw,
        roi_prior={index[ch]: v for ch, v in options.roi_prior.items()},
        media_share=options.media_share,
        roi_sigma=options.roi_sigma,
        lifts=lifts,
        adstock=adstock,
        l_max=options.l_max,
        saturation=saturation,
        likelihood=options.likelihood,
        media_prior=options.media_prior,
        population=population,
    )
    if chain_method == "parallel" and source.n_geos > 1:
        # parallel chains (one jax device each) grew the resident memory of a geo fit by
        # about 1 MB per iteration (jax 0.10, numpyro 0.22; 8 GB after 17 minutes on
        # 40 geos) and sequential or vectorized chains did not; vectorized chains use one
        # core, so each chain runs in a process of its own (on its own core)
        chain_method = "processes"
    if progress:
        progress(0.05, f"{options.method}: compiling and sampling")

    samples, by_chain, extra = _infer(inputs, options, n_chains, chain_method)
    if progress:
        progress(0.85, "posterior summaries")
    result = _build_result(data, spec, design, inputs, scales, samples, options)
    diagnostics = _diagnostics(
        inputs, samples, by_chain, extra, options, data, design, scales, geos=source.geos
    )
    elapsed = time.perf_counter() - started
    info = {
        "method": options.method,
        "chains": n_chains if options.method == "nuts" else None,
        "chain_method": chain_method if options.method == "nuts" else None,
        "warmup": options.warmup if options.method == "nuts" else None,
        "draws": options.draws,
        "likelihood": options.likelihood,
        "media_prior": options.media_prior,
        "adstock": adstock,
        "saturation": saturation,
        "l_max": options.l_max,
        "geos": source.n_geos,
        "geo_names": list(source.geos),
        "lift_tests_used": len(lifts),
        "seconds": elapsed,
        "point_estimate": (
            "posterior-median contribution per channel (posterior-median transforms, "
            "beta set to match it), posterior-mean baseline"
            if source.n_geos == 1
            else "national summary of a geo model: posterior-median transforms, beta set "
            "to match the posterior-median contribution, least-squares national baseline"
        ),
        "notes": notes,
        "diagnostics": diagnostics,
    }
    for message in diagnostics["warnings"]:
        log.warning("%s", message)
    if progress:
        progress(1.0, "done")
    return FitResult(
        engine="bayes",
        spec=spec.to_dict(),
        data=data,
        design=design,
        intercept=result["intercept"],
        baseline_coef=result["baseline_coef"],
        channels=result["channels"],
        roi_interval=result["roi_interval"],
        info=info,
        draws=result["draws"],
    )


# ------------------------------------------------------------------------- inference


_GEO_SITES = ("eta", "geo_level")
WARMUP_TREE_DEPTH = 6  # national models: at most 63 leapfrog steps per warmup iteration
WARMUP_TREE_DEPTH_GEO = 8


def _dense_blocks(inputs: ModelInputs) -> list[tuple[str, ...]] | bool:
    """The dense-mass structure: all sites for a national model; for a geo model one
    dense block over the shared sites and a diagonal for the per-geo ones (``eta``,
    ``geo_level``), whose count grows with the geos and which are nearly independent
    of each other a posteriori."""
    if inputs.x.shape[0] == 1:
        return True
    import jax
    from numpyro.handlers import seed, trace

    tr = trace(seed(mmm_model, jax.random.PRNGKey(0))).get_trace(inputs, y=inputs.y)
    shared = tuple(
        name
        for name, site in tr.items()
        if site["type"] == "sample" and not site["is_observed"] and name not in _GEO_SITES
    )
    return [shared]


def _one_chain(
    kernel: Any,
    inputs: ModelInputs,
    warmup: int,
    draws: int,
    key: np.ndarray,
    x64: bool,
    cache_dir: str | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """One NUTS chain (run in a worker process): draws by site, divergences, steps.

    ``x64`` and ``cache_dir``: the parent's float64 setting and compilation cache, which
    a spawned process does not inherit.
    """
    import jax
    import jax.numpy as jnp
    from numpyro.infer import MCMC

    jax.config.update("jax_enable_x64", x64)
    _use_compilation_cache(cache_dir)

    mcmc = MCMC(kernel, num_warmup=warmup, num_samples=draws, num_chains=1, progress_bar=False)
    mcmc.run(jnp.asarray(key), inputs, y=inputs.y, extra_fields=("diverging", "num_steps"))
    fields = mcmc.get_extra_fields()
    return (
        {k: np.asarray(v) for k, v in mcmc.get_samples().items()},
        np.asarray(fields["diverging"]),
        np.asarray(fields["num_steps"]),
    )


def _chains_in_processes(
    kernel: Any, inputs: ModelInputs, options: BayesOptions, keys: Any
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Each chain in a process of its own (spawned: jax is not fork-safe); by chain."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import jax

    keys = np.asarray(keys)
    x64 = bool(jax.config.jax_enable_x64)  # type: ignore[attr-defined]
    cache = jax.config.jax_compilation_cache_dir  # type: ignore[attr-defined]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(keys), mp_context=context) as pool:
        futures = [
            pool.submit(_one_chain, kernel, inputs, options.warmup, options.draws, k, x64, cache)
            for k in keys
        ]
        runs = [f.result() for f in futures]
    by_chain = {k: np.stack([r[0][k] for r in runs]) for k in runs[0][0]}
    return by_chain, np.stack([r[1] for r in runs]), np.stack([r[2] for r in runs])


def _infer(
    inputs: ModelInputs, options: BayesOptions, n_chains: int, chain_method: str
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None, dict[str, Any]]:
    """Posterior draws, flat (S, ...) and by chain (NUTS only), plus sampler facts."""
    import jax
    from numpyro.infer import MCMC, NUTS, SVI, Predictive, Trace_ELBO
    from numpyro.infer.autoguide import AutoDelta, AutoNormal
    from numpyro.optim import ClippedAdam

    key = jax.random.PRNGKey(options.seed)
    if options.method == "nuts":
        geo = inputs.x.shape[0] > 1
        dense = geo if options.dense_mass is None else options.dense_mass
        target = (0.9 if geo else 0.95) if options.target_accept is None else options.target_accept
        kernel = NUTS(
            mmm_model,
            target_accept_prob=target,
            # warmup's first iterations (unit mass, far from the posterior) run into the
            # depth limit, 1023 steps each: on 156 x 4, 77k of a chain's 123k warmup
            # steps were in its first 100 iterations. A lower warmup depth caps them
            # (warmup draws are discarded; sampling keeps the full depth)
            max_tree_depth=(
                min(options.max_tree_depth, WARMUP_TREE_DEPTH_GEO if geo else WARMUP_TREE_DEPTH),
                options.max_tree_depth,
            ),
            dense_mass=_dense_blocks(inputs) if dense else False,
        )
        # a geo model keeps no (G, T) mean per draw while sampling: _geo_means computes
        # it afterwards, in chunks
        run_inputs = replace(inputs, keep_mu=False) if geo else inputs
        if chain_method == "processes":
            by_chain, diverging, tree_steps = _chains_in_processes(
                kernel, run_inputs, options, jax.random.split(key, n_chains)
            )
        else:
            mcmc = MCMC(
                kernel,
                num_warmup=options.warmup,
                num_samples=options.draws,
                num_chains=n_chains,
                chain_method=chain_method,
                progress_bar=options.progress_bar,
            )
            mcmc.run(key, run_inputs, y=inputs.y, extra_fields=("diverging", "num_steps"))
            by_chain = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
            fields = mcmc.get_extra_fields()
            diverging, tree_steps = np.asarray(fields["diverging"]), np.asarray(fields["num_steps"])
        samples = {k: v.reshape(-1, *v.shape[2:]) for k, v in by_chain.items()}
        if geo:
            samples["mu"] = _geo_means(inputs, samples, key)
        extra = {
            "divergences": int(diverging.sum()),
            "mean_tree_steps": float(tree_steps.mean()),
        }
        return samples, by_chain, extra
    guide = AutoNormal(mmm_model) if options.method == "svi" else AutoDelta(mmm_model)
    # the step size decays 100-fold over the run, so the optimum is approached closely
    rate, steps = options.svi_learning_rate, max(options.svi_steps, 1)
    optimizer = ClippedAdam(lambda i: rate * 0.01 ** (i / steps), clip_norm=10.0)
    svi = SVI(mmm_model, guide, optimizer, Trace_ELBO())
    key_fit, key_draw = jax.random.split(key)
    run = svi.run(
        key_fit,
        options.svi_steps,
        inputs,
        y=inputs.y,
        progress_bar=options.progress_bar,
        stable_update=True,
    )
    n_draws = options.draws if options.method == "svi" else 1
    latent = guide.sample_posterior(key_draw, run.params, inputs, sample_shape=(n_draws,))
    derived = Predictive(
        mmm_model, posterior_samples=latent, return_sites=["beta", "roi_scaled", "mu", "intercept"]
    )(key_draw, inputs)
    samples = {k: np.asarray(v) for k, v in {**latent, **derived}.items()}
    losses = np.asarray(run.losses)
    tail = losses[-max(len(losses) // 10, 1) :]
    extra = {"final_loss": float(tail.mean()), "loss_sd_last_10pct": float(tail.std())}
    return samples, None, extra


def _geo_means(
    inputs: ModelInputs, samples: Mapping[str, np.ndarray], key: Any, chunk: int = 50
) -> np.ndarray:
    """``mu`` (S, G, T) of a geo model for the given draws, ``chunk`` draws at a time
    (the media transform of one chunk holds ``chunk * G * T * C * l_max`` numbers)."""
    from numpyro.infer import Predictive

    full = replace(inputs, keep_mu=True)
    n = len(next(iter(samples.values())))
    out = np.empty((n, *inputs.y.shape))
    for lo in range(0, n, chunk):
        part = {k: v[lo : lo + chunk] for k, v in samples.items()}
        predict = Predictive(mmm_model, posterior_samples=part, return_sites=["mu"], parallel=True)
        out[lo : lo + chunk] = np.asarray(predict(key, full)["mu"])
    return out


# ------------------------------------------------------------------------ results


def _transform_params(
    samples: Mapping[str, np.ndarray], inputs: ModelInputs
) -> dict[str, np.ndarray]:
    adstock_names = {"geometric": ("alpha",), "delayed": ("alpha", "theta")}
    names = adstock_names.get(inputs.adstock, ("shape", "scale")) + (
        ("half_saturation", "slope") if inputs.saturation == "hill" else ("lam",)
    )
    return {n: np.asarray(samples[n], dtype=float) for n in names}


def _media_draws(
    inputs: ModelInputs, params: Mapping[str, np.ndarray], xs: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """sum_t m_gtc per draw (S, G, C) for each spend array of ``xs`` (G, T, C), in chunks
    of draws that bound memory (~160 MB).

    One compiled program for all of ``xs`` and every chunk of the same shape (cached like
    the sampler), not one per jax operation: on 156 x 4 this took the first fit's media
    draws from 0.8 s to 0.1 s.
    """
    import jax

    n = next(iter(params.values())).shape[0]
    n_geos, n_periods, n_channels = inputs.x.shape
    chunk = max(1, int(2e7 // (n_geos * n_periods * n_channels * inputs.l_max)))
    summed = jax.jit(lambda part, x: media_transform(inputs, part, x).sum(axis=-2))
    outs = []
    for x in xs:
        out = np.empty((n, n_geos, n_channels))
        for lo in range(0, n, chunk):
            part = {k: v[lo : lo + chunk][:, None, :] for k, v in params.items()}
            out[lo : lo + chunk] = np.asarray(summed(part, x))
        outs.append(out)
    return outs


def _geo_betas(samples: Mapping[str, np.ndarray]) -> np.ndarray:
    """``beta_gc = beta_c exp(tau_c eta_gc)`` per draw (S, G, C); (S, 1, C) without geos."""
    beta = np.asarray(samples["beta"], dtype=float)[:, None, :]
    if "eta" not in samples:
        return beta
    tau = np.asarray(samples["tau"], dtype=float)[:, None, :]
    return beta * np.exp(tau * np.asarray(samples["eta"], dtype=float))


def _build_result(
    data: Dataset,
    spec: ModelSpec,
    design: BaselineDesign,
    inputs: ModelInputs,
    scales: Mapping[str, Any],
    samples: Mapping[str, np.ndarray],
    options: BayesOptions,
) -> dict[str, Any]:
    y_scale = float(scales["y_scale"])
    pop = np.asarray(scales["population"], dtype=float)  # (G,), ones for national data
    spend_scale = np.asarray(scales["spend_scale"])
    spend_total = data.spend[0].sum(axis=0)
    params = _transform_params(samples, inputs)
    beta = np.asarray(samples["beta"], dtype=float)  # (S, C), scaled
    beta_g = _geo_betas(samples)  # (S, G, C), scaled
    m_sum, m_sum_up = _media_draws(inputs, params, (inputs.x, inputs.x * 1.01))  # (S, G, C)
    weight = y_scale * pop[None, :, None] * beta_g  # KPI per unit of m, per geo
    contribution = np.sum(weight * m_sum, axis=1)
    roi = contribution / spend_total
    mroi = np.sum(weight * (m_sum_up - m_sum), axis=1) / (0.01 * spend_total)

    median = {k: np.median(v, axis=0) for k, v in params.items()}
    # national point model: spend is national, so K moves to national currency
    # (per-capita scale x total population; x 1 for national data)
    spend_scale = spend_scale * float(pop.sum())
    channels: dict[str, ChannelFit] = {}
    for c, ch in enumerate(data.channels):
        if inputs.adstock == "geometric":
            ad: dict[str, Any] = {
                "type": "geometric_window",
                "alpha": float(median["alpha"][c]),
                "l_max": inputs.l_max,
                "normalize": True,
            }
        elif inputs.adstock == "delayed":
            ad = {
                "type": "delayed",
                "alpha": float(median["alpha"][c]),
                "theta": float(median["theta"][c]),
                "l_max": inputs.l_max,
                "normalize": True,
            }
        else:
            ad = {
                "type": "weibull_pdf",
                "shape": float(median["shape"][c]),
                "scale": float(median["scale"][c]),
                "convention": "pymc",
                "l_max": inputs.l_max,
                "normalize": True,
            }
        if inputs.saturation == "hill":
            sat: dict[str, Any] = {
                "type": "hill",
                "half_saturation": float(median["half_saturation"][c] * spend_scale[c]),
                "slope": float(median["slope"][c]),
            }
        else:
            sat = {"type": "logistic", "lam": float(median["lam"][c] / spend_scale[c])}
        # beta: set from the posterior-median contribution below
        channels[ch] = ChannelFit(adstock=ad, saturation=sat, beta=0.0)

    mu_f = np.asarray(scales["feature_mean"])
    sd_f = np.asarray(scales["feature_sd"])
    gamma = (
        np.asarray(samples["gamma"], dtype=float).mean(axis=0)
        if "gamma" in samples
        else np.zeros(0)
    )
    b0 = float(np.asarray(samples["intercept"], dtype=float).mean())
    baseline_coef = gamma / sd_f * y_scale
    intercept = float((b0 - np.sum(gamma * mu_f / sd_f)) * y_scale)
    if inputs.x.shape[0] > 1:
        # the geo level sits on media centred per geo: the baseline level is the level
        # less each geo's mean media effect, per draw
        media_mean = np.sum(beta_g * m_sum, axis=-1) / inputs.x.shape[1]  # (S, G)
        geo_intercept = np.asarray(samples["geo_level"], dtype=float) - media_mean
        channels, intercept, baseline_coef = _national_point_model(
            data, design, inputs, samples, scales, channels, contribution, geo_intercept
        )
    else:
        channels = _median_contributions(data, channels, contribution)
        # the intercept takes up mean - median of the media total: the point model's
        # mean fitted KPI stays the posterior mean
        media_gap = float(contribution.sum(axis=1).mean()) - float(
            np.median(contribution, axis=0).sum()
        )
        intercept += media_gap / data.n_periods

    revenue = data.kpi_type.value == "revenue"
    interval_ok = revenue and options.method != "map"
    intervals: dict[str, tuple[float, float] | None] = {
        ch: (
            (float(np.quantile(roi[:, c], 0.05)), float(np.quantile(roi[:, c], 0.95)))
            if interval_ok
            else None
        )
        for c, ch in enumerate(data.channels)
    }
    draws: dict[str, np.ndarray] = {"roi": roi, "contribution": contribution, "mroi": mroi}
    if inputs.x.shape[0] > 1:
        draws["geo_contribution"] = weight * m_sum  # (S, G, C), KPI units
    if inputs.x.shape[0] == 1:
        # each draw's curve in the input's units, so plans can average the response
        # over the posterior (mediamix.models.response); national models only
        draws["curve__beta"] = beta * y_scale
        for name, values in params.items():
            if name == "half_saturation":
                values = values * spend_scale
            elif name == "lam":
                values = values / spend_scale
            draws[f"curve__{name}"] = values
    return {
        "channels": channels,
        "intercept": intercept,
        "baseline_coef": baseline_coef,
        "roi_interval": intervals,
        "draws": draws,
    }


def _median_contributions(
    data: Dataset, channels: Mapping[str, ChannelFit], contribution: np.ndarray
) -> dict[str, ChannelFit]:
    """The channels with each ``beta`` set so that its contribution over the data is the
    posterior median of ``contribution`` (S, C), transforms unchanged."""
    from mediamix.transforms.registry import adstock_from_dict, saturation_from_dict

    spend = data.spend[0]
    median = np.median(contribution, axis=0)
    out: dict[str, ChannelFit] = {}
    for c, (ch, fit) in enumerate(channels.items()):
        curve = saturation_from_dict(dict(fit.saturation)).apply(
            adstock_from_dict(dict(fit.adstock)).apply(spend[:, c])
        )
        total = float(np.sum(curve))
        beta = float(median[c]) / total if total > 0 else 0.0
        out[ch] = ChannelFit(adstock=fit.adstock, saturation=fit.saturation, beta=beta)
    return out


def _national_point_model(
    data: Dataset,
    design: BaselineDesign,
    inputs: ModelInputs,
    samples: Mapping[str, np.ndarray],
    scales: Mapping[str, Any],
    channels: Mapping[str, ChannelFit],
    contribution: np.ndarray,
    geo_intercept: np.ndarray,
) -> tuple[dict[str, ChannelFit], float, np.ndarray]:
    """The national additive summary of a geo fit.

    Geo effects and per-capita transforms do not collapse exactly into one national
    curve, so the national point model keeps the posterior-median transforms (with
    ``K`` in national currency) and the posterior-median contributions of
    :func:`_median_contributions`; the baseline is the least-squares fit, on the
    national features, of the posterior mean national baseline (sum over geos).
    """
    out = _median_contributions(data, channels, contribution)
    y_scale = float(scales["y_scale"])
    pop = np.asarray(scales["population"], dtype=float)
    base = geo_intercept.mean(axis=0)[:, None] * np.ones(inputs.x.shape[1])[None]
    if "gamma" in samples:
        base = base + inputs.z @ np.asarray(samples["gamma"], dtype=float).mean(axis=0)
    national_base = y_scale * np.sum(pop[:, None] * base, axis=0)  # (T,)
    features = baseline_features(design, data)
    X = np.column_stack([np.ones(len(national_base)), features])
    coef = np.linalg.lstsq(X, national_base, rcond=None)[0]
    return out, float(coef[0]), np.asarray(coef[1:], dtype=float)


# --------------------------------------------------------------------- diagnostics


def _diagnostics(
    inputs: ModelInputs,
    samples: Mapping[str, np.ndarray],
    by_chain: Mapping[str, np.ndarray] | None,
    extra: Mapping[str, Any],
    options: BayesOptions,
    data: Dataset,
    design: BaselineDesign,
    scales: Mapping[str, Any],
    geos: tuple[str, ...] = (),
) -> dict[str, Any]:
    channel_sites = {
        "alpha",
        "shape",
        "scale",
        "theta",
        "half_saturation",
        "slope",
        "lam",
        "roi_scaled",
        "beta",
    }
    labels: dict[str, list[str]] = {s: list(data.channels) for s in channel_sites}
    labels["gamma"] = design.feature_names()
    labels["tau"] = list(data.channels)
    labels["geo_level"] = list(geos)
    labels["eta"] = [f"{g}:{ch}" for g in geos for ch in data.channels]
    out: dict[str, Any] = {"method": options.method, **extra}
    warnings: list[str] = []
    if by_chain is not None:
        latent = {k: v for k, v in by_chain.items() if k not in _LATENT_SKIP}
        table = convergence_table(latent, labels)
        rhats = [r["rhat"] for r in table if np.isfinite(r["rhat"])]
        ess_b = [r["ess_bulk"] for r in table if np.isfinite(r["ess_bulk"])]
        ess_t = [r["ess_tail"] for r in table if np.isfinite(r["ess_tail"])]
        out.update(
            {
                "max_rhat": max(rhats) if rhats else None,
                "min_ess_bulk": min(ess_b) if ess_b else None,
                "min_ess_tail": min(ess_t) if ess_t else None,
                "parameters": table,
            }
        )
        n_chains = next(iter(by_chain.values())).shape[0]
        warnings += convergence_warnings(
            table,
            n_chains=n_chains,
            divergences=int(extra.get("divergences", 0)),
            n_draws=n_chains * options.draws,
        )
    else:
        out.update(
            {"max_rhat": None, "min_ess_bulk": None, "min_ess_tail": None, "divergences": None}
        )
        warnings.append(
            f"fitted with {options.method.upper()}, an optimization: no R-hat or ESS, and "
            + (
                "intervals from a mean-field approximation are usually too narrow"
                if options.method == "svi"
                else "no intervals (a single point)"
            )
            + "; use method='nuts' for a final model."
        )
    ppc = _ppc(inputs, samples, options)
    out["ppc"] = ppc
    if ppc["coverage_90"] < 0.75:
        warnings.append(
            f"posterior predictive check: only {ppc['coverage_90']:.0%} of periods fall "
            "inside the 90% predictive interval (want about 90%): the model misses "
            "structure in the KPI. Check for missing events or controls, or try "
            "likelihood='student_t' for outliers."
        )
    if options.method != "map":
        prior_post = _prior_vs_posterior(inputs, samples, options, data, scales)
        out["prior_vs_posterior"] = prior_post
        for ch, row in prior_post.items():
            if row["sd_ratio"] is not None and row["sd_ratio"] > 0.8:
                warnings.append(
                    f"ROI of {ch}: the data barely narrowed its prior (posterior sd of "
                    f"log ROI is {row['sd_ratio']:.0%} of the prior's), so the estimate "
                    "mostly reflects the prior. Add a lift test for this channel, an "
                    "informed roi_prior, or more spend variation."
                )
    out["warnings"] = warnings
    return out


def _ppc(
    inputs: ModelInputs, samples: Mapping[str, np.ndarray], options: BayesOptions
) -> dict[str, float]:
    """Coverage of the 90% posterior predictive interval and a p-value for the KPI sd."""
    rng = np.random.default_rng(options.seed)
    n = len(samples["sigma"])
    pick = rng.integers(0, n, max(n, 1000))  # a MAP point still gets 1000 replicates
    mu = np.asarray(samples["mu"], dtype=float)[pick].reshape(len(pick), -1)
    sigma = np.asarray(samples["sigma"], dtype=float)[pick][:, None]
    if "nu" in samples:
        nu = np.asarray(samples["nu"], dtype=float)[pick][:, None]
        noise = rng.standard_t(nu, mu.shape)
    else:
        noise = rng.standard_normal(mu.shape)
    y_rep = mu + sigma * noise
    lo, hi = np.quantile(y_rep, [0.05, 0.95], axis=0)
    y = inputs.y.reshape(-1)
    return {
        "coverage_90": float(np.mean((y >= lo) & (y <= hi))),
        "p_value_sd": float(np.mean(y_rep.std(axis=1) >= y.std())),
        "p_value_mean": float(np.mean(y_rep.mean(axis=1) >= y.mean())),
    }


def _prior_vs_posterior(
    inputs: ModelInputs,
    samples: Mapping[str, np.ndarray],
    options: BayesOptions,
    data: Dataset,
    scales: Mapping[str, Any],
) -> dict[str, dict[str, Any]]:
    """Per channel: prior and posterior 5/50/95% of the ROI (KPI per currency unit) and the
    ratio of posterior to prior sd of log ROI (near 1: the data taught little)."""
    import jax
    from numpyro.infer import Predictive

    if inputs.media_prior == "roi":  # the prior of the sampled site itself, no model run
        rng = np.random.default_rng(options.seed + 1)
        prior_scaled = np.exp(
            rng.normal(inputs.roi_mu, inputs.roi_sigma, (1000, len(inputs.roi_mu)))
        )
    else:  # coefficient form: the ROI is derived, so run the model's prior
        prior = Predictive(mmm_model, num_samples=1000, return_sites=["roi_scaled"])(
            jax.random.PRNGKey(options.seed + 1), inputs
        )
        prior_scaled = np.asarray(prior["roi_scaled"], dtype=float)
    to_roi = float(scales["y_scale"]) / np.asarray(scales["spend_scale"])  # scaled -> KPI/currency
    prior_r = prior_scaled * to_roi
    post_r = np.asarray(samples["roi_scaled"], dtype=float) * to_roi
    out: dict[str, dict[str, Any]] = {}
    for c, ch in enumerate(data.channels):
        p = np.log(np.maximum(prior_r[:, c], 1e-300))
        q = np.log(np.maximum(post_r[:, c], 1e-300))
        ratio = float(q.std() / p.std()) if p.std() > 0 else None
        out[ch] = {
            "prior_roi_q05_q50_q95": np.quantile(prior_r[:, c], [0.05, 0.5, 0.95]).tolist(),
            "posterior_roi_q05_q50_q95": np.quantile(post_r[:, c], [0.05, 0.5, 0.95]).tolist(),
            "sd_ratio": ratio,
        }
    return out
