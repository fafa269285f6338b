"""Exact k nearest neighbours and class separation: ours vs scikit-learn and faiss in the same run.

MNIST-like synthetic data: points on a 14-dimensional curved manifold in [0, 1]^784 (float32),
10 classes. For k = 10 it times ib.nearest_neighbors, sklearn NearestNeighbors(algorithm="brute")
and faiss IndexFlatL2 (targets: >= 3x scikit-learn, within 1.2x of faiss), checks that the three
agree, then times the exact class separation against the published sampled-pairs estimate.

    pip install scikit-learn faiss-cpu     # the peers (not dependencies of the package)
    python benchmarks/bench_neighbors.py                 # quick: 20,000 points
    python benchmarks/bench_neighbors.py --mode full     # 60,000 points

Times are the median of --repeat (3) timed runs after --warmup (1) warm-ups on the first 2000
points; threads pinned (--threads, faiss's OpenMP too); see _timing.py.
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

RESULTS = Path(__file__).resolve().parent / "results"
STATISTIC = "median"


def mnist_like(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    latent = rng.uniform(-1, 1, size=(n, 14))
    lift = rng.normal(size=(28, 784)) / np.sqrt(28)
    features = np.concatenate([np.sin(2 * latent), np.cos(3 * latent)], axis=1)  # curved, 14-dimensional
    X = 1 / (1 + np.exp(-(features @ lift)))  # in (0, 1) like pixel intensities
    y = np.digitize(latent[:, 0] + 0.5 * latent[:, 1], np.linspace(-1.5, 1.5, 11)[1:-1])
    return X.astype(np.float32), y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--json", type=Path)
    _timing.add_arguments(parser, repeat=3, warmup=1)
    args = parser.parse_args(argv)
    _timing.pin_threads(args.threads)
    n = 20_000 if args.mode == "quick" else 60_000
    X, y = mnist_like(n)
    k = args.k
    small, small_y = X[:2000], y[:2000]  # what the warm-ups run on
    records = {}

    def timed(name, fn, warmup_fn):
        t = _timing.measure(fn, repeat=args.repeat, warmup=args.warmup, warmup_fn=warmup_fn)
        records[name] = t.record()
        return t.value, t.seconds(STATISTIC)

    rows = {}
    (ours_d, ours_i), rows["ours"] = timed(
        "ours", lambda: ib.nearest_neighbors(X, k), lambda: ib.nearest_neighbors(small, k)
    )
    try:
        from sklearn.neighbors import NearestNeighbors

        (sk_d, sk_i), rows["scikit-learn brute"] = timed(
            "scikit-learn brute",
            lambda: NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(X).kneighbors(X),
            lambda: NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(small).kneighbors(small),
        )
        sk_d = sk_d[:, 1:]
    except ImportError:
        sk_d = None
    try:
        import faiss

        faiss.omp_set_num_threads(ib.get_num_threads())

        def run_faiss(points=X):
            index = faiss.IndexFlatL2(points.shape[1])
            index.add(points)
            return index.search(points, k + 1)

        (fa_d2, fa_i), rows["faiss IndexFlatL2"] = timed("faiss IndexFlatL2", run_faiss, lambda: run_faiss(small))
        fa_d = np.sqrt(np.maximum(fa_d2[:, 1:], 0))
    except ImportError:
        fa_d = None
    agreement = {}
    if sk_d is not None:
        agreement["scikit-learn"] = float(np.max(np.abs(sk_d - ours_d)))
    if fa_d is not None:
        agreement["faiss"] = float(np.max(np.abs(fa_d - ours_d)))

    separation, separation_s = timed(
        "separation exact", lambda: ib.class_separation(X, y), lambda: ib.class_separation(small, small_y)
    )

    def published_sampled_pairs(pairs: int = 4_000_000, chunk: int = 65_536):  # the published approach, vectorized
        rng = np.random.default_rng(0)  # the same pairs in every repeat
        best = np.inf
        for _ in range(0, pairs, chunk):
            i, j = rng.integers(n, size=(2, chunk))
            keep = y[i] != y[j]
            diff = X[i[keep]].astype(np.float64) - X[j[keep]]
            best = min(best, float(np.sqrt((diff * diff).sum(axis=1)).min()))
        return best

    sampled, sampled_s = timed(
        "separation sampled pairs", published_sampled_pairs, lambda: published_sampled_pairs(pairs=65_536)
    )
    evt, evt_s = timed(
        "separation evt",
        lambda: ib.class_separation(X, y, method="evt"),
        lambda: ib.class_separation(small, small_y, method="evt"),
    )

    machine = f"{platform.machine()}, {ib.get_num_threads()} threads"
    print(
        f"exact k={k} nearest neighbours of {n:,} points in 784 dimensions (float32) on {machine}; times: "
        f"{_timing.describe(STATISTIC, args.repeat, args.warmup)}"
    )
    ours = rows["ours"]
    for name, seconds in rows.items():
        print(f"  {name:<22}{seconds:>8.2f} s   ours is {seconds / ours:>5.2f}x faster")
    print(f"  max |distance difference| vs peers: {agreement}")
    print(
        f"class separation: exact {separation:.6f} in {separation_s:.2f} s; published 4e6 sampled pairs "
        f"{sampled:.6f} in {sampled_s:.2f} s; EVT extrapolation {evt:.6f} in {evt_s:.2f} s"
    )
    out = args.json or RESULTS / f"neighbors_{args.mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "neighbors",
                "machine": machine,
                "n": n,
                "k": k,
                "seconds": rows,
                "agreement": agreement,
                "separation": {
                    "exact": separation,
                    "exact_s": separation_s,
                    "sampled_pairs": sampled,
                    "sampled_pairs_s": sampled_s,
                    "evt": evt,
                    "evt_s": evt_s,
                },
                "timing": _timing.header(STATISTIC, args.repeat, args.warmup),
                "timings": records,
                "build": ib.build_info(),
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
