"""Native modules, thread count, device discovery and build facts."""

from __future__ import annotations

import os

# libgomp's threads spin for a while after each parallel region, taking the cores from the BLAS
# threads that run between our kernels (measured: +60% on a batch's matrix product). Waiting
# passively costs one futex wake per region. Set before libgomp loads; a user's setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import _native  # noqa: E402

try:  # built only where nvcc was found
    from . import _native_cuda
except ImportError:
    _native_cuda = None

_num_threads = _native.max_threads()


def get_num_threads() -> int:
    """Threads used by the library's CPU kernels (BLAS keeps its own setting)."""
    return _num_threads


def set_num_threads(n: int) -> None:
    """Set the threads used by the library's CPU kernels. Results do not depend on it."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected a positive integer number of threads, got {n!r}")
    _num_threads = n


def cupy_module():
    """CuPy, or None when it is not installed."""
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def cuda_available() -> bool:
    """True when the CUDA extension was built, CuPy is installed and a CUDA device answers."""
    cupy = cupy_module()
    if _native_cuda is None or cupy is None:
        return False
    try:
        return _native_cuda.device_count() > 0 and cupy.cuda.runtime.getDeviceCount() > 0
    except cupy.cuda.runtime.CUDARuntimeError:
        return False


def require_cuda(what: str) -> None:
    if not cuda_available():
        reason = (
            "the CUDA extension was not built (no nvcc at install time)"
            if _native_cuda is None
            else "CuPy is not installed"
            if cupy_module() is None
            else "no CUDA device is visible"
        )
        raise RuntimeError(f"{what} needs a CUDA device, but {reason}")


def build_info() -> dict:
    """What was compiled: version, compiler, OpenMP, CUDA (architectures, runtime) and threads."""
    info = dict(_native.build_info())
    info["threads"] = get_num_threads()
    info["cuda"] = _native_cuda is not None
    if _native_cuda is not None:
        info.update(_native_cuda.build_info())
    return info
