"""Which model class needs the least additional inductive bias on digits?

RBF and Laplacian kernels (median lengthscale), the infinitely wide one-hidden-layer ReLU network
(NNGP, exact) and finite random-feature ReLU networks of two widths (conditionally exact over
feature draws, with bootstrap intervals), on scikit-learn's digits (pixels / 16; 1000 train, 797 test;
test MSE on one-hot labels). `model_classes.py` is the fuller comparison (trained networks too).

    python examples/compare_digits.py [--plot comparison.png]
"""

import argparse
import time

import inductive_bias as ib
from inductive_bias.datasets import load_task


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plot", help="write bits vs error per space to this PNG")
    parser.add_argument("--n-draws", type=int, default=32, help="feature draws per random-feature space")
    args = parser.parse_args()
    task = load_task()  # the built-in digits task: pixels / 16, 1000 train, 797 test
    spaces = {
        "RBF kernel": ib.KernelSpace("rbf", lengthscale="median"),
        "Laplacian kernel": ib.KernelSpace("laplacian", lengthscale="median"),
        "NNGP ReLU (infinite width)": ib.KernelSpace("nngp_relu", depth=1),
        "ReLU random features 2000": ib.RandomFeatureSpace(2000, depth=1),
        "ReLU random features 8000": ib.RandomFeatureSpace(8000, depth=1),
    }
    begin = time.perf_counter()
    table = ib.compare(
        spaces,
        task.X_train,
        task.y_train,
        task.X_test,
        task.y_test,
        errors=[0.016, 0.014, 0.012, 0.0085],
        n_draws=args.n_draws,
        n_boot=100,
        seed=0,
    )
    print(table)
    print(f"total {time.perf_counter() - begin:.1f} s")
    if args.plot:
        table.plot(args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
