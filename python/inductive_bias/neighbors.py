"""Exact nearest neighbours: BLAS distance tiles, a native fused top-k, an exact float64 re-ranking.

Per tile of queries x points, BLAS (NumPy, or cuBLAS through CuPy) computes the inner products in
the data's precision, a native kernel turns them into squared distances |q|^2 + |x|^2 - 2 q.x and
keeps the ``2k`` (at least ``k + 8``) smallest per query in a heap; then the kept candidates are
re-ranked by distances recomputed in float64 from the vectors themselves, so float32 cancellation
cannot turn near-duplicates into zero distances (the data are centred first, which also keeps the
norms small). Memory is bounded by the tile sizes. With ``labels``, the search is for the nearest
point of *another* class (pairs with equal labels are skipped).
"""

from __future__ import annotations

import numpy as np

from . import _backend, _validation
from ._arrays import array_module, as_array
from ._backend import _native
from ._pipeline import run_overlapped, run_serial
from ._progress import progress_bar

__all__ = ["nearest_neighbors"]

QUERY_BLOCK = 2048
POINT_BLOCK = 8192


def _points(name: str, X):
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
    _validation.finite(name, X, xp)
    return X, xp, restore


def nearest_neighbors(X, k: int = 5, queries=None, labels=None, progress: bool = False):
    """The ``k`` nearest points of ``X`` to each query (Euclidean), exactly.

    Returns ``(distances [q, k] float64, indices [q, k] int64)``, sorted by distance. Without
    ``queries`` the queries are the points of ``X`` themselves and each point is left out of its own
    neighbours. With ``labels`` (``[n]`` integers, and queries = ``X``), only points of a different
    class count. NumPy input runs on the CPU, CuPy input on the GPU (results of the same type).
    """
    X, xp, restore = _points("X", X)
    n = X.shape[0]
    k = _validation.integer("k", k, 1)
    self_search = queries is None
    if self_search:
        Q = X
    else:
        Q, q_xp, _ = _points("queries", queries)
        if q_xp is not xp:
            raise TypeError("queries: must be on the same device as X")
        if Q.shape[1] != X.shape[1]:
            raise ValueError(f"queries: expected {X.shape[1]} features, got {Q.shape[1]}")
    point_labels = query_labels = None
    if labels is not None:
        if not self_search:
            raise ValueError("labels: only for a search of X against itself (queries=None)")
        point_labels, _ = as_array("labels", labels)
        if point_labels.shape != (n,) or point_labels.dtype.kind not in "iu":
            raise ValueError(f"labels: expected {n} integer labels, got shape {point_labels.shape}, {point_labels.dtype}")
        point_labels = xp.ascontiguousarray(point_labels, dtype=np.int64)
        query_labels = point_labels
    available = n - (1 if self_search else 0)
    if k > available:
        raise ValueError(f"k: {k} neighbours asked for but X has only {available} other points")
    distances, indices = _search(X, Q, k, self_search, query_labels, point_labels, xp, progress)
    return restore(distances), restore(indices)


