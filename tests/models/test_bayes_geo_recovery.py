"""The geo model recovers a known geo difference in a media effect (NUTS, small data).

Simulated: 4 geos of different populations, 2 channels with geometric carry-over and
Hill saturation on per-capita spend (shared by the geos, as in the model); channel 0's
effect per capita in the last geo is 3 times the first geo's, channel 1's is the same in
every geo. The fit must rank the geos' channel-0 effects correctly, find the ratio
between the extremes, see no real difference for channel 1, and keep the national
contributions near the truth.
"""

from __future__ import annotations

import numpy as np
import pytest

from mediamix.data.dataset import Dataset
from mediamix.data.spec import ModelSpec
from mediamix.transforms.adstock import geometric_adstock
from mediamix.transforms.saturation import hill

pytest.importorskip("jax")
pytest.importorskip("numpyro")

from mediamix.models.bayes.fit import BayesOptions, fit_bayes

pytestmark = [pytest.mark.bayes, pytest.mark.slow]

GEO_EFFECT = np.array([[0.6, 1.0], [0.9, 1.0], [1.3, 1.0], [1.8, 1.0]])  # (G, C) multipliers


def _geo_data(seed: int = 0) -> tuple[Dataset, ModelSpec, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_geos, n_weeks = 4, 104
    population = np.array([1.0e6, 2.5e6, 0.6e6, 1.6e6])
    t = np.arange(n_weeks)
    base_pc = 10.0 * (1 + 0.1 * np.sin(2 * np.pi * t / 52))  # KPI per capita, shared shape
    pattern = np.stack(
        [1 + 0.8 * np.sin(2 * np.pi * t / 13) ** 2, 1 + (rng.random(n_weeks) < 0.3) * 2.0], axis=1
    )
    spend_pc = pattern[None] * rng.gamma(8.0, 1 / 8.0, (n_geos, n_weeks, 2))  # per capita
    beta_pc = np.array([3.0, 2.0])  # KPI per capita at full saturation, before geo effects
    m = np.empty_like(spend_pc)
    for c, (alpha, k) in enumerate([(0.5, 1.5), (0.2, 1.2)]):
        ad = geometric_adstock(spend_pc[:, :, c].T, alpha, l_max=13, normalize=True).T
        m[:, :, c] = hill(ad, k, 1.5)
    media_pc = m * beta_pc * GEO_EFFECT[:, None, :]
    level = np.array([1.0, 0.95, 1.05, 1.0])[:, None] * base_pc
    kpi_pc = level + media_pc.sum(axis=-1) + rng.normal(0, 0.2, (n_geos, n_weeks))
    contribution = (media_pc * population[:, None, None]).sum(axis=1)  # (G, C)
    data = Dataset(
        dates=np.arange(n_weeks) * np.timedelta64(7, "D") + np.datetime64("2022-01-03"),
        geos=tuple(f"g{g}" for g in range(n_geos)),
        channels=("a", "b"),
        kpi=kpi_pc * population[:, None],
        spend=spend_pc * population[:, None, None],
        population=population,
    )
    spec = ModelSpec.model_validate(
        {
            "data": "geo.csv",
            "date": "date",
            "kpi": "kpi",
            "kpi_type": "revenue",
            "geo": "geo",
            "population": "population",
            "channels": {"a": {"spend": "a"}, "b": {"spend": "b"}},
            "seasonality": {"yearly": 2},
        }
    )
    return data, spec, contribution


@pytest.fixture(scope="module")
def geo_fit():
    data, spec, contribution = _geo_data()
    options = BayesOptions(
        chains=1, warmup=300, draws=300, seed=0, adstock="geometric", geo_hierarchy=True
    )
    return fit_bayes(data, spec, options), data, contribution


def test_recovers_geo_media_effects(geo_fit):
    res, data, truth = geo_fit
    geo = res.draws["geo_contribution"]  # (S, G, C), KPI units
    assert geo.shape[1:] == (data.n_geos, data.n_channels)
    # effect per capita per unit of spend, relative to the geo mean: the multiplier
    per_capita = geo.mean(axis=0) / data.spend.sum(axis=1)
    true_pc = truth / data.spend.sum(axis=1)
    ratio_a = per_capita[:, 0] / per_capita[:, 0].mean()
    assert list(np.argsort(ratio_a)) == list(np.argsort(true_pc[:, 0]))
    assert per_capita[3, 0] / per_capita[0, 0] == pytest.approx(3.0, rel=0.3)
    ratio_b = per_capita[:, 1] / per_capita[:, 1].mean()
    assert np.all(np.abs(ratio_b - 1) < 0.2)
    np.testing.assert_allclose(geo.mean(axis=0).sum(axis=0), truth.sum(axis=0), rtol=0.2)


def test_geo_fit_converges_and_sums_to_national(geo_fit):
    res, data, _ = geo_fit
    d = res.info["diagnostics"]
    # one short chain (split R-hat over 2 x 150 draws): a check that it is not stuck
    assert d["max_rhat"] < 1.1
    assert res.info["geos"] == data.n_geos
    assert res.info["geo_names"] == list(data.geos)
    np.testing.assert_allclose(
        res.draws["geo_contribution"].sum(axis=1), res.draws["contribution"], rtol=1e-12
    )


def test_chains_in_processes_equal_the_same_chains_in_one_process():
    """A geo fit runs each chain in a process of its own; the draws are the chains
    numpyro would draw with the same keys in one process."""
    import dataclasses

    from mediamix.models.bayes.inference import infer
    from mediamix.models.bayes.model import ModelSettings, prepare_inputs
    from mediamix.models.bayes.runtime import setup_jax
    from mediamix.models.design import baseline_design, baseline_features

    data, spec, _ = _geo_data()
    options = BayesOptions(
        chains=2, warmup=40, draws=30, seed=1, adstock="geometric", geo_hierarchy=True
    )
    design = baseline_design(data, spec)
    raw = np.stack([baseline_features(design, data, geo=g) for g in range(data.n_geos)])
    inputs, _ = prepare_inputs(
        spend=data.spend,
        kpi=data.kpi,
        features=raw,
        lifts=[],
        settings=ModelSettings(
            adstock="geometric",
            l_max=options.l_max,
            saturation="hill",
            likelihood="normal",
            media_prior="roi",
            roi_prior={},
            media_share=options.media_share,
            roi_sigma=options.roi_sigma,
        ),
        population=data.population,
    )
    setup_jax(2)  # float64, as fit_bayes runs: the spawned chains must follow it
    spawned, by_chain, extra = infer(inputs, options, 2, "processes")
    assert by_chain["sigma"].dtype == np.float64
    _, reference, ref_extra = infer(inputs, dataclasses.replace(options), 2, "sequential")
    assert by_chain["sigma"].shape == (2, 30)
    assert not np.allclose(by_chain["sigma"][0], by_chain["sigma"][1])
    for site, values in reference.items():
        np.testing.assert_allclose(by_chain[site], values, rtol=1e-5, atol=1e-8, err_msg=site)
    assert extra == ref_extra
    assert spawned["mu"].shape == (60, data.n_geos, data.n_periods)
