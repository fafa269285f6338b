// CPU generalized chi-squared: one Ruben series (its coefficients shared by every x, extended on
// demand, so the x are evaluated in turn), the inversion of the moment generating function where
// the series is too slow (and for small upper tails), the saddlepoint on request or as a last resort.
#include "cpu/gchi2.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ib/gchi2.hpp"

namespace ib::cpu {

namespace {

// Rounding of a Ruben sum over `terms` terms for log P = log_p, absolute: the incomplete-gamma walk
// recomputes directly once its error growth passes e^8 ulp (7e-13 relative in P), the coefficients
// carry ~k ulps each (RubenSeries::terms_used), and up to 4e-13 relative in log P was measured
// against 30-digit mpmath in lower tails (log P = -86: 3.6e-11).
double ruben_rounding(std::int64_t terms, double log_p) {
  return 1e-12 * (1.0 + std::fabs(log_p)) + 4.0 * 2.220446049250313e-16 * static_cast<double>(terms);
}

}  // namespace

void gchi2_evaluate(const double* weight, const double* dof, const double* nc, std::int64_t terms, double offset,
                    const double* x, std::int64_t count, int method, std::int64_t max_terms, double* log_cdf,
                    double* log_sf, double* error, std::int8_t* method_used, int threads, Interrupt& interrupt) {
  Gchi2Terms g{weight, dof, nc, terms, 0.0};
  double mean = 0.0, var = 0.0, k3 = 0.0;
  for (std::int64_t j = 0; j < terms; ++j) {
    g.max_weight = std::fmax(g.max_weight, weight[j]);
    mean += weight[j] * (dof[j] + nc[j]);
    var += 2.0 * weight[j] * weight[j] * (dof[j] + 2.0 * nc[j]);
    k3 += 8.0 * weight[j] * weight[j] * weight[j] * (dof[j] + 3.0 * nc[j]);
  }
  // Automatic: Ruben's series only where it converges within 64 terms (few terms near the lowest
  // weight's scale: deep lower tails, narrow spectra); else the inversion, faster and more accurate
  // (longer series carry up to ~1e-11 relative rounding; measured against 30-digit mpmath).
  const std::int64_t ruben_terms = method == 0 ? std::min<std::int64_t>(max_terms, 64) : max_terms;
  RubenSeries ruben(g, &interrupt);  // throws Interrupted (outside the parallel region below)
  std::vector<std::int64_t> invert;  // the x left to the inversion (small upper tails included)
  for (std::int64_t i = 0; i < count; ++i) {
    if (interrupt.poll()) break;
    const double y = x[i] - offset;
    method_used[i] = 0;
    error[i] = 0.0;
    if (!(y > 0.0)) {
      log_cdf[i] = -HUGE_VAL;
      log_sf[i] = 0.0;
      continue;
    }
    if (y == HUGE_VAL) {
      log_cdf[i] = 0.0;
      log_sf[i] = -HUGE_VAL;
      continue;
    }
    if (method == 0 && y > mean) {  // far enough out, the asymptote's bound is below 1e-12 of log P
      double far_cdf, far_sf, far_error;
      gchi2_far_upper(g, y, far_cdf, far_sf, far_error);
      if (far_error <= 1e-12 * std::fabs(far_sf)) {
        log_cdf[i] = far_cdf;
        log_sf[i] = far_sf;
        error[i] = far_error;
        method_used[i] = 2;
        continue;
      }
    }
    if (method == 0 || method == 1) {
      double value, remainder;
      if ((method == 1 || ruben.promising(y, ruben_terms)) && ruben.log_cdf(y, ruben_terms, value, remainder)) {
        log_cdf[i] = std::fmin(value, 0.0);  // the coefficients sum to 1 only to rounding
        log_sf[i] = log1m_exp(log_cdf[i]);
        error[i] = remainder + ruben_rounding(ruben.terms_used(), value);  // truncated terms (bounded), rounding
        method_used[i] = 1;
        // 1 - P carries Ruben's error times P / (1 - P): below 1e-3 the upper tail comes from the
        // series of Q terms (no cancellation), else the inversion; above, the error reported covers
        // both tails.
        if (log_sf[i] < std::log(1e-3)) {
          double upper, upper_remainder;
          if (ruben.log_sf(y, ruben_terms, upper, upper_remainder)) {
            log_sf[i] = upper;
            error[i] = std::fmax(error[i], upper_remainder + ruben_rounding(ruben.terms_used(), upper));
          } else {
            invert.push_back(i);
          }
        } else {
          error[i] *= std::fmax(1.0, std::exp(log_cdf[i] - log_sf[i]));
        }
        continue;
      }
      if (method == 1) {
        log_cdf[i] = log_sf[i] = error[i] = NAN;
        continue;
      }
    }
    if (method == 2) {
      gchi2_saddlepoint(g, y, mean, var, k3, log_cdf[i], log_sf[i], error[i]);
      method_used[i] = 2;
      continue;
    }
    invert.push_back(i);
  }
  interrupt.throw_if_stopped();
  const auto inversions = static_cast<std::int64_t>(invert.size());
#pragma omp parallel for schedule(dynamic) num_threads(threads) if (inversions > 1)
  for (std::int64_t k = 0; k < inversions; ++k) {
    if (interrupt.poll()) continue;
    const std::int64_t i = invert[k];
    const double y = x[i] - offset;
    double inv_cdf, inv_sf, inv_error;
    gchi2_inversion(g, y, mean, var, method == 0, inv_cdf, inv_sf, inv_error, &interrupt);
    if (interrupt.stopped()) continue;
    if (method_used[i] == 1) {  // Ruben's lower tail stays; the upper tail from the inversion
      const double complement_error = error[i] * std::exp(log_cdf[i] - log_sf[i]);  // Ruben's 1 - P
      if (!std::isfinite(inv_error)) {  // else the saddlepoint's or, far out, the asymptote's: the smaller error
        gchi2_saddlepoint(g, y, mean, var, k3, inv_cdf, inv_sf, inv_error);
        if (std::isnan(inv_sf)) inv_error = HUGE_VAL;
        if (y > mean) {
          double far_cdf, far_sf, far_error;
          gchi2_far_upper(g, y, far_cdf, far_sf, far_error);
          if (far_error < inv_error) {  // false for NaN: not far enough for the asymptote
            inv_sf = far_sf;
            inv_error = far_error;
          }
        }
        if (!(inv_error < complement_error)) {
          error[i] = complement_error;
          continue;
        }
        method_used[i] = 2;  // the upper tail is the saddlepoint's: say so
      }
      log_sf[i] = inv_sf;
      error[i] = std::fmax(error[i], inv_error);
    } else if (std::isfinite(inv_error)) {
      log_cdf[i] = inv_cdf;
      log_sf[i] = inv_sf;
      error[i] = inv_error;
      method_used[i] = 3;
    } else if (method == 0) {  // the inversion could not reach its tolerance: the saddlepoint
      gchi2_saddlepoint(g, y, mean, var, k3, log_cdf[i], log_sf[i], error[i]);
      method_used[i] = 2;
      const bool failed = !std::isfinite(error[i]) || std::isnan(log_cdf[i]) || std::isnan(log_sf[i]);
      if (failed && y > mean) gchi2_far_upper(g, y, log_cdf[i], log_sf[i], error[i]);
    } else {
      log_cdf[i] = log_sf[i] = error[i] = NAN;
    }
  }
  interrupt.throw_if_stopped();
  // Where only the saddlepoint answered (few degrees of freedom: the inversion's integrand decays
  // algebraically), a longer Ruben series is still exact; worth its O(terms^2) coefficients, which
  // every such x shares. Serial: the series extends its coefficients in place.
  if (method != 0) return;
  constexpr std::int64_t kLastResortTerms = 8192;
  for (const std::int64_t i : invert) {
    if (method_used[i] != 2) continue;
    if (interrupt.poll()) break;
    const double y = x[i] - offset;
    if (!ruben.promising(y, kLastResortTerms)) continue;
    double lower, lower_remainder, upper, upper_remainder;
    if (!ruben.log_cdf(y, kLastResortTerms, lower, lower_remainder)) continue;
    lower_remainder += ruben_rounding(ruben.terms_used(), lower);
    lower = std::fmin(lower, 0.0);
    const double complement = log1m_exp(lower);
    if (complement < std::log(1e-3)) {
      if (!ruben.log_sf(y, kLastResortTerms, upper, upper_remainder)) continue;
      upper_remainder += ruben_rounding(ruben.terms_used(), upper);
    } else {
      upper = complement;
      upper_remainder = lower_remainder * std::fmax(1.0, std::exp(lower - complement));
    }
    log_cdf[i] = lower;
    log_sf[i] = upper;
    error[i] = std::fmax(lower_remainder, upper_remainder);
    method_used[i] = 1;
  }
  interrupt.throw_if_stopped();
}

void gchi2_log_pdf(const double* weight, const double* dof, const double* nc, std::int64_t terms, double offset,
                   const double* x, std::int64_t count, double* log_pdf, double* error, int threads,
                   Interrupt& interrupt) {
  Gchi2Terms g{weight, dof, nc, terms, 0.0};
  double total_dof = 0.0, at_zero = 0.0;  // at_zero: log density at 0 when the total dof is 2
  for (std::int64_t j = 0; j < terms; ++j) {
    g.max_weight = std::fmax(g.max_weight, weight[j]);
    total_dof += dof[j];
    at_zero += -0.5 * nc[j] - 0.5 * dof[j] * std::log(weight[j]);
  }
  at_zero -= std::log(2.0);
  // Ruben's mixture where it converges within 512 terms (few degrees of freedom, where the
  // inversion's integrand decays only like t^-(m/2)), else the inversion, in parallel over x.
  RubenSeries ruben(g, &interrupt);
  std::vector<std::int64_t> invert;
  for (std::int64_t i = 0; i < count; ++i) {
    if (interrupt.poll()) break;
    const double y = x[i] - offset;
    error[i] = 0.0;
    double remainder;
    if (y > 0.0 && y < HUGE_VAL) {
      if (ruben.promising(y, 512) && ruben.log_pdf(y, 512, log_pdf[i], remainder)) {
        error[i] = remainder + 1e-13 + 4.0 * 2.220446049250313e-16 * static_cast<double>(ruben.terms_used());
      } else {
        invert.push_back(i);
      }
    } else if (y == 0.0) {                                               // the density ~ y^(m/2 - 1) at 0
      const bool two = std::fabs(total_dof - 2.0) <= 1e-12 * total_dof;  // dofs summed in floating point
      log_pdf[i] = two ? at_zero : total_dof < 2.0 ? HUGE_VAL : -HUGE_VAL;
    } else {
      log_pdf[i] = -HUGE_VAL;
    }
  }
  interrupt.throw_if_stopped();
  const auto inversions = static_cast<std::int64_t>(invert.size());
#pragma omp parallel for schedule(dynamic) num_threads(threads) if (inversions > 1)
  for (std::int64_t k = 0; k < inversions; ++k) {
    if (interrupt.poll()) continue;
    const std::int64_t i = invert[k];
    gchi2_log_density(g, x[i] - offset, log_pdf[i], error[i], &interrupt);
  }
  interrupt.throw_if_stopped();
}

}  // namespace ib::cpu
