r"""The numpyro model of the Bayesian MMM, national or geo, on unit-free scaled data.

Scaling (so the fit does not depend on the currency or KPI unit). With ``G`` geos of
population ``pop_g`` (national data: one geo, ``pop = 1``)::

    y_gt   = (kpi_gt / pop_g) / mean_gt(kpi / pop)              dimensionless, mean 1
    x_gtc  = (spend_gtc / pop_g) / mean_gt(spend_c / pop)       dimensionless, mean 1
    z_gtk  = (feature_gtk - mean_k) / sd_k                      standardized baseline features
    w_g    = pop_g / mean(pop)                                  population weights, mean 1

Model::

    alpha_c ~ Beta(2, 2), theta_c ~ HalfNormal(2)   delayed-peak adstock alpha^((l - theta)^2)
                                                    (window l_max, normalized; default), or
    shape_c ~ Gamma(2, 1), scale_c ~ Gamma(2, 1)    Weibull PDF adstock (PyMC convention), or
    alpha_c ~ Beta(2, 3)                            geometric retention (window, normalized)
    K_c       ~ Gamma(4, 3)                         Hill half-saturation, scaled units: mode at
                                                    the mean spend, mean 1.33, 90% in 0.45-2.6
    s_c       ~ Gamma(3, 2)                         Hill slope
      or lam_c ~ Gamma(3, 2)                        logistic rate, scaled units
    m_gtc     = sat_c(adstock_c(x_gc))_t            in [0, 1); transforms shared by geos

    geo effects (G > 1), pooled toward the national effect (non-centred):
    tau_c ~ HalfNormal(0.2),  eta_gc ~ Normal(0, 1),  u_gc = exp(tau_c eta_gc)    (u = 1 if G = 1)

    media effect, ROI form (default):
    r_c       ~ LogNormal(mu_c, sigma_c)            scaled ROI = roi_c * mean(spend_c/pop) / mean(kpi/pop)
    beta_c    = r_c * sum_g w_g sum_t x_gtc / sum_g w_g u_gc sum_t m_gtc
                                                    so that contribution_c / spend_c = roi_c exactly
    coefficient form:
    beta_c    ~ HalfNormal(beta_scale)
    beta_gc   = beta_c u_gc

    gamma_k ~ Normal(0, 0.25);  sigma ~ HalfNormal(0.2);  b0 ~ Normal(1, 1)
    national (G = 1):
    mu_t      = b0 + sum_k gamma_k z_tk + sum_c beta_c m_tc
      sampled as level = b0 + sum_c beta_c mean_t(m_tc), the mean fitted KPI, with
      b0 = level - sum_c beta_c mean_t(m_tc) derived and the Normal(1, 1) density on b0
      (unit Jacobian: the same posterior). When a channel's curve is nearly flat (low
      slope, or K far below the spend), its effect and b0 trade off along a ridge that
      bends with the curve's shape, a funnel for NUTS; the level is fixed by the data
      whatever the shape (the divergences it removed: benchmarks/results/bayes.md).
    geo (G > 1), geo levels centred, media centred on each geo's own mean:
    sd_b ~ HalfNormal(0.5),  level_g ~ Normal(b0, sd_b)
    mu_gt     = level_g + sum_k gamma_k z_gtk + sum_c beta_gc (m_gtc - mean_t m_gtc)
    b0_g      = level_g - sum_c beta_gc mean_t m_gtc         the geo's baseline intercept
    y_gt      ~ Normal(mu_gt, sigma)   or   StudentT(nu, mu_gt, sigma), nu ~ Gamma(2, 0.1)

    lift test i on channel c over periods W_i (national KPI units / (mean(kpi/pop) mean(pop))):
    lift_i    ~ Normal(sum_g w_g beta_gc sum_{t in W_i} m_gtc, se_i)

An ROI prior given by the user as (mean, sd) in KPI per currency becomes a
log-normal with that mean and sd, then moved to the scaled ROI. The default ROI prior
is centred on the ROI every channel would have if paid media drove ``media_share`` of
the KPI in proportion to spend (so it, too, follows the units of the data), with
log-sd ``roi_sigma``. The per-capita likelihood gives every geo the same noise scale
(Meridian does the same by default).

Why the geo model has this form (on Meridian's simulated 40 geos x 156 weeks):
a geo's 156 periods pin its level (posterior sd about 0.02 of the mean KPI) far more
tightly than the geos spread (``sd_b`` about 0.1), which is where a non-centred level
``b0 + sd_b eps_g`` gives NUTS a narrow curved valley; and with uncentred media every
change in a media effect's mean moves all 40 levels with it. The geo media effects
stay non-centred (``eta``): a geo's 156 noisy periods say little about its own effect
of one channel, and Meridian's ``beta_gm = exp(beta_m + eta_m z_gm)`` makes the same
choice. Geo levels are near fixed effects, as Meridian's ``tau_g`` are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = [
    "AdstockKind",
    "Likelihood",
    "MediaPrior",
    "ModelInputs",
    "ModelSettings",
    "SaturationKind",
    "lognormal_from_mean_sd",
    "mmm_model",
    "prepare_inputs",
]

AdstockKind = Literal["geometric", "weibull_pdf", "delayed"]
SaturationKind = Literal["hill", "logistic"]
Likelihood = Literal["normal", "student_t"]
MediaPrior = Literal["roi", "coefficient"]


@dataclass(frozen=True)
class ModelInputs:
    """Scaled arrays and prior settings the numpyro model reads (plain numpy).

    Attributes
    ----------
    x : ndarray (G, T, C)
        Per-capita spend divided by each channel's mean per-capita spend.
    y : ndarray (G, T)
        Per-capita KPI divided by its mean.
    z : ndarray (G, T, K)
        Standardized baseline features.
    w : ndarray (G,)
        Population weights, mean 1 (ones for national data).
    roi_mu, roi_sigma : ndarray (C,)
        Log-normal prior of the scaled ROI.
    lift_channel : ndarray (N,) int
        Channel index of each lift test.
    lift_mask : ndarray (N, T)
        1 for the periods a test covers.
    lift_value, lift_se : ndarray (N,)
        Lift and its standard error (national KPI units), divided by
        ``mean(kpi/pop) * mean(pop)``.
    keep_mu : bool
        Geo models only: record the deterministic ``mu`` (G, T) and ``beta_geo``
        (G, C). National models always record ``mu``.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    w: np.ndarray
    roi_mu: np.ndarray
    roi_sigma: np.ndarray
    lift_channel: np.ndarray
    lift_mask: np.ndarray
    lift_value: np.ndarray
    lift_se: np.ndarray
    adstock: AdstockKind = "geometric"
    l_max: int = 13
    saturation: SaturationKind = "hill"
    likelihood: Likelihood = "normal"
    media_prior: MediaPrior = "roi"
    beta_scale: float = 1.0
    keep_mu: bool = True


