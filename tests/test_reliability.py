"""Issue 12's reproducers: silent garbage made into errors naming the argument, and weak results
marked with a ReliabilityWarning."""

import warnings

import numpy as np
import pytest

import inductive_bias as ib


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] > 0).astype(int)
    return X[:40], y[:40], X[40:], y[40:]


def test_batch_and_chunk_sizes_are_checked(blobs):
    for bad, error in ((-1, ValueError), (0, ValueError), (1.5, TypeError)):
        with pytest.raises(error, match="batch_size"):
            ib.sample_losses(ib.RandomFeatureSpace(60), *blobs, 12, batch_size=bad)
        with pytest.raises(error, match="chunk"):
            ib.GeneralizedChi2([1.0, 2.0]).rvs(3, chunk=bad)
    with pytest.raises(ValueError, match="start"):
        ib.sample_losses(ib.RandomFeatureSpace(60), *blobs, 12, start=2**64 - 5)


def test_neighbours_of_other_classes_must_exist():
    X = np.random.default_rng(1).standard_normal((30, 2))
    labels = np.zeros(30, dtype=int)
    labels[:2] = 1  # class 0 has only 2 points of other classes
    with pytest.raises(ValueError, match="k: the largest class has 28 of the 30 points"):
        ib.nearest_neighbors(X, 3, labels=labels)
    distances, indices = ib.nearest_neighbors(X, 2, labels=labels)
    assert (indices >= 0).all() and np.isfinite(distances).all()


@pytest.mark.parametrize("method", ["mle", "twonn"])
def test_tied_distances_are_an_error_or_a_warning(method):
    cube = np.array(np.meshgrid(*[[0.0, 1.0]] * 8)).reshape(8, -1).T  # {0,1}^8: every neighbour at 1
    with pytest.raises(ValueError, match="tied neighbour distances"):
        ib.intrinsic_dimension(cube, k=5, method=method)
    grid = np.array(np.meshgrid(*[np.arange(6.0)] * 3)).reshape(3, -1).T
    with pytest.raises(ValueError, match="tied"):
        ib.intrinsic_dimension(grid, k=5, method=method)
    rng = np.random.default_rng(0)
    plane = np.zeros((400, 6))
    plane[:, :3] = rng.standard_normal((400, 3))  # m = 3 inside 6 features
    lattice = np.zeros((27, 6))
    lattice[:, :3] = 10.0 + 0.01 * np.array(np.meshgrid(*[np.arange(3.0)] * 3)).reshape(3, -1).T  # 6 % of points
    with pytest.warns(ib.EstimatorWarning, match="tied neighbour distances"):
        estimate = ib.intrinsic_dimension(np.vstack([plane, lattice]), k=5, method=method)
    assert 1 < estimate < 6


def test_a_given_dimension_must_be_positive():
    X = np.random.default_rng(0).standard_normal((50, 3))
    with pytest.raises(ValueError, match="m: must be"):
        ib.task_difficulty(X, (X[:, 0] > 0).astype(int), 0.01, m=-5)


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1.0, 1e150, 1e300])
def test_generalized_chi2_at_any_scale(scale):
    reference = ib.GeneralizedChi2([1.0, 0.3, 0.1], [2, 3, 1], [0.5, 0.0, 1.0])
    scaled = ib.GeneralizedChi2(np.array([1.0, 0.3, 0.1]) * scale, [2, 3, 1], [0.5, 0.0, 1.0])
    x = np.array([0.5, 3.0, 10.0])
    np.testing.assert_allclose(scaled.logcdf(x * scale), reference.logcdf(x), rtol=1e-13)
    np.testing.assert_allclose(scaled.logsf(x * scale), reference.logsf(x), rtol=1e-13)
    np.testing.assert_allclose(scaled.logpdf(x * scale) + np.log(scale), reference.logpdf(x), rtol=1e-12, atol=1e-12)
    assert scaled.std() == pytest.approx(reference.std() * scale, rel=1e-14)


def test_sampled_answers_beyond_every_sample_warn(blobs):
    losses = ib.ScaledNCX2(20, 15, 0.01).rvs(500, seed=1)
    with pytest.warns(ib.ExtrapolationWarning, match="below every one of the 500 sampled losses"):
        estimate = ib.bias_from_losses(losses, [float(losses.min()) / 2, float(np.median(losses))], n_boot=0)
    assert list(estimate.extrapolated) == [True, False]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ib.ReliabilityWarning)  # inside the samples, a good fit: no warning
        ib.bias_from_losses(losses, float(np.median(losses)), n_boot=0)


