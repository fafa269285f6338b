"""Warnings for results the library knows to be weak.

Every warning the library raises about a result is a :class:`ReliabilityWarning`, so one filter
turns them all into errors (``warnings.simplefilter("error", ib.ReliabilityWarning)``) or silences
them. A result the library cannot trust at all raises an error instead.
"""

from __future__ import annotations

import warnings

__all__ = [
    "EstimatorWarning",
    "ExtrapolationWarning",
    "FitWarning",
    "JitterWarning",
    "NonInterpolatingWarning",
    "ReliabilityWarning",
]


class ReliabilityWarning(UserWarning):
    """A result the library knows to be weak: the base of every warning it raises about a result.

    Examples
    --------
    >>> import warnings, inductive_bias as ib
    >>> issubclass(ib.ExtrapolationWarning, ib.ReliabilityWarning)
    True
    """


class ExtrapolationWarning(ReliabilityWarning):
    """A sampled answer at an error below every sampled loss.

    It reads the fitted tail where no sample is, and its interval covers the sampling noise of the
    fit, not the model's misfit there.
    """


class FitWarning(ReliabilityWarning):
    """A fit that did not converge, or that the samples reject.

    Raised when the fit or a bootstrap refit stops at its iteration bound, or when the samples reject
    the fitted distribution (Kolmogorov-Smirnov at the 0.1 % level).
    """


class NonInterpolatingWarning(ReliabilityWarning):
    """A random-feature space narrower than the training set.

    Its networks cannot fit the training data, so their losses are not those of hypotheses that fit it.
    """


class JitterWarning(ReliabilityWarning):
    """A kernel or Gram matrix that needed a large jitter to factor.

    From 1e-6 of the mean diagonal on, the hypotheses fit the training data only approximately.
    """


class EstimatorWarning(ReliabilityWarning):
    """A data estimator outside its reliable range.

    For example tied neighbour distances, which bias the intrinsic-dimension estimators.
    """


def warn(category: type[ReliabilityWarning], message: str, stacklevel: int = 3) -> None:
    """Issue ``message`` as ``category`` (pointing, by default, at the caller of the public function)."""
    warnings.warn(message, category, stacklevel=stacklevel)
