"""Datasets: the built-in digits task and user files, split into training and test sets.

User files are ``.npz``, ``.npy`` + labels, or ``.csv``. Errors name the function's arguments (the
command maps them to its flags).
"""

from __future__ import annotations

import numbers
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _validation

__all__ = ["Task", "load_task"]


@dataclass
class Task:
    """A classification task split into training and test sets, as :func:`load_task` returns it.

    Parameters
    ----------
    name : str
        Name of the task.
    X_train, y_train, X_test, y_test : numpy.ndarray
        The splits.

    Attributes
    ----------
    name : str
        ``"digits"``, or the name of the file the task was read from.
    X_train : numpy.ndarray, shape [n_train, d]
        Training features.
    y_train : numpy.ndarray, shape [n_train]
        Training labels.
    X_test : numpy.ndarray, shape [n_test, d]
        Test features.
    y_test : numpy.ndarray, shape [n_test]
        Test labels.

    Examples
    --------
    >>> import numpy as np
    >>> from inductive_bias.datasets import Task
    >>> task = Task("toy", np.zeros((3, 2)), np.array([0, 1, 0]), np.ones((1, 2)), np.array([1]))
    >>> task.name, task.X_train.shape, task.X_test.shape
    ('toy', (3, 2), (1, 2))
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


_DEFAULT_TEST_FRACTION = 0.44


def _split(X, y, test_fraction: float, seed, name: str) -> Task:
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = max(1, int(round(test_fraction * len(X))))
    if n_test >= len(X):
        raise ValueError(
            f"test_fraction: {test_fraction} of the {len(X)} points of {name} leaves no training point"
            if len(X) > 1
            else f"data: {name} has a single point; a training and a test set need at least two"
        )
    return Task(name, X[order[n_test:]], y[order[n_test:]], X[order[:n_test]], y[order[:n_test]])


def load_task(
    data: str | os.PathLike | None = None,
    labels: str | os.PathLike | None = None,
    test_fraction: float | None = None,
    seed: int | np.random.SeedSequence | np.random.Generator = 0,
    label_column: str | None = None,
) -> Task:
    """Load the built-in digits task or a task from a user's file, split into training and test sets.

    The built-in task is scikit-learn's bundled digits, pixels / 16: 1000 train, 797 test. User
    data: ``.npz`` with X_train, y_train, X_test, y_test (or X, y), ``.npy`` features with a
    ``labels`` ``.npy``, or ``.csv`` with a label column (``label_column``, default the last).
    Data given as one set (``X, y``) is split at random by ``seed``. An option that does not apply
    to the data (``labels`` beside a ``.npz`` or ``.csv``, ``label_column`` beside a non-``.csv``,
    ``test_fraction`` for data already split) is refused rather than ignored.

    Parameters
    ----------
    data : str or os.PathLike, optional
        Path of a ``.npz``, ``.npy`` or ``.csv`` file; ``None``: the digits task (needs
        scikit-learn).
    labels : str or os.PathLike, optional
        Path of the ``.npy`` labels of a ``.npy`` feature file (one label per row); only for a
        ``.npy`` feature file.
    test_fraction : float, optional
        Fraction of the points held out for testing, in ``(0, 1)`` (at least one point), for data
        given as one set (``.npz`` with X, y; ``.npy``; ``.csv``); default 0.44. Refused for data
        already split: the digits task (797 test points) and a ``.npz`` with X_train, ..., y_test.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seeds the random split (``numpy.random.default_rng``); an int must be ``>= 0``.
    label_column : str, optional
        Header of the label column of a ``.csv`` file (its first row is the header); default the
        last column. The labels are replaced by their indices in sorted order. Only for a ``.csv``.

    Returns
    -------
    Task
        The named training and test sets.

    Raises
    ------
    ValueError
        If ``data`` is not a file, has an unsupported suffix, cannot be read as its suffix says, or
        (``.npz``) lacks the expected arrays or holds labels that are not one per row, or (``.csv``)
        has a single column or a non-numeric feature; if ``labels`` is missing for a ``.npy`` file,
        is not a file, or does not hold one label per row; if ``label_column`` is not a column of
        the ``.csv`` file; if ``test_fraction`` is not in ``(0, 1)``, ``seed`` is negative, or an
        option does not apply to ``data`` (the message names the argument).
    TypeError
        If ``data`` or ``labels`` is not a path, ``label_column`` not a string, ``test_fraction``
        not a number or ``seed`` not an integer (or SeedSequence, Generator).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from inductive_bias import datasets
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     path = os.path.join(directory, "toy.npz")
    ...     np.savez(path, X=np.arange(20.0).reshape(10, 2), y=np.arange(10) % 2)
    ...     task = datasets.load_task(path, test_fraction=0.3, seed=0)
    >>> task.name, task.X_train.shape, task.X_test.shape
    ('toy.npz', (7, 2), (3, 2))
    """
    # Every argument by its name before any file is read.
    path = None if data is None else _path("data", data)
    labels_path = None if labels is None else _path("labels", labels)
    if label_column is not None and not isinstance(label_column, str):
        raise TypeError(f"label_column: expected the header of a column (str), got {type(label_column).__name__}")
    fraction = None if test_fraction is None else _fraction(test_fraction)
    if not isinstance(seed, (np.random.SeedSequence, np.random.Generator)):
        seed = _validation.integer("seed", seed, 0)
    suffix = None if path is None else path.suffix.lower()
    if labels_path is not None and suffix != ".npy":
        what = "the digits task has its labels" if path is None else f"{path.name} holds its labels"
        raise ValueError(f"labels: only for a .npy feature file ({what})")
    if label_column is not None and suffix != ".csv":
        what = "the digits task" if path is None else path.name
        raise ValueError(f"label_column: only for a .csv file, not for {what}")
    if path is None:
        if fraction is not None:
            raise ValueError("test_fraction: the digits task has a fixed split (797 test points)")
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return _split(X / 16.0, y, 797 / 1797, seed, "digits")
    fraction = _DEFAULT_TEST_FRACTION if fraction is None else fraction
    if path.is_dir():
        raise ValueError(f"data: {data} is a directory, not a file")
    if not path.is_file():
        raise ValueError(f"data: no such file: {data}")
    if suffix == ".npz":
        return _load_npz(path, test_fraction, fraction, seed)
    if suffix == ".npy":
        if labels_path is None:
            raise ValueError("labels: a .npy feature file needs its labels as another .npy (labels=...)")
        if labels_path.is_dir():
            raise ValueError(f"labels: {labels} is a directory, not a file")
        if not labels_path.is_file():
            raise ValueError(f"labels: no such file: {labels}")
        X = _features(_read_npy(path, "data"), "data", f"{path.name}")
        y = _read_npy(labels_path, "labels")
        if len(X) != len(y):
            raise ValueError(f"labels: {len(y)} labels for {len(X)} rows of {path.name}")
        return _split(X, _class_codes(y, "labels", labels_path.name), fraction, seed, path.name)
    if suffix == ".csv":
        return _load_csv(path, label_column, fraction, seed)
    raise ValueError(f"data: unsupported file type {path.suffix!r} (use .npz, .npy or .csv)")


def _path(name: str, value) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name}: expected a path (str or os.PathLike), got {type(value).__name__}")
    return Path(value)


def _fraction(value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"test_fraction: expected a number, got {type(value).__name__}")
    value = float(value)
    if not 0 < value < 1:  # NaN too
        raise ValueError(f"test_fraction: must be in (0, 1), got {value}")
    return value


def _load_npz(path: Path, given_fraction, fraction: float, seed) -> Task:
    name = path.name
    if not zipfile.is_zipfile(path):
        raise ValueError(f"data: cannot read {name} as .npz (not a zip archive: truncated, or not from numpy.savez)")
    try:
        # The file is opened here, so that it is closed whatever np.load raises.
        with path.open("rb") as f, np.load(f, allow_pickle=False) as archive:
            keys = set(archive.files)
            if {"X_train", "y_train", "X_test", "y_test"} <= keys:
                if given_fraction is not None:
                    raise ValueError(f"test_fraction: {name} is already split (X_train, y_train, X_test, y_test)")
                X_train, y_train, X_test, y_test = (archive[k] for k in ("X_train", "y_train", "X_test", "y_test"))
                X_train = _features(X_train, "data", f"X_train in {name}")
                X_test = _features(X_test, "data", f"X_test in {name}")
                if X_train.shape[1] != X_test.shape[1]:
                    raise ValueError(
                        f"data: X_train and X_test in {name} have {X_train.shape[1]} and {X_test.shape[1]} features"
                    )
                for key, y in (("y_train", y_train), ("y_test", y_test)):
                    _labels_shape(y, "data", f"{key} in {name}")
                classes = _class_codes(np.concatenate([y_train, y_test]), "data", name)
                y_train, y_test = classes[: len(y_train)], classes[len(y_train) :]
                _same_length(X_train, y_train, "data", f"{name}: X_train and y_train")
                _same_length(X_test, y_test, "data", f"{name}: X_test and y_test")
                return Task(name, X_train, y_train, X_test, y_test)
            if {"X", "y"} <= keys:
                X = _features(archive["X"], "data", f"X in {name}")
                y = _class_codes(archive["y"], "data", f"y in {name}")
                _same_length(X, y, "data", f"{name}: X and y")
                return _split(X, y, fraction, seed, name)
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:  # truncated, pickled objects
        if str(error).startswith(("data:", "test_fraction:")):
            raise
        raise ValueError(f"data: cannot read {name} as .npz ({error})") from None
    raise ValueError(f"data: {name} has keys {sorted(keys)}; expected X_train, y_train, X_test, y_test or X, y")


def _read_npy(path: Path, name: str) -> np.ndarray:
    try:
        with path.open("rb") as f:  # closed whatever np.load raises
            array = np.load(f, allow_pickle=False)
            if not isinstance(array, np.ndarray):  # an .npz archive under a .npy name
                raise ValueError("it is an .npz archive, not one array")
            return array
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{name}: cannot read {path.name} as .npy ({error})") from None


def _load_csv(path: Path, label_column: str | None, fraction: float, seed) -> Task:
    import csv

    name = path.name
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = [row for row in csv.reader(f) if row]
    except UnicodeDecodeError as error:
        raise ValueError(
            f"data: cannot read {name} as a text .csv (not UTF-8 text: {error.reason} at byte {error.start})"
        ) from None
    except csv.Error as error:  # NUL bytes
        raise ValueError(f"data: cannot read {name} as a .csv ({error})") from None
    if len(rows) < 2:
        raise ValueError(f"data: {name} needs a header row and at least one data row")
    header, body = rows[0], rows[1:]
    if len(header) < 2:
        used = next((d for d in (";", "\t", "|", " ") if d in header[0].strip()), None)
        hint = f"; its header {header[0]!r} seems separated by {used!r}" if used else f" (header {header[0]!r})"
        raise ValueError(
            f"data: {name} has a single column{hint}: a .csv needs feature columns and a label column "
            f"separated by commas"
        )
    if label_column is not None and label_column not in header:
        raise ValueError(f"label_column: {label_column!r} is not a column of {name} ({header})")
    column = header.index(label_column) if label_column is not None else len(header) - 1
    if any(len(r) != len(header) for r in body):
        raise ValueError(f"data: {name} has rows whose length differs from its header's ({len(header)})")
    try:
        values = np.array([[float(v) for i, v in enumerate(r) if i != column] for r in body])
    except ValueError as error:
        raise ValueError(f"data: {name} has a non-numeric feature ({error})") from None
    _, y = np.unique([r[column] for r in body], return_inverse=True)
    return _split(values, y, fraction, seed, name)


def _features(X: np.ndarray, name: str, what: str) -> np.ndarray:
    """Features [n, d] of real numbers."""
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name}: {what} has shape {X.shape}; expected features [n, d] with n, d >= 1")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name}: {what} holds values of dtype {X.dtype}; expected real numbers")
    return X


def _labels_shape(y: np.ndarray, name: str, what: str) -> None:
    if y.ndim != 1:
        raise ValueError(
            f"{name}: {what} has shape {y.shape}; expected one class label per row (shape [n], not one-hot)"
        )


def _class_codes(y: np.ndarray, name: str, what: str) -> np.ndarray:
    """Labels as class codes 0 .. C-1: integer labels as they are, other labels (text, floats that
    are labels) by their sorted distinct values, as for a .csv."""
    y = np.asarray(y)
    _labels_shape(y, name, what)
    if y.dtype.kind in "iu":
        return y
    if y.dtype.kind in "USOfb":
        return np.unique(y, return_inverse=True)[1]
    raise ValueError(f"{name}: the labels in {what} have dtype {y.dtype}, which is not understood")


def _same_length(X: np.ndarray, y: np.ndarray, name: str, what: str) -> None:
    if len(X) != len(y):
        raise ValueError(f"{name}: {what} differ in length ({len(X)} rows, {len(y)} labels)")
