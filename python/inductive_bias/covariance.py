"""Covariance functions: the kernel matrix ``k(A_i, B_j)`` from BLAS inner products and a native
per-element kernel (``csrc/include/ib/kernels.hpp``; NumPy twin in ``_reference.py``).

The list of covariance functions comes from the compiled module (``_native.Kernel``), the one place
it is defined; ``"matern12"`` is another name for ``"laplacian"``.
"""

from __future__ import annotations

import math

import numpy as np

from . import _backend, _validation
from ._arrays import Array, array_module
from ._backend import _native

__all__ = ["KERNELS", "STATIONARY", "checked_params", "kernel_matrix", "median_distance", "native_kernel"]

_ALIASES = {"matern12": "laplacian"}
KERNELS = tuple(_native.Kernel.__members__) + tuple(_ALIASES)
"""Names of the covariance functions that ``KernelSpace`` accepts.

The compiled module defines the list; ``"matern12"`` is added as another name for ``"laplacian"``.
"""
STATIONARY = frozenset({"rbf", "laplacian", "matern12", "matern32", "matern52"})
"""The covariance functions that depend only on the distance of their inputs (they take a lengthscale)."""
NETWORK_KERNELS = frozenset({"nngp_relu", "ntk_relu", "nngp_erf", "ntk_erf"})
MAX_DEPTH = 10_000  # hidden layers of the network kernels (each is one recursion step per matrix entry)
PARAMETERS: dict[str, set[str]] = {
    "rbf": {"variance"},
    "laplacian": {"variance"},
    "matern12": {"variance"},
    "matern32": {"variance"},
    "matern52": {"variance"},
    "polynomial": {"gamma", "coef0", "degree"},
    "linear": {"coef0"},
    **{name: {"depth", "weight_var", "bias_var"} for name in NETWORK_KERNELS},
}
"""The parameters each covariance function takes besides the lengthscale (stationary kernels) and the
input dimension (network kernels, resolved from the data)."""
# A network kernel whose entries leave [1e-150, 1e150] has squares (in the posterior's products) that
# overflow or underflow float64, like the inputs ``_validation.points`` refuses.
_LARGEST_KERNEL = 1e150


def checked_params(kernel: str, params: dict, resolved: bool = False) -> dict:
    """The parameters of ``kernel`` with every value checked by name, as ``KernelSpace`` and
    ``kernel_matrix(params=...)`` take them: a new dict (a whole float ``degree`` as an int).
    ``resolved``: also the resolved ``lengthscale`` / ``input_dim`` (``KernelSpace.resolved``).

    Raises
    ------
    TypeError
        When ``params`` is not a dict, or a value is not a number (an integer for ``depth``, ``degree``).
    ValueError
        A parameter the kernel does not take, or an out-of-range value.
    """
    native_kernel(kernel)
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict of kernel parameters, got {type(params).__name__}")
    allowed = set(PARAMETERS[kernel])
    if resolved:
        allowed |= {"lengthscale"} if kernel in STATIONARY else set()
        allowed |= {"input_dim"} if kernel in NETWORK_KERNELS else set()
    unknown = set(params) - allowed
    if unknown:
        raise ValueError(
            f"params: {sorted(map(str, unknown))} do not apply to the {kernel} kernel (it takes {sorted(allowed)})"
        )
    params = dict(params)
    for name in ("lengthscale", "variance", "gamma", "weight_var", "input_dim"):
        if name in params:
            params[name] = _validation.number(name, params[name])
    for name in ("coef0", "bias_var"):
        if name in params:
            params[name] = _validation.number(name, params[name], allow_low=True)
    if "degree" in params:  # a whole number (a power of a possibly negative base); 3.0 reads as 3
        degree = params["degree"]
        if isinstance(degree, (float, np.floating)) and float(degree).is_integer():
            degree = int(degree)
        params["degree"] = _validation.integer("degree", degree, 1)
    if "depth" in params:  # the arc-cosine recursion converges to a constant long before 10^4 layers
        params["depth"] = _validation.integer("depth", params["depth"], 1, MAX_DEPTH + 1)
    return params


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
    # A KernelSpace (spaces.py imports this module: checked by what it has, not by import)
    if not (isinstance(getattr(space, "kernel", None), str) and callable(getattr(space, "resolved", None))):
        raise TypeError(f"space: expected a KernelSpace, got {type(space).__name__}")
    same = A is B  # one set of points: the diagonal is k(x, x), which a network kernel keeps above 0
    A, xp, restore = _validation.points("A", A)
    B, b_xp, _ = _validation.points("B", B)
    if b_xp is not xp:
        raise TypeError("B: must be on the same device as A")
    if B.shape[1] != A.shape[1]:
        raise ValueError(f"B: expected {A.shape[1]} features like A, got {B.shape[1]}")
    _backend.same_device("B", B, A, "A")
    with _backend.on_device(A):
        params = space.resolved(A) if params is None else checked_params(space.kernel, params, resolved=True)
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
        if space.kernel in NETWORK_KERNELS:
            zero_inputs = not bool((norms_a > 0).any()) and not params.get("bias_var", 0.0)  # k = 0 truly
            _check_network_scale(out, params, same, zero_inputs, xp)
    return restore(out)


def _check_network_scale(K, params: dict, same: bool, zero_inputs: bool, xp) -> None:
    """Refuse a network kernel matrix that overflowed or underflowed float64 (the recursion multiplies
    by about ``weight_var / 2`` per layer for ReLU), naming the depth and variances: one check for
    ``KernelSpace`` and ``TrainedNetworkSpace`` alike."""
    depth, weight_var, bias_var = params.get("depth", 1), params.get("weight_var", 2.0), params.get("bias_var", 0.0)
    values = xp.diagonal(K) if same else K  # k(x, x) > 0 unless x = 0 and bias_var = 0
    largest = float(xp.abs(K).max()) if K.size else 0.0
    peak = float(xp.abs(values).max()) if values.size else 0.0
    if not math.isfinite(largest) or largest > _LARGEST_KERNEL:
        change = "overflow float64" if not math.isfinite(largest) else f"reach {largest:.3g}, whose squares overflow"
    else:
        tiny = 1.0 / _LARGEST_KERNEL
        if not ((same and peak < tiny and not zero_inputs) or (not same and 0 < largest < tiny)):
            return
        change = f"underflow float64 (they reach only {largest:.3g})"
    layers = f"{depth} layer{'s' if depth != 1 else ''}"
    raise ValueError(
        f"depth: the kernels of {layers} {change} for these inputs (with weight_var={weight_var:g}, "
        f"bias_var={bias_var:g} they grow or shrink geometrically with depth); use fewer layers, a weight_var "
        f"nearer the critical one (2 for relu), or rescale the inputs"
    )
