// Special functions in log space, shared by the CPU and CUDA builds:
//   log_gamma, digamma, trigamma, digamma_minus_log, log1pmx, log_gamma_prefix, log_erfc,
//   log_gamma_pq (log P and log Q of the regularized incomplete gamma function), log_add_exp,
//   log1m_exp.
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

// log Gamma(1 + a), accurate in relative terms as a -> 0, where log_gamma(1 + a) rounds 1 + a (0 at
// a = 1e-20 instead of -5.8e-21): -gamma a + sum_k zeta(k) (-a)^k / k for |a| < 0.2 (24 terms
// leave < 2e-19); zeta(2..25) from mpmath: [mp.zeta(k) for k in range(2, 26)].
IB_HD double log_gamma1p(double a) {
  if (!(fabs(a) < 0.2)) return log_gamma(1.0 + a);
  const double zeta[24] = {1.6449340668482264365, 1.2020569031595942854, 1.0823232337111381915, 1.0369277551433699263,
                           1.0173430619844491397, 1.0083492773819228268, 1.0040773561979443394, 1.0020083928260822144,
                           1.0009945751278180853, 1.0004941886041194646, 1.0002460865533080483, 1.0001227133475784891,
                           1.0000612481350587048, 1.0000305882363070205, 1.0000152822594086519, 1.0000076371976378998,
                           1.0000038172932649998, 1.0000019082127165539, 1.0000009539620338728, 1.0000004769329867878,
                           1.0000002384505027277, 1.0000001192199259653, 1.0000000596081890513, 1.0000000298035035147};
  double sum = 0.0;
  for (int k = 25; k >= 2; --k) sum = sum * (-a) + zeta[k - 2] / k;
  return -0.57721566490153286061 * a + a * a * sum;
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
// where p = 1/3 + s^2/5 + ...; for |u| <= 1/2, s^2 <= 1/9 and 17 terms reach 1e-17. The terms
// decrease, so the sum stops once s^(2k) < 1e-17: a few terms where |u| is small (the common case
// in the mixtures, where u is a relative deviation of order 1/sqrt(df + nc)).
IB_HD double log1pmx(double u) {
  if (u < -0.5 || u > 0.5) return log1p(u) - u;
  const double s = u / (2.0 + u), s2 = s * s;
  double p = 1.0 / 3.0, power = s2;
  for (int k = 1; k <= 17 && power > 1e-17; ++k, power *= s2) p += power / (2 * k + 3);
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

// log(x^a e^-x / Gamma(a)) for a > 0, x >= 0, given log_x = log(x) and x_minus_a = x - a as well:
// x may have underflowed to 0 (x = y / 2 for a subnormal y) while log_x is still exact, and a caller
// may know x - a more accurately than the rounded x does (x ~ a ~ 1e24 for a tight sample).
IB_HD double log_gamma_prefix(double a, double x, double log_x, double x_minus_a) {
  if (a < 10.0) return a * log_x - x - log_gamma(a);
  // a log x - x - lgamma(a) = a log1pmx((x - a) / a) + log(a) / 2 - log sqrt(2 pi) - stirling_error(a);
  // away from x = a, log1pmx(u) = log(x / a) - u taken as log x - log a (exact even for x ~ 1e-300).
  const double u = x_minus_a / a;
  const double eta = (u < -0.5 || u > 0.5) ? (log_x - log(a)) - u : log1pmx(u);
  return a * eta + 0.5 * log(a) - kLogSqrt2Pi - stirling_error(a);
}

IB_HD double log_gamma_prefix(double a, double x, double log_x) { return log_gamma_prefix(a, x, log_x, x - a); }

// log(x^a e^-x / Gamma(a)) for a > 0, x > 0.
IB_HD double log_gamma_prefix(double a, double x) { return log_gamma_prefix(a, x, log(x), x - a); }

// log prefix(s + d, x) - log prefix(s, x) for s, s + d > 0, given log_x and x_minus_s = x - s: the
// difference d log x - (lgamma(s + d) - lgamma(s)) formed without the parts common to both, which
// are ~1e25 when x is far from s ~ 1e27. With Stirling's form for s, s + d >= 10,
//   = d log(x / (s + d)) + d / (2s) - (s - 1/2) log1pmx(d / s) - (stirling_error(s + d) - stirling_error(s)).
IB_HD double log_gamma_prefix_step(double s, double d, double x, double log_x, double x_minus_s) {
  const double t = s + d;
  if (s < 10.0 || t < 10.0) return d * log_x - (log_gamma(t) - log_gamma(s));
  const double u = (x_minus_s - d) / t;  // x / t - 1
  const double log_ratio = (u > -0.5 && u < 0.5) ? log1p(u) : log_x - log(t);
  return d * log_ratio + 0.5 * d / s - (s - 0.5) * log1pmx(d / s) - (stirling_error(t) - stirling_error(s));
}

IB_HD double digamma(double x) {  // x > 0
  // NaN below 0, where the shift loop would never end (x = -1e300 + 1 is x).
  if (x < 0.0) return static_cast<double>(NAN);
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
  // NaN below 0, where the shift loop would never end (x = -1e300 + 1 is x).
  if (x < 0.0) return static_cast<double>(NAN);
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

// psi(x) - log(x), x > 0: without the cancellation of digamma(x) - log(x) when x is large (there
// it is -1/(2x) - 1/(12x^2) + ..., while psi and log are each ~log x).
IB_HD double digamma_minus_log(double x) {
  if (x < 10.0) return digamma(x) - log(x);
  const double r2 = 1.0 / (x * x);
  return -0.5 / x -
         r2 * (1.0 / 12 -
               r2 * (1.0 / 120 -
                     r2 * (1.0 / 252 - r2 * (1.0 / 240 - r2 * (1.0 / 132 - r2 * (691.0 / 32760 - r2 * (1.0 / 12)))))));
}

// a^2 psi'(a) - a for a > 0: 1/2 + 1/(6a) - ... at large a, where a^2 psi'(a) and a cancel.
IB_HD double trigamma_scaled(double a) {
  if (a < 10.0) return a * a * trigamma(a) - a;
  const double r = 1.0 / a, r2 = r * r;
  return 0.5 + r * (1.0 / 6 -
                    r2 * (1.0 / 30 -
                          r2 * (1.0 / 42 - r2 * (1.0 / 30 - r2 * (5.0 / 66 - r2 * (691.0 / 2730 - r2 * (7.0 / 6)))))));
}

// log erfc(t), accurate in relative terms for every t (erfc itself underflows past t = 26.5).
IB_HD double log_erfc(double t) {
  if (t < 26.0) return log(erfc(t));
  // erfc(t) = e^-t^2 / (t sqrt(pi)) (1 - 1/(2t^2) + 3/(2t^2)^2 - ...): at t >= 26 the terms fall
  // by at least (2k - 1) / 1352 each, so 8 of them reach 1e-17.
  const double r = 1.0 / (2.0 * t * t);
  double sum = 1.0, term = 1.0;
  for (int k = 1; k <= 8; ++k) {
    term *= -(2 * k - 1) * r;
    sum += term;
  }
  return -t * t - log(t) - 0.57236494292470008707 + log(sum);  // 0.572... = log(sqrt(pi))
}

// Temme's uniform asymptotic expansion (DLMF 8.12.3-8.12.9), for large a with x near a, where the
// series and the continued fraction below need O(sqrt(a)) terms (1e14 at a = 1e28):
//   Q(a, x) = erfc(eta sqrt(a/2)) / 2 + R,  P(a, x) = erfc(-eta sqrt(a/2)) / 2 - R,
//   R = e^(-a eta^2 / 2) / sqrt(2 pi a) sum_k c_k(eta) a^-k,  eta^2 / 2 = mu - log(1 + mu), mu = x/a - 1,
// eta with the sign of mu. The smaller tail is formed with its factor e^(-a eta^2 / 2) kept in log
// space. The Taylor coefficients of c_k in eta (k < 8, degree 22) come from c_0 = 1/mu - 1/eta,
// c_k = c_{k-1}'/eta + (-1)^k g_k / mu (g_k: Stirling's series of Gamma, 1, 1/12, 1/288,
// -139/51840, ...), with mu(eta) the reverted series of eta^2 / 2 = mu - log(1 + mu), all in exact
// rational arithmetic; they are the d_kn of DiDonato and Morris (ACM TOMS 12, 1986) that Boost and
// Cephes tabulate. Used for a >= 50 and |mu| <= 0.3 (|eta| <= 0.38): there degree 22 leaves
// < 1e-22 and 8 terms in 1/a leave < 1e-16 (fewer terms for larger a), checked against mpmath in
// tests/test_ncx2.py (test_incomplete_gamma_for_large_shape, test_log_cdf_at_huge_degrees_of_freedom).
// Table generated by: python tests/golden/temme_coefficients.py 8 22 (exact rational arithmetic).
IB_HD void log_gamma_pq_temme(double a, double x, double& log_p, double& log_q) {
  const double c[8][23] = {
      {-0.3333333333333333,    0.08333333333333333,    -0.014814814814814815,   0.0011574074074074073,
       0.0003527336860670194,  -0.0001787551440329218, 3.919263178522438e-05,   -2.185448510679992e-06,
       -1.85406221071516e-06,  8.296711340953087e-07,  -1.7665952736826078e-07, 6.707853543401498e-09,
       1.0261809784240309e-08, -4.382036018453353e-09, 9.14769958223679e-10,    -2.5514193994946248e-11,
       -5.830772132550426e-11, 2.4361948020667415e-11, -5.0276692801141755e-12, 1.1004392031956135e-13,
       3.371763262400985e-13,  -1.392388722418162e-13, 2.8534893807047445e-14},
      {-0.001851851851851852,   -0.003472222222222222,   0.0026455026455026454,   -0.0009902263374485596,
       0.00020576131687242798,  -4.018775720164609e-07,  -1.8098550334489977e-05, 7.64916091608111e-06,
       -1.6120900894563446e-06, 4.647127802807434e-09,   1.378633446915721e-07,   -5.752545603517705e-08,
       1.1951628599778148e-08,  -1.7543241719747647e-11, -1.0091543710600413e-09, 4.162792991842583e-10,
       -8.56390702649298e-11,   6.067215101604758e-14,   7.1624989648114856e-12,  -2.933186643771437e-12,
       5.996696365683689e-13,   -2.1671786527323313e-16, -4.978339972369262e-14},
      {0.004133597883597883,    -0.0026813271604938273,  0.0007716049382716049,   2.0093878600823047e-06,
       -0.0001073665322636516,  5.2923448829120125e-05,  -1.2760635188618728e-05, 3.423578734096138e-08,
       1.3721957309062934e-06,  -6.298992138380055e-07,  1.4280614206064242e-07,  -2.0477098421990866e-10,
       -1.409252991086752e-08,  6.228974084922022e-09,   -1.3670488396617114e-09, 9.428356159014678e-13,
       1.2872252400089318e-10,  -5.5645956134363323e-11, 1.197593554636698e-11,   -4.1689782251838634e-15,
       -1.0940640427884595e-12, 4.662239946390136e-13,   -9.905105763906907e-14},
      {0.0006494341563786008,   0.00022947209362139917,  -0.0004691894943952557,  0.00026772063206283885,
       -7.561801671883977e-05,  -2.396505113867297e-07,  1.1082654115347302e-05,  -5.6749528269915965e-06,
       1.4230900732435883e-06,  -2.7861080291528143e-11, -1.6958404091930278e-07, 8.099464905388083e-08,
       -1.9111168485973655e-08, 2.3928620439808118e-12,  2.0620131815488797e-09,  -9.460496661855133e-10,
       2.1541049775774907e-10,  -1.388823336813903e-14,  -2.1894761681963938e-11, 9.790998951171684e-12,
       -2.178219188018096e-12,  6.208819573407901e-17,   2.126978363279737e-13},
      {-0.0008618882909167117,  0.0007840392217200666,   -0.0002990724803031902, -1.4638452578843418e-06,
       6.641498215465122e-05,   -3.968365047179435e-05,  1.1375726970678419e-05, 2.507497226237533e-10,
       -1.6954149536558305e-06, 8.907507532205309e-07,   -2.292934834000805e-07, 2.956794137544049e-11,
       2.8865829742708783e-08,  -1.4189739437803219e-08, 3.4463580499464896e-09, -2.3024517174528067e-13,
       -3.9409233028046403e-10, 1.86023389685045e-10,    -4.356323005056618e-11, 1.278600101629623e-15,
       4.67927502665792e-12,    -2.149246470613483e-12,  4.908815614809652e-13},
      {-0.00033679855336635813, -6.972813758365857e-05,  0.0002772753244959392,   -0.00019932570516188847,
       6.797780477937208e-05,   1.419062920643967e-07,   -1.3594048189768693e-05, 8.018470256334202e-06,
       -2.291481176508095e-06,  -3.252473551298454e-10,  3.4652846491085265e-07,  -1.8447187191171344e-07,
       4.8240967037894184e-08,  -1.7989466721743514e-14, -6.306194500013523e-09,  3.162417628774568e-09,
       -7.840924253697429e-10,  5.192679165254041e-15,   9.358944242306784e-11,   -4.513426216163278e-11,
       1.0799129993116828e-11,  -3.661886712685252e-17,  -1.210902069055155e-12},
      {0.0005313079364639922,   -0.0005921664373536939,  0.0002708782096718045,   7.902353232660328e-07,
       -8.153969367561969e-05,  5.61168275310625e-05,    -1.8329116582843375e-05, -3.0796134506033047e-09,
       3.465155368803609e-06,   -2.0291327396058603e-06, 5.788792863149004e-07,   2.338630673826657e-13,
       -8.828600746330484e-08,  4.7435958880408125e-08,  -1.2545415020710383e-08, 8.649648858010293e-14,
       1.6846058979264062e-09,  -8.575492823577594e-10,  2.1598224929232125e-10,  -7.613230520476153e-16,
       -2.6639822008536144e-11, 1.3065700536611057e-11,  -3.1799163902367977e-12},
      {0.00034436760689237765,  5.171790908260592e-05,   -0.00033493161081142234, 0.0002812695154763237,
       -0.00010976582244684731, -1.2741009095484485e-07, 2.7744451511563645e-05,  -1.8263488805711332e-05,
       5.7876949497350525e-06,  4.93875893393627e-10,    -1.0595367014026043e-06, 6.166714376110408e-07,
       -1.7562973359060463e-07, -1.297447328701544e-12,  2.695423606288966e-08,   -1.4578352908731272e-08,
       3.887645959386175e-09,   -3.881002251019412e-17,  -5.327994173877286e-10,  2.7437977643314844e-10,
       -6.995796092070568e-11,  2.589986387486848e-17,   8.856689099669639e-12}};
  const double mu = (x - a) / a;
  const double eta = copysign(sqrt(-2.0 * log1pmx(mu)), mu);
  // Terms in a^-k: k = 8 is below 1e-16 at a = 50; fewer suffice for larger a.
  const int terms = a >= 1e4 ? 4 : a >= 1e3 ? 5 : a >= 200 ? 6 : 8;
  double sum = 0.0, power = 1.0;
  for (int k = 0; k < terms; ++k, power /= a) {
    double ck = 0.0;
    for (int n = 22; n >= 0; --n) ck = ck * eta + c[k][n];
    sum += ck * power;
  }
  const double t = fabs(eta) * sqrt(0.5 * a);
  const double series = sum / sqrt(2.0 * 3.14159265358979323846 * a);  // R e^(a eta^2 / 2)
  // The tail on eta's side: Q for eta > 0, P for eta < 0; both are e^-t^2 (erfcx(t) / 2 +- series).
  const double sign = eta >= 0.0 ? 1.0 : -1.0;
  double log_small;
  if (t < 5.0) {  // the bulk: no underflow, add linearly
    log_small = log(0.5 * erfc(t) + sign * exp(-t * t) * series);
  } else {
    log_small = -t * t + log(0.5 * exp(log_erfc(t) + t * t) + sign * series);
  }
  if (eta >= 0.0) {
    log_q = log_small;
    log_p = log1m_exp(log_q);
  } else {
    log_p = log_small;
    log_q = log1m_exp(log_p);
  }
}

// log Q(a, x) for a < 1 and x < 1.1, where Q is small because a is (Q ~ a E1(x) as a -> 0) and
// 1 - P keeps no digit of it: with e = a log x - log Gamma(1 + a) and
// T = sum_{n >= 1} (-x)^n / (n! (a + n)) (from the series of the lower function),
//   Q = -expm1(e) - e^e a T,
// two terms of size ~a that cancel by at most a factor ~5 for x < 1.1 (Temme; Boost's
// tgamma_small_upper_part). x^n / n! < 1e-17 by n = 19.
IB_HD double log_gamma_q_small_shape(double a, double x, double log_x) {
  const double e = a * log_x - log_gamma1p(a);
  double term = 1.0, sum = 0.0;
  for (int n = 1; n < 40; ++n) {
    term *= -x / n;
    const double add = term / (a + n);
    sum += add;
    if (!(fabs(add) >= 1e-17 * fabs(sum))) break;
  }
  return log(-expm1(e) - exp(e) * a * sum);
}

// log P(a, x) and log Q(a, x), the regularized lower and upper incomplete gamma functions, a > 0,
// x >= 0, given log_x = log(x) (x may have underflowed to 0 while log_x is exact). Temme's
// expansion for a >= 50 and |x - a| <= 0.3 a; elsewhere the series for P when x < a + 1, Lentz's
// continued fraction for Q otherwise (both within a few hundred terms there), the other one by
// log1m_exp.
IB_HD void log_gamma_pq(double a, double x, double log_x, double& log_p, double& log_q) {
  if (log_x == neg_inf()) {
    log_p = neg_inf();
    log_q = 0.0;
    return;
  }
  if (a >= 50.0 && fabs(x - a) <= 0.3 * a) {
    log_gamma_pq_temme(a, x, log_p, log_q);
    return;
  }
  const double log_prefix = log_gamma_prefix(a, x, log_x);
  constexpr double kEps = 1e-17;
  if (x < a + 1.0) {
    double term = 1.0, sum = 1.0;
    for (int n = 1; n < 1000000; ++n) {
      term *= x / (a + n);
      sum += term;
      if (term < sum * kEps) break;
    }
    log_p = log_prefix - log(a) + log(sum);
    if (log_p > -kLn2 && a < 1.0 && x < 1.1) {
      // Q below 1/2 and of order a: formed directly (1 - P gave log Q = log(eps) = -36 at a = 1e-20,
      // where the truth is -47), and P from it (the series rounds log P ~ -1e-20 to +0).
      log_q = log_gamma_q_small_shape(a, x, log_x);
      log_p = log1m_exp(log_q);
    } else {
      log_q = log1m_exp(log_p);
    }
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

IB_HD void log_gamma_pq(double a, double x, double& log_p, double& log_q) {
  log_gamma_pq(a, x, x > 0.0 ? log(x) : neg_inf(), log_p, log_q);
}

}  // namespace ib
