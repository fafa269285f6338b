"""Estimators of a task's intrinsic dimension, radius and class separation, and the bound they feed.

The estimators read a task's size, intrinsic dimension, radius and class separation off data, and
``task_difficulty`` feeds them to the classification bound (docs/methods.md, 2).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import _backend, _validation, difficulty, reliability
from ._arrays import Array, array_module, as_array, to_host
from .neighbors import nearest_neighbors

__all__ = ["data_radius", "intrinsic_dimension", "class_separation", "task_difficulty", "TaskDifficulty"]

# Fewer query points than this leave intrinsic_dimension's average of logs with a relative spread of
# order 1 / sqrt(queries (k - 1)) ~ 0.25 or more (twonn: 1 / sqrt(queries)): an EstimatorWarning.
MIN_QUERIES = 20


def _labels(y, n: int, xp):
    y, _ = as_array("y", y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y: expected {n} labels (one per row of X), got shape {y.shape}")
    if array_module(y) is not xp:
        y = xp.asarray(to_host(y))
    if y.dtype.kind == "f" and not bool(xp.isfinite(y).all()):
        raise ValueError("y: contains NaN or infinity")
    if y.dtype.kind not in "iub":
        # whole floats as integers, where int64 holds them (1e300 would cast to garbage)
        if y.dtype.kind == "f" and bool((y == xp.round(y)).all()) and float(xp.abs(y).max()) < 2.0**63:
            y = y.astype(np.int64)
        else:
            # any hashable labels: map to integers
            try:
                _, y_int = np.unique(to_host(y), return_inverse=True)
            except TypeError as error:  # e.g. strings mixed with numbers
                raise TypeError(f"y: labels must be of one kind that can be sorted ({error})") from None
            y = xp.asarray(y_int)
    classes = int(xp.unique(y).size)
    if classes < 2:
        raise ValueError(f"y: needs at least two classes, got {classes}")
    return xp.ascontiguousarray(y.astype(np.int64)), classes


def _for_distances(X):
    """X for distance computations: floats as they are; integers as float64 after shifting each column to
    start at 0 in integer arithmetic (exact modulo 2^64), so that rows differing by less than the
    float64 spacing of their values (int64 above 2^53) stay distinct. Distances do not change."""
    if X.dtype.kind not in "iu":
        return X
    low = X.min(axis=0)
    return (X.astype(np.uint64) - low.astype(np.uint64)).astype(np.float64)


@_backend.on_device_of_first_argument
def data_radius(X: Array) -> float:
    """The radius ``R`` of the data: the largest Euclidean norm of a data point.

    Norms are taken from the origin, in the data's own scaling, and computed in float64.

    Parameters
    ----------
    X : array [n, d]
        Points (a vector ``[n]`` is ``n`` points of one feature); NumPy runs on the CPU, CuPy on
        the GPU, other DLPack producers (PyTorch, JAX) through them.

    Returns
    -------
    float
        ``max_i |X[i]|``.

    Raises
    ------
    TypeError
        If ``X`` is not an array of real numbers.
    ValueError
        If ``X`` is not ``[n, d]`` (or ``[n]``), is empty, or contains NaN or infinity.

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> ib.data_radius(np.array([[0.0, 1.0], [3.0, 4.0]]))
    5.0
    """
    X, xp, _ = _validation.points("X", X)
    return float(xp.sqrt((X.astype(np.float64) ** 2).sum(axis=1).max()))


@_backend.on_device_of_first_argument
def intrinsic_dimension(
    X: Array,
    k: int = 5,
    method: str = "mle",
    n_samples: int | None = None,
    seed: Any = 0,
    progress: bool | Callable = False,
) -> float:
    """Intrinsic dimension ``m`` from exact nearest-neighbour distances ``T_1 <= ... <= T_k``.

    ``"mle"`` (Levina-Bickel, as published): 1 / mean over points and j < k of log(T_k / T_j).
    ``"twonn"`` (Facco et al.): (N - 1) / sum over points of log(T_2 / T_1).
    ``n_samples`` points drawn with ``seed`` serve as queries (neighbours among all points).
    Exact duplicate rows (as float64) are dropped first (a zero distance has no log). The estimate
    is biased low in high dimensions with few points, and noisy with fewer than 20 queries (an
    ``EstimatorWarning``).

    Parameters
    ----------
    X : array [n, d]
        Points (``[n]``: one feature); NumPy runs on the CPU, CuPy on the GPU.
    k : int
        Neighbours per point, ``>= 2`` (5 as published); ``"twonn"`` uses the first two.
    method : {"mle", "twonn"}
        The estimator.
    n_samples : int, optional
        Number of query points drawn without replacement (``None``, or at least the number of
        distinct points: every point is a query).
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seeds the choice of query points.
    progress : bool or callable
        A tqdm bar over the neighbour search's distance tiles when stderr is a terminal, or
        ``progress(done, total)`` calls.

    Returns
    -------
    float
        The estimated dimension (not rounded).

    Raises
    ------
    ValueError
        If ``method`` is unknown, ``k < 2``, ``X`` has fewer than ``k + 1`` distinct points,
        ``n_samples < 1``, or ``X`` is not ``[n, d]`` or holds NaN or infinity.
    TypeError
        If ``k`` or ``n_samples`` is not an integer, or ``X`` is not an array of real numbers.

    Warns
    -----
    EstimatorWarning
        With fewer than 20 query points (``n_samples`` or the distinct points), or when many points
        have tied neighbour distances.

    Examples
    --------
    Points on a plane inside five dimensions:

    >>> import numpy as np, inductive_bias as ib
    >>> X = np.zeros((500, 5))
    >>> X[:, :2] = np.random.default_rng(0).standard_normal((500, 2))
    >>> round(ib.intrinsic_dimension(X, k=5), 1)
    2.0
    """
    if method not in ("mle", "twonn"):
        raise ValueError(f"method: expected 'mle' or 'twonn', got {method!r}")
    X, xp, _ = _validation.points("X", X)
    k = _validation.integer("k", k, 2)
    if n_samples is not None:
        n_samples = _validation.integer("n_samples", n_samples, 1)
    seed = _validation.seed(seed)  # checked whether or not it is used
    # Distinct as the values the distances are computed from: a pair of rows that coincided only
    # after a conversion would give a zero distance.
    unique = xp.asarray(np.unique(to_host(_for_distances(X)), axis=0))
    n = unique.shape[0]
    if n < k + 1:
        raise ValueError(f"X: needs at least k + 1 = {k + 1} distinct points, got {n}")
    queries = n if n_samples is None else min(n_samples, n)
    if queries < MIN_QUERIES:
        reliability.warn(
            reliability.EstimatorWarning,
            f"{'n_samples' if queries < n else 'X'}: the {method} estimate averages over only {queries} query points "
            f"(fewer than {MIN_QUERIES}): its spread is of the order of the estimate itself",
        )
    if n_samples is None or n_samples >= n:
        distances, _ = nearest_neighbors(unique, k, progress=progress)
    else:
        rows = np.random.default_rng(seed).choice(n, size=n_samples, replace=False)
        distances, _ = nearest_neighbors(unique, k + 1, queries=unique[xp.asarray(rows)], progress=progress)
        distances = distances[:, 1:]  # each query's nearest point is itself
    if method == "mle":
        log_ratios = xp.log(distances[:, k - 1 : k]) - xp.log(distances[:, : k - 1])
        tied = float((distances[:, k - 1] == distances[:, 0]).mean())  # every log ratio of the point is 0
        estimate = float(1.0 / log_ratios.mean()) if float(log_ratios.mean()) > 0 else math.inf
    else:
        mu = xp.log(distances[:, 1] / distances[:, 0])
        tied = float((distances[:, 1] == distances[:, 0]).mean())
        estimate = float((mu.size - 1) / mu.sum()) if float(mu.sum()) > 0 else math.inf
    ambient = X.shape[1]
    if not math.isfinite(estimate) or (tied > 0.01 and estimate > ambient):
        raise ValueError(
            f"X: the {method} estimate {estimate:.3g} exceeds the {ambient} features: {100 * tied:.0f} % of the points "
            f"have tied neighbour distances (lattice or repeated values), where the estimator does not hold; give "
            f"the dimension yourself (task_difficulty(m=...))"
        )
    if tied > 0.01:
        reliability.warn(
            reliability.EstimatorWarning,
            f"X: {100 * tied:.0f} % of the points have tied neighbour distances (lattice or repeated values): the "
            f"{method} intrinsic dimension {estimate:.3g} is biased by them",
        )
    return estimate


@_backend.on_device_of_first_argument
def class_separation(
    X: Array,
    y: Array,
    method: str = "exact",
    n_samples: int | None = None,
    seed: int = 0,
    n_pairs: int = 1_000_000,
    n_extremes: int = 2000,
    progress: bool | Callable = False,
) -> float:
    """The class separation ``delta``: the smallest distance between points of different classes.

    ``"exact"``: over all pairs (nearest other-class neighbour of every point). ``"sample"``: exactly
    among ``n_samples`` random points (default 10,000). ``"evt"``: the published extreme-value
    extrapolation: ``n_pairs`` random inter-class pairs, the moment estimator of the extreme-value
    index on the ``n_extremes`` largest inverse distances, extrapolated to all ``n^2 - sum_c n_c^2``
    ordered inter-class pairs (the published ``n^2 (1 - 1/classes)`` for balanced classes; never above
    the smallest sampled distance); pairs are drawn directly among inter-class ones, and where there
    are no more of them than ``n_pairs`` they are all measured (the exact answer). 0 means points of
    different classes coincide.

    Parameters
    ----------
    X : array [n, d]
        Points (``[n]``: one feature); NumPy runs on the CPU, CuPy on the GPU.
    y : array [n]
        Labels, one per row of ``X``, at least two classes: integers, whole floats, or any values
        NumPy can sort (strings).
    method : {"exact", "sample", "evt"}
        How the minimum is found.
    n_samples : int, optional
        Points drawn for ``"sample"`` (``>= 2``; default 10,000); ignored otherwise.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seeds the random points (``"sample"``) or pairs (``"evt"``).
    n_pairs : int
        Inter-class pairs drawn for ``"evt"``, ``>= 10``.
    n_extremes : int
        Largest inverse distances the ``"evt"`` tail estimate uses, ``>= 2`` and below ``n_pairs``.
    progress : bool or callable
        Progress of the exact neighbour search (``"exact"``, ``"sample"``), as for
        :func:`inductive_bias.nearest_neighbors`.

    Returns
    -------
    float
        The separation, ``>= 0``.

    Raises
    ------
    ValueError
        If ``method`` is unknown; ``y`` does not hold one label per row of ``X`` or has a single
        class; the ``"sample"`` draw holds a single class (``n_samples``); ``n_pairs``,
        ``n_extremes`` or ``n_samples`` is out of range; or ``X`` is not ``[n, d]`` or holds NaN
        or infinity.
    TypeError
        If ``X`` is not an array of real numbers, or an integer argument is not an integer.

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> X = np.array([[0.0], [1.0], [2.5], [4.0]])
    >>> ib.class_separation(X, np.array([0, 0, 1, 1]))
    1.5
    >>> ib.class_separation(X, np.array(["a", "b", "a", "b"]))
    1.0
    """
    if method not in ("exact", "sample", "evt"):
        raise ValueError(f"method: expected 'exact', 'sample' or 'evt', got {method!r}")
    X, xp, _ = _validation.points("X", X)
    labels, _ = _labels(y, X.shape[0], xp)
    X = _for_distances(X)
    rng = np.random.default_rng(_validation.seed(seed))
    if method == "sample":
        n_samples = _validation.integer("n_samples", 10_000 if n_samples is None else n_samples, 2)
        if n_samples < X.shape[0]:
            rows = xp.asarray(rng.choice(X.shape[0], size=n_samples, replace=False))
            X, labels = X[rows], labels[rows]
            if int(xp.unique(labels).size) < 2:
                raise ValueError("n_samples: the sample holds a single class; use more samples")
        method = "exact"
    if method == "evt":
        n_pairs = _validation.integer("n_pairs", n_pairs, 10)
        counts = np.bincount(to_host(labels))
        if (X.shape[0] ** 2 - int((counts.astype(np.int64) ** 2).sum())) // 2 <= n_pairs:
            method = "exact"  # no more inter-class pairs than would be sampled: measure them all
    if method == "exact":
        distances, _ = nearest_neighbors(X, 1, labels=labels, progress=progress)
        return float(distances.min())
    return _evt_separation(
        X,
        labels,
        rng,
        n_pairs,
        _validation.integer("n_extremes", n_extremes, 2),
        xp,
    )


def _inter_class_pairs(labels: np.ndarray, size: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``size`` ordered pairs (i, j) drawn uniformly among those with different labels, directly (no
    rejection, which a rare class would make take ~1 / P(inter-class pair) draws): i with probability
    proportional to its points of other classes, then j uniformly among those."""
    n = labels.size
    order = np.argsort(labels, kind="stable")  # points grouped by class
    counts = np.bincount(labels)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    others = n - counts[labels]
    i = rng.choice(n, size=size, p=others / others.sum())
    r = (rng.random(size) * others[i]).astype(np.int64)  # the r-th point outside i's class
    block = labels[i]
    r = np.where(r < starts[block], r, r + counts[block])
    return i, order[np.minimum(r, n - 1)]


