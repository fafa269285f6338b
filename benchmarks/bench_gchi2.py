"""The generalized chi-squared CDF: ours against Davies' algorithm and moment methods, same run.

For Q = sum_j w_j chi2_1(nc_j) with weights over `decades` decades (n = 10 .. 10^4 terms), at x in
the bulk (the mean), next to it (+1e-6 sd), in the lower tail (0.3 mean) and in the upper tail
(mean + 6 sd), it times per evaluation and measures the error of log P:
  ours       GeneralizedChi2.evaluate (method="auto")
  davies     Davies (1980) via `chi2comb` (absolute tolerance 1e-14, 10^6 integration terms)
  hbe, lpb4  Hall-Buckley-Eagleson and Lindsay-Pilla-Basak moment approximations (`momentchi2`), on
             the same weights with central terms (all they take), against our value for those
Errors are against a 40-digit mpmath inversion (tests/golden/gchi2_inversion_golden.py) for up to
100 terms; for 1000 and 10^4 terms (mpmath would take minutes per point) the table gives each
method's difference from ours, with our own error estimate beside it.

Set-up (the peers are not dependencies of the package; chi2comb needs its C library):
    git clone https://github.com/limix/chi2comb && cd chi2comb
    cmake -S . -B build -DCMAKE_POLICY_VERSION_MINIMUM=3.5 && cmake --build build && cmake --install build
    ldconfig && pip install cffi chi2comb momentchi2
    python benchmarks/bench_gchi2.py            # writes benchmarks/results/gchi2.json

Times per call are the median of 5 timed calls (2 beyond 1000 terms; --repeat N sets both) after
--warmup (1) untimed call; threads pinned (--threads); see _timing.py.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from functools import partial
from pathlib import Path

import _timing  # before NumPy: without threadpoolctl it pins BLAS threads through the environment

# isort: split
import numpy as np

import inductive_bias as ib

RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "golden"))
STATISTIC = "median"


def per_call(fn, repeat: int, warmup: int) -> tuple[object, float]:
    t = _timing.measure(fn, repeat=repeat, warmup=warmup)
    return t.value, t.seconds(STATISTIC)


def problem(n: int, decades: float):
    rng = np.random.default_rng(n)
    weights = 10.0 ** (-decades * np.arange(n) / max(n - 1, 1))
    nc = np.where(rng.random(n) < 0.5, rng.uniform(0, 3, n), 0.0)
    return weights, nc


def reference(weights, nc, x):
    """(log P(Q <= x), log P(Q > x)) by the 40-digit mpmath inversion: tanh-sinh on two sets of panels,
    or where those disagree beyond 1e-20 (oscillating, algebraically decaying integrands: few degrees
    of freedom in an upper tail, where they were 5e-12 apart), with the oscillating rest by quadosc."""
    import mpmath as mp
    from gchi2_inversion_golden import log_tails, log_tails_oscillatory

    with mp.workdps(40):
        w, h, v = [mp.mpf(w) for w in weights], [mp.mpf(1)] * len(weights), [mp.mpf(v) for v in nc]
        one, two = log_tails(w, h, v, mp.mpf(x), 2), log_tails(w, h, v, mp.mpf(x), 3)
        if any(abs(a - b) > mp.mpf("1e-20") * (1 + abs(a)) for a, b in zip(one, two)):
            one = log_tails_oscillatory(w, h, v, mp.mpf(x), 40, mp.mpf(1) / 4)
        return float(one[0]), float(one[1])


def peers():
    found = {}
    try:
        from chi2comb import ChiSquared, chi2comb_cdf

        def davies(weights, nc, x):
            value, status, _ = chi2comb_cdf(
                x, [ChiSquared(w, d, 1) for w, d in zip(weights, nc)], 0.0, lim=10**6, atol=1e-14
            )
            return value if status in (0, 2) else math.nan

        found["davies"] = davies
    except ImportError:
        print("chi2comb not installed: Davies is skipped (see the set-up in this file's docstring)")
    try:
        if not hasattr(np, "math"):  # momentchi2 0.1.8 calls np.math.factorial, gone in NumPy 2
            np.math = math
        from momentchi2 import hbe, lpb4

        found["hbe"] = lambda w, nc, x: float(hbe(coeff=list(w * 1.0), x=x)) if not nc.any() else math.nan
        found["lpb4"] = lambda w, nc, x: float(lpb4(coeff=list(w * 1.0), x=x)) if not nc.any() else math.nan
    except ImportError:
        print("momentchi2 not installed: the moment methods are skipped")
    return found


def log_of(p):
    return math.log(p) if p > 0 else -math.inf


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 100, 1000, 10_000])
    parser.add_argument("--decades", type=float, default=2.0)
    parser.add_argument("--json", type=Path, default=RESULTS / "gchi2.json")
    _timing.add_arguments(parser, repeat=None, warmup=1)
    args = parser.parse_args(argv)
    _timing.pin_threads(args.threads)
    repeats = (args.repeat or 5, args.repeat or 2)  # per call: up to 1000 terms, beyond
    others = peers()
    rows = []
    for n in args.sizes:
        weights, nc = problem(n, args.decades)
        central = {name: fn for name, fn in others.items() if name == "davies"}
        g = ib.GeneralizedChi2(weights, 1, nc)
        g0 = ib.GeneralizedChi2(weights, 1, 0.0)  # the moment methods take central terms only
        mean, sd = g.mean(), g.std()
        points = {"bulk": mean, "near mean": mean + 1e-6 * sd, "lower tail": 0.3 * mean, "upper tail": mean + 6 * sd}
        repeat = repeats[0] if n <= 1000 else repeats[1]
        for region, x in points.items():
            e, ours_s = per_call(partial(g.evaluate, x), repeat, args.warmup)
            ours = float(e.log_cdf) if region != "upper tail" else float(e.log_sf)
            tails = reference(weights, nc, x) if n <= 100 else None
            truth = None if tails is None else tails[1] if region == "upper tail" else tails[0]
            row = {
                "n": n,
                "region": region,
                "x": x,
                "ours": ours,
                "ours_s": ours_s,
                "ours_method": str(e.method),
                "ours_error_estimate": float(e.error),
                "truth": truth,
            }
            for name, fn in central.items():
                p, seconds = per_call(partial(fn, weights, nc, x), repeat, args.warmup)
                value = log_of(p) if region != "upper tail" else log_of(1.0 - p)
                row[name], row[f"{name}_s"] = value, seconds
            for name in ("hbe", "lpb4"):
                if name in others:
                    p, seconds = per_call(partial(others[name], weights, np.zeros(n), x), repeat, args.warmup)
                    row[f"{name} (central)"] = log_of(p) if region != "upper tail" else log_of(1.0 - p)
                    row[f"{name}_s"] = seconds
            if "hbe" in others or "lpb4" in others:  # their reference: our exact value for central terms
                row["central_truth"] = float(g0.logcdf(x) if region != "upper tail" else g0.logsf(x))
            rows.append(row)
            print(
                f"n={n:<6} {region:<11} ours {ours:.15g} ({ours_s * 1e3:.3f} ms, {row['ours_method']}, "
                f"est {row['ours_error_estimate']:.1e})"
                + "".join(f"  {name} {row[name]:.15g} ({row[name + '_s'] * 1e3:.3f} ms)" for name in central),
                flush=True,
            )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "benchmark": "gchi2",
                "decades": args.decades,
                "rows": rows,
                "timing": _timing.header(STATISTIC, repeats[0], args.warmup, repeat_beyond_1000_terms=repeats[1]),
            },
            indent=2,
            default=float,
        )
    )
    print(
        "\nrelative error of log P (vs 40-digit mpmath where n <= 100, else difference from ours) and time per call "
        f"({_timing.describe(STATISTIC, repeats[0], args.warmup)}; {repeats[1]} beyond 1000 terms)"
    )
    print(
        f"{'n':>6} {'region':<11} {'ours err':>9} {'ours ms':>8} {'davies err':>11} {'davies ms':>10}"
        f" {'hbe err':>9} {'lpb4 err':>9}"
    )
    for row in rows:
        base = row["truth"] if row["truth"] is not None else row["ours"]

        def rel(value, against=base):
            if value is None or not math.isfinite(value) or not math.isfinite(against):
                return "fails" if value is not None else "-"
            return f"{abs(value - against) / max(abs(against), 1e-300):.1e}"

        ours_err = rel(row["ours"]) if row["truth"] is not None else f"~{row['ours_error_estimate'] / abs(base):.0e}"
        davies = rel(row.get("davies")) if "davies" in row else "-"
        hbe = rel(row.get("hbe (central)"), row.get("central_truth", base)) if "hbe (central)" in row else "-"
        lpb4 = rel(row.get("lpb4 (central)"), row.get("central_truth", base)) if "lpb4 (central)" in row else "-"
        print(
            f"{row['n']:>6} {row['region']:<11} {ours_err:>9} {row['ours_s'] * 1e3:>8.3f} {davies:>11} "
            f"{row.get('davies_s', math.nan) * 1e3:>10.3f} {hbe:>9} {lpb4:>9}"
        )
    return rows


if __name__ == "__main__":
    main()
