"""Hypothesis spaces: what a random hypothesis is.

- ``KernelSpace``: draws of a Gaussian process with a given covariance function, conditioned on the
  training data (noise free). Its test MSE has a closed form (a generalized chi-squared), so
  ``inductive_bias`` answers exactly.
- ``TrainedNetworkSpace``: infinitely wide MLPs trained by gradient descent to convergence from a
  random initialization (the neural tangent kernel). Gaussian on the test set, so exact too.
- ``RandomFeatureSpace``: ReLU networks whose hidden layers are drawn at random and whose output
  layer is fitted to the training data by the minimum-norm change from its random initialization
  (what gradient descent from that initialization converges to). Each hypothesis is then an exact
  draw from the Bayesian posterior of the finite-width network's output layer; as the width grows the
  space tends to the ``"nngp_relu"`` kernel space with the same depth and variances.
- ``CallableSpace``: any user code ``fn(seed) -> predictions on X_test`` (NumPy, CuPy, PyTorch, JAX).

The last two are sampled (``sample_losses``) and read by the published sample-and-fit estimate.
"""

from __future__ import annotations

import math
from typing import Callable

from . import _validation, random
from ._arrays import Array, array_module, fits_in_memory
from .covariance import MAX_DEPTH, NETWORK_KERNELS, PARAMETERS, STATIONARY, checked_params, median_distance

__all__ = ["CallableSpace", "KernelSpace", "RandomFeatureSpace", "TrainedNetworkSpace"]

_ACTIVATIONS = ("relu", "erf")  # of TrainedNetworkSpace: its kernels are f"nngp_{activation}", f"ntk_{activation}"
_PARAMETERS = PARAMETERS  # the one table, in covariance.py


class KernelSpace:
    """The Gaussian-process hypothesis space of a covariance function.

    A hypothesis is a draw of the GP conditioned on the training data (noise free); its test MSE has
    a closed form, so ``inductive_bias`` answers exactly.

    Parameters
    ----------
    kernel : str
        One of ``KERNELS``: ``"rbf"``, ``"laplacian"`` (= ``"matern12"``), ``"matern32"``,
        ``"matern52"`` (all with ``lengthscale`` and ``variance``), ``"polynomial"``
        (``(gamma x.y + coef0)^degree``), ``"linear"`` (``x.y + coef0``), ``"nngp_relu"`` (the
        arc-cosine kernel of an infinitely wide ReLU MLP with ``depth`` hidden layers, weight variance
        ``weight_var`` / fan-in and bias variance ``bias_var``), ``"ntk_relu"`` (the neural tangent
        kernel of the same network), ``"nngp_erf"`` and ``"ntk_erf"`` (the same with ``erf``
        activations). The network kernels are those of neural-tangents'
        ``stax.serial(Dense(W_std, b_std), *[act, Dense(W_std, b_std)] * depth)`` in its NTK
        parametrization (``act`` = ``stax.Relu()`` or ``stax.Erf()``), with ``weight_var = W_std**2``
        and ``bias_var = b_std**2``; ``weight_var=2`` is the He initialization of ReLU networks.
    lengthscale : float or "median", optional
        Stationary kernels only (default 1.0; refused for the others, like any parameter a kernel does
        not take); ``"median"`` is the median pairwise distance of the training inputs.
    **params
        The kernel's other parameters: ``variance``; ``gamma``, ``coef0``, ``degree``; ``depth``,
        ``weight_var``, ``bias_var``.

    Raises
    ------
    ValueError
        An unknown kernel, a parameter the kernel does not take, or an out-of-range value (named).

    Examples
    --------
    >>> import inductive_bias as ib
    >>> ib.KernelSpace("nngp_relu", depth=2)
    KernelSpace('nngp_relu', depth=2)
    """

    def __init__(self, kernel: str = "rbf", lengthscale: float | str | None = None, **params):
        params = checked_params(kernel, params)
        if kernel in STATIONARY:
            if lengthscale is None:
                lengthscale = 1.0
            elif not (isinstance(lengthscale, str) and lengthscale == "median"):
                lengthscale = _validation.number("lengthscale", lengthscale)
        elif lengthscale is not None:  # refused like any other parameter the kernel does not take
            raise ValueError(f"lengthscale: does not apply to the {kernel} kernel (only to {sorted(STATIONARY)})")
        self.kernel, self.lengthscale, self.params = kernel, lengthscale, params

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.params.items())
        scale = f", lengthscale={self.lengthscale!r}" if self.kernel in STATIONARY else ""
        return f"KernelSpace({self.kernel!r}{scale}{extra})"

    def resolved(self, X_train: Array) -> dict:
        """Resolve the parameters the native covariance functions take for these training inputs.

        Parameters
        ----------
        X_train : array [n, d]
            NumPy or CuPy; resolves ``lengthscale="median"`` and the input dimension of the network kernels.

        Returns
        -------
        dict
            Parameter name -> value, as the native covariance functions take them.
        """
        X_train, _, _ = _validation.points("X_train", X_train)
        native = dict(self.params)
        if self.kernel in STATIONARY:
            lengthscale = self.lengthscale
            if lengthscale == "median":
                if X_train.shape[0] < 2:
                    raise ValueError("X_train: lengthscale='median' needs at least two training points")
                lengthscale = median_distance(X_train)
            assert isinstance(lengthscale, float)  # __init__ made it a float (or "median", resolved above)
            native["lengthscale"] = lengthscale
        if self.kernel in NETWORK_KERNELS:
            native["input_dim"] = float(X_train.shape[1])
        return native


