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

from . import _arrays, _backend, _quantile, _validation, reliability
from ._arrays import Array, array_module, as_array
from ._backend import _native

__all__ = ["ScaledNCX2", "ScaledChi2", "Ncx2Fit", "moments_start"]

BOOTSTRAP_KEY_SALT = 0x9E3779B97F4A7C15  # bootstrap key = seed XOR this (2^64 / golden ratio)


class ScaledNCX2:
    """The scaled non-central chi-squared distribution ``scale * ncx2(df, nc)``, location 0.

    scipy.stats-like methods accept scalars or arrays (NumPy on the CPU, CuPy on the GPU, other
    DLPack producers through NumPy/CuPy) and return a float for a scalar, else the caller's array
    type. Log-space functions stay finite and accurate far in the tails, where scipy's
    ``ncx2.logcdf`` underflows to ``-inf``.

    Parameters
    ----------
    df : float
        Degrees of freedom, positive and finite.
    nc : float
        Non-centrality, ``>= 0`` and finite (0: the central chi-squared).
    scale : float
        Positive, finite scale.

    Attributes
    ----------
    df : float
        Degrees of freedom.
    nc : float
        Non-centrality.
    scale : float
        Scale.
    fixes_nc_zero : bool
        Whether :meth:`fit` keeps ``nc`` at 0 (``False`` here, ``True`` for :class:`ScaledChi2`).

    Raises
    ------
    TypeError
        If ``df``, ``nc`` or ``scale`` is not a real number.
    ValueError
        If ``df`` or ``scale`` is not positive and finite, or ``nc`` is negative or not finite.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> d = ib.ScaledNCX2(df=4, nc=2, scale=0.5)
    >>> d.mean(), d.var()
    (3.0, 4.0)
    >>> round(d.cdf(1.0), 6)
    0.130477
    >>> round(d.logcdf(1e-6), 4)  # deep in the lower tail
    -29.3242
    """

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
                _backend.native_cuda.ncx2_function(
                    function,
                    values.data.ptr,
                    out.data.ptr,
                    values.size,
                    self.df,
                    self.nc,
                    self.scale,
                    _backend.current_stream(),
                )
        if bool(xp.isnan(out).any()):
            raise ValueError(
                f"x: {function} needs more than 1e8 series terms at some points (nc / 2 or "
                f"sqrt(nc x / (4 scale)) beyond 1e8: extreme upper tails); not supported"
            )
        if np.ndim(x) == 0 and xp is np:
            return float(out.reshape(-1)[0])
        return restore(out)

    def logpdf(self, x: float | Array) -> float | Array:
        """Natural log of the probability density at ``x`` (``-inf`` for ``x < 0``).

        Parameters
        ----------
        x : float or array
            Points, any shape: a NumPy array runs on the CPU, a CuPy array on the GPU, another
            DLPack producer (PyTorch, JAX) through NumPy or CuPy.

        Returns
        -------
        float or array
            A float for a scalar ``x`` (on the CPU), else an array of the caller's type and of the
            shape of ``x``.

        Raises
        ------
        TypeError
            If ``x`` is not an array of real numbers.
        ValueError
            If ``x`` contains NaN, or a point lies so far in the upper tail that the series would
            need more than 1e8 terms (``nc / 2`` or ``sqrt(nc x / (4 scale))`` beyond 1e8).
        RuntimeError
            If ``x`` is a GPU array and no CUDA device can be used.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> round(ib.ScaledNCX2(df=4, nc=2, scale=0.5).logpdf(1.0), 6)
        -1.535866
        """
        return self._evaluate("logpdf", x)

    def logcdf(self, x: float | Array) -> float | Array:
        """Natural log of the cumulative distribution function, ``log P(X <= x)``.

        A log-space Poisson mixture of regularized incomplete gamma functions: finite and accurate
        for every ``x > 0``, however deep in the lower tail; ``-inf`` for ``x <= 0``.

        Parameters
        ----------
        x : float or array
            Points, any shape: a NumPy array runs on the CPU, a CuPy array on the GPU, another
            DLPack producer (PyTorch, JAX) through NumPy or CuPy.

        Returns
        -------
        float or array
            A float for a scalar ``x`` (on the CPU), else an array of the caller's type and of the
            shape of ``x``.

        Raises
        ------
        TypeError
            If ``x`` is not an array of real numbers.
        ValueError
            If ``x`` contains NaN, or a point lies so far in the upper tail that the series would
            need more than 1e8 terms (``nc / 2`` or ``sqrt(nc x / (4 scale))`` beyond 1e8).
        RuntimeError
            If ``x`` is a GPU array and no CUDA device can be used.

        Examples
        --------
        >>> import numpy as np, inductive_bias as ib
        >>> d = ib.ScaledNCX2(df=4, nc=2, scale=0.5)
        >>> np.round(d.logcdf(np.array([1e-6, 1.0])), 4).tolist()
        [-29.3242, -2.0366]
        """
        return self._evaluate("logcdf", x)

    def logsf(self, x: float | Array) -> float | Array:
        """Natural log of the survival function, ``log P(X > x)`` (0 for ``x <= 0``).

        Parameters
        ----------
        x : float or array
            Points, any shape: a NumPy array runs on the CPU, a CuPy array on the GPU, another
            DLPack producer (PyTorch, JAX) through NumPy or CuPy.

        Returns
        -------
        float or array
            A float for a scalar ``x`` (on the CPU), else an array of the caller's type and of the
            shape of ``x``.

        Raises
        ------
        TypeError
            If ``x`` is not an array of real numbers.
        ValueError
            If ``x`` contains NaN, or a point lies so far in the upper tail that the series would
            need more than 1e8 terms (``nc / 2`` or ``sqrt(nc x / (4 scale))`` beyond 1e8).
        RuntimeError
            If ``x`` is a GPU array and no CUDA device can be used.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> round(ib.ScaledNCX2(df=4, nc=2, scale=0.5).logsf(1.0), 6)
        -0.13981
        """
        return self._evaluate("logsf", x)

    def pdf(self, x: float | Array) -> float | Array:
        """Probability density at ``x``: ``exp`` of :meth:`logpdf`.

        Parameters
        ----------
        x : float or array
            Points, any shape: a NumPy array runs on the CPU, a CuPy array on the GPU, another
            DLPack producer (PyTorch, JAX) through NumPy or CuPy.

        Returns
        -------
        float or array
            A float for a scalar ``x`` (on the CPU), else an array of the caller's type and of the
            shape of ``x``.

        Raises
        ------
        TypeError
            If ``x`` is not an array of real numbers.
        ValueError
            If ``x`` contains NaN, or a point lies so far in the upper tail that the series would
            need more than 1e8 terms (``nc / 2`` or ``sqrt(nc x / (4 scale))`` beyond 1e8).
        RuntimeError
            If ``x`` is a GPU array and no CUDA device can be used.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> round(ib.ScaledNCX2(df=4, nc=2, scale=0.5).pdf(1.0), 6)
        0.215269
        """
        return _exp(self.logpdf(x))

    def cdf(self, x: float | Array) -> float | Array:
        """Cumulative distribution function, ``P(X <= x)``: ``exp`` of :meth:`logcdf`.

        Parameters
        ----------
        x : float or array
            Points, any shape: a NumPy array runs on the CPU, a CuPy array on the GPU, another
            DLPack producer (PyTorch, JAX) through NumPy or CuPy.

        Returns
        -------
        float or array
            A float for a scalar ``x`` (on the CPU), else an array of the caller's type and of the
            shape of ``x``.

        Raises
        ------
        TypeError
            If ``x`` is not an array of real numbers.
        ValueError
            If ``x`` contains NaN, or a point lies so far in the upper tail that the series would
            need more than 1e8 terms (``nc / 2`` or ``sqrt(nc x / (4 scale))`` beyond 1e8).
        RuntimeError
            If ``x`` is a GPU array and no CUDA device can be used.

        Examples
        --------
        >>> import numpy as np, inductive_bias as ib
        >>> np.round(ib.ScaledNCX2(df=4, nc=2, scale=0.5).cdf(np.array([1.0, 3.0])), 6).tolist()
        [0.130477, 0.584424]
        """
        return _exp(self.logcdf(x))

    def sf(self, x: float | Array) -> float | Array:
        """Survival function, ``P(X > x)``: ``exp`` of :meth:`logsf`.

        Parameters
        ----------
        x : float or array
            Points, any shape: a NumPy array runs on the CPU, a CuPy array on the GPU, another
            DLPack producer (PyTorch, JAX) through NumPy or CuPy.

        Returns
        -------
        float or array
            A float for a scalar ``x`` (on the CPU), else an array of the caller's type and of the
            shape of ``x``.

        Raises
        ------
        TypeError
            If ``x`` is not an array of real numbers.
        ValueError
            If ``x`` contains NaN, or a point lies so far in the upper tail that the series would
            need more than 1e8 terms (``nc / 2`` or ``sqrt(nc x / (4 scale))`` beyond 1e8).
        RuntimeError
            If ``x`` is a GPU array and no CUDA device can be used.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> round(ib.ScaledNCX2(df=4, nc=2, scale=0.5).sf(1.0), 6)
        0.869523
        """
        return _exp(self.logsf(x))

    # ---- moments and sampling ------------------------------------------------------------------
    def ppf(self, q: float | Array | None = None, *, log_q: float | Array | None = None) -> float | np.ndarray:
        """Quantile of the lower tail: the ``x`` with ``P(X <= x) = q``, or ``log P(X <= x) = log_q``.

        Solved in log space by Newton's method in ``log x``, safeguarded by a bracket, so any depth
        of ``log_q`` works.

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
            A float for a scalar argument, else an array of its shape. ``q = 0`` gives 0, ``q = 1``
            gives ``inf``.

        Raises
        ------
        TypeError
            If neither or both of ``q`` and ``log_q`` are given.
        ValueError
            If ``q`` is outside ``[0, 1]`` or NaN, or ``log_q`` is positive or NaN.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> d = ib.ScaledNCX2(df=4, nc=2, scale=0.5)
        >>> round(d.ppf(0.5), 4)  # the median
        2.5834
        >>> x = d.ppf(log_q=-100.0)
        >>> round(d.logcdf(x), 6)
        -100.0
        """
        return _quantile.solve(
            _quantile.targets(q, log_q), False, self.logcdf, self.logsf, self.logpdf, 0.0, self.mean()
        )

    def isf(self, q: float | Array | None = None, *, log_q: float | Array | None = None) -> float | np.ndarray:
        """Quantile of the upper tail: the ``x`` with ``P(X > x) = q``, or ``log P(X > x) = log_q``.

        Solved by Newton's method in ``x``, safeguarded by a bracket.

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
            A float for a scalar argument, else an array of its shape. ``q = 1`` gives 0, ``q = 0``
            gives ``inf``.

        Raises
        ------
        TypeError
            If neither or both of ``q`` and ``log_q`` are given.
        ValueError
            If ``q`` is outside ``[0, 1]`` or NaN, or ``log_q`` is positive or NaN.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> d = ib.ScaledNCX2(df=4, nc=2, scale=0.5)
        >>> x = d.isf(0.01)
        >>> round(x, 4), round(d.sf(x), 8)
        (9.3518, 0.01)
        """
        return _quantile.solve(
            _quantile.targets(q, log_q), True, self.logcdf, self.logsf, self.logpdf, 0.0, self.mean()
        )

    def mean(self) -> float:
        """Mean, ``scale * (df + nc)``.

        Returns
        -------
        float
            The first cumulant.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.ScaledNCX2(df=4, nc=2, scale=0.5).mean()
        3.0
        """
        return self.scale * (self.df + self.nc)

    def var(self) -> float:
        """Variance, ``2 scale^2 (df + 2 nc)``.

        Returns
        -------
        float
            The second cumulant.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.ScaledNCX2(df=4, nc=2, scale=0.5).var()
        4.0
        """
        return 2.0 * self.scale**2 * (self.df + 2.0 * self.nc)

    def std(self) -> float:
        """Standard deviation, the square root of :meth:`var`.

        Returns
        -------
        float
            ``sqrt(var())``.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.ScaledNCX2(df=4, nc=2, scale=0.5).std()
        2.0
        """
        return math.sqrt(self.var())

    def cumulant(self, n: int) -> float:
        """The ``n``-th cumulant, ``scale^n 2^(n-1) (n-1)! (df + n nc)``.

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
            If ``n < 1``, or the cumulant exceeds the double range.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.ScaledNCX2(df=4, nc=2, scale=0.5).cumulant(3)
        10.0
        """
        n = _validation.integer("n", n, 1)
        # In log space: (n - 1)! and scale^n leave the double range long before the cumulant may
        # (factorial(399) cannot even be converted to a float).
        log_value = (
            n * math.log(self.scale) + (n - 1) * math.log(2.0) + math.lgamma(n) + math.log(self.df + n * self.nc)
        )
        if log_value > _LOG_MAX_DOUBLE:
            raise ValueError(
                f"n: the cumulant of order {n} is about 10^{log_value / math.log(10):.4g}, beyond the double range"
            )
        if n <= 170 and abs(n * math.log(self.scale)) < 700:  # every factor in range: the exact product
            return self.scale**n * 2.0 ** (n - 1) * float(math.factorial(n - 1)) * (self.df + n * self.nc)
        return math.exp(log_value)

    def rvs(self, size: int | tuple[int, ...] | None = None, seed: int = 0) -> np.ndarray:
        """Random variates from ``numpy.random.default_rng(seed)``.

        Parameters
        ----------
        size : int or tuple of int, optional
            Output shape, each entry a non-negative integer; ``None`` draws a single float.
        seed : int, numpy.random.SeedSequence or numpy.random.Generator
            An int in ``[0, 2^64)`` seeds ``numpy.random.default_rng`` directly; a SeedSequence or
            Generator gives a 64-bit key first (as for :meth:`GeneralizedChi2.rvs`).

        Returns
        -------
        numpy.ndarray of float64 or float
            Variates of shape ``size`` (a float when ``size`` is ``None``).

        Raises
        ------
        TypeError
            If ``size`` is not an integer or a tuple of integers, or ``seed`` has the wrong type.
        ValueError
            If an entry of ``size`` is negative or an integer ``seed`` is outside ``[0, 2^64)``.
        MemoryError
            If the variates asked for need more memory than the machine has.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> d = ib.ScaledNCX2(df=4, nc=2, scale=0.5)
        >>> x = d.rvs(5000, seed=0)
        >>> x.shape, bool(abs(x.mean() - d.mean()) < 0.1)
        ((5000,), True)
        """
        shape = _rvs_shape(size)
        rng = np.random.default_rng(_validation.seed(seed))  # as GeneralizedChi2.rvs: errors name `seed`
        if shape is not None:  # refused by name before NumPy would try, and fail on, a huge buffer
            _arrays.empty("size", math.prod(shape), np)
        if self.nc == 0:
            draws = rng.chisquare(self.df, shape)
        else:
            draws = rng.noncentral_chisquare(self.df, self.nc, shape)
        return self.scale * draws

    # ---- fitting -------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls, losses: Array, method: str = "mle", n_boot: int = 0, seed: int = 0, max_iterations: int = 200
    ) -> Ncx2Fit:
        """Fit the distribution to positive samples, with location fixed at 0.

        ``method="mle"``: maximum likelihood by trust-region Newton steps with the analytic gradient and
        Hessian (native reduction over the samples), from the method-of-moments solution. When df
        and nc are large the likelihood is nearly flat, and not always concave, along the
        noncentral fraction nc / (df + nc) at fixed mean and variance: when the moments have no
        ncx2 solution or the optimum lies on a bound of that fraction, a second iteration starts
        from the best point of a scan along it, and the better optimum is kept. ``method="moments"``:
        the method-of-moments solution (:func:`moments_start`). ``n_boot > 0`` refits ``n_boot``
        Poisson-bootstrap replicates (weights drawn from Philox under the key ``seed`` XOR
        ``0x9E3779B97F4A7C15``, so never from the streams of hypotheses sampled with the same
        ``seed``), started from the fit.
        Called on :class:`ScaledChi2`, ``nc`` stays 0 and the fit is a ``ScaledChi2``.

        The fit runs on the samples divided by a power of two near their mean (exact), so losses of
        any magnitude (1e-300 or 1e300) fit alike. When their relative spread is below ~2e-4
        (``df + nc`` beyond 5e7) the samples cannot tell ``nc`` from ``df`` (every such ncx2 is normal
        up to a skewness below 4e-4) and ``nc`` is held at 0; ``Ncx2Fit.near_normal`` says so.
        Every fit (and every bootstrap refit) takes at most ``max_iterations`` Newton steps; one that
        does not converge is marked so (``Ncx2Fit.converged``, ``Ncx2Fit.boot_converged``) and warned
        about.

        Parameters
        ----------
        losses : array [n]
            Samples, at least 3, all positive and finite, not all equal (any shape: flattened).
            NumPy arrays are fitted on the CPU, CuPy arrays on the GPU.
        method : {"mle", "moments"}
            Maximum likelihood, or the method of moments.
        n_boot : int
            Number of Poisson-bootstrap refits (0: none).
        seed : int, numpy.random.SeedSequence or numpy.random.Generator
            Seeds the bootstrap weights (Philox).
        max_iterations : int
            Newton iterations allowed per fit (the fit and each bootstrap refit), in
            ``[1, 2^31)``; a fit that runs out is marked not converged.

        Returns
        -------
        Ncx2Fit
            The fitted distribution, its log-likelihood and convergence, and the bootstrap
            replicates.

        Raises
        ------
        ValueError
            If ``method`` is not ``"mle"`` or ``"moments"``; ``losses`` has fewer than 3 samples,
            NaN or infinity, a value ``<= 0``, all values equal, or values more than 1e308 times
            below their mean; ``n_boot`` is negative; ``max_iterations`` is outside ``[1, 2^31)``;
            or an integer ``seed`` is outside ``[0, 2^64)``.
        TypeError
            If ``losses`` is not an array of real numbers, or ``n_boot``, ``max_iterations`` or
            ``seed`` has the wrong type.

        Warns
        -----
        FitWarning
            If the fit, or any bootstrap refit, did not converge within ``max_iterations``.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> losses = ib.ScaledNCX2(df=4, nc=2, scale=0.5).rvs(2000, seed=1)
        >>> fit = ib.ScaledNCX2.fit(losses)
        >>> fit.converged, fit.n_samples, round(fit.distribution.mean(), 1)
        (True, 2000, 3.0)
        >>> type(ib.ScaledChi2.fit(losses).distribution).__name__
        'ScaledChi2'
        """
        if method not in ("mle", "moments"):
            raise ValueError(f"method: expected 'mle' or 'moments', got {method!r}")
        array, _ = as_array("losses", losses)
        with _backend.on_device(array):
            return cls._fit_samples(as_samples(array), method, n_boot, seed, max_iterations)

    @classmethod
    def _fit_samples(cls, samples, method, n_boot, seed, max_iterations) -> Ncx2Fit:
        n_boot = _validation.integer("n_boot", n_boot)
        # Bootstrap weights come from Philox under a key of their own: losses sampled under the same
        # seed use its substreams, which would tie replicate b's weights to hypothesis b's draws.
        seed = _validation.seed(seed) ^ BOOTSTRAP_KEY_SALT
        max_iterations = _validation.integer("max_iterations", max_iterations, 1, 2**31)
        # The fit is scale-equivariant: it runs on the samples divided by a power of two near their
        # mean (exact), and the scale and log-likelihood are mapped back. Losses ~1e-300 or ~1e300
        # would otherwise underflow or overflow the moments (a variance of 1e-600).
        scaled, exponent = _rescaled(samples)
        log_factor = exponent * math.log(2.0)
        central = cls.fixes_nc_zero
        near_normal = not central and _near_normal(scaled)
        central = central or near_normal
        df, nc, scale = moments_start(scaled, central=central)
        if method == "moments":
            best = np.array([df, nc, scale])
            loglik = float(_likelihood(scaled, best[None], np.array([0]), seed)[0, 0])
            iterations, converged = 0, True
        else:
            best, loglik, iterations, converged = _maximize(scaled, (df, nc, scale), seed, central, max_iterations)
        if not converged:
            reason = (
                f"stopped at its iteration bound ({max_iterations})"
                if iterations >= max_iterations
                else f"stopped after {iterations} iterations without reaching its tolerance (no ascent step left)"
            )
            reliability.warn(
                reliability.FitWarning, f"losses: the maximum-likelihood fit {reason}; its parameters are unreliable"
            )
        bootstrap, boot_converged = None, 0
        if n_boot:
            starts = np.repeat(best[None], n_boot, axis=0)
            replicates = np.arange(1, n_boot + 1, dtype=np.int64)
            params, logliks, _, converged_boot = _fit(scaled, starts, replicates, seed, central, max_iterations)
            kept = converged_boot & np.isfinite(logliks)  # empty resamples never converge
            # A refit can stall where it started far from its own optimum (a replicate without an
            # outlier that drove the fit, stuck where the likelihood is convex along rho): those
            # start again from the sample's moments and from the scan along rho.
            failed = np.flatnonzero(~kept)
            if failed.size and method == "mle":
                others = [np.array(moments_start(scaled, central=central))]
                if not central:
                    others.append(_scan_start(scaled, seed))
                for start in others:
                    again = _fit(
                        scaled,
                        np.repeat(start[None], failed.size, 0),
                        replicates[failed],
                        seed,
                        central,
                        max_iterations,
                    )
                    better = again[3] & np.isfinite(again[1]) & (~kept[failed] | (again[1] > logliks[failed]))
                    chosen = failed[better]
                    params[chosen], logliks[chosen] = again[0][better], again[1][better]
                    kept[chosen] = True
            boot_converged = int(kept.sum())
            bootstrap = params[kept]
            bootstrap[:, 2] = np.ldexp(bootstrap[:, 2], exponent)
            if boot_converged < n_boot:
                reliability.warn(
                    reliability.FitWarning,
                    f"losses: {n_boot - boot_converged} of {n_boot} bootstrap refits did not converge and are left "
                    f"out of the replicates (and of any interval read from them)",
                )
        best = np.array(best, dtype=np.float64)
        best[2] = math.ldexp(float(best[2]), exponent)
        return Ncx2Fit(
            distribution=cls._from_params(best),
            method=method,
            loglik=loglik - samples.size * log_factor,
            iterations=iterations,
            converged=converged,
            n_samples=samples.size,
            bootstrap=bootstrap,
            samples=samples,
            n_boot=n_boot,
            boot_converged=boot_converged,
            near_normal=near_normal,
        )

    @classmethod
    def _from_params(cls, params) -> ScaledNCX2:
        return ScaledNCX2(*map(float, params))


