"""Argument checks shared by the public functions: every message names the argument."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._backend import on_device

UINT64_LIMIT = 2**64


def integer(name: str, value, low: int = 0, high: int | None = None) -> int:
    """A Python int in [low, high) (high=None: no upper bound); bools and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    value = int(value)
    if value < low or (high is not None and value >= high):
        bound = f"[{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{name}: must be in {bound}, got {value}")
    return value


def number(name: str, value, low: float = 0.0, allow_low: bool = False, high: float = math.inf) -> float:
    """A finite real number in (low, high] ([low, high] with allow_low); bools and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    value = float(value)
    above = value >= low if allow_low else value > low
    if not (math.isfinite(value) and above and value <= high):
        bound = f"{'[' if allow_low else '('}{low:g}, {high:g}{']' if math.isfinite(high) else ')'}"
        raise ValueError(f"{name}: must be a finite number in {bound}, got {value}")
    return value


def seed(value) -> int:
    return integer("seed", value, 0, UINT64_LIMIT)


def float_dtype(name: str, dtype) -> np.dtype:
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: expected float32 or float64, got {dtype!r}") from None
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected float32 or float64, got {dtype}")
    return dtype


def device(value) -> str:
    if value not in ("cpu", "cuda"):
        raise ValueError(f"device: expected 'cpu' or 'cuda', got {value!r}")
    return value


def finite(name: str, array, xp) -> None:
    with on_device(array):  # checked on the array's own GPU
        if not bool(xp.isfinite(array).all()):
            raise ValueError(f"{name}: contains NaN or infinity")
