// The non-central chi-squared distribution ncx2(df, nc) in log space, per element, shared by the
// CPU and CUDA builds. A scaled variable X = scale * Y is handled by the callers (y = x / scale).
//
// Both the CDF and the density are Poisson mixtures over j with weights w_j = Pois(j; nc / 2):
//   P(Y <= y) = sum_j w_j P(df/2 + j, y/2),      f(y) = sum_j w_j chi2_pdf(y; df + 2j).
// Neighbouring terms follow by exact recurrences (D(s) = (y/2)^s e^(-y/2) / Gamma(s+1) links
// P(s) and P(s+1)), taken in the direction in which they add positive numbers; the sums are
// accumulated in log space and stop once a bound on the remaining terms is below 1e-17 of the sum.
#pragma once

#include <cmath>

#include "ib/config.hpp"
#include "ib/special.hpp"

namespace ib {

// Running log-sum-exp.
struct LogSum {
  double max = -HUGE_VAL, scaled = 0.0;  // sum = exp(max) * scaled
  IB_HD void add(double v) {
    if (v <= max) {
      scaled += exp(v - max);
    } else {
      scaled = scaled * exp(max - v) + 1.0;
      max = v;
    }
  }
  IB_HD double value() const { return max + log(scaled); }
};

constexpr double kMixtureCut = 40.0;  // e^-40 = 4e-18: terms below sum * e^-40 are dropped

// The mixtures below walk over j one term at a time; where that walk would pass more than kMaxTerms
// terms (nc / 2 or sqrt(nc x / 4) beyond 1e8: absurdly deep upper tails or huge noncentralities)
// the functions return NaN, which the callers turn into an error, never into a truncated sum.
constexpr double kMaxTerms = 1e8;

IB_HD double not_a_number() { return static_cast<double>(NAN); }

// The j at which the density terms w_j chi2_pdf(y; df + 2j) peak, from (j + 1)(a + j) = lambda h.
IB_HD double mixture_peak(double a, double lambda, double h) {
  return 0.5 * (-(a + 1.0) + sqrt((a - 1.0) * (a - 1.0) + 4.0 * lambda * h));
}

// log of one tail of ncx2(df, nc) at y > 0 computed directly as a mixture: the lower tail P(Y <= y)
// when upper is false, the upper tail P(Y > y) when true. Accurate in relative terms for the tail
// it computes (the caller picks the small one).
//
// From the Poisson mode, the walk runs down to j = 0 and up until the remaining terms are below
// e^-40 of the sum. The tail value V, its step D and the weight w are carried in linear scale with
// log offsets (renormalized when they leave [1e-200, 1e200]), so a step costs a few multiplications;
// the stopping bound is checked in log space every few steps.
IB_HD double ncx2_log_tail_sum(double y, double df, double nc, bool upper) {
  const double a = 0.5 * df, h = 0.5 * y, lambda = 0.5 * nc;
  double log_p, log_q;
  if (lambda == 0.0) {
    log_gamma_pq(a, h, log_p, log_q);
    return upper ? log_q : log_p;
  }
  // Upper tail: the terms w_j Q(a + j, h) peak near mixture_peak, far above the Poisson mode when h is huge.
  if (lambda > kMaxTerms || (upper && mixture_peak(a, lambda, h) > kMaxTerms)) return not_a_number();
  const double log_lambda = log(lambda), inv_h = 1.0 / h, inv_lambda = 1.0 / lambda;
  const double mode = floor(lambda);
  const double log_w_mode = -lambda + mode * log_lambda - log_gamma(mode + 1.0);
  log_gamma_pq(a + mode, h, log_p, log_q);
  const double log_v_mode = upper ? log_q : log_p;
  // D(s) = h^s e^-h / Gamma(s+1) = prefix(s, h) / s: P(s+1) = P(s) - D(s), Q(s+1) = Q(s) + D(s).
  const double log_d_mode = log_gamma_prefix(a + mode, h) - log(a + mode);

  double sum_offset = log_w_mode + log_v_mode, sum = 1.0;  // the sum is sum * e^sum_offset
  for (int direction = -1; direction <= 1; direction += 2) {
    // Downwards P(s) = P(s+1) + D(s) adds and Q(s) = Q(s+1) - D(s) subtracts; upwards the reverse.
    const bool adds = (direction < 0) != upper;
    double v = 1.0, v_offset = log_v_mode;  // V = v e^v_offset; D = d e^v_offset
    double d = exp(log_d_mode - log_v_mode);
    double w = 1.0, w_offset = log_w_mode;
    double to_sum = exp(w_offset + v_offset - sum_offset);  // term = w v to_sum, in sum's scale
    double growth = 1.0;  // error growth of V through subtractions since its last direct value
    int steps = 0;
    for (double j = mode + direction; j >= 0.0; j += direction) {
      const double s = a + j;
      bool rescaled = false;
      // d *= factor, rebasing on the new d when the factor alone could overflow (x near 0 or huge).
      const auto step_d = [&](double factor) {
        if (factor < 1e100 && factor > 1e-100) {
          d *= factor;
          return;
        }
        const double log_d = log(d) + v_offset + log(factor);
        v *= exp(v_offset - log_d);
        v_offset = log_d;
        d = 1.0;
        rescaled = true;
      };
      if (direction < 0) step_d((s + 1.0) * inv_h);  // D(s) from D(s+1); upwards d already is D(s-1)
      if (adds) {
        v += d;
      } else {
        // Subtracting multiplies V's relative error by V_old / V_new; past 3000x (3e-13) since the
        // last direct value (or when V drops by most of itself), compute V directly.
        growth *= v / (v - d);
        if (!(d < 0.9 * v) || growth > 3000.0) {
          log_gamma_pq(s, h, log_p, log_q);
          const double log_v = upper ? log_q : log_p;
          if (log_v == -HUGE_VAL) break;
          d = exp(log(d) + v_offset - log_v);
          v = 1.0;
          v_offset = log_v;
          rescaled = true;
          growth = 1.0;
        } else {
          v -= d;
        }
      }
      if (direction > 0) step_d(h / s);  // D(s) from D(s-1)
      w *= direction < 0 ? (j + 1.0) * inv_lambda : lambda / j;
      const double big = v > d ? v : d;
      if (big > 1e200 || big < 1e-200) {
        const double shift = log(big);
        v_offset += shift;
        v /= big;
        d /= big;
        rescaled = true;
      }
      if (w < 1e-200) {
        w_offset += log(w);
        w = 1.0;
        rescaled = true;
      }
      if (rescaled) {
        const double log_to_sum = w_offset + v_offset - sum_offset;
        if (log_to_sum > 300.0) {  // the terms outgrow the sum: rebase the sum on them
          sum *= exp(-log_to_sum);
          sum_offset += log_to_sum;
          to_sum = 1.0;
        } else {
          to_sum = exp(log_to_sum);
        }
      }
      sum += w * v * to_sum;
      if (sum > 1e200) {  // rebase the sum on its current size
        const double shift = log(sum);
        sum_offset += shift;
        sum = 1.0;
        to_sum = exp(w_offset + v_offset - sum_offset);
      }
      if (++steps % 8 != 0) continue;
      // Remaining terms, with V monotone in j and the Poisson tails bounded geometrically:
      //   downwards: sum_{i<j} w_i V_i <= (upper ? V_j : 1) w_{j-1} / (1 - (j-1)/lambda)
      //   upwards:   sum_{i>j} w_i V_i <= (upper ? 1 : V_j) w_{j+1} / (1 - lambda/(j+2))
      const double log_w = log(w) + w_offset, log_v = log(v) + v_offset;
      const bool v_bounds = (direction < 0) == upper;
      double bound = (v_bounds ? log_v : 0.0) + log_w +
                     (direction < 0 ? (j >= 1.0 ? log(j * inv_lambda) - log1p(-(j - 1.0) * inv_lambda) : -HUGE_VAL)
                                    : log_lambda - log(j + 1.0) - log1p(-lambda / (j + 2.0)));
      if (upper && direction > 0) {
        // Far in the upper tail Q <= 1 is loose. Since Gamma(s, h) >= h^(s-1) e^-h for s >= 1,
        // Q(s+1) / Q(s) = 1 + D(s) / Q(s) <= 1 + h / s, so the terms shrink at least by the
        // decreasing ratio rho = lambda / (j+1) (1 + h / (a+j)) once it is below 1.
        const double rho = lambda / (j + 1.0) * (1.0 + h / s);
        if (rho < 1.0) bound = fmin(bound, log_w + log_v + log(rho) - log1p(-rho));
      }
      if (fabs(j - mode) > 2.0 * kMaxTerms) return not_a_number();
      if (!(bound >= sum_offset + log(sum) - kMixtureCut)) break;  // written so that NaN also ends it
    }
  }
  return sum_offset + log(sum);
}

// Chernoff's upper bound on log P(Y > y) for y above the mean: min over t of K(t) - t y with the
// cumulant generating function K(t) = -df/2 log(1 - 2t) + nc t / (1 - 2t); with u = 1 / (1 - 2t) the
// optimum solves df u + nc u^2 = y.
IB_HD double ncx2_log_sf_chernoff(double y, double df, double nc) {
  const double u = nc > 0.0 ? (-df + sqrt(df * df + 4.0 * nc * y)) / (2.0 * nc) : y / df;
  const double t = 0.5 * (1.0 - 1.0 / u);
  return -t * y + 0.5 * df * log(u) + nc * t * u;
}

// log P(Y <= y) and log P(Y > y), each accurate in relative terms (the smaller tail is summed,
// the larger one is log1m_exp of it).
IB_HD void ncx2_log_cdf_sf(double y, double df, double nc, double& log_cdf, double& log_sf) {
  if (!(y > 0.0)) {
    log_cdf = neg_inf();
    log_sf = 0.0;
    return;
  }
  if (y == HUGE_VAL) {
    log_cdf = 0.0;
    log_sf = neg_inf();
    return;
  }
  if (y < df + nc) {  // below the mean: the lower tail is at most ~0.6
    log_cdf = ncx2_log_tail_sum(y, df, nc, false);
    log_sf = log1m_exp(log_cdf);
  } else {
    log_sf = ncx2_log_tail_sum(y, df, nc, true);
    // Too far out for the series, but below Chernoff's bound e^-800 the log-CDF is -0 in doubles.
    log_cdf = log_sf == log_sf ? log1m_exp(log_sf) : ncx2_log_sf_chernoff(y, df, nc) < -800.0 ? 0.0 : log_sf;
  }
}

// Posterior moments over the mixture index j of the density at y: everything the log-likelihood
// of a scaled ncx2 and its first and second derivatives need.
struct Ncx2DensityMoments {
  double log_pdf;            // log f(y)
  double mean_j, var_j;      // E[j], Var[j] under p_j proportional to w_j g_j(y)
  double mean_psi, var_psi;  // E and Var of psi(df/2 + j)
  double cov_j_psi;          // Cov(j, psi(df/2 + j))
  double mean_trigamma;      // E[psi'(df/2 + j)]
};

// The density f(y) of ncx2(df, nc) with the moments above, y > 0. Terms t_j = w_j g_j(y) are
// unimodal in j with ratio t_{j+1}/t_j = lambda h / ((j+1)(a+j)); the sum starts at the peak and
// walks both ways in linear scale until a geometric bound drops below 1e-17 of the sum.
IB_HD Ncx2DensityMoments ncx2_density_moments(double y, double df, double nc) {
  const double a = 0.5 * df, h = 0.5 * y, lambda = 0.5 * nc;
  Ncx2DensityMoments m;
  if (lambda == 0.0) {
    m.log_pdf = log_gamma_prefix(a, h) - log(y);
    m.mean_j = m.var_j = m.var_psi = m.cov_j_psi = 0.0;
    m.mean_psi = digamma(a);
    m.mean_trigamma = trigamma(a);
    return m;
  }
  // Peak: the largest j with ratio_{j-1} >= 1, i.e. (j)(a+j-1) <= lambda h.
  const double root = mixture_peak(a, lambda, h);
  if (root > kMaxTerms) {
    m.log_pdf = m.mean_j = m.var_j = m.mean_psi = m.var_psi = m.cov_j_psi = m.mean_trigamma = not_a_number();
    return m;
  }
  const double peak = root > 0.0 ? ceil(root) : 0.0;
  const double log_peak_term =
      -lambda + peak * log(lambda) - log_gamma(peak + 1.0) + log_gamma_prefix(a + peak, h) - log(y);
  const double psi_peak = digamma(a + peak), tri_peak = trigamma(a + peak);
  const double lh = lambda * h;
  constexpr double kCut = 1e-17;

  // Sums of t_j / t_peak times 1, d, d^2, psi, psi^2, d psi, psi' with d = j - peak (centred for
  // accuracy of the variances).
  struct Sums {
    double s0 = 0.0, s_d = 0.0, s_dd = 0.0, s_p = 0.0, s_pp = 0.0, s_dp = 0.0, s_t = 0.0;
    IB_HD void add(double t, double d, double psi, double tri) {
      s0 += t;
      s_d += t * d;
      s_dd += t * d * d;
      s_p += t * psi;
      s_pp += t * psi * psi;
      s_dp += t * d * psi;
      s_t += t * tri;
    }
  } sums;
  sums.add(1.0, 0.0, psi_peak, tri_peak);
  // One division per term: r = lh / (j z) and 1/z = j / (j z); tail bounds without dividing.
  double t = 1.0, psi = psi_peak, tri = tri_peak;
  for (double j = peak + 1.0;; j += 1.0) {  // upwards: ratio r = lh / (j (a + j - 1)), decreasing
    const double z = a + j - 1.0;           // psi(a+j) = psi(a+j-1) + 1/(a+j-1)
    const double inv_jz = 1.0 / (j * z), inv_z = j * inv_jz;
    psi += inv_z;
    tri -= inv_z * inv_z;
    const double r = lh * inv_jz;
    t *= r;
    sums.add(t, j - peak, psi, tri);
    if (r < 1.0 && t * r < kCut * sums.s0 * (1.0 - r)) break;  // remaining <= t r / (1 - r)
  }
  t = 1.0;
  psi = psi_peak;
  tri = tri_peak;
  const double inv_lh = 1.0 / lh;
  for (double j = peak - 1.0; j >= 0.0; j -= 1.0) {  // downwards: t_j = t_{j+1} / ratio_j
    const double z = a + j, inv_z = 1.0 / z;
    psi -= inv_z;
    tri += inv_z * inv_z;
    const double r = (j + 1.0) * z * inv_lh;  // t_j / t_{j+1}, decreasing as j decreases
    t *= r;
    sums.add(t, j - peak, psi, tri);
    if (r < 1.0 && t * r < kCut * sums.s0 * (1.0 - r)) break;
  }
  const double mean_d = sums.s_d / sums.s0, mean_p = sums.s_p / sums.s0;
  m.log_pdf = log_peak_term + log(sums.s0);
  m.mean_j = peak + mean_d;
  m.var_j = sums.s_dd / sums.s0 - mean_d * mean_d;
  m.mean_psi = mean_p;
  m.var_psi = sums.s_pp / sums.s0 - mean_p * mean_p;
  m.cov_j_psi = sums.s_dp / sums.s0 - mean_d * mean_p;
  m.mean_trigamma = sums.s_t / sums.s0;
  return m;
}

// One sample's contribution to the log-likelihood of a scaled ncx2 and its derivatives in the
// optimizer's coordinates u = (log df, log scale, nc):
//   value = log f(x / scale) - log scale,  grad[3],  hess[6] = (00, 01, 02, 11, 12, 22).
// At nc = 0 the nc-derivatives are the one-sided ones at the boundary.
struct LikelihoodTerms {
  double value, grad[3], hess[6];
};

// log density of scale * ncx2(df, nc) at x = y * scale, y >= 0: the density walk for y > 0, and at
// y = 0 its limit: +inf for df < 2, e^(-nc/2) / 2 for df = 2 (the chi2_2 density at 0), 0 for df > 2.
IB_HD double ncx2_log_pdf(double y, double df, double nc, double log_scale) {
  if (y > 0.0 && y < HUGE_VAL) return ncx2_density_moments(y, df, nc).log_pdf - log_scale;
  if (y == 0.0 && df < 2.0) return HUGE_VAL;
  if (y == 0.0 && df == 2.0) return -0.69314718055994530942 - 0.5 * nc - log_scale;
  return neg_inf();
}

IB_HD LikelihoodTerms ncx2_likelihood_terms(double x, double df, double nc, double scale) {
  const double y = x / scale, a = 0.5 * df, h = 0.5 * y, lambda = 0.5 * nc;
  const Ncx2DensityMoments m = ncx2_density_moments(y, df, nc);
  LikelihoodTerms out;
  out.value = m.log_pdf - log(scale);
  // Derivatives of log f in (df, nc, y): l_k = E[B], l_n = E[A], l_y = E[C] with
  // A = (j/lambda - 1)/2, B = (log h - psi(a+j))/2, C = (a + j - 1)/y - 1/2.
  const double l_k = 0.5 * (log(h) - m.mean_psi);
  const double l_y = (a - 1.0 + m.mean_j) / y - 0.5;
  const double l_kk = 0.25 * (m.var_psi - m.mean_trigamma);
  const double l_yy = (m.var_j - (a - 1.0 + m.mean_j)) / (y * y);
  const double l_ky = 0.5 * (1.0 - m.cov_j_psi) / y;
  double l_n, l_nn, l_nk, l_ny;
  if (lambda > 0.0) {
    l_n = 0.5 * (m.mean_j / lambda - 1.0);
    l_nn = (m.var_j - m.mean_j) / (4.0 * lambda * lambda);
    l_nk = -m.cov_j_psi / (4.0 * lambda);
    l_ny = m.var_j / (2.0 * lambda * y);
  } else {  // f = e^-lambda (g_0 + lambda g_1 + lambda^2 g_2 / 2 + ...), g_1/g_0 = h/a
    const double r1 = h / a, r2 = r1 * h / (a + 1.0);
    l_n = 0.5 * (r1 - 1.0);
    l_nn = 0.25 * (r2 - r1 * r1);
    l_nk = 0.25 * (-1.0 / a) * r1;  // d/dk of (h/a)/2 with a = k/2
    l_ny = 0.5 * r1 / y;            // d/dy of (h/a)/2
  }
  // To u = (log df, log scale, nc): y depends on scale as y = x / scale.
  out.grad[0] = df * l_k;
  out.grad[1] = -y * l_y - 1.0;
  out.grad[2] = l_n;
  out.hess[0] = df * df * l_kk + df * l_k;
  out.hess[1] = -df * y * l_ky;
  out.hess[2] = df * l_nk;
  out.hess[3] = y * y * l_yy + y * l_y;
  out.hess[4] = -y * l_ny;
  out.hess[5] = l_nn;
  return out;
}

}  // namespace ib
