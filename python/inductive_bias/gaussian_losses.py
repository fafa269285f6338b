"""Batched test losses of random hypotheses from a Gaussian hypothesis space.

Hypothesis ``i`` on the test set is ``mean + factor @ z_i`` with ``z_i [r, k]`` read from Philox
substream ``i`` of ``seed``: its first ``k * r`` normals, row-major, are ``z_i`` transposed. So a
hypothesis depends only on ``(seed, i)``, never on the batch it was computed in, the thread count
or the device.

Per batch of hypotheses: a native kernel fills ``Z [batch * k, r]``, BLAS (NumPy, or cuBLAS through
CuPy) computes ``Z @ factor.T`` into ``[batch, k, t]``, and a native kernel reduces each hypothesis
to its loss in one pass (float64 accumulation). On the CPU the draws and reductions of neighbouring
batches overlap the product.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import _backend, _validation, random
from ._arrays import Array, array_module, as_array, check_fits, empty
from ._backend import _native
from ._overlap import run_overlapped, run_serial
from ._progress import progress_bar

__all__ = ["sample_gaussian_losses"]

LOSSES = ("mse", "error")
DEFAULT_MEMORY_BYTES = 256 * 2**20  # working buffers of one batch


def canonical_block(k: int) -> int:
    """Hypotheses per canonical product block: a power of two with at most 1024 rows of Z (k rows
    per hypothesis), so that round counts of hypotheses fill whole blocks."""
    return 1 << max(0, (1024 // k).bit_length() - 1) if k <= 1024 else 1


def gpu_blocks_per_product(t: int, r: int, k: int, itemsize: int) -> int:
    """CPU canonical blocks per GPU product: a power of two up to 16 (products of up to ~16k rows keep
    cuBLAS near its peak; round counts of hypotheses fill whole products), no more than the default
    work buffers hold. Depends on the shape only, never on the range."""
    per_block = canonical_block(k) * max(1, 2 * k * (r + t) * itemsize)
    return 1 << (max(1, min(16, DEFAULT_MEMORY_BYTES // per_block)).bit_length() - 1)


def default_batch_size(
    n_hypotheses: int, t: int, r: int, k: int, itemsize: int, memory_bytes: int = DEFAULT_MEMORY_BYTES
) -> int:
    """Hypotheses per batch so that the work buffers (Z and the products, twice) fit `memory_bytes`."""
    per_hypothesis = max(1, 2 * k * (r + t) * itemsize)
    return max(1, min(n_hypotheses, memory_bytes // per_hypothesis))


def sample_gaussian_losses(
    mean: Array,
    factor: Array,
    targets: Array,
    n_hypotheses: int,
    seed: int = 0,
    loss: str = "mse",
    batch_size: int | None = None,
    start: int = 0,
    progress: bool | Callable = False,
) -> Array:
    """Test losses of ``n_hypotheses`` random hypotheses ``mean + factor @ z``.

    Hypothesis ``i`` draws ``z_i [r, k]`` from Philox substream ``i`` of ``seed``, so its loss
    depends only on ``(seed, i)``: not on the batch size, the thread count, ``start`` or the device.

    Parameters
    ----------
    mean : array [t, k]
        Mean prediction on the ``t`` test points for ``k`` outputs, float32 or float64.
    factor : array [t, r]
        Any ``L`` with ``L @ L.T`` the covariance of the predictions (shared by the outputs), float32
        or float64, on the device of ``mean``.
    targets : array [t, k] of float, or array [t] of int
        Real targets, or integer class labels in ``[0, k)``. Labels become one-hot targets for
        ``"mse"``; float targets give labels by argmax for ``"error"``.
    n_hypotheses : int
        Hypotheses ``start .. start + n_hypotheses - 1`` are evaluated.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        The Philox key of the hypotheses (an int in ``[0, 2^64)``, or one derived from a
        SeedSequence or Generator).
    loss : {"mse", "error"}
        ``"mse"``: mean squared error over the ``t * k`` entries; ``"error"``: 0-1 error of the
        argmax over outputs against the label.
    batch_size : int, optional
        Hypotheses per batch (rounded to whole canonical blocks of ~1024/k hypotheses, on the GPU
        of up to 16 such blocks, which are computed whole even for fewer hypotheses); by default as
        many as fit 256 MiB of work buffers.
    start : int
        Index of the first hypothesis, ``>= 0`` (``start + n_hypotheses`` at most ``2^64``): ranges
        computed separately join into the losses of one call.
    progress : bool or callable
        A bar over the hypotheses (shown when stderr is a terminal), or ``progress(done, total)``
        called after each batch.

    Returns
    -------
    array [n_hypotheses]
        The losses, in the precision of ``mean``/``factor`` (float32 or float64), of the caller's
        array type (NumPy, CuPy, or a DLPack producer's such as PyTorch).

    Raises
    ------
    ValueError
        If ``mean`` is not ``[t, k]`` with ``t, k >= 1``, ``factor`` is not ``[t, r]``, ``targets``
        has the wrong shape or labels outside ``[0, k)``, an array holds NaN or infinity, ``loss``
        is unknown, ``n_hypotheses``, ``start`` or ``batch_size`` is out of range, or the arrays
        are on different GPUs.
    TypeError
        If ``mean`` or ``factor`` is not float32 or float64, ``targets`` has the wrong type,
        ``factor`` or ``targets`` is not on the device of ``mean``, or ``n_hypotheses``,
        ``start``, ``batch_size`` or ``seed`` has the wrong type.

    Examples
    --------
    Three test points, two outputs, a zero mean and an identity factor: every prediction is a
    standard normal, and the three ones of the one-hot targets add 3 / 6 to the expected squared
    error, so the losses average 1 + 3 / 6 = 1.5.

    >>> import numpy as np, inductive_bias as ib
    >>> mean, factor, labels = np.zeros((3, 2)), np.eye(3), np.array([0, 1, 1])
    >>> losses = ib.sample_gaussian_losses(mean, factor, labels, n_hypotheses=4, seed=0)
    >>> np.round(losses, 4).tolist()
    [1.7781, 4.0648, 2.8625, 1.2806]
    >>> later = ib.sample_gaussian_losses(mean, factor, labels, n_hypotheses=2, seed=0, start=2)
    >>> bool(np.array_equal(later, losses[2:]))
    True
    >>> many = ib.sample_gaussian_losses(mean, factor, labels, n_hypotheses=20000, seed=0)
    >>> round(float(many.mean()), 1)
    1.5
    """
    mean, restore = as_array("mean", mean)
    factor, _ = as_array("factor", factor)
    targets, _ = as_array("targets", targets)
    xp = array_module(mean)
    for name, array in (("factor", factor), ("targets", targets)):
        if array_module(array) is not xp:
            raise TypeError(f"{name}: must be on the same device as mean ({xp.__name__} array expected)")
        _backend.same_device(name, array, mean, "mean")

    if mean.ndim != 2:
        raise ValueError(f"mean: expected shape [t, k], got {mean.shape}")
    t, k = mean.shape
    if t == 0 or k == 0:
        raise ValueError(f"mean: needs at least one test point and one output, got shape {mean.shape}")
    if factor.ndim != 2 or factor.shape[0] != t:
        raise ValueError(f"factor: expected shape [t={t}, r], got {factor.shape}")
    for name, array in (("mean", mean), ("factor", factor)):
        if array.dtype not in (np.float32, np.float64):
            raise TypeError(f"{name}: expected float32 or float64, got {array.dtype}")
    dtype = np.result_type(mean.dtype, factor.dtype)
    _validation.finite("mean", mean, xp)
    _validation.finite("factor", factor, xp)
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    n_hypotheses = _validation.integer("n_hypotheses", n_hypotheses)
    check_fits("n_hypotheses", n_hypotheses, xp, dtype)  # before the batch list sized by it
    seed = _validation.seed(seed)
    start = _validation.integer("start", start, 0)
    if start + n_hypotheses > _validation.UINT64_LIMIT:
        raise ValueError("start: start + n_hypotheses must not exceed 2^64 (hypothesis indices are 64-bit)")
    r = factor.shape[1]
    if batch_size is None:
        batch_size = default_batch_size(n_hypotheses, t, r, k, dtype.itemsize)
    else:
        batch_size = _validation.integer("batch_size", batch_size, 1)

    with _backend.on_device(mean):
        labels, one_hot = _labels_and_targets(targets, t, k, xp)
        if loss == "mse":
            offset = xp.ascontiguousarray((mean.astype(np.float64) - one_hot).T)
        else:
            offset = xp.ascontiguousarray(mean.astype(np.float64).T)

        factor_t = factor.astype(dtype, copy=False).T
        # Products are taken block by block over canonical blocks of hypotheses aligned on absolute
        # indices, so BLAS sees the same shapes and data for a hypothesis however the range is split
        # (batches, `start`, workers): losses are bitwise reproducible. Partial edge blocks are computed
        # whole and trimmed. On the GPU a block is a fixed group of CPU blocks (one cuBLAS call each:
        # few, large products), its size set by the problem's shape alone.
        block = canonical_block(k) * (1 if xp is np else gpu_blocks_per_product(t, r, k, dtype.itemsize))
        first_index = (start // block) * block
        end_index = start + n_hypotheses
        span = -(-(end_index - first_index) // block) * block if n_hypotheses else 0
        batch_size = max(block, batch_size // block * block)
        batch_size = min(batch_size, max(span, block))
        batches = [(first, min(batch_size, span - first)) for first in range(0, span, batch_size)]
        computed = empty("n_hypotheses", span, xp, dtype)
        # Two sets of buffers: batch i's product runs while batch i+1 is drawn and batch i-1 reduced
        # (on the CPU in a second thread, see _overlap).
        z = [xp.empty((batch_size * k, r), dtype=dtype) for _ in range(2)]
        products = [xp.empty((batch_size * k, t), dtype=dtype) for _ in range(2)]
        kernels = sampler_ops(xp, dtype)

        def draw(i):
            first, size = batches[i]
            random.fill("normal", z[i % 2][: size * k], size, k * r, seed, first_index + first)

        def multiply(i):
            size = batches[i][1]
            for row in range(0, size * k, block * k):
                xp.matmul(z[i % 2][row : row + block * k], factor_t, out=products[i % 2][row : row + block * k])

        def reduce(i):
            first, size = batches[i]
            kernels.losses(loss, products[i % 2][: size * k], offset, labels, computed[first : first + size], k, t)

        n_batches = len(batches)

        def requested(i):  # hypotheses of batch i inside [start, start + n_hypotheses)
            low, high = first_index + batches[i][0], first_index + batches[i][0] + batches[i][1]
            return max(0, min(high, end_index) - max(low, start))

        with progress_bar(n_hypotheses, "hypotheses", progress, unit="hyp") as bar:

            def side(i):  # runs beside multiply(i): reduce batch i-1, draw batch i+1
                if i > 0:
                    reduce(i - 1)
                if i + 1 < n_batches:
                    draw(i + 1)

            def after(i):  # on this thread, once batch i-1 is reduced (GPU: queued)
                if i > 0:
                    bar.update(requested(i - 1))

            if n_batches:
                draw(0)
            (run_overlapped if xp is np else run_serial)(n_batches, multiply, side, after)
        losses = computed[start - first_index : start - first_index + n_hypotheses]
    return restore(losses)


def _labels_and_targets(targets, t: int, k: int, xp):
    """(labels [t] int64, targets [t, k] float64): integer labels become one-hot over the k outputs;
    real targets give their labels by argmax (for the 0-1 error)."""
    one_hot = _validation.targets("targets", targets, t, xp, k)
    return xp.ascontiguousarray(one_hot.argmax(axis=1).astype(np.int64)), one_hot


class CpuSamplerOps:
    """The sampler's native operations on the CPU (NumPy buffers)."""

    def __init__(self):
        self.threads = _backend.get_num_threads()

    def losses(self, loss, products, offset, labels, out, k, t):
        _native.gaussian_losses(loss, products, offset, labels, out, k, t, self.threads)


class CudaSamplerOps:
    """The sampler's native operations on the GPU (CuPy buffers), queued on the current stream in order."""

    def __init__(self, dtype):
        _backend.require_cuda("sample_gaussian_losses on CuPy arrays")
        self.dtype = np.dtype(dtype).name
        self.stream = _backend.current_stream()

    def losses(self, loss, products, offset, labels, out, k, t):
        _backend.native_cuda.gaussian_losses(
            loss,
            self.dtype,
            products.data.ptr,
            offset.data.ptr,
            labels.data.ptr,
            out.data.ptr,
            out.shape[0],
            k,
            t,
            self.stream,
        )


def sampler_ops(xp, dtype):
    """The fused loss kernel for NumPy or CuPy buffers (the Philox fill is `random.fill`)."""
    return CpuSamplerOps() if xp is np else CudaSamplerOps(dtype)
