"""Data and model drift between a model's training data and new weeks.

Data drift, per column (spend per channel, controls, KPI): the population
stability index over quantile bins of the reference, and the two-sample
Kolmogorov-Smirnov test. A column drifts when its PSI is at least ``psi`` **and**
its KS p-value is below ``ks_pvalue``: with a quarter's worth of new weeks either
statistic alone is noisy, together they rarely fire on a stationary series.

Model drift: the model's out-of-sample NRMSE on the new weeks (adstock carried over
from its history) against ``error_ratio`` times its own holdout NRMSE, and the
absolute percentage error of each new week.

Retraining is due when any column drifts or the model's error does.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy import stats

from mediamix.data.dataset import Dataset
from mediamix.errors import InputError
from mediamix.models.metrics import nrmse
from mediamix.models.result import FitResult

__all__ = ["DriftReport", "Thresholds", "check_drift", "psi", "read_thresholds", "report_html"]

_EPS = 1e-4


class ColumnThresholds(BaseModel):
    """Per-column override."""

    model_config = ConfigDict(extra="forbid")
    psi: float | None = None
    ks_pvalue: float | None = None
    ignore: bool = False


class Thresholds(BaseModel):
    """Drift thresholds (the YAML file's keys)."""

    model_config = ConfigDict(extra="forbid")
    psi: float = Field(0.25, gt=0)
    ks_pvalue: float = Field(0.01, gt=0, lt=1)
    bins: int = Field(10, ge=2, le=50)
    error_ratio: float = Field(1.5, gt=0)
    columns: dict[str, ColumnThresholds] = Field(default_factory=dict)


def read_thresholds(path: str | Path | None) -> Thresholds:
    """Thresholds from YAML (defaults for missing keys); unknown keys are errors."""
    if path is None:
        return Thresholds()
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
        return Thresholds.model_validate(raw)
    except OSError as exc:
        raise InputError.single(f"cannot read thresholds: {exc}", file=str(path)) from None
    except yaml.YAMLError as exc:
        raise InputError.single(f"not valid YAML: {exc}", file=str(path)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError.single(
            f"{first['msg']}", file=str(path), column=".".join(str(p) for p in first["loc"])
        ) from None


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference``.

    Bins are the reference's quantiles (fewer when the current sample is small,
    at least 4 current values per bin on average); empty bins count as a small
    share so that the index stays finite.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=1000)
    >>> psi(ref, rng.normal(size=1000)) < 0.05
    True
    >>> psi(ref, rng.normal(loc=2.0, size=1000)) > 1.0
    True
    """
    reference, current = np.asarray(reference, float), np.asarray(current, float)
    k = max(2, min(bins, current.size // 4))
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, k + 1))[1:-1])
    expected = np.bincount(
        np.searchsorted(edges, reference, side="right"), minlength=edges.size + 1
    )
    actual = np.bincount(np.searchsorted(edges, current, side="right"), minlength=edges.size + 1)
    e = np.maximum(expected / reference.size, _EPS)
    a = np.maximum(actual / current.size, _EPS)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class DriftReport:
    """What drifted, by how much, and whether retraining is due."""

    retrain: bool
    reasons: list[str]
    columns: dict[str, dict[str, Any]]
    model: dict[str, Any] | None = None
    thresholds: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] = field(default_factory=dict)
    current: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``drift.json``)."""
        return {
            "retrain": self.retrain,
            "reasons": self.reasons,
            "reference": self.reference,
            "current": self.current,
            "columns": self.columns,
            "model": self.model,
            "thresholds": self.thresholds,
        }


def _columns(data: Dataset) -> dict[str, np.ndarray]:
    national = data.national()
    out = {f"{name} spend": national.spend[0, :, c] for c, name in enumerate(data.channels)}
    for k, name in enumerate(data.control_names):
        out[name] = national.controls[0, :, k]
    out[data.kpi_name] = national.kpi[0]
    return out


def _window(data: Dataset) -> dict[str, Any]:
    return {"start": str(data.dates[0]), "end": str(data.dates[-1]), "periods": data.n_periods}


