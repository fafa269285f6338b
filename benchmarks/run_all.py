"""Run every benchmark (quick mode by default) and write benchmarks/results/SUMMARY.md: one table of
our time against each peer's, with the ratio, which statistic each time is (median or min of how many
timed runs, from the scripts' JSON; see _timing.py), the machine and the versions. A peer time that
was extrapolated rather than measured (its JSON record has "extrapolated": true) is starred, with a
footnote saying how it was extrapolated.

    python benchmarks/run_all.py [--full]        (what `inductive-bias bench` runs)
    python benchmarks/run_all.py --no-run        (SUMMARY.md from the JSON already in results/, e.g.
                                                  after rerunning one script on a quiet machine)
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
sys.path.insert(0, str(HERE))
import _timing  # noqa: E402  (the thread count the scripts pin by default)


def run(script: str, *arguments: str) -> bool:
    print(f"== {script} {' '.join(arguments)}", flush=True)
    return subprocess.call([sys.executable, str(HERE / script), *arguments]) == 0


def runs(record: dict | None, statistic: str) -> str:
    """'median of 3' / 'min of 3' / '1 run' for a measurement's timing record (see _timing.Timing.record)."""
    if not record:
        return "?"
    return "1 run" if record["repeat"] == 1 else f"{statistic} of {record['repeat']}"


def row(label, ours, peer, theirs, ratio, ours_runs, peer_runs, peer_record=None):
    """One table row; `peer_record` is the peer's JSON record, checked for an "extrapolated" mark."""
    extrapolated = None
    if (peer_record or {}).get("extrapolated"):
        extrapolated = peer_record.get("extrapolation") or "(the benchmark's JSON does not say how)"
    return {
        "label": label,
        "ours": ours,
        "peer": peer,
        "theirs": theirs,
        "ratio": ratio,
        "runs": ours_runs if ours_runs == peer_runs else f"{ours_runs} / {peer_runs}",
        "extrapolated": extrapolated,
    }


def rows_sampling(data):
    statistic = data.get("timing", {}).get("statistic", "min")
    for r in data["results"]:
        ours = runs(r.get("total_timing"), statistic)
        yield row(
            f"sampling {r['dtype']} t={r['t']} n={r['n_hypotheses']}",
            r["total_s"],
            "plain NumPy",
            r["plain_s"],
            r["speedup_over_plain"],
            ours,
            runs(r.get("plain_timing"), statistic),
        )
        yield row(
            f"sampling {r['dtype']} (vs BLAS ceiling)",
            r["total_s"],
            "matrix products alone",
            r["ceiling_s"],
            r["ceiling_over_total"],
            ours,
            runs(r.get("ceiling_timing"), statistic),
        )


def rows_fit(data):
    statistic = data.get("timing", {}).get("statistic", "median")
    for r in data["fits"]:
        if "scipy_s" in r:
            yield row(
                f"ncx2 fit {r['case']} n={r['n']}",
                r["ours_s"],
                "scipy.stats.ncx2.fit",
                r["scipy_s"],
                r["ratio"],
                runs(r.get("ours_timing"), statistic),
                runs(r.get("scipy_timing"), statistic),
                r,
            )
    c = data["logcdf"]
    yield row(
        f"ncx2 logcdf n={c['n']}",
        c["ours_s"],
        "scipy.stats.ncx2.logcdf",
        c["scipy_s"],
        c["ratio"],
        runs(c.get("ours_timing"), statistic),
        runs(c.get("scipy_timing"), statistic),
        c,
    )


def rows_neighbors(data):
    statistic = data.get("timing", {}).get("statistic", "median")
    timings = data.get("timings", {})
    ours = data["seconds"]["ours"]
    for peer, seconds in data["seconds"].items():
        if peer != "ours":
            yield row(
                f"exact k={data['k']} neighbours n={data['n']}",
                ours,
                peer,
                seconds,
                seconds / ours,
                runs(timings.get("ours"), statistic),
                runs(timings.get(peer), statistic),
            )


def rows_kernel(data):
    statistic = data.get("timing", {}).get("statistic", "median")
    published = data["published"]
    yield row(
        "exact kernel bias, digits 1000/797",
        data["exact_s_per_error"],
        "published recipe (Adam extrapolated)",
        published["total_s"],
        published["total_s"] / data["exact_s_per_error"],
        runs(data.get("exact_timing"), statistic),
        "1 run",
        published,
    )
    subset = data.get("published_converged")
    if subset:
        epochs = f"{subset['epochs']:,} epochs" + ("" if subset["converged_as_published"] else ", NOT as published")
        yield row(
            f"exact kernel bias, digits subset {subset['n_train']}/{subset['n_test']}",
            subset["exact_s_per_error"],
            f"published recipe ({epochs})",
            subset["published"]["total_s"],
            subset["ratio"],
            runs(subset.get("exact_timing"), statistic),
            "1 run",
            subset["published"],
        )