def test_a_rejected_fit_warns():
    rng = np.random.default_rng(0)
    bimodal = np.concatenate([rng.uniform(1.0, 1.1, 2000), rng.uniform(3.0, 3.1, 2000)])
    with pytest.warns(ib.FitWarning, match="Kolmogorov-Smirnov"):
        ib.bias_from_losses(bimodal, 1.05, n_boot=0)


def test_narrow_random_features_warn(blobs):
    with pytest.warns(ib.NonInterpolatingWarning, match="cannot fit the training data"):
        ib.sample_losses(ib.RandomFeatureSpace(10), *blobs, 4)


def test_a_large_jitter_warns(monkeypatch):
    import importlib

    posterior_module = importlib.import_module("inductive_bias.posterior")  # the module, not ib.posterior

    X = np.random.default_rng(0).standard_normal((30, 2))
    original = posterior_module.kernel_matrix

    def indefinite(space, A, B, params=None):  # K(X, X) with an eigenvalue of -1e-7 x its mean diagonal
        K = original(space, A, B, params)
        if A is B:
            u = np.ones(len(A)) / np.sqrt(len(A))
            K = K - 1e-7 * float(np.mean(np.diag(K))) * np.outer(u, u) - 1e-6 * float(np.diag(K).min()) * np.eye(len(A))
        return K

    monkeypatch.setattr(posterior_module, "kernel_matrix", indefinite)
    with pytest.warns(ib.JitterWarning, match="jitter"):
        post = ib.posterior(ib.KernelSpace("rbf", lengthscale=1.0), X, (X[:, 0] > 0).astype(int), X.copy())
    assert post.jitter >= 1e-6


def test_evt_separation_with_a_rare_class_is_fast_and_exact_when_it_can_be():
    import time

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 2))
    labels = np.zeros(20_000, dtype=int)
    labels[123] = 1  # one point of a rare class: 19,999 inter-class pairs
    begin = time.perf_counter()
    evt = ib.class_separation(X, labels, method="evt", n_pairs=100_000)
    assert time.perf_counter() - begin < 60  # a hang regression: was 191 s (rejection sampling), now ~1 s
    assert evt == ib.class_separation(X, labels)  # all pairs measured: the exact answer
    sampled = ib.class_separation(X, labels, method="evt", n_pairs=5_000, n_extremes=200, seed=1)
    assert 0 < sampled <= float(np.sort(np.linalg.norm(X - X[123], axis=1))[1]) * 50


def test_nngp_depth_is_bounded():
    with pytest.raises(ValueError, match="depth"):
        ib.KernelSpace("nngp_relu", depth=2**31 - 1)
    with pytest.raises(ValueError, match="depth"):
        ib.RandomFeatureSpace(10, depth=2**31)
    ib.KernelSpace("nngp_relu", depth=10_000)


@pytest.mark.parametrize("n_samples, method", [(1, "mle"), (2, "twonn"), (19, "mle")])
def test_intrinsic_dimension_from_few_queries_is_marked(n_samples, method):
    # One query gave 5.10 for 60 points in 4-D, two queries 0.60 (twonn), without a word.
    X = np.random.default_rng(0).standard_normal((60, 4))
    with pytest.warns(ib.reliability.EstimatorWarning, match="^n_samples: the .* only .* query points"):
        ib.intrinsic_dimension(X, n_samples=n_samples, method=method)
    with pytest.warns(ib.reliability.EstimatorWarning, match="^X: the mle estimate averages over only 12"):
        ib.intrinsic_dimension(X[:12])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ib.intrinsic_dimension(X, n_samples=20, method=method)


def test_an_interval_from_too_few_replicates_warns():
    # Below 2 / (1 - confidence) replicates a percentile interval cannot put one in each tail.
    fit = ib.ScaledNCX2.fit(ib.ScaledNCX2(4, 2, 0.5).rvs(500, seed=1), n_boot=5, seed=0)
    with pytest.warns(ib.FitWarning, match="5 converged bootstrap replicate"):
        fit.interval(lambda d: d.mean(), 0.95)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ib.FitWarning)
        fit.interval(lambda d: d.mean(), 0.5)  # 2 / (1 - 0.5) = 4 <= 5
