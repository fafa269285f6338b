import json
import math
import subprocess
import sys

import numpy as np
import pytest

from inductive_bias import cli

pytest.importorskip("sklearn")


def run(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "inductive_bias.cli", *args], capture_output=True, text=True, timeout=600, **kwargs
    )


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    path = tmp_path_factory.mktemp("data") / "small.npz"
    np.savez(path, X_train=X[:150] / 16, y_train=y[:150], X_test=X[150:230] / 16, y_test=y[150:230])
    return path


def test_report_end_to_end_with_json_and_plot(small_npz, tmp_path, capsys):
    out_json, out_png = tmp_path / "report.json", tmp_path / "report.png"
    args = [
        "report",
        "--data",
        str(small_npz),
        "--space",
        "rbf",
        "--space",
        "nngp",
        "--n-hypotheses",
        "400",
        "--n-boot",
        "20",
        "--quiet",
        "--json",
        str(out_json),
    ]
    if __import__("importlib").util.find_spec("matplotlib"):
        args += ["--plot", str(out_png)]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "task difficulty at error 0.01" in printed and "exact bits" in printed
    report = json.loads(out_json.read_text())
    assert set(report) == {"task", "difficulty", "errors", "rows", "parameters", "versions", "timings"}
    assert report["task"] == {"name": "small.npz", "n_train": 150, "n_test": 80, "features": 64, "classes": 10}
    assert set(report["difficulty"]) == {"error", "n", "m", "m_estimate", "R", "delta", "bits", "log10_bits"}
    assert len(report["rows"]) == 2 * len(report["errors"]) == 6
    for row in report["rows"]:
        assert {"space", "error", "sample_bits", "sample_interval", "empirical_fraction", "exact_bits"} <= set(row)
        assert row["exact_bits"] >= 0 and math.isfinite(row["sample_bits"])
    if "--plot" in args:
        assert out_png.stat().st_size > 10_000


def test_report_on_random_features_needs_errors(small_npz, capsys):
    assert cli.main(["report", "--data", str(small_npz), "--space", "rf-200", "--n-hypotheses", "20", "--quiet"]) == 2
    assert "--error" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "report",
                "--data",
                str(small_npz),
                "--space",
                "rf-200",
                "--error",
                "0.05",
                "--n-hypotheses",
                "30",
                "--n-boot",
                "0",
                "--quiet",
            ]
        )
        == 0
    )


def test_csv_and_npy_inputs(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.integers(0, 2, 60)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    (tmp_path / "data.csv").write_text("a,b,c,label\n" + "\n".join(f"{r[0]},{r[1]},{r[2]},{c}" for r, c in zip(X, y)))
    assert cli.main(["difficulty", "--data", str(tmp_path / "data.csv")]) == 0
    assert cli.main(["difficulty", "--data", str(tmp_path / "X.npy"), "--labels", str(tmp_path / "y.npy")]) == 0
    assert "n = 60" in capsys.readouterr().out


def test_difficulty_from_parameters(capsys):
    assert (
        cli.main(
            [
                "difficulty",
                "--n",
                "60000",
                "--m",
                "14",
                "--R",
                "17.179045827183984",
                "--delta",
                "2.3987084824335305",
                "--classes",
                "10",
                "--error",
                "0.001",
            ]
        )
        == 0
    )
    assert "1.485e+16 bits" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--data", "missing.npz"], "no such file"),
        (["report", "--data", "{wrong_keys}"], "expected X_train"),
        (["report", "--data", "{npy}"], "--labels"),
        (["report", "--space", "transformer"], "unknown space"),
        (["difficulty", "--n", "10"], "--m"),
        (["report", "--n-hypotheses", "x"], "expected an integer"),
    ],
)
def test_user_errors_end_with_one_line(tmp_path, args, message):
    np.savez(tmp_path / "wrong.npz", features=np.zeros((3, 2)))
    np.save(tmp_path / "X.npy", np.zeros((3, 2)))
    args = [a.format(wrong_keys=tmp_path / "wrong.npz", npy=tmp_path / "X.npy") for a in args]
    result = run(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert message in result.stderr


def test_cuda_request_without_device_is_one_line(small_npz):
    import inductive_bias as ib

    if ib.cuda_available():
        pytest.skip("a CUDA device is present")
    result = run("report", "--data", str(small_npz), "--device", "cuda", "--quiet")
    assert result.returncode == 2 and "Traceback" not in result.stderr and "needs a CUDA device" in result.stderr


def test_options_work_before_report_and_are_refused_before_other_commands(small_npz, capsys):
    before = ["--data", str(small_npz), "--space", "rbf", "--n-hypotheses", "50", "--n-boot", "0", "--quiet"]
    assert cli.main(before + ["report"]) == 0
    assert "small.npz" in capsys.readouterr().out  # the user's data, not the built-in digits
    assert cli.main(["--data", str(small_npz), "difficulty", "--error", "0.01"]) == 2
    assert "--data: options before 'difficulty' would be ignored" in capsys.readouterr().err


def test_outputs_are_checked_before_the_work(small_npz, tmp_path, capsys):
    missing = tmp_path / "nowhere" / "report.json"
    assert cli.main(["report", "--data", str(small_npz), "--json", str(missing)]) == 2
    assert "--json: the folder" in capsys.readouterr().err
    assert cli.main(["report", "--space", "nngp-x"]) == 2
    assert "--space: unknown space 'nngp-x'" in capsys.readouterr().err


def test_difficulty_writes_json_and_documents_its_flags(tmp_path, capsys):
    out = tmp_path / "bound.json"
    assert (
        cli.main(
            [
                "difficulty",
                "--n",
                "60000",
                "--m",
                "14",
                "--R",
                "17.18",
                "--delta",
                "2.40",
                "--classes",
                "10",
                "--error",
                "0.001",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    saved = json.loads(out.read_text())
    assert saved["inputs"]["classes"] == 10 and saved["bits"] > 0 and not saved["vacuous"]
    with pytest.raises(SystemExit):
        cli.main(["difficulty", "--help"])
    text = capsys.readouterr().out
    assert "intrinsic dimension" in text and "class separation" in text and "radius" in text


def test_bad_files_end_with_one_line(tmp_path, capsys):
    rng = np.random.default_rng(0)
    cases = {}
    (tmp_path / "empty.csv").write_text("")
    cases["empty.csv"] = "needs a header row"
    np.savez(tmp_path / "lengths.npz", X=rng.normal(size=(10, 2)), y=np.arange(9) % 2)
    cases["lengths.npz"] = "differ in length"
    np.savez(tmp_path / "whole.npz", X=rng.normal(size=(10, 2)), y=np.arange(10) % 2)
    (tmp_path / "truncated.npz").write_bytes((tmp_path / "whole.npz").read_bytes()[:100])
    cases["truncated.npz"] = "cannot read truncated.npz"
    for name, message in cases.items():
        assert cli.main(["difficulty", "--data", str(tmp_path / name)]) == 2, name
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and err.count("\n") == 1, (name, err)
    assert cli.main(["report", "--space", "rf-99999999999", "--error", "0.1"]) == 2
    assert "--space: unknown space 'rf-99999999999'" in capsys.readouterr().err


def test_text_labels_in_npz_like_in_csv(tmp_path):
    from inductive_bias.datasets import load_task

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    np.savez(tmp_path / "text.npz", X=X, y=np.where(X[:, 0] > 0, "cat", "dog"))
    task = load_task(str(tmp_path / "text.npz"))
    assert set(np.concatenate([task.y_train, task.y_test])) == {0, 1}
