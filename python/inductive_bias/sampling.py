"""Sampling the test losses of hypotheses that fit the training data, for every hypothesis space.

Kernel spaces sample their posterior through the Gaussian sampler (``gaussian_losses``);
random-feature networks are drawn and fitted in batches; callable spaces run the user's code once per
hypothesis. On a Dask cluster the range of hypotheses runs as tasks (``_dask``), bitwise as in one
process.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from . import _backend, _dask, _validation, reliability
from ._arrays import (
    LARGE_JITTER,
    Array,
    array_module,
    as_array,
    check_fits,
    cholesky_with_jitter,
    empty,
    fits_in_memory,
    to_host,
)
from ._backend import cuda_available
from ._progress import progress_bar
from .gaussian_losses import LOSSES, canonical_block, gpu_blocks_per_product, sample_gaussian_losses, sampler_ops
from .posterior import posterior_of_targets, training_and_test_targets
from .spaces import CallableSpace, KernelSpace, RandomFeatureSpace, TrainedNetworkSpace

__all__ = ["posterior_losses", "sample_losses"]


def sample_losses(
    space: KernelSpace | TrainedNetworkSpace | RandomFeatureSpace | CallableSpace,
    X_train: Array,
    Y_train: Array,
    X_test: Array,
    Y_test: Array,
    n_hypotheses: int,
    seed: Any = 0,
    loss: str = "mse",
    progress: bool | Callable = False,
    batch_size: int | None = None,
    start: int = 0,
    client: Any = None,
    task_size: int | None = None,
    device: str = "cpu",
) -> Array:
    """Sample hypotheses of any space that fit the training data, and return their test losses.

    Kernel and trained-network spaces sample their posterior through the Gaussian sampler;
    random-feature networks are drawn and fitted in batches; callable spaces run the user's code once
    per hypothesis.

    Parameters
    ----------
    space : KernelSpace, TrainedNetworkSpace, RandomFeatureSpace or CallableSpace
        The hypothesis space to sample.
    X_train : array [n, d]
        Training inputs (NumPy, CuPy, or any DLPack producer such as PyTorch or JAX).
    Y_train : array [n] of int labels, or [n, k] of real targets
        Training targets. Labels become one-hot targets over the classes of train and test.
    X_test : array [t, d]
        Test inputs, on the device of ``X_train``.
    Y_test : array [t] of int labels, or [t, k] of real targets
        Test targets, of the same kind as ``Y_train``.
    n_hypotheses : int
        Hypotheses ``start`` to ``start + n_hypotheses - 1`` are evaluated.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Hypothesis ``i`` depends only on ``(seed, i)``.
    loss : {"mse", "error"}
        Mean squared error over the ``t * k`` entries, or the 0-1 error of the argmax.
    progress : bool or callable
        A tqdm bar when stderr is a terminal, or ``progress(done, total)`` calls.
    batch_size : int, optional
        Random-feature networks fitted per batch (default: what fits 256 MiB).
    start : int
        The first hypothesis index.
    client : dask.distributed.Client, optional
        Splits the range into tasks of ``task_size`` hypotheses (by default from the space's cost) run
        on the cluster; the losses are bitwise those of one process (random-feature losses on GPU
        workers: to rounding, their batched GPU solves follow the tasks).
    task_size : int, optional
        Hypotheses per Dask task, with ``client``.
    device : {"cpu", "cuda"}
        With ``client``: run each task on its worker's GPU where the worker has one; ``"cuda"``
        without ``client`` is refused (the arrays' own device is used: CuPy arrays run on their GPU).

    Returns
    -------
    array [n_hypotheses]
        The float64 losses, in the caller's array type (NumPy, CuPy, PyTorch, JAX) of ``X_train``.

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((30, 2)), rng.integers(0, 2, 30)
    >>> losses = ib.sample_losses(ib.RandomFeatureSpace(64), X[:20], y[:20], X[20:], y[20:], 8, seed=1)
    >>> losses.shape, bool((losses > 0).all())
    ((8,), True)
    """
    losses, restore = losses_and_restore(
        space,
        X_train,
        Y_train,
        X_test,
        Y_test,
        n_hypotheses,
        seed,
        loss,
        progress,
        batch_size,
        start,
        client,
        task_size,
        device,
    )
    return restore(losses)


def losses_and_restore(
    space: KernelSpace | TrainedNetworkSpace | RandomFeatureSpace | CallableSpace,
    X_train: Array,
    Y_train: Array,
    X_test: Array,
    Y_test: Array,
    n_hypotheses: int,
    seed: Any = 0,
    loss: str = "mse",
    progress: bool | Callable = False,
    batch_size: int | None = None,
    start: int = 0,
    client: Any = None,
    task_size: int | None = None,
    device: str = "cpu",
) -> tuple[Array, Callable]:
    """The work of :func:`sample_losses`: the float64 losses on ``X_train``'s device (NumPy or CuPy),
    and the function that turns them into the caller's array type."""
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    if not isinstance(space, (KernelSpace, TrainedNetworkSpace, RandomFeatureSpace, CallableSpace)):
        raise TypeError(
            "space: expected a KernelSpace, TrainedNetworkSpace, RandomFeatureSpace or CallableSpace, "
            f"got {type(space).__name__}"
        )
    n_hypotheses = _validation.integer("n_hypotheses", n_hypotheses)
    seed = _validation.seed(seed)
    X_train, xp, restore = _validation.points("X_train", X_train)
    X_test, _, _ = _validation.points("X_test", X_test)
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_test: expected {X_train.shape[1]} features, got {X_test.shape[1]}")
    check_fits("n_hypotheses", n_hypotheses, xp)  # before any work sized by it (posterior, batches)
    if client is not None:  # a cluster's losses are gathered on the host
        check_fits("n_hypotheses", n_hypotheses, np)
    start = _validation.integer("start", start, 0)
    if start + n_hypotheses > _validation.UINT64_LIMIT:
        raise ValueError("start: start + n_hypotheses must not exceed 2^64 (hypothesis indices are 64-bit)")
    if batch_size is not None:
        batch_size = _validation.integer("batch_size", batch_size, 1)
    if task_size is not None:  # checked even without a client, which alone uses it
        task_size = _validation.integer("task_size", task_size, 1)
    device = _validation.client_device(device, client)
    for name, array in (("X_test", X_test), ("Y_train", Y_train), ("Y_test", Y_test)):
        _backend.same_device(name, array, X_train, "X_train")
    if isinstance(space, RandomFeatureSpace) and space.feature_count() < X_train.shape[0]:
        reliability.warn(
            reliability.NonInterpolatingWarning,
            f"space: {space.feature_count()} features for {X_train.shape[0]} training points: the networks cannot fit "
            f"the training data (least-squares output layers), so their losses are not those of hypotheses that fit it",
        )
    with _backend.on_device(X_train):
        targets_train, targets_test = training_and_test_targets(Y_train, Y_test, X_train.shape[0], X_test.shape[0], xp)
        if isinstance(space, (KernelSpace, TrainedNetworkSpace)):  # Gaussian: drawn from the posterior
            post = posterior_of_targets(space, X_train, targets_train, X_test)
            losses = posterior_losses(
                post, targets_test, n_hypotheses, seed, loss, progress, start, client, task_size, device
            )
        else:
            losses = _space_losses(
                space,
                X_train,
                X_test,
                targets_train,
                targets_test,
                n_hypotheses,
                seed,
                loss,
                progress,
                batch_size,
                start,
                client,
                task_size,
                device,
            )
        return xp.asarray(losses), restore  # host results (user code, Dask) onto X_train's device


def posterior_losses(
    post,
    targets_test,
    n_hypotheses: int,
    seed: int,
    loss: str = "mse",
    progress=False,
    start: int = 0,
    client=None,
    task_size: int | None = None,
    device: str = "cpu",
):
    """Sample hypotheses from a kernel space's posterior and return their test losses.

    This is the sampled route of ``sample_losses`` and ``inductive_bias`` for kernel spaces, once the
    posterior is made; it runs on a Dask cluster when ``client`` is given.

    Parameters
    ----------
    post : Posterior
        The posterior on the test points (NumPy or CuPy arrays).
    targets_test : array [t, k]
        The test targets, in the array type of the posterior.
    n_hypotheses : int
        Hypotheses ``start`` to ``start + n_hypotheses - 1`` are evaluated.
    seed : int
        Hypothesis ``i`` depends only on ``(seed, i)``.
    loss : {"mse", "error"}
        Mean squared error, or the 0-1 error of the argmax.
    progress : bool or callable
        A tqdm bar when stderr is a terminal, or ``progress(done, total)`` calls.
    start : int
        The first hypothesis index.
    client : dask.distributed.Client, optional
        Runs the range as tasks on a cluster, bitwise as in one process.
    task_size : int, optional
        Hypotheses per Dask task (default: from the size of the posterior).
    device : {"cpu", "cuda"}
        With ``client``: run each task on its worker's GPU where the worker has one.

    Returns
    -------
    array [n_hypotheses]
        The float64 losses, NumPy or CuPy as the posterior (NumPy from a cluster).

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> from inductive_bias.sampling import posterior_losses
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> post = ib.posterior(ib.KernelSpace("rbf", lengthscale=1.0), X[:2], np.array([0, 1]), X)
    >>> targets = np.eye(2)[[0, 1, 1]]
    >>> losses = posterior_losses(post, targets, 5, seed=0)
    >>> losses.shape, bool((losses >= 0).all())
    ((5,), True)
    """
    seed = _validation.seed(seed)  # a Generator: one draw, shared by every task
    if client is not None:
        return _distributed_gaussian_losses(
            client,
            post.mean,
            post.factor(),
            targets_test,
            n_hypotheses,
            seed,
            loss,
            start,
            task_size,
            progress,
            _validation.device(device),
        )
    return sample_gaussian_losses(
        post.mean, post.factor(), targets_test, n_hypotheses, seed=seed, loss=loss, progress=progress, start=start
    )


def _space_losses(
    space,
    X_train,
    X_test,
    targets_train,
    targets_test,
    n_hypotheses,
    seed,
    loss,
    progress,
    batch_size,
    start,
    client,
    task_size,
    device,
):
    if client is not None:
        return _distributed_space_losses(
            client,
            space,
            X_train,
            targets_train,
            X_test,
            targets_test,
            n_hypotheses,
            seed,
            loss,
            start,
            task_size,
            progress,
            _validation.device(device),
        )
    if isinstance(space, RandomFeatureSpace):
        return _random_feature_losses(
            space,
            X_train.astype(np.float64),
            X_test.astype(np.float64),
            targets_train,
            targets_test,
            n_hypotheses,
            seed,
            loss,
            progress,
            batch_size,
            start,
        )
    return _callable_losses(space, to_host(targets_test), n_hypotheses, seed, loss, progress, start)


def _reduce(predictions, targets_test, loss):
    """Losses of predictions [batch, t, k] through the fused loss kernel (mean 0, products = predictions)."""
    xp = array_module(predictions)
    batch, t, k = predictions.shape
    products = xp.ascontiguousarray(predictions.transpose(0, 2, 1))
    labels = xp.ascontiguousarray(targets_test.argmax(axis=1).astype(np.int64))
    offset = xp.ascontiguousarray(-targets_test.T) if loss == "mse" else xp.zeros((k, t))
    out = xp.empty(batch)
    sampler_ops(xp, np.float64).losses(loss, products, offset, labels, out, k, t)
    return out


def _random_feature_losses(
    space, X_train, X_test, Y_train, Y_test, n_hypotheses, seed, loss, progress, batch_size, start=0
):
    xp = array_module(X_train)
    device = "cpu" if xp is np else "cuda"
    n, d = X_train.shape
    k = Y_train.shape[1]
    per_hypothesis = 8 * (n + X_test.shape[0]) * (space.width + 1) + 8 * min(n, space.width + 1) ** 2
    fits_in_memory("width", per_hypothesis, xp is np, "one network's features need")
    batch_size = batch_size or max(1, min(64, (256 * 2**20) // per_hypothesis))
    losses = empty("n_hypotheses", n_hypotheses, xp)
    with progress_bar(n_hypotheses, "hypotheses", progress, unit="hyp") as bar:
        for first in range(0, n_hypotheses, batch_size):
            size = min(batch_size, n_hypotheses - first)
            layers = space.draw_batch(start + first, size, seed, d, k, device)
            with np.errstate(over="ignore", invalid="ignore"):  # checked below, by name
                train = space.features(X_train, layers)  # [B, n, width + 1]
                test = space.features(X_test, layers)  # [B, t, width + 1]
            _check_feature_scale(space, train, test, xp)
            predictions = _fit_output_layer(train, test, layers[-1], Y_train)
            batch_losses = _reduce(predictions, Y_test, loss)
            if not bool(xp.isfinite(batch_losses).all()):  # features in range, their products not
                raise ValueError(
                    f"weight_var: the networks' outputs overflow float64 (weight_var={space.weight_var:g}, "
                    f"bias_var={space.bias_var:g}, depth={space.depth}); use smaller variances or rescale the inputs"
                )
            losses[first : first + size] = batch_losses
            bar.update(size)
    return losses


def _check_feature_scale(space, train, test, xp) -> None:
    """Refuse features whose Gram products overflow or underflow float64: they grow like
    ``weight_var^(depth / 2)`` (the losses would be inf or NaN, with only NumPy's RuntimeWarning)."""
    largest = max(float(xp.abs(train).max()), float(xp.abs(test).max()))
    if math.isfinite(largest) and largest <= _validation.LARGEST_VALUE:
        return
    raise ValueError(
        f"weight_var: the networks' outputs overflow float64 (weight_var={space.weight_var:g}, "
        f"bias_var={space.bias_var:g}, depth={space.depth}: features reach {largest:g}); use smaller variances, "
        f"fewer layers or rescale the inputs"
    )


def _fit_output_layer(train, test, initial, Y_train):
    """Test predictions after the minimum-norm change of the output weights that interpolates Y_train:
    c = c0 + F^T (F F^T)^-1 (Y - F c0) when there are more features than training points, else the
    least-squares solution nearest c0, c = c0 + (F^T F)^-1 F^T (Y - F c0). Batched over hypotheses."""
    residual = Y_train[None] - train @ initial  # [B, n, k]
    n, p = train.shape[1], train.shape[2]
    train_t = train.transpose(0, 2, 1)
    if p >= n:
        gram = _gram(train, train_t)  # [B, n, n]
        change = train_t @ _solve_spd(gram, residual)
    else:
        gram = _gram(train_t, train)  # [B, p, p]
        change = _solve_spd(gram, train_t @ residual)
    return test @ (initial + change)


def _gram(a, a_t):
    """a @ a_t per hypothesis. NumPy: one 2-D product each, which it hands to BLAS syrk (half the
    flops); CuPy: one batched product."""
    if array_module(a) is np:
        return np.stack([x @ y for x, y in zip(a, a_t)])
    return a @ a_t


def _solve_spd(gram, rhs):
    """Batched solve of gram x = rhs, gram symmetric positive semi-definite: the smallest relative
    jitter that makes every Cholesky succeed (``cholesky_with_jitter``), then two triangular solves
    per hypothesis."""
    xp = array_module(gram)
    factor, jitter = cholesky_with_jitter(
        gram,
        "X_train: the training features are degenerate even with a jitter of "
        "0.1 x their mean Gram diagonal (duplicate inputs with different targets?)",
    )
    if jitter >= LARGE_JITTER:
        reliability.warn(
            reliability.JitterWarning,
            f"X_train: the training features' Gram matrix needed a jitter of {jitter:g} x its mean diagonal: the "
            f"networks fit the training data only approximately",
            stacklevel=2,
        )
    return _cholesky_solve(factor, rhs, xp)


def _cholesky_solve(factor, rhs, xp):
    if xp is np:
        from scipy.linalg import cho_solve

        # The factor was just checked finite.
        return np.stack([cho_solve((f, True), b, check_finite=False) for f, b in zip(factor, rhs)])
    from cupyx.scipy.linalg import solve_triangular

    # Batched triangular solves, L y = rhs then L^T x = y, over all hypotheses at once.
    return solve_triangular(factor, solve_triangular(factor, rhs, lower=True), trans="T", lower=True)


def _callable_losses(space, Y_test, n_hypotheses, seed, loss, progress, start=0):
    t, k = Y_test.shape
    losses = empty("n_hypotheses", n_hypotheses, np)
    with progress_bar(n_hypotheses, "hypotheses", progress, unit="hyp") as bar:
        for i in range(n_hypotheses):
            predictions = to_host(as_array("fn", space.fn(CallableSpace.hypothesis_seed(seed, start + i)))[0])
            if predictions.dtype.kind not in "biuf":
                raise TypeError(f"fn: returned predictions of dtype {predictions.dtype}, expected real numbers")
            predictions = predictions.astype(np.float64)
            if predictions.ndim == 1 and k == 1:
                predictions = predictions[:, None]
            if predictions.shape != (t, k):
                raise ValueError(f"fn: returned predictions of shape {predictions.shape}, expected [{t}, {k}]")
            if not np.isfinite(predictions).all():
                raise ValueError(f"fn: returned NaN or infinity for hypothesis {i}")
            largest = float(np.abs(predictions).max())
            if largest > _validation.LARGEST_VALUE:  # as for the targets: squared errors would overflow
                raise ValueError(
                    f"fn: returned predictions reaching {largest:g} for hypothesis {i}, whose squared errors overflow "
                    f"in double precision; rescale the predictions and targets"
                )
            losses[i] = _reduce(predictions[None], Y_test, loss)[0]
            bar.update(1)
    return losses


# Dask: the task functions run on the workers (module-level so that they pickle by reference).


def _on_worker_device(arrays, device):
    """The arrays on this worker's GPU when device="cuda" was asked for and the worker has one."""
    if device == "cuda" and cuda_available():
        import cupy

        return tuple(cupy.asarray(a) for a in arrays)
    return arrays


def _gaussian_task(payload, start, size, seed, loss, device):
    mean, factor, targets = _on_worker_device(payload, device)
    return to_host(sample_gaussian_losses(mean, factor, targets, size, seed=seed, loss=loss, start=start))


def _space_task(payload, start, size, seed, loss, device):
    space, X_train, targets_train, X_test, targets_test = payload
    X_train, X_test = _on_worker_device((X_train, X_test), device)
    xp = array_module(X_train)
    targets_train, targets_test = xp.asarray(targets_train), xp.asarray(targets_test)
    return to_host(
        _space_losses(
            space,
            X_train,
            X_test,
            targets_train,
            targets_test,
            size,
            seed,
            loss,
            False,
            None,
            start,
            None,
            None,
            device,
        )
    )


def _distributed_gaussian_losses(
    client, mean, factor, targets, n_hypotheses, seed, loss, start, task_size, progress, device="cpu"
):
    t, k = mean.shape
    if task_size is None:  # whole canonical blocks (the GPU's, on GPU workers) of about TASK_FLOPS each
        block = canonical_block(k)
        if device == "cuda":
            itemsize = max(mean.dtype.itemsize, factor.dtype.itemsize)
            block *= gpu_blocks_per_product(t, factor.shape[1], k, itemsize)
        per_hypothesis = 2.0 * t * factor.shape[1] * k
        task_size = max(block, int(_dask.TASK_FLOPS / per_hypothesis) // block * block)
    payload = (to_host(mean), to_host(factor), to_host(targets))  # NumPy on the wire; workers move it to their GPU
    return _dask.run_tasks(
        client, _gaussian_task, payload, n_hypotheses, start, task_size, seed, loss, progress, device
    )


def _distributed_space_losses(
    client,
    space,
    X_train,
    targets_train,
    X_test,
    targets_test,
    n_hypotheses,
    seed,
    loss,
    start,
    task_size,
    progress,
    device="cpu",
):
    if task_size is None:
        if isinstance(space, RandomFeatureSpace):
            n, d = X_train.shape
            per_hypothesis = 2.0 * (n + X_test.shape[0]) * d * space.width + 2.0 * n * n * space.width
            task_size = max(1, int(_dask.TASK_FLOPS / per_hypothesis))
        else:
            task_size = 16  # user code: unknown cost
    payload = (space, to_host(X_train), to_host(targets_train), to_host(X_test), to_host(targets_test))
    return _dask.run_tasks(client, _space_task, payload, n_hypotheses, start, task_size, seed, loss, progress, device)
