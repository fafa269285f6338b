import math

import numpy as np
import pytest

import inductive_bias as ib


@pytest.fixture(scope="module")
def digits():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    X = X / 16.0  # scaled to [0, 1]
    order = np.random.default_rng(0).permutation(len(X))
    return X[order[:500]], y[order[:500]], X[order[500:800]], y[order[500:800]]


def test_exact_agrees_with_sampled_hypotheses(digits):
    X_train, y_train, X_test, y_test = digits
    space = ib.KernelSpace("rbf", lengthscale="median")
    post = ib.posterior(space, X_train, np.eye(10)[y_train], X_test)
    distribution = post.mse_distribution(np.eye(10)[y_test])
    # eps where the exact probability is ~1e-3, found on the exact CDF
    low, high = distribution.offset + 1e-9, distribution.mean()
    for _ in range(60):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if distribution.logcdf(middle) < math.log(1e-3) else (low, middle)
    eps = 0.5 * (low + high)
    exact = ib.inductive_bias(space, X_train, y_train, X_test, y_test, eps, unit="nats")
    assert exact.value == pytest.approx(-math.log(1e-3), rel=1e-6)
    losses = ib.sample_gaussian_losses(post.mean, post.factor(), y_test, 200_000, seed=1)
    p = float(np.mean(losses <= eps))
    se = math.sqrt(1e-3 * (1 - 1e-3) / losses.size)
    assert abs(p - 1e-3) < 4 * se  # the exact value lies in the sampling interval


def test_sample_method_and_where_the_fit_departs(digits):
    X_train, y_train, X_test, y_test = digits
    space = ib.KernelSpace("nngp_relu", depth=2)
    exact_mean = ib.posterior(space, X_train, np.eye(10)[y_train], X_test).mse_distribution(np.eye(10)[y_test]).mean()
    bulk = 0.97 * exact_mean
    exact = ib.inductive_bias(space, X_train, y_train, X_test, y_test, bulk)
    sampled = ib.inductive_bias(
        space, X_train, y_train, X_test, y_test, bulk, method="sample", n_hypotheses=20_000, n_boot=20
    )
    assert sampled.method == "sample" and sampled.interval is not None
    # Inside the sampled range the published fit and the exact answer agree ...
    assert sampled.value == pytest.approx(exact.value, abs=0.3)
    # ... far in the tail they need not: both stay finite, the exact one carries its error estimate.
    deep = 0.8 * exact_mean
    deep_exact = ib.inductive_bias(space, X_train, y_train, X_test, y_test, deep)
    deep_sampled = ib.inductive_bias(
        space, X_train, y_train, X_test, y_test, deep, method="sample", n_hypotheses=20_000, n_boot=0
    )
    assert math.isfinite(deep_exact.value) and math.isfinite(deep_sampled.value)
    assert deep_exact.evaluation_error < 1e-3


def test_null_directions_make_the_bias_infinite():
    # A linear kernel in 1-D: the posterior covariance has rank 0 on test points spanned by the data.
    X = np.array([[1.0], [2.0]])
    Y = np.array([[1.0], [2.5]])  # not linear: the mean misses the targets by a fixed amount
    result = ib.inductive_bias(ib.KernelSpace("linear", coef0=0.0), X[:1], Y[:1], X, Y, error=1e-6)
    assert math.isinf(result.value) and "no hypothesis" in result.reason


def test_bad_arguments(digits):
    X_train, y_train, X_test, y_test = digits
    space = ib.KernelSpace("rbf")
    with pytest.raises(TypeError, match="space"):
        ib.inductive_bias("rbf", X_train, y_train, X_test, y_test, 0.1)
    with pytest.raises(ValueError, match="error"):
        ib.inductive_bias(space, X_train, y_train, X_test, y_test, 0.0)
    with pytest.raises(ValueError, match="method"):
        ib.inductive_bias(space, X_train, y_train, X_test, y_test, 0.1, method="fit")
    with pytest.raises(ValueError, match="X_test: expected 64 features"):
        ib.inductive_bias(space, X_train, y_train, X_test[:, :5], y_test, 0.1)
    with pytest.raises(ValueError, match="Y_train"):
        ib.inductive_bias(space, X_train, y_train[:-1], X_test, y_test, 0.1)


@pytest.fixture(scope="module")
def small(digits):
    X_train, y_train, X_test, y_test = digits
    return X_train[:150], y_train[:150], X_test[:80], y_test[:80]