def lognormal_from_mean_sd(mean: float, sd: float) -> tuple[float, float]:
    r"""``(mu, sigma)`` of the log-normal with the given mean and standard deviation.

    .. math:: \sigma^2 = \ln(1 + sd^2 / mean^2), \qquad \mu = \ln(mean) - \sigma^2 / 2

    Examples
    --------
    >>> mu, sigma = lognormal_from_mean_sd(2.0, 1.0)
    >>> round(float(np.exp(mu + sigma**2 / 2)), 6)
    2.0
    """
    if mean <= 0 or sd <= 0:
        raise ValueError(f"an ROI prior needs mean > 0 and sd > 0, got ({mean}, {sd})")
    sigma2 = float(np.log1p((sd / mean) ** 2))
    return float(np.log(mean) - sigma2 / 2), float(np.sqrt(sigma2))


@dataclass(frozen=True)
class ModelSettings:
    """The model's form and priors, as :func:`prepare_inputs` needs them.

    ``fit_bayes`` builds them from :class:`~mediamix.models.bayes.options.BayesOptions`
    (whose defaults these are) and the transform types the spec asks for.

    Attributes
    ----------
    adstock, l_max, saturation, likelihood, media_prior, beta_scale
        The form of the model (see :class:`ModelInputs`).
    roi_prior : mapping channel index -> (mean, sd)
        User ROI priors in KPI per currency.
    media_share : float
        Share of the KPI the default ROI prior attributes to paid media.
    roi_sigma : float
        Log-sd of the default ROI prior.
    """

    adstock: AdstockKind = "delayed"
    l_max: int = 13
    saturation: SaturationKind = "hill"
    likelihood: Likelihood = "normal"
    media_prior: MediaPrior = "roi"
    beta_scale: float = 1.0
    roi_prior: Mapping[int, tuple[float, float]] = field(default_factory=dict)
    media_share: float = 0.2
    roi_sigma: float = 1.0


