"""The fitted model: an immutable result every engine returns.

A :class:`FitResult` is additive::

    fitted[t] = intercept + sum_k coef[k] * baseline_feature[t, k]
                + sum_c beta[c] * saturation_c(adstock_c(spend[:, c]))[t]

with ``beta`` in KPI units and saturation parameters in spend units, so every
number it reports is in the units of the input. It is data: JSON-ready metadata
plus arrays, stored by :mod:`mediamix.io.artifacts` without pickle.

Metric definitions (docs/formats.md, ``summary.json``), over the modeling window:

- contribution_c = sum_t fitted[t] - sum_t fitted[t | spend_c = 0 in every period]
  (carry-over inside the window included; for this additive form it is the sum of
  the channel's component, since every saturation is 0 at 0).
- roi_c = contribution_c / spend_c (revenue KPI); cpa_c = spend_c / contribution_c
  (conversions KPI).
- mroi_c = (contribution_c(spend x 1.01) - contribution_c) / (0.01 * spend_c).
- contribution_share_c = contribution_c / sum_t fitted[t].

Synergy (optional): a term ``gamma_ab * h_a[t] * h_b[t]`` per channel pair, with
``h_c = saturation_c(adstock_c(spend[:, c]))``. It is split between the two
channels in proportion to their own components in that period (half each when
both are zero), so the channel columns of the decomposition still sum, with the
baseline, to the fitted KPI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from mediamix.data.dataset import Dataset
from mediamix.data.spec import Frequency, KpiType
from mediamix.models.design import BaselineDesign, baseline_features
from mediamix.models.info import EngineInfo
from mediamix.models.metrics import fit_metrics
from mediamix.transforms.registry import (
    AdstockTransform,
    SaturationTransform,
    adstock_from_dict,
    saturation_from_dict,
)

__all__ = ["SCHEMA_VERSION", "ChannelFit", "FitResult", "example_result"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ChannelFit:
    """One channel's fitted transforms and coefficient.

    ``beta`` is in KPI units: the channel's response is ``beta * sat(adstock(spend))``.
    """

    adstock: Mapping[str, Any]
    saturation: Mapping[str, Any]
    beta: float

    @cached_property
    def transforms(self) -> tuple[AdstockTransform, SaturationTransform]:
        """The channel's adstock and saturation, built once from their stored dicts.

        A served model answers many predictions; rebuilding (and validating) both
        transforms for each one cost more than applying them.
        """
        return adstock_from_dict(dict(self.adstock)), saturation_from_dict(dict(self.saturation))

    def response(self, spend: np.ndarray) -> np.ndarray:
        """Per-period response to a spend series (T,) in currency units."""
        ad, sat = self.transforms
        return self.beta * np.asarray(sat.apply(ad.apply(np.asarray(spend, float))))

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "adstock": dict(self.adstock),
            "saturation": dict(self.saturation),
            "beta": self.beta,
        }


@dataclass(frozen=True, eq=False)
class FitResult:
    """A fitted MMM over a national modeling window.

    Attributes
    ----------
    engine : str
        ``ridge`` or ``bayes``.
    spec : dict
        The spec the model was fitted from (JSON form).
    data : Dataset
        The national training data.
    design : BaselineDesign
        How baseline features are made.
    intercept : float
        KPI units.
    baseline_coef : ndarray (K,)
        Coefficient per baseline feature, KPI units per feature unit.
    channels : dict of str -> ChannelFit
        Transforms and coefficient per paid channel, in dataset order.
    roi_interval : dict of str -> (low, high) or None
        90% interval per channel where the engine provides one.
    info : dict
        Engine-specific facts (search, selection reason, diagnostics).
    draws : dict of str -> ndarray
        Optional posterior or bootstrap draws (e.g. ``roi`` of shape (S, C)).
    synergy : dict of (str, str) -> float
        Optional interaction coefficient per channel pair, KPI units (see the module
        docstring for how it is split between the two channels).
    """

    engine: str
    spec: Mapping[str, Any]
    data: Dataset
    design: BaselineDesign
    intercept: float
    baseline_coef: np.ndarray
    channels: Mapping[str, ChannelFit]
    roi_interval: Mapping[str, tuple[float, float] | None] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)
    draws: Mapping[str, np.ndarray] = field(default_factory=dict)
    synergy: Mapping[tuple[str, str], float] = field(default_factory=dict)

    @cached_property
    def engine_info(self) -> EngineInfo:
        """The facts of :attr:`info` other code acts on, typed (diagnostics, ensemble,
        Pareto front); see :mod:`mediamix.models.info`."""
        return EngineInfo.from_dict(self.info)

    # ---- decomposition -------------------------------------------------
    @property
    def channel_names(self) -> tuple[str, ...]:
        """Paid channels in dataset order."""
        return tuple(self.channels)

    def media_components(self, spend: np.ndarray | None = None) -> np.ndarray:
        """Per-period response of each channel (T, C) to ``spend`` (default: history)."""
        if spend is None:
            return self._history_media.copy()
        return self._media_response(np.asarray(spend, float))

    @cached_property
    def _history_media(self) -> np.ndarray:
        # the result is immutable: the window's media response is computed once
        out = self._media_response(self.data.spend[0])
        out.setflags(write=False)
        return out

    def _media_response(self, spend: np.ndarray) -> np.ndarray:
        out = np.empty(spend.shape)
        for c, fit in enumerate(self.channels.values()):
            out[:, c] = fit.response(spend[:, c])
        if self.synergy:
            out = self._split_synergy(out, spend)
        return out

    def _split_synergy(self, own: np.ndarray, spend: np.ndarray) -> np.ndarray:
        """Add each synergy term to its two channels in proportion to their own parts."""
        names = list(self.channels)
        out = own.copy()
        for (a, b), gamma in self.synergy.items():
            ia, ib = names.index(a), names.index(b)
            h = []
            for i, name in ((ia, a), (ib, b)):
                ad, sat = self.channels[name].transforms
                h.append(np.asarray(sat.apply(ad.apply(spend[:, i]))))
            term = gamma * h[0] * h[1]
            total = own[:, ia] + own[:, ib]
            share = np.divide(own[:, ia], total, out=np.full(total.shape, 0.5), where=total > 0)
            out[:, ia] += term * share
            out[:, ib] += term * (1.0 - share)
        return out

    def baseline_components(self, data: Dataset | None = None) -> pd.DataFrame:
        """Baseline components per period, one column per component."""
        data = self.data if data is None else data
        features = baseline_features(self.design, data)
        out: dict[str, np.ndarray] = {"intercept": np.full(data.n_periods, self.intercept)}
        for k, name in enumerate(self.design.feature_names()):
            column = self.design.component_of(name)
            value = self.baseline_coef[k] * features[:, k]
            out[column] = out[column] + value if column in out else value
        return pd.DataFrame(out)

    @cached_property
    def fitted(self) -> np.ndarray:
        """Fitted KPI over the window (T,), read-only."""
        out = np.asarray(
            self.baseline_components().sum(axis=1).to_numpy() + self._history_media.sum(axis=1)
        )
        out.setflags(write=False)
        return out

    @property
    def actual(self) -> np.ndarray:
        """Observed KPI over the window (T,)."""
        return np.asarray(self.data.kpi[0])

    def decomposition(self) -> pd.DataFrame:
        """``date, actual, fitted``, baseline components, one column per channel.

        Components sum to ``fitted``.
        """
        base = self.baseline_components()
        media = self._history_media
        frame = pd.DataFrame(
            {"date": pd.to_datetime(self.data.dates).strftime("%Y-%m-%d"), "actual": self.actual}
        )
        frame["fitted"] = self.fitted
        for column in base.columns:
            frame[column] = base[column].to_numpy()
        for c, name in enumerate(self.channel_names):
            frame[name] = media[:, c]
        return frame

    def decompose(self) -> pd.DataFrame:
        """The decomposition of the window: ``decomposition.csv`` as a DataFrame.

        One row per period: ``date``, ``actual``, ``fitted``, one column per
        baseline component (``intercept``, ``trend``, seasonality, controls,
        events) and one per channel; the components sum to ``fitted``.

        Examples
        --------
        >>> result = example_result()
        >>> frame = result.decompose()
        >>> list(frame.columns)
        ['date', 'actual', 'fitted', 'intercept', 'tv', 'search']
        >>> bool(np.allclose(frame.iloc[:, 3:].sum(axis=1), frame["fitted"]))
        True
        """
        return self.decomposition()

    def response_curves(
        self, multiples: Sequence[float] = tuple(np.linspace(0.0, 2.0, 21))
    ) -> pd.DataFrame:
        """Each channel's response to its spend scaled by ``multiples``, as a tidy table.

        Channel ``c``'s spend in every period of the window is multiplied by ``m``
        (the others held at history), so ``spend = m * total spend`` and the
        historical pattern and carry-over are kept; ``response`` is the channel's
        total contribution (KPI units) and ``marginal_roi`` its derivative per
        currency unit (see :func:`mediamix.models.response.response_curves`).

        Returns
        -------
        DataFrame
            ``channel``, ``multiple``, ``spend``, ``response``, ``marginal_roi``.

        Examples
        --------
        >>> curves = example_result().response_curves(multiples=(0.0, 1.0, 2.0))
        >>> curves[curves["channel"] == "tv"]["multiple"].tolist()
        [0.0, 1.0, 2.0]
        >>> at_history = curves[(curves["channel"] == "tv") & (curves["multiple"] == 1.0)]
        >>> bool(np.isclose(at_history["response"].item(), example_result().contributions()[0]))
        True
        """
        from mediamix.models.response import response_curve_table

        return response_curve_table(self, multiples)

    # ---- metrics --------------------------------------------------------
    def contributions(self, scale: float = 1.0) -> np.ndarray:
        """Total contribution per channel (C,) with every period's spend x ``scale``."""
        if scale == 1.0:
            return np.asarray(self._history_media.sum(axis=0))
        return np.asarray(self._media_response(self.data.spend[0] * scale).sum(axis=0))

    def channel_metrics(self) -> dict[str, dict[str, Any]]:
        """Spend, contribution, shares, ROI, mROI, CPA and transforms per channel."""
        base = self.contributions()
        bumped = self.contributions(1.01)
        spend = self.data.spend[0].sum(axis=0)
        total_fitted = float(self.fitted.sum())
        revenue = self.data.kpi_type == KpiType.revenue
        out: dict[str, dict[str, Any]] = {}
        for c, name in enumerate(self.channel_names):
            s, contrib = float(spend[c]), float(base[c])
            fit = self.channels[name]
            interval = self.roi_interval.get(name)
            out[name] = {
                "spend": s,
                "contribution": contrib,
                "contribution_share": contrib / total_fitted if total_fitted else None,
                "roi": contrib / s if (revenue and s > 0) else None,
                "mroi": (float(bumped[c]) - contrib) / (0.01 * s) if s > 0 else None,
                "cpa": (s / contrib if contrib > 0 else None) if not revenue else None,
                "roi_interval": list(interval) if interval is not None else None,
                "adstock": dict(fit.adstock),
                "saturation": dict(fit.saturation),
            }
        return out

    def metrics(self) -> dict[str, float]:
        """r2, nrmse, mape, decomp_rssd over the window."""
        return fit_metrics(
            self.actual, self.fitted, self.contributions(), self.data.spend[0].sum(axis=0)
        )

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` document (docs/formats.md).

        ``identification`` lists every reason a channel is weakly identified
        (:mod:`mediamix.models.identification`); empty when there is none.
        """
        from mediamix.models.identification import identification_warnings

        dates = self.data.dates
        return {
            "schema_version": SCHEMA_VERSION,
            "engine": self.engine,
            "kpi": self.data.kpi_name,
            "kpi_type": self.data.kpi_type.value,
            "start": str(dates[0]),
            "end": str(dates[-1]),
            "n_periods": self.data.n_periods,
            "channels": self.channel_metrics(),
            "metrics": self.metrics(),
            "identification": [w.to_dict() for w in identification_warnings(self)],
            "info": _jsonable(_summary_info(self.info)),
        }

    # ---- new periods ------------------------------------------------------
    def predict(self, new: Dataset) -> pd.DataFrame:
        """Decompose new periods, carrying adstock over from the training history.

        ``new`` must follow the training window (its own validation guarantees
        regular periods). Media components are computed on history + new spend and
        the new periods' tail is kept, so carry-over from history flows in.
        """
        new = new.national()
        history = self.data.spend[0]
        full = np.vstack([history, new.spend[0]])
        media = self.media_components(full)[history.shape[0] :]
        base = self.baseline_components(new)
        frame = pd.DataFrame(
            {"date": pd.to_datetime(new.dates).strftime("%Y-%m-%d"), "actual": new.kpi[0]}
        )
        frame["fitted"] = base.sum(axis=1).to_numpy() + media.sum(axis=1)
        for column in base.columns:
            frame[column] = base[column].to_numpy()
        for c, name in enumerate(self.channel_names):
            frame[name] = media[:, c]
        return frame

    # ---- storage -------------------------------------------------------------
    def to_artifact(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Metadata (JSON-ready) and arrays for :func:`mediamix.io.artifacts.save_model`."""
        d = self.data
        meta = {
            "schema_version": SCHEMA_VERSION,
            "kind": "mmm",
            "engine": self.engine,
            "spec": _jsonable(dict(self.spec)),
            "design": self.design.to_dict(),
            "intercept": self.intercept,
            "channels": {k: v.to_dict() for k, v in self.channels.items()},
            "roi_interval": {
                k: (list(v) if v is not None else None) for k, v in self.roi_interval.items()
            },
            "info": _jsonable(dict(self.info)),
            **(
                {"synergy": [[a, b, float(g)] for (a, b), g in self.synergy.items()]}
                if self.synergy
                else {}
            ),
            "data": {
                "kpi_name": d.kpi_name,
                "kpi_type": d.kpi_type.value,
                "frequency": d.frequency.value,
                "source": d.source,
                "control_names": list(d.control_names),
                "organic_names": list(d.organic_names),
                "event_names": list(d.event_names),
            },
        }
        arrays = {
            "dates": d.dates.astype("datetime64[D]").astype(np.int64),
            "kpi": d.kpi[0],
            "spend": d.spend[0],
            "controls": d.controls[0],
            "organic": d.organic[0],
            "events": d.events[0],
            "baseline_coef": np.asarray(self.baseline_coef, float),
        }
        for key, value in self.draws.items():
            arrays[f"draws__{key}"] = np.asarray(value)
        return meta, arrays

    @classmethod
    def from_artifact(cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> FitResult:
        """Rebuild a result from stored metadata and arrays (no code is loaded)."""
        info = meta["data"]
        data = Dataset(
            dates=np.asarray(arrays["dates"]).astype("datetime64[D]"),
            geos=("national",),
            channels=tuple(meta["channels"]),
            kpi=arrays["kpi"],
            spend=arrays["spend"],
            kpi_name=info["kpi_name"],
            kpi_type=KpiType(info["kpi_type"]),
            frequency=Frequency(info["frequency"]),
            controls=arrays["controls"],
            control_names=tuple(info["control_names"]),
            organic=arrays["organic"],
            organic_names=tuple(info["organic_names"]),
            events=arrays["events"],
            event_names=tuple(info["event_names"]),
            source=info["source"],
        )
        channels = {
            k: ChannelFit(adstock=v["adstock"], saturation=v["saturation"], beta=float(v["beta"]))
            for k, v in meta["channels"].items()
        }
        intervals = {
            k: (tuple(v) if v is not None else None)
            for k, v in meta.get("roi_interval", {}).items()
        }
        draws = {k.removeprefix("draws__"): v for k, v in arrays.items() if k.startswith("draws__")}
        return cls(
            engine=meta["engine"],
            spec=meta["spec"],
            data=data,
            design=BaselineDesign.from_dict(meta["design"]),
            intercept=float(meta["intercept"]),
            baseline_coef=np.asarray(arrays["baseline_coef"], float),
            channels=channels,
            roi_interval=intervals,  # type: ignore[arg-type]
            info=meta.get("info", {}),
            draws=draws,
            synergy={(str(a), str(b)): float(g) for a, b, g in meta.get("synergy", [])},
        )


def example_result(periods: int = 52) -> FitResult:
    """A small fitted model with known parameters, for examples and tests.

    Two channels (``tv``: geometric adstock 0.5 and Hill saturation; ``search``: no
    carry-over, Hill), weekly spend with a yearly swing, an intercept of 1,000 and
    no other baseline component; ``actual`` is the fitted KPI itself.

    Examples
    --------
    >>> result = example_result()
    >>> result.channel_names, result.data.n_periods
    (('tv', 'search'), 52)
    """

    t = np.arange(periods)
    spend = np.column_stack(
        [100.0 + 50.0 * np.sin(2 * np.pi * t / 52), 60.0 + 20.0 * np.cos(2 * np.pi * t / 52)]
    )
    dates = np.datetime64("2024-01-01") + 7 * t
    design = BaselineDesign(
        origin="2024-01-01",
        trend_span_days=float(7 * max(periods - 1, 1)),
        trend=False,
        yearly=0,
        weekly=0,
        events=(),
        controls=(),
        organic=(),
    )
    channels = {
        "tv": ChannelFit(
            adstock={"type": "geometric", "alpha": 0.5},
            saturation={"type": "hill", "half_saturation": 150.0, "slope": 1.5},
            beta=400.0,
        ),
        "search": ChannelFit(
            adstock={"type": "geometric", "alpha": 0.0},
            saturation={"type": "hill", "half_saturation": 50.0, "slope": 1.0},
            beta=200.0,
        ),
    }
    media = np.column_stack([fit.response(spend[:, i]) for i, fit in enumerate(channels.values())])
    data = Dataset(
        dates=dates,
        geos=("national",),
        channels=("tv", "search"),
        kpi=1000.0 + media.sum(axis=1),
        spend=spend,
        kpi_name="revenue",
        frequency=Frequency.weekly,
        source="example",
    )
    return FitResult(
        engine="ridge",
        spec={},
        data=data,
        design=design,
        intercept=1000.0,
        baseline_coef=np.zeros(0),
        channels=channels,
    )


def _summary_info(info: Mapping[str, Any]) -> dict[str, Any]:
    """``info`` for ``summary.json``: a model ensemble's members stay in the artifact only."""
    out = dict(info)
    ens = out.get("ensemble")
    if isinstance(ens, Mapping) and isinstance(ens.get("members"), list):
        out["ensemble"] = {k: v for k, v in ens.items() if k != "members"} | {
            "n_members": len(ens["members"])
        }
    return out


def _jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays and tuples inside ``obj`` to JSON types."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
