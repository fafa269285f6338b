"""The neural tangent kernels and ``TrainedNetworkSpace`` against finite networks.

neural-tangents (0.6.5, its last release) does not import with the JAX this project tests with
(jax >= 0.5 dropped ``jax.core.Jaxpr``, which it imports), so the kernels are checked against an
independent computation instead: the empirical NNGP and NTK of finite PyTorch networks in the same
parametrization, which must converge to them as the width grows, and the trained-network distribution
against networks actually trained by gradient descent. The long runs are marked ``slow``
(``IB_SLOW_TESTS=1``).
"""

import importlib
import math
import warnings

import numpy as np
import pytest

import inductive_bias as ib
from inductive_bias import _reference

torch = pytest.importorskip("torch")


def draw_network(sizes, count, seed):
    """Standard normal weights [count, fan_in, fan_out] and biases [count, 1, fan_out] per layer."""
    generator = torch.Generator().manual_seed(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        W = torch.randn(count, fan_in, fan_out, generator=generator, dtype=torch.float64)
        b = torch.randn(count, 1, fan_out, generator=generator, dtype=torch.float64)
        layers += [W.requires_grad_(), b.requires_grad_()]
    return layers


def forward(layers, x, weight_var, bias_var, activation, keep=None):
    """neural-tangents' Dense(W_std, b_std) in the NTK parametrization between activations."""
    act = torch.relu if activation == "relu" else torch.erf
    h = x.expand(layers[0].shape[0], -1, -1)
    for i in range(0, len(layers), 2):
        W, b = layers[i], layers[i + 1]
        if keep is not None:
            keep.append(h)
        z = torch.baddbmm(b * math.sqrt(bias_var), h, W, alpha=math.sqrt(weight_var / W.shape[1]))
        if keep is not None:
            z.retain_grad()
            keep.append(z)
        h = act(z) if i + 2 < len(layers) else z
    return h[..., 0]  # [count, points]


def empirical_kernels(X, width, depth, weight_var, bias_var, activation, seed):
    """NNGP and NTK of one finite network. The NTK sum over parameters is taken layer by layer:
    d f / d W_l = sqrt(weight_var / fan_in) h_{l-1} delta_l^T and d f / d b_l = sqrt(bias_var) delta_l,
    with delta_l = d f / d z_l from autograd."""
    layers = draw_network([X.shape[1]] + [width] * depth + [1], 1, seed)
    keep = []
    out = forward(layers, torch.as_tensor(X), weight_var, bias_var, activation, keep)
    out.sum().backward()  # the points are independent: delta_l of each point
    ntk = 0
    for h, z in zip(keep[::2], keep[1::2]):
        h, delta = h[0].detach(), z.grad[0]
        ntk = ntk + (delta @ delta.T) * (weight_var / h.shape[1] * h @ h.T + bias_var)
    h = keep[-2][0].detach()  # the last hidden layer's activations, input of the output layer
    nngp = weight_var / h.shape[1] * h @ h.T + bias_var
    return nngp.detach().numpy(), ntk.numpy()


def test_layerwise_empirical_ntk_is_the_jacobian_product():
    # The layer-by-layer sum above against J J^T of the full parameter Jacobian (small width).
    X = np.random.default_rng(0).normal(size=(4, 3))
    _, ntk = empirical_kernels(X, 16, 2, 1.7, 0.3, "erf", seed=5)
    layers = [p.detach()[0] for p in draw_network([3, 16, 16, 1], 1, 5)]

    def f(*params):
        return forward([p[None] for p in params], torch.as_tensor(X), 1.7, 0.3, "erf")[0]

    jacobians = torch.autograd.functional.jacobian(f, tuple(layers))
    J = torch.cat([j.reshape(4, -1) for j in jacobians], dim=1)
    np.testing.assert_allclose(ntk, (J @ J.T).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("activation", "depth", "widths"),
    [
        ("relu", 1, (256, 1024, 4096, 16384)),
        ("erf", 1, (256, 1024, 4096, 16384)),
        ("relu", 2, (128, 512, 2048)),
        pytest.param("relu", 3, (256, 1024, 4096), marks=pytest.mark.slow),
        pytest.param("erf", 3, (256, 1024, 4096), marks=pytest.mark.slow),
    ],
)
def test_empirical_kernels_converge_to_the_network_kernels(activation, depth, widths):
    weight_var, bias_var = (2.0, 0.1) if activation == "relu" else (1.5, 0.2)
    X = np.random.default_rng(0).normal(size=(6, 5))
    exact = [
        ib.kernel_matrix(
            ib.KernelSpace(f"{kind}_{activation}", depth=depth, weight_var=weight_var, bias_var=bias_var), X, X
        )
        for kind in ("nngp", "ntk")
    ]
    errors = []  # [width, kernel]: relative deviation (Frobenius), averaged over 4 networks
    for width in widths:
        draws = [empirical_kernels(X, width, depth, weight_var, bias_var, activation, seed) for seed in range(4)]
        errors.append(
            [np.mean([np.linalg.norm(d[i] - exact[i]) / np.linalg.norm(exact[i]) for d in draws]) for i in range(2)]
        )
    errors = np.array(errors)
    # Finite-width fluctuations shrink like width^-1/2 (measured slopes -0.42 .. -0.65); a wrong kernel
    # would leave a floor and flatten the decline.
    slopes = np.polyfit(np.log(widths), np.log(errors), 1)[0]
    assert (slopes < -0.35).all(), (errors, slopes)
    # Measured: 1.7 % at depth 1 and width 16384, 5.5 % at depth 2 and width 2048, 6.7 % at depth 3
    # and width 4096 (fluctuations grow with depth / width).
    assert (errors[-1] < 0.03 * (depth + 1) * math.sqrt(4096 / widths[-1])).all(), errors


def train(X_train, Y, X_test, width, depth, weight_var, bias_var, count, seed):
    """Train `count` networks by full-batch gradient descent on 1/2 |f(X) - Y|^2 until every training
    loss is below 1e-10; return their test outputs before and after, and their outputs at X_train before."""
    layers = draw_network([X_train.shape[1]] + [width] * depth + [1], count, seed)
    x_train, x_test = torch.as_tensor(X_train), torch.as_tensor(X_test)
    y = torch.as_tensor(Y[:, 0])
    with torch.no_grad():
        initial_train = forward(layers, x_train, weight_var, bias_var, "relu").numpy()
        initial_test = forward(layers, x_test, weight_var, bias_var, "relu").numpy()
    theta = ib.kernel_matrix(
        ib.KernelSpace("ntk_relu", depth=depth, weight_var=weight_var, bias_var=bias_var), X_train, X_train
    )
    rate = 1.0 / np.linalg.eigvalsh(theta).max()  # stable for the linearized dynamics (below 2 / lambda_max)
    for _ in range(5000):
        loss = 0.5 * ((forward(layers, x_train, weight_var, bias_var, "relu") - y) ** 2).sum(dim=1)
        if loss.max().item() < 1e-10:
            break
        gradients = torch.autograd.grad(loss.sum(), layers)  # each network's loss depends on its own weights
        with torch.no_grad():
            for p, g in zip(layers, gradients):
                p -= rate * g
    assert loss.max().item() < 1e-10
    with torch.no_grad():
        trained = forward(layers, x_test, weight_var, bias_var, "relu").numpy()
    return initial_train, initial_test, trained


def trained_network_task():
    # 10 training points on a sphere (a well-conditioned NTK: ~120 steps) and 5 test points between them.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 16))
    X = np.vstack([X, 0.6 * X[:5] + 0.4 * X[5:]])
    X *= 4.0 / np.linalg.norm(X, axis=1, keepdims=True)
    Y = np.sin(X[:10] @ rng.normal(size=16) / 4.0)[:, None]
    return X[:10], Y, X[10:]


def linearization_error(space, X_train, Y, X_test, width, count):
    """RMS over networks of (trained output - its infinite-width prediction from the same initialization
    f0: f0(T) + Theta(T, X) Theta^-1 (Y - f0(X))), relative to the spread of the trained outputs; also with
    the NNGP kernel in the place of the NTK, which must do worse."""
    initial_train, initial_test, trained = train(
        X_train, Y, X_test, width, space.depth, space.weight_var, space.bias_var, count, seed=1
    )
    spread = np.sqrt(np.mean((trained - trained.mean(axis=0)) ** 2))
    errors = []
    for kernel in (space.ntk(), space.nngp()):
        gain = np.linalg.solve(ib.kernel_matrix(kernel, X_train, X_train), ib.kernel_matrix(kernel, X_train, X_test))
        predicted = initial_test + (Y[:, 0] - initial_train) @ gain
        errors.append(np.sqrt(np.mean((trained - predicted) ** 2)) / spread)
    return errors, trained


def test_trained_networks_follow_the_ntk_prediction():
    X_train, Y, X_test = trained_network_task()
    (ntk_error, nngp_error), _ = linearization_error(
        ib.TrainedNetworkSpace(1, 2.0, 0.1), X_train, Y, X_test, width=2048, count=10
    )
    assert ntk_error < 0.1 and nngp_error > 2 * ntk_error  # measured: 0.055 and 0.22


@pytest.mark.slow
def test_trained_ensemble_matches_the_trained_network_distribution():
    X_train, Y, X_test = trained_network_task()
    space = ib.TrainedNetworkSpace(1, 2.0, 0.1)
    narrow, _ = linearization_error(space, X_train, Y, X_test, width=512, count=20)
    (error, _), trained = linearization_error(space, X_train, Y, X_test, width=2048, count=200)
    assert error < 0.08 and error < 0.7 * narrow[0]  # ~ width^-1/2: measured 0.12 at 512, 0.055 at 2048
    post = ib.posterior(space, X_train, Y, X_test)
    mean = post.mean[:, 0]
    covariance = post.eigenvectors @ np.diag(post.eigenvalues) @ post.eigenvectors.T
    count, t = trained.shape
    inverse = np.linalg.inv(covariance)
    # Under the formula: count (m - mu)^T Sigma^-1 (m - mu) ~ chi2_t, and the likelihood-ratio statistic
    # of the sample covariance S, (count - 1) (tr(Sigma^-1 S) - log det(Sigma^-1 S) - t) ~ chi2_{t(t+1)/2}.
    residual = trained.mean(axis=0) - mean
    mean_statistic = count * residual @ inverse @ residual
    ratio = inverse @ np.cov(trained.T)
    covariance_statistic = (count - 1) * (np.trace(ratio) - np.linalg.slogdet(ratio)[1] - t)
    scipy_stats = pytest.importorskip("scipy.stats")
    assert mean_statistic < scipy_stats.chi2.ppf(0.9999, t), mean_statistic
    assert covariance_statistic < scipy_stats.chi2.ppf(0.9999, t * (t + 1) // 2), covariance_statistic


def test_trained_posterior_matches_plain_solves():
    rng = np.random.default_rng(4)
    X, Xs = rng.normal(size=(40, 3)), rng.normal(size=(15, 3))
    Y = rng.normal(size=(40, 2))
    space = ib.TrainedNetworkSpace(depth=2, weight_var=1.8, bias_var=0.2)
    post = ib.posterior(space, X, Y, Xs)
    nngp, ntk = space.nngp(), space.ntk()
    mean, covariance = _reference.trained_network_posterior(
        ib.kernel_matrix(nngp, X, X),
        ib.kernel_matrix(nngp, X, Xs),
        ib.kernel_matrix(nngp, Xs, Xs),
        ib.kernel_matrix(ntk, X, X),
        ib.kernel_matrix(ntk, X, Xs),
        Y,
    )
    np.testing.assert_allclose(post.mean, mean, atol=1e-9)
    rebuilt = post.eigenvectors @ np.diag(post.eigenvalues) @ post.eigenvectors.T
    np.testing.assert_allclose(rebuilt, covariance, atol=1e-9)
    assert post.jitter == 0.0
    # Trained networks interpolate: on the training points the mean is Y and the covariance vanishes.
    on_train = ib.posterior(space, X, Y, X[:10])
    np.testing.assert_allclose(on_train.mean, Y[:10], atol=1e-8)
    assert on_train.eigenvalues.max() < 1e-8 * np.trace(ib.kernel_matrix(nngp, X, X))
    # Not the Bayesian posterior of either kernel.
    assert not np.allclose(post.mean, ib.posterior(nngp, X, Y, Xs).mean, atol=1e-3)


def test_trained_networks_answered_exactly_and_by_sampling():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))
    X = X / 16.0
    X_train, y_train, X_test, y_test = X[order[:120]], y[order[:120]], X[order[120:200]], y[order[120:200]]
    space = ib.TrainedNetworkSpace(depth=2)
    distribution = ib.inductive_bias(space, X_train, y_train, X_test, y_test, error=None).distribution
    eps = 0.995 * distribution.mean()  # in the bulk, where 4,000 samples read P to +-0.03
    result = ib.inductive_bias(
        space, X_train, y_train, X_test, y_test, eps, method="both", n_hypotheses=4000, n_boot=0, unit="nats"
    )
    assert result.method == "exact" and result.sampled.method == "sample"
    p = math.exp(-result.value)
    se = math.sqrt(p * (1 - p) / 4000)
    assert abs(result.sampled.empirical_fraction - p) < 4 * se
    losses = ib.sample_losses(space, X_train, y_train, X_test, y_test, 1000, seed=1)
    assert losses.mean() == pytest.approx(distribution.mean(), abs=4 * math.sqrt(distribution.var() / 1000))


