// The generalized chi-squared Q = sum_j w_j chi2_{h_j}(nc_j) with positive weights, in log space:
// the per-element saddlepoint (Lugannani-Rice) shared by host and device, and Ruben's series
// (host: its coefficients are shared by all x).
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

#include "ib/config.hpp"
#include "ib/interrupt.hpp"
#include "ib/special.hpp"

namespace ib {

struct Gchi2Terms {
  const double* weight;  // [n] > 0, distinct
  const double* dof;     // [n] > 0
  const double* nc;      // [n] >= 0
  std::int64_t n;
  double max_weight;
};

constexpr double kInvSqrt2Pi = 0.39894228040143267794;

// M(a) = Phi(a) / phi(a) for a <= 1: directly where nothing underflows, else the continued fraction
// M(-t) = 1 / (t + 1 / (t + 2 / (t + 3 / ...))).
IB_HD double mills_ratio(double a) {
  if (a > -3.0) return 0.5 * erfc(-a * 0.70710678118654752440) / (kInvSqrt2Pi * exp(-0.5 * a * a));
  const double t = -a;
  double f = 0.0;
  for (int k = 80; k >= 1; --k) f = k / (t + f);
  return 1.0 / (t + f);
}

IB_HD double log_normal_pdf(double w) { return -0.5 * w * w - 0.91893853320467274178; }

// Cumulant generating function K(s) and its first two derivatives, with q_j = 1 - 2 s w_j written as
// ((w_max - w_j) + z w_j) / w_max, exact when z = 1 - 2 s w_max is tiny.
IB_HD void gchi2_cgf(const Gchi2Terms& g, double z, double& k0, double& k1, double& k2) {
  const double s = (1.0 - z) / (2.0 * g.max_weight);
  k0 = k1 = k2 = 0.0;
  for (std::int64_t j = 0; j < g.n; ++j) {
    const double w = g.weight[j];
    const double q = ((g.max_weight - w) + z * w) / g.max_weight;
    const double iq = 1.0 / q;
    k0 += -0.5 * g.dof[j] * log(q) + g.nc[j] * w * s * iq;
    k1 += (g.dof[j] * w + g.nc[j] * w * iq) * iq;
    k2 += (2.0 * g.dof[j] * w * w + 4.0 * g.nc[j] * w * w * iq) * iq * iq;
  }
}

// Lugannani-Rice for P(Q <= y) and P(Q > y), y > 0, in logs; error: |LR - Barndorff-Nielsen r*| in
// log P of the smaller tail, a measure of the approximation's own error (not a bound), plus rounding.
// The saddlepoint s of K'(s) = y, y > 0, as z = 1 - 2 s w_max (exact for s near 1 / (2 w_max)):
// safeguarded Newton on v = log z, along which K' decreases.
IB_HD double gchi2_saddle_z(const Gchi2Terms& g, double y) {
  double lo = -1.0, hi = 1.0, v = 0.0, k0, k1, k2;
  gchi2_cgf(g, exp(lo), k0, k1, k2);
  while (k1 < y) {
    lo *= 2.0;
    gchi2_cgf(g, exp(lo), k0, k1, k2);
  }
  gchi2_cgf(g, exp(hi), k0, k1, k2);
  while (k1 > y) {
    hi *= 2.0;
    gchi2_cgf(g, exp(hi), k0, k1, k2);
  }
  v = 0.5 * (lo + hi);
  for (int it = 0; it < 200; ++it) {
    gchi2_cgf(g, exp(v), k0, k1, k2);
    const double f = k1 - y;
    if (f > 0.0)
      lo = v;
    else
      hi = v;
    const double z = exp(v);
    const double dfdv = -k2 * z / (2.0 * g.max_weight);
    double next = v - f / dfdv;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (fabs(next - v) < 1e-15 * (1.0 + fabs(v))) {
      v = next;
      break;
    }
    v = next;
  }
  return exp(v);
}

IB_HD void gchi2_saddlepoint(const Gchi2Terms& g, double y, double mean, double var, double k3, double& log_cdf,
                             double& log_sf, double& error) {
  double k0, k1, k2;
  const double z = gchi2_saddle_z(g, y);
  gchi2_cgf(g, z, k0, k1, k2);
  const double s = (1.0 - z) / (2.0 * g.max_weight);
  const double w2 = 2.0 * (s * y - k0);
  if (!(w2 > 0.0) && fabs(y - mean) > sqrt(var)) {  // far out, K overflowed: no answer
    log_cdf = log_sf = error = NAN;
    return;
  }
  if (fabs(y - mean) < 1e-6 * sqrt(var) || !(w2 > 0.0)) {  // at the mean: the limit of Lugannani-Rice
    const double cdf = 0.5 + k3 / (6.0 * 2.5066282746310002 * var * sqrt(var));
    log_cdf = log(cdf);
    log_sf = log1p(-cdf);
    error = 0.0;
    return;
  }
  const double w = s < 0.0 ? -sqrt(w2) : sqrt(w2);
  const double u = s * sqrt(k2);
  const double r_star = w + log(u / w) / w;
  if (w < 0.0) {
    log_cdf = log_normal_pdf(w) + log(mills_ratio(w) + 1.0 / w - 1.0 / u);
    log_sf = log1m_exp(log_cdf);
    const double alt = r_star < 0.0 ? log_normal_pdf(r_star) + log(mills_ratio(r_star))
                                    : log(0.5 * erfc(-r_star * 0.70710678118654752440));
    error = fabs(log_cdf - alt);
  } else {
    log_sf = log_normal_pdf(w) + log(mills_ratio(-w) - 1.0 / w + 1.0 / u);
    log_cdf = log1m_exp(log_sf);
    const double alt = r_star > 0.0 ? log_normal_pdf(r_star) + log(mills_ratio(-r_star))
                                    : log(0.5 * erfc(r_star * 0.70710678118654752440));
    error = fabs(log_sf - alt);
  }
  // Plus the rounding of w^2 = 2 (s y - K(s)), absolute in log P: ulps of |K| + |s y|, which cancel to
  // it far from the mean's own scale (noncentralities 1e300 at x = mean (1 - 1e-14): 14 digits lost,
  // log P 2 % off, where |LR - r*| rounds to 0).
  error += 16.0 * 2.220446049250313e-16 * (fabs(k0) + fabs(s * y));
}

// Exact P(Q <= y) and P(Q > y), y > 0, by inverting the moment generating function on the vertical
// line Re s = c (Laplace inversion):
//   c < 0:  P(Q <= y) = -(1/2 pi) e^(K(c) - c y) Int g(t) dt,   c > 0:  P(Q > y) = +(same),
//   g(t) = exp(K(c + i t) - K(c) - i t y) / (c + i t),
// with the Chernoff factor e^(K(c) - c y) taken out, so nothing underflows and log P is exact to
// rounding from the bulk to the far tails. c is the saddlepoint (K'(c) = y), where g is a bell of
// width A = 1 / sqrt(K''(c)), unless the pole of 1 / (c + i t) would sit inside that bell (y within
// a standard deviation of the mean): there c = -A, the lower tail, both tails O(1).
// The tails (gchi2_inversion) choose the step from an a-priori bound on the trapezoid rule's aliasing
// (Gchi2AliasBound). The density (gchi2_line_integral) still uses the strip argument: the rule
// converges geometrically for g analytic in |Im t| < d' (error ~ M e^(-2 pi d' / h), M the size of g
// there); g is analytic for |Im t| < d = min(|c|, distance from c to the nearest singularity of K),
// and on the line Im t = d' it is at most e^(K(c - d') - K(c) + d' y) ~ e^(K'' d'^2 / 2) times its
// size on the real line, so d' = min(d / 2, 2 A) keeps M within e^2. Its nodes run until the rest,
// estimated from the local power-law or faster decay of |g|, is negligible; the step is then halved
// until two sums agree. error: that difference plus the estimated rest and rounding, relative to the
// sum (the absolute error of log P); NaN when the rest cannot be made small within the node budget
// (few degrees of freedom decay like t^-(m/2 + 1)): the caller then uses another method.

// The integrand g(t) on one line Re s = c (for the density: exp(K(c + i t) - K(c) - i t y) K'(c + i t)).
// Per term, with q0 = 1 - 2 c w and a = 2 w / q0, the exponent is -h/2 log(1 - i a t) + nc/(2 q0) *
// i a t / (1 - i a t). Terms with a t <= 0.1 on the whole bell (t <= t_split) are summed as one
// power series in i t, their coefficients pooled once per line:
//   sum_small [...] = sum_{k>=1} (i t)^k C_k,  C_k = sum_small a^k (h / (2k) + nc / (2 q0)),
//   K'_small(c + i t) = sum_{k>=0} (i t)^k D_k,  D_k = sum_small a^(k+1) (h + (k + 1) nc / q0) / 2,
// truncated at k = 24 (error below 0.1^25 per term): per node, only the large terms cost a log and
// an arctangent. Beyond t_split every term is summed exactly.
class Gchi2Line {
 public:
  static constexpr int kOrder = 24;

