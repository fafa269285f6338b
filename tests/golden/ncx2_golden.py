"""Golden values of the scaled ncx2 in log space, by mpmath at 60 digits.

    python tests/golden/ncx2_golden.py > tests/golden/ncx2.csv

Each row: df, nc, scale, x, logpdf, logcdf, logsf (natural logs; the scaled variable is scale * Y,
Y ~ ncx2(df, nc)). The CDF is sum_j Pois(j; nc/2) P(df/2 + j, x / (2 scale)) (and the same with Q
for the SF, with chi2 densities for the PDF), summed over j until past both the Poisson mode and the
peak of the terms (j (df/2 + j) = nc x / (4 scale): far in the upper tail the terms peak well above
the Poisson mode) and the terms are below 1e-70 of each sum.
"""

import mpmath as mp

mp.mp.dps = 60

CASES = [
    # df, nc, scale, x: the methods notes' example, moderate regimes, deep lower and upper tails
    (1000, 500, "1e-3", "0.1"),
    (3, 2, 1, 5),
    (3, 2, 1, "0.5"),
    (3, 2, 1, 30),
    (10, 50, 1, 100),
    (10, 50, 1, 20),
    ("2.5", 7, 1, "1e-3"),
    (50, 30, 1, 200),
    ("0.5", "0.1", 1, 1),
    (1, 0, 2, "0.7"),
    (40, 0, "0.25", 3),
    (5, 100, "0.1", "10.5"),
    (2, "0.5", 1, 80),
    (20, 15, "0.01", "0.05"),
    (475, 0, "7.9e-4", "0.2"),
    (1000, 500, "1e-3", 5),
    (10, 5, 1, 10000),
    (200000, 100, 1, 2),
    (10, 5, 1, 2000000),
    (100, 1000, 1, 600),
    (3000, 10, "1e-4", "0.25"),
    ("0.01", 3, 1, "0.5"),
]


def row(df, nc, scale, x):
    df, nc, scale, x = (mp.mpf(str(v)) for v in (df, nc, scale, x))
    a, lam, y = df / 2, nc / 2, x / scale
    h = y / 2
    peak = max(lam, (-(a + 1) + mp.sqrt((a - 1) ** 2 + 4 * lam * h)) / 2)
    sums = [mp.mpf(0)] * 3  # pdf, cdf, sf
    j = 0
    while True:
        log_w = -lam + (j * mp.log(lam) if lam > 0 else 0) - mp.loggamma(j + 1)
        # chi2 pdf(y; df + 2j) = (y/2)^(a+j-1) e^(-y/2) / (2 Gamma(a+j))
        terms = [
            mp.exp(log_w + (a + j - 1) * mp.log(h) - h - mp.loggamma(a + j)) / 2,
            mp.exp(log_w) * mp.gammainc(a + j, 0, h, regularized=True),
            mp.exp(log_w) * mp.gammainc(a + j, h, mp.inf, regularized=True),
        ]
        sums = [s + t for s, t in zip(sums, terms)]
        if lam == 0 or (j > peak + 50 and all(t < mp.mpf("1e-70") * s for s, t in zip(sums, terms))):
            break
        j += 1
    pdf, cdf, sf = sums
    return [df, nc, scale, x, mp.log(pdf / scale), mp.log(cdf), mp.log(sf)]


if __name__ == "__main__":
    print("df,nc,scale,x,logpdf,logcdf,logsf")
    for case in CASES:
        print(",".join(mp.nstr(v, 20) for v in row(*case)))