def _evt_separation(X, labels, rng, n_pairs, n_extremes, xp) -> float:
    n = X.shape[0]
    host_labels = to_host(labels)
    i, j = _inter_class_pairs(host_labels, n_pairs, rng)
    chunks = []
    for c0 in range(0, i.size, 65536):
        a, b = xp.asarray(i[c0 : c0 + 65536]), xp.asarray(j[c0 : c0 + 65536])
        diff = X[a].astype(np.float64) - X[b].astype(np.float64)
        chunks.append(to_host(1.0 / xp.sqrt((diff * diff).sum(axis=1))))
    inverse = np.sort(np.concatenate(chunks))
    if not np.isfinite(inverse[-1]):
        return 0.0  # a sampled pair of different classes coincides
    if n_extremes >= inverse.size:
        raise ValueError(f"n_extremes: must be below n_pairs ({inverse.size}), got {n_extremes}")
    threshold = inverse[-n_extremes - 1]
    logs = np.log(inverse[-n_extremes:]) - np.log(threshold)
    m1, m2 = logs.mean(), (logs * logs).mean()
    gamma = m1 + 1 - 0.5 / (1 - m1 * m1 / m2)  # moment estimator of the extreme-value index
    # to all ordered inter-class pairs: n^2 - sum n_c^2 (the published n^2 (1 - 1/classes) when classes are balanced)
    scale = n_extremes / n_pairs * float(n * n - (np.bincount(host_labels).astype(np.float64) ** 2).sum())
    extreme = (
        threshold * m1 * (scale**gamma - 1) / gamma + threshold
        if gamma != 0
        else threshold * (1 + m1 * math.log(scale))
    )
    return float(min(1.0 / extreme, 1.0 / inverse[-1]))


