"""The generalized chi-squared distribution with positive weights, in log space.

``Q = offset + sum_j w_j chi2_{h_j}(nc_j)``: the exact test-MSE distribution of a Gaussian
hypothesis space (docs/methods.md, 1.1). With ``method="auto"``, ``logcdf`` uses Ruben's series (a
mixture of central chi-squares with non-negative coefficients: relative accuracy in the lower tail)
where it converges within ``min(max_terms, 64)`` terms (deep lower tails, narrow spectra), and
otherwise the inversion of the moment generating function on a vertical line near the saddlepoint:
the trapezoid rule with its step from an a-priori bound on its aliasing error (Poisson summation
and Chernoff bounds), the slowly decaying rest of few degrees of freedom by the Abel-Plana formula.
Small upper tails (below 1e-3) come from Ruben's series of upper incomplete gammas where it
converges (no cancellation), else from the inversion. Where the inversion cannot reach its
tolerance, a Ruben series of up to 8192 terms, and last the Lugannani-Rice saddlepoint
approximation. ``method=`` forces one, and :meth:`GeneralizedChi2.evaluate` reports which one ran
and its error estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _backend, _quantile, _validation
from ._arrays import Array, host_restorer, on_host
from ._backend import _native

__all__ = ["GeneralizedChi2", "Gchi2Evaluation"]

_METHODS = {"auto": 0, "ruben": 1, "saddlepoint": 2, "inversion": 3}
_METHOD_NAMES = np.array(["none", "ruben", "saddlepoint", "inversion"])
_LOG_MAX = math.log(np.finfo(np.float64).max)


@dataclass
class Gchi2Evaluation:
    """Both tails of a generalized chi-squared at each point, with the method used and its error.

    Returned by :meth:`GeneralizedChi2.evaluate`; every field has the shape of the ``x`` evaluated
    (0-d arrays for a scalar ``x``).

    Parameters
    ----------
    log_cdf, log_sf, error, method : numpy.ndarray
        The fields described under Attributes.

    Attributes
    ----------
    log_cdf : numpy.ndarray of float64
        ``log P(Q <= x)`` (natural log; ``-inf`` at and below the offset).
    log_sf : numpy.ndarray of float64
        ``log P(Q > x)``.
    error : numpy.ndarray of float64
        Estimate of the absolute error of the log probability. Ruben: a bound on the truncated
        terms relative to the sum, plus its rounding (1e-12 (1 + ``|log P|``) plus 4 ulps per term);
        inversion: the bound on the aliasing error of its step, the bounded (or Abel-Plana-summed)
        rest of its nodes, and rounding; saddlepoint: ``|Lugannani-Rice - r*|`` in
        the log of the smaller tail. 0 where the answer is exact (at or below the offset).
    method : numpy.ndarray of str
        ``"ruben"``, ``"inversion"`` or ``"saddlepoint"`` per point, ``"none"`` where no method was
        needed (at or below the offset, at infinity, or a distribution with no terms).

    Examples
    --------
    >>> import inductive_bias as ib
    >>> e = ib.GeneralizedChi2([1.0], 2).evaluate([2.0, 6.0])
    >>> e.log_sf.round(6).tolist(), e.method.tolist()
    ([-1.0, -3.0], ['ruben', 'ruben'])
    >>> bool((e.error < 1e-9).all())
    True
    """

    log_cdf: np.ndarray
    log_sf: np.ndarray
    error: np.ndarray
    method: np.ndarray


class GeneralizedChi2:
    """The generalized chi-squared ``offset + sum_j weights[j] * chi2(dofs[j], noncentralities[j])``.

    Each term is a non-central chi-squared variable with ``dofs[j]`` degrees of freedom and
    non-centrality ``noncentralities[j]``, scaled by a positive weight; the terms are independent.
    Terms with equal weights are merged (their dofs and noncentralities add). With no terms the
    distribution is the constant ``offset``. Probabilities are computed as their logarithms, so
    tails far below the smallest double (``log P = -1e5``) are returned as finite numbers.

    Parameters
    ----------
    weights : array_like of float, shape [n_terms]
        Positive, finite weights (flattened). May be empty: the constant ``offset``.
    dofs : float or array_like of float, shape [n_terms]
        Degrees of freedom of each term, positive and finite (need not be whole numbers); a scalar
        applies to every term.
    noncentralities : float or array_like of float, shape [n_terms]
        Non-centrality of each term, ``>= 0`` and finite; a scalar applies to every term.
    offset : float
        A constant added to the sum: the lower end of the support.
    max_terms : int
        The most terms of Ruben's series summed per point (``>= 1``); ``method="auto"`` uses at most
        ``min(max_terms, 64)`` before it turns to the inversion.

    Attributes
    ----------
    weights : numpy.ndarray of float64, shape [n_unique]
        The distinct weights, ascending.
    dofs : numpy.ndarray of float64, shape [n_unique]
        Degrees of freedom per distinct weight (summed over merged terms).
    noncentralities : numpy.ndarray of float64, shape [n_unique]
        Non-centrality per distinct weight (summed over merged terms).
    offset : float
        The constant shift.
    max_terms : int
        The budget of Ruben's series.

    Raises
    ------
    ValueError
        If ``weights`` are not positive and finite, ``dofs`` not positive and finite,
        ``noncentralities`` negative or not finite, ``offset`` not finite, ``dofs`` or
        ``noncentralities`` neither scalars nor of the length of ``weights``, ``max_terms`` outside
        ``[1, 2^63)``, or the mean beyond the double range (1.8e308).
    TypeError
        If ``weights``, ``dofs`` or ``noncentralities`` are not real numbers (bool, str, None are
        refused), or ``max_terms`` is not an integer.

    Examples
    --------
    With one term of weight 1 and 2 degrees of freedom, ``Q`` is exponential with mean 2:

    >>> import inductive_bias as ib
    >>> g = ib.GeneralizedChi2([1.0], dofs=2)
    >>> round(g.cdf(2.0), 6)  # 1 - exp(-1)
    0.632121
    >>> g.mean(), g.var()
    (2.0, 4.0)

    Terms with equal weights merge:

    >>> h = ib.GeneralizedChi2([0.5, 2.0, 0.5], dofs=1, noncentralities=[1.0, 0.0, 0.5], offset=0.1)
    >>> h.weights.tolist(), h.dofs.tolist(), h.noncentralities.tolist()
    ([0.5, 2.0], [2.0, 1.0], [1.5, 0.0])
    """

    def __init__(
        self,
        weights: Array,
        dofs: int | Array = 1,
        noncentralities: float | Array = 0,
        offset: float = 0.0,
        max_terms: int = 5000,
    ):
        weights = _validation.real("weights", on_host("weights", weights)[0]).ravel()
        try:
            dofs = np.broadcast_to(_validation.real("dofs", dofs), weights.shape)
            noncentralities = np.broadcast_to(_validation.real("noncentralities", noncentralities), weights.shape)
        except ValueError:
            raise ValueError(f"dofs, noncentralities: must be scalars or have {weights.size} entries") from None
        if not np.all(np.isfinite(weights)) or np.any(weights <= 0):
            raise ValueError("weights: must be positive and finite")
        if not np.all(np.isfinite(dofs)) or np.any(dofs <= 0):
            raise ValueError("dofs: must be positive and finite")
        if not np.all(np.isfinite(noncentralities)) or np.any(noncentralities < 0):
            raise ValueError("noncentralities: must be >= 0 and finite")
        offset = _validation.number("offset", offset, -math.inf)
        unique, inverse = np.unique(weights, return_inverse=True)
        self.weights = unique
        self.dofs = np.bincount(inverse, weights=dofs, minlength=unique.size)
        self.noncentralities = np.bincount(inverse, weights=noncentralities, minlength=unique.size)
        self.offset = offset
        # The native series takes a signed 64-bit count (pybind11 would refuse a larger one by its
        # signature, far from the argument's name).
        self.max_terms = _validation.integer("max_terms", max_terms, 1, 2**63)
        if not (np.all(np.isfinite(self.dofs)) and np.all(np.isfinite(self.noncentralities))):
            raise ValueError("dofs, noncentralities: the sums over terms of equal weight exceed the double range")
        # The leading lower-tail term's relative error per unit of x - offset (see _near_zero).
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            rates = 0.5 * self.noncentralities / (self.dofs * self.weights)
            self._near_rate = max(0.5 / float(self.weights[0]), float(rates.max())) if self.weights.size else math.inf
        # Every method locates the bulk by the mean (the quantiles start there): it must be a double.
        scale, unit_weights = self._scaled()
        with np.errstate(over="ignore"):
            mean = scale * float(np.sum(unit_weights * self.dofs) + np.sum(unit_weights * self.noncentralities))
        if not math.isfinite(mean + offset):
            raise ValueError(
                "weights: the mean, offset + sum weights * (dofs + noncentralities), exceeds the double range "
                "(1.8e308); rescale the weights"
            )

    def __repr__(self) -> str:
        return f"GeneralizedChi2({self.weights.size} terms, mean={self.mean():.6g}, offset={self.offset:.6g})"

    def evaluate(self, x: float | Array, method: str = "auto") -> Gchi2Evaluation:
        """Evaluate both tails at ``x`` in log space, with the method used and its error estimate.

        Parameters
        ----------
        x : float or array
            Points, any shape. Points at or below ``offset`` give ``log_cdf = -inf``. GPU arrays
            (CuPy, PyTorch, JAX) are copied to the host, where the work runs.
        method : {"auto", "ruben", "saddlepoint", "inversion"}
            ``"auto"``: Ruben's series where it converges within ``min(max_terms, 64)`` terms
            (upper tails below 1e-3 from its series of upper incomplete gammas, else the inversion),
            else the inversion of the moment generating function, else Ruben's series up to 8192
            terms, else the saddlepoint; near the offset (``x - offset`` small against the smallest
            weight, subnormal ``x`` included) the series' leading term ``C (x - offset)^(m/2)`` in
            logs, where its bounded error is below 1e-13 (1 + ``|log P|``) (method ``"ruben"``, also
            for ``method="ruben"``). ``method`` and ``error`` describe the least exact of the two
            tails. ``"ruben"``: the series only, up to ``max_terms`` terms (a small upper tail it
            cannot bound comes from the inversion). ``"inversion"``: the inversion only. ``"saddlepoint"``: the
            Lugannani-Rice approximation only (for comparison: its relative error in ``log P`` is
            ~1e-7 with many degrees of freedom, a few per cent with few).

        Returns
        -------
        Gchi2Evaluation
            ``log_cdf``, ``log_sf``, ``error`` and ``method``, each of the shape of ``x``.

        Raises
        ------
        TypeError
            If ``x`` is not a number or an array (or an array on an unsupported device).
        ValueError
            If ``method`` is not one of the names above, ``x`` contains NaN, or a forced method
            cannot answer at some ``x`` (``"ruben"`` not converging within ``max_terms`` terms,
            ``"inversion"`` not reaching 1e-6 within its budget).

        Examples
        --------
        >>> import inductive_bias as ib
        >>> g = ib.GeneralizedChi2([0.5, 1.0, 2.0], dofs=1, noncentralities=[0.0, 1.0, 0.5])
        >>> e = g.evaluate([1e-3, 1.0])
        >>> e.log_cdf.round(4).tolist(), e.method.tolist()
        ([-12.4363, -2.2866], ['ruben', 'ruben'])
        >>> bool(abs(g.logcdf(1.0, method="saddlepoint") - e.log_cdf[1]) < 0.05)
        True
        """
        if method not in _METHODS:
            raise ValueError(f"method: expected one of {tuple(_METHODS)}, got {method!r}")
        values = _validation.real("x", _points_on_host(x))
        if np.any(np.isnan(values)):
            raise ValueError("x: contains NaN")
        flat = np.ascontiguousarray(values.ravel())
        if self.weights.size == 0:  # the constant offset
            above = flat >= self.offset
            return Gchi2Evaluation(
                np.where(above, 0.0, -np.inf).reshape(values.shape),
                np.where(above, -np.inf, 0.0).reshape(values.shape),
                np.zeros(values.shape),
                np.full(values.shape, "none"),
            )
        y = flat - self.offset
        if method in ("auto", "ruben"):  # the series' leading term near the offset
            near, near_cdf, _, near_error = self._near_zero(y)
        else:
            near, near_cdf, near_error = np.zeros(y.size, dtype=bool), np.empty(0), np.empty(0)
        scale, unit_weights = self._scaled()
        any_near = bool(near.any())
        native = ~near if any_near else slice(None)  # (the common case: every point native, no copies)
        results = _native.gchi2_evaluate(
            unit_weights,
            self.dofs,
            self.noncentralities,
            0.0,
            _scaled_points(y[native], scale),
            _METHODS[method],
            self.max_terms,
            _backend.get_num_threads(),
        )
        log_cdf, log_sf, error, used = results
        if any_near:
            log_cdf, log_sf, error, used = (np.empty(y.size, np.asarray(r).dtype) for r in results)
            log_cdf[native], log_sf[native], error[native], used[native] = results
            log_cdf[near] = near_cdf
            with np.errstate(divide="ignore"):
                log_sf[near] = np.log(-np.expm1(near_cdf))  # log(1 - P), P tiny there
            error[near] = near_error
            used[near] = _METHODS["ruben"]
        if method == "auto" and np.any(np.isnan(log_cdf) | np.isnan(log_sf)):
            bad = float(flat[np.isnan(log_cdf) | np.isnan(log_sf)][0])
            raise ValueError(
                f"x: no method reached a trustworthy value at x = {bad:g} for this distribution (weights from "
                f"{self.weights[0]:g} to {self.weights[-1]:g}, {self.dofs.sum():g} degrees of freedom in all)"
            )
        if method == "ruben" and np.any(np.isnan(log_cdf)):
            raise ValueError(
                f"method: Ruben's series did not converge within max_terms={self.max_terms} terms at "
                f"some x; raise max_terms or use method='auto'"
            )
        if method == "inversion" and np.any(np.isnan(log_cdf)):
            raise ValueError(
                "method: the inversion could not reach 1e-6 within its budget at some x (few degrees "
                "of freedom decay slowly); use method='auto'"
            )
        shape = values.shape
        return Gchi2Evaluation(
            log_cdf.reshape(shape), log_sf.reshape(shape), error.reshape(shape), _METHOD_NAMES[used].reshape(shape)
        )

    def _result(self, x, values):
        """A float for a scalar ``x``, else ``values`` in ``x``'s array type and device."""
        if np.ndim(x) == 0:
            return float(values)
        return values if isinstance(x, (np.ndarray, list, tuple)) else host_restorer("x", x)(values)

    def logcdf(self, x: float | Array, method: str = "auto") -> float | np.ndarray:
        """Natural log of the cumulative distribution function, ``log P(Q <= x)``.

        Accurate relative to the probability deep in the lower tail, where ``cdf`` underflows to 0.

        Parameters
        ----------
        x : float or array
            Points, any shape: NumPy arrays, lists, or GPU arrays (CuPy, PyTorch, JAX), which are
            copied to the host, where the work runs.
        method : {"auto", "ruben", "saddlepoint", "inversion"}
            As in :meth:`evaluate`.

        Returns
        -------
        float or array
            A float for a scalar ``x``, else an array of the shape of ``x``, of its array type and
            device (NumPy for a list); ``-inf`` at and below ``offset``.

        Raises
        ------
        TypeError
            If ``x`` is not a number or an array.
        ValueError
            As :meth:`evaluate`: an unknown ``method``, NaN in ``x``, or a forced method that
            cannot answer.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> g = ib.GeneralizedChi2([1.0], dofs=2)  # exponential with mean 2
        >>> round(g.logcdf(2.0), 6)  # log(1 - exp(-1))
        -0.458675
        >>> round(ib.GeneralizedChi2([1.0, 2.0], dofs=[2, 4]).logcdf(1e-6), 3)  # P ~ 5e-21
        -46.704
        """
        return self._result(x, self.evaluate(x, method).log_cdf)

    def logsf(self, x: float | Array, method: str = "auto") -> float | np.ndarray:
        """Natural log of the survival function, ``log P(Q > x)``.

        Parameters
        ----------
        x : float or array
            Points, any shape: NumPy arrays, lists, or GPU arrays (CuPy, PyTorch, JAX), which are
            copied to the host, where the work runs.
        method : {"auto", "ruben", "saddlepoint", "inversion"}
            As in :meth:`evaluate`.

        Returns
        -------
        float or array
            A float for a scalar ``x``, else an array of the shape of ``x``, of its array type and
            device (NumPy for a list); 0 at and below ``offset``.

        Raises
        ------
        TypeError
            If ``x`` is not a number or an array.
        ValueError
            As :meth:`evaluate`: an unknown ``method``, NaN in ``x``, or a forced method that
            cannot answer.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> round(ib.GeneralizedChi2([1.0], dofs=2).logsf(10.0), 6)  # -10 / 2
        -5.0
        """
        return self._result(x, self.evaluate(x, method).log_sf)

    def cdf(self, x: float | Array, method: str = "auto") -> float | np.ndarray:
        """Cumulative distribution function, ``P(Q <= x)``: ``exp`` of :meth:`logcdf`.

        Parameters
        ----------
        x : float or array
            Points, any shape: NumPy arrays, lists, or GPU arrays (CuPy, PyTorch, JAX), which are
            copied to the host, where the work runs.
        method : {"auto", "ruben", "saddlepoint", "inversion"}
            As in :meth:`evaluate`.

        Returns
        -------
        float or array
            A float for a scalar ``x``, else an array of the shape of ``x``, of its array type and
            device (NumPy for a list).

        Raises
        ------
        TypeError
            If ``x`` is not a number or an array.
        ValueError
            As :meth:`evaluate`: an unknown ``method``, NaN in ``x``, or a forced method that
            cannot answer.

        Examples
        --------
        >>> import numpy as np, inductive_bias as ib
        >>> g = ib.GeneralizedChi2([1.0], dofs=2, offset=1.0)
        >>> np.round(g.cdf([0.5, 1.0, 3.0]), 6).tolist()  # 0 up to the offset
        [0.0, 0.0, 0.632121]
        """
        return self._result(x, np.exp(self.evaluate(x, method).log_cdf))

    def sf(self, x: float | Array, method: str = "auto") -> float | np.ndarray:
        """Survival function, ``P(Q > x)``: ``exp`` of :meth:`logsf`.

        Parameters
        ----------
        x : float or array
            Points, any shape: NumPy arrays, lists, or GPU arrays (CuPy, PyTorch, JAX), which are
            copied to the host, where the work runs.
        method : {"auto", "ruben", "saddlepoint", "inversion"}
            As in :meth:`evaluate`.

        Returns
        -------
        float or array
            A float for a scalar ``x``, else an array of the shape of ``x``, of its array type and
            device (NumPy for a list).

        Raises
        ------
        TypeError
            If ``x`` is not a number or an array.
        ValueError
            As :meth:`evaluate`: an unknown ``method``, NaN in ``x``, or a forced method that
            cannot answer.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> round(ib.GeneralizedChi2([1.0], dofs=2).sf(2.0), 6)  # exp(-1)
        0.367879
        """
        return self._result(x, np.exp(self.evaluate(x, method).log_sf))

    def logpdf(self, x: float | Array) -> float | np.ndarray:
        """Natural log of the probability density at ``x``.

        Computed by Ruben's mixture of chi-squared densities where it converges within 512 terms,
        otherwise by the inversion of the moment generating function through the saddlepoint; near
        the offset (``x - offset`` small against the smallest weight, subnormal ``x`` included) by
        the leading term ``C (x - offset)^(m/2 - 1)`` of the lower tail, and far in the upper tail by
        its asymptote ``-(x - offset) / (2 w_max)`` (as :meth:`logsf`), each where its bounded error
        is negligible. Where the integral fails (weights over many decades), from two tails:
        ``(F_Q' - F_Q) / (2 w_k)``, ``Q'`` with two degrees of freedom fewer on the largest term
        that has more than 2 (or exactly 2 and no non-centrality). At
        the offset the log density is ``+inf``, finite or ``-inf`` for total degrees of freedom
        below 2, equal to 2 or above 2; below the offset it is ``-inf``.

        Parameters
        ----------
        x : float or array
            Points, any shape: NumPy arrays, lists, or GPU arrays (CuPy, PyTorch, JAX), which are
            copied to the host, where the work runs.

        Returns
        -------
        float or array
            A float for a scalar ``x``, else an array of the shape of ``x``, of its array type and
            device (NumPy for a list).

        Raises
        ------
        TypeError
            If ``x`` is not a number or an array.
        ValueError
            If ``x`` contains NaN, the distribution has no terms (the constant ``offset`` has no
            density), or the inversion cannot reach 1e-6 within its budget at some ``x``.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> round(ib.GeneralizedChi2([1.0], dofs=2).logpdf(1.0), 6)  # log(1/2) - 1/2
        -1.193147
        """
        values = _validation.real("x", _points_on_host(x))
        if np.any(np.isnan(values)):
            raise ValueError("x: contains NaN")
        flat = np.ascontiguousarray(values.ravel())
        if self.weights.size == 0:
            raise ValueError("logpdf: the constant offset has no density")
        y = flat - self.offset
        near, _, near_pdf, _ = self._near_zero(y)
        far, far_pdf = self._far_upper_density(y)
        scale, unit_weights = self._scaled()
        if not (near.any() or far.any()):  # the common case: every point native, no copies
            log_pdf, _ = _native.gchi2_log_pdf(
                unit_weights, self.dofs, self.noncentralities, 0.0, _scaled_points(y, scale), _backend.get_num_threads()
            )
            log_pdf -= math.log(scale)
        else:
            native = ~(near | far)  # (disjoint: x / w_min below 1e-6, x / w_max beyond 2e3)
            log_pdf = np.empty(y.size)
            log_pdf[native], _ = _native.gchi2_log_pdf(
                unit_weights,
                self.dofs,
                self.noncentralities,
                0.0,
                _scaled_points(y[native], scale),
                _backend.get_num_threads(),
            )
            log_pdf[native] -= math.log(scale)
            log_pdf[near] = near_pdf
            log_pdf[far] = far_pdf
        failed = np.isnan(log_pdf)
        if failed.any():
            log_pdf[failed] = self._density_by_tails(y[failed])
        if np.any(np.isnan(log_pdf)):
            raise ValueError("x: the density's inversion could not reach 1e-6 within its budget at some x")
        return self._result(x, log_pdf.reshape(values.shape))

    def _density_by_tails(self, y: np.ndarray) -> np.ndarray:
        """log density at ``y`` (> 0, relative to the offset) from two tails, where the density's own
        integral failed (weights over many decades: its integrand decays like t^-2 over 10 decades).
        For a term k of h_k > 2 degrees of freedom (or 2 and central), ``f_{h,nc} = (F_{h-2,nc} -
        F_{h,nc}) / 2`` in its own units (the Poisson mixture of central chi-squares, term by term)
        gives, convolved with the other terms, ``f_Q(y) = (F_Q'(y) - F_Q(y)) / (2 w_k) = (S_Q(y) -
        S_Q'(y)) / (2 w_k)`` with Q' the same sum with h_k - 2 (k dropped at 0): exact, in logs from the
        smaller tail, where the tails' inversion (which sums the slow decay by the Abel-Plana formula)
        answers. The largest such weight (the widest gap between the two tails); NaN where the
        tails' errors, amplified by the cancellation, could exceed 1e-6 relative."""
        out = np.full(y.size, np.nan)
        usable = (self.dofs > 2.0) | ((self.dofs == 2.0) & (self.noncentralities == 0.0))
        if not usable.any():
            return out
        k = int(np.flatnonzero(usable)[-1])  # weights ascend: the largest usable
        dofs = self.dofs.copy()
        dofs[k] -= 2.0
        keep = dofs > 0.0
        points = y + self.offset
        mine = self.evaluate(points)
        if keep.any():
            other = GeneralizedChi2(
                self.weights[keep], dofs[keep], self.noncentralities[keep], self.offset, self.max_terms
            ).evaluate(points)
            other_cdf, other_sf, other_error = other.log_cdf, other.log_sf, other.error
        else:  # the constant offset: P(Q' <= y) = 1 for y > 0
            other_cdf, other_sf, other_error = np.zeros(y.size), np.full(y.size, -np.inf), np.zeros(y.size)
        lower = mine.log_cdf < math.log(0.5)
        big = np.where(lower, other_cdf, mine.log_sf)  # the larger of the pair, then the smaller
        small = np.where(lower, mine.log_cdf, other_sf)
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = small - big  # < 0
            log_difference = big + np.log(-np.expm1(gap))
            amplification = 1.0 / -np.expm1(gap)
        # (S e_S + S' e_S') / (S - S'), e the absolute errors of the logs: the smaller one's weighs e^gap.
        big_error, small_error = np.where(lower, other_error, mine.error), np.where(lower, mine.error, other_error)
        error = (big_error + np.exp(gap) * small_error) * amplification
        good = np.isfinite(log_difference) & (error <= 1e-6)
        out[good] = log_difference[good] - math.log(2.0 * float(self.weights[k]))
        return out

    def _near_zero(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(near, log P(Q - offset <= y), log density, error) from the leading term of the lower tail,
        ``P = C y^(m/2)`` with ``m`` the total degrees of freedom and
        ``log C = sum_j (-nc_j / 2 - h_j / 2 log(2 w_j)) - log Gamma(m/2 + 1)``, at the ``y`` (mask
        ``near``) where it is exact to 1e-13 (1 + |log P|), as Ruben's series' rounding: relative to
        ``C y^(m/2 - 1) m/2``, the density lies between ``exp(-y / (2 w_min))`` (the central terms'
        ``exp(-y_j / (2 w_j))``) and ``exp(y max_j nc_j / (2 h_j w_j))`` (the non-central factor
        ``0F1(; h/2; nc y_j / (4 w_j))``), and so does P: ``y`` times that rate bounds the error of
        log P and log f. Computed in logs from ``y`` itself: no scaling, so subnormal ``y`` (5e-324)
        work; it also replaces the saddlepoint where the series and the inversion fail nearby (large
        non-centralities)."""
        none = np.zeros(y.size, dtype=bool), np.empty(0), np.empty(0), np.empty(0)
        rate = self._near_rate
        candidates = (y > 0.0) & (y <= 1e-6 / rate)  # (no product y * rate: it could overflow)
        if not candidates.any():
            return none
        bound = y[candidates] * rate
        half = 0.5 * float(self.dofs.sum())
        log_c = float(np.sum(-0.5 * self.noncentralities - 0.5 * self.dofs * (math.log(2.0) + np.log(self.weights))))
        log_y = np.log(y[candidates])
        log_cdf = log_c + half * log_y - math.lgamma(half + 1.0)
        log_pdf = log_c + (half - 1.0) * log_y - math.lgamma(half)
        if not (np.all(np.isfinite(log_cdf)) and np.all(np.isfinite(log_pdf))):  # beyond the double range: natively
            return none
        # The bound, plus the rounding of a sum of terms up to |log C| + |m/2 log y| in size.
        eps = np.finfo(np.float64).eps
        error = bound + 8.0 * eps * (abs(log_c) + half * np.abs(log_y) + abs(math.lgamma(half + 1.0)))
        good = bound <= 1e-13 * (1.0 + np.minimum(np.abs(log_cdf), np.abs(log_pdf)))
        near = np.zeros(y.size, dtype=bool)
        near[np.flatnonzero(candidates)[good]] = True
        return near, log_cdf[good], log_pdf[good], error[good]

    def _far_upper_density(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(far, log density) where the far upper tail's asymptote holds to 1e-12 of log f (as the
        tails' asymptote, ``gchi2_far_upper``, for log P(Q > y)): the density falls like
        ``e^(-y / (2 w_max))`` times terms of order log y, sqrt(nc y / w_max), and f = -dS/dy gives
        ``log f = log S - log(2 w_max) + O(w_max / y)``. Where K and the inversion's line leave double
        range (y = 1e300) the density follows the same asymptote as the survival function."""
        w_max = float(self.weights[-1])
        far = y > 2e3 * w_max  # scaled > 1e3: necessary for the bound below to be below 1e-12 scaled
        if not far.any():
            return far, np.empty(0)
        dof, nc = float(self.dofs.sum()), float(self.noncentralities.sum())
        rest = float(np.sum(0.5 * self.dofs[:-1] * -np.log1p(-self.weights[:-1] / w_max)))
        with np.errstate(over="ignore"):  # y / (2 w_max) beyond 1.8e308: inf, refused below
            scaled = y[far] / (2.0 * w_max)
        bound = (
            (0.5 * dof + 1.0) * np.abs(np.log(scaled))
            + rest
            + 2.0 * math.sqrt(nc) * np.sqrt(scaled)
            + nc
            + abs(math.lgamma(0.5 * dof + 1.0))
        )
        good = np.isfinite(scaled) & (bound <= 1e-12 * scaled)
        far[np.flatnonzero(far)[~good]] = False
        return far, -scaled[good] - math.log(2.0 * w_max)

    def _scaled(self) -> tuple[float, np.ndarray]:
        """(s, weights / s) with s the power of 2 nearest the largest weight: the native code works on
        weights near 1 (no underflow of their squares or of K(s) for weights ~1e-300), and the
        division by a power of 2 is exact."""
        if self.weights.size == 0:
            return 1.0, self.weights
        scale = math.ldexp(1.0, min(round(math.log2(float(self.weights.max()))), 1023))  # 2^1024 overflows
        return scale, self.weights / scale

    def pdf(self, x: float | Array) -> float | np.ndarray:
        """Probability density at ``x``: ``exp`` of :meth:`logpdf`.

        Parameters
        ----------
        x : float or array
            Points, any shape: NumPy arrays, lists, or GPU arrays (CuPy, PyTorch, JAX), which are
            copied to the host, where the work runs.

        Returns
        -------
        float or array
            A float for a scalar ``x``, else an array of the shape of ``x``, of its array type and
            device (NumPy for a list).

        Raises
        ------
        TypeError
            If ``x`` is not a number or an array.
        ValueError
            As :meth:`logpdf`: NaN in ``x``, a distribution with no terms, or an inversion that
            cannot reach its tolerance.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> round(ib.GeneralizedChi2([1.0], dofs=2).pdf(0.0), 6)  # the exponential's 1 / mean
        0.5
        """
        return self._result(x, np.exp(self.logpdf(x)))

    def ppf(self, q: float | Array | None = None, *, log_q: float | Array | None = None) -> float | np.ndarray:
        """Quantile of the lower tail: the ``x`` with ``P(Q <= x) = q``, or ``log P(Q <= x) = log_q``.

        Solved by Newton's method in ``log(x - offset)``, safeguarded by a bracket, to about 1e-12
        of the log probability. Any depth works with ``log_q`` (``-1e6`` is fine where the lower
        tail reaches it in double precision: otherwise the answer is ``offset`` to rounding).

        Parameters
        ----------
        q : float or array_like of float, optional
            Probabilities in ``[0, 1]``.
        log_q : float or array_like of float, optional
            Natural logs of probabilities, ``<= 0`` (keyword only). Give exactly one of ``q`` and
            ``log_q``.

        Returns
        -------
        float or numpy.ndarray
            A float for a scalar argument, else an array of its shape. ``q = 0`` gives ``offset``,
            ``q = 1`` gives ``inf``.

        Raises
        ------
        TypeError
            If neither or both of ``q`` and ``log_q`` are given.
        ValueError
            If ``q`` is outside ``[0, 1]`` or NaN, or ``log_q`` is positive or NaN.

        Examples
        --------
        >>> import math, inductive_bias as ib
        >>> g = ib.GeneralizedChi2([1.0], dofs=2)  # exponential with mean 2
        >>> round(g.ppf(0.5), 6)  # the median, 2 log 2
        1.386294
        >>> x = g.ppf(log_q=-30.0)
        >>> round(g.logcdf(x), 6)
        -30.0
        """
        return self._quantile(q, log_q, upper=False)

    def isf(self, q: float | Array | None = None, *, log_q: float | Array | None = None) -> float | np.ndarray:
        """Quantile of the upper tail: the ``x`` with ``P(Q > x) = q``, or ``log P(Q > x) = log_q``.

        Solved by Newton's method in ``x``, safeguarded by a bracket. With :meth:`ppf` it answers
        "which error is reachable with a given number of bits": ``ppf(log_q=-bits * log(2))``.

        Parameters
        ----------
        q : float or array_like of float, optional
            Probabilities in ``[0, 1]``.
        log_q : float or array_like of float, optional
            Natural logs of probabilities, ``<= 0`` (keyword only). Give exactly one of ``q`` and
            ``log_q``.

        Returns
        -------
        float or numpy.ndarray
            A float for a scalar argument, else an array of its shape. ``q = 1`` gives ``offset``,
            ``q = 0`` gives ``inf``.

        Raises
        ------
        TypeError
            If neither or both of ``q`` and ``log_q`` are given.
        ValueError
            If ``q`` is outside ``[0, 1]`` or NaN, or ``log_q`` is positive or NaN.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> g = ib.GeneralizedChi2([1.0], dofs=2)  # P(Q > x) = exp(-x / 2)
        >>> round(g.isf(log_q=-3.0), 6)
        6.0
        """
        return self._quantile(q, log_q, upper=True)

    def _quantile(self, q, log_q, upper: bool):
        log_targets = _quantile.targets(q, log_q)
        if self.weights.size == 0:  # the constant: every quantile is the offset
            return self._result(log_targets, np.full(np.shape(log_targets), self.offset))
        at_mean = self._quantile_is_mean(np.asarray(log_targets, dtype=np.float64), upper)
        if at_mean is not None:
            return self._result(log_targets, np.full(np.shape(log_targets), self.mean()))
        return _quantile.solve(
            log_targets,
            upper,
            lambda x: self.evaluate(x).log_cdf,
            lambda x: self.evaluate(x).log_sf,
            self.logpdf,
            self.offset,
            self.mean() - self.offset,
        )

    def _quantile_is_mean(self, log_targets: np.ndarray, upper: bool) -> bool | None:
        """True (else None) when every quantile asked for is the mean to a few ulps: a spread far below
        the mean's resolution (dofs = 1e300 or noncentralities = 1e300: sd / mean ~ 1e-150, where the
        bracketed search would walk the log probability down to -1e270 ulp by ulp). Shown by Chernoff:
        at x = mean (1 -+ kappa), kappa a few ulps per term (the mean's own rounding),
        log P(Q <= x) and log P(Q > x) are at most min_c K(c) - c x, taken at the Gaussian c; both
        below the targets (and their complements) put every quantile inside."""
        log_var = float(self._log_cumulant(2))
        mean, var = self.mean() - self.offset, math.exp(log_var) if log_var < 709.0 else math.inf
        kappa = 4.0 * (self.weights.size + 2) * np.finfo(np.float64).eps
        if not (mean > 0.0 and math.sqrt(var) < kappa * mean):
            return None
        w, h, nc = self.weights, self.dofs, self.noncentralities

        def chernoff(x: float) -> float:  # min_c K(c) - c x near the Gaussian c, without cancellation
            c = (x - mean) / var
            if c > 0.0:
                c = min(c, 0.25 / float(w[-1]))  # inside the singularity 1 / (2 w_max)
            u = 2.0 * c * w
            small = np.abs(u) < 1e-3
            log_term = np.where(
                small, u**2 / 2 + u**3 / 3 + u**4 / 4 + u**5 / 5, -np.log1p(-np.where(small, 0.0, u)) - u
            )
            k_minus_mean = float(np.sum(0.5 * h * log_term) + np.sum(nc * c * w * u / (1.0 - u)))  # K(c) - c mean
            return k_minus_mean + c * (mean - x)

        below, above = chernoff(mean * (1.0 - kappa)), chernoff(mean * (1.0 + kappa))  # log P(Q <= .), log P(Q > .)
        with np.errstate(divide="ignore"):
            complement = np.log(-np.expm1(log_targets))
        own, other = (above, below) if upper else (below, above)
        slack = 1.0 - 1e-9  # the series of log1p above is exact to 3e-13 relative: a bound with room
        return True if bool(np.all((slack * own < log_targets) & (slack * other < complement))) else None

    def std(self) -> float:
        """Standard deviation, the square root of :meth:`var`.

        Returns
        -------
        float
            ``sqrt(var())``.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.GeneralizedChi2([1.0], dofs=2).std()
        2.0
        """
        scale, unit_weights = self._scaled()  # the square root before the scale: no underflow
        with np.errstate(over="ignore"):
            root = scale * math.sqrt(float(2.0 * np.sum(unit_weights**2 * (self.dofs + 2.0 * self.noncentralities))))
        return root if math.isfinite(root) else math.exp(0.5 * self._log_cumulant(2))

    def cumulant(self, n: int) -> float:
        """The ``n``-th cumulant, in closed form.

        ``2^(n-1) (n-1)! sum_j w_j^n (h_j + n nc_j)``, plus the offset for ``n = 1``, with weights
        ``w``, degrees of freedom ``h`` and non-centralities ``nc``.

        Parameters
        ----------
        n : int
            Order, ``>= 1`` (1: the mean, 2: the variance).

        Returns
        -------
        float
            The cumulant.

        Raises
        ------
        TypeError
            If ``n`` is not an integer.
        ValueError
            If ``n < 1``.
        OverflowError
            If the cumulant exceeds the double range (1.8e308; e.g. the variance of weights ~1e160):
            never returned as ``inf``.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> g = ib.GeneralizedChi2([1.0, 2.0], dofs=[1, 3], noncentralities=[0.5, 0.0], offset=0.1)
        >>> g.cumulant(1), g.cumulant(3)
        (7.6, 212.0)
        """
        n = _validation.integer("n", n, 1)
        log_value = self._log_cumulant(n)
        if log_value > _LOG_MAX:
            raise OverflowError(
                f"weights: the cumulant of order {n} is about e^{log_value:.6g}, beyond the double range (1.8e308); "
                f"rescale the weights (the cumulant of order n scales as the n-th power of the weights)"
            )
        value = math.exp(log_value)
        if n <= 20:  # the closed form directly (exact coefficients) where nothing over- or underflows
            with np.errstate(all="ignore"):
                terms = self.weights**n * (self.dofs + n * self.noncentralities)
                direct = 2 ** (n - 1) * math.factorial(n - 1) * float(np.sum(terms))
            if math.isfinite(direct) and direct > 0.0 and abs(direct / value - 1.0) < 1e-9:
                value = direct
        return value + (self.offset if n == 1 else 0.0)

    def _log_cumulant(self, n: int) -> float:
        """log of the n-th cumulant less the offset, summed in logs on the weights over their scale
        s (a power of 2): finite where the cumulant itself is not a double (w = 1e300: variance 2e600)."""
        if self.weights.size == 0:
            return -math.inf
        scale, unit_weights = self._scaled()
        with np.errstate(divide="ignore"):
            log_terms = n * np.log(unit_weights) + np.logaddexp(
                np.log(self.dofs), math.log(n) + np.log(self.noncentralities)
            )
        top = float(log_terms.max())
        log_sum = top + math.log(float(np.sum(np.exp(log_terms - top))))
        return (n - 1) * math.log(2.0) + math.lgamma(n) + n * math.log(scale) + log_sum

    def mean(self) -> float:
        """Mean, ``offset + sum_j w_j (h_j + nc_j)``.

        Returns
        -------
        float
            The first cumulant.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.GeneralizedChi2([1.0, 2.0], dofs=[1, 3], noncentralities=[0.5, 0.0], offset=0.1).mean()
        7.6
        """
        return self.cumulant(1)

    def var(self) -> float:
        """Variance, ``2 sum_j w_j^2 (h_j + 2 nc_j)``.

        Returns
        -------
        float
            The second cumulant.

        Raises
        ------
        OverflowError
            If the variance exceeds the double range (weights above ~1e154); :meth:`std` still works.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.GeneralizedChi2([1.0, 2.0], dofs=[1, 3], noncentralities=[0.5, 0.0], offset=0.1).var()
        28.0
        """
        return self.cumulant(2)

    def rvs(self, size: int, seed: int = 0, chunk: int = 4096) -> np.ndarray:
        """Random variates from ``numpy.random.default_rng(seed)``, summed term by term.

        Parameters
        ----------
        size : int
            Number of variates, ``>= 0``.
        seed : int, numpy.random.SeedSequence or numpy.random.Generator
            Seeds the generator (an int in ``[0, 2^64)``; a SeedSequence or Generator is first turned
            into such an int).
        chunk : int
            Terms drawn at a time: the work buffer holds ``size * chunk`` draws.

        Returns
        -------
        numpy.ndarray of float64, shape [size]
            The variates.

        Raises
        ------
        TypeError
            If ``size`` is not an integer, or ``seed`` is not one of the types above.
        ValueError
            If ``size`` is negative or an integer ``seed`` is outside ``[0, 2^64)``.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> g = ib.GeneralizedChi2([1.0, 2.0], dofs=[1, 3], offset=0.1)
        >>> x = g.rvs(2000, seed=0)
        >>> x.shape, bool(x.min() > 0.1), bool(abs(x.mean() - g.mean()) < 0.5)
        ((2000,), True, True)
        """
        size = _validation.integer("size", size)
        chunk = _validation.integer("chunk", chunk, 1)
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


def _points_on_host(x) -> np.ndarray:
    """``x`` as a NumPy array: NumPy arrays and Python or NumPy numbers directly (the array-type
    dispatch of ``on_host`` probes for CuPy, ~75 us per call where it is not installed: more than an
    evaluation of 100 terms), anything else through ``on_host``."""
    if isinstance(x, (np.ndarray, np.generic, float, int)):
        return np.asarray(x)
    return on_host("x", x)[0]


def _scaled_points(y: np.ndarray, scale: float) -> np.ndarray:
    """y / scale; points beyond the largest double become inf (P(Q > x) there rounds to 0 anyway)."""
    with np.errstate(over="ignore"):
        return np.ascontiguousarray(y / scale)
