"""Inductive bias from sampled test losses: the published sample-and-fit estimate.

Fit a scaled non-central chi-squared (loc = 0) to the losses of sampled hypotheses and report
``-log P(loss <= error)`` under the fit, with a Poisson-bootstrap interval, beside the empirical
fraction of losses that reach ``error`` and a flag when ``error`` lies below every sampled loss
(the estimate is then pure extrapolation of the fitted tail). One fit serves every error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import log_ndtr

from . import _validation, reliability
from ._arrays import Array
from .ncx2 import Ncx2Fit, ScaledChi2, ScaledNCX2, as_samples, warn_if_few_replicates

__all__ = ["BiasEstimate", "bias_from_losses", "sankaran_bias"]

_DISTRIBUTIONS: dict[str, type[ScaledNCX2]] = {"ncx2": ScaledNCX2, "chi2": ScaledChi2}


@dataclass
class BiasEstimate:
    """Inductive bias ``-log P(loss <= error)`` read off a distribution fitted to sampled losses.

    Returned by :func:`bias_from_losses`; the value is in ``unit``. Fields holding one value per error
    are floats for a scalar ``error`` and arrays of its shape otherwise.

    Parameters
    ----------
    value : float or numpy.ndarray
        The estimate.
    interval : tuple of float, numpy.ndarray or None
        The bootstrap interval.
    unit : str
        The unit of ``value``.
    error : float or numpy.ndarray
        The target error(s).
    method : str
        The fitted family.
    distribution : ScaledNCX2
        The fitted distribution.
    empirical_fraction, empirical_value : float or numpy.ndarray
        The fraction of sampled losses that reach each error, and its ``-log`` in ``unit``.
    extrapolated : bool or numpy.ndarray
        Whether each error lies below every sampled loss.
    n_samples : int
        How many losses were fitted.
    fit : Ncx2Fit
        The fit with its diagnostics.
    confidence : float, default 0.95
        Coverage of ``interval``.

    Attributes
    ----------
    value : float or ndarray
        The estimate in ``unit``.
    interval : tuple (low, high), ndarray [..., 2], or None
        Percentile bootstrap interval: it covers the sampling noise of the fit only, not the misfit
        of the ncx2 model itself.
    unit : str
        ``"bits"`` or ``"nats"``.
    error : float or ndarray
        The target error(s) the estimate was read at.
    method : str
        ``"fit-ncx2"`` or ``"fit-chi2"``.
    distribution : ScaledNCX2
        The fit.
    empirical_fraction : float or ndarray
        Fraction of sampled losses ``<= error``.
    empirical_value : float or ndarray
        ``-log`` of that fraction in ``unit`` (``inf`` when no sampled loss reaches ``error``).
    extrapolated : bool or ndarray
        ``error`` is below every sampled loss: the value reads the fitted tail beyond the data.
    n_samples : int
        Number of sampled losses behind the fit.
    fit : Ncx2Fit
        The fit with its diagnostics and bootstrap replicates.
    confidence : float
        Coverage of ``interval``.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> losses = ib.ScaledNCX2(20, 15, 0.01).rvs(500, seed=2)
    >>> estimate = ib.bias_from_losses(losses, 0.2, n_boot=0)
    >>> estimate.method, estimate.n_samples, estimate.interval is None
    ('fit-ncx2', 500, True)
    """

    value: Any  # float, or ndarray of the errors' shape
    interval: Any
    unit: str
    error: Any
    method: str
    distribution: ScaledNCX2
    empirical_fraction: Any
    empirical_value: Any
    extrapolated: Any
    n_samples: int
    fit: Ncx2Fit = field(repr=False)
    confidence: float = 0.95

    @property
    def bits(self) -> Any:
        """The estimate ``value`` converted to bits (unchanged when ``unit`` is already bits)."""
        return self.value * _validation.UNITS[self.unit] / _validation.UNITS["bits"]


def bias_from_losses(
    losses: Array,
    error: float | Array,
    distribution: str = "ncx2",
    n_boot: int = 200,
    seed=0,
    unit: str = "bits",
    confidence: float = 0.95,
) -> BiasEstimate:
    """Estimate inductive bias from sampled test losses, as the published method does.

    A scaled non-central (or central) chi-squared is fitted to the losses by maximum likelihood and
    its lower tail is read at each ``error``; Poisson-bootstrap refits give the interval.

    Parameters
    ----------
    losses : array [n]
        Test losses of sampled hypotheses (NumPy, CuPy, PyTorch, JAX: copied to the host, where the
        fit runs), at least 3, all positive.
    error : float or array of floats
        Target error(s); one fit serves them all.
    distribution : {"ncx2", "chi2"}
        The published scaled non-central chi-squared, or the central one.
    n_boot : int
        Poisson-bootstrap refits for the interval (0: no interval). Fewer than ``2 / (1 - confidence)``
        converged refits (40 at 0.95) give an interval that cannot resolve its tails: it is still
        returned, with a FitWarning.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seeds the bootstrap weights (Philox).
    unit : {"bits", "nats"}
        Unit of the returned values.
    confidence : float
        Coverage of the percentile interval, in (0, 1).

    Returns
    -------
    BiasEstimate
        The estimate at every error, with the empirical fraction, the extrapolation flag and the fit.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> losses = ib.ScaledNCX2(20, 15, 0.01).rvs(2000, seed=1)
    >>> estimate = ib.bias_from_losses(losses, [0.1, 0.2], n_boot=0)
    >>> estimate.value.shape, bool(estimate.value[0] > estimate.value[1] > 0)
    ((2,), True)
    """
    if distribution not in _DISTRIBUTIONS:
        raise ValueError(f"distribution: expected one of {tuple(_DISTRIBUTIONS)}, got {distribution!r}")
    _validation.per_nat(unit)  # arguments checked before the fit
    targets = _validation.target_errors(error)
    confidence = _validation.probability("confidence", confidence)
    samples = as_samples(losses)
    fit = _DISTRIBUTIONS[distribution].fit(samples, n_boot=n_boot, seed=_validation.seed(seed))
    return read_fit(fit, targets, unit, confidence)


def read_fit(fit: Ncx2Fit, error, unit: str = "bits", confidence: float = 0.95) -> BiasEstimate:
    """Read the estimate at other target errors from a fit already made, without refitting.

    Parameters
    ----------
    fit : Ncx2Fit
        A fit of the sampled losses (its bootstrap replicates, if any, give the interval).
    error : float or array of floats
        Target error(s).
    unit : {"bits", "nats"}
        Unit of the returned values.
    confidence : float
        Coverage of the percentile interval, in (0, 1).

    Returns
    -------
    BiasEstimate
        The estimate at ``error``, shaped like it.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> from inductive_bias.bias import read_fit
    >>> losses = ib.ScaledNCX2(20, 15, 0.01).rvs(1000, seed=3)
    >>> first = ib.bias_from_losses(losses, 0.2, n_boot=0)
    >>> bool(read_fit(first.fit, 0.2).value == first.value)
    True
    """
    per_nat = _validation.per_nat(unit)
    targets = _validation.target_errors(error)
    confidence = _validation.probability("confidence", confidence)
    flat = targets.ravel()

    def bias(d: ScaledNCX2) -> np.ndarray:
        return -np.asarray(d.logcdf(flat), dtype=float) / per_nat

    interval = None
    if fit.bootstrap is not None and len(fit.bootstrap):
        warn_if_few_replicates(len(fit.bootstrap), confidence, stacklevel=5)
        replicates = np.array([bias(d) for d in fit.replicates()])  # [replicates, errors]
        tail = 50 * (1 - confidence)
        bounds = np.percentile(replicates, [tail, 100 - tail], axis=0).T  # [errors, 2]
        interval = (
            (float(bounds[0, 0]), float(bounds[0, 1])) if targets.ndim == 0 else bounds.reshape(targets.shape + (2,))
        )
    samples = fit.samples
    host = np.sort(np.asarray(samples.get() if hasattr(samples, "get") else samples))
    fraction = np.searchsorted(host, flat, side="right") / host.size
    with np.errstate(divide="ignore"):
        empirical = -np.log(fraction) / per_nat
    _warn_if_weak(fit, host, flat)
    name = "chi2" if isinstance(fit.distribution, ScaledChi2) else "ncx2"
    return BiasEstimate(
        value=_validation.shaped_like(bias(fit.distribution), targets),
        interval=interval,
        unit=unit,
        error=_validation.shaped_like(flat, targets),
        method=f"fit-{name}",
        distribution=fit.distribution,
        empirical_fraction=_validation.shaped_like(fraction, targets),
        empirical_value=_validation.shaped_like(empirical, targets),
        extrapolated=_validation.shaped_like(flat < host[0], targets),
        n_samples=host.size,
        fit=fit,
        confidence=confidence,
    )


def _warn_if_weak(fit: Ncx2Fit, sorted_samples: np.ndarray, errors: np.ndarray) -> None:
    """ReliabilityWarnings for an estimate read beyond every sample and for a fit the samples reject
    (Kolmogorov-Smirnov at the 0.1 % level; parameters fitted to the same samples make the test
    conservative)."""
    n = sorted_samples.size
    below = errors[errors < sorted_samples[0]]
    if below.size:
        reliability.warn(
            reliability.ExtrapolationWarning,
            f"error: {below.size} target error(s) (from {below.min():.4g}) lie below every one of the {n} sampled "
            f"losses (smallest {sorted_samples[0]:.4g}): their values read the fitted tail where there is no "
            f"sample, and the interval covers the fit's sampling noise, not the ncx2 model's misfit there",
            stacklevel=4,
        )
    # A fit that did not converge (or bootstrap refits that did not) was warned about by ScaledNCX2.fit.
    # KS distance on at most 20,000 evenly spaced order statistics (within 1 / m of the full one).
    m = min(n, 20_000)
    positions = np.linspace(0, n - 1, m).astype(np.int64)
    cdf = np.asarray(fit.distribution.cdf(sorted_samples[positions]))
    distance = float(np.max(np.maximum(np.abs(cdf - (positions + 1) / n), np.abs(cdf - positions / n))))
    critical = 1.95 / np.sqrt(n) + (1.0 / m if m < n else 0.0)
    if distance > critical:
        reliability.warn(
            reliability.FitWarning,
            f"losses: the samples reject the fitted {fit.distribution!r} (Kolmogorov-Smirnov distance {distance:.3g} > "
            f"{critical:.3g}, the 0.1 % level for {n} samples): its tail is a model, not a measurement",
            stacklevel=4,
        )


def sankaran_bias(df: float, nc: float, scale: float, error: float, unit: str = "bits") -> float:
    """Compute the estimate from Sankaran's normal approximation of the ncx2 CDF.

    Sankaran's approximation maps the ncx2 CDF at ``error / scale`` to a standard normal ``z`` and
    the estimate is ``-log Phi(z)`` (``scipy.special.log_ndtr``): about ``z^2 / 2 + log(|z| sqrt(2 pi))``
    deep in the lower tail, and near 0 where ``error`` lies above the bulk. (The published fallback
    reported ``z^2 / 2`` whatever the sign of ``z``, which grows without bound above the bulk, where
    the bias is 0.) It is kept to compare with: ``ScaledNCX2(df, nc, scale).logcdf(error)`` is the
    accurate value.

    Parameters
    ----------
    df : float
        Degrees of freedom of the fitted ncx2.
    nc : float
        Its non-centrality.
    scale : float
        Its scale (the losses are ``scale`` times an ncx2 variable).
    error : float
        Target error.
    unit : {"bits", "nats"}
        Unit of the result.

    Returns
    -------
    float
        The approximate ``-log P(loss <= error)`` in ``unit``, ``>= 0``.

    Raises
    ------
    TypeError, ValueError
        If an argument is not a positive finite number (``nc``: non-negative), or ``unit`` is unknown.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> round(ib.sankaran_bias(20, 15, 0.01, 0.1), 2)
    11.36
    """
    distribution = ScaledNCX2(df, nc, scale)  # validates df, nc, scale
    per_nat = _validation.per_nat(unit)
    error = _validation.number("error", error)
    df, nc = distribution.df, distribution.nc
    # Every quantity as a ratio or a log, so that df or nc up to 1e308 and error / scale beyond the
    # double range stay finite: (df + nc)^2 overflowed at df = 1e300.
    big = max(df, nc)
    d, n = df / big, nc / big
    h = 1 - 2 / 3 * ((d + n) / (d + 2 * n)) * ((d + 3 * n) / (d + 2 * n))  # in [1/3, 1/2]
    log_total = math.log(big) + math.log(d + n)  # log(df + nc)
    p = (d + 2 * n) / (d + n) * math.exp(-log_total)  # (df + 2 nc) / (df + nc)^2
    m = (h - 1) * (1 - 3 * h)
    log_ratio = math.log(error) - math.log(distribution.scale) - log_total  # log(x / (df + nc))
    # (x / (df + nc))^h; beyond e^700 z is +inf in doubles and Phi(z) = 1.
    power = math.exp(h * log_ratio) if h * log_ratio < 700 else math.inf
    z = (power - (1 + h * p * (h - 1 - 0.5 * (2 - h) * m * p))) / (h * math.sqrt(2 * p) * (1 + 0.5 * m * p))
    return float(-log_ndtr(z)) / per_nat
