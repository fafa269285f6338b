import math

import numpy as np
import pytest

import inductive_bias as ib


@pytest.fixture(scope="module")
def losses():
    return ib.ScaledNCX2(60, 20, 0.01).rvs(5000, seed=7)


def test_estimate_from_fit(losses):
    error = 0.45
    result = ib.bias_from_losses(losses, error, n_boot=50, seed=3)
    assert result.unit == "bits" and result.method == "fit-ncx2" and result.n_samples == losses.size
    assert result.value == pytest.approx(-result.distribution.logcdf(error) / math.log(2), rel=1e-14)
    low, high = result.interval
    assert low <= result.value <= high
    # The truth's bias lies in the interval.
    assert low <= -ib.ScaledNCX2(60, 20, 0.01).logcdf(error) / math.log(2) <= high
    assert result.empirical_fraction == pytest.approx(np.mean(losses <= error))
    assert result.empirical_value == pytest.approx(-math.log2(result.empirical_fraction))
    assert not result.extrapolated and result.bits == result.value


def test_nats_and_extrapolation_flag(losses):
    deep = 0.3 * losses.min()
    bits = ib.bias_from_losses(losses, deep, n_boot=0)
    nats = ib.bias_from_losses(losses, deep, n_boot=0, unit="nats")
    assert nats.value == pytest.approx(bits.value * math.log(2), rel=1e-14)
    assert nats.bits == pytest.approx(bits.value, rel=1e-14)
    assert bits.extrapolated and bits.empirical_fraction == 0 and bits.empirical_value == math.inf
    assert bits.interval is None
    assert math.isfinite(bits.value) and bits.value > 20  # deep in the tail (55.6 bits), still finite


def test_chi2_distribution_option(losses):
    result = ib.bias_from_losses(losses, 0.5, distribution="chi2", n_boot=0)
    assert result.distribution.nc == 0 and result.method == "fit-chi2"


def test_sankaran_approximation_is_close_but_not_exact():
    # -log Phi(z) of Sankaran's normal approximation: a few % off deep in the lower tail (measured
    # 1.4 % and 3.0 % at 60 and 40), close in the bulk.
    d = ib.ScaledNCX2(100, 50, 1.0)
    for error, tolerance in ((60.0, 0.03), (40.0, 0.05), (100.0, 0.005), (150.0, 0.001)):
        exact = -d.logcdf(error) / math.log(2)
        approx = ib.sankaran_bias(100, 50, 1.0, error)
        assert approx != exact and approx == pytest.approx(exact, rel=tolerance)


@pytest.mark.parametrize("error", [0.35, 0.5, 1.0, 10.0, 1e300])
def test_sankaran_above_the_bulk_is_near_zero(error):
    # z^2 / 2 whatever the sign of z gave 15.4 bits at error = 1.0 (exact 2.2e-6), 429 at 10 and
    # 1.3e238 at 1e300. Against scipy.stats.ncx2: 0.23 % off at 0.5 (the approximation), 1e-5 bits beyond.
    from scipy import stats

    exact = -stats.ncx2.logcdf(error / 0.01, 20, 15) / math.log(2)
    approx = ib.sankaran_bias(20, 15, 0.01, error)
    assert 0.0 <= approx <= 1.0 and approx == pytest.approx(exact, abs=1e-5, rel=5e-3)


def test_sankaran_at_the_ends_of_the_double_range():
    assert ib.sankaran_bias(20, 15, 1e-320, 0.2) == pytest.approx(0.0, abs=1e-300)  # error / scale overflows
    # (df + nc)^2 overflowed: "Numerical result out of range". Wilson-Hilferty's z there is
    # -sqrt(9 df / 2) (the normal approximation is far off this deep: the exact value is ~5e302 bits).
    huge = ib.sankaran_bias(1e300, 15, 0.01, 0.2)
    assert huge == pytest.approx(4.5e300 / 2 / math.log(2), rel=1e-6)


@pytest.mark.parametrize("n_boot", [1, 2, 39])
def test_a_bootstrap_too_small_for_the_confidence_warns(losses, n_boot):
    # n_boot=1 gave the zero-width interval (1.5767, 1.5767) around an estimate of 1.6206, silently.
    with pytest.warns(ib.FitWarning, match="n_boot: the interval rests on"):
        ib.bias_from_losses(losses, 0.45, n_boot=n_boot, seed=3)


