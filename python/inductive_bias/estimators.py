"""Estimators that read a task's size, intrinsic dimension, radius and class separation off data,
and ``task_difficulty``, which feeds them to the classification bound (docs/methods.md, 2)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from . import _backend, _validation, difficulty
from ._arrays import Array, array_module, as_array, to_host
from .neighbors import nearest_neighbors

__all__ = ["data_radius", "intrinsic_dimension", "class_separation", "task_difficulty", "TaskDifficulty"]


def _labels(y, n: int, xp):
    y, _ = as_array("y", y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y: expected {n} labels (one per row of X), got shape {y.shape}")
    if array_module(y) is not xp:
        y = xp.asarray(to_host(y))
    if y.dtype.kind not in "iub":
        if y.dtype.kind == "f" and bool((y == xp.round(y)).all()):
            y = y.astype(np.int64)
        else:
            # any hashable labels: map to integers
            _, y_int = np.unique(to_host(y), return_inverse=True)
            y = xp.asarray(y_int)
    classes = int(xp.unique(y).size)
    if classes < 2:
        raise ValueError(f"y: needs at least two classes, got {classes}")
    return xp.ascontiguousarray(y.astype(np.int64)), classes


@_backend.on_device_of_first_argument
def data_radius(X: Array) -> float:
    """The largest Euclidean norm of a data point (computed in float64)."""
    X, xp, _ = _validation.points("X", X)
    return float(xp.sqrt((X.astype(np.float64) ** 2).sum(axis=1).max()))


@_backend.on_device_of_first_argument
def intrinsic_dimension(X: Array, k: int = 5, method: str = "mle", n_samples: int | None = None,
                        seed: int = 0) -> float:
    """Intrinsic dimension from exact nearest-neighbour distances T_1 <= ... <= T_k.

    ``"mle"`` (Levina-Bickel, as published): 1 / mean over points and j < k of log(T_k / T_j).
    ``"twonn"`` (Facco et al.): (N - 1) / sum over points of log(T_2 / T_1).
    ``n_samples`` points drawn with ``seed`` serve as queries (neighbours among all points).
    Exact duplicate rows are dropped first (a zero distance has no log).
    """
    if method not in ("mle", "twonn"):
        raise ValueError(f"method: expected 'mle' or 'twonn', got {method!r}")
    X, xp, _ = _validation.points("X", X)
    k = _validation.integer("k", k, 2)
    unique = xp.asarray(np.unique(to_host(X), axis=0))
    n = unique.shape[0]
    if n < k + 1:
        raise ValueError(f"X: needs at least k + 1 = {k + 1} distinct points, got {n}")
    if n_samples is None or n_samples >= n:
        distances, _ = nearest_neighbors(unique, k)
    else:
        n_samples = _validation.integer("n_samples", n_samples, 1)
        rows = np.random.default_rng(_validation.seed(seed)).choice(n, size=n_samples, replace=False)
        distances, _ = nearest_neighbors(unique, k + 1, queries=unique[xp.asarray(rows)])
        distances = distances[:, 1:]  # each query's nearest point is itself
    if method == "mle":
        log_ratios = xp.log(distances[:, k - 1 : k]) - xp.log(distances[:, : k - 1])
        return float(1.0 / log_ratios.mean())
    mu = xp.log(distances[:, 1] / distances[:, 0])
    return float((mu.size - 1) / mu.sum())


@_backend.on_device_of_first_argument
def class_separation(X: Array, y: Array, method: str = "exact", n_samples: int | None = None, seed: int = 0,
                     n_pairs: int = 1_000_000, n_extremes: int = 2000) -> float:
    """The smallest distance between points of different classes.

    ``"exact"``: over all pairs (nearest other-class neighbour of every point). ``"sample"``: exactly
    among ``n_samples`` random points (default 10,000). ``"evt"``: the published extreme-value
    extrapolation: ``n_pairs`` random inter-class pairs, the moment estimator of the extreme-value
    index on the ``n_extremes`` largest inverse distances, extrapolated to all n^2 (1 - 1/classes)
    pairs (never above the smallest sampled distance). 0 means points of different classes coincide.
    """
    if method not in ("exact", "sample", "evt"):
        raise ValueError(f"method: expected 'exact', 'sample' or 'evt', got {method!r}")
    X, xp, _ = _validation.points("X", X)
    labels, classes = _labels(y, X.shape[0], xp)
    rng = np.random.default_rng(_validation.seed(seed))
    if method == "sample":
        n_samples = _validation.integer("n_samples", 10_000 if n_samples is None else n_samples, 2)
        if n_samples < X.shape[0]:
            rows = xp.asarray(rng.choice(X.shape[0], size=n_samples, replace=False))
            X, labels = X[rows], labels[rows]
            if int(xp.unique(labels).size) < 2:
                raise ValueError("n_samples: the sample holds a single class; use more samples")
        method = "exact"
    if method == "exact":
        distances, _ = nearest_neighbors(X, 1, labels=labels)
        return float(distances.min())
    return _evt_separation(X, labels, classes, rng, _validation.integer("n_pairs", n_pairs, 10),
                           _validation.integer("n_extremes", n_extremes, 2), xp)


def _evt_separation(X, labels, classes, rng, n_pairs, n_extremes, xp) -> float:
    n = X.shape[0]
    host_labels = to_host(labels)
    chunks = []
    kept = 0
    while kept < n_pairs:  # inter-class pairs, uniformly
        i = rng.integers(n, size=2 * (n_pairs - kept))
        j = rng.integers(n, size=i.size)
        keep = host_labels[i] != host_labels[j]
        i, j = i[keep][: n_pairs - kept], j[keep][: n_pairs - kept]
        for c0 in range(0, i.size, 65536):
            a, b = xp.asarray(i[c0 : c0 + 65536]), xp.asarray(j[c0 : c0 + 65536])
            diff = X[a].astype(np.float64) - X[b].astype(np.float64)
            chunks.append(to_host(1.0 / xp.sqrt((diff * diff).sum(axis=1))))
        kept += i.size
    inverse = np.sort(np.concatenate(chunks))
    if not np.isfinite(inverse[-1]):
        return 0.0  # a sampled pair of different classes coincides
    if n_extremes >= inverse.size:
        raise ValueError(f"n_extremes: must be below n_pairs ({inverse.size}), got {n_extremes}")
    threshold = inverse[-n_extremes - 1]
    logs = np.log(inverse[-n_extremes:]) - np.log(threshold)
    m1, m2 = logs.mean(), (logs * logs).mean()
    gamma = m1 + 1 - 0.5 / (1 - m1 * m1 / m2)  # moment estimator of the extreme-value index
    scale = n_extremes / n_pairs * n * n * (1 - 1 / classes)
    extreme = threshold * m1 * (scale**gamma - 1) / gamma + threshold if gamma != 0 else threshold * (1 + m1 * math.log(scale))
    return float(min(1.0 / extreme, 1.0 / inverse[-1]))


@dataclass
class TaskDifficulty:
    """One report: the measured quantities, the bound, and how long each step took."""

    bits: float
    log10_bits: float
    n: int
    m: float                # the dimension used (the estimate rounded, as published)
    m_estimate: float
    R: float
    delta: float
    classes: int
    error: float
    bound: difficulty.BoundResult = field(repr=False)
    timings: dict = field(default_factory=dict)


@_backend.on_device_of_first_argument
def task_difficulty(X: Array, y: Array, error: float, k: int = 5, separation: str = "exact", m: float | None = None,
                    n_samples: int | None = None, seed: int = 0) -> TaskDifficulty:
    """Estimate n, m, R, delta from (X, y) and evaluate the classification bound at ``error``.

    ``separation`` is a method of :func:`class_separation` or a number; ``m`` skips the estimate;
    ``n_samples`` bounds the queries of the intrinsic-dimension estimate (and the sample of
    ``separation="sample"``).
    """
    error = difficulty.target_error(error)
    X, xp, _ = _validation.points("X", X)
    labels, classes = _labels(y, X.shape[0], xp)
    timings = {}
    begin = time.perf_counter()
    R = data_radius(X)
    timings["radius_s"] = time.perf_counter() - begin
    begin = time.perf_counter()
    m_estimate = float(m) if m is not None else intrinsic_dimension(X, k=k, n_samples=n_samples, seed=seed)
    timings["intrinsic_dimension_s"] = time.perf_counter() - begin
    begin = time.perf_counter()
    if isinstance(separation, str):
        delta = class_separation(X, labels, method=separation, n_samples=n_samples, seed=seed)
    else:
        delta = float(separation)
    timings["separation_s"] = time.perf_counter() - begin
    m_used = max(1.0, float(round(m_estimate)))
    result = difficulty.classification(X.shape[0], m_used, R, delta, classes, error)
    return TaskDifficulty(bits=result.bits, log10_bits=result.log10_bits, n=X.shape[0], m=m_used,
                          m_estimate=m_estimate, R=R, delta=delta, classes=classes, error=error, bound=result,
                          timings=timings)
