"""Generates the coefficient table of Temme's uniform expansion in csrc/include/ib/special.hpp.

python tests/golden/temme_coefficients.py 8 22
"""

# Coefficients of Temme's uniform expansion of the incomplete gamma function (DLMF 8.12.7-8.12.9):
#   Q(a, x) = erfc(eta sqrt(a/2)) / 2 + R,  R ~ exp(-a eta^2 / 2) / sqrt(2 pi a) sum_k c_k(eta) a^-k,
#   eta^2 / 2 = mu - log(1 + mu), mu = x / a - 1 (eta has the sign of mu),
#   c_0 = 1/mu - 1/eta,  c_k = c_{k-1}'(eta) / eta + (-1)^k g_k / mu,
#   g_k: Gamma(a) ~ sqrt(2 pi) a^(a - 1/2) e^-a sum_k g_k a^-k (Stirling).
# Exact rational power series (Laurent in eta); prints c_k's Taylor coefficients in eta.
import sys
from fractions import Fraction as F
from math import comb

K, N = int(sys.argv[1]), int(sys.argv[2])
M = N + 2 * K + 6  # working order


def mul(p, q, n=M):
    r = [F(0)] * n
    for i, a in enumerate(p[:n]):
        if a:
            for j, b in enumerate(q[: n - i]):
                r[i + j] += a * b
    return r


def inv(p, n=M):  # 1/p for p[0] != 0
    r = [F(0)] * n
    r[0] = 1 / p[0]
    for k in range(1, n):
        r[k] = -sum(p[i] * r[k - i] for i in range(1, min(k, len(p) - 1) + 1)) / p[0]
    return r


# eta as a series in mu: eta = mu sqrt(2 (mu - log(1+mu)) / mu^2) ; (mu - log(1+mu))/mu^2 = sum (-1)^k mu^k/(k+2)
h = [F((-1) ** k, k + 2) * 2 for k in range(M)]  # 2 (mu - log(1+mu)) / mu^2 = 1 - 2mu/3 + ...
# sqrt of a series with h[0] = 1
s = [F(0)] * M
s[0] = F(1)
for k in range(1, M):
    s[k] = (h[k] - sum(s[i] * s[k - i] for i in range(1, k))) / 2
eta_of_mu = [F(0)] + s[: M - 1]  # eta = mu * s(mu)
# revert: mu = sum b_k eta^k (Lagrange, iterative)
b = [F(0), F(1)] + [F(0)] * (M - 2)
for k in range(2, M):
    # compose eta_of_mu(b(eta)) and fix coefficient k to 0
    comp = [F(0)] * M
    power = [F(1)] + [F(0)] * (M - 1)
    for i in range(1, k + 1):
        power = mul(power, b)
        if eta_of_mu[i]:
            for j in range(M):
                comp[j] += eta_of_mu[i] * power[j]
    b[k] -= comp[k]
mu = b  # mu = eta + eta^2/3 + ...


# g_k from exp(sum B_2m/(2m(2m-1)) w^(2m-1))
def bernoulli(n):
    B = [F(1)]
    for m in range(1, n + 1):
        B.append(-sum(comb(m + 1, k) * B[k] for k in range(m)) / (m + 1))
    return B


B = bernoulli(2 * K + 4)
L = [F(0)] * (K + 2)
for j in range(1, K + 2):
    if 2 * j - 1 < K + 2:
        L[2 * j - 1] = B[2 * j] / (2 * j * (2 * j - 1))
# exp of series with zero constant term
g = [F(1)] + [F(0)] * (K + 1)
for k in range(1, K + 2):
    g[k] = sum(i * L[i] * g[k - i] for i in range(1, k + 1)) / k
print("g =", [str(v) for v in g[: K + 1]], file=sys.stderr)
# 1/mu as Laurent: mu = eta * t(eta), 1/mu = eta^-1 * inv(t). Represent Laurent series with offset.
t = mu[1:]
it = inv(t)  # 1/mu = sum it[k] eta^(k-1)
OFF = 2 * K + 2  # index i <-> power i - OFF


def laurent(series_from_minus1):  # coefficients of eta^-1, eta^0, ...
    r = [F(0)] * (M + OFF)
    for k, v in enumerate(series_from_minus1):
        r[OFF - 1 + k] = v
    return r


inv_mu = laurent(it)
c = inv_mu[:]
c[OFF - 1] -= 1  # - 1/eta
cs = [c]
for k in range(1, K):
    d = [F(0)] * len(c)
    for i, v in enumerate(c):  # derivative then divide by eta: power p -> p-2 with factor p
        p = i - OFF
        if v and i - 2 >= 0:
            d[i - 2] += v * p
    c = [d[i] + (-1) ** k * g[k] * inv_mu[i] for i in range(len(c))]
    cs.append(c)
for k, c in enumerate(cs):
    assert all(v == 0 for v in c[:OFF]), k
    print(k, ", ".join(repr(float(v)) for v in c[OFF : OFF + N + 1]))
