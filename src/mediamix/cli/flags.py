"""The one table from request fields to command-line flags.

The service layer names a bad request field by its key path (``engine``,
``sampler.chains``, see :mod:`mediamix.service.requests`); on the command line
the user typed a flag, so errors about request fields name the flag instead.
Problems that name a file (a spec, a constraints document) keep their keys.
"""

from __future__ import annotations

import dataclasses

from mediamix.errors import Problem

__all__ = ["FLAGS", "as_flags"]

FLAGS: dict[str, str] = {
    # fit
    "engine": "--engine",
    "seed": "--seed",
    "sampler.method": "--method",
    "sampler.chains": "--chains",
    "sampler.warmup": "--warmup",
    "sampler.draws": "--draws",
    "sampler.geo_hierarchy": "--geo-model",
    # optimize
    "budget": "--budget",
    "objective": "--objective",
    "target": "--target",
    "periods": "--periods",
    "risk_level": "--risk-level",
    "scenarios": "--scenarios",
    "frontier": "--frontier",
    "weekly": "--weekly",
    "constraints": "--constraints",
    # attribute
    "method": "--method",
    "order": "--order",
    "half_life": "--half-life",
    "lookback_days": "--lookback-days",
    "keep_repeats": "--keep-repeats",
    "decomposition": "--decomposition",
    "window_start": "--window-start",
    "window_end": "--window-end",
    "shapley_permutations": "--shapley-permutations",
    # synth
    "weeks": "--weeks",
    "channels": "--channels",
    "geos": "--geos",
    "noise": "--noise",
    "media_share": "--media-share",
    "kpi_type": "--kpi-type",
}


def as_flags(problem: Problem) -> Problem:
    """``problem`` with a request field replaced by the flag that sets it.

    Examples
    --------
    >>> str(as_flags(Problem("must be positive", column="sampler.chains")))
    "column '--chains': must be positive"
    >>> str(as_flags(Problem("unknown key", file="c.yaml", column="channels")))
    "c.yaml, column 'channels': unknown key"
    """
    if problem.file is not None or problem.column not in FLAGS:
        return problem
    return dataclasses.replace(problem, column=FLAGS[problem.column])