class ScaledChi2(ScaledNCX2):
    """The scaled central chi-squared ``scale * chi2(df)``: :class:`ScaledNCX2` with ``nc = 0``.

    Every method is that of :class:`ScaledNCX2`; :meth:`fit` keeps ``nc`` at 0.

    Parameters
    ----------
    df : float
        Degrees of freedom, positive and finite.
    scale : float
        Positive, finite scale.

    Attributes
    ----------
    df : float
        Degrees of freedom.
    nc : float
        Always 0.
    scale : float
        Scale.
    fixes_nc_zero : bool
        ``True``: fits keep ``nc`` at 0.

    Raises
    ------
    TypeError
        If ``df`` or ``scale`` is not a real number.
    ValueError
        If ``df`` or ``scale`` is not positive and finite.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> d = ib.ScaledChi2(df=3, scale=2.0)
    >>> d, d.mean(), d.var()
    (ScaledChi2(df=3, scale=2), 6.0, 24.0)
    """

    fixes_nc_zero = True

    def __init__(self, df: float, scale: float = 1.0):
        super().__init__(df, 0.0, scale)

    def __repr__(self) -> str:
        return f"ScaledChi2(df={self.df:.6g}, scale={self.scale:.6g})"

    @classmethod
    def _from_params(cls, params) -> ScaledChi2:
        return ScaledChi2(float(params[0]), float(params[2]))


