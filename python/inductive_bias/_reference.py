"""Plain NumPy twins of the native kernels, for the tests. Slow and obvious on purpose: they use
numpy's own log/sin/cos and one hypothesis at a time."""

from __future__ import annotations

import numpy as np

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK = np.uint64(0xFFFFFFFF)


def philox4x32_10(counters, key) -> np.ndarray:
    """counters: [N, 4] of 32-bit words; key: (k0, k1). Returns the [N, 4] uint32 outputs."""
    c = np.asarray(counters, dtype=np.uint64).reshape(-1, 4).copy()
    k0, k1 = int(key[0]), int(key[1])
    for round_ in range(10):
        if round_:
            k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
        p0, p1 = _M0 * c[:, 0], _M1 * c[:, 2]
        c = np.stack(
            [
                (p1 >> np.uint64(32)) ^ c[:, 1] ^ np.uint64(k0),
                p1 & _MASK,
                (p0 >> np.uint64(32)) ^ c[:, 3] ^ np.uint64(k1),
                p0 & _MASK,
            ],
            axis=1,
        )
    return c.astype(np.uint32)


def _blocks(seed: int, stream: int, first: int, count: int) -> np.ndarray:
    block = np.arange(first, first + count, dtype=np.uint64)
    counters = np.stack(
        [
            block & _MASK,
            block >> np.uint64(32),
            np.full_like(block, stream & 0xFFFFFFFF),
            np.full_like(block, stream >> 32),
        ],
        axis=1,
    )
    return philox4x32_10(counters, (seed & 0xFFFFFFFF, seed >> 32))


