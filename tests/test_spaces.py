import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import inductive_bias as ib


@pytest.fixture(scope="module")
def small_digits():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))
    X = X / 16.0
    return X[order[:120]], y[order[:120]], X[order[120:200]], y[order[120:200]]


def twin_random_feature_loss(space, index, seed, X_train, Y_train, X_test, Y_test):
    """One hypothesis written out: layers from the Philox stream, min-norm change by pinv."""
    d, k = X_train.shape[1], Y_train.shape[1]
    z = ib.random.normal(space.parameter_count(d, k), seed=seed, stream=index)
    sizes = [d] + [space.width] * space.depth + [k]
    layers, start = [], 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers.append(z[start : start + (fan_in + 1) * fan_out].reshape(fan_in + 1, fan_out))
        start += (fan_in + 1) * fan_out

    def features(X):
        h = X
        for layer in layers[:-1]:
            W = layer[:-1] * np.sqrt(space.weight_var / (layer.shape[0] - 1))
            h = np.maximum(h @ W + layer[-1] * np.sqrt(space.bias_var), 0)
        return np.hstack([h * np.sqrt(space.weight_var / space.width), np.full((len(h), 1), np.sqrt(space.bias_var))])

    F_train, F_test, c0 = features(X_train), features(X_test), layers[-1]
    c = c0 + np.linalg.pinv(F_train) @ (Y_train - F_train @ c0)
    return np.mean((F_test @ c - Y_test) ** 2)


@pytest.mark.parametrize("width", [50, 400])  # fewer features than points (least squares), and more (interpolation)
def test_random_feature_hypothesis_matches_twin(small_digits, width):
    X_train, y_train, X_test, y_test = small_digits
    space = ib.RandomFeatureSpace(width, depth=2, bias_var=0.1)
    losses = ib.sample_losses(space, X_train, y_train, X_test, y_test, 4, seed=7, progress=False)
    Y_train, Y_test = np.eye(10)[y_train], np.eye(10)[y_test]
    for i in range(4):
        assert losses[i] == pytest.approx(
            twin_random_feature_loss(space, i, 7, X_train, Y_train, X_test, Y_test), rel=1e-8
        )


def test_batch_size_invariance(small_digits):
    X_train, y_train, X_test, y_test = small_digits
    space = ib.RandomFeatureSpace(300)
    runs = [
        ib.sample_losses(space, X_train, y_train, X_test, y_test, 9, seed=3, progress=False, batch_size=b)
        for b in (1, 4, None)
    ]
    for run in runs[1:]:
        np.testing.assert_allclose(run, runs[0], rtol=1e-10)


def test_random_features_approach_the_nngp_kernel(small_digits):
    X_train, y_train, X_test, y_test = small_digits
    space = ib.KernelSpace("nngp_relu", depth=1)
    exact = ib.posterior(space, X_train, np.eye(10)[y_train], X_test).mse_distribution(np.eye(10)[y_test])
    gaps = []
    for width in (200, 4000):
        losses = ib.sample_losses(
            ib.RandomFeatureSpace(width, depth=1), X_train, y_train, X_test, y_test, 60, progress=False
        )
        gaps.append(abs(losses.mean() - exact.mean()) / exact.mean())
    assert gaps[1] < gaps[0] and gaps[1] < 0.05
    assert ib.RandomFeatureSpace(10, depth=1).kernel().kernel == "nngp_relu"


def test_kernel_space_sampling_goes_through_the_posterior(small_digits):
    X_train, y_train, X_test, y_test = small_digits
    space = ib.KernelSpace("rbf", lengthscale="median")
    losses = ib.sample_losses(space, X_train, y_train, X_test, y_test, 20_000, seed=2, progress=False)
    exact = ib.posterior(space, X_train, np.eye(10)[y_train], X_test).mse_distribution(np.eye(10)[y_test])
    assert losses.mean() == pytest.approx(exact.mean(), rel=5 * exact.var() ** 0.5 / exact.mean() / math.sqrt(20_000))


def test_callable_space_with_numpy(small_digits):
    X_train, y_train, X_test, y_test = small_digits

    def predict(seed):
        return np.random.default_rng(seed).normal(size=(len(X_test), 10)) * 0.1

    losses = ib.sample_losses(ib.CallableSpace(predict), X_train, y_train, X_test, y_test, 5, seed=4, progress=False)
    for i in range(5):
        want = np.mean((predict(ib.CallableSpace.hypothesis_seed(4, i)) - np.eye(10)[y_test]) ** 2)
        assert losses[i] == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match="fn: returned predictions of shape"):
        ib.sample_losses(
            ib.CallableSpace(lambda s: np.zeros((3, 10))), X_train, y_train, X_test, y_test, 1, progress=False
        )


