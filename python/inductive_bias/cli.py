"""The `inductive-bias` command.

With no arguments it runs the built-in toy problem: a Gaussian-process (RBF kernel) hypothesis
space conditioned on a small two-class training set, whose random hypotheses are sampled on a test
set and summarized (test MSE and 0-1 error), beside the closed-form mean of the MSE.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import __version__, _backend
from .gaussian_losses import sample_gaussian_losses


def toy_problem(n_train: int = 40, n_test: int = 200, lengthscale: float = 0.5, seed: int = 0):
    """A two-class problem in the plane and the RBF-GP posterior on its test points.

    Returns (mean [t, 2], factor [t, t], labels [t]) with factor @ factor.T the posterior covariance.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n_train + n_test, 2))
    labels = (x[:, 1] > 0.5 * np.sin(3.0 * x[:, 0])).astype(np.int64)
    x_train, x_test = x[:n_train], x[n_train:]
    y_train = np.eye(2)[labels[:n_train]]

    def rbf(a, b):
        squared = np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :] - 2.0 * a @ b.T
        return np.exp(-np.maximum(squared, 0.0) / (2.0 * lengthscale**2))

    k_train = rbf(x_train, x_train) + 1e-10 * np.eye(n_train)
    chol = np.linalg.cholesky(k_train)
    v = np.linalg.solve(chol, rbf(x_train, x_test))           # L^-1 K(X, X*)
    mean = v.T @ np.linalg.solve(chol, y_train)               # K(X*, X) K^-1 Y
    covariance = rbf(x_test, x_test) - v.T @ v
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    factor = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    return mean, factor, labels[n_train:]


def _summary_row(name: str, losses: np.ndarray) -> str:
    q01, q50, q99 = np.quantile(losses, [0.01, 0.5, 0.99])
    return (f"{name:<10}{losses.mean():>10.4f}{losses.std():>10.4f}{losses.min():>10.4f}"
            f"{q01:>10.4f}{q50:>10.4f}{q99:>10.4f}{losses.max():>10.4f}")


def run_toy(args) -> int:
    mean, factor, labels = toy_problem(seed=args.seed)
    dtype = np.dtype(args.dtype)
    mean, factor = mean.astype(dtype), factor.astype(dtype)
    if args.device == "cuda":
        _backend.require_cuda("--device cuda")
        import cupy

        mean, factor, labels = cupy.asarray(mean), cupy.asarray(factor), cupy.asarray(labels)
    t, k = mean.shape
    print(f"inductive-bias {__version__}: toy RBF Gaussian-process space, {t} test points, {k} classes, "
          f"{args.n_hypotheses} hypotheses, seed {args.seed}, {args.dtype} on {args.device}")
    rows, elapsed = [], 0.0
    for loss in ("mse", "error"):
        begin = time.perf_counter()
        losses = sample_gaussian_losses(mean, factor, labels, args.n_hypotheses, seed=args.seed, loss=loss,
                                        progress=not args.quiet)
        losses = np.asarray(losses.get() if hasattr(losses, "get") else losses, dtype=np.float64)
        elapsed += time.perf_counter() - begin
        rows.append(_summary_row(loss, losses))
    header = f"{'loss':<10}" + "".join(f"{h:>10}" for h in ("mean", "std", "min", "q01", "median", "q99", "max"))
    print(header)
    print("\n".join(rows))
    host_mean, host_factor = (np.asarray(a.get() if hasattr(a, "get") else a, dtype=np.float64)
                              for a in (mean, factor))
    host_labels = np.asarray(labels.get() if hasattr(labels, "get") else labels)
    exact_mse = (np.sum((host_mean - np.eye(k)[host_labels]) ** 2) + k * np.sum(host_factor**2)) / (t * k)
    print(f"closed-form mean of the MSE: {exact_mse:.4f}")
    print(f"{2 * args.n_hypotheses / elapsed:,.0f} hypotheses/s ({elapsed:.2f} s)")
    return 0


def _integer_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inductive-bias",
        description="Sample random hypotheses of a Gaussian hypothesis space on the built-in toy problem "
                    "and summarize their test losses.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--n-hypotheses", type=_integer_at_least(1), default=100_000, help="hypotheses to sample (default 100000)")
    parser.add_argument("--seed", type=_integer_at_least(0), default=0, help="random seed (default 0)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run_toy(args)
    except (ValueError, TypeError, RuntimeError) as error:
        print(f"inductive-bias: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
