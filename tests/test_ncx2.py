import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import inductive_bias as ib
from inductive_bias import _reference, ncx2

GOLDEN = Path(__file__).parent / "golden" / "ncx2.csv"  # python tests/golden/ncx2_golden.py (mpmath, 60 digits)


def golden_rows():
    with GOLDEN.open() as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def close(got, want):
    # Relative 1e-10 where |log P| > 1e-3 (issue 3); absolute 1e-12 near log P = 0, where the
    # quantity that matters is the probability itself.
    return abs(got - want) <= (1e-10 * abs(want) if abs(want) > 1e-3 else 1e-12)


@pytest.mark.parametrize("row", golden_rows(), ids=lambda r: f"df={r['df']:g},nc={r['nc']:g},x={r['x']:g}")
def test_golden_values(row):
    d = ib.ScaledNCX2(row["df"], row["nc"], row["scale"])
    for name in ("logcdf", "logsf", "logpdf"):
        got = getattr(d, name)(row["x"])
        assert close(got, row[name]), (name, got, row[name])


def test_methods_example_where_scipy_underflows():
    # scipy's ncx2.logcdf gives -inf here.
    assert ib.ScaledNCX2(1000, 500, 1e-3).logcdf(0.1) == pytest.approx(-930.8512004892975, rel=1e-12)


params = st.tuples(st.floats(0.05, 300), st.floats(0, 300), st.floats(0.01, 10))


@given(params=params, quantiles=st.lists(st.floats(0.02, 5), min_size=2, max_size=12))
def test_logcdf_monotone_and_consistent_with_logsf(params, quantiles):
    d = ib.ScaledNCX2(*params)
    x = np.sort(np.array(quantiles)) * d.mean()
    log_cdf, log_sf = d.logcdf(x), d.logsf(x)
    assert np.all(np.diff(log_cdf) >= -1e-12 * np.abs(log_cdf[1:]))
    assert np.all(np.diff(log_sf) <= 1e-12 * np.abs(log_sf[1:]))
    np.testing.assert_allclose(np.exp(log_cdf) + np.exp(log_sf), 1.0, atol=1e-13)
    np.testing.assert_allclose(d.cdf(x), np.exp(log_cdf), rtol=1e-15)


