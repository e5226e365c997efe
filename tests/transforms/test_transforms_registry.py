"""Registry: names, dict forms of CONTRACTS.md, errors, search metadata."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from mediamix.errors import InputError
from mediamix.transforms import (
    ADSTOCKS,
    SATURATIONS,
    GeometricAdstock,
    GeometricWindowAdstock,
    HillRobynSaturation,
    HillSaturation,
    WeibullCDFAdstock,
    adstock_from_dict,
    geometric_adstock_meridian,
    lookup_adstock,
    lookup_saturation,
    saturation_from_dict,
)


def test_registered_names() -> None:
    assert set(ADSTOCKS) == {
        "geometric",
        "geometric_window",
        "delayed",
        "binomial",
        "weibull_cdf",
        "weibull_pdf",
        "lightweight",
    }
    assert set(SATURATIONS) == {"hill", "hill_robyn", "logistic", "michaelis_menten", "tanh"}


def test_contract_forms() -> None:
    # The summary.json forms in CONTRACTS.md.
    ad = adstock_from_dict({"type": "geometric", "alpha": 0.5})
    assert ad == GeometricAdstock(alpha=0.5)
    assert ad.to_dict() == {"type": "geometric", "alpha": 0.5}
    sat = saturation_from_dict({"type": "hill", "half_saturation": 40000.0, "slope": 1.2})
    assert sat == HillSaturation(half_saturation=40000.0, slope=1.2)
    assert sat.to_dict() == {"type": "hill", "half_saturation": 40000.0, "slope": 1.2}


@pytest.mark.parametrize("name", sorted(ADSTOCKS) + sorted(SATURATIONS))
def test_json_round_trip_and_search_metadata(name: str) -> None:
    cls = ADSTOCKS.get(name) or SATURATIONS[name]
    assert cls.name == name
    assert set(cls.search_bounds) == set(cls.param_names)
    field_names = {f.name for f in dataclasses.fields(cls)}
    assert set(cls.param_names) <= field_names
    for lo, hi in cls.search_bounds.values():
        assert lo < hi
    mid = cls(**{k: (lo + hi) / 2 for k, (lo, hi) in cls.search_bounds.items()})
    text = json.dumps(mid.to_dict())
    assert cls.from_dict(json.loads(text)) == mid
    y = mid.apply(np.linspace(0.0, 2.0, 10))
    assert y.shape == (10,)
    assert np.all(np.isfinite(y))


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(InputError, match="known: binomial, delayed, geometric"):
        lookup_adstock("adstock_of_doom")
    with pytest.raises(InputError, match="known: hill, hill_robyn, logistic"):
        lookup_saturation("sigmoid")
    with pytest.raises(InputError, match="unknown adstock type 'x'"):
        adstock_from_dict({"type": "x", "alpha": 0.5})
    with pytest.raises(InputError, match="'type' key"):
        saturation_from_dict({"half_saturation": 1.0, "slope": 1.0})


def test_from_dict_errors_name_the_parameter() -> None:
    with pytest.raises(InputError, match=r"missing parameter\(s\) \['slope'\]"):
        saturation_from_dict({"type": "hill", "half_saturation": 1.0})
    with pytest.raises(InputError, match="unknown parameter"):
        adstock_from_dict({"type": "geometric", "alpha": 0.5, "theta": 0.1})
    with pytest.raises(InputError, match="alpha must be of type float"):
        adstock_from_dict({"type": "geometric", "alpha": "0.5"})
    with pytest.raises(InputError, match="alpha must be in"):
        adstock_from_dict({"type": "geometric", "alpha": 1.5})
    with pytest.raises(InputError, match="convention must be one of"):
        adstock_from_dict({"type": "weibull_cdf", "shape": 1, "scale": 0.1, "convention": "x"})
    with pytest.raises(InputError, match="slope must be finite and > 0"):
        saturation_from_dict({"type": "hill", "half_saturation": 1.0, "slope": 0})
    with pytest.raises(InputError, match="expected type 'hill'"):
        HillSaturation.from_dict({"type": "logistic", "lam": 1.0})


def test_from_dict_coerces_numbers() -> None:
    ad = adstock_from_dict({"type": "geometric_window", "alpha": 1, "l_max": 4.0})
    assert ad == GeometricWindowAdstock(alpha=1.0, l_max=4)
    assert isinstance(ad.to_dict()["alpha"], float)
    assert isinstance(ad.to_dict()["l_max"], int)
    with pytest.raises(InputError, match="l_max must be of type int"):
        adstock_from_dict({"type": "geometric_window", "alpha": 0.5, "l_max": 4.5})
    with pytest.raises(InputError, match="normalize must be of type bool"):
        adstock_from_dict({"type": "geometric_window", "alpha": 0.5, "normalize": 1})


def test_frozen() -> None:
    ad = GeometricAdstock(alpha=0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ad.alpha = 0.2  # type: ignore[misc]


def test_meridian_geometric_through_the_window_class() -> None:
    # Meridian's geometric adstock with max_lag is geometric_window(l_max = max_lag + 1,
    # normalize) when the series holds the whole window.
    x = np.random.default_rng(0).uniform(0, 10, size=(20, 2))
    ad = GeometricWindowAdstock(alpha=0.6, l_max=5, normalize=True)
    np.testing.assert_allclose(ad.apply(x), geometric_adstock_meridian(x, 0.6, 4), rtol=1e-12)


def test_adstock_weights_and_total_weight() -> None:
    assert GeometricAdstock(alpha=0.5).total_weight() == pytest.approx(2.0)
    np.testing.assert_allclose(GeometricAdstock(alpha=0.5).weights(3), [1.0, 0.5, 0.25])
    robyn_cdf = WeibullCDFAdstock(shape=1.0, scale=0.3)
    assert robyn_cdf.weights(8).shape == (8,)
    with pytest.raises(InputError, match="n_periods"):
        robyn_cdf.total_weight()


def test_hill_robyn_class_uses_history() -> None:
    sat = HillRobynSaturation(alpha=2.0, gamma=0.5)
    history = np.array([0.0, 50.0, 200.0])
    assert float(sat.apply(100.0, x_range=history)) == pytest.approx(0.5)
    assert float(sat.derivative(100.0, x_range=history)) == pytest.approx(0.005)
    legacy = HillRobynSaturation(alpha=2.0, gamma=0.5, legacy=True)
    assert float(legacy.apply(125.0, x_range=[50.0, 200.0])) == pytest.approx(0.5)
