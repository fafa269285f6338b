import os

import pytest

import inductive_bias as ib


def test_build_info_reports_what_was_compiled():
    info = ib.build_info()
    assert info["version"] == ib.__version__
    assert isinstance(info["openmp"], bool)
    assert info["threads"] == ib.get_num_threads() >= 1
    assert isinstance(info["cuda"], bool)
    if info["cuda"]:
        assert info["cuda_runtime"] == "static"
        assert info["cuda_architectures"]  # 80-real,90-real,90-virtual by default; one card's on a device check


@pytest.mark.skipif(os.environ.get("IB_EXPECT_CUDA") != "1", reason="only where CI built with IB_CUDA=ON")
def test_cuda_extension_was_built():
    info = ib.build_info()
    assert info["cuda"] is True
    assert info["cuda_architectures"] == "80-real,90-real,90-virtual"  # the default: Ampere, Hopper, PTX


def test_cuda_available_is_a_bool_and_consistent():
    available = ib.cuda_available()
    assert isinstance(available, bool)
    assert (ib.cuda_status() == "") == available
    if available:
        assert ib.build_info()["cuda"]


def test_cuda_status_says_why_not():
    from inductive_bias import _backend

    if _backend.native_cuda is None:
        assert "not built" in ib.cuda_status()
        return
    count, message = _backend.native_cuda.device_status()
    assert count >= 0 and isinstance(message, str)
    if count == 0:  # e.g. "CUDA driver version is insufficient ...; driver supports CUDA 0.0, ..."
        assert message and "runtime" in message or message == "no CUDA device"
        if _backend.cupy_module() is not None:
            assert message in ib.cuda_status()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_set_num_threads_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="n:"):
        ib.set_num_threads(bad)