  Gchi2Line(const Gchi2Terms& g, double y, double z, double t_split, bool density)
      : g_(g), y_(y), c_((1.0 - z) / (2.0 * g.max_weight)), t_split_(t_split), density_(density), q0_(g.n), a_(g.n) {
    for (std::int64_t j = 0; j < g.n; ++j) {
      const double w = g.weight[j];
      q0_[j] = ((g.max_weight - w) + z * w) / g.max_weight;  // 1 - 2 c w_j > 0, exact near the pole
      a_[j] = 2.0 * w / q0_[j];
      if (a_[j] * t_split > 0.1) {
        large_.push_back(j);
        continue;
      }
      // Stored as C_k t_split^k and D_k t_split^k (powers of a t_split <= 0.1: a^k alone underflows,
      // and t^k overflows, in deep lower tails, where a ~ 1e-40 and t ~ 1e41).
      double power = 1.0;  // (a t_split)^k
      for (int k = 0; k <= kOrder; ++k) {
        if (k > 0) coefficient_[k] += power * (0.5 * g.dof[j] / k + 0.5 * g.nc[j] / q0_[j]);
        derivative_[k] += power * a_[j] * 0.5 * (g.dof[j] + (k + 1) * g.nc[j] / q0_[j]);
        power *= a_[j] * t_split;
      }
    }
    if (!density) group_terms(t_split);
  }

  static constexpr std::int64_t kMaxProducts = 512;

  double c() const { return c_; }

  // log g at a complex t (s = c + i t), with y replaced by y_shift: at the nodes t = k h the two agree
  // when y - y_shift is a multiple of 2 pi / h. The principal logs are continuous wherever Im s > 0.
  std::complex<double> log_value(std::complex<double> t, double y_shift) const {
    const std::complex<double> u(-t.imag(), t.real());  // s - c = i t
    std::complex<double> sum = -u * y_shift - std::log(c_ + u);
    for (std::int64_t j = 0; j < g_.n; ++j) {
      const std::complex<double> q = 1.0 - a_[j] * u;  // (1 - 2 s w) / (1 - 2 c w)
      sum += -0.5 * g_.dof[j] * std::log(q) + (0.5 * g_.nc[j] / q0_[j]) * (a_[j] * u / q);
    }
    return sum;
  }

  // h sum_{k >= M} g(k h) (T = M h) by the Abel-Plana formula, for y_shift in [0, 2 pi / h):
  //   Int_T^inf g + h g(T) / 2 + i h Int_0^inf [g(T + i v h) - g(T - i v h)] / (e^(2 pi v) - 1) dv,
  // g analytic where Im s > 0 (no singularity: they are on the real axis) and |g(T + i v h)| growing at
  // most like e^(v h y_shift) < e^(2 pi v). The first integral, turned onto t = T - i v (s = c + v + i T,
  // toward the branch cuts but above them), decays like e^(-v y_shift). Both by the double-exponential
  // rule (z = scale e^(pi/2 sinh tau)) with the step halved until two sums agree. For the slowly
  // (algebraically) decaying integrands of few degrees of freedom, which the nodes alone would need
  // millions of to sum. Returns false if a rule does not settle; error: absolute.
  bool abel_plana_tail(double T, double h, double y_shift, double& sum, double& error) const {
    constexpr double kPi = 3.141592653589793;
    const double period = 2.0 * kPi / h;
    const auto exp_sinh = [](const auto& F, double scale, std::complex<double>& out, double& change) {
      const auto at = [&](double tau) {
        const double z = scale * exp(0.5 * kPi * sinh(tau));
        return F(z) * (z * 0.5 * kPi * cosh(tau));
      };
      double step = 0.5;
      std::complex<double> total = 0.0;
      for (double tau = -4.0; tau <= 4.0 + 1e-9; tau += step) total += at(tau);
      out = step * total;
      change = HUGE_VAL;
      for (int halving = 0; halving < 5; ++halving) {
        for (double tau = -4.0 + 0.5 * step; tau < 4.0; tau += step) total += at(tau);
        step *= 0.5;
        const std::complex<double> refined = step * total;
        change = std::abs(refined - out);
        out = refined;
        if (change <= 1e-15 * std::abs(out)) break;
      }
    };
    std::complex<double> ray, correction;
    double ray_change, correction_change;
    exp_sinh([&](double v) { return std::exp(log_value({T, -v}, y_shift)); }, 1.0 / y_shift, ray, ray_change);
    exp_sinh(
        [&](double v) {  // in logs: both g values and e^(2 pi v) - 1 overflow far out
          const double log_denominator = 2.0 * kPi * v + log(-expm1(-2.0 * kPi * v));
          return std::exp(log_value({T, v * h}, y_shift) - log_denominator) -
                 std::exp(log_value({T, -v * h}, y_shift) - log_denominator);
        },
        0.5 / (2.0 * kPi * (1.0 - y_shift / period)), correction, correction_change);
    const std::complex<double> i(0.0, 1.0);
    const std::complex<double> first = std::exp(log_value({T, 0.0}, y_shift));
    sum = (-i * ray + 0.5 * h * first + i * h * correction).real();
    error = ray_change + h * correction_change;
    return std::isfinite(sum) && error <= 1e-6 * std::abs(sum) + 1e-300;
  }

  // The most product factors (times h/2) one node's exponent took: its rounding is below 2 ulps each
  // (a complex multiply's normwise error sqrt(5) u, plus r's own rounding), absolute in the exponent.
  double max_product_factors() const { return max_product_factors_; }

  // Re g(t) and |g(t)|.
  void node(double t, double& real, double& magnitude) const {
    double decay;
    node(t, real, magnitude, decay);
  }

