"""inductive-bias: how much information, beyond the training data, a model needs to generalize.

Distributions: ``GeneralizedChi2``, ``ScaledNCX2``, ``ScaledChi2`` (and the fit, ``bias_from_losses``).
Hypothesis spaces: ``KernelSpace``, ``TrainedNetworkSpace``, ``RandomFeatureSpace``, ``CallableSpace``.
The inductive-bias pipeline: ``inductive_bias`` (exact or sampled), ``compare``, ``posterior``,
``sample_losses``, ``sample_gaussian_losses``. Task difficulty: ``task_difficulty`` and its estimators.
"""

from importlib.metadata import PackageNotFoundError, version

from . import datasets, difficulty, random
from ._backend import build_info, cuda_available, cuda_status, get_num_threads, set_num_threads
from .bias import BiasEstimate, bias_from_losses, sankaran_bias
from .compare import Comparison, ComparisonRow, compare
from .conditional import ConditionalDistribution, conditional_distribution
from .covariance import KERNELS, kernel_matrix
from .estimators import TaskDifficulty, class_separation, data_radius, intrinsic_dimension, task_difficulty
from .gaussian_losses import sample_gaussian_losses
from .gchi2 import Gchi2Evaluation, GeneralizedChi2
from .ncx2 import Ncx2Fit, ScaledChi2, ScaledNCX2
from .neighbors import nearest_neighbors
from .pipeline import InductiveBias, exact_bias, inductive_bias
from .posterior import Posterior, posterior
from .reliability import (
    EstimatorWarning,
    ExtrapolationWarning,
    FitWarning,
    JitterWarning,
    NonInterpolatingWarning,
    ReliabilityWarning,
)
from .sampling import sample_losses
from .spaces import CallableSpace, KernelSpace, RandomFeatureSpace, TrainedNetworkSpace

try:
    __version__ = version("inductive-bias")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

__all__ = [
    # distributions
    "GeneralizedChi2",
    "Gchi2Evaluation",
    "ScaledNCX2",
    "ScaledChi2",
    "Ncx2Fit",
    "BiasEstimate",
    "bias_from_losses",
    "sankaran_bias",
    # hypothesis spaces
    "KernelSpace",
    "TrainedNetworkSpace",
    "RandomFeatureSpace",
    "CallableSpace",
    "KERNELS",
    "kernel_matrix",
    # the inductive-bias pipeline
    "inductive_bias",
    "InductiveBias",
    "exact_bias",
    "conditional_distribution",
    "ConditionalDistribution",
    "compare",
    "Comparison",
    "ComparisonRow",
    "posterior",
    "Posterior",
    "sample_losses",
    "sample_gaussian_losses",
    # task difficulty
    "task_difficulty",
    "TaskDifficulty",
    "intrinsic_dimension",
    "data_radius",
    "class_separation",
    "nearest_neighbors",
    "difficulty",
    # warnings about weak results
    "ReliabilityWarning",
    "ExtrapolationWarning",
    "FitWarning",
    "NonInterpolatingWarning",
    "JitterWarning",
    "EstimatorWarning",
    # data, random streams, backend
    "datasets",
    "random",
    "build_info",
    "cuda_available",
    "cuda_status",
    "get_num_threads",
    "set_num_threads",
]