@dataclass
class Ncx2Fit:
    """A fitted distribution with its diagnostics and, when asked for, bootstrap replicates.

    Returned by :meth:`ScaledNCX2.fit` (and :meth:`ScaledChi2.fit`).

    Parameters
    ----------
    distribution : ScaledNCX2
        The fit.
    method : str
        ``"mle"`` or ``"moments"``.
    loglik : float
        Log-likelihood at the fit.
    iterations : int
        Newton iterations.
    converged : bool
        Whether the iteration converged.
    n_samples : int
        Number of samples.
    bootstrap : numpy.ndarray, shape [replicates, 3], optional
        ``df, nc, scale`` of each converged bootstrap refit.
    samples : array, optional
        The samples fitted.
    n_boot : int, optional
        Bootstrap refits asked for.
    boot_converged : int, optional
        How many of them converged.
    near_normal : bool, optional
        Whether ``nc`` was held at 0 because the samples' relative spread is too small to tell it.

    Attributes
    ----------
    distribution : ScaledNCX2
        The fit (a :class:`ScaledChi2` when fitted through that class).
    method : str
        ``"mle"`` or ``"moments"``.
    loglik : float
        Log-likelihood of the samples at the fit (natural log, summed over the samples).
    iterations : int
        Newton iterations of the fit that was kept (0 for ``"moments"``).
    converged : bool
        Whether the iteration met its tolerance within ``max_iterations`` (always ``True`` for
        ``"moments"``): the predicted gain of a further Newton step is below 1e-13 of the
        log-likelihood, or, where rounding stops all progress first, below 1e-4 nats (the parameters
        within 0.015 standard errors of the optimum). ``False`` when the iteration ran out of steps or
        stalled short of that; :meth:`ScaledNCX2.fit` then warns (:class:`FitWarning`).
    n_samples : int
        Number of samples fitted.
    bootstrap : numpy.ndarray of float64, shape [replicates, 3], or None
        ``df, nc, scale`` of each bootstrap refit that converged (refits of empty resamples never
        do); ``None`` when fitted with ``n_boot = 0``.
    samples : array
        The samples as fitted: a contiguous float64 vector, NumPy or CuPy (not shown by ``repr``).
    n_boot : int
        Bootstrap refits asked for (0: none).
    boot_converged : int
        How many of the ``n_boot`` refits converged (the rows of ``bootstrap``); when fewer than
        ``n_boot``, :meth:`ScaledNCX2.fit` warns (:class:`FitWarning`).
    near_normal : bool
        ``True`` when the samples' relative spread is below ~2e-4 (``df + nc`` beyond 5e7): there every
        scaled ncx2 of the samples' mean and variance is normal up to a skewness below 4e-4, the
        split of ``df + nc`` between ``df`` and ``nc`` changes the log-likelihood by about
        ``0.2 sqrt(n) * spread`` nats (nothing the samples can resolve), and the fit holds ``nc`` at
        0 (the scaled chi-squared, whose functions are exact at any ``df``).

    Examples
    --------
    >>> import inductive_bias as ib
    >>> losses = ib.ScaledNCX2(df=4, nc=2, scale=0.5).rvs(2000, seed=1)
    >>> fit = ib.ScaledNCX2.fit(losses, n_boot=20, seed=0)
    >>> fit.method, fit.converged, fit.bootstrap.shape
    ('mle', True, (20, 3))
    """

    distribution: ScaledNCX2
    method: str
    loglik: float
    iterations: int
    converged: bool
    n_samples: int
    bootstrap: np.ndarray | None = field(default=None, repr=False)  # [replicates, 3]: df, nc, scale
    samples: Array = field(default=None, repr=False)
    n_boot: int = 0
    boot_converged: int = 0
    near_normal: bool = False

    @functools.cached_property
    def ks_statistic(self) -> float:
        """Kolmogorov-Smirnov distance between the samples and the fit.

        Computed on first use (it costs a log-CDF per sample), then kept.

        Returns
        -------
        float
            ``sup_x |F_n(x) - F(x)|`` for the empirical CDF ``F_n`` of the samples and the fitted
            CDF ``F``, in ``[0, 1]``.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> losses = ib.ScaledNCX2(df=4, nc=2, scale=0.5).rvs(2000, seed=1)
        >>> bool(ib.ScaledNCX2.fit(losses).ks_statistic < 0.05)
        True
        """
        with _backend.on_device(self.samples):
            return ks_statistic(self.samples, self.distribution)

    def replicates(self) -> list[ScaledNCX2]:
        """The bootstrap refits as distributions.

        Returns
        -------
        list of ScaledNCX2
            One distribution per row of ``bootstrap``, of the type of ``distribution``.

        Raises
        ------
        ValueError
            If the fit has no bootstrap replicates (it was made with ``n_boot = 0``).

        Examples
        --------
        >>> import inductive_bias as ib
        >>> losses = ib.ScaledNCX2(df=4, nc=2, scale=0.5).rvs(2000, seed=1)
        >>> replicates = ib.ScaledNCX2.fit(losses, n_boot=20, seed=0).replicates()
        >>> len(replicates), type(replicates[0]).__name__
        (20, 'ScaledNCX2')
        """
        if self.bootstrap is None:
            raise ValueError("no bootstrap replicates: fit with n_boot > 0")
        return [type(self.distribution)._from_params(p) for p in self.bootstrap]

    def interval(self, statistic: Callable[[ScaledNCX2], float], confidence: float = 0.95) -> tuple[float, float]:
        """Percentile bootstrap interval of ``statistic(distribution)``.

        Parameters
        ----------
        statistic : callable
            Maps a distribution to a number, e.g. ``lambda d: d.logcdf(0.01)``; called once per
            replicate.
        confidence : float
            Coverage, in ``(0, 1)``.

        Returns
        -------
        tuple of float
            ``(low, high)``: the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` percentiles of
            the statistic over the replicates.

        Raises
        ------
        TypeError
            If ``statistic`` is not callable.
        ValueError
            If ``confidence`` is not in ``(0, 1)``, or the fit has no bootstrap replicates.

        Warns
        -----
        FitWarning
            If there are fewer than ``2 / (1 - confidence)`` replicates (40 at 0.95): the percentile
            interval then cannot resolve its tails.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> losses = ib.ScaledNCX2(df=4, nc=2, scale=0.5).rvs(2000, seed=1)
        >>> fit = ib.ScaledNCX2.fit(losses, n_boot=40, seed=0)  # 40: one replicate per 2.5 % tail
        >>> low, high = fit.interval(lambda d: d.mean())
        >>> bool(low < fit.distribution.mean() < high)
        True
        """
        if not callable(statistic):
            raise TypeError(f"statistic: expected a callable of a distribution, got {type(statistic).__name__}")
        confidence = _validation.probability("confidence", confidence)
        replicates = self.replicates()
        warn_if_few_replicates(len(replicates), confidence)
        values = np.array([statistic(d) for d in replicates], dtype=float)
        tail = 50 * (1 - confidence)
        low, high = np.percentile(values, [tail, 100 - tail])
        return float(low), float(high)