def prepare_inputs(
    *,
    spend: np.ndarray,
    kpi: np.ndarray,
    features: np.ndarray,
    lifts: list[tuple[int, np.ndarray, float, float]],
    settings: ModelSettings,
    population: np.ndarray | None = None,
) -> tuple[ModelInputs, dict[str, Any]]:
    """Scale raw arrays for :func:`mmm_model`; returns the inputs and the scales.

    Parameters
    ----------
    spend : ndarray (G, T, C) or (T, C)
        Currency units, every channel with positive total spend.
    kpi : ndarray (G, T) or (T,)
        KPI units, positive mean.
    features : ndarray (G, T, K) or (T, K)
        Raw baseline features (:func:`mediamix.models.design.baseline_features`).
    lifts : list of (channel index, mask (T,), lift, se)
        Lift tests in national KPI units.
    settings : ModelSettings
        The model's form and priors.
    population : ndarray (G,), optional
        Geo populations; ``None`` (or one geo) means no per-capita scaling.

    Returns
    -------
    inputs : ModelInputs
    scales : dict
        ``y_scale`` (float, per capita), ``spend_scale`` (C,), ``population`` (G,),
        ``feature_mean`` (K,), ``feature_sd`` (K,).
    """
    if spend.ndim == 2:
        spend, kpi, features = spend[None], kpi[None], features[None]
    n_geos, n_periods, n_channels = spend.shape
    pop = (
        np.asarray(population, dtype=float)
        if population is not None and n_geos > 1
        else np.ones(n_geos)
    )
    kpi_pc = kpi / pop[:, None]
    spend_pc = spend / pop[:, None, None]
    y_scale = float(np.mean(kpi_pc))
    spend_scale = spend_pc.mean(axis=(0, 1))
    x = spend_pc / spend_scale
    y = kpi_pc / y_scale
    flat = features.reshape(n_geos * n_periods, features.shape[-1])
    mu_f = flat.mean(axis=0)
    sd_f = flat.std(axis=0)
    sd_f = np.where(sd_f > 0, sd_f, 1.0)
    z = (features - mu_f) / sd_f

    roi_ref = settings.media_share * float(kpi.sum()) / float(spend.sum())
    roi_mu = np.empty(n_channels)
    roi_sd = np.empty(n_channels)
    for c in range(n_channels):
        if c in settings.roi_prior:
            mu, sigma = lognormal_from_mean_sd(*settings.roi_prior[c])
        else:
            mu, sigma = float(np.log(roi_ref)), settings.roi_sigma
        # scaled ROI r = roi * spend_scale / y_scale
        roi_mu[c] = mu + np.log(spend_scale[c] / y_scale)
        roi_sd[c] = sigma

    lift_unit = y_scale * float(pop.mean())
    inputs = ModelInputs(
        x=x,
        y=y,
        z=z,
        w=pop / pop.mean(),
        roi_mu=roi_mu,
        roi_sigma=roi_sd,
        lift_channel=np.array([c for c, *_ in lifts], dtype=np.int64),
        lift_mask=(
            np.stack([m for _, m, *_ in lifts]).astype(float) if lifts else np.zeros((0, n_periods))
        ),
        lift_value=np.array([v / lift_unit for *_, v, _ in lifts], dtype=float),
        lift_se=np.array([s / lift_unit for *_, s in lifts], dtype=float),
        adstock=settings.adstock,
        l_max=settings.l_max,
        saturation=settings.saturation,
        likelihood=settings.likelihood,
        media_prior=settings.media_prior,
        beta_scale=settings.beta_scale,
    )
    scales: dict[str, Any] = {
        "y_scale": y_scale,
        "spend_scale": spend_scale,
        "population": pop,
        "feature_mean": mu_f,
        "feature_sd": sd_f,
    }
    return inputs, scales