def uint32_stream(n: int, seed: int = 0, stream: int = 0, offset: int = 0) -> np.ndarray:
    first = offset // 4
    words = _blocks(seed, stream, first, (offset + n + 3) // 4 - first).reshape(-1)
    return words[offset - 4 * first : offset - 4 * first + n]


def normal_stream(n: int, seed: int = 0, stream: int = 0, offset: int = 0) -> np.ndarray:
    first = offset // 2
    w = _blocks(seed, stream, first, (offset + n + 1) // 2 - first).astype(np.uint64)
    a = ((w[:, 1] << np.uint64(32)) | w[:, 0]) >> np.uint64(12)
    b = ((w[:, 3] << np.uint64(32)) | w[:, 2]) >> np.uint64(12)
    u1 = 1.0 - a.astype(np.float64) / 2.0**52
    u2 = b.astype(np.float64) / 2.0**52
    radius = np.sqrt(-2.0 * np.log(u1))
    z = np.stack([radius * np.cos(2 * np.pi * u2), radius * np.sin(2 * np.pi * u2)], axis=1).reshape(-1)
    return z[offset - 2 * first : offset - 2 * first + n]


def gaussian_losses(
    mean, factor, targets, n_hypotheses: int, seed: int = 0, loss: str = "mse", start: int = 0
) -> np.ndarray:
    """Twin of sample_gaussian_losses: hypothesis i = mean + factor @ z_i, z_i^T = normals of stream i."""
    mean, factor, targets = np.asarray(mean), np.asarray(factor), np.asarray(targets)
    t, k = mean.shape
    r = factor.shape[1]
    if targets.ndim == 1:
        labels = targets.astype(np.int64)
        targets = np.eye(k)[labels]
    else:
        labels = targets.argmax(axis=1)
    losses = np.empty(n_hypotheses)
    for h in range(n_hypotheses):
        z = normal_stream(k * r, seed, start + h).reshape(k, r).T
        prediction = mean.astype(np.float64) + factor.astype(np.float64) @ z
        if loss == "mse":
            losses[h] = np.mean((prediction - targets) ** 2)
        else:
            losses[h] = np.mean(prediction.argmax(axis=1) != labels)
    return losses


def _ncx2_log_weights(nc: float):
    """Poisson(nc/2) log-weights over a j-window holding all but ~1e-30 of the mass."""
    from scipy.special import gammaln

    lam = nc / 2
    j = np.arange(int(lam + 40 * np.sqrt(lam) + 100)) if lam > 0 else np.zeros(1)
    return j, (-lam + j * np.log(lam) - gammaln(j + 1) if lam > 0 else np.zeros(1))


def ncx2_logcdf(x, df: float, nc: float, scale: float = 1.0) -> np.ndarray:
    """Twin of ScaledNCX2.logcdf by the plain mixture sum in linear space (scipy.special.gammainc):
    right wherever the CDF does not underflow."""
    from scipy.special import gammainc

    j, log_w = _ncx2_log_weights(nc)
    y = np.atleast_1d(np.asarray(x, dtype=float)) / scale
    return np.log(np.exp(log_w) @ gammainc(df / 2 + j[:, None], y[None, :] / 2))


def ncx2_logpdf(x, df: float, nc: float, scale: float = 1.0) -> np.ndarray:
    """Twin of ScaledNCX2.logpdf: log-sum-exp of the Poisson-weighted chi-squared log-densities."""
    from scipy.special import gammaln, logsumexp

    j, log_w = _ncx2_log_weights(nc)
    y = np.atleast_1d(np.asarray(x, dtype=float)) / scale
    a = df / 2 + j[:, None]
    log_terms = log_w[:, None] + (a - 1) * np.log(y / 2) - y / 2 - gammaln(a) - np.log(2)
    return logsumexp(log_terms, axis=0) - np.log(scale)


def nearest_neighbors(X, k: int, labels=None):
    """Twin of nearest_neighbors(X, k, labels=...): the full float64 distance matrix, sorted."""
    X = np.asarray(X, dtype=np.float64)
    squared = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    np.fill_diagonal(squared, np.inf)
    if labels is not None:
        labels = np.asarray(labels)
        squared[labels[:, None] == labels[None, :]] = np.inf
    order = np.argsort(squared, axis=1, kind="stable")[:, :k]
    return np.sqrt(np.take_along_axis(squared, order, axis=1)), order


def kernel_matrix(
    kernel: str,
    A,
    B,
    lengthscale: float = 1.0,
    variance: float = 1.0,
    gamma: float = 1.0,
    coef0: float = 1.0,
    degree: float = 3.0,
    depth: int = 1,
    weight_var: float = 2.0,
    bias_var: float = 0.0,
) -> np.ndarray:
    """Twin of kernel_matrix: the covariance functions written out with NumPy."""
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    if kernel == "polynomial":
        return (gamma * A @ B.T + coef0) ** degree
    if kernel == "linear":
        return A @ B.T + coef0
    if kernel in ("nngp_relu", "ntk_relu", "nngp_erf", "ntk_erf"):
        d = A.shape[1]
        kxy = bias_var + weight_var * (A @ B.T) / d
        kxx = bias_var + weight_var * np.sum(A * A, 1)[:, None] / d
        kyy = bias_var + weight_var * np.sum(B * B, 1)[None, :] / d
        ntk = kxy
        # kxx kyy - kxy^2 for the ReLU NTK's angle, first from the inputs in extended precision (the
        # native kernel recovers the rounding of the products by fma instead)
        nx, ny = np.sum(A * A, 1)[:, None], np.sum(B * B, 1)[None, :]
        dot, c = (A @ B.T).astype(np.longdouble), weight_var / d
        wedge = np.maximum(nx * np.longdouble(1) * ny - dot * dot, 0).astype(float)  # |x|^2 |y|^2 - (x.y)^2
        det = bias_var * c * np.maximum(nx + ny - 2 * (A @ B.T), 0) + c * c * wedge
        for _ in range(depth):
            if kernel.endswith("relu"):
                norm = np.sqrt(kxx * kyy)
                live = norm > 0  # a zero-variance input is 0 in every network, where relu'(0) = 0
                with np.errstate(invalid="ignore", divide="ignore"):
                    theta = np.where(live, np.arccos(np.clip(kxy / norm, -1, 1)), np.pi / 2)
                step = np.where(live, norm * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi), 0.0)
                # theta = atan2(sqrt(det), kxy) keeps the digits arccos loses near 0 (kernels.hpp)
                angle = np.arctan2(np.sqrt(det), kxy)
                derivative = np.where(live, (np.pi - (angle if kernel == "ntk_relu" else theta)) / (2 * np.pi), 0.0)
                small = angle * angle
                cancelling = np.where(  # sin t - t cos t, by its series where the difference cancels
                    angle < 0.01,
                    angle * small * (1 / 3 - small * (1 / 30 - small / 840)),
                    np.sin(angle) - angle * np.cos(angle),
                )
                gap = (2 * np.pi * np.sin(angle / 2) ** 2 - cancelling) / np.pi  # 1 - J / pi
                a = weight_var / 2
                det = a * bias_var * ((np.sqrt(kxx) - np.sqrt(kyy)) ** 2 + 2 * norm * gap) + a * a * norm**2 * gap * (
                    2 - gap
                )
                kxx, kyy = bias_var + weight_var * kxx / 2, bias_var + weight_var * kyy / 2
            else:
                outer = (1 + 2 * kxx) * (1 + 2 * kyy)
                step = 2 / np.pi * np.arcsin(2 * kxy / np.sqrt(outer))
                derivative = 4 / np.pi / np.sqrt(outer - 4 * kxy**2)
                kxx = bias_var + weight_var * 2 / np.pi * np.arcsin(2 * kxx / (1 + 2 * kxx))
                kyy = bias_var + weight_var * 2 / np.pi * np.arcsin(2 * kyy / (1 + 2 * kyy))
            kxy = bias_var + weight_var * step
            ntk = kxy + weight_var * derivative * ntk
        return ntk if kernel.startswith("ntk") else kxy
    r = np.sqrt(np.maximum(np.sum((A[:, None, :] - B[None, :, :]) ** 2, axis=-1), 0)) / lengthscale
    shapes = {
        "rbf": np.exp(-r * r / 2),
        "laplacian": np.exp(-r),
        "matern12": np.exp(-r),
        "matern32": (1 + np.sqrt(3) * r) * np.exp(-np.sqrt(3) * r),
        "matern52": (1 + np.sqrt(5) * r + 5 * r * r / 3) * np.exp(-np.sqrt(5) * r),
    }
    return variance * shapes[kernel]


def posterior(K, K_cross, K_test, Y):
    """Twin of posterior: mean and covariance by plain solves (no Cholesky, no inverse)."""
    mean = K_cross.T @ np.linalg.solve(K, Y)
    covariance = K_test - K_cross.T @ np.linalg.solve(K, K_cross)
    return mean, covariance


def trained_network_posterior(K, K_cross, K_test, Theta, Theta_cross, Y):
    """Twin of the TrainedNetworkSpace posterior (Lee et al. 2019) by plain solves: the trained network is
    f0(T) + Theta(T, X) Theta^-1 (Y - f0(X)) with f0 ~ GP(0, K)."""
    B = np.linalg.solve(Theta, Theta_cross)  # Theta^-1 Theta(X, T)
    mean = B.T @ Y
    covariance = K_test + B.T @ K @ B - B.T @ K_cross - K_cross.T @ B
    return mean, covariance
