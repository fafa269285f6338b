"""Random-feature network hypotheses per second: ours vs a plain NumPy loop over hypotheses.

Digits (1000 train, 797 test), one hidden ReLU layer. Ours: Philox draws, BLAS features, the output
layer's minimum-norm change through batched Cholesky solves of the Gram matrix, the fused loss
kernel. Plain: per hypothesis, default_rng().standard_normal for the weights, the same features,
numpy.linalg.lstsq for the minimum-norm change, the mean of squares. Target >= 3x on the CPU; with
--device cuda the same space runs on CuPy arrays.

    python benchmarks/bench_networks.py [--width 2000] [--n-hypotheses 40] [--device cpu|cuda]

Times are the median of --repeat (3) timed runs after --warmup (1) warm-ups of 2 hypotheses each;
threads pinned (--threads); see _timing.py.
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

import inductive_bias as ib
from inductive_bias.datasets import load_task

RESULTS = Path(__file__).resolve().parent / "results"
STATISTIC = "median"


def plain_numpy(space, X_train, Y_train, X_test, Y_test, n_hypotheses, seed=0):
    rng = np.random.default_rng(seed)
    d, k, width = X_train.shape[1], Y_train.shape[1], space.width
    losses = np.empty(n_hypotheses)
    for i in range(n_hypotheses):
        W = rng.standard_normal((d, width)) * math.sqrt(space.weight_var / d)
        b = rng.standard_normal(width) * math.sqrt(space.bias_var)
        c0 = rng.standard_normal((width + 1, k))

        def features(X, W=W, b=b):
            h = np.maximum(X @ W + b, 0)
            return np.hstack([h * math.sqrt(space.weight_var / width), np.full((len(X), 1), math.sqrt(space.bias_var))])

        F_train, F_test = features(X_train), features(X_test)
        c = c0 + np.linalg.lstsq(F_train, Y_train - F_train @ c0, rcond=None)[0]
        losses[i] = np.mean((F_test @ c - Y_test) ** 2)
    return losses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=2000)
    parser.add_argument("--n-hypotheses", type=int, default=40)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--json", type=Path)
    _timing.add_arguments(parser, repeat=3, warmup=1)
    args = parser.parse_args(argv)
    _timing.pin_threads(args.threads)
    task = load_task()  # the built-in digits task: pixels / 16, 1000 train, 797 test
    X_train, y_train, X_test, y_test = task.X_train, task.y_train, task.X_test, task.y_test
    space = ib.RandomFeatureSpace(args.width, depth=1)
    if args.device == "cuda":
        import cupy

        X_train, X_test = cupy.asarray(X_train), cupy.asarray(X_test)
    sync = None
    if args.device == "cuda":
        import cupy

        sync = cupy.cuda.get_current_stream().synchronize

    def ours_run(n):
        return ib.sample_losses(space, X_train, y_train, X_test, y_test, n, progress=False)

    t_ours = _timing.measure(
        lambda: ours_run(args.n_hypotheses),
        repeat=args.repeat,
        warmup=args.warmup,
        warmup_fn=lambda: ours_run(2),
        sync=sync,
    )
    ours, ours_s = t_ours.value, t_ours.seconds(STATISTIC)
    if args.device == "cuda":
        ours = ours.get()
    Y_train, Y_test = np.eye(10)[y_train], np.eye(10)[y_test]
    t_plain = _timing.measure(
        lambda: plain_numpy(space, task.X_train, Y_train, task.X_test, Y_test, args.n_hypotheses),
        repeat=args.repeat,
        warmup=args.warmup,
        warmup_fn=lambda: plain_numpy(space, task.X_train, Y_train, task.X_test, Y_test, 2),
    )
    plain, plain_s = t_plain.value, t_plain.seconds(STATISTIC)
    machine = f"{platform.machine()}, {ib.get_num_threads()} threads" if args.device == "cpu" else "cuda"
    print(
        f"random-feature ReLU networks, width {args.width}, digits 1000/797, {args.n_hypotheses} hypotheses "
        f"({args.device}, {machine}); times: {_timing.describe(STATISTIC, args.repeat, args.warmup)}"
    )
    print(f"  ours   {args.n_hypotheses / ours_s:8.1f} hypotheses/s   mean test MSE {ours.mean():.5f}")
    print(f"  plain  {args.n_hypotheses / plain_s:8.1f} hypotheses/s   mean test MSE {plain.mean():.5f} (CPU)")
    print(f"  speed-up {plain_s / ours_s:.2f}x")
    out = args.json or RESULTS / f"networks_{args.device}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "networks",
                "machine": machine,
                "width": args.width,
                "n_hypotheses": args.n_hypotheses,
                "ours_s": ours_s,
                "plain_s": plain_s,
                "speedup": plain_s / ours_s,
                "ours_timing": t_ours.record(),
                "plain_timing": t_plain.record(),
                "timing": _timing.header(STATISTIC, args.repeat, args.warmup),
                "build": ib.build_info(),
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
