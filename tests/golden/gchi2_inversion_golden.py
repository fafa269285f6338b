"""Golden log-probabilities of the generalized chi-squared by a 40-digit mpmath inversion of the
moment generating function, for the library's own inversion (method="inversion") and "auto".

    python tests/golden/gchi2_inversion_golden.py > tests/golden/gchi2_inversion.csv

Q = sum_j w_j chi2_{h_j}(nc_j). For each x: the saddlepoint c (bisection on K'(c) = x, 300 steps),
shifted to c = -1/sqrt(K''(c)) within a standard deviation of the mean, and
P = -+(1/pi) e^(K(c) - c x) Int_0^inf Re[exp(K(c + it) - K(c) - itx) / (c + it)] dt
by mpmath.quad (tanh-sinh) over [0, inf] split at A 2^k, A = 1/sqrt(K''(c)). Each value is computed
twice, with breakpoints A 2^k and A 3^k; a point is kept only when both agree to 1e-25 (so every
row is correct to far beyond double precision). Each row: case, x, log P(Q <= x), log P(Q > x).

Larger spectra and deep tails (1000 and 10^4 terms; log P near -720 in both tails, and below -2000
for small spectra), written to a second file:

    nice python tests/golden/gchi2_inversion_golden.py --large > tests/golden/gchi2_inversion_large.csv
    # (--large NAME ... computes only the cases named; the file was made by two such runs, merged)

(about 40 minutes on one core with gmpy2 installed, mpmath's fast backend). The weights there are
the doubles the tests build (10.0 ** (-decades * j / (n - 1)) in NumPy), taken exactly. Small
spectra use the tanh-sinh values above (their integrands decay only algebraically), and where the
two disagree (oscillating tails) log_tails_oscillatory with two different splits. Tanh-sinh over
10^4 terms would take hours, so for 1000 and 10^4 terms each value is the trapezoid rule on two
different vertical lines with two different steps, each step small enough that the rule's aliasing
error, bounded by Chernoff (the sum at step h = 2 pi / L is sum_m e^(c m L) P(Q <= x + m L): see
_alias_bound), is below 1e-50 of the value. A row is kept only when both agree to 1e-25.
"""

import sys

import mpmath as mp

mp.mp.dps = 40


def cases():
    # The reproducer of the near-mean failure: 10 terms over 2 decades.
    yield (
        "decades2-10",
        [mp.mpf(10) ** (-2 * mp.mpf(j) / 9) for j in range(10)],
        [10, 8, 10, 10, 1, 2, 9, 1, 2, 2],
        [0] * 10,
    )
    yield (
        "decades3-50-nc",
        [mp.mpf(10) ** (-3 * mp.mpf(j) / 49) for j in range(50)],
        [1 + j % 3 for j in range(50)],
        [mp.mpf(j % 5) for j in range(50)],
    )
    yield "decades4-200", [mp.mpf(10) ** (-4 * mp.mpf(j) / 199) for j in range(200)], [1] * 200, [0] * 200


def K(s, w, h, nc):
    return mp.fsum(-hj / 2 * mp.log(1 - 2 * s * wj) + ncj * wj * s / (1 - 2 * s * wj) for wj, hj, ncj in zip(w, h, nc))


def K1(s, w, h, nc):
    return mp.fsum((hj * wj + ncj * wj / (1 - 2 * s * wj)) / (1 - 2 * s * wj) for wj, hj, ncj in zip(w, h, nc))


def K2(s, w, h, nc):
    return mp.fsum(
        (2 * hj * wj**2 + 4 * ncj * wj**2 / (1 - 2 * s * wj)) / (1 - 2 * s * wj) ** 2 for wj, hj, ncj in zip(w, h, nc)
    )