def check_drift(
    reference: Dataset,
    current: Dataset,
    thresholds: Thresholds | None = None,
    model: FitResult | None = None,
) -> DriftReport:
    """Compare ``current`` weeks with the ``reference`` (training) data, column by column.

    With ``model``, also its out-of-sample error on ``current`` (which must follow
    the model's window).
    """
    t = thresholds or Thresholds()
    ref_cols, cur_cols = _columns(reference), _columns(current)
    reasons: list[str] = []
    columns: dict[str, dict[str, Any]] = {}
    for name, ref in ref_cols.items():
        if name not in cur_cols:
            continue
        override = t.columns.get(name) or ColumnThresholds()
        if override.ignore:
            continue
        cur = cur_cols[name]
        index = psi(ref, cur, t.bins)
        ks = stats.ks_2samp(ref, cur)
        limit_psi = override.psi if override.psi is not None else t.psi
        limit_p = override.ks_pvalue if override.ks_pvalue is not None else t.ks_pvalue
        drifted = index >= limit_psi and float(ks.pvalue) < limit_p
        columns[name] = {
            "psi": index,
            "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "reference_mean": float(ref.mean()),
            "current_mean": float(cur.mean()),
            "drift": bool(drifted),
        }
        if drifted:
            reasons.append(
                f"{name}: PSI {index:.2f} (>= {limit_psi}), KS p-value {ks.pvalue:.2g} "
                f"(< {limit_p}); mean {ref.mean():,.4g} -> {cur.mean():,.4g}"
            )
    model_part = None
    if model is not None:
        frame = model.predict(current)
        actual, fitted = frame["actual"].to_numpy(), frame["fitted"].to_numpy()
        error = nrmse(actual, fitted) if np.ptp(actual) > 0 else float("nan")
        baseline = model.engine_info.holdout_nrmse
        ape = np.abs(fitted - actual) / np.where(actual != 0, np.abs(actual), np.nan)
        model_part = {
            "nrmse": error,
            "holdout_nrmse": baseline,
            "error_ratio": (error / baseline) if baseline else None,
            "weekly_ape": {
                d: (None if math.isnan(v) else float(v))
                for d, v in zip(frame["date"], ape, strict=True)
            },
            "drift": False,
        }
        if baseline and np.isfinite(error) and error > t.error_ratio * float(baseline):
            model_part["drift"] = True
            reasons.append(
                f"model error on the new weeks: NRMSE {error:.3f}, more than {t.error_ratio}x "
                f"its holdout NRMSE {float(baseline):.3f}"
            )
    return DriftReport(
        retrain=bool(reasons),
        reasons=reasons,
        columns=columns,
        model=model_part,
        thresholds=t.model_dump(),
        reference=_window(reference),
        current=_window(current),
    )


def report_html(report: DriftReport) -> str:
    """A self-contained HTML page of a drift report."""
    rows = "".join(
        f"<tr{' class=drift' if c['drift'] else ''}><td>{html.escape(name)}</td>"
        f"<td>{c['psi']:.3f}</td><td>{c['ks_statistic']:.3f}</td><td>{c['ks_pvalue']:.3g}</td>"
        f"<td>{c['reference_mean']:,.4g}</td><td>{c['current_mean']:,.4g}</td>"
        f"<td>{'yes' if c['drift'] else 'no'}</td></tr>"
        for name, c in report.columns.items()
    )
    verdict = "Retraining is due" if report.retrain else "No drift beyond the thresholds"
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in report.reasons)
    model = ""
    if report.model is not None:
        m = report.model
        model = (
            f"<h2>Model</h2><p>NRMSE on the new weeks {m['nrmse']:.3f}; holdout NRMSE "
            f"{m['holdout_nrmse'] if m['holdout_nrmse'] is not None else '-'}</p>"
        )
    ref, cur = report.reference, report.current
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>mediamix drift report</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;text-align:right}"
        "tr.drift{background:#fdd}</style></head><body>"
        f"<h1>{verdict}</h1><p>reference {ref['start']} to {ref['end']} ({ref['periods']} "
        f"periods); new {cur['start']} to {cur['end']} ({cur['periods']} periods)</p>"
        f"<ul>{reasons}</ul><h2>Data</h2><table><tr><th>column</th><th>PSI</th><th>KS</th>"
        f"<th>KS p-value</th><th>reference mean</th><th>new mean</th><th>drift</th></tr>{rows}"
        f"</table>{model}</body></html>\n"
    )
