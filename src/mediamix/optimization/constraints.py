"""Budget constraints: the constraints YAML, resolved to bounds and linear rules.

The YAML (docs/formats.md; spend figures are totals over the plan, in
currency)::

    total: equal                      # equal (default) | at_most: total spend vs the budget
    channels:
      tv: {min: 10000, max: 200000}   # absolute bounds
      search: {min_ratio: 0.5, max_ratio: 2.0}   # relative to current spend
      radio: {min_if_on: 5000}        # 0, or at least 5000
    groups:
      - {name: offline, channels: [tv, radio], max: 150000}   # also min, equal
    ratios:
      - {numerator: [tv], denominator: [search], min: 0.5, max: 3.0}
    share_of_voice:
      - {channels: [tv], competitor_spend: 300000, min_share: 0.2}   # omit channels: total
    band: 0.3                         # every channel without its own bounds stays within
                                      # +-30% of its current spend scaled to the budget
    weeks:                            # weekly plans only: per-week bounds (flighting)
      tv: {min: 1000, max: 20000}
      search: {max: [5000, 5000, 0, 0]}   # one value per week: dark in weeks 3 and 4

Every rule becomes one or two linear inequalities ``lower <= a . x <= upper``:

* a group: ``sum_{c in G} x_c`` at most / at least / equal to a figure;
* a ratio: ``sum_num x >= min * sum_den x`` and ``sum_num x <= max * sum_den x``;
* share of voice ``own / (own + competitor) >= s``, i.e.
  ``own >= s / (1 - s) * competitor``;
* ``min_if_on: m`` makes the channel semi-continuous: ``x = 0`` or ``x >= m``;
* ``band: f`` bounds every channel that has no ``min``, ``max``, ``min_ratio`` or
  ``max_ratio`` of its own to ``(1 - f) r_c <= x_c <= (1 + f) r_c`` with
  ``r_c = current_c * B / sum(current)``, the current mix scaled to the budget ``B``
  (so the band can always hold at any budget). Channels whose current spend is not
  known are left free. ``band`` absent or ``null`` here means no band; the
  ``optimize`` use case (:mod:`mediamix.service.optimize`) applies a default band
  when the document does not mention one.

:func:`resolve_constraints` checks feasibility with a mixed-integer LP (HiGHS via
:func:`scipy.optimize.milp`; binaries only for ``min_if_on`` channels) and, when
infeasible, names an irreducible set of conflicting rules found by a deletion
filter: drop each rule in turn and keep it only if the rest becomes feasible.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from mediamix.errors import InputError, Problem, problems_from_validation

__all__ = [
    "ChannelRule",
    "Constraints",
    "GroupRule",
    "LinearRule",
    "RatioRule",
    "ShareOfVoiceRule",
    "SpendLimits",
    "SpendReference",
    "TotalMode",
    "WeekRule",
    "constraints_from_dict",
    "read_constraints",
    "resolve_constraints",
]

logger = logging.getLogger(__name__)

TotalMode = Literal["equal", "at_most"]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ChannelRule(_Strict):
    """Bounds of one channel's total spend over the plan."""

    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, ge=0)
    min_ratio: float | None = Field(default=None, ge=0)
    max_ratio: float | None = Field(default=None, ge=0)
    min_if_on: float | None = Field(default=None, gt=0)


class GroupRule(_Strict):
    """Sum of spend over ``channels`` at most ``max``, at least ``min`` or equal to ``equal``."""

    name: str | None = None
    channels: list[str] = Field(min_length=1)
    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, ge=0)
    equal: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_kind(self) -> GroupRule:
        if self.min is None and self.max is None and self.equal is None:
            raise ValueError("a group needs at least one of min, max, equal")
        if self.equal is not None and (self.min is not None or self.max is not None):
            raise ValueError("a group with equal cannot also have min or max")
        return self


class RatioRule(_Strict):
    """``min <= sum(numerator) / sum(denominator) <= max``."""

    name: str | None = None
    numerator: list[str] = Field(min_length=1)
    denominator: list[str] = Field(min_length=1)
    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _has_limit(self) -> RatioRule:
        if self.min is None and self.max is None:
            raise ValueError("a ratio rule needs min, max or both")
        return self


