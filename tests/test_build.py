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
        assert "80" in info["cuda_architectures"] and "90" in info["cuda_architectures"]


@pytest.mark.skipif(os.environ.get("IB_EXPECT_CUDA") != "1", reason="only where CI built with IB_CUDA=ON")
def test_cuda_extension_was_built():
    assert ib.build_info()["cuda"] is True


def test_cuda_available_is_a_bool_and_consistent():
    available = ib.cuda_available()
    assert isinstance(available, bool)
    if available:
        assert ib.build_info()["cuda"]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_set_num_threads_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="n:"):
        ib.set_num_threads(bad)
