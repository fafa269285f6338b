"""Kernel (Gaussian-process) hypothesis spaces and their posterior on a test set.

A hypothesis is a draw of the GP with covariance function ``k`` conditioned on the training data
(noise free). On the test points it is ``mean + factor @ z`` with ``factor @ factor.T`` the posterior
covariance, and its test MSE follows a generalized chi-squared distribution exactly (docs/methods.md, 1.1).
Kernel matrices: inner products through BLAS (NumPy, or cuBLAS through CuPy), the covariance function
by a native kernel (``csrc/include/ib/kernels.hpp``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _backend, _validation
from ._arrays import Array, array_module, cholesky, to_host
from ._backend import _native
from .gchi2 import GeneralizedChi2

__all__ = ["KernelSpace", "Posterior", "kernel_matrix", "posterior"]

_KINDS = {"rbf": 0, "laplacian": 1, "matern12": 1, "matern32": 2, "matern52": 3, "polynomial": 4, "linear": 5,
          "nngp_relu": 6}
_STATIONARY = {"rbf", "laplacian", "matern12", "matern32", "matern52"}
_PARAMETERS = {"rbf": {"variance"}, "laplacian": {"variance"}, "matern12": {"variance"}, "matern32": {"variance"},
               "matern52": {"variance"}, "polynomial": {"gamma", "coef0", "degree"}, "linear": {"coef0"},
               "nngp_relu": {"depth", "weight_var", "bias_var"}}
_JITTERS = (0.0,) + tuple(10.0**e for e in range(-12, 0))  # relative to the mean of diag K


class KernelSpace:
    """The GP hypothesis space of a covariance function.

    ``kernel``: ``"rbf"``, ``"laplacian"`` (= ``"matern12"``), ``"matern32"``, ``"matern52"`` (all with
    ``lengthscale`` and ``variance``), ``"polynomial"`` (``(gamma x.y + coef0)^degree``), ``"linear"``
    (``x.y + coef0``), ``"nngp_relu"`` (the arc-cosine kernel of an infinitely wide ReLU MLP with
    ``depth`` hidden layers, weight variance ``weight_var`` / fan-in and bias variance ``bias_var``).
    ``lengthscale="median"`` is the median pairwise distance of the training inputs.
    """

    def __init__(self, kernel: str = "rbf", lengthscale: float | str = 1.0, **params):
        if kernel not in _KINDS:
            raise ValueError(f"kernel: expected one of {sorted(_KINDS)}, got {kernel!r}")
        unknown = set(params) - _PARAMETERS[kernel]
        if unknown:
            raise ValueError(f"params: {sorted(unknown)} do not apply to the {kernel} kernel "
                             f"(it takes {sorted(_PARAMETERS[kernel])})")
        if kernel in _STATIONARY and not (isinstance(lengthscale, str) and lengthscale == "median"):
            lengthscale = _validation.number("lengthscale", lengthscale)
        for name in ("variance", "gamma", "weight_var"):
            if name in params:
                params[name] = _validation.number(name, params[name])
        for name in ("coef0", "bias_var"):
            if name in params:
                params[name] = _validation.number(name, params[name], allow_low=True)
        if "degree" in params:
            params["degree"] = float(_validation.integer("degree", params["degree"], 1))
        if "depth" in params:
            params["depth"] = _validation.integer("depth", params["depth"], 1)
        self.kernel, self.lengthscale, self.params = kernel, lengthscale, params

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.params.items())
        scale = f", lengthscale={self.lengthscale!r}" if self.kernel in _STATIONARY else ""
        return f"KernelSpace({self.kernel!r}{scale}{extra})"

    def resolved(self, X_train: Array) -> dict:
        """The native parameters for these training inputs (resolves ``lengthscale="median"``)."""
        native = dict(self.params)
        if self.kernel in _STATIONARY:
            lengthscale = self.lengthscale
            if lengthscale == "median":
                lengthscale = median_distance(X_train)
            native["lengthscale"] = float(lengthscale)
        if self.kernel == "nngp_relu":
            native["input_dim"] = float(X_train.shape[1])
        return native


def median_distance(X) -> float:
    """Median Euclidean distance over the pairs of distinct rows of X."""
    xp = array_module(X)
    X = X.astype(np.float64)
    norms = (X * X).sum(axis=1)
    squared = norms[:, None] + norms[None, :] - 2.0 * (X @ X.T)
    upper = squared[xp.triu_indices(X.shape[0], k=1)]
    median = float(xp.sqrt(xp.maximum(xp.median(upper), 0.0)))
    if not median > 0:
        raise ValueError("X_train: the median pairwise distance is 0 (most rows coincide); give a lengthscale")
    return median


def kernel_matrix(space: KernelSpace, A: Array, B: Array, params: dict | None = None) -> Array:
    """``k(A_i, B_j)`` as a float64 matrix of A's array type; ``params`` from ``space.resolved``."""
    xp = array_module(A)
    _backend.same_device("B", B, A, "A")
    with _backend.on_device(A):
        params = space.resolved(A) if params is None else params
        A, B = A.astype(np.float64), B.astype(np.float64)
        out = xp.ascontiguousarray(A @ B.T)
        norms_a, norms_b = (A * A).sum(axis=1), (B * B).sum(axis=1)
        if xp is np:
            _native.kernel_tile(_KINDS[space.kernel], params, out, norms_a, norms_b, out, _backend.get_num_threads())
        else:
            _backend._native_cuda.kernel_tile(_KINDS[space.kernel], params, out.data.ptr, norms_a.data.ptr,
                                              norms_b.data.ptr, A.shape[0], B.shape[0], out.data.ptr,
                                              _backend.current_stream())
    return out