  // Also `decay`, a lower bound on the local exponent p of |g| ~ t^-p, -d log|g| / d log t, which only
  // grows with t: per exactly summed term h/2 r^2 / (1 + r^2) (the noncentral factor and the pooled
  // terms only make |g| fall faster, so leaving them out keeps a lower bound), and t^2 / (c^2 + t^2)
  // for 1 / |c + i t|. For t' > t, |g(t')| <= |g(t)| (t / t')^decay.
  void node(double t, double& real, double& magnitude, double& decay) const {
    double re = 0.0, im = -t * y_, kp_re = 0.0, kp_im = 0.0, exponent = 0.0;
    const bool split = t <= t_split_;
    if (split) {  // the pooled small terms: sum (i t)^k C_k, i^k cycling through 1, i, -1, -i
      double power = 1.0;
      for (int k = 0; k <= kOrder; ++k) {
        const int phase = k & 3;
        const double term = power * coefficient_[k], dterm = power * derivative_[k];
        if (phase == 0) {
          re += term;
          kp_re += dterm;
        }
        if (phase == 1) {
          im += term;
          kp_im += dterm;
        }
        if (phase == 2) {
          re -= term;
          kp_re -= dterm;
        }
        if (phase == 3) {
          im -= term;
          kp_im -= dterm;
        }
        power *= t / t_split_;
      }
    }
    const std::int64_t count = density_ ? (split ? static_cast<std::int64_t>(large_.size()) : g_.n) : 0;
    if (!density_) grouped_terms(t, split, re, im, exponent);
    for (std::int64_t index = 0; index < count; ++index) {
      const std::int64_t j = split ? large_[index] : index;
      const double q0 = q0_[j], r = a_[j] * t, h = g_.dof[j], nc = g_.nc[j];
      re += -0.25 * h * (r < 1e150 ? log1p(r * r) : 2.0 * log(r));  // -h/2 log(1 - i r), real part
      im += 0.5 * h * atan(r);
      const double inv = 1.0 / (1.0 + r * r);
      exponent += h * r * r * inv;
      if (nc > 0.0) {  // nc/(2 q0) i r / (1 - i r) = nc/(2 q0) (-r^2 + i r) / (1 + r^2)
        re += -0.5 * nc / q0 * r * r * inv;
        im += 0.5 * nc / q0 * r * inv;
      }
      if (density_) {  // h w / q + nc w / q^2 with 1 / q = (1 + i r) / (q0 (1 + r^2))
        const double half_a = 0.5 * a_[j];
        kp_re += h * half_a * inv + nc * half_a / q0 * inv * inv * (1.0 - r * r);
        kp_im += h * half_a * inv * r + nc * half_a / q0 * inv * inv * 2.0 * r;
      }
    }
    decay = 0.5 * exponent;
    if (density_) {
      const double e = exp(re);
      real = e * (kp_re * cos(im) - kp_im * sin(im));
      magnitude = e * sqrt(kp_re * kp_re + kp_im * kp_im);
      return;
    }
    // e^(re + i im) / (c + i t) = e^re (cos im + i sin im) (c - i t) / (c^2 + t^2)
    decay = 0.5 * exponent + t * t / (c_ * c_ + t * t);
    const double scale = exp(re) / (c_ * c_ + t * t);
    real = scale * (c_ * cos(im) + t * sin(im));
    magnitude = scale * sqrt(c_ * c_ + t * t);
  }

 private:
  // The exactly summed terms grouped by degrees of freedom, each group sorted by a descending, so that
  // at any t the terms with r = a t >= 0.1 are a prefix of their group and the pooled ones (split
  // nodes) a suffix. Over the prefix, sum_j h/2 log(1 - i r_j) = h/2 log prod_j (1 - i r_j): the
  // product costs a complex multiply per term instead of a log and an arctangent (4 interleaved
  // products for instruction-level parallelism, rescaled by 2^-332 past 1e100, each counting its turns
  // around 0: every factor turns it by less than pi/2 clockwise, so a turn is an Im crossing from
  // <= 0 to > 0). Rounding: up to 2 ulps per factor, absolute in the exponent (where a log of a
  // small r would carry ulps of r^2 / 2), hence at most kMaxProducts factors per group and
  // max_product_factors in the error.
  struct Group {
    double dof;
    std::int64_t begin, end, large_end;  // [begin, large_end): not pooled at split nodes
    bool any_nc;
  };

  void group_terms(double t_split) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(g_.n));
    for (std::int64_t j = 0; j < g_.n; ++j) order[j] = j;
    std::sort(order.begin(), order.end(), [&](std::int64_t i, std::int64_t j) {
      return g_.dof[i] != g_.dof[j] ? g_.dof[i] < g_.dof[j] : a_[i] > a_[j];
    });
    sorted_a_.resize(order.size());
    sorted_nc_.resize(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
      sorted_a_[k] = a_[order[k]];
      sorted_nc_[k] = 0.5 * g_.nc[order[k]] / q0_[order[k]];  // nc / (2 q0)
    }
    for (std::int64_t k = 0; k < g_.n;) {
      Group group{g_.dof[order[k]], k, k, k, false};
      while (group.end < g_.n && g_.dof[order[group.end]] == group.dof) {
        if (sorted_a_[group.end] * t_split > 0.1) group.large_end = group.end + 1;
        group.any_nc = group.any_nc || sorted_nc_[group.end] > 0.0;
        ++group.end;
      }
      groups_.push_back(group);
      k = group.end;
    }
  }

  // Adds the exactly summed terms' -h/2 log(1 - i r) + nc/(2 q0) i r / (1 - i r) to re + i im, and to
  // exponent a lower bound on their sum of h r^2 / (1 + r^2) (see node).
  void grouped_terms(double t, bool split, double& re, double& im, double& exponent) const {
    constexpr double kLn2 = 0.69314718055994530942, kTwoPi = 6.283185307179586477;
    double product_rounding = 0.0;
    for (const Group& group : groups_) {
      const std::int64_t end = split ? group.large_end : group.end;
      // The prefix with r >= 0.1 (the largest r first; at most kMaxProducts of them, to bound the
      // rounding), of which those with r >= 2 need no division for the decay bound; none if some r
      // exceeds 1e30 (one factor could overflow a rescaled product).
      std::int64_t prefix = group.begin, large_r = group.begin;
      if (sorted_a_[group.begin] * t <= 1e30) {
        const double* first = sorted_a_.data() + group.begin;
        const double* last = sorted_a_.data() + std::min(end, group.begin + kMaxProducts);
        prefix = group.begin + (std::partition_point(first, last, [&](double a) { return a * t >= 0.1; }) - first);
        large_r = group.begin + (std::partition_point(first, last, [&](double a) { return a * t >= 2.0; }) - first);
      }
      if (prefix > group.begin) {
        double pr[4] = {1.0, 1.0, 1.0, 1.0}, pi[4] = {0.0, 0.0, 0.0, 0.0};
        int turns[4] = {0, 0, 0, 0}, rescales[4] = {0, 0, 0, 0};
        for (std::int64_t j = group.begin; j < prefix; j += 4) {
          const int lanes = static_cast<int>(prefix - j < 4 ? prefix - j : 4);
          for (int l = 0; l < lanes; ++l) {
            const double r = sorted_a_[j + l] * t;
            const double next_re = pr[l] + r * pi[l], next_im = pi[l] - r * pr[l];  // times (1 - i r)
            turns[l] += pi[l] <= 0.0 && next_im > 0.0;
            pr[l] = next_re;
            pi[l] = next_im;
            if (fabs(next_re) + fabs(next_im) > 1e100) {
              pr[l] *= 0x1p-332;
              pi[l] *= 0x1p-332;
              ++rescales[l];
            }
          }
        }
        double log_modulus = 0.0, angle = 0.0;
        for (int l = 0; l < 4; ++l) {
          log_modulus += log(hypot(pr[l], pi[l])) + 332.0 * kLn2 * rescales[l];
          // On the negative real axis the turn is not yet counted: the angle is -pi there.
          angle += (pi[l] == 0.0 && pr[l] < 0.0 ? -3.141592653589793 : atan2(pi[l], pr[l])) - kTwoPi * turns[l];
        }
        re -= 0.5 * group.dof * log_modulus;
        im -= 0.5 * group.dof * angle;
        exponent += 0.8 * group.dof * static_cast<double>(large_r - group.begin);  // r^2 / (1 + r^2) >= 0.8
        double exact = 0.0;
        for (std::int64_t j = large_r; j < prefix; ++j) {
          const double r = sorted_a_[j] * t;
          exact += r * r / (1.0 + r * r);
        }
        exponent += group.dof * exact;
        if (group.any_nc) {
          for (std::int64_t j = group.begin; j < prefix; ++j) {
            const double r = sorted_a_[j] * t, weight = sorted_nc_[j] / (1.0 + r * r);
            re -= weight * r * r;
            im += weight * r;
          }
        }
        product_rounding = fmax(product_rounding, 0.5 * group.dof * static_cast<double>(prefix - group.begin));
      }
      const double h = group.dof;
      for (std::int64_t j = prefix; j < end; ++j) {
        const double r = sorted_a_[j] * t;
        re += -0.25 * h * (r < 1e150 ? log1p(r * r) : 2.0 * log(r));  // -h/2 log(1 - i r), real part
        im += 0.5 * h * atan(r);
        const double inv = 1.0 / (1.0 + r * r);
        exponent += h * r * r * inv;
        re -= sorted_nc_[j] * r * r * inv;  // nc/(2 q0) (-r^2 + i r) / (1 + r^2)
        im += sorted_nc_[j] * r * inv;
      }
    }
    max_product_factors_ = fmax(max_product_factors_, product_rounding);
  }

  const Gchi2Terms& g_;
  double y_, c_, t_split_;
  bool density_;
  std::vector<Group> groups_;
  std::vector<double> sorted_a_, sorted_nc_;
  mutable double max_product_factors_ = 0.0;
  std::vector<double> q0_, a_;
  std::vector<std::int64_t> large_;
  double coefficient_[kOrder + 1] = {}, derivative_[kOrder + 1] = {};
};

