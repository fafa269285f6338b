"""Arrays from anywhere: NumPy and CuPy pass through, other DLPack producers (PyTorch, JAX, ...)
are viewed zero-copy and results go back to the caller's array type."""

from __future__ import annotations

import os
import threading
from typing import Any, Callable

import numpy as np

from ._backend import cupy_module

# An array the library accepts: NumPy, CuPy, or another DLPack producer (PyTorch, JAX); results come
# back in the caller's array type. No static type covers all of them.
Array = Any

_DLPACK_CPU, _DLPACK_CUDA = 1, 2


def array_module(x):
    """numpy or cupy, whichever owns `x` (after `as_array`)."""
    cupy = cupy_module()
    if cupy is not None and isinstance(x, cupy.ndarray):
        return cupy
    return np


def as_array(name: str, x):
    """(array, restore): `x` as a NumPy or CuPy array, and a function that turns a result of the
    same backend back into the caller's array type."""
    cupy = cupy_module()
    if isinstance(x, np.ndarray) or (cupy is not None and isinstance(x, cupy.ndarray)):
        return x, _identity
    if hasattr(x, "__dlpack__") and hasattr(x, "__dlpack_device__"):
        device_type = int(x.__dlpack_device__()[0])
        if device_type == _DLPACK_CPU:
            try:
                return np.from_dlpack(x), _restorer(x)
            except BufferError as error:  # e.g. a PyTorch tensor that requires grad
                raise TypeError(f"{name}: cannot be viewed as an array ({error}); pass tensor.detach()") from None
        if device_type == _DLPACK_CUDA:
            if cupy is None:
                raise RuntimeError(f"{name}: a CUDA array was given but CuPy is not installed")
            try:
                return cupy.from_dlpack(x), _restorer(x)
            except BufferError as error:
                raise TypeError(f"{name}: cannot be viewed as an array ({error}); pass tensor.detach()") from None
        raise TypeError(f"{name}: arrays on DLPack device type {device_type} are not supported")
    try:
        return np.asarray(x), _identity
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name}: expected an array, got {type(x).__name__}") from error


def on_host(name: str, x):
    """(x as a NumPy array, restore) for work done on the host: ``restore`` returns a result to the
    caller's array type and device (CuPy, PyTorch or JAX on a GPU get it back on that GPU)."""
    array, restore = as_array(name, x)
    return to_host(array), _back_to_device(array, restore)


def host_restorer(name: str, x) -> Callable:
    """The ``restore`` of :func:`on_host`, without copying ``x`` to the host."""
    array, restore = as_array(name, x)
    return _back_to_device(array, restore)


def _back_to_device(array, restore) -> Callable:
    xp = array_module(array)
    if xp is np:
        return restore

    def back(result):
        with array.device:  # x's GPU, not whichever is current
            return restore(xp.asarray(result))

    return back


def empty(name: str, count: int, xp, dtype=np.float64):
    """``xp.empty(count, dtype)`` for the ``count`` that argument ``name`` asked for, refused by name
    when it cannot fit: above the machine's memory on the CPU (where Linux would hand out the pages
    lazily and stop the process once they are touched), above the GPU's, or when the allocator fails."""
    check_fits(name, count, xp, dtype)
    try:
        return xp.empty(count, dtype=dtype)
    except MemoryError as error:  # CuPy's OutOfMemoryError too
        size = count * np.dtype(dtype).itemsize
        raise MemoryError(f"{name}: {count} values need {size / 2**30:.3g} GiB ({error})") from None


def fits_in_memory(name: str, size: int, host: bool = True, what: str = "needs") -> None:
    """Refuse ``size`` bytes that argument ``name`` asked for when they exceed the machine's memory (on
    the host, where Linux would hand out the pages lazily and stop the process once they are touched;
    a GPU allocator fails by itself). Also for sizes past NumPy's dimension limits."""
    if not host or not hasattr(os, "sysconf"):
        return
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return
    if memory and size > memory:
        raise MemoryError(f"{name}: {what} {size / 2**30:.3g} GiB, more than this machine's memory")


