import math

import numpy as np
import pytest

import inductive_bias as ib
from inductive_bias import _reference


@pytest.mark.parametrize("m", [2, 5, 10, 20])
def test_intrinsic_dimension_of_embedded_subspaces(m):
    # A Gaussian cloud on an m-dimensional subspace of R^100; 10^5 points, 3000 queries.
    rng = np.random.default_rng(m)
    basis = np.linalg.qr(rng.normal(size=(100, m)))[0]
    X = (rng.normal(size=(100_000, m)) @ basis.T).astype(np.float32)
    for method in ("mle", "twonn"):
        assert ib.intrinsic_dimension(X, method=method, n_samples=3000) == pytest.approx(m, rel=0.10)


def test_intrinsic_dimension_of_a_curved_manifold():
    # A circle of circles (torus) in R^3, rotated into R^50: dimension 2.
    rng = np.random.default_rng(0)
    u, v = rng.uniform(0, 2 * np.pi, (2, 20_000))
    torus = np.stack([(3 + np.cos(v)) * np.cos(u), (3 + np.cos(v)) * np.sin(u), np.sin(v)], axis=1)
    X = torus @ np.linalg.qr(rng.normal(size=(50, 3)))[0].T
    assert ib.intrinsic_dimension(X) == pytest.approx(2, rel=0.10)


def test_intrinsic_dimension_matches_twin_formula():
    X = np.random.default_rng(5).normal(size=(400, 6))
    d, _ = _reference.nearest_neighbors(X, 5)
    want = 1 / np.mean(np.log(d[:, 4:5]) - np.log(d[:, :4]))
    assert ib.intrinsic_dimension(X, k=5) == pytest.approx(want, rel=1e-12)
    twonn = (len(d) - 1) / np.sum(np.log(d[:, 1] / d[:, 0]))
    assert ib.intrinsic_dimension(X, method="twonn") == pytest.approx(twonn, rel=1e-12)


def test_exact_separation_equals_brute_force():
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(500, 8)), rng.integers(0, 3, 500)
    d, _ = _reference.nearest_neighbors(X, 1, labels=y)
    assert ib.class_separation(X, y) == pytest.approx(d.min(), rel=1e-12)
    # The sample estimate can only be larger; EVT is an estimate near the truth.
    assert ib.class_separation(X, y, method="sample", n_samples=200) >= d.min()
    evt = ib.class_separation(X, y, method="evt", n_pairs=50_000, n_extremes=500)
    assert 0 < evt <= 3 * d.min()


def test_coinciding_points_of_different_classes_give_zero_and_an_infinite_bound():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([0, 0, 1, 1, 1])
    assert ib.class_separation(X, y) == 0.0
    report = ib.task_difficulty(X, y, error=0.1, k=2, m=2)
    assert math.isinf(report.bits) and "coincide" in report.bound.reason


def test_radius_and_task_report():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(2000, 4)) @ rng.normal(size=(4, 30))
    y = (X[:, 0] > 0).astype(int)
    assert ib.data_radius(X) == pytest.approx(np.linalg.norm(X, axis=1).max(), rel=1e-14)
    report = ib.task_difficulty(X, y, error=0.01)
    assert report.n == 2000 and report.classes == 2 and report.m == round(report.m_estimate)
    assert report.R == pytest.approx(ib.data_radius(X)) and report.delta == pytest.approx(ib.class_separation(X, y))
    bound = ib.difficulty.classification(2000, report.m, report.R, report.delta, 2, 0.01)
    assert report.bits == bound.bits and set(report.timings) == {"radius_s", "intrinsic_dimension_s", "separation_s"}


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda X, y: ib.intrinsic_dimension(X[:3], k=5), ValueError, "at least k \\+ 1"),
        (lambda X, y: ib.intrinsic_dimension(X, method="pca"), ValueError, "method"),
        (lambda X, y: ib.class_separation(X, np.zeros(len(X), int)), ValueError, "two classes"),
        (lambda X, y: ib.class_separation(X, y[:-1]), ValueError, "y: expected"),
        (lambda X, y: ib.class_separation(X, y, method="knn"), ValueError, "method"),
        (lambda X, y: ib.task_difficulty(X, y, error=0.0), ValueError, "error"),
        (lambda X, y: ib.task_difficulty(X, y, error=2.0), ValueError, "error"),
        (lambda X, y: ib.task_difficulty(np.where(X > 0, np.nan, X), y, error=0.1), ValueError, "X: contains NaN"),
    ],
)
def test_bad_input(call, error, match):
    rng = np.random.default_rng(8)
    with pytest.raises(error, match=match):
        call(rng.normal(size=(40, 3)), rng.integers(0, 2, 40))


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
def test_integers_beyond_2_53_are_made_distinct_as_doubles_first(dtype):
    # Rows 2^60 + i differ as integers but coincide as doubles: dropping duplicates before the
    # conversion left zero distances (dimension 0.0, then bits = inf).
    X = np.c_[2**60 + np.arange(40), np.random.default_rng(0).integers(0, 1000, 40)].astype(dtype)
    estimate = ib.intrinsic_dimension(X)
    assert 0.5 < estimate < 2.0
    assert ib.class_separation(X, np.arange(40) % 2) >= 1.0  # integer rows: distances of at least 1
    assert math.isfinite(ib.task_difficulty(X, np.arange(40) % 2, 0.1).bits)


def test_estimator_arguments_are_checked_even_where_unused():
    X = np.random.default_rng(0).standard_normal((60, 4))
    with pytest.raises(ValueError, match="^seed: must be in"):
        ib.intrinsic_dimension(X, seed=-1)
    with pytest.raises(TypeError, match="^seed:"):
        ib.intrinsic_dimension(X, seed=None)
    with pytest.raises(ValueError, match="^n_samples: must be >= 1"):
        ib.intrinsic_dimension(X, n_samples=0)
    with pytest.raises(ValueError, match="^separation: expected 'exact', 'sample', 'evt' or a number"):
        ib.task_difficulty(X, np.arange(60) % 2, 0.1, separation="x")
    with pytest.raises(ValueError, match="^separation: must be a finite number"):
        ib.task_difficulty(X, np.arange(60) % 2, 0.1, separation=-1.0)
    with pytest.raises(TypeError, match="^y: labels must be of one kind that can be sorted"):
        ib.class_separation(X, np.array(["a", 1] * 30, dtype=object))
    assert ib.class_separation(X[:4], np.array([1e300, 0.0, 1e300, 0.0])) > 0  # whole floats past int64