def warn_if_few_replicates(count: int, confidence: float, stacklevel: int = 4) -> None:
    """FitWarning when ``count`` replicates cannot resolve a ``confidence`` percentile interval.

    Each tail of the interval holds a fraction ``(1 - confidence) / 2`` of the replicates: below
    ``2 / (1 - confidence)`` replicates (40 at 0.95) a tail holds less than one, and the interval's
    ends are the extreme replicates or interpolations between two of them (one replicate gives a
    zero-width interval that need not contain the estimate). A small ``n_boot`` is legitimate for a
    quick look, so this warns rather than refuses.
    """
    needed = math.ceil(2 / (1 - confidence) - 1e-9)
    if count < needed:
        reliability.warn(
            reliability.FitWarning,
            f"n_boot: the interval rests on {count} converged bootstrap replicate(s); a {confidence:g} percentile "
            f"interval needs at least {needed} to put one in each tail: it understates the uncertainty",
            stacklevel=stacklevel,
        )


_LOG_MAX_DOUBLE = math.log(np.finfo(np.float64).max)


def _rvs_shape(size) -> tuple[int, ...] | None:
    """``size`` of :meth:`ScaledNCX2.rvs` as a shape (None: one float), checked by name."""
    if size is None:
        return None
    dims = size if isinstance(size, tuple) else (size,)
    return tuple(_validation.integer("size", d) for d in dims)


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
    """Method-of-moments ``(df, nc, scale)``: the first three cumulants matched in closed form.

    With A = df + nc, B = df + 2 nc: k1 = s A, k2 = 2 s^2 B, k3 = 8 s^3 (2B - A), so s solves
    8 k1 s^2 - 8 k2 s + k3 = 0; the root with nc >= 0 is s = k3 / (4 (k2 + sqrt(k2^2 - k1 k3 / 2))).
    When no ncx2 matches (skew above the chi-squared's, or negative) or ``central``, the scaled
    chi-squared with the first two cumulants: s = k2 / (2 k1), df = 2 k1^2 / k2.

    Parameters
    ----------
    samples : numpy.ndarray or cupy.ndarray, shape [n]
        The samples, float64, not all equal (unchecked here: :meth:`ScaledNCX2.fit` checks them).
    central : bool
        Match only the first two cumulants with ``nc = 0``.

    Returns
    -------
    tuple of float
        ``(df, nc, scale)``, the starting point of the maximum-likelihood fit.

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> from inductive_bias.ncx2 import moments_start
    >>> samples = ib.ScaledNCX2(df=4, nc=2, scale=0.5).rvs(2000, seed=1)
    >>> np.round(moments_start(samples), 2).tolist()
    [4.09, 1.91, 0.5]
    >>> moments_start(samples, central=True)[1]
    0.0
    """
    samples, exponent = _rescaled(samples)  # cumulants of samples ~1e-300 or ~1e300 stay in range
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
            return df, nc, math.ldexp(scale, exponent)
    return 2 * k1 * k1 / k2, 0.0, math.ldexp(k2 / (2 * k1), exponent)


