"""Exact nearest neighbours: BLAS distance tiles, a native fused top-k, an exact float64 re-ranking.

Per tile of queries x points, BLAS (NumPy, or cuBLAS through CuPy) computes the inner products in
the data's precision, a native kernel turns them into squared distances |q|^2 + |x|^2 - 2 q.x and
keeps the ``k + max(4, k/2)`` smallest per query in a heap; then the kept candidates are re-ranked by
distances recomputed in float64 from the vectors themselves (a native kernel), so float32 cancellation
cannot turn near-duplicates into zero distances (the data are centred first, which also keeps the
norms small). Memory is bounded by the tile sizes plus the heaps ([queries, k + max(4, k/2)]). Against itself on the
CPU the product is symmetric and only half the tiles are multiplied. With ``labels``, the search is for the nearest
point of *another* class (pairs with equal labels are skipped).
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from . import _backend, _validation
from ._arrays import Array, as_array, to_host
from ._backend import _native
from ._overlap import run_overlapped
from ._progress import progress_bar

__all__ = ["nearest_neighbors"]

QUERY_BLOCK = 2048  # CPU tiles of QUERY_BLOCK x POINT_BLOCK inner products (POINT_BLOCK^2 when symmetric)
POINT_BLOCK = 4096
GPU_QUERY_BLOCK = 8192  # GPU tiles: 512 MiB in float32, each query row a warp's work in the selection
GPU_POINT_BLOCK = 16384


def nearest_neighbors(
    X: Array, k: int = 5, queries: Array | None = None, labels: Array | None = None, progress: bool | Callable = False
) -> tuple[Array, Array]:
    """The ``k`` nearest points of ``X`` to each query (Euclidean), exactly.

    Without ``queries`` the queries are the points of ``X`` themselves and each point is left out of
    its own neighbours. With ``labels`` (``[n]`` integers, and queries = ``X``), only points of a
    different class count. NumPy input runs on the CPU, CuPy input on the GPU (results of the same
    type). Candidates found from BLAS inner products are re-ranked by distances recomputed in
    float64, so float32 data cannot turn near-duplicates into zero distances.

    Parameters
    ----------
    X : array [n, d]
        The points searched (``[n]``: one feature), float32 or float64 (other real types are
        computed in float64).
    k : int
        Neighbours per query, ``>= 1`` and at most the number of other points.
    queries : array [q, d], optional
        Query points with the features of ``X``, on the same device; ``None``: the points of ``X``.
    labels : array [n] of int, optional
        Class of each point of ``X`` (only with ``queries=None``): the search is for the nearest
        points of *another* class.
    progress : bool or callable
        A bar over the distance tiles (shown when stderr is a terminal), or ``progress(done, total)``
        called after each tile.

    Returns
    -------
    distances : array [q, k] of float64
        Euclidean distances, ascending per row (``q = n`` without ``queries``).
    indices : array [q, k] of int64
        Rows of ``X`` of those neighbours (ties in any order, never a duplicate).

    Raises
    ------
    ValueError
        If ``k`` is below 1 or above the number of other points, ``queries`` has another number of
        features than ``X``, ``labels`` is given with ``queries`` or is not ``[n]`` integers, an
        array is not ``[n, d]`` or holds NaN or infinity, or the arrays are on different GPUs.
    TypeError
        If ``k`` is not an integer, an array is not of real numbers, or ``queries`` is not on the
        device of ``X``.

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> X = np.array([[0.0], [1.0], [3.0], [7.0]])
    >>> distances, indices = ib.nearest_neighbors(X, k=2)
    >>> distances.tolist()
    [[1.0, 3.0], [1.0, 2.0], [2.0, 3.0], [4.0, 6.0]]
    >>> indices.tolist()
    [[1, 2], [0, 2], [1, 0], [2, 1]]
    >>> distances, indices = ib.nearest_neighbors(X, k=1, labels=np.array([0, 0, 1, 1]))
    >>> distances.ravel().tolist(), indices.ravel().tolist()
    ([3.0, 2.0, 2.0, 6.0], [2, 2, 1, 1])
    >>> ib.nearest_neighbors(X, k=1, queries=np.array([[2.5]]))[1].tolist()
    [[2]]
    """
    X, xp, restore = _validation.points("X", X)
    n = X.shape[0]
    k = _validation.integer("k", k, 1)
    self_search = queries is None
    if self_search:
        Q = X
    else:
        Q, q_xp, _ = _validation.points("queries", queries)
        if q_xp is not xp:
            raise TypeError("queries: must be on the same device as X")
        if Q.shape[1] != X.shape[1]:
            raise ValueError(f"queries: expected {X.shape[1]} features, got {Q.shape[1]}")
        _backend.same_device("queries", Q, X, "X")
    available = n - (1 if self_search else 0)
    if k > available:
        raise ValueError(f"k: {k} neighbours asked for but X has only {available} other points")
    with _backend.on_device(X):
        point_labels = query_labels = None
        if labels is not None:
            if not self_search:
                raise ValueError("labels: only for a search of X against itself (queries=None)")
            point_labels, _ = as_array("labels", labels)
            _backend.same_device("labels", point_labels, X, "X")
            if point_labels.shape != (n,) or point_labels.dtype.kind not in "iu":
                raise ValueError(
                    f"labels: expected {n} integer labels, got shape {point_labels.shape}, {point_labels.dtype}"
                )
            point_labels = xp.ascontiguousarray(xp.asarray(point_labels), dtype=np.int64)
            query_labels = point_labels
            # A point needs k points of other classes: else its row would hold index -1 (a valid
            # NumPy index: the last point) and distance inf.
            _, counts = np.unique(to_host(point_labels), return_counts=True)
            if n - int(counts.max()) < k:
                raise ValueError(
                    f"k: the largest class has {int(counts.max())} of the {n} points, so its points have only "
                    f"{n - int(counts.max())} points of other classes, fewer than k = {k}"
                )
        distances, indices = _search(X, Q, k, self_search, query_labels, point_labels, xp, progress)
    return restore(distances), restore(indices)


def _search(X, Q, k, exclude_self, query_labels, point_labels, xp, progress):
    cuda = xp is not np
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    Xw = xp.ascontiguousarray(X, dtype=dtype)
    center = _gpu_column_mean(Xw) if cuda else Xw.mean(axis=0, dtype=np.float64)
    centered, squared_norms = _gpu_centering() if cuda else (_centered, _squared_norms)
    Xc = centered(Xw, center)
    symmetric = Q is X
    Qw = Xw if symmetric else xp.ascontiguousarray(Q, dtype=dtype)
    Qc = Xc if symmetric else centered(Qw, center)
    x_norms = squared_norms(Xc)
    q_norms = x_norms if symmetric else squared_norms(Qc)
    n, q = X.shape[0], Q.shape[0]
    select = min(k + max(4, k // 2), n - (1 if exclude_self else 0))  # candidates kept for the exact pass
    heap_dist = xp.full((q, select), np.inf)
    heap_index = xp.full((q, select), -1, dtype=np.int64)
    topk = _CudaTopk(dtype) if cuda else _CpuTopk()
    # Tiles (query block, point block). Against itself on the CPU, the product is symmetric: only
    # blocks b >= a are multiplied, and each off-diagonal tile also serves the transposed pair.
    # On the GPU the tiles are larger (fewer, larger products keep cuBLAS at its peak) and every
    # step is queued on one stream, so one tile buffer serves them all.
    if cuda:
        tiles = [(a, b) for a in _even_blocks(q, GPU_QUERY_BLOCK) for b in _blocks(n, GPU_POINT_BLOCK)]
    elif symmetric:
        blocks = _blocks(n, POINT_BLOCK)
        tiles = [(a, b) for i, a in enumerate(blocks) for b in blocks[i:]]
    else:
        tiles = [(a, b) for a in _blocks(q, QUERY_BLOCK) for b in _blocks(n, POINT_BLOCK)]
    largest = max((a[1] - a[0]) * (b[1] - b[0]) for a, b in tiles) if tiles else 0
    buffers = [xp.empty(largest, dtype=dtype) for _ in range(1 if cuda else 2)]

    def tile_view(i):
        (a0, a1), (b0, b1) = tiles[i]
        return buffers[i % len(buffers)][: (a1 - a0) * (b1 - b0)].reshape(a1 - a0, b1 - b0)

    def product(i):
        (a0, a1), (b0, b1) = tiles[i]
        xp.matmul(Qc[a0:a1], Xc[b0:b1].T, out=tile_view(i))

    def offer(tile, transposed, rows, points):
        (r0, r1), (p0, p1) = rows, points
        topk(
            tile,
            transposed,
            q_norms[r0:r1],
            x_norms[p0:p1],
            r0,
            p0,
            exclude_self,
            None if query_labels is None else query_labels[r0:r1],
            None if point_labels is None else point_labels[p0:p1],
            heap_dist[r0:r1],
            heap_index[r0:r1],
        )

    with progress_bar(len(tiles), "distance tiles", progress, unit="tile") as bar:
        if cuda:
            for i, (a, b) in enumerate(tiles):
                product(i)
                offer(tile_view(i), False, a, b)
                bar.update(1)
        else:

            def side(i):  # runs beside product(i): the selection over tile i-1
                if i == 0:
                    return
                a, b = tiles[i - 1]
                tile = tile_view(i - 1)
                offer(tile, False, a, b)
                if symmetric and a != b:
                    offer(tile, True, b, a)

            def after(i):  # on this thread, once tile i-1 is selected
                if i > 0:
                    bar.update(1)

            run_overlapped(len(tiles), product, side, after)

    exact = xp.empty(heap_index.shape)
    topk.exact(Xw, Qw, heap_index, exact)
    order = xp.argsort(exact, axis=1, kind="stable")[:, :k]
    return xp.sqrt(xp.take_along_axis(exact, order, axis=1)), xp.take_along_axis(heap_index, order, axis=1)


def _centered(X, center):
    """X - center computed in float64, rounded to X's precision."""
    return (X - center).astype(X.dtype)


