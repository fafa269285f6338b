"""Overlapping BLAS with native kernels on the CPU.

After a matrix product, BLAS's worker threads spin-wait for a while; native work queued behind the
product then shares the cores with them (measured: a Philox fill took twice as long). Running that
work in a second thread *while* the next product runs uses those cycles instead.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable


def _nothing(i: int) -> None:
    pass


def run_overlapped(
    n_steps: int, main: Callable[[int], None], side: Callable[[int], None], after: Callable[[int], None] = _nothing
) -> None:
    """For i in 0..n_steps-1, run main(i) on this thread while side(i) runs on a worker, then after(i)
    on this thread (progress reports: users' callbacks never run on our worker); then side(n_steps)
    and after(n_steps). Callers make side(i) touch only buffers that main(i) does not (double buffers)."""
    if n_steps == 0:
        side(0)
        after(0)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="inductive-bias") as worker:
        for i in range(n_steps):
            pending = worker.submit(side, i)
            main(i)
            pending.result()
            after(i)
    side(n_steps)
    after(n_steps)


def run_serial(
    n_steps: int, main: Callable[[int], None], side: Callable[[int], None], after: Callable[[int], None] = _nothing
) -> None:
    """The same order of work without a thread (GPU: kernels are queued on one stream anyway)."""
    for i in range(n_steps):
        side(i)
        main(i)
        after(i)
    side(n_steps)
    after(n_steps)