// The integral of g over the real line (see above) on the line Re s = c (c = (1 - z) / (2 w_max)),
// g analytic in |Im t| < d, bell width A, by the strip rule and step halving (the density's path).
// Returns false when the rest cannot be made small within the budget. error: the relative error
// estimate of `sum`.
inline bool gchi2_line_integral(const Gchi2Terms& g, double y, double z, double A, double d, bool density, double& sum,
                                double& error, Interrupt* interrupt = nullptr) {
  const std::int64_t poll_every = Interrupt::items_per_poll(g.n);  // nodes per poll
  const Gchi2Line line(g, y, z, 16.0 * A, density);                // the bell ends before 16 widths (e^-128)
  const double strip = fmin(0.5 * d, 2.0 * A);
  double h = 2.0 * 3.141592653589793 * strip / 38.0;  // e^-38 = 3e-17
  const double eps = 2.220446049250313e-16;
  const double budget = fmax(4e6, 400.0 * static_cast<double>(g.n));  // node x term evaluations
  double value, size;
  line.node(0.0, value, size);
  double total = 0.5 * value, magnitude = 0.5 * size, last_size = size, rest = HUGE_VAL;
  std::int64_t nodes = 0;
  const double max_nodes = budget / (3.0 * static_cast<double>(g.n));
  for (std::int64_t k = 1; k < max_nodes; ++k) {
    if (interrupt != nullptr && interrupt->poll_every(k, poll_every)) return false;
    const double t = k * h;
    line.node(t, value, size);
    total += value;
    magnitude += size;
    nodes = k;
    if (size == 0.0) {
      rest = 0.0;
      break;
    }
    // The rest of the integral from the local decay, |g| ~ t^-p (p > 1): |g(t)| t / (p - 1), in
    // node units; exponential decay shows as a growing p.
    if (k > 1 && size < last_size) {
      const double p = log(last_size / size) / log(t / (t - h));
      rest = p > 1.0 ? size * t / (p - 1.0) / h : HUGE_VAL;
      if (rest < 1e-15 * fabs(total)) break;
    }
    last_size = size;
  }
  // Halve the step (the midpoints) until successive sums agree to ~1e-15.
  sum = 2.0 * h * total;  // the whole line: g(-t) = conj g(t)
  double change = HUGE_VAL;
  for (int halving = 0; halving < 4 && 2.0 * (nodes + 1) * g.n < budget; ++halving) {
    double mid = 0.0;
    for (std::int64_t k = 0; k <= nodes; ++k) {
      if (interrupt != nullptr && interrupt->poll_every(k, poll_every)) return false;
      line.node((k + 0.5) * h, value, size);
      mid += value;
      magnitude += size;
    }
    const double refined = 0.5 * sum + h * mid;  // 2 (h/2) (total + mid)
    change = fabs(refined - sum);
    sum = refined;
    h *= 0.5;
    rest *= 2.0;  // the same rest in units of the halved step
    total += mid;
    nodes = 2 * nodes + 1;
    if (change < 1e-15 * fabs(sum)) break;
  }
  error = (change + 2.0 * h * rest + 64.0 * eps * 2.0 * h * magnitude) / fabs(sum);
  return error < 1e-6;
}

// The tails by the trapezoid rule on the line Re s = c with an a-priori error bound (no step halving).
// Poisson summation makes the rule exact up to aliasing: with step h = 2 pi / L the sum over all nodes
// (lower formula, c < 0; F = P(Q <= .), S = P(Q > .)) is
//   T_h = sum_m e^(c m L) F(y + m L) = F(y) + sum_{m>=1} e^(-|c| m L) F(y + m L) + sum_{m>=1} e^(|c| m L) F(y - m L)
// and for the upper formula (c > 0), T_h = sum_m e^(c m L) S(y + m L). Each aliased term is bounded by
// Chernoff, S(v) <= e^(K(c') - c' v) for 0 <= c' < 1 / (2 w_max) and F(v) <= e^(K(c') - c' v) for
// c' <= 0, with F(v) = 0 for v <= 0; every side is then a geometric series
//   e^(K(c') - c' y - |c' - c| L) / (1 - e^(-|c' - c| L)),
// best for c' near the saddlepoint of y +- L (K'(c') = y +- L). The side toward 0 (m > 0 for the lower
// formula, m < 0 for the upper) bounds F (resp. S) by 1 at best in the bulk; there the known part
// E = 1 / (e^(|c| L) - 1) (F = 1, resp. S = 1) is subtracted and the remainder, S(y + m L) (resp.
// F(y - m L)), bounded from the other side of 0. L is the smallest period whose bounds are below
// 1e-17 of the tail (with E at most a third of it: no cancellation).
class Gchi2AliasBound {
 public:
  // c on the line (as z = 1 - 2 c w_max), its Chernoff exponent chi = K(c) - c y, K'(c) and bell width A.
  Gchi2AliasBound(const Gchi2Terms& g, double y, double z, double chi, double k1, double A, bool lower)
      : g_(g), y_(y), z_(z), c_((1.0 - z) / (2.0 * g.max_weight)), chi_(chi), k1_(k1), A_(A), lower_(lower) {}

