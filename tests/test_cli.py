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


@pytest.fixture
def user_files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    np.savez(tmp_path / "good.npz", X=X, y=y)
    np.savez(tmp_path / "split.npz", X_train=X[:30], y_train=y[:30], X_test=X[30:], y_test=y[30:])
    np.savez(tmp_path / "onehot.npz", X_train=X[:30], y_train=y[:30], X_test=X[30:], y_test=np.eye(2)[y[30:]])
    (tmp_path / "notzip.npz").write_bytes(b"not a zip archive at all\n" * 8)
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    rows = "\n".join(f"{a};{b};{c}" for (a, b, _), c in zip(X, y))
    (tmp_path / "semicolon.csv").write_text("a;b;label\n" + rows)
    np.save(tmp_path / "y.npy", y)
    return tmp_path


def test_difficulty_values_given_with_data_replace_the_estimates(user_files, tmp_path, capsys):
    from inductive_bias import difficulty

    data = str(user_files / "good.npz")
    assert cli.main(["difficulty", "--data", data, "--quiet"]) == 0
    estimated = capsys.readouterr().out
    assert "m = 2 (given)" not in estimated and "(estimate " in estimated
    out = tmp_path / "given.json"
    assert cli.main(["difficulty", "--data", data, "--m", "2", "--n", "5", "--quiet", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "n = 5 (given)" in printed and "m = 2 (given)" in printed
    saved = json.loads(out.read_text())
    inputs = saved["inputs"]
    assert inputs["given"] == ["n", "m"] and inputs["n"] == 5 and inputs["m"] == 2 and inputs["m_estimate"] is None
    want = difficulty.classification(5, 2, inputs["R"], inputs["delta"], inputs["classes"], 0.01)
    assert saved["bits"] == want.bits
    everything = ["--n", "5", "--m", "2", "--R", "1", "--delta", "0.1", "--classes", "2"]
    assert cli.main(["difficulty", "--data", data, *everything]) == 2
    assert "--data: --n, --m, --R, --delta and --classes are all given" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--data", "{good.npz}", "--label-column", "x"], "--label-column: only for a .csv"),
        (["report", "--data", "{good.npz}", "--labels", "{y.npy}"], "--labels: only for a .npy"),
        (["report", "--data", "{split.npz}", "--test-fraction", "0.2"], "--test-fraction: split.npz is already split"),
        (["report", "--test-fraction", "0.2"], "--test-fraction: the digits task has a fixed split"),
        (["difficulty", "--data", "{good.npz}", "--labels", "{y.npy}"], "--labels: only for a .npy"),
        (["difficulty", "--labels", "{y.npy}", "--n", "9"], "--labels: only with --data"),
        (["report", "--data", "{good.npz}", "--test-fraction", "0"], "--test-fraction: must be in (0, 1)"),
        (["report", "--data", "{good.npz}", "--test-fraction", "1"], "--test-fraction: must be in (0, 1)"),
        (["report", "--data", "{good.npz}", "--test-fraction", "-0.5"], "--test-fraction: must be in (0, 1)"),
        (["report", "--data", "{good.npz}", "--test-fraction", "nan"], "--test-fraction: must be in (0, 1)"),
        (["report", "--data", "{binary.csv}"], "--data: cannot read binary.csv as a text .csv (not UTF-8"),
        (["report", "--data", "{onehot.npz}"], "--data: y_test in onehot.npz has shape (10, 2)"),
        (["report", "--data", "{notzip.npz}"], "--data: cannot read notzip.npz as .npz (not a zip archive"),
        (["report", "--data", "{semicolon.csv}"], "--data: semicolon.csv has a single column; its header 'a;b;label'"),
        (["report", "--data", "{.}"], "is a directory, not a file"),
        (["report", "--difficulty-error", "2"], "--difficulty-error: must be a classification error in (0, 1]"),
        (["difficulty", "--data", "{good.npz}", "--error", "0"], "--error: must be a classification error in (0, 1]"),
        (["difficulty", "--n", "0.5", "--m", "2", "--R", "1", "--delta", "0.1", "--classes", "2"], "--n: must be"),
        (["report", "--n-hypotheses", "99999999999999999999"], "--n-hypotheses: 99999999999999999999 values need"),
    ],
)
def test_user_errors_name_the_flag_in_one_line(user_files, capsys, args, message):
    args = [str(user_files / a[1:-1]) if a.startswith("{") else a for a in args]
    assert cli.main([*args, "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("inductive-bias: error: ") and captured.err.count("\n") == 1, captured.err
    assert message in captured.err and not captured.out


@pytest.mark.parametrize(
    ("flag", "target", "message"),
    [("--json", "{folder}", "is a folder"), ("--plot", "{folder}/figure.txt", "has no suffix of a figure format")],
)
def test_unusable_outputs_are_refused_before_the_work(user_files, capsys, flag, target, message):
    if flag == "--plot":
        pytest.importorskip("matplotlib")
    quick = ["--space", "rbf", "--n-hypotheses", "10", "--n-boot", "0", "--quiet"]
    target = target.format(folder=user_files)
    assert cli.main(["report", "--data", str(user_files / "split.npz"), *quick, flag, target]) == 2
    captured = capsys.readouterr()
    assert f"inductive-bias: error: {flag}: " in captured.err and message in captured.err
    assert not captured.out  # no report was computed
