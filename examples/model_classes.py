"""Which model class needs the least inductive bias on digits: trained or Bayesian, wide or narrow?

Bits at several target errors (test MSE on one-hot labels) on the built-in digits task (pixels / 16,
1000 train / 797 test), for one-hidden-layer ReLU networks and two kernels:

- NNGP: infinitely wide networks as a Bayesian posterior (a GP with the NNGP kernel), exact;
- NTK: infinitely wide networks trained to convergence by gradient descent from a random
  initialization (``TrainedNetworkSpace``), exact;
- random features: finite networks of several widths (random hidden layer, output layer fitted from
  its random initialization), ``method="conditional"`` with a 95 % bootstrap interval over the
  feature draws; as they widen they tend to the NNGP;
- RBF and Laplacian kernels with the median lengthscale, exact.

It prints one row per class (with its mean test MSE) and writes a figure of bits against error.

    OPENBLAS_NUM_THREADS=1 python examples/model_classes.py [model_classes.png] [--draws 32]
        [--widths 2000 4000 8000] [--errors ...] [--markdown]

Nearly all the time goes to the random-feature draws (0.3-1.3 s each at widths 2000-8000). On two
cores shared with other work the default 32 draws took 80 s with ``OPENBLAS_NUM_THREADS=1`` and
7 minutes with OpenBLAS's default threads (the same numbers: threaded per-draw LAPACK calls are
slow on a busy machine; README, "Known limitations"); the README's table used ``--draws 128``
(4.5-7 minutes). Few draws overstate the bits deep in a tail, where the average rests on the few
luckiest draws: the table marks those cells with "?". Networks narrower than the training set
(``--widths 500``) cannot fit it: the library warns (``NonInterpolatingWarning``) and their row is not
an inductive bias. The figure needs matplotlib (``pip install "inductive-bias[plot]"``).
"""

import argparse
import time
import warnings

import numpy as np

import inductive_bias as ib
from inductive_bias.datasets import load_task
from inductive_bias.report import format_table

# From above the wide networks' mean test MSEs (NTK 0.0097, width 8000 0.0094, NNGP 0.0087) down
# into their lower tails; the narrower networks and the kernels are deep in theirs by then. No
# error is below a class's smallest reachable loss, so every answer is finite.
ERRORS = (0.016, 0.014, 0.012, 0.010, 0.0095, 0.009, 0.0085, 0.008)


def spaces(widths, n_train):
    network = ib.TrainedNetworkSpace(depth=1)  # He initialization (weight_var=2), no biases
    classes = {
        "NNGP (Bayesian, infinite width)": network.nngp(),
        "NTK (trained, infinite width)": network,
    }
    for width in widths:
        # initialized as the two above, so they tend to the NNGP as they widen; with fewer features
        # (+ bias) than training points no network fits the data, and the row is no inductive bias
        fits = width + 1 >= n_train
        name = f"random features, width {width}" + ("" if fits else " (cannot fit the training set)")
        classes[name] = ib.RandomFeatureSpace(width, depth=1)
    classes["RBF kernel"] = ib.KernelSpace("rbf", lengthscale="median")
    classes["Laplacian kernel"] = ib.KernelSpace("laplacian", lengthscale="median")
    return classes


def measure(space, data, errors, draws, seed):
    """One class at every error: bits, intervals, effective draws (random features), mean, seconds."""
    begin = time.perf_counter()
    if isinstance(space, ib.RandomFeatureSpace):
        with warnings.catch_warnings():
            # the table marks those cells itself ("?", from effective_draws below)
            warnings.simplefilter("ignore", ib.EstimatorWarning)
            result = ib.inductive_bias(space, *data, error=errors, method="conditional", n_draws=draws, seed=seed)
        effective = result.distribution.effective_draws(errors)
        intervals = [tuple(pair) for pair in result.interval]
    else:
        result = ib.inductive_bias(space, *data, error=errors)  # exact: one posterior for every error
        effective, intervals = None, [None] * len(errors)
    return {
        "bits": np.asarray(result.bits),
        "intervals": intervals,
        "effective": effective,
        "mean": result.distribution.mean(),
        "seconds": time.perf_counter() - begin,
    }


