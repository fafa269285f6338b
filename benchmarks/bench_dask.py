"""Sampling on a Dask LocalCluster of 1 and 2 worker processes vs in one process.

Hypotheses per second for a kernel space (digits: 1000 train / 797 test, RBF) and for random-feature
networks (width 2000), in process and through `sample_losses(..., client=...)`, plus Dask's
scheduling overhead per task (empty tasks). On a two-core machine the in-process run already uses
both cores through BLAS, so the cluster can at best match it: what it buys is the scale-out to
machines with more cores, and the numbers show what it costs.

    pip install "dask[distributed]"
    python benchmarks/bench_dask.py
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

from distributed import Client, LocalCluster

import inductive_bias as ib
from inductive_bias.report import load_task

RESULTS = Path(__file__).resolve().parent / "results"


def timed(fn):
    begin = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - begin


def main():
    task = load_task()
    data = (task.X_train, task.y_train, task.X_test, task.y_test)
    cases = [("kernel rbf", ib.KernelSpace("rbf", lengthscale="median"), 20_000, 2048),
             ("random features 2000", ib.RandomFeatureSpace(2000), 32, 4)]
    rows = []
    for name, space, n, task_size in cases:
        _, local_s = timed(lambda: ib.sample_losses(space, *data, n, progress=False))
        row = {"case": name, "n_hypotheses": n, "in_process_per_s": n / local_s}
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=2 // workers, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                ib.sample_losses(space, *data, task_size, progress=False, client=client, task_size=task_size)
                _, seconds = timed(lambda: ib.sample_losses(space, *data, n, progress=False, client=client,
                                                             task_size=task_size))
                row[f"{workers}_workers_per_s"] = n / seconds
                if name.startswith("kernel") and workers == 2:
                    futures = [client.submit(int, i, pure=False) for i in range(500)]
                    client.gather(futures)
                    begin = time.perf_counter()
                    client.gather([client.submit(int, i, pure=False) for i in range(2000)])
                    row["overhead_per_task_ms"] = (time.perf_counter() - begin) / 2000 * 1e3
        rows.append(row)
    print(f"sampling through Dask on {platform.machine()}, 2 cores; hypotheses per second")
    print(f"{'case':<24}{'in process':>12}{'1 worker':>12}{'2 workers':>12}")
    for r in rows:
        print(f"{r['case']:<24}{r['in_process_per_s']:>12.1f}{r['1_workers_per_s']:>12.1f}{r['2_workers_per_s']:>12.1f}")
    print(f"scheduling overhead: {rows[0]['overhead_per_task_ms']:.2f} ms per task (2 workers, empty tasks)")
    out = RESULTS / "dask.json"
    out.write_text(json.dumps({"benchmark": "dask", "machine": platform.machine(), "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
