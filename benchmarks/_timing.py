"""The benchmarks' one timing helper: warm-up, repeats, pinned threads, extrapolated figures marked.

Every benchmarks/bench_*.py script times through this module, so its figures mean the same thing:

Warm-up and repeats
    `measure(fn, repeat=3, warmup=1)` calls `fn` (or a cheaper `warmup_fn` of the same code path)
    `warmup` times untimed, then `repeat` times timed, and keeps every time. A `Timing` gives both
    the median and the min; each script names the one its table uses (`statistic`), prints it in
    its table's heading and writes it into its JSON (`"timing": {"statistic": ...}` at the top, and
    `median_s`, `min_s`, `repeat`, `warmup`, `times_s` per measurement). Peers that take minutes run
    once (`repeat=1, warmup=0`), and the JSON says so.

Pinned threads
    `pin_threads(n)` sets the library's CPU threads (`inductive_bias.set_num_threads`) and the BLAS /
    OpenMP pools of NumPy and SciPy (through `threadpoolctl`, when it is installed) to the same `n`,
    and `threads()` records what each pool ended up with. Without `threadpoolctl` the BLAS pools can
    only be sized before NumPy loads: importing this module first (every script imports it before
    NumPy) sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, BLIS_NUM_THREADS,
    VECLIB_MAXIMUM_THREADS and NUMEXPR_NUM_THREADS to IB_BENCH_THREADS (default: every core) unless
    they are already set, and `pin_threads` then warns if asked for another count.

Extrapolated figures
    A figure that was not measured as a whole (e.g. 200 of 10,000 epochs timed and scaled) goes
    through `mark_extrapolated(record, how)`, which adds `"extrapolated": true` and
    `"extrapolation": how` to its JSON record; benchmarks/run_all.py stars such figures in
    SUMMARY.md and prints `how` as the star's footnote.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
DEFAULT_THREADS = int(os.environ.get("IB_BENCH_THREADS") or os.cpu_count() or 1)

try:
    import threadpoolctl
except ImportError:  # fall back on the environment, which only works before NumPy is imported
    threadpoolctl = None
    if "numpy" not in sys.modules:
        for _name in _THREAD_VARIABLES:
            os.environ.setdefault(_name, str(DEFAULT_THREADS))

STATISTICS = ("median", "min")


@dataclass
class Timing:
    """The timed repeats of one measurement (warm-up calls excluded) and the last call's value."""

    times: list[float]
    warmup: int
    value: Any = field(default=None, repr=False)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)

    def seconds(self, statistic: str) -> float:
        if statistic not in STATISTICS:
            raise ValueError(f"statistic: one of {STATISTICS}, got {statistic!r}")
        return self.median if statistic == "median" else self.min

    def record(self) -> dict:
        """The JSON fields of this measurement."""
        return {
            "median_s": self.median,
            "min_s": self.min,
            "repeat": len(self.times),
            "warmup": self.warmup,
            "times_s": list(self.times),
        }


def measure(
    fn: Callable[[], Any],
    *,
    repeat: int = 3,
    warmup: int = 1,
    warmup_fn: Callable[[], Any] | None = None,
    sync: Callable[[], Any] | None = None,
) -> Timing:
    """Call `warmup_fn` (default `fn`) `warmup` times untimed, then time `repeat` calls of `fn`.

    `sync` (e.g. a CUDA stream's synchronize) runs before and after each timed call, inside the timing
    after the call so that asynchronous work is counted."""
    if repeat < 1:
        raise ValueError(f"repeat: at least 1 timed call, got {repeat}")
    if warmup < 0:
        raise ValueError(f"warmup: cannot be negative, got {warmup}")
    sync = sync or (lambda: None)
    for _ in range(warmup):
        (warmup_fn or fn)()
        sync()
    times, value = [], None
    for _ in range(repeat):
        sync()
        begin = time.perf_counter()
        value = fn()
        sync()
        times.append(time.perf_counter() - begin)
    return Timing(times, warmup, value)


def once(fn: Callable[[], Any]) -> Timing:
    """One timed call and no warm-up: for peers that take minutes, and work that cannot be repeated."""
    return measure(fn, repeat=1, warmup=0)


def describe(statistic: str, repeat: int, warmup: int) -> str:
    """The words a table heading uses for its times, e.g. 'median of 3 timed runs after 1 warm-up'."""
    if repeat == 1:
        runs = "1 timed run"
    else:
        runs = f"{statistic} of {repeat} timed runs"
    return runs + (f" after {warmup} warm-up{'s' if warmup > 1 else ''}" if warmup else ", no warm-up")


def mark_extrapolated(record: dict, how: str) -> dict:
    """Mark a JSON record whose time was extrapolated rather than measured, and say how."""
    record["extrapolated"] = True
    record["extrapolation"] = how
    return record


def add_arguments(parser, *, repeat: int | None = 3, warmup: int = 1) -> None:
    """The timing options every bench script takes: --threads, --repeat, --warmup (repeat=None: the
    script picks per measurement unless --repeat is given)."""
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help="threads for the library and for BLAS (default: IB_BENCH_THREADS or every core)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=repeat,
        help="timed runs per measurement (default " + (f"{repeat})" if repeat else "set per size)"),
    )
    parser.add_argument(
        "--warmup", type=int, default=warmup, help=f"untimed warm-up runs before them (default {warmup})"
    )


_limiter = None


def pin_threads(n: int = DEFAULT_THREADS) -> dict:
    """Pin the library's threads and the BLAS / OpenMP pools to `n`; returns `threads()`."""
    global _limiter
    if n < 1:
        raise ValueError(f"threads: at least 1, got {n}")
    import numpy  # noqa: F401  (load the BLAS libraries so that threadpoolctl sees them)

    try:
        import scipy.linalg  # noqa: F401  (SciPy's wheels carry their own BLAS)
    except ImportError:
        pass
    import inductive_bias

    inductive_bias.set_num_threads(n)
    if threadpoolctl is not None:
        _limiter = threadpoolctl.threadpool_limits(limits=n)  # kept: the limits hold until the process ends
    else:
        fixed = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        if fixed != str(n):
            warnings.warn(
                f"threadpoolctl is not installed: BLAS threads stay at {fixed} (set at import by the "
                f"environment); set IB_BENCH_THREADS={n} to pin them to {n}",
                stacklevel=2,
            )
    return threads()


def threads() -> dict:
    """What each thread pool uses now, for the JSON: the library's count and every BLAS / OpenMP pool."""
    import inductive_bias

    record: dict = {
        "library": inductive_bias.get_num_threads(),
        "pinned_by": "threadpoolctl" if threadpoolctl is not None else "environment",
    }
    if threadpoolctl is not None:
        record["pools"] = [
            {
                "api": p.get("internal_api"),
                "prefix": p.get("prefix"),
                "threads": p.get("num_threads"),
                "version": p.get("version"),
            }
            for p in threadpoolctl.threadpool_info()
        ]
    else:
        record["environment"] = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    return record


def header(statistic: str, repeat: int, warmup: int, **extra) -> dict:
    """The JSON's top-level "timing" block: which statistic the tables use, the repeats, the threads."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic: one of {STATISTICS}, got {statistic!r}")
    return {
        "statistic": statistic,
        "repeat": repeat,
        "warmup": warmup,
        "described": describe(statistic, repeat, warmup),
        "threads": threads(),
        **extra,
    }