@given(params=params, quantiles=st.lists(st.floats(0.05, 4), min_size=1, max_size=8))
def test_matches_twin(params, quantiles):
    d = ib.ScaledNCX2(*params)
    x = np.array(quantiles) * d.mean()
    twin_cdf = _reference.ncx2_logcdf(x, *params)
    finite = twin_cdf > -600  # the twin sums in linear space
    np.testing.assert_allclose(d.logcdf(x)[finite], twin_cdf[finite], rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(d.logpdf(x), _reference.ncx2_logpdf(x, *params), rtol=1e-10, atol=1e-12)


def test_agrees_with_scipy_where_scipy_is_accurate():
    stats = pytest.importorskip("scipy.stats")
    d = ib.ScaledNCX2(12.5, 7.0, 0.3)
    x = np.linspace(0.2, 20, 50)
    np.testing.assert_allclose(d.logcdf(x), stats.ncx2.logcdf(x, 12.5, 7.0, scale=0.3), rtol=1e-10)
    np.testing.assert_allclose(d.logpdf(x), stats.ncx2.logpdf(x, 12.5, 7.0, scale=0.3), rtol=1e-10)


def test_edges_of_the_support():
    d = ib.ScaledNCX2(4, 2)
    assert d.logcdf(0.0) == -math.inf and d.logsf(0.0) == 0.0
    assert d.logcdf(-1.0) == -math.inf and d.logpdf(-1.0) == -math.inf
    assert d.logcdf(math.inf) == 0.0 and d.logsf(math.inf) == -math.inf
    with pytest.raises(ValueError, match="x: contains NaN"):
        d.logcdf(np.array([1.0, np.nan]))


def test_shapes_and_scalars():
    d = ib.ScaledChi2(3, 2.0)
    assert isinstance(d.logcdf(1.0), float)
    assert d.logcdf(np.ones((2, 3))).shape == (2, 3)
    assert d.logpdf([1.0, 2.0]).shape == (2,)
    assert d.nc == 0 and d.mean() == 6.0 and d.var() == 24.0
    assert ib.ScaledNCX2(3, 1, 2).cumulant(3) == 8 * 8 * (3 + 3)


@pytest.mark.parametrize(
    ("args", "match"),
    [((0, 1), "df"), ((1, -1), "nc"), ((1, 1, 0), "scale"), ((math.nan, 1), "df"), ((1, math.inf), "nc")],
)
def test_bad_parameters(args, match):
    with pytest.raises(ValueError, match=match):
        ib.ScaledNCX2(*args)


def test_rvs_matches_moments():
    d = ib.ScaledNCX2(6, 3, 0.5)
    x = d.rvs(200_000, seed=3)
    assert abs(x.mean() - d.mean()) < 5 * d.std() / math.sqrt(x.size)
    assert abs(x.var() / d.var() - 1) < 0.02


# ---- likelihood and fit ------------------------------------------------------------------------


def test_likelihood_value_matches_twin_and_derivatives_match_finite_differences():
    x = ib.ScaledNCX2(7, 4, 0.2).rvs(400, seed=1)
    for df, nc, scale in [(6.0, 3.0, 0.25), (7.5, 0.0, 0.2), (3.0, 12.0, 0.1)]:
        stats = ncx2._likelihood(x, [[df, nc, scale]], [0], 0)[0]
        assert stats[0] == pytest.approx(_reference.ncx2_logpdf(x, df, nc, scale).sum(), rel=1e-12)
        assert stats[10] == x.size

        def value(u):
            return ncx2._likelihood(x, [[math.exp(u[0]), u[2], math.exp(u[1])]], [0], 0)[0, 0]

        u0 = np.array([math.log(df), math.log(scale), nc])
        step = 1e-5
        one_sided = nc == 0  # at the boundary nc = 0 the derivative in nc is one-sided
        for i in range(3):
            e = np.eye(3)[i] * step
            if i == 2 and one_sided:
                numeric = (-3 * value(u0) + 4 * value(u0 + e) - value(u0 + 2 * e)) / (2 * step)
            else:
                numeric = (value(u0 + e) - value(u0 - e)) / (2 * step)
            assert stats[1 + i] == pytest.approx(numeric, rel=1e-5, abs=1e-4)
        packed = {(0, 0): 4, (0, 1): 5, (0, 2): 6, (1, 1): 7, (1, 2): 8, (2, 2): 9}
        for (i, k), column in packed.items():
            if one_sided and 2 in (i, k):
                continue
            ei, ek = np.eye(3)[i] * 1e-4, np.eye(3)[k] * 1e-4
            numeric = (value(u0 + ei + ek) - value(u0 + ei - ek) - value(u0 - ei + ek) + value(u0 - ei - ek)) / 4e-8
            assert stats[column] == pytest.approx(numeric, rel=1e-4, abs=1e-2)


def test_likelihood_independent_of_thread_count():
    x = ib.ScaledNCX2(5, 2, 1.0).rvs(5000, seed=2)
    before = ib.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3):
            ib.set_num_threads(threads)
            results.append(ncx2._likelihood(x, [[5, 2, 1.0], [4, 1, 1.2]], [0, 7], 11))
    finally:
        ib.set_num_threads(before)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_poisson_bootstrap_weights():
    x = ib.ScaledNCX2(5, 2, 1.0).rvs(20_000, seed=2)
    weights = ncx2._likelihood(x, [[5, 2, 1.0]] * 40, np.arange(40), 5)[:, 10]
    assert weights[0] == x.size  # replicate 0 is the sample itself
    boot = weights[1:]
    assert np.all(boot == np.round(boot))
    assert abs(boot.mean() - x.size) < 5 * math.sqrt(x.size / boot.size)  # Poisson(1) per sample
    assert 0.5 < boot.var() / x.size < 1.7


@pytest.mark.parametrize(("df", "nc", "scale"), [(8.0, 4.0, 0.5), (3.0, 20.0, 0.01), (40.0, 0.5, 2.0)])
def test_fit_recovers_parameters_within_bootstrap_intervals(df, nc, scale):
    x = ib.ScaledNCX2(df, nc, scale).rvs(20_000, seed=4)
    fit = ib.ScaledNCX2.fit(x, n_boot=60, seed=1)
    assert fit.converged
    truth = ib.ScaledNCX2(df, nc, scale)
    for statistic in (lambda d: d.mean(), lambda d: d.var(), lambda d: d.logcdf(0.5 * truth.mean())):
        low, high = fit.interval(statistic, confidence=0.99)
        assert low <= statistic(truth) <= high
    assert fit.ks_statistic < 1.63 / math.sqrt(x.size)  # KS critical value at 1 %
    # The maximum likelihood is at least the truth's.
    assert fit.loglik >= ncx2._likelihood(x, [[df, nc, scale]], [0], 0)[0, 0] - 1e-9


