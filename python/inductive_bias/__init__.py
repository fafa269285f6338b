"""inductive-bias: how much information, beyond the training data, a model needs to generalize."""

from importlib.metadata import PackageNotFoundError, version

from . import difficulty, random
from .compare import Comparison, compare
from .bias import BiasEstimate, bias_from_losses, sankaran_bias
from ._backend import build_info, cuda_available, cuda_status, get_num_threads, set_num_threads
from .estimators import TaskDifficulty, class_separation, data_radius, intrinsic_dimension, task_difficulty
from .exact import InductiveBias, inductive_bias
from .gaussian_losses import sample_gaussian_losses
from .gchi2 import Gchi2Evaluation, GeneralizedChi2
from .kernels import KernelSpace, kernel_matrix, posterior
from .neighbors import nearest_neighbors
from .spaces import CallableSpace, RandomFeatureSpace, sample_losses
from .ncx2 import Ncx2Fit, ScaledChi2, ScaledNCX2

try:
    __version__ = version("inductive-bias")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Comparison",
    "compare",
    "CallableSpace",
    "RandomFeatureSpace",
    "sample_losses",
    "InductiveBias",
    "KernelSpace",
    "inductive_bias",
    "kernel_matrix",
    "posterior",
    "Gchi2Evaluation",
    "GeneralizedChi2",
    "BiasEstimate",
    "bias_from_losses",
    "sankaran_bias",
    "Ncx2Fit",
    "ScaledChi2",
    "ScaledNCX2",
    "TaskDifficulty",
    "class_separation",
    "data_radius",
    "intrinsic_dimension",
    "nearest_neighbors",
    "task_difficulty",
    "build_info",
    "difficulty",
    "cuda_available",
    "cuda_status",
    "get_num_threads",
    "random",
    "sample_gaussian_losses",
    "set_num_threads",
]
