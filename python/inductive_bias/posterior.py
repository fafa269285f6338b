"""Targets and the Gaussian-process posterior of a kernel space on a test set.

A hypothesis is a draw of the GP with covariance function ``k`` conditioned on the training data
(noise free). On the test points it is ``mean + factor @ z`` with ``factor @ factor.T`` the posterior
covariance, and its test MSE follows a generalized chi-squared distribution exactly (docs/methods.md, 1.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _backend, _validation, reliability
from ._arrays import LARGE_JITTER, Array, array_module, as_array, cholesky_with_jitter, eigh, to_host
from .covariance import kernel_matrix
from .gchi2 import GeneralizedChi2
from .spaces import KernelSpace, TrainedNetworkSpace

__all__ = ["Posterior", "posterior", "training_and_test_targets"]


def training_and_test_targets(Y_train, Y_test, n_train: int, n_test: int, xp):
    """Make the target matrices ``[n, k]`` of the training and the test set together.

    Integer labels become one-hot targets over the classes of train and test together (as in the
    published method): labels 0 .. C-1 as they are (C = the largest label + 1), negative labels or
    labels that would leave most of those C columns empty (0, 10^6, 2 10^6) by their rank among the
    distinct labels of both sets (as the .csv reader and ``class_separation`` do); real targets are
    used as they are.

    Parameters
    ----------
    Y_train, Y_test : arrays [n], [t] of int labels, or [n, k], [t, k] of real targets
        The targets as the caller gave them.
    n_train, n_test : int
        The number of training and test points the targets must match.
    xp : module
        The array module (NumPy or CuPy) the targets are made in.

    Returns
    -------
    targets_train, targets_test : arrays [n, k], [t, k]
        The float64 targets, with the same number of outputs ``k``.

    Raises
    ------
    ValueError
        When the two sets disagree on the number of outputs, or a set does not match its size.

    Examples
    --------
    >>> import numpy as np
    >>> from inductive_bias.posterior import training_and_test_targets
    >>> train, test = training_and_test_targets(np.array([0, 1]), np.array([2]), 2, 1, np)
    >>> train.shape, test.tolist()
    ((2, 3), [[0.0, 0.0, 1.0]])
    """
    labels = [to_host(as_array(name, Y)[0]) for name, Y in (("Y_train", Y_train), ("Y_test", Y_test))]
    classes = None
    if all(y.ndim == 1 and y.dtype.kind in "iu" for y in labels) and labels[0].size and labels[1].size:
        (Y_train, Y_test), classes = _validation.label_codes(labels)  # sparse labels: not a vast one-hot
    targets_train = _validation.targets("Y_train", Y_train, n_train, xp, classes)
    targets_test = _validation.targets("Y_test", Y_test, n_test, xp, classes)
    if targets_train.shape[1] != targets_test.shape[1]:
        raise ValueError(f"Y_test: expected {targets_train.shape[1]} outputs like Y_train, got {targets_test.shape[1]}")
    return targets_train, targets_test


@dataclass
class Posterior:
    """The Gaussian posterior of a kernel space (or of trained wide networks) on the test points.

    Returned by :func:`posterior`. A hypothesis on the test points is ``mean + factor() @ z`` with
    standard normal ``z``.

    Parameters
    ----------
    mean, eigenvalues, eigenvectors : arrays
        The posterior mean and the eigendecomposition of the posterior covariance.
    jitter, null_tolerance : float
        The relative jitter used and the eigenvalue threshold of the null directions.

    Attributes
    ----------
    mean : array [t, k]
        Posterior mean of the ``k`` outputs on the ``t`` test points.
    eigenvalues, eigenvectors : arrays [t], [t, t]
        The posterior covariance (shared by the outputs) as ``U diag(lambda) U^T``, eigenvalues
        clamped at 0.
    jitter : float
        Added to the diagonal of ``K(X, X)`` (of the neural tangent kernel matrix for a
        ``TrainedNetworkSpace``), relative to its mean diagonal (0 when none was needed).
    null_tolerance : float
        Eigenvalues at or below it count as 0: directions no hypothesis can move.

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> post = ib.posterior(ib.KernelSpace("rbf", lengthscale=1.0), X[:2], np.array([0, 1]), X)
    >>> post.mean.shape, post.eigenvectors.shape, round(float(post.eigenvalues.max()), 3)
    ((3, 2), (3, 3), 0.547)
    """

    mean: Array
    eigenvalues: Array
    eigenvectors: Array
    jitter: float
    null_tolerance: float

    def factor(self) -> Array:
        """Return a factor ``L`` of the posterior covariance, ``L @ L.T`` being the covariance.

        Returns
        -------
        array [t, r]
            One column per non-null direction (eigenvalue above ``null_tolerance``), the eigenvector
            scaled by the square root of its eigenvalue; same array type as ``eigenvalues``.
        """
        xp = array_module(self.eigenvalues)
        keep = self.eigenvalues > self.null_tolerance
        return self.eigenvectors[:, keep] * xp.sqrt(self.eigenvalues[keep])

    def mse_distribution(self, Y_test: Array) -> GeneralizedChi2:
        """Return the exact distribution of a hypothesis's test MSE, ``1/(t k) sum |f_c - y_c|^2``.

        It is ``sum_j lambda_j / (t k) chi2_k(sum_c b_jc^2) + offset``, with
        ``b = U^T (mean - Y) / sqrt(lambda)`` and the null directions' squared residuals in the offset.

        Parameters
        ----------
        Y_test : array [t, k] of real targets, or [t] of int labels in [0, k)
            Labels become one-hot targets over the ``k`` outputs of the posterior.

        Returns
        -------
        GeneralizedChi2
            The test MSE's distribution: one term per non-null direction, with ``k`` degrees of
            freedom each, and the null directions' part as its offset.
        """
        t, k = self.mean.shape
        xp = array_module(self.mean)
        targets = _validation.targets("Y_test", Y_test, t, xp, k)
        residual = self.eigenvectors.T @ (self.mean - targets)  # [t, k]
        squared = to_host((residual * residual).sum(axis=1))
        eigenvalues = to_host(self.eigenvalues)
        keep = eigenvalues > self.null_tolerance
        offset = float(squared[~keep].sum()) / (t * k)
        return GeneralizedChi2(eigenvalues[keep] / (t * k), k, squared[keep] / eigenvalues[keep], offset)


def posterior(space, X_train: Array, Y_train: Array, X_test: Array) -> Posterior:
    """Condition the GP of a ``KernelSpace`` on the training data and evaluate it on ``X_test``.

    Cholesky of ``K(X, X)`` with the smallest jitter that succeeds (0, then 1e-12 .. 1e-1 times its
    mean diagonal), triangular solves (no inverse), and the eigendecomposition of the posterior
    covariance. For a ``TrainedNetworkSpace`` the same for the distribution of the trained networks
    on ``X_test``, with the neural tangent kernel matrix ``Theta(X, X)`` in the place of ``K(X, X)``.

    Parameters
    ----------
    space : KernelSpace or TrainedNetworkSpace
        The covariance function of the GP, or the trained wide networks.
    X_train : array [n, d]
        Training inputs.
    Y_train : array [n] of int labels, or [n, k] of real targets
        Labels become one-hot targets over ``largest label + 1`` classes (refused when most of them
        would be empty: give labels 0 .. C-1; ``inductive_bias`` maps any labels itself).
    X_test : array [t, d]
        Test inputs. NumPy arrays run on the CPU, CuPy arrays on their GPU (all on one device).

    Returns
    -------
    Posterior
        The posterior mean and covariance on ``X_test``.

    Raises
    ------
    ValueError
        When the kernel matrix is not positive definite even with the largest jitter.

    Warns
    -----
    JitterWarning
        When the factored matrix needed a jitter of 1e-6 of its mean diagonal or more; for a
        ``TrainedNetworkSpace`` also when its covariance had eigenvalues below -1e-6 of its scale
        (clamped at 0).

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> X = np.array([[0.0], [1.0]])
    >>> post = ib.posterior(ib.KernelSpace("rbf", lengthscale=1.0), X, np.array([0, 1]), X)
    >>> np.allclose(post.mean, [[1, 0], [0, 1]]), bool(post.eigenvalues.max() < 1e-12)
    (True, True)
    """
    if not isinstance(space, (KernelSpace, TrainedNetworkSpace)):
        raise TypeError(f"space: expected a KernelSpace or TrainedNetworkSpace, got {type(space).__name__}")
    X_train, xp, _ = _validation.points("X_train", X_train)
    X_test, test_xp, _ = _validation.points("X_test", X_test)
    if test_xp is not xp:
        raise TypeError("X_test: must be on the same device as X_train")
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_test: expected {X_train.shape[1]} features like X_train, got {X_test.shape[1]}")
    for name, array in (("Y_train", Y_train), ("X_test", X_test)):
        _backend.same_device(name, array, X_train, "X_train")
    with _backend.on_device(X_train):
        targets = _validation.targets("Y_train", Y_train, X_train.shape[0], xp)
        return posterior_of_targets(space, X_train, targets, X_test)


def posterior_of_targets(space, X_train, targets_train, X_test) -> Posterior:
    """``posterior`` on checked NumPy or CuPy arrays, with targets [n, k] already made (the current device)."""
    if isinstance(space, TrainedNetworkSpace):
        return _trained_network_posterior(space, X_train, targets_train, X_test)
    if not isinstance(space, KernelSpace):
        raise TypeError(f"space: expected a KernelSpace or TrainedNetworkSpace, got {type(space).__name__}")
    xp = array_module(X_train)
    params = space.resolved(X_train)
    K = kernel_matrix(space, X_train, X_train, params)
    K_cross = kernel_matrix(space, X_train, X_test, params)
    K_test = kernel_matrix(space, X_test, X_test, params)
    L, jitter = cholesky_with_jitter(
        K,
        "X_train: the kernel matrix is not positive definite even with a jitter of "
        "0.1 x its mean diagonal (duplicate training inputs with different targets?)",
    )
    if jitter >= LARGE_JITTER:
        reliability.warn(
            reliability.JitterWarning,
            f"X_train: the kernel matrix needed a jitter of {jitter:g} x its mean diagonal to factor: the posterior "
            f"fits the training data only approximately (near-duplicate inputs?)",
        )
    solve = triangular_solver(xp)
    A = solve(L, K_cross)  # L^-1 K(X, X*)
    mean = A.T @ solve(L, targets_train)  # K(X*, X) K^-1 Y
    covariance = K_test - A.T @ A
    covariance = 0.5 * (covariance + covariance.T)
    eigenvalues, eigenvectors = eigh(covariance)
    top = float(eigenvalues.max()) if eigenvalues.size else 0.0
    tolerance = max(top, 0.0) * covariance.shape[0] * np.finfo(np.float64).eps
    return Posterior(mean, xp.maximum(eigenvalues, 0.0), eigenvectors, jitter, tolerance)


def _trained_network_posterior(space, X_train, targets_train, X_test) -> Posterior:
    """The test predictions of infinitely wide networks trained to convergence (Lee et al. 2019).

    A trained network is ``f0(T) + Theta(T, X) Theta^-1 (Y - f0(X))`` with ``f0`` the network at
    initialization, a GP with the NNGP kernel ``K``. With ``Theta = L L^T``, ``A = L^-1 Theta(X, T)``,
    ``C = L^-1 K(X, T)`` and ``G = L^-1 K(X, X) L^-T`` (lower solves only): mean ``A^T L^-1 Y`` and
    covariance ``K(T, T) + A^T G A - A^T C - C^T A``.
    """
    xp = array_module(X_train)
    nngp, ntk = space.nngp(), space.ntk()
    params = nngp.resolved(X_train)  # the NTK takes the same parameters
    Theta, Theta_cross = kernel_matrix(ntk, X_train, X_train, params), kernel_matrix(ntk, X_train, X_test, params)
    K, K_cross = kernel_matrix(nngp, X_train, X_train, params), kernel_matrix(nngp, X_train, X_test, params)
    K_test = kernel_matrix(nngp, X_test, X_test, params)
    L, jitter = cholesky_with_jitter(
        Theta,
        "X_train: the neural tangent kernel matrix is not positive definite even with a jitter of "
        "0.1 x its mean diagonal (duplicate training inputs with different targets?)",
    )
    # Unlike a GP posterior, the formula has no noise term to absorb a jitter: with any, the networks
    # it describes are not the trained ones, which fit every training target.
    if jitter > 0:
        reliability.warn(
            reliability.JitterWarning,
            f"X_train: the neural tangent kernel matrix is singular to working precision and needed a jitter of "
            f"{jitter:g} x its mean diagonal to factor: the result is not the trained networks' distribution, which "
            f"fit every training target (duplicate or near-duplicate training inputs? remove them)",
            stacklevel=None,
        )
    else:
        condition = condition_number(L, Theta, xp)
        if condition * np.finfo(np.float64).eps > _LOST_DIGITS:
            reliability.warn(
                reliability.JitterWarning,
                f"X_train: the neural tangent kernel matrix has a condition number of about {condition:.2g}: the mean "
                f"and covariance of the trained networks may be wrong in all but the leading "
                f"{max(0.0, -np.log10(condition * np.finfo(np.float64).eps)):.0f} digits (near-duplicate training "
                f"inputs? remove them)",
                stacklevel=None,
            )
    solve = triangular_solver(xp)
    A = solve(L, Theta_cross)
    C = solve(L, K_cross)
    G = solve(L, solve(L, K).T)
    mean = A.T @ solve(L, targets_train)
    moved = A.T @ (G @ A)  # the covariance that training adds: of Theta(T, X) Theta^-1 f0(X)
    cross = A.T @ C
    covariance = K_test + moved - cross - cross.T
    covariance = 0.5 * (covariance + covariance.T)
    eigenvalues, eigenvectors = eigh(covariance)
    # The covariance is a difference of terms up to (sqrt(max K_test) + sqrt(max moved))^2 in size
    # (Cauchy-Schwarz): rounding leaves eigenvalues of t eps times that around 0.
    scale = (float(xp.sqrt(xp.diagonal(K_test).max())) + float(xp.sqrt(xp.maximum(xp.diagonal(moved), 0.0).max()))) ** 2
    tolerance = scale * covariance.shape[0] * np.finfo(np.float64).eps
    lowest = float(eigenvalues.min()) if eigenvalues.size else 0.0
    if lowest < -1e-6 * scale and scale > 0:
        reliability.warn(
            reliability.JitterWarning,
            f"X_train: the covariance of the trained networks has an eigenvalue of {lowest:g} ({lowest / scale:.2g} "
            f"of its scale), clamped at 0: the neural tangent kernel matrix is too ill-conditioned for the solve "
            f"(near-duplicate inputs?)",
        )
    return Posterior(mean, xp.maximum(eigenvalues, 0.0), eigenvectors, jitter, tolerance)


# Warn where the solves may keep fewer than 8 digits: rounding errors grow by up to cond(Theta).
_LOST_DIGITS = 1e-8


def condition_number(L, matrix, xp) -> float:
    """An estimate of the 1-norm condition number of ``matrix = L L^T``: LAPACK's ``pocon`` on the
    CPU (within a small factor), ``(max diag L / min diag L)^2`` on a GPU (a lower bound)."""
    if xp is np:
        from scipy.linalg.lapack import dpocon

        rcond, info = dpocon(L, float(np.abs(matrix).sum(axis=0).max()), uplo="L")
        return float("inf") if info != 0 or rcond <= 0 else 1.0 / float(rcond)
    diagonal = xp.abs(xp.diagonal(L))
    low = float(diagonal.min())
    return float("inf") if low <= 0 else (float(diagonal.max()) / low) ** 2


_SOLVE_FLOPS = 2**32  # per SciPy call: a fraction of a second, so that Ctrl-C is seen between calls


def triangular_solver(xp, transposed: bool = False):
    """``solve(L, B) = L^-1 B`` (``L^-T B`` when ``transposed``) for lower-triangular ``L`` on NumPy
    (SciPy) or CuPy.

    SciPy holds the GIL during the solve, so on the CPU a wide ``B`` is solved in blocks of columns:
    Python sees Ctrl-C between blocks.
    """
    trans = "T" if transposed else "N"
    if xp is not np:
        from cupyx.scipy.linalg import solve_triangular as solve_on_gpu

        return lambda L, B: solve_on_gpu(L, B, lower=True, trans=trans)
    from scipy.linalg import solve_triangular

    def solve(L, B):
        block = max(1, _SOLVE_FLOPS // max(L.shape[0] ** 2, 1))
        if B.ndim == 1 or B.shape[1] <= block:
            return solve_triangular(L, B, lower=True, trans=trans)
        return np.hstack(
            [solve_triangular(L, B[:, i : i + block], lower=True, trans=trans) for i in range(0, B.shape[1], block)]
        )

    return solve