def test_fit_is_never_worse_than_scipy():
    stats = pytest.importorskip("scipy.stats")
    for seed, (df, nc, scale) in enumerate([(20, 15, 0.01), (2, 0.5, 1.0), (5, 100, 0.1)]):
        x = ib.ScaledNCX2(df, nc, scale).rvs(2000, seed=seed)
        ours = ib.ScaledNCX2.fit(x)
        p = stats.ncx2.fit(x, floc=0)
        theirs = stats.ncx2.logpdf(x, p[0], p[1], 0, p[3]).sum()
        assert ours.loglik >= theirs - 1e-6 * abs(theirs)
        assert ours.loglik == pytest.approx(ours.distribution.logpdf(x).sum(), rel=1e-12)


def test_moments_start_and_chi2_fallback():
    d = ib.ScaledNCX2(10, 30, 0.2)
    x = d.rvs(400_000, seed=8)
    df, nc, scale = ncx2.moments_start(x)
    assert (
        df == pytest.approx(10, rel=0.2) and nc == pytest.approx(30, rel=0.1) and scale == pytest.approx(0.2, rel=0.05)
    )
    fit = ib.ScaledNCX2.fit(x[:5000], method="moments")
    assert fit.iterations == 0 and fit.method == "moments"
    # Skew above any ncx2's: the moments fall back to the scaled chi-squared.
    y = ib.ScaledChi2(2.0, 1.0).rvs(50_000, seed=1) ** 1.5
    assert ncx2.moments_start(y)[1] == 0.0


def test_chi2_fit_keeps_nc_at_zero():
    x = ib.ScaledChi2(12, 0.3).rvs(10_000, seed=6)
    fit = ib.ScaledChi2.fit(x, n_boot=10)
    assert isinstance(fit.distribution, ib.ScaledChi2) and fit.distribution.nc == 0
    assert fit.distribution.df == pytest.approx(12, rel=0.05)
    assert all(d.nc == 0 for d in fit.replicates())


@pytest.mark.parametrize(
    ("losses", "error", "match"),
    [
        ([], ValueError, "at least 3"),
        ([1.0, np.nan, 2.0], ValueError, "NaN"),
        ([1.0, 0.0, 2.0], ValueError, "positive"),
        ([1.0, -1.0, 2.0], ValueError, "positive"),
        ([2.0, 2.0, 2.0], ValueError, "all samples are equal"),
        (["a", "b", "c"], TypeError, "losses"),
    ],
)
def test_fit_bad_input(losses, error, match):
    with pytest.raises(error, match=match):
        ib.ScaledNCX2.fit(losses)


def test_fit_bad_options():
    x = ib.ScaledChi2(3).rvs(100)
    with pytest.raises(ValueError, match="method"):
        ib.ScaledNCX2.fit(x, method="em")
    with pytest.raises(ValueError, match="n_boot"):
        ib.ScaledNCX2.fit(x, n_boot=-1)
    with pytest.raises(ValueError, match="no bootstrap"):
        ib.ScaledNCX2.fit(x).interval(lambda d: d.df)


@pytest.mark.gpu
def test_gpu_matches_cpu():
    import cupy

    d = ib.ScaledNCX2(9.0, 5.0, 0.4)
    x = d.rvs(20_000, seed=5)
    gx = cupy.asarray(x)
    # libdevice's log, exp and lgamma are not glibc's (each within 1-2 ulp): the series built on them
    # agree to about 1e-14 relative, so log P may differ by 1e-12 relative or 1e-12 absolute near 0.
    for name in ("logpdf", "logcdf", "logsf"):
        np.testing.assert_allclose(getattr(d, name)(gx).get(), getattr(d, name)(x), rtol=1e-12, atol=1e-12)
    cpu = ncx2._likelihood(x, [[9, 5, 0.4], [8, 6, 0.5]], [0, 3], 2)
    gpu = ncx2._likelihood(gx, [[9, 5, 0.4], [8, 6, 0.5]], [0, 3], 2)
    # Sums of 20,000 terms in another order (blocks, then blocks' partials) and other special functions.
    np.testing.assert_allclose(gpu, cpu, rtol=1e-11, atol=1e-9)
    fit_cpu, fit_gpu = ib.ScaledNCX2.fit(x, n_boot=20, seed=1), ib.ScaledNCX2.fit(gx, n_boot=20, seed=1)
    assert fit_gpu.loglik == pytest.approx(fit_cpu.loglik, rel=1e-10)
    np.testing.assert_allclose(fit_gpu.bootstrap, fit_cpu.bootstrap, rtol=1e-5)