def test_duplicate_inputs_climb_the_jitter_ladder():
    # The NTK matrix of a repeated input is singular: it factors only with a jitter, and then the
    # "trained networks" miss their training targets (by up to 0.79 here), so any jitter warns.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 2))
    X = np.vstack([X, X[:2]])
    with pytest.warns(ib.JitterWarning, match="singular to working precision") as caught:
        post = ib.posterior(ib.TrainedNetworkSpace(), X, rng.normal(size=(12, 1)), np.array([[0.5, 0.5]]))
    assert caught[0].filename == __file__
    assert post.jitter > 0 and np.isfinite(post.mean).all() and np.isfinite(post.eigenvalues).all()


def test_indefinite_covariance_is_clamped_and_reported(monkeypatch):
    # Rounding never made the covariance visibly indefinite in our trials (near-duplicate inputs
    # included), so an eigendecomposition with a negative eigenvalue stands in for a worse solve.
    posterior_module = importlib.import_module("inductive_bias.posterior")  # ib.posterior is the function
    exact_eigh = posterior_module.eigh

    def shifted(matrix):
        values, vectors = exact_eigh(matrix)
        values[0] = -1e-3 * values.max()  # the smallest
        return values, vectors

    monkeypatch.setattr(posterior_module, "eigh", shifted)
    X = np.random.default_rng(1).normal(size=(8, 3))
    with pytest.warns(ib.JitterWarning, match="clamped at 0"):
        post = ib.posterior(ib.TrainedNetworkSpace(), X[:5], np.ones((5, 1)), X[5:])
    assert post.eigenvalues.min() == 0.0


