r"""Fit the Bayesian MMM with NUTS (or SVI / MAP) into an engine-agnostic FitResult.

:func:`fit_bayes` checks the spec and data (:mod:`.validation`), scales them into
the model's inputs (:mod:`.model`, which also holds the priors), sets up jax
(:mod:`.runtime`), runs inference (:mod:`.inference`), turns the posterior draws
into a :class:`~mediamix.models.result.FitResult` (:mod:`.posterior`) and reports
convergence, the predictive check and the prior's influence (:mod:`.model_checks`).

Geo data is summed to national unless ``BayesOptions(geo_hierarchy=True)``; then it
is fitted with the geo hierarchy of :mod:`mediamix.models.bayes.model` (per-capita
scaling, geo levels, geo media effects pooled toward the national effect), and the
result is a national summary with the geo detail in ``draws["geo_contribution"]``
and ``info["geo_names"]``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mediamix.data.dataset import Dataset
from mediamix.data.spec import ModelSpec
from mediamix.models.bayes.inference import infer
from mediamix.models.bayes.model import (
    AdstockKind,
    ModelInputs,
    ModelSettings,
    SaturationKind,
    prepare_inputs,
)
from mediamix.models.bayes.model_checks import fit_diagnostics
from mediamix.models.bayes.options import BayesOptions, Method
from mediamix.models.bayes.posterior import posterior_result
from mediamix.models.bayes.runtime import setup_jax
from mediamix.models.bayes.validation import check_inputs, lift_tests, transform_kinds
from mediamix.models.design import BaselineDesign, baseline_design, baseline_features
from mediamix.models.result import FitResult

__all__ = ["BayesOptions", "Method", "fit_bayes"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


# Long (about 65 lines): the use case read top to bottom (check, scale, sample,
# summarize, diagnose); each step is a call.
def fit_bayes(
    data: Dataset,
    spec: ModelSpec,
    options: BayesOptions | None = None,
    progress: Progress | None = None,
) -> FitResult:
    """Fit the Bayesian MMM: national, or with the geo hierarchy when asked for.

    Parameters
    ----------
    data : Dataset
        Validated data. Geo data is summed to national first, unless
        ``options.geo_hierarchy`` (then each geo is modeled, with effects pooled
        toward the national one, and the result is still national).
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
    check_inputs(data, options)
    kinds = transform_kinds(spec, options)
    for ch, cs in spec.channels.items():
        for t in (cs.adstock, cs.saturation):
            if t is not None and t.params:
                notes.append(
                    f"{ch}: transform parameters in the spec ({t.params}) are not "
                    "used as priors by the bayes engine yet; its default priors apply"
                )
    lifts, lift_notes = lift_tests(spec, data, options)
    notes += lift_notes

    n_chains = options.chains or os.cpu_count() or 1
    chain_method = setup_jax(n_chains if options.method == "nuts" else 1, options.compile_cache)

    design = baseline_design(data, spec)
    source = geo_data if geo_data is not None else data
    population = None if geo_data is None else geo_data.population
    inputs, scales = _model_inputs(source, population, design, options, lifts, kinds)
    if chain_method == "parallel" and source.n_geos > 1:
        # parallel chains (one jax device each) grew the resident memory of a geo fit
        # without bound (benchmarks/results/bayes.md) and sequential or vectorized chains
        # did not; vectorized chains use one core, so each chain runs in a process of its
        # own (on its own core)
        chain_method = "processes"
    if progress:
        progress(0.05, f"{options.method}: compiling and sampling")

    draws = infer(inputs, options, n_chains, chain_method)
    if progress:
        progress(0.85, "posterior summaries")
    result = posterior_result(data, spec, design, inputs, scales, draws.samples, options)
    diagnostics = fit_diagnostics(inputs, draws, options, data, design, scales, geos=source.geos)
    seconds = time.perf_counter() - started
    info = _info(options, kinds, (n_chains, chain_method), source, len(lifts), seconds)
    info.update(notes=notes, diagnostics=diagnostics)
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


def _model_inputs(
    source: Dataset,
    population: np.ndarray | None,
    design: BaselineDesign,
    options: BayesOptions,
    lifts: list[tuple[int, np.ndarray, float, float]],
    kinds: tuple[AdstockKind, SaturationKind],
) -> tuple[ModelInputs, dict[str, Any]]:
    """The model's scaled inputs and the scales that undo them, for national or geo data."""
    raw = np.stack([baseline_features(design, source, geo=g) for g in range(source.n_geos)])
    index = {ch: i for i, ch in enumerate(source.channels)}
    settings = ModelSettings(
        adstock=kinds[0],
        l_max=options.l_max,
        saturation=kinds[1],
        likelihood=options.likelihood,
        media_prior=options.media_prior,
        roi_prior={index[ch]: v for ch, v in options.roi_prior.items()},
        media_share=options.media_share,
        roi_sigma=options.roi_sigma,
    )
    return prepare_inputs(
        spend=source.spend,
        kpi=source.kpi,
        features=raw,
        lifts=lifts,
        settings=settings,
        population=population,
    )


def _info(
    options: BayesOptions,
    kinds: tuple[AdstockKind, SaturationKind],
    chains: tuple[int, str],
    source: Dataset,
    n_lifts: int,
    seconds: float,
) -> dict[str, Any]:
    """The fit's settings as ``info`` records them (the fit adds notes and diagnostics)."""
    nuts = options.method == "nuts"
    n_chains, chain_method = chains
    return {
        "method": options.method,
        "chains": n_chains if nuts else None,
        "chain_method": chain_method if nuts else None,
        "warmup": options.warmup if nuts else None,
        "draws": options.draws,
        "likelihood": options.likelihood,
        "media_prior": options.media_prior,
        "adstock": kinds[0],
        "saturation": kinds[1],
        "l_max": options.l_max,
        "geos": source.n_geos,
        "geo_names": list(source.geos),
        "lift_tests_used": n_lifts,
        "seconds": seconds,
        "point_estimate": (
            "posterior-median contribution per channel (posterior-median transforms, "
            "beta set to match it), posterior-mean baseline"
            if source.n_geos == 1
            else "national summary of a geo model: posterior-median transforms, beta set "
            "to match the posterior-median contribution, least-squares national baseline"
        ),
    }
