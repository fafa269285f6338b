"""Golden values of the generalized chi-squared CDF by an independent 50-digit mpmath computation.

    python tests/golden/gchi2_golden.py > tests/golden/gchi2.csv

Q = sum_j w_j chi2_1(nc_j) for the cases below. P(Q <= x) is Ruben's expansion evaluated in 50-digit
arithmetic with a different beta from the library's (min(w) / 2 instead of min(w), so different
coefficients and chi-squared terms), summed until the bound on the rest, P_k (1 - sum a), is below
1e-40 of the sum. Each row: case, x, log P.
"""

import mpmath as mp

mp.mp.dps = 50


def cases():
    yield "geometric-20", [mp.mpf(2) ** (-j / 4) for j in range(20)], [mp.mpf("0.3")] * 20
    yield "uniform-50", [mp.mpf(1) + mp.mpf(j) / 49 for j in range(50)], [mp.mpf(j % 3) / 2 for j in range(50)]


def log_cdf(weights, nc, x):
    beta = min(weights) / 2
    gamma = [1 - beta / w for w in weights]
    m = len(weights)
    a0 = mp.exp(-sum(nc) / 2) * mp.fprod(mp.sqrt(beta / w) for w in weights)
    a, g = [a0], [mp.mpf(0)]
    total, mass, k = mp.mpf(0), mp.mpf(0), 0
    while True:
        if k > 0:
            g.append(sum((gj**k + k * d * (1 - gj) * gj ** (k - 1)) / 2 for gj, d in zip(gamma, nc)))
            a.append(mp.fsum(g[k - r] * a[r] for r in range(k)) / k)
        mass += a[k]
        p = mp.gammainc(mp.mpf(m) / 2 + k, 0, x / (2 * beta), regularized=True)
        total += a[k] * p
        if p * (1 - mass) < mp.mpf("1e-40") * total:  # later terms have P <= p and weights summing to 1 - mass
            return mp.log(total)
        k += 1


if __name__ == "__main__":
    print("case,x,logcdf")
    for name, weights, nc in cases():
        mean = sum(w * (1 + d) for w, d in zip(weights, nc))
        for fraction in ("0.05", "0.3", "0.8", "1.5"):
            x = mean * mp.mpf(fraction)
            print(f"{name},{mp.nstr(x, 25)},{mp.nstr(log_cdf(weights, nc, x), 25)}")
