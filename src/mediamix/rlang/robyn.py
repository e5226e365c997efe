r"""Robyn models in and out: the JSON of Robyn's ``robyn_write`` as a mediamix model.

Robyn (Meta's R package, and its Python port robynpy) exports one model as JSON
(``robyn_write``; jsonlite layout: scalars are length-1 arrays, data frames are
arrays of rows) with two parts: ``InputCollect`` (variable roles, adstock type,
modelling window, hyperparameter ranges) and ``ExportedModel`` (the chosen model:
``hyper_values`` per channel and ``lambda``, and ``summary``: per variable its
coefficient and aggregate decomposition ``decompAgg``). The JSON holds no data:
Robyn's ``robyn_recreate`` reads it with the input table, and so does
:func:`robyn_to_result`.

Conventions (Robyn's, mapped exactly or refused with the reason):

- fitted KPI ``= intercept + sum_k coef_k * context_k + sum_c coef_c * h_c`` with
  context variables entering as they are;
- ``h_c = hill(adstock(spend_c))`` over the whole input; geometric adstock
  ``a_t = x_t + theta * a_{t-1}`` (mediamix ``geometric``) or Weibull CDF/PDF with
  Robyn's convention (``scale`` a share of the series length);
- Hill ``a^alpha / (a^alpha + inflexion^alpha)`` with ``inflexion = gamma *
  max(a)`` over the window (Robyn >= 3.12 and robynpy) or ``(1 - gamma) min(a) +
  gamma max(a)`` (Robyn <= 3.11, read from ``InputCollect.version``). mediamix stores
  it as a Hill curve with that absolute half-saturation, so new spend levels are
  evaluated on the fitted curve as Robyn's response functions do.

Refused, with the reason named: organic or factor variables (Robyn saturates organic
media and one-hot encodes factors), exposure variables different from the spend
variables, Prophet components missing from the data (the JSON does not hold
Prophet's series), a modelling window that is not the whole input (Robyn carries
adstock in from the rows before the window), an unknown adstock type, Robyn versions
whose Hill inflexion cannot be told.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mediamix.data.dataset import Dataset
from mediamix.data.spec import KpiType, ModelSpec
from mediamix.errors import InputError, Problem
from mediamix.models.design import BaselineDesign, baseline_features
from mediamix.models.result import ChannelFit, FitResult
from mediamix.transforms.registry import adstock_from_dict

__all__ = [
    "ENGINE",
    "RobynModel",
    "parse_robyn",
    "result_to_robyn",
    "robyn_spec",
    "robyn_to_result",
]

ENGINE = "robyn"
ADSTOCKS = {
    "geometric": ("thetas",),
    "weibull_cdf": ("shapes", "scales"),
    "weibull_pdf": ("shapes", "scales"),
}
#: The first Robyn release whose Hill inflexion is ``gamma * max``.
CURRENT_HILL = (3, 12)


def _one(value: Any) -> Any:
    """jsonlite writes scalars as length-1 arrays; accept both."""
    if isinstance(value, list):
        return value[0] if len(value) == 1 else (value or None)
    return value


def _iso(value: Any) -> str:
    """An ISO date from Robyn's date text ("2015-11-23" or "2015-11-23 00:00:00")."""
    try:
        return str(pd.Timestamp(str(value)).date())
    except ValueError:
        return str(value)


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


@dataclass(frozen=True)
class RobynModel:
    """The parts of a Robyn JSON export that define one model's decomposition."""

    source: str
    select_model: str
    version: str
    date_var: str
    dep_var: str
    kpi_type: KpiType
    spends: tuple[str, ...]
    context: tuple[str, ...]
    prophet: tuple[str, ...]
    adstock: str
    legacy_hill: bool
    window: tuple[str, str] | None
    coef: Mapping[str, float]
    decomp: Mapping[str, float]
    hyper: Mapping[str, float]
    raw: Mapping[str, Any]


def _version_is_legacy(version: str) -> bool | None:
    """True for Robyn <= 3.11, False for >= 3.12 or robynpy, None when unknown."""
    if "robynpy" in version.lower():
        return False
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", version)
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2))) < CURRENT_HILL