@dataclass
class Posterior:
    """The GP posterior on the test points: ``mean [t, k]`` and the covariance as
    ``eigenvectors @ diag(eigenvalues) @ eigenvectors.T`` (eigenvalues clamped at 0)."""

    mean: Array
    eigenvalues: Array
    eigenvectors: Array
    jitter: float          # added to the diagonal of K(X, X), relative to its mean
    null_tolerance: float  # eigenvalues at or below this count as 0 (null directions)

    def factor(self):
        """L with L @ L.T = covariance: the columns of the non-null directions."""
        xp = array_module(self.eigenvalues)
        keep = self.eigenvalues > self.null_tolerance
        return self.eigenvectors[:, keep] * xp.sqrt(self.eigenvalues[keep])

    def mse_distribution(self, Y_test) -> GeneralizedChi2:
        """The exact distribution of a hypothesis's test MSE, 1/(t k) sum |f_c - y_c|^2:
        sum_j lambda_j / (t k) chi2_k(sum_c b_jc^2) + offset, with b = U^T (mean - Y) / sqrt(lambda)
        and the null directions' squared residuals in the offset."""
        t, k = self.mean.shape
        residual = self.eigenvectors.T @ (self.mean - Y_test)  # [t, k]
        squared = to_host((residual * residual).sum(axis=1))
        eigenvalues = to_host(self.eigenvalues)
        keep = eigenvalues > self.null_tolerance
        offset = float(squared[~keep].sum()) / (t * k)
        return GeneralizedChi2(eigenvalues[keep] / (t * k), k, squared[keep] / eigenvalues[keep], offset)


def posterior(space: KernelSpace, X_train: Array, Y_train: Array, X_test: Array) -> Posterior:
    """Condition the GP on (X_train, Y_train [n, k]) and evaluate it on X_test: Cholesky of K with the
    smallest jitter that succeeds (0, then 1e-12 .. 1e-1 times mean diag K), triangular solves (no
    inverse), and the eigendecomposition of the posterior covariance."""
    for name, array in (("Y_train", Y_train), ("X_test", X_test)):
        _backend.same_device(name, array, X_train, "X_train")
    with _backend.on_device(X_train):
        return _posterior(space, X_train, Y_train, X_test)


def _posterior(space, X_train, Y_train, X_test):
    xp = array_module(X_train)
    params = space.resolved(X_train)
    K = kernel_matrix(space, X_train, X_train, params)
    K_cross = kernel_matrix(space, X_train, X_test, params)
    K_test = kernel_matrix(space, X_test, X_test, params)
    scale = float(xp.diag(K).mean())
    identity = xp.eye(K.shape[0])
    for jitter in _JITTERS:
        L = cholesky(K + (jitter * scale) * identity if jitter else K)
        if L is not None:
            break
    else:
        raise ValueError("X_train: the kernel matrix is not positive definite even with a jitter of 0.1 x its "
                         "mean diagonal (duplicate training inputs with different targets?)")
    solve = _triangular_solver(xp)
    A = solve(L, K_cross)                                 # L^-1 K(X, X*)
    mean = A.T @ solve(L, Y_train.astype(np.float64))     # K(X*, X) K^-1 Y
    covariance = K_test - A.T @ A
    covariance = 0.5 * (covariance + covariance.T)
    eigenvalues, eigenvectors = xp.linalg.eigh(covariance)
    top = float(eigenvalues.max()) if eigenvalues.size else 0.0
    tolerance = max(top, 0.0) * covariance.shape[0] * np.finfo(np.float64).eps
    return Posterior(mean, xp.maximum(eigenvalues, 0.0), eigenvectors, jitter, tolerance)


def _triangular_solver(xp):
    if xp is np:
        from scipy.linalg import solve_triangular
    else:
        from cupyx.scipy.linalg import solve_triangular
    return lambda L, B: solve_triangular(L, B, lower=True)