def _rescaled(samples):
    """(samples / 2^k, k) with 2^k within a factor 2 of the samples' mean: exact (a power of two),
    unless a sample is so far below the mean that the quotient is subnormal or 0 (then refused)."""
    xp = array_module(samples)
    top = int(np.frexp(float(samples.max()))[1])
    mean = float(xp.ldexp(samples, -top).mean())  # the mean without overflowing the sum
    exponent = top + int(np.frexp(mean)[1])
    scaled = xp.ldexp(samples, -exponent)
    if float(scaled.min()) < 2.2250738585072014e-308:  # the smallest normal double
        raise ValueError(
            f"losses: the smallest loss ({float(samples.min()):.3g}) is more than 1e308 times below their mean "
            f"({math.ldexp(mean, top):.3g}); double precision cannot fit losses spread that far"
        )
    return scaled, exponent


# Above this df + nc at rho = 0 (2 mean^2 / variance: relative spread below 2e-4) the fit holds
# nc at 0. Every rho in [0, 1) then has df + nc >= 5e7 and a skewness between 1.5 and 2 times the
# relative spread c <= 2e-4: the ncx2's of the samples' mean and variance differ from each other
# by a skewness below c / 2, which moves the log-likelihood by ~sqrt(6 n) c / 12 nats (1.9e-3
# measured at n = 1000, c = 3e-4), below what any realistic n resolves, while nc near df + nc
# would make the log-CDF walk ~1e5 Poisson terms per point and leave the supported range
# (nc / 2 <= 1e8) beyond df + nc = 2e8.
_NEAR_NORMAL_DOF = 5e7


