import io
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import inductive_bias as ib
from inductive_bias import _reference


def problem(t=13, r=7, k=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(t, k)).astype(dtype)
    factor = (rng.normal(size=(t, r)) / np.sqrt(max(r, 1))).astype(dtype)
    labels = rng.integers(0, k, size=t)
    return mean, factor, labels


@pytest.mark.parametrize("loss", ["mse", "error"])
@pytest.mark.parametrize("targets_kind", ["labels", "one_hot", "real"])
def test_matches_twin_float64(loss, targets_kind):
    mean, factor, labels = problem()
    targets = {"labels": labels, "one_hot": np.eye(3)[labels], "real": np.random.default_rng(1).normal(size=(13, 3))}[
        targets_kind
    ]
    got = ib.sample_gaussian_losses(mean, factor, targets, 40, seed=5, loss=loss, start=11)
    want = _reference.gaussian_losses(mean, factor, targets, 40, seed=5, loss=loss, start=11)
    assert got.dtype == np.float64 and got.shape == (40,)
    # Same products up to summation order in BLAS: relative 1e-13 of a loss of order 1.
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


@pytest.mark.parametrize("loss", ["mse", "error"])
def test_float32_computed_in_float32(loss):
    mean, factor, labels = problem(t=40, r=30, k=4, seed=3)
    got = ib.sample_gaussian_losses(mean.astype(np.float32), factor.astype(np.float32), labels, 60, seed=1, loss=loss)
    want = _reference.gaussian_losses(mean.astype(np.float32), factor.astype(np.float32), labels, 60, seed=1, loss=loss)
    assert got.dtype == np.float32
    if loss == "mse":
        # float32 products of 30 terms: relative error ~1e-6.
        np.testing.assert_allclose(got, want, rtol=2e-5)
    else:
        # An argmax can flip where two outputs tie to float32 rounding; allow one point in 40 on a few.
        assert np.mean(np.abs(got - want) > 1e-6) < 0.1
        assert np.all(np.abs(got - want) <= 1 / 40 + 1e-6)


@given(n=st.integers(0, 60), batch_size=st.integers(1, 70), split=st.integers(0, 60), start=st.integers(0, 2**63))
def test_batch_and_split_invariance(n, batch_size, split, start):
    mean, factor, labels = problem(t=9, r=5, k=2, seed=7)
    split = min(split, n)
    whole = ib.sample_gaussian_losses(mean, factor, labels, n, seed=3, start=start)
    batched = ib.sample_gaussian_losses(mean, factor, labels, n, seed=3, start=start, batch_size=batch_size)
    parts = np.concatenate(
        [
            ib.sample_gaussian_losses(mean, factor, labels, split, seed=3, start=start, batch_size=batch_size),
            ib.sample_gaussian_losses(mean, factor, labels, n - split, seed=3, start=start + split),
        ]
    )
    # The normals are bitwise identical; BLAS may block a differently sized product differently.
    np.testing.assert_allclose(batched, whole, rtol=1e-14, atol=0)
    np.testing.assert_allclose(parts, whole, rtol=1e-14, atol=0)


def test_thread_count_independence():
    mean, factor, labels = problem(t=50, r=40, k=5, seed=2)
    before = ib.get_num_threads()
    try:
        runs = []
        for threads in (1, 2, 5):
            ib.set_num_threads(threads)
            runs.append(
                [
                    ib.sample_gaussian_losses(mean, factor, labels, 300, seed=8, loss=loss, batch_size=64)
                    for loss in ("mse", "error")
                ]
            )
    finally:
        ib.set_num_threads(before)
    for run in runs[1:]:
        for got, want in zip(run, runs[0]):
            np.testing.assert_array_equal(got, want)


def test_mse_moments_match_closed_form():
    # e = 1/(t k) sum_c |L z_c + d_c|^2 with d = mean - targets, S = L L^T:
    #   E[e] = (|D|_F^2 + k tr S) / (t k),  Var[e] = (2 k tr S^2 + 4 tr(D^T S D)) / (t k)^2.
    t, r, k = 30, 20, 4
    mean, factor, labels = problem(t, r, k, seed=12)
    d = mean - np.eye(k)[labels]
    s = factor @ factor.T
    expected_mean = (np.sum(d**2) + k * np.trace(s)) / (t * k)
    expected_var = (2 * k * np.trace(s @ s) + 4 * np.trace(d.T @ s @ d)) / (t * k) ** 2
    n = 40_000
    losses = ib.sample_gaussian_losses(mean, factor, labels, n, seed=2025)
    centered = losses - losses.mean()
    se_mean = np.sqrt(expected_var / n)
    se_var = np.sqrt((np.mean(centered**4) - losses.var() ** 2) / n)
    assert abs(losses.mean() - expected_mean) < 5 * se_mean
    assert abs(losses.var() - expected_var) < 5 * se_var


