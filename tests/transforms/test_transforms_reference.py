"""Hand-computed reference values for every adstock and saturation convention.

Each case shows its arithmetic. The series used throughout is
x = [100, 0, 0, 0, 50, 0, 0, 0]: a pulse at t=0 and a half pulse at t=4, so that with
lag weights w the output is y_t = 100 w_t + 50 w_{t-4}.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mediamix.errors import InputError
from mediamix.transforms import (
    adstock_total_weight,
    binomial_adstock,
    binomial_weights,
    delayed_adstock,
    geometric_adstock,
    geometric_adstock_lightweight,
    geometric_adstock_meridian,
    geometric_adstock_pymc,
    geometric_adstock_robyn,
    hill,
    hill_derivative,
    hill_robyn,
    hill_robyn_derivative,
    logistic,
    logistic_derivative,
    michaelis_menten,
    michaelis_menten_derivative,
    tanh_saturation,
    tanh_saturation_derivative,
    weibull_adstock,
    weibull_weights,
)

X = np.array([100.0, 0.0, 0.0, 0.0, 50.0, 0.0, 0.0, 0.0])


def pulses(w: list[float]) -> list[float]:
    """y_t = 100 w_t + 50 w_{t-4} for the reference series, with w padded by zeros."""
    full = list(w) + [0.0] * (8 - len(w))
    return [100 * full[t] + (50 * full[t - 4] if t >= 4 else 0.0) for t in range(8)]


# ----------------------------------------------------------------------- geometric


def test_robyn_geometric_reference() -> None:
    # y_t = x_t + 0.5 y_{t-1}: 100, 50, 25, 12.5, 50 + 6.25, 28.125, 14.0625, 7.03125
    expected = [100, 50, 25, 12.5, 56.25, 28.125, 14.0625, 7.03125]
    np.testing.assert_allclose(geometric_adstock_robyn(X, 0.5), expected, rtol=1e-12)
    np.testing.assert_allclose(geometric_adstock(X, 0.5), expected, rtol=1e-12)


def test_pymc_geometric_normalized_reference() -> None:
    # w = [1, .5, .25, .125] / 1.875 = [8/15, 4/15, 2/15, 1/15]; the t=0 pulse has left
    # the 4-lag window by t=4, so y_4 = 50 * 8/15.
    expected = [53.3333, 26.6667, 13.3333, 6.6667, 26.6667, 13.3333, 6.6667, 3.3333]
    np.testing.assert_allclose(
        geometric_adstock_pymc(X, 0.5, 4, normalize=True), expected, atol=1e-4
    )
    np.testing.assert_allclose(
        geometric_adstock(X, 0.5, l_max=4, normalize=True), pulses([8 / 15, 4 / 15, 2 / 15, 1 / 15])
    )


def test_pymc_geometric_unnormalized_reference() -> None:
    # w = [1, .5, .25, .125]: 100, 50, 25, 12.5, then 50, 25, 12.5, 6.25
    np.testing.assert_allclose(
        geometric_adstock_pymc(X, 0.5, 4), [100, 50, 25, 12.5, 50, 25, 12.5, 6.25]
    )


def test_meridian_geometric_reference() -> None:
    # max_lag = 2 -> lags 0, 1, 2: w = [1, .5, .25] / 1.75 = [4/7, 2/7, 1/7]
    expected = [400 / 7, 200 / 7, 100 / 7, 0, 200 / 7, 100 / 7, 50 / 7, 0]
    np.testing.assert_allclose(geometric_adstock_meridian(X, 0.5, 2), expected, rtol=1e-12)


def test_meridian_window_is_cut_to_the_series() -> None:
    # T = 3 < max_lag + 1 = 9: Meridian's window becomes 3 lags, normalized over those.
    np.testing.assert_allclose(
        geometric_adstock_meridian([70.0, 0.0, 0.0], 0.5, 8), [40.0, 20.0, 10.0], rtol=1e-12
    )


def test_lightweight_geometric_reference() -> None:
    # (1 - 0.5) * Robyn's recursion: half of 100, 50, 25, 12.5, 56.25, ...
    expected = [50, 25, 12.5, 6.25, 28.125, 14.0625, 7.03125, 3.515625]
    np.testing.assert_allclose(geometric_adstock_lightweight(X, 0.5), expected, rtol=1e-12)
    np.testing.assert_allclose(
        geometric_adstock_lightweight(X, 0.5, normalize=False), geometric_adstock_robyn(X, 0.5)
    )


def test_lightweight_constant_spend_converges_to_itself() -> None:
    # y_t = (1 - lam) * sum_{l<=t} lam^l * 10 -> 10 (1 - lam^(t+1))
    y = geometric_adstock_lightweight(np.full(60, 10.0), 0.5)
    assert y[0] == pytest.approx(5.0)
    assert y[-1] == pytest.approx(10.0)


# ------------------------------------------------------------------- delayed (Jin)


def test_delayed_reference() -> None:
    # alpha = 0.5, theta = 1, l_max = 3: w_l = 0.5^((l-1)^2) = [0.5, 1, 0.5], sum 2
    np.testing.assert_allclose(delayed_adstock(X, 0.5, 1.0, 3), pulses([0.25, 0.5, 0.25]))
    np.testing.assert_allclose(
        delayed_adstock(X, 0.5, 1.0, 3, normalize=False), pulses([0.5, 1.0, 0.5])
    )


def test_delayed_non_integer_theta() -> None:
    # theta = 0.5, alpha = 0.25, l_max = 2: w = 0.25^0.25 for both lags -> equal weights
    np.testing.assert_allclose(delayed_adstock([8.0, 0.0], 0.25, 0.5, 2), [4.0, 4.0])


# ----------------------------------------------------------------- binomial (Meridian)


def test_meridian_binomial_reference() -> None:
    # window 4, exponent 1/0.5 - 1 = 1: (1 - l/4) = [1, .75, .5, .25], sum 2.5
    np.testing.assert_allclose(binomial_weights(0.5, 3), [0.4, 0.3, 0.2, 0.1], rtol=1e-12)
    np.testing.assert_allclose(binomial_adstock(X, 0.5, 3), pulses([0.4, 0.3, 0.2, 0.1]))


def test_meridian_binomial_other_alphas() -> None:
    # alpha = 1/3 -> exponent 2: (1 - l/2)^2 = [1, 0.25], sum 1.25 -> [0.8, 0.2]
    np.testing.assert_allclose(binomial_weights(1 / 3, 1), [0.8, 0.2], rtol=1e-12)
    # alpha = 1 -> exponent 0: equal weights over lags 0..max_lag
    np.testing.assert_allclose(binomial_weights(1.0, 3), [0.25] * 4)
    # alpha = 0 -> exponent inf: no carry-over
    np.testing.assert_allclose(binomial_weights(0.0, 3), [1.0, 0.0, 0.0, 0.0])
    # T = 2 cuts the window to 2 lags: (1 - l/2)^1 = [1, .5] -> [2/3, 1/3]
    np.testing.assert_allclose(binomial_adstock([3.0, 0.0], 0.5, 3), [2.0, 1.0], rtol=1e-12)


# ---------------------------------------------------------------------------- Weibull


def test_robyn_weibull_cdf_reference() -> None:
    # T = 8, scale = 0.3: lambda = round(quantile(1:8, 0.3)) = round(1 + 0.3 * 7) = round(3.1) = 3
    # shape = 1: survival S(j) = exp(-j/3); w_l = prod_{j<=l} S(j) = exp(-l(l+1)/6)
    w = [math.exp(-lag * (lag + 1) / 6) for lag in range(8)]
    assert w[:4] == pytest.approx([1.0, math.exp(-1 / 3), math.exp(-1), math.exp(-2)])
    y = weibull_adstock(X, 1.0, 0.3, kind="cdf", convention="robyn")
    np.testing.assert_allclose(y, pulses(w), rtol=1e-12)
    np.testing.assert_allclose(y[:5], [100, 71.653131, 36.787944, 13.533528, 53.567399], rtol=1e-6)


def test_robyn_weibull_pdf_reference() -> None:
    # T = 8, scale = 0.3 -> lambda = 3; shape = 2: f(t) = (2/3)(t/3) exp(-(t/3)^2) = (2t/9) e^{-t^2/9}
    f = [2 * t / 9 * math.exp(-(t**2) / 9) for t in range(1, 9)]
    # f = [0.198853, 0.284969, 0.245253, 0.150221, 0.069086, 0.024421, 0.006730, 0.001451]
    # peak at t = 2, minimum at t = 8; w_l = (f(l+1) - f(8)) / (f(2) - f(8))
    w = [(v - f[7]) / (f[1] - f[7]) for v in f]
    assert w[0] == pytest.approx(0.197402 / 0.283518, rel=1e-5)
    assert w[1] == 1.0
    assert w[7] == 0.0
    y = weibull_adstock(X, 2.0, 0.3, kind="pdf", convention="robyn")
    np.testing.assert_allclose(y, pulses(w), rtol=1e-12)
    np.testing.assert_allclose(y[:3], [69.626001, 100.0, 85.991703], rtol=1e-6)


def test_robyn_weibull_scale_rounds_half_to_even_like_r() -> None:
    # T = 8, scale = 0.5: 1 + 0.5 * 7 = 4.5 and R's round(4.5) = 4 (IEC 60559): lambda = 4.
    # Robyn's CDF window has T lags, i.e. T - 1 survival factors, = PyMC's with l_max = 7.
    robyn = weibull_weights(1.5, 0.5, kind="cdf", convention="robyn", n_periods=8)
    pymc = weibull_weights(1.5, 4.0, kind="cdf", convention="pymc", l_max=7)
    np.testing.assert_allclose(robyn, pymc, rtol=1e-14)


def test_robyn_weibull_zero_shape_or_scale_is_identity() -> None:
    np.testing.assert_array_equal(weibull_adstock(X, 0.0, 0.3), X)
    np.testing.assert_array_equal(weibull_adstock(X, 2.0, 0.0, kind="pdf"), X)


def test_pymc_weibull_cdf_reference() -> None:
    # scale = 3 periods, shape = 1, l_max = 3: PyMC prepends 1 to the cumulative product of
    # S(1..3), so 4 lags: [1, e^{-1/3}, e^{-1/3} e^{-2/3} = e^{-1}, e^{-1} e^{-1} = e^{-2}]
    w = [1.0, math.exp(-1 / 3), math.exp(-1), math.exp(-2)]
    np.testing.assert_allclose(
        weibull_weights(1.0, 3.0, kind="cdf", convention="pymc", l_max=3), w, rtol=1e-14
    )
    y = weibull_adstock(X, 1.0, 3.0, kind="cdf", convention="pymc", l_max=3)
    np.testing.assert_allclose(y, pulses(w), rtol=1e-12)


def test_pymc_weibull_pdf_reference() -> None:
    # scale = 3, shape = 2, l_max = 4: f(1..4) = [0.198853, 0.284969, 0.245253, 0.150221]
    # min-max scaled: [(f1 - f4)/(f2 - f4), 1, (f3 - f4)/(f2 - f4), 0] = [0.36085, 1, 0.70523, 0]
    f = [2 * t / 9 * math.exp(-(t**2) / 9) for t in range(1, 5)]
    w = [(v - f[3]) / (f[1] - f[3]) for v in f]
    got = weibull_weights(2.0, 3.0, kind="pdf", convention="pymc", l_max=4)
    np.testing.assert_allclose(got, w, rtol=1e-12)
    np.testing.assert_allclose(got, [0.36085, 1.0, 0.70523, 0.0], atol=1e-5)
    np.testing.assert_allclose(
        weibull_adstock(X, 2.0, 3.0, kind="pdf", convention="pymc", l_max=4), pulses(w)
    )


def test_pymc_weibull_normalize() -> None:
    # normalized CDF weights [1, e^{-1/3}, e^{-1}, e^{-2}] / their sum
    w = np.array([1.0, math.exp(-1 / 3), math.exp(-1), math.exp(-2)])
    got = weibull_weights(1.0, 3.0, kind="cdf", convention="pymc", l_max=3, normalize=True)
    np.testing.assert_allclose(got, w / w.sum(), rtol=1e-14)


# -------------------------------------------------------------------- total weights


def test_total_weights() -> None:
    # geometric: 1 / (1 - 0.5) = 2; over T = 3 periods: 1 + .5 + .25 = 1.75
    assert float(adstock_total_weight("geometric", alpha=0.5)) == pytest.approx(2.0)
    assert float(adstock_total_weight("geometric", alpha=0.5, n_periods=3)) == pytest.approx(1.75)
    assert float(adstock_total_weight("geometric", alpha=1.0)) == math.inf
    # lightweight normalized: (1 - lam) / (1 - lam) = 1; raw: 1 / (1 - 0.8) = 5
    assert float(adstock_total_weight("lightweight", lam=0.8)) == pytest.approx(1.0)
    assert float(adstock_total_weight("lightweight", lam=0.8, normalize=False)) == pytest.approx(
        5.0
    )
    # PyMC window: 1 + .5 + .25 = 1.75; normalized windows sum to 1
    assert float(adstock_total_weight("geometric_window", alpha=0.5, l_max=3)) == 1.75
    assert float(
        adstock_total_weight("geometric_window", alpha=0.5, l_max=3, normalize=True)
    ) == pytest.approx(1.0)
    assert float(adstock_total_weight("binomial", alpha=0.3, max_lag=5)) == pytest.approx(1.0)
    assert float(
        adstock_total_weight("delayed", alpha=0.5, theta=1.0, l_max=3, normalize=False)
    ) == pytest.approx(2.0)
    # PyMC Weibull CDF: 1 + e^{-1/3} + e^{-1} + e^{-2}
    assert float(
        adstock_total_weight("weibull_cdf", shape=1.0, scale=3.0, convention="pymc", l_max=3)
    ) == pytest.approx(1 + math.exp(-1 / 3) + math.exp(-1) + math.exp(-2))
    # per channel
    np.testing.assert_allclose(adstock_total_weight("geometric", alpha=[0.0, 0.75]), [1.0, 4.0])


def test_total_weight_needs_window_for_robyn_weibull() -> None:
    with pytest.raises(InputError, match="n_periods"):
        adstock_total_weight("weibull_cdf", shape=1.0, scale=0.3)
    with pytest.raises(InputError, match="unknown adstock"):
        adstock_total_weight("nope", alpha=0.5)


# -------------------------------------------------------------------------- saturation


def test_hill_reference() -> None:
    # K = 40000, s = 2: (x/K)^2 = [0, 1/4, 1, 4] -> r / (1 + r) = [0, 0.2, 0.5, 0.8]
    np.testing.assert_allclose(
        hill([0.0, 20000.0, 40000.0, 80000.0], 40000.0, 2.0), [0, 0.2, 0.5, 0.8], atol=1e-14
    )
    # f' = (s / x) f (1 - f): at x = K: 2/40000 * 1/4 = 1.25e-5; at x = 20000: 2/20000 * 0.16
    np.testing.assert_allclose(
        hill_derivative([40000.0, 20000.0], 40000.0, 2.0), [1.25e-5, 1.6e-5], rtol=1e-12
    )


def test_hill_derivative_at_zero() -> None:
    # limit of s x^(s-1) K^s / (x^s + K^s)^2 at 0: 0 (s > 1), 1/K (s = 1), inf (s < 1)
    np.testing.assert_array_equal(
        hill_derivative(0.0, 2.0, np.array([2.0, 1.0, 0.5])), [0.0, 0.5, np.inf]
    )


def test_robyn_hill_reference_current_form() -> None:
    # inflexion = gamma * max(x) = 0.5 * 200 = 100; alpha = 2: x^2 / (x^2 + 100^2)
    np.testing.assert_allclose(
        hill_robyn([0.0, 50.0, 100.0, 200.0], 2.0, 0.5), [0, 0.2, 0.5, 0.8], atol=1e-14
    )


def test_robyn_hill_reference_robyn_doc_example() -> None:
    # Robyn's own example saturation_hill(c(100, 150, 170, 190, 200), alpha = 3, gamma = 0.5)
    x = [100.0, 150.0, 170.0, 190.0, 200.0]
    # legacy: inflexion = 0.5 * 100 + 0.5 * 200 = 150 -> x^3 / (x^3 + 3375000)
    # 1e6/4.375e6, 0.5, 4.913e6/8.288e6, 6.859e6/10.234e6, 8e6/11.375e6
    legacy = [0.228571, 0.5, 0.592785, 0.670217, 0.703297]
    np.testing.assert_allclose(hill_robyn(x, 3.0, 0.5, legacy=True), legacy, atol=1e-6)
    # current: inflexion = 0.5 * 200 = 100 -> x^3 / (x^3 + 1e6)
    # 0.5, 3.375/4.375, 4.913/5.913, 6.859/7.859, 8/9
    current = [0.5, 0.771429, 0.830881, 0.872757, 0.888889]
    np.testing.assert_allclose(hill_robyn(x, 3.0, 0.5), current, atol=1e-6)


def test_robyn_hill_x_range_and_derivative() -> None:
    # Inflexion from the historical series [0, 200] (gamma 0.5 -> 100), evaluated at 100:
    # f = 0.5, f' = alpha/x * f (1 - f) = 2/100 * 0.25 = 0.005
    assert float(hill_robyn(100.0, 2.0, 0.5, x_range=[0.0, 200.0])) == pytest.approx(0.5)
    assert float(hill_robyn_derivative(100.0, 2.0, 0.5, x_range=[0.0, 200.0])) == pytest.approx(
        0.005
    )
    # legacy with x_range [100, 200]: inflexion 150; at x = 150 -> 0.5
    assert float(hill_robyn(150.0, 3.0, 0.5, x_range=[100.0, 200.0], legacy=True)) == pytest.approx(
        0.5
    )


def test_logistic_reference() -> None:
    # lam = 1: x = ln 3 -> e^{-x} = 1/3 -> (2/3) / (4/3) = 0.5; x = ln 2 -> (1/2)/(3/2) = 1/3
    np.testing.assert_allclose(logistic([0.0, math.log(3), math.log(2)], 1.0), [0, 0.5, 1 / 3])
    # f' = lam/2 (1 - f^2): at ln 3: 0.5 * 0.75 = 0.375; at 0: lam / 2 = 0.5
    np.testing.assert_allclose(logistic_derivative([math.log(3), 0.0], 1.0), [0.375, 0.5])


def test_michaelis_menten_reference() -> None:
    # alpha = 10, lam = 50: 10 * 50 / 100 = 5; 10 * 150 / 200 = 7.5
    np.testing.assert_allclose(michaelis_menten([0.0, 50.0, 150.0], 10.0, 50.0), [0, 5, 7.5])
    # f' = alpha lam / (lam + x)^2: at 50: 500 / 10000 = 0.05; at 0: alpha / lam = 0.2
    np.testing.assert_allclose(michaelis_menten_derivative([50.0, 0.0], 10.0, 50.0), [0.05, 0.2])


def test_tanh_reference() -> None:
    # b = 2, c = 0.5: x / (b c) = x; tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 0.6 -> 1.2
    np.testing.assert_allclose(tanh_saturation([0.0, math.log(2)], 2.0, 0.5), [0.0, 1.2])
    # f' = (1/c)(1 - tanh^2): at ln 2: 2 * 0.64 = 1.28; at 0: 1/c = 2
    np.testing.assert_allclose(tanh_saturation_derivative([math.log(2), 0.0], 2.0, 0.5), [1.28, 2])
