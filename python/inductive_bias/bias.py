"""Inductive bias from sampled test losses: the published sample-and-fit estimate.

Fit a scaled non-central chi-squared (loc = 0) to the losses of sampled hypotheses and report
``-log P(loss <= error)`` under the fit, with a Poisson-bootstrap interval, beside the empirical
fraction of losses that reach ``error`` and a flag when ``error`` lies below every sampled loss
(the estimate is then pure extrapolation of the fitted tail).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


from . import _validation
from .ncx2 import Ncx2Fit, ScaledChi2, ScaledNCX2, _as_samples
from ._arrays import Array

__all__ = ["BiasEstimate", "bias_from_losses", "sankaran_bias"]

_DISTRIBUTIONS: dict[str, type[ScaledNCX2]] = {"ncx2": ScaledNCX2, "chi2": ScaledChi2}
_UNITS = {"bits": math.log(2.0), "nats": 1.0}


@dataclass
class BiasEstimate:
    """Inductive bias ``-log P(loss <= error)`` in ``unit``, with its bootstrap interval."""

    value: float
    interval: tuple[float, float] | None
    unit: str
    error: float
    method: str
    distribution: ScaledNCX2
    empirical_fraction: float   # fraction of sampled losses <= error
    empirical_value: float      # -log of that fraction in `unit` (inf when no loss reaches error)
    extrapolated: bool          # error is below every sampled loss
    n_samples: int
    fit: Ncx2Fit = field(repr=False)

    @property
    def bits(self) -> float:
        return self.value * _UNITS[self.unit] / _UNITS["bits"]


def _unit(unit: str) -> float:
    if unit not in _UNITS:
        raise ValueError(f"unit: expected 'bits' or 'nats', got {unit!r}")
    return _UNITS[unit]


def _error(error) -> float:
    return _validation.number("error", error)


def bias_from_losses(losses: Array, error: float, distribution: str = "ncx2", n_boot: int = 200, seed: int = 0,
                     unit: str = "bits", confidence: float = 0.95) -> BiasEstimate:
    """The published estimate of inductive bias from sampled test losses.

    ``losses`` may be any array (NumPy, CuPy, PyTorch, JAX: it is copied to the host, where the fit
    runs); ``distribution`` is ``"ncx2"`` (published) or ``"chi2"``; ``n_boot`` Poisson-bootstrap
    refits give the ``confidence`` interval (``n_boot=0``: none).
    """
    if distribution not in _DISTRIBUTIONS:
        raise ValueError(f"distribution: expected one of {tuple(_DISTRIBUTIONS)}, got {distribution!r}")
    per_nat = _unit(unit)
    error = _error(error)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: must be in (0, 1), got {confidence}")
    samples = _as_samples(losses)
    fit = _DISTRIBUTIONS[distribution].fit(samples, n_boot=n_boot, seed=seed)

    def bias(d: ScaledNCX2) -> float:
        return -d.logcdf(error) / per_nat

    interval = fit.interval(bias, confidence) if n_boot and fit.bootstrap is not None and len(fit.bootstrap) else None
    fraction = float((samples <= error).mean())
    return BiasEstimate(
        value=bias(fit.distribution), interval=interval, unit=unit, error=error,
        method=f"fit-{distribution}", distribution=fit.distribution, empirical_fraction=fraction,
        empirical_value=-math.log(fraction) / per_nat if fraction > 0 else math.inf,
        extrapolated=error < float(samples.min()), n_samples=samples.size, fit=fit)


def sankaran_bias(df: float, nc: float, scale: float, error: float, unit: str = "bits") -> float:
    """The published fallback: Sankaran's normal approximation to the ncx2 CDF at ``error / scale``,
    reported as ``z^2 / 2`` (it drops the ``log(|z| sqrt(2 pi))`` term, 5-9 % off). Kept only to
    compare with; ``ScaledNCX2(df, nc, scale).logcdf(error)`` is the accurate value."""
    distribution = ScaledNCX2(df, nc, scale)  # validates df, nc, scale
    per_nat = _unit(unit)
    x = _error(error) / distribution.scale
    df, nc = distribution.df, distribution.nc
    h = 1 - 2 / 3 * (df + nc) * (df + 3 * nc) / (df + 2 * nc) ** 2
    p = (df + 2 * nc) / (df + nc) ** 2
    m = (h - 1) * (1 - 3 * h)
    z = ((x / (df + nc)) ** h - (1 + h * p * (h - 1 - 0.5 * (2 - h) * m * p))) / (h * math.sqrt(2 * p) * (1 + 0.5 * m * p))
    return z * z / 2 / per_nat
