"""Running a range of hypotheses as tasks on a Dask cluster (``dask.distributed``).

The range is cut into tasks; the payload (the data, or for kernel spaces the posterior mean and
factor) is scattered to the workers once; each task returns its slice of losses (the task functions
live in ``sampling``). Every hypothesis depends only on (seed, index) and the products run over canonical blocks,
so the concatenated losses are bitwise those of one process, for any number of workers or task
size, and a task Dask retries after a worker dies returns the same slice.
"""

from __future__ import annotations

import numpy as np

from . import _validation
from ._progress import progress_bar

TASK_FLOPS = 2e10  # aim: a few seconds of work per task on one core, far above Dask's ~1 ms overhead


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ImportError(
            "client: running on a Dask cluster needs dask.distributed: pip install 'inductive-bias[dask]'"
        ) from None
    return distributed


def run_tasks(client, function, payload, n_hypotheses, start, task_size, seed, loss, progress, device="cpu"):
    """Losses of hypotheses ``start ..`` as ``function(payload, first, size, seed, loss, device)`` tasks of
    ``task_size`` hypotheses on ``client``, concatenated in order (NumPy)."""
    distributed = _distributed()
    if not isinstance(client, distributed.Client):
        raise TypeError(f"client: expected a dask.distributed.Client, got {type(client).__name__}")
    task_size = _validation.integer("task_size", task_size, 1)
    # Shipped to every worker once; hash=False: a fresh key, never one a previous call is releasing.
    [shared] = client.scatter([payload], broadcast=True, hash=False)
    ranges = [(first, min(task_size, n_hypotheses - first)) for first in range(0, n_hypotheses, task_size)]
    futures = [
        client.submit(function, shared, start + first, size, seed, loss, device, pure=False, retries=3)
        for first, size in ranges
    ]
    sizes = {future.key: size for future, (_, size) in zip(futures, ranges)}
    with progress_bar(n_hypotheses, "hypotheses (dask)", progress, unit="hyp") as bar:
        for future in distributed.as_completed(futures):
            bar.update(sizes[future.key])
    parts = client.gather(futures)
    return np.concatenate([np.asarray(part) for part in parts]) if parts else np.empty(0)
