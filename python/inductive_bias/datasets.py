"""Datasets: the built-in digits task and user files, split into training and test sets.

User files are ``.npz``, ``.npy`` + labels, or ``.csv``. Errors name the function's arguments (the
command maps them to its flags).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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


def _split(X, y, test_fraction: float, seed: int, name: str) -> Task:
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction: must be in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = max(1, int(round(test_fraction * len(X))))
    return Task(name, X[order[n_test:]], y[order[n_test:]], X[order[:n_test]], y[order[:n_test]])


def load_task(
    data: str | None = None,
    labels: str | None = None,
    test_fraction: float = 0.44,
    seed: int = 0,
    label_column: str | None = None,
) -> Task:
    """Load the built-in digits task or a task from a user's file, split into training and test sets.

    The built-in task is scikit-learn's bundled digits, pixels / 16: 1000 train, 797 test. User
    data: ``.npz`` with X_train, y_train, X_test, y_test (or X, y), ``.npy`` features with a
    ``labels`` ``.npy``, or ``.csv`` with a label column (``label_column``, default the last).
    Data given as one set (``X, y``) is split at random by ``seed``.

    Parameters
    ----------
    data : str, optional
        Path of a ``.npz``, ``.npy`` or ``.csv`` file; ``None``: the digits task (needs
        scikit-learn).
    labels : str, optional
        Path of the ``.npy`` labels of a ``.npy`` feature file (one label per row).
    test_fraction : float
        Fraction of the points held out for testing, in ``(0, 1)`` (at least one point), for data
        given as one set; the digits task always holds out 797 points.
    seed : int
        Seeds the random split (``numpy.random.default_rng``).
    label_column : str, optional
        Header of the label column of a ``.csv`` file (its first row is the header); default the
        last column. The labels are replaced by their indices in sorted order.

    Returns
    -------
    Task
        The named training and test sets.

    Raises
    ------
    ValueError
        If ``data`` is not a file, has an unsupported suffix, or (``.npz``) lacks the expected
        arrays or (``.csv``) has a non-numeric feature; if ``labels`` is missing for a ``.npy``
        file, is not a file, or does not hold one label per row; if ``label_column`` is not a
        column of the ``.csv`` file; or if ``test_fraction`` is not in ``(0, 1)``.

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
    if data is None:
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return _split(X / 16.0, y, 797 / 1797, seed, "digits")
    path = Path(data)
    if not path.is_file():
        raise ValueError(f"data: no such file: {data}")
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                keys = set(archive.files)
                if {"X_train", "y_train", "X_test", "y_test"} <= keys:
                    arrays = [archive[key] for key in ("X_train", "y_train", "X_test", "y_test")]
                    classes = _class_codes(np.concatenate([arrays[1], arrays[3]]), "data")
                    y_train, y_test = classes[: len(arrays[1])], classes[len(arrays[1]) :]
                    _same_length(arrays[0], y_train, "data", f"{path.name}: X_train and y_train")
                    _same_length(arrays[2], y_test, "data", f"{path.name}: X_test and y_test")
                    return Task(path.name, arrays[0], y_train, arrays[2], y_test)
                if {"X", "y"} <= keys:
                    X, y = archive["X"], _class_codes(archive["y"], "data")
                    _same_length(X, y, "data", f"{path.name}: X and y")
                    return _split(X, y, test_fraction, seed, path.name)
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:  # truncated, pickled objects
            if str(error).startswith("data:"):
                raise
            raise ValueError(f"data: cannot read {path.name} as .npz ({error})") from None
        raise ValueError(
            f"data: {path.name} has keys {sorted(keys)}; expected X_train, y_train, X_test, y_test or X, y"
        )
    if path.suffix == ".npy":
        if labels is None:
            raise ValueError("labels: a .npy feature file needs its labels as another .npy (labels=...)")
        if not Path(labels).is_file():
            raise ValueError(f"labels: no such file: {labels}")
        try:
            X, y = np.load(path, allow_pickle=False), np.load(labels, allow_pickle=False)
        except (OSError, EOFError, ValueError) as error:
            raise ValueError(f"data: cannot read {path.name} or {Path(labels).name} as .npy ({error})") from None
        if len(X) != len(y):
            raise ValueError(f"labels: {len(y)} labels for {len(X)} rows of {path.name}")
        return _split(X, _class_codes(y, "labels"), test_fraction, seed, path.name)
    if path.suffix == ".csv":
        import csv

        with path.open(newline="") as f:
            rows = [row for row in csv.reader(f) if row]
        if len(rows) < 2:
            raise ValueError(f"data: {path.name} needs a header row and at least one data row")
        header, body = rows[0], rows[1:]
        if label_column is not None and label_column not in header:
            raise ValueError(f"label_column: {label_column!r} is not a column of {path.name} ({header})")
        column = header.index(label_column) if label_column in header else len(header) - 1
        if any(len(r) != len(header) for r in body):
            raise ValueError(f"data: {path.name} has rows whose length differs from its header's ({len(header)})")
        try:
            values = np.array([[float(v) for i, v in enumerate(r) if i != column] for r in body])
        except ValueError as error:
            raise ValueError(f"data: {path.name} has a non-numeric feature ({error})") from None
        _, y = np.unique([r[column] for r in body], return_inverse=True)
        return _split(values, y, test_fraction, seed, path.name)
    raise ValueError(f"data: unsupported file type {path.suffix!r} (use .npz, .npy or .csv)")


def _class_codes(y: np.ndarray, name: str) -> np.ndarray:
    """Labels as class codes 0 .. C-1: integer labels as they are, other labels (text, floats that
    are labels) by their sorted distinct values, as for a .csv."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name}: labels must be one-dimensional, got shape {y.shape}")
    if y.dtype.kind in "iu":
        return y
    if y.dtype.kind in "USO" or y.dtype.kind == "f":
        return np.unique(y, return_inverse=True)[1]
    raise ValueError(f"{name}: labels of dtype {y.dtype} are not understood")


def _same_length(X: np.ndarray, y: np.ndarray, name: str, what: str) -> None:
    if len(X) != len(y):
        raise ValueError(f"{name}: {what} differ in length ({len(X)} rows, {len(y)} labels)")
