"""The generalized chi-squared distribution with positive weights, in log space.

``Q = offset + sum_j w_j chi2_{h_j}(nc_j)``: the exact test-MSE distribution of a Gaussian
hypothesis space (docs/methods.md, 1.1). ``logcdf`` uses Ruben's series (a mixture of central
chi-squares with non-negative coefficients: relative accuracy in the lower tail) when it converges
within ``max_terms`` terms, and the Lugannani-Rice saddlepoint otherwise; ``method=`` forces one,
and :meth:`GeneralizedChi2.evaluate` reports which one ran and its error estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _backend, _quantile, _validation
from ._backend import _native
from ._arrays import Array, on_host

__all__ = ["GeneralizedChi2", "Gchi2Evaluation"]

_METHODS = {"auto": 0, "ruben": 1, "saddlepoint": 2, "inversion": 3}
_METHOD_NAMES = np.array(["none", "ruben", "saddlepoint", "inversion"])


@dataclass
class Gchi2Evaluation:
    """Per point: ``log_cdf``, ``log_sf``, the ``method`` used and its ``error`` estimate (Ruben: a
    bound on the truncated terms relative to the sum; saddlepoint: ``|Lugannani-Rice - r*|`` in the log
    of the smaller tail)."""

    log_cdf: np.ndarray
    log_sf: np.ndarray
    error: np.ndarray
    method: np.ndarray


class GeneralizedChi2:
    """``offset + sum_j weights[j] * chi2(dofs[j], noncentralities[j])`` with positive weights.

    Terms with equal weights are merged (their dofs and noncentralities add). With no terms the
    distribution is the constant ``offset``."""

    def __init__(self, weights: Array, dofs: int | Array = 1, noncentralities: float | Array = 0, offset: float = 0.0,
                 max_terms: int = 5000):
        weights = np.asarray(weights, dtype=np.float64).ravel()
        try:
            dofs = np.broadcast_to(np.asarray(dofs, dtype=np.float64), weights.shape)
            noncentralities = np.broadcast_to(np.asarray(noncentralities, dtype=np.float64), weights.shape)
        except ValueError:
            raise ValueError(f"dofs, noncentralities: must be scalars or have {weights.size} entries") from None
        if not np.all(np.isfinite(weights)) or np.any(weights <= 0):
            raise ValueError("weights: must be positive and finite")
        if not np.all(np.isfinite(dofs)) or np.any(dofs <= 0):
            raise ValueError("dofs: must be positive and finite")
        if not np.all(np.isfinite(noncentralities)) or np.any(noncentralities < 0):
            raise ValueError("noncentralities: must be >= 0 and finite")
        offset = float(offset)
        if not math.isfinite(offset):
            raise ValueError("offset: must be finite")
        unique, inverse = np.unique(weights, return_inverse=True)
        self.weights = unique
        self.dofs = np.bincount(inverse, weights=dofs, minlength=unique.size)
        self.noncentralities = np.bincount(inverse, weights=noncentralities, minlength=unique.size)
        self.offset = offset
        self.max_terms = _validation.integer("max_terms", max_terms, 1)

    def __repr__(self) -> str:
        return f"GeneralizedChi2({self.weights.size} terms, mean={self.mean():.6g}, offset={self.offset:.6g})"

    def evaluate(self, x: float | Array, method: str = "auto") -> Gchi2Evaluation:
        if method not in _METHODS:
            raise ValueError(f"method: expected one of {tuple(_METHODS)}, got {method!r}")
        values = np.asarray(on_host("x", x)[0], dtype=np.float64)
        if np.any(np.isnan(values)):
            raise ValueError("x: contains NaN")
        flat = np.ascontiguousarray(values.ravel())
        if self.weights.size == 0:  # the constant offset
            above = flat >= self.offset
            return Gchi2Evaluation(np.where(above, 0.0, -np.inf).reshape(values.shape),
                                   np.where(above, -np.inf, 0.0).reshape(values.shape), np.zeros(values.shape),
                                   np.full(values.shape, "none"))
        log_cdf, log_sf, error, used = _native.gchi2_evaluate(self.weights, self.dofs, self.noncentralities,
                                                              self.offset, flat, _METHODS[method], self.max_terms,
                                                              _backend.get_num_threads())
        if method == "ruben" and np.any(np.isnan(log_cdf)):
            raise ValueError(f"method: Ruben's series did not converge within max_terms={self.max_terms} terms at "
                             f"some x; raise max_terms or use method='auto'")
        if method == "inversion" and np.any(np.isnan(log_cdf)):
            raise ValueError("method: the inversion could not reach 1e-6 within its budget at some x (few degrees "
                             "of freedom decay slowly); use method='auto'")
        shape = values.shape
        return Gchi2Evaluation(log_cdf.reshape(shape), log_sf.reshape(shape), error.reshape(shape),
                               _METHOD_NAMES[used].reshape(shape))

    def _result(self, x, values):
        """A float for a scalar ``x``, else ``values`` in ``x``'s array type and device."""
        return float(values) if np.ndim(x) == 0 else on_host("x", x)[1](values)

    def logcdf(self, x: float | Array, method: str = "auto") -> float | np.ndarray:
        return self._result(x, self.evaluate(x, method).log_cdf)

    def logsf(self, x: float | Array, method: str = "auto") -> float | np.ndarray:
        return self._result(x, self.evaluate(x, method).log_sf)

    def cdf(self, x: float | Array, method: str = "auto") -> float | np.ndarray:
        return self._result(x, np.exp(self.evaluate(x, method).log_cdf))

    def sf(self, x: float | Array, method: str = "auto") -> float | np.ndarray:
        return self._result(x, np.exp(self.evaluate(x, method).log_sf))

    def logpdf(self, x: float | Array) -> float | np.ndarray:
        """log density, by the same inversion at the saddlepoint (+inf / finite / -inf at the offset
        for total degrees of freedom below 2 / equal to 2 / above 2)."""
        values = np.asarray(on_host("x", x)[0], dtype=np.float64)
        if np.any(np.isnan(values)):
            raise ValueError("x: contains NaN")
        flat = np.ascontiguousarray(values.ravel())
        if self.weights.size == 0:
            raise ValueError("logpdf: the constant offset has no density")
        log_pdf, _ = _native.gchi2_log_pdf(self.weights, self.dofs, self.noncentralities, self.offset, flat,
                                           _backend.get_num_threads())
        if np.any(np.isnan(log_pdf)):
            raise ValueError("x: the density's inversion could not reach 1e-6 within its budget at some x")
        return self._result(x, log_pdf.reshape(values.shape))

    def pdf(self, x: float | Array) -> float | np.ndarray:
        return self._result(x, np.exp(self.logpdf(x)))

    def ppf(self, q: float | Array | None = None, *, log_q: float | Array | None = None) -> float | np.ndarray:
        """The x with P(Q <= x) = q, or with log P(Q <= x) = log_q (down to any log_q: -1e6 is fine
        where the lower tail reaches it in double precision)."""
        return self._quantile(q, log_q, upper=False)

    def isf(self, q: float | Array | None = None, *, log_q: float | Array | None = None) -> float | np.ndarray:
        """The x with P(Q > x) = q, or with log P(Q > x) = log_q: the error reachable with a given
        number of bits is isf / ppf of log_q = -bits log 2."""
        return self._quantile(q, log_q, upper=True)

    def _quantile(self, q, log_q, upper: bool):
        log_targets = _quantile.targets(q, log_q)
        if self.weights.size == 0:  # the constant: every quantile is the offset
            return self._result(log_targets, np.full(np.shape(log_targets), self.offset))
        return _quantile.solve(log_targets, upper, lambda x: self.evaluate(x).log_cdf,
                               lambda x: self.evaluate(x).log_sf, self.logpdf, self.offset, self.mean() - self.offset)

    def std(self) -> float:
        return math.sqrt(self.var())

    def cumulant(self, n: int) -> float:
        """n-th cumulant: 2^(n-1) (n-1)! sum w^n (h + n nc), plus the offset for n = 1."""
        n = _validation.integer("n", n, 1)
        value = 2 ** (n - 1) * math.factorial(n - 1) * float(np.sum(self.weights**n * (self.dofs + n * self.noncentralities)))
        return value + (self.offset if n == 1 else 0.0)

    def mean(self) -> float:
        return self.cumulant(1)

    def var(self) -> float:
        return self.cumulant(2)

    def rvs(self, size: int, seed: int = 0, chunk: int = 4096) -> np.ndarray:
        """Random variates from numpy.random.default_rng(seed), summed term by term."""
        size = _validation.integer("size", size)
        rng = np.random.default_rng(_validation.seed(seed))
        out = np.full(size, self.offset)
        for j0 in range(0, self.weights.size, chunk):
            w = self.weights[j0 : j0 + chunk]
            h, nc = self.dofs[j0 : j0 + chunk], self.noncentralities[j0 : j0 + chunk]
            central = nc == 0
            draws = np.empty((size, w.size))
            draws[:, central] = rng.chisquare(h[central], size=(size, int(central.sum())))
            draws[:, ~central] = rng.noncentral_chisquare(h[~central], nc[~central], size=(size, int((~central).sum())))
            out += draws @ w
        return out
