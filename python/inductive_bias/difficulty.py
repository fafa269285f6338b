"""Task difficulty: the model-agnostic inductive-bias bound in bits (docs/methods.md, 2).

Every quantity that can overflow a double (the eigenvalue count E, the parameter dimension, the
product with the bracket) is carried in log space, so intrinsic dimensions up to 10^4 work; a bound
whose parameter dimension or bracket is not positive is flagged as vacuous instead of returning a
meaningless number.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from . import _validation

__all__ = ["BoundResult", "bound", "classification", "control", "few_shot", "union", "eigenvalue_count"]

_LN2, _LN10 = math.log(2.0), math.log(10.0)


@dataclass(frozen=True)
class BoundResult:
    """The bound in bits with its intermediate quantities (natural logs where prefixed ``log_``).

    Returned by :func:`bound` and the task functions built on it (:func:`classification`,
    :func:`control`, :func:`few_shot`, :func:`union`). The properties :attr:`E` and
    :attr:`dim_theta_q` give the eigenvalue count and the parameter dimension themselves.

    Parameters
    ----------
    bits, log10_bits : float
        The bound and its base-10 log.
    vacuous : bool
        Whether the bound is vacuous.
    reason : str
        Why it is vacuous or infinite.
    K, log_E, log_dim_theta_q, L_f, log_W, bracket_bits : float
        The intermediate quantities.
    parameters : dict
        The arguments of the bound.

    Attributes
    ----------
    bits : float
        The bound in bits: ``inf`` when ``delta = 0`` (or beyond a double's range, with
        ``log10_bits`` finite), NaN when vacuous.
    log10_bits : float
        ``log10(bits)``, finite even where ``bits`` overflows.
    vacuous : bool
        ``True`` when the parameter dimension or the bracket is not positive: the bound says
        nothing, and ``bits`` is NaN.
    reason : str
        Why the bound is vacuous or infinite (``""`` otherwise).
    K : float
        Number of frequencies per dimension, at resolution ``M = 2 pi R / delta`` (NaN for
        :func:`control`).
    log_E : float
        Natural log of the eigenvalue count ``E = C(m + K, m) + C(m + K - 1, m)`` (NaN for
        :func:`control`).
    log_dim_theta_q : float
        Natural log of the parameter dimension ``dim_theta_q = 2 D P E - n D`` (for
        :func:`control`, ``D`` times the state-space volume term less ``n``); NaN when it is
        ``<= 0``.
    L_f : float
        The Lipschitz constant ``K sqrt(D) / R`` (NaN for :func:`control`).
    log_W : float
        Natural log of the spacing term ``W`` of the training points on the manifold (NaN for
        :func:`control`).
    bracket_bits : float
        The bits per parameter: the factor multiplying ``dim_theta_q``.
    parameters : dict
        The arguments the bound was evaluated at (``error``, ``n``, ``m``, ``R``, ``delta``,
        ``P``, ``D``, ``B`` for :func:`bound`), as floats.

    Examples
    --------
    >>> from inductive_bias import difficulty
    >>> r = difficulty.classification(n=60000, m=14, R=17.18, delta=2.399, classes=10, error=1e-3)
    >>> r.vacuous, round(r.log10_bits, 2), r.parameters["P"], r.parameters["D"]
    (False, 16.17, 10.0, 9.0)
    """

    bits: float  # inf when separation is 0; nan when vacuous
    log10_bits: float
    vacuous: bool
    reason: str  # why the bound is vacuous or infinite ("" otherwise)
    K: float  # number of frequencies per dimension
    log_E: float  # log of the eigenvalue count E
    log_dim_theta_q: float  # log of dim_theta_q = 2 D P E - n D (nan when <= 0)
    L_f: float
    log_W: float
    bracket_bits: float  # the factor multiplying dim_theta_q
    parameters: dict

    @property
    def E(self) -> float:
        """The eigenvalue count ``E = exp(log_E)``.

        Returns
        -------
        float
            ``E``: ``inf`` when ``delta = 0``, NaN for :func:`control`.

        ``inf`` also where ``E`` exceeds the range of a double (``log_E`` above about 709.78, e.g.
        intrinsic dimensions of a few hundred): ``log_E`` holds the value.

        Examples
        --------
        With ``m = 1`` and ``M = 2 pi R / delta = 3``, ``K = 3`` and ``E = C(4, 1) + C(3, 1)``:

        >>> import math
        >>> from inductive_bias import difficulty
        >>> r = difficulty.bound(error=0.01, n=10, m=1, R=1.0, delta=2 * math.pi / 3, P=2, D=1)
        >>> round(r.E, 9)
        7.0
        """
        return _exp_or_inf(self.log_E)

    @property
    def dim_theta_q(self) -> float:
        """The parameter dimension ``dim_theta_q = 2 D P E - n D`` (``exp(log_dim_theta_q)``).

        Returns
        -------
        float
            ``dim_theta_q``; ``-inf`` where ``log_dim_theta_q`` is NaN (the dimension is ``<= 0``
            and the bound vacuous); ``inf`` where it is ``inf`` (``delta = 0``) or beyond the range
            of a double (``log_dim_theta_q`` above about 709.78, which holds the value).

        Examples
        --------
        >>> import math
        >>> from inductive_bias import difficulty
        >>> r = difficulty.bound(error=0.01, n=10, m=1, R=1.0, delta=2 * math.pi / 3, P=2, D=1)
        >>> round(r.dim_theta_q, 9)  # 2 D P E - n D = 2 * 1 * 2 * 7 - 10 * 1
        18.0
        >>> difficulty.bound(error=0.01, n=10**9, m=1, R=1.0, delta=0.5, P=2, D=1).dim_theta_q
        -inf
        """
        return -math.inf if math.isnan(self.log_dim_theta_q) else _exp_or_inf(self.log_dim_theta_q)


def _positive(name: str, value) -> float:
    return _validation.number(name, value)


def _dimension(name: str, value) -> float:
    """An intrinsic dimension: positive, and at most 1e12 (beyond, lgamma and the count overflow)."""
    return _validation.number(name, value, high=1e12)


def _size(name: str, value) -> float:
    """A number of samples: at least 1."""
    return _validation.number(name, value, low=1.0, allow_low=True)


def _exp_or_inf(log_value: float) -> float:
    """exp, with inf past the largest double instead of OverflowError."""
    return math.inf if log_value > math.log(sys.float_info.max) else math.exp(log_value)


def target_error(error, name: str = "error") -> float:
    return _validation.number(name, error, high=1.0)


def _join(*names: str) -> str:
    """The argument names of ``names`` ("R, delta", "m") as one list, each once, in order."""
    return ", ".join(dict.fromkeys(part for name in names for part in name.split(", ")))


_PARAMETERS = ("error", "n", "m", "R", "delta", "P", "D", "B")
_OWN_NAMES = {name: name for name in _PARAMETERS}


def _log_rising_fraction(x: float, f: float) -> float:
    """log Gamma(x + f) - log Gamma(x) for x > 0 and 0 <= f < 1, to rounding: Stirling's series in
    1/X for X = x + N >= 1000 (error ~ X^-5) less the N factors log1p(f / (x + i)). The plain
    difference of lgamma values loses log10(x) digits when x is large (a tiny delta makes x ~ 2 pi R
    / delta)."""
    if f == 0.0:
        return 0.0
    shift = max(0, math.ceil(1000.0 - x))
    X = x + shift
    d2, d3 = f * f - f, f**3 - 1.5 * f * f + 0.5 * f  # B_k(f) - B_k(0)
    d4, d5 = f**4 - 2 * f**3 + f * f, f**5 - 2.5 * f**4 + 5 / 3 * f**3 - f / 6
    return math.fsum(
        [f * math.log(X), d2 / (2 * X), -d3 / (6 * X**2), d4 / (12 * X**3), -d5 / (20 * X**4)]
        + [-math.log1p(f / (x + i)) for i in range(shift)]
    )


def eigenvalue_count(m: float, R: float, delta: float) -> tuple[float, float]:
    """The frequencies per dimension ``K`` and the log of the eigenvalue count ``E``.

    K = (sqrt((m-1)^2 + 4 M^2) - (m-1)) / 2 with M = 2 pi R / delta, and
    E = C(m + K, m) + C(m + K - 1, m) with real binomials (both terms for every K > 0, as published),
    computed in log space with no cancellation for any ``m`` or ``K``.

    Parameters
    ----------
    m : float
        Intrinsic dimension, ``> 0``.
    R : float
        Radius of the data, ``> 0``.
    delta : float
        Resolution (class separation), ``> 0``.

    Returns
    -------
    tuple of float
        ``(K, log_E)``, with ``log_E`` the natural log of ``E``.

    Raises
    ------
    TypeError
        If an argument is not a real number.
    ValueError
        If ``m`` is not in ``(0, 1e12]``, ``R`` or ``delta`` is not positive and finite, or ``K`` or
        ``E`` is beyond double precision (the message names the arguments).

    Examples
    --------
    >>> import math
    >>> from inductive_bias import difficulty
    >>> K, log_E = difficulty.eigenvalue_count(m=1, R=1.0, delta=2 * math.pi / 3)  # M = 3
    >>> round(K, 12), round(math.exp(log_E), 9)  # C(4, 1) + C(3, 1)
    (3.0, 7.0)
    """
    m, R, delta = _dimension("m", m), _positive("R", R), _positive("delta", delta)
    return _eigenvalue_count(m, R, delta, "m", "R, delta")


def _eigenvalue_count(m: float, R: float, delta: float, m_name: str, scale_names: str) -> tuple[float, float]:
    """:func:`eigenvalue_count` of checked arguments; errors name ``m_name`` for ``m`` and
    ``scale_names`` for ``R`` and ``delta`` (the arguments the caller's user wrote)."""
    log_M = math.log(2 * math.pi) + math.log(R) - math.log(delta)  # no overflow in 2 pi R before / delta
    if log_M > 700.0:  # K ~ M, and E with it, beyond double precision
        raise ValueError(
            f"{scale_names}: the radius {R:g} against the separation delta = {delta:g} puts the eigenvalue count "
            f"outside double precision (2 pi R / delta = e^{log_M:.6g})"
        )
    M = math.exp(log_M)
    # (sqrt(b^2 + 4M^2) - b) / 2 written as 2M^2 / (sqrt(b^2 + 4M^2) + b): no cancellation for large m;
    # beyond 1e150 M^2 would overflow, where K = M - b/2 to rounding.
    b = m - 1
    if M > 1e150:
        K = M - b / 2
    else:
        K = 2 * M * M / (math.sqrt(b * b + 4 * M * M) + b) if b >= 0 else (math.sqrt(b * b + 4 * M * M) - b) / 2
    if not (K >= sys.float_info.min and math.isfinite(K)):  # a subnormal K has lost its digits
        # K ~ M^2 / (m - 1) for a large m: the dimension shares the blame.
        names = _join(m_name, scale_names) if b > 1 else scale_names
        raise ValueError(
            f"{names}: the radius {R:g} against the separation delta = {delta:g} puts the eigenvalue count "
            f"outside double precision (2 pi R / delta = {M:g}, K = {K:g} at m = {m:g})"
        )
    # C(m + K - 1, m) -> 0 as K -> 0, like (K / m) C(m + K, m): below 1e-16 of the first term when
    # K - 1 rounds to -1 (a radius far below the separation), where its formula would take log(0).
    log_e1 = _log_binomial(m, K)
    log_e2 = _log_binomial(m, K - 1) if K - 1 > -1 else -math.inf
    high, low = max(log_e1, log_e2), min(log_e1, log_e2)
    return K, high + math.log1p(math.exp(low - high))


def _log_binomial(m: float, kappa: float) -> float:
    """log C(m + kappa, m) for m >= 0, kappa > -1, to rounding. With m = n + f (n whole):
    C = prod_{i=1..n} (1 + kappa / (f + i)) * Gamma(kappa + 1 + f) / (Gamma(1 + f) Gamma(kappa + 1)),
    a sum of log1p terms with no cancellation, however large m or kappa."""
    whole = math.floor(m)
    if whole > 10**6:  # beyond any realistic intrinsic dimension: plain lgamma differences
        return math.lgamma(m + kappa + 1) - math.lgamma(m + 1) - math.lgamma(kappa + 1)
    f = m - whole
    fraction = _log_rising_fraction(kappa + 1, f) - math.lgamma(1 + f)
    return fraction + math.fsum(math.log1p(kappa / (f + i)) for i in range(1, int(whole) + 1))


def bound(error: float, n: float, m: float, R: float, delta: float, P: float, D: float, B: float = 1.0) -> BoundResult:
    """The general task-difficulty bound in bits, ``bits = dim_theta_q * bracket``.

    With ``K`` and ``E`` from :func:`eigenvalue_count`::

        dim_theta_q = 2 D P E - n D,  L_f = K sqrt(D) / R,
        log W = log(m/6)/2 + (log 2 + (m+1)/2 log pi + log P - lgamma((m+1)/2)) / m + log R - log(n) / m,
        bracket = log2 B + log2(D)/2 + log2(P)/2 - log2 error + log2 L_f + log W / log 2.

    ``delta = 0`` (points of different classes coincide) makes the bound infinite. A bound whose
    ``dim_theta_q`` or ``bracket`` is not positive is returned flagged ``vacuous`` with NaN bits.

    Parameters
    ----------
    error : float
        Target error, in ``(0, 1]``.
    n : float
        Number of training points, ``>= 1``.
    m : float
        Intrinsic dimension of the data, in ``(0, 1e12]``.
    R : float
        Radius of the data (largest norm), ``> 0``.
    delta : float
        Separation of the classes (the resolution), ``>= 0``.
    P : float
        The ``P`` of the bound (the number of classes for classification), ``> 0``.
    D : float
        Output dimension, ``> 0``.
    B : float
        Bound on the outputs, ``> 0``.

    Returns
    -------
    BoundResult
        The bits with the intermediate quantities and whether the bound is vacuous.

    Raises
    ------
    TypeError
        If an argument is not a real number.
    ValueError
        If ``error`` is not in ``(0, 1]``, ``delta`` is negative, or another argument is not
        positive and finite (the message names the argument).

    Examples
    --------
    >>> from inductive_bias import difficulty
    >>> r = difficulty.bound(error=0.01, n=1000, m=5, R=1.0, delta=0.1, P=10, D=9)
    >>> r.vacuous, round(r.log10_bits, 3)
    (False, 10.715)
    >>> difficulty.bound(error=0.01, n=1000, m=5, R=1.0, delta=0.0, P=10, D=9).bits
    inf
    """
    return _bound(error, n, m, R, delta, P, D, B, _OWN_NAMES)


def _bound(error, n, m, R, delta, P, D, B, names: dict) -> BoundResult:
    """:func:`bound`, with errors naming ``names[parameter]``: the arguments of the caller's user from
    which each parameter of the bound was made (``few_shot``, ``union`` derive them)."""
    error = target_error(error, names["error"])
    n, m = _size(names["n"], n), _dimension(names["m"], m)
    R, P, D, B = (_positive(names[name], v) for name, v in (("R", R), ("P", P), ("D", D), ("B", B)))
    delta = _validation.number(names["delta"], delta, allow_low=True)
    parameters = dict(error=error, n=n, m=m, R=R, delta=delta, P=P, D=D, B=B)
    if delta == 0:
        return BoundResult(
            math.inf,
            math.inf,
            False,
            "delta = 0: points of different classes coincide, so no "
            "finite resolution separates them and the bound is infinite",
            math.inf,
            math.inf,
            math.inf,
            math.inf,
            math.nan,
            math.inf,
            parameters,
        )
    K, log_E = _eigenvalue_count(m, R, delta, names["m"], _join(names["R"], names["delta"]))
    log_n = math.log(n)
    L_f = K * math.sqrt(D) / R
    log_W = (
        0.5 * math.log(m / 6)
        + (_LN2 + (m + 1) / 2 * math.log(math.pi) + math.log(P) - math.lgamma((m + 1) / 2)) / m
        + math.log(R)
        - log_n / m
    )
    log2_L_f = math.log2(K) + 0.5 * math.log2(D) - math.log2(R)  # L_f itself may underflow
    bracket = math.log2(B) + 0.5 * math.log2(D) + 0.5 * math.log2(P) - math.log2(error) + log2_L_f + log_W / _LN2
    # dim_theta_q = D (2 P E - n)
    return _product(
        math.log(D),
        _LN2 + math.log(P) + log_E,
        log_n,
        bracket,
        "dim_theta_q = 2 D P E - n D <= 0: the training set already pins down every frequency",
        parameters,
        _join(*names.values()),
        K=K,
        log_E=log_E,
        L_f=L_f,
        log_W=log_W,
    )


def _product(
    log_factor: float,
    log_count: float,
    log_n: float,
    bracket: float,
    empty_reason: str,
    parameters: dict,
    names: str,
    K: float = math.nan,
    log_E: float = math.nan,
    L_f: float = math.nan,
    log_W: float = math.nan,
) -> BoundResult:
    """bits = e^log_factor (e^log_count - n) * bracket, in logs; vacuous (with the reasons) when the
    dimension or the bracket is not positive."""
    log_dim = log_factor + log_count + math.log1p(-math.exp(log_n - log_count)) if log_count > log_n else math.nan
    reasons = [empty_reason] if math.isnan(log_dim) else []
    if not bracket > 0:
        reasons.append(f"the bracket is {bracket:.3g} <= 0")
    if reasons:
        return BoundResult(
            math.nan, math.nan, True, "; ".join(reasons), K, log_E, log_dim, L_f, log_W, bracket, parameters
        )
    log_bits = log_dim + math.log(bracket)
    if not math.isfinite(log_bits):
        raise ValueError(f"{names}: the bound overflows even in log space ({parameters}); check their scale")
    bits = math.exp(log_bits) if log_bits < 709 else math.inf
    reason = (
        "" if bits < math.inf else f"beyond the largest double: log10_bits = {log_bits / _LN10:.6g} holds the value"
    )
    return BoundResult(bits, log_bits / _LN10, False, reason, K, log_E, log_dim, L_f, log_W, bracket, parameters)


def classification(n: float, m: float, R: float, delta: float, classes: int, error: float) -> BoundResult:
    """The bound for a classification task: :func:`bound` with ``P = classes``, ``D = classes - 1``, ``B = 1``.

    Parameters
    ----------
    n : float
        Number of training points, ``>= 1``.
    m : float
        Intrinsic dimension of the data, in ``(0, 1e12]``.
    R : float
        Radius of the data (largest norm), ``> 0``.
    delta : float
        Smallest distance between points of different classes, ``>= 0``.
    classes : int
        Number of classes, ``>= 2``.
    error : float
        Target error, in ``(0, 1]``.

    Returns
    -------
    BoundResult
        The bits with the intermediate quantities.

    Raises
    ------
    ValueError
        If ``classes`` is not an integer ``>= 2``, or another argument is out of range as in
        :func:`bound`.
    TypeError
        If an argument is not a real number.

    Examples
    --------
    The published MNIST parameters:

    >>> from inductive_bias import difficulty
    >>> r = difficulty.classification(n=60000, m=14, R=17.179045827183984, delta=2.3987084824335305,
    ...                               classes=10, error=1e-3)
    >>> f"{r.bits:.4g}"
    '1.485e+16'
    """
    count = _validation.number("classes", classes, 2.0, allow_low=True)
    if not count.is_integer():
        raise ValueError(f"classes: need an integer >= 2, got {classes}")
    return _bound(error, n, m, R, delta, count, count - 1, 1.0, _OWN_NAMES | {"P": "classes", "D": "classes"})


def control(m: float, D: float, n: float, delta: float, error: float) -> BoundResult:
    """The bound for a control task with state dimension ``m`` and action dimension ``D``.

    With ``n`` samples at resolution ``delta``::

        bits = D (2 (2 pi / delta)^m pi^(m/2) / Gamma(m/2 + 1) - n)
                 * (log2(4 pi^2 / sqrt 6) + log2 D + log2(m)/2 - log2 delta - log2(n)/m - log2 error)

    (cart-pole with T observations: m = 2T, D = 1).

    Parameters
    ----------
    m : float
        State dimension, ``> 0``.
    D : float
        Action dimension, ``> 0``.
    n : float
        Number of samples, ``> 0``.
    delta : float
        Resolution, ``> 0``.
    error : float
        Target error, in ``(0, 1]``.

    Returns
    -------
    BoundResult
        The bits; ``K``, ``log_E``, ``L_f`` and ``log_W`` are NaN (not part of this form).

    Raises
    ------
    TypeError
        If an argument is not a real number.
    ValueError
        If ``error`` is not in ``(0, 1]`` or another argument is not positive and finite.

    Examples
    --------
    Cart-pole with one observation, as published:

    >>> from inductive_bias import difficulty
    >>> f"{difficulty.control(m=2, D=1, n=1e4, delta=1e-3, error=1e-3).bits:.3g}"
    '4.41e+09'
    """
    error = target_error(error)
    m, n = _dimension("m", m), _size("n", n)
    D, delta = _positive("D", D), _positive("delta", delta)
    parameters = dict(error=error, n=n, m=m, delta=delta, D=D)
    log_volume = (
        _LN2 + m * (math.log(2 * math.pi) - math.log(delta)) + m / 2 * math.log(math.pi) - math.lgamma(m / 2 + 1)
    )
    bracket = (
        math.log2(4 * math.pi**2 / math.sqrt(6))
        + math.log2(D)
        + 0.5 * math.log2(m)
        - math.log2(delta)
        - math.log2(n) / m
        - math.log2(error)
    )
    return _product(
        math.log(D),
        log_volume,
        math.log(n),
        bracket,
        "the state-space volume term is <= n",
        parameters,
        "m, D, n, delta, error",
    )


def few_shot(
    error: float, n: float, m_within: float, m_across: float, R: float, delta: float, ways: int
) -> BoundResult:
    """The bound for few-shot meta-learning over ``ways``-way tasks.

    :func:`bound` with, for ``w = ways``: output dimension ``2 w (w-1) E(m_within)`` (``E`` at
    resolution ``2 pi R / delta``), dimension ``m_across + (w-1) m_within``, radius ``R sqrt(w)``,
    ``B = sqrt(w (w-1))``, ``P = 1``.

    Parameters
    ----------
    error : float
        Target error, in ``(0, 1]``.
    n : float
        Number of training tasks, ``>= 1``.
    m_within : float
        Intrinsic dimension within a class, in ``(0, 1e12]``.
    m_across : float
        Intrinsic dimension across tasks.
    R : float
        Radius of the data, ``> 0``.
    delta : float
        Class separation, ``> 0``.
    ways : int
        Classes per task, ``>= 2``.

    Returns
    -------
    BoundResult
        The bits with the intermediate quantities of the underlying :func:`bound`.

    Raises
    ------
    ValueError
        If ``ways`` is not an integer ``>= 2``, another argument is out of range as in
        :func:`bound`, or the meta-task's dimension, radius or output dimension overflows (the
        message names the arguments they come from).
    TypeError
        If an argument is not a real number.

    Examples
    --------
    >>> from inductive_bias import difficulty
    >>> r = difficulty.few_shot(0.01, n=100, m_within=2, m_across=5, R=1.0, delta=0.5, ways=5)
    >>> r.parameters["m"], r.parameters["P"], round(r.log10_bits, 2)
    (13.0, 1.0, 15.08)
    """
    try:
        w = _validation.number("ways", ways, 2.0, allow_low=True)
    except OverflowError:  # an int beyond a double
        raise ValueError(f"ways: need an integer >= 2 within a double's range, got {ways}") from None
    if not w.is_integer():
        raise ValueError(f"ways: need an integer >= 2, got {ways}")
    m_within, m_across = _dimension("m_within", m_within), _dimension("m_across", m_across)
    R, delta = _positive("R", R), _positive("delta", delta)
    _, log_E = _eigenvalue_count(m_within, R, delta, "m_within", "R, delta")
    if log_E > 700:
        raise ValueError(
            f"m_within, R, delta: the eigenvalue count E = e^{log_E:.6g} of {m_within:g} within-task dimensions at "
            f"2 pi R / delta = {2 * math.pi * R / delta:.6g} makes the output dimension overflow a double"
        )
    # The meta-task's parameters, each refused by the arguments it comes from when it leaves a double.
    log_D = math.log(2 * w) + math.log(w - 1) + log_E
    if log_D > 700:
        raise ValueError(
            f"ways, m_within: the output dimension 2 ways (ways - 1) E(m_within) = e^{log_D:.6g} overflows a double"
        )
    m = m_across + (w - 1) * m_within
    if m > 1e12:
        raise ValueError(
            f"ways, m_within, m_across: the meta-task's dimension m_across + (ways - 1) m_within = {m:g} exceeds 1e12"
        )
    R_task = R * math.sqrt(w)
    if not math.isfinite(R_task):
        raise ValueError(f"R, ways: the meta-task's radius R sqrt(ways) = {R:g} x {math.sqrt(w):g} overflows a double")
    names = _OWN_NAMES | {
        "m": "ways, m_within, m_across",
        "R": "R, ways",
        "P": "ways",
        "D": "ways, m_within, R, delta",
        "B": "ways",
    }
    return _bound(error, n, m, R_task, delta, 1.0, math.exp(log_D), math.sqrt(w) * math.sqrt(w - 1), names)


def union(a: BoundResult, b: BoundResult) -> BoundResult:
    """The bound for the task made of two classification tasks, as in the paper's union table.

    ``n = n_a n_b``, ``m = m_a + m_b``, ``R = sqrt(R_a^2 + R_b^2)``, ``P = P_a P_b``, with the first
    task's delta, error and output dimension (``D = P_a``, as published).

    Parameters
    ----------
    a : BoundResult
        The first task, from :func:`classification` or :func:`bound`.
    b : BoundResult
        The second task, likewise.

    Returns
    -------
    BoundResult
        The bound of the combined task.

    Raises
    ------
    TypeError
        If ``a`` or ``b`` is not a result of :func:`classification` or :func:`bound`.
    ValueError
        If the combined task's size, dimension, radius or class count leaves a double (or the
        dimension exceeds 1e12), or its eigenvalue count does (the message names ``a, b``).

    Examples
    --------
    >>> from inductive_bias import difficulty
    >>> a = difficulty.classification(n=1000, m=3, R=1.0, delta=0.2, classes=2, error=0.01)
    >>> b = difficulty.classification(n=500, m=2, R=2.0, delta=0.2, classes=3, error=0.01)
    >>> u = difficulty.union(a, b)
    >>> u.parameters["n"], u.parameters["m"], u.parameters["P"], u.parameters["D"]
    (500000.0, 5.0, 6.0, 2.0)
    """
    for name, task in (("a", a), ("b", b)):
        if not isinstance(task, BoundResult) or "P" not in task.parameters:
            raise TypeError(f"{name}: expected the result of difficulty.classification or difficulty.bound")
    pa, pb = a.parameters, b.parameters
    n, m, R, P = pa["n"] * pb["n"], pa["m"] + pb["m"], math.hypot(pa["R"], pb["R"]), pa["P"] * pb["P"]
    for what, value, limit in (
        ("training set size n_a n_b", n, math.inf),
        ("dimension m_a + m_b", m, 1e12),
        ("radius sqrt(R_a^2 + R_b^2)", R, math.inf),
        ("class count P_a P_b", P, math.inf),
    ):
        if not (math.isfinite(value) and value <= limit):
            beyond = "exceeds 1e12" if math.isfinite(limit) else "overflows a double"
            raise ValueError(f"a, b: the combined task's {what} = {value:g} {beyond}")
    names = {"error": "a", "n": "a, b", "m": "a, b", "R": "a, b", "delta": "a", "P": "a, b", "D": "a", "B": "a"}
    return _bound(pa["error"], n, m, R, pa["delta"], P, pa["P"], 1.0, names)