  // The smallest period L (up to the precision of the c' tried) whose bound, relative to e^chi, is
  // below e^log_target, and that bound.
  double period(double log_target, bool& subtract_known, double& log_bound) {
    // The side away from 0 (the singularity side for the upper formula), which vanishes for the lower
    // formula once L > y.
    const double away = lower_ ? fmin(side(log_target, kAway), y_ * (1.0 + 1e-12) + 1e-300) : side(log_target, kAway);
    // The side toward 0: the plain bound, or with E subtracted, whichever allows the shorter period.
    const double plain = side(log_target, kTowardPlain), known = side(log_target, kTowardKnown);
    const double no_cancel = (-chi_ - (log_target - kLogTolerance) + log(3.0)) / fabs(c_);  // E < tail / 3
    subtract_known = fmax(known, no_cancel) < plain;
    const double L = fmax(away, subtract_known ? fmax(known, no_cancel) : plain);
    log_bound = log_add_exp(bound_at(L, subtract_known ? kTowardKnown : kTowardPlain),
                            (lower_ && L > y_) ? -HUGE_VAL : bound_at(L, kAway));
    return L;
  }

  // log (E / e^chi), the known part at period L.
  double log_known(double L) const { return -chi_ + log_geometric(fabs(c_) * L); }

  int evaluations() const { return evaluations_; }

  static constexpr double kLogTolerance = -39.1;  // e^-39.1 = 1e-17

 private:
  enum Side { kAway = 0, kTowardPlain = 1, kTowardKnown = 2 };

  // log sum_{m>=1} e^(-a m) = -log(e^a - 1).
  static double log_geometric(double a) { return -a - log1p(-exp(-a)); }

  // The range of c' for a side, as (lo, hi) in c: away from 0 it runs from c outward (to -inf, or to the
  // singularity), toward 0 from c to 0 (plain) or from 0 on across it (known part subtracted).
  void range(Side side, double& lo, double& hi) const {
    const double s_max = 0.5 / g_.max_weight;
    if (side == kAway) {
      lo = lower_ ? -HUGE_VAL : c_;
      hi = lower_ ? c_ : s_max;
    } else if (side == kTowardPlain) {
      lo = lower_ ? c_ : 0.0;
      hi = lower_ ? 0.0 : c_;
    } else {
      lo = lower_ ? 0.0 : -HUGE_VAL;
      hi = lower_ ? s_max : 0.0;
    }
  }

  // The smallest L for which one side's bound is below e^log_target: c' from the Gaussian guess of the
  // saddlepoint of y +- L, then two Newton steps on K'(c') = y +- L at the period found so far; each
  // c' tried bounds the side for every L, so the smallest L over them holds. Remembers the c' tried.
  double side(double log_target, Side which) {
    const double direction = (which == kAway) == lower_ ? -1.0 : 1.0;  // the aliased point is y + direction L
    double lo, hi;
    range(which, lo, hi);
    double best = HUGE_VAL;
    for (int i = 0; i < count_[which]; ++i) best = fmin(best, needed(tried_[which][i], log_target));
    double L = best < HUGE_VAL ? best : sqrt(-2.0 * log_target) / A_;
    double c_prime = c_ + (y_ + direction * L - k1_) * A_ * A_, slope = 1.0 / (A_ * A_), k1 = k1_;
    const double two_w = 2.0 * g_.max_weight, s_max = 0.5 / g_.max_weight;
    for (int step = count_[which]; step < 3; ++step) {
      if (step > 0) c_prime += (y_ + direction * L - k1) / slope;
      c_prime = fmax(fmin(c_prime, hi), lo);
      // As z' = 1 - 2 c' w_max (exact near the singularity), at most 98 % of the way to it.
      double z_prime = 1.0 - two_w * c_prime;
      if (hi == s_max) z_prime = fmax(z_prime, 0.02 * (lo == c_ ? z_ : 1.0));
      if (z_prime == z_) break;
      c_prime = (1.0 - z_prime) / two_w;
      double k0 = 0.0, k2 = 0.0;
      k1 = 0.0;
      if (z_prime != 1.0) {
        gchi2_cgf(g_, z_prime, k0, k1, k2);
        ++evaluations_;
      }
      slope = k2;
      tried_[which][count_[which]++] = Tried{fabs(z_prime - z_) / two_w, k0 - c_prime * y_ - chi_};
      best = fmin(best, needed(tried_[which][count_[which] - 1], log_target));
      if (best < HUGE_VAL) L = best;
      if (!(slope > 0.0)) break;
    }
    // The free bound at c' = 0 (K(0) = 0) where 0 is in the range.
    if (lo <= 0.0 && hi >= 0.0 && c_ != 0.0) best = fmin(best, needed(Tried{fabs(c_), -chi_}, log_target));
    return best;
  }

  struct Tried {
    double delta, exponent;  // |c' - c|, K(c') - c' y - chi
  };

  // The smallest L with exponent - delta L - log(1 - e^(-delta L)) <= log_target (two fixed-point steps
  // from the geometric factor taken as 1 - e^-1; L >= 1 / delta keeps that factor's log below 0.46).
  static double needed(const Tried& t, double log_target) {
    double L = fmax((t.exponent - log_target + 0.46) / t.delta, 1.0 / t.delta);
    for (int i = 0; i < 2; ++i)
      L = fmax((t.exponent - log_target - log1p(-exp(-t.delta * L))) / t.delta, 1.0 / t.delta);
    return L;
  }

  double bound_at(double L, Side which) const {
    double best = HUGE_VAL, lo, hi;
    range(which, lo, hi);
    for (int i = 0; i < count_[which]; ++i)
      best = fmin(best, tried_[which][i].exponent + log_geometric(tried_[which][i].delta * L));
    if (lo <= 0.0 && hi >= 0.0 && c_ != 0.0) best = fmin(best, -chi_ + log_geometric(fabs(c_) * L));
    return best;
  }

  const Gchi2Terms& g_;
  double y_, z_, c_, chi_, k1_, A_;
  bool lower_;
  int evaluations_ = 0;
  Tried tried_[3][3] = {};
  int count_[3] = {0, 0, 0};
};