def _search(X, Q, k, exclude_self, query_labels, point_labels, xp, progress):
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    center = X.mean(axis=0, dtype=np.float64)
    Xc = (X - center).astype(dtype)
    Qc = Xc if Q is X else (Q - center).astype(dtype)
    x_norms = (Xc.astype(np.float64) ** 2).sum(axis=1)
    q_norms = x_norms if Q is X else (Qc.astype(np.float64) ** 2).sum(axis=1)
    n, q = X.shape[0], Q.shape[0]
    select = min(max(2 * k, k + 8), n)
    distances = xp.empty((q, k))
    indices = xp.empty((q, k), dtype=np.int64)
    point_blocks = [(x0, min(x0 + POINT_BLOCK, n)) for x0 in range(0, n, POINT_BLOCK)]
    cuda = xp is not np
    kernel = _CudaTopk(dtype) if cuda else None
    threads = _backend.get_num_threads()
    tiles = [xp.empty((QUERY_BLOCK, POINT_BLOCK), dtype=dtype) for _ in range(2)]
    with progress_bar(q, "queries", progress, unit="query") as bar:
        for q0 in range(0, q, QUERY_BLOCK):
            q1 = min(q0 + QUERY_BLOCK, q)
            rows = q1 - q0
            heap_dist = xp.full((rows, select), np.inf)
            heap_index = xp.full((rows, select), -1, dtype=np.int64)
            q_lab = query_labels[q0:q1] if query_labels is not None else None

            def product(i):
                x0, x1 = point_blocks[i]
                shape = (x1 - x0, rows) if cuda else (rows, x1 - x0)
                tile = tiles[i % 2].reshape(-1)[: shape[0] * shape[1]].reshape(shape)
                if cuda:  # transposed tile: adjacent threads (queries) read adjacent memory
                    xp.matmul(Xc[x0:x1], Qc[q0:q1].T, out=tile)
                else:
                    xp.matmul(Qc[q0:q1], Xc[x0:x1].T, out=tile)

            def select_step(i):  # runs beside product(i): the selection over tile i-1
                if i == 0:
                    return
                x0, x1 = point_blocks[i - 1]
                size = (x1 - x0) * rows
                tile = tiles[(i - 1) % 2].reshape(-1)[:size]
                x_lab = point_labels[x0:x1] if point_labels is not None else None
                if cuda:
                    kernel(tile, rows, x1 - x0, q_norms[q0:q1], x_norms[x0:x1], q0, x0, exclude_self, q_lab, x_lab,
                           heap_dist, heap_index)
                else:
                    _native.topk_tile(tile, q_norms[q0:q1], x_norms[x0:x1], q0, x0, exclude_self, q_lab, x_lab,
                                      heap_dist, heap_index, threads)

            (run_serial if cuda else run_overlapped)(len(point_blocks), product, select_step)
            exact = _exact_squared_distances(X, Q, q0, q1, heap_index, center, xp)
            order = xp.argsort(exact, axis=1, kind="stable")[:, :k]
            distances[q0:q1] = xp.sqrt(xp.take_along_axis(exact, order, axis=1))
            indices[q0:q1] = xp.take_along_axis(heap_index, order, axis=1)
            bar.update(rows)
    return distances, indices


def _exact_squared_distances(X, Q, q0, q1, candidates, center, xp, chunk: int = 256):
    """|q - x|^2 in float64 for each query row and its candidate indices (-1: none, gives inf)."""
    out = xp.empty(candidates.shape)
    valid = candidates >= 0
    safe = xp.where(valid, candidates, 0)
    for r0 in range(0, q1 - q0, chunk):
        r1 = min(r0 + chunk, q1 - q0)
        queries = Q[q0 + r0 : q0 + r1].astype(np.float64) - center
        points = X[safe[r0:r1]].astype(np.float64) - center  # [rows, select, d]
        diff = points - queries[:, None, :]
        out[r0:r1] = xp.einsum("rsd,rsd->rs", diff, diff)
    out[~valid] = np.inf
    return out


class _CudaTopk:
    def __init__(self, dtype):
        _backend.require_cuda("nearest_neighbors on CuPy arrays")
        import cupy

        self.dtype = np.dtype(dtype).name
        self.stream = cupy.cuda.get_current_stream().ptr

    def __call__(self, tile, queries, points, q_norms, x_norms, q_offset, x_offset, exclude_self, q_labels, x_labels,
                 heap_dist, heap_index):
        q_norms, x_norms = q_norms.copy(), x_norms.copy()  # contiguous slices for raw pointers
        ql = 0 if q_labels is None else q_labels.copy()
        xl = 0 if x_labels is None else x_labels.copy()
        _backend._native_cuda.topk_tile(self.dtype, tile.data.ptr, queries, points, q_norms.data.ptr, x_norms.data.ptr,
                                        q_offset, x_offset, exclude_self, 0 if q_labels is None else ql.data.ptr,
                                        0 if x_labels is None else xl.data.ptr, heap_dist.shape[1], heap_dist.data.ptr,
                                        heap_index.data.ptr, self.stream)
