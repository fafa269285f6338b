"""Comparing model classes: the inductive bias of several hypothesis spaces at several errors, each
space answered once by ``inductive_bias`` (one posterior or one sampling for all its errors)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import _validation
from ._arrays import Array
from .pipeline import inductive_bias
from .report import format_bits, format_interval, format_table, plot_bits, style_bits_axes

__all__ = ["Comparison", "ComparisonRow", "compare"]


@dataclass(frozen=True)
class ComparisonRow:
    """One space at one error.

    Attributes
    ----------
    space : str
        The name given in ``spaces``.
    error : float
    bits : float
    interval : tuple or None
        Sampled answers: the bootstrap interval in bits (sampling noise only).
    method : str
        ``"exact (<evaluation>)"``, ``"sample"`` or ``"sample (extrapolated)"``.
    seconds : float
        The space's time, shared evenly among its errors.
    extrapolated : bool
        The error lies below every sampled loss.
    """

    space: str
    error: float
    bits: float
    interval: tuple[float, float] | None
    method: str
    seconds: float
    extrapolated: bool = False


class Comparison:
    """One row per space and error; prints as a table, converts to pandas, plots bits vs error."""

    def __init__(self, rows: list[ComparisonRow]):
        self.rows = rows

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        return format_table(
            ["space", "error", "bits", "interval (bits)", "method", "seconds"],
            [
                [
                    r.space,
                    f"{r.error:.4g}",
                    format_bits(r.bits) + ("*" if r.extrapolated else ""),
                    format_interval(r.interval),
                    r.method,
                    f"{r.seconds:.2f}",
                ]
                for r in self.rows
            ],
            footnote="* the error lies below every sampled loss: the fitted tail is extrapolated"
            if any(r.extrapolated for r in self.rows)
            else "",
        )

    __repr__ = __str__

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (needs pandas)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("to_pandas needs pandas: pip install pandas") from None
        return pandas.DataFrame([r.__dict__ for r in self.rows])

    def plot(self, path: str | None = None, ax: Any = None) -> Any:
        """Bits vs error per space: log error axis, symmetric-log bits axis (linear below 1 bit),
        bootstrap intervals as bands, extrapolated values as hollow markers. Saved to ``path`` when given.
        Returns the matplotlib axes."""
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
            plot_bits(
                ax,
                [r.error for r in rows],
                [r.bits for r in rows],
                [r.interval for r in rows],
                [r.extrapolated for r in rows],
                label=name,
            )
        style_bits_axes(
            ax, [r.error for r in self.rows], [r.bits for r in self.rows], any(r.extrapolated for r in self.rows)
        )
        if path is not None:
            ax.figure.tight_layout()
            ax.figure.savefig(path, dpi=120)
        return ax


def compare(
    spaces: dict,
    X_train: Array,
    Y_train: Array,
    X_test: Array,
    Y_test: Array,
    errors: Sequence[float],
    n_hypotheses: int = 1000,
    seed: Any = 0,
    n_boot: int = 100,
    progress: bool | Callable = False,
) -> Comparison:
    """Inductive bias of each space at each error (``inductive_bias`` with ``method="auto"``: exact for
    kernel spaces, the published sample-and-fit with a bootstrap interval for every other space).

    Parameters
    ----------
    spaces : dict of name -> space
    X_train, Y_train, X_test, Y_test : arrays
        As for ``inductive_bias``.
    errors : sequence of floats
        Target errors; each space's posterior or sampling serves all of them.
    n_hypotheses, seed, n_boot, progress
        As for ``inductive_bias`` (sampled spaces).

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((60, 3)), rng.integers(0, 2, 60)
    >>> table = ib.compare({"rbf": ib.KernelSpace("rbf", lengthscale=2.0)}, X[:40], y[:40], X[40:], y[40:],
    ...                    errors=[0.3, 0.25])
    >>> len(table), table.rows[0].method.split()[0]
    (2, 'exact')
    """
    if not isinstance(spaces, dict) or not spaces:
        raise TypeError("spaces: expected a non-empty dict of name -> space")
    targets = _validation.target_errors(np.atleast_1d(errors), "errors").ravel()
    rows = []
    for name, space in spaces.items():
        begin = time.perf_counter()
        result = inductive_bias(
            space,
            X_train,
            Y_train,
            X_test,
            Y_test,
            targets,
            n_hypotheses=n_hypotheses,
            seed=seed,
            n_boot=n_boot,
            progress=progress,
        )
        seconds = (time.perf_counter() - begin) / targets.size
        bits = np.asarray(result.bits)
        extrapolated = np.broadcast_to(np.asarray(result.extrapolated), targets.shape)
        evaluation = np.broadcast_to(np.asarray(result.evaluation), targets.shape)
        for i, error in enumerate(targets):
            interval = None
            if result.interval is not None:
                scale = _validation.UNITS[result.unit] / _validation.UNITS["bits"]
                interval = (float(result.interval[i][0]) * scale, float(result.interval[i][1]) * scale)
            method = (
                f"exact ({evaluation[i]})"
                if result.method == "exact"
                else "sample (extrapolated)"
                if extrapolated[i]
                else "sample"
            )
            rows.append(
                ComparisonRow(name, float(error), float(bits[i]), interval, method, seconds, bool(extrapolated[i]))
            )
    return Comparison(rows)
