"""Formatting and figures of results: text tables that fit their values, the bits-vs-error panel
(shared with ``Comparison.plot``) and the command's report (text and figure). Nothing here computes.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "format_bits",
    "format_interval",
    "format_report",
    "format_table",
    "plot_bits",
    "plot_report",
    "style_bits_axes",
]


def format_bits(value: float | None) -> str:
    """Format a number of bits for a table.

    Two decimals, or four significant digits in scientific notation from a million bits on, so that
    a value never takes more than about 10 characters.

    Parameters
    ----------
    value : float or None
        The bits; None (no value) prints as ``"-"``, infinity as ``"inf"``.

    Returns
    -------
    str
        The formatted value.

    Examples
    --------
    >>> from inductive_bias.report import format_bits
    >>> format_bits(12.3456), format_bits(2.5e7), format_bits(None)
    ('12.35', '2.5e+07', '-')
    """
    if value is None:
        return "-"
    if np.isinf(value):
        return "inf"
    return f"{value:.2f}" if abs(value) < 1e6 else f"{value:.4g}"


def format_interval(interval) -> str:
    """Format an interval of bits as ``[low, high]``, each bound as ``format_bits`` writes it.

    Parameters
    ----------
    interval : tuple of float or None
        The bounds; None (no interval) prints as ``"-"``.

    Returns
    -------
    str
        The formatted interval.

    Examples
    --------
    >>> from inductive_bias.report import format_interval
    >>> format_interval((1.0, 2.25)), format_interval(None)
    ('[1.00, 2.25]', '-')
    """
    return "-" if interval is None else f"[{format_bits(interval[0])}, {format_bits(interval[1])}]"


def format_table(header: list[str], rows: list[list[str]], footnote: str = "") -> str:
    """Lay out a text table with columns as wide as their widest cell.

    The first column is aligned left, the others right; columns are separated by two spaces.

    Parameters
    ----------
    header : list of str
        The column titles.
    rows : list of list of str
        The cells, one list per row, as many cells as ``header`` has titles.
    footnote : str, optional
        A line added below the table when not empty.

    Returns
    -------
    str
        The table, lines separated by newlines, with no trailing newline.

    Examples
    --------
    >>> from inductive_bias.report import format_table
    >>> print(format_table(["space", "bits"], [["rbf", "12.50"], ["nngp_relu", "3.00"]]))
    space       bits
    rbf        12.50
    nngp_relu   3.00
    """
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = [
        "  ".join(str(cell).ljust(w) if i == 0 else str(cell).rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
        for line in [header, *rows]
    ]
    return "\n".join(lines + ([footnote] if footnote else []))


def plot_bits(ax, errors, bits, intervals, extrapolated, label: str, **style) -> None:
    """Draw one space's bits against error on a matplotlib axes.

    The values are joined by a line with filled markers, hollow where the value is extrapolated, and
    the bootstrap interval is drawn as a band when every point has one.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to draw on.
    errors, bits : sequence of float
        The target errors and the bits at each.
    intervals : sequence of tuple or None
        The bootstrap interval at each error, or None where there is none.
    extrapolated : sequence of bool
        Whether each value is extrapolated (the error lies below every sampled loss).
    label : str
        The legend label of the line.
    **style
        Keyword arguments of ``ax.plot`` for the line (``marker`` also sets the markers).
    """
    (line,) = ax.plot(errors, bits, label=label, **style)
    color = line.get_color()
    fitted = [i for i, e in enumerate(extrapolated) if not e]
    beyond = [i for i, e in enumerate(extrapolated) if e]
    marker = style.get("marker", "o")
    ax.plot([errors[i] for i in fitted], [bits[i] for i in fitted], marker, color=color, linestyle="none")
    ax.plot(
        [errors[i] for i in beyond],
        [bits[i] for i in beyond],
        marker,
        color=color,
        linestyle="none",
        markerfacecolor="white",
    )
    if intervals and all(i is not None for i in intervals):
        ax.fill_between(
            errors, [i[0] for i in intervals], [i[1] for i in intervals], color=color, alpha=0.2, linewidth=0
        )


def style_bits_axes(ax, errors, bits, any_extrapolated: bool) -> None:
    """Set the scales, ticks, labels and legend of a bits-vs-error axes.

    The error axis is logarithmic with few, readable ticks. The bits axis is logarithmic (bits run
    over decades), or symmetric-log (linear below 1 bit, where 0 bits is a value) when some value is
    below 1 bit.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes drawn by ``plot_bits``.
    errors : sequence of float
        Every error shown, for the ticks.
    bits : sequence of float or None
        Every value shown (None or infinite values are ignored), for the scale.
    any_extrapolated : bool
        Whether some value is extrapolated: the legend then explains the hollow markers.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    distinct = sorted(set(float(e) for e in errors))
    if len(distinct) <= 6 or distinct[-1] / distinct[0] < 10:
        # the errors asked about are the ticks (a handful: no crowded decade labels)
        ticks = distinct if len(distinct) <= 6 else list(np.geomspace(distinct[0], distinct[-1], 5))
        ax.set_xticks(ticks, [f"{t:.3g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.xaxis.set_major_locator(LogLocator())
    finite = [b for b in bits if b is not None and np.isfinite(b)]
    if finite and min(finite) >= 1:
        ax.set_yscale("log")
        # labels at 1, 2, 5 x 10^k over up to three decades (else at powers of 10), written plainly
        few_decades = max(finite) / min(finite) <= 1e3
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if few_decades else (1.0,)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(bottom=0)
    ax.set_xlabel("target error (test MSE)")
    ax.set_ylabel("inductive bias (bits)")
    if any_extrapolated:
        ax.plot([], [], "o", color="0.4", markerfacecolor="white", label="extrapolated (below every sample)")
    ax.legend(
        fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0
    )  # beside, not over, the lines


def format_report(report: dict) -> str:
    """Write the command-line report as text.

    It gives the task, its difficulty, then one row per space and error with the exact and the
    sample-and-fit bits.

    Parameters
    ----------
    report : dict
        The report the command builds (keys ``"task"``, ``"difficulty"``, ``"rows"``,
        ``"parameters"`` and ``"timings"``).

    Returns
    -------
    str
        The report, lines separated by newlines.
    """
    t, d = report["task"], report["difficulty"]
    lines = [
        f"task {t['name']}: {t['n_train']} train / {t['n_test']} test points, {t['features']} features, "
        f"{t['classes']} classes",
        f"task difficulty at error {d['error']:g}: {d['bits']:.4g} bits (log10 {d['log10_bits']:.2f}); "
        f"n = {d['n']}, m = {d['m']:g} (estimate {d['m_estimate']:.2f}), R = {d['R']:.4g}, "
        f"delta = {d['delta']:.4g}",
        "",
    ]
    rows = []
    for r in report["rows"]:
        rows.append(
            [
                r["space"],
                f"{r['error']:.5g}",
                format_bits(r["exact_bits"]) if "exact_bits" in r else "-",
                format_bits(r["sample_bits"]) + ("*" if r["extrapolated"] else ""),
                format_interval(r["sample_interval"]),
                f"{r['empirical_fraction']:.4g}",
            ]
        )
    footnote = ""
    if any(r["extrapolated"] for r in report["rows"]):
        footnote = (
            f"* below every sampled loss: the fitted tail is extrapolated "
            f"({report['parameters']['n_hypotheses']} hypotheses per space)"
        )
    lines.append(
        format_table(
            ["space", "error", "exact bits", "sample-and-fit bits", "95% interval", "sampled <= error"], rows, footnote
        )
    )
    lines.append("(the interval covers the sampling noise of the fit, not the misfit of the ncx2 model)")
    lines.append(f"total {sum(report['timings'].values()):.1f} s")
    return "\n".join(lines)


def plot_report(report: dict, path: str) -> None:
    """Draw the command-line report's figure and save it.

    Three panels: every space's sampled test losses with the fitted ncx2 density, the exact density
    and the target errors marked; ``log2 P(loss <= error)`` against the error (fit, exact and
    empirical) for each space; and bits against error per space, with the bootstrap intervals and
    the extrapolated points marked.

    Parameters
    ----------
    report : dict
        The report the command builds, with the sampled losses (``"_samples"``) and the exact
        distributions (``"_exact"``) of each space.
    path : str
        Where the figure is saved.

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot: needs matplotlib (pip install 'inductive-bias[plot]')") from None
    from .ncx2 import ScaledNCX2

    spaces = report["parameters"]["spaces"]
    errors = report["errors"]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(16, 4.6))
    everything = np.concatenate([report["_samples"][name] for name in spaces])
    low = min(float(everything.min()), min(errors)) * 0.98
    grid = np.linspace(low, float(everything.max()) * 1.02, 400)
    tail = np.linspace(min(errors) * 0.9, float(np.quantile(everything, 0.5)), 200)
    for name, color in zip(spaces, colors):
        losses = report["_samples"][name]
        rows = [r for r in report["rows"] if r["space"] == name]
        fit = ScaledNCX2(**rows[0]["fit"])
        exact = report["_exact"].get(name)
        left.hist(losses, bins=60, density=True, color=color, alpha=0.25, label=f"{name}: {len(losses)} sampled")
        left.plot(grid, fit.pdf(grid), color=color, label=f"{name}: fitted scaled ncx2")
        middle.plot(tail, fit.logcdf(tail) / math.log(2), color=color, label=f"{name}: fit")
        if exact is not None:
            left.plot(grid, exact.pdf(grid), "--", color=color, label=f"{name}: exact")
            middle.plot(tail, exact.logcdf(tail) / math.log(2), "--", color=color, label=f"{name}: exact")
        empirical = np.searchsorted(np.sort(losses), tail, side="right") / len(losses)
        middle.plot(
            tail[empirical > 0], np.log2(empirical[empirical > 0]), ":", color=color, label=f"{name}: empirical"
        )
        plot_bits(
            right,
            [r["error"] for r in rows],
            [r["sample_bits"] for r in rows],
            [r["sample_interval"] for r in rows],
            [r["extrapolated"] for r in rows],
            label=f"{name} (sample-and-fit)",
        )
        if "exact_bits" in rows[0]:
            right.plot(
                [r["error"] for r in rows], [r["exact_bits"] for r in rows], "--s", color=color, label=f"{name} (exact)"
            )
    for ax in (left, middle):
        for error in errors:
            ax.axvline(error, color="k", lw=0.7, ls=":")
        ymax = ax.get_ylim()[1]
        for error in errors:
            ax.annotate(
                f"{error:.3g}",
                (error, ymax),
                xytext=(2, -10),
                textcoords="offset points",
                fontsize=7,
                rotation=90,
                va="top",
            )
    left.set_xlabel("test MSE")
    left.set_ylabel("density")
    left.set_title("hypotheses' test losses (dotted: target errors)")
    left.legend(fontsize=7)
    middle.set_xlabel("target error (test MSE)")
    middle.set_ylabel("log2 P(loss <= error)")
    middle.set_title("lower tail")
    middle.legend(fontsize=7)
    shown = [r["sample_bits"] for r in report["rows"]] + [r.get("exact_bits") for r in report["rows"]]
    style_bits_axes(right, errors, shown, any(r["extrapolated"] for r in report["rows"]))
    right.set_title("bits vs error (band: bootstrap interval)")
    figure.tight_layout()
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
