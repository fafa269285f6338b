"""Datasets: the built-in digits task and user files (.npz, .npy + labels, .csv), split into training
and test sets. Errors name the function's arguments (the command maps them to its flags)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Task", "load_task"]


@dataclass
class Task:
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


def load_task(data: str | None = None, labels: str | None = None, test_fraction: float = 0.44, seed: int = 0,
              label_column: str | None = None) -> Task:
    """The built-in digits task (scikit-learn's bundled digits, pixels / 16: 1000 train, 797 test) or
    user data: ``.npz`` with X_train, y_train, X_test, y_test (or X, y), ``.npy`` features with a
    ``labels`` ``.npy``, or ``.csv`` with a label column (``label_column``, default the last)."""
    if data is None:
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return _split(X / 16.0, y, 797 / 1797, seed, "digits")
    path = Path(data)
    if not path.is_file():
        raise ValueError(f"data: no such file: {data}")
    if path.suffix == ".npz":
        with np.load(path) as archive:
            keys = set(archive.files)
            if {"X_train", "y_train", "X_test", "y_test"} <= keys:
                return Task(path.name, archive["X_train"], archive["y_train"], archive["X_test"], archive["y_test"])
            if {"X", "y"} <= keys:
                return _split(archive["X"], archive["y"], test_fraction, seed, path.name)
            raise ValueError(f"data: {path.name} has keys {sorted(keys)}; expected X_train, y_train, X_test, "
                             f"y_test or X, y")
    if path.suffix == ".npy":
        if labels is None:
            raise ValueError("labels: a .npy feature file needs its labels as another .npy (labels=...)")
        if not Path(labels).is_file():
            raise ValueError(f"labels: no such file: {labels}")
        X, y = np.load(path), np.load(labels)
        if len(X) != len(y):
            raise ValueError(f"labels: {len(y)} labels for {len(X)} rows of {path.name}")
        return _split(X, y, test_fraction, seed, path.name)
    if path.suffix == ".csv":
        import csv

        with path.open(newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        column = header.index(label_column) if label_column in header else len(header) - 1
        if label_column is not None and label_column not in header:
            raise ValueError(f"label_column: {label_column!r} is not a column of {path.name} ({header})")
        try:
            values = np.array([[float(v) for i, v in enumerate(r) if i != column] for r in body])
        except ValueError as error:
            raise ValueError(f"data: {path.name} has a non-numeric feature ({error})") from None
        _, y = np.unique([r[column] for r in body], return_inverse=True)
        return _split(values, y, test_fraction, seed, path.name)
    raise ValueError(f"data: unsupported file type {path.suffix!r} (use .npz, .npy or .csv)")