def parse_robyn(doc: Mapping[str, Any], source: str) -> RobynModel:  # noqa: C901, PLR0912, PLR0915 -- one check per Robyn key, each refused with its own message
    """Check a Robyn JSON export and pull out what the decomposition needs.

    Raises
    ------
    InputError
        Every convention that does not map, each naming its JSON key.

    Examples
    --------
    >>> doc = {"InputCollect": {"paid_media_spends": ["tv_S"], "organic_vars": ["news"],
    ...                         "adstock": ["geometric"], "version": ["Robyn 3.12.1"]},
    ...        "ExportedModel": {"summary": [{"variable": "tv_S", "coef": 1.0}],
    ...                          "hyper_values": {"tv_S_alphas": [1], "tv_S_gammas": [0.5],
    ...                                           "tv_S_thetas": [0.3]}}}
    >>> parse_robyn(doc, "model.json")
    Traceback (most recent call last):
    ...
    mediamix.errors.InputError: model.json, column 'InputCollect.organic_vars': organic_vars ['news'] are not supported: Robyn adstocks and saturates organic variables
    >>> del doc["InputCollect"]["organic_vars"]
    >>> model = parse_robyn(doc, "model.json")
    >>> model.spends, model.hyper["tv_S_thetas"], model.legacy_hill
    (('tv_S',), 0.3, False)
    """
    problems: list[Problem] = []

    def bad(message: str, key: str) -> None:
        problems.append(Problem(message, file=source, column=key))

    inputs = doc.get("InputCollect")
    model = doc.get("ExportedModel")
    if not isinstance(inputs, Mapping) or not isinstance(model, Mapping):
        raise InputError.single(
            "not a Robyn model export: InputCollect and ExportedModel are both needed "
            "(write it with robyn_write(InputCollect, OutputCollect, select_model))",
            file=source,
        )
    spends = _names(inputs.get("paid_media_spends"))
    media_vars = _names(inputs.get("paid_media_vars")) or spends
    if not spends:
        bad("no paid media (paid_media_spends is empty)", "InputCollect.paid_media_spends")
    if media_vars != spends:
        bad(
            f"exposure variables {media_vars} differ from the spend variables {spends}: Robyn "
            "then models exposure and maps spend through a fitted spend-exposure curve, which "
            "mediamix does not reproduce",
            "InputCollect.paid_media_vars",
        )
    for key, why in (
        ("organic_vars", "Robyn adstocks and saturates organic variables"),
        ("factor_vars", "Robyn one-hot encodes factor variables"),
    ):
        if _names(inputs.get(key)):
            bad(f"{key} {_names(inputs.get(key))} are not supported: {why}", f"InputCollect.{key}")
    adstock = str(_one(inputs.get("adstock")) or "")
    if adstock not in ADSTOCKS:
        bad(
            f"adstock '{adstock}' is not one of {', '.join(ADSTOCKS)}",
            "InputCollect.adstock",
        )
    version = str(_one(inputs.get("version")) or "")
    legacy = _version_is_legacy(version)
    if legacy is None:
        bad(
            f"Robyn version '{version}' not recognized: Robyn <= 3.11 puts the Hill inflexion at "
            "(1-gamma) min + gamma max of the adstocked series, later versions at gamma max",
            "InputCollect.version",
        )
    kpi_type = str(_one(inputs.get("dep_var_type")) or "revenue")
    if kpi_type not in ("revenue", "conversion"):
        bad(
            f"dep_var_type '{kpi_type}' is neither revenue nor conversion",
            "InputCollect.dep_var_type",
        )
    summary = model.get("summary") or []
    coef: dict[str, float] = {}
    decomp: dict[str, float] = {}
    for i, row in enumerate(summary if isinstance(summary, list) else []):
        try:
            coef[str(_one(row["variable"]))] = float(_one(row["coef"]))
            decomp[str(_one(row["variable"]))] = float(_one(row.get("decompAgg", math.nan)))
        except (KeyError, TypeError, ValueError):
            bad(f"summary row {i + 1} has no numeric variable/coef", "ExportedModel.summary")
    context = _names(inputs.get("context_vars"))
    prophet = _names(inputs.get("prophet_vars"))
    for name in [*spends, *context, *prophet]:
        if name not in coef:
            bad(f"no coefficient for '{name}' in the summary", "ExportedModel.summary")
    hyper_doc = model.get("hyper_values") or {}
    hyper: dict[str, float] = {}
    for name in spends:
        for p in ("alphas", "gammas", *ADSTOCKS.get(adstock, ())):
            key = f"{name}_{p}"
            value = _one(hyper_doc.get(key))
            try:
                hyper[key] = float(value)
            except (TypeError, ValueError):
                bad(
                    f"hyper value {key} is missing or not a number",
                    f"ExportedModel.hyper_values.{key}",
                )
    if "lambda" in hyper_doc:
        hyper["lambda"] = float(_one(hyper_doc["lambda"]))
    start, end = _one(inputs.get("window_start")), _one(inputs.get("window_end"))
    if problems:
        raise InputError(problems)
    return RobynModel(
        source=source,
        select_model=str(_one(model.get("select_model")) or ""),
        version=version,
        date_var=str(_one(inputs.get("date_var"))),
        dep_var=str(_one(inputs.get("dep_var"))),
        kpi_type=KpiType.revenue if kpi_type == "revenue" else KpiType.conversions,
        spends=tuple(spends),
        context=tuple(context),
        prophet=tuple(prophet),
        adstock=adstock,
        legacy_hill=bool(legacy),
        window=(_iso(start), _iso(end)) if start and end else None,
        coef=coef,
        decomp=decomp,
        hyper=hyper,
        raw=doc,
    )


