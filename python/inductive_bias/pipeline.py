"""``inductive_bias``: -log P(test loss <= error) for the hypotheses of any space that fit the training
data. The one place where the method is chosen.

- ``method="exact"``: spaces with a closed form (kernel and trained-network spaces) give the generalized chi-squared
  distribution of the test MSE from their posterior: no sampling, no fit.
- ``method="sample"``: the published recipe for every space: sample hypotheses, fit a scaled ncx2 to
  their test losses, read its lower tail.
- ``method="conditional"``: random-feature spaces: the exact test-MSE distribution given each of
  ``n_draws`` feature draws, averaged in log space, with a bootstrap over the draws (``conditional``).
- ``method="auto"`` (default): exact where the space has a closed form, conditional for
  random-feature spaces that interpolate the training data, otherwise sampled.
- ``method="both"``: exact, with the sampled answer from the same posterior beside it (``.sampled``).

Every error is read from one posterior, one sampling and one fit.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import _backend, _validation
from ._arrays import Array
from .bias import bias_from_losses, read_fit
from .conditional import ConditionalDistribution, conditional_distribution, read_conditional
from .gchi2 import GeneralizedChi2
from .ncx2 import ScaledNCX2
from .posterior import Posterior, posterior_of_targets, training_and_test_targets
from .sampling import losses_and_restore, posterior_losses
from .spaces import CallableSpace, KernelSpace, RandomFeatureSpace, TrainedNetworkSpace

__all__ = ["METHODS", "InductiveBias", "exact_bias", "inductive_bias"]

METHODS = ("auto", "exact", "sample", "both", "conditional")
"""The values ``inductive_bias`` accepts for ``method``."""


@dataclass
class InductiveBias:
    """The inductive bias at one or several target errors, with how it was obtained.

    Returned by :func:`inductive_bias` and :func:`exact_bias`. Fields holding one value per error
    are floats (bools) for a scalar ``error`` and arrays of its shape for an array of errors.

    Parameters
    ----------
    value : float, numpy.ndarray or None
        The inductive bias in ``unit``.
    unit : str
        The unit of ``value``.
    error : float, numpy.ndarray or None
        The target error(s).
    method : str
        How ``value`` was obtained.
    interval : tuple of float, numpy.ndarray or None
        The bootstrap interval of sampled answers.
    distribution : GeneralizedChi2 or ScaledNCX2
        The exact or fitted loss distribution.
    jitter : float, default 0.0
        The relative jitter added to the kernel matrix.
    reason : str, default ""
        Why some values are infinite.
    evaluation : str or numpy.ndarray, default ""
        The evaluation method per error (exact answers).
    evaluation_error : float or numpy.ndarray, default 0.0
        Its error estimate on log P.
    extrapolated : bool or numpy.ndarray, default False
        Whether each error lies below every sampled loss.
    empirical_fraction : float, numpy.ndarray or None, default None
        The fraction of sampled losses at or below each error.
    confidence : float, default 0.95
        Coverage of ``interval``.
    sampled : InductiveBias or None, default None
        The sampled answer beside an exact one.
    losses : array or None, default None
        The sampled test losses.
    posterior : Posterior or None, default None
        The posterior of a kernel space.
    timings : dict, optional
        Seconds per stage (empty by default).
    fit : Ncx2Fit or None, default None
        The fit behind a sampled answer, which ``at`` reads again.
    effective_draws : float, numpy.ndarray or None, default None
        Conditional answers: how many feature draws carry the average at each error.

    Attributes
    ----------
    value : float or ndarray
        ``-log P(test loss <= error)`` in ``unit``; ``inf`` where no hypothesis can reach the error
        (see ``reason``).
    unit : {"bits", "nats"}
        The unit of ``value``.
    error : float or ndarray
        The target error(s).
    method : {"exact", "sample", "conditional"}
        How ``value`` was obtained.
    interval : tuple, ndarray [..., 2] or None
        Sampled answers: the percentile bootstrap interval of the fit, which covers the sampling
        noise only (not the misfit of the ncx2 model). Conditional answers: the percentile bootstrap
        interval over the feature draws, which covers their sampling noise (the conditional
        probabilities are exact). None for exact answers.
    distribution : GeneralizedChi2, ScaledNCX2 or ConditionalDistribution
        The exact loss distribution, the fitted one, or the per-draw conditional ones.
    jitter : float
        Added to the diagonal of the matrix that was factored, relative to its mean diagonal: the
        kernel (or NTK) matrix for kernel and trained-network spaces; for conditional answers the
        largest any kept feature draw's Gram matrix needed (draws are solved one by one, each with
        its own jitter); 0 for sampled answers.
    reason : str
        Why some values are infinite, when they are.
    evaluation : str or ndarray
        Exact answers: the evaluation used per error (``"ruben"``, ``"inversion"``, ``"saddlepoint"``).
    evaluation_error : float or ndarray
        Exact answers: the evaluation's error estimate on log P; conditional answers: the largest of
        the draws' estimates.
    extrapolated : bool or ndarray
        Sampled answers: the error lies below every sampled loss (the fitted tail is extrapolated).
    empirical_fraction : float, ndarray or None
        Sampled answers: the fraction of sampled losses at or below the error.
    confidence : float
        Sampled answers: the coverage of ``interval``.
    sampled : InductiveBias or None
        ``method="both"``: the sampled answer from the same posterior.
    losses : array or None
        Sampled answers: the sampled test losses.
    posterior : Posterior or None
        Kernel spaces: the posterior on the test set, computed once.
    timings : dict
        Seconds per stage.
    fit : Ncx2Fit or None
        Sampled answers: the fit of the losses with its bootstrap replicates.
    effective_draws : float, ndarray or None
        Conditional answers: ``(sum p_i)^2 / sum p_i^2`` over the draws' conditional probabilities
        ``p_i`` at each error (between 1 and the number of draws; 0 where no draw reaches the
        error): how many draws the average rests on. Below about 10 its interval may undercover.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> r = ib.exact_bias(ib.GeneralizedChi2([1.0], 2), [2.0, 4.0])
    >>> r.method, r.unit, r.evaluation.tolist()
    ('exact', 'bits', ['ruben', 'ruben'])
    """

    value: Any  # float, ndarray of the errors' shape, or None (error=None)
    unit: str
    error: Any
    method: str
    interval: Any
    distribution: Any
    jitter: float = 0.0
    reason: str = ""
    evaluation: Any = ""
    evaluation_error: Any = 0.0
    extrapolated: Any = False
    empirical_fraction: Any = None
    confidence: float = 0.95
    sampled: InductiveBias | None = field(default=None, repr=False)
    losses: Array | None = field(default=None, repr=False)
    posterior: Posterior | None = field(default=None, repr=False)
    timings: dict = field(default_factory=dict)
    fit: Any = field(default=None, repr=False)
    effective_draws: Any = None

    @property
    def bits(self) -> Any:
        """The inductive bias ``value`` converted to bits (None when no error was given)."""
        if self.value is None:
            return None
        return self.value * _validation.UNITS[self.unit] / _validation.UNITS["bits"]

    def at(self, error: float | Array) -> InductiveBias:
        """Read the same answer at other target errors, with no new posterior, sampling or fit.

        Parameters
        ----------
        error : float or array of floats
            The target error(s) to read the answer at.

        Returns
        -------
        InductiveBias
            The answer at ``error``, sharing this one's posterior, losses, timings and sampled answer
            (read at ``error`` too).

        Examples
        --------
        >>> import inductive_bias as ib
        >>> r = ib.exact_bias(ib.GeneralizedChi2([1.0], 2), 2.0)
        >>> round(r.at(4.0).value, 6)  # -log2(1 - exp(-2))
        0.209787
        """
        errors = _validation.target_errors(error)
        if self.method == "exact":
            read = _exact(self.distribution, errors, self.unit, _validation.per_nat(self.unit))
        elif self.method == "conditional":
            read = _conditional(self.distribution, errors, self.unit, self.confidence)
        else:
            read = _from_estimate(read_fit(self.fit, errors, self.unit, self.confidence), self.losses, {})
        sampled = self.sampled.at(error) if self.sampled is not None else None
        return dataclasses.replace(
            read,
            jitter=self.jitter,
            posterior=self.posterior,
            sampled=sampled,
            losses=self.losses,
            timings=self.timings,
        )


def inductive_bias(
    space: KernelSpace | TrainedNetworkSpace | RandomFeatureSpace | CallableSpace,
    X_train: Array,
    Y_train: Array,
    X_test: Array,
    Y_test: Array,
    error: float | Array,
    method: str = "auto",
    unit: str = "bits",
    n_hypotheses: int = 10_000,
    seed: Any = 0,
    n_boot: int = 200,
    confidence: float = 0.95,
    client: Any = None,
    task_size: int | None = None,
    progress: bool | Callable = False,
    n_draws: int = 256,
) -> InductiveBias:
    """Compute the inductive bias of a hypothesis space on a task.

    The inductive bias is ``-log P(test MSE <= error)`` over the hypotheses of ``space`` that fit
    ``(X_train, Y_train)``: the information, beyond the training data, needed to pick a hypothesis
    that generalizes to within ``error``.

    Parameters
    ----------
    space : KernelSpace, TrainedNetworkSpace, RandomFeatureSpace or CallableSpace
        The hypothesis space.
    X_train : array [n, d]
        Training inputs. NumPy arrays run on the CPU, CuPy arrays (or CUDA tensors of PyTorch / JAX)
        on their GPU.
    Y_train : array [n] of int labels, or [n, k] of real targets
        Training targets. Labels become one-hot targets over the classes of train and test together
        (as in the published method).
    X_test : array [t, d]
        Test inputs, on the device of ``X_train``.
    Y_test : array [t] of int labels, or [t, k] of real targets
        Test targets, of the same kind as ``Y_train``.
    error : float, array of floats, or None
        Target test MSE(s). One posterior, one sampling and one fit serve every error; results then
        hold one value per error. None: no error yet (``value`` is None); read the result at
        errors later with ``InductiveBias.at``, without recomputing anything.
    method : {"auto", "exact", "sample", "both", "conditional"}
        ``"auto"``: exact for kernel and trained-network spaces, sampled otherwise. ``"both"``:
        exact, with the sampled answer from the same posterior in ``.sampled`` (those spaces).
        ``"auto"`` answers a ``RandomFeatureSpace`` with at least as many features as training
        points (``width``, plus the bias column when ``bias_var > 0``) by ``"conditional"``: the
        exact test-MSE distribution given each of ``n_draws`` feature draws,
        ``log P = logsumexp_i log P(loss <= error | draw i) - log n_draws``,
        with a bootstrap interval over the draws; unbiased in ``P``, no fit and no tail
        extrapolation (:func:`conditional_distribution`).
    unit : {"bits", "nats"}
        Unit of the result.
    n_hypotheses : int
        Hypotheses sampled by the sampled method; ignored by ``"exact"`` and ``"conditional"``
        (so also by ``"auto"`` for a ``RandomFeatureSpace`` it answers by ``"conditional"``).
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Addresses the Philox streams of the hypotheses (and the bootstrap): the same seed gives the
        same hypotheses on any device, thread count or cluster.
    n_boot : int
        Bootstrap refits for the sampled interval (0: none).
    confidence : float
        Coverage of the sampled interval.
    client : dask.distributed.Client, optional
        Runs the sampling (or the feature draws) on a cluster, bitwise as in one process.
    task_size : int, optional
        Hypotheses (feature draws) per Dask task (default: from the space's cost).
    progress : bool or callable
        A progress bar (tqdm) over the sampled hypotheses, shown when stderr is a terminal; a
        callable is called as ``progress(done, total)`` instead. Off by default.
    n_draws : int
        Feature draws of the conditional method; ignored by the other methods.

    Returns
    -------
    InductiveBias
        The value at every error, with the distribution behind it and how it was obtained.

    Raises
    ------
    ValueError
        Bad arguments (the message names the argument); ``method="exact"`` for a space with no closed form.
    TypeError
        Arguments of the wrong type.

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((60, 3)), rng.integers(0, 2, 60)
    >>> r = ib.inductive_bias(ib.KernelSpace("rbf", lengthscale=2.0), X[:40], y[:40], X[40:], y[40:],
    ...                       error=[0.3, 0.25])
    >>> r.method, r.bits.shape, bool(0 < r.bits[0] < r.bits[1])
    ('exact', (2,), True)
    """
    if not isinstance(space, (KernelSpace, TrainedNetworkSpace, RandomFeatureSpace, CallableSpace)):
        raise TypeError(
            "space: expected a KernelSpace, TrainedNetworkSpace, RandomFeatureSpace or CallableSpace, "
            f"got {type(space).__name__}"
        )
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    closed_form = isinstance(space, (KernelSpace, TrainedNetworkSpace))
    if method == "conditional" and not isinstance(space, RandomFeatureSpace):
        raise ValueError(
            f"method: 'conditional' needs a RandomFeatureSpace (hypotheses Gaussian given random features), "
            f"got a {type(space).__name__}"
        )
    if method in ("exact", "both") and not closed_form:
        raise ValueError(
            f"method: {method!r} needs a space with a closed-form loss distribution "
            f"(a KernelSpace or TrainedNetworkSpace); "
            f"a {type(space).__name__} is answered by method='sample'"
            + (" or method='conditional'" if isinstance(space, RandomFeatureSpace) else "")
        )
    if method == "auto":
        method = "exact" if closed_form else "sample"
        # Random features: the conditional estimate is unbiased in P and (Rao-Blackwell) varies less per
        # draw than a sampled hypothesis, with no fit to misfit (benchmarks/bench_conditional.py).
        # Narrower than the training set it only counts least-squares losses: sample-and-fit stays.
        if isinstance(space, RandomFeatureSpace):
            n_train = _validation.points("X_train", X_train)[0].shape[0]  # named errors for bad input
            method = "conditional" if space.feature_count() >= n_train else "sample"
    per_nat = _validation.per_nat(unit)  # validated before any work
    errors = None if error is None else _validation.target_errors(error)
    seed = _validation.seed(seed)  # once: a Generator is advanced once per call
    n_hypotheses = _validation.integer("n_hypotheses", n_hypotheses, 3)
    n_draws = _validation.integer("n_draws", n_draws, 1)  # checked even where the method ignores it
    if task_size is not None:
        task_size = _validation.integer("task_size", task_size, 1)
    n_boot = _validation.integer("n_boot", n_boot)
    confidence = _validation.probability("confidence", confidence)
    if not (isinstance(progress, bool) or callable(progress)):
        raise TypeError(f"progress: expected True, False or a callable (done, total), got {type(progress).__name__}")
    if method == "conditional" and isinstance(space, RandomFeatureSpace):  # (checked above: narrows the type)
        begin = time.perf_counter()
        mixture = conditional_distribution(
            space,
            X_train,
            Y_train,
            X_test,
            Y_test,
            n_draws=n_draws,
            seed=seed,
            n_boot=n_boot,
            client=client,
            task_size=task_size,
            progress=progress,
        )
        timings = {"draws_s": time.perf_counter() - begin}
        begin = time.perf_counter()
        result = _conditional(mixture, errors, unit, confidence)
        timings["tail_s"] = time.perf_counter() - begin
        result.timings = timings
        return result
    if not closed_form:
        begin = time.perf_counter()
        losses, restore = losses_and_restore(
            space,
            X_train,
            Y_train,
            X_test,
            Y_test,
            n_hypotheses,
            seed=seed,
            progress=progress,
            client=client,
            task_size=task_size,
        )
        timings = {"sampling_s": time.perf_counter() - begin}
        result = _sampled(losses, errors, unit, n_boot, seed, confidence, timings)
        result.losses = restore(losses)  # fitted in float64 on the host or GPU, returned in the caller's type
        return result
    X_train, xp, restore = _validation.points("X_train", X_train)
    X_test, test_xp, _ = _validation.points("X_test", X_test)
    if test_xp is not xp:
        raise TypeError("X_test: must be on the same device as X_train")
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_test: expected {X_train.shape[1]} features like X_train, got {X_test.shape[1]}")
    for name, array in (("X_test", X_test), ("Y_train", Y_train), ("Y_test", Y_test)):
        _backend.same_device(name, array, X_train, "X_train")
    with _backend.on_device(X_train):
        targets_train, targets_test = training_and_test_targets(Y_train, Y_test, X_train.shape[0], X_test.shape[0], xp)
        begin = time.perf_counter()
        post = posterior_of_targets(space, X_train, targets_train, X_test)
        timings = {"posterior_s": time.perf_counter() - begin}
        sampled = None
        if method in ("sample", "both"):
            begin = time.perf_counter()
            losses = posterior_losses(
                post, targets_test, n_hypotheses, seed, progress=progress, client=client, task_size=task_size
            )
            sampled = _sampled(
                losses, errors, unit, n_boot, seed, confidence, {"sampling_s": time.perf_counter() - begin}
            )
            sampled.jitter, sampled.posterior, sampled.losses = post.jitter, post, restore(losses)
            if method == "sample":
                sampled.timings = timings | sampled.timings
                return sampled
        begin = time.perf_counter()
        distribution = post.mse_distribution(targets_test)
        timings["distribution_s"] = time.perf_counter() - begin
    begin = time.perf_counter()
    result = _exact(distribution, errors, unit, per_nat)
    timings["tail_s"] = time.perf_counter() - begin
    result.jitter, result.posterior, result.sampled, result.timings = post.jitter, post, sampled, timings
    return result


def _sampled(
    losses, errors: np.ndarray | None, unit: str, n_boot: int, seed: int, confidence: float, timings: dict
) -> InductiveBias:
    begin = time.perf_counter()
    if errors is None:
        confidence = _validation.probability("confidence", confidence)
        fit = ScaledNCX2.fit(losses, n_boot=n_boot, seed=seed)
        timings["fit_s"] = time.perf_counter() - begin
        return InductiveBias(
            None,
            unit,
            None,
            "sample",
            None,
            fit.distribution,
            confidence=confidence,
            losses=losses,
            timings=timings,
            fit=fit,
        )
    estimate = bias_from_losses(losses, errors, n_boot=n_boot, seed=seed, unit=unit, confidence=confidence)
    timings["fit_s"] = time.perf_counter() - begin
    return _from_estimate(estimate, losses, timings)


def _from_estimate(estimate, losses, timings: dict) -> InductiveBias:
    return InductiveBias(
        estimate.value,
        estimate.unit,
        estimate.error,
        "sample",
        estimate.interval,
        estimate.distribution,
        extrapolated=estimate.extrapolated,
        empirical_fraction=estimate.empirical_fraction,
        confidence=estimate.confidence,
        losses=losses,
        timings=timings,
        fit=estimate.fit,
    )


def _conditional(
    distribution: ConditionalDistribution, errors: np.ndarray | None, unit: str, confidence: float
) -> InductiveBias:
    if errors is None:
        return InductiveBias(
            None, unit, None, "conditional", None, distribution, jitter=distribution.jitter, confidence=confidence
        )
    read = read_conditional(distribution, errors, unit, confidence)
    return InductiveBias(
        read.value,
        unit,
        read.error,
        "conditional",
        read.interval,
        distribution,
        jitter=distribution.jitter,
        reason=read.reason,
        evaluation_error=read.evaluation_error,
        confidence=confidence,
        effective_draws=read.effective_draws,
    )


def _exact(distribution: GeneralizedChi2, errors: np.ndarray | None, unit: str, per_nat: float) -> InductiveBias:
    if errors is None:
        return InductiveBias(None, unit, None, "exact", None, distribution)
    flat = errors.ravel()
    reachable = flat > distribution.offset
    value = np.full(flat.shape, math.inf)
    evaluation = np.full(flat.shape, "none", dtype=object)
    evaluation_error = np.zeros(flat.shape)
    if reachable.any():
        evaluated = distribution.evaluate(flat[reachable])
        value[reachable] = -evaluated.log_cdf / per_nat
        evaluation[reachable] = evaluated.method
        evaluation_error[reachable] = evaluated.error
    reason = ""
    if not reachable.all():
        reason = (
            f"errors at or below {distribution.offset:g}, the part of the test MSE that no hypothesis fitting "
            f"the training data can change, are unreachable (inf)"
        )
    return InductiveBias(
        _validation.shaped_like(value, errors),
        unit,
        _validation.shaped_like(flat, errors),
        "exact",
        None,
        distribution,
        reason=reason,
        evaluation=_validation.shaped_like(evaluation.astype(str), errors),
        evaluation_error=_validation.shaped_like(evaluation_error, errors),
    )


def exact_bias(distribution: GeneralizedChi2, error: float | Array, unit: str = "bits") -> InductiveBias:
    """Compute the inductive bias ``-log P(loss <= error)`` under an exact loss distribution.

    Errors at or below the distribution's offset cannot be reached by any hypothesis: their value is
    ``inf`` and ``reason`` says why.

    Parameters
    ----------
    distribution : GeneralizedChi2
        The exact distribution of the test loss (e.g. ``Posterior.mse_distribution``).
    error : float or array of floats
        Target error(s).
    unit : {"bits", "nats"}
        Unit of the result.

    Returns
    -------
    InductiveBias
        An exact answer (``method="exact"``) with the evaluation used per error.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> r = ib.exact_bias(ib.GeneralizedChi2([1.0], 2), 2.0)
    >>> round(r.value, 6)  # -log2(1 - exp(-1)): chi2 with 2 dof at 2
    0.661728
    """
    if not isinstance(distribution, GeneralizedChi2):
        raise TypeError(f"distribution: expected a GeneralizedChi2, got {type(distribution).__name__}")
    per_nat = _validation.per_nat(unit)
    return _exact(distribution, _validation.target_errors(error), unit, per_nat)