class RandomFeatureSpace:
    """ReLU networks with ``depth`` random hidden layers of ``width`` units and a fitted output layer.

    Initialization (matching ``KernelSpace("nngp_relu", depth, weight_var, bias_var)``): weights
    N(0, weight_var / fan_in), biases N(0, bias_var), output weights N(0, weight_var / width) and output
    bias N(0, bias_var), all drawn from Philox substream ``i`` of ``seed`` for hypothesis ``i``. The output
    layer then moves by the minimum-norm change that interpolates the training targets, solved through the
    Gram matrix of the training features (Cholesky, with the smallest jitter that succeeds).
    Answered by the sampled method.

    Parameters
    ----------
    width : int
        Units per hidden layer.
    depth : int
        Hidden layers.
    weight_var, bias_var : float
        Weight variance (times 1 / fan-in) and bias variance.

    Examples
    --------
    >>> import inductive_bias as ib
    >>> ib.RandomFeatureSpace(300, depth=2).kernel()
    KernelSpace('nngp_relu', depth=2, weight_var=2.0, bias_var=0.0)
    """

    def __init__(self, width: int, depth: int = 1, weight_var: float = 2.0, bias_var: float = 0.0):
        self.width = _validation.integer("width", width, 1)
        self.depth = _validation.integer("depth", depth, 1, MAX_DEPTH + 1)
        self.weight_var = _validation.number("weight_var", weight_var)
        self.bias_var = _validation.number("bias_var", bias_var, allow_low=True)

    def __repr__(self) -> str:
        return (
            f"RandomFeatureSpace(width={self.width}, depth={self.depth}, weight_var={self.weight_var:g}, "
            f"bias_var={self.bias_var:g})"
        )

    def kernel(self) -> KernelSpace:
        """Return the infinite-width limit of this space as a kernel space.

        Returns
        -------
        KernelSpace
            The ``"nngp_relu"`` kernel space with the same depth and variances.
        """
        return KernelSpace("nngp_relu", depth=self.depth, weight_var=self.weight_var, bias_var=self.bias_var)

    def feature_count(self) -> int:
        """Count the output layer's inputs that can add rank to the training features.

        Returns
        -------
        int
            The units, plus the bias column only when ``bias_var > 0`` (a zero column adds nothing).
            The networks can fit ``n`` training points only when this is at least ``n``.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.RandomFeatureSpace(300).feature_count(), ib.RandomFeatureSpace(300, bias_var=0.1).feature_count()
        (300, 301)
        """
        return self.width + (self.bias_var > 0)

    def parameter_count(self, inputs: int, outputs: int) -> int:
        """Count the weights and biases of one network, which is the number of normals drawn per hypothesis.

        Parameters
        ----------
        inputs : int
            Input features of the network.
        outputs : int
            Outputs of the network.

        Returns
        -------
        int
            Weights and biases of every layer, the output layer included.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.RandomFeatureSpace(10).parameter_count(inputs=3, outputs=2)
        62
        """
        return (inputs + 1) * self.width + (self.depth - 1) * (self.width + 1) * self.width + (self.width + 1) * outputs

    def draw(self, index: int, seed, inputs: int, outputs: int, device: str = "cpu") -> list:
        """Draw the standard normals of one hypothesis, layer by layer.

        Parameters
        ----------
        index : int
            The hypothesis: Philox substream ``index`` of ``seed`` (bitwise the same on CPU and GPU).
        seed : int, numpy.random.SeedSequence or numpy.random.Generator
            Addresses the Philox streams, together with ``index``.
        inputs, outputs : int
            Input features and outputs of the network.
        device : {"cpu", "cuda"}
            Where the normals are drawn: NumPy arrays on the CPU, CuPy arrays on the GPU.

        Returns
        -------
        list of arrays
            One per layer, ``[fan_in + 1, fan_out]`` (last row: the bias).

        Examples
        --------
        >>> import inductive_bias as ib
        >>> layers = ib.RandomFeatureSpace(4, depth=2).draw(0, seed=1, inputs=3, outputs=2)
        >>> [layer.shape for layer in layers]
        [(4, 4), (5, 4), (5, 2)]
        """
        index = _validation.integer("index", index, 0, _validation.UINT64_LIMIT)
        return [layer[0] for layer in self.draw_batch(index, 1, seed, inputs, outputs, device)]

    def draw_batch(self, first: int, count: int, seed, inputs: int, outputs: int, device: str = "cpu") -> list:
        """Draw the standard normals of a range of hypotheses from one Philox fill.

        The range is hypotheses ``first`` to ``first + count - 1``.

        Parameters
        ----------
        first, count : int
            The range of hypotheses (indices below 2^64).
        seed : int, numpy.random.SeedSequence or numpy.random.Generator
            As for ``draw``.
        inputs, outputs : int
            As for ``draw``.
        device : {"cpu", "cuda"}
            As for ``draw``.

        Returns
        -------
        list of arrays
            One per layer, ``[count, fan_in + 1, fan_out]``; row ``i`` equals ``draw(first + i, ...)``.

        Examples
        --------
        >>> import numpy as np, inductive_bias as ib
        >>> space = ib.RandomFeatureSpace(4)
        >>> batch = space.draw_batch(5, 3, seed=1, inputs=3, outputs=2)
        >>> [layer.shape for layer in batch]
        [(3, 4, 4), (3, 5, 2)]
        >>> all(np.array_equal(b[1], d) for b, d in zip(batch, space.draw(6, 1, 3, 2)))
        True
        """
        count = _validation.integer("count", count, 1)
        inputs, outputs = _validation.integer("inputs", inputs, 1), _validation.integer("outputs", outputs, 1)
        total = self.parameter_count(inputs, outputs)
        seed, first = _validation.seed(seed), _validation.integer("first", first, 0, _validation.UINT64_LIMIT)
        if first + count > _validation.UINT64_LIMIT:
            raise ValueError("count: first + count must not exceed 2^64 (hypothesis indices are 64-bit)")
        sizes = [inputs] + [self.width] * self.depth + [outputs]
        fits_in_memory("width", count * total * 8, device == "cpu")  # before the draw (a huge width)
        z = random.normal_streams(count, total, seed, first, _validation.device(device))
        layers, start = [], 0
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            size = (fan_in + 1) * fan_out
            layers.append(z[:, start : start + size].reshape(count, fan_in + 1, fan_out))
            start += size
        return layers

    def features(self, X: Array, layers: list, out: Array | None = None) -> Array:
        """Compute the hidden representation of the inputs, with the output layer's scaling folded in.

        The network's output is ``features @ z_out`` for the standard normal output draws ``z_out``.

        Parameters
        ----------
        X : array [n, d]
            The float64 inputs (NumPy or CuPy).
        layers : list of arrays
            From ``draw``, or from ``draw_batch`` for a batch of networks (batched products).
        out : array, optional
            Where to write the result.

        Returns
        -------
        array [n, width + 1], or [count, n, width + 1] for a batch
            The scaled last hidden layer, then a constant column for the output bias (``out`` when
            given).

        Examples
        --------
        >>> import numpy as np, inductive_bias as ib
        >>> space = ib.RandomFeatureSpace(4)
        >>> space.features(np.ones((2, 3)), space.draw(0, 1, 3, 2)).shape
        (2, 5)
        """
        xp = array_module(X)
        h = X
        for z in layers[:-1]:
            h = h @ (z[..., :-1, :] * math.sqrt(self.weight_var / (z.shape[-2] - 1)))
            h += z[..., -1:, :] * math.sqrt(self.bias_var)
            xp.maximum(h, 0.0, out=h)
        if out is None:
            out = xp.empty(h.shape[:-1] + (self.width + 1,))
        xp.multiply(h, math.sqrt(self.weight_var / self.width), out=out[..., : self.width])
        out[..., self.width] = math.sqrt(self.bias_var)
        return out