// give_up_early: stop as soon as the rest's decay shows the node budget cannot bring it below 1e-17
// (when the caller has other methods); else spend the budget and accept a rest up to 1e-6.
// interrupt (optional) is polled between nodes; when it fires the result is NaN (the caller ends the
// work with Interrupted once out of any parallel region).
inline void gchi2_inversion(const Gchi2Terms& g, double y, double mean, double var, bool give_up_early, double& log_cdf,
                            double& log_sf, double& error, Interrupt* interrupt = nullptr) {
  const std::int64_t poll_every = Interrupt::items_per_poll(g.n);  // nodes per poll
  constexpr double kEps = 2.220446049250313e-16;
  constexpr double kLogTolerance = Gchi2AliasBound::kLogTolerance;  // for each of aliasing and truncation
  double k0, k1, k2, z;
  bool lower = true;
  // Within a standard deviation of the mean the line is c = -1 / sd (off the pole at 0, no saddlepoint
  // needed) if it lies between the saddlepoint and 0 (K'(-1 / sd) <= y); else the saddlepoint, moved
  // to c = -A if it sits within a bell width A of the pole. (A skewed lower tail can start within a
  // standard deviation of the mean: weights [1e10, 1], 2 dofs each, P(Q <= 1e5) = 5e-6 where
  // e^(K(c) - c y) = 0.5 at c = -1 / sd: on that line the integral cancelled to 1e-5 of its size,
  // and its t^-2 decay, oscillating with period 2 pi / y ~ 1e6 bell widths, outran the node budget,
  // leaving the saddlepoint, 0.07 off in log P.)
  bool bulk = fabs(y - mean) <= sqrt(var);
  if (bulk) {
    z = 1.0 + 2.0 * g.max_weight / sqrt(var);
    gchi2_cgf(g, z, k0, k1, k2);
    bulk = k1 <= y;
  }
  if (!bulk) {
    z = gchi2_saddle_z(g, y);
    gchi2_cgf(g, z, k0, k1, k2);
    const double c_hat = (1.0 - z) / (2.0 * g.max_weight), width = 1.0 / sqrt(k2);
    if (c_hat >= width) {
      // Upper tail: one width back from the singularity (but not within a width of the pole) costs
      // a factor ~e^(1/2) of cancellation and allows a 20-30 % shorter period (measured).
      lower = false;
      z += 2.0 * g.max_weight * fmin(width, c_hat - width);
    } else if (c_hat > -width) {
      z = 1.0 + 2.0 * width * g.max_weight;
    }
    gchi2_cgf(g, z, k0, k1, k2);
  }
  const double c = (1.0 - z) / (2.0 * g.max_weight), A = 1.0 / sqrt(k2);
  const double chi = k0 - c * y;  // the Chernoff exponent taken out of the integrand
  Gchi2AliasBound alias(g, y, z, chi, k1, A, lower);
  // The tail relative to e^chi is about A / (sqrt(2 pi) |c|) at a saddlepoint (about 1 in the bulk):
  // a conservative guess for the tolerance, checked against the value found below.
  double log_relative_guess = -log1p(2.5 * fabs(c) / A) - 2.0, log_alias = 0.0;
  bool subtract_known = false;
  double L = alias.period(kLogTolerance + log_relative_guess, subtract_known, log_alias);
  double log_tail = NAN;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const double h = 2.0 * 3.141592653589793 / L;
    const Gchi2Line line(g, y, z, 16.0 * A, false);
    double value, size, decay;
    line.node(0.0, value, size, decay);
    double total = 0.5 * value, compensation = 0.0, magnitude = 0.5 * size, rest = HUGE_VAL;
    const double budget = fmax(4e6, 400.0 * static_cast<double>(g.n));  // node x term evaluations
    const double max_nodes = budget / static_cast<double>(g.n);
    bool stopped = false;
    for (std::int64_t k = 1; k < max_nodes; ++k) {
      if (interrupt != nullptr && interrupt->poll_every(k, poll_every)) {
        stopped = true;
        break;
      }
      const double t = k * h;
      line.node(t, value, size, decay);
      // Neumaier's compensated sum: up to 4e6 nodes, whose plain sum would lose ~sqrt(n) ulps.
      const double next_total = total + value;
      compensation += fabs(total) >= fabs(value) ? (total - next_total) + value : (value - next_total) + total;
      total = next_total;
      magnitude += size;
      // The rest sum_{k' > k} |g(k' h)| <= Int_t^inf |g(t)| (t / u)^p du / h = |g(t)| t / ((p - 1) h).
      rest = size == 0.0 ? 0.0 : decay > 1.0 ? size * t / ((decay - 1.0) * h) : HUGE_VAL;
      if (rest <= 1e-17 * fabs(total)) break;
      // Still far from the end after 128, 256, 512, ... nodes (algebraic decay): the rest of the sum by
      // the Abel-Plana formula, where its integrals are cheap (y' T >= 8: the turned ray decays within
      // a fraction of T, over which g is smooth) and the terms few.
      if (k >= 128 && (k & (k - 1)) == 0 && g.n <= 4096) {
        const double y_shift = y - floor(y / L) * L, start = (k + 1) * h;
        double tail, tail_error;
        if (y_shift * start >= 8.0 && line.abel_plana_tail(start, h, y_shift, tail, tail_error) &&
            tail_error <= 1e-14 * fabs(2.0 * h * total)) {  // (its quadratures' own limit; in the error)
          total += tail / h;
          rest = tail_error / h;
          break;
        }
      }
      // Slow (algebraic) decay, few degrees of freedom, and no Abel-Plana tail by 512 nodes: the rest
      // falls at least like t^-(p - 1); when even at that rate it would need 4x the node budget, give
      // up now (the caller has other methods).
      if (give_up_early && k > 512 && k % 64 == 0 && decay > 1.0 &&
          k * pow(rest / (1e-17 * fabs(total)), 1.0 / (decay - 1.0)) > 4.0 * max_nodes)
        break;
    }
    // The integral over the line, 2 h total, gives T_h e^-chi (2 pi) (the sign: the lower formula's
    // integral is negative); subtract the known aliasing part.
    total += compensation;
    const double known = subtract_known ? exp(alias.log_known(L)) : 0.0;
    const double scaled = (lower ? -1.0 : 1.0) * 2.0 * h * total / (2.0 * 3.141592653589793) - known;
    if (stopped || !(scaled > 0.0) || !(rest < 1e-6 * fabs(total))) break;  // no trustworthy value
    const double log_relative = log(scaled);
    // The choice of L assumed the tail was at least e^log_relative_guess of the Chernoff factor.
    if (log_relative < log_relative_guess && attempt < 2) {
      log_relative_guess = log_relative - 1.0;
      const double before = L;
      L = alias.period(kLogTolerance + log_relative_guess, subtract_known, log_alias);
      if (L > before) continue;
    }
    const double sum_scale = 2.0 * h / (2.0 * 3.141592653589793) / scaled;  // relative error per unit of sum
    // Rounding: of each node (its exponent carries a few ulps of terms of order 1 around the bell, and
    // up to 2 per product factor), of the subtraction of the known part, and of chi = K(c) - c y
    // (absolute in log P; K's terms share one sign, so ulps of |K| + |c y|, which cancel to chi:
    // 4e-12 measured at log P = -730 with 10^4 terms, where K ~ 5000).
    error = exp(log_alias - log_relative) + rest * sum_scale +
            (64.0 + 2.0 * line.max_product_factors()) * kEps * magnitude * sum_scale + 4.0 * kEps * known / scaled +
            16.0 * kEps * (fabs(k0) + fabs(c * y));
    log_tail = chi + log_relative;
    break;
  }
  if (std::isnan(log_tail)) {  // no trustworthy value: the caller uses another method
    log_cdf = log_sf = error = NAN;
    return;
  }
  if (lower) {
    log_cdf = fmin(log_tail, 0.0);
    log_sf = log1m_exp(log_cdf);
  } else {
    log_sf = fmin(log_tail, 0.0);
    log_cdf = log1m_exp(log_sf);
  }
  // The complement's log carries the error times P / (1 - P): report the larger of the two.
  error *= fmax(1.0, exp(log_tail - (lower ? log_sf : log_cdf)));
}

// log density at y > 0: f(y) = (1 / 2 pi y) e^(K(c) - c y) Int K'(c + it) e^(K(c + it) - K(c) - i t y) dt
// at the saddlepoint c (Int (K' - y) e^(K - s y) ds = 0 turns the plain inversion, whose integrand
// decays only like t^-(m/2), into one that decays like the CDF's). NaN when the integral fails.
inline void gchi2_log_density(const Gchi2Terms& g, double y, double& log_pdf, double& error,
                              Interrupt* interrupt = nullptr) {
  double k0, k1, k2;
  const double z = gchi2_saddle_z(g, y);
  gchi2_cgf(g, z, k0, k1, k2);
  const double c = (1.0 - z) / (2.0 * g.max_weight);
  double sum;
  const bool ok = gchi2_line_integral(g, y, z, 1.0 / sqrt(k2), z / (2.0 * g.max_weight), true, sum, error, interrupt);
  if (!ok || !(sum > 0.0)) {
    log_pdf = error = NAN;
    return;
  }
  const double log_chernoff = k0 - c * y;
  error += 16.0 * 2.220446049250313e-16 * fabs(log_chernoff);
  log_pdf = log_chernoff + log(sum) - log(y) - 1.8378770664093454836;
}

