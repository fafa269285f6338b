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


def _from_u(u):
    """(df, nc, scale) at u = (log mean, log variance, rho = nc / (df + nc))."""
    a = 2 * (1 + u[2]) * math.exp(2 * u[0] - u[1])
    return [a * (1 - u[2]), a * u[2], math.exp(u[0]) / a]


def _to_u(df, nc, scale):
    return np.array([math.log(scale * (df + nc)), math.log(2 * scale * scale * (df + 2 * nc)), nc / (df + nc)])


@pytest.mark.parametrize(
    ("df", "nc", "scale", "x_params"),
    [
        (6.0, 3.0, 0.25, (7, 4, 0.2)),
        (7.5, 0.0, 0.2, (7, 4, 0.2)),
        (3.0, 12.0, 0.1, (7, 4, 0.2)),
        (7.0, 1e-9, 0.2, (7, 4, 0.2)),  # nc -> 0: Var[j] - E[j] from the shifted sums
        (5e4, 0.0, 1e-4, (5e4, 0, 1e-4)),  # the gamma's closed forms in (log m, log v)
        (1e3, 2e4, 1e-4, (1e3, 2e4, 1e-4)),  # the trapezoidal rule over j (sigma ~ 100)
    ],
)
def test_likelihood_value_matches_twin_and_derivatives_match_finite_differences(df, nc, scale, x_params):
    # Derivatives in the optimizer's coordinates u = (log mean, log variance, rho).
    x = ib.ScaledNCX2(*x_params).rvs(400, seed=1)
    stats = ncx2._likelihood(x, [[df, nc, scale]], [0], 0)[0]
    # The twin sums terms like (a - 1) log h - lgamma(a), each ~3e5 at df = 5e4: 1e-11 relative.
    rel = 1e-12 if df + nc < 1e3 else 1e-10
    assert stats[0] == pytest.approx(_reference.ncx2_logpdf(x, df, nc, scale).sum(), rel=rel)
    assert stats[10] == x.size

    def value(u):
        return ncx2._likelihood(x, [_from_u(u)], [0], 0)[0, 0]

    u0 = _to_u(df, nc, scale)
    # Steps of ~1e-3 standard errors in each coordinate; rho's at most 1e-4 (one-sided at nc ~ 0).
    curvature = np.abs([stats[4], stats[7], stats[9]]) + 1.0
    steps = np.minimum(1e-3 / np.sqrt(curvature), [1e-4, 1e-4, 1e-4])
    one_sided = nc < 1e-6  # at the boundary rho = 0 the derivative in rho is one-sided
    for i in range(3):
        e = np.eye(3)[i] * steps[i]
        if i == 2 and one_sided:
            numeric = (-3 * value(u0) + 4 * value(u0 + e) - value(u0 + 2 * e)) / (2 * steps[i])
        else:
            numeric = (value(u0 + e) - value(u0 - e)) / (2 * steps[i])
        assert stats[1 + i] == pytest.approx(numeric, rel=1e-5, abs=1e-5 * math.sqrt(curvature[i])), i
    packed = {(0, 0): 4, (0, 1): 5, (0, 2): 6, (1, 1): 7, (1, 2): 8, (2, 2): 9}
    for (i, k), column in packed.items():
        if one_sided and 2 in (i, k):
            continue
        ei, ek = np.eye(3)[i] * steps[i], np.eye(3)[k] * steps[k]
        numeric = (value(u0 + ei + ek) - value(u0 + ei - ek) - value(u0 - ei + ek) + value(u0 - ei - ek)) / (
            4 * steps[i] * steps[k]
        )
        scale_ik = math.sqrt(curvature[i] * curvature[k])
        assert stats[column] == pytest.approx(numeric, rel=1e-4, abs=1e-4 * scale_ik), (i, k)


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


# ---- issue 12: tiny losses, small relative spreads, huge degrees of freedom, convergence -----------