def bits(value):
    # short cells: the table has a column per error
    if np.isinf(value) or value >= 1e6:
        return f"{value:.3g}"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def cell(row, i, error):
    text = bits(row["bits"][i])
    if row["intervals"][i] is not None:
        text += " [{}, {}]".format(*(bits(b) for b in row["intervals"][i]))
    if row["effective"] is not None and row["effective"][i] < 10:
        text += "?"
    if error >= row["mean"]:
        text += "°"
    return text


def table(rows, errors, markdown):
    header = ["class", "mean test MSE"] + [f"{e:g}" for e in errors]
    body = [[name, f"{r['mean']:.4g}", *(cell(r, i, e) for i, e in enumerate(errors))] for name, r in rows.items()]
    notes = (
        "bits at each target error (test MSE); [95 % bootstrap interval over feature draws]; "
        "?: fewer than 10 effective draws (the interval may undercover); "
        "°: the error is at or above the class's mean test MSE"
    )
    if not markdown:
        return format_table(header, body, footnote=notes)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(line) + " |" for line in body]
    return "\n".join(lines + ["", notes])


def figure(rows, errors, path):
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        print(f'matplotlib is not installed: no figure written to {path} (pip install "inductive-bias[plot]")')
        return
    from inductive_bias.report import plot_bits, style_bits_axes

    widths = [name for name in rows if name.startswith("random features")]
    greens = plt.cm.Greens(np.linspace(0.45, 0.95, len(widths)))  # darker: wider
    styles = {
        "NNGP (Bayesian, infinite width)": {"color": "C0", "marker": "o"},
        "NTK (trained, infinite width)": {"color": "C3", "marker": "s"},
        "RBF kernel": {"color": "0.5", "marker": "D", "linestyle": "--"},
        "Laplacian kernel": {"color": "0.2", "marker": "v", "linestyle": ":"},
        **{name: {"color": color, "marker": "^"} for name, color in zip(widths, greens)},
    }
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for name, row in rows.items():
        # hollow markers (plot_bits' "extrapolated" style) flag the table's "?": few effective draws
        weak = [False] * len(errors) if row["effective"] is None else list(row["effective"] < 10)
        plot_bits(ax, errors, row["bits"], row["intervals"], weak, label=name, **styles[name])
    ax.plot([], [], "^", color="0.4", markerfacecolor="white", label="< 10 effective draws")
    style_bits_axes(ax, errors, np.concatenate([row["bits"] for row in rows.values()]), False)
    # the errors asked about as ticks (close together on this axis: turned to fit)
    ax.set_xticks(errors, [f"{e:g}" for e in errors], fontsize=8, rotation=45)
    ax.set_title("digits (1000 train / 797 test); bands: 95 % interval over feature draws", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figure", nargs="?", default="model_classes.png", help="PNG to write (default %(default)s)")
    parser.add_argument("--draws", type=int, default=32, help="feature draws per random-feature width")
    parser.add_argument("--widths", type=int, nargs="+", default=[2000, 4000, 8000])
    parser.add_argument("--errors", type=float, nargs="+", default=list(ERRORS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    task = load_task()  # the built-in digits task: pixels / 16, 1000 train, 797 test
    data = task.X_train, task.y_train, task.X_test, task.y_test
    errors = np.array(sorted(args.errors, reverse=True))
    begin = time.perf_counter()
    rows = {}
    for name, space in spaces(args.widths, len(task.y_train)).items():
        rows[name] = measure(space, data, errors, args.draws, args.seed)
        print(f"{name}: {rows[name]['seconds']:.1f} s", flush=True)
    print()
    print(table(rows, errors, args.markdown))
    print(f"\ntotal {time.perf_counter() - begin:.0f} s")
    figure(rows, errors, args.figure)


if __name__ == "__main__":
    main()
