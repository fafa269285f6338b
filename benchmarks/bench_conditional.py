"""Random-feature networks: the conditionally exact estimator against sample-and-fit, in one run.

For each target error, how many feature draws (conditional) or sampled hypotheses (sample-and-fit)
give a 95 % interval of +-1 bit, and how many seconds that takes. Both run on the built-in digits
task (pixels / 16) with one hidden ReLU layer:

- conditional: ``conditional_distribution`` over D draws, the percentile bootstrap over draws;
- sample-and-fit: ``sample_losses`` of N hypotheses, the scaled-ncx2 fit's Poisson-bootstrap
  interval (which covers sampling noise only, not the ncx2 model's misfit), and beside it the
  model-free count of losses below the error (a binomial interval, when any sampled loss reaches it).

Errors are the pilot sample's 10 % and 1 % quantiles and 0.97 x its smallest loss (below every
sampled loss: the fit extrapolates there). Sizes for +-1 bit (95 %), from the measured run by the
delta method (a half-width of z sqrt(relative variance / size) / ln 2 bits):

- conditional: ``(z / ln 2)^2 (D / ESS - 1)`` draws, with ``ESS = (sum p_i)^2 / sum p_i^2`` of the
  per-draw conditional probabilities (their relative variance is ``D / ESS - 1``); unreliable when
  ESS < 10 (the variance of a heavy-tailed average is then underestimated), flagged in the table;
- count: ``(z / ln 2)^2 (1 - p) / p`` hypotheses, with ``p`` the conditional estimate (the count needs
  that many at the true ``p``, whether or not the pilot reached it); Rao-Blackwell makes the
  conditional figure the smaller one in expectation, per draw;
- fit: ``m h^2`` hypotheses from the fit's bootstrap half-width ``h`` at ``m`` hypotheses.

Seconds are sizes times the measured cost per draw / hypothesis. Those figures are scaled from the
measured run, and the JSON marks them so (``_timing.mark_extrapolated``); values, intervals and
costs are measured.

    python benchmarks/bench_conditional.py [--quick] [--threads 1] [--widths 600,2400]

Quick: 300 training and 200 test digits, widths 600 and 2400; full: 1000 / 797, width 2000 and 8000;
2000 hypotheses and 128 draws each. Times: 1 timed run each (both are loops whose per-draw cost is
the figure); threads pinned (--threads); see _timing.py.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import warnings
from pathlib import Path

import _timing  # before NumPy: without threadpoolctl it pins BLAS threads through the environment

# isort: split
import numpy as np

import inductive_bias as ib
from inductive_bias.conditional import read_conditional
from inductive_bias.datasets import load_task

RESULTS = Path(__file__).resolve().parent / "results"
STATISTIC = "median"
Z95 = 1.959963984540054


def needed(size: int, half_width: float) -> float:
    """The size whose 95 % interval is +-1 bit, from a half-width measured at ``size``."""
    return size * half_width**2 if math.isfinite(half_width) else math.inf


def delta_size(relative_variance: float) -> float:
    """The size whose 95 % interval of -log2 P is +-1 bit, for a per-sample relative variance of P."""
    return (Z95 / math.log(2)) ** 2 * relative_variance


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a subset of the task and a narrower network")
    parser.add_argument("--n-hypotheses", type=int, default=2000)
    parser.add_argument("--n-draws", type=int, default=128)
    parser.add_argument("--widths", type=str, help="comma-separated widths (default: 600,2400 quick; 2000,8000 full)")
    parser.add_argument("--json", type=Path)
    _timing.add_arguments(parser, repeat=1, warmup=0)
    args = parser.parse_args(argv)
    _timing.pin_threads(args.threads)
    task = load_task()
    n, t = (300, 200) if args.quick else (1000, 797)
    widths = [int(w) for w in (args.widths or ("600,2400" if args.quick else "2000,8000")).split(",")]
    data = task.X_train[:n], task.y_train[:n], task.X_test[:t], task.y_test[:t]
    warnings.simplefilter("ignore", ib.ReliabilityWarning)  # the table reports what they would say
    runs = [run_width(width, data, args) for width in widths]
    machine = f"{platform.machine()}, {ib.get_num_threads()} threads"
    out = args.json or RESULTS / "conditional.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "conditional",
                "mode": "quick" if args.quick else "full",
                "machine": machine,
                "task": {"n_train": n, "n_test": t, "depth": 1},
                "n_hypotheses": args.n_hypotheses,
                "n_draws": args.n_draws,
                "widths": runs,
                "timing": _timing.header(STATISTIC, args.repeat, args.warmup),
                "build": ib.build_info(),
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


def run_width(width, data, args):
    space = ib.RandomFeatureSpace(width, depth=1)
    n, t = data[0].shape[0], data[2].shape[0]

    sampling = _timing.measure(
        lambda: ib.sample_losses(space, *data, args.n_hypotheses, seed=1), repeat=args.repeat, warmup=args.warmup
    )
    losses = sampling.value
    errors = np.array([np.quantile(losses, 0.1), np.quantile(losses, 0.01), 0.97 * losses.min()])
    fitting = _timing.measure(
        lambda: ib.bias_from_losses(losses, errors, n_boot=200, seed=1), repeat=args.repeat, warmup=args.warmup
    )
    fit = fitting.value
    drawing = _timing.measure(
        lambda: ib.conditional_distribution(space, *data, args.n_draws, seed=2, n_boot=200),
        repeat=args.repeat,
        warmup=args.warmup,
    )
    reading = _timing.measure(
        lambda: read_conditional(drawing.value, errors, "bits"), repeat=args.repeat, warmup=args.warmup
    )
    conditional = reading.value
    per_hypothesis = (sampling.seconds(STATISTIC) + fitting.seconds(STATISTIC)) / args.n_hypotheses
    per_draw = (drawing.seconds(STATISTIC) + reading.seconds(STATISTIC)) / args.n_draws

    rows = []
    for i, error in enumerate(errors):
        fraction = float(np.mean(losses <= error))
        p = 2.0 ** -float(conditional.value[i])
        effective = float(conditional.effective_draws[i])
        fit_half = 0.5 * float(fit.interval[i, 1] - fit.interval[i, 0])
        row = {
            "error": float(error),
            "empirical_fraction": fraction,
            "count_bits": -math.log2(fraction) if fraction else math.inf,
            "conditional_bits": float(conditional.value[i]),
            "conditional_interval": [float(v) for v in conditional.interval[i]],
            "conditional_effective_draws": effective,
            "fit_bits": float(fit.value[i]),
            "fit_interval": [float(v) for v in fit.interval[i]],
            "fit_extrapolated": bool(fit.extrapolated[i]),
            "draws_for_1_bit": delta_size(args.n_draws / effective - 1) if effective else math.inf,
            "draws_for_1_bit_reliable": effective >= 10,
            "hypotheses_for_1_bit_fit": needed(args.n_hypotheses, fit_half),
            "hypotheses_for_1_bit_count": delta_size((1 - p) / p) if p > 0 else math.inf,
        }
        row["seconds_for_1_bit_conditional"] = row["draws_for_1_bit"] * per_draw
        row["seconds_for_1_bit_fit"] = row["hypotheses_for_1_bit_fit"] * per_hypothesis
        row["seconds_for_1_bit_count"] = row["hypotheses_for_1_bit_count"] * per_hypothesis
        _timing.mark_extrapolated(
            row,
            "sizes for +-1 bit from the measured run (delta method for the conditional average and the "
            "count, size * half_width^2 for the fit's bootstrap), seconds = size x measured cost per draw / hypothesis",
        )
        rows.append(row)

    print(
        f"random features width {width}, digits {n}/{t}: {args.n_hypotheses} hypotheses "
        f"({per_hypothesis * 1e3:.2f} ms each, sampling + fit), {args.n_draws} draws ({per_draw * 1e3:.2f} ms each); "
        f"{ib.get_num_threads()} threads; times: {_timing.describe(STATISTIC, args.repeat, args.warmup)}"
    )
    print(
        f"{'error':>9} {'count':>6} {'conditional (95 %)':>24} {'fit (95 %)':>24} "
        f"{'draws':>7} {'s':>7} {'hyp (fit)':>10} {'s':>7} {'hyp (count)':>11} {'s':>7}"
    )
    for r in rows:
        ci, fi = r["conditional_interval"], r["fit_interval"]
        mark = "*" if r["fit_extrapolated"] else " "
        weak = " " if r["draws_for_1_bit_reliable"] else "?"
        print(
            f"{r['error']:9.5f} {r['count_bits']:6.2f} {r['conditional_bits']:7.2f} [{ci[0]:6.2f}, {ci[1]:6.2f}] "
            f"{r['fit_bits']:6.2f}{mark}[{fi[0]:6.2f}, {fi[1]:6.2f}] {r['draws_for_1_bit']:6.0f}{weak} "
            f"{r['seconds_for_1_bit_conditional']:7.1f} {r['hypotheses_for_1_bit_fit']:10.0f} "
            f"{r['seconds_for_1_bit_fit']:7.1f} {r['hypotheses_for_1_bit_count']:11.0f} "
            f"{r['seconds_for_1_bit_count']:7.1f}"
        )
    print("  * below every sampled loss: the fit extrapolates, its interval covers sampling noise only")
    print("  ? fewer than 10 effective draws: the draws needed are underestimated")
    return {
        "width": width,
        "seconds_per_hypothesis": per_hypothesis,
        "seconds_per_draw": per_draw,
        "sampling_timing": sampling.record(),
        "fit_timing": fitting.record(),
        "draws_timing": drawing.record(),
        "reading_timing": reading.record(),
        "results": rows,
    }


if __name__ == "__main__":
    main()
