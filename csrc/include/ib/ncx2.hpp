// The non-central chi-squared distribution ncx2(df, nc) in log space, per element, shared by the
// CPU and CUDA builds. A scaled variable X = scale * Y is handled by the callers (y = x / scale).
//
// Both the CDF and the density are Poisson mixtures over j with weights w_j = Pois(j; nc / 2):
//   P(Y <= y) = sum_j w_j P(df/2 + j, y/2),      f(y) = sum_j w_j chi2_pdf(y; df + 2j).
// Neighbouring terms follow by exact recurrences (D(s) = (y/2)^s e^(-y/2) / Gamma(s+1) links
// P(s) and P(s+1)), taken in the direction in which they add positive numbers; the sums are
// accumulated in log space and stop once a bound on the remaining terms is below 1e-17 of the sum.
// Where the density's terms spread over many j (sigma >= 48: nc in the thousands and beyond) the
// density and its moments are a trapezoidal rule over real j instead (exact to e^-79, ~40 nodes);
// far below the bulk (y (1 + nc/2) < 2e-20) the CDF is its j = 0 term in closed form.
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
// The root in the form without cancellation: (-(a + 1) + sqrt(D)) / 2 lost every digit when
// a >> lambda h (a = 1.4e20, lambda h = 1.3e23: 0 for a true peak of ~890), and the density walk
// starting there at the wrong j overflowed.
IB_HD double mixture_peak(double a, double lambda, double h) {
  const double lh = lambda * h;
  if (lh == HUGE_VAL) return HUGE_VAL;  // inf / inf below: beyond every supported peak
  return 2.0 * (lh - a) / ((a + 1.0) + sqrt((a - 1.0) * (a - 1.0) + 4.0 * lh));
}

// The posterior of j is close to a normal of variance (j+1)(a+j)/(a+2j+1) around the peak. From
// this standard deviation on, the density is summed as a trapezoidal rule in continuous j rather
// than term by term (see ncx2_density_moments_trapezoid).
constexpr double kTrapezoidMinSigma = 48.0;

// Bound on the terms the density walk takes beyond its peak (it needs ~20 sigma < 1000): past it
// the density is NaN, never a loop without end.
constexpr double kMaxDensityWalk = 1e5;

// From this nc / 2 on, the tail sums below are a trapezoidal rule over real j (the walk takes
// ~80 sqrt(nc / 2) steps: 0.6 ms per point at nc = 5e7; the rule ~60 incomplete gamma functions).
constexpr double kTrapezoidMinLambda = 1e5;

