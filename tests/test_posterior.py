import numpy as np
import pytest

import inductive_bias as ib
from inductive_bias import _reference
from inductive_bias.posterior import training_and_test_targets

CASES = [
    ("rbf", {}),
    ("laplacian", {}),
    ("matern12", {}),
    ("matern32", {"variance": 2.0}),
    ("matern52", {}),
    ("polynomial", {"gamma": 0.5, "coef0": 1.0, "degree": 3}),
    ("linear", {"coef0": 0.5}),
    ("nngp_relu", {"depth": 1}),
    ("nngp_relu", {"depth": 3, "weight_var": 1.5, "bias_var": 0.1}),
    ("ntk_relu", {"depth": 1}),
    ("ntk_relu", {"depth": 3, "weight_var": 1.5, "bias_var": 0.1}),
    ("nngp_erf", {"depth": 2, "weight_var": 1.5, "bias_var": 0.2}),
    ("ntk_erf", {"depth": 2, "weight_var": 1.5, "bias_var": 0.2}),
]


@pytest.mark.parametrize(("kernel", "params"), CASES)
def test_kernel_matrix_matches_twin(kernel, params):
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(30, 6)), rng.normal(size=(20, 6))
    space = (
        ib.KernelSpace(kernel, lengthscale=1.7, **params)
        if kernel in {"rbf", "laplacian", "matern12", "matern32", "matern52"}
        else ib.KernelSpace(kernel, **params)
    )
    twin_params = dict(params, lengthscale=1.7) if "lengthscale" in space.resolved(A) else params
    np.testing.assert_allclose(
        ib.kernel_matrix(space, A, B), _reference.kernel_matrix(kernel, A, B, **twin_params), rtol=1e-12, atol=1e-12
    )


def test_nngp_matches_a_wide_random_relu_network():
    # The arc-cosine kernel is the covariance of infinitely wide ReLU networks (weights N(0, 2/fan-in)).
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5, 4))
    width = 200_000
    W = rng.normal(size=(4, width)) * np.sqrt(2.0 / 4)
    features = np.maximum(X @ W, 0)
    empirical = 2.0 * features @ features.T / width
    exact = ib.kernel_matrix(ib.KernelSpace("nngp_relu", depth=1), X, X)
    np.testing.assert_allclose(empirical, exact, rtol=0.02, atol=0.02)


def test_median_lengthscale():
    X = np.random.default_rng(3).normal(size=(40, 3))
    distances = np.linalg.norm(X[:, None] - X[None], axis=-1)[np.triu_indices(40, 1)]
    assert ib.KernelSpace("rbf", lengthscale="median").resolved(X)["lengthscale"] == pytest.approx(np.median(distances))


def test_posterior_matches_plain_solves():
    rng = np.random.default_rng(4)
    X, Xs = rng.uniform(size=(60, 3)), rng.uniform(size=(25, 3))
    Y = np.eye(3)[rng.integers(0, 3, 60)]
    space = ib.KernelSpace("matern52", lengthscale=0.7)
    post = ib.posterior(space, X, Y, Xs)
    mean, covariance = _reference.posterior(
        ib.kernel_matrix(space, X, X), ib.kernel_matrix(space, X, Xs), ib.kernel_matrix(space, Xs, Xs), Y
    )
    np.testing.assert_allclose(post.mean, mean, atol=1e-8)
    rebuilt = post.eigenvectors @ np.diag(post.eigenvalues) @ post.eigenvectors.T
    np.testing.assert_allclose(rebuilt, covariance, atol=1e-8)
    assert post.jitter == 0.0
    np.testing.assert_allclose(post.factor() @ post.factor().T, rebuilt, atol=1e-12)