def check_fits(name: str, count: int, xp, dtype=np.float64) -> None:
    """Refuse at once, before any work, the ``count`` values of ``dtype`` that argument ``name`` asked
    for when :func:`empty` could not hold them: above the machine's memory on the host, above the
    GPU's memory for CuPy. Work sized by ``count`` (batch lists, progress) never starts."""
    size = count * np.dtype(dtype).itemsize
    if xp is np:
        fits_in_memory(name, size, True, f"{count} values need")
        return
    total = int(xp.cuda.Device().mem_info[1])
    if size > total:
        raise MemoryError(
            f"{name}: {count} values need {size / 2**30:.3g} GiB, more than the GPU's memory ({total / 2**30:.3g} GiB)"
        )


def to_host(x) -> np.ndarray:
    """x as a NumPy array (a copy from the device for CuPy)."""
    return x.get() if hasattr(x, "get") else np.asarray(x)


_THREADED_ROWS = 512  # LAPACK calls on smaller matrices end within milliseconds: no thread for them


def interruptible(call: Callable, rows: int):
    """``call()``, with Ctrl-C ending the wait for it at once when it is a long LAPACK call.

    NumPy releases the GIL inside LAPACK but cannot stop there. From the main thread, a call on a
    matrix of ``rows`` rows or more runs in a worker thread that the main thread waits for, so
    KeyboardInterrupt is raised at once; the worker finishes its call in the background and its
    result is dropped. Exceptions of the call propagate as usual.
    """
    if rows < _THREADED_ROWS or threading.current_thread() is not threading.main_thread():
        return call()
    outcome: list = []

    def run():
        try:
            outcome.append((True, call()))
        except BaseException as error:  # re-raised on the calling thread
            outcome.append((False, error))

    worker = threading.Thread(target=run, name="inductive-bias LAPACK", daemon=True)
    worker.start()
    worker.join()  # a lock wait: Ctrl-C interrupts it
    succeeded, value = outcome[0]
    if not succeeded:
        raise value
    return value


def eigh(matrix):
    """``xp.linalg.eigh(matrix)``, interruptible by Ctrl-C on the CPU (see ``interruptible``)."""
    xp = array_module(matrix)
    if xp is not np:
        return xp.linalg.eigh(matrix)
    return interruptible(lambda: np.linalg.eigh(matrix), matrix.shape[-1])


def cholesky(matrix):
    """Lower Cholesky factor of a symmetric matrix (or a stack of them), or None when one is not
    positive definite. CuPy reports the failure only when asked to (else the factor is partial)."""
    xp = array_module(matrix)
    if xp is np:
        try:
            return interruptible(lambda: np.linalg.cholesky(matrix), matrix.shape[-1])
        except np.linalg.LinAlgError:
            return None
    import cupyx

    try:
        with cupyx.errstate(linalg="raise"):
            factor = xp.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return None
    return factor if bool(xp.isfinite(factor).all()) else None


JITTERS = (0.0,) + tuple(10.0**e for e in range(-12, 0))  # relative to the mean diagonal
LARGE_JITTER = 1e-6  # from here on the factored matrix differs visibly from the data's: callers warn


def cholesky_with_jitter(matrix, failure: str):
    """(L, jitter): the Cholesky factor of ``matrix + jitter * mean(diag) * I`` (or of each matrix of a
    stack, each with its own mean diagonal) for the smallest jitter of ``JITTERS`` that succeeds for
    all of them. ``failure`` is the ValueError's message when even 0.1 fails."""
    xp = array_module(matrix)
    size = matrix.shape[-1]
    scale = xp.trace(matrix, axis1=-2, axis2=-1)[..., None, None] / size
    identity = xp.eye(size)
    for jitter in JITTERS:
        factor = cholesky(matrix + (jitter * scale) * identity if jitter else matrix)
        if factor is not None:
            return factor, jitter
    raise ValueError(failure)


def _identity(result):
    return result


def _restorer(original) -> Callable:
    """``from_dlpack`` of the array library that owns ``original`` (PyTorch, JAX, any array-API
    namespace), found through array-api-compat rather than module names."""
    import array_api_compat

    if array_api_compat.is_torch_array(original):
        import torch

        return torch.from_dlpack
    if array_api_compat.is_jax_array(original):
        import jax.numpy

        return jax.numpy.from_dlpack
    try:
        namespace = array_api_compat.array_namespace(original)
    except TypeError:  # a DLPack producer of no known array library: NumPy (CuPy) results
        return _identity
    return getattr(namespace, "from_dlpack", _identity)
