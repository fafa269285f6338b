"""Sampling hypotheses on a Dask cluster (``dask.distributed``).

The hypothesis range is cut into tasks; the data (or, for kernel spaces, the posterior mean and
factor, computed once here) are scattered to the workers once; each task returns its slice of
losses. Every hypothesis depends only on (seed, index) and the products run over canonical blocks,
so the concatenated losses are bitwise those of one process, for any number of workers or task
size, and a task Dask retries after a worker dies returns the same slice.
"""

from __future__ import annotations

import numpy as np

from . import _validation
from ._arrays import to_host
from ._progress import progress_bar

_TASK_FLOPS = 2e10  # aim: a few seconds of work per task on one core, far above Dask's ~1 ms overhead


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ImportError("client: running on a Dask cluster needs dask.distributed: "
                          "pip install 'inductive-bias[dask]'") from None
    return distributed


def _run(client, function, payload, n_hypotheses, start, task_size, seed, loss, progress, device="cpu"):
    distributed = _distributed()
    if not isinstance(client, distributed.Client):
        raise TypeError(f"client: expected a dask.distributed.Client, got {type(client).__name__}")
    task_size = _validation.integer("task_size", task_size, 1)
    # Shipped to every worker once; hash=False: a fresh key, never one a previous call is releasing.
    [shared] = client.scatter([payload], broadcast=True, hash=False)
    ranges = [(first, min(task_size, n_hypotheses - first)) for first in range(0, n_hypotheses, task_size)]
    futures = [client.submit(function, shared, start + first, size, seed, loss, device, pure=False, retries=3)
               for first, size in ranges]
    sizes = {future.key: size for future, (_, size) in zip(futures, ranges)}
    with progress_bar(n_hypotheses, "hypotheses (dask)", progress, unit="hyp") as bar:
        for future in distributed.as_completed(futures):
            bar.update(sizes[future.key])
    parts = client.gather(futures)
    return np.concatenate([np.asarray(part) for part in parts]) if parts else np.empty(0)


def _on_worker_device(arrays, device):
    """The arrays on this worker's GPU when device="cuda" was asked for and the worker has one."""
    from . import cuda_available

    if device == "cuda" and cuda_available():
        import cupy

        return tuple(cupy.asarray(a) for a in arrays)
    return arrays


def _gaussian_task(payload, start, size, seed, loss, device):
    from .gaussian_losses import sample_gaussian_losses

    mean, factor, targets = _on_worker_device(payload, device)
    losses = sample_gaussian_losses(mean, factor, targets, size, seed=seed, loss=loss, start=start)
    return to_host(losses)


def _space_task(payload, start, size, seed, loss, device):
    from .spaces import sample_losses

    space, X_train, Y_train, X_test, Y_test = payload
    X_train, X_test = _on_worker_device((X_train, X_test), device)
    losses = sample_losses(space, X_train, Y_train, X_test, Y_test, size, seed=seed, loss=loss, progress=False,
                           start=start)
    return to_host(losses)


def distributed_gaussian_losses(client, mean, factor, targets, n_hypotheses, seed, loss, start, task_size, progress,
                                device="cpu"):
    from .gaussian_losses import canonical_block, gpu_blocks_per_product

    t, k = mean.shape
    if task_size is None:  # whole canonical blocks (the GPU's, on GPU workers) of about _TASK_FLOPS each
        block = canonical_block(k)
        if device == "cuda":
            itemsize = max(mean.dtype.itemsize, factor.dtype.itemsize)
            block *= gpu_blocks_per_product(t, factor.shape[1], k, itemsize)
        per_hypothesis = 2.0 * t * factor.shape[1] * k
        task_size = max(block, int(_TASK_FLOPS / per_hypothesis) // block * block)
    payload = (to_host(mean), to_host(factor), to_host(targets))  # NumPy on the wire; workers move it to their GPU
    return _run(client, _gaussian_task, payload, n_hypotheses, start, task_size, seed, loss, progress, device)


def distributed_space_losses(client, space, X_train, Y_train, X_test, Y_test, n_hypotheses, seed, loss, start,
                             task_size, progress, device="cpu"):
    from .spaces import RandomFeatureSpace

    if task_size is None:
        if isinstance(space, RandomFeatureSpace):
            n, d = X_train.shape
            per_hypothesis = 2.0 * (n + X_test.shape[0]) * d * space.width + 2.0 * n * n * space.width
            task_size = max(1, int(_TASK_FLOPS / per_hypothesis))
        else:
            task_size = 16  # user code: unknown cost
    payload = (space, to_host(X_train), to_host(Y_train), to_host(X_test), to_host(Y_test))
    return _run(client, _space_task, payload, n_hypotheses, start, task_size, seed, loss, progress, device)
