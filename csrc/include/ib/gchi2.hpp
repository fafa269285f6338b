// The generalized chi-squared Q = sum_j w_j chi2_{h_j}(nc_j) with positive weights, in log space:
// the per-element saddlepoint (Lugannani-Rice) shared by host and device, and Ruben's series
// (host: its coefficients are shared by all x).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "ib/config.hpp"
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
// log P of the smaller tail, a measure of the approximation's own error.
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
}

// Exact P(Q <= y) and P(Q > y), y > 0, by inverting the moment generating function on the vertical
// line Re s = c (Laplace inversion):
//   c < 0:  P(Q <= y) = -(1/2 pi) e^(K(c) - c y) Int g(t) dt,   c > 0:  P(Q > y) = +(same),
//   g(t) = exp(K(c + i t) - K(c) - i t y) / (c + i t),
// with the Chernoff factor e^(K(c) - c y) taken out, so nothing underflows and log P is exact to
// rounding from the bulk to the far tails. c is the saddlepoint (K'(c) = y), where g is a bell of
// width A = 1 / sqrt(K''(c)), unless the pole of 1 / (c + i t) would sit inside that bell (y within
// a standard deviation of the mean): there c = -A, the lower tail, both tails O(1).
// The trapezoid rule on the whole line converges geometrically for g analytic in a strip
// |Im t| < d' (error ~ M e^(-2 pi d' / h), M the size of g there): g is analytic for |Im t| <
// d = min(|c|, distance from c to the nearest singularity of K), and on the line Im t = d' it is at
// most e^(K(c - d') - K(c) + d' y) ~ e^(K'' d'^2 / 2) times its size on the real line, so
// d' = min(d / 2, 2 A) keeps M within e^2. The nodes run until the rest, estimated from the local
// power-law or faster decay of |g|, is negligible; the step is then halved until two sums agree.
// error: that difference plus the estimated rest and rounding, relative to the sum (the absolute
// error of log P); NaN when the rest cannot be made small within the node budget (few degrees of
// freedom decay like t^-(m/2 + 1)): the caller then uses another method.

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
      double power = 1.0;  // a^k
      for (int k = 0; k <= kOrder; ++k) {
        if (k > 0) coefficient_[k] += power * (0.5 * g.dof[j] / k + 0.5 * g.nc[j] / q0_[j]);
        derivative_[k] += power * a_[j] * 0.5 * (g.dof[j] + (k + 1) * g.nc[j] / q0_[j]);
        power *= a_[j];
      }
    }
  }

  double c() const { return c_; }

  // Re g(t) and |g(t)|.
  void node(double t, double& real, double& magnitude) const {
    double re = 0.0, im = -t * y_, kp_re = 0.0, kp_im = 0.0;
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
        power *= t;
      }
    }
    const std::int64_t count = split ? static_cast<std::int64_t>(large_.size()) : g_.n;
    for (std::int64_t index = 0; index < count; ++index) {
      const std::int64_t j = split ? large_[index] : index;
      const double q0 = q0_[j], r = a_[j] * t, h = g_.dof[j], nc = g_.nc[j];
      re += -0.25 * h * (r < 1e150 ? log1p(r * r) : 2.0 * log(r));  // -h/2 log(1 - i r), real part
      im += 0.5 * h * atan(r);
      const double inv = 1.0 / (1.0 + r * r);
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
    if (density_) {
      const double e = exp(re);
      real = e * (kp_re * cos(im) - kp_im * sin(im));
      magnitude = e * sqrt(kp_re * kp_re + kp_im * kp_im);
      return;
    }
    // e^(re + i im) / (c + i t) = e^re (cos im + i sin im) (c - i t) / (c^2 + t^2)
    const double scale = exp(re) / (c_ * c_ + t * t);
    real = scale * (c_ * cos(im) + t * sin(im));
    magnitude = scale * sqrt(c_ * c_ + t * t);
  }

 private:
  const Gchi2Terms& g_;
  double y_, c_, t_split_;
  bool density_;
  std::vector<double> q0_, a_;
  std::vector<std::int64_t> large_;
  double coefficient_[kOrder + 1] = {}, derivative_[kOrder + 1] = {};
};

