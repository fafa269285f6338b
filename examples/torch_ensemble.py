"""The inductive bias of trained PyTorch networks: an ensemble of small MLPs trained on digits.

Each hypothesis is a one-hidden-layer MLP trained from its own initialization (seeded by the
library's per-hypothesis seed) with Adam on the MSE to one-hot labels; the ensemble is trained at
once with torch.func (vmap over stacked parameters). CallableSpace turns the training loop into a
hypothesis space; bias_from_losses reads the published sample-and-fit estimate off its test losses.

    pip install torch scikit-learn
    python examples/torch_ensemble.py [--networks 64 --epochs 300]
"""

import argparse

import numpy as np
import torch
from torch.func import functional_call, stack_module_state, vmap

import inductive_bias as ib
from inductive_bias.datasets import load_task


def train_ensemble(seeds, X_train, Y_train, X_test, width, epochs, lr=1e-2):
    models = []
    for seed in seeds:
        torch.manual_seed(seed % 2**63)
        models.append(
            torch.nn.Sequential(
                torch.nn.Linear(X_train.shape[1], width), torch.nn.ReLU(), torch.nn.Linear(width, Y_train.shape[1])
            )
        )
    params, buffers = stack_module_state(models)
    base = models[0]

    def forward(p, b, x):
        return functional_call(base, (p, b), (x,))

    optimizer = torch.optim.Adam(params.values(), lr=lr)
    batched = vmap(forward, in_dims=(0, 0, None))
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = ((batched(params, buffers, X_train) - Y_train) ** 2).mean(dim=(1, 2)).sum()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return batched(params, buffers, X_test)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--networks", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--width", type=int, default=128)
    args = parser.parse_args()
    task = load_task()  # the built-in digits task: pixels / 16, 1000 train, 797 test
    X_train, X_test = (
        torch.from_numpy(task.X_train.astype(np.float32)),
        torch.from_numpy(task.X_test.astype(np.float32)),
    )
    Y_train = torch.from_numpy(np.eye(10, dtype=np.float32)[task.y_train])

    # Train the whole ensemble once, then serve hypothesis i's predictions by its seed.
    seeds = [ib.CallableSpace.hypothesis_seed(0, i) for i in range(args.networks)]
    predictions = dict(zip(seeds, train_ensemble(seeds, X_train, Y_train, X_test, args.width, args.epochs)))
    space = ib.CallableSpace(lambda seed: predictions[seed])
    losses = ib.sample_losses(
        space, task.X_train, task.y_train, task.X_test, task.y_test, args.networks, seed=0, progress=False
    )
    error = float(np.quantile(losses, 0.05))
    result = ib.bias_from_losses(losses, error, n_boot=100)
    print(
        f"{args.networks} trained MLPs (width {args.width}, {args.epochs} epochs): test MSE {losses.mean():.4f} "
        f"+- {losses.std():.4f}"
    )
    print(f"inductive bias at error {error:.4f}: {result.value:.2f} bits, interval {result.interval}")


if __name__ == "__main__":
    main()
