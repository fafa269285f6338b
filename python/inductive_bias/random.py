"""Reproducible counter-based random streams (Philox4x32-10).

State and seeding
-----------------
There is no hidden state. Every number is addressed by ``(seed, stream, index)``: the Philox key is
the 64-bit ``seed`` (low word first), the counter is ``(block low, block high, stream low,
stream high)`` where ``block = index // 4`` for 32-bit words. ``stream`` selects one of 2^64
independent substreams; the library gives hypothesis ``i`` its own substream ``i``. The same
address gives the same numbers on CPU and GPU, for any thread count or split of the work.

Normals use one Philox block per pair (Box-Muller, see ``csrc/include/ib/normal.hpp``): with the
block's words ``w0..w3``, ``u1 = 1 - ((w1 << 32 | w0) >> 12) / 2^52`` in (0, 1],
``u2 = ((w3 << 32 | w2) >> 12) / 2^52`` in [0, 1), and normal ``2b`` / ``2b + 1`` of a substream is
``sqrt(-2 ln u1)`` times ``cos`` / ``sin`` of ``2 pi u2`` for block ``b``. They are computed in
float64 with IEEE arithmetic only, so CPU and GPU give the same bits; float32 output is the
float64 value rounded.
"""

from __future__ import annotations

import numpy as np

from . import _backend, _validation
from ._backend import _native

__all__ = ["philox4x32_10", "uint32", "normal"]


def philox4x32_10(counter, key) -> tuple[int, int, int, int]:
    """The raw Philox4x32-10 bijection: four 32-bit counter words and two key words in, four out.

    Parameters
    ----------
    counter : sequence of 4 int
        Counter words, each in ``[0, 2^32)``.
    key : sequence of 2 int
        Key words, each in ``[0, 2^32)``.

    Returns
    -------
    tuple of 4 int
        The output words.

    Raises
    ------
    ValueError
        If ``counter`` does not have 4 words or ``key`` 2, or a word is outside ``[0, 2^32)``.
    TypeError
        If a word is not an integer.

    Examples
    --------
    The known answer for a zero counter and key (Random123's test vectors):

    >>> from inductive_bias import random
    >>> [f"{w:08x}" for w in random.philox4x32_10((0, 0, 0, 0), (0, 0))]
    ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']
    """
    counter, key = tuple(counter), tuple(key)
    if len(counter) != 4 or len(key) != 2:
        raise ValueError("counter and key: expected 4 and 2 words")
    words = [_validation.integer("counter/key word", w, 0, 2**32) for w in counter + key]
    return _native.philox4x32_10(*words)


def _stream_args(n, seed, stream, offset):
    n = _validation.integer("n", n)
    seed = _validation.seed(seed)
    stream = _validation.integer("stream", stream, 0, _validation.UINT64_LIMIT)
    offset = _validation.integer("offset", offset, 0)
    if offset + n > _validation.UINT64_LIMIT:
        raise ValueError("offset: offset + n must not exceed 2^64 (the addressable part of a substream)")
    return n, seed, stream, offset


def uint32(n: int, seed: int = 0, stream: int = 0, offset: int = 0, device: str = "cpu"):
    """Words ``offset .. offset + n - 1`` of substream ``stream``: uint32 array of shape ``[n]``.

    ``device="cuda"`` returns a CuPy array computed on the current device and stream; the words
    are bitwise identical to the CPU's.

    Parameters
    ----------
    n : int
        Number of values, ``>= 0``.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        The 64-bit Philox key: an int in ``[0, 2^64)``, or a SeedSequence or Generator turned into
        one (a Generator is advanced by one draw).
    stream : int
        Substream, in ``[0, 2^64)``.
    offset : int
        Index of the first value in the substream, ``>= 0``; ``offset + n`` must not exceed
        ``2^64``.
    device : {"cpu", "cuda"}
        Where the words are computed.

    Returns
    -------
    numpy.ndarray or cupy.ndarray of uint32, shape [n]
        The words (CuPy for ``device="cuda"``).

    Raises
    ------
    ValueError
        If ``n``, ``seed``, ``stream`` or ``offset`` is out of range, ``offset + n`` exceeds
        ``2^64``, or ``device`` is not ``"cpu"`` or ``"cuda"``.
    TypeError
        If ``n``, ``stream`` or ``offset`` is not an integer, or ``seed`` is not one of the types
        above.
    RuntimeError
        If ``device="cuda"`` and no CUDA device can be used.

    Examples
    --------
    Any window of a substream gives the same words:

    >>> from inductive_bias import random
    >>> random.uint32(4, seed=42).tolist()
    [2632642643, 2012563771, 314527917, 1463989207]
    >>> random.uint32(2, seed=42, offset=2).tolist()
    [314527917, 1463989207]
    """
    n, seed, stream, offset = _stream_args(n, seed, stream, offset)
    out = _empty(n, np.uint32, _validation.device(device), "random.uint32(device='cuda')")
    fill("uint32", out, 1, n, seed, stream, offset)
    return out


