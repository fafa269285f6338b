"""Warnings for results the library knows to be weak.

Every warning the library raises about a result is a :class:`ReliabilityWarning`, so one filter
turns them all into errors (``warnings.simplefilter("error", ib.ReliabilityWarning)``) or silences
them. A result the library cannot trust at all raises an error instead.
"""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType

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
    """A random-feature space, or some of its feature draws, that cannot fit the training data.

    A space narrower than the training set: its networks' losses are not those of hypotheses that fit
    the data. A feature draw whose training features have rank below the number of training points
    (dead ReLU units): the conditional estimate leaves it out and says how many it left out.
    """


class JitterWarning(ReliabilityWarning):
    """A kernel or Gram matrix that needed a large jitter to factor.

    From 1e-6 of the mean diagonal on, the hypotheses fit the training data only approximately.
    """


class EstimatorWarning(ReliabilityWarning):
    """A data estimator outside its reliable range.

    For example tied neighbour distances, which bias the intrinsic-dimension estimators.
    """


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(category: type[ReliabilityWarning], message: str, stacklevel: int | None = 3) -> None:
    """Issue ``message`` as ``category``, pointing, by default, at the caller of the public function;
    ``stacklevel=None``: at the first frame outside this package (the user's line, however deep the
    call chain that reached the warning)."""
    if stacklevel is None:
        stacklevel = _first_outside_level()
    warnings.warn(message, category, stacklevel=stacklevel)


def _first_outside_level() -> int:
    """The ``warnings.warn`` stacklevel, from ``warn``, of the first caller outside the package."""
    frame: FrameType | None = sys._getframe(2)  # warn's caller; level 2 from warn
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level
