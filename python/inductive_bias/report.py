"""The end-to-end report behind the ``inductive-bias`` command: a task's difficulty and the inductive
bias of several hypothesis spaces at a few errors, exact beside the published sample-and-fit."""

from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__, _backend
from ._arrays import to_host
from .bias import bias_from_losses
from .estimators import task_difficulty
from .exact import exact_bias, training_and_test_targets
from .kernels import KernelSpace, posterior
from .spaces import RandomFeatureSpace, sample_losses

__all__ = ["Task", "load_task", "parse_space", "run_report", "format_report", "plot_report"]

DEFAULT_SPACES = ("rbf", "nngp")


@dataclass
class Task:
    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _split(X, y, test_fraction: float, seed: int, name: str) -> Task:
    if not 0 < test_fraction < 1:
        raise ValueError(f"--test-fraction: must be in (0, 1), got {test_fraction}")
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
        raise ValueError(f"--data: no such file: {data}")
    if path.suffix == ".npz":
        with np.load(path) as archive:
            keys = set(archive.files)
            if {"X_train", "y_train", "X_test", "y_test"} <= keys:
                return Task(path.name, archive["X_train"], archive["y_train"], archive["X_test"], archive["y_test"])
            if {"X", "y"} <= keys:
                return _split(archive["X"], archive["y"], test_fraction, seed, path.name)
            raise ValueError(f"--data: {path.name} has keys {sorted(keys)}; expected X_train, y_train, X_test, "
                             f"y_test or X, y")
    if path.suffix == ".npy":
        if labels is None:
            raise ValueError("--labels: a .npy feature file needs its labels as another .npy (--labels FILE)")
        if not Path(labels).is_file():
            raise ValueError(f"--labels: no such file: {labels}")
        X, y = np.load(path), np.load(labels)
        if len(X) != len(y):
            raise ValueError(f"--labels: {len(y)} labels for {len(X)} rows of {path.name}")
        return _split(X, y, test_fraction, seed, path.name)
    if path.suffix == ".csv":
        import csv

        with path.open(newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        column = header.index(label_column) if label_column in header else len(header) - 1
        if label_column is not None and label_column not in header:
            raise ValueError(f"--label-column: {label_column!r} is not a column of {path.name} ({header})")
        try:
            values = np.array([[float(v) for i, v in enumerate(r) if i != column] for r in body])
        except ValueError as error:
            raise ValueError(f"--data: {path.name} has a non-numeric feature ({error})") from None
        _, y = np.unique([r[column] for r in body], return_inverse=True)
        return _split(values, y, test_fraction, seed, path.name)
    raise ValueError(f"--data: unsupported file type {path.suffix!r} (use .npz, .npy or .csv)")


def parse_space(name: str):
    """``rbf`` / ``laplacian`` / ``matern32`` / ``matern52`` (median lengthscale), ``linear``,
    ``polynomial``, ``nngp`` or ``nngp-<depth>`` (ReLU NNGP), ``rf-<width>`` (random ReLU features)."""
    if name in ("rbf", "laplacian", "matern12", "matern32", "matern52"):
        return KernelSpace(name, lengthscale="median")
    if name in ("linear", "polynomial"):
        return KernelSpace(name)
    if name == "nngp" or name.startswith("nngp-"):
        depth = int(name.split("-")[1]) if "-" in name else 1
        return KernelSpace("nngp_relu", depth=depth)
    if name.startswith("rf-") and name[3:].isdigit():
        return RandomFeatureSpace(int(name[3:]), depth=1)
    raise ValueError(f"--space: unknown space {name!r} (rbf, laplacian, matern32, matern52, linear, polynomial, "
                     f"nngp, nngp-<depth>, rf-<width>)")


def run_report(task: Task, spaces=DEFAULT_SPACES, errors=None, n_hypotheses: int = 10_000, seed: int = 0,
               n_boot: int = 200, difficulty_error: float = 0.01, device: str = "cpu", progress: bool = True) -> dict:
    """Everything the command prints and writes: task difficulty, then per space and error the exact
    bits (kernel spaces), the published sample-and-fit bits with its interval, the empirical fraction."""
    if device == "cuda":
        _backend.require_cuda("--device cuda")
        import cupy

        X_train, X_test = cupy.asarray(task.X_train), cupy.asarray(task.X_test)
    else:
        X_train, X_test = task.X_train, task.X_test
    timings = {}
    begin = time.perf_counter()
    difficulty = task_difficulty(task.X_train, task.y_train, difficulty_error)
    timings["task_difficulty_s"] = time.perf_counter() - begin
    parsed = {name: parse_space(name) for name in spaces}
    targets_train, targets_test = training_and_test_targets(task.y_train, task.y_test, len(task.X_train),
                                                            len(task.X_test), np)
    exact = {}
    for name, space in parsed.items():
        if isinstance(space, KernelSpace):
            begin = time.perf_counter()
            exact[name] = posterior(space, task.X_train, targets_train, task.X_test).mse_distribution(targets_test)
            timings[f"{name}_posterior_s"] = time.perf_counter() - begin
    if errors is None:  # a few errors below the smallest exact mean test MSE
        means = [d.mean() for d in exact.values()]
        if not means:
            raise ValueError("--error: give target errors when no kernel space is compared")
        errors = [round(f * min(means), 6) for f in (0.95, 0.85, 0.75)]
    rows, samples = [], {}
    for name, space in parsed.items():
        begin = time.perf_counter()
        losses = sample_losses(space, X_train, task.y_train, X_test, task.y_test, n_hypotheses, seed=seed,
                               progress=progress)
        losses = to_host(losses)
        samples[name] = losses
        timings[f"{name}_sampling_s"] = time.perf_counter() - begin
        for error in errors:
            begin = time.perf_counter()
            fitted = bias_from_losses(losses, error, n_boot=n_boot, seed=seed)
            row = {"space": name, "error": error, "sample_bits": fitted.value, "sample_interval": fitted.interval,
                   "extrapolated": fitted.extrapolated, "empirical_fraction": fitted.empirical_fraction,
                   "fit": {"df": fitted.distribution.df, "nc": fitted.distribution.nc,
                           "scale": fitted.distribution.scale}}
            if name in exact:
                result = exact_bias(exact[name], error)
                row.update(exact_bits=result.bits, exact_method=result.method, exact_reason=result.reason)
            timings[f"{name}_{error}_s"] = time.perf_counter() - begin
            rows.append(row)
    import scipy

    return {
        "task": {"name": task.name, "n_train": len(task.X_train), "n_test": len(task.X_test),
                 "features": task.X_train.shape[1], "classes": difficulty.classes},
        "difficulty": {"error": difficulty_error, "n": difficulty.n, "m": difficulty.m,
                       "m_estimate": difficulty.m_estimate, "R": difficulty.R, "delta": difficulty.delta,
                       "bits": difficulty.bits, "log10_bits": difficulty.log10_bits},
        "errors": list(errors), "rows": rows,
        "parameters": {"spaces": list(spaces), "n_hypotheses": n_hypotheses, "seed": seed, "n_boot": n_boot,
                       "device": device},
        "versions": {"inductive_bias": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
                     "python": platform.python_version(), "build": _backend.build_info()},
        "timings": timings,
        "_samples": samples, "_exact": exact,
    }


def _fmt_bits(value) -> str:
    return "inf" if value is None or math.isinf(value) else f"{value:.2f}"


def format_report(report: dict) -> str:
    t, d = report["task"], report["difficulty"]
    lines = [f"task {t['name']}: {t['n_train']} train / {t['n_test']} test points, {t['features']} features, "
             f"{t['classes']} classes",
             f"task difficulty at error {d['error']:g}: {d['bits']:.4g} bits (log10 {d['log10_bits']:.2f}); "
             f"n = {d['n']}, m = {d['m']:g} (estimate {d['m_estimate']:.2f}), R = {d['R']:.4g}, "
             f"delta = {d['delta']:.4g}",
             "",
             f"{'space':<12}{'error':>10}{'exact bits':>14}{'sample-and-fit bits':>22}{'95% interval':>22}"
             f"{'sampled <= error':>18}"]
    for r in report["rows"]:
        interval = f"[{r['sample_interval'][0]:.2f}, {r['sample_interval'][1]:.2f}]" if r["sample_interval"] else "-"
        exact = _fmt_bits(r["exact_bits"]) if "exact_bits" in r else "-"
        mark = "*" if r["extrapolated"] else " "
        lines.append(f"{r['space']:<12}{r['error']:>10.5g}{exact:>14}{_fmt_bits(r['sample_bits']) + mark:>22}"
                     f"{interval:>22}{r['empirical_fraction']:>18.4g}")
    lines.append(f"* beyond the sampled losses: the fitted tail is extrapolated "
                 f"({report['parameters']['n_hypotheses']} hypotheses per space)")
    total = sum(report["timings"].values())
    lines.append(f"total {total:.1f} s")
    return "\n".join(lines)


def plot_report(report: dict, path: str) -> None:
    """The losses of the first space's sampled hypotheses with the fitted ncx2 density, the exact
    density and the target errors; log P against the error (fit vs exact); bits vs error per space."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError("--plot: needs matplotlib (pip install 'inductive-bias[plot]')") from None
    from .ncx2 import ScaledNCX2

    name = report["parameters"]["spaces"][0]
    losses = report["_samples"][name]
    rows = [r for r in report["rows"] if r["space"] == name]
    fit = ScaledNCX2(**rows[0]["fit"])
    exact = report["_exact"].get(name)
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4.2))
    left.hist(losses, bins=60, density=True, color="0.8", label=f"{len(losses)} sampled hypotheses")
    grid = np.linspace(min(losses.min(), min(report["errors"])) * 0.98, losses.max() * 1.02, 400)
    left.plot(grid, fit.pdf(grid), label="fitted scaled ncx2")
    if exact is not None:
        cdf = np.exp(exact.logcdf(grid))
        left.plot(grid[1:-1], (cdf[2:] - cdf[:-2]) / (grid[2:] - grid[:-2]), "--", label="exact (generalized chi2)")
    for error in report["errors"]:
        left.axvline(error, color="k", lw=0.8)
    left.set_xlabel("test MSE")
    left.set_ylabel("density")
    left.set_title(f"{name}: hypotheses' test losses")
    left.legend(fontsize=8)
    tail = np.linspace(min(report["errors"]) * 0.9, float(np.quantile(losses, 0.5)), 200)
    middle.plot(tail, fit.logcdf(tail) / math.log(2), label="fitted scaled ncx2")
    if exact is not None:
        middle.plot(tail, exact.logcdf(tail) / math.log(2), "--", label="exact")
    empirical = np.searchsorted(np.sort(losses), tail, side="right") / len(losses)
    middle.plot(tail[empirical > 0], np.log2(empirical[empirical > 0]), ":", label="empirical")
    middle.set_xlabel("target error")
    middle.set_ylabel("log2 P(loss <= error)")
    middle.set_title("left tail")
    middle.legend(fontsize=8)
    for space in report["parameters"]["spaces"]:
        chosen = [r for r in report["rows"] if r["space"] == space]
        x = [r["error"] for r in chosen]
        (line,) = right.plot(x, [r["sample_bits"] for r in chosen], marker="o", label=f"{space} (sample-and-fit)")
        if "exact_bits" in chosen[0]:
            right.plot(x, [r["exact_bits"] for r in chosen], "--", marker="s", color=line.get_color(),
                       label=f"{space} (exact)")
    right.set_yscale("symlog", linthresh=1.0)
    right.set_ylim(bottom=0)
    right.set_xlabel("target error")
    right.set_ylabel("inductive bias (bits)")
    right.set_title("bits vs error")
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
