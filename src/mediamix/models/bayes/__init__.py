"""Bayesian MMM engine (numpyro): priors on transforms, ROI priors, NUTS or SVI.

Importing this package does not import jax: the names below are loaded on first use
(``from mediamix.models.bayes import fit_bayes`` imports jax then), so
``import mediamix`` and ``import mediamix.models.bayes`` stay light.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["BayesOptions", "fit_bayes"]

_LAZY = {"BayesOptions": "mediamix.models.bayes.fit", "fit_bayes": "mediamix.models.bayes.fit"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