@dataclass
class TaskDifficulty:
    """One task-difficulty report: the measured quantities, the bound, and how long each step took.

    Returned by :func:`task_difficulty`.

    Parameters
    ----------
    bits, log10_bits : float
        The bound and its base-10 log.
    n : int
        Number of points.
    m, m_estimate : float
        The dimension used and the estimate.
    R, delta : float
        Radius and class separation.
    classes : int
        Number of classes.
    error : float
        Target error.
    bound : difficulty.BoundResult
        The full bound.
    timings : dict
        Seconds per step.

    Attributes
    ----------
    bits : float
        The bound in bits (``inf`` when ``delta = 0``, NaN when the bound is vacuous: see
        ``bound.reason``).
    log10_bits : float
        ``log10(bits)``, finite where ``bits`` overflows.
    n : int
        Number of points.
    m : float
        The intrinsic dimension used: the estimate rounded to a whole number, at least 1, as
        published.
    m_estimate : float
        The intrinsic dimension as estimated (or as given).
    R : float
        Radius of the data (:func:`data_radius`).
    delta : float
        Class separation (:func:`class_separation`, or as given).
    classes : int
        Number of classes.
    error : float
        Target error.
    bound : difficulty.BoundResult
        The classification bound with its intermediate quantities (not shown by ``repr``).
    timings : dict of str to float
        Seconds spent on each step: ``"radius_s"``, ``"intrinsic_dimension_s"``,
        ``"separation_s"``.

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> X = np.random.default_rng(0).standard_normal((200, 3))
    >>> report = ib.task_difficulty(X, (X[:, 0] > 0).astype(int), error=0.01, m=3)
    >>> report.n, report.m, report.classes, sorted(report.timings)
    (200, 3.0, 2, ['intrinsic_dimension_s', 'radius_s', 'separation_s'])
    """

    bits: float
    log10_bits: float
    n: int
    m: float  # the dimension used (the estimate rounded, as published)
    m_estimate: float
    R: float
    delta: float
    classes: int
    error: float
    bound: difficulty.BoundResult = field(repr=False)
    timings: dict = field(default_factory=dict)