def test_one_posterior_serves_every_error_and_method(small, monkeypatch):
    from inductive_bias import pipeline

    calls = []
    original = pipeline.posterior_of_targets
    monkeypatch.setattr(pipeline, "posterior_of_targets", lambda *a: calls.append(1) or original(*a))
    space = ib.KernelSpace("rbf", lengthscale="median")
    errors = np.array([[0.07, 0.06], [0.05, 0.04]])
    both = ib.inductive_bias(space, *small, errors, method="both", n_hypotheses=400, n_boot=20, seed=3)
    assert len(calls) == 1 and both.method == "exact" and both.bits.shape == (2, 2)
    assert both.sampled.method == "sample" and both.sampled.interval.shape == (2, 2, 2)
    assert both.sampled.losses.shape == (400,) and both.posterior is both.sampled.posterior
    for index, error in np.ndenumerate(errors):  # the same numbers as one error at a time
        single = ib.inductive_bias(space, *small, float(error))
        assert both.value[index] == pytest.approx(single.value, rel=1e-12)
        assert both.evaluation[index] == single.evaluation
    sampled = ib.inductive_bias(space, *small, errors, method="sample", n_hypotheses=400, n_boot=20, seed=3)
    np.testing.assert_array_equal(sampled.value, both.sampled.value)  # same posterior, same hypotheses
    np.testing.assert_array_equal(sampled.interval, both.sampled.interval)
    # read later at other errors: nothing recomputed
    calls.clear()
    later = ib.inductive_bias(space, *small, None, method="both", n_hypotheses=400, n_boot=20, seed=3)
    assert later.value is None and later.bits is None and len(calls) == 1
    read = later.at(errors)
    np.testing.assert_array_equal(read.value, both.value)
    np.testing.assert_allclose(read.sampled.value, both.sampled.value, rtol=1e-12)
    assert read.posterior is later.posterior and len(calls) == 1


@pytest.mark.filterwarnings("ignore::inductive_bias.NonInterpolatingWarning")
def test_auto_samples_spaces_without_a_closed_form(small):
    # Wide enough to interpolate the 150 training points, random features are answered conditionally
    # (tests/test_conditional.py); narrower, by sample-and-fit.
    wide = ib.inductive_bias(ib.RandomFeatureSpace(200), *small, 0.06, n_draws=2, n_boot=0)
    assert wide.method == "conditional"
    space = ib.RandomFeatureSpace(100)
    result = ib.inductive_bias(space, *small, [0.08, 0.06], n_hypotheses=40, n_boot=10, seed=np.random.SeedSequence(4))
    assert result.method == "sample" and result.value.shape == (2,) and result.interval.shape == (2, 2)
    assert result.extrapolated.dtype == bool and result.losses.shape == (40,)
    same = ib.inductive_bias(space, *small, [0.08, 0.06], n_hypotheses=40, n_boot=10, seed=np.random.SeedSequence(4))
    np.testing.assert_array_equal(result.losses, same.losses)
    with pytest.raises(ValueError, match="method: 'exact' needs a space with a closed-form"):
        ib.inductive_bias(space, *small, 0.05, method="exact")
    with pytest.raises(ValueError, match="method"):
        ib.inductive_bias(space, *small, 0.05, method="both")


def test_errors_are_checked_one_by_one(small):
    space = ib.KernelSpace("rbf", lengthscale="median")
    with pytest.raises(ValueError, match="error: must be a finite number"):
        ib.inductive_bias(space, *small, [0.05, -1.0])
    with pytest.raises(ValueError, match="error: expected at least one"):
        ib.inductive_bias(space, *small, [])
    with pytest.raises(TypeError, match="error: expected a number"):
        ib.inductive_bias(space, *small, ["0.1"])


def test_integer_labels_mean_the_same_everywhere(small):
    X_train, y_train, X_test, y_test = small
    space = ib.KernelSpace("rbf", lengthscale="median")
    post = ib.posterior(space, X_train, y_train, X_test)  # labels: one-hot, as inductive_bias does
    assert post.mean.shape == (len(X_test), 10)
    from_labels = post.mse_distribution(y_test)
    from_targets = post.mse_distribution(np.eye(10)[y_test])
    assert from_labels.mean() == from_targets.mean()
    assert ib.inductive_bias(space, *small, 0.05).distribution.mean() == pytest.approx(from_labels.mean(), rel=1e-12)
    with pytest.raises(ValueError, match=r"Y_test: labels must lie in \[0, 10\)"):
        post.mse_distribution(y_test + 10)


def test_arguments_are_checked_before_any_work(small):
    space = ib.KernelSpace("rbf", lengthscale="median")
    with pytest.raises(ValueError, match="confidence"):
        ib.inductive_bias(space, *small, 0.05, confidence=2.0)
    with pytest.raises(TypeError, match="progress"):
        ib.inductive_bias(space, *small, 0.05, progress="yes")
