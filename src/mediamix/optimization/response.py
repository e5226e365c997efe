"""The response model the optimizer needs, and response curves given directly.

The optimizer sees a model only through :class:`ResponseModel`: the channel
names, the expected response to a vector of spends (totals over the plan, in
currency) and its gradient. Everything else is optional:

* :class:`SeparableResponseModel` adds ``channel_response`` and
  ``channel_gradient``. Implementing them declares that the response is a sum of
  per-channel terms, each depending on its own channel's spend only; the solver
  then uses an exact dynamic-programming stage over channels.
* :class:`PosteriorResponseModel` adds ``response_draws``: the response under
  each of ``S`` posterior draws, shape ``(S, ...)``. ``response`` and ``gradient``
  are then the expected (posterior mean) response and its gradient, which is what
  the optimizer maximizes; the draws give the interval of the plan's response.

Fitted models implement the same protocol through an adapter in the models
layer; this module does not know about them.

:class:`CurvesResponse` implements the protocol from the ``CURVES.json`` format
(CONTRACTS.md): the response of channel ``c`` to its total plan spend ``x`` is
``beta_c * saturation_c(x)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mediamix import transforms as _tf
from mediamix.errors import InputError, problems_from_validation

__all__ = [
    "ChannelCurve",
    "CountedDrawsModel",
    "CurrentSpendModel",
    "CurvesFile",
    "CurvesResponse",
    "DrawsResponse",
    "HillSaturation",
    "LogisticSaturation",
    "PosteriorResponseModel",
    "ResponseModel",
    "SeparableResponseModel",
    "channel_responses",
    "current_spend_of",
    "curves_from_dict",
    "has_draws",
    "read_curves",
]

logger = logging.getLogger(__name__)


@runtime_checkable
class ResponseModel(Protocol):
    """What the optimizer needs from a model, and nothing more.

    ``spend`` has shape ``(..., C)``: totals over the plan, in currency, one per
    channel in the order of :attr:`channels`. Leading dimensions are batches.
    """

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names, in the order of the last axis of ``spend``."""
        ...

    def response(self, spend: np.ndarray) -> np.ndarray:
        """Expected response (KPI units), shape ``(...)``."""
        ...

    def gradient(self, spend: np.ndarray) -> np.ndarray:
        """Gradient of :meth:`response` with respect to spend, shape ``(..., C)``."""
        ...


@runtime_checkable
class SeparableResponseModel(ResponseModel, Protocol):
    """A response that is a sum of one-channel terms.

    ``response(x) == channel_response(x).sum(-1)`` and term ``c`` depends on
    ``x[..., c]`` only; ``channel_gradient(x)[..., c]`` is its derivative.
    """

    def channel_response(self, spend: np.ndarray) -> np.ndarray:
        """Response of each channel, shape ``(..., C)``."""
        ...

    def channel_gradient(self, spend: np.ndarray) -> np.ndarray:
        """Derivative of each channel's response with respect to its spend, ``(..., C)``."""
        ...


@runtime_checkable
class PosteriorResponseModel(ResponseModel, Protocol):
    """A response model with posterior draws.

    ``response`` is the posterior mean ``response_draws(spend).mean(axis=0)`` or
    (fitted ridge models, :class:`mediamix.models.response.FittedResponse`) the
    point fit, with the draws describing the uncertainty around it.
    """

    def response_draws(self, spend: np.ndarray) -> np.ndarray:
        """Response under each draw, shape ``(S, ...)``."""
        ...


@runtime_checkable
class CurrentSpendModel(ResponseModel, Protocol):
    """A response model that knows the current (historical) spend of its channels.

    The current allocation is the reference for relative bounds (``min_ratio``), the
    risk check and the scenarios; ``None`` where a channel's is not known.
    """

    @property
    def current_spend(self) -> Mapping[str, float | None]:
        """Current spend per channel over the plan, currency."""
        ...


@runtime_checkable
class CountedDrawsModel(PosteriorResponseModel, Protocol):
    """A response model with draws that says how many it has (possibly none)."""

    @property
    def n_draws(self) -> int:
        """Number of draws behind ``response_draws`` (0: the point fit only)."""
        ...


def has_draws(model: ResponseModel) -> bool:
    """Whether ``model`` describes its uncertainty with draws (at least one).

    Examples
    --------
    >>> model = curves_from_dict({"channels": {"tv": {"beta": 1.0,
    ...     "saturation": {"type": "hill", "half_saturation": 1.0, "slope": 1.0}}}})
    >>> has_draws(model), has_draws(DrawsResponse((model, model)))
    (False, True)
    """
    if not isinstance(model, PosteriorResponseModel):
        return False
    return not isinstance(model, CountedDrawsModel) or model.n_draws > 0


def current_spend_of(model: ResponseModel) -> dict[str, float | None] | None:
    """The model's current spend per channel, when it knows it."""
    if isinstance(model, CurrentSpendModel):
        return dict(model.current_spend)
    return None


