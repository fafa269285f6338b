"""The ``inductive-bias`` command.

    inductive-bias                       the full report on the built-in digits task
    inductive-bias report [--data FILE]  the same report on user data (.npz, .npy + --labels, .csv)
    inductive-bias difficulty ...        the task-difficulty bound, from parameters or from data
    inductive-bias bench [--full]        the benchmark suite (from a source checkout)

A user's mistake (missing file, wrong keys, mismatched labels, a GPU where none is) ends with one
line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Callable, NoReturn

import numpy as np

from . import __version__

DEFAULT_SPACES = ("rbf", "nngp")


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


def _number_where(accepts: Callable[[float], bool], requirement: str):
    """An argparse type: a float that ``accepts``, else the ``requirement`` in the error (NaN fails)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"{requirement}, got {text}")
        return value

    return parse


_positive_float = _number_where(lambda v: v > 0 and math.isfinite(v), "expected a positive number")
_fraction = _number_where(lambda v: 0 < v < 1, "must be in (0, 1)")  # --test-fraction
_error_rate = _number_where(lambda v: 0 < v <= 1, "must be a classification error in (0, 1]")  # --difficulty-error


class _UsageError(Exception):
    """A command-line mistake argparse found; main() prints it as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as the command's others: one line naming the flag, exit code 2."""

    def error(self, message: str) -> NoReturn:
        # argparse writes "argument --flag: what"; the command writes "--flag: what".
        raise _UsageError(message.removeprefix("argument "))


