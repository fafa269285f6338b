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
    """The inductive bias of one hypothesis space at one target error: a row of a ``Comparison``.

    Parameters
    ----------
    space : str
        The space's name.
    error, bits : float
        The target error and the inductive bias in bits.
    interval : tuple of float or None
        The bootstrap interval in bits, for sampled answers.
    method : str
        How the value was obtained.
    seconds : float
        The time spent.
    extrapolated : bool, default False
        Whether the error lies below every sampled loss.

    Attributes
    ----------
    space : str
        The name given in ``spaces``.
    error : float
        The target error (test MSE).
    bits : float
        The inductive bias in bits.
    interval : tuple or None
        Sampled answers: the bootstrap interval in bits (sampling noise only).
    method : str
        ``"exact (<evaluation>)"``, ``"sample"`` or ``"sample (extrapolated)"``.
    seconds : float
        The space's time, shared evenly among its errors.
    extrapolated : bool
        The error lies below every sampled loss.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> row = ib.ComparisonRow("rbf", 0.25, 12.5, None, "exact (ruben)", 0.01)
    >>> row.bits, row.extrapolated
    (12.5, False)
    """

    space: str
    error: float
    bits: float
    interval: tuple[float, float] | None
    method: str
    seconds: float
    extrapolated: bool = False


class Comparison:
    """The inductive bias of several spaces at several errors, as returned by :func:`compare`.

    It holds one row per space and error, prints as a table, iterates over its rows, converts to a
    pandas data frame and plots bits against error.

    Parameters
    ----------
    rows : list of ComparisonRow
        The rows, in the order they are shown.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> table = ib.Comparison([ib.ComparisonRow("rbf", 0.25, 12.5, None, "exact (ruben)", 0.01)])
    >>> len(table), [row.space for row in table]
    (1, ['rbf'])
    >>> print(table)  # doctest: +NORMALIZE_WHITESPACE
    space  error   bits  interval (bits)         method  seconds
    rbf     0.25  12.50                -  exact (ruben)     0.01
    """

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
        """Convert the rows to a pandas data frame (needs pandas).

        Returns
        -------
        pandas.DataFrame
            One row per ``ComparisonRow``, one column per field.

        Raises
        ------
        ImportError
            When pandas is not installed.
        """
        try:
            import pandas
        except ImportError:
            raise ImportError("to_pandas needs pandas: pip install pandas") from None
        return pandas.DataFrame([r.__dict__ for r in self.rows])

    def plot(self, path: str | None = None, ax: Any = None) -> Any:
        """Plot bits against error, one line per space (needs matplotlib).

        The error axis is logarithmic; the bits axis is logarithmic, or symmetric-log (linear below
        1 bit) when some value is below 1 bit. Bootstrap intervals are drawn as bands and
        extrapolated values as hollow markers.

        Parameters
        ----------
        path : str, optional
            Where to save the figure; nothing is saved when it is None.
        ax : matplotlib.axes.Axes, optional
            The axes to draw on; by default a new figure.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.

        Raises
        ------
        ImportError
            When matplotlib is not installed.
        """
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
            ax.figure.savefig(path, dpi=120, bbox_inches="tight")
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
    n_draws: int = 256,
) -> Comparison:
    """Compute the inductive bias of several hypothesis spaces at several target errors.

    Each space is answered once by ``inductive_bias`` with ``method="auto"``: exactly for kernel
    spaces, conditionally exactly for random-feature spaces that interpolate the training data, by
    the published sample-and-fit with a bootstrap interval for every other space.

    Parameters
    ----------
    spaces : dict of str to KernelSpace, TrainedNetworkSpace, RandomFeatureSpace or CallableSpace
        The spaces to compare, by the names shown in the table.
    X_train, Y_train, X_test, Y_test : arrays
        As for ``inductive_bias``.
    errors : sequence of float
        Target errors; each space's posterior or sampling serves all of them.
    n_hypotheses : int
        As for ``inductive_bias`` (sampled spaces only).
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        As for ``inductive_bias``.
    n_boot : int
        As for ``inductive_bias`` (sampled spaces only).
    progress : bool or callable
        As for ``inductive_bias``.
    n_draws : int
        As for ``inductive_bias`` (random-feature spaces answered conditionally only).

    Returns
    -------
    Comparison
        One row per space and error, spaces in the order given.

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
    seed = _validation.seed(seed)  # once: every space sees the same hypotheses' seed
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
            n_draws=n_draws,
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
                else "conditional"
                if result.method == "conditional"
                else "sample (extrapolated)"
                if extrapolated[i]
                else "sample"
            )
            rows.append(
                ComparisonRow(name, float(error), float(bits[i]), interval, method, seconds, bool(extrapolated[i]))
            )
    return Comparison(rows)