def robyn_spec(model: RobynModel, data: str) -> ModelSpec:
    """The mediamix spec of a Robyn model's input table (channels named as Robyn's spends).

    Prophet components are read as columns of the data (Robyn's ``dt_mod``): the JSON
    does not hold their series.
    """
    return ModelSpec.model_validate(
        {
            "data": data,
            "date": model.date_var,
            "kpi": model.dep_var,
            "kpi_type": model.kpi_type.value,
            "channels": {name: {"spend": name} for name in model.spends},
            "controls": [*model.context, *model.prophet],
            "trend": False,
            "seasonality": 0,
        }
    )


def _adstock(model: RobynModel, name: str) -> dict[str, Any]:
    h = model.hyper
    if model.adstock == "geometric":
        return {"type": "geometric", "alpha": h[f"{name}_thetas"]}
    return {
        "type": model.adstock,
        "shape": h[f"{name}_shapes"],
        "scale": h[f"{name}_scales"],
        "convention": "robyn",
    }


def robyn_to_result(model: RobynModel, data: Dataset, spec: ModelSpec) -> FitResult:
    """The mediamix model that reproduces a Robyn model's decomposition on its data.

    Raises
    ------
    InputError
        The window is not the whole input, or a Prophet component is not a column.
    """
    data = data.national()
    dates = [str(d) for d in data.dates.astype("datetime64[D]")]
    if model.window is not None and (model.window[0] != dates[0] or model.window[1] != dates[-1]):
        raise InputError.single(
            f"Robyn's modelling window {model.window[0]} to {model.window[1]} is not the whole "
            f"input ({dates[0]} to {dates[-1]}): Robyn carries adstock in from the rows before "
            "the window, which a mediamix model (carry-over from its first period) does not; "
            "give the input from window_start to window_end and a model fitted on it",
            file=model.source,
            column="InputCollect.window_start",
        )
    spend = data.spend[0]
    channels: dict[str, ChannelFit] = {}
    inflexions: dict[str, float] = {}
    for c, name in enumerate(model.spends):
        adstock = _adstock(model, name)
        ad = np.asarray(adstock_from_dict(adstock).apply(spend[:, c]), float)
        gamma = model.hyper[f"{name}_gammas"]
        top = float(ad.max())
        inflexion = (
            (1 - gamma) * float(ad.min()) + gamma * top if model.legacy_hill else gamma * top
        )
        if not inflexion > 0:
            raise InputError.single(
                f"channel {name}: Robyn's Hill inflexion is {inflexion} (gamma {gamma}, "
                f"adstocked spend max {top}); a zero inflexion has no Hill curve",
                file=model.source,
                column=f"ExportedModel.hyper_values.{name}_gammas",
            )
        inflexions[name] = inflexion
        channels[name] = ChannelFit(
            adstock=adstock,
            saturation={
                "type": "hill",
                "half_saturation": inflexion,
                "slope": model.hyper[f"{name}_alphas"],
            },
            beta=model.coef[name],
        )
    controls = (*model.context, *model.prophet)
    span = float((data.dates[-1] - data.dates[0]).astype(int))
    design = BaselineDesign(
        origin=dates[0],
        trend_span_days=max(span, 1.0),
        trend=False,
        yearly=0,
        weekly=0,
        events=(),
        controls=tuple(controls),
        organic=(),
    )
    info = {
        "robyn": {
            "source": model.source,
            "select_model": model.select_model,
            "version": model.version,
            "adstock": model.adstock,
            "hill_inflexion": "(1-gamma) min + gamma max" if model.legacy_hill else "gamma max",
            "hyper_values": dict(model.hyper),
            "inflexion": inflexions,
            "decompAgg": dict(model.decomp),
        }
    }
    return FitResult(
        engine=ENGINE,
        spec=spec.to_dict(),
        data=data,
        design=design,
        intercept=float(model.coef.get("(Intercept)", model.coef.get("intercept", 0.0))),
        baseline_coef=np.array([model.coef[name] for name in controls], float),
        channels=channels,
        roi_interval={name: None for name in channels},
        info=info,
    )


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise InputError(problems)


