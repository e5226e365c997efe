r"""Posterior draws into an engine-agnostic :class:`~mediamix.models.result.FitResult`.

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
  The median, not the mean, because the posteriors of weakly identified channels are
  skewed; the measured effect on accuracy is in ``benchmarks/results/bayes.md``.

Units go back to the input's: ``half_saturation = K_scaled * mean(spend_c)``
(currency), logistic ``lam = lam_scaled / mean(spend_c)``, ``beta = beta_scaled *
mean(kpi)``. Adstocks are stored under their registry names, all normalized over a
window of ``l_max`` periods: ``delayed`` (default), ``weibull_pdf`` in PyMC-Marketing's
convention, and geometric as ``geometric_window``. All are linear in spend, so they
need no unit conversion.

A geo model's result is still national (the contract of :class:`FitResult`): draws of
contribution, ROI and mROI are summed over geos exactly per draw, and the point model
is a national summary (``info["point_estimate"]``); ``draws["geo_contribution"]``
(S, G, C, KPI units) keeps the geo detail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mediamix.data.dataset import Dataset
from mediamix.data.spec import ModelSpec
from mediamix.models.bayes.model import ModelInputs, media_transform
from mediamix.models.bayes.options import BayesOptions
from mediamix.models.design import BaselineDesign, baseline_features
from mediamix.models.result import ChannelFit

__all__ = ["posterior_result"]

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
    the sampler), not one per jax operation, which is much faster to compile.
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


def _adstock_dict(inputs: ModelInputs, median: Mapping[str, np.ndarray], c: int) -> dict[str, Any]:
    """Registry dict of channel ``c``'s adstock at the posterior-median parameters."""
    if inputs.adstock == "geometric":
        return {
            "type": "geometric_window",
            "alpha": float(median["alpha"][c]),
            "l_max": inputs.l_max,
            "normalize": True,
        }
    if inputs.adstock == "delayed":
        return {
            "type": "delayed",
            "alpha": float(median["alpha"][c]),
            "theta": float(median["theta"][c]),
            "l_max": inputs.l_max,
            "normalize": True,
        }
    return {
        "type": "weibull_pdf",
        "shape": float(median["shape"][c]),
        "scale": float(median["scale"][c]),
        "convention": "pymc",
        "l_max": inputs.l_max,
        "normalize": True,
    }


def _saturation_dict(
    inputs: ModelInputs, median: Mapping[str, np.ndarray], c: int, spend_scale: np.ndarray
) -> dict[str, Any]:
    """Registry dict of channel ``c``'s saturation at the posterior median, in currency."""
    if inputs.saturation == "hill":
        return {
            "type": "hill",
            "half_saturation": float(median["half_saturation"][c] * spend_scale[c]),
            "slope": float(median["slope"][c]),
        }
    return {"type": "logistic", "lam": float(median["lam"][c] / spend_scale[c])}


# Long (about 85 lines): one pass from draws to the result fields, whose intermediate
# arrays (per-draw media sums, geo betas, scales) every step shares.
def posterior_result(
    data: Dataset,
    spec: ModelSpec,
    design: BaselineDesign,
    inputs: ModelInputs,
    scales: Mapping[str, Any],
    samples: Mapping[str, np.ndarray],
    options: BayesOptions,
) -> dict[str, Any]:
    """The result's fields (channels, baseline, ROI intervals, draws) from posterior draws."""
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
    # beta: set from the posterior-median contribution below
    channels = {
        ch: ChannelFit(
            adstock=_adstock_dict(inputs, median, c),
            saturation=_saturation_dict(inputs, median, c, spend_scale),
            beta=0.0,
        )
        for c, ch in enumerate(data.channels)
    }

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
        channels = _median_contributions(data, channels, contribution)
        intercept, baseline_coef = _national_baseline(
            data, design, inputs, samples, scales, geo_intercept
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


def _national_baseline(
    data: Dataset,
    design: BaselineDesign,
    inputs: ModelInputs,
    samples: Mapping[str, np.ndarray],
    scales: Mapping[str, Any],
    geo_intercept: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Intercept and baseline coefficients of the national summary of a geo fit.

    Geo effects and per-capita transforms do not collapse exactly into one national
    curve, so the national point model keeps the posterior-median transforms (with
    ``K`` in national currency) and the posterior-median contributions of
    :func:`_median_contributions`; its baseline, returned here, is the least-squares
    fit, on the national features, of the posterior mean national baseline (sum over
    geos). ``geo_intercept`` (S, G) is each draw's baseline level per geo.
    """
    y_scale = float(scales["y_scale"])
    pop = np.asarray(scales["population"], dtype=float)
    base = geo_intercept.mean(axis=0)[:, None] * np.ones(inputs.x.shape[1])[None]
    if "gamma" in samples:
        base = base + inputs.z @ np.asarray(samples["gamma"], dtype=float).mean(axis=0)
    national_base = y_scale * np.sum(pop[:, None] * base, axis=0)  # (T,)
    features = baseline_features(design, data)
    X = np.column_stack([np.ones(len(national_base)), features])
    coef = np.linalg.lstsq(X, national_base, rcond=None)[0]
    return float(coef[0]), np.asarray(coef[1:], dtype=float)
