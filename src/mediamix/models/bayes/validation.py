"""What the Bayesian engine checks and derives from a spec and data before it fits."""

from __future__ import annotations

import numpy as np

from mediamix.data.dataset import Dataset
from mediamix.data.spec import ModelSpec
from mediamix.errors import InputError, Problem
from mediamix.models.bayes.model import AdstockKind, SaturationKind
from mediamix.models.bayes.options import BayesOptions

__all__ = ["check_inputs", "lift_tests", "transform_kinds"]

_ADSTOCK_NAMES: dict[str, AdstockKind] = {
    "geometric": "geometric",
    "geometric_window": "geometric",
    "weibull_pdf": "weibull_pdf",
    "delayed": "delayed",
}
_SATURATION_NAMES: dict[str, SaturationKind] = {"hill": "hill", "logistic": "logistic"}


def transform_kinds(spec: ModelSpec, options: BayesOptions) -> tuple[AdstockKind, SaturationKind]:
    problems: list[Problem] = []
    ad_types = {cs.adstock.type for cs in spec.channels.values() if cs.adstock is not None}
    sat_types = {cs.saturation.type for cs in spec.channels.values() if cs.saturation is not None}
    adstock, saturation = options.adstock, options.saturation
    for t in sorted(ad_types - set(_ADSTOCK_NAMES)):
        problems.append(
            Problem(
                f"the bayes engine supports adstock {sorted(_ADSTOCK_NAMES)}; "
                f"'{t}' is not supported yet",
                column="channels.*.adstock.type",
            )
        )
    for t in sorted(sat_types - set(_SATURATION_NAMES)):
        problems.append(
            Problem(
                f"the bayes engine supports saturation "
                f"{sorted(_SATURATION_NAMES)}; '{t}' is not supported yet",
                column="channels.*.saturation.type",
            )
        )
    if problems:
        raise InputError(problems)
    kinds = {_ADSTOCK_NAMES[t] for t in ad_types}
    if len(kinds) > 1:
        raise InputError.single(
            "the bayes engine uses one adstock type for all channels; the "
            f"spec names {sorted(ad_types)}",
            column="channels.*.adstock.type",
        )
    if kinds:
        adstock = kinds.pop()
    if len(sat_types) > 1:
        raise InputError.single(
            "the bayes engine uses one saturation type for all channels; "
            f"the spec names {sorted(sat_types)}",
            column="channels.*.saturation.type",
        )
    if sat_types:
        saturation = _SATURATION_NAMES[sat_types.pop()]
    return adstock, saturation


def lift_tests(
    spec: ModelSpec, data: Dataset, options: BayesOptions
) -> tuple[list[tuple[int, np.ndarray, float, float]], list[str]]:
    dates = data.dates.astype("datetime64[D]")
    index = {ch: i for i, ch in enumerate(data.channels)}
    out: list[tuple[int, np.ndarray, float, float]] = []
    notes: list[str] = []
    for test in spec.lift_tests:
        mask = (dates >= np.datetime64(test.start, "D")) & (dates <= np.datetime64(test.end, "D"))
        if not mask.any():
            notes.append(
                f"lift test on {test.channel} ({test.start} to {test.end}) covers no "
                "period of the data and was not used"
            )
            continue
        se = test.standard_error
        if se is None:
            se = max(options.lift_se_share * abs(test.lift), 1e-9)
            notes.append(
                f"lift test on {test.channel} has no standard error; used "
                f"{options.lift_se_share:.0%} of its lift ({se:g})"
            )
        out.append((index[test.channel], mask, float(test.lift), float(se)))
    return out, notes


def check_inputs(data: Dataset, options: BayesOptions) -> None:
    problems: list[Problem] = []
    totals = data.spend[0].sum(axis=0)
    for ch, total in zip(data.channels, totals, strict=True):
        if not total > 0:
            problems.append(
                Problem(
                    f"channel '{ch}' has no spend in the modeling window; the "
                    "bayes engine needs positive spend to scale it",
                    column=ch,
                )
            )
    if not float(np.mean(data.kpi[0])) > 0:
        problems.append(
            Problem("the KPI mean must be positive for the bayes engine", column=data.kpi_name)
        )
    for ch in options.roi_prior:
        if ch not in data.channels:
            problems.append(
                Problem(f"roi_prior names channel '{ch}', not in the data", column="roi_prior")
            )
    for ch, (mean, sd) in options.roi_prior.items():
        if not (mean > 0 and sd > 0):
            problems.append(
                Problem(
                    f"roi_prior for '{ch}' needs mean > 0 and sd > 0, got ({mean}, {sd})",
                    column="roi_prior",
                )
            )
    if problems:
        raise InputError(problems)
