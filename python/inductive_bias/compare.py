"""Comparing model classes: the inductive bias of several hypothesis spaces at several errors."""

from __future__ import annotations

import time
from typing import Any, Sequence
from dataclasses import dataclass

import numpy as np

from . import _validation
from .bias import bias_from_losses
from .exact import inductive_bias
from .kernels import KernelSpace
from .spaces import sample_losses
from ._arrays import Array

__all__ = ["Comparison", "ComparisonRow", "compare"]


@dataclass(frozen=True)
class ComparisonRow:
    space: str
    error: float
    bits: float
    interval: tuple[float, float] | None
    method: str
    seconds: float


class Comparison:
    """One row per space and error; prints as a table, converts to pandas, plots bits vs error."""

    def __init__(self, rows: list[ComparisonRow]):
        self.rows = rows

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        lines = [f"{'space':<28}{'error':>10}{'bits':>12}{'interval':>24}{'method':>22}{'seconds':>9}"]
        for r in self.rows:
            interval = f"[{r.interval[0]:.2f}, {r.interval[1]:.2f}]" if r.interval else "-"
            lines.append(f"{r.space:<28}{r.error:>10.4g}{r.bits:>12.2f}{interval:>24}{r.method:>22}{r.seconds:>9.2f}")
        return "\n".join(lines)

    __repr__ = __str__

    def to_pandas(self) -> Any:
        try:
            import pandas
        except ImportError:
            raise ImportError("to_pandas needs pandas: pip install pandas") from None
        return pandas.DataFrame([r.__dict__ for r in self.rows])

    def plot(self, path: str | None = None, ax: Any = None) -> Any:
        """Bits vs error per space (log error axis, symmetric-log bits axis: linear below 1 bit);
        saved to ``path`` when given."""
        try:
            import matplotlib

            if ax is None and path is not None:
                matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("plot needs matplotlib: pip install 'inductive-bias[plot]'") from None
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 4.2))
        for name in dict.fromkeys(r.space for r in self.rows):
            rows = sorted((r for r in self.rows if r.space == name), key=lambda r: r.error)
            errors = [r.error for r in rows]
            (line,) = ax.plot(errors, [r.bits for r in rows], marker="o", label=name)
            intervals = [r.interval for r in rows]
            if all(i is not None for i in intervals):
                ax.fill_between(errors, [i[0] for i in intervals], [i[1] for i in intervals],  # type: ignore[index]
                                color=line.get_color(), alpha=0.2)
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1.0)  # bits run from 0 to thousands
        ax.set_ylim(bottom=0)
        ax.set_xlabel("target error (test MSE)")
        ax.set_ylabel("inductive bias (bits)")
        ax.legend()
        if path is not None:
            ax.figure.tight_layout()
            ax.figure.savefig(path, dpi=120)
        return ax


def compare(spaces: dict, X_train: Array, Y_train: Array, X_test: Array, Y_test: Array, errors: Sequence[float],
            n_hypotheses: int = 1000, seed: int = 0, n_boot: int = 100, progress: bool = False) -> Comparison:
    """Inductive bias of each space at each error: exact for kernel spaces, sampled (the published
    fit, with a bootstrap interval) for every other space. Returns a :class:`Comparison`."""
    if not isinstance(spaces, dict) or not spaces:
        raise TypeError("spaces: expected a non-empty dict of name -> space")
    errors = [_validation.number("errors", e) for e in np.atleast_1d(errors)]
    rows = []
    for name, space in spaces.items():
        if isinstance(space, KernelSpace):
            for error in errors:
                begin = time.perf_counter()
                result = inductive_bias(space, X_train, Y_train, X_test, Y_test, error)
                rows.append(ComparisonRow(name, error, result.bits, None, result.method, time.perf_counter() - begin))
            continue
        begin = time.perf_counter()
        losses = sample_losses(space, X_train, Y_train, X_test, Y_test, n_hypotheses, seed=seed, progress=progress)
        sampling = time.perf_counter() - begin
        for error in errors:
            begin = time.perf_counter()
            estimate = bias_from_losses(losses, error, n_boot=n_boot, seed=seed)
            seconds = time.perf_counter() - begin + sampling / len(errors)
            rows.append(ComparisonRow(name, error, estimate.value, estimate.interval,
                                      "sample" + (" (extrapolated)" if estimate.extrapolated else ""), seconds))
    return Comparison(rows)