def _near_normal(scaled) -> bool:
    m, v = float(scaled.mean()), float(scaled.var())
    return 2 * m * m > _NEAR_NORMAL_DOF * v


_RELATIVE_TOLERANCE = 1e-13  # converged when the predicted gain is below this times |log-likelihood|
_SCAN_FRACTIONS = (0.0, 0.3, 0.6, 0.85, 0.95)  # nc / (df + nc) at the sample mean and variance
_SCAN_SAMPLES = 512  # the scan only ranks starting points: a strided subsample is enough
_RHO_BOUND_MARGIN = 1e-6  # df below this fraction of df + nc counts as the bound df -> 0


def _maximize(samples, moments, seed, central, max_iterations):
    """(params, loglik, iterations, converged) of the Newton iteration from the moments, and, when
    the moments fell back to the chi-squared or the optimum sits on a bound of rho = nc / (df + nc),
    the better of it and the iteration from the best point of a scan along rho."""

    def run(start):
        params, logliks, iterations, converged = _fit(
            samples, np.array([start]), np.zeros(1, np.int64), seed, central, max_iterations
        )
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
    """[count, 11]: log-likelihood, gradient, packed Hessian (00 01 02 11 12 22), weight; derivatives
    in the optimizer's coordinates u = (log mean, log variance, rho = nc / (df + nc))."""
    params = np.ascontiguousarray(params, dtype=np.float64)
    replicates = np.ascontiguousarray(replicates, dtype=np.int64)
    if array_module(samples) is np:
        return _native.ncx2_likelihood(samples, params, replicates, seed, _backend.get_num_threads())
    with samples.device:
        workspace = _cuda_workspace(samples.size, len(params))
        return _backend.native_cuda.ncx2_likelihood(
            samples.data.ptr,
            samples.size,
            params,
            replicates,
            seed,
            workspace.data.ptr,
            workspace.nbytes,
            _backend.current_stream(),
        )


def _fit(samples, starts, replicates, seed, fix_nc_zero, max_iterations):
    starts = np.ascontiguousarray(starts, dtype=np.float64)
    replicates = np.ascontiguousarray(replicates, dtype=np.int64)
    if array_module(samples) is np:
        return _native.ncx2_fit(
            samples,
            starts,
            replicates,
            seed,
            fix_nc_zero,
            max_iterations,
            _RELATIVE_TOLERANCE,
            _backend.get_num_threads(),
        )
    with samples.device:
        workspace = _cuda_workspace(samples.size, len(starts))
        return _backend.native_cuda.ncx2_fit(
            samples.data.ptr,
            samples.size,
            starts,
            replicates,
            seed,
            fix_nc_zero,
            max_iterations,
            _RELATIVE_TOLERANCE,
            workspace.data.ptr,
            workspace.nbytes,
            _backend.current_stream(),
        )


def _cuda_workspace(n: int, count: int):
    """Scratch memory of the CUDA likelihood pass, from CuPy's pool (no cudaMalloc, no device sync)."""
    import cupy

    return cupy.empty(_backend.native_cuda.ncx2_workspace_bytes(n, count), dtype=cupy.uint8)
