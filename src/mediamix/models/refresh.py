r"""Refresh a fitted ridge model with new periods, keeping what the new data cannot change.

A weekly refresh should not rewrite history: a model refitted from scratch on the
window plus a few new weeks can move last year's decomposition a lot (Robyn's
refresh users complain of exactly that). Here the refreshed model starts from the
previous fit and changes only what the new weeks justify:

1. **Transforms fixed.** Every channel keeps its adstock and its Hill curve
   (half-saturation in spend units, slope), so a channel's per-period feature
   :math:`h_{tc}` over the earlier periods is exactly the previous one (adstock runs
   forward in time; later spend cannot change an earlier period).
2. **Coefficients re-estimated toward the previous ones.** On the whole window
   (previous periods plus new ones), with ``X = [1, baseline features, h]`` in
   input units and ``c`` the previous coefficients,

   .. math::

       \min_b \lVert y - X b\rVert^2 + \rho\, T \sum_{j \ge 1}
       \mathrm{var}(X_j)\, (b_j - c_j)^2,
       \qquad \beta \ge 0,

   solved by the ridge engine's exact non-negative solver
   (:func:`mediamix.models.search.nonneg_ridge` with a centre). The weights make
   :math:`\rho` free of units: a coefficient change is priced by the variation of the
   KPI it would explain, in the same units as the residuals.
3. **The penalty is as weak as the tolerance allows.** The *movement* of channel
   :math:`c` is :math:`\sum_{t<T_0} |\mathrm{new}_{tc} - \mathrm{old}_{tc}| /
   \sum_{t<T_0} \mathrm{old}_{tc}` over the :math:`T_0` earlier periods (with fixed
   transforms it equals :math:`|\beta^{new}_c / \beta^{old}_c - 1|`). :math:`\rho`
   starts at a floor and grows (then bisects, on a log scale) to the smallest value
   whose largest movement is within the tolerance, so the new weeks move the
   coefficients as far as the tolerance allows and no further. A channel the
   previous fit gave no effect keeps none (any effect would move its earlier periods
   by more than any share of zero).

The change of each channel's ROI from the previous window to the refreshed one is
split exactly into a *coefficient* part (re-estimated on the new data) and a *spend*
part (the new periods' spend sits elsewhere on the fixed response curve)::

    roi_new - roi_old = (beta_new - beta_old) * S_new / X_new          # new data
                      + beta_old * (S_new / X_new - S_old / X_old)     # new spend levels

with ``S`` the summed channel feature and ``X`` the summed spend of each window.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mediamix.data.dataset import Dataset
from mediamix.errors import InputError
from mediamix.models.design import baseline_features
from mediamix.models.result import ChannelFit, FitResult
from mediamix.models.search import nonneg_ridge

__all__ = ["RefreshOptions", "Refreshed", "refresh_ridge"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

# Relative change of a channel's ROI below which a cause is not named.
_MATERIAL = 0.01


@dataclass(frozen=True)
class RefreshOptions:
    """Settings of a refresh.

    Attributes
    ----------
    tolerance : float
        Largest movement of any channel's contribution over the earlier periods, as
        a share of that channel's previous total over them (module docstring).
    min_penalty, max_penalty : float
        Range of the unit-free penalty :math:`\\rho` searched. At ``min_penalty``
        the coefficients are nearly those of an unpenalized refit on the new window.
    bisections : int
        Halvings of the log-range once a penalty within the tolerance is found.
    """

    tolerance: float = 0.05
    min_penalty: float = 1e-3
    max_penalty: float = 1e8
    bisections: int = 30


@dataclass(frozen=True)
class Refreshed:
    """A refreshed model and what the refresh did.

    Attributes
    ----------
    result : FitResult
        The refreshed model over the whole window (previous periods + new ones).
    report : dict
        JSON-ready: tolerance, chosen penalty, movement per channel, ROI change per
        channel with its causes, the baseline's movement, the previous model's error
        on the new periods.
    """

    result: FitResult
    report: dict[str, Any]


def _unit_features(previous: FitResult, spend: np.ndarray) -> np.ndarray:
    """Each channel's saturated adstocked spend (T, C) with the previous transforms."""
    return np.column_stack(
        [
            ChannelFit(fit.adstock, fit.saturation, 1.0).response(spend[:, c])
            for c, fit in enumerate(previous.channels.values())
        ]
    )