def test_command_line_names_trained_networks():
    from inductive_bias import cli

    assert repr(cli.parse_space("ntk-2")) == repr(ib.TrainedNetworkSpace(depth=2))
    assert isinstance(cli.parse_space("ntk"), ib.TrainedNetworkSpace)
    with pytest.raises(ValueError, match="--space"):
        cli.parse_space("ntk-0")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"depth": 0}, "depth"),
        ({"weight_var": 0.0}, "weight_var"),
        ({"bias_var": -1.0}, "bias_var"),
        ({"activation": "tanh"}, "activation"),
    ],
)
def test_bad_trained_network_spaces(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ib.TrainedNetworkSpace(**kwargs)


def test_overflowing_kernels_are_an_error_naming_depth():
    # weight_var = 4 doubles the ReLU kernels at every layer: 2^5000 overflows.
    X = np.random.default_rng(0).normal(size=(5, 3))
    with pytest.raises(ValueError, match="depth: the kernels of 5000 layers overflow"):
        ib.posterior(ib.TrainedNetworkSpace(depth=5000, weight_var=4.0), X, np.ones((5, 1)), X)


@pytest.mark.gpu
def test_trained_networks_on_gpu_match_cpu():
    import cupy

    rng = np.random.default_rng(5)
    X, Xs, y, ys = (
        rng.uniform(size=(200, 8)),
        rng.uniform(size=(100, 8)),
        rng.integers(0, 4, 200),
        rng.integers(0, 4, 100),
    )
    space = ib.TrainedNetworkSpace(depth=2, bias_var=0.1)
    cpu = ib.posterior(space, X, np.eye(4)[y], Xs)
    gpu = ib.posterior(space, cupy.asarray(X), cupy.asarray(np.eye(4)[y]), cupy.asarray(Xs))
    np.testing.assert_allclose(gpu.mean.get(), cpu.mean, atol=1e-9)
    np.testing.assert_allclose(gpu.eigenvalues.get(), cpu.eigenvalues, atol=1e-9)
    error = 0.99 * ib.inductive_bias(space, X, y, Xs, ys, None).distribution.mean()
    assert ib.inductive_bias(space, cupy.asarray(X), y, cupy.asarray(Xs), ys, error).value == pytest.approx(
        ib.inductive_bias(space, X, y, Xs, ys, error).value, rel=1e-6
    )


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_an_ill_conditioned_ntk_says_it_lost_digits(activation):
    # One training input moved by 1e-9 (equal targets): Theta factors with no jitter, but its
    # condition number (~1e16) leaves the erf net's mean 24 % wrong against 60-digit mpmath.
    rng = np.random.default_rng(0)
    X, Xt, Y = rng.standard_normal((30, 5)), rng.standard_normal((20, 5)), rng.standard_normal((30, 2))
    space = ib.TrainedNetworkSpace(depth=2, activation=activation)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ib.ReliabilityWarning)  # well separated inputs: no warning
        ib.posterior(space, X, Y, Xt)
    X[1], Y[1] = X[0] + 1e-9, Y[0]
    with pytest.warns(ib.JitterWarning):
        ib.posterior(space, X, Y, Xt)


