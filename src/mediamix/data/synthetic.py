"""Synthetic MMM data with known truth, deterministic by seed.

The generating process is additive::

    kpi[g, t] = baseline[g, t] + sum_c beta[c] * pop[g] * sat_c(adstock_c(spend[g, :, c] / pop[g]))[t]
                + noise[g, t]

    baseline  = intercept * (1 + trend_t + seasonality_t) + events + controls

Each channel draws its carry-over (geometric, Weibull PDF with a delayed peak, or
delayed geometric) and its saturation (Hill with slope 0.8-2.5, or logistic) from
the registry in :mod:`mediamix.transforms`, so ``truth.json`` can be read back into
the same transform objects. Betas are set so that media makes up ``media_share`` of
the KPI. The truth holds per channel the contribution, ROI and mROI by the
definitions of ``summary.json`` (``docs/formats.md``), computed on the noise-free KPI.

With ``synergy > 0`` the first two channels also interact: a term
``gamma * pop[g] * h_0[g, t] * h_1[g, t]`` (``h_c`` the channel's saturated carry-over,
between 0 and 1) makes up that share of the media effect, the channels' own terms
the rest. It is the form the engines fit (``synergy`` in the spec) and is split
between the two channels in proportion to their own terms in each period, as
:class:`~mediamix.models.result.FitResult` does, so the channels' contributions
still add up to the media effect; ``truth["synergy"]`` holds ``gamma``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mediamix.transforms.registry import adstock_from_dict, saturation_from_dict

__all__ = ["SynthConfig", "SynthResult", "channel_response", "synthesize", "true_plan_response"]

ADSTOCK_KINDS = ("geometric", "weibull_pdf", "delayed")
SATURATION_KINDS = ("hill", "logistic")


@dataclass(frozen=True)
class SynthConfig:
    """What to generate.

    Attributes
    ----------
    seed : int
        Everything is deterministic given the seed.
    weeks, channels, geos : int
        Shape of the data (a single geo means national data, no geo column).
    noise : float
        Noise standard deviation as a share of the mean KPI (0.04 = 4%).
    media_share : float or None
        Share of the KPI driven by paid media; drawn from 0.15-0.40 when None.
    adstock_kinds, saturation_kinds : tuple of str
        Registry names the channels cycle through.
    events, controls : int
        Number of one-week event dummies and of continuous controls.
    start : str
        First Monday.
    kpi_type : str
        ``revenue`` or ``conversions``.
    synergy : float
        Share of the media effect from an interaction of the first two channels
        (0: none; needs at least two channels).
    """

    seed: int = 0
    weeks: int = 156
    channels: int = 4
    geos: int = 1
    noise: float = 0.04
    media_share: float | None = None
    adstock_kinds: tuple[str, ...] = ADSTOCK_KINDS
    saturation_kinds: tuple[str, ...] = SATURATION_KINDS
    events: int = 2
    controls: int = 1
    start: str = "2021-01-04"
    kpi_type: str = "revenue"
    synergy: float = 0.0


@dataclass(frozen=True)
class SynthResult:
    """The generated table, a spec for it and the truth."""

    frame: pd.DataFrame
    spec: dict[str, Any]
    truth: dict[str, Any] = field(repr=False)


_CHANNEL_NAMES = (
    "tv",
    "search",
    "social",
    "display",
    "radio",
    "ooh",
    "print",
    "video",
    "podcast",
    "email",
    "affiliate",
    "cinema",
)


def _channel_names(n: int) -> list[str]:
    if n <= len(_CHANNEL_NAMES):
        return list(_CHANNEL_NAMES[:n])
    return [*list(_CHANNEL_NAMES), *[f"channel_{i}" for i in range(len(_CHANNEL_NAMES), n)]]


def _spend_patterns(rng: np.random.Generator, weeks: int, n: int) -> np.ndarray:
    """Weekly national spend (T, C): always-on, flighted and seasonal patterns."""
    t = np.arange(weeks)
    out = np.zeros((weeks, n))
    for c in range(n):
        level = float(np.exp(rng.uniform(np.log(5_000), np.log(60_000))))
        kind = c % 3
        noise = rng.gamma(3.0, 1 / 3.0, weeks)
        if kind == 0:  # always on, seasonal, with pulses
            shape = 1 + 0.6 * np.sin(2 * np.pi * (t / 52.0 + rng.uniform()))
        elif kind == 1:  # flighted: bursts of 2-6 weeks on, then off
            shape = np.zeros(weeks)
            pos = int(rng.integers(0, 4))
            while pos < weeks:
                on = int(rng.integers(2, 7))
                shape[pos : pos + on] = rng.uniform(1.0, 2.5)
                pos += on + int(rng.integers(1, 6))
        else:  # growing with noise
            shape = np.linspace(0.6, 1.4, weeks) * (rng.uniform(size=weeks) > 0.15)
        out[:, c] = level * shape * noise
    return out


def _draw_adstock(rng: np.random.Generator, kind: str) -> dict[str, Any]:
    if kind == "geometric":
        return {"type": "geometric", "alpha": round(float(rng.uniform(0.1, 0.7)), 3)}
    if kind == "weibull_pdf":
        return {
            "type": "weibull_pdf",
            "shape": round(float(rng.uniform(1.5, 3.0)), 3),
            "scale": round(float(rng.uniform(1.0, 4.0)), 3),
            "convention": "pymc",
            "l_max": 13,
            "normalize": True,
        }
    if kind == "delayed":
        return {
            "type": "delayed",
            "alpha": round(float(rng.uniform(0.3, 0.7)), 3),
            "theta": round(float(rng.uniform(1.0, 3.0)), 3),
            "l_max": 13,
            "normalize": True,
        }
    raise ValueError(f"unknown adstock kind {kind!r}")


def _draw_saturation(rng: np.random.Generator, kind: str, scale: float) -> dict[str, Any]:
    if kind == "hill":
        return {
            "type": "hill",
            "half_saturation": float(scale * rng.uniform(0.7, 2.0)),
            "slope": round(float(rng.uniform(0.8, 2.5)), 3),
        }
    if kind == "logistic":
        return {"type": "logistic", "lam": float(rng.uniform(0.7, 2.0) / scale)}
    raise ValueError(f"unknown saturation kind {kind!r}")


def channel_response(
    spend: np.ndarray, adstock: dict[str, Any], saturation: dict[str, Any], beta: float
) -> np.ndarray:
    """Response of one channel, ``beta * sat(adstock(spend))``, over the periods.

    ``spend`` has shape (T,) or (G, T) with per-capita spend; the result has the
    same shape.
    """
    ad = adstock_from_dict(adstock)
    sat = saturation_from_dict(saturation)
    x = np.atleast_2d(np.asarray(spend, dtype=float))
    out = np.stack([beta * sat.apply(ad.apply(row)) for row in x])
    return out.reshape(np.shape(spend))


def synthesize(config: SynthConfig) -> SynthResult:
    """Generate a dataset, its spec and its truth.

    Examples
    --------
    >>> res = synthesize(SynthConfig(seed=1, weeks=104, channels=3))
    >>> res.frame.shape[0], sorted(res.truth["channels"]) == sorted(res.spec["channels"])
    (104, True)
    """
    rng = np.random.default_rng(config.seed)
    weeks, n_ch, n_geo = config.weeks, config.channels, max(1, config.geos)
    names = _channel_names(n_ch)
    dates = pd.date_range(config.start, periods=weeks, freq="7D")
    t = np.arange(weeks)

    # geo populations (shares sum to 1); national data is one geo with share 1
    pop_share = rng.dirichlet(np.full(n_geo, 4.0)) if n_geo > 1 else np.ones(1)
    population = np.round(pop_share * 10_000_000)

    national_spend = _spend_patterns(rng, weeks, n_ch)
    geo_noise = (
        rng.gamma(20.0, 1 / 20.0, (n_geo, weeks, n_ch)) if n_geo > 1 else np.ones((1, weeks, n_ch))
    )
    spend = national_spend[None] * pop_share[:, None, None] * geo_noise  # (G, T, C)

    # baseline
    intercept = float(rng.uniform(50_000, 200_000))
    trend = float(rng.uniform(-0.1, 0.3)) * t / weeks
    phase = rng.uniform(0, 2 * np.pi)
    doy = dates.day_of_year.to_numpy()
    season = float(rng.uniform(0.05, 0.15)) * np.sin(2 * np.pi * doy / 365.25 + phase) + float(
        rng.uniform(0.0, 0.06)
    ) * np.cos(4 * np.pi * doy / 365.25)
    event_cols: dict[str, np.ndarray] = {}
    event_effect = np.zeros(weeks)
    for e in range(config.events):
        dummy = np.zeros(weeks)
        dummy[rng.choice(weeks, size=max(1, weeks // 52), replace=False)] = 1.0
        effect = float(rng.uniform(0.05, 0.25)) * intercept
        event_cols[f"event_{e + 1}"] = dummy
        event_effect += effect * dummy
    control_cols: dict[str, np.ndarray] = {}
    control_effect = np.zeros(weeks)
    control_coefs: dict[str, float] = {}
    for k in range(config.controls):
        name = "price_index" if k == 0 else f"control_{k + 1}"
        series = 100 + np.cumsum(rng.normal(0, 0.8, weeks))
        series = series - series.mean() + 100
        coef = -float(rng.uniform(0.002, 0.01)) * intercept
        control_cols[name] = series
        control_effect += coef * (series - 100)
        control_coefs[name] = coef
    baseline_nat = intercept * (1 + trend + season) + event_effect + control_effect

    # Spend levels in currency: each channel spends 1.5-6% of the weekly baseline on
    # average, so true ROIs land where real media plans do (about 0.5-5). A separate
    # stream keeps every other draw unchanged; half-saturation scales with spend, so
    # this changes the currency units of spend only, not the KPI.
    level_rng = np.random.default_rng([config.seed, 7])
    target = intercept * level_rng.uniform(0.015, 0.06, n_ch)
    national_spend = national_spend * (target / np.maximum(national_spend.mean(axis=0), 1e-12))
    spend = national_spend[None] * pop_share[:, None, None] * geo_noise
    baseline = baseline_nat[None] * pop_share[:, None]

    # media: transforms on per-capita spend, so one parameter set serves every geo
    per_capita = spend / pop_share[:, None, None]
    adstocks, saturations = [], []
    sat_values = np.zeros((n_geo, weeks, n_ch))
    for c in range(n_ch):
        ad = _draw_adstock(rng, config.adstock_kinds[c % len(config.adstock_kinds)])
        ad_obj = adstock_from_dict(ad)
        adstocked = np.stack([ad_obj.apply(per_capita[g, :, c]) for g in range(n_geo)])
        scale = float(np.mean(adstocked[adstocked > 0])) if np.any(adstocked > 0) else 1.0
        sat = _draw_saturation(
            rng,
            config.saturation_kinds[
                (c // len(config.adstock_kinds) + c) % len(config.saturation_kinds)
            ],
            scale,
        )
        sat_values[:, :, c] = saturation_from_dict(sat).apply(adstocked)
        adstocks.append(ad)
        saturations.append(sat)
    media_share = (
        config.media_share if config.media_share is not None else float(rng.uniform(0.15, 0.40))
    )
    shares = rng.dirichlet(np.full(n_ch, 2.0))
    media_total = media_share / (1 - media_share) * float(baseline.sum())
    weighted = (sat_values * pop_share[:, None, None]).sum(axis=(0, 1))
    syn = float(config.synergy) if n_ch >= 2 else 0.0
    betas = shares * (1.0 - syn) * media_total / np.maximum(weighted, 1e-12)
    contributions = sat_values * betas * pop_share[:, None, None]  # (G, T, C)
    gamma = _add_synergy(contributions, sat_values, pop_share, syn * media_total)

    clean = baseline + contributions.sum(axis=2)
    noise_sd = config.noise * float(clean.mean())
    kpi = clean + rng.normal(0, noise_sd, clean.shape)
    kpi = np.maximum(kpi, 0.0)

    truth_channels: dict[str, Any] = {}
    total_fitted = float(clean.sum())
    for c, name in enumerate(names):
        contribution = float(contributions[:, :, c].sum())
        bumped = np.stack(
            [
                channel_response(per_capita[g, :, c] * 1.01, adstocks[c], saturations[c], betas[c])
                * pop_share[g]
                for g in range(n_geo)
            ]
        ).sum()
        bumped += _split_term_at(  # the channel's part of the synergy term, if any
            sat_values, per_capita, pop_share, (adstocks, saturations, betas), c, gamma
        )
        total_spend = float(spend[:, :, c].sum())
        mroi = (float(bumped) - contribution) / (0.01 * total_spend) if total_spend > 0 else None
        ratio = contribution / total_spend if total_spend > 0 else None
        truth_channels[name] = {
            "spend": total_spend,
            "contribution": contribution,
            "contribution_share": contribution / total_fitted,
            "roi": ratio if config.kpi_type == "revenue" else None,
            "cpa": (total_spend / contribution if contribution > 0 else None)
            if config.kpi_type == "conversions"
            else None,
            "mroi": mroi,
            "beta": float(betas[c]),
            "adstock": adstocks[c],
            "saturation": saturations[c],
        }

    columns: dict[str, Any] = {"date": np.tile(dates.strftime("%Y-%m-%d"), n_geo)}
    if n_geo > 1:
        geo_names = [f"geo_{g + 1:02d}" for g in range(n_geo)]
        columns["geo"] = np.repeat(geo_names, weeks)
        columns["population"] = np.repeat(population, weeks)
    kpi_name = "revenue" if config.kpi_type == "revenue" else "conversions"
    columns[kpi_name] = np.round(kpi.reshape(-1), 2)
    for c, name in enumerate(names):
        columns[f"{name}_spend"] = np.round(spend[:, :, c].reshape(-1), 2)
    for name, series in control_cols.items():
        columns[name] = np.tile(np.round(series, 4), n_geo)
    for name, dummy in event_cols.items():
        columns[name] = np.tile(dummy.astype(int), n_geo)
    frame = pd.DataFrame(columns)

    spec: dict[str, Any] = {
        "data": "synth.csv",
        "date": "date",
        "kpi": kpi_name,
        "kpi_type": config.kpi_type,
        "channels": {name: {"spend": f"{name}_spend"} for name in names},
        "controls": list(control_cols),
        "events": list(event_cols),
        "seasonality": {"yearly": 2},
    }
    if n_geo > 1:
        spec["geo"] = "geo"
        spec["population"] = "population"
    truth = {
        "schema_version": 1,
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
        "kpi": kpi_name,
        "kpi_type": config.kpi_type,
        "start": str(dates[0].date()),
        "end": str(dates[-1].date()),
        "n_periods": weeks,
        "media_share": media_share,
        "noise_sd": noise_sd,
        "population_share": [float(s) for s in pop_share],
        "baseline": {
            "intercept": intercept,
            "events": list(event_cols),
            "control_coefficients": control_coefs,
        },
        "channels": truth_channels,
    }
    if gamma > 0:
        spec["synergy"] = [[names[0], names[1]]]
        truth["synergy"] = [{"channels": [names[0], names[1]], "gamma": gamma}]
    return SynthResult(frame=frame, spec=spec, truth=truth)


def _add_synergy(
    contributions: np.ndarray, sat_values: np.ndarray, pop_share: np.ndarray, effect: float
) -> float:
    """Add a synergy term worth ``effect`` (KPI) on the first two channels, in place.

    Returns its ``gamma`` (0 when ``effect`` is 0). The term is split between the two
    channels in proportion to their own terms in each period.
    """
    if effect <= 0:
        return 0.0
    pair = sat_values[:, :, 0] * sat_values[:, :, 1]
    gamma = effect / max(float((pair * pop_share[:, None]).sum()), 1e-12)
    term = gamma * pair * pop_share[:, None]
    own = contributions[:, :, 0] + contributions[:, :, 1]
    split = np.divide(contributions[:, :, 0], own, out=np.full(own.shape, 0.5), where=own > 0)
    contributions[:, :, 0] += term * split
    contributions[:, :, 1] += term * (1.0 - split)
    return gamma


def _split_term_at(
    sat_values: np.ndarray,
    per_capita: np.ndarray,
    pop_share: np.ndarray,
    curves: tuple[list[dict[str, Any]], list[dict[str, Any]], np.ndarray],
    c: int,
    gamma: float,
) -> float:
    """Channel ``c``'s share of the synergy term with its spend x 1.01 (for the true mROI)."""
    if gamma <= 0 or c >= 2:
        return 0.0
    adstocks, saturations, betas = curves
    other = 1 - c
    total = 0.0
    for g in range(len(pop_share)):
        h = saturation_from_dict(saturations[c]).apply(
            adstock_from_dict(adstocks[c]).apply(per_capita[g, :, c] * 1.01)
        )
        own_c = betas[c] * h
        own_o = betas[other] * sat_values[g, :, other]
        term = gamma * h * sat_values[g, :, other]
        share = np.divide(own_c, own_c + own_o, out=np.full(h.shape, 0.5), where=own_c + own_o > 0)
        total += float((term * share).sum()) * pop_share[g]
    return total


def true_plan_response(
    truth: dict[str, Any], history: np.ndarray, plan_totals: dict[str, float]
) -> float:
    """True media response of a plan, for judging recommended budgets.

    The plan spends ``plan_totals[c]`` on channel ``c`` over as many periods as
    ``history`` has, in the same weekly pattern as the history (national spend,
    shape (T, C), channels in truth order), so the historical totals reproduce the
    true contributions. National truth only (one geo).
    """
    names = list(truth["channels"])
    total = 0.0
    h: dict[str, np.ndarray] = {}
    for c, name in enumerate(names):
        info = truth["channels"][name]
        hist = history[:, c]
        hist_total = float(hist.sum())
        spend = hist * (plan_totals[name] / hist_total) if hist_total > 0 else 0.0 * hist
        h[name] = channel_response(spend, info["adstock"], info["saturation"], 1.0)
        total += float(info["beta"] * h[name].sum())
    for term in truth.get("synergy", []):
        a, b = term["channels"]
        total += float(term["gamma"] * (h[a] * h[b]).sum())
    return total