def _movement(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Per column: sum |new - old| / |sum old| (0 where both are 0, inf where only old is)."""
    moved = np.abs(new - old).sum(axis=0)
    base = np.abs(old.sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(
            base > 0, moved / np.where(base > 0, base, 1.0), np.where(moved > 0, np.inf, 0.0)
        )
    return np.asarray(out, float)


def _nrmse(actual: np.ndarray, fitted: np.ndarray) -> float | None:
    spread = float(np.ptp(actual))
    if actual.size == 0 or spread == 0:
        return None
    return float(np.sqrt(np.mean((actual - fitted) ** 2)) / spread)


def _check(previous: FitResult, data: Dataset) -> int:
    """Number of previous periods; refuses what a refresh cannot do."""
    if previous.engine != "ridge":
        raise InputError.single(
            f"refresh works on ridge models; this model's engine is {previous.engine!r}",
            column="--model",
        )
    if previous.synergy:
        raise InputError.single(
            "refresh of a model with synergy terms is not supported", column="--model"
        )
    if tuple(data.channels) != previous.channel_names:
        raise InputError.single(
            f"the data's channels {list(data.channels)} differ from the model's "
            f"{list(previous.channel_names)}",
            column="channels",
        )
    n_prev = previous.data.n_periods
    if data.n_periods <= n_prev or not np.array_equal(
        data.dates[:n_prev], previous.data.dates.astype("datetime64[D]")
    ):
        raise InputError.single(
            "the data must be the model's window followed by at least one new period",
            column="date",
        )
    return n_prev


def refresh_ridge(
    previous: FitResult,
    data: Dataset,
    options: RefreshOptions | None = None,
    progress: Progress | None = None,
) -> Refreshed:
    """Refit a ridge model on its window plus new periods, moving history within a tolerance.

    Parameters
    ----------
    previous : FitResult
        The ridge model to refresh (transforms kept, coefficients the penalty's centre).
    data : Dataset
        The previous window followed by the new periods (national; geo data is summed).
        The caller checks that the earlier periods agree with ``previous.data``.
    options : RefreshOptions, optional
    progress : callable(fraction, message), optional

    Returns
    -------
    Refreshed
        The refreshed result (same transforms and baseline design, new coefficients,
        ``info["refresh"]`` holding the report) and the report.

    Raises
    ------
    InputError
        Not a ridge model, synergy terms, other channels, or no new period.

    Examples
    --------
    >>> from mediamix.models.result import example_result
    >>> full = example_result(60)
    >>> previous = dataclasses.replace(full, data=_head(full.data, 52))
    >>> out = refresh_ridge(previous, full.data)
    >>> out.report["within_tolerance"], out.result.data.n_periods
    (True, 60)
    >>> bool(max(c["movement"] for c in out.report["channels"].values()) <= 0.05)
    True
    """
    options = options or RefreshOptions()
    data = data.national()
    n_prev = _check(previous, data)
    T = data.n_periods
    y = np.asarray(data.kpi[0], float)
    spend = np.asarray(data.spend[0], float)
    H = _unit_features(previous, spend)
    F = baseline_features(previous.design, data)
    k = F.shape[1]
    betas = np.array([fit.beta for fit in previous.channels.values()], float)
    active = betas > 0
    X = np.column_stack([np.ones(T), F, H[:, active]])
    center = np.concatenate([[previous.intercept], previous.baseline_coef, betas[active]])
    var = X.var(axis=0)
    weights = np.maximum(var, 1e-12 * float(var[1:].max(initial=1.0)))
    weights[0] = 0.0
    old_media = previous.media_components()
    n_active = int(active.sum())

    def solve(rho: float) -> tuple[np.ndarray, np.ndarray]:
        coef = nonneg_ridge(X, y, rho, n_active, weights, center)
        beta = np.zeros_like(betas)
        beta[active] = coef[1 + k :]
        return coef, _movement(old_media, H[:n_prev] * beta)

    rho, coef, moved, steps = _weakest_penalty(solve, options)
    if progress:
        progress(0.9, f"penalty {rho:.3g} after {steps} solves")
    beta = np.zeros_like(betas)
    beta[active] = coef[1 + k :]
    channels = {
        name: ChannelFit(adstock=fit.adstock, saturation=fit.saturation, beta=float(beta[c]))
        for c, (name, fit) in enumerate(previous.channels.items())
    }
    result = FitResult(
        engine="ridge",
        spec=previous.spec,
        data=data,
        design=previous.design,
        intercept=float(coef[0]),
        baseline_coef=np.asarray(coef[1 : 1 + k], float),
        channels=channels,
        roi_interval={name: None for name in channels},
        info={},
    )
    report = _report(previous, result, H, n_prev, rho, moved, options)
    result = dataclasses.replace(result, info={"refresh": report})
    if progress:
        progress(1.0, "refreshed")
    return Refreshed(result=result, report=report)


Solve = Callable[[float], tuple[np.ndarray, np.ndarray]]


def _weakest_penalty(
    solve: Solve, options: RefreshOptions
) -> tuple[float, np.ndarray, np.ndarray, int]:
    """The smallest penalty whose largest movement is within the tolerance.

    ``solve(rho)`` gives the coefficients and each channel's movement. From
    ``min_penalty`` the penalty grows tenfold until the movement fits (or
    ``max_penalty`` is reached: the last solution is returned and the report says the
    tolerance was exceeded), then the last step is bisected on a log scale. Returns
    the penalty, its coefficients and movements, and the number of solves.
    """
    tol = options.tolerance
    rho = options.min_penalty
    coef, moved = solve(rho)
    steps = 1
    if moved.max(initial=0.0) <= tol:
        return rho, coef, moved, steps
    lo = hi = rho
    while moved.max(initial=0.0) > tol and hi < options.max_penalty:
        lo, hi = hi, min(hi * 10.0, options.max_penalty)
        coef, moved = solve(hi)
        steps += 1
    if moved.max(initial=0.0) > tol:
        return hi, coef, moved, steps
    best = (hi, coef, moved)
    for _ in range(options.bisections):
        if hi / lo < 1.01:
            break
        mid = float(np.sqrt(lo * hi))
        c_mid, m_mid = solve(mid)
        steps += 1
        if m_mid.max(initial=0.0) <= tol:
            hi, best = mid, (mid, c_mid, m_mid)
        else:
            lo = mid
    return (*best, steps)


def _report(
    previous: FitResult,
    result: FitResult,
    H: np.ndarray,
    n_prev: int,
    rho: float,
    moved: np.ndarray,
    options: RefreshOptions,
) -> dict[str, Any]:
    """What the refresh did, per channel and for the baseline (JSON-ready)."""
    data = result.data
    spend = np.asarray(data.spend[0], float)
    prev_spend, new_spend = spend[:n_prev], spend[n_prev:]
    new_periods = data.n_periods - n_prev
    channels: dict[str, Any] = {}
    exceeded = []
    for c, name in enumerate(result.channel_names):
        b_old, b_new = previous.channels[name].beta, result.channels[name].beta
        x_old, x_new = float(prev_spend[:, c].sum()), float(spend[:, c].sum())
        s_old, s_new = float(H[:n_prev, c].sum()), float(H[:, c].sum())
        per_old = s_old / x_old if x_old > 0 else None
        per_new = s_new / x_new if x_new > 0 else None
        roi_old = b_old * per_old if per_old is not None else None
        roi_new = b_new * per_new if per_new is not None else None
        from_data = (b_new - b_old) * per_new if per_new is not None else None
        from_spend = (
            b_old * (per_new - per_old) if per_new is not None and per_old is not None else None
        )
        top = float(prev_spend[:, c].max(initial=0.0))
        above = int(np.sum(new_spend[:, c] > top))
        mean_old = float(prev_spend[:, c].mean()) if n_prev else 0.0
        mean_new = float(new_spend[:, c].mean())
        movement = float(moved[c])
        if movement > options.tolerance:
            exceeded.append(name)
        channels[name] = {
            "movement": movement if np.isfinite(movement) else None,
            "within_tolerance": bool(movement <= options.tolerance),
            "beta_previous": b_old,
            "beta": b_new,
            "coefficient_change": (b_new / b_old - 1.0) if b_old > 0 else None,
            "roi_previous": roi_old,
            "roi": roi_new,
            "roi_change": (roi_new - roi_old)
            if roi_new is not None and roi_old is not None
            else None,
            "roi_change_from_new_data": from_data,
            "roi_change_from_spend_levels": from_spend,
            "roi_change_from_priors": 0.0,
            "previous_max_weekly_spend": top,
            "new_max_weekly_spend": float(new_spend[:, c].max(initial=0.0)),
            "new_periods_above_previous_max": above,
            "mean_spend_ratio": mean_new / mean_old if mean_old > 0 else None,
            "reasons": _reasons(
                roi_old, from_data, from_spend, b_old, b_new, above, new_periods, mean_new, mean_old
            ),
        }
    old_base = previous.baseline_components().sum(axis=1).to_numpy()
    new_base = result.baseline_components().sum(axis=1).to_numpy()[:n_prev]
    base_moved = float(_movement(old_base[:, None], new_base[:, None])[0])
    prev_pred = previous.predict(_tail(data, n_prev))
    actual_new = np.asarray(data.kpi[0][n_prev:], float)
    return {
        "tolerance": options.tolerance,
        "penalty": rho,
        "previous_periods": n_prev,
        "new_periods": new_periods,
        "previous_end": str(previous.data.dates[-1]),
        "first_new_period": str(data.dates[n_prev]),
        "max_movement": float(moved.max(initial=0.0)),
        "within_tolerance": not exceeded,
        "channels_beyond_tolerance": exceeded,
        "transforms": "kept from the previous fit (adstock and Hill curve per channel)",
        "priors": "unchanged: the ridge engine has no priors; the previous fit's spec is kept",
        "baseline_movement": base_moved if np.isfinite(base_moved) else None,
        "previous_model_nrmse_on_new_periods": _nrmse(actual_new, prev_pred["fitted"].to_numpy()),
        "refreshed_nrmse_on_new_periods": _nrmse(actual_new, result.fitted[n_prev:]),
        "channels": channels,
    }


def _reasons(  # noqa: PLR0913 -- one figure per possible cause
    roi_old: float | None,
    from_data: float | None,
    from_spend: float | None,
    b_old: float,
    b_new: float,
    above: int,
    new_periods: int,
    mean_new: float,
    mean_old: float,
) -> list[str]:
    """Plain-language causes of a channel's ROI change, largest first."""
    if roi_old is None or from_data is None or from_spend is None:
        return ["no spend in one of the windows: ROI not defined"]
    scale = max(abs(roi_old), 1e-12)
    out: list[tuple[float, str]] = []
    if abs(from_data) >= _MATERIAL * scale:
        out.append(
            (
                abs(from_data),
                f"new data: the coefficient moved {b_new / b_old - 1.0:+.1%} when re-estimated "
                f"with {new_periods} new periods ({from_data:+.3g} ROI)",
            )
        )
    if abs(from_spend) >= _MATERIAL * scale:
        level = (
            f"{above} new period(s) above the previous maximum weekly spend"
            if above
            else f"new periods' mean spend x{mean_new / mean_old:.2f} the previous mean"
            if mean_old > 0
            else "spend where there was none"
        )
        out.append(
            (
                abs(from_spend),
                f"new spend levels: {level}, elsewhere on the same response curve "
                f"({from_spend:+.3g} ROI)",
            )
        )
    if not out:
        return ["no material change (under 1% of the previous ROI)"]
    return [text for _, text in sorted(out, key=lambda item: -item[0])]


def _head(data: Dataset, n: int) -> Dataset:
    """The first ``n`` periods of a national dataset."""
    return _slice(data, slice(0, n))


def _tail(data: Dataset, n: int) -> Dataset:
    """The periods of a national dataset from index ``n`` on."""
    return _slice(data, slice(n, None))


def _slice(data: Dataset, part: slice) -> Dataset:
    return Dataset(
        dates=data.dates[part],
        geos=data.geos,
        channels=data.channels,
        kpi=data.kpi[:, part],
        spend=data.spend[:, part],
        kpi_name=data.kpi_name,
        kpi_type=data.kpi_type,
        frequency=data.frequency,
        controls=data.controls[:, part],
        control_names=data.control_names,
        organic=data.organic[:, part],
        organic_names=data.organic_names,
        events=data.events[:, part],
        event_names=data.event_names,
        source=data.source,
    )
