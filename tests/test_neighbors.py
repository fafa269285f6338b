import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import inductive_bias as ib
from inductive_bias import _reference, neighbors


@given(
    n=st.integers(2, 60),
    d=st.integers(1, 12),
    k=st.integers(1, 8),
    seed=st.integers(0, 1000),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_matches_brute_force_twin(n, d, k, seed, dtype):
    k = min(k, n - 1)
    X = np.random.default_rng(seed).normal(size=(n, d)).astype(dtype)
    got_d, got_i = ib.nearest_neighbors(X, k)
    want_d, want_i = _reference.nearest_neighbors(X, k)
    np.testing.assert_allclose(got_d, want_d, rtol=1e-12, atol=1e-12)
    # Ties may swap indices but never repeat one; the distances settle it.
    assert all(len(set(row)) == k for row in got_i)
    assert np.all(got_i != np.arange(n)[:, None])


def test_tiles_and_blocks(monkeypatch):
    # Small blocks force many tiles and query blocks, including ragged ones.
    monkeypatch.setattr(neighbors, "QUERY_BLOCK", 37)
    monkeypatch.setattr(neighbors, "POINT_BLOCK", 53)
    X = np.random.default_rng(3).normal(size=(300, 7))
    got_d, got_i = ib.nearest_neighbors(X, 6)
    want_d, want_i = _reference.nearest_neighbors(X, 6)
    np.testing.assert_allclose(got_d, want_d, rtol=1e-12)
    np.testing.assert_array_equal(got_i, want_i)


def test_near_duplicates_keep_their_distance_in_float32():
    # Far from the origin, |x|^2 + |y|^2 - 2 x.y in float32 rounds a 1e-3 gap to 0 or garbage.
    rng = np.random.default_rng(0)
    base = rng.normal(size=(200, 30)) * 0.1 + 1000.0
    X = np.concatenate([base, base + 1e-3 * np.eye(30)[0]]).astype(np.float32)
    d, i = ib.nearest_neighbors(X, 1)
    exact = np.linalg.norm(X.astype(np.float64)[:200] - X.astype(np.float64)[200:], axis=1)
    np.testing.assert_allclose(d[:200, 0], exact, rtol=1e-9)
    np.testing.assert_array_equal(i[:200, 0], np.arange(200, 400))


def test_queries_and_labels():
    rng = np.random.default_rng(1)
    X, Q = rng.normal(size=(150, 5)), rng.normal(size=(20, 5))
    d, i = ib.nearest_neighbors(X, 3, queries=Q)
    full = np.linalg.norm(Q[:, None] - X[None], axis=-1)
    np.testing.assert_allclose(d, np.sort(full, axis=1)[:, :3], rtol=1e-12)
    y = rng.integers(0, 4, 150)
    d, i = ib.nearest_neighbors(X, 2, labels=y)
    want_d, _ = _reference.nearest_neighbors(X, 2, labels=y)
    np.testing.assert_allclose(d, want_d, rtol=1e-12)
    assert np.all(y[i] != y[:, None])


def test_thread_count_independence():
    X = np.random.default_rng(2).normal(size=(500, 16)).astype(np.float32)
    before = ib.get_num_threads()
    try:
        runs = []
        for threads in (1, 2, 3):
            ib.set_num_threads(threads)
            runs.append(ib.nearest_neighbors(X, 4))
    finally:
        ib.set_num_threads(before)
    for d, i in runs[1:]:
        np.testing.assert_array_equal(d, runs[0][0])
        np.testing.assert_array_equal(i, runs[0][1])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda X: ib.nearest_neighbors(X, 10), ValueError, "k: 10 neighbours"),
        (lambda X: ib.nearest_neighbors(X, 0), ValueError, "k"),
        (lambda X: ib.nearest_neighbors(np.full((5, 2), np.nan), 1), ValueError, "X: contains NaN"),
        (lambda X: ib.nearest_neighbors(np.zeros((2, 2, 2)), 1), ValueError, "X: expected shape"),
        (lambda X: ib.nearest_neighbors(X, 1, queries=np.zeros((2, 3))), ValueError, "queries: expected 2 features"),
        (lambda X: ib.nearest_neighbors(X, 1, labels=[0, 1]), ValueError, "labels"),
        (lambda X: ib.nearest_neighbors(np.array([["a", "b"]]), 1), TypeError, "X"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(np.random.default_rng(0).normal(size=(8, 2)))


@pytest.mark.gpu
def test_gpu_matches_cpu():
    import cupy

    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, 40)).astype(np.float32)
    y = rng.integers(0, 3, 3000)
    d_cpu, i_cpu = ib.nearest_neighbors(X, 5)
    d_gpu, i_gpu = ib.nearest_neighbors(cupy.asarray(X), 5)
    np.testing.assert_allclose(d_gpu.get(), d_cpu, rtol=1e-12)
    l_cpu, _ = ib.nearest_neighbors(X, 1, labels=y)
    l_gpu, _ = ib.nearest_neighbors(cupy.asarray(X), 1, labels=cupy.asarray(y))
    np.testing.assert_allclose(l_gpu.get(), l_cpu, rtol=1e-12)


@pytest.mark.gpu
@pytest.mark.parametrize("k", [1, 10, 400, 3100])  # 400: fewer warps per block; 3100: heaps in global memory
def test_gpu_matches_twin_across_heap_layouts(k):
    import cupy

    rng = np.random.default_rng(k)
    X = rng.normal(size=(3500, 6)).astype(np.float32)
    X[100:200] = X[:100]  # exact duplicates: tied distances and zero distances
    got_d, got_i = ib.nearest_neighbors(cupy.asarray(X), k)
    want_d, _ = _reference.nearest_neighbors(X, k)
    np.testing.assert_allclose(got_d.get(), want_d, rtol=1e-12, atol=1e-12)
    got_i = got_i.get()
    assert all(len(set(row)) == k for row in got_i)  # ties may swap indices, never repeat one
    assert np.all(got_i != np.arange(len(X))[:, None])


@pytest.mark.gpu
def test_gpu_tiles_queries_and_labels(monkeypatch):
    import cupy

    # Small GPU tiles force many ragged ones; queries other than X; labels on another path.
    monkeypatch.setattr(neighbors, "GPU_QUERY_BLOCK", 37)
    monkeypatch.setattr(neighbors, "GPU_POINT_BLOCK", 53)
    rng = np.random.default_rng(9)
    X, Q = rng.normal(size=(400, 5)), rng.normal(size=(90, 5))
    y = rng.integers(0, 3, 400)
    got_d, _ = ib.nearest_neighbors(cupy.asarray(X), 7, queries=cupy.asarray(Q))
    want_d = np.sort(np.sqrt(((Q[:, None] - X[None]) ** 2).sum(-1)), axis=1)[:, :7]
    np.testing.assert_allclose(got_d.get(), want_d, rtol=1e-12)
    got_l, got_li = ib.nearest_neighbors(cupy.asarray(X), 2, labels=cupy.asarray(y))
    want_l, _ = ib.nearest_neighbors(X, 2, labels=y)
    np.testing.assert_allclose(got_l.get(), want_l, rtol=1e-12)
    assert np.all(y[got_li.get()] != y[:, None])


def test_gpu_query_blocks_are_balanced():
    assert neighbors._even_blocks(10_000, 8192) == [(0, 5000), (5000, 10_000)]
    assert [b - a for a, b in neighbors._even_blocks(10, 4)] == [3, 3, 4]
    assert neighbors._even_blocks(5, 37) == [(0, 5)] and neighbors._even_blocks(0, 4) == []