def test_jitter_rescues_duplicate_inputs_and_is_reported():
    X = np.array([[0.0], [0.0], [1.0]])
    post = ib.posterior(ib.KernelSpace("rbf"), X, np.array([[1.0], [1.0], [0.0]]), np.array([[0.5]]))
    assert post.jitter > 0


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("cosine",), {}, ValueError, "kernel"),
        (("rbf",), {"degree": 2}, ValueError, "params"),
        (("rbf",), {"lengthscale": -1.0}, ValueError, "lengthscale"),
        (("nngp_relu",), {"depth": 0}, ValueError, "depth"),
        (("polynomial",), {"gamma": 0}, ValueError, "gamma"),
    ],
)
def test_bad_spaces(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        ib.KernelSpace(*args, **kwargs)


@pytest.mark.gpu
def test_gpu_kernels_and_posterior_match_cpu():
    import cupy

    rng = np.random.default_rng(5)
    X, Xs = rng.uniform(size=(200, 8)), rng.uniform(size=(100, 8))
    Y = np.eye(4)[rng.integers(0, 4, 200)]
    for kernel, params in CASES:
        space = ib.KernelSpace(kernel, **params)
        np.testing.assert_allclose(
            ib.kernel_matrix(space, cupy.asarray(X), cupy.asarray(Xs)).get(),
            ib.kernel_matrix(space, X, Xs),
            rtol=1e-12,
            atol=1e-12,
        )
    space = ib.KernelSpace("rbf", lengthscale="median")
    cpu = ib.posterior(space, X, Y, Xs)
    gpu = ib.posterior(space, cupy.asarray(X), cupy.asarray(Y), cupy.asarray(Xs))
    np.testing.assert_allclose(gpu.mean.get(), cpu.mean, atol=1e-9)
    np.testing.assert_allclose(gpu.eigenvalues.get(), cpu.eigenvalues, atol=1e-9)
    y = rng.integers(0, 4, 100)
    assert ib.inductive_bias(space, cupy.asarray(X), np.argmax(Y, 1), cupy.asarray(Xs), y, 0.05).value == pytest.approx(
        ib.inductive_bias(space, X, np.argmax(Y, 1), Xs, y, 0.05).value, rel=1e-6
    )


@pytest.mark.gpu
def test_gpu_cholesky_failure_climbs_the_jitter_ladder():
    import cupy

    from inductive_bias._arrays import cholesky

    # CuPy's Cholesky fails silently (a partial factor) unless asked to raise.
    assert cholesky(cupy.asarray(-np.eye(3))) is None
    assert cholesky(cupy.stack([cupy.eye(3), -cupy.eye(3)])) is None  # one bad matrix of a batch
    np.testing.assert_allclose(cholesky(cupy.eye(3) * 4).get(), 2 * np.eye(3))
    # A linear kernel on 120 points in 3 dimensions has rank 4: no factor without jitter.
    rng = np.random.default_rng(6)
    X, Y, Xs = rng.uniform(size=(120, 3)), rng.normal(size=(120, 2)), rng.uniform(size=(20, 3))
    space = ib.KernelSpace("linear", coef0=1.0)
    cpu = ib.posterior(space, X, Y, Xs)
    gpu = ib.posterior(space, cupy.asarray(X), cupy.asarray(Y), cupy.asarray(Xs))
    assert cpu.jitter > 0 and gpu.jitter > 0


# Audit of the kernel layer: inputs that gave silent garbage or errors naming nothing the user wrote.


@pytest.fixture(scope="module")
def audit_task():
    rng = np.random.default_rng(0)
    Xtr, Ytr = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    Xte, Yte = rng.standard_normal((15, 3)), rng.standard_normal((15, 2))
    return Xtr, Ytr, Xte, Yte, np.arange(20) % 3, np.arange(15) % 3


def test_sparse_labels_are_classes_not_a_vast_one_hot(audit_task):
    # Labels 0, 10^6, 2 10^6 were one-hot encoded over 2,000,001 outputs (0 bits after seconds);
    # labels + 2^40 asked for 8 TiB. They are the same three classes as 0, 1, 2.
    Xtr, _, Xte, _, ytr, yte = audit_task
    space = ib.KernelSpace("rbf", lengthscale=2.0)
    dense = ib.inductive_bias(space, Xtr, ytr, Xte, yte, 0.5).value
    for train, test in ((ytr * 10**6, yte * 10**6), (ytr + 2**40, yte + 2**40), (ytr - 1, yte - 1)):
        assert ib.inductive_bias(space, Xtr, train, Xte, test, 0.5).value == dense
    uint = ib.sample_losses(space, Xtr, (ytr + 2**62).astype(np.uint64), Xte, yte + 2**62, 8, seed=1)
    assert np.array_equal(uint, ib.sample_losses(space, Xtr, ytr, Xte, yte, 8, seed=1))
    # The published convention is unchanged: labels 0 .. C-1 keep their columns, absent classes too.
    train, test = training_and_test_targets(np.array([0, 2]), np.array([2]), 2, 1, np)
    assert train.tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]] and test.tolist() == [[0.0, 0.0, 1.0]]
    with pytest.raises(ValueError, match="^Y_train: labels up to 2000000 would be one-hot"):
        ib.posterior(space, Xtr, ytr * 10**6, Xte)  # alone, it cannot map the test labels: refused


