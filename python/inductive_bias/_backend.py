"""Native modules, thread count, device discovery and build facts."""

from __future__ import annotations

import contextlib
import functools
import os
import sys

# libgomp's threads spin for a while after each parallel region, taking the cores from the BLAS
# threads that run between our kernels (measured: +60% on a batch's matrix product). Waiting
# passively costs one futex wake per region. Set before libgomp loads; a user's setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import _native  # type: ignore[attr-defined]  # noqa: E402  (the compiled extension)

try:  # built only where nvcc was found
    from . import _native_cuda as native_cuda  # type: ignore[attr-defined]
except ImportError:
    native_cuda = None

_num_threads = _native.max_threads()
# Above it libgomp fails to create the threads (60,000: "Thread creation failed" and exit) or the
# process crashes (100,000); a kernel gains nothing from more threads than cores anyway.
MAX_THREADS = 1024


def get_num_threads() -> int:
    """Threads used by the library's CPU kernels (BLAS keeps its own setting).

    Returns
    -------
    int
        The thread count: OpenMP's maximum at import, or the last :func:`set_num_threads`.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> ib.get_num_threads() >= 1
    True
    """
    return _num_threads


def set_num_threads(n: int) -> None:
    """Set the threads used by the library's CPU kernels. Results do not depend on it.

    BLAS keeps its own setting.

    Parameters
    ----------
    n : int
        Number of threads, from 1 to ``MAX_THREADS`` (1024).

    Raises
    ------
    ValueError
        If ``n`` is not an integer in ``[1, 1024]``.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> before = ib.get_num_threads()
    >>> ib.set_num_threads(1)
    >>> ib.get_num_threads()
    1
    >>> ib.set_num_threads(before)
    """
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_THREADS:
        raise ValueError(f"n: expected an integer number of threads in [1, {MAX_THREADS}], got {n!r}")
    _num_threads = n


_cupy_missing = False  # an import of CuPy failed: not retried (a failed import costs ~75 us)


def cupy_module():
    """CuPy, or None when it is not installed.

    A failed import is remembered, so CuPy installed after the library first looked for it is used
    once imported (``import cupy``, which a caller with CuPy arrays has done): the lookup in
    ``sys.modules`` is free, a repeated failing import is not.
    """
    global _cupy_missing
    cupy = sys.modules.get("cupy")
    if cupy is not None or _cupy_missing:
        return cupy
    try:
        import cupy
    except ImportError:
        _cupy_missing = True
        return None
    return cupy


def cuda_status() -> str:
    """Why CUDA cannot be used, or ``""`` when it can.

    Checks the extension, CuPy and the devices as both CUDA runtimes see them (ours is static, so a
    driver too old for it shows here and not in CuPy).

    Returns
    -------
    str
        ``""`` when a CUDA device can be used, else a sentence saying why not (the extension was
        not built, CuPy is not installed, no usable device, ...).

    Examples
    --------
    >>> import inductive_bias as ib
    >>> ib.cuda_available() == (ib.cuda_status() == "")
    True
    """
    if native_cuda is None:
        return "the CUDA extension was not built (no nvcc at install time)"
    cupy = cupy_module()
    if cupy is None:
        return "CuPy is not installed"
    count, message = native_cuda.device_status()
    if count == 0:
        return f"the library's CUDA runtime finds no usable device ({message})"
    try:
        if cupy.cuda.runtime.getDeviceCount() == 0:
            return "CuPy finds no CUDA device"
    except cupy.cuda.runtime.CUDARuntimeError as error:
        return f"CuPy cannot use CUDA ({error})"
    return ""


def cuda_available() -> bool:
    """Whether a CUDA device can be used: the extension was built, CuPy is installed, a device answers.

    Returns
    -------
    bool
        ``True`` when GPU arrays (CuPy) can be computed on; :func:`cuda_status` says why not.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> isinstance(ib.cuda_available(), bool)
    True
    """
    return cuda_status() == ""


def require_cuda(what: str) -> None:
    reason = cuda_status()
    if reason:
        raise RuntimeError(f"{what} needs a CUDA device, but {reason}")


def on_device(array):
    """The context in which work on `array` runs: its GPU made current (so allocations, the current
    stream and launches are that device's) for CuPy arrays and other CUDA DLPack producers
    (PyTorch, JAX), nothing otherwise."""
    cupy = cupy_module()
    if cupy is not None:
        if isinstance(array, cupy.ndarray):
            return array.device
        if hasattr(array, "__dlpack_device__") and int(array.__dlpack_device__()[0]) == 2:  # kDLCUDA
            return cupy.cuda.Device(int(array.__dlpack_device__()[1]))
    return contextlib.nullcontext()


def on_device_of_first_argument(function):
    """Run `function(X, ...)` under `on_device(X)`."""

    @functools.wraps(function)
    def wrapper(X, *args, **kwargs):
        with on_device(X):
            return function(X, *args, **kwargs)

    return wrapper


def same_device(name: str, array, reference, reference_name: str) -> None:
    """Raise when CuPy `array` lives on another GPU than `reference`."""
    cupy = cupy_module()
    if cupy is not None and isinstance(array, cupy.ndarray) and isinstance(reference, cupy.ndarray):
        if array.device.id != reference.device.id:
            raise ValueError(
                f"{name}: on GPU {array.device.id} but {reference_name} is on GPU {reference.device.id}; "
                f"move them to one device"
            )


def current_stream() -> int:
    """The current CUDA stream of the current device (CuPy's), as the handle native calls take."""
    return cupy_module().cuda.get_current_stream().ptr


def build_info() -> dict:
    """What was compiled: version, compiler, OpenMP, CUDA (architectures, runtime) and threads.

    Returns
    -------
    dict
        ``"version"``, ``"compiler"``, ``"openmp"`` (and its version), ``"threads"`` (the current
        :func:`get_num_threads`) and ``"cuda"`` (whether the CUDA extension was built); with CUDA,
        also its runtime version, linkage and architectures.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> info = ib.build_info()
    >>> {"version", "compiler", "threads", "cuda"} <= set(info)
    True
    """
    info = dict(_native.build_info())
    info["threads"] = get_num_threads()
    info["cuda"] = native_cuda is not None
    if native_cuda is not None:
        info.update(native_cuda.build_info())
    return info