def normal(n: int, seed: int = 0, stream: int = 0, offset: int = 0, dtype=np.float64, device: str = "cpu"):
    """Standard normals ``offset .. offset + n - 1`` of substream ``stream``: shape ``[n]``.

    ``dtype`` is float64 or float32 (the float64 values rounded). ``device="cuda"`` returns a CuPy
    array with the same values as the CPU.

    Parameters
    ----------
    n : int
        Number of values, ``>= 0``.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        The 64-bit Philox key: an int in ``[0, 2^64)``, or a SeedSequence or Generator turned into
        one (a Generator is advanced by one draw).
    stream : int
        Substream, in ``[0, 2^64)``.
    offset : int
        Index of the first value in the substream, ``>= 0``; ``offset + n`` must not exceed
        ``2^64``.
    dtype : {numpy.float64, numpy.float32}
        Precision of the output.
    device : {"cpu", "cuda"}
        Where the normals are computed.

    Returns
    -------
    numpy.ndarray or cupy.ndarray, shape [n]
        The normals, of ``dtype`` (CuPy for ``device="cuda"``).

    Raises
    ------
    ValueError
        If ``n``, ``seed``, ``stream`` or ``offset`` is out of range, ``offset + n`` exceeds
        ``2^64``, or ``device`` is not ``"cpu"`` or ``"cuda"``.
    TypeError
        If ``dtype`` is not float32 or float64, ``n``, ``stream`` or ``offset`` is not an
        integer, or ``seed`` is not one of the types above.
    RuntimeError
        If ``device="cuda"`` and no CUDA device can be used.

    Examples
    --------
    >>> import numpy as np
    >>> from inductive_bias import random
    >>> np.round(random.normal(4, seed=42), 6).tolist()
    [-0.607651, 0.946145, -0.853644, 0.251992]
    >>> random.normal(2, seed=42, offset=2, dtype=np.float32).dtype
    dtype('float32')
    """
    n, seed, stream, offset = _stream_args(n, seed, stream, offset)
    dtype = _validation.float_dtype("dtype", dtype)
    out = _empty(n, dtype, _validation.device(device), "random.normal(device='cuda')")
    fill("normal", out, 1, n, seed, stream, offset)
    return out


def normal_streams(n_streams: int, n: int, seed: int, first_stream: int, device: str = "cpu"):
    """float64 normals ``0 .. n - 1`` of substreams ``first_stream ..`` as rows ``[n_streams, n]``, one
    native fill (on the current CUDA device and stream for ``device="cuda"``)."""
    out = _empty((n_streams, n), np.float64, device, "random normals on the GPU")
    fill("normal", out, n_streams, n, seed, first_stream)
    return out


def fill(kind: str, out, n_streams: int, n: int, seed: int, first_stream: int, offset: int = 0) -> None:
    """The one CPU/CUDA adapter of the Philox fills: row ``s`` of ``out [n_streams, n]`` gets the
    uint32 words (``kind="uint32"``) or normals (``"normal"``, out's float dtype) ``offset ..`` of
    substream ``first_stream + s``. NumPy: the CPU kernel on the library's threads; CuPy: the CUDA
    kernel on the current stream."""
    if kind not in ("uint32", "normal"):
        raise ValueError(f"kind: expected 'uint32' or 'normal', got {kind!r}")
    if isinstance(out, np.ndarray):
        cpu = _native.fill_uint32 if kind == "uint32" else _native.fill_normal
        cpu(out, n_streams, n, seed, first_stream, offset, _backend.get_num_threads())
    elif not hasattr(out, "data") or not hasattr(out.data, "ptr"):
        raise TypeError(f"out: expected a NumPy or CuPy array, got {type(out).__name__}")
    elif kind == "uint32":
        _backend.native_cuda.fill_uint32(
            out.data.ptr, n_streams, n, seed, first_stream, offset, _backend.current_stream()
        )
    else:
        _backend.native_cuda.fill_normal(
            out.data.ptr, out.dtype.name, n_streams, n, seed, first_stream, offset, _backend.current_stream()
        )


def _empty(shape, dtype, device: str, what: str):
    if device == "cuda":
        _backend.require_cuda(what)
        import cupy

        return cupy.empty(shape, dtype=dtype)
    return np.empty(shape, dtype=dtype)