def result_to_robyn(  # noqa: C901, PLR0912, PLR0915 -- one branch per convention Robyn cannot express
    result: FitResult, lam_glmnet: float | None = None
) -> tuple[dict[str, Any], pd.DataFrame]:
    """A mediamix model as a Robyn JSON export and the input table it refers to.

    Baseline features (trend, Fourier terms, events, controls, organic) become Robyn
    context variables with their values written into the table, so the table and
    the JSON together give the same decomposition. Channels are named by their
    mediamix names, which are also their spend columns in the table.

    Parameters
    ----------
    result : FitResult
    lam_glmnet : float, optional
        ``lambda`` on glmnet's scale for the raw KPI, written to ``hyper_values``.

    Raises
    ------
    InputError
        Conventions Robyn cannot express, each named: adstock types other than
        geometric and Robyn-convention Weibull, mixed adstock types, saturation other
        than Hill, a half-saturation beyond the adstocked spend's maximum (Robyn's
        gamma would exceed 1), synergy terms.
    """
    problems: list[Problem] = []
    names = list(result.channel_names)
    kinds = {str(fit.adstock["type"]) for fit in result.channels.values()}
    if len(kinds) > 1:
        problems.append(
            Problem(
                f"channels use different adstock types {sorted(kinds)}; a Robyn model has one",
                column="adstock",
            )
        )
    if result.synergy:
        problems.append(Problem("synergy terms have no Robyn equivalent", column="synergy"))
    spend = result.data.spend[0]
    hyper: dict[str, list[float]] = {}
    for c, name in enumerate(names):
        fit = result.channels[name]
        ad_type = str(fit.adstock["type"])
        if ad_type == "geometric":
            hyper[f"{name}_thetas"] = [float(fit.adstock["alpha"])]
        elif (
            ad_type in ("weibull_cdf", "weibull_pdf")
            and fit.adstock.get("convention", "robyn") == "robyn"
            and fit.adstock.get("l_max") is None
            and not fit.adstock.get("normalize", False)
        ):
            hyper[f"{name}_shapes"] = [float(fit.adstock["shape"])]
            hyper[f"{name}_scales"] = [float(fit.adstock["scale"])]
        else:
            problems.append(
                Problem(
                    f"channel {name}: adstock {dict(fit.adstock)} has no Robyn equivalent (Robyn "
                    "has geometric and Weibull with the scale as a share of the series)",
                    column=f"channels.{name}.adstock",
                )
            )
            continue
        sat = dict(fit.saturation)
        ad = np.asarray(adstock_from_dict(dict(fit.adstock)).apply(spend[:, c]), float)
        top = float(ad.max())
        if sat.get("type") == "hill":
            gamma = float(sat["half_saturation"]) / top if top > 0 else math.inf
            if not 0 < gamma <= 1:
                problems.append(
                    Problem(
                        f"channel {name}: half-saturation {sat['half_saturation']:.6g} is above the "
                        f"largest adstocked spend {top:.6g}; Robyn's gamma would be {gamma:.4g}, "
                        "outside (0, 1]",
                        column=f"channels.{name}.saturation",
                    )
                )
                continue
            hyper[f"{name}_alphas"] = [float(sat["slope"])]
            hyper[f"{name}_gammas"] = [gamma]
        else:
            problems.append(
                Problem(
                    f"channel {name}: saturation '{sat.get('type')}' has no Robyn equivalent "
                    "(Robyn uses Hill)",
                    column=f"channels.{name}.saturation",
                )
            )
    _refuse(problems)
    if lam_glmnet is not None:
        hyper["lambda"] = [float(lam_glmnet)]
    hyper["train_size"] = [1.0]
    data = result.data
    features = baseline_features(result.design, data)
    context = result.design.feature_names()
    clash = set(context) & {"date", data.kpi_name, *names}
    if clash:
        raise InputError.single(
            f"baseline feature names {sorted(clash)} clash with the date, KPI or channel columns",
            column="design",
        )
    dates = pd.to_datetime(data.dates).strftime("%Y-%m-%d")
    table = pd.DataFrame({"date": dates, data.kpi_name: data.kpi[0]})
    for c, name in enumerate(names):
        table[name] = spend[:, c]
    for k, name in enumerate(context):
        table[name] = features[:, k]
    media = result.contributions()
    T = data.n_periods
    agg = {"intercept": result.intercept * T}
    agg.update(
        {
            name: float(result.baseline_coef[k] * features[:, k].sum())
            for k, name in enumerate(context)
        }
    )
    agg.update({name: float(media[c]) for c, name in enumerate(names)})
    total = sum(agg.values())
    revenue = data.kpi_type == KpiType.revenue
    rows = [
        {
            "variable": "intercept",
            "coef": result.intercept,
            "decompPer": agg["intercept"] / total,
            "decompAgg": agg["intercept"],
        }
    ]
    rows += [
        {
            "variable": name,
            "coef": float(result.baseline_coef[k]),
            "decompPer": agg[name] / total,
            "decompAgg": agg[name],
        }
        for k, name in enumerate(context)
    ]
    for c, name in enumerate(names):
        s = float(spend[:, c].sum())
        perf = (agg[name] / s if revenue else s / agg[name]) if s > 0 and agg[name] > 0 else None
        rows.append(
            {
                "variable": name,
                "coef": result.channels[name].beta,
                "decompPer": agg[name] / total,
                "decompAgg": agg[name],
                "performance": perf,
                "mean_response": agg[name] / T,
                "mean_spend": s / T,
            }
        )
    metrics = result.metrics()
    kind = next(iter(kinds))
    weekly = str(getattr(data.frequency, "value", data.frequency)) == "weekly"
    doc = {
        "InputCollect": {
            "date_var": ["date"],
            "dayInterval": [7 if weekly else 1],
            "intervalType": ["week" if weekly else "day"],
            "dep_var": [data.kpi_name],
            "dep_var_type": ["revenue" if revenue else "conversion"],
            "prophet_vars": [],
            "context_vars": context,
            "context_signs": ["default"] * len(context),
            "paid_media_vars": names,
            "paid_media_signs": ["positive"] * len(names),
            "paid_media_spends": names,
            "paid_media_selected": names,
            "exposure_vars": [],
            "organic_vars": [],
            "factor_vars": [],
            "all_media": names,
            "all_ind_vars": [*context, *names],
            "window_start": [dates[0]],
            "rollingWindowStartWhich": [1],
            "window_end": [dates[-1]],
            "rollingWindowEndWhich": [T],
            "rollingWindowLength": [T],
            "totalObservations": [T],
            "adstock": [kind],
            "hyperparameters": {k: v for k, v in hyper.items()},
            "version": [
                f"Robyn {CURRENT_HILL[0]}.{CURRENT_HILL[1]}.0 conventions (written by mediamix)"
            ],
        },
        "ExportedModel": {
            "select_model": [f"mediamix_{result.engine}"],
            "ts_validation": [False],
            "summary": rows,
            "errors": [
                {
                    "rsq_train": metrics.get("r2"),
                    "nrmse": metrics.get("nrmse"),
                    "decomp.rssd": metrics.get("decomp_rssd"),
                    "mape": 0.0,
                }
            ],
            "hyper_values": dict(sorted(hyper.items())),
        },
    }
    return doc, table
