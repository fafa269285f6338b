"""Conditionally exact inductive bias of finite random-feature networks.

Given its random hidden layers (the features ``F`` of the training points and ``G`` of the test
points), a ``RandomFeatureSpace`` hypothesis's output layer is its Gaussian initialization ``c0``
plus the minimum-norm change that fits the training targets, ``c = c0 + F^T (F F^T)^-1 (Y - F c0)``:
a Gaussian vector. Its test outputs ``G c`` are Gaussian with mean ``G F^T (F F^T)^-1 Y`` and, per
output, covariance ``G G^T - G F^T (F F^T)^-1 F G^T``, so its test MSE given the features is a
generalized chi-squared ``Q_i`` (``Posterior.mse_distribution``). Averaging exact conditional
probabilities over feature draws ``i`` (Philox substream ``i`` of ``seed``, as the sampler's hypothesis
``i``),

    log P(loss <= e) = logsumexp_i(log Q_i.cdf(e)) - log(n_draws),

estimates ``P`` without bias, with no fit and no tail extrapolation; a bootstrap over the draws gives
its interval (docs/methods.md, "Conditionally exact random-feature networks").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import _backend, _dask, _validation, random, reliability
from ._arrays import LARGE_JITTER, Array, array_module, cholesky_with_jitter, eigh, fits_in_memory, to_host
from ._progress import progress_bar
from .gchi2 import GeneralizedChi2
from .posterior import Posterior, condition_number, training_and_test_targets, triangular_solver
from .spaces import RandomFeatureSpace

__all__ = ["ConditionalDistribution", "ConditionalReading", "conditional_distribution", "read_conditional"]

# The bootstrap resamples draws under a key of its own: the draws use substreams of ``seed`` itself,
# which would tie replicate b's resample to feature draw b. (Not ncx2's salt: ``method="both"``-style
# comparisons must not share streams either.)
BOOTSTRAP_KEY_SALT = 0xD1B54A32D192ED03
FEW_EFFECTIVE_DRAWS = 10.0  # below this many effective draws the bootstrap interval may undercover


class ConditionalDistribution:
    """The test-MSE distribution of a random-feature space as an equal mixture over feature draws.

    Component ``i`` is the exact distribution of the test MSE given the hidden layers of draw ``i``
    (a :class:`GeneralizedChi2`); the mixture's CDF is the unbiased estimate of the space's CDF.
    Made by :func:`conditional_distribution` and held by ``InductiveBias.distribution`` for
    ``method="conditional"``, which reads it at any error again without recomputing a draw.

    Parameters
    ----------
    draws : list of GeneralizedChi2
        The conditional distribution of each feature draw, in draw order.
    seed : int
        The Philox key of the draws; the bootstrap resamples under ``seed ^ BOOTSTRAP_KEY_SALT``.
    start : int, default 0
        The index of the first draw.
    jitter : float, default 0.0
        The largest relative jitter any draw's Gram matrix needed.
    n_boot : int, default 200
        Bootstrap replicates behind :meth:`interval` (0: none).
    excluded : int, default 0
        Feature draws left out because their training features have rank below ``n``: none of
        their networks fits the training data (see :func:`conditional_distribution`).

    Attributes
    ----------
    draws : list of GeneralizedChi2
        One per feature draw kept.
    seed, start, jitter, n_boot, excluded
        As given.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> d = ib.ConditionalDistribution([ib.GeneralizedChi2([1.0], 2), ib.GeneralizedChi2([2.0], 2)], seed=0)
    >>> round(d.cdf(2.0), 6)  # (1 - exp(-1) + 1 - exp(-1/2)) / 2
    0.512795
    >>> d.mean()
    3.0
    """

    def __init__(
        self, draws: list, seed: int, start: int = 0, jitter: float = 0.0, n_boot: int = 200, excluded: int = 0
    ):
        draws = list(draws)
        if not draws or not all(isinstance(g, GeneralizedChi2) for g in draws):
            raise ValueError("draws: expected a non-empty list of GeneralizedChi2")
        self.draws = draws
        self.seed = _validation.seed(seed)
        self.start = _validation.integer("start", start, 0, _validation.UINT64_LIMIT)
        self.jitter = _validation.number("jitter", jitter, allow_low=True)
        self.n_boot = _validation.integer("n_boot", n_boot)
        self.excluded = _validation.integer("excluded", excluded)

    def __repr__(self) -> str:
        return f"ConditionalDistribution({len(self.draws)} draws, mean={self.mean():.6g})"

    @property
    def n_draws(self) -> int:
        """The number of feature draws in the mixture."""
        return len(self.draws)

    def log_probabilities(self, x: float | Array) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate every draw's exact ``log P(loss <= x | features)``.

        Parameters
        ----------
        x : float or array
            Points, any shape.

        Returns
        -------
        log_cdf : numpy.ndarray of shape ``(n_draws,) + x.shape``
            Natural-log conditional probabilities (``-inf`` where a draw cannot reach ``x``).
        error : numpy.ndarray of shape ``(n_draws,) + x.shape``
            Each evaluation's error estimate on its log probability.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> d = ib.ConditionalDistribution([ib.GeneralizedChi2([1.0], 2)] * 3, seed=0)
        >>> d.log_probabilities([1.0, 2.0])[0].shape
        (3, 2)
        """
        points = np.asarray(_validation.target_errors(x, "x"))
        evaluations = [g.evaluate(points) for g in self.draws]
        return np.stack([e.log_cdf for e in evaluations]), np.stack([e.error for e in evaluations])

    def logcdf(self, x: float | Array) -> float | np.ndarray:
        """Natural log of the mixture's CDF, ``log mean_i P(loss <= x | draw i)``.

        Parameters
        ----------
        x : float or array
            Points, any shape (positive and finite).

        Returns
        -------
        float or numpy.ndarray
            A float for a scalar ``x``, else an array of its shape.

        Examples
        --------
        >>> import math, inductive_bias as ib
        >>> d = ib.ConditionalDistribution([ib.GeneralizedChi2([1.0], 2)] * 2, seed=0)
        >>> math.isclose(d.logcdf(2.0), math.log(1 - math.exp(-1)))
        True
        """
        points = _validation.target_errors(x, "x")
        log_p = self.log_probabilities(points)[0]
        return _validation.shaped_like(log_mean(log_p.reshape(self.n_draws, -1)), points)

    def cdf(self, x: float | Array) -> float | np.ndarray:
        """The mixture's CDF, ``mean_i P(loss <= x | draw i)``.

        Parameters
        ----------
        x : float or array
            Points, any shape (positive and finite).

        Returns
        -------
        float or numpy.ndarray
            A float for a scalar ``x``, else an array of its shape.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> d = ib.ConditionalDistribution([ib.GeneralizedChi2([1.0], 2, offset=1.0)], seed=0)
        >>> d.cdf(0.5)
        0.0
        """
        return np.exp(self.logcdf(x)) if np.ndim(x) else math.exp(self.logcdf(x))

    def mean(self) -> float:
        """The mixture's mean test MSE: the average of the draws' means.

        Returns
        -------
        float
            ``mean_i E[loss | draw i]``.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.ConditionalDistribution([ib.GeneralizedChi2([1.0], 4, offset=0.5)], seed=0).mean()
        4.5
        """
        return float(np.mean([g.mean() for g in self.draws]))

    def effective_draws(self, x: float | Array) -> float | np.ndarray:
        """How many draws the average at ``x`` effectively rests on: ``(sum p_i)^2 / sum p_i^2``.

        Deep in the tail a few draws whose features happen to suit the task carry the average; with
        fewer than about 10 effective draws the bootstrap interval can undercover.

        Parameters
        ----------
        x : float or array
            Points, any shape (positive and finite).

        Returns
        -------
        float or numpy.ndarray
            Between 1 and ``n_draws`` (0 where no draw reaches ``x``).

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.ConditionalDistribution([ib.GeneralizedChi2([1.0], 2)] * 4, seed=0).effective_draws(1.0)
        4.0
        """
        points = _validation.target_errors(x, "x")
        log_p = self.log_probabilities(points)[0]
        return _validation.shaped_like(effective_draws(log_p.reshape(self.n_draws, -1)), points)

    def interval(self, x: float | Array, confidence: float = 0.95) -> Any:
        """Percentile-bootstrap interval of ``-log P(loss <= x)`` in nats over the feature draws.

        Replicate ``b`` resamples the draws with replacement, index ``j`` being
        ``(w_j * n_draws) >> 32`` for the uint32 words ``w`` of Philox substream ``b`` under the key
        ``seed ^ BOOTSTRAP_KEY_SALT``: reproducible, and independent of how the draws were computed.
        The interval covers the sampling noise of the feature draws (the conditional probabilities
        themselves are exact).

        Parameters
        ----------
        x : float or array
            Points, any shape (positive and finite).
        confidence : float
            Coverage, in (0, 1).

        Returns
        -------
        tuple of float, numpy.ndarray of shape ``x.shape + (2,)``, or None
            ``(low, high)`` in nats; None when ``n_boot`` is 0.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> draws = [ib.GeneralizedChi2([s], 2) for s in (0.5, 1.0, 2.0, 4.0)]
        >>> low, high = ib.ConditionalDistribution(draws, seed=0, n_boot=50).interval(1.0)
        >>> bool(0 < low < high)
        True
        """
        points = _validation.target_errors(x, "x")
        return bootstrap_interval(self.log_probabilities(points)[0], points, self, confidence)