def test_targets_whose_squares_overflow_are_refused_by_name(audit_task):
    Xtr, Ytr, Xte, Yte, _, _ = audit_task
    space = ib.KernelSpace("rbf", lengthscale=2.0)
    for rf in (space, ib.RandomFeatureSpace(30)):
        with pytest.raises(ValueError, match="^Y_train: entries reach .* overflow"):
            ib.sample_losses(rf, Xtr, Ytr * 1e155, Xte, Yte, 4)
        with pytest.raises(ValueError, match="^Y_test: entries reach .* overflow"):
            ib.sample_losses(rf, Xtr, Ytr, Xte, Yte * 1e155, 4)
    with pytest.raises(ValueError, match="^Y_train: entries reach"):  # not "noncentralities: ..."
        ib.inductive_bias(space, Xtr, Ytr * 1e200, Xte, Yte * 1e200, 0.5)
    with pytest.raises(ValueError, match="^Y_test: entries reach .* underflow"):
        ib.inductive_bias(space, Xtr, Ytr, Xte, Yte * 1e-200, 0.5)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"lengthscale": 0}, ValueError, "^lengthscale:"),
        ({"lengthscale": np.nan}, ValueError, "^lengthscale:"),
        ({"lengthscale": -1}, ValueError, "^lengthscale:"),
        ({"variance": -1}, ValueError, "^variance:"),
        ({"lengthscale": "x"}, TypeError, "^lengthscale:"),
        ({"depth": 2}, ValueError, "^params:"),
        (5, TypeError, "^params:"),
    ],
)
def test_kernel_matrix_checks_given_params(params, error, match):
    X = np.random.default_rng(0).standard_normal((4, 3))
    with pytest.raises(error, match=match):
        ib.kernel_matrix(ib.KernelSpace("rbf"), X, X, params=params)


@pytest.mark.parametrize(
    "kernel, params",
    [
        ("nngp_relu", {"depth": 3, "weight_var": 1e150}),  # NaN
        ("nngp_relu", {"depth": 1, "weight_var": 1e200}),  # inf
        ("nngp_erf", {"depth": 1, "weight_var": 1e200}),  # zeros
        ("nngp_relu", {"depth": 1, "bias_var": 1e300}),  # NaN
        ("nngp_relu", {"depth": 1000, "weight_var": 4.0}),  # ~1e301: scipy's "must not contain infs"
        ("nngp_relu", {"depth": 1100, "weight_var": 1.0}),  # underflows: "not positive definite"
    ],
)
def test_network_kernels_that_overflow_or_underflow_name_depth(audit_task, kernel, params):
    Xtr, _, Xte, _, ytr, yte = audit_task
    space = ib.KernelSpace(kernel, **params)
    with pytest.raises(ValueError, match="^depth: the kernels of .* (overflow|underflow)"):
        ib.kernel_matrix(space, Xtr, Xtr)
    with pytest.raises(ValueError, match="^depth: the kernels of"):
        ib.inductive_bias(space, Xtr, ytr, Xte, yte, 0.5)


def test_spaces_without_a_kernel_are_refused_by_name(audit_task):
    Xtr, _, Xte, _, ytr, _ = audit_task
    for space in (ib.RandomFeatureSpace(10), ib.CallableSpace(lambda seed: 0), "rbf"):
        with pytest.raises(TypeError, match="^space: expected a KernelSpace, got"):
            ib.kernel_matrix(space, Xtr, Xte)
        with pytest.raises(TypeError, match="^space: expected a KernelSpace or TrainedNetworkSpace, got"):
            ib.posterior(space, Xtr, ytr, Xte)