def _squared_norms(X):
    """Row norms squared, accumulated in float64."""
    return (X.astype(np.float64) ** 2).sum(axis=1)


def _gpu_column_mean(X, rows_per_part: int = 1024):
    """Column means in float64 over parts of `rows_per_part` rows, then over the parts: CuPy reduces
    a whole column of a tall array in one thread block, leaving most of the GPU idle."""
    whole = X.shape[0] // rows_per_part * rows_per_part
    total = X[whole:].sum(axis=0, dtype=np.float64)
    if whole:
        parts = X[:whole].reshape(-1, rows_per_part, X.shape[1]).sum(axis=1, dtype=np.float64)
        total += parts.sum(axis=0)
    return total / X.shape[0]


@functools.cache
def _gpu_centering():
    """The GPU's `_centered` and `_squared_norms`: the same float64 arithmetic as one fused pass each,
    without float64 copies of the data (at 10^6 x 784 those cost more than the selection)."""
    import cupy

    centered = cupy.ElementwiseKernel("T x, float64 c", "T y", "y = (T)((double)x - c)", "ib_centered")
    norms = cupy.ReductionKernel("T x", "float64 y", "(double)x * (double)x", "a + b", "y = a", "0", "ib_squared_norms")
    return centered, lambda X: norms(X, axis=1)


