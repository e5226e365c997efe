"""Settings of the Bayesian engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from mediamix.models.bayes.model import AdstockKind, Likelihood, MediaPrior, SaturationKind

__all__ = ["BayesOptions", "Method"]

Method = Literal["nuts", "svi", "map"]


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
        ``None`` (default): 0.95 for a national model (fewer divergences than 0.9 at
        about the same fit time), 0.9 for a geo model (the setting its benchmark was
        measured with); figures in ``benchmarks/results/bayes.md``.
    max_tree_depth : int
    dense_mass : bool, optional
        Adapt a dense mass matrix instead of a diagonal one. ``None`` (default): dense
        blocks for a geo model (dense over the shared parameters, diagonal over the
        per-geo ones, as measured in its benchmark), diagonal for a national one: since the
        national model samples the mean fitted KPI rather than the intercept (see
        :mod:`mediamix.models.bayes.model`), the strong posterior correlation between
        intercept and media effects is gone, and a diagonal mass matrix gave more
        effective draws and fewer divergences (``benchmarks/results/bayes.md``).
    svi_steps : int
        Optimization steps for SVI / MAP.
    svi_learning_rate : float
    likelihood : {"normal", "student_t"}
    adstock : {"delayed", "weibull_pdf", "geometric"}
        Used unless the spec names one adstock type for every channel. The default,
        the delayed-peak kernel of Jin et al. (2017) (registry ``delayed``, normalized),
        covers both immediate and delayed carry-over with smooth weights; geometric
        cannot delay the peak (its residuals were twice the noise where channels peak
        late), and the Weibull PDF's min-max scaling has kinks that NUTS trips on (many
        more divergences); figures in ``benchmarks/results/bayes.md``.
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
        national first. Cost grows with ``G x T x C x l_max`` per gradient; the time,
        memory and convergence on Meridian's 40 simulated geos are in
        ``benchmarks/results/bayes.md`` ("Geo model (NUTS)").
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