def log_tails(w, h, nc, x, base):
    smax = 1 / (2 * max(w))
    lo, hi = -mp.mpf(1), smax * (1 - mp.mpf(10) ** -30)
    while K1(lo, w, h, nc) > x:
        lo *= 2
    for _ in range(300):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if K1(mid, w, h, nc) > x else (mid, hi)
    c = (lo + hi) / 2
    width = 1 / mp.sqrt(K2(c, w, h, nc))
    lower = c < width
    if -width < c < width:
        c = -width
    kc, A = K(c, w, h, nc), 1 / mp.sqrt(K2(c, w, h, nc))

    def integrand(t):
        return mp.re(mp.exp(K(c + 1j * t, w, h, nc) - kc - 1j * t * x) / (c + 1j * t))

    points = [0] + [A * mp.mpf(base) ** k for k in range(-3, 40)] + [mp.inf]
    tail = mp.log((-1 if lower else 1) * mp.quad(integrand, points) / mp.pi) + kc - c * x
    other = mp.log(-mp.expm1(tail))
    return (tail, other) if lower else (other, tail)


def log_tails_oscillatory(w, h, nc, x, head, spacing):
    """As log_tails, with the integral split at head * A: tanh-sinh on panels of spacing * A up to
    there, then mpmath.quadosc (period 2 pi / x) for the rest, whose algebraically decaying,
    oscillating integrand (few degrees of freedom) the tanh-sinh panels of log_tails resolve only to
    ~1e-17."""
    smax = 1 / (2 * max(w))
    lo, hi = -mp.mpf(1), smax * (1 - mp.mpf(10) ** -30)
    while K1(lo, w, h, nc) > x:
        lo *= 2
    for _ in range(300):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if K1(mid, w, h, nc) > x else (mid, hi)
    c = (lo + hi) / 2
    width = 1 / mp.sqrt(K2(c, w, h, nc))
    lower = c < width
    if -width < c < width:
        c = -width
    kc, A = K(c, w, h, nc), 1 / mp.sqrt(K2(c, w, h, nc))

    def integrand(t):
        return mp.re(mp.exp(K(c + 1j * t, w, h, nc) - kc - 1j * t * x) / (c + 1j * t))

    panels = int(head / spacing)
    total = mp.quad(integrand, [A * spacing * k for k in range(panels + 1)])
    total += mp.quadosc(integrand, [A * spacing * panels, mp.inf], omega=x)
    tail = mp.log((-1 if lower else 1) * total / mp.pi) + kc - c * x
    other = mp.log1p(-mp.exp(tail))
    return (tail, other) if lower else (other, tail)


def small_rows():
    print("case,x,logcdf,logsf")
    for name, w, h, nc in cases():
        w, h, nc = [mp.mpf(v) for v in w], [mp.mpf(v) for v in h], [mp.mpf(v) for v in nc]
        mean = mp.fsum(wj * (hj + ncj) for wj, hj, ncj in zip(w, h, nc))
        sd = mp.sqrt(mp.fsum(2 * wj**2 * (hj + 2 * ncj) for wj, hj, ncj in zip(w, h, nc)))
        for x in (
            mean - mp.mpf("1e-9") * sd,
            mean - mp.mpf("1e-6") * sd,
            mean,
            mean + mp.mpf("1e-6") * sd,
            mean - 2 * sd,
            mean + 2 * sd,
            mean * mp.mpf("0.2"),
            mean * 3,
        ):
            x = mp.mpf(mp.nstr(x, 30))  # the row's x, exactly
            one, two = log_tails(w, h, nc, x, 2), log_tails(w, h, nc, x, 3)
            if abs(one[0] - two[0]) < mp.mpf("1e-25") * (1 + abs(one[0])) and abs(one[1] - two[1]) < mp.mpf("1e-25") * (
                1 + abs(one[1])
            ):
                print(f"{name},{mp.nstr(x, 30)},{mp.nstr(one[0], 25)},{mp.nstr(one[1], 25)}", flush=True)


# ---- larger spectra and deep tails: the trapezoid rule on two vertical lines -----------------------------
def large_cases():
    """(name, weights as exact doubles, dofs, noncentralities, quadrature)."""
    import numpy as np

    def spread(n, decades):
        return [mp.mpf(float(v)) for v in 10.0 ** (-decades * np.arange(n) / (n - 1))]

    yield "decades2-10", spread(10, 2), [10, 8, 10, 10, 1, 2, 9, 1, 2, 2], [0] * 10, "tanh-sinh"
    yield "two-terms", [mp.mpf(1), mp.mpf(0.1)], [3, 7], [0, 0], "tanh-sinh"
    j = range(5)
    yield "decades1-5-nc", spread(5, 1), [1 + v for v in j], [[0, 50, 10, 3, 25][v] for v in j], "tanh-sinh"
    j = range(1000)
    yield "decades6-1000", spread(1000, 6), [1 + v % 10 for v in j], [5 * (v % 11) for v in j], "trapezoid"
    j = range(10_000)
    yield "decades3-10000", spread(10_000, 3), [1 + v % 3 for v in j], [v % 7 for v in j], "trapezoid"


