"""Shared fixtures; a private stand-in for the transforms the optimizer calls.

The transforms library is written in parallel. Until ``hill``, ``hill_derivative``,
``logistic`` and ``logistic_derivative`` exist in :mod:`mediamix.transforms`, these
tests install the textbook formulas below (test-only; ``src`` never carries them).
Once the real functions land they are used untouched.
"""

from __future__ import annotations

import numpy as np

import mediamix.transforms as _tf


def _hill(x, half_saturation, slope):
    x = np.asarray(x, dtype=float)
    xs = np.power(x, slope)
    return xs / (xs + np.power(half_saturation, slope))


def _hill_derivative(x, half_saturation, slope):
    x = np.asarray(x, dtype=float)
    ks = np.power(half_saturation, slope)
    with np.errstate(divide="ignore", invalid="ignore"):
        return slope * ks * np.power(x, slope - 1.0) / (np.power(x, slope) + ks) ** 2


def _logistic(x, lam):
    e = np.exp(-lam * np.asarray(x, dtype=float))
    return (1.0 - e) / (1.0 + e)


def _logistic_derivative(x, lam):
    e = np.exp(-lam * np.asarray(x, dtype=float))
    return 2.0 * lam * e / (1.0 + e) ** 2


for _name, _fn in {
    "hill": _hill,
    "hill_derivative": _hill_derivative,
    "logistic": _logistic,
    "logistic_derivative": _logistic_derivative,
}.items():
    if not hasattr(_tf, _name):
        setattr(_tf, _name, _fn)
