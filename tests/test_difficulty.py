import math
import re

import pytest

from inductive_bias import difficulty

# Published parameter sets and values (docs/methods.md 2, from the paper's tables).
PUBLISHED = [
    ("MNIST", dict(n=60000, m=14, R=17.179045827183984, delta=2.3987084824335305, classes=10, error=1e-3), 1.485e16),
    ("CIFAR-10", dict(n=50000, m=27, R=54.9156786783691, delta=2.7506414616587023, classes=10, error=1e-2), 3.438e32),
    ("ImageNet", dict(n=1280901, m=48, R=943.5923, delta=65, classes=1000, error=0.1), 3.583e41),
]


@pytest.mark.parametrize(("name", "params", "bits"), PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_published_classification_values(name, params, bits):
    result = difficulty.classification(**params)
    assert not result.vacuous
    assert float(f"{result.bits:.4g}") == bits
    assert result.log10_bits == pytest.approx(math.log10(result.bits), rel=1e-12)


def test_published_ranking():
    bits = [difficulty.classification(**p).bits for _, p, _ in PUBLISHED]
    assert bits[0] < bits[1] < bits[2]


@pytest.mark.parametrize(("T", "bits"), [(1, 4.41e9), (2, 3.33e17), (3, 1.46e25), (4, 4.69e32), (5, 1.19e40)])
def test_published_cart_pole(T, bits):
    result = difficulty.control(m=2 * T, D=1, n=1e4, delta=1e-3, error=1e-3)
    assert float(f"{result.bits:.3g}") == bits


def test_large_dimensions_do_not_overflow():
    # E overflows doubles (log E > 709) in the published plain-double code; logs carry it here, up
    # to m = 10^4, and bits beyond a double's range come back as inf beside a finite log10.
    previous = 0.0
    for m in (300, 1000, 10_000):
        result = difficulty.bound(error=0.01, n=1e6, m=m, R=5000.0, delta=0.5, P=10, D=9)
        assert not result.vacuous and math.isinf(result.bits)
        assert math.isfinite(result.log_E) and result.log_E > 709
        assert math.isfinite(result.log10_bits) and result.log10_bits > previous
        previous = result.log10_bits


def test_intermediates_match_the_formula():
    r = difficulty.bound(error=1e-3, n=60000, m=14, R=17.18, delta=2.4, P=10, D=9)
    M = 2 * math.pi * 17.18 / 2.4
    K = (math.sqrt(13**2 + 4 * M * M) - 13) / 2
    assert r.K == pytest.approx(K, rel=1e-12)
    E = (
        math.comb(0, 0) * 0
        + math.exp(math.lgamma(14 + K + 1) - math.lgamma(15) - math.lgamma(K + 1))
        + math.exp(math.lgamma(14 + K) - math.lgamma(15) - math.lgamma(K))
    )
    assert r.E == pytest.approx(E, rel=1e-12)
    assert r.dim_theta_q == pytest.approx(2 * 9 * 10 * E - 60000 * 9, rel=1e-12)
    assert r.L_f == pytest.approx(K * 3 / 17.18, rel=1e-12)


def test_vacuous_bracket_and_infinite_separation():
    vacuous = difficulty.bound(error=1.0, n=10, m=2, R=1.0, delta=100.0, P=2, D=1)
    assert vacuous.vacuous and math.isnan(vacuous.bits) and vacuous.reason
    infinite = difficulty.classification(n=100, m=3, R=1.0, delta=0.0, classes=2, error=0.1)
    assert math.isinf(infinite.bits) and "coincide" in infinite.reason and not infinite.vacuous


def test_few_shot_and_union_follow_the_published_forms():
    r = difficulty.few_shot(
        error=0.01, n=1e30, m_within=22, m_across=29, R=49.4064773081425, delta=5.477225575051661, ways=20
    )
    _, log_e = difficulty.eigenvalue_count(22, 49.4064773081425, 5.477225575051661)
    direct = difficulty.bound(
        0.01,
        1e30,
        29 + 19 * 22,
        49.4064773081425 * math.sqrt(20),
        5.477225575051661,
        P=1,
        D=2 * 20 * 19 * math.exp(log_e),
        B=math.sqrt(20 * 19),
    )
    assert r.log10_bits == pytest.approx(direct.log10_bits, rel=1e-14)
    mnist = difficulty.classification(**PUBLISHED[0][1])
    imagenet = difficulty.classification(**PUBLISHED[2][1])
    both = difficulty.union(mnist, imagenet)
    assert both.parameters["n"] == 60000 * 1280901 and both.parameters["m"] == 14 + 48
    assert both.parameters["P"] == 10 * 1000 and both.parameters["R"] == pytest.approx(
        math.hypot(17.179045827183984, 943.5923)
    )
    assert both.log10_bits > imagenet.log10_bits


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(error=0.0), ValueError, "error"),
        (dict(error=1.5), ValueError, "error"),
        (dict(n=-1), ValueError, "n"),
        (dict(m=0), ValueError, "m"),
        (dict(R=math.nan), ValueError, "R"),
        (dict(delta=-1.0), ValueError, "delta"),
        (dict(classes=1), ValueError, "classes"),
        (dict(error="x"), TypeError, "error"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    args = dict(n=100, m=3, R=1.0, delta=0.1, classes=2, error=0.1) | kwargs
    with pytest.raises(error, match=match):
        difficulty.classification(**args)


def _mpmath_log10_bits(n, m, R, delta, P, D, error, B=1):
    """The bound at 60 digits, straight from the published formula (real binomials via Gamma)."""
    import mpmath as mp

    with mp.workdps(60):
        n, m, R, delta, P, D, error, B = (mp.mpf(v) for v in (n, m, R, delta, P, D, error, B))
        M = 2 * mp.pi * R / delta
        K = (mp.sqrt((m - 1) ** 2 + 4 * M**2) - (m - 1)) / 2
        E = mp.gamma(m + K + 1) / (mp.gamma(m + 1) * mp.gamma(K + 1)) + mp.gamma(m + K) / (
            mp.gamma(m + 1) * mp.gamma(K)
        )
        log_W = (
            mp.log(m / 6) / 2
            + (mp.log(2) + (m + 1) / 2 * mp.log(mp.pi) + mp.log(P) - mp.loggamma((m + 1) / 2)) / m
            + mp.log(R)
            - mp.log(n) / m
        )
        bracket = (
            mp.log(B, 2)
            + mp.log(D, 2) / 2
            + mp.log(P, 2) / 2
            - mp.log(error, 2)
            + mp.log(K * mp.sqrt(D) / R, 2)
            + log_W / mp.log(2)
        )
        return float(mp.log10((2 * D * P * E - n * D) * bracket))


@pytest.mark.parametrize(
    "params",
    [
        *(p for _, p, _ in PUBLISHED),
        dict(n=1280901, m=10000, R=943.5923, delta=65, classes=1000, error=0.1),  # K < 1: both binomials count
        dict(n=60000, m=14, R=17.179045827183984, delta=1e-6, classes=10, error=1e-3),  # tiny delta: K ~ 1e8
        dict(n=1e5, m=250, R=30.0, delta=0.01, classes=100, error=1e-4),
        dict(n=50, m=3, R=2.0, delta=0.9, classes=2, error=0.05),
    ],
    ids=["MNIST", "CIFAR-10", "ImageNet", "K<1", "tiny-delta", "m=250", "small"],
)
def test_bound_matches_60_digit_mpmath(params):
    result = difficulty.classification(**params)
    want = _mpmath_log10_bits(
        params["n"],
        params["m"],
        params["R"],
        params["delta"],
        params["classes"],
        params["classes"] - 1,
        params["error"],
    )
    assert not result.vacuous
    assert result.log10_bits == pytest.approx(want, rel=1e-13)


def test_k_below_one_keeps_the_second_binomial():
    # The published code and 60-digit mpmath give 6.0814e10 bits (dropping C(m + K - 1, m): 6.0807e10).
    result = difficulty.classification(n=1280901, m=10000, R=943.5923, delta=65, classes=1000, error=0.1)
    assert result.K < 1
    assert float(f"{result.bits:.5g}") == 6.0814e10


def test_huge_and_infinite_counts_read_as_inf_not_overflow():
    huge = difficulty.bound(error=0.01, n=1e6, m=1000, R=5000, delta=0.5, P=10, D=9)
    assert huge.log_E > 710 and huge.E == math.inf and huge.dim_theta_q == math.inf
    touching = difficulty.bound(error=0.01, n=100, m=2, R=1.0, delta=0.0, P=2, D=1)
    assert touching.E == math.inf and touching.dim_theta_q == math.inf


@pytest.mark.parametrize(
    ("function", "arguments", "name"),
    [
        (difficulty.classification, dict(n=1000, m=5, R=1e-308, delta=0.1, classes=10, error=0.01), "R, delta:"),
        (difficulty.classification, dict(n=1e-308, m=5, R=1, delta=0.1, classes=10, error=0.01), "n:"),
        (difficulty.classification, dict(n=1000, m=1e308, R=1, delta=0.1, classes=10, error=0.01), "m:"),
        (difficulty.few_shot, dict(error=0.01, n=100, m_within=2, m_across=-1, R=1.0, delta=0.5, ways=5), "m_across:"),
        (
            difficulty.few_shot,
            dict(error=0.01, n=100, m_within=2, m_across=float("nan"), R=1.0, delta=0.5, ways=5),
            "m_across:",
        ),
        (difficulty.control, dict(m=1e308, D=1, n=1e4, delta=1e-3, error=1e-3), "m:"),
    ],
)
def test_extreme_inputs_name_the_argument(function, arguments, name):
    with pytest.raises(ValueError, match=name):
        function(**arguments)


def test_beyond_a_double_the_bound_says_where_the_value_is():
    r = difficulty.control(m=2, D=1, n=1e4, delta=1e-308, error=1e-3)
    assert r.bits == math.inf and math.isfinite(r.log10_bits) and "log10_bits" in r.reason


_TINY_SEPARATION = dict(n=1e300, m=3, R=1.0, delta=1e-300, classes=2, error=0.01)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        # Parameters a task function derives are refused by the arguments the user wrote.
        (lambda: difficulty.few_shot(0.1, 1000, 3, 5, 1.0, 0.2, 10**20), ValueError, "ways, m_within, m_across"),
        (lambda: difficulty.few_shot(0.1, 1000, 3, 5, 1.0, 0.2, 1e150), ValueError, "ways, m_within"),
        (lambda: difficulty.few_shot(0.1, 1000, 3, 5, 1e300, 0.2, 10**10), ValueError, "m_within, R, delta"),
        (lambda: difficulty.few_shot(0.1, 1000, 3, 5, 1.0, 0.2, math.nan), ValueError, "ways"),
        (lambda: difficulty.few_shot(0.1, 1000, 3, 5, 1.0, 0.2, 10**400), ValueError, "ways"),
        (
            lambda: difficulty.union(
                difficulty.classification(**_TINY_SEPARATION), difficulty.classification(**_TINY_SEPARATION)
            ),
            ValueError,
            "a, b",
        ),
        (
            lambda: difficulty.union(
                difficulty.classification(10, 6e11, 1.0, 0.1, 2, 0.01),
                difficulty.classification(10, 6e11, 1.0, 0.1, 2, 0.01),
            ),
            ValueError,
            "a, b",
        ),
        # eigenvalue_count checks its own arguments.
        (lambda: difficulty.eigenvalue_count(3, 0, 0.2), ValueError, "R"),
        (lambda: difficulty.eigenvalue_count(3, 1.0, 0), ValueError, "delta"),
        (lambda: difficulty.eigenvalue_count(math.nan, 1, 0.2), ValueError, "m"),
        (lambda: difficulty.eigenvalue_count(1e308, 1, 0.2), ValueError, "m"),
        (lambda: difficulty.eigenvalue_count(0, 1, 0.2), ValueError, "m"),
        (lambda: difficulty.eigenvalue_count("3", 1, 0.2), TypeError, "m"),
        (lambda: difficulty.eigenvalue_count(1e12, 1e-150, 1), ValueError, "m, R, delta"),
    ],
)
def test_errors_name_the_arguments_the_user_wrote(call, error, name):
    with pytest.raises(error, match=f"^{re.escape(name)}: "):
        call()