class TrainedNetworkSpace:
    """Infinitely wide MLPs trained by gradient descent to convergence on the training MSE.

    Every network starts from its own random initialization and is trained by gradient flow on the
    squared error of the training data until it fits it (infinite training time). In the infinite
    width limit its test predictions are Gaussian (Lee et al., "Wide Neural Networks of Any Depth
    Evolve as Linear Models Under Gradient Descent", NeurIPS 2019), with mean
    ``Theta(T, X) Theta^-1 Y`` and covariance
    ``K(T, T) + Theta(T, X) Theta^-1 K(X, X) Theta^-1 Theta(X, T) - (Theta(T, X) Theta^-1 K(X, T) + transpose)``
    on the test points ``T``: ``K`` is the NNGP kernel (the network at initialization) and ``Theta``
    the neural tangent kernel. The test MSE is therefore a generalized chi-squared and
    ``inductive_bias`` answers exactly, as for a ``KernelSpace``.

    The network is neural-tangents' ``stax.serial(Dense(W_std, b_std), *[act, Dense(W_std, b_std)] * depth)``
    in the NTK parametrization (a layer computes ``W_std / sqrt(fan_in) W h + b_std b`` with standard
    normal ``W``, ``b``, all of which are trained), ``act`` its ``Relu()`` or ``Erf()``, with
    ``weight_var = W_std**2`` and ``bias_var = b_std**2``: the network of ``KernelSpace("nngp_relu")``
    and of ``RandomFeatureSpace``, now with every layer trained.

    Parameters
    ----------
    depth : int
        Hidden layers.
    weight_var, bias_var : float
        Weight variance (times 1 / fan-in) and bias variance of every layer.
    activation : {"relu", "erf"}
        The activation of the hidden layers.

    Raises
    ------
    ValueError
        An out-of-range depth or variance, or an unknown activation (named).

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> space = ib.TrainedNetworkSpace(depth=2)
    >>> space.ntk()
    KernelSpace('ntk_relu', depth=2, weight_var=2.0, bias_var=0.0)
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> post = ib.posterior(space, X[:2], np.array([[1.0], [-1.0]]), X)
    >>> np.round(post.mean.ravel(), 6).tolist()[:2]  # trained networks fit the training data
    [1.0, -1.0]
    """

    def __init__(self, depth: int = 1, weight_var: float = 2.0, bias_var: float = 0.0, activation: str = "relu"):
        self.depth = _validation.integer("depth", depth, 1, MAX_DEPTH + 1)
        self.weight_var = _validation.number("weight_var", weight_var)
        self.bias_var = _validation.number("bias_var", bias_var, allow_low=True)
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation: expected one of {_ACTIVATIONS}, got {activation!r}")
        self.activation = activation

    def __repr__(self) -> str:
        return (
            f"TrainedNetworkSpace(depth={self.depth}, weight_var={self.weight_var:g}, bias_var={self.bias_var:g}, "
            f"activation={self.activation!r})"
        )

    def nngp(self) -> KernelSpace:
        """Return the kernel of the networks at initialization (the NNGP kernel) as a kernel space.

        Returns
        -------
        KernelSpace
            ``"nngp_relu"`` or ``"nngp_erf"`` with this space's depth and variances: the Bayesian
            (untrained, conditioned) counterpart of this space.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.TrainedNetworkSpace(activation="erf").nngp()
        KernelSpace('nngp_erf', depth=1, weight_var=2.0, bias_var=0.0)
        """
        return KernelSpace(
            f"nngp_{self.activation}", depth=self.depth, weight_var=self.weight_var, bias_var=self.bias_var
        )

    def ntk(self) -> KernelSpace:
        """Return the neural tangent kernel of the networks as a kernel space.

        Returns
        -------
        KernelSpace
            ``"ntk_relu"`` or ``"ntk_erf"`` with this space's depth and variances.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.TrainedNetworkSpace(depth=3, bias_var=0.1).ntk()
        KernelSpace('ntk_relu', depth=3, weight_var=2.0, bias_var=0.1)
        """
        return KernelSpace(
            f"ntk_{self.activation}", depth=self.depth, weight_var=self.weight_var, bias_var=self.bias_var
        )


