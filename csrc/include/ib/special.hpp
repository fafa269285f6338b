// Special functions in log space, shared by the CPU and CUDA builds:
//   log_gamma, digamma, trigamma, log1pmx, log_gamma_prefix, log_gamma_pq (log P and log Q of
//   the regularized incomplete gamma function), log_add_exp, log1m_exp.
// Accuracy: a few ulp for log_gamma/digamma; log_gamma_pq to ~1e-15 relative in P or Q, with the
// prefix x^a e^-x / Gamma(a) computed through log1pmx so that it keeps relative accuracy when
// a and x are large and close (where a log x - x - lgamma(a) would cancel).
#pragma once

#include <cmath>

#include "ib/config.hpp"

namespace ib {

constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log(sqrt(2 pi))
constexpr double kLn2 = 0.69314718055994530942;

IB_HD double neg_inf() { return -HUGE_VAL; }

IB_HD double log_gamma(double x) {
#if defined(__CUDA_ARCH__) || !defined(__GLIBC__)
  return lgamma(x);
#else
  int sign;  // lgamma_r: lgamma without the race on the global signgam
  return lgamma_r(x, &sign);
#endif
}

// log(exp(a) + exp(b)), exact for -inf arguments.
IB_HD double log_add_exp(double a, double b) {
  const double hi = a > b ? a : b, lo = a > b ? b : a;
  if (lo == neg_inf()) return hi;
  return hi + log1p(exp(lo - hi));
}

// log(1 - exp(v)) for v <= 0, accurate at both ends.
IB_HD double log1m_exp(double v) { return v > -kLn2 ? log(-expm1(v)) : log1p(-exp(v)); }

// log(1 + u) - u for u > -1, with relative accuracy near 0:
// with s = u / (2 + u), log(1+u) = 2 atanh(s), and log(1+u) - u = 2 s^2 (s p(s^2) - 1 / (1 - s))
// where p = 1/3 + s^2/5 + ...; for |u| <= 1/2, s^2 <= 1/9 and 17 terms reach 1e-17.
IB_HD double log1pmx(double u) {
  if (u < -0.5 || u > 0.5) return log1p(u) - u;
  const double s = u / (2.0 + u), s2 = s * s;
  double p = 0.0;
  for (int k = 17; k >= 0; --k) p = p * s2 + 1.0 / (2 * k + 3);
  return 2.0 * s2 * (s * p - 1.0 / (1.0 - s));
}

// lgamma(a) - Stirling's approximation (a - 1/2) log a - a + log sqrt(2 pi).
IB_HD double stirling_error(double a) {
  if (a < 10.0) return log_gamma(a) - ((a - 0.5) * log(a) - a + kLogSqrt2Pi);
  const double r = 1.0 / a, r2 = r * r;
  // Bernoulli series B_2k / (2k (2k-1) a^(2k-1)); next term < 3e-17 at a = 10.
  return r * (1.0 / 12 +
              r2 * (-1.0 / 360 + r2 * (1.0 / 1260 + r2 * (-1.0 / 1680 + r2 * (1.0 / 1188 + r2 * (-691.0 / 360360 +
                                                                                                 r2 * (1.0 / 156)))))));
}

// log(x^a e^-x / Gamma(a)) for a > 0, x > 0.
IB_HD double log_gamma_prefix(double a, double x) {
  if (a < 10.0) return a * log(x) - x - log_gamma(a);
  // a log x - x - lgamma(a) = a log1pmx((x - a) / a) + log(a) / 2 - log sqrt(2 pi) - stirling_error(a);
  // away from x = a, log1pmx(u) = log(x / a) - u taken as log x - log a (exact even for x ~ 1e-300).
  const double u = (x - a) / a;
  const double eta = (u < -0.5 || u > 0.5) ? (log(x) - log(a)) - u : log1pmx(u);
  return a * eta + 0.5 * log(a) - kLogSqrt2Pi - stirling_error(a);
}

IB_HD double digamma(double x) {  // x > 0
  double shift = 0.0;
  while (x < 10.0) {
    shift -= 1.0 / x;
    x += 1.0;
  }
  const double r2 = 1.0 / (x * x);
  return shift + log(x) - 0.5 / x -
         r2 * (1.0 / 12 -
               r2 * (1.0 / 120 -
                     r2 * (1.0 / 252 - r2 * (1.0 / 240 - r2 * (1.0 / 132 - r2 * (691.0 / 32760 - r2 * (1.0 / 12)))))));
}

IB_HD double trigamma(double x) {  // x > 0
  double shift = 0.0;
  while (x < 10.0) {
    shift += 1.0 / (x * x);
    x += 1.0;
  }
  const double r = 1.0 / x, r2 = r * r;
  return shift + r + 0.5 * r2 +
         r * r2 *
             (1.0 / 6 -
              r2 * (1.0 / 30 -
                    r2 * (1.0 / 42 - r2 * (1.0 / 30 - r2 * (5.0 / 66 - r2 * (691.0 / 2730 - r2 * (7.0 / 6)))))));
}

// log P(a, x) and log Q(a, x), the regularized lower and upper incomplete gamma functions, a > 0,
// x >= 0. Series for P when x < a + 1, Lentz's continued fraction for Q otherwise; the other one
// by log1m_exp. Both take O(sqrt(a)) terms when x is near a large a.
IB_HD void log_gamma_pq(double a, double x, double& log_p, double& log_q) {
  if (x <= 0.0) {
    log_p = neg_inf();
    log_q = 0.0;
    return;
  }
  const double log_prefix = log_gamma_prefix(a, x);
  constexpr double kEps = 1e-17;
  if (x < a + 1.0) {
    double term = 1.0, sum = 1.0;
    for (int n = 1; n < 1000000; ++n) {
      term *= x / (a + n);
      sum += term;
      if (term < sum * kEps) break;
    }
    log_p = log_prefix - log(a) + log(sum);
    log_q = log1m_exp(log_p);
  } else {
    constexpr double kTiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / kTiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 1000000; ++i) {
      const double an = -i * (i - a);
      b += 2.0;
      d = an * d + b;
      if (fabs(d) < kTiny) d = kTiny;
      c = b + an / c;
      if (fabs(c) < kTiny) c = kTiny;
      d = 1.0 / d;
      const double delta = d * c;
      h *= delta;
      if (fabs(delta - 1.0) < kEps) break;
    }
    log_q = log_prefix + log(h);
    log_p = log1m_exp(log_q);
  }
}

}  // namespace ib