class Spectrum:
    def __init__(self, w, h, nc):
        self.w, self.h, self.nc = [mp.mpf(v) for v in w], [mp.mpf(v) for v in h], [mp.mpf(v) for v in nc]
        self.smax = 1 / (2 * max(self.w))

    def K(self, s):
        return K(s, self.w, self.h, self.nc)

    def K1(self, s):
        return K1(s, self.w, self.h, self.nc)

    def K2(self, s):
        return K2(s, self.w, self.h, self.nc)

    def saddle(self, x):
        """c with K'(c) = x: Newton on log(smax - c), safeguarded by a bracket."""
        lo, hi = -mp.mpf(1), self.smax
        while self.K1(lo) > x:
            lo *= 2
        c = lo
        for _ in range(200):
            k1 = self.K1(c)
            lo, hi = (lo, c) if k1 > x else (c, hi)
            step = c - (k1 - x) / self.K2(c)
            c = step if lo < step < hi else (lo + hi) / 2
            if hi - lo < mp.mpf(10) ** -35 * (self.smax - lo):
                break
        return c

    def chernoff_point(self, target, upper, steps=120):
        """x = K'(c) where the Chernoff exponent K(c) - c K'(c) equals target (< 0), c above or below 0
        (to `steps` bisections: any x near the target will do)."""
        lo, hi = (mp.mpf(0), self.smax) if upper else (-mp.mpf(1), mp.mpf(0))
        if not upper:
            while self.K(lo) - lo * self.K1(lo) > target:
                lo *= 2
        for _ in range(steps):
            mid = (lo + hi) / 2
            exponent = self.K(mid) - mid * self.K1(mid)
            if (exponent > target) == upper:
                lo = mid
            else:
                hi = mid
        return self.K1((lo + hi) / 2)


def _chernoff_grid(spec, c, x, lower):
    """(c', K(c') - c' x) for c' on a grid between c and the end of the domain on the far side of c."""
    if lower:
        grid = [c - abs(c) * mp.mpf(2) ** (k - 30) for k in range(1, 60)]
    else:
        grid = [c + (spec.smax - c) * (1 - mp.mpf(2) ** -k) for k in range(1, 60)]
    return [(cp, spec.K(cp) - cp * x) for cp in grid]


def _alias_bound(c, x, L, lower, grid):
    """log of a bound on the aliasing error of the trapezoid rule with step 2 pi / L on Re s = c.

    Lower tail (c < 0): the sum is sum_m e^(c m L) F(x + m L), F = P(Q <= .) (Poisson summation).
    The m > 0 terms are at most e^(c m L). For m < 0, F(x - |m| L) = 0 once |m| L > x, and else
    Chernoff's F(v) <= e^(K(c') - c' v) for any c' < c makes the term at most
    e^(K(c') - c' x - (c - c') |m| L): a geometric series. Upper tail (c > 0): the same with
    S = P(Q > .) and c' > c.
    """
    far = -abs(c) * L - mp.log(1 - mp.exp(-abs(c) * L))  # the side bounded by 1
    if lower and L > x:
        return far
    near = min(value - abs(cp - c) * L - mp.log(1 - mp.exp(-abs(cp - c) * L)) for cp, value in grid)
    return mp.log(mp.exp(far) + mp.exp(near))