// One tail of ncx2 as sum_j w_j V(a + j, h) (V = P or Q) by the trapezoidal rule on the terms
// continued to real j (w_j = e^-lambda lambda^j / Gamma(j + 1) and P(s, h), Q(s, h) are entire in
// j and s): as for the density (ncx2_density_moments_trapezoid) the rule and the sum over the
// integers both equal the integral up to exp(-2 pi^2 sigma^2 / H^2) = e^-178 at H = sigma / 3, sigma
// the width of the terms at their peak (from the curvature of their log there). NaN where the rule
// does not apply (a peak narrower than 48 or near j = 0, |log V| beyond 1e13 where differences of
// logs lose their digits, or a search that does not settle): the caller walks the terms instead.
IB_HD double ncx2_log_tail_trapezoid(double a, double lambda, double h, bool upper) {
  const double log_lambda = log(lambda), log_h = log(h);
  const auto log_term = [&](double j) {
    double log_p, log_q;
    log_gamma_pq(a + j, h, log_h, log_p, log_q);
    return (log_gamma_prefix(j + 1.0, lambda, log_lambda) - log_lambda) + (upper ? log_q : log_p);
  };
  // The peak: uphill from j = lambda in steps of sqrt(lambda) / 4, then the parabola through the
  // three points around the highest (the terms' log is close to quadratic).
  const double coarse = 0.25 * sqrt(lambda);
  double center = lambda, mid = log_term(center);
  if (!(fabs(mid) < 1e13)) return not_a_number();
  double up = log_term(center + coarse), down = log_term(center - coarse);
  for (int steps = 0; up > mid || down > mid; ++steps) {
    if (steps == 4000) return not_a_number();
    if (up > mid) {
      center += coarse;
      down = mid;
      mid = up;
      up = log_term(center + coarse);
    } else {
      center -= coarse;
      if (center - coarse < 0.0) return not_a_number();
      up = mid;
      mid = down;
      down = log_term(center - coarse);
    }
  }
  const double second = up - 2.0 * mid + down;  // < 0 at a maximum
  if (!(second < 0.0)) return not_a_number();
  center += 0.5 * coarse * (down - up) / second;
  double sigma = coarse / sqrt(-second);
  // The curvature again over +-sigma around the vertex; the narrower width sets the step.
  const double ref = log_term(center);
  const double second_fine = log_term(center + sigma) - 2.0 * ref + log_term(center - sigma);
  if (!(second_fine < 0.0)) return not_a_number();
  sigma = fmin(sigma, sigma / sqrt(-second_fine));
  if (!(sigma >= kTrapezoidMinSigma) || center < 12.0 * sigma) return not_a_number();
  const double step = sigma / 3.0;
  double sum = 1.0;
  for (int direction = -1; direction <= 1; direction += 2) {
    for (int k = 1;; ++k) {
      const double log_t = log_term(center + direction * k * step) - ref;
      if (!(log_t < 1.0)) return not_a_number();  // not the peak after all
      sum += exp(log_t);
      // Past ~9.5 sigma the nodes are below e^-45 of the peak (and fall by e^-9 per step beyond).
      if (log_t < -45.0) break;
      if (k == 400) return not_a_number();
    }
  }
  return ref + log(step * sum);
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
  if (lambda >= kTrapezoidMinLambda) {
    const double value = ncx2_log_tail_trapezoid(a, lambda, h, upper);
    if (value == value) return value;
  }
  const double log_lambda = log(lambda), inv_h = 1.0 / h, inv_lambda = 1.0 / lambda;
  const double mode = floor(lambda);
  // log Pois(mode; lambda) as prefix(mode + 1, lambda) / lambda: -lambda + mode log lambda - lgamma(mode + 1)
  // would lose 1e-7 to cancellation at lambda = 2.5e7.
  const double log_w_mode = log_gamma_prefix(mode + 1.0, lambda) - log_lambda;
  log_gamma_pq(a + mode, h, log_p, log_q);
  const double log_v_mode = upper ? log_q : log_p;
  // Where |log V| is beyond ~1e16 its ulp exceeds anything the mixture can change, and the walk's
  // log offsets could no longer resolve a factor e^-40 (a log-CDF of -1.5e25 at df = 5e27 walked
  // 2e8 terms). The sum lies between w_mode V_mode and V_mode e^spread:
  //   lower tail: V_j <= V_0 and P(s) / P(s+1) <= (s + 1 + h) / h (from 1F1(1; s+1; h) >= 1 + h/(s+1)),
  //     so log(V_0 / V_mode) <= mode log1p((a + mode + 1) / h);
  //   upper tail: V_j <= V_mode for j <= mode and Q(s+1) / Q(s) <= 1 + h / s for s >= 1 (below), so
  //     the sum is at most V_mode (1 + e^(lambda h / (a + mode))).
  // Once that interval is below 1e-16 |log V_mode| the answer is log V_mode to double precision.
  const double spread = -log_w_mode + (upper ? (a + mode >= 1.0 ? lambda * h / (a + mode) + kLn2 : HUGE_VAL)
                                             : mode * log1p((a + mode + 1.0) / h));
  if (spread < 1e-16 * fabs(log_v_mode)) return log_v_mode;
  // D(s) = h^s e^-h / Gamma(s+1) = prefix(s, h) / s: P(s+1) = P(s) - D(s), Q(s+1) = Q(s) + D(s).
  const double log_d_mode = log_gamma_prefix(a + mode, h) - log(a + mode);

  double sum_offset = log_w_mode + log_v_mode, sum = 1.0;  // the sum is sum * e^sum_offset
  for (int direction = -1; direction <= 1; direction += 2) {
    // Downwards P(s) = P(s+1) + D(s) adds and Q(s) = Q(s+1) - D(s) subtracts; upwards the reverse.
    const bool adds = (direction < 0) != upper;
    // V = v e^v_offset; D = d e^v_offset, based on the larger of the two: D / V ~ 1 / a overflowed
    // for a subnormal df (Q(a, h) ~ a E1(h) ~ 1e-321 at df = 1e-320) and the sum became NaN.
    double v_offset = fmax(log_v_mode, log_d_mode);
    double v = exp(log_v_mode - v_offset), d = exp(log_d_mode - v_offset);
    double w = 1.0, w_offset = log_w_mode;
    double to_sum = exp(w_offset + v_offset - sum_offset);  // term = w v to_sum, in sum's scale
    if (to_sum > 1e300) {  // v based on D >> V (above): rebase the sum on the terms, as in the walk
      const double log_to_sum = w_offset + v_offset - sum_offset;
      sum *= exp(-log_to_sum);
      sum_offset += log_to_sum;
      to_sum = 1.0;
    }
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
      // The cut grows with |log sum| past 4e14, where e^-40 would be below its resolution.
      const double cut = fmax(kMixtureCut, 1e-13 * fabs(sum_offset));
      if (!(bound >= sum_offset + log(sum) - cut)) break;  // written so that NaN also ends it
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
  // Far below the bulk only j = 0 counts: P(Y <= y) = e^-lambda P(a, h) (1 + O(lambda h / (a + 1)))
  // with P(a, h) = h^a / Gamma(a + 1) (1 + O(h)). Once h (1 + lambda) < 1e-20 the corrections are
  // below 1e-20 and this closed form is exact in doubles; it needs only log h, so it also holds
  // where h = y / 2 underflows (subnormal y) and 1 / h, which the series uses, would overflow.
  if (0.5 * y * (1.0 + 0.5 * nc) < 1e-20) {
    log_cdf = -0.5 * nc + 0.5 * df * (log(y) - kLn2) - log_gamma1p(0.5 * df);  // 1p: df may be 1e-300
    log_sf = log1m_exp(log_cdf);
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
// of a scaled ncx2 and its first and second derivatives need. Means are kept as offsets from a
// reference point (j_ref, psi(a + j_ref)) so that the derivatives can be formed without the
// cancellations of E[j] - lambda or log h - E[psi] at large df + nc.
struct Ncx2DensityMoments {
  double log_pdf;        // log f(y)
  double j_ref, mean_d;  // E[j] = j_ref + mean_d
  double var_j;          // Var[j] under p_j proportional to w_j g_j(y)
  double n1, n2;         // E[j] / lambda and (Var[j] - E[j]) / lambda^2 (the nc-derivatives)
  double psi_ref;        // psi(a + j_ref)
  double mean_dpsi;      // E[psi(a + j)] - psi_ref
  double var_psi;        // Var[psi(a + j)]
  double cov_j_psi;      // Cov(j, psi(a + j))
  double mean_trigamma;  // E[psi'(a + j)]
};

// Sums of t_j / t_ref times 1, d, d^2, dpsi, dpsi^2, d dpsi, psi' with d = j - j_ref and
// dpsi = psi(a + j) - psi(a + j_ref) (centred, for accurate variances).
struct Ncx2MomentSums {
  double s0 = 0.0, s_d = 0.0, s_dd = 0.0, s_p = 0.0, s_pp = 0.0, s_dp = 0.0, s_t = 0.0;
  IB_HD void add(double t, double d, double dpsi, double tri) {
    s0 += t;
    s_d += t * d;
    s_dd += t * d * d;
    s_p += t * dpsi;
    s_pp += t * dpsi * dpsi;
    s_dp += t * d * dpsi;
    s_t += t * tri;
  }
  IB_HD void finish(Ncx2DensityMoments& m) const {
    const double mean_d = s_d / s0, mean_p = s_p / s0;
    m.mean_d = mean_d;
    m.var_j = s_dd / s0 - mean_d * mean_d;
    m.mean_dpsi = mean_p;
    m.var_psi = s_pp / s0 - mean_p * mean_p;
    m.cov_j_psi = s_dp / s0 - mean_d * mean_p;
    m.mean_trigamma = s_t / s0;
  }
};

// The density walk below, as a trapezoidal rule with step H on the terms t(j) continued to real j
// (t is entire in j: 1/Gamma(j+1) and 1/Gamma(a+j) are entire). By Poisson summation both the sum
// over the integers and H times the sum over the nodes equal the integral of t up to aliasing terms,
// the Fourier transform of t at frequencies 1 and 1/H: for the near-normal t of width sigma these
// are ~exp(-2 pi^2 sigma^2) and ~exp(-2 pi^2 sigma^2 / H^2) = e^-79 at H = sigma / 2, so ~40 nodes
// replace ~20 sigma terms (20,000 at nc = 1e7) at no loss of accuracy. Needs sigma >= 48 (so the
// end j = 0, more than sigma^2 - 1 away, plays no part) and j_ref > 0.
IB_HD Ncx2DensityMoments ncx2_density_moments_trapezoid(double y, double log_y, double a, double lambda, double h,
                                                        double log_h, double h_minus_a, double center, double sigma) {
  Ncx2DensityMoments m;
  const double log_lambda = log(lambda), step = 0.5 * sigma;
  m.j_ref = center;
  const double s_ref = a + center;
  m.psi_ref = digamma(s_ref);
  const double dml_ref = digamma_minus_log(s_ref);
  // log t(j) - log t(j_ref) = [log Pois(j) - log Pois(j_ref)] + [log prefix(a + j, h) - log prefix(a + j_ref, h)],
  // the second as a difference formed without its common part (which is huge in the tails).
  const double log_pois_ref = log_gamma_prefix(center + 1.0, lambda, log_lambda);
  const double h_minus_s = h_minus_a - center;
  const auto log_term = [&](double d) {
    return (log_gamma_prefix(center + d + 1.0, lambda, log_lambda) - log_pois_ref) +
           log_gamma_prefix_step(s_ref, d, h, log_h, h_minus_s);
  };
  const double log_ref = log_pois_ref + log_gamma_prefix(s_ref, h, log_h, h_minus_s);
  Ncx2MomentSums sums;
  sums.add(1.0, 0.0, 0.0, trigamma(s_ref));
  for (int direction = -1; direction <= 1; direction += 2) {
    for (int k = 1;; ++k) {
      const double d = direction * k * step, j = center + d;
      const double log_t = log_term(d);
      // psi(a + j) - psi(a + j_ref) = log1p(d / s_ref) + (psi - log)(a + j) - (psi - log)(s_ref).
      const double dpsi = log1p(d / s_ref) + (digamma_minus_log(a + j) - dml_ref);
      sums.add(exp(log_t), d, dpsi, trigamma(a + j));
      // Past ~9.5 sigma the nodes are below e^-45 of the peak and fall by e^-4.6 or faster per
      // step; 64 steps (32 sigma) bound the work whatever the shape.
      if (log_t < -45.0 || k == 64) break;
    }
  }
  sums.finish(m);
  m.n1 = 1.0 + ((center - lambda) + m.mean_d) / lambda;
  m.n2 = (m.var_j - (center + m.mean_d)) / (lambda * lambda);
  m.log_pdf = log_ref + log(step * sums.s0) - log_lambda - log_y;
  return m;
}

// The density f(y) of ncx2(df, nc) with the moments above, y > 0, log_y = log(y) (exact even where
// y / 2 underflows), h_minus_a = (y - df) / 2 (the likelihood forms it without the rounding of y).
// Terms t_j = w_j g_j(y) are unimodal in j with ratio t_{j+1}/t_j = lambda h / ((j+1)(a+j)); the
// sum starts at the peak and walks both ways in linear scale until a geometric bound drops below
// 1e-17 of the sum. Where the posterior of j is wide (nc large: the walk would take ~20 sigma
// terms) the trapezoidal rule above replaces it.
IB_HD Ncx2DensityMoments ncx2_density_moments(double y, double log_y, double df, double nc, double h_minus_a) {
  const double a = 0.5 * df, h = 0.5 * y, lambda = 0.5 * nc, log_h = log_y - kLn2;
  Ncx2DensityMoments m;
  const auto undefined = [&m]() {
    m.log_pdf = m.j_ref = m.mean_d = m.var_j = m.n1 = m.n2 = m.psi_ref = m.mean_dpsi = m.var_psi = m.cov_j_psi =
        m.mean_trigamma = not_a_number();
    return m;
  };
  // NaN or infinite parameters (an optimizer step that overflowed) have no density: NaN, which the
  // fit rejects as a step, where the walks below would never meet their stopping test.
  if (!(a > 0.0 && a < HUGE_VAL && lambda >= 0.0 && lambda < HUGE_VAL && h == h)) return undefined();
  if (lambda == 0.0) {
    m.log_pdf = log_gamma_prefix(a, h, log_h, h_minus_a) - log_y;
    m.j_ref = m.mean_d = m.var_j = m.mean_dpsi = m.var_psi = m.cov_j_psi = 0.0;
    // The limits lambda -> 0 of n1 and n2 (f = g_0 + lambda g_1 + ..., g_1 / g_0 = h / a).
    m.n1 = h / a;
    m.n2 = m.n1 * h / (a + 1.0) - m.n1 * m.n1;
    m.psi_ref = digamma(a);
    m.mean_trigamma = trigamma(a);
    return m;
  }
  // Peak: the largest j with ratio_{j-1} >= 1, i.e. (j)(a+j-1) <= lambda h.
  const double root = mixture_peak(a, lambda, h);
  // Beyond 1e8 the nodes' spacing (sigma ~ sqrt(root)) approaches the rounding of j itself; the
  // upper tails that far out are outside the supported range (NaN: the caller raises).
  if (root > kMaxTerms) return undefined();
  if (root > 0.0) {
    const double center = root + 0.5;  // the maximum of log t(j) over real j, to O(1 / j)
    const double variance = (center + 1.0) * (a + center) / (a + 2.0 * center + 1.0);
    if (variance >= kTrapezoidMinSigma * kTrapezoidMinSigma) {
      return ncx2_density_moments_trapezoid(y, log_y, a, lambda, h, log_h, h_minus_a, center, sqrt(variance));
    }
  }
  // The trapezoid covers sigma >= 48, i.e. root >~ 2300; below, the walk takes at most ~1000 terms.
  const double peak = root > 0.0 ? ceil(root) : 0.0;
  const double log_lambda = log(lambda);
  const double log_peak_term = (log_gamma_prefix(peak + 1.0, lambda, log_lambda) - log_lambda) +  // log w_peak
                               log_gamma_prefix(a + peak, h, log_h, h_minus_a - peak) - log_y;
  const double tri_peak = trigamma(a + peak);
  m.j_ref = peak;
  m.psi_ref = digamma(a + peak);
  // lambda h may underflow (tiny y): then only j = 0 contributes and the walks stop at once.
  const double lh = lambda * h;
  constexpr double kCut = 1e-17;

  Ncx2MomentSums sums;
  sums.add(1.0, 0.0, 0.0, tri_peak);
  // At peak 0 (nc small against a / h) the nc-derivatives come from sums shifted by one and two
  // indices: E[j] / lambda = sum_k t_k h / (a + k) / sum_k t_k and E[j (j-1)] / lambda^2 =
  // sum_k t_k h^2 / ((a + k)(a + k + 1)) / sum_k t_k. Var[j] - E[j] formed from the moments would
  // cancel completely as nc -> 0 (both ~lambda h / a, their difference ~(lambda h / a)^2 / a; a
  // Hessian in rho of 1e17 instead of 1e10 stalled a fit there) and need terms the walk drops.
  const bool shifted = peak == 0.0;
  double s_u1 = shifted ? h / a : 0.0, s_u2 = shifted ? h * h / (a * (a + 1.0)) : 0.0;
  // One division per term: r = lh / (j z) and 1/z = j / (j z); tail bounds without dividing.
  double t = 1.0, dpsi = 0.0, tri = tri_peak;
  for (double j = peak + 1.0;; j += 1.0) {  // upwards: ratio r = lh / (j (a + j - 1)), decreasing
    // psi(a+j) = psi(a+j-1) + 1/(a+j-1). (j - 1) + a, exact at j = 1: a + j - 1 rounded a = 1e-20
    // away to z = 0, and the walk's infinite terms never met its stopping test.
    const double z = (j - 1.0) + a;
    const double inv_jz = 1.0 / (j * z), inv_z = j * inv_jz;
    dpsi += inv_z;
    tri -= inv_z * inv_z;
    const double r = lh * inv_jz;
    t *= r;
    sums.add(t, j - peak, dpsi, tri);
    if (shifted) {
      const double q = h / (a + j);
      s_u1 += t * q;
      s_u2 += t * q * h / (a + j + 1.0);
    }
    if (r < 1.0 && t * r < kCut * sums.s0 * (1.0 - r)) break;  // remaining <= t r / (1 - r)
    // Terms past the peak fall like a normal of sigma < 48: ~500 of them reach the cut. More, or a
    // term that overflowed (a start below the true peak), is a walk that would never end.
    if (!(t < 1e300) || j - peak > kMaxDensityWalk) return undefined();
  }
  t = 1.0;
  dpsi = 0.0;
  tri = tri_peak;
  const double inv_lh = 1.0 / lh;
  for (double j = peak - 1.0; j >= 0.0; j -= 1.0) {  // downwards: t_j = t_{j+1} / ratio_j
    const double z = a + j, inv_z = 1.0 / z;
    dpsi -= inv_z;
    tri += inv_z * inv_z;
    const double r = (j + 1.0) * z * inv_lh;  // t_j / t_{j+1}, decreasing as j decreases
    t *= r;
    sums.add(t, j - peak, dpsi, tri);
    if (r < 1.0 && t * r < kCut * sums.s0 * (1.0 - r)) break;
    if (!(t < 1e300)) return undefined();  // bounded by j >= 0 (peak < ~5000 here)
  }
  sums.finish(m);
  if (shifted) {
    m.n1 = s_u1 / sums.s0;
    m.n2 = s_u2 / sums.s0 - m.n1 * m.n1;
  } else {
    m.n1 = 1.0 + ((peak - lambda) + m.mean_d) / lambda;
    m.n2 = (m.var_j - (peak + m.mean_d)) / (lambda * lambda);
  }
  m.log_pdf = log_peak_term + log(sums.s0);
  return m;
}

// One sample's contribution to the log-likelihood of a scaled ncx2 and its derivatives in the
// optimizer's coordinates u = (log mean, log variance, rho = nc / (df + nc)), with mean =
// scale (df + nc) and variance = 2 scale^2 (df + 2 nc):
//   value = log f(x / scale) - log scale,  grad[3],  hess[6] = (00, 01, 02, 11, 12, 22).
// At nc = 0 the rho-derivatives are the one-sided ones at the boundary.
struct LikelihoodTerms {
  double value, grad[3], hess[6];
};

// Gradient and packed Hessian in u from those in t = (log df, log scale, nc), by the chain rule
// H_u = J^T H_t J + sum_k g_t[k] d2 t_k / du2, with t0 = log A + log(1 - rho), t1 = log m - log A,
// t2 = A rho and log A = log 2 + log(1 + rho) + 2 u0 - u1 (A = df + nc).
IB_HD void ncx2_derivatives_to_u(const double gt[3], const double ht[6], double df, double nc, double grad[3],
                                 double hess[6]) {
  const double a = df + nc, rho = nc / a;
  const double ip = 1.0 / (1.0 + rho), im = 1.0 / (1.0 - rho);
  const double d_log_a[3] = {2.0, -1.0, ip};
  double jac[3][3];  // jac[k][i] = d t_k / d u_i
  for (int i = 0; i < 3; ++i) {
    jac[0][i] = d_log_a[i];
    jac[1][i] = (i == 0 ? 1.0 : 0.0) - d_log_a[i];
    jac[2][i] = rho * a * d_log_a[i] + (i == 2 ? a : 0.0);
  }
  jac[0][2] -= im;
  double second[3][3][3] = {};  // second[k][i][j] = d2 t_k / du_i du_j
  second[0][2][2] = -ip * ip - im * im;
  second[1][2][2] = ip * ip;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      // t2 = A rho: d2 = rho d2A + dA_i [j == rho] + dA_j [i == rho], with dA = A d_log_a and
      // d2A = A (d_log_a_i d_log_a_j + d2 log A), d2 log A / drho2 = -1/(1+rho)^2.
      const double d2_log_a = (i == 2 && j == 2) ? -ip * ip : 0.0;
      const double d2a = a * (d_log_a[i] * d_log_a[j] + d2_log_a);
      second[2][i][j] = rho * d2a + (j == 2 ? a * d_log_a[i] : 0.0) + (i == 2 ? a * d_log_a[j] : 0.0);
    }
  }
  const double h[3][3] = {{ht[0], ht[1], ht[2]}, {ht[1], ht[3], ht[4]}, {ht[2], ht[4], ht[5]}};
  double hu[3][3];
  for (int i = 0; i < 3; ++i) {
    grad[i] = 0.0;
    for (int k = 0; k < 3; ++k) grad[i] += gt[k] * jac[k][i];
    for (int j = 0; j < 3; ++j) {
      double v = 0.0;
      for (int k = 0; k < 3; ++k) {
        v += gt[k] * second[k][i][j];
        for (int l = 0; l < 3; ++l) v += jac[k][i] * h[k][l] * jac[l][j];
      }
      hu[i][j] = v;
    }
  }
  hess[0] = hu[0][0];
  hess[1] = hu[0][1];
  hess[2] = hu[0][2];
  hess[3] = hu[1][1];
  hess[4] = hu[1][2];
  hess[5] = hu[2][2];
}

// log density of scale * ncx2(df, nc) at x = y * scale, y >= 0: the density walk for y > 0, and at
// y = 0 its limit: +inf for df < 2, e^(-nc/2) / 2 for df = 2 (the chi2_2 density at 0), 0 for df > 2.
IB_HD double ncx2_log_pdf(double y, double df, double nc, double log_scale) {
  if (y > 0.0 && y < HUGE_VAL) return ncx2_density_moments(y, log(y), df, nc, 0.5 * (y - df)).log_pdf - log_scale;
  if (y == 0.0 && df < 2.0) return HUGE_VAL;
  if (y == 0.0 && df == 2.0) return -0.69314718055994530942 - 0.5 * nc - log_scale;
  return neg_inf();
}

// log h - psi(s) for h, s > 0 with h - s given: log1p((h - s) / s) + (log s - psi(s)), which keeps
// its relative accuracy when h and s are large and close (both ~1e24 for a tight sample), where
// log h - psi(s) would cancel.
IB_HD double log_minus_digamma(double h, double s, double h_minus_s, double log_h) {
  const double u = h_minus_s / s;
  return (u > -0.5 && u < 0.5 ? log1p(u) : log_h - log(s)) - digamma_minus_log(s);
}

IB_HD LikelihoodTerms ncx2_likelihood_terms(double x, double df, double nc, double scale) {
  // log y from log x - log scale: exact even where x / scale is subnormal or underflows. And
  // h - a = (x - df scale) / (2 scale) with one rounding (fma): for a sample of relative spread
  // 1e-12 (df ~ 1e24) the rounding of y alone would put noise of 1e-4 nats into every term.
  const double y = x / scale, log_y = log(x) - log(scale);
  const double a = 0.5 * df, h = 0.5 * y, lambda = 0.5 * nc, log_h = log_y - kLn2;
  const double h_minus_a = fma(-df, scale, x) / (2.0 * scale);
  const Ncx2DensityMoments m = ncx2_density_moments(y, log_y, df, nc, h_minus_a);
  LikelihoodTerms out;
  out.value = m.log_pdf - log(scale);
  // Derivatives of log f in (df, nc, y): l_k = E[B], l_n = E[A], l_y = E[C] with
  // A = (j/lambda - 1)/2, B = (log h - psi(a+j))/2, C = (a + j - 1)/y - 1/2. They enter below
  // multiplied by y, df or lambda, formed so that nothing of size y or df + nc cancels:
  //   y l_y = (a - 1 + E[j]) - h,  y^2 l_yy = Var[j] - (a - 1 + E[j]),  y l_ky = (1 - Cov(j, psi))/2.
  // The squares y^2 of the old form underflowed for y < 1e-154 (a loss of 1e-160 gave 0 * inf = NaN
  // in the Hessian, and the fit hung) and overflowed for y > 1e154.
  const double s_ref = a + m.j_ref;
  const double h_minus_mean = (h_minus_a - m.j_ref) - m.mean_d;  // h - a - E[j]
  const double l_k =
      0.5 * (log_minus_digamma(h, s_ref, h_minus_a - m.j_ref, log_h) - m.mean_dpsi);  // (log h - E[psi]) / 2
  const double l_kk = 0.25 * (m.var_psi - m.mean_trigamma);
  // nc-derivatives: l_n = (E[j] / lambda - 1) / 2, l_nn = (Var[j] - E[j]) / (4 lambda^2) (n1, n2
  // carry their limits at nc = 0: the one-sided derivatives there).
  const double l_n = 0.5 * (m.n1 - 1.0), l_nn = 0.25 * m.n2;
  double l_nk, y_l_ny;
  if (lambda > 0.0) {
    l_nk = -m.cov_j_psi / (4.0 * lambda);
    y_l_ny = m.var_j / (2.0 * lambda);
  } else {
    // f = e^-lambda (g_0 + lambda g_1 + ...) with g_1 / g_0 = h / a.
    l_nk = 0.25 * (-1.0 / a) * m.n1;  // d/dk of (h/a)/2 with a = k/2
    y_l_ny = 0.5 * m.n1;              // y d/dy of (h/a)/2
  }
  // In t = (log df, log scale, nc): y depends on scale as y = x / scale, so d/dlog scale = -y d/dy.
  const double gt[3] = {df * l_k, h_minus_mean, l_n};  // h_minus_mean = -y l_y - 1 = h - a - E[j]
  const double ht[6] = {df * df * l_kk + df * l_k,
                        -0.5 * df * (1.0 - m.cov_j_psi),  // -df y l_ky
                        df * l_nk,
                        m.var_j - h,  // y^2 l_yy + y l_y
                        -y_l_ny,
                        l_nn};
  ncx2_derivatives_to_u(gt, ht, df, nc, out.grad, out.hess);
  if (lambda == 0.0) {
    // The scaled chi-squared is a gamma of shape a = m^2 / v and scale theta = v / m, and in
    // (log m, log v) its derivatives have closed forms (with delta = h - a, h = x / theta):
    //   g0 = delta + 2 a L - 2 a D,  g1 = a D - a L,  H00 = 4 (a L - a D - T) + 3 delta - a,
    //   H01 = 2 T - delta - 2 a L + 2 a D,  H11 = a L - a D - T,
    // L = log1pmx(delta / a), D = psi(a) - log a, T = a^2 psi'(a) - a. The chain rule from t
    // would cancel terms of size a (1e24 for a sample of relative spread 1e-12) down to O(1).
    const double al = a * log1pmx(h_minus_mean / a), ad = a * digamma_minus_log(a), tg = trigamma_scaled(a);
    out.grad[0] = h_minus_mean + 2.0 * (al - ad);
    out.grad[1] = ad - al;
    out.hess[0] = 4.0 * (al - ad - tg) + 3.0 * h_minus_mean - a;
    out.hess[1] = 2.0 * tg - h_minus_mean - 2.0 * (al - ad);
    out.hess[3] = al - ad - tg;
  }
  return out;
}

}  // namespace ib