// The integral of g over the real line (see above) on the line Re s = c (c = (1 - z) / (2 w_max)),
// g analytic in |Im t| < d, bell width A. Returns false when the rest cannot be made small within
// the budget. error: the relative error estimate of `sum`.
inline bool gchi2_line_integral(const Gchi2Terms& g, double y, double z, double A, double d, bool density, double& sum,
                                double& error) {
  const Gchi2Line line(g, y, z, 16.0 * A, density);  // the bell ends before 16 widths (e^-128)
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

inline void gchi2_inversion(const Gchi2Terms& g, double y, double& log_cdf, double& log_sf, double& error) {
  double k0, k1, k2;
  const double z_hat = gchi2_saddle_z(g, y);
  gchi2_cgf(g, z_hat, k0, k1, k2);
  const double c_hat = (1.0 - z_hat) / (2.0 * g.max_weight);
  const double width = 1.0 / sqrt(k2);
  bool lower = true;
  double z = z_hat;
  if (c_hat >= width) {
    lower = false;
  } else if (c_hat > -width) {
    z = 1.0 + 2.0 * width * g.max_weight;  // c = -width
  }
  gchi2_cgf(g, z, k0, k1, k2);
  const double c = (1.0 - z) / (2.0 * g.max_weight);
  const double log_chernoff = k0 - c * y;
  double sum;
  const bool ok =
      gchi2_line_integral(g, y, z, 1.0 / sqrt(k2), fmin(fabs(c), z / (2.0 * g.max_weight)), false, sum, error);
  const double signed_sum = lower ? -sum : sum;
  if (!ok || !(signed_sum > 0.0)) {  // no trustworthy value: the caller uses another method
    log_cdf = log_sf = error = NAN;
    return;
  }
  error += 16.0 * 2.220446049250313e-16 * fabs(log_chernoff);  // rounding of K(c) - c y, absolute in log P
  const double log_tail = log_chernoff + log(signed_sum) - 1.8378770664093454836;  // - log(2 pi)
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
inline void gchi2_log_density(const Gchi2Terms& g, double y, double& log_pdf, double& error) {
  double k0, k1, k2;
  const double z = gchi2_saddle_z(g, y);
  gchi2_cgf(g, z, k0, k1, k2);
  const double c = (1.0 - z) / (2.0 * g.max_weight);
  double sum;
  const bool ok = gchi2_line_integral(g, y, z, 1.0 / sqrt(k2), z / (2.0 * g.max_weight), true, sum, error);
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
  error = (0.5 * dof + 1.0) * log(scaled) + rest + 2.0 * sqrt(nc) * sqrt(scaled) + nc + lgamma(0.5 * dof + 1.0);
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
  RubenSeries(const Gchi2Terms& g) : g_(g), gamma_(g.n), power_(g.n, 1.0) {
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

 private:
  double log_scale_at_(std::int64_t k) const { return log_scale_ - rescale_log_[k]; }

  void extend(std::int64_t k) {
    while (static_cast<std::int64_t>(b_.size()) <= k) {
      const std::int64_t next = static_cast<std::int64_t>(b_.size());
      double gk = 0.0;  // g_next, with power_ holding gamma^(next-1)
      for (std::int64_t j = 0; j < g_.n; ++j) {
        gk += 0.5 * (g_.dof[j] * power_[j] * gamma_[j] + next * g_.nc[j] * (1.0 - gamma_[j]) * power_[j]);
        power_[j] *= gamma_[j];
      }
      g_k_.push_back(gk);
      double b = 0.0;
      for (std::int64_t r = 0; r < next; ++r)
        b += g_k_[next - r] * b_[r] * exp(rescale_log_[next - 1] - rescale_log_[r]);
      b /= static_cast<double>(next);
      b_.push_back(b);
      rescale_log_.push_back(rescale_log_[next - 1]);
      if (b > 1e250) {  // keep b_next ~ 1: record the shift for this and later coefficients
        rescale_log_[next] -= log(b);
        b_[next] = 1.0;
      }
    }
  }

  Gchi2Terms g_;
  std::vector<double> gamma_, power_, b_, g_k_;
  std::vector<double> rescale_log_{0.0};           // b_k is on the scale e^(log_scale - rescale_log_[k])
  std::vector<double> bound_log_u_, bound_log_a_;  // log_tail_bound's grid: log u and log A(u)
  double beta_ = 0.0, m_ = 0.0, log_scale_ = 0.0;
};

}  // namespace ib