class ShareOfVoiceRule(_Strict):
    """``own / (own + competitor_spend) >= min_share``; ``channels`` omitted means all."""

    name: str | None = None
    channels: list[str] | None = None
    competitor_spend: float = Field(gt=0)
    min_share: float = Field(gt=0, lt=1)


WeekBound = float | list[float]
"""A per-week bound: one figure for every week, or one per week of the plan."""


class WeekRule(_Strict):
    """Per-week spend bounds of one channel in a weekly plan (flighting)."""

    min: WeekBound | None = None
    max: WeekBound | None = None

    @field_validator("min", "max")
    @classmethod
    def _non_negative(cls, value: WeekBound | None) -> WeekBound | None:
        values: list[float] = [] if value is None else value if isinstance(value, list) else [value]
        for v in values:
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"spend bounds must be numbers >= 0, got {v!r}")
        return value


class Constraints(_Strict):
    """The constraints YAML; every key is optional.

    ``weeks`` holds per-week bounds for weekly plans only (``channel: {min, max}``,
    each a number for every week or a list with one value per week); single-period
    plans use the other keys. ``band`` keeps the channels without bounds of their
    own within that fraction of their current spend scaled to the budget (see the
    module docstring); ``None`` means no band.
    """

    total: TotalMode = "equal"
    channels: dict[str, ChannelRule] = Field(default_factory=dict)
    groups: list[GroupRule] = Field(default_factory=list)
    ratios: list[RatioRule] = Field(default_factory=list)
    share_of_voice: list[ShareOfVoiceRule] = Field(default_factory=list)
    band: float | None = Field(default=None, ge=0)
    weeks: dict[str, WeekRule] = Field(default_factory=dict)

    def banded_channels(self, channels: Sequence[str]) -> list[str]:
        """The channels the band applies to: those without bounds of their own.

        Examples
        --------
        >>> c = constraints_from_dict({"band": 0.3, "channels": {"tv": {"max": 5.0}}})
        >>> c.banded_channels(["tv", "search"])
        ['search']
        """
        if self.band is None:
            return []
        own = {
            name
            for name, rule in self.channels.items()
            if any(getattr(rule, k) is not None for k in ("min", "max", "min_ratio", "max_ratio"))
        }
        return [c for c in channels if c not in own]

    def single_period_keys(self) -> list[str]:
        """The keys given that only single-period plans use, sorted."""
        return sorted(k for k in self.model_fields_set if k != "weeks")

    def weekly_bounds(
        self, channels: Sequence[str], horizon: int, *, file: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-week ``(lower, upper)`` spend bounds, each ``(horizon, C)``, from ``weeks``.

        Channels without bounds get ``[0, inf)``.

        Raises
        ------
        InputError
            A channel the model does not have, a list whose length is not the
            horizon, a minimum above the maximum in some week; each names its key.

        Examples
        --------
        >>> c = constraints_from_dict({"weeks": {"tv": {"max": [0, 5]}, "radio": {"min": 1}}})
        >>> lower, upper = c.weekly_bounds(["tv", "radio"], 2)
        >>> lower.tolist(), upper.tolist()
        ([[0.0, 1.0], [0.0, 1.0]], [[0.0, inf], [5.0, inf]])
        """
        names = list(channels)
        lower = np.zeros((horizon, len(names)))
        upper = np.full((horizon, len(names)), np.inf)
        for channel, rule in self.weeks.items():
            key = f"weeks.{channel}"
            if channel not in names:
                raise InputError.single(
                    f"unknown channel '{channel}'; the model has {names}", file=file, column=key
                )
            c = names.index(channel)
            for bound, target in (("min", lower), ("max", upper)):
                value = getattr(rule, bound)
                if value is None:
                    continue
                values = value if isinstance(value, list) else [value] * horizon
                if len(values) != horizon:
                    raise InputError.single(
                        f"{len(values)} values for {horizon} weeks",
                        file=file,
                        column=f"{key}.{bound}",
                    )
                target[:, c] = np.asarray(values, dtype=float)
            if np.any(lower[:, c] > upper[:, c]):
                raise InputError.single("min is above max in some week", file=file, column=key)
        return lower, upper


def constraints_from_dict(
    data: Mapping[str, Any] | None, *, file: str | None = None
) -> Constraints:
    """Validate a constraints document; errors name the key path.

    Examples
    --------
    >>> constraints_from_dict({"groups": [{"channels": ["tv"], "max": 5.0}]}).groups[0].max
    5.0
    """
    try:
        return Constraints.model_validate(data or {})
    except ValidationError as err:
        raise InputError(problems_from_validation(err, file=file)) from None


def read_constraints(path: Path | str) -> Constraints:
    """Read the constraints YAML (see the module docstring)."""
    from mediamix.documents import read_yaml

    path = Path(path)
    data = read_yaml(path, "constraints")
    if data is not None and not isinstance(data, dict):
        raise InputError.single("expected a mapping at the top level", file=str(path))
    return constraints_from_dict(data, file=str(path))


# --------------------------------------------------------------------------- resolved


@dataclass(frozen=True)
class LinearRule:
    """``lower <= coef . x <= upper`` with a label naming where it came from."""

    label: str
    coef: np.ndarray
    lower: float = -math.inf
    upper: float = math.inf

    def violation(self, x: np.ndarray) -> float:
        """How far ``x`` is outside the rule (0 when inside)."""
        v = float(self.coef @ x)
        return max(self.lower - v, v - self.upper, 0.0)


@dataclass(frozen=True)
class _Item:
    """One named rule of the user's input: some linear rows or a semi-continuous channel."""

    label: str
    rows: tuple[LinearRule, ...] = ()
    semi: tuple[int, float] | None = None


@dataclass(frozen=True)
class SpendLimits:
    """Constraints resolved to numbers for ``channels``, for one budget.

    Attributes
    ----------
    lower, upper : ndarray, shape (C,)
        Bounds of each channel's spend (``upper`` may be ``inf``).
    min_if_on : ndarray, shape (C,)
        0, or the minimum spend of a semi-continuous channel (``x = 0`` or ``x >= m``).
    rules : tuple of LinearRule
        Rules over several channels (groups, ratios, share of voice); the total is not here.
    budget : float
        The budget ``B``; ``total`` says whether ``sum x == B`` or ``sum x <= B``.
    """

    channels: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    min_if_on: np.ndarray
    rules: tuple[LinearRule, ...]
    budget: float
    total: TotalMode = "equal"
    items: tuple[_Item, ...] = field(default=(), repr=False)

    def with_budget(self, budget: float, total: TotalMode | None = None) -> SpendLimits:
        """The same rules for another budget (not re-checked: see :meth:`total_range`)."""
        return replace(self, budget=float(budget), total=total or self.total)

    def violations(self, x: np.ndarray, rtol: float = 1e-7) -> list[str]:
        """Labels of the rules ``x`` breaks (tolerance ``rtol * budget``)."""
        tol = rtol * max(self.budget, 1.0)
        bad = []
        for i, name in enumerate(self.channels):
            if x[i] < self.lower[i] - tol or x[i] > self.upper[i] + tol:
                bad.append(f"bounds of {name}: [{self.lower[i]:g}, {self.upper[i]:g}]")
            m = self.min_if_on[i]
            if m > 0 and tol < x[i] < m - tol:
                bad.append(f"channels.{name}.min_if_on: 0 or at least {m:g}")
        bad.extend(r.label for r in self.rules if r.violation(x) > tol)
        s = float(np.sum(x))
        if s > self.budget + tol or (self.total == "equal" and s < self.budget - tol):
            bad.append(self._total_label())
        return bad

    def _total_label(self) -> str:
        op = "=" if self.total == "equal" else "<="
        return f"budget: total spend {op} {self.budget:g}"

    def total_range(self) -> tuple[float, float]:
        """Smallest and largest total spend the rules allow, ignoring the budget."""
        items = [i for i in self.items if not i.label.startswith("budget")]
        ones = np.ones(len(self.channels))
        lo = _solve(items, len(self.channels), ones, None)
        hi = _solve(items, len(self.channels), -ones, None)
        if lo is None:
            raise InputError(_conflict_problems(items, len(self.channels), None))
        top = math.inf if hi is None else float(np.sum(hi))
        return float(np.sum(lo)), top


def _label(kind: str, i: int, name: str | None) -> str:
    return f"{kind}[{i}]" + (f" '{name}'" if name else "")


# Long on purpose: one short branch per rule kind of the constraints document (bounds,
# ratios, groups, share of voice, weeks), in the order the document lists them.
def _build_items(
    cons: Constraints,
    channels: Sequence[str],
    current: Mapping[str, float | None],
    bounds: Mapping[str, tuple[float, float | None]],
    budget: float,
    file: str | None,
) -> list[_Item]:
    index = {c: i for i, c in enumerate(channels)}
    C = len(channels)
    problems: list[Problem] = []

    def vec(names: Sequence[str], key: str) -> np.ndarray:
        a = np.zeros(C)
        for n in names:
            if n not in index:
                problems.append(Problem(f"unknown channel '{n}'", file=file, column=key))
            else:
                a[index[n]] += 1.0
        return a

    def unit(i: int) -> np.ndarray:
        a = np.zeros(C)
        a[i] = 1.0
        return a

    items: list[_Item] = []
    for name, (lo, hi) in bounds.items():
        i = index[name]
        if lo > 0:
            items.append(_Item(f"curves: {name} min {lo:g}", (LinearRule("", unit(i), lower=lo),)))
        if hi is not None:
            items.append(_Item(f"curves: {name} max {hi:g}", (LinearRule("", unit(i), upper=hi),)))
    for name, rule in cons.channels.items():
        key = f"channels.{name}"
        if name not in index:
            problems.append(Problem(f"unknown channel '{name}'", file=file, column=key))
            continue
        i = index[name]
        if rule.min is not None:
            lbl = f"{key}.min = {rule.min:g}"
            items.append(_Item(lbl, (LinearRule(lbl, unit(i), lower=rule.min),)))
        if rule.max is not None:
            lbl = f"{key}.max = {rule.max:g}"
            items.append(_Item(lbl, (LinearRule(lbl, unit(i), upper=rule.max),)))
        for attr in ("min_ratio", "max_ratio"):
            ratio = getattr(rule, attr)
            if ratio is None:
                continue
            cur = current.get(name)
            if cur is None:
                problems.append(
                    Problem(
                        f"{attr} needs the channel's current spend, which was not given",
                        file=file,
                        column=f"{key}.{attr}",
                    )
                )
                continue
            v = ratio * cur
            lbl = f"{key}.{attr} = {ratio:g} (x current {cur:g} = {v:g})"
            if attr == "min_ratio":
                items.append(_Item(lbl, (LinearRule(lbl, unit(i), lower=v),)))
            else:
                items.append(_Item(lbl, (LinearRule(lbl, unit(i), upper=v),)))
        if rule.min_if_on is not None:
            items.append(
                _Item(f"{key}.min_if_on = {rule.min_if_on:g}", semi=(i, float(rule.min_if_on)))
            )
    items.extend(_band_items(cons, channels, current, budget))
    for k, g in enumerate(cons.groups):
        a = vec(g.channels, f"groups[{k}].channels")
        lbl = _label("groups", k, g.name)
        if g.equal is not None:
            rows = (LinearRule(f"{lbl}: sum = {g.equal:g}", a, g.equal, g.equal),)
        else:
            lo = -math.inf if g.min is None else g.min
            hi = math.inf if g.max is None else g.max
            if g.min is None:
                text = f"{lbl}: sum <= {hi:g}"
            elif g.max is None:
                text = f"{lbl}: sum >= {lo:g}"
            else:
                text = f"{lbl}: {lo:g} <= sum <= {hi:g}"
            rows = (LinearRule(text, a, lo, hi),)
        items.append(_Item(rows[0].label, rows))
    for k, r in enumerate(cons.ratios):
        num = vec(r.numerator, f"ratios[{k}].numerator")
        den = vec(r.denominator, f"ratios[{k}].denominator")
        lbl = _label("ratios", k, r.name)
        rows_r: list[LinearRule] = []
        if r.min is not None:
            rows_r.append(LinearRule(f"{lbl}: ratio >= {r.min:g}", num - r.min * den, lower=0.0))
        if r.max is not None:
            rows_r.append(LinearRule(f"{lbl}: ratio <= {r.max:g}", num - r.max * den, upper=0.0))
        items.append(_Item(" and ".join(r.label for r in rows_r), tuple(rows_r)))
    for k, s in enumerate(cons.share_of_voice):
        a = vec(s.channels, f"share_of_voice[{k}].channels") if s.channels else np.ones(C)
        need = s.min_share / (1.0 - s.min_share) * s.competitor_spend
        lbl = _label("share_of_voice", k, s.name)
        text = f"{lbl}: share >= {s.min_share:g} (spend >= {need:g})"
        items.append(_Item(text, (LinearRule(text, a, lower=need),)))
    if problems:
        raise InputError(problems)
    op = "=" if cons.total == "equal" else "<="
    lbl = f"budget: total spend {op} {budget:g}"
    lo_total = budget if cons.total == "equal" else -math.inf
    items.append(_Item(lbl, (LinearRule(lbl, np.ones(C), lo_total, budget),)))
    return items


def _band_items(
    cons: Constraints, channels: Sequence[str], current: Mapping[str, float | None], budget: float
) -> list[_Item]:
    """The band's bounds, around the current mix scaled to the budget (see the module)."""
    band = cons.band
    known = {c: current.get(c) for c in channels}
    if band is None or any(v is None for v in known.values()):
        return []  # no current mix to scale: nothing to centre a band on
    total = sum(float(v or 0.0) for v in known.values())
    if total <= 0:
        return []
    items = []
    for name in cons.banded_channels(channels):
        i = list(channels).index(name)
        ref = float(known[name] or 0.0) * budget / total
        lo, hi = max(0.0, (1.0 - band) * ref), (1.0 + band) * ref
        unit = np.zeros(len(channels))
        unit[i] = 1.0
        lbl = f"band = {band:g}: {name} within {lo:g} to {hi:g} (current mix scaled to the budget)"
        items.append(_Item(lbl, (LinearRule(lbl, unit, lower=lo, upper=hi),)))
    return items


def _solve(
    items: Sequence[_Item], C: int, cost: np.ndarray | None, scale: float | None
) -> np.ndarray | None:
    """A point satisfying ``items`` (minimizing ``cost . x``), or None if infeasible."""
    rows = [r for it in items for r in it.rows]
    semis = [it.semi for it in items if it.semi is not None]
    finite = [abs(v) for r in rows for v in (r.lower, r.upper) if math.isfinite(v)]
    big = 10.0 * max([*finite, scale or 0.0, 1.0]) * max(C, 1)
    n = C + len(semis)
    A = np.zeros((len(rows) + 2 * len(semis), n))
    lb = np.full(A.shape[0], -np.inf)
    ub = np.full(A.shape[0], np.inf)
    for j, r in enumerate(rows):
        A[j, :C] = r.coef
        lb[j], ub[j] = r.lower, r.upper
    for k, (i, m) in enumerate(semis):
        j = len(rows) + 2 * k
        A[j, i], A[j, C + k] = 1.0, -m  # x >= m z
        lb[j] = 0.0
        A[j + 1, i], A[j + 1, C + k] = 1.0, -big  # x <= big z
        ub[j + 1] = 0.0
    c = np.zeros(n)
    if cost is not None:
        c[:C] = cost
    upper = np.concatenate([np.full(C, np.inf), np.ones(len(semis))])
    integrality = np.concatenate([np.zeros(C), np.ones(len(semis))])
    if not semis:
        if not rows:
            return np.zeros(C) if cost is None or np.all(cost >= 0) else None
        res = linprog(
            c,
            A_ub=np.vstack([A[np.isfinite(ub)], -A[np.isfinite(lb)]]),
            b_ub=np.concatenate([ub[np.isfinite(ub)], -lb[np.isfinite(lb)]]),
            bounds=(0, None),
            method="highs",
        )
        return np.asarray(res.x[:C]) if res.status == 0 else None
    res_m = milp(
        c,
        constraints=LinearConstraint(A, lb, ub) if len(rows) + len(semis) else None,
        integrality=integrality,
        bounds=Bounds(np.zeros(n), upper),
    )
    return np.asarray(res_m.x[:C]) if res_m.status == 0 and res_m.x is not None else None


def _conflict_problems(items: Sequence[_Item], C: int, file: str | None) -> list[Problem]:
    """Deletion filter: an irreducible set of items that cannot hold together."""
    keep = list(items)
    for it in list(items):
        trial = [k for k in keep if k is not it]
        if _solve(trial, C, None, None) is None:
            keep = trial
    labels = [k.label for k in keep]
    logger.info("infeasible constraints; conflicting rules: %s", labels)
    msg = "the constraints cannot all hold; these conflict: " + "; ".join(labels)
    return [Problem(msg, file=file)]


@dataclass(frozen=True)
class SpendReference:
    """What is known of the channels besides the constraints, for resolving them.

    Attributes
    ----------
    current_spend : mapping channel -> spend, optional
        Current spend per channel (currency, total over the plan), which
        ``min_ratio``/``max_ratio`` rules are relative to; ``None`` where unknown.
    bounds : mapping channel -> (min, max), optional
        Extra bounds per channel (e.g. from ``CURVES.json``); ``max`` may be ``None``.
    """

    current_spend: Mapping[str, float | None] | None = None
    bounds: Mapping[str, tuple[float, float | None]] | None = None


def resolve_constraints(
    constraints: Constraints | None,
    channels: Sequence[str],
    budget: float,
    *,
    current_spend: Mapping[str, float | None] | None = None,
    bounds: Mapping[str, tuple[float, float | None]] | None = None,
    file: str | None = None,
    check: bool = True,
) -> SpendLimits:
    """Turn constraints into numbers for ``channels`` and check they can all hold.

    Parameters
    ----------
    constraints : Constraints or None
        The parsed YAML; None means only the budget.
    channels : sequence of str
        Channel order of the response model.
    budget : float
        Budget ``B`` (currency, total over the plan).
    current_spend : mapping, optional
        Current spend per channel, needed by ``min_ratio``/``max_ratio``.
    bounds : mapping, optional
        Extra ``(min, max)`` per channel (e.g. from ``CURVES.json``).
    check : bool
        Check feasibility (default True).

    Raises
    ------
    InputError
        Unknown channel names, ratios without current spend, or rules that cannot
        all hold; the message names an irreducible set of conflicting rules.

    Examples
    --------
    >>> cons = constraints_from_dict({"channels": {"tv": {"min": 80.0}},
    ...                               "groups": [{"name": "all", "channels": ["tv", "web"],
    ...                                           "max": 50.0}]})
    >>> try:
    ...     resolve_constraints(cons, ["tv", "web"], 50.0)
    ... except InputError as err:
    ...     print(str(err).split(": ", 1)[1])
    channels.tv.min = 80; budget: total spend = 50
    """
    if not (budget > 0 and math.isfinite(budget)):
        raise InputError.single(f"the budget must be a positive number, got {budget}")
    cons = constraints or Constraints()
    C = len(channels)
    items = _build_items(cons, channels, current_spend or {}, bounds or {}, budget, file)
    if check and _solve(items, C, None, budget) is None:
        raise InputError(_conflict_problems(items, C, file))

    lower = np.zeros(C)
    upper = np.full(C, np.inf)
    semi = np.zeros(C)
    rules: list[LinearRule] = []
    for it in items:
        if it.semi is not None:
            semi[it.semi[0]] = max(semi[it.semi[0]], it.semi[1])
        if it.label.startswith("budget"):
            continue
        for r in it.rows:
            nz = np.flatnonzero(r.coef)
            if len(nz) == 1:
                i, a = int(nz[0]), float(r.coef[nz[0]])
                lo, hi = (r.lower / a, r.upper / a) if a > 0 else (r.upper / a, r.lower / a)
                lower[i] = max(lower[i], lo)
                upper[i] = min(upper[i], hi)
            elif len(nz) > 1:
                rules.append(r)
    # a semi-continuous channel with a positive lower bound is simply on
    forced_on = (semi > 0) & (lower > 0)
    lower[forced_on] = np.maximum(lower[forced_on], semi[forced_on])
    semi[forced_on] = 0.0
    return SpendLimits(
        channels=tuple(channels),
        lower=lower,
        upper=upper,
        min_if_on=semi,
        rules=tuple(rules),
        budget=float(budget),
        total=cons.total,
        items=tuple(items),
    )
