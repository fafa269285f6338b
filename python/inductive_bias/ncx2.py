"""The scaled non-central chi-squared distribution, in log space, and its maximum-likelihood fit.

``X = scale * Y`` with ``Y ~ ncx2(df, nc)``: the published model of a hypothesis space's test-loss
distribution (loc fixed at 0). ``logcdf`` is a log-space Poisson mixture of regularized incomplete
gamma functions (``csrc/include/ib/ncx2.hpp``), finite and accurate for every ``x > 0`` where
scipy's ``ncx2.logcdf`` underflows to ``-inf``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import _backend, _quantile, _validation
from ._arrays import Array, array_module, as_array
from ._backend import _native

__all__ = ["ScaledNCX2", "ScaledChi2", "Ncx2Fit", "moments_start"]


class ScaledNCX2:
    """``scale * ncx2(df, nc)``, with scipy.stats-like methods that accept scalars or arrays
    (NumPy on the CPU, CuPy on the GPU, other DLPack producers through NumPy/CuPy)."""

    fixes_nc_zero = False

    def __init__(self, df: float, nc: float, scale: float = 1.0):
        self.df = _validation.number("df", df)
        self.nc = _validation.number("nc", nc, allow_low=True)
        self.scale = _validation.number("scale", scale)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(df={self.df:.6g}, nc={self.nc:.6g}, scale={self.scale:.6g})"

    # ---- elementwise functions -----------------------------------------------------------------
    def _evaluate(self, function: str, x):
        array, restore = as_array("x", x)
        xp = array_module(array)
        if xp is np and array.dtype.kind not in "fiu":
            raise TypeError(f"x: expected real numbers, got {array.dtype}")
        if xp is not np:
            _backend.require_cuda(f"ScaledNCX2.{function} on CuPy arrays")
        with _backend.on_device(array):
            values = xp.ascontiguousarray(array, dtype=np.float64)
            if bool(xp.isnan(values).any()):
                raise ValueError("x: contains NaN")
            out = xp.empty_like(values)
            if xp is np:
                _native.ncx2_function(function, values, out, self.df, self.nc, self.scale, _backend.get_num_threads())
            else:
                _backend.native_cuda.ncx2_function(function, values.data.ptr, out.data.ptr, values.size, self.df,
                                                    self.nc, self.scale, _backend.current_stream())
        if bool(xp.isnan(out).any()):
            raise ValueError(f"x: {function} needs more than 1e8 series terms at some points (nc / 2 or "
                             f"sqrt(nc x / (4 scale)) beyond 1e8: extreme upper tails); not supported")
        if np.ndim(x) == 0 and xp is np:
            return float(out.reshape(-1)[0])
        return restore(out)

    def logpdf(self, x: float | Array) -> float | Array:
        return self._evaluate("logpdf", x)

    def logcdf(self, x: float | Array) -> float | Array:
        return self._evaluate("logcdf", x)

    def logsf(self, x: float | Array) -> float | Array:
        return self._evaluate("logsf", x)

    def pdf(self, x: float | Array) -> float | Array:
        return _exp(self.logpdf(x))

    def cdf(self, x: float | Array) -> float | Array:
        return _exp(self.logcdf(x))

    def sf(self, x: float | Array) -> float | Array:
        return _exp(self.logsf(x))

    # ---- moments and sampling ------------------------------------------------------------------
    def ppf(self, q: float | Array | None = None, *, log_q: float | Array | None = None) -> float | np.ndarray:
        """The x with P(X <= x) = q, or with log P(X <= x) = log_q (log space: any depth)."""
        return _quantile.solve(_quantile.targets(q, log_q), False, self.logcdf, self.logsf, self.logpdf, 0.0,
                               self.mean())

    def isf(self, q: float | Array | None = None, *, log_q: float | Array | None = None) -> float | np.ndarray:
        """The x with P(X > x) = q, or with log P(X > x) = log_q."""
        return _quantile.solve(_quantile.targets(q, log_q), True, self.logcdf, self.logsf, self.logpdf, 0.0,
                               self.mean())

    def mean(self) -> float:
        return self.scale * (self.df + self.nc)

    def var(self) -> float:
        return 2.0 * self.scale**2 * (self.df + 2.0 * self.nc)

    def std(self) -> float:
        return math.sqrt(self.var())

    def cumulant(self, n: int) -> float:
        """n-th cumulant: scale^n 2^(n-1) (n-1)! (df + n nc)."""
        n = _validation.integer("n", n, 1)
        return self.scale**n * 2 ** (n - 1) * math.factorial(n - 1) * (self.df + n * self.nc)

    def rvs(self, size: int | tuple[int, ...] | None = None, seed: int = 0) -> np.ndarray:
        """Random variates from numpy.random.default_rng(seed)."""
        rng = np.random.default_rng(seed)
        if self.nc == 0:
            return self.scale * rng.chisquare(self.df, size)
        return self.scale * rng.noncentral_chisquare(self.df, self.nc, size)

    # ---- fitting -------------------------------------------------------------------------------
    @classmethod
    def fit(cls, losses: Array, method: str = "mle", n_boot: int = 0, seed: int = 0,
            max_iterations: int = 200) -> "Ncx2Fit":
        """Fit to positive samples with loc = 0.

        ``method="mle"``: maximum likelihood by trust-region Newton steps with the analytic gradient and
        Hessian (native reduction over the samples), from the method-of-moments solution. When df
        and nc are large the likelihood is nearly flat, and not always concave, along the
        noncentral fraction nc / (df + nc) at fixed mean and variance: when the moments have no
        ncx2 solution or the optimum lies on a bound of that fraction, a second iteration starts
        from the best point of a scan along it, and the better optimum is kept. ``method="moments"``:
        the method-of-moments solution. ``n_boot > 0`` refits ``n_boot`` Poisson-bootstrap
        replicates (weights drawn from Philox by ``seed``), started from the fit.
        """
        if method not in ("mle", "moments"):
            raise ValueError(f"method: expected 'mle' or 'moments', got {method!r}")
        array, _ = as_array("losses", losses)
        with _backend.on_device(array):
            return cls._fit_samples(as_samples(array), method, n_boot, seed, max_iterations)

    @classmethod
    def _fit_samples(cls, samples, method, n_boot, seed, max_iterations) -> "Ncx2Fit":
        n_boot = _validation.integer("n_boot", n_boot)
        seed = _validation.seed(seed)
        max_iterations = _validation.integer("max_iterations", max_iterations, 1)
        df, nc, scale = moments_start(samples, central=cls.fixes_nc_zero)
        if method == "moments":
            best = np.array([df, nc, scale])
            loglik = float(_likelihood(samples, best[None], np.array([0]), seed)[0, 0])
            iterations, converged = 0, True
        else:
            best, loglik, iterations, converged = _maximize(samples, (df, nc, scale), seed, cls.fixes_nc_zero,
                                                            max_iterations)
        distribution = cls._from_params(best)
        bootstrap = None
        if n_boot:
            starts = np.repeat(best[None], n_boot, axis=0)
            params, logliks, _, converged_boot = _fit(samples, starts, np.arange(1, n_boot + 1, dtype=np.int64), seed,
                                                      cls.fixes_nc_zero, max_iterations)
            bootstrap = params[converged_boot & np.isfinite(logliks)]  # empty resamples never converge
        return Ncx2Fit(distribution=distribution, method=method, loglik=loglik, iterations=iterations,
                       converged=converged, n_samples=samples.size, bootstrap=bootstrap, samples=samples)

    @classmethod
    def _from_params(cls, params) -> "ScaledNCX2":
        return ScaledNCX2(*map(float, params))


class ScaledChi2(ScaledNCX2):
    """``scale * chi2(df)``: the scaled ncx2 with nc = 0 (fits keep nc at 0)."""

    fixes_nc_zero = True

    def __init__(self, df: float, scale: float = 1.0):
        super().__init__(df, 0.0, scale)

    def __repr__(self) -> str:
        return f"ScaledChi2(df={self.df:.6g}, scale={self.scale:.6g})"

    @classmethod
    def _from_params(cls, params) -> "ScaledChi2":
        return ScaledChi2(float(params[0]), float(params[2]))


@dataclass
class Ncx2Fit:
    """A fitted distribution with its diagnostics and, when asked for, bootstrap replicates."""

    distribution: ScaledNCX2
    method: str
    loglik: float
    iterations: int
    converged: bool
    n_samples: int
    bootstrap: np.ndarray | None = field(default=None, repr=False)  # [replicates, 3]: df, nc, scale
    samples: Array = field(default=None, repr=False)

    @functools.cached_property
    def ks_statistic(self) -> float:
        """Kolmogorov-Smirnov distance between the samples and the fit (computed on first use: it
        costs a log-CDF per sample)."""
        with _backend.on_device(self.samples):
            return ks_statistic(self.samples, self.distribution)

    def replicates(self) -> list[ScaledNCX2]:
        if self.bootstrap is None:
            raise ValueError("no bootstrap replicates: fit with n_boot > 0")
        return [type(self.distribution)._from_params(p) for p in self.bootstrap]

    def interval(self, statistic: Callable[[ScaledNCX2], float], confidence: float = 0.95) -> tuple[float, float]:
        """Percentile bootstrap interval of ``statistic(distribution)``."""
        if not 0 < confidence < 1:
            raise ValueError(f"confidence: must be in (0, 1), got {confidence}")
        values = np.array([statistic(d) for d in self.replicates()], dtype=float)
        tail = 50 * (1 - confidence)
        low, high = np.percentile(values, [tail, 100 - tail])
        return float(low), float(high)


def _exp(values):
    return float(np.exp(values)) if np.ndim(values) == 0 else array_module(values).exp(values)


def as_samples(losses):
    """The losses as a contiguous float64 vector of NumPy or (on the GPU) CuPy, checked."""
    array, _ = as_array("losses", losses)
    xp = array_module(array)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"losses: expected real numbers, got {array.dtype}")
    samples = xp.ascontiguousarray(array, dtype=np.float64).ravel()
    if samples.size < 3:
        raise ValueError(f"losses: need at least 3 samples to fit, got {samples.size}")
    if not bool(xp.isfinite(samples).all()):
        raise ValueError("losses: contains NaN or infinity")
    low, high = float(samples.min()), float(samples.max())
    if low <= 0:
        raise ValueError(f"losses: must be positive (the distribution lives on x > 0), got minimum {low}")
    if low == high:
        raise ValueError("losses: all samples are equal; no distribution can be fitted")
    if xp is not np:
        _backend.require_cuda("fitting CuPy arrays")
    return samples


def moments_start(samples: np.ndarray, central: bool = False) -> tuple[float, float, float]:
    """(df, nc, scale) matching the first three cumulants, closed form.

    With A = df + nc, B = df + 2 nc: k1 = s A, k2 = 2 s^2 B, k3 = 8 s^3 (2B - A), so s solves
    8 k1 s^2 - 8 k2 s + k3 = 0; the root with nc >= 0 is s = k3 / (4 (k2 + sqrt(k2^2 - k1 k3 / 2))).
    When no ncx2 matches (skew above the chi-squared's, or negative) or ``central``, the scaled
    chi-squared with the first two cumulants: s = k2 / (2 k1), df = 2 k1^2 / k2.
    """
    k1 = float(samples.mean())
    centred = samples - k1
    k2 = float((centred**2).mean())
    k3 = float((centred**3).mean())
    discriminant = k2 * k2 - k1 * k3 / 2
    if not central and k3 > 0 and discriminant > 0:
        scale = k3 / (4 * (k2 + math.sqrt(discriminant)))
        a, b = k1 / scale, k2 / (2 * scale * scale)
        nc, df = b - a, 2 * a - b
        if nc > 0 and df > 0:
            return df, nc, scale
    return 2 * k1 * k1 / k2, 0.0, k2 / (2 * k1)


_RELATIVE_TOLERANCE = 1e-13  # converged when the predicted gain is below this times |log-likelihood|
_SCAN_FRACTIONS = (0.0, 0.3, 0.6, 0.85, 0.95)  # nc / (df + nc) at the sample mean and variance
_SCAN_SAMPLES = 512  # the scan only ranks starting points: a strided subsample is enough
_RHO_BOUND_MARGIN = 1e-6  # df below this fraction of df + nc counts as the bound df -> 0


def _maximize(samples, moments, seed, central, max_iterations):
    """(params, loglik, iterations, converged) of the Newton iteration from the moments, and, when
    the moments fell back to the chi-squared or the optimum sits on a bound of rho = nc / (df + nc),
    the better of it and the iteration from the best point of a scan along rho."""

    def run(start):
        params, logliks, iterations, converged = _fit(samples, np.array([start]), np.zeros(1, np.int64), seed,
                                                      central, max_iterations)
        loglik = float(logliks[0]) if np.isfinite(logliks[0]) else -math.inf
        return params[0], loglik, int(iterations[0]), bool(converged[0])

    result = run(moments)
    if central:
        return result
    df, nc = result[0][0], result[0][1]
    if moments[1] == 0 or nc == 0 or df <= _RHO_BOUND_MARGIN * (df + nc):
        other = run(_scan_start(samples, seed))
        if other[1] > result[1]:
            result = other
    return result


def _scan_start(samples, seed) -> np.ndarray:
    """The best point by likelihood of a scan along rho at the sample mean m and variance v
    (df + nc = 2 (1 + rho) m^2 / v)."""
    m, v = float(samples.mean()), float(samples.var())
    totals = [2 * (1 + rho) * m * m / v for rho in _SCAN_FRACTIONS]
    candidates = np.array([(total * (1 - rho), total * rho, m / total) for rho, total in zip(_SCAN_FRACTIONS, totals)])
    subsample = array_module(samples).ascontiguousarray(samples[:: max(1, samples.size // _SCAN_SAMPLES)])
    logliks = _likelihood(subsample, candidates, np.zeros(len(candidates), np.int64), seed)[:, 0]
    return candidates[int(np.argmax(np.where(np.isfinite(logliks), logliks, -np.inf)))]


def ks_statistic(samples: np.ndarray, distribution: ScaledNCX2) -> float:
    """Kolmogorov-Smirnov distance between the samples and the distribution."""
    xp = array_module(samples)
    ordered = xp.sort(samples)
    cdf = xp.exp(distribution.logcdf(ordered))
    n = ordered.size
    return float(max((xp.arange(1, n + 1) / n - cdf).max(), (cdf - xp.arange(n) / n).max()))


def _likelihood(samples, params, replicates, seed) -> np.ndarray:
    """[count, 11]: log-likelihood, gradient, packed Hessian (u = log df, log scale, nc), weight."""
    params = np.ascontiguousarray(params, dtype=np.float64)
    replicates = np.ascontiguousarray(replicates, dtype=np.int64)
    if array_module(samples) is np:
        return _native.ncx2_likelihood(samples, params, replicates, seed, _backend.get_num_threads())
    with samples.device:
        workspace = _cuda_workspace(samples.size, len(params))
        return _backend.native_cuda.ncx2_likelihood(samples.data.ptr, samples.size, params, replicates, seed,
                                                     workspace.data.ptr, workspace.nbytes, _backend.current_stream())


def _fit(samples, starts, replicates, seed, fix_nc_zero, max_iterations):
    starts = np.ascontiguousarray(starts, dtype=np.float64)
    replicates = np.ascontiguousarray(replicates, dtype=np.int64)
    if array_module(samples) is np:
        return _native.ncx2_fit(samples, starts, replicates, seed, fix_nc_zero, max_iterations, _RELATIVE_TOLERANCE,
                                _backend.get_num_threads())
    with samples.device:
        workspace = _cuda_workspace(samples.size, len(starts))
        return _backend.native_cuda.ncx2_fit(samples.data.ptr, samples.size, starts, replicates, seed, fix_nc_zero,
                                              max_iterations, _RELATIVE_TOLERANCE, workspace.data.ptr,
                                              workspace.nbytes, _backend.current_stream())


def _cuda_workspace(n: int, count: int):
    """Scratch memory of the CUDA likelihood pass, from CuPy's pool (no cudaMalloc, no device sync)."""
    import cupy

    return cupy.empty(_backend.native_cuda.ncx2_workspace_bytes(n, count), dtype=cupy.uint8)
