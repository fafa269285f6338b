"""Fitting the scaled ncx2 and its log-CDF: ours vs scipy.stats.ncx2 in the same run.

For each case it draws n samples, fits with ScaledNCX2.fit and with scipy.stats.ncx2.fit(floc=0),
and reports both times and their ratio (target >= 100x at 10^4), both log-likelihoods, and the
inductive bias (-log2 P(X <= eps)) that each fit gives at a deep eps (where the true distribution
has log P = -200). Then the log-CDF on 10^6 points vs scipy's ncx2.logcdf (target >= 1x), with the
number of points where scipy returns -inf.

    python benchmarks/bench_fit.py               # quick: 10^4 samples with scipy, 10^6 ours only
    python benchmarks/bench_fit.py --mode full   # scipy at 10^6 too (minutes)

Times are the median of --repeat (3) timed runs after --warmup (1) warm-ups on the first 1000
points; scipy's fits of 10^6 samples (full mode) run once. Threads pinned (--threads); see _timing.py.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
from pathlib import Path

import _timing  # before NumPy: without threadpoolctl it pins BLAS threads through the environment

# isort: split
import numpy as np
from scipy import optimize, stats

import inductive_bias as ib

CASES = {  # name: (df, nc, scale)
    "df=20 nc=15": (20.0, 15.0, 0.01),
    "df=2 nc=0.5": (2.0, 0.5, 1.0),
    "df=5 nc=100": (5.0, 100.0, 0.1),
    "df=475 nc=0": (475.0, 0.0, 7.9e-4),
}
RESULTS = Path(__file__).resolve().parent / "results"
STATISTIC = "median"
SLOW = 100_000  # scipy fits of more samples than this take minutes: timed once, no warm-up


def deep_error(truth: ib.ScaledNCX2, log_p: float = -200.0) -> float:
    """The eps where the true distribution has log P(X <= eps) = log_p."""
    log_mean = math.log(truth.mean())
    return math.exp(optimize.brentq(lambda t: truth.logcdf(math.exp(t)) - log_p, log_mean - 690, log_mean))


def fit_row(name, params, n, run_scipy, repeat, warmup) -> dict:
    truth = ib.ScaledNCX2(*params)
    x = truth.rvs(n, seed=1)
    eps = deep_error(truth)
    t = _timing.measure(
        lambda: ib.ScaledNCX2.fit(x), repeat=repeat, warmup=warmup, warmup_fn=lambda: ib.ScaledNCX2.fit(x[:1000])
    )
    ours, ours_s = t.value, t.seconds(STATISTIC)
    row = {
        "case": name,
        "n": n,
        "ours_s": ours_s,
        "ours_timing": t.record(),
        "ours_loglik": ours.loglik,
        "ours_bits": -ours.distribution.logcdf(eps) / math.log(2),
        "true_bits": 200 / math.log(2),
        "ours_params": [ours.distribution.df, ours.distribution.nc, ours.distribution.scale],
    }
    if run_scipy:
        slow = n > SLOW
        t = _timing.measure(
            lambda: stats.ncx2.fit(x, floc=0),
            repeat=1 if slow else repeat,
            warmup=0 if slow else warmup,
            warmup_fn=lambda: stats.ncx2.fit(x[:1000], floc=0),
        )
        p, scipy_s = t.value, t.seconds(STATISTIC)
        row.update(
            scipy_s=scipy_s,
            scipy_timing=t.record(),
            ratio=scipy_s / ours_s,
            scipy_loglik=float(stats.ncx2.logpdf(x, p[0], p[1], 0, p[3]).sum()),
            scipy_bits=float(-stats.ncx2.logcdf(eps, p[0], p[1], 0, p[3]) / math.log(2)),
            scipy_params=[float(p[0]), float(p[1]), float(p[3])],
        )
    return row


def logcdf_row(n: int, repeat: int, warmup: int) -> dict:
    df, nc, scale = 1000.0, 500.0, 1e-3
    x = np.random.default_rng(0).uniform(0.05, 5.0, n)  # from log P = -1e3 to the upper tail
    d = ib.ScaledNCX2(df, nc, scale)
    t_ours = _timing.measure(lambda: d.logcdf(x), repeat=repeat, warmup=warmup, warmup_fn=lambda: d.logcdf(x[:1000]))
    t_scipy = _timing.measure(
        lambda: stats.ncx2.logcdf(x, df, nc, scale=scale),
        repeat=repeat,
        warmup=warmup,
        warmup_fn=lambda: stats.ncx2.logcdf(x[:1000], df, nc, scale=scale),
    )
    ours, ours_s, theirs, scipy_s = t_ours.value, t_ours.seconds(STATISTIC), t_scipy.value, t_scipy.seconds(STATISTIC)
    return {
        "n": n,
        "ours_s": ours_s,
        "scipy_s": scipy_s,
        "ratio": scipy_s / ours_s,
        "ours_timing": t_ours.record(),
        "scipy_timing": t_scipy.record(),
        "scipy_minus_inf": int(np.sum(np.isneginf(theirs))),
        "ours_minus_inf": int(np.sum(np.isneginf(ours))),
        "min_logcdf": float(ours.min()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--json", type=Path)
    _timing.add_arguments(parser, repeat=3, warmup=1)
    args = parser.parse_args(argv)
    _timing.pin_threads(args.threads)
    timing = (args.repeat, args.warmup)
    rows = [fit_row(name, params, 10_000, True, *timing) for name, params in CASES.items()]
    rows += [fit_row(name, params, 1_000_000, args.mode == "full", *timing) for name, params in list(CASES.items())[:2]]
    machine = f"{platform.machine()}, {ib.get_num_threads()} threads"
    print(
        f"ScaledNCX2.fit vs scipy.stats.ncx2.fit(floc=0) on {machine}; bias at eps with true log P = -200 "
        f"({200 / math.log(2):.1f} bits); times: {_timing.describe(STATISTIC, *timing)}"
        + (f" (scipy at n > {SLOW:,}: 1 timed run)" if args.mode == "full" else "")
    )
    print(
        f"{'case':<14}{'n':>9}{'ours s':>9}{'scipy s':>9}{'ratio':>8}{'loglik ours':>16}{'loglik scipy':>16}"
        f"{'bits ours':>11}{'bits scipy':>11}"
    )
    for r in rows:
        scipy_cols = (
            (
                f"{r['scipy_s']:>9.3f}{r['ratio']:>7.0f}x{r['ours_loglik']:>16.4f}{r['scipy_loglik']:>16.4f}"
                f"{r['ours_bits']:>11.1f}{r['scipy_bits']:>11.1f}"
            )
            if "scipy_s" in r
            else (f"{'-':>9}{'-':>8}{r['ours_loglik']:>16.4f}{'-':>16}{r['ours_bits']:>11.1f}{'-':>11}")
        )
        print(f"{r['case']:<14}{r['n']:>9,}{r['ours_s']:>9.3f}{scipy_cols}")
    cdf = logcdf_row(1_000_000, *timing)
    print(
        f"\nlogcdf, df=1000 nc=500 scale=1e-3, {cdf['n']:,} points (log P down to {cdf['min_logcdf']:.0f}): "
        f"ours {cdf['ours_s']:.2f} s, scipy {cdf['scipy_s']:.2f} s, ratio {cdf['ratio']:.1f}x; "
        f"-inf: scipy {cdf['scipy_minus_inf']:,}, ours {cdf['ours_minus_inf']}"
    )
    out = args.json or RESULTS / f"fit_{args.mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "fit",
                "machine": machine,
                "mode": args.mode,
                "build": ib.build_info(),
                "numpy": np.__version__,
                "scipy": __import__("scipy").__version__,
                "timing": _timing.header(STATISTIC, *timing),
                "fits": rows,
                "logcdf": cdf,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
