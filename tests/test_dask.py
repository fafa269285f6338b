import os
import signal
import threading
import time

import numpy as np
import pytest

import inductive_bias as ib

distributed = pytest.importorskip("distributed")
threadpoolctl = pytest.importorskip("threadpoolctl")


@pytest.fixture(scope="module")
def data():
    from inductive_bias.datasets import load_task

    task = load_task()
    return task.X_train[:250], task.y_train[:250], task.X_test[:150], task.y_test[:150]


@pytest.fixture(scope="module")
def cluster():
    # Process workers on loopback, as a real cluster; Dask runs each worker's BLAS single-threaded.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


def single_process(*args, **kwargs):
    # The reference: one process, BLAS single-threaded like the workers (for random-feature spaces
    # near the interpolation threshold BLAS's thread count changes the rounding).
    with threadpoolctl.threadpool_limits(1):
        return ib.sample_losses(*args, progress=False, **kwargs)


@pytest.mark.parametrize("task_size", [64, 256, None])
def test_kernel_space_bitwise_identical(cluster, data, task_size):
    space = ib.KernelSpace("rbf", lengthscale="median")
    want = ib.sample_losses(space, *data, 2000, seed=4, progress=False)  # any BLAS threading
    got = ib.sample_losses(space, *data, 2000, seed=4, progress=False, client=cluster, task_size=task_size)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("task_size", [1, 3, 7])
def test_random_features_bitwise_identical(cluster, data, task_size):
    space = ib.RandomFeatureSpace(200)
    want = single_process(space, *data, 12, seed=1)
    got = ib.sample_losses(space, *data, 12, seed=1, progress=False, client=cluster, task_size=task_size)
    np.testing.assert_array_equal(got, want)


def test_one_worker_and_an_offset_range(data):
    space = ib.KernelSpace("matern52", lengthscale="median")
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as local,
        distributed.Client(local) as client,
    ):
        got = ib.sample_losses(space, *data, 300, seed=9, start=1000, progress=False, client=client, task_size=64)
    np.testing.assert_array_equal(got, ib.sample_losses(space, *data, 1300, seed=9, progress=False)[1000:])


def test_inductive_bias_sample_on_the_cluster(cluster, data):
    space = ib.KernelSpace("rbf", lengthscale="median")
    local = ib.inductive_bias(space, *data, 0.02, method="sample", n_hypotheses=1500, n_boot=0)
    remote = ib.inductive_bias(space, *data, 0.02, method="sample", n_hypotheses=1500, n_boot=0, client=cluster)
    assert remote.value == local.value


def test_a_killed_worker_changes_nothing(cluster, data):
    space = ib.RandomFeatureSpace(400)
    want = single_process(space, *data, 40, seed=3)
    pids = cluster.run(os.getpid)  # worker address -> process id
    result = {}
    runner = threading.Thread(
        target=lambda: result.update(
            losses=ib.sample_losses(space, *data, 40, seed=3, progress=False, client=cluster, task_size=1)
        )
    )
    runner.start()
    deadline = time.time() + 60
    while not any(cluster.processing().values()) and time.time() < deadline:
        time.sleep(0.02)
    os.kill(next(iter(pids.values())), signal.SIGKILL)  # one worker dies mid-run; its nanny restarts it
    runner.join(timeout=300)
    assert not runner.is_alive()
    np.testing.assert_array_equal(result["losses"], want)


def test_missing_extra_is_a_clear_error(monkeypatch, data):
    import builtins

    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name == "distributed":
            raise ImportError("no distributed")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    with pytest.raises(ImportError, match=r"pip install 'inductive-bias\[dask\]'"):
        ib.sample_losses(ib.RandomFeatureSpace(10), *data, 2, progress=False, client=object())


def test_client_must_be_a_dask_client(data):
    with pytest.raises(TypeError, match="client"):
        ib.sample_losses(ib.RandomFeatureSpace(10), *data, 2, progress=False, client=object())


def test_gpu_request_runs_on_cpu_workers_without_a_gpu(cluster, data):
    if ib.cuda_available():
        pytest.skip("this machine has a GPU")
    space = ib.RandomFeatureSpace(150)
    want = single_process(space, *data, 6, seed=2)
    got = ib.sample_losses(space, *data, 6, seed=2, progress=False, client=cluster, task_size=2, device="cuda")
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("task_size", [2, 4])
def test_conditional_draws_bitwise_identical(cluster, data, task_size):
    space = ib.RandomFeatureSpace(300)
    with threadpoolctl.threadpool_limits(1):  # BLAS single-threaded like the workers
        want = ib.conditional_distribution(space, *data, 5, seed=2, n_boot=0)
    got = ib.conditional_distribution(space, *data, 5, seed=2, n_boot=0, client=cluster, task_size=task_size)
    for a, b in zip(want.draws, got.draws):
        assert a.offset == b.offset
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.noncentralities, b.noncentralities)
