"""Ridge engine search: batched evaluation, Pareto front, reproducibility, invariances,
synergy, lift calibration and recovery on synthetic data with known truth."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from mediamix.data.spec import ModelSpec
from mediamix.data.synthetic import SynthConfig, synthesize
from mediamix.data.validation import build_dataset
from mediamix.errors import InputError
from mediamix.models import ridge as R
from mediamix.models.result import FitResult
from mediamix.models.search import (
    OptimizerContext,
    SearchOptions,
    SearchProblem,
    cluster_front,
    evaluate,
    media_features,
    pareto_front,
    rssd_with_penalty,
    run_search,
    search_space,
    split_synergy,
)
from mediamix.transforms.registry import adstock_from_dict, saturation_from_dict

FAST = R.RidgeOptions(seed=0, candidates=600, batch=100, bootstrap=20)


def _synth(seed: int, weeks: int = 120, channels: int = 3, **kw):
    s = synthesize(SynthConfig(seed=seed, weeks=weeks, channels=channels, **kw))
    spec = ModelSpec.from_mapping(s.spec)
    data, _ = build_dataset(s.frame, spec, source="synth")
    return s, spec, data


@pytest.fixture(scope="module")
def small():
    return _synth(3)


@pytest.fixture(scope="module")
def small_fit(small):
    _, spec, data = small
    return R.fit_ridge(data, spec, FAST)


# ------------------------------------------------------------ batched evaluation


def _loop_reference(prep: R.Prepared, cand, b: int) -> tuple[np.ndarray, float]:
    """One candidate with the registry transforms and a plain ridge solve."""
    problem = prep.problem
    T, C = problem.spend.shape
    one = cand.take([b])
    _, K = media_features(problem, one)
    cols = []
    for c in range(C):
        ad = adstock_from_dict(R.adstock_dict(one, 0, c))
        sat = saturation_from_dict(
            {"type": "hill", "half_saturation": float(K[0, c]), "slope": float(one.slope[0, c])}
        )
        cols.append(sat.apply(ad.apply(problem.spend[:, c])))
    X = np.column_stack([problem.Z, *cols])
    pen = np.eye(X.shape[1]) * float(one.lam[0]) * T
    pen[0, 0] = 0.0
    coef = np.linalg.solve(X.T @ X + pen, X.T @ problem.y)
    fitted = X @ coef
    nrmse = float(np.sqrt(np.mean((problem.y - fitted) ** 2)) / np.ptp(problem.y))
    # time-ordered validation: fit on [:cut], score on [cut:]
    cut = round(T * (1 - float(one.val_share[0])))
    Xt, yt = X[:cut], problem.y[:cut]
    pen_t = pen / T * cut
    coef_t = np.linalg.solve(Xt.T @ Xt + pen_t, Xt.T @ yt)
    yv = problem.y[cut:]
    val = float(np.sqrt(np.mean((yv - X[cut:] @ coef_t) ** 2)) / np.ptp(yv))
    return coef, nrmse, coef_t, val


@pytest.mark.parametrize("val_share", [(0.15, 0.15), (0.1, 0.25)])
def test_batch_evaluation_equals_a_loop_of_single_fits(small, val_share):
    _, spec, data = small
    prep = R.prepare(data, spec)
    space = search_space(spec, prep.data.channels, val_share=val_share)
    u = np.random.default_rng(0).random((24, space.n_dims))
    cand = space.decode(u)
    batch = evaluate(prep.problem, cand)
    checked = 0
    for b in range(len(cand)):
        single = evaluate(prep.problem, cand.take([b]))
        for name in ("nrmse_val", "nrmse_train", "decomp_rssd"):
            np.testing.assert_allclose(getattr(batch, name)[b], getattr(single, name)[0], rtol=1e-9)
        np.testing.assert_allclose(batch.coef[b], single.coef[0], rtol=1e-7, atol=1e-10)
        coef, nrmse, coef_t, val = _loop_reference(prep, cand, b)
        # where the unconstrained optima are feasible the batch must equal them
        if np.all(coef[-data.n_channels :] >= 0) and np.all(coef_t[-data.n_channels :] >= 0):
            np.testing.assert_allclose(batch.coef[b], coef, rtol=1e-6, atol=1e-9)
            np.testing.assert_allclose(batch.nrmse_train[b], nrmse, rtol=1e-8)
            np.testing.assert_allclose(batch.nrmse_val[b], val, rtol=1e-6)
            checked += 1
        assert np.all(batch.coef[b, -data.n_channels :] >= 0)
    assert checked >= 3
    assert np.all((cand.val_share >= val_share[0]) & (cand.val_share <= val_share[1]))
    assert (len(np.unique(cand.val_share)) > 1) == (val_share[0] != val_share[1])


def test_fit_result_reproduces_the_search_features(small_fit):
    """Registry dicts in the result give back the design the search scored."""
    res = small_fit
    for fit in res.channels.values():
        assert fit.adstock["type"] in ("geometric", "weibull_pdf")
        adstock_from_dict(dict(fit.adstock))  # round-trips through the registry
        assert fit.beta >= 0
    dec = res.decomposition()
    parts = dec.drop(columns=["date", "actual", "fitted"]).sum(axis=1)
    np.testing.assert_allclose(parts, dec["fitted"], rtol=1e-9)
    info = res.info
    assert info["selection"]["rule"] == "medoid_near_best"
    assert info["selection"]["reason"]
    assert info["search"]["candidates"] == 600
    assert any(row["recommended"] for row in info["pareto"]) == info["selection"]["on_pareto_front"]
    for ch in res.channel_names:
        lo, hi = res.roi_interval[ch]
        assert lo <= hi


# ----------------------------------------------------------------- Pareto front


def test_pareto_front_on_a_toy_set():
    obj = np.array(
        [
            [1.0, 5.0],  # front
            [2.0, 3.0],  # front
            [3.0, 3.0],  # dominated by [2, 3]
            [4.0, 1.0],  # front
            [2.5, 4.0],  # dominated by [2, 3]
            [2.0, 3.0],  # duplicate of a front point: kept
            [np.nan, 0.0],  # never on the front
            [5.0, 5.0],  # dominated
        ]
    )
    assert pareto_front(obj).tolist() == [True, True, False, True, False, True, False, False]


def test_pareto_front_matches_brute_force():
    rng = np.random.default_rng(1)
    obj = rng.random((300, 3)).round(2)
    got = pareto_front(obj)
    want = np.array([not np.any(np.all(obj <= o, axis=1) & np.any(obj < o, axis=1)) for o in obj])
    assert got.tolist() == want.tolist()


def test_cluster_front_is_seeded():
    roi = np.random.default_rng(2).random((40, 4))
    a, b = cluster_front(roi, 4, seed=3), cluster_front(roi, 4, seed=3)
    assert a.tolist() == b.tolist()
    assert set(a.tolist()) <= {0, 1, 2, 3}


def test_rssd_zero_effect_penalty():
    # Robyn: DECOMP.RSSD x (1 + share of channels with zero effect)
    out = rssd_with_penalty(np.array([[1.0, 1.0], [2.0, 0.0]]), np.array([0.5, 0.5]))
    np.testing.assert_allclose(out, [0.0, np.sqrt(0.5) * 1.5])


# ----------------------------------------------------------- reproducibility


def test_seeded_search_is_reproducible(small):
    _, spec, data = small
    a = R.fit_ridge(data, spec, FAST).summary()
    b = R.fit_ridge(data, spec, FAST).summary()
    assert a == b
    c = R.fit_ridge(data, spec, dataclasses.replace(FAST, seed=1)).summary()
    assert c["info"]["selection"] != a["info"]["selection"] or c != a


# ------------------------------------------------------------------ invariances


def test_scale_invariance(small, small_fit):
    _, spec, data = small
    base = small_fit.contributions()
    cents = R.fit_ridge(dataclasses.replace(data, spend=data.spend * 100.0), spec, FAST)
    np.testing.assert_allclose(cents.contributions(), base, rtol=1e-6)
    roi = [m["roi"] for m in small_fit.channel_metrics().values()]
    roi_cents = [m["roi"] for m in cents.channel_metrics().values()]
    np.testing.assert_allclose(np.array(roi_cents) * 100.0, roi, rtol=1e-6)
    big = R.fit_ridge(dataclasses.replace(data, kpi=data.kpi * 100.0), spec, FAST)
    np.testing.assert_allclose(big.contributions(), base * 100.0, rtol=1e-6)


# ---------------------------------------------------------------------- synergy


def test_split_synergy_sums_to_the_terms():
    rng = np.random.default_rng(4)
    own = rng.random((10, 3))
    own[0] = 0.0
    terms = rng.random((10, 2))
    out = split_synergy(own, [(0, 1), (1, 2)], terms)
    np.testing.assert_allclose(out.sum(axis=1), own.sum(axis=1) + terms.sum(axis=1))
    np.testing.assert_allclose(
        out[0], [terms[0, 0] / 2, terms[0, 0] / 2 + terms[0, 1] / 2, terms[0, 1] / 2]
    )


def test_synergy_fit_decomposes_and_round_trips(small):
    _, spec, data = small
    names = list(spec.channels)
    spec2 = ModelSpec.from_mapping({**spec.to_dict(), "synergy": [[names[0], names[1]]]})
    res = R.fit_ridge(data, spec2, FAST)
    assert set(res.synergy) == {(names[0], names[1])}
    assert res.synergy[(names[0], names[1])] >= 0
    dec = res.decomposition()
    parts = dec.drop(columns=["date", "actual", "fitted"]).sum(axis=1)
    np.testing.assert_allclose(parts, dec["fitted"], rtol=1e-9)
    meta, arrays = res.to_artifact()
    back = FitResult.from_artifact(meta, arrays)
    assert back.synergy == res.synergy
    np.testing.assert_allclose(back.contributions(), res.contributions())


# --------------------------------------------------------------------- lift tests


def test_lift_calibration_moves_the_channel_towards_the_experiment(small):
    synth, spec, data = small
    ch = next(iter(spec.channels))
    truth = synth.truth["channels"][ch]
    dates = synth.frame["date"]
    # a lift test that says the channel added 1.5x its true contribution in weeks 40-60
    from mediamix.data.synthetic import channel_response

    spend = synth.frame[f"{ch}_spend"].to_numpy()
    resp = channel_response(spend, truth["adstock"], truth["saturation"], truth["beta"])
    lift = float(resp[40:61].sum()) * 1.5
    spec2 = ModelSpec.from_mapping(
        {
            **spec.to_dict(),
            "lift_tests": [{"channel": ch, "start": dates[40], "end": dates[60], "lift": lift}],
        }
    )
    plain = R.fit_ridge(data, spec, FAST)
    calibrated = R.fit_ridge(data, spec2, FAST)
    assert calibrated.info["objectives"]["mape_lift"] is not None

    def window(res):
        return float(res.decomposition()[ch].to_numpy()[40:61].sum())

    assert abs(window(calibrated) - lift) <= abs(window(plain) - lift) + 1e-9
    assert abs(window(calibrated) - lift) / lift < 0.25


# ------------------------------------------------------------------------ recovery


def test_recovery_on_synthetic_data():
    """Contribution error sum_c |est - true| / sum true on three small datasets.

    Over 40 varied seeds the engine's median is about 0.2 (benchmarks/results/ridge.md),
    with single datasets from ~0.05 to ~0.55: contributions of always-on and seasonal
    channels are weakly identified. These three measured 0.19, 0.24 and 0.16 with
    2,000 candidates (mean 0.20). The bounds (mean < 0.3, each < 0.45) leave room for
    platform rounding and small generator changes, and fail an engine at the
    previous grid search's typical error (median 0.46).
    """
    errors = []
    for seed, weeks, channels in [(12, 130, 4), (13, 180, 3), (15, 120, 3)]:
        synth, spec, data = _synth(seed, weeks, channels, noise=0.03, media_share=0.3)
        res = R.fit_ridge(data, spec, R.RidgeOptions(seed=0, candidates=2000, bootstrap=10))
        true = np.array([synth.truth["channels"][c]["contribution"] for c in res.channel_names])
        errors.append(float(np.abs(res.contributions() - true).sum() / true.sum()))
    assert np.mean(errors) < 0.3, errors
    assert max(errors) < 0.45, errors


def test_problem_rejects_unsupported_transforms(small):
    _, spec, _ = small
    ch = next(iter(spec.channels))
    bad = spec.to_dict()
    bad["channels"][ch]["adstock"] = {"type": "binomial", "alpha": 0.3}
    from mediamix.errors import InputError

    with pytest.raises(InputError, match="binomial"):
        search_space(ModelSpec.from_mapping(bad), list(spec.channels))


def test_spec_bounds_are_respected(small):
    _, spec, data = small
    ch = next(iter(spec.channels))
    d = spec.to_dict()
    d["channels"][ch]["adstock"] = {"type": "geometric", "alpha": [0.2, 0.3]}
    d["channels"][ch]["saturation"] = {"type": "hill", "slope": 1.5}
    spec2 = ModelSpec.from_mapping(d)
    prep = R.prepare(data, spec2)
    space = search_space(spec2, prep.data.channels)
    sr = run_search(prep.problem, space, SearchOptions(candidates=200, batch=50, seed=0))
    assert np.all(sr.candidates.family[:, 0] == 0)
    assert np.all((sr.candidates.alpha[:, 0] >= 0.2) & (sr.candidates.alpha[:, 0] <= 0.3))
    np.testing.assert_allclose(sr.candidates.slope[:, 0], 1.5)


def test_search_problem_types():
    p = SearchProblem(y=np.ones(5), Z=np.ones((5, 1)), spend=np.ones((5, 2)))
    assert p.n_media == 2
    np.testing.assert_allclose(p.spend_share, [0.5, 0.5])


def _halton(ctx: OptimizerContext) -> None:
    """A custom optimizer: scrambled Halton points, one batch per generation."""
    from scipy.stats import qmc

    sampler = qmc.Halton(d=ctx.n_dims, seed=ctx.rng)
    for _ in range(ctx.n_generations):
        ctx.run(sampler.random(ctx.population))


@pytest.mark.parametrize("optimizer", ["de", "random", _halton])
def test_optimizers_report_progress_with_rate(small, optimizer):
    _, spec, data = small
    prep = R.prepare(data, spec)
    space = search_space(spec, prep.data.channels)
    messages: list[tuple[float, str]] = []
    sr = run_search(
        prep.problem,
        space,
        SearchOptions(candidates=100, batch=50, seed=0, optimizer=optimizer),
        progress=lambda f, m: messages.append((f, m)),
    )
    assert len(sr.u) == 100
    assert sr.front.any()
    assert all("candidates/s" in m for _, m in messages)
    fractions = [f for f, _ in messages]
    assert fractions == sorted(fractions)
    assert 0 < fractions[-1] <= 1


def test_unknown_optimizer_is_named(small):
    _, spec, data = small
    prep = R.prepare(data, spec)
    space = search_space(spec, prep.data.channels)
    with pytest.raises(InputError, match="unknown optimizer 'pymoo'"):
        run_search(prep.problem, space, SearchOptions(candidates=100, optimizer="pymoo"))


def test_geo_and_conversions_data_fit_nationally():
    s = synthesize(SynthConfig(seed=5, weeks=110, channels=3, geos=3, kpi_type="conversions"))
    spec = ModelSpec.from_mapping(s.spec)
    data, _ = build_dataset(s.frame, spec, source="synth")
    res = R.fit_ridge(data, spec, FAST)
    assert res.data.n_geos == 1
    summary = res.summary()
    for metrics in summary["channels"].values():
        assert metrics["roi"] is None
        assert metrics["roi_interval"] is None
    curves = summary["info"]["response_curves"]
    for ch, curve in curves.items():
        assert curve["response"][0] == 0.0
        assert np.all(np.diff(curve["response"]) >= -1e-9), ch
        assert curve["multiple"][10] == pytest.approx(1.0)
        assert curve["response"][10] == pytest.approx(summary["channels"][ch]["contribution"])


@pytest.mark.parametrize("standardize", [False, True])
def test_batch_solutions_match_the_exact_refit(small, standardize):
    """Where no media coefficient is at its bound, the batched projection and the
    bounded least-squares refit solve the same problem (same penalty weights)."""
    _, spec, data = small
    prep = R.prepare(data, spec, standardize_media=standardize)
    space = search_space(spec, prep.data.channels)
    cand = space.decode(np.random.default_rng(5).random((30, space.n_dims)))
    batch = evaluate(prep.problem, cand)
    checked = 0
    for b in range(len(cand)):
        if np.all(batch.coef[b, -data.n_channels :] > 1e-6):
            coef, _X, _K = R.refit(prep, cand.take([b]))
            np.testing.assert_allclose(coef, batch.coef[b], rtol=1e-5, atol=1e-8)
            checked += 1
    assert checked >= 3
    res = R.fit_ridge(data, spec, dataclasses.replace(FAST, standardize_media=standardize))
    assert all(fit.beta >= 0 for fit in res.channels.values())


def test_default_optimizer_is_seeded_and_keeps_every_candidate(small):
    _, spec, data = small
    prep = R.prepare(data, spec)
    space = search_space(spec, prep.data.channels)
    options = SearchOptions(candidates=300, batch=50, seed=3)
    a = run_search(prep.problem, space, options)
    b = run_search(prep.problem, space, options)
    assert len(a.u) == 300
    np.testing.assert_array_equal(a.u, b.u)
    assert a.chosen == b.chosen
    # the generations after the initial Latin hypercube find a better fit than it
    assert a.scores.nrmse_train[50:].min() < a.scores.nrmse_train[:50].min()


def test_benchmark_optimizer_plugs_in_and_is_seeded(small):
    """scipy's DE, kept in benchmarks/ after it measured worse, still runs as a plug-in."""
    file = Path(__file__).resolve().parents[2] / "benchmarks" / "search_optimizers.py"
    module_spec = importlib.util.spec_from_file_location("search_optimizers", file)
    assert module_spec is not None
    assert module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    _, spec, data = small
    prep = R.prepare(data, spec)
    space = search_space(spec, prep.data.channels)
    options = SearchOptions(candidates=300, batch=50, seed=3, optimizer=module.scipy_de)
    a = run_search(prep.problem, space, options)
    b = run_search(prep.problem, space, options)
    assert len(a.u) == 300
    np.testing.assert_array_equal(a.u, b.u)
    assert a.scores.nrmse_train[50:].min() < a.scores.nrmse_train[:50].min()