def rows_networks(data):
    statistic = data.get("timing", {}).get("statistic", "median")
    yield row(
        f"random-feature hypotheses width {data['width']}",
        data["ours_s"],
        "plain NumPy loop",
        data["plain_s"],
        data["speedup"],
        runs(data.get("ours_timing"), statistic),
        runs(data.get("plain_timing"), statistic),
    )


def rows_conditional(data):
    """Seconds to a 95 % interval of +-1 bit at P ~ 1 %: the conditional estimate against counting
    sampled hypotheses (both scaled from the measured run: starred)."""
    for run_ in data["widths"]:
        r = run_["results"][1]  # the pilot sample's 1 % quantile
        yield row(
            f"random features width {run_['width']}: +-1 bit at P~1 % (conditional)",
            r["seconds_for_1_bit_conditional"],
            "counting sampled hypotheses",
            r["seconds_for_1_bit_count"],
            r["seconds_for_1_bit_count"] / r["seconds_for_1_bit_conditional"],
            "1 run",
            "1 run",
            r,
        )


def table(rows: list[dict]) -> list[str]:
    """The Markdown table; extrapolated peer figures starred, one footnote per distinct extrapolation."""
    lines = [
        "| benchmark | ours (s) | peer | peer (s) | ratio | timed runs (ours / peer) |",
        "|---|---|---|---|---|---|",
    ]
    notes: dict[str, str] = {}
    for r in rows:
        mark = ""
        if r["extrapolated"]:
            mark = notes.setdefault(r["extrapolated"], "\\*" * (len(notes) + 1))
        lines.append(
            f"| {r['label']} | {r['ours']:.4g} | {r['peer']} | {r['theirs']:.4g}{mark} "
            f"| {r['ratio']:.2f}x{mark} | {r['runs']} |"
        )
    if notes:
        lines.append("")
        lines += [f"{mark} Extrapolated, not measured: {how}." for how, mark in notes.items()]
    return lines


SUITE = [  # script, quick arguments, full arguments, JSON, summarizer, required peers
    (
        "bench_sampling.py",
        [],
        ["--mode", "full", "--n-hypotheses", "4000"],
        "sampling_cpu_{mode}.json",
        rows_sampling,
        [],
    ),
    ("bench_fit.py", [], ["--mode", "full"], "fit_{mode}.json", rows_fit, ["scipy"]),
    ("bench_neighbors.py", [], ["--mode", "full"], "neighbors_{mode}.json", rows_neighbors, ["sklearn", "faiss"]),
    ("bench_kernel.py", [], ["--mode", "full"], "kernel_{mode}.json", rows_kernel, ["sklearn"]),
    ("bench_networks.py", [], [], "networks_cpu.json", rows_networks, ["sklearn"]),
    ("bench_conditional.py", ["--quick"], [], "conditional.json", rows_conditional, []),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--no-run", action="store_true", help="only rebuild SUMMARY.md from the JSON in results/")
    args = parser.parse_args(argv)
    mode = "full" if args.full else "quick"
    lines = [
        "# Benchmark summary",
        "",
        f"Mode: {mode}. Machine: {platform.machine()}, {platform.processor() or 'CPU'}; Python "
        f"{platform.python_version()}; {_timing.DEFAULT_THREADS} threads for the library and BLAS (pinned). "
        "Regenerate with `python benchmarks/run_all.py` (`--full`).",
        "",
    ]
    rows, skipped = [], []
    for script, quick, full, name, summarize, peers in SUITE:
        missing = [p for p in peers if importlib.util.find_spec(p) is None]
        if missing:
            skipped.append(f"{script} (needs {', '.join(missing)})")
            continue
        if args.no_run:
            if not (RESULTS / name.format(mode=mode)).exists():
                skipped.append(f"{script} (no {name.format(mode=mode)})")
                continue
        elif not run(script, *(full if args.full else quick)):
            skipped.append(f"{script} (failed)")
            continue
        data = json.loads((RESULTS / name.format(mode=mode)).read_text())
        rows += summarize(data)
    lines += table(rows)
    lines += [
        "",
        "Ratio: peer time / our time (for 'matrix products alone': their share of our time). Timed runs: "
        "each time is the median (or, for sampling, the min) of that many timed runs after a warm-up; "
        "'1 run': timed once.",
    ]
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