def _within(seconds: float, code: str) -> dict:
    """Run `code` (which sets `result`, a dict of plain values) in a subprocess; fail if it has not
    returned within `seconds` (these inputs hung before, so a regression must not hang the suite)."""
    import json
    import os
    import subprocess
    import sys

    program = (
        "import json, math, warnings\nimport numpy as np\nimport inductive_bias as ib\n"
        "warnings.simplefilter('ignore')\n" + code + "\nprint(json.dumps(result))"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    try:
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=seconds, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not return within {seconds} s")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _bessel_logpdf(x, df, nc, scale=1.0):
    """log density of scale * ncx2(df, nc) from its Bessel form, in mpmath."""
    import mpmath as mp

    with mp.workdps(40):
        y, nu, nc = mp.mpf(x) / scale, mp.mpf(df) / 2 - 1, mp.mpf(nc)
        value = -mp.log(2) - (y + nc) / 2 + nu / 2 * mp.log(y / nc) + mp.log(mp.besseli(nu, mp.sqrt(nc * y)))
        return float(value - mp.log(scale))


def test_a_loss_near_zero_fits_without_hanging():
    # One loss of 1e-300 hung the fit (the Hessian's y^2 underflowed to 0 * inf = NaN, and the damping
    # loop waited for NaN to become positive definite). The fit must return the maximum likelihood.
    result = _within(
        60,
        """
from inductive_bias import ncx2
x = np.append(ib.ScaledNCX2(20, 15, .01).rvs(400, seed=1), 1e-300)
fit = ib.ScaledNCX2.fit(x)
d = fit.distribution
# The optimum: no direction of (log df, log scale, log nc) improves the log-likelihood.
def loglik(t):
    return float(ncx2._likelihood(x, [[math.exp(t[0]), math.exp(t[1]), math.exp(t[2])]], [0], 0)[0, 0])
t0 = [math.log(d.df), math.log(d.nc), math.log(d.scale)]
worse = all(loglik(np.add(t0, s * np.eye(3)[i])) <= fit.loglik + 1e-9 for i in range(3) for s in (-1e-4, 1e-4))
estimate = ib.bias_from_losses(x, 0.2, n_boot=40)
result = dict(converged=fit.converged, loglik=fit.loglik, total=float(d.logpdf(x).sum()), params=[d.df, d.nc, d.scale],
              worse=worse, value=estimate.value, boot=estimate.fit.boot_converged)
""",
    )
    assert result["converged"] and result["worse"]
    assert result["loglik"] == pytest.approx(result["total"], rel=1e-12)
    assert result["boot"] == 40 and math.isfinite(result["value"])
    # The log-density at the tiny loss is exact (the Bessel form, mpmath): 661.70 here.
    df, nc, scale = result["params"]
    assert ib.ScaledNCX2(df, nc, scale).logpdf(1e-300) == pytest.approx(
        _bessel_logpdf(1e-300, df, nc, scale), rel=1e-13
    )


@pytest.mark.parametrize(
    ("df", "nc", "scale"), [(20.0, 15.0, 1.0), (3.0, 0.0, 1.0), (0.5, 2.0, 1.0), (20.0, 15.0, 0.01)]
)
def test_subnormal_points(df, nc, scale):
    # Below y ~ 1e-308 the density and the CDF came out as -inf or as "needs more than 1e8 series
    # terms". There only j = 0 counts: log P = -nc/2 + (df/2) log(y/2) - lgamma(df/2 + 1) exactly in
    # doubles, and log f = -nc/2 + (df/2 - 1) log(y/2) - lgamma(df/2) - log 2 - log scale.
    d = ib.ScaledNCX2(df, nc, scale)
    for x in (2e-308, 1e-310, 5e-324):
        y = x / scale  # as the library forms it
        log_h = math.log(y) - math.log(2)
        want_cdf = -nc / 2 + df / 2 * log_h - math.lgamma(df / 2 + 1)
        want_pdf = -nc / 2 + (df / 2 - 1) * log_h - math.lgamma(df / 2) - math.log(2) - math.log(scale)
        assert d.logcdf(x) == pytest.approx(want_cdf, rel=1e-13)
        assert d.logpdf(x) == pytest.approx(want_pdf, rel=1e-13)
        assert d.logsf(x) == pytest.approx(-math.exp(want_cdf), rel=1e-13, abs=1e-300)


@pytest.mark.parametrize("exponent", [-1000, -990, 990, 1010])
def test_fit_is_scale_equivariant(exponent):
    # Losses ~1e-300 gave ZeroDivisionError, ~1e300 "params: need df > 0": the fit is equivariant and
    # now runs on the losses divided by a power of two near their mean.
    x = ib.ScaledNCX2(20, 15, 0.01).rvs(400, seed=1)
    base = ib.ScaledNCX2.fit(x, n_boot=10, seed=2)
    scaled = ib.ScaledNCX2.fit(np.ldexp(x, exponent), n_boot=10, seed=2)
    assert scaled.converged and scaled.boot_converged == 10
    assert scaled.distribution.df == pytest.approx(base.distribution.df, rel=1e-12)
    assert scaled.distribution.nc == pytest.approx(base.distribution.nc, rel=1e-12)
    assert scaled.distribution.scale == pytest.approx(math.ldexp(base.distribution.scale, exponent), rel=1e-12)
    assert scaled.loglik == pytest.approx(base.loglik - x.size * exponent * math.log(2), rel=1e-12)
    np.testing.assert_allclose(scaled.bootstrap[:, 2], np.ldexp(base.bootstrap[:, 2], exponent), rtol=1e-12)
    # Plain decimal factors too (the issue's reproducers).
    assert ib.ScaledNCX2.fit(x * 1e-298).converged and ib.ScaledNCX2.fit(x * 1e300).converged


def test_losses_beyond_double_range_are_refused_by_name():
    with pytest.raises(ValueError, match="losses: the smallest loss"):
        ib.ScaledNCX2.fit(np.array([5e-324, 1e10, 2e10, 3e10]))
    with pytest.raises(ValueError, match="max_iterations"):
        ib.ScaledNCX2.fit(np.array([1.0, 2.0, 3.0]), max_iterations=2**31)


def test_small_relative_spreads_fit_and_bootstrap():
    # Relative spread 3e-4: each bootstrap refit walked ~20,000 Poisson terms per sample per iteration
    # (nc ~ 4e7): 200 replicates took ~17 minutes. Spread 1e-12 hung. Both return now, converged.
    result = _within(
        120,
        """
rng = np.random.default_rng(0)
out = {}
for spread in (3e-4, 1e-12):
    x = 0.3 * (1 + spread * rng.standard_normal(1000))
    e = ib.bias_from_losses(x, 0.29, n_boot=200)
    f = e.fit
    out[str(spread)] = dict(converged=f.converged, boot=f.boot_converged, near_normal=f.near_normal,
                            nc=f.distribution.nc, var=f.distribution.var(), sample_var=float(x.var()),
                            value=e.value, interval=list(e.interval))
result = out
""",
    )
    wide, tight = result["0.0003"], result["1e-12"]
    for r in (wide, tight):
        assert r["converged"] and r["boot"] == 200
        assert r["interval"][0] <= r["value"] <= r["interval"][1]
        # The fitted variance is the sample's to within its sampling error (sqrt(2 / n) = 4.5 %).
        assert r["var"] == pytest.approx(r["sample_var"], rel=0.1)
    # Below a relative spread of ~2e-4 the likelihood cannot tell nc from df: nc is held at 0.
    assert not wide["near_normal"] and tight["near_normal"] and tight["nc"] == 0
    # The interval reflects the variance's sampling error (~9 % of the bias), not a stalled fit.
    assert 0.03 < (tight["interval"][1] - tight["interval"][0]) / tight["value"] < 0.5


def test_log_cdf_at_huge_degrees_of_freedom():
    # df = 5.5e27 (a fit of losses with relative spread 2e-14): the incomplete gamma function took
    # O(sqrt(df)) terms (capped, and wrong) and the mixture walk 2e8 steps (55 s); now Temme's
    # expansion, and the walk is skipped where |log P| is beyond what the mixture can change.
    import mpmath as mp

    df, nc, scale = 5.47844041e27, 1.36769885, 1.825337e-28
    total, sd = df + nc, math.sqrt(2 * (df + 2 * nc))
    points = [0.9] + [scale * total * (1 + z * sd / total) for z in (-5.0, -1.0, 0.0, 2.0)]
    got = _within(
        60,
        f"d = ib.ScaledNCX2({df!r}, {nc!r}, {scale!r})\n"
        f"result = dict(cdf=[d.logcdf(x) for x in {points!r}], sf=[d.logsf(x) for x in {points!r}])",
    )
    with mp.workdps(40):  # the mixture with mpmath's incomplete gamma, deep in the lower tail
        h, lam = mp.mpf(0.9 / scale) / 2, mp.mpf(nc) / 2
        weights = [mp.exp(-lam) * lam**j / mp.factorial(j) for j in range(30)]
        want = mp.log(sum(w * mp.gammainc(df / 2 + j, 0, h, regularized=True) for j, w in enumerate(weights)))
    assert got["cdf"][0] == pytest.approx(float(want), rel=1e-14)
    # In the bulk, the normal limit (skewness 4e-14) of the double y = x / scale the library sees.
    for x, cdf, sf in zip(points[1:], got["cdf"][1:], got["sf"][1:]):
        with mp.workdps(40):
            z = (mp.mpf(x / scale) - mp.mpf(df) - mp.mpf(nc)) / mp.sqrt(2 * (mp.mpf(df) + 2 * mp.mpf(nc)))
            want_cdf, want_sf = float(mp.log(mp.ncdf(z))), float(mp.log(mp.ncdf(-z)))
        assert cdf == pytest.approx(want_cdf, rel=1e-11)
        assert sf == pytest.approx(want_sf, rel=1e-11)


@pytest.mark.parametrize("a", [60.0, 400.0, 2e3])
def test_incomplete_gamma_for_large_shape(a):
    # The scaled chi-squared's log-CDF is log P(a, x/2) with a = df/2: Temme's uniform expansion for
    # a >= 50 and |x/a - 1| <= 0.3, series and continued fraction around it; mpmath as the judge
    # (its own series stop converging beyond a ~ 1e4: larger a are checked against the normal limit).
    import mpmath as mp

    d = ib.ScaledChi2(2 * a, 2.0)  # y = x / 2, h = x / 4 ... so x = 4 a (1 + mu) puts h at a (1 + mu)
    for mu in (-0.35, -0.3, -0.1, -0.01, 0.0, 0.02, 0.2, 0.3, 0.31):
        x = 4 * a * (1 + mu)
        with mp.workdps(40):
            h = mp.mpf(x) / 4
            want_cdf = float(mp.log(mp.gammainc(a, 0, h, regularized=True)))
            want_sf = float(mp.log(mp.gammainc(a, h, mp.inf, regularized=True)))
        assert close(d.logcdf(x), want_cdf), (mu, d.logcdf(x), want_cdf)
        assert close(d.logsf(x), want_sf), (mu, d.logsf(x), want_sf)


@pytest.mark.parametrize(("df", "nc"), [(4.0, 9500.0), (0.01, 2e5), (1e3, 4e7), (30.0, 3e6)])
def test_density_where_the_mixture_is_wide(df, nc):
    # From a posterior spread of 48 in j the density is a trapezoidal rule over j (40 nodes instead
    # of ~20 sigma terms); against the Bessel form in mpmath, across the bulk and the tails.
    d = ib.ScaledNCX2(df, nc)
    mean, sd = d.mean(), d.std()
    for z in (-8.0, -2.0, 0.0, 1.0, 6.0, 20.0):
        x = mean + z * sd
        assert d.logpdf(x) == pytest.approx(_bessel_logpdf(x, df, nc), rel=1e-12, abs=1e-12), z


def test_a_fit_that_stops_early_is_marked_and_warned():
    x = ib.ScaledNCX2(2, 0.5, 1.0).rvs(400, seed=1)  # needs 6 iterations
    with pytest.warns(ib.FitWarning, match="iteration bound"):
        fit = ib.ScaledNCX2.fit(x, max_iterations=3)
    assert not fit.converged and fit.iterations <= 3
    y = ib.ScaledNCX2(20, 15, 0.01).rvs(400, seed=1)
    with pytest.warns(ib.FitWarning, match="bootstrap refits did not converge"):
        fit = ib.ScaledNCX2.fit(y, n_boot=20, max_iterations=1)
    assert fit.n_boot == 20 and fit.boot_converged < 20 and len(fit.bootstrap) == fit.boot_converged
    full = ib.ScaledNCX2.fit(y, n_boot=20)
    assert full.converged and full.boot_converged == 20 and full.bootstrap.shape == (20, 3)


@pytest.mark.parametrize(("df", "nc"), [(30.0, 2e5), (4.0, 2e6), (1e3, 4e7), (1e6, 3e6)])
def test_tails_where_the_poisson_weights_are_wide(df, nc):
    # From nc / 2 = 1e5 on the tails are a trapezoidal rule over j (~60 incomplete gamma functions
    # instead of ~80 sqrt(nc / 2) terms: 0.6 ms a point at nc = 5e7). In the bulk scipy (Boost) is
    # accurate; across the switch (nc / 2 = 1e5 +- 1e-9) the rule must continue the term-by-term walk
    # into the deep tails.
    stats = pytest.importorskip("scipy.stats")
    d = ib.ScaledNCX2(df, nc, 0.01)
    x = d.mean() + d.std() * np.array([-6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0])
    np.testing.assert_allclose(d.logcdf(x), stats.ncx2.logcdf(x, df, nc, scale=0.01), rtol=1e-11)
    np.testing.assert_allclose(d.logsf(x), stats.ncx2.logsf(x, df, nc, scale=0.01), rtol=1e-11)
    # The walk at nc (1 - e) against the rule at nc (1 + e) and nc (1 + 3 e), extrapolated linearly.
    e = 1e-10
    walk, rule, rule3 = (ib.ScaledNCX2(df, 2e5 * (1 + k * e)) for k in (-1, 1, 3))
    z = np.array([-60.0, -30.0, -10.0, -2.0, 0.0, 2.0, 10.0, 30.0, 60.0])
    x = walk.mean() + walk.std() * z

    def small_tail(d):  # the tail summed directly
        return np.where(z < 0, d.logcdf(x), d.logsf(x))

    np.testing.assert_allclose(2 * small_tail(rule) - small_tail(rule3), small_tail(walk), rtol=1e-11)


# ---- audit of the fit, the quantiles and the tiny-df tails (regressions) -----------------------------


def test_bootstraps_of_a_few_samples_end_fast():
    # A Poisson replicate of 3-6 losses often puts all its weight on one or two of them; its fit
    # runs off (variance -> 0) to df ~ 1e20, where the peak of the density's Poisson walk was
    # computed with total cancellation (0 for ~890) and the walk overflowed and never stopped.
    # Those replicates must end (at the iteration bound, not converged) and the rest converge.
    result = _within(
        90,
        """
rng_x = lambda n: np.random.default_rng(1).uniform(1, 2, n)
fit = ib.ScaledNCX2.fit(rng_x(3), n_boot=2)
out = {"3": [fit.n_boot, fit.boot_converged]}
for n in (4, 5, 6):
    e = ib.bias_from_losses(rng_x(n), 0.5)
    out[str(n)] = [e.fit.boot_converged, bool(np.isfinite(e.value))]
e = ib.bias_from_losses(rng_x(10), 0.5, n_boot=200)
out["10"] = [e.fit.boot_converged, bool(np.isfinite(e.value))]
result = out
""",
    )
    assert result["3"] == [2, 0]  # both replicates sit on one sample: no fit, counted as not converged
    for n in ("4", "5", "6", "10"):
        assert result[n][1] and 0 < result[n][0] <= 200


def test_density_where_df_dwarfs_nc_times_x():
    # The parameters at which the bootstrap above hung: df = 2.8e20 >> lambda h ~ 1e23 / df. Normal
    # up to a skewness of 2e-10: the normal density of the same mean and variance is the reference.
    from scipy import stats

    df, nc, scale, x = 2.8283676890976754e20, 1779.7670035590293, 2.6726044683996833e-21, 0.7559108123501284
    result = _within(30, f"result = {{'v': ib.ScaledNCX2({df!r}, {nc!r}, {scale!r}).logpdf({x!r})}}")
    d = ib.ScaledNCX2(df, nc, scale)
    want = stats.norm.logpdf(x, d.mean(), d.std())
    assert result["v"] == pytest.approx(want, rel=1e-8)


def test_density_at_tiny_df_near_zero():
    # (j - 1) + a: a + j - 1 rounded a = 5e-21 away at j = 1 and the walk divided by 0 (the ppf
    # below hung there). Reference: the mixture's first terms in mpmath (j >= 3 is below 1e-50).
    import mpmath as mp

    df, nc, y = 1e-20, 1.0, 4.35961e-28
    result = _within(30, f"result = {{'v': ib.ScaledNCX2({df!r}, {nc!r}, 1.0).logpdf({y!r})}}")
    with mp.workdps(50):
        a, lam, h = mp.mpf(df) / 2, mp.mpf(nc) / 2, mp.mpf(y) / 2
        terms = [
            mp.e**-lam * lam**j / mp.factorial(j) * h ** (a + j - 1) * mp.e**-h / (2 * mp.gamma(a + j))
            for j in range(3)
        ]
        want = float(mp.log(mp.fsum(terms)))
    assert result["v"] == pytest.approx(want, rel=1e-12)


def test_quantiles_inside_the_near_atom_at_zero():
    # df -> 0: P(X = ~0) = e^(-nc/2) = 0.61 > 1/2, so the median underflows to 0.0. Hung before.
    result = _within(
        60,
        """
out = {}
for df in (1e-20, 1e-100, 1e-320):
    d = ib.ScaledNCX2(df, 1, 1)
    out[repr(df)] = [d.ppf(0.5), d.isf(0.5), d.ppf(log_q=-0.7)]
result = out
""",
    )
    for values in result.values():
        assert values == [0.0, 0.0, 0.0]


def _mp_log_gamma_pq(a, h):
    import mpmath as mp

    with mp.workdps(60):
        a, h = mp.mpf(a), mp.mpf(h)
        p, q = mp.gammainc(a, 0, h, regularized=True), mp.gammainc(a, h, mp.inf, regularized=True)
        # Each from the smaller tail: P = 1 - 1e-300 has no digit of its log at 60 digits.
        return float(mp.log(p) if p < q else mp.log1p(-q)), float(mp.log(q) if q < p else mp.log1p(-p))


@pytest.mark.parametrize("df", [1e-300, 1e-100, 1e-20, 1e-6, 0.02, 0.3, 1.5])
@pytest.mark.parametrize("x", [1e-3, 0.5, 1.0, 2.0, 2.2, 5.0])
def test_central_tails_at_tiny_df_against_mpmath(df, x):
    # Q(a, x) ~ a E1(x) as a -> 0: 1 - P kept no digit of it (log Q = -36.04 = log(eps) at df = 1e-20,
    # x = 1, where the truth is -47.33), and log P rounded to +0 gave NaN ("needs more than 1e8
    # series terms"). Tolerance: 1e-13 relative (the series and log1p(-e^v) each lose a few ulps).
    want_cdf, want_sf = _mp_log_gamma_pq(df / 2, x / 2)
    for d in (ib.ScaledChi2(df), ib.ScaledNCX2(df, 0.0)):
        got_cdf, got_sf = d.logcdf(x), d.logsf(x)
        assert got_sf == pytest.approx(want_sf, rel=1e-13, abs=1e-300)
        assert got_cdf == pytest.approx(want_cdf, rel=1e-13, abs=1e-300)


def test_quantiles_and_moments_at_the_ends_of_the_double_range():
    from scipy import stats

    # Scales of 1e-320: quantiles are subnormal (2^-1074 resolution: ~11 bits at 1e-320). The density
    # there (~1e320) overflowed math.exp.
    assert ib.ScaledNCX2(1, 1, 1e-320).ppf(0.5) == pytest.approx(1e-320 * stats.ncx2.ppf(0.5, 1, 1), rel=2e-3)
    assert ib.ScaledChi2(2, 1e-320).ppf(0.5) == pytest.approx(1e-320 * 2 * math.log(2), rel=2e-3)
    assert ib.ScaledNCX2(1e20, 0, 1).ppf(0.5) == pytest.approx(1e20, rel=1e-12)
    assert ib.ScaledNCX2(1, 0, 1e307).ppf(1 - 1e-10) == math.inf  # 4.2e308: beyond the double range
    with pytest.raises(ValueError, match="n: .*double range"):
        ib.ScaledNCX2(4, 2, 0.5).cumulant(400)
    assert ib.ScaledNCX2(4, 2, 0.5).cumulant(3) == 10.0
    big = ib.ScaledNCX2(4, 2, 0.01).cumulant(200)  # 199! overflows on its own, the cumulant does not
    assert big == pytest.approx(
        math.exp(200 * math.log(0.01) + 199 * math.log(2) + math.lgamma(200) + math.log(404)), rel=1e-12
    )
    with pytest.raises(ValueError, match="df"):
        ib.ScaledNCX2(10**400, 1, 1)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"size": 3, "seed": -1}, ValueError),
        ({"size": 3, "seed": 1.5}, TypeError),
        ({"size": -1}, ValueError),
        ({"size": 1.5}, TypeError),
        ({"size": "a"}, TypeError),
        ({"size": (2, -1)}, ValueError),
        ({"size": 2**62}, MemoryError),
    ],
)
def test_rvs_names_its_bad_arguments(kwargs, error):
    name = "seed" if "seed" in kwargs else "size"
    with pytest.raises(error, match=name):
        ib.ScaledNCX2(4, 2, 0.5).rvs(**kwargs)


def test_rvs_seeds_like_generalized_chi2():
    d = ib.ScaledNCX2(4, 2, 0.5)
    np.testing.assert_array_equal(d.rvs(5, seed=3), d.rvs(5, seed=3))
    same = [d.rvs((2, 3), seed=np.random.SeedSequence(7)) for _ in range(2)]
    np.testing.assert_array_equal(*same)
    assert same[0].shape == (2, 3) and isinstance(d.rvs(seed=1), float)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.5, math.nan])
def test_interval_confidence_states_the_accepted_range(confidence):
    x = ib.ScaledNCX2(4, 2, 0.5).rvs(300, seed=1)
    fit = ib.ScaledNCX2.fit(x, n_boot=3, seed=0)
    with pytest.raises(ValueError, match=r"confidence: must be a number in \(0, 1\)"):
        fit.interval(lambda d: d.mean(), confidence)


def test_interval_names_a_statistic_that_is_not_callable():
    fit = ib.ScaledNCX2.fit(ib.ScaledNCX2(4, 2, 0.5).rvs(200, seed=1), n_boot=40, seed=0)
    with pytest.raises(TypeError, match="^statistic:"):
        fit.interval(5)
