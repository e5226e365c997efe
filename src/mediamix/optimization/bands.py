"""Response curves on the planning model, with their interval over the model's draws.

The planner and the optimizer judge a budget on the planning response model (a
fitted model's ensemble expectation or posterior mean, see
:class:`~mediamix.optimization.response.PosteriorResponseModel`). A curve shown
beside a plan has to be drawn on the same basis, or a channel's curve and its
recommended spend disagree; this module draws each channel's curve that way, with
the band its draws give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from mediamix.optimization.response import (
    PosteriorResponseModel,
    ResponseModel,
    channel_marginals,
    channel_responses,
    has_draws,
)

__all__ = ["curve_bands"]


def curve_bands(
    model: ResponseModel,
    current: Mapping[str, float],
    multiples: Sequence[float],
    level: float = 0.9,
) -> pd.DataFrame:
    """Each channel's response to ``multiple x`` its current spend, the others held.

    For channel ``c`` and multiple ``m`` the plan is the current allocation with
    ``x_c = m * current_c``; ``response`` is channel ``c``'s part of the expected
    response (:func:`~mediamix.optimization.response.channel_responses`) and
    ``marginal_roi`` its derivative. ``lower``/``upper`` bound the central
    ``level`` interval of ``R_s(x) - R_s(x with c at 0)`` over the draws ``s``
    (the channel's part under each draw); both are null when the model has no
    draws.

    Parameters
    ----------
    model : ResponseModel
        The planning model (totals over the plan, currency).
    current : mapping
        Current spend per channel (currency, totals over the plan).
    multiples : sequence of float
        Multiples of current spend, each ``>= 0``.
    level : float
        Probability mass of the interval.

    Returns
    -------
    DataFrame
        ``channel``, ``multiple``, ``spend``, ``response``, ``lower``, ``upper``,
        ``marginal_roi``: one row per channel and multiple.

    Examples
    --------
    >>> from mediamix.optimization.response import curves_from_dict
    >>> hill = {"type": "hill", "half_saturation": 10.0, "slope": 1.0}
    >>> m = curves_from_dict({"channels": {"a": {"beta": 10.0, "saturation": hill}}})
    >>> t = curve_bands(m, {"a": 10.0}, [0.0, 1.0, 2.0])
    >>> t["response"].round(3).tolist(), t["lower"].isna().all()
    ([0.0, 5.0, 6.667], np.True_)
    """
    channels = list(model.channels)
    base = np.array([float(current[c]) for c in channels])
    mults = np.asarray(multiples, dtype=float)
    draws = isinstance(model, PosteriorResponseModel) and has_draws(model)
    tail = (1.0 - level) / 2.0
    rows = []
    for c, name in enumerate(channels):
        plans = np.repeat(base[None, :], len(mults), axis=0)
        plans[:, c] = mults * base[c]
        lower = upper = np.full(len(mults), np.nan)
        if draws:
            assert isinstance(model, PosteriorResponseModel)  # noqa: S101 -- type narrowing of an internal invariant, not input validation
            off = plans.copy()
            off[:, c] = 0.0
            part = np.asarray(model.response_draws(plans)) - np.asarray(model.response_draws(off))
            lower = np.quantile(part, tail, axis=0)
            upper = np.quantile(part, 1.0 - tail, axis=0)
        for k, plan in enumerate(plans):
            rows.append(
                {
                    "channel": name,
                    "multiple": float(mults[k]),
                    "spend": float(plan[c]),
                    "response": float(channel_responses(model, plan)[c]),
                    "lower": float(lower[k]),
                    "upper": float(upper[k]),
                    "marginal_roi": float(channel_marginals(model, plan)[c]),
                }
            )
    return pd.DataFrame(rows)
