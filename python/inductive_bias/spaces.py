"""Hypothesis spaces beyond kernels, and sampling the test losses of any space.

``RandomFeatureSpace``: ReLU networks whose hidden layers are drawn at random and whose output layer
is fitted to the training data by the minimum-norm change from its random initialization (what
gradient descent from that initialization converges to). Each hypothesis is then an exact draw
from the Bayesian posterior of the finite-width network's output layer, and as the width grows the
space tends to the ``"nngp_relu"`` kernel space with the same depth and variances.

``CallableSpace``: any user code ``fn(seed) -> predictions on X_test`` (NumPy, CuPy, PyTorch, JAX).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from . import _backend, _validation, random
from ._arrays import Array, array_module, as_array, cholesky, to_host
from ._progress import progress_bar
from .exact import training_and_test_targets
from .gaussian_losses import LOSSES, _CpuKernels, _CudaKernels, sample_gaussian_losses
from .kernels import KernelSpace, posterior
from .neighbors import _points

__all__ = ["RandomFeatureSpace", "CallableSpace", "sample_losses"]


class RandomFeatureSpace:
    """ReLU networks with ``depth`` random hidden layers of ``width`` units and a fitted output layer.

    Initialization (matching ``KernelSpace("nngp_relu", depth, weight_var, bias_var)``): weights
    N(0, weight_var / fan_in), biases N(0, bias_var), output weights N(0, weight_var / width) and output
    bias N(0, bias_var), all drawn from Philox substream ``i`` of ``seed`` for hypothesis ``i``. The output
    layer then moves by the minimum-norm change that interpolates the training targets, solved through the
    Gram matrix of the training features (Cholesky, with the smallest jitter that succeeds).
    """

    def __init__(self, width: int, depth: int = 1, weight_var: float = 2.0, bias_var: float = 0.0):
        self.width = _validation.integer("width", width, 1)
        self.depth = _validation.integer("depth", depth, 1)
        self.weight_var = _validation.number("weight_var", weight_var)
        self.bias_var = _validation.number("bias_var", bias_var, allow_low=True)

    def __repr__(self) -> str:
        return (f"RandomFeatureSpace(width={self.width}, depth={self.depth}, weight_var={self.weight_var:g}, "
                f"bias_var={self.bias_var:g})")

    def kernel(self) -> KernelSpace:
        """The infinite-width limit of this space."""
        return KernelSpace("nngp_relu", depth=self.depth, weight_var=self.weight_var, bias_var=self.bias_var)

    def parameter_count(self, inputs: int, outputs: int) -> int:
        return (inputs + 1) * self.width + (self.depth - 1) * (self.width + 1) * self.width + (self.width + 1) * outputs

    def draw(self, index: int, seed: int, inputs: int, outputs: int, device: str = "cpu") -> list:
        """The standard normals of hypothesis ``index``: one array per layer ([fan_in + 1, fan_out],
        last row the bias), from Philox substream ``index`` (bitwise the same on CPU and GPU)."""
        index = _validation.integer("index", index, 0, _validation.UINT64_LIMIT)
        return [layer[0] for layer in self.draw_batch(index, 1, seed, inputs, outputs, device)]

    def draw_batch(self, first: int, count: int, seed: int, inputs: int, outputs: int, device: str = "cpu") -> list:
        """The draws of hypotheses ``first .. first + count - 1`` from one Philox fill: one array
        per layer, [count, fan_in + 1, fan_out]."""
        count = _validation.integer("count", count, 1)
        inputs, outputs = _validation.integer("inputs", inputs, 1), _validation.integer("outputs", outputs, 1)
        total = self.parameter_count(inputs, outputs)
        seed, first = _validation.seed(seed), _validation.integer("first", first, 0, _validation.UINT64_LIMIT)
        if first + count > _validation.UINT64_LIMIT:
            raise ValueError("count: first + count must not exceed 2^64 (hypothesis indices are 64-bit)")
        sizes = [inputs] + [self.width] * self.depth + [outputs]
        z = random._normal_streams(count, total, seed, first, _validation.device(device))
        layers, start = [], 0
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            size = (fan_in + 1) * fan_out
            layers.append(z[:, start : start + size].reshape(count, fan_in + 1, fan_out))
            start += size
        return layers

    def features(self, X: Array, layers: list, out: Array | None = None) -> Array:
        """Hidden representation with the output layer's scaling folded in: [n, width + 1], so that
        the network's output is features @ z_out for the standard normal output draws z_out.
        ``layers`` from ``draw``, or from ``draw_batch`` for [count, n, width + 1] (batched products)."""
        xp = array_module(X)
        h = X
        for z in layers[:-1]:
            h = h @ (z[..., :-1, :] * math.sqrt(self.weight_var / (z.shape[-2] - 1)))
            h += z[..., -1:, :] * math.sqrt(self.bias_var)
            xp.maximum(h, 0.0, out=h)
        if out is None:
            out = xp.empty(h.shape[:-1] + (self.width + 1,))
        xp.multiply(h, math.sqrt(self.weight_var / self.width), out=out[..., : self.width])
        out[..., self.width] = math.sqrt(self.bias_var)
        return out


class CallableSpace:
    """Hypotheses from user code: ``fn(seed) -> predictions [t, k]`` (or ``[t]`` for one output) on
    the test points, any array type. Hypothesis ``i`` gets the 64-bit seed made of the first two
    Philox words of substream ``i`` under ``seed``, so hypotheses are reproducible and independent."""

    def __init__(self, fn: Callable):
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __repr__(self) -> str:
        return f"CallableSpace({getattr(self.fn, '__name__', repr(self.fn))})"

    @staticmethod
    def hypothesis_seed(seed: int, index: int) -> int:
        low, high = random.uint32(2, seed=seed, stream=index)
        return int(low) | (int(high) << 32)


def sample_losses(space: KernelSpace | RandomFeatureSpace | CallableSpace, X_train: Array, Y_train: Array,
                  X_test: Array, Y_test: Array, n_hypotheses: int, seed: int = 0, loss: str = "mse",
                  progress: bool = True, batch_size: int | None = None, start: int = 0, client: Any = None,
                  task_size: int | None = None, device: str = "cpu") -> Array:
    """Test losses of hypotheses ``start .. start + n_hypotheses - 1`` of any space that fit
    (X_train, Y_train).

    Kernel spaces sample their posterior through the Gaussian sampler; random-feature networks are
    drawn and fitted in batches; callable spaces run the user's code once per hypothesis. Labels become
    one-hot targets over the classes of train and test. Returns a NumPy array [n_hypotheses] (CuPy for
    kernel spaces given CuPy data). With a ``dask.distributed.Client`` the range is split into tasks
    of ``task_size`` hypotheses (chosen from the space's cost by default) run on the cluster; the
    losses are bitwise the same as in one process (random-feature losses on GPU workers: to
    rounding, their batched GPU solves follow the tasks). ``device="cuda"`` runs each task on its
    worker's GPU where the worker has one (on the CPU otherwise).
    """
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    n_hypotheses = _validation.integer("n_hypotheses", n_hypotheses)
    seed = _validation.seed(seed)
    X_train, xp, _ = _points("X_train", X_train)
    X_test, _, _ = _points("X_test", X_test)
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_test: expected {X_train.shape[1]} features, got {X_test.shape[1]}")
    start = _validation.integer("start", start, 0)
    for name, array in (("X_test", X_test), ("Y_train", Y_train), ("Y_test", Y_test)):
        _backend.same_device(name, array, X_train, "X_train")
    with _backend.on_device(X_train):
        return _sample_losses(space, X_train, Y_train, X_test, Y_test, n_hypotheses, seed, loss, progress, batch_size,
                              start, client, task_size, device, xp)


def _sample_losses(space, X_train, Y_train, X_test, Y_test, n_hypotheses, seed, loss, progress, batch_size, start,
                   client, task_size, device, xp):
    targets_train, targets_test = training_and_test_targets(Y_train, Y_test, X_train.shape[0], X_test.shape[0], xp)
    if client is not None and not isinstance(space, (KernelSpace, RandomFeatureSpace, CallableSpace)):
        raise TypeError(f"space: expected a KernelSpace, RandomFeatureSpace or CallableSpace, got {type(space).__name__}")
    if isinstance(space, KernelSpace):
        post = posterior(space, X_train, targets_train, X_test)
        if client is not None:
            from ._dask import distributed_gaussian_losses

            return distributed_gaussian_losses(client, post.mean, post.factor(), targets_test, n_hypotheses, seed,
                                               loss, start, task_size, progress, _validation.device(device))
        return sample_gaussian_losses(post.mean, post.factor(), targets_test, n_hypotheses, seed=seed, loss=loss,
                                      progress=progress, start=start)
    if client is not None:
        from ._dask import distributed_space_losses

        return distributed_space_losses(client, space, X_train, Y_train, X_test, Y_test, n_hypotheses, seed, loss,
                                        start, task_size, progress, _validation.device(device))
    if isinstance(space, RandomFeatureSpace):
        return _random_feature_losses(space, X_train.astype(np.float64), X_test.astype(np.float64), targets_train,
                                      targets_test, n_hypotheses, seed, loss, progress, batch_size, start)
    if isinstance(space, CallableSpace):
        return _callable_losses(space, to_host(targets_test), n_hypotheses, seed, loss, progress, start)
    raise TypeError(f"space: expected a KernelSpace, RandomFeatureSpace or CallableSpace, got {type(space).__name__}")


def _reduce(predictions, targets_test, loss):
    """Losses of predictions [batch, t, k] through the fused loss kernel (mean 0, products = predictions)."""
    xp = array_module(predictions)
    batch, t, k = predictions.shape
    products = xp.ascontiguousarray(predictions.transpose(0, 2, 1))
    labels = xp.ascontiguousarray(targets_test.argmax(axis=1).astype(np.int64))
    offset = xp.ascontiguousarray(-targets_test.T) if loss == "mse" else xp.zeros((k, t))
    out = xp.empty(batch)
    kernels = _CpuKernels() if xp is np else _CudaKernels(np.float64)  # the sampler's loss kernels
    kernels.losses(loss, products, offset, labels, out, k, t)
    return out


def _random_feature_losses(space, X_train, X_test, Y_train, Y_test, n_hypotheses, seed, loss, progress, batch_size,
                           start=0):
    xp = array_module(X_train)
    device = "cpu" if xp is np else "cuda"
    n, d = X_train.shape
    k = Y_train.shape[1]
    per_hypothesis = 8 * (n + X_test.shape[0]) * (space.width + 1) + 8 * min(n, space.width + 1) ** 2
    batch_size = batch_size or max(1, min(64, (256 * 2**20) // per_hypothesis))
    losses = xp.empty(n_hypotheses)
    with progress_bar(n_hypotheses, "hypotheses", progress, unit="hyp") as bar:
        for first in range(0, n_hypotheses, batch_size):
            size = min(batch_size, n_hypotheses - first)
            layers = space.draw_batch(start + first, size, seed, d, k, device)
            train = space.features(X_train, layers)                                     # [B, n, width + 1]
            test = space.features(X_test, layers)                                       # [B, t, width + 1]
            predictions = _fit_output_layer(train, test, layers[-1], Y_train)
            losses[first : first + size] = _reduce(predictions, Y_test, loss)
            bar.update(size)
    return losses


def _fit_output_layer(train, test, initial, Y_train):
    """Test predictions after the minimum-norm change of the output weights that interpolates Y_train:
    c = c0 + F^T (F F^T)^-1 (Y - F c0) when there are more features than training points, else the
    least-squares solution nearest c0, c = c0 + (F^T F)^-1 F^T (Y - F c0). Batched over hypotheses."""
    residual = Y_train[None] - train @ initial                        # [B, n, k]
    n, p = train.shape[1], train.shape[2]
    train_t = train.transpose(0, 2, 1)
    if p >= n:
        gram = _gram(train, train_t)                                   # [B, n, n]
        change = train_t @ _solve_spd(gram, residual)
    else:
        gram = _gram(train_t, train)                                   # [B, p, p]
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
    jitter (0, then 1e-12 .. 1e-2 times the mean diagonal) that makes every Cholesky succeed, then
    two triangular solves per hypothesis."""
    xp = array_module(gram)
    scale = xp.trace(gram, axis1=1, axis2=2)[:, None, None] / gram.shape[1]
    identity = xp.eye(gram.shape[1])
    for jitter in (0.0,) + tuple(10.0**e for e in range(-12, -1)):
        factor = cholesky(gram + jitter * scale * identity if jitter else gram)
        if factor is not None:
            return _cholesky_solve(factor, rhs, xp)
    raise ValueError("X_train: the training features are degenerate even with jitter (duplicate inputs with "
                     "different targets?)")


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
    losses = np.empty(n_hypotheses)
    with progress_bar(n_hypotheses, "hypotheses", progress, unit="hyp") as bar:
        for i in range(n_hypotheses):
            predictions, _ = as_array("predictions", space.fn(CallableSpace.hypothesis_seed(seed, start + i)))
            predictions = to_host(predictions).astype(np.float64)
            if predictions.ndim == 1 and k == 1:
                predictions = predictions[:, None]
            if predictions.shape != (t, k):
                raise ValueError(f"predictions: fn returned shape {predictions.shape}, expected [{t}, {k}]")
            if not np.isfinite(predictions).all():
                raise ValueError(f"predictions: fn returned NaN or infinity for hypothesis {i}")
            losses[i] = _reduce(predictions[None], Y_test, loss)[0]
            bar.update(1)
    return losses
