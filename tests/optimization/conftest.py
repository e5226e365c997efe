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


# --------------------------------------------------------------------------- fitted models

import dataclasses  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


def _save(result, folder: Path) -> Path:
    from mediamix.io.artifacts import save_artifact

    meta, arrays = result.to_artifact()
    save_artifact(folder / "model", meta, arrays)
    return folder


@pytest.fixture(scope="session")
def ridge_result():
    """A small ridge fit on synthetic data (3 channels, 104 weeks), with draws."""
    from mediamix.data.spec import ModelSpec
    from mediamix.data.synthetic import SynthConfig, synthesize
    from mediamix.data.validation import build_dataset
    from mediamix.models.ridge import RidgeOptions, fit_ridge

    synth = synthesize(SynthConfig(seed=7, weeks=104, channels=3, noise=0.03))
    spec = ModelSpec.model_validate(synth.spec)
    data, _ = build_dataset(synth.frame, spec, source="synth.csv")
    options = RidgeOptions(seed=0)
    if "bootstrap" in {f.name for f in dataclasses.fields(options)}:
        options = dataclasses.replace(options, bootstrap=60)  # keep the fixture quick
    return fit_ridge(data, spec, options)


@pytest.fixture(scope="session")
def geometric_model_dir(ridge_result, tmp_path_factory) -> Path:
    """The ridge fit with every channel's adstock set to geometric, saved as a folder."""
    from mediamix.models.result import ChannelFit

    channels = {
        name: ChannelFit(
            adstock={"type": "geometric", "alpha": 0.3 + 0.1 * i},
            saturation=fit.saturation,
            beta=fit.beta,
        )
        for i, (name, fit) in enumerate(ridge_result.channels.items())
    }
    result = dataclasses.replace(ridge_result, channels=channels)
    return _save(result, tmp_path_factory.mktemp("geo_model"))


@pytest.fixture(scope="session")
def weibull_model_dir(ridge_result, tmp_path_factory) -> Path:
    """The ridge fit with one channel on a Weibull adstock, saved as a folder."""
    from mediamix.models.result import ChannelFit

    names = list(ridge_result.channels)
    channels = dict(ridge_result.channels)
    first = channels[names[0]]
    channels[names[0]] = ChannelFit(
        adstock={"type": "weibull_pdf", "shape": 1.5, "scale": 3.0, "l_max": 13},
        saturation=first.saturation,
        beta=first.beta,
    )
    result = dataclasses.replace(ridge_result, channels=channels)
    return _save(result, tmp_path_factory.mktemp("weibull_model"))
