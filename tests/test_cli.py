import subprocess
import sys

import numpy as np
import pytest

from inductive_bias import cli


def test_toy_problem_is_a_valid_gaussian_space():
    mean, factor, labels = cli.toy_problem()
    assert mean.shape == (200, 2) and factor.shape == (200, 200) and labels.shape == (200,)
    assert np.isfinite(mean).all() and np.isfinite(factor).all()
    assert set(np.unique(labels)) == {0, 1}


def test_main_prints_the_loss_summary(capsys):
    assert cli.main(["--n-hypotheses", "2000", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "toy RBF Gaussian-process space" in out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith(("mse", "error"))}
    sampled_mse = float(lines["mse"][0])
    exact = float(out.split("closed-form mean of the MSE:")[1].split()[0])
    assert abs(sampled_mse - exact) < 0.01  # 2000 samples, std 0.025: the mean is within 5e-4 * 20
    assert 0 <= float(lines["error"][0]) <= 1


def test_float32_and_seed_options(capsys):
    assert cli.main(["--n-hypotheses", "100", "--dtype", "float32", "--seed", "3", "--quiet"]) == 0
    assert "float32" in capsys.readouterr().out


def test_user_errors_give_one_line_and_exit_code_2():
    for args in (["--n-hypotheses", "0"], ["--n-hypotheses", "x"], ["--seed", "-1"], ["--dtype", "int8"]):
        result = subprocess.run([sys.executable, "-m", "inductive_bias.cli", *args], capture_output=True, text=True)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr
        assert "error" in result.stderr


def test_cuda_request_without_device_is_a_clear_error():
    import inductive_bias as ib

    if ib.cuda_available():
        pytest.skip("a CUDA device is present")
    result = subprocess.run([sys.executable, "-m", "inductive_bias.cli", "--device", "cuda", "--quiet"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "needs a CUDA device" in result.stderr