class CallableSpace:
    """The hypothesis space of user code that returns a hypothesis's test predictions from a seed.

    ``fn(seed)`` returns the predictions ``[t, k]`` (or ``[t]`` for one output) of one hypothesis on
    the test points, in any array type.

    Hypothesis ``i`` gets the 64-bit seed ``hypothesis_seed(seed, i)``, so hypotheses are
    reproducible and independent. Answered by the sampled method.

    Parameters
    ----------
    fn : callable
        ``fn(seed: int) -> predictions`` on the test points.

    Examples
    --------
    >>> import numpy as np, inductive_bias as ib
    >>> space = ib.CallableSpace(lambda seed: np.random.default_rng(seed).standard_normal((5, 2)))
    >>> X, y = np.zeros((3, 1)), np.array([0, 1, 0])
    >>> ib.sample_losses(space, X, y, np.zeros((5, 1)), np.array([0, 1, 1, 0, 1]), 4).shape
    (4,)
    """

    def __init__(self, fn: Callable):
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __repr__(self) -> str:
        return f"CallableSpace({getattr(self.fn, '__name__', repr(self.fn))})"

    @staticmethod
    def hypothesis_seed(seed: int, index: int) -> int:
        """Return the 64-bit seed that ``fn`` receives for one hypothesis.

        It is made of the first two Philox words of substream ``index`` under ``seed``, low word
        first, so the seeds of different hypotheses are independent.

        Parameters
        ----------
        seed : int
            The seed of the whole sampling.
        index : int
            The hypothesis.

        Returns
        -------
        int
            A seed in ``[0, 2^64)``.

        Examples
        --------
        >>> import inductive_bias as ib
        >>> ib.CallableSpace.hypothesis_seed(0, 1) == ib.CallableSpace.hypothesis_seed(0, 1) != \\
        ...     ib.CallableSpace.hypothesis_seed(0, 2)
        True
        """
        seed = _validation.seed(seed)
        index = _validation.integer("index", index, 0, _validation.UINT64_LIMIT)
        low, high = random.uint32(2, seed=seed, stream=index)
        return int(low) | (int(high) << 32)