def test_a_bootstrap_large_enough_does_not_warn(losses):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", ib.FitWarning)
        ib.bias_from_losses(losses, 0.45, n_boot=40, seed=3)
        ib.bias_from_losses(losses, 0.45, n_boot=10, seed=3, confidence=0.8)  # 2 / (1 - 0.8) = 10


@pytest.mark.parametrize("confidence", [0, 1, 0.0, 1.0, 2.0, -1, math.nan])
def test_confidence_message_states_the_accepted_range(losses, confidence):
    # 0 said "(0, 1]" and then 1 was refused as "(0, 1)".
    with pytest.raises(ValueError, match=r"confidence: must be a number in \(0, 1\), got"):
        ib.bias_from_losses(losses, 0.45, n_boot=0, confidence=confidence)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"error": 0.0}, ValueError, "error"),
        ({"error": -1.0}, ValueError, "error"),
        ({"error": math.nan}, ValueError, "error"),
        ({"error": "x"}, TypeError, "error"),
        ({"error": 0.1, "distribution": "gamma"}, ValueError, "distribution"),
        ({"error": 0.1, "unit": "dits"}, ValueError, "unit"),
        ({"error": 0.1, "confidence": 1.5}, ValueError, "confidence"),
    ],
)
def test_bad_arguments(losses, kwargs, error, match):
    with pytest.raises(error, match=match):
        ib.bias_from_losses(losses, **kwargs)


def test_bad_losses():
    with pytest.raises(ValueError, match="losses: must be positive"):
        ib.bias_from_losses(np.array([0.1, 0.0, 0.3]), 0.1)
    with pytest.raises(ValueError, match="losses: need at least 3"):
        ib.bias_from_losses(np.array([]), 0.1)
    with pytest.raises(ValueError, match="error"):
        ib.sankaran_bias(10, 1, 1, 0)


def test_accepts_sampled_losses_end_to_end():
    # The published recipe: sample hypotheses of a Gaussian space, fit, read the tail.
    rng = np.random.default_rng(0)
    mean, factor = rng.normal(size=(50, 3)) * 0.3, rng.normal(size=(50, 20)) / 10
    labels = rng.integers(0, 3, size=50)
    losses = ib.sample_gaussian_losses(mean, factor, labels, 4000, seed=1)
    # Where the samples are dense the fit and the empirical fraction agree (1 and 3.3 bits); in the
    # far tail a scaled ncx2 cannot follow a generalized chi-squared (docs/methods.md 1.2).
    for quantile in (0.5, 0.1):
        result = ib.bias_from_losses(losses, float(np.quantile(losses, quantile)), n_boot=20)
        assert result.value == pytest.approx(result.empirical_value, abs=0.1)


@pytest.mark.parametrize("exponent", [-1000, 1000])
def test_losses_at_the_ends_of_double_precision(exponent):
    # All losses ~1e-300 raised ZeroDivisionError, all ~1e300 the C++ text "params: need df > 0": the
    # fit is scale-equivariant, and so is the estimate (losses and error scaled by a power of two).
    x = ib.ScaledNCX2(20, 15, 0.01).rvs(500, seed=2)
    base = ib.bias_from_losses(x, 0.2, n_boot=20, seed=1)
    scaled = ib.bias_from_losses(np.ldexp(x, exponent), math.ldexp(0.2, exponent), n_boot=20, seed=1)
    assert scaled.value == pytest.approx(base.value, rel=1e-10)
    np.testing.assert_allclose(scaled.interval, base.interval, rtol=1e-9)
    assert scaled.fit.boot_converged == 20


def test_a_fit_that_stops_early_warns_once():
    # ScaledNCX2.fit warns about its own convergence; reading the fit does not repeat it.
    import warnings

    from inductive_bias.bias import read_fit

    x = ib.ScaledNCX2(2, 0.5, 1.0).rvs(400, seed=1)  # needs 6 Newton steps
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = ib.ScaledNCX2.fit(x, max_iterations=2)
        read_fit(fit, 0.2)
    assert not fit.converged
    messages = [str(w.message) for w in caught if issubclass(w.category, ib.FitWarning)]
    assert len([m for m in messages if "iteration bound" in m]) == 1
