"""Run every benchmark (quick mode by default) and write benchmarks/results/SUMMARY.md: one table of
our time against each peer's, with the ratio, the machine and the versions.

    python benchmarks/run_all.py [--full]        (what `inductive-bias bench` runs)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def run(script: str, *arguments: str) -> bool:
    print(f"== {script} {' '.join(arguments)}", flush=True)
    return subprocess.call([sys.executable, str(HERE / script), *arguments]) == 0


def rows_sampling(data):
    for r in data["results"]:
        yield (f"sampling {r['dtype']} t={r['t']} n={r['n_hypotheses']}", r["total_s"], "plain NumPy",
               r["plain_s"], r["speedup_over_plain"])
        yield (f"sampling {r['dtype']} (vs BLAS ceiling)", r["total_s"], "matrix products alone", r["ceiling_s"],
               r["ceiling_over_total"])


def rows_fit(data):
    for r in data["fits"]:
        if "scipy_s" in r:
            yield f"ncx2 fit {r['case']} n={r['n']}", r["ours_s"], "scipy.stats.ncx2.fit", r["scipy_s"], r["ratio"]
    c = data["logcdf"]
    yield f"ncx2 logcdf n={c['n']}", c["ours_s"], "scipy.stats.ncx2.logcdf", c["scipy_s"], c["ratio"]


def rows_neighbors(data):
    ours = data["seconds"]["ours"]
    for peer, seconds in data["seconds"].items():
        if peer != "ours":
            yield f"exact k={data['k']} neighbours n={data['n']}", ours, peer, seconds, seconds / ours


def rows_kernel(data):
    published = data["published"]["total_s"]
    yield ("exact kernel bias, digits 1000/797", data["exact_s_per_error"], "published recipe (Adam extrapolated)",
           published, published / data["exact_s_per_error"])


def rows_networks(data):
    yield (f"random-feature hypotheses width {data['width']}", data["ours_s"], "plain NumPy loop", data["plain_s"],
           data["speedup"])


SUITE = [  # script, quick arguments, full arguments, JSON, summarizer, required peers
    ("bench_sampling.py", [], ["--mode", "full", "--n-hypotheses", "4000"], "sampling_cpu_{mode}.json", rows_sampling, []),
    ("bench_fit.py", [], ["--mode", "full"], "fit_{mode}.json", rows_fit, ["scipy"]),
    ("bench_neighbors.py", [], ["--mode", "full"], "neighbors_{mode}.json", rows_neighbors, ["sklearn", "faiss"]),
    ("bench_kernel.py", [], ["--mode", "full"], "kernel_{mode}.json", rows_kernel, ["sklearn"]),
    ("bench_networks.py", [], [], "networks_cpu.json", rows_networks, ["sklearn"]),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args(argv)
    mode = "full" if args.full else "quick"
    lines = ["# Benchmark summary", "",
             f"Mode: {mode}. Machine: {platform.machine()}, {platform.processor() or 'CPU'}; Python "
             f"{platform.python_version()}. Regenerate with `python benchmarks/run_all.py` (`--full`).", "",
             "| benchmark | ours (s) | peer | peer (s) | ratio |", "|---|---|---|---|---|"]
    skipped = []
    for script, quick, full, name, summarize, peers in SUITE:
        missing = [p for p in peers if importlib.util.find_spec(p) is None]
        if missing:
            skipped.append(f"{script} (needs {', '.join(missing)})")
            continue
        if not run(script, *(full if args.full else quick)):
            skipped.append(f"{script} (failed)")
            continue
        data = json.loads((RESULTS / name.format(mode=mode)).read_text())
        for label, ours, peer, theirs, ratio in summarize(data):
            lines.append(f"| {label} | {ours:.4g} | {peer} | {theirs:.4g} | {ratio:.2f}x |")
    lines += ["", "Ratio: peer time / our time (for 'matrix products alone': their share of our time)."]
    if skipped:
        lines += ["", "Not run: " + "; ".join(skipped) + "."]
    try:
        import inductive_bias

        lines += ["", f"inductive-bias {inductive_bias.__version__}, build: `{inductive_bias.build_info()}`"]
    except ImportError:
        pass
    (RESULTS / "SUMMARY.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if not any("failed" in s for s in skipped) else 1


if __name__ == "__main__":
    sys.exit(main())