// Far in the upper tail (y beyond where K and its derivatives stay in double range), log P(Q > y)
// is -y / (2 w_max) to within terms of order log y and sqrt(nc y / w_max): those terms, bounded,
// are the error, negligible against y there. log P(Q <= y) = 0 (the upper tail is below e^-700).
inline void gchi2_far_upper(const Gchi2Terms& g, double y, double& log_cdf, double& log_sf, double& error) {
  double dof = 0.0, nc = 0.0, rest = 0.0;
  for (std::int64_t j = 0; j < g.n; ++j) {
    dof += g.dof[j];
    nc += g.nc[j];
    if (g.weight[j] < g.max_weight) rest += 0.5 * g.dof[j] * -log1p(-g.weight[j] / g.max_weight);
  }
  const double scaled = y / (2.0 * g.max_weight);
  log_sf = -scaled;
  log_cdf = 0.0;
  // (Magnitudes: near the mean log(scaled) < 0 made this "bound" negative, which passed every test of
  // it: a single chi2_1 at 1.5 x its mean came back as this asymptote, log P(Q <= y) = 0.)
  error =
      (0.5 * dof + 1.0) * fabs(log(scaled)) + rest + 2.0 * sqrt(nc) * sqrt(scaled) + nc + fabs(lgamma(0.5 * dof + 1.0));
  if (!(scaled > 1e3 * error)) log_cdf = log_sf = error = NAN;  // not far enough for this form
}

// Ruben's series (Farebrother's AS 204 form) with beta = min weight:
//   P(Q <= y) = sum_k a_k P(chi2_{m + 2k} <= y / beta),  a_k >= 0, sum a_k = 1,
//   a_0 = exp(-sum nc / 2) prod (beta / w_j)^(h_j / 2),  a_k = (1/k) sum_{r<k} g_{k-r} a_r,
//   g_k = sum_j [h_j gamma_j^k + k nc_j (1 - gamma_j) gamma_j^(k-1)] / 2,  gamma_j = 1 - beta / w_j.
// The coefficients are kept as a_k = b_k e^(log_scale) with b rescaled when it grows, and extended
// on demand (they do not depend on y).
class RubenSeries {
 public:
  // interrupt (optional) is polled while coefficients are built (O(n) each, 0.8 s for 512 at 10^6
  // terms); when it fires the series throws Interrupted, so it must not run inside a parallel region.
  explicit RubenSeries(const Gchi2Terms& g, Interrupt* interrupt = nullptr)
      : g_(g), interrupt_(interrupt), gamma_(g.n), power_(g.n, 1.0) {
    beta_ = g.weight[0];
    for (std::int64_t j = 0; j < g.n; ++j) beta_ = fmin(beta_, g.weight[j]);
    double log_a0 = 0.0;
    for (std::int64_t j = 0; j < g.n; ++j) {
      gamma_[j] = 1.0 - beta_ / g.weight[j];
      log_a0 += -0.5 * g.nc[j] + 0.5 * g.dof[j] * log(beta_ / g.weight[j]);
      m_ += g.dof[j];
    }
    log_scale_ = log_a0;
    b_.push_back(1.0);
    g_k_.push_back(0.0);  // g_0 is unused
  }

  // Whether the series can be expected to converge within `terms` terms at y: its terms shrink like
  // gamma_max^k (gamma_max = 1 - min w / max w) and, once k passes h = y / (2 beta) by a few
  // sqrt(h), like a Poisson tail; building the coefficients costs O(terms^2), so a hopeless attempt
  // is skipped.
  bool promising(double y, std::int64_t terms) const {
    const double gamma_max = 1.0 - beta_ / g_.max_weight;
    const double geometric = gamma_max > 0.0 ? 37.0 / -log(gamma_max) : 0.0;
    const double h = 0.5 * y / beta_;
    return geometric <= static_cast<double>(terms) || h + 6.0 * sqrt(h) + 37.0 <= static_cast<double>(terms);
  }

  // log P(Q <= y) by the series; returns false if `max_terms` terms do not bring the bound on the
  // remainder below 1e-16 of the sum (the caller then uses the saddlepoint). remainder: that bound,
  // relative.
  bool log_cdf(double y, std::int64_t max_terms, double& out, double& remainder) {
    const double h = 0.5 * y / beta_;
    double log_sum = -HUGE_VAL, mass = 0.0;  // mass: sum of a_k so far (linear; sum a_k = 1)
    double log_p, log_q, log_d, growth = 0.0, checkpoint = 0.0;
    const double a_half = 0.5 * m_;
    log_gamma_pq(a_half, h, log_p, log_q);
    log_d = log_gamma_prefix(a_half, h) - log(a_half);  // D(s) = h^s e^-h / Gamma(s+1) at s = m/2
    for (std::int64_t k = 0; k < max_terms; ++k) {
      extend(k);
      terms_used_ = k + 1;
      const double log_a = log(b_[k]) + log_scale_at_(k);
      mass += exp(log_a);
      log_sum = log_add_exp(log_sum, log_a + log_p);
      // The rest is below P(s) sum_{k' > k} a_k' (P falls with s): the mass not yet summed, or once
      // that is lost to rounding (P near 1), the generating-function bound.
      double log_rest = log1p(-fmin(mass, 1.0 - 1e-16));
      if (mass > 1.0 - 1e-13 && k % 8 == 0) log_rest = fmin(log_rest, log_tail_bound(k));
      const double log_remainder = log_p + log_rest - log_sum;
      remainder = exp(log_remainder);
      if (remainder < 1e-16) {
        out = log_sum;
        return true;
      }
      // Every 256 terms, project the bound's recent geometric decay: when it would not reach 1e-16
      // within max_terms, stop now rather than spend them (weights spanning many orders of magnitude).
      if (k > 0 && k % 256 == 0) {
        const double rate = (log_remainder - checkpoint) / 256.0;
        if (!(rate < 0.0) || k + (log(1e-16) - log_remainder) / rate > static_cast<double>(max_terms)) break;
      }
      if (k % 256 == 0) checkpoint = log_remainder;
      // P(s + 1) = P(s) - D(s) multiplies the relative error of P by P(s) / P(s + 1); once that
      // growth passes e^8 (3e-13) since the last direct value, compute P(s + 1) directly instead.
      const double s = a_half + k;
      const double step = log1m_exp(log_d - log_p);
      growth -= step;
      if (growth > 8.0) {
        log_gamma_pq(s + 1.0, h, log_p, log_q);
        growth = 0.0;
      } else {
        log_p += step;
      }
      log_d += log(h) - log(s + 1.0);
      if (log_p == -HUGE_VAL) {
        out = log_sum;
        remainder = 0.0;
        return true;
      }
    }
    out = log_sum;
    return false;
  }

