import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import inductive_bias as ib
from inductive_bias import _reference

seeds = st.integers(0, 2**64 - 1)
streams = st.integers(0, 2**64 - 1)


@pytest.mark.parametrize(
    ("counter", "key", "expected"),
    [
        # Known-answer vectors of Philox4x32-10 published with Random123 (kat_vectors).
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        ),
    ],
)
def test_philox_known_answers(counter, key, expected):
    assert ib.random.philox4x32_10(counter, key) == expected
    assert tuple(_reference.philox4x32_10([counter], key)[0]) == expected


def test_stream_addressing():
    # Word 4b + lane of substream s under seed is lane `lane` of Philox(counter=(b, s), key=seed).
    seed, stream, block = 0x0123456789ABCDEF, 0xFEDCBA9876543210, 2**33 + 5
    words = ib.random.uint32(4, seed=seed, stream=stream, offset=4 * block)
    counter = (block & 0xFFFFFFFF, block >> 32, stream & 0xFFFFFFFF, stream >> 32)
    assert tuple(words) == ib.random.philox4x32_10(counter, (seed & 0xFFFFFFFF, seed >> 32))


@given(n=st.integers(0, 70), seed=seeds, stream=streams, offset=st.integers(0, 2**40))
def test_uint32_matches_twin(n, seed, stream, offset):
    np.testing.assert_array_equal(
        ib.random.uint32(n, seed, stream, offset), _reference.uint32_stream(n, seed, stream, offset)
    )


@given(n=st.integers(0, 70), seed=seeds, stream=streams, offset=st.integers(0, 2**40))
def test_normal_matches_twin(n, seed, stream, offset):
    # The twin uses numpy's log/sin/cos; the kernel its own series. |z| < 8.5, and both are
    # accurate to a few ulp of the radius and angle: 1e-14 absolute leaves a factor ~5 of room.
    np.testing.assert_allclose(
        ib.random.normal(n, seed, stream, offset), _reference.normal_stream(n, seed, stream, offset), rtol=0, atol=1e-14
    )


def test_normal_matches_twin_over_a_million_draws():
    np.testing.assert_allclose(
        ib.random.normal(10**6, seed=11), _reference.normal_stream(10**6, seed=11), rtol=0, atol=1e-14
    )


@given(n=st.integers(1, 20000), split=st.integers(0, 20000), offset=st.integers(0, 1000), seed=seeds)
def test_split_invariance(n, split, offset, seed):
    split = min(split, n)
    for draw in (ib.random.uint32, ib.random.normal):
        whole = draw(n, seed=seed, stream=3, offset=offset)
        parts = np.concatenate(
            [
                draw(split, seed=seed, stream=3, offset=offset),
                draw(n - split, seed=seed, stream=3, offset=offset + split),
            ]
        )
        np.testing.assert_array_equal(whole, parts)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_thread_count_independence(dtype):
    before = ib.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3, 7):
            ib.set_num_threads(threads)
            results.append(
                (ib.random.uint32(300_001, seed=9, offset=3), ib.random.normal(300_001, seed=9, offset=1, dtype=dtype))
            )
    finally:
        ib.set_num_threads(before)
    for words, normals in results[1:]:
        np.testing.assert_array_equal(words, results[0][0])
        np.testing.assert_array_equal(normals, results[0][1])


def test_float32_is_rounded_float64():
    z64 = ib.random.normal(100_001, seed=4, offset=5)
    z32 = ib.random.normal(100_001, seed=4, offset=5, dtype=np.float32)
    assert z32.dtype == np.float32
    np.testing.assert_array_equal(z32, z64.astype(np.float32))


def test_streams_and_seeds_differ():
    a = ib.random.uint32(1000, seed=1, stream=0)
    assert not np.array_equal(a, ib.random.uint32(1000, seed=1, stream=1))
    assert not np.array_equal(a, ib.random.uint32(1000, seed=2, stream=0))
    assert not np.array_equal(a, ib.random.uint32(1000, seed=1 + 2**32, stream=0))


def test_normal_distribution():
    scipy_stats = pytest.importorskip("scipy.stats")
    z = ib.random.normal(2_000_000, seed=2024)
    n = z.size
    # Moments within 5 standard errors (fixed seed: deterministic).
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(scipy_stats.skew(z)) < 5 * np.sqrt(6 / n)
    assert abs(scipy_stats.kurtosis(z)) < 5 * np.sqrt(24 / n)
    assert scipy_stats.kstest(z, "norm").pvalue > 1e-4
    # Far tail: P(|z| > 4) = 6.334e-5.
    assert abs(np.mean(np.abs(z) > 4) - 6.334e-5) < 5 * np.sqrt(6.334e-5 / n)


def test_uint32_distribution():
    words = ib.random.uint32(1_000_000, seed=77)
    counts = np.bincount(words >> 24, minlength=256)  # top byte uniform: chi-squared, 255 dof
    chi2 = np.sum((counts - 1e6 / 256) ** 2 / (1e6 / 256))
    assert 150 < chi2 < 380
    bits = np.unpackbits(words.view(np.uint8)).mean()
    assert abs(bits - 0.5) < 5 * np.sqrt(0.25 / (32e6))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": -1}, ValueError, "n:"),
        ({"n": 2.5}, TypeError, "n:"),
        ({"n": 3, "seed": -1}, ValueError, "seed:"),
        ({"n": 3, "seed": 2**64}, ValueError, "seed:"),
        ({"n": 3, "stream": 2**64}, ValueError, "stream:"),
        ({"n": 3, "offset": -2}, ValueError, "offset:"),
        ({"n": 3, "offset": 2**64 - 2}, ValueError, "offset:"),
        ({"n": 3, "device": "tpu"}, ValueError, "device:"),
        ({"n": 3, "seed": True}, TypeError, "seed:"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ib.random.uint32(**kwargs)
    with pytest.raises(error, match=match):
        ib.random.normal(**kwargs)


def test_bad_dtype():
    with pytest.raises(TypeError, match="dtype"):
        ib.random.normal(3, dtype=np.int32)


def test_cuda_request_without_device():
    if ib.cuda_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(RuntimeError, match="needs a CUDA device"):
        ib.random.normal(3, device="cuda")


@pytest.mark.gpu
@given(n=st.integers(0, 5000), seed=seeds, stream=streams, offset=st.integers(0, 2**40))
def test_gpu_streams_bitwise_equal_cpu(n, seed, stream, offset):
    np.testing.assert_array_equal(
        ib.random.uint32(n, seed, stream, offset, device="cuda").get(), ib.random.uint32(n, seed, stream, offset)
    )
    # Same IEEE operations without FMA contraction on both sides: the same bits.
    for dtype in (np.float64, np.float32):
        np.testing.assert_array_equal(
            ib.random.normal(n, seed, stream, offset, dtype, device="cuda").get(),
            ib.random.normal(n, seed, stream, offset, dtype),
        )


@pytest.mark.gpu
def test_gpu_large_stream():
    z = ib.random.normal(10**7 + 1, seed=5, offset=1, device="cuda").get()
    np.testing.assert_array_equal(z, ib.random.normal(10**7 + 1, seed=5, offset=1))


def test_fill_names_a_bad_kind_or_buffer():
    out = np.zeros((2, 3))
    with pytest.raises(ValueError, match="^kind:"):
        ib.random.fill("x", out, 2, 3, 0, 0)
    assert not out.any()  # nothing was written for an unknown kind
    with pytest.raises(TypeError, match="^out:"):
        ib.random.fill("normal", [0.0] * 6, 2, 3, 0, 0)