def media_transform(inputs: ModelInputs, params: Mapping[str, Any], x: Any) -> Any:
    """Saturated adstocked media ``m`` (``(*batch, G, T, C)``) for transform parameters.

    ``params`` holds ``alpha`` (and ``theta``) or ``shape``/``scale``, and
    ``half_saturation``/``slope`` or ``lam``, each ``(C,)`` or, for a batch of draws,
    ``(S, 1, C)`` (the middle axis for the geos of ``x``, ``(G, T, C)``).
    """
    from mediamix.models.bayes import jax_transforms as jt

    if inputs.adstock == "geometric":
        w = jt.geometric_weights(params["alpha"], inputs.l_max, normalize=True)
    elif inputs.adstock == "delayed":
        w = jt.delayed_weights(params["alpha"], params["theta"], inputs.l_max, normalize=True)
    else:
        w = jt.weibull_pdf_weights(params["shape"], params["scale"], inputs.l_max, normalize=True)
    a = jt.convolve_weights(x, w)
    if inputs.saturation == "hill":
        hs = _align(params["half_saturation"], a.ndim)
        return jt.hill(a, hs, _align(params["slope"], a.ndim))
    return jt.logistic(a, _align(params["lam"], a.ndim))


def _align(p: Any, ndim: int) -> Any:
    """(*batch, C) parameters against (*batch, *data, C) media: insert the data axes."""
    shape = tuple(p.shape)
    if len(shape) <= 1:
        return p
    return p.reshape(shape[:-1] + (1,) * (ndim - len(shape)) + shape[-1:])


