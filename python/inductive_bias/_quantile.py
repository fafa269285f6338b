"""Quantiles from log probabilities for the library's distributions (ppf / isf).

``solve`` finds, per target ``log_q``, the x with ``log P(X <= x) = log_q`` (``upper``: ``log P(X > x)``)
by Newton's method safeguarded by a bracket: for the lower tail in ``u = log(x - low)``, where the
log-CDF of a positive variable is asymptotically linear (so log_q = -1e6 converges like the bulk),
for the upper tail in ``x`` itself, where the log-survival function is asymptotically linear.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from . import _validation

_ITERATIONS = 300


def targets(q, log_q) -> np.ndarray:
    """The log probabilities asked for, from exactly one of ``q`` (in [0, 1]) or ``log_q`` (<= 0)."""
    if (q is None) == (log_q is None):
        raise TypeError("q, log_q: give exactly one of them")
    if q is not None:
        q = _validation.real("q", q)
        if np.any(np.isnan(q)) or np.any((q < 0) | (q > 1)):
            raise ValueError("q: probabilities must lie in [0, 1]")
        with np.errstate(divide="ignore"):
            return np.log(q)
    log_q = _validation.real("log_q", log_q)
    if np.any(np.isnan(log_q)) or np.any(log_q > 0):
        raise ValueError("log_q: log probabilities must be <= 0")
    return log_q


def solve(
    log_q: np.ndarray, upper: bool, log_cdf: Callable, log_sf: Callable, log_pdf: Callable, low: float, start: float
) -> float | np.ndarray:
    """x per entry of log_q (same shape); ``low`` is the lower end of the support, ``start`` > 0 a
    typical value of x - low (the mean's). A probability above 1/2 is solved for in the other tail,
    log(1 - q), where its digits are."""
    flat = np.asarray(log_q, dtype=np.float64).ravel()
    out = np.array([_one(float(v), upper, log_cdf, log_sf, log_pdf, low, start) for v in flat])
    return out.reshape(np.shape(log_q)) if np.ndim(log_q) else float(out[0])


def _one(
    target: float, upper: bool, log_cdf: Callable, log_sf: Callable, log_pdf: Callable, low: float, start: float
) -> float:
    if target == 0.0:  # P = 1: the whole support
        return low if upper else math.inf
    if target == -math.inf:
        return math.inf if upper else low
    if target > -math.log(2.0):
        target, upper = math.log(-math.expm1(target)), not upper
    log_tail = log_sf if upper else log_cdf

    def f(v):  # (log tail - target, its derivative in the solve variable)
        y = _exp(v) if not upper else v
        x = low + y
        tail = float(log_tail(np.array([x]))[0])
        try:
            density = float(log_pdf(np.array([x]))[0])
        except ValueError:  # no density here (its integral failed): the secant step instead
            return tail - target, math.nan
        # exp of a log (density / tail, times y for the lower tail) capped at inf: the density of a
        # distribution of scale 1e-320 is ~1e320 (math.exp raised OverflowError there).
        log_slope = density - tail + (0.0 if upper else v)
        slope = math.exp(log_slope) if math.isfinite(tail) and log_slope < 709.0 else math.inf
        if upper:
            return tail - target, -slope
        return tail - target, slope  # d log F / d log y

    # The residual must rise (lower tail) or fall (upper tail) to 0: `more` says x must grow.
    def more(residual):
        return residual < 0 if not upper else residual > 0

    # Below y_min = x's resolution above low, x is low in double precision. 1e-300 for a typical
    # value `start` >= 1, relatively lower for smaller ones (a scale of 1e-320 has its quantiles
    # there), never below the smallest positive double.
    y_min = max(1e-300 * min(start, 1.0), 5e-324, abs(low) * 2.0**-52)
    v_min = math.log(y_min) if not upper else y_min
    v = math.log(start) if not upper else start
    value, slope = f(v)
    lo = hi = None
    step = 1.0 if not upper else start
    while lo is None or hi is None:  # bracket by steps that double
        if more(value):
            lo = v
            v = v + step
        else:
            hi = v
            v = max(v - step, v_min) if not upper else max(v / 2.0, v_min)
            if hi == v_min:  # the quantile lies within rounding of the support's lower end
                return low
        step *= 2.0
        value, slope = f(v)
    if more(value):  # the last evaluation may tighten the bracket
        lo = max(lo, v)
    else:
        hi = min(hi, v)
    # Newton inside [lo, hi], bisecting whenever a step would leave it.
    v = 0.5 * (lo + hi)
    value, slope = f(v)
    previous = None
    for _ in range(_ITERATIONS):
        if abs(value) <= 1e-15 * abs(target):  # |target| >= log 2
            break
        if more(value):
            lo = v
        else:
            hi = v
        if math.isnan(slope) and previous is not None and previous[0] != v:
            slope = (value - previous[1]) / (v - previous[0])
        previous = (v, value)
        candidate = v - value / slope if slope and math.isfinite(slope) else math.nan
        if not (lo < candidate < hi):
            candidate = 0.5 * (lo + hi)
        tolerance = 4e-16 * (max(abs(v), 1.0) if not upper else abs(v))
        if abs(candidate - v) <= tolerance or hi - lo <= tolerance:
            v = candidate
            break
        v = candidate
        value, slope = f(v)
    return low + (_exp(v) if not upper else v)


def _exp(v: float) -> float:
    """e^v, inf beyond the double range (a quantile above 1.8e308) where math.exp raises OverflowError."""
    return math.exp(v) if v < 709.78 else math.inf
