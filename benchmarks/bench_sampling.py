"""Batched evaluation of random Gaussian hypotheses: our pipeline vs its ceiling and plain NumPy.

For each precision it times, on the same problem and batch size:
  total    -- inductive_bias.sample_gaussian_losses (Philox fill + BLAS product + fused loss kernel)
  ceiling  -- the BLAS products alone, on pre-filled random matrices (what the pipeline cannot beat)
  plain    -- the obvious array code: default_rng().standard_normal, matmul, mean of squares
and reports hypotheses/s, ceiling/total (target >= 0.8) and plain/total (target >= 1.5).

    python benchmarks/bench_sampling.py                     # quick: t = r = 1000, k = 10, 1024 hypotheses
    python benchmarks/bench_sampling.py --mode full         # t = r = 2000, k = 10, 20000 hypotheses
    python benchmarks/bench_sampling.py --device cuda --mode full
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import _timing  # before NumPy: without threadpoolctl it pins BLAS threads through the environment

# isort: split
import numpy as np

import inductive_bias as ib
from inductive_bias.gaussian_losses import default_batch_size

SIZES = {"quick": dict(t=1000, r=1000, k=10, n=1024), "full": dict(t=2000, r=2000, k=10, n=20_000)}
RESULTS = Path(__file__).resolve().parent / "results"


STATISTIC = "min"  # the table's times: the fastest timed run (the rows compare against a ceiling)


def run(device: str, dtype, t: int, r: int, k: int, n: int, repeat: int, warmup: int = 0) -> dict:
    """One row. `repeat` timed runs of each variant after `warmup` untimed ones; the row's `<name>_s`
    is their min (`<name>_timing` keeps the median too). warmup=0 (the default) keeps the GPU
    benchmark's use: its first timed run doubles as the warm-up."""
    if device == "cuda":
        import cupy as xp

        sync = xp.cuda.get_current_stream().synchronize
        plain_rng = xp.random.default_rng(0)
    else:
        xp, sync = np, (lambda: None)
        plain_rng = np.random.default_rng(0)
    rng = xp.random.default_rng(1)  # drawn where they are used (t = r = 20,000 is 4e8 normals)
    mean = rng.standard_normal((t, k), dtype=dtype)
    factor = rng.standard_normal((t, r), dtype=dtype) / dtype.type(np.sqrt(r))
    labels = rng.integers(0, k, size=t)
    batch = default_batch_size(n, t, r, k, np.dtype(dtype).itemsize)
    batches = [(first, min(batch, n - first)) for first in range(0, n, batch)]

    def total():
        ib.sample_gaussian_losses(mean, factor, labels, n, seed=0, batch_size=batch)

    z = rng.standard_normal((batch * k, r), dtype=dtype)
    products = xp.empty((batch * k, t), dtype=dtype)
    factor_t = factor.T

    def ceiling():
        for _, size in batches:
            xp.matmul(z[: size * k], factor_t, out=products[: size * k])

    shift = mean - xp.eye(k, dtype=dtype)[labels]

    def plain():
        losses = xp.empty(n, dtype=dtype)
        for first, size in batches:
            draws = plain_rng.standard_normal((size * k, r), dtype=dtype)
            residual = (draws @ factor_t).reshape(size, k, t) + shift.T[None]
            losses[first : first + size] = (residual**2).mean(axis=(1, 2))
        return losses

    measured = {
        name: _timing.measure(fn, repeat=repeat, warmup=warmup, sync=sync)
        for name, fn in (("total", total), ("ceiling", ceiling), ("plain", plain))
    }
    timings = {name: m.seconds(STATISTIC) for name, m in measured.items()}
    return {
        "device": device,
        "dtype": np.dtype(dtype).name,
        "t": t,
        "r": r,
        "k": k,
        "n_hypotheses": n,
        "batch_size": batch,
        **{f"{name}_s": value for name, value in timings.items()},
        "hypotheses_per_s": n / timings["total"],
        "ceiling_over_total": timings["ceiling"] / timings["total"],
        "speedup_over_plain": timings["plain"] / timings["total"],
        "statistic": STATISTIC,
        **{f"{name}_timing": m.record() for name, m in measured.items()},
    }


def device_name(device: str) -> str:
    if device == "cuda":
        import cupy

        return cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"].decode()
    return f"{platform.processor() or platform.machine()}, {ib.get_num_threads()} threads"


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=tuple(SIZES), default="quick")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--dtype", choices=("float64", "float32", "both"), default="both")
    parser.add_argument("--n-hypotheses", type=int, help="override the mode's number of hypotheses")
    _timing.add_arguments(parser, repeat=3, warmup=1)
    parser.add_argument(
        "--json", type=Path, help="output file (default benchmarks/results/sampling_<device>_<mode>.json)"
    )
    args = parser.parse_args(argv)
    _timing.pin_threads(args.threads)
    size = dict(SIZES[args.mode])
    if args.n_hypotheses:
        size["n"] = args.n_hypotheses
    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    rows = [run(args.device, np.dtype(d), repeat=args.repeat, warmup=args.warmup, **size) for d in dtypes]
    name = device_name(args.device)
    print(
        f"sample_gaussian_losses on {name}: t={size['t']} r={size['r']} k={size['k']} n={size['n']}; times: "
        f"{_timing.describe(STATISTIC, args.repeat, args.warmup)}"
    )
    print(f"{'dtype':<8}{'hyp/s':>12}{'total s':>10}{'ceiling s':>11}{'plain s':>10}{'ceil/total':>12}{'vs plain':>10}")
    for row in rows:
        print(
            f"{row['dtype']:<8}{row['hypotheses_per_s']:>12,.0f}{row['total_s']:>10.3f}{row['ceiling_s']:>11.3f}"
            f"{row['plain_s']:>10.3f}{row['ceiling_over_total']:>12.2f}{row['speedup_over_plain']:>9.2f}x"
        )
    out = args.json or RESULTS / f"sampling_{args.device}_{args.mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "sampling",
                "machine": name,
                "mode": args.mode,
                "build": ib.build_info(),
                "numpy": np.__version__,
                "timing": _timing.header(STATISTIC, args.repeat, args.warmup),
                "results": rows,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    main()
