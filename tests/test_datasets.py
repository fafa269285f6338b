"""load_task: arguments checked by name before any file is read, options that do not apply refused,
unreadable files reported as such (naming `data`), files closed whatever goes wrong."""

import gc
import warnings

import numpy as np
import pytest

from inductive_bias.datasets import load_task


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(int)
    np.savez(tmp_path / "good.npz", X=X, y=y)
    np.savez(tmp_path / "split.npz", X_train=X[:20], y_train=y[:20], X_test=X[20:], y_test=y[20:])
    np.savez(tmp_path / "onehot.npz", X_train=X[:20], y_train=y[:20], X_test=X[20:], y_test=np.eye(2)[y[20:]])
    (tmp_path / "truncated.npz").write_bytes((tmp_path / "good.npz").read_bytes()[:100])
    (tmp_path / "notzip.npz").write_bytes(b"not a zip archive at all\n" * 8)
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    rows = "\n".join(f"{a};{b};{c}" for (a, b, _), c in zip(X, y))
    (tmp_path / "semicolon.csv").write_text("a;b;label\n" + rows)
    (tmp_path / "column.csv").write_text("x\n" + "\n".join(str(v) for v in X[:, 0]))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    return tmp_path


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(seed=-1), ValueError, "^seed: "),
        (dict(seed=1.5), TypeError, "^seed: "),
        (dict(test_fraction=0), ValueError, r"^test_fraction: must be in \(0, 1\)"),
        (dict(test_fraction=1), ValueError, "^test_fraction: "),
        (dict(test_fraction=float("nan")), ValueError, "^test_fraction: "),
        (dict(test_fraction="0.3"), TypeError, "^test_fraction: "),
        (dict(label_column=3), TypeError, "^label_column: "),
    ],
)
def test_arguments_are_checked_by_name_before_reading(files, kwargs, error, message):
    with pytest.raises(error, match=message):
        load_task(str(files / "good.npz"), **kwargs)
    with pytest.raises(error, match=message):  # the file is not even opened
        load_task(str(files / "missing.npz"), **kwargs)


def test_data_must_be_a_path():
    with pytest.raises(TypeError, match="^data: expected a path"):
        load_task(5)
    with pytest.raises(TypeError, match="^labels: expected a path"):
        load_task("x.npy", labels=5)


def test_options_that_do_not_apply_are_refused(files):
    with pytest.raises(ValueError, match="^labels: only for a .npy"):
        load_task(str(files / "good.npz"), labels=str(files / "y.npy"))
    with pytest.raises(ValueError, match="^label_column: only for a .csv"):
        load_task(str(files / "good.npz"), label_column="label")
    with pytest.raises(ValueError, match="^test_fraction: split.npz is already split"):
        load_task(str(files / "split.npz"), test_fraction=0.3)
    with pytest.raises(ValueError, match="^test_fraction: the digits task has a fixed split"):
        load_task(test_fraction=0.3)
    # Not given, it applies where it can: a split of data given as one set, none for a split file.
    assert len(load_task(str(files / "good.npz")).X_test) == round(0.44 * 30)
    assert len(load_task(str(files / "split.npz")).X_test) == 10


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("binary.csv", r"^data: cannot read binary.csv as a text .csv \(not UTF-8"),
        ("semicolon.csv", "^data: semicolon.csv has a single column; its header 'a;b;label' seems separated by ';'"),
        ("column.csv", "^data: column.csv has a single column"),
        ("onehot.npz", r"^data: y_test in onehot.npz has shape \(10, 2\); expected one class label per row"),
        ("notzip.npz", r"^data: cannot read notzip.npz as .npz \(not a zip archive"),
        ("truncated.npz", "^data: cannot read truncated.npz as .npz"),
        (".", "^data: .* is a directory, not a file"),
    ],
)
def test_unreadable_files_name_data_and_say_why(files, name, message):
    with pytest.raises(ValueError, match=message):
        load_task(str(files / name))


def test_a_file_that_fails_to_load_is_closed(files):
    for name in ("truncated.npz", "notzip.npz"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ValueError):
                load_task(str(files / name))
            gc.collect()
        assert not [w for w in caught if issubclass(w.category, ResourceWarning)], name
