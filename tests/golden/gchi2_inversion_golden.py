"""Golden log-probabilities of the generalized chi-squared by a 40-digit mpmath inversion of the
moment generating function, for the library's own inversion (method="inversion") and "auto".

    python tests/golden/gchi2_inversion_golden.py > tests/golden/gchi2_inversion.csv

Q = sum_j w_j chi2_{h_j}(nc_j). For each x: the saddlepoint c (bisection on K'(c) = x, 300 steps),
shifted to c = -1/sqrt(K''(c)) within a standard deviation of the mean, and
P = -+(1/pi) e^(K(c) - c x) Int_0^inf Re[exp(K(c + it) - K(c) - itx) / (c + it)] dt
by mpmath.quad (tanh-sinh) over [0, inf] split at A 2^k, A = 1/sqrt(K''(c)). Each value is computed
twice, with breakpoints A 2^k and A 3^k; a point is kept only when both agree to 1e-25 (so every
row is correct to far beyond double precision). Each row: case, x, log P(Q <= x), log P(Q > x).
"""

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


if __name__ == "__main__":
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
