"""``inductive_bias``: -log P(test loss <= error) of a kernel hypothesis space, exactly or sampled.

``method="exact"``: the generalized chi-squared distribution of the test MSE (no sampling, no fit).
``method="sample"``: the published recipe - sample hypotheses through the native sampler, fit a
scaled ncx2, read its tail - so both answers can sit side by side.
"""

from __future__ import annotations

import math
import time
from typing import Any
from dataclasses import dataclass, field

import numpy as np

from . import _backend, _validation
from ._arrays import Array, array_module, as_array, to_host
from .bias import _UNITS, _unit, bias_from_losses
from .gaussian_losses import sample_gaussian_losses
from .kernels import KernelSpace, posterior
from .neighbors import _points

__all__ = ["InductiveBias", "exact_bias", "inductive_bias"]


@dataclass
class InductiveBias:
    """The inductive bias ``value`` in ``unit`` at ``error``, with how it was obtained."""

    value: float
    unit: str
    error: float
    method: str                      # "exact" (with the evaluation used: ruben / saddlepoint) or "sample"
    interval: tuple[float, float] | None
    distribution: object             # GeneralizedChi2 (exact) or the fitted ScaledNCX2 (sample)
    jitter: float
    reason: str = ""                 # why the value is infinite, when it is
    evaluation_error: float = 0.0    # Ruben's truncation bound or the saddlepoint's error estimate
    timings: dict = field(default_factory=dict)

    @property
    def bits(self) -> float:
        return self.value * _UNITS[self.unit] / _UNITS["bits"]


def _targets(name: str, Y, n: int, classes: int | None, xp):
    """Integer labels -> one-hot [n, classes]; real targets [n, k] as they are."""
    Y, _ = as_array(name, Y)
    if array_module(Y) is not xp:
        Y = xp.asarray(to_host(Y))
    if Y.ndim == 1:
        if Y.dtype.kind not in "iu":
            raise TypeError(f"{name}: labels of shape [n] must be integers, got {Y.dtype}")
        if Y.shape[0] != n or int(Y.min()) < 0:
            raise ValueError(f"{name}: expected {n} labels >= 0, got shape {Y.shape}")
        return (Y[:, None] == xp.arange(classes)[None, :]).astype(np.float64)
    if Y.ndim != 2 or Y.shape[0] != n or Y.dtype.kind != "f":
        raise ValueError(f"{name}: expected {n} integer labels or real targets of shape [{n}, k], got {Y.shape}")
    _validation.finite(name, Y, xp)
    return Y.astype(np.float64)


def training_and_test_targets(Y_train, Y_test, n_train: int, n_test: int, xp):
    """Targets [n, k] for both sets: integer labels become one-hot over the classes of train and test
    (as the published method); real targets are used as they are."""
    labels = [to_host(Y) for Y in (Y_train, Y_test)]
    classes = None
    if all(y.ndim == 1 for y in labels):
        if not all(y.dtype.kind in "iu" for y in labels):
            raise TypeError("Y_train, Y_test: labels of shape [n] must be integers")
        classes = int(max(y.max() for y in labels)) + 1
    targets_train = _targets("Y_train", Y_train, n_train, classes, xp)
    targets_test = _targets("Y_test", Y_test, n_test, classes, xp)
    if targets_train.shape[1] != targets_test.shape[1]:
        raise ValueError("Y_test: must have as many outputs as Y_train")
    return targets_train, targets_test


def inductive_bias(space: KernelSpace, X_train: Array, Y_train: Array, X_test: Array, Y_test: Array, error: float,
                   method: str = "exact", unit: str = "bits", n_hypotheses: int = 10_000, seed: int = 0,
                   n_boot: int = 200, client: Any = None, task_size: int | None = None) -> InductiveBias:
    """-log P(test MSE <= error) for hypotheses of ``space`` that fit (X_train, Y_train).

    Labels become one-hot targets over the classes of train and test (as the published method);
    real targets ``[n, k]`` are used as they are. When ``error`` is at or below the part of the loss
    that no hypothesis can change (the null directions of the posterior), the answer is ``inf``,
    with the reason. ``client`` (a ``dask.distributed.Client``) runs the sampling of
    ``method="sample"`` on a cluster, bitwise as in one process.
    """
    if not isinstance(space, KernelSpace):
        raise TypeError(f"space: expected a KernelSpace, got {type(space).__name__}")
    if method not in ("exact", "sample"):
        raise ValueError(f"method: expected 'exact' or 'sample', got {method!r}")
    _unit(unit)  # validated before any work
    error = _validation.number("error", error)
    X_train, xp, _ = _points("X_train", X_train)
    X_test, test_xp, _ = _points("X_test", X_test)
    if test_xp is not xp:
        raise TypeError("X_test: must be on the same device as X_train")
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_test: expected {X_train.shape[1]} features, got {X_test.shape[1]}")
    for name, array in (("X_test", X_test), ("Y_train", Y_train), ("Y_test", Y_test)):
        _backend.same_device(name, array, X_train, "X_train")
    with _backend.on_device(X_train):
        return _inductive_bias(space, X_train, Y_train, X_test, Y_test, error, method, unit, n_hypotheses, seed,
                               n_boot, client, task_size, xp)


def _inductive_bias(space, X_train, Y_train, X_test, Y_test, error, method, unit, n_hypotheses, seed, n_boot, client,
                    task_size, xp):
    targets_train, targets_test = training_and_test_targets(Y_train, Y_test, X_train.shape[0], X_test.shape[0], xp)

    timings = {}
    begin = time.perf_counter()
    post = posterior(space, X_train, targets_train, X_test)
    timings["posterior_s"] = time.perf_counter() - begin
    begin = time.perf_counter()
    if method == "sample":
        if client is not None:
            from ._dask import distributed_gaussian_losses

            losses = distributed_gaussian_losses(client, post.mean, post.factor(), targets_test, n_hypotheses, seed,
                                                 "mse", 0, task_size, False)
        else:
            losses = sample_gaussian_losses(post.mean, post.factor(), targets_test, n_hypotheses, seed=seed)
        timings["sampling_s"] = time.perf_counter() - begin
        begin = time.perf_counter()
        estimate = bias_from_losses(losses, error, n_boot=n_boot, seed=seed, unit=unit)
        timings["fit_s"] = time.perf_counter() - begin
        return InductiveBias(estimate.value, unit, error, "sample", estimate.interval, estimate.distribution,
                             post.jitter, timings=timings)
    distribution = post.mse_distribution(targets_test)
    timings["distribution_s"] = time.perf_counter() - begin
    begin = time.perf_counter()
    result = exact_bias(distribution, error, unit)
    result.jitter, result.timings = post.jitter, timings | {"tail_s": time.perf_counter() - begin}
    return result


def exact_bias(distribution, error: float, unit: str = "bits") -> InductiveBias:
    """-log P(loss <= error) under an exact loss distribution (a GeneralizedChi2), or inf with the
    reason when error is at or below its offset."""
    per_nat = _unit(unit)
    if error <= distribution.offset:
        return InductiveBias(math.inf, unit, error, "exact", None, distribution, 0.0,
                             reason=f"error {error:g} is at or below {distribution.offset:g}, the part of the test "
                                    f"MSE that no hypothesis fitting the training data can change")
    evaluation = distribution.evaluate(error)
    return InductiveBias(-float(evaluation.log_cdf) / per_nat, unit, error, f"exact ({evaluation.method})", None,
                         distribution, 0.0, evaluation_error=float(evaluation.error))
