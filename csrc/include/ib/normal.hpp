// Standard normals from Philox blocks by Box-Muller, with the elementary functions written out in
// +, *, / and sqrt only: every IEEE-754 machine computes them to the same bits, so the CPU build
// (compiled without FMA contraction) and the CUDA build (--fmad=false) give identical normals, and
// the loops vectorize because nothing calls libm.
//
// Recipe for block (w0, w1, w2, w3):
//   a  = (w1 << 32 | w0) >> 12,  b = (w3 << 32 | w2) >> 12        (52-bit integers)
//   u1 = 1 - a / 2^52  in (0, 1],   u2 = b / 2^52  in [0, 1)
//   z0 = sqrt(-2 ln u1) cos(2 pi u2),   z1 = sqrt(-2 ln u1) sin(2 pi u2)
// Normal j of a substream is z_(j % 2) of block j / 2. |z| <= sqrt(2 * 52 ln 2) ~ 8.49.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "ib/config.hpp"
#include "ib/philox.hpp"

namespace ib {

IB_HD std::uint64_t bits_of(double x) {
#if defined(__CUDA_ARCH__)
  return static_cast<std::uint64_t>(__double_as_longlong(x));
#else
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}

IB_HD double double_of(std::uint64_t u) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(u));
#else
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

constexpr std::uint64_t kOneBits = 0x3FF0000000000000ull;  // bits of 1.0

// 1 + m / 2^52 for a 52-bit integer m, exactly.
IB_HD double one_plus_fraction(std::uint64_t m) { return double_of(kOneBits | m); }

// Natural log of a positive normal double, within a few ulp.
// x = 2^e m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.1716,
// whose odd series needs 11 terms for 1e-18 relative truncation error.
IB_HD double log_positive(double x) {
  const std::uint64_t b = bits_of(x);
  double e = static_cast<double>(static_cast<int>(b >> 52) - 1023);
  double m = one_plus_fraction(b & 0x000FFFFFFFFFFFFFull);
  const bool high = m > 1.4142135623730951;
  m = high ? 0.5 * m : m;
  e = high ? e + 1.0 : e;
  const double f = m - 1.0;  // exact (Sterbenz)
  const double s = f / (2.0 + f);
  const double s2 = s * s;
  double p = 1.0 / 21;
  p = p * s2 + 1.0 / 19;
  p = p * s2 + 1.0 / 17;
  p = p * s2 + 1.0 / 15;
  p = p * s2 + 1.0 / 13;
  p = p * s2 + 1.0 / 11;
  p = p * s2 + 1.0 / 9;
  p = p * s2 + 1.0 / 7;
  p = p * s2 + 1.0 / 5;
  p = p * s2 + 1.0 / 3;
  const double log_m = 2.0 * s + 2.0 * s * (s2 * p);
  // ln 2 split so that e * kLn2Hi is exact for |e| < 2^11.
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  return e * kLn2Hi + (e * kLn2Lo + log_m);
}

// sin(2 pi u) and cos(2 pi u) for u in [0, 1) on the 2^-52 grid.
// u = n/4 + f with n = round(4u) and |f| <= 1/8 (exact), then Taylor series on |2 pi f| <= pi/4
// (9 terms each: truncation below 1e-17) and a rotation by the quadrant n mod 4.
IB_HD void sincos_2pi(double u, double& sin_out, double& cos_out) {
  constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const double shifted = 4.0 * u + kRound;
  const unsigned quadrant = static_cast<unsigned>(bits_of(shifted)) & 3u;
  const double f = u - 0.25 * (shifted - kRound);
  const double a = 6.283185307179586 * f;
  const double a2 = a * a;
  // Horner on the Taylor coefficients (-1)^k / (2k+1)! and (-1)^k / (2k)!.
  double s = 1.0 / 355687428096000.0;  // 1/17!
  s = s * a2 - 1.0 / 1307674368000.0;  // 1/15!
  s = s * a2 + 1.0 / 6227020800.0;     // 1/13!
  s = s * a2 - 1.0 / 39916800.0;       // 1/11!
  s = s * a2 + 1.0 / 362880.0;         // 1/9!
  s = s * a2 - 1.0 / 5040.0;           // 1/7!
  s = s * a2 + 1.0 / 120.0;            // 1/5!
  s = s * a2 - 1.0 / 6.0;              // 1/3!
  const double sin_a = a + a * (a2 * s);
  double c = 1.0 / 6402373705728000.0;  // 1/18!
  c = c * a2 - 1.0 / 20922789888000.0;  // 1/16!
  c = c * a2 + 1.0 / 87178291200.0;     // 1/14!
  c = c * a2 - 1.0 / 479001600.0;       // 1/12!
  c = c * a2 + 1.0 / 3628800.0;         // 1/10!
  c = c * a2 - 1.0 / 40320.0;           // 1/8!
  c = c * a2 + 1.0 / 720.0;             // 1/6!
  c = c * a2 - 1.0 / 24.0;              // 1/4!
  c = c * a2 + 0.5;                     // 1/2!
  const double cos_a = 1.0 - a2 * c;
  const bool swap = quadrant & 1u;
  const double sin_r = swap ? cos_a : sin_a;
  const double cos_r = swap ? sin_a : cos_a;
  sin_out = (quadrant == 2u || quadrant == 3u) ? -sin_r : sin_r;
  cos_out = (quadrant == 1u || quadrant == 2u) ? -cos_r : cos_r;
}

// The two normals of one Philox block.
IB_HD void box_muller(const Philox4x32& block, double& z0, double& z1) {
  const std::uint64_t a = ((static_cast<std::uint64_t>(block.v[1]) << 32) | block.v[0]) >> 12;
  const std::uint64_t b = ((static_cast<std::uint64_t>(block.v[3]) << 32) | block.v[2]) >> 12;
  const double u1 = 2.0 - one_plus_fraction(a);  // (0, 1]: log never sees 0
  const double u2 = one_plus_fraction(b) - 1.0;  // [0, 1)
  const double radius = std::sqrt(-2.0 * log_positive(u1));
  double sin_t, cos_t;
  sincos_2pi(u2, sin_t, cos_t);
  z0 = radius * cos_t;
  z1 = radius * sin_t;
}

}  // namespace ib