  // log P(Q > y) by the same mixture, sum_k a_k Q(m/2 + k, h) with Q(s + 1) = Q(s) + D(s): a sum of
  // positive terms, so small upper tails keep full precision (1 - P would cancel). The rest is below
  // sum_{k > K} a_k <= A(u) u^-(K+1) / (1 - 1/u) for any 1 < u < 1/gamma_max, A the coefficients'
  // generating function (tail_bound). Returns false if max_terms do not bring it under 1e-16 of the sum.
  bool log_sf(double y, std::int64_t max_terms, double& out, double& remainder) {
    const double h = 0.5 * y / beta_;
    const double a_half = 0.5 * m_;
    double log_p, log_q, log_sum = -HUGE_VAL;
    log_gamma_pq(a_half, h, log_p, log_q);
    double log_d = log_gamma_prefix(a_half, h) - log(a_half);  // D(m/2)
    for (std::int64_t k = 0; k < max_terms; ++k) {
      extend(k);
      terms_used_ = k + 1;
      log_sum = log_add_exp(log_sum, log(b_[k]) + log_scale_at_(k) + log_q);
      if (k % 8 == 0 || k + 1 == max_terms) {
        remainder = exp(log_tail_bound(k) - log_sum);
        if (remainder < 1e-16) {
          out = log_sum;
          return true;
        }
      }
      const double s = a_half + k;
      log_q = log_add_exp(log_q, log_d);
      log_d += log(h) - log(s + 1.0);
    }
    out = log_sum;
    return false;
  }

  // log of a bound on sum_{k > K} a_k <= sum_k a_k u^(k - K - 1) = A(u) u^-(K+1) for any u in
  // (1, 1/gamma_max), with
  // A(u) = prod_j (1 - gamma_j)^(h_j/2) (1 - gamma_j u)^(-h_j/2) exp(nc_j (u - 1) / (2 (1 - gamma_j u))):
  // the minimum over a fixed grid of u (log A(u) computed once), dense both near 1 (large
  // noncentralities want u ~ 1 + 2K / nc) and near 1/gamma_max.
  double log_tail_bound(std::int64_t K) {
    if (bound_log_u_.empty()) {
      double gamma_max = 0.0;
      for (std::int64_t j = 0; j < g_.n; ++j) gamma_max = fmax(gamma_max, gamma_[j]);
      const double top = gamma_max > 0.0 ? 1.0 / gamma_max : HUGE_VAL;
      for (int i = -60; i <= 60; ++i) {
        // below: 1 + 2^i up to the pole (every power of 2 when no gamma limits u); above: toward the pole
        const double u = i <= 0 || top == HUGE_VAL ? 1.0 + ldexp(1.0, i) : top - (top - 1.0) * ldexp(1.0, -i);
        if (!(u > 1.0 && u < top)) continue;
        poll();
        double log_a = 0.0;
        for (std::int64_t j = 0; j < g_.n; ++j) {
          const double shrink = 1.0 - gamma_[j] * u;
          log_a += 0.5 * g_.dof[j] * (log1p(-gamma_[j]) - log(shrink)) + 0.5 * g_.nc[j] * (u - 1.0) / shrink;
        }
        bound_log_u_.push_back(log(u));
        bound_log_a_.push_back(log_a);
      }
    }
    double best = HUGE_VAL;
    for (std::size_t i = 0; i < bound_log_u_.size(); ++i)
      best = fmin(best, bound_log_a_[i] - static_cast<double>(K + 1) * bound_log_u_[i]);
    return best;
  }

  // log density at y by the same mixture: sum_k a_k f_{chi2_{m + 2k}}(y / beta) / beta, whose terms
  // are a_k D(s - 1) / (2 beta) at s = m/2 + k; false if max_terms do not bring the bound on the
  // rest (once s >= h, D(s') <= D(s) for s' > s, so the rest is below (1 - mass) D(s)) under 1e-16.
  bool log_pdf(double y, std::int64_t max_terms, double& out, double& remainder) {
    const double h = 0.5 * y / beta_;
    const double a_half = 0.5 * m_;
    double log_sum = -HUGE_VAL, mass = 0.0;
    double log_d = log_gamma_prefix(a_half, h) - log(a_half);  // D(m/2)
    for (std::int64_t k = 0; k < max_terms; ++k) {
      extend(k);
      terms_used_ = k + 1;
      const double log_a = log(b_[k]) + log_scale_at_(k);
      mass += exp(log_a);
      const double s = a_half + k;
      log_sum = log_add_exp(log_sum, log_a + log_d + log(s) - log(h));  // a_k D(s - 1)
      if (s >= h) {
        remainder = exp(log1p(-fmin(mass, 1.0 - 1e-16)) + log_d - log_sum);
        if (remainder < 1e-16) {
          out = log_sum - log(2.0 * beta_);
          return true;
        }
      }
      log_d += log(h) - log(s + 1.0);
    }
    return false;
  }

  // The terms the last log_cdf, log_sf or log_pdf summed. Its rounding grows with them: each
  // coefficient is a sum of k non-negative products (relative error ~k ulps), so a sum over K terms
  // carries ~K ulps: the callers add 4 K eps to the error (measured: 6e-12 at K ~ 10^4).
  std::int64_t terms_used() const { return terms_used_; }

 private:
  double log_scale_at_(std::int64_t k) const { return log_scale_ - rescale_log_[k]; }

  void poll() {
    if (interrupt_ != nullptr && interrupt_->poll()) throw Interrupted();
  }

  void extend(std::int64_t k) {
    while (static_cast<std::int64_t>(b_.size()) <= k) {
      const std::int64_t next = static_cast<std::int64_t>(b_.size());
      if (next % Interrupt::items_per_poll(g_.n + next) == 0) poll();
      double gk = 0.0;  // g_next, with power_ holding gamma^(next-1)
      for (std::int64_t j = 0; j < g_.n; ++j) {
        gk += 0.5 * (g_.dof[j] * power_[j] * gamma_[j] + next * g_.nc[j] * (1.0 - gamma_[j]) * power_[j]);
        power_[j] *= gamma_[j];
      }
      g_k_.push_back(gk);
      // b_r on its own scale: the scale changes only where a rescaling was recorded (rarely), so the
      // sum runs over those runs of equal scale, each a plain (vectorized) dot product times one exp.
      double b = 0.0;
      for (std::size_t run = 0; run < run_starts_.size(); ++run) {
        const std::int64_t first = run_starts_[run];
        const std::int64_t last = run + 1 < run_starts_.size() ? std::min(run_starts_[run + 1], next) : next;
        if (first >= last) break;
        const double* gk_from_top = g_k_.data() + next;  // g_{next - r} = gk_from_top[-r]
        double dot = 0.0;
#pragma omp simd reduction(+ : dot)
        for (std::int64_t r = first; r < last; ++r) dot += gk_from_top[-r] * b_[r];
        b += dot * exp(rescale_log_[next - 1] - rescale_log_[first]);
      }
      b /= static_cast<double>(next);
      b_.push_back(b);
      rescale_log_.push_back(rescale_log_[next - 1]);
      if (b > 1e250) {  // keep b_next ~ 1: record the shift for this and later coefficients
        rescale_log_[next] -= log(b);
        b_[next] = 1.0;
        run_starts_.push_back(next);
      }
    }
  }

  Gchi2Terms g_;
  Interrupt* interrupt_;
  std::vector<double> gamma_, power_, b_, g_k_;
  std::vector<double> rescale_log_{0.0};           // b_k is on the scale e^(log_scale - rescale_log_[k])
  std::vector<std::int64_t> run_starts_{0};        // the k where rescale_log_ changes (and 0)
  std::vector<double> bound_log_u_, bound_log_a_;  // log_tail_bound's grid: log u and log A(u)
  double beta_ = 0.0, m_ = 0.0, log_scale_ = 0.0;
  std::int64_t terms_used_ = 0;
};

}  // namespace ib