# --------------------------------------------------------------------------- curves


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class HillSaturation(_Strict):
    """Hill curve ``x**slope / (x**slope + half_saturation**slope)`` (currency units)."""

    type: Literal["hill"]
    half_saturation: float = Field(gt=0)
    slope: float = Field(gt=0)


class LogisticSaturation(_Strict):
    """Logistic curve ``(1 - exp(-lam x)) / (1 + exp(-lam x))``; ``lam`` in 1/currency."""

    type: Literal["logistic"]
    lam: float = Field(gt=0)


SaturationSpec = Annotated[HillSaturation | LogisticSaturation, Field(discriminator="type")]


class ChannelCurve(_Strict):
    """One channel of ``CURVES.json``.

    ``min``/``max`` bound the channel's total spend over the plan; ``current_spend``
    is the reference for relative bounds and scenarios.
    """

    beta: float = Field(ge=0)
    saturation: SaturationSpec
    current_spend: float | None = Field(default=None, ge=0)
    min: float = Field(default=0.0, ge=0)
    max: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _min_below_max(self) -> ChannelCurve:
        if self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class CurvesFile(_Strict):
    """The whole ``CURVES.json`` document."""

    channels: dict[str, ChannelCurve] = Field(min_length=1)


def _saturation(spec: HillSaturation | LogisticSaturation, x: np.ndarray) -> np.ndarray:
    if isinstance(spec, HillSaturation):
        return np.asarray(_tf.hill(x, spec.half_saturation, spec.slope), dtype=float)
    return np.asarray(_tf.logistic(x, spec.lam), dtype=float)


def _saturation_derivative(spec: HillSaturation | LogisticSaturation, x: np.ndarray) -> np.ndarray:
    if isinstance(spec, HillSaturation):
        return np.asarray(_tf.hill_derivative(x, spec.half_saturation, spec.slope), dtype=float)
    return np.asarray(_tf.logistic_derivative(x, spec.lam), dtype=float)


@dataclass(frozen=True)
class CurvesResponse:
    """Separable response from per-channel curves.

    .. math:: R(x) = \\sum_c \\beta_c \\, s_c(x_c)

    where ``x_c`` is channel ``c``'s total spend over the plan and ``s_c`` its
    saturation curve (Hill or logistic, from :mod:`mediamix.transforms`).
    Negative spends are treated as zero.

    Examples
    --------
    >>> model = curves_from_dict({"channels": {
    ...     "tv": {"beta": 100.0, "saturation": {"type": "hill", "half_saturation": 50.0,
    ...                                           "slope": 1.0}}}})
    >>> float(model.response(np.array([50.0])))
    50.0
    """

    curves: Mapping[str, ChannelCurve]

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.curves)

    def _spend(self, spend: np.ndarray) -> np.ndarray:
        x = np.asarray(spend, dtype=float)
        if x.shape[-1:] != (len(self.curves),):
            raise ValueError(f"spend must have shape (..., {len(self.curves)}), got {x.shape}")
        return np.maximum(x, 0.0)

    def channel_response(self, spend: np.ndarray) -> np.ndarray:
        x = self._spend(spend)
        out = np.empty_like(x)
        for i, curve in enumerate(self.curves.values()):
            out[..., i] = curve.beta * _saturation(curve.saturation, x[..., i])
        return out

    def channel_gradient(self, spend: np.ndarray) -> np.ndarray:
        x = self._spend(spend)
        out = np.empty_like(x)
        for i, curve in enumerate(self.curves.values()):
            out[..., i] = curve.beta * _saturation_derivative(curve.saturation, x[..., i])
        return out

    def response(self, spend: np.ndarray) -> np.ndarray:
        return self.channel_response(spend).sum(axis=-1)

    def gradient(self, spend: np.ndarray) -> np.ndarray:
        return self.channel_gradient(spend)

    @property
    def current_spend(self) -> dict[str, float | None]:
        """Current (historical) spend per channel, ``None`` where not given."""
        return {name: c.current_spend for name, c in self.curves.items()}

    @property
    def bounds(self) -> dict[str, tuple[float, float | None]]:
        """``(min, max)`` spend per channel as given in the curves file."""
        return {name: (c.min, c.max) for name, c in self.curves.items()}


def curves_from_dict(data: Mapping[str, Any], *, file: str | None = None) -> CurvesResponse:
    """Validate a ``CURVES.json`` document and build a :class:`CurvesResponse`.

    Raises
    ------
    InputError
        One problem per invalid key (unknown saturation type, negative ``beta``,
        missing fields, unknown fields), each naming the key path such as
        ``channels.tv.beta``.

    Examples
    --------
    >>> try:
    ...     curves_from_dict({"channels": {"tv": {"beta": -1.0,
    ...         "saturation": {"type": "logistic", "lam": 1.0}}}})
    ... except InputError as err:
    ...     print(err.problems[0].column)
    channels.tv.beta
    """
    try:
        parsed = CurvesFile.model_validate(data)
    except ValidationError as err:
        raise InputError(problems_from_validation(err, file=file)) from None
    return CurvesResponse(curves=dict(parsed.channels))


