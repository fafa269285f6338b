"""Argument checks shared by the public functions: every message names the argument."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._arrays import array_module, as_array, to_host
from ._backend import on_device

UINT64_LIMIT = 2**64


def integer(name: str, value, low: int = 0, high: int | None = None) -> int:
    """A Python int in [low, high) (high=None: no upper bound); bools and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    value = int(value)
    if value < low or (high is not None and value >= high):
        bound = f"in [{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{name}: must be {bound}, got {value}")
    return value


def number(name: str, value, low: float = 0.0, allow_low: bool = False, high: float = math.inf) -> float:
    """A finite real number in (low, high] ([low, high] with allow_low); bools and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the double range (10**400): name it, not "int too large"
        raise ValueError(f"{name}: must be a finite number, got an integer beyond the double range") from None
    above = value >= low if allow_low else value > low
    if not (math.isfinite(value) and above and value <= high):
        bound = f"{'[' if allow_low else '('}{low:g}, {high:g}{']' if math.isfinite(high) else ')'}"
        raise ValueError(f"{name}: must be a finite number in {bound}, got {value}")
    return value


def target_errors(value, name: str = "error") -> np.ndarray:
    """Target errors as a float64 array of the input's shape (0-d for a number), each finite and > 0."""
    if np.ndim(value) == 0:
        if not isinstance(value, (numbers.Real, str, bytes)) and hasattr(value, "__array__"):
            value = np.asarray(value)[()]  # 0-d NumPy, PyTorch, JAX arrays
        return np.asarray(number(name, value))
    array = np.asarray(value)
    if array.size == 0:
        raise ValueError(f"{name}: expected at least one target error")
    return np.array([number(name, v) for v in array.ravel().tolist()]).reshape(array.shape)


def shaped_like(values, errors: np.ndarray):
    """``values`` (one per error) in the shape of ``errors`` from :func:`target_errors`: a Python scalar
    for a 0-d ``errors``, else an array."""
    values = np.asarray(values).reshape(errors.shape)
    return values.item() if errors.ndim == 0 else values


