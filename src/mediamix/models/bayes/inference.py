"""Inference: NUTS (chains on jax devices, in sequence, or in processes), SVI or MAP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from mediamix.models.bayes.model import ModelInputs, mmm_model
from mediamix.models.bayes.options import BayesOptions
from mediamix.models.bayes.runtime import use_compilation_cache

__all__ = ["PosteriorDraws", "infer"]

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
    use_compilation_cache(cache_dir)

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


class PosteriorDraws(NamedTuple):
    """What inference returns.

    Attributes
    ----------
    samples : dict site -> ndarray (S, ...)
        Draws of every site, chains concatenated.
    by_chain : dict site -> ndarray (chains, S / chains, ...), or None
        The same draws by chain (NUTS only: SVI and MAP have no chains).
    extra : dict
        Sampler facts reported with the fit (divergences, tree steps, losses).
    """

    samples: dict[str, np.ndarray]
    by_chain: dict[str, np.ndarray] | None
    extra: dict[str, Any]


def infer(
    inputs: ModelInputs, options: BayesOptions, n_chains: int, chain_method: str
) -> PosteriorDraws:
    """Posterior draws, flat (S, ...) and by chain (NUTS only), plus sampler facts."""
    import jax

    key = jax.random.PRNGKey(options.seed)
    if options.method == "nuts":
        return PosteriorDraws(*_nuts(inputs, options, n_chains, chain_method, key))
    return PosteriorDraws(*_svi(inputs, options, key))


def _nuts(
    inputs: ModelInputs, options: BayesOptions, n_chains: int, chain_method: str, key: Any
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
    """NUTS draws, flat and by chain, with divergences and mean tree steps."""
    import jax
    from numpyro.infer import MCMC, NUTS

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


def _svi(
    inputs: ModelInputs, options: BayesOptions, key: Any
) -> tuple[dict[str, np.ndarray], None, dict[str, Any]]:
    """SVI (mean-field normal guide) or MAP (point) draws, with the final loss."""
    import jax
    from numpyro.infer import SVI, Predictive, Trace_ELBO
    from numpyro.infer.autoguide import AutoDelta, AutoNormal
    from numpyro.optim import ClippedAdam

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