@_backend.on_device_of_first_argument
def task_difficulty(
    X: Array,
    y: Array,
    error: float,
    k: int = 5,
    separation: str = "exact",
    m: float | None = None,
    n_samples: int | None = None,
    seed: Any = 0,
    progress: bool | Callable = False,
) -> TaskDifficulty:
    """The difficulty of a classification task in bits, from its data alone.

    Estimates ``n``, ``m``, ``R`` and ``delta`` from ``(X, y)`` and evaluates the classification
    bound (:func:`inductive_bias.difficulty.classification`) at ``error``, with ``m`` rounded to a
    whole number (at least 1) as published.

    Parameters
    ----------
    X : array [n, d]
        Points (``[n]``: one feature); NumPy runs on the CPU, CuPy on the GPU.
    y : array [n]
        Labels, one per row of ``X``, at least two classes.
    error : float
        Target error, in ``(0, 1]``.
    k : int
        Neighbours of the intrinsic-dimension estimate (:func:`intrinsic_dimension`).
    separation : {"exact", "sample", "evt"} or float
        A method of :func:`class_separation`, or the separation itself.
    m : float, optional
        The intrinsic dimension, skipping the estimate (it is rounded like an estimate).
    n_samples : int, optional
        Bounds the queries of the intrinsic-dimension estimate (and the sample of
        ``separation="sample"``).
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seeds the random choices of the estimators (turned into one key first: a Generator is
        advanced once).
    progress : bool or callable
        Progress of the neighbour searches, as for :func:`inductive_bias.nearest_neighbors`.

    Returns
    -------
    TaskDifficulty
        The bits, the measured quantities, the bound and the time of each step.

    Raises
    ------
    ValueError
        If ``error`` is not in ``(0, 1]``, ``y`` does not hold one label per row of ``X`` or has a
        single class, ``X`` is not ``[n, d]`` or holds NaN or infinity, or an estimator argument is
        out of range (see :func:`intrinsic_dimension` and :func:`class_separation`).
    TypeError
        If ``X`` is not an array of real numbers, or ``error`` is not a number.

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> X = np.random.default_rng(0).standard_normal((200, 3))
    >>> report = ib.task_difficulty(X, (X[:, 0] > 0).astype(int), error=0.01)
    >>> report.m, bool(report.bits > 0), report.bound.vacuous
    (3.0, True, False)
    """
    error = difficulty.target_error(error)
    seed = _validation.seed(seed)  # once: a Generator advances once per call
    if isinstance(separation, str):
        if separation not in ("exact", "sample", "evt"):
            raise ValueError(f"separation: expected 'exact', 'sample', 'evt' or a number, got {separation!r}")
    else:
        separation = _validation.number("separation", separation, allow_low=True)
    X, xp, _ = _validation.points("X", X)
    labels, classes = _labels(y, X.shape[0], xp)
    timings = {}
    begin = time.perf_counter()
    R = data_radius(X)
    timings["radius_s"] = time.perf_counter() - begin
    begin = time.perf_counter()
    if m is not None:
        m_estimate = _validation.number("m", m)  # a dimension: positive, finite
    else:
        m_estimate = intrinsic_dimension(X, k=k, n_samples=n_samples, seed=seed, progress=progress)
    timings["intrinsic_dimension_s"] = time.perf_counter() - begin
    begin = time.perf_counter()
    if isinstance(separation, str):
        delta = class_separation(X, labels, method=separation, n_samples=n_samples, seed=seed, progress=progress)
    else:
        delta = separation
    timings["separation_s"] = time.perf_counter() - begin
    m_used = max(1.0, float(round(m_estimate)))
    result = difficulty.classification(X.shape[0], m_used, R, delta, classes, error)
    return TaskDifficulty(
        bits=result.bits,
        log10_bits=result.log10_bits,
        n=X.shape[0],
        m=m_used,
        m_estimate=m_estimate,
        R=R,
        delta=delta,
        classes=classes,
        error=error,
        bound=result,
        timings=timings,
    )