def _add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="user data: .npz (X_train, y_train, X_test, y_test or X, y), .npy, .csv")
    parser.add_argument("--labels", help="labels (.npy) for a .npy feature file (only with a .npy)")
    parser.add_argument("--label-column", help="the label column of a .csv (default: the last; only with a .csv)")
    parser.add_argument(
        "--test-fraction",
        type=_fraction,
        help="test share when splitting data given as one set (.npz with X, y; .npy; .csv), in (0, 1) (0.44, as "
        "the digits task); refused for data already split (the digits, an .npz with X_train, ..., y_test)",
    )
    parser.add_argument(
        "--error",
        type=_positive_float,
        action="append",
        help="target test MSE (repeatable; default: three errors below the smallest exact mean)",
    )
    parser.add_argument(
        "--space",
        action="append",
        help="hypothesis space (repeatable): rbf, laplacian, matern32, matern52, linear, polynomial, "
        "nngp, nngp-<depth>, ntk, ntk-<depth> (ReLU networks trained by gradient descent, infinite width), "
        "rf-<width>; default rbf and nngp",
    )
    parser.add_argument("--n-hypotheses", type=_integer_at_least(10), default=10_000)
    parser.add_argument("--n-boot", type=_integer_at_least(0), default=200)
    parser.add_argument("--seed", type=_integer_at_least(0), default=0)
    parser.add_argument(
        "--difficulty-error",
        type=_error_rate,
        default=0.01,
        help="classification error for the task-difficulty bound (0.01)",
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--json", help="write the report (table, parameters, versions, timings) as JSON")
    parser.add_argument(
        "--plot", help="write the figure (losses, tail, bits vs error); the suffix picks the format (.png, .pdf, .svg)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    # No abbreviations: the top-level report options (--n-hypotheses) would swallow `difficulty --n`.
    parser = _Parser(
        prog="inductive-bias",
        description=__doc__,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_report_arguments(parser)
    commands = parser.add_subparsers(dest="command")
    report = commands.add_parser("report", help="the report on the built-in task or on --data", allow_abbrev=False)
    _add_report_arguments(report)
    difficulty = commands.add_parser(
        "difficulty",
        help="the task-difficulty bound in bits",
        description="The task-difficulty bound in bits, from --n, --m, --R, --delta and --classes, or from --data: "
        "what is not given is estimated from the data (n, classes: counted; m: intrinsic dimension, rounded; R: "
        "radius; delta: class separation), and a value given beside --data replaces its estimate.",
        allow_abbrev=False,
    )
    difficulty.add_argument(
        "--data", help="estimate what is not given of n, m, R, delta, classes from data (.npz, .npy + --labels, .csv)"
    )
    difficulty.add_argument("--labels", help="labels (.npy) for a .npy feature file (only with a .npy)")
    difficulty.add_argument("--label-column", help="the label column of a .csv (default: the last; only with a .csv)")
    difficulty.add_argument("--n", type=_positive_float, help="training set size (with --data: replaces the count)")
    difficulty.add_argument(
        "--m", type=_positive_float, help="intrinsic dimension of the data (with --data: replaces the estimate)"
    )
    difficulty.add_argument(
        "--R",
        type=_positive_float,
        help="radius of the data (largest distance to the centre; with --data: replaces the estimate)",
    )
    difficulty.add_argument(
        "--delta",
        type=_positive_float,
        help="class separation (smallest distance between points of different classes; with --data: replaces "
        "the estimate)",
    )
    difficulty.add_argument(
        "--classes", type=_integer_at_least(2), help="number of classes (with --data: replaces the count)"
    )
    difficulty.add_argument("--error", type=_error_rate, default=0.01, help="target classification error (0.01)")
    difficulty.add_argument("--json", help="write the bound and its inputs as JSON")
    difficulty.add_argument("--quiet", action="store_true", help="no progress bars")
    bench = commands.add_parser("bench", help="run the benchmark suite and write benchmarks/results/SUMMARY.md")
    bench.add_argument("--full", action="store_true", help="full sizes (slow) instead of quick mode")
    return parser


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(f"not serializable: {type(value).__name__}")


def parse_space(name: str):
    """``rbf`` / ``laplacian`` / ``matern32`` / ``matern52`` (median lengthscale), ``linear``,
    ``polynomial``, ``nngp`` or ``nngp-<depth>`` (ReLU NNGP), ``ntk`` or ``ntk-<depth>`` (trained wide ReLU
    networks), ``rf-<width>`` (random ReLU features)."""
    from .covariance import KERNELS, STATIONARY
    from .spaces import KernelSpace, RandomFeatureSpace, TrainedNetworkSpace

    if name in STATIONARY:
        return KernelSpace(name, lengthscale="median")
    if name in KERNELS and name != "nngp_relu":
        return KernelSpace(name)
    if name == "nngp" or name.startswith("nngp-"):
        depth = name.split("-", 1)[1] if "-" in name else "1"
        if depth.isdigit() and 1 <= int(depth) <= 1000:
            return KernelSpace("nngp_relu", depth=int(depth))
    if name == "ntk" or name.startswith("ntk-"):
        depth = name.split("-", 1)[1] if "-" in name else "1"
        if depth.isdigit() and 1 <= int(depth) <= 1000:
            return TrainedNetworkSpace(depth=int(depth))
    if name.startswith("rf-") and name[3:].isdigit() and 1 <= int(name[3:]) <= 10**6:
        return RandomFeatureSpace(int(name[3:]), depth=1)
    raise ValueError(
        f"--space: unknown space {name!r} ({', '.join(k for k in KERNELS if k != 'nngp_relu')}, "
        f"nngp, nngp-<depth>, ntk, ntk-<depth> with depth 1..1000, rf-<width> with width 1..10^6)"
    )


def compute_report(
    task,
    spaces=DEFAULT_SPACES,
    errors=None,
    n_hypotheses: int = 10_000,
    seed: int = 0,
    n_boot: int = 200,
    difficulty_error: float = 0.01,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """Everything the command prints and writes: the task's difficulty, then per space and error the
    exact bits (kernel spaces), the published sample-and-fit bits with its interval and the empirical
    fraction, all from one ``inductive_bias`` call per space (one posterior, one sampling, one fit)."""
    import platform
    import time

    import scipy

    from . import _backend
    from ._arrays import to_host
    from .estimators import task_difficulty
    from .pipeline import inductive_bias
    from .spaces import KernelSpace, TrainedNetworkSpace

    closed_form = (KernelSpace, TrainedNetworkSpace)
    parsed = {name: parse_space(name) for name in spaces}
    if errors is None and not any(isinstance(space, closed_form) for space in parsed.values()):
        raise ValueError("--error: give target errors when no kernel space is compared")
    if device == "cuda":
        _backend.require_cuda("--device cuda")
        import cupy

        X_train, X_test = cupy.asarray(task.X_train), cupy.asarray(task.X_test)
    else:
        X_train, X_test = task.X_train, task.X_test
    timings = {}
    begin = time.perf_counter()
    difficulty = task_difficulty(task.X_train, task.y_train, difficulty_error, progress=progress)
    timings["task_difficulty_s"] = time.perf_counter() - begin
    results = {}
    for name, space in parsed.items():
        method = "both" if isinstance(space, closed_form) else "sample"
        begin = time.perf_counter()
        results[name] = inductive_bias(
            space,
            X_train,
            task.y_train,
            X_test,
            task.y_test,
            None,
            method=method,
            n_hypotheses=n_hypotheses,
            seed=seed,
            n_boot=n_boot,
            progress=progress,
        )
        timings[f"{name}_s"] = time.perf_counter() - begin  # posterior, sampling, fit and bootstrap
    if errors is None:  # a few errors below the smallest exact mean test MSE
        smallest = min(r.distribution.mean() for r in results.values() if r.method == "exact")
        errors = [round(f * smallest, 6) for f in (0.95, 0.85, 0.75)]
    rows, samples, exact = [], {}, {}
    for name, result in results.items():
        read = result.at(np.asarray(errors, dtype=float))
        sampled = read.sampled if read.sampled is not None else read
        samples[name] = to_host(sampled.losses)
        if read.method == "exact":
            exact[name] = read.distribution
        fit = sampled.distribution
        for i, error in enumerate(errors):
            interval = (
                None if sampled.interval is None else (float(sampled.interval[i][0]), float(sampled.interval[i][1]))
            )
            row = {
                "space": name,
                "error": float(error),
                "sample_bits": float(sampled.bits[i]),
                "sample_interval": interval,
                "extrapolated": bool(sampled.extrapolated[i]),
                "empirical_fraction": float(sampled.empirical_fraction[i]),
                "fit": {"df": fit.df, "nc": fit.nc, "scale": fit.scale},
            }
            if read.method == "exact":
                row.update(
                    exact_bits=float(read.bits[i]), exact_method=str(read.evaluation[i]), exact_reason=read.reason
                )
            rows.append(row)
    return {
        "task": {
            "name": task.name,
            "n_train": len(task.X_train),
            "n_test": len(task.X_test),
            "features": task.X_train.shape[1],
            "classes": difficulty.classes,
        },
        "difficulty": {
            "error": difficulty_error,
            "n": difficulty.n,
            "m": difficulty.m,
            "m_estimate": difficulty.m_estimate,
            "R": difficulty.R,
            "delta": difficulty.delta,
            "bits": difficulty.bits,
            "log10_bits": difficulty.log10_bits,
        },
        "errors": [float(e) for e in errors],
        "rows": rows,
        "parameters": {
            "spaces": list(spaces),
            "n_hypotheses": n_hypotheses,
            "seed": seed,
            "n_boot": n_boot,
            "device": device,
        },
        "versions": {
            "inductive_bias": __version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "python": platform.python_version(),
            "build": _backend.build_info(),
        },
        "timings": timings,
        "_samples": samples,
        "_exact": exact,
    }


# The library's argument names -> the command's flags, per command (errors name what the user wrote).
_DATA_FLAGS = {
    "data": "--data",
    "labels": "--labels",
    "label_column": "--label-column",
    "test_fraction": "--test-fraction",
    "seed": "--seed",
}
_FLAGS = {
    "report": {**_DATA_FLAGS, "n_hypotheses": "--n-hypotheses", "n_boot": "--n-boot", "error": "--error"},
    "difficulty": {
        **_DATA_FLAGS,
        **{name: f"--{name}" for name in ("n", "m", "R", "delta", "classes", "error")},
    },
}


def _flagged(message: str, flags: dict) -> str:
    """``message`` with its leading argument names (``"R, delta: ..."``) turned into the command's flags
    when each of them is one."""
    names, colon, rest = message.partition(":")
    parts = names.split(", ")
    if colon and all(part in flags for part in parts):
        return ", ".join(flags[part] for part in parts) + colon + rest
    return message


def _load(args, test_fraction: float | None):
    """The task of --data (or the built-in digits); main() turns the argument names of its errors into
    the command's flags."""
    from .datasets import load_task

    return load_task(args.data, args.labels, test_fraction, getattr(args, "seed", 0), args.label_column)


def _check_outputs(args) -> None:
    """Refuse what would fail only after the whole computation: a --json or --plot path that is a folder,
    whose folder does not exist or cannot be written, --plot with a suffix matplotlib cannot write or
    without matplotlib."""
    import os

    for flag in ("json", "plot"):
        target = getattr(args, flag, None)
        if not target:
            continue
        path = Path(target)
        if path.is_dir():
            raise ValueError(f"--{flag}: {target} is a folder; give a file name")
        folder = path.resolve().parent
        if not folder.is_dir():
            raise ValueError(f"--{flag}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise ValueError(f"--{flag}: {target} cannot be written (permissions)")
    if getattr(args, "plot", None):
        import importlib.util

        if importlib.util.find_spec("matplotlib") is None:
            raise ValueError("--plot: needs matplotlib (pip install 'inductive-bias[plot]')")
        from matplotlib.backend_bases import FigureCanvasBase

        formats = FigureCanvasBase.get_supported_filetypes()
        suffix = Path(args.plot).suffix.lower().lstrip(".")
        if suffix not in formats:
            raise ValueError(
                f"--plot: {args.plot!r} has no suffix of a figure format matplotlib writes (.png, .pdf, .svg, ...)"
            )


def _write_json(path: str, content: dict) -> None:
    Path(path).write_text(json.dumps(content, indent=2, default=_json_default))
    print(f"wrote {path}")


def run_report(args) -> int:
    from ._arrays import check_fits
    from .report import format_report, plot_report

    _check_outputs(args)
    try:  # before the work: a count whose losses cannot fit (or that runs past 2^64 hypothesis indices)
        check_fits("--n-hypotheses", args.n_hypotheses, np)
    except MemoryError as error:
        raise ValueError(str(error)) from None
    task = _load(args, args.test_fraction)
    report = compute_report(
        task,
        spaces=tuple(args.space or DEFAULT_SPACES),
        errors=args.error,
        n_hypotheses=args.n_hypotheses,
        seed=args.seed,
        n_boot=args.n_boot,
        difficulty_error=args.difficulty_error,
        device=args.device,
        progress=not args.quiet,
    )
    print(format_report(report))
    if args.json:
        _write_json(args.json, {key: value for key, value in report.items() if not key.startswith("_")})
    if args.plot:
        plot_report(report, args.plot)
        print(f"wrote {args.plot}")
    return 0


def run_difficulty(args) -> int:
    from . import difficulty
    from .estimators import task_difficulty

    _check_outputs(args)
    names = ("n", "m", "R", "delta", "classes")
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if args.data:
        if len(given) == len(names):
            raise ValueError("--data: --n, --m, --R, --delta and --classes are all given; nothing is left to estimate")
        task = _load(args, None)
        X = np.concatenate([task.X_train, task.X_test])
        y = np.concatenate([task.y_train, task.y_test])
        # Only what is not given is estimated: a given --m or --delta skips its estimator.
        result = task_difficulty(
            X, y, args.error, m=given.get("m"), separation=given.get("delta", "exact"), progress=not args.quiet
        )
        inputs = {"n": result.n, "m": result.m, "R": result.R, "delta": result.delta, "classes": result.classes}
        inputs.update(given)
        shown = [
            f"{name} = {inputs[name]:{'.4g' if name in ('R', 'delta') else 'g'}}"
            + (" (given)" if name in given else f" (estimate {result.m_estimate:.2f})" if name == "m" else "")
            for name in names
        ]
        print(f"{task.name}: {', '.join(shown)}")
        inputs.update(m_estimate=None if "m" in given else result.m_estimate, given=sorted(given, key=names.index))
    else:
        for flag in ("labels", "label_column"):
            if getattr(args, flag) is not None:
                raise ValueError(f"--{flag.replace('_', '-')}: only with --data")
        missing = [name for name in names if name not in given]
        if missing:
            raise ValueError(f"--{missing[0]}: needed without --data (give --n, --m, --R, --delta, --classes)")
        inputs = dict(given)
    bound = difficulty.classification(
        inputs["n"], inputs["m"], inputs["R"], inputs["delta"], inputs["classes"], args.error
    )
    if args.json:
        _write_json(
            args.json,
            {
                "error": args.error,
                "inputs": inputs,
                "bits": bound.bits,
                "log10_bits": bound.log10_bits,
                "vacuous": bound.vacuous,
                "reason": bound.reason,
            },
        )
    if bound.vacuous:
        print(f"the bound is vacuous: {bound.reason}")
    elif math.isinf(bound.log10_bits):
        print(f"the bound is infinite: {bound.reason}")
    else:
        print(f"task difficulty at error {args.error:g}: {bound.bits:.4g} bits (log10 {bound.log10_bits:.3f})")
    return 0


def run_bench(args) -> int:
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "run_all.py"
    if not script.is_file():
        raise ValueError(
            "bench: the benchmarks ship with the source checkout, not the installed package; run "
            "python benchmarks/run_all.py there"
        )
    return subprocess.call([sys.executable, str(script)] + (["--full"] if args.full else []))


_COMMANDS = ("report", "difficulty", "bench")


def _options_after_command(argv: list[str]) -> list[str]:
    """Report options may come before ``report`` as after it; before another command they would be
    ignored, so they are refused."""
    position = next((i for i, a in enumerate(argv) if a in _COMMANDS), None)
    if not position:
        return argv
    command, before = argv[position], argv[:position]
    if command != "report":
        raise ValueError(f"{before[0]}: options before '{command}' would be ignored; write them after it")
    return [command, *before, *argv[position + 1 :]]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # One line per warning, like the errors: the library's source line means nothing to the user.
    print(f"inductive-bias: {category.__name__}: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        argv = _options_after_command(argv)
    except ValueError as error:
        print(f"inductive-bias: error: {error}", file=sys.stderr)
        return 2
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as error:
        print(f"inductive-bias: error: {error}", file=sys.stderr)
        return 2
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            if args.command == "difficulty":
                return run_difficulty(args)
            if args.command == "bench":
                return run_bench(args)
            return run_report(args)
        except (ValueError, TypeError, RuntimeError, OSError, ImportError, MemoryError) as error:
            message = _flagged(str(error), _FLAGS.get(args.command or "report", {}))
            print(f"inductive-bias: error: {message}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