def _blocks(n: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def _even_blocks(n: int, size: int) -> list[tuple[int, int]]:
    """The fewest blocks of at most `size`, their lengths differing by at most one (no small last
    block to run the GPU half empty)."""
    count = -(-n // size)
    return [(n * i // count, n * (i + 1) // count) for i in range(count)]


class _CpuTopk:
    def __init__(self):
        self.threads = _backend.get_num_threads()

    def __call__(
        self,
        tile,
        transposed,
        q_norms,
        x_norms,
        q_offset,
        x_offset,
        exclude_self,
        q_labels,
        x_labels,
        heap_dist,
        heap_index,
    ):
        _native.topk_tile(
            tile,
            transposed,
            q_norms,
            x_norms,
            q_offset,
            x_offset,
            exclude_self,
            q_labels,
            x_labels,
            heap_dist,
            heap_index,
            self.threads,
        )

    def exact(self, points, queries, candidates, out):
        _native.exact_squared_distances(points, queries, candidates, out, self.threads)


class _CudaTopk:
    def __init__(self, dtype):
        _backend.require_cuda("nearest_neighbors on CuPy arrays")
        self.dtype = np.dtype(dtype).name
        self.stream = _backend.current_stream()

    def __call__(
        self,
        tile,
        transposed,
        q_norms,
        x_norms,
        q_offset,
        x_offset,
        exclude_self,
        q_labels,
        x_labels,
        heap_dist,
        heap_index,
    ):
        # Row slices of C-contiguous arrays are contiguous: their pointers can go to the kernel.
        _backend.native_cuda.topk_tile(
            self.dtype,
            tile.data.ptr,
            heap_dist.shape[0],
            x_norms.size,
            q_norms.data.ptr,
            x_norms.data.ptr,
            q_offset,
            x_offset,
            exclude_self,
            0 if q_labels is None else q_labels.data.ptr,
            0 if x_labels is None else x_labels.data.ptr,
            heap_dist.shape[1],
            heap_dist.data.ptr,
            heap_index.data.ptr,
            self.stream,
        )

    def exact(self, points, queries, candidates, out):
        _backend.native_cuda.exact_squared_distances(
            self.dtype,
            points.data.ptr,
            queries.data.ptr,
            points.shape[1],
            candidates.data.ptr,
            candidates.shape[0],
            candidates.shape[1],
            out.data.ptr,
            self.stream,
        )