def test_callable_space_with_torch(small_digits):
    torch = pytest.importorskip("torch")
    X_train, y_train, X_test, y_test = small_digits
    space = ib.CallableSpace(lambda seed: torch.full((len(X_test), 10), 0.1, dtype=torch.float64))
    losses = ib.sample_losses(space, X_train, y_train, X_test, y_test, 2, progress=False)
    np.testing.assert_allclose(losses, np.mean((0.1 - np.eye(10)[y_test]) ** 2))


def test_torch_example_runs():
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    example = Path(__file__).resolve().parents[1] / "examples" / "torch_ensemble.py"
    result = subprocess.run(
        [sys.executable, str(example), "--networks", "8", "--epochs", "20", "--width", "32"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "inductive bias at error" in result.stdout


def test_compare_table(small_digits, tmp_path):
    X_train, y_train, X_test, y_test = small_digits
    spaces = {"rbf": ib.KernelSpace("rbf", lengthscale="median"), "features": ib.RandomFeatureSpace(300)}
    table = ib.compare(spaces, X_train, y_train, X_test, y_test, errors=[0.05, 0.03], n_hypotheses=40, n_boot=10)
    assert len(table) == 4 and "bits" in str(table)
    # 301 features for 120 training points: random features are answered conditionally (auto)
    assert [r.method.split()[0] for r in table] == ["exact", "exact", "conditional", "conditional"]
    assert all(r.interval is not None for r in table if r.space == "features")
    if __import__("importlib").util.find_spec("pandas"):
        assert list(table.to_pandas().columns) == [
            "space",
            "error",
            "bits",
            "interval",
            "method",
            "seconds",
            "extrapolated",
        ]
    if __import__("importlib").util.find_spec("matplotlib"):
        table.plot(tmp_path / "comparison.png")
        assert (tmp_path / "comparison.png").stat().st_size > 1000


def test_bad_arguments(small_digits):
    X_train, y_train, X_test, y_test = small_digits
    with pytest.raises(TypeError, match="space"):
        ib.sample_losses("rbf", X_train, y_train, X_test, y_test, 3)
    with pytest.raises(ValueError, match="loss"):
        ib.sample_losses(ib.RandomFeatureSpace(10), X_train, y_train, X_test, y_test, 3, loss="mae")
    with pytest.raises(ValueError, match="width"):
        ib.RandomFeatureSpace(0)
    with pytest.raises(TypeError, match="fn"):
        ib.CallableSpace(3)
    with pytest.raises(TypeError, match="spaces"):
        ib.compare({}, X_train, y_train, X_test, y_test, errors=[0.1])


@pytest.mark.gpu
def test_random_features_on_gpu_match_cpu(small_digits):
    import cupy

    X_train, y_train, X_test, y_test = small_digits
    space = ib.RandomFeatureSpace(300, depth=2, bias_var=0.1)
    cpu = ib.sample_losses(space, X_train, y_train, X_test, y_test, 6, seed=5, progress=False)
    gpu = ib.sample_losses(
        space, cupy.asarray(X_train), y_train, cupy.asarray(X_test), y_test, 6, seed=5, progress=False
    )
    np.testing.assert_allclose(cupy.asnumpy(gpu), cpu, rtol=1e-8)


def test_draws_validate_their_arguments():
    space = ib.RandomFeatureSpace(5, depth=2)
    one = space.draw(3, seed=1, inputs=4, outputs=2)
    batch = space.draw_batch(2, 3, seed=1, inputs=4, outputs=2)
    assert [z.shape for z in one] == [(5, 5), (6, 5), (6, 2)]
    for single, stacked in zip(one, batch):
        np.testing.assert_array_equal(single, stacked[1])  # hypothesis 3 is row 1 of the batch from 2
    with pytest.raises(ValueError, match="device"):
        space.draw(0, seed=1, inputs=4, outputs=2, device="gpu")
    with pytest.raises(ValueError, match="index"):
        space.draw(-1, seed=1, inputs=4, outputs=2)
    with pytest.raises(ValueError, match="count"):
        space.draw_batch(2**64 - 2, 3, seed=1, inputs=4, outputs=2)


# Audit of the spaces: ignored arguments, garbage from overflow, errors naming nothing the user wrote.


@pytest.mark.parametrize("kernel", ["nngp_relu", "ntk_erf", "linear", "polynomial"])
def test_a_lengthscale_is_refused_where_it_does_not_apply(kernel):
    with pytest.raises(ValueError, match=f"^lengthscale: does not apply to the {kernel} kernel"):
        ib.KernelSpace(kernel, lengthscale=2)
    assert ib.KernelSpace(kernel).lengthscale is None and ib.KernelSpace("rbf").lengthscale == 1.0


def test_median_lengthscale_needs_finite_inputs_and_two_points():
    space = ib.KernelSpace("rbf", lengthscale="median")
    with pytest.raises(ValueError, match="^X_train: contains NaN"):
        space.resolved(np.full((5, 3), np.nan))
    with pytest.raises(ValueError, match="^X_train: lengthscale='median' needs at least two"):
        space.resolved(np.ones((1, 3)))


def test_overflowing_random_feature_and_callable_outputs_are_refused_by_name():
    rng = np.random.default_rng(0)
    Xtr, Ytr, Xte, Yte = (rng.standard_normal(shape) for shape in ((20, 3), (20, 2), (15, 3), (15, 2)))
    with pytest.raises(ValueError, match="^weight_var: the networks' outputs overflow"):
        ib.sample_losses(ib.RandomFeatureSpace(30, weight_var=1e300), Xtr, Ytr, Xte, Yte, 4)
    huge = ib.CallableSpace(lambda seed: np.full((15, 2), 1e200))
    with pytest.raises(ValueError, match="^fn: returned predictions reaching 1e\\+200"):
        ib.sample_losses(huge, Xtr, Ytr, Xte, Yte, 4)


def test_device_applies_only_with_a_client():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 2)), np.arange(10) % 2
    for space in (ib.KernelSpace("rbf"), ib.RandomFeatureSpace(12)):
        with pytest.raises(ValueError, match="^device: expected 'cpu' or 'cuda'"):
            ib.sample_losses(space, X, y, X, y, 2, device="x")
        with pytest.raises(ValueError, match="^device: 'cuda' applies only to the workers of a Dask client"):
            ib.sample_losses(space, X, y, X, y, 2, device="cuda")
    with pytest.raises(ValueError, match="^device: 'cuda' applies only"):
        ib.conditional_distribution(ib.RandomFeatureSpace(12), X, y, X, y, 2, device="cuda")