def test_zero_rank_factor_gives_the_mean_loss():
    mean, _, labels = problem()
    losses = ib.sample_gaussian_losses(mean, np.zeros((13, 0)), labels, 5)
    np.testing.assert_allclose(losses, np.mean((mean - np.eye(3)[labels]) ** 2), rtol=1e-15)


def test_accepts_dlpack_producers_and_returns_their_type():
    class Wrapped:  # a foreign array type that only speaks DLPack
        def __init__(self, array):
            self.array = array

        def __dlpack__(self, **kwargs):
            return self.array.__dlpack__(**kwargs)

        def __dlpack_device__(self):
            return self.array.__dlpack_device__()

    mean, factor, labels = problem()
    got = ib.sample_gaussian_losses(Wrapped(mean), Wrapped(factor), Wrapped(labels), 10, seed=4)
    np.testing.assert_array_equal(got, ib.sample_gaussian_losses(mean, factor, labels, 10, seed=4))


def test_torch_tensors_round_trip():
    torch = pytest.importorskip("torch")
    mean, factor, labels = problem()
    got = ib.sample_gaussian_losses(torch.from_numpy(mean), torch.from_numpy(factor), torch.from_numpy(labels), 10)
    assert isinstance(got, torch.Tensor)
    np.testing.assert_array_equal(got.numpy(), ib.sample_gaussian_losses(mean, factor, labels, 10))


def test_progress_bar_on_and_off(capsys, monkeypatch):
    mean, factor, labels = problem()
    ib.sample_gaussian_losses(mean, factor, labels, 10, batch_size=3)
    assert capsys.readouterr().err == ""
    # stderr is not a terminal here (captured, as in a log file): no bar even when asked for
    ib.sample_gaussian_losses(mean, factor, labels, 10, batch_size=3, progress=True)
    assert capsys.readouterr().err == ""
    calls = []
    ib.sample_gaussian_losses(
        mean, factor, labels, 10, batch_size=3, progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (10, 10) and [d for d, _ in calls] == sorted(d for d, _ in calls)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    ib.sample_gaussian_losses(mean, factor, labels, 10, batch_size=3, progress=True)
    assert "hypotheses:" in terminal.getvalue() and "hyp/s" in terminal.getvalue()  # tqdm's bar
    with pytest.raises(TypeError, match="progress"):
        ib.sample_gaussian_losses(mean, factor, labels, 10, progress="yes")


GOOD = problem()


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"mean": GOOD[0][0]}, ValueError, "mean: expected shape"),
        ({"mean": np.zeros((0, 3))}, ValueError, "mean: needs"),
        ({"factor": GOOD[1][:5]}, ValueError, "factor: expected shape"),
        ({"mean": GOOD[0].astype(int)}, TypeError, "mean: expected float"),
        ({"factor": GOOD[1].astype(np.float16)}, TypeError, "factor: expected float"),
        ({"mean": np.where(np.eye(13, 3) > 0, np.nan, GOOD[0])}, ValueError, "mean: contains NaN"),
        ({"factor": np.full((13, 7), np.inf)}, ValueError, "factor: contains NaN"),
        ({"targets": np.full((13, 3), np.nan)}, ValueError, "targets: contains NaN"),
        ({"targets": GOOD[2][:4]}, ValueError, "targets: expected 13 labels"),
        ({"targets": GOOD[2] + 3}, ValueError, r"targets: labels must lie in \[0, 3\)"),
        ({"targets": -GOOD[2] - 1}, ValueError, "targets: labels must lie"),
        ({"targets": GOOD[2].astype(float)}, TypeError, "targets: labels"),
        ({"targets": np.zeros((13, 4))}, ValueError, "targets: expected shape"),
        ({"targets": np.zeros((13, 3), dtype=int)}, TypeError, "targets: expected floating"),
        ({"n_hypotheses": -1}, ValueError, "n_hypotheses"),
        ({"n_hypotheses": 3.0}, TypeError, "n_hypotheses"),
        ({"loss": "mae"}, ValueError, "loss: expected one of"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"seed": -3}, ValueError, "seed"),
        ({"start": -1}, ValueError, "start"),
        ({"start": 2**64 - 5}, ValueError, "start"),
        ({"mean": "abc"}, ValueError, "mean: expected shape"),
    ],
)
def test_bad_input(change, error, match):
    args = {"mean": GOOD[0], "factor": GOOD[1], "targets": GOOD[2], "n_hypotheses": 10} | change
    with pytest.raises(error, match=match):
        ib.sample_gaussian_losses(**args)


def test_rejects_mixed_devices():
    cupy = pytest.importorskip("cupy")
    if not ib.cuda_available():
        pytest.skip("needs a CUDA device")
    mean, factor, labels = problem()
    with pytest.raises(TypeError, match="factor: must be on the same device"):
        ib.sample_gaussian_losses(cupy.asarray(mean), factor, cupy.asarray(labels), 3)