def read_curves(path: Path | str) -> CurvesResponse:
    """Read and validate a ``CURVES.json`` file (see :func:`curves_from_dict`)."""
    from mediamix.optimization.documents import read_json_object

    path = Path(path)
    data = read_json_object(path, "curves", "a JSON object with a 'channels' key")
    return curves_from_dict(data, file=str(path))


# --------------------------------------------------------------------------- draws


@dataclass(frozen=True)
class DrawsResponse:
    """Expected response over posterior draws, each draw a response model.

    .. math:: \\bar R(x) = \\frac{1}{S} \\sum_{s=1}^{S} R_s(x)

    It is separable when every draw is.

    Examples
    --------
    >>> def tv(beta):
    ...     return curves_from_dict({"channels": {"tv": {"beta": beta,
    ...         "saturation": {"type": "hill", "half_saturation": 1.0, "slope": 1.0}}}})
    >>> model = DrawsResponse((tv(1.0), tv(3.0)))
    >>> model.response_draws(np.array([1.0])).tolist(), float(model.response(np.array([1.0])))
    ([0.5, 1.5], 1.0)
    """

    draws: Sequence[ResponseModel]

    def __post_init__(self) -> None:
        if not self.draws:
            raise ValueError("DrawsResponse needs at least one draw")
        names = {m.channels for m in self.draws}
        if len(names) != 1:
            raise ValueError("every draw must have the same channels in the same order")

    @property
    def channels(self) -> tuple[str, ...]:
        return self.draws[0].channels

    @property
    def separable(self) -> bool:
        """Whether every draw is a :class:`SeparableResponseModel`."""
        return all(isinstance(m, SeparableResponseModel) for m in self.draws)

    @property
    def n_draws(self) -> int:
        """Number of draws."""
        return len(self.draws)

    def response_draws(self, spend: np.ndarray) -> np.ndarray:
        return np.stack([m.response(spend) for m in self.draws])

    def response(self, spend: np.ndarray) -> np.ndarray:
        return self.response_draws(spend).mean(axis=0)

    def gradient(self, spend: np.ndarray) -> np.ndarray:
        return np.mean([m.gradient(spend) for m in self.draws], axis=0)

    def channel_response(self, spend: np.ndarray) -> np.ndarray:
        return np.mean([_separable(m).channel_response(spend) for m in self.draws], axis=0)

    def channel_gradient(self, spend: np.ndarray) -> np.ndarray:
        return np.mean([_separable(m).channel_gradient(spend) for m in self.draws], axis=0)


def _separable(model: ResponseModel) -> SeparableResponseModel:
    if not isinstance(model, SeparableResponseModel):
        raise TypeError(f"{type(model).__name__} has no per-channel response")
    return model


def is_separable(model: ResponseModel) -> bool:
    """Whether the optimizer may treat ``model`` as a sum of one-channel terms."""
    if isinstance(model, DrawsResponse):
        return model.separable
    return isinstance(model, SeparableResponseModel)


def channel_responses(model: ResponseModel, spend: np.ndarray) -> np.ndarray:
    """Response attributed to each channel, shape ``(C,)``, for reporting.

    For a separable model this is ``channel_response``; otherwise the incremental
    response ``R(x) - R(x with channel c at zero)``.

    Examples
    --------
    >>> model = curves_from_dict({"channels": {
    ...     "a": {"beta": 2.0, "saturation": {"type": "hill", "half_saturation": 1.0,
    ...                                        "slope": 1.0}},
    ...     "b": {"beta": 4.0, "saturation": {"type": "hill", "half_saturation": 1.0,
    ...                                        "slope": 1.0}}}})
    >>> channel_responses(model, np.array([1.0, 3.0])).tolist()
    [1.0, 3.0]
    """
    x = np.asarray(spend, dtype=float)
    if is_separable(model):
        return np.asarray(_separable_any(model).channel_response(x), dtype=float)
    total = float(model.response(x))
    out = np.empty(x.shape[-1])
    for c in range(x.shape[-1]):
        off = x.copy()
        off[c] = 0.0
        out[c] = total - float(model.response(off))
    return out


def channel_marginals(model: ResponseModel, spend: np.ndarray) -> np.ndarray:
    """Marginal response per unit of spend for each channel, shape ``(C,)``."""
    x = np.asarray(spend, dtype=float)
    if is_separable(model):
        return np.asarray(_separable_any(model).channel_gradient(x), dtype=float)
    return np.asarray(model.gradient(x), dtype=float)


def _separable_any(model: ResponseModel) -> SeparableResponseModel:
    if isinstance(model, DrawsResponse):
        return model  # type: ignore[return-value]
    return _separable(model)