def test_huge_widths_and_bad_indices_are_refused_by_name():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 2)), np.arange(10) % 2
    for width in (2**63, 10**12):  # NumPy's "maximum dimension exceeded", a raw "Unable to allocate"
        with pytest.raises(MemoryError, match="^width: .* more than this machine's memory"):
            ib.sample_losses(ib.RandomFeatureSpace(width), X, y, X, y, 2)
        with pytest.raises(MemoryError, match="^width:"):
            ib.RandomFeatureSpace(width).draw(0, 0, 2, 2)
    with pytest.raises(ValueError, match="^index: must be in"):
        ib.CallableSpace.hypothesis_seed(0, -1)
    with pytest.raises(ValueError, match="^seed: must be in"):
        ib.CallableSpace.hypothesis_seed(-1, 0)


def test_polynomial_degree_survives_the_posterior():
    """A given degree is checked once by the space and again by kernel_matrix (an int, or a whole float)."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), np.arange(30) % 3
    means = [
        ib.inductive_bias(
            ib.KernelSpace("polynomial", degree=d), X[:20], y[:20], X[20:], y[20:], None
        ).distribution.mean()
        for d in (3, 3.0)
    ]
    assert math.isfinite(means[0]) and means[0] == means[1]
    with pytest.raises(TypeError, match="degree"):
        ib.KernelSpace("polynomial", degree=2.5)


def test_unused_sizes_are_still_checked():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), np.arange(30) % 3
    space = ib.KernelSpace("rbf", lengthscale=2.0)
    for name, value in (("n_draws", 0), ("task_size", -1)):
        with pytest.raises(ValueError, match=name):
            ib.inductive_bias(space, X[:20], y[:20], X[20:], y[20:], 0.5, **{name: value})
    with pytest.raises(ValueError, match="task_size"):
        ib.sample_losses(space, X[:20], y[:20], X[20:], y[20:], 4, task_size=0)
