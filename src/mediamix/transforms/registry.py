"""Named transforms: thin frozen classes over the pure functions, for specs and artifacts.

Each class holds one channel's parameters, calls the pure function in
:mod:`~mediamix.transforms.adstock` or :mod:`~mediamix.transforms.saturation`, and
round-trips through ``to_dict()`` / ``from_dict()`` as ``{"type": name, **params}``
(the form stored in ``summary.json``, e.g. ``{"type": "geometric", "alpha": 0.5}``).

Class attributes used by hyperparameter search:

``param_names``
    The continuous parameters a search varies (structural options such as ``l_max``,
    ``normalize`` or ``convention`` are fixed by the spec).
``search_bounds``
    Default ``(low, high)`` per searched parameter. Bounds of saturation parameters
    expressed in units of ``x`` assume media scaled so that its typical (mean) value
    is about 1; rescale them with the data otherwise.

Examples
--------
>>> adstock_from_dict({"type": "geometric", "alpha": 0.5}).apply([100.0, 0.0]).tolist()
[100.0, 50.0]
>>> HillSaturation(half_saturation=40000.0, slope=1.2).to_dict()
{'type': 'hill', 'half_saturation': 40000.0, 'slope': 1.2}
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

import numpy.typing as npt

from mediamix.errors import InputError
from mediamix.transforms import adstock as _ad
from mediamix.transforms import saturation as _sat
from mediamix.transforms.adstock import FloatArray, WeibullConvention

__all__ = [
    "ADSTOCKS",
    "SATURATIONS",
    "AdstockTransform",
    "BinomialAdstock",
    "DelayedAdstock",
    "GeometricAdstock",
    "GeometricWindowAdstock",
    "HillRobynSaturation",
    "HillSaturation",
    "LightweightAdstock",
    "LogisticSaturation",
    "MichaelisMentenSaturation",
    "SaturationTransform",
    "TanhSaturation",
    "Transform",
    "WeibullCDFAdstock",
    "WeibullPDFAdstock",
    "adstock_from_dict",
    "lookup_adstock",
    "lookup_saturation",
    "saturation_from_dict",
]

Bounds = Mapping[str, tuple[float, float]]


def _coerce(cls_name: str, key: str, hint: Any, value: Any) -> Any:
    """Check one ``from_dict`` value against its field type; ints are accepted as floats."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        if value in typing.get_args(hint):
            return value
        raise InputError(f"{cls_name}: {key} must be one of {typing.get_args(hint)}, got {value!r}")
    args = typing.get_args(hint)
    if value is None and type(None) in args:
        return None
    base = next((a for a in args if a is not type(None)), hint) if args else hint
    if base is bool:
        if isinstance(value, bool):
            return value
    elif base is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif base is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise InputError(f"{cls_name}: {key} must be of type {base.__name__}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Transform(ABC):
    """Base of every registered transform: a name, parameters, and dict round trip."""

    name: ClassVar[str]
    param_names: ClassVar[tuple[str, ...]]
    search_bounds: ClassVar[Bounds]

    def __post_init__(self) -> None:
        # Fail at construction (e.g. while reading a spec), not at the first apply.
        self.apply([0.0])

    @abstractmethod
    def apply(self, x: npt.ArrayLike) -> FloatArray:
        """Transform ``x`` (time first)."""

    def params(self) -> dict[str, Any]:
        """The parameters as a plain dict, in field order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_dict(self) -> dict[str, Any]:
        """``{"type": name, **params}``, JSON-ready."""
        return {"type": self.name, **self.params()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        """Build from ``{"type": name, **params}``; defaults fill omitted optional keys.

        Raises
        ------
        InputError
            Wrong type name, unknown or missing keys, or values of the wrong type or
            out of range.
        """
        kind = d.get("type", cls.name)
        if kind != cls.name:
            raise InputError(f"expected type {cls.name!r}, got {kind!r}")
        hints = _type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(fields) - {"type"})
        if unknown:
            raise InputError(
                f"{cls.name}: unknown parameter(s) {unknown}; expected {sorted(fields)}"
            )
        missing = [
            n
            for n, f in fields.items()
            if n not in d
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            raise InputError(f"{cls.name}: missing parameter(s) {missing}")
        kwargs = {k: _coerce(cls.name, k, hints[k], v) for k, v in d.items() if k != "type"}
        return cls(**kwargs)


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    # resolving the string annotations costs more than building the transform, and
    # models are rebuilt from their stored dicts on every prediction
    return typing.get_type_hints(cls)


# ----------------------------------------------------------------------------- adstock


@dataclasses.dataclass(frozen=True)
class AdstockTransform(Transform):
    """A carry-over transform; linear in ``x``."""

    def weights(self, n_periods: int | None = None) -> FloatArray:
        """Lag weights ``w`` such that ``apply(x) == convolve_weights(x, w)``.

        ``n_periods`` (the series length) is needed by the infinite recursions and by
        Robyn's Weibull, whose window is the series.
        """
        return _ad.adstock_weights(self.name, n_periods=n_periods, **self.params())

    def total_weight(self, n_periods: int | None = None) -> float:
        """Sum of the lag weights: the long-run multiplier of a steady spend."""
        return float(_ad.adstock_total_weight(self.name, n_periods=n_periods, **self.params()))


@dataclasses.dataclass(frozen=True)
class GeometricAdstock(AdstockTransform):
    """Robyn's geometric adstock, infinite recursion ``y_t = x_t + alpha y_{t-1}``."""

    name: ClassVar[str] = "geometric"
    param_names: ClassVar[tuple[str, ...]] = ("alpha",)
    # Robyn's rule of thumb spans TV (0.3, 0.8) and digital (0, 0.3).
    search_bounds: ClassVar[Bounds] = {"alpha": (0.0, 0.8)}

    alpha: float

    def apply(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.adstock.geometric_adstock_robyn`."""
        return _ad.geometric_adstock(x, self.alpha)


@dataclasses.dataclass(frozen=True)
class GeometricWindowAdstock(AdstockTransform):
    """PyMC-Marketing's finite-window geometric adstock (``l_max`` lags).

    Meridian's geometric adstock with ``max_lag`` is ``l_max = max_lag + 1`` and
    ``normalize=True`` whenever the series is at least ``max_lag + 1`` periods long.
    """

    name: ClassVar[str] = "geometric_window"
    param_names: ClassVar[tuple[str, ...]] = ("alpha",)
    search_bounds: ClassVar[Bounds] = {"alpha": (0.0, 0.8)}

    alpha: float
    l_max: int = _ad.PYMC_DEFAULT_L_MAX
    normalize: bool = False

    def apply(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.adstock.geometric_adstock_pymc`."""
        return _ad.geometric_adstock(x, self.alpha, l_max=self.l_max, normalize=self.normalize)


@dataclasses.dataclass(frozen=True)
class DelayedAdstock(AdstockTransform):
    """Delayed-peak adstock of Jin et al. (2017), weights ``alpha^((l - theta)^2)``."""

    name: ClassVar[str] = "delayed"
    param_names: ClassVar[tuple[str, ...]] = ("alpha", "theta")
    search_bounds: ClassVar[Bounds] = {"alpha": (0.05, 0.95), "theta": (0.0, 4.0)}

    alpha: float
    theta: float
    l_max: int = _ad.PYMC_DEFAULT_L_MAX
    normalize: bool = True

    def apply(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.adstock.delayed_adstock`."""
        return _ad.delayed_adstock(x, self.alpha, self.theta, self.l_max, self.normalize)


@dataclasses.dataclass(frozen=True)
class BinomialAdstock(AdstockTransform):
    """Meridian's binomial adstock over lags 0 to ``max_lag`` (normalized)."""

    name: ClassVar[str] = "binomial"
    param_names: ClassVar[tuple[str, ...]] = ("alpha",)
    # Meridian's default prior on alpha is Uniform(0, 1).
    search_bounds: ClassVar[Bounds] = {"alpha": (0.0, 1.0)}

    alpha: float
    max_lag: int = 8

    def apply(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.adstock.binomial_adstock`."""
        return _ad.binomial_adstock(x, self.alpha, self.max_lag)


@dataclasses.dataclass(frozen=True)
class _WeibullAdstock(AdstockTransform):
    """Weibull decay of the kind a subclass names; ``scale`` is a window share (Robyn) or
    periods (PyMC)."""

    kind: ClassVar[Literal["cdf", "pdf"]]
    param_names: ClassVar[tuple[str, ...]] = ("shape", "scale")

    shape: float
    scale: float
    convention: WeibullConvention = "robyn"
    l_max: int | None = None
    normalize: bool = False

    def apply(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.adstock.weibull_adstock` with this ``kind``."""
        return _ad.weibull_adstock(
            x,
            self.shape,
            self.scale,
            kind=self.kind,
            convention=self.convention,
            l_max=self.l_max,
            normalize=self.normalize,
        )


@dataclasses.dataclass(frozen=True)
class WeibullCDFAdstock(_WeibullAdstock):
    """Weibull survival-based decay; ``scale`` is a window share (Robyn) or periods (PyMC)."""

    name: ClassVar[str] = "weibull_cdf"
    kind: ClassVar[Literal["cdf", "pdf"]] = "cdf"
    # Robyn's recommended bounds (convention "robyn"; scale is a share of the series).
    search_bounds: ClassVar[Bounds] = {"shape": (0.0001, 2.0), "scale": (0.0, 0.1)}


@dataclasses.dataclass(frozen=True)
class WeibullPDFAdstock(_WeibullAdstock):
    """Weibull density decay (allows a delayed peak); min-max scaled weights."""

    name: ClassVar[str] = "weibull_pdf"
    kind: ClassVar[Literal["cdf", "pdf"]] = "pdf"
    # Robyn's recommended bounds (convention "robyn").
    search_bounds: ClassVar[Bounds] = {"shape": (0.0001, 10.0), "scale": (0.0, 0.1)}


@dataclasses.dataclass(frozen=True)
class LightweightAdstock(AdstockTransform):
    """LightweightMMM's geometric adstock, recursion scaled by ``1 - lam``."""

    name: ClassVar[str] = "lightweight"
    param_names: ClassVar[tuple[str, ...]] = ("lam",)
    search_bounds: ClassVar[Bounds] = {"lam": (0.0, 0.9)}

    lam: float
    normalize: bool = True

    def apply(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.adstock.geometric_adstock_lightweight`."""
        return _ad.geometric_adstock_lightweight(x, self.lam, self.normalize)


# -------------------------------------------------------------------------- saturation


@dataclasses.dataclass(frozen=True)
class SaturationTransform(Transform):
    """A saturation curve with its derivative in ``x``."""

    @abstractmethod
    def derivative(self, x: npt.ArrayLike) -> FloatArray:
        """Derivative of :meth:`apply` in ``x``."""


@dataclasses.dataclass(frozen=True)
class HillSaturation(SaturationTransform):
    """Hill curve ``x^s / (x^s + K^s)`` (Meridian / PyMC-Marketing half-saturation form)."""

    name: ClassVar[str] = "hill"
    param_names: ClassVar[tuple[str, ...]] = ("half_saturation", "slope")
    search_bounds: ClassVar[Bounds] = {"half_saturation": (0.1, 3.0), "slope": (0.5, 3.0)}

    half_saturation: float
    slope: float

    def apply(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.saturation.hill`."""
        return _sat.hill(x, self.half_saturation, self.slope)

    def derivative(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.saturation.hill_derivative`."""
        return _sat.hill_derivative(x, self.half_saturation, self.slope)


@dataclasses.dataclass(frozen=True)
class HillRobynSaturation(SaturationTransform):
    """Robyn's Hill curve: inflexion ``gamma * max(x)`` (or the legacy min-max form).

    ``apply`` and ``derivative`` take the series that sets the inflexion as
    ``x_range`` (default ``x`` itself); pass the historical series to evaluate new
    spend levels on the fitted curve.
    """

    name: ClassVar[str] = "hill_robyn"
    param_names: ClassVar[tuple[str, ...]] = ("alpha", "gamma")
    # Robyn's recommended bounds.
    search_bounds: ClassVar[Bounds] = {"alpha": (0.5, 3.0), "gamma": (0.3, 1.0)}

    alpha: float
    gamma: float
    legacy: bool = False

    def apply(self, x: npt.ArrayLike, *, x_range: npt.ArrayLike | None = None) -> FloatArray:
        """See :func:`~mediamix.transforms.saturation.hill_robyn`."""
        return _sat.hill_robyn(x, self.alpha, self.gamma, x_range=x_range, legacy=self.legacy)

    def derivative(self, x: npt.ArrayLike, *, x_range: npt.ArrayLike | None = None) -> FloatArray:
        """See :func:`~mediamix.transforms.saturation.hill_robyn_derivative`."""
        return _sat.hill_robyn_derivative(
            x, self.alpha, self.gamma, x_range=x_range, legacy=self.legacy
        )


@dataclasses.dataclass(frozen=True)
class LogisticSaturation(SaturationTransform):
    """PyMC-Marketing's logistic curve ``(1 - e^{-lam x}) / (1 + e^{-lam x})``."""

    name: ClassVar[str] = "logistic"
    param_names: ClassVar[tuple[str, ...]] = ("lam",)
    search_bounds: ClassVar[Bounds] = {"lam": (0.1, 10.0)}

    lam: float

    def apply(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.saturation.logistic`."""
        return _sat.logistic(x, self.lam)

    def derivative(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.saturation.logistic_derivative`."""
        return _sat.logistic_derivative(x, self.lam)


@dataclasses.dataclass(frozen=True)
class MichaelisMentenSaturation(SaturationTransform):
    """Michaelis-Menten curve ``alpha x / (lam + x)``."""

    name: ClassVar[str] = "michaelis_menten"
    param_names: ClassVar[tuple[str, ...]] = ("alpha", "lam")
    search_bounds: ClassVar[Bounds] = {"alpha": (0.1, 10.0), "lam": (0.1, 3.0)}

    alpha: float
    lam: float

    def apply(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.saturation.michaelis_menten`."""
        return _sat.michaelis_menten(x, self.alpha, self.lam)

    def derivative(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.saturation.michaelis_menten_derivative`."""
        return _sat.michaelis_menten_derivative(x, self.alpha, self.lam)


@dataclasses.dataclass(frozen=True)
class TanhSaturation(SaturationTransform):
    """PyMC-Marketing's tanh curve ``b tanh(x / (b c))``."""

    name: ClassVar[str] = "tanh"
    param_names: ClassVar[tuple[str, ...]] = ("b", "c")
    search_bounds: ClassVar[Bounds] = {"b": (0.1, 10.0), "c": (0.1, 5.0)}

    b: float
    c: float

    def apply(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.saturation.tanh_saturation`."""
        return _sat.tanh_saturation(x, self.b, self.c)

    def derivative(self, x: npt.ArrayLike) -> FloatArray:
        """See :func:`~mediamix.transforms.saturation.tanh_saturation_derivative`."""
        return _sat.tanh_saturation_derivative(x, self.b, self.c)


# ---------------------------------------------------------------------------- lookup

ADSTOCKS: Mapping[str, type[AdstockTransform]] = {
    c.name: c
    for c in (
        GeometricAdstock,
        GeometricWindowAdstock,
        DelayedAdstock,
        BinomialAdstock,
        WeibullCDFAdstock,
        WeibullPDFAdstock,
        LightweightAdstock,
    )
}
SATURATIONS: Mapping[str, type[SaturationTransform]] = {
    c.name: c
    for c in (
        HillSaturation,
        HillRobynSaturation,
        LogisticSaturation,
        MichaelisMentenSaturation,
        TanhSaturation,
    )
}


def lookup_adstock(name: str) -> type[AdstockTransform]:
    """The adstock class registered as ``name``.

    Raises
    ------
    InputError
        Unknown name; the message lists the known names.

    Examples
    --------
    >>> lookup_adstock("binomial").__name__
    'BinomialAdstock'
    """
    try:
        return ADSTOCKS[name]
    except (KeyError, TypeError):
        raise InputError(
            f"unknown adstock type {name!r}; known: {', '.join(sorted(ADSTOCKS))}"
        ) from None


def lookup_saturation(name: str) -> type[SaturationTransform]:
    """The saturation class registered as ``name``.

    Raises
    ------
    InputError
        Unknown name; the message lists the known names.

    Examples
    --------
    >>> lookup_saturation("hill").__name__
    'HillSaturation'
    """
    try:
        return SATURATIONS[name]
    except (KeyError, TypeError):
        raise InputError(
            f"unknown saturation type {name!r}; known: {', '.join(sorted(SATURATIONS))}"
        ) from None


def _type_of(d: Mapping[str, Any], what: str) -> str:
    if not isinstance(d, Mapping) or "type" not in d:
        raise InputError(f"{what} must be a mapping with a 'type' key, got {d!r}")
    return str(d["type"])


def adstock_from_dict(d: Mapping[str, Any]) -> AdstockTransform:
    """Build an adstock from ``{"type": name, **params}``.

    Examples
    --------
    >>> adstock_from_dict({"type": "geometric", "alpha": 0.5})
    GeometricAdstock(alpha=0.5)
    """
    return lookup_adstock(_type_of(d, "adstock")).from_dict(d)


def saturation_from_dict(d: Mapping[str, Any]) -> SaturationTransform:
    """Build a saturation from ``{"type": name, **params}``.

    Examples
    --------
    >>> saturation_from_dict({"type": "hill", "half_saturation": 40000.0, "slope": 1.2})
    HillSaturation(half_saturation=40000.0, slope=1.2)
    """
    return lookup_saturation(_type_of(d, "saturation")).from_dict(d)
