"""A minimal progress bar on stderr for long work, switched off with progress=False.

Written here rather than taken from tqdm so that the package needs nothing beyond NumPy (GPU
machines without network install it with --no-deps)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, total: int, description: str, enabled: bool, unit: str = "it",
                 stream=None, min_interval_s: float = 0.2):
        self.total, self.description, self.unit = total, description, unit
        self.enabled = enabled and total > 0
        self.stream = stream if stream is not None else sys.stderr
        self.min_interval_s = min_interval_s
        self.done = 0
        self.started = self.last_drawn = time.perf_counter()

    def __enter__(self):
        return self

    def update(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self.last_drawn >= self.min_interval_s or self.done >= self.total):
            self.last_drawn = now
            rate = self.done / max(now - self.started, 1e-9)
            self.stream.write(f"\r{self.description}: {self.done}/{self.total} "
                              f"({100 * self.done / self.total:.0f}%) {rate:,.0f} {self.unit}/s")
            self.stream.flush()

    def __exit__(self, *exc):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
        return False


def progress_bar(total: int, description: str, enabled: bool, unit: str = "it") -> ProgressBar:
    return ProgressBar(total, description, enabled, unit)