def log_tail_trapezoid(spec, x, c, L):
    """log P(Q <= x) (c < 0) or log P(Q > x) (c > 0) by the trapezoid rule with step 2 pi / L on the
    line Re s = c, nodes until |g| < 1e-60 of the sum (the integrand decays at least algebraically
    with a growing exponent; the last 20 nodes must all be that small)."""
    h = 2 * mp.pi / L
    kc = spec.K(c)
    total = mp.re(mp.mpf(1) / c) / 2
    small, k = 0, 0
    while small < 20:
        k += 1
        t = k * h
        value = mp.exp(spec.K(c + 1j * t) - kc - 1j * t * x) / (c + 1j * t)
        total += mp.re(value)
        small = small + 1 if abs(value) < mp.mpf(10) ** -60 * abs(total) else 0
    integral = h * total / mp.pi  # (1 / 2 pi) * 2 h * sum over t >= 0
    return mp.log(-integral if c < 0 else integral) + kc - c * x


def trapezoid_tails(spec, x, shift, stretch):
    """Both tails by the trapezoid rule on the line through the saddlepoint, moved `shift` widths
    (and off the pole within a width of the mean), with L (the aliasing period) `stretch` times the
    smallest whose aliasing bound is below 1e-50 of the value."""
    c = spec.saddle(x)
    A = 1 / mp.sqrt(spec.K2(c))
    lower = c < A
    if -A < c < A:
        c = -2 * A  # the bulk: off the pole
    c += shift * A if lower else -shift * min(A, (spec.smax - c) / 4)
    log_estimate = spec.K(c) - c * x - 20  # the tail is at least e^-20 of its Chernoff bound here
    grid = _chernoff_grid(spec, c, x, lower)
    L = 4 / A
    while _alias_bound(c, x, L, lower, grid) > log_estimate - 116:  # e^-116 = 4e-51
        L *= 1.25
    tail = log_tail_trapezoid(spec, x, c, L * stretch)
    other = mp.log1p(-mp.exp(tail))  # log(1 - P), exact also when P ~ e^-700
    return (tail, other) if lower else (other, tail)


def large_rows(only=()):
    """Rows of the cases named in `only` (all when empty)."""
    print("case,x,logcdf,logsf", flush=True)
    for name, w, h, nc, method in large_cases():
        if only and name not in only:
            continue
        spec = Spectrum(w, h, nc)
        mean = mp.fsum(wj * (hj + ncj) for wj, hj, ncj in zip(spec.w, spec.h, spec.nc))
        sd = mp.sqrt(mp.fsum(2 * wj**2 * (hj + 2 * ncj) for wj, hj, ncj in zip(spec.w, spec.h, spec.nc)))
        points = [mean, mean - mp.mpf("1e-8") * sd, mean + mp.mpf("1e-8") * sd]
        if len(w) >= 10_000:  # under an hour on a busy machine: the mean, one point beside it, the tails
            points = points[:2]
        steps = 120 if len(w) < 10_000 else 40
        points += [spec.chernoff_point(mp.mpf(-725), False, steps), spec.chernoff_point(mp.mpf(-725), True, steps)]
        if len(w) <= 10:
            points += [spec.chernoff_point(mp.mpf(-2500), False), spec.chernoff_point(mp.mpf(-2500), True)]
        for x in points:
            x = mp.mpf(float(x))  # the row's x, an exact double
            if method == "tanh-sinh":  # few degrees of freedom: the integrand decays algebraically
                one, two = log_tails(spec.w, spec.h, spec.nc, x, 2), log_tails(spec.w, spec.h, spec.nc, x, 3)
                if not all(abs(a - b) < mp.mpf("1e-25") * (1 + abs(a)) for a, b in zip(one, two)):
                    one = log_tails_oscillatory(spec.w, spec.h, spec.nc, x, 40, mp.mpf(1) / 4)
                    two = log_tails_oscillatory(spec.w, spec.h, spec.nc, x, 60, mp.mpf(1) / 3)
            else:
                one = trapezoid_tails(spec, x, 0, 1)
                two = trapezoid_tails(spec, x, mp.mpf("0.5"), mp.mpf("1.3"))
            agree = all(abs(a - b) < mp.mpf("1e-25") * (1 + abs(a)) for a, b in zip(one, two))
            if agree:
                print(f"{name},{float(x)!r},{mp.nstr(one[0], 25)},{mp.nstr(one[1], 25)}", flush=True)
            else:
                print(f"# {name} x={float(x)!r}: disagree {one} {two}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    large_rows(sys.argv[2:]) if sys.argv[1:2] == ["--large"] else small_rows()
