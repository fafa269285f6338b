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
        ``noncentralities`` neither scalars nor of the length of ``weights``, or ``max_terms < 1``.
    TypeError
        If ``max_terms`` is not an integer.

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
        weights = _real("weights", on_host("weights", weights)[0]).ravel()
        try:
            dofs = np.broadcast_to(_real("dofs", dofs), weights.shape)
            noncentralities = np.broadcast_to(_real("noncentralities", noncentralities), weights.shape)
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
        self.max_terms = _validation.integer("max_terms", max_terms, 1)

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
            terms, else the saddlepoint. ``method`` and ``error`` describe the least exact of the two
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
        values = _real("x", _points_on_host(x))
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
        scale, unit_weights = self._scaled()
        log_cdf, log_sf, error, used = _native.gchi2_evaluate(
            unit_weights,
            self.dofs,
            self.noncentralities,
            0.0,
            _scaled_points(flat - self.offset, scale),
            _METHODS[method],
            self.max_terms,
            _backend.get_num_threads(),
        )
        if method == "auto" and np.any(np.isnan(log_cdf) | np.isnan(log_sf)):
            bad = float(flat[np.isnan(log_cdf) | np.isnan(log_sf)][0])
            raise ValueError(f"x: no method reached a trustworthy value at x = {bad:g} (please report it)")
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
        otherwise by the inversion of the moment generating function through the saddlepoint. At
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
        values = _real("x", _points_on_host(x))
        if np.any(np.isnan(values)):
            raise ValueError("x: contains NaN")
        flat = np.ascontiguousarray(values.ravel())
        if self.weights.size == 0:
            raise ValueError("logpdf: the constant offset has no density")
        scale, unit_weights = self._scaled()
        log_pdf, _ = _native.gchi2_log_pdf(
            unit_weights,
            self.dofs,
            self.noncentralities,
            0.0,
            _scaled_points(flat - self.offset, scale),
            _backend.get_num_threads(),
        )
        if np.any(np.isnan(log_pdf)):
            raise ValueError("x: the density's inversion could not reach 1e-6 within its budget at some x")
        return self._result(x, log_pdf.reshape(values.shape) - math.log(scale))

    def _scaled(self) -> tuple[float, np.ndarray]:
        """(s, weights / s) with s the power of 2 nearest the largest weight: the native code works on
        weights near 1 (no underflow of their squares or of K(s) for weights ~1e-300), and the
        division by a power of 2 is exact."""
        if self.weights.size == 0:
            return 1.0, self.weights
        scale = 2.0 ** round(math.log2(float(self.weights.max())))
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
        return _quantile.solve(
            log_targets,
            upper,
            lambda x: self.evaluate(x).log_cdf,
            lambda x: self.evaluate(x).log_sf,
            self.logpdf,
            self.offset,
            self.mean() - self.offset,
        )

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
        return scale * math.sqrt(float(2.0 * np.sum(unit_weights**2 * (self.dofs + 2.0 * self.noncentralities))))

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

        Examples
        --------
        >>> import inductive_bias as ib
        >>> g = ib.GeneralizedChi2([1.0, 2.0], dofs=[1, 3], noncentralities=[0.5, 0.0], offset=0.1)
        >>> g.cumulant(1), g.cumulant(3)
        (7.6, 212.0)
        """
        n = _validation.integer("n", n, 1)
        value = (
            2 ** (n - 1)
            * math.factorial(n - 1)
            * float(np.sum(self.weights**n * (self.dofs + n * self.noncentralities)))
        )
        return value + (self.offset if n == 1 else 0.0)

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


def _real(name: str, values) -> np.ndarray:
    """``values`` as float64, refusing complex input (whose imaginary part would be dropped)."""
    if np.iscomplexobj(values):
        raise TypeError(f"{name}: expected real numbers, got complex")
    return np.asarray(values, dtype=np.float64)


def _scaled_points(y: np.ndarray, scale: float) -> np.ndarray:
    """y / scale; points beyond the largest double become inf (P(Q > x) there rounds to 0 anyway)."""
    with np.errstate(over="ignore"):
        return np.ascontiguousarray(y / scale)
