"""The checks reported with a Bayesian fit: convergence, predictive fit, prior influence.

``info["diagnostics"]`` of a fit: R-hat and ESS per parameter (NUTS), the posterior
predictive check, prior against posterior for each channel's ROI, and plain-language
warnings that say what to try.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mediamix.data.dataset import Dataset
from mediamix.models.bayes.diagnostics import convergence_table, convergence_warnings
from mediamix.models.bayes.inference import PosteriorDraws
from mediamix.models.bayes.model import ModelInputs, mmm_model
from mediamix.models.bayes.options import BayesOptions
from mediamix.models.design import BaselineDesign

__all__ = ["fit_diagnostics"]

_LATENT_SKIP = {"mu", "beta_geo"}

# --------------------------------------------------------------------- diagnostics


# Long (about 75 lines): a flat list of checks, each adding its numbers and its
# plain-language warning to one report.
def fit_diagnostics(
    inputs: ModelInputs,
    draws: PosteriorDraws,
    options: BayesOptions,
    data: Dataset,
    design: BaselineDesign,
    scales: Mapping[str, Any],
    geos: tuple[str, ...] = (),
) -> dict[str, Any]:
    """``info["diagnostics"]`` of a finished fit, from its inputs, draws and settings.

    ``data`` is the national data (its channels label the parameters), ``geos`` the
    geo names of a geo model.
    """
    samples, by_chain, extra = draws
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