# The generative model reads top to bottom as its equations (module docstring); split
# into pieces, its sample sites would hide behind calls.
def mmm_model(inputs: ModelInputs, y: np.ndarray | None = None) -> None:  # noqa: C901, PLR0912, PLR0915
    """The numpyro model (see the module docstring for the equations).

    Sample sites: ``alpha``/``theta``, ``shape``/``scale`` or ``alpha``;
    ``half_saturation``/``slope`` or ``lam``; ``roi_scaled`` (ROI form) or ``beta``
    (coefficient form); ``level`` (national) or ``intercept`` (geos), ``gamma``,
    ``sigma`` (and ``nu``); with geos ``tau`` (C,), ``eta`` (G, C), ``geo_sd``,
    ``geo_level`` (G,). Deterministic: ``beta``, ``roi_scaled``, ``intercept``
    (national), ``mu`` (G, T) and, with geos, ``beta_geo`` (G, C); a geo model records
    the last two only if ``inputs.keep_mu`` (NUTS turns it off, so that no (G, T) array
    is kept per draw). Factor: ``intercept_prior`` (national). Observed: ``y`` (G, T)
    and ``lift`` (when there are lift tests).
    """
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    n_channels = inputs.x.shape[-1]
    n_features = inputs.z.shape[-1]
    params: dict[str, Any] = {}
    with numpyro.plate("channel", n_channels):
        if inputs.adstock == "geometric":
            params["alpha"] = numpyro.sample("alpha", dist.Beta(2.0, 3.0))
        elif inputs.adstock == "delayed":
            params["alpha"] = numpyro.sample("alpha", dist.Beta(2.0, 2.0))
            params["theta"] = numpyro.sample("theta", dist.HalfNormal(2.0))
        else:
            params["shape"] = numpyro.sample("shape", dist.Gamma(2.0, 1.0))
            params["scale"] = numpyro.sample("scale", dist.Gamma(2.0, 1.0))
        if inputs.saturation == "hill":
            # mode at the mean spend, 90% between 0.45 and 2.6 times it: Robyn's inflexion
            # range (gamma 0.3-1 of the adstocked spend's range, about 1-3 times its mean).
            # Gamma(3, 3) put a fifth of its mass below half the mean spend, curves so
            # saturated that the channel's level trades off with the intercept (measured
            # effect: benchmarks/results/bayes.md)
            params["half_saturation"] = numpyro.sample("half_saturation", dist.Gamma(4.0, 3.0))
            params["slope"] = numpyro.sample("slope", dist.Gamma(3.0, 2.0))
        else:
            params["lam"] = numpyro.sample("lam", dist.Gamma(3.0, 2.0))
        if inputs.media_prior == "roi":
            r = numpyro.sample("roi_scaled", dist.LogNormal(inputs.roi_mu, inputs.roi_sigma))
        else:
            beta_c = numpyro.sample("beta", dist.HalfNormal(inputs.beta_scale))

    n_geos = inputs.x.shape[0]
    m = media_transform(inputs, params, inputs.x)  # (G, T, C)
    m_total = jnp.sum(m, axis=1)  # (G, C)
    x_total = inputs.x.sum(axis=1)  # (G, C)
    w = inputs.w[:, None]
    if n_geos > 1:
        tau = numpyro.sample("tau", dist.HalfNormal(0.2).expand([n_channels]).to_event(1))
        eta = numpyro.sample("eta", dist.Normal(0.0, 1.0).expand([n_geos, n_channels]).to_event(2))
        u = jnp.exp(tau * eta)
    else:
        u = jnp.ones((1, n_channels))
    if inputs.media_prior == "roi":
        beta_c = numpyro.deterministic(
            "beta",
            r * jnp.sum(w * x_total, axis=0) / jnp.maximum(jnp.sum(w * u * m_total, axis=0), 1e-12),
        )
        beta_g = beta_c * u
    else:
        beta_g = beta_c * u
        numpyro.deterministic(
            "roi_scaled", jnp.sum(w * beta_g * m_total, axis=0) / jnp.sum(w * x_total, axis=0)
        )
    if n_geos > 1 and inputs.keep_mu:
        numpyro.deterministic("beta_geo", beta_g)

    if n_geos > 1:
        intercept = numpyro.sample("intercept", dist.Normal(1.0, 1.0))
    else:
        # Sample the mean of the fitted KPI, not the intercept: when a channel's curve is
        # nearly flat its effect and the intercept trade off along a ridge that bends
        # with the curve's shape (a funnel for NUTS); the mean is fixed by the data in
        # every curve shape. intercept = level - sum_c beta_c mean_t(m_tc) has a unit
        # Jacobian, so the factor below restores the Normal(1, 1) prior on the
        # intercept exactly: the posterior is unchanged.
        b0_prior = dist.Normal(1.0, 1.0)
        level0 = numpyro.sample("level", b0_prior)
        intercept = numpyro.deterministic(
            "intercept", level0 - jnp.sum(beta_g[0] * jnp.mean(m[0], axis=0))
        )
        numpyro.factor("intercept_prior", b0_prior.log_prob(intercept) - b0_prior.log_prob(level0))
    if n_geos > 1:
        # centred geo levels around media centred on each geo's own mean: 156 periods pin
        # a geo's level far more tightly than geo_sd spreads them, the case where the
        # non-centred form has a narrow curved posterior; centring the media makes the
        # level independent of the size of the media effects
        geo_sd = numpyro.sample("geo_sd", dist.HalfNormal(0.5))
        level = numpyro.sample(
            "geo_level", dist.Normal(intercept, geo_sd).expand([n_geos]).to_event(1)
        )
        m_centred = m - m_total[:, None, :] / m.shape[1]
        mu = level[:, None] + jnp.sum(m_centred * beta_g[:, None, :], axis=-1)  # (G, T)
    else:
        mu = intercept + jnp.sum(m * beta_g[:, None, :], axis=-1)  # (G, T)
    if n_features:
        gamma = numpyro.sample("gamma", dist.Normal(0.0, 0.25).expand([n_features]).to_event(1))
        mu = mu + inputs.z @ gamma
    sigma = numpyro.sample("sigma", dist.HalfNormal(0.2))
    if n_geos == 1 or inputs.keep_mu:
        numpyro.deterministic("mu", mu)
    if inputs.likelihood == "student_t":
        nu = numpyro.sample("nu", dist.Gamma(2.0, 0.1))
        obs_dist: dist.Distribution = dist.StudentT(nu, mu, sigma)
    else:
        obs_dist = dist.Normal(mu, sigma)
    numpyro.sample("y", obs_dist.to_event(2), obs=y)

    if inputs.lift_channel.size:
        # (G, N, T): each test's channel, weighted by its geo effect and population
        m_lift = jnp.moveaxis(m[:, :, inputs.lift_channel], -1, 1)
        per_geo = jnp.sum(inputs.lift_mask[None] * m_lift, axis=-1)  # (G, N)
        implied = jnp.sum(w * beta_g[:, inputs.lift_channel] * per_geo, axis=0)
        numpyro.sample("lift", dist.Normal(implied, inputs.lift_se), obs=inputs.lift_value)
