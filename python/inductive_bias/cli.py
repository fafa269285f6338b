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
from pathlib import Path

import numpy as np

from . import __version__


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


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="user data: .npz (X_train, y_train, X_test, y_test or X, y), .npy, .csv")
    parser.add_argument("--labels", help="labels (.npy) for a .npy feature file")
    parser.add_argument("--label-column", help="the label column of a .csv (default: the last)")
    parser.add_argument("--test-fraction", type=float, default=0.3, help="test share when splitting X, y (0.3)")
    parser.add_argument("--error", type=_positive_float, action="append",
                        help="target test MSE (repeatable; default: three errors below the smallest exact mean)")
    parser.add_argument("--space", action="append",
                        help="hypothesis space (repeatable): rbf, laplacian, matern32, matern52, linear, polynomial, "
                             "nngp, nngp-<depth>, rf-<width>; default rbf and nngp")
    parser.add_argument("--n-hypotheses", type=_integer_at_least(10), default=10_000)
    parser.add_argument("--n-boot", type=_integer_at_least(0), default=200)
    parser.add_argument("--seed", type=_integer_at_least(0), default=0)
    parser.add_argument("--difficulty-error", type=_positive_float, default=0.01,
                        help="classification error for the task-difficulty bound (0.01)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--json", help="write the report (table, parameters, versions, timings) as JSON")
    parser.add_argument("--plot", help="write the figure (losses, tail, bits vs error) as PNG")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    # No abbreviations: the top-level report options (--n-hypotheses) would swallow `difficulty --n`.
    parser = argparse.ArgumentParser(prog="inductive-bias", description=__doc__, allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_report_arguments(parser)
    commands = parser.add_subparsers(dest="command")
    report = commands.add_parser("report", help="the report on the built-in task or on --data", allow_abbrev=False)
    _add_report_arguments(report)
    difficulty = commands.add_parser("difficulty", help="the task-difficulty bound in bits", allow_abbrev=False)
    difficulty.add_argument("--data", help="estimate n, m, R, delta from data (.npz, .npy + --labels, .csv)")
    difficulty.add_argument("--labels")
    difficulty.add_argument("--label-column")
    for name in ("n", "m", "R", "delta"):
        difficulty.add_argument(f"--{name}", type=float)
    difficulty.add_argument("--classes", type=_integer_at_least(2))
    difficulty.add_argument("--error", type=_positive_float, default=0.01)
    bench = commands.add_parser("bench", help="run the benchmark suite and write benchmarks/results/SUMMARY.md")
    bench.add_argument("--full", action="store_true", help="full sizes (slow) instead of quick mode")
    return parser


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(f"not serializable: {type(value).__name__}")


def run_report(args) -> int:
    from .report import DEFAULT_SPACES, format_report, load_task, plot_report
    from .report import run_report as compute

    task = load_task(args.data, args.labels, args.test_fraction, args.seed, args.label_column)
    report = compute(task, spaces=tuple(args.space or DEFAULT_SPACES), errors=args.error,
                     n_hypotheses=args.n_hypotheses, seed=args.seed, n_boot=args.n_boot,
                     difficulty_error=args.difficulty_error, device=args.device, progress=not args.quiet)
    print(format_report(report))
    if args.json:
        public = {key: value for key, value in report.items() if not key.startswith("_")}
        Path(args.json).write_text(json.dumps(public, indent=2, default=_json_default))
        print(f"wrote {args.json}")
    if args.plot:
        plot_report(report, args.plot)
        print(f"wrote {args.plot}")
    return 0


def run_difficulty(args) -> int:
    from . import difficulty
    from .estimators import task_difficulty
    from .report import load_task

    if args.data:
        task = load_task(args.data, args.labels, 0.3, 0, args.label_column)
        X = np.concatenate([task.X_train, task.X_test])
        y = np.concatenate([task.y_train, task.y_test])
        result = task_difficulty(X, y, args.error)
        print(f"{task.name}: n = {result.n}, m = {result.m:g} (estimate {result.m_estimate:.2f}), R = {result.R:.4g}, "
              f"delta = {result.delta:.4g}, classes = {result.classes}")
        bound = result.bound
    else:
        missing = [name for name in ("n", "m", "R", "delta", "classes") if getattr(args, name) is None]
        if missing:
            raise ValueError(f"--{missing[0]}: needed without --data (give --n, --m, --R, --delta, --classes)")
        bound = difficulty.classification(args.n, args.m, args.R, args.delta, args.classes, args.error)
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
        raise ValueError("bench: the benchmarks ship with the source checkout, not the installed package; run "
                         "python benchmarks/run_all.py there")
    return subprocess.call([sys.executable, str(script)] + (["--full"] if args.full else []))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "difficulty":
            return run_difficulty(args)
        if args.command == "bench":
            return run_bench(args)
        return run_report(args)
    except (ValueError, TypeError, RuntimeError, OSError, ImportError) as error:
        print(f"inductive-bias: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