def log_mean(log_p: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """``log(sum_i counts_i p_i / sum_i counts_i)`` over axis 0 of ``log_p`` [n_draws, m], in log
    space (-inf where every counted draw is -inf); ``counts`` default to ones."""
    n = log_p.shape[0]
    counts = np.ones(n) if counts is None else np.asarray(counts, dtype=np.float64)
    used = counts > 0
    top = np.max(np.where(used[:, None], log_p, -np.inf), axis=0)
    finite = np.isfinite(top)
    shifted = np.where(used[:, None] & finite[None], log_p - np.where(finite, top, 0.0)[None], -np.inf)
    total = (counts[:, None] * np.exp(shifted)).sum(axis=0)
    out = np.full(top.shape, -np.inf)
    out[finite] = top[finite] + np.log(total[finite]) - math.log(counts.sum())
    return out


def effective_draws(log_p: np.ndarray) -> np.ndarray:
    """``(sum p)^2 / sum p^2`` per column of ``log_p`` [n_draws, m] (0 where every p is 0)."""
    n = log_p.shape[0]
    first, second = log_mean(log_p), log_mean(2.0 * log_p)
    out = np.zeros(first.shape)
    finite = np.isfinite(first)
    out[finite] = n * np.exp(2.0 * first[finite] - second[finite])
    return out


def resample_counts(n_draws: int, replicate: int, seed: int) -> np.ndarray:
    """How often each draw appears in bootstrap replicate ``replicate``: ``n_draws`` indices
    ``(w * n_draws) >> 32`` from the uint32 words of Philox substream ``replicate`` under
    ``seed ^ BOOTSTRAP_KEY_SALT`` (multiply-shift: no modulo, bias below n_draws / 2^32)."""
    words = random.uint32(n_draws, seed=seed ^ BOOTSTRAP_KEY_SALT, stream=replicate).astype(np.uint64)
    return np.bincount(((words * np.uint64(n_draws)) >> np.uint64(32)).astype(np.int64), minlength=n_draws)


def bootstrap_interval(log_p: np.ndarray, points: np.ndarray, distribution: ConditionalDistribution, confidence):
    """The percentile interval (nats) of ``-log mean p`` over ``distribution.n_boot`` resamples of the
    draws; None without replicates. Bounds are order statistics (lower / higher), so replicates with
    no reaching draw (+inf) never turn an interpolation into NaN."""
    if distribution.n_boot == 0:
        return None
    confidence = _validation.probability("confidence", confidence)
    n = log_p.shape[0]
    flat = log_p.reshape(n, -1)
    replicates = 0.0 - np.stack(
        [log_mean(flat, resample_counts(n, b, distribution.seed)) for b in range(distribution.n_boot)]
    )  # [n_boot, m]
    tail = 0.5 * (1.0 - confidence)
    low = np.quantile(replicates, tail, axis=0, method="lower")
    high = np.quantile(replicates, 1.0 - tail, axis=0, method="higher")
    if points.ndim == 0:
        return (float(low[0]), float(high[0]))
    return np.stack([low, high], axis=-1).reshape(points.shape + (2,))


@dataclass
class ConditionalReading:
    """The conditional estimate read at some errors, as ``inductive_bias`` reports it.

    Returned by :func:`read_conditional`; fields with one value per error are floats for a scalar
    error and arrays of its shape otherwise.

    Parameters
    ----------
    value, interval, error, evaluation_error, effective_draws : float, numpy.ndarray or None
        As described under Attributes.
    reason : str
        Why some values are infinite.

    Attributes
    ----------
    value : float or numpy.ndarray
        ``-log P(loss <= error)`` in the requested unit.
    interval : tuple, numpy.ndarray [..., 2] or None
        The bootstrap interval over feature draws, in the same unit.
    error : float or numpy.ndarray
        The target errors.
    evaluation_error : float or numpy.ndarray
        The largest error estimate of any draw's evaluation on its ``log P`` (a bound on the
        numerical error of the average's log, separate from the sampling noise of the draws).
    effective_draws : float or numpy.ndarray
        ``(sum p_i)^2 / sum p_i^2``: how many draws carry the average.
    reason : str
        Why some values are infinite, when they are.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> from inductive_bias.conditional import read_conditional
    >>> d = ib.ConditionalDistribution([ib.GeneralizedChi2([1.0], 2)], seed=0, n_boot=0)
    >>> r = read_conditional(d, 2.0, "nats")
    >>> round(r.value, 6), r.interval, r.effective_draws
    (0.458675, None, 1.0)
    """

    value: Any
    interval: Any
    error: Any
    evaluation_error: Any
    effective_draws: Any
    reason: str = ""


def read_conditional(
    distribution: ConditionalDistribution, error: float | Array, unit: str = "bits", confidence: float = 0.95
) -> ConditionalReading:
    """Read a conditional distribution at target errors: value, bootstrap interval, diagnostics.

    Parameters
    ----------
    distribution : ConditionalDistribution
        The per-draw conditional distributions.
    error : float or array of floats
        Target error(s).
    unit : {"bits", "nats"}
        Unit of ``value`` and ``interval``.
    confidence : float
        Coverage of the interval, in (0, 1).

    Returns
    -------
    ConditionalReading
        The estimate at each error.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> from inductive_bias.conditional import read_conditional
    >>> d = ib.ConditionalDistribution([ib.GeneralizedChi2([1.0], 2, offset=1.0)] * 2, seed=0)
    >>> r = read_conditional(d, [0.5, 3.0])
    >>> r.value.tolist()[0], r.reason.startswith("errors at or below")
    (inf, True)
    """
    per_nat = _validation.per_nat(unit)
    confidence = _validation.probability("confidence", confidence)
    errors = _validation.target_errors(error)
    log_p, evaluation_error = distribution.log_probabilities(errors)
    n = distribution.n_draws
    flat_log_p = log_p.reshape(n, -1)
    value = -log_mean(flat_log_p) / per_nat + 0.0  # + 0.0: P = 1 reads 0, not -0
    effective = effective_draws(flat_log_p)
    interval = bootstrap_interval(log_p, errors, distribution, confidence)
    if interval is not None:
        interval = tuple(v / per_nat for v in interval) if errors.ndim == 0 else interval / per_nat
    reason = ""
    unreachable = ~np.isfinite(value)
    if unreachable.any():
        lowest = min(g.offset for g in distribution.draws)
        reason = (
            f"errors at or below {lowest:g}, the smallest test MSE that the output layer of any of the {n} feature "
            f"draws can reach, give inf: P = 0 given each draw's features (other draws might reach them)"
        )
    few = np.isfinite(value) & (effective < FEW_EFFECTIVE_DRAWS)
    if few.any():
        if n < FEW_EFFECTIVE_DRAWS:  # then every error is "few", however evenly the draws contribute
            message = (
                f"n_draws: only {n} feature draws: the value is unbiased in probability but a bootstrap interval "
                f"over so few draws may undercover; use at least {FEW_EFFECTIVE_DRAWS:g} (more in deep tails)"
            )
        else:
            message = (
                f"n_draws: at {int(few.sum())} target error(s) the average rests on fewer than "
                f"{FEW_EFFECTIVE_DRAWS:g} effective feature draws (of {n}; smallest "
                f"{float(effective[few].min()):.3g}): the value is unbiased in probability but its bootstrap "
                f"interval may undercover; use more draws"
            )
        reliability.warn(reliability.EstimatorWarning, message, stacklevel=None)
    error_bound = np.where(np.isfinite(log_p), evaluation_error, 0.0).reshape(n, -1).max(axis=0)
    return ConditionalReading(
        value=_validation.shaped_like(value, errors),
        interval=interval,
        error=_validation.shaped_like(errors.ravel(), errors),
        evaluation_error=_validation.shaped_like(error_bound, errors),
        effective_draws=_validation.shaped_like(effective, errors),
        reason=reason,
    )


def conditional_distribution(
    space: RandomFeatureSpace,
    X_train: Array,
    Y_train: Array,
    X_test: Array,
    Y_test: Array,
    n_draws: int = 256,
    seed: Any = 0,
    n_boot: int = 200,
    start: int = 0,
    batch_size: int | None = None,
    client: Any = None,
    task_size: int | None = None,
    progress: bool | Callable = False,
    device: str = "cpu",
) -> ConditionalDistribution:
    """Compute the exact test-MSE distribution of a random-feature space given each feature draw.

    Draw ``i`` takes the hidden layers of the sampler's hypothesis ``start + i`` (Philox substream of
    ``seed``, through ``RandomFeatureSpace.draw_batch``); its output layer, Gaussian initialization
    plus the minimum-norm change that fits the training targets, is Gaussian, so the test MSE given
    the features is the generalized chi-squared of ``Posterior.mse_distribution``. Each draw is
    computed on its own (2-D products, the smallest jitter its own Gram matrix needs), so the result
    is bitwise independent of ``batch_size``, ``task_size`` and the number of workers. (The sampler
    instead picks one jitter per batch of up to 64 hypotheses, so where a draw needs a jitter its
    sampled losses follow a slightly different solve than this distribution.)

    With ``width`` features, plus the bias column when ``bias_var > 0`` (a zero bias column adds no
    rank), at least ``n`` a draw's networks fit the training data exactly when its training features
    have rank ``n``. A draw whose Gram matrix needs any jitter, or whose condition number leaves fewer
    than 3 digits (exactly rank-deficient Gram matrices often factor at ~1e17), has lower rank (ReLU
    units dead on every training point, duplicate inputs): none of its networks fits the data, so it holds no hypothesis
    of the space conditioned on fitting, and it is left out of the average; a
    :class:`NonInterpolatingWarning` gives the count (``excluded`` of the result). When no draw
    interpolates this raises ``ValueError``.

    With fewer features than ``n`` no draw can interpolate the training points: the output layer is
    then the least-squares fit nearest its initialization, determined by the features except along
    features that vanish on every training point (and up to the jitter), so each conditional
    distribution is (nearly) a point mass at that fit's loss and the estimate degenerates to the
    fraction of draws whose fit reaches the error. As the sampler does, this warns
    (:class:`NonInterpolatingWarning`): those are not hypotheses that fit the training data, and
    ``inductive_bias(method="auto")`` answers such spaces by sample-and-fit instead.

    Parameters
    ----------
    space : RandomFeatureSpace
        The random-feature space.
    X_train : array [n, d]
        Training inputs (NumPy, CuPy, or any DLPack producer).
    Y_train : array [n] of int labels, or [n, k] of real targets
        Training targets; labels become one-hot targets over the classes of train and test.
    X_test : array [t, d]
        Test inputs, on the device of ``X_train``.
    Y_test : array [t] of int labels, or [t, k] of real targets
        Test targets, of the same kind as ``Y_train``.
    n_draws : int
        Feature draws ``start`` to ``start + n_draws - 1``.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Addresses the Philox streams of the draws (and of the bootstrap).
    n_boot : int
        Bootstrap replicates for the interval (kept in the result; 0: none).
    start : int
        The first draw index.
    batch_size : int, optional
        Draws per Philox fill (default: what fits about 256 MiB); changes no result.
    client : dask.distributed.Client, optional
        Runs ranges of draws as tasks on the cluster; the result is bitwise that of one process with
        BLAS single-threaded like the workers.
    task_size : int, optional
        Draws per Dask task (default: from the cost of a draw).
    progress : bool or callable
        A tqdm bar over the draws when stderr is a terminal, or ``progress(done, total)`` calls.
    device : {"cpu", "cuda"}
        With ``client``: run each task on its worker's GPU where the worker has one; ``"cuda"``
        without ``client`` is refused (the arrays' own device is used: CuPy arrays run on their GPU).

    Returns
    -------
    ConditionalDistribution
        One exact conditional distribution per draw.

    Raises
    ------
    ValueError
        Bad arguments (named), a Gram matrix that does not factor even with the largest jitter, or
        (with at least ``n`` features) no draw whose training features have rank ``n``.
    TypeError
        Arguments of the wrong type.

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((30, 8)), rng.integers(0, 2, 30)
    >>> d = ib.conditional_distribution(ib.RandomFeatureSpace(64), X[:20], y[:20], X[20:], y[20:], 8, seed=1)
    >>> d.n_draws, bool(0 < d.cdf(d.mean()) < 1)
    (8, True)
    """
    if not isinstance(space, RandomFeatureSpace):
        raise TypeError(f"space: expected a RandomFeatureSpace, got {type(space).__name__}")
    n_draws = _validation.integer("n_draws", n_draws, 1)
    seed = _validation.seed(seed)
    n_boot = _validation.integer("n_boot", n_boot)
    start = _validation.integer("start", start, 0)
    if start + n_draws > _validation.UINT64_LIMIT:
        raise ValueError("start: start + n_draws must not exceed 2^64 (draw indices are 64-bit)")
    if batch_size is not None:
        batch_size = _validation.integer("batch_size", batch_size, 1)
    if task_size is not None:
        task_size = _validation.integer("task_size", task_size, 1)
    device = _validation.client_device(device, client)
    X_train, xp, _ = _validation.points("X_train", X_train)
    X_test, _, _ = _validation.points("X_test", X_test)
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_test: expected {X_train.shape[1]} features, got {X_test.shape[1]}")
    for name, array in (("X_test", X_test), ("Y_train", Y_train), ("Y_test", Y_test)):
        _backend.same_device(name, array, X_train, "X_train")
    n = X_train.shape[0]
    interpolating = space.feature_count() >= n
    if not interpolating:
        reliability.warn(
            reliability.NonInterpolatingWarning,
            f"space: {space.feature_count()} features for {n} training points: the networks cannot fit the training "
            f"data (least-squares output layers), so each draw's loss is (nearly) a point mass at its least-squares "
            f"fit and the conditional estimate is the fraction of draws that reach the error, not the bias of "
            f"hypotheses that fit the data",
            stacklevel=None,
        )
    with _backend.on_device(X_train):
        targets_train, targets_test = training_and_test_targets(Y_train, Y_test, n, X_test.shape[0], xp)
        X_train, X_test = X_train.astype(np.float64), X_test.astype(np.float64)
        if client is not None:
            if task_size is None:
                task_size = max(1, int(_dask.TASK_FLOPS / draw_flops(space, n, X_test.shape[0], X_train.shape[1])))
            payload = (space, to_host(X_train), to_host(targets_train), to_host(X_test), to_host(targets_test))
            rows = _dask.run_tasks(
                client, conditional_task, payload, n_draws, start, task_size, seed, "mse", progress, device
            )
        else:
            rows = draw_rows(
                space, X_train, X_test, targets_train, targets_test, start, n_draws, seed, batch_size, progress
            )
    rows = np.asarray(rows)
    excluded = 0
    if interpolating:
        fits = rows[:, 3] > 0.0  # draw_distribution's verdict: rank n (no jitter, condition number in range)
        excluded = int((~fits).sum())
        if not fits.any():
            raise ValueError(
                f"space: none of the {n_draws} feature draws has training features of rank {n} (ReLU units dead on "
                f"every training point, or duplicate training inputs): no network of the space fits the training "
                f"data; use a wider space or bias_var > 0, and remove duplicate inputs"
            )
        if excluded:
            reliability.warn(
                reliability.NonInterpolatingWarning,
                f"space: {excluded} of {n_draws} feature draws have training features of rank below {n} (ReLU units "
                f"dead on every training point, or duplicate inputs): none of their networks fits the training data, "
                f"so they are left out and the estimate averages the other {n_draws - excluded}",
                stacklevel=None,
            )
        rows = rows[fits]
    draws = [unpack(row) for row in rows]
    jitter = float(rows[:, 0].max())
    return ConditionalDistribution(draws, seed, start=start, jitter=jitter, n_boot=n_boot, excluded=excluded)


def draw_flops(space: RandomFeatureSpace, n: int, t: int, d: int) -> float:
    """About the floating-point work of one draw: features, Gram, solves, test covariance, eigh."""
    p = space.width + 1
    features = 2.0 * (n + t) * (d * p + (space.depth - 1) * p * p)
    small = min(n, p)
    return features + 2.0 * n * small * p + small**3 / 3 + 4.0 * t * n * p + 2.0 * t * t * p + 10.0 * t**3


def draw_rows(space, X_train, X_test, targets_train, targets_test, start, count, seed, batch_size, progress):
    """Packed conditional distributions (see :func:`pack`) of draws ``start .. start + count - 1``,
    [count, 3 t + 4] on the host."""
    xp = array_module(X_train)
    device = "cpu" if xp is np else "cuda"
    n, d = X_train.shape
    t, k = targets_test.shape
    p = space.width + 1
    per_draw = 8 * (space.parameter_count(d, k) + (n + t) * p + n * n + t * t)
    fits_in_memory("width", per_draw, xp is np, "one draw's features need")
    batch_size = batch_size or max(1, min(64, (256 * 2**20) // per_draw))
    rows = np.empty((count, 3 * t + 4))
    with progress_bar(count, "feature draws", progress, unit="draw") as bar:
        for first in range(0, count, batch_size):
            size = min(batch_size, count - first)
            batch = space.draw_batch(start + first, size, seed, d, k, device)
            for i in range(size):  # per draw: its own jitter and 2-D products, whatever the batch
                layers = [layer[i] for layer in batch]
                distribution, jitter, fits = draw_distribution(
                    space, layers, X_train, X_test, targets_train, targets_test
                )
                rows[first + i] = pack(distribution, jitter, t, fits)
            bar.update(size)
    return rows


def draw_distribution(space, layers, X_train, X_test, targets_train, targets_test):
    """(GeneralizedChi2, relative jitter, fits): the exact test-MSE distribution given one draw's
    hidden layers, for the output layer the sampler fits (``sampling``'s minimum-norm change).
    ``fits`` is False for a draw with at least ``n`` features whose training features have rank
    below ``n`` (its Gram matrix needed a jitter, or its condition number leaves fewer than 3 digits):
    no output layer fits the data, and the distribution is of a jittered solve, meaningless.

    With ``F``, ``G`` the training and test features (output scaling folded in) and ``c0`` standard
    normal, the sampler's output layer is ``c = (I - F^T M F) c0 + F^T M Y``, ``M = (F F^T + j I)^-1``
    (``p >= n``), or ``c = (I - N F^T F) c0 + N F^T Y``, ``N = (F^T F + j I)^-1`` (``p < n``). So the
    test outputs per output column have mean ``G F^T M Y`` (``G N F^T Y``) and covariance
    ``G G^T - W^T W - j V^T V`` with ``W = L^-1 F G^T``, ``V = L^-T W`` (``j^2 (G N)(G N)^T``)."""
    xp = array_module(X_train)
    F = space.features(X_train, layers)  # [n, p]
    G = space.features(X_test, layers)  # [t, p]
    n, p = F.shape
    interpolating = space.feature_count() >= n  # p counts the bias column even when it is zero
    gram = F @ F.T if interpolating else F.T @ F
    L, jitter = cholesky_with_jitter(
        gram,
        "X_train: the training features are degenerate even with a jitter of "
        "0.1 x their mean Gram diagonal (duplicate inputs with different targets?)",
    )
    if jitter >= LARGE_JITTER and not interpolating:  # interpolating: any jitter excludes the draw
        reliability.warn(
            reliability.JitterWarning,
            f"X_train: a draw's training-feature Gram matrix needed a jitter of {jitter:g} x its mean diagonal: its "
            f"networks fit the training data only approximately",
            stacklevel=None,
        )
    # Exactly rank-deficient Gram matrices (dead ReLU units) factor at condition numbers ~1e17 as
    # often as they need a jitter; full-rank draws stay below ~1e10.
    fits = not interpolating or (jitter == 0 and condition_number(L, gram, xp) * np.finfo(np.float64).eps < 1e-3)
    absolute = jitter * float(xp.trace(gram)) / gram.shape[0]
    lower, upper = triangular_solver(xp), triangular_solver(xp, transposed=True)
    if interpolating:
        W = lower(L, F @ G.T)  # [n, t]
        mean = W.T @ lower(L, targets_train)  # G F^T M Y
        covariance = G @ G.T - W.T @ W
        if absolute:
            V = upper(L, W)  # M F G^T
            covariance -= absolute * (V.T @ V)
    else:
        U = upper(L, lower(L, G.T))  # N G^T [p, t]
        mean = U.T @ (F.T @ targets_train)  # G N F^T Y
        # Without jitter the least-squares output layer ignores c0: a point mass.
        covariance = (absolute * absolute) * (U.T @ U) if absolute else xp.zeros((G.shape[0], G.shape[0]))
    covariance = 0.5 * (covariance + covariance.T)
    eigenvalues, eigenvectors = eigh(covariance)  # interruptible by Ctrl-C on large test sets
    top = float(eigenvalues.max())
    tolerance = max(top, 0.0) * covariance.shape[0] * np.finfo(np.float64).eps  # as posterior_of_targets
    posterior = Posterior(mean, xp.maximum(eigenvalues, 0.0), eigenvectors, jitter, tolerance)
    return posterior.mse_distribution(targets_test), jitter, fits


def pack(distribution: GeneralizedChi2, jitter: float, t: int, fits: bool = True) -> np.ndarray:
    """One draw as a row [3 t + 4]: jitter, offset, term count, fits (1 or 0), then weights, dofs
    and noncentralities (zero-padded to t each), so that Dask tasks return plain arrays."""
    row = np.zeros(3 * t + 4)
    m = distribution.weights.size
    row[:4] = jitter, distribution.offset, m, float(fits)
    row[4 : 4 + m] = distribution.weights
    row[4 + t : 4 + t + m] = distribution.dofs
    row[4 + 2 * t : 4 + 2 * t + m] = distribution.noncentralities
    return row


def unpack(row: np.ndarray) -> GeneralizedChi2:
    """The GeneralizedChi2 of a row made by :func:`pack` (its terms are already merged: exact)."""
    t = (row.size - 4) // 3
    m = int(row[2])
    return GeneralizedChi2(row[4 : 4 + m], row[4 + t : 4 + t + m], row[4 + 2 * t : 4 + 2 * t + m], row[1])


# Dask: the task function runs on the workers (module-level so that it pickles by reference).


def conditional_task(payload, start, size, seed, loss, device):
    """Packed rows of draws ``start .. start + size - 1`` on a worker (``loss`` is always "mse")."""
    space, X_train, targets_train, X_test, targets_test = payload
    if device == "cuda" and _backend.cuda_available():
        import cupy

        X_train, X_test = cupy.asarray(X_train), cupy.asarray(X_test)
        targets_train, targets_test = cupy.asarray(targets_train), cupy.asarray(targets_test)
    return draw_rows(space, X_train, X_test, targets_train, targets_test, start, size, seed, None, False)
