"""The public Python API: what ``import mediamix`` offers a notebook.

``mediamix.fit``, ``mediamix.optimize`` and the other names at the package top are
these functions, loaded on first use (see ``mediamix/__init__.py``) so that
``import mediamix`` stays light. They call the same use cases as the CLI and the
REST API, with the same typed requests (:mod:`mediamix.service.requests`) and the
same errors: bad input raises :class:`~mediamix.errors.InputError` whose problems
name the file, row and column, or the argument.

A session::

    import mediamix
    data = mediamix.synth(seed=1, weeks=104, channels=3)
    result = mediamix.fit(data.frame, date="date", kpi="revenue",
                          channels={"tv": "tv_spend", "search": "search_spend"})
    result.summary()            # the summary.json document
    result.decompose()          # one row per period: actual, fitted, components
    result.response_curves()    # tidy: channel, multiple, spend, response, marginal_roi
    plan = mediamix.optimize(result, budget=100_000)
    plan.to_dict()              # the plan.json document
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediamix.data.spec import ModelSpec
from mediamix.errors import InputError, problems_from_validation
from mediamix.io.spec import read_spec
from mediamix.models.result import FitResult
from mediamix.service.requests import (
    AttributeRequest,
    FitRequest,
    OptimizeRequest,
    SynthRequest,
    parse_request,
)

if TYPE_CHECKING:
    import pandas as pd

    from mediamix.data.synthetic import SynthResult
    from mediamix.optimization.constraints import Constraints
    from mediamix.optimization.response import ResponseModel
    from mediamix.optimization.solver import Plan
    from mediamix.service.optimize import WeeklyPlan

__all__ = [
    "attribute",
    "fit",
    "load_model",
    "load_spec",
    "optimize",
    "optimize_weekly",
    "synth",
]

log = logging.getLogger(__name__)

DATAFRAME_SOURCE = "DataFrame"
"""How problems in a DataFrame passed to :func:`fit` name their source."""

MODELS_URI = "models:/"


def load_spec(path: str | Path) -> ModelSpec:
    """Read and validate a model spec (YAML); ``data`` becomes an absolute path.

    Parameters
    ----------
    path : str or Path
        The spec file (the model spec of docs/formats.md).

    Returns
    -------
    ModelSpec
        Immutable; pass it to :func:`fit`.

    Raises
    ------
    InputError
        Missing file, YAML syntax error, unknown or invalid keys (each with its line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "spec.yaml").write_text(
    ...     "data: weekly.csv\\ndate: date\\nkpi: revenue\\nchannels:\\n  tv: {spend: tv}\\n")
    >>> spec = load_spec(folder / "spec.yaml")
    >>> spec.kpi, spec.channel_names, pathlib.Path(spec.data).name
    ('revenue', ('tv',), 'weekly.csv')
    """
    return read_spec(path)


def fit(
    data: str | Path | ModelSpec | pd.DataFrame,
    engine: str = "ridge",
    seed: int = 0,
    *,
    sampler: Mapping[str, Any] | None = None,
    ridge: Mapping[str, Any] | None = None,
    progress: Callable[[float, str], None] | None = None,
    **roles: Any,
) -> FitResult:
    """Fit a media mix model and return its result.

    Parameters
    ----------
    data : path, ModelSpec or DataFrame
        A spec file (YAML), a spec object (:func:`load_spec`), or a table with one
        row per period (and geo), whose columns ``roles`` name.
    engine : {"ridge", "bayes"}
        The ridge engine with its hyperparameter search (default), or the Bayesian one.
    seed : int
        The same data, engine, options and seed give the same result.
    sampler : dict, optional
        Bayesian inference: ``method`` (``nuts``, ``svi``, ``map``), ``chains``,
        ``warmup``, ``draws``, ``geo_hierarchy``, ``compile_cache``
        (:class:`~mediamix.service.requests.SamplerOptions`).
    ridge : dict, optional
        Ridge search settings: ``candidates``, ``bootstrap``
        (:class:`~mediamix.service.requests.RidgeSettings`).
    progress : callable, optional
        Called with (fraction done, message) while the fit runs.
    **roles
        With a DataFrame, the spec's keys: ``date``, ``kpi``, ``channels`` (name ->
        spend column, or name -> ``{"spend": ..., "adstock": ...}``) and any optional
        key (``kpi_type``, ``controls``, ``events``, ``geo``, ``seasonality``, ...).

    Returns
    -------
    FitResult
        Immutable: ``summary()``, ``decompose()``, ``response_curves()``; pass it to
        :func:`optimize`.

    Raises
    ------
    InputError
        Bad arguments (named: ``engine``, ``sampler.chains``, ``kpi``), a bad spec or
        bad data (file or ``DataFrame``, row and column).

    Examples
    --------
    >>> import mediamix
    >>> data = mediamix.synth(seed=3, weeks=60, channels=2)
    >>> result = mediamix.fit(data.frame, date="date", kpi="revenue",
    ...                       channels={"tv": "tv_spend", "search": "search_spend"},
    ...                       controls=["price_index"], ridge={"candidates": 400})
    >>> sorted(result.summary()["channels"])
    ['search', 'tv']
    >>> try:
    ...     mediamix.fit(data.frame, engine="glm", date="date", kpi="revenue",
    ...                  channels={"tv": "tv_spend"})
    ... except mediamix.InputError as err:
    ...     print(err)
    column 'engine': unknown engine 'glm'; choose one of ridge, bayes, r-glmnet
    """
    from mediamix.service.data import LoadedData, load_dataset
    from mediamix.service.fit import fit_loaded

    request = parse_request(
        FitRequest,
        {"engine": engine, "seed": seed}
        | ({"sampler": dict(sampler)} if sampler is not None else {})
        | ({"ridge": dict(ridge)} if ridge is not None else {}),
    )
    loaded: LoadedData
    if isinstance(data, str | Path):
        _no_roles(roles, "a spec file")
        loaded = load_dataset(data, engine=request.engine.value)
    elif isinstance(data, ModelSpec):
        _no_roles(roles, "a spec")
        loaded = _load_frame(None, data, request)
    elif _is_frame(data):
        loaded = _load_frame(data, _spec_from_roles(roles), request)
    else:
        raise InputError.single(
            f"expected a spec path, a ModelSpec or a DataFrame, not {type(data).__name__}",
            column="data",
        )
    for warning in loaded.warnings:
        log.warning("%s", warning)
    return fit_loaded(loaded, request, progress=progress)


def _is_frame(data: object) -> bool:
    import pandas as pd

    return isinstance(data, pd.DataFrame)


def _no_roles(roles: Mapping[str, Any], what: str) -> None:
    if roles:
        key = sorted(roles)[0]
        raise InputError.single(
            f"'{key}' is a spec key: {what} already names the columns; keys go with a "
            "DataFrame only",
            column=key,
        )


def _spec_from_roles(roles: Mapping[str, Any]) -> ModelSpec:
    """A spec for a DataFrame from keyword roles; ``channels`` may map name -> column."""
    from pydantic import ValidationError

    doc = dict(roles)
    channels = doc.get("channels")
    if isinstance(channels, Mapping):
        doc["channels"] = {
            name: {"spend": value} if isinstance(value, str) else value
            for name, value in channels.items()
        }
    doc["data"] = DATAFRAME_SOURCE
    try:
        return ModelSpec.model_validate(doc)
    except ValidationError as err:
        raise InputError(problems_from_validation(err, root="spec")) from None


def _load_frame(
    frame: pd.DataFrame | None, spec: ModelSpec, request: FitRequest
) -> Any:  # LoadedData
    """Validate a DataFrame (or the table a spec object names) like a file."""
    from mediamix.data.validation import validate_table
    from mediamix.service.data import LoadedData, engine_rules, read_source

    if frame is None:
        table = read_source(spec)
        frame, source = table.frame, table.source
    else:
        source = DATAFRAME_SOURCE
    report = validate_table(
        frame, spec, source=source, rules=engine_rules(spec, request.engine.value)
    )
    if not report.ok or report.dataset is None:
        raise InputError(report.problems)
    return LoadedData(spec=spec, dataset=report.dataset, warnings=report.warnings)


def load_model(
    path_or_uri: str | Path,
    *,
    home: str | Path | None = None,
    tracking_uri: str | None = None,
) -> FitResult:
    """A fitted model from a fit output folder (or its ``model/`` folder).

    The stored artifact is checked (schema version, SHA-256 of every file) and
    holds no code: nothing stored is executed.

    Parameters
    ----------
    path_or_uri : str or Path
        A folder written by ``mediamix fit`` or :func:`mediamix.service.fit.write_fit`,
        a registry reference ``models:/NAME/VERSION`` / ``models:/NAME@ALIAS``, or a
        stored model ``s3://bucket/prefix/models/NAME[/VERSION]`` (boto3's own
        credentials and region; fetched with every hash and the safe-artifact checks
        verified, into ``home/cache/s3`` when ``home`` is given).
    home, tracking_uri : optional
        Where the registry lives, for a ``models:/`` reference: the mediamix home of the
        embedded store (``MEDIAMIX_HOME``), or an MLflow tracking URI (a cache folder is
        then kept under ``home`` when given, else a temporary one). The library reads
        no environment, so one of them must be given. The registered copy is verified
        against the checksum recorded at registration before it is read.

    Raises
    ------
    InputError
        Missing folder, a tampered or foreign artifact, a registry reference without a
        registry or one that does not resolve.

    Examples
    --------
    >>> import mediamix, tempfile, pathlib
    >>> try:
    ...     mediamix.load_model(pathlib.Path(tempfile.mkdtemp()) / "nothing")
    ... except mediamix.InputError as err:
    ...     print(err.problems[0].message.split(":")[0])
    model folder not found
    """
    from mediamix.service.fit import load_model as _load

    text = str(path_or_uri)
    if text.startswith("s3://"):
        from mediamix.aws.storage import StorageConfig
        from mediamix.service.storage import fetch_model

        cache = Path(home) / "cache" / "s3" if home is not None else None
        return _load(fetch_model(text, StorageConfig(cache=cache)))
    if text.startswith(MODELS_URI):
        if home is None and tracking_uri is None:
            raise InputError.single(
                f"{text}: a registry reference needs the registry: give home= (the "
                "mediamix home of the embedded store) or tracking_uri=",
                column="model",
            )
        import tempfile

        from mediamix.service.registry import resolve_model
        from mediamix.tracking.config import TrackingConfig

        where = Path(home) if home is not None else Path(tempfile.mkdtemp(prefix="mediamix-"))
        return _load(resolve_model(text, TrackingConfig(home=where, tracking_uri=tracking_uri)))
    if not Path(text).exists():
        raise InputError.single(f"model folder not found: {text}", file=text)
    return _load(path_or_uri)


def optimize(
    model: FitResult | ResponseModel | str | Path,
    budget: float,
    constraints: Constraints | Mapping[str, Any] | str | Path | None = None,
    **options: Any,
) -> Plan:
    """The best allocation of ``budget`` across channels; ``.to_dict()`` is plan.json.

    Parameters
    ----------
    model : FitResult, response model, or path
        A fitted model (:func:`fit`, :func:`load_model`), any
        :class:`~mediamix.optimization.response.ResponseModel`, a fit output folder,
        or a ``CURVES.json`` file.
    budget : float
        Total spend over the plan, in the currency of the data.
    constraints : dict, Constraints or path, optional
        The constraints document of docs/formats.md (bounds, ratios, groups).
    **options
        Fields of :class:`~mediamix.service.requests.OptimizeRequest`: ``objective``,
        ``target``, ``periods``, ``risk_level`` (``None`` skips the risk check),
        ``scenarios`` (name -> channel -> spend), ``frontier``.

    Returns
    -------
    Plan
        ``to_dict()`` is the ``plan.json`` document.

    Raises
    ------
    InputError
        Bad options (named), infeasible constraints (the conflicting rules named).

    Examples
    --------
    >>> import mediamix
    >>> from mediamix.optimization import curves_from_dict
    >>> curves = curves_from_dict({"channels": {
    ...     "tv": {"beta": 100.0, "saturation": {"type": "hill", "half_saturation": 50.0,
    ...                                           "slope": 1.0}},
    ...     "search": {"beta": 60.0, "saturation": {"type": "hill", "half_saturation": 20.0,
    ...                                              "slope": 1.0}}}})
    >>> plan = mediamix.optimize(curves, budget=100.0,
    ...                          constraints={"channels": {"tv": {"min": 40.0}}})
    >>> doc = plan.to_dict()
    >>> doc["status"], round(sum(c["spend"] for c in doc["channels"].values()), 6)
    ('optimal', 100.0)
    >>> doc["channels"]["tv"]["spend"] >= 40.0
    True
    """
    from mediamix.service.optimize import optimize as _optimize

    request = _optimize_request(budget, constraints, options)
    if request.weekly:
        raise InputError.single("weekly plans come from optimize_weekly()", column="weekly")
    return _optimize(request, **_model_source(model, request.periods))


def optimize_weekly(
    model: FitResult | str | Path,
    budget: float,
    periods: int | None = None,
    constraints: Constraints | Mapping[str, Any] | str | Path | None = None,
    **options: Any,
) -> WeeklyPlan:
    """A week-by-week plan of ``budget`` with carry-over in and out of the horizon.

    Parameters
    ----------
    model : FitResult or path
        A fitted model with geometric adstock, or its fit output folder.
    budget : float
        Total over the plan weeks.
    periods : int, optional
        Plan weeks after the model's window (default: as many as the window).
    constraints : dict, Constraints or path, optional
        A ``weeks`` block with per-week bounds per channel (a number, or one per week).
    **options
        ``count_carryover_out`` (default true).

    Returns
    -------
    WeeklyPlan
        ``to_dict()`` is the weekly ``plan.json`` document.

    Examples
    --------
    >>> import mediamix
    >>> from mediamix.models.result import example_result
    >>> plan = mediamix.optimize_weekly(example_result(), budget=800.0, periods=4,
    ...                                 constraints={"weeks": {"tv": {"max": [0, 0, 400, 400]}}})
    >>> [round(week["tv"], 6) for week in plan.to_dict()["weekly"]][:2]
    [0.0, 0.0]
    >>> round(sum(c.spend for c in plan.channels.values()), 6)
    800.0
    """
    from mediamix.service.optimize import plan_weekly

    request = _optimize_request(budget, constraints, {**options, "periods": periods})
    result = model if isinstance(model, FitResult) else load_model(model)
    return plan_weekly(result, request)


def _optimize_request(
    budget: float,
    constraints: Constraints | Mapping[str, Any] | str | Path | None,
    options: Mapping[str, Any],
) -> OptimizeRequest:
    from mediamix.service.optimize import optimize_request

    return optimize_request(budget, constraints=constraints, **options)


def _model_source(model: Any, periods: int | None) -> dict[str, Any]:
    """The keyword the optimize use case takes for ``model``: curves or a response model."""
    from mediamix.models.response import planning_response
    from mediamix.optimization.response import ResponseModel

    if isinstance(model, FitResult):
        return {"response_model": planning_response(model, periods)}
    if isinstance(model, ResponseModel):
        return {"response_model": model}
    if isinstance(model, str | Path):
        path = Path(model)
        if path.is_file():
            return {"curves": path}
        return {"response_model": planning_response(load_model(path), periods)}
    raise InputError.single(
        f"expected a fitted model, a response model or a path, not {type(model).__name__}",
        column="model",
    )


def attribute(
    source: str | Path | pd.DataFrame,
    method: str = "all",
    *,
    decomposition: str | Path | pd.DataFrame | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Attribute conversions to channels from aggregated paths or an event log.

    Parameters
    ----------
    source : path or DataFrame
        Aggregated paths (``path``, ``total_conversions``, ...) or an event log
        (``user_id``, ``timestamp``, ``channel``, ``conversion``, ...); the layout is
        told from the columns.
    method : str
        ``first_touch``, ``last_touch``, ``linear``, ``linear_channel``,
        ``time_decay``, ``position_based``, ``w_shaped``, ``markov``, ``shapley``,
        ``mmm``, or ``all`` (side by side).
    decomposition : path or DataFrame, optional
        An MMM decomposition (``result.decompose()``) for ``mmm``.
    **options
        Fields of :class:`~mediamix.service.requests.AttributeRequest`: ``order``,
        ``half_life``, ``lookback_days``, ``keep_repeats``, ``window_start``,
        ``window_end``, ``shapley_permutations``, ``seed``.

    Returns
    -------
    DataFrame
        ``channel``, ``conversions``, ``conversion_value`` (one method), or
        ``<method>_conversions``, ``<method>_value`` per method (``all``).

    Examples
    --------
    >>> import mediamix, pandas as pd
    >>> paths = pd.DataFrame({"path": ["a > b", "b", "a > c"],
    ...                       "total_conversions": [2, 1, 1]})
    >>> mediamix.attribute(paths, "last_touch")["conversions"].tolist()
    [0.0, 3.0, 1.0]
    >>> try:
    ...     mediamix.attribute(paths, "magic")
    ... except mediamix.InputError as err:
    ...     print(err.problems[0].column)
    method
    """
    from mediamix.service.attribute import attribute_journeys

    request = parse_request(AttributeRequest, {"method": method, **options})
    return attribute_journeys(source, request, decomposition=decomposition)


def synth(out: str | Path | None = None, **config: Any) -> SynthResult:
    """Synthetic weekly data with known truth, to try the library on.

    Parameters
    ----------
    out : path, optional
        Also write ``synth.csv``, ``spec.yaml`` and ``truth.json`` into this folder.
    **config
        ``seed``, ``weeks``, ``channels``, ``geos``, ``noise``, ``media_share``,
        ``kpi_type`` (:class:`~mediamix.service.requests.SynthRequest`).

    Returns
    -------
    SynthResult
        ``frame`` (the table), ``spec`` (a spec document for it), ``truth`` (true
        contributions, ROI and curves per channel).

    Examples
    --------
    >>> import mediamix
    >>> data = mediamix.synth(seed=1, weeks=52, channels=2)
    >>> data.frame.shape[0], sorted(data.spec["channels"])
    (52, ['search', 'tv'])
    """
    from mediamix.data.synthetic import SynthConfig, synthesize
    from mediamix.service.synth import write_synth

    request = parse_request(SynthRequest, config)
    settings = SynthConfig(**request.model_dump())
    if out is not None:
        return write_synth(out, settings)[1]
    return synthesize(settings)
