"""Covariance functions: the kernel matrix ``k(A_i, B_j)`` from BLAS inner products and a native
per-element kernel (``csrc/include/ib/kernels.hpp``; NumPy twin in ``_reference.py``).

The list of covariance functions comes from the compiled module (``_native.Kernel``), the one place
it is defined; ``"matern12"`` is another name for ``"laplacian"``.
"""

from __future__ import annotations

import numpy as np

from . import _backend, _validation
from ._arrays import Array, array_module
from ._backend import _native

__all__ = ["KERNELS", "STATIONARY", "kernel_matrix", "median_distance", "native_kernel"]

_ALIASES = {"matern12": "laplacian"}
KERNELS = tuple(_native.Kernel.__members__) + tuple(_ALIASES)
"""Names of the covariance functions that ``KernelSpace`` accepts.

The compiled module defines the list; ``"matern12"`` is added as another name for ``"laplacian"``.
"""
STATIONARY = frozenset({"rbf", "laplacian", "matern12", "matern32", "matern52"})
"""The covariance functions that depend only on the distance of their inputs (they take a lengthscale)."""


def native_kernel(name: str):
    """Look up the compiled module's ``Kernel`` value for a covariance function's name.

    Parameters
    ----------
    name : str
        One of ``KERNELS`` (aliases resolve to the function they name).

    Returns
    -------
    _native.Kernel
        The enum value the native kernels take.

    Raises
    ------
    ValueError
        When ``name`` is not in ``KERNELS``.

    Examples
    --------
    >>> from inductive_bias.covariance import native_kernel
    >>> native_kernel("matern12") == native_kernel("laplacian")
    True
    """
    if name not in KERNELS:
        raise ValueError(f"kernel: expected one of {sorted(KERNELS)}, got {name!r}")
    return _native.Kernel.__members__[_ALIASES.get(name, name)]


def median_distance(X: Array) -> float:
    """Compute the median Euclidean distance over the pairs of distinct rows of ``X``.

    Parameters
    ----------
    X : array [n, d]
        Points, a NumPy or CuPy array with at least two rows.

    Returns
    -------
    float
        The median of the ``n (n - 1) / 2`` pairwise distances.

    Raises
    ------
    ValueError
        When the median is 0 (most rows coincide), so that it cannot serve as a lengthscale.

    Examples
    --------
    >>> import numpy as np
    >>> from inductive_bias.covariance import median_distance
    >>> round(median_distance(np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])), 6)
    5.0
    """
    xp = array_module(X)
    X = X.astype(np.float64)
    norms = (X * X).sum(axis=1)
    squared = norms[:, None] + norms[None, :] - 2.0 * (X @ X.T)
    upper = squared[xp.triu_indices(X.shape[0], k=1)]
    median = float(xp.sqrt(xp.maximum(xp.median(upper), 0.0)))
    if not median > 0:
        raise ValueError("X_train: the median pairwise distance is 0 (most rows coincide); give a lengthscale")
    return median


def kernel_matrix(space, A: Array, B: Array, params: dict | None = None) -> Array:
    """Evaluate the covariance function of a ``KernelSpace`` between two sets of points.

    Entry ``(i, j)`` of the result is ``k(A_i, B_j)``. The inner products come from BLAS and the
    covariance function is applied element by element by a native kernel.

    Parameters
    ----------
    space : KernelSpace
        The covariance function and its parameters.
    A, B : arrays [a, d] and [b, d]
        Points (NumPy, CuPy, or any DLPack producer such as PyTorch or JAX); both on one device.
    params : dict, optional
        Resolved native parameters (``space.resolved(X_train)``); by default resolved from ``A``
        (``lengthscale="median"`` then means the median distance of ``A``).

    Returns
    -------
    array [a, b]
        The float64 matrix ``k(A_i, B_j)``, of ``A``'s array type and on its device.

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> K = ib.kernel_matrix(ib.KernelSpace("rbf", lengthscale=1.0), np.zeros((2, 3)), np.ones((1, 3)))
    >>> np.round(K, 4).tolist()
    [[0.2231], [0.2231]]
    """
    A, xp, restore = _validation.points("A", A)
    B, b_xp, _ = _validation.points("B", B)
    if b_xp is not xp:
        raise TypeError("B: must be on the same device as A")
    if B.shape[1] != A.shape[1]:
        raise ValueError(f"B: expected {A.shape[1]} features like A, got {B.shape[1]}")
    _backend.same_device("B", B, A, "A")
    with _backend.on_device(A):
        params = space.resolved(A) if params is None else params
        A, B = A.astype(np.float64), B.astype(np.float64)
        out = xp.ascontiguousarray(A @ B.T)
        norms_a, norms_b = (A * A).sum(axis=1), (B * B).sum(axis=1)
        kind = native_kernel(space.kernel)
        if xp is np:
            _native.kernel_tile(kind, params, out, norms_a, norms_b, out, _backend.get_num_threads())
        else:
            _backend.native_cuda.kernel_tile(
                kind,
                params,
                out.data.ptr,
                norms_a.data.ptr,
                norms_b.data.ptr,
                A.shape[0],
                B.shape[0],
                out.data.ptr,
                _backend.current_stream(),
            )
    return restore(out)