def probability(name: str, value) -> float:
    """A number strictly between 0 and 1 (a confidence level)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    value = float(value)
    if not 0.0 < value < 1.0:  # one message with the one accepted range, for 0, 1, NaN alike
        raise ValueError(f"{name}: must be a number in (0, 1), got {value}")
    return value


def seed(value, name: str = "seed") -> int:
    """The 64-bit Philox key of a seed given as NumPy accepts one.

    - an ``int`` in [0, 2^64): the key itself;
    - a ``numpy.random.SeedSequence``: ``generate_state(2, uint32)``, low word first, so the same
      SeedSequence (entropy and spawn key) always gives the same key and the same hypotheses;
    - a ``numpy.random.Generator``: one ``integers(0, 2^64, dtype=uint64)`` draw, which advances it
      (as seeding anything from a Generator does).
    """
    if isinstance(value, np.random.SeedSequence):
        low, high = (int(word) for word in value.generate_state(2, np.uint32))
        return low | (high << 32)
    if isinstance(value, np.random.Generator):
        return int(value.integers(0, UINT64_LIMIT, dtype=np.uint64))
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name}: expected an int, a numpy.random.SeedSequence or a numpy.random.Generator, "
            f"got {type(value).__name__}"
        )
    return integer(name, value, 0, UINT64_LIMIT)


UNITS = {"bits": math.log(2.0), "nats": 1.0}  # nats per unit


def per_nat(unit: str) -> float:
    """Nats in one ``unit`` ("bits" or "nats"): a value in nats divided by this is in ``unit``."""
    if unit not in UNITS:
        raise ValueError(f"unit: expected 'bits' or 'nats', got {unit!r}")
    return UNITS[unit]


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


def client_device(value, client) -> str:
    """``device`` of the sampling functions: "cpu" or "cuda", and "cuda" only with a Dask ``client``
    (it picks the workers' device; without one the arrays' own device is used: CuPy runs on its GPU)."""
    value = device(value)
    if value != "cpu" and client is None:
        raise ValueError(
            f"device: {value!r} applies only to the workers of a Dask client; without client= the arrays' own "
            f"device is used (pass CuPy arrays to run on a GPU)"
        )
    return value


# Entries beyond it (or below its inverse) have squares that overflow (underflow) double precision.
LARGEST_VALUE = 1e150


def points(name: str, X):
    """(X [n, d], its array module, restore): real points as a NumPy or CuPy array ([n] is one feature),
    finite, at least one point and one feature."""
    X, restore = as_array(name, X)
    xp = array_module(X)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"{name}: expected shape [n, d], got {X.shape}")
    if X.dtype.kind not in "fiu":
        raise TypeError(f"{name}: expected real numbers, got {X.dtype}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name}: needs at least one point and one feature, got shape {X.shape}")
    finite(name, X, xp)
    if X.dtype.kind == "f":
        largest = float(xp.abs(X).max())
        if largest > LARGEST_VALUE or 0 < largest < 1.0 / LARGEST_VALUE:
            raise ValueError(
                f"{name}: entries reach {largest:g} in magnitude, so squared distances and inner products "
                f"{'overflow' if largest > 1 else 'underflow'} in double precision; rescale the data"
            )
    return X, xp, restore


def _one_hot_as_given(low: int, high: int, distinct: int) -> bool:
    """Whether labels in [low, high] with ``distinct`` values are one-hot encoded over 0 .. high as they
    are (the published convention: a class absent from the data keeps its column), rather than by
    rank: non-negative, and at most half of those columns empty (labels 0, 10^6, 2 10^6 are not)."""
    return low >= 0 and high + 1 <= 2 * distinct


def label_codes(labels: list) -> tuple[list, int]:
    """(codes, classes): integer label arrays (of train and test) and the number of one-hot outputs.
    Labels 0 .. C-1 (a few classes may be absent) are returned as they are, with C = largest + 1 (the
    published convention, bitwise); negative or sparse labels become their rank among the distinct
    labels of all arrays together, as the .csv reader and ``class_separation`` do."""
    joined = labels
    if len({y.dtype for y in labels}) > 1:  # int64 with uint64 would concatenate as float64
        joined = [y.astype(object) for y in labels]
    values, inverse = np.unique(np.concatenate(joined), return_inverse=True)
    if _one_hot_as_given(int(values[0]), int(values[-1]), int(values.size)):
        return labels, int(values[-1]) + 1
    classes = int(values.size)
    bounds = np.cumsum([y.size for y in labels])[:-1]
    return np.split(inverse.reshape(-1), bounds), classes


def targets(name: str, Y, n: int, xp, classes: int | None = None):
    """Targets ``[n, k]`` float64 on ``xp``: integer labels ``[n]`` become one-hot over ``classes``
    (default: the largest label + 1, refused when most of those columns would be empty); real targets
    ``[n, k]`` are used as they are. The one place labels become targets (``label_codes`` maps
    arbitrary labels to 0 .. C-1 first)."""
    Y, _ = as_array(name, Y)
    if array_module(Y) is not xp:
        Y = xp.asarray(to_host(Y))
    if Y.ndim == 1:
        if Y.dtype.kind not in "iu":
            raise TypeError(f"{name}: labels of shape [n] must be integers, got {Y.dtype}")
        if Y.shape[0] != n:
            raise ValueError(f"{name}: expected {n} labels, got {Y.shape[0]}")
        low, high = (int(Y.min()), int(Y.max())) if n else (0, -1)
        if classes is None:
            distinct = int(xp.unique(Y).size)
            if not _one_hot_as_given(min(low, 0), high, distinct):  # 0, 10^6, 2 10^6: a vast, empty one-hot
                raise ValueError(
                    f"{name}: labels up to {high} would be one-hot encoded over {high + 1} outputs for {distinct} "
                    f"distinct labels; give labels 0 .. C-1 (np.unique(y, return_inverse=True)[1])"
                )
            classes = high + 1
        if low < 0 or high >= classes:
            raise ValueError(f"{name}: labels must lie in [0, {classes}), got values in [{low}, {high}]")
        return (Y[:, None] == xp.arange(classes)[None, :]).astype(np.float64)
    outputs = "k" if classes is None else classes
    if Y.ndim != 2 or Y.shape[0] != n or (classes is not None and Y.shape[1] != classes):
        raise ValueError(
            f"{name}: expected shape [{n}, {outputs}] (real targets) or [{n}] (integer labels), got {Y.shape}"
        )
    if Y.dtype.kind != "f":
        raise TypeError(f"{name}: expected floating targets of shape [{n}, {outputs}], got {Y.dtype}")
    finite(name, Y, xp)
    largest = float(xp.abs(Y).max()) if Y.size else 0.0
    if largest > LARGEST_VALUE or 0 < largest < 1.0 / LARGEST_VALUE:
        raise ValueError(
            f"{name}: entries reach {largest:g} in magnitude, so squared errors "
            f"{'overflow' if largest > 1 else 'underflow'} in double precision; rescale the targets"
        )
    return Y.astype(np.float64)


def real(name: str, values) -> np.ndarray:
    """``values`` as float64, refusing anything but real numbers: complex (its imaginary part would be
    dropped), bool (True would be a weight of 1), strings (``'2'`` would be parsed) and objects (None)."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):  # ragged nested sequences
        raise TypeError(f"{name}: expected real numbers, got {type(values).__name__}") from None
    if array.dtype.kind not in "fiu":
        kind = {"b": "bool", "c": "complex", "U": "str", "S": "bytes", "O": "object"}.get(array.dtype.kind)
        raise TypeError(f"{name}: expected real numbers, got {kind or array.dtype}")
    return array.astype(np.float64, copy=False)


def finite(name: str, array, xp) -> None:
    with on_device(array):  # checked on the array's own GPU
        if not bool(xp.isfinite(array).all()):
            raise ValueError(f"{name}: contains NaN or infinity")