def test_ntk_relu_keeps_the_angle_of_nearly_parallel_inputs():
    # x = (a, 0, 0), y = (a, 1, 0): every product BLAS forms is an exact integer, so the remaining
    # error is the kernel's own. acos(x.y / |x||y|) lost half the digits of the angle 1/a, on which the
    # NTK depends linearly; atan2 of the carried Gram determinant keeps them. Reference: 60-digit
    # mpmath of the same recursion (neural-tangents' conventions, weight_var 2, bias_var 0 or 0.1).
    import mpmath as mp

    mp.mp.dps = 60

    def reference(x, y, depth, wv, bv):
        dot = lambda u, v: sum(mp.mpf(p) * mp.mpf(q) for p, q in zip(u, v))  # noqa: E731
        d = len(x)
        kxy, kxx, kyy = (bv + wv * dot(u, v) / d for u, v in ((x, y), (x, x), (y, y)))
        ntk = kxy
        for _ in range(depth):
            c = kxy / mp.sqrt(kxx * kyy)
            t = mp.acos(min(max(c, -1), 1))
            k = bv + wv * mp.sqrt(kxx * kyy) * (mp.sin(t) + (mp.pi - t) * c) / (2 * mp.pi)
            ntk = k + wv * (mp.pi - t) / (2 * mp.pi) * ntk
            kxy, kxx, kyy = k, bv + wv * kxx / 2, bv + wv * kyy / 2
        return ntk

    for a in (2.0**20, 2.0**24):
        A = np.array([[a, 0.0, 0.0], [a, 1.0, 0.0]])
        for bias_var in (0.0, 0.1):
            space = ib.KernelSpace("ntk_relu", depth=3, bias_var=bias_var)
            K = ib.kernel_matrix(space, A, A)
            exact = [reference(A[i], A[j], 3, 2.0, bias_var) for i, j in ((0, 1), (0, 0))]
            # the value to 1e-14, and the difference K(x, x) - K(x, y) (about 1/a of it) to 1e-6
            assert K[0, 1] == pytest.approx(float(exact[0]), rel=1e-14)
            assert K[0, 0] - K[0, 1] == pytest.approx(float(exact[1] - exact[0]), rel=1e-6)
            twin = _reference.kernel_matrix("ntk_relu", A, A, depth=3, bias_var=bias_var)
            assert K[0, 1] == pytest.approx(twin[0, 1], rel=1e-14)


@pytest.mark.parametrize("kernel", ["nngp_relu", "ntk_relu", "nngp_erf", "ntk_erf"])
def test_a_zero_input_matches_the_twin(kernel):
    # With bias_var = 0 a zero input has zero variance in every layer: the twin took arccos(0 / 0).
    A = np.array([[0.0, 0.0], [1.0, -2.0], [0.5, 0.25]])
    space = ib.KernelSpace(kernel, depth=2)
    K = ib.kernel_matrix(space, A, A)
    twin = _reference.kernel_matrix(kernel, A, A, depth=2)
    assert np.isfinite(twin).all()
    np.testing.assert_allclose(K, twin, rtol=1e-13, atol=1e-300)