@pytest.mark.gpu
@pytest.mark.parametrize("loss", ["mse", "error"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gpu_matches_cpu(loss, dtype):
    import cupy

    mean, factor, labels = problem(t=300, r=200, k=10, seed=5, dtype=dtype)
    cpu = ib.sample_gaussian_losses(mean, factor, labels, 500, seed=6, loss=loss, start=17)
    gpu = ib.sample_gaussian_losses(
        cupy.asarray(mean), cupy.asarray(factor), cupy.asarray(labels), 500, seed=6, loss=loss, start=17, batch_size=77
    )
    assert isinstance(gpu, cupy.ndarray) and gpu.dtype == dtype
    if loss == "mse":
        np.testing.assert_allclose(gpu.get(), cpu, rtol=1e-12 if dtype == np.float64 else 1e-4)
    else:  # argmax ties at rounding level may differ on a rare point
        assert np.max(np.abs(gpu.get() - cpu)) <= 2 / 300 + 1e-6


@pytest.mark.gpu
def test_gpu_matches_twin():
    import cupy

    mean, factor, labels = problem()
    gpu = ib.sample_gaussian_losses(cupy.asarray(mean), cupy.asarray(factor), cupy.asarray(labels), 30, seed=2)
    np.testing.assert_allclose(gpu.get(), _reference.gaussian_losses(mean, factor, labels, 30, seed=2), rtol=1e-13)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gpu_losses_do_not_depend_on_the_split(dtype):
    import cupy

    # GPU products cover groups of 4096 hypotheses here: 20,000 span five, split anywhere.
    mean, factor, labels = (cupy.asarray(a) for a in problem(t=50, r=40, k=4, seed=2, dtype=dtype))
    whole = ib.sample_gaussian_losses(mean, factor, labels, 20_000, seed=4).get()
    for batch_size, pieces in (
        (4096, [(0, 20_000)]),
        (None, [(0, 12_345), (12_345, 7655)]),
        (9000, [(0, 7), (7, 19_993)]),
    ):
        parts = [
            ib.sample_gaussian_losses(mean, factor, labels, n, seed=4, start=s, batch_size=batch_size).get()
            for s, n in pieces
        ]
        np.testing.assert_array_equal(np.concatenate(parts), whole)  # the same bits, as on the CPU


@pytest.mark.gpu
def test_gpu_arrays_on_another_device():
    import cupy

    if cupy.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("needs two GPUs: arrays on GPU 1 while GPU 0 is current")
    mean, factor, labels = problem(t=30, r=20, k=3)
    with cupy.cuda.Device(1):
        args = [cupy.asarray(a) for a in (mean, factor, labels)]
    with cupy.cuda.Device(0):
        got = ib.sample_gaussian_losses(*args, 50, seed=3)
        assert got.device.id == 1
        np.testing.assert_allclose(got.get(), ib.sample_gaussian_losses(mean, factor, labels, 50, seed=3), rtol=1e-12)
        with pytest.raises(ValueError, match="factor: on GPU 0"):
            ib.sample_gaussian_losses(args[0], cupy.asarray(factor), args[2], 5)


def test_progress_callbacks_run_on_the_calling_thread():
    import threading

    mean, factor, labels = problem()
    threads = set()
    ib.sample_gaussian_losses(
        mean, factor, labels, 40, batch_size=3, progress=lambda done, total: threads.add(threading.current_thread())
    )
    assert threads == {threading.current_thread()}


def test_a_count_beyond_memory_is_refused_before_any_work():
    # Refused by name at once, before a batch list or a posterior sized by the count: these calls once
    # ran for minutes (2^50) or forever (2^63). The subprocess bounds a regression to a failure.
    import subprocess

    script = """
import numpy as np, inductive_bias as ib
rng = np.random.default_rng(0)
Xtr, Xte = rng.standard_normal((20, 3)), rng.standard_normal((15, 3))
ytr, yte = np.arange(20) % 3, np.arange(15) % 3
space = ib.KernelSpace("rbf", lengthscale=2.0)
post = ib.posterior(space, Xtr, ytr, Xte)
calls = {
    "sample_losses": lambda n: ib.sample_losses(space, Xtr, ytr, Xte, yte, n),
    "sample_gaussian_losses": lambda n: ib.sample_gaussian_losses(post.mean, post.factor(), yte, n),
    "inductive_bias": lambda n: ib.inductive_bias(space, Xtr, ytr, Xte, yte, 0.5, method="sample", n_hypotheses=n),
}
for name, call in calls.items():
    for n in (2**50, 2**63, 10**20):
        try:
            call(n)
        except MemoryError as error:
            assert str(error).startswith("n_hypotheses: "), (name, n, error)
        else:
            raise AssertionError((name, n))
print("refused")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "refused" in result.stdout, result.stderr
