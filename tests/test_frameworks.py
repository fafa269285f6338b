"""Framework-native in, framework-native out: PyTorch and JAX arrays (CPU here; the device check runs
the CUDA ones) come back in their own type from every function that returns arrays."""

import contextlib

import numpy as np
import pytest

import inductive_bias as ib

FRAMEWORKS = []
try:
    import torch

    FRAMEWORKS.append(pytest.param(torch.from_numpy, torch.Tensor, contextlib.nullcontext, id="torch"))
except ImportError:
    pass
try:
    import jax
    import jax.numpy as jnp

    def float64_scope():  # float64 in, float64 out, as with NumPy (JAX's default rounds to float32)
        # jax.enable_x64(True) from JAX 0.9 on, jax.experimental.enable_x64() before
        return jax.enable_x64(True) if hasattr(jax, "enable_x64") else jax.experimental.enable_x64()

    FRAMEWORKS.append(pytest.param(jnp.asarray, jax.Array, float64_scope, id="jax"))
except ImportError:
    pass

pytestmark = pytest.mark.skipif(not FRAMEWORKS, reason="needs PyTorch or JAX")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((40, 3)), rng.integers(0, 2, 40)


@pytest.mark.parametrize(("convert", "kind", "scope"), FRAMEWORKS)
def test_results_come_back_in_the_callers_type(data, convert, kind, scope):
    with scope():
        check_results_come_back_in_the_callers_type(data, convert, kind)


def check_results_come_back_in_the_callers_type(data, convert, kind):
    X, y = data
    Xf, yf = convert(X), convert(y)
    kernel = ib.KernelSpace("rbf", lengthscale=1.5)
    cases = {
        "sample_losses (kernel)": (
            ib.sample_losses(kernel, Xf[:30], yf[:30], Xf[30:], yf[30:], 8, seed=2),
            ib.sample_losses(kernel, X[:30], y[:30], X[30:], y[30:], 8, seed=2),
        ),
        "sample_losses (features)": (
            ib.sample_losses(ib.RandomFeatureSpace(32), Xf[:30], yf[:30], Xf[30:], yf[30:], 4, seed=2),
            ib.sample_losses(ib.RandomFeatureSpace(32), X[:30], y[:30], X[30:], y[30:], 4, seed=2),
        ),
        "kernel_matrix": (ib.kernel_matrix(kernel, Xf, Xf), ib.kernel_matrix(kernel, X, X)),
        "nearest_neighbors distances": (ib.nearest_neighbors(Xf, 3)[0], ib.nearest_neighbors(X, 3)[0]),
        "nearest_neighbors indices": (ib.nearest_neighbors(Xf, 3)[1], ib.nearest_neighbors(X, 3)[1]),
        "GeneralizedChi2.logcdf": (
            ib.GeneralizedChi2([1.0, 2.0]).logcdf(convert(np.array([1.0, 2.0]))),
            ib.GeneralizedChi2([1.0, 2.0]).logcdf(np.array([1.0, 2.0])),
        ),
        "ScaledNCX2.logcdf": (
            ib.ScaledNCX2(3, 1, 1).logcdf(convert(np.array([1.0, 2.0]))),
            ib.ScaledNCX2(3, 1, 1).logcdf(np.array([1.0, 2.0])),
        ),
    }
    for name, (got, expected) in cases.items():
        assert isinstance(got, kind), name
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12, err_msg=name)
    exact = ib.inductive_bias(kernel, Xf[:30], yf[:30], Xf[30:], yf[30:], [0.3, 0.2])
    np.testing.assert_allclose(
        exact.value, ib.inductive_bias(kernel, X[:30], y[:30], X[30:], y[30:], [0.3, 0.2]).value, rtol=1e-12
    )


@pytest.mark.gpu
def test_cuda_arrays_come_back_on_their_device(data):
    import cupy

    X, y = data
    kernel = ib.KernelSpace("rbf", lengthscale=1.5)
    Xg = cupy.asarray(X)
    losses = ib.sample_losses(kernel, Xg[:30], y[:30], Xg[30:], y[30:], 8, seed=2)
    assert isinstance(losses, cupy.ndarray)
    np.testing.assert_allclose(
        cupy.asnumpy(losses), ib.sample_losses(kernel, X[:30], y[:30], X[30:], y[30:], 8, seed=2), rtol=1e-10
    )
    assert isinstance(ib.GeneralizedChi2([1.0, 2.0]).logcdf(cupy.asarray([1.0, 2.0])), cupy.ndarray)
    try:
        import torch
    except ImportError:
        return
    if torch.cuda.is_available():
        Xt = torch.from_numpy(X).cuda()
        got = ib.kernel_matrix(kernel, Xt, Xt)
        assert isinstance(got, torch.Tensor) and got.is_cuda
        np.testing.assert_allclose(got.cpu().numpy(), ib.kernel_matrix(kernel, X, X), rtol=1e-12)


@pytest.mark.parametrize(("convert", "kind", "scope"), FRAMEWORKS)
def test_inductive_bias_keeps_the_callers_type_and_fits_in_float64(data, convert, kind, scope):
    with scope():
        check_inductive_bias_keeps_the_callers_type(data, convert, kind)


def check_inductive_bias_keeps_the_callers_type(data, convert, kind):
    X, y = data
    kernel = ib.KernelSpace("rbf", lengthscale=1.5)
    Xf = convert(X)
    both = ib.inductive_bias(
        kernel, Xf[:30], y[:30], Xf[30:], y[30:], [0.3, 0.2], method="both", n_hypotheses=50, n_boot=0, seed=1
    )
    assert isinstance(both.sampled.losses, kind)
    reference = ib.inductive_bias(
        kernel, X[:30], y[:30], X[30:], y[30:], [0.3, 0.2], method="both", n_hypotheses=50, n_boot=0, seed=1
    )
    np.testing.assert_allclose(both.sampled.value, reference.sampled.value, rtol=1e-12)
    error = convert(np.array(0.3))  # a 0-d array of the framework is a number
    assert ib.inductive_bias(kernel, X[:30], y[:30], X[30:], y[30:], error).value == pytest.approx(
        reference.value[0], rel=1e-12
    )


def test_jax_default_float32_inputs_are_fitted_in_float64(data):
    jnp = pytest.importorskip("jax.numpy")
    X, y = data
    space = ib.RandomFeatureSpace(32)
    result = ib.inductive_bias(
        space,
        jnp.asarray(X[:30]),
        y[:30],
        jnp.asarray(X[30:]),
        y[30:],
        0.3,
        method="sample",
        n_hypotheses=20,
        n_boot=0,
        seed=1,
    )
    assert result.losses.dtype == jnp.float32  # JAX's own choice for the returned array
    assert result.fit.samples.dtype == np.float64  # the fit saw the float64 losses
