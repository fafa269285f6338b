"""Sampling on a Dask LocalCluster of 1 and 2 worker processes vs in one process.

Hypotheses per second for a kernel space (digits: 1000 train / 797 test, RBF) and for random-feature
networks (width 2000), in process and through `sample_losses(..., client=...)`, plus Dask's
scheduling overhead per task (empty tasks). On a two-core machine the in-process run already uses
both cores through BLAS, so the cluster can at best match it: what it buys is the scale-out to
machines with more cores, and the numbers show what it costs.

    pip install "dask[distributed]"
    python benchmarks/bench_dask.py [--repeat 1] [--json out.json]

Each rate comes from the median of --repeat (default 1: these runs take tens of seconds) timed runs
after --warmup (1) warm-ups of one task's worth of hypotheses; the in-process run has the library's
threads and BLAS pinned to --threads (default all cores) and each worker inherits the environment
(see _timing.py).
"""

from __future__ import annotations

import argparse
import json
import platform
from functools import partial
from pathlib import Path

import _timing  # before NumPy: without threadpoolctl it pins BLAS threads through the environment

# isort: split
from distributed import Client, LocalCluster

import inductive_bias as ib
from inductive_bias.datasets import load_task

RESULTS = Path(__file__).resolve().parent / "results"
STATISTIC = "median"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=RESULTS / "dask.json")
    _timing.add_arguments(parser, repeat=1, warmup=1)
    args = parser.parse_args(argv)
    _timing.pin_threads(args.threads)

    def timed(fn, warmup_fn):
        t = _timing.measure(fn, repeat=args.repeat, warmup=args.warmup, warmup_fn=warmup_fn)
        return t.seconds(STATISTIC), t.record()

    task = load_task()
    data = (task.X_train, task.y_train, task.X_test, task.y_test)
    cases = [
        ("kernel rbf", ib.KernelSpace("rbf", lengthscale="median"), 20_000, 2048),
        ("random features 2000", ib.RandomFeatureSpace(2000), 32, 4),
    ]
    rows = []
    for name, space, n, task_size in cases:
        local_s, record = timed(
            partial(ib.sample_losses, space, *data, n, progress=False),
            partial(ib.sample_losses, space, *data, task_size, progress=False),
        )
        row = {"case": name, "n_hypotheses": n, "in_process_per_s": n / local_s, "in_process_timing": record}
        for workers in (1, 2):
            with (
                LocalCluster(
                    n_workers=workers, threads_per_worker=2 // workers, processes=True, dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                on_cluster = partial(ib.sample_losses, space, *data, progress=False, client=client, task_size=task_size)
                seconds, record = timed(partial(on_cluster, n), partial(on_cluster, task_size))
                row[f"{workers}_workers_per_s"] = n / seconds
                row[f"{workers}_workers_timing"] = record
                if name.startswith("kernel") and workers == 2:
                    seconds, record = timed(
                        lambda: client.gather([client.submit(int, i, pure=False) for i in range(2000)]),
                        lambda: client.gather([client.submit(int, i, pure=False) for i in range(500)]),
                    )
                    row["overhead_per_task_ms"] = seconds / 2000 * 1e3
                    row["overhead_timing"] = record
        rows.append(row)
    print(
        f"sampling through Dask on {platform.machine()}, 2 cores; hypotheses per second "
        f"({_timing.describe(STATISTIC, args.repeat, args.warmup)})"
    )
    print(f"{'case':<24}{'in process':>12}{'1 worker':>12}{'2 workers':>12}")
    for r in rows:
        print(
            f"{r['case']:<24}{r['in_process_per_s']:>12.1f}{r['1_workers_per_s']:>12.1f}{r['2_workers_per_s']:>12.1f}"
        )
    print(f"scheduling overhead: {rows[0]['overhead_per_task_ms']:.2f} ms per task (2 workers, empty tasks)")
    out = args.json
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "dask",
                "machine": platform.machine(),
                "rows": rows,
                "timing": _timing.header(STATISTIC, args.repeat, args.warmup),
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