@pytest.mark.gpu
def test_gpu_likelihood_and_fits_are_reproducible():
    import cupy

    x = cupy.asarray(ib.ScaledNCX2(9.0, 5.0, 0.4).rvs(300_000, seed=8))
    params, replicates = [[9, 5, 0.4]] * 3 + [[8, 6, 0.5]], [0, 1, 2, 0]
    first = ncx2._likelihood(x, params, replicates, 4)
    for _ in range(3):  # no atomics: the same bits whatever the blocks' timing
        np.testing.assert_array_equal(ncx2._likelihood(x, params, replicates, 4), first)
    # A replicate's sums do not depend on the other rows of the call.
    np.testing.assert_array_equal(ncx2._likelihood(x, [[8, 6, 0.5]], [0], 4)[0], first[3])
    fits = [ib.ScaledNCX2.fit(x, n_boot=8, seed=2) for _ in range(2)]
    assert fits[0].loglik == fits[1].loglik
    np.testing.assert_array_equal(fits[0].bootstrap, fits[1].bootstrap)


@pytest.mark.parametrize("params", [(20, 15, 0.01), (2, 0.5, 1.0), (475, 0, 7.9e-4), (3, 1e-200, 1.0), (0.01, 3, 1.0)])
def test_extreme_arguments_stay_finite_and_ordered(params):
    d = ib.ScaledNCX2(*params)
    x = np.array([1e-300, 1e-200, 1e-50, 1e-5, 1.0, 1e5, 1e8])
    log_cdf, log_sf, log_pdf = d.logcdf(x), d.logsf(x), d.logpdf(x)
    assert np.all(np.isfinite(log_cdf)) and np.all(np.isfinite(log_sf)) and np.all(np.isfinite(log_pdf))
    assert np.all(np.diff(log_cdf) >= 0) and np.all(np.diff(log_sf) <= 0)
    assert np.all(log_cdf <= 0) and np.all(log_sf <= 0)


def test_beyond_the_series_range_is_an_error_but_the_cdf_is_one():
    d = ib.ScaledNCX2(20, 15, 0.01)
    assert d.logcdf(1e300) == 0.0  # Chernoff: P(X > x) < e^-800
    with pytest.raises(ValueError, match="x: logsf needs more than 1e8 series terms"):
        d.logsf(1e300)
    with pytest.raises(ValueError, match="x: logpdf needs more than 1e8"):
        d.logpdf(np.array([1.0, 1e300]))


def test_density_at_zero_follows_the_degrees_of_freedom():
    # chi2_df density at 0: +inf below 2, 1/2 at 2 (times e^(-nc/2), over the scale), 0 above.
    assert ib.ScaledNCX2(1.0, 1.0, 2.0).logpdf(0.0) == math.inf
    assert ib.ScaledNCX2(2.0, 1.0, 2.0).logpdf(0.0) == pytest.approx(math.log(0.5 / 2.0) - 0.5, rel=1e-15)
    assert ib.ScaledNCX2(3.0, 1.0, 2.0).logpdf(0.0) == -math.inf


@pytest.mark.parametrize(("df", "nc", "scale"), [(5.0, 3.0, 0.5), (1.0, 0.0, 1.0), (200.0, 50.0, 0.01)])
def test_quantiles_match_scipy_and_reach_deep_tails(df, nc, scale):
    from scipy import stats

    d = ib.ScaledNCX2(df, nc, scale)
    q = np.array([1e-10, 0.01, 0.5, 0.99])
    np.testing.assert_allclose(d.ppf(q), stats.ncx2.ppf(q, df, nc, scale=scale), rtol=1e-9)
    np.testing.assert_allclose(d.isf(q), stats.ncx2.isf(q, df, nc, scale=scale), rtol=1e-9)
    x = d.isf(log_q=-1e5)  # scipy has no answer here
    assert d.logsf(x) == pytest.approx(-1e5, rel=1e-12)
    assert d.logcdf(d.ppf(log_q=-300.0)) == pytest.approx(-300.0, rel=1e-12)


def test_quantiles_near_one_use_the_other_tail():
    # q = 1 - 1e-20 has its digits in 1 - q: chi2_1 ppf(log_q=-1e-20) = isf(1e-20).
    from scipy import stats

    d = ib.ScaledNCX2(1.0, 0.0, 1.0)
    assert d.ppf(log_q=-1e-20) == pytest.approx(stats.chi2.isf(1e-20, 1), rel=1e-13)
    assert d.isf(log_q=-1e-20) == pytest.approx(stats.chi2.ppf(1e-20, 1), rel=1e-13)
