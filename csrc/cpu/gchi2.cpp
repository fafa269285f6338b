// CPU generalized chi-squared: one Ruben series (its coefficients shared by every x, extended on
// demand, so the x are evaluated in turn) and the saddlepoint where the series is too slow.
#include "cpu/gchi2.hpp"

#include <cmath>

#include "ib/gchi2.hpp"

namespace ib::cpu {

void gchi2_evaluate(const double* weight, const double* dof, const double* nc, std::int64_t terms, double offset,
                    const double* x, std::int64_t count, int method, std::int64_t max_terms, double* log_cdf,
                    double* log_sf, double* error, std::int8_t* method_used) {
  Gchi2Terms g{weight, dof, nc, terms, 0.0};
  double mean = 0.0, var = 0.0, k3 = 0.0;
  for (std::int64_t j = 0; j < terms; ++j) {
    g.max_weight = std::fmax(g.max_weight, weight[j]);
    mean += weight[j] * (dof[j] + nc[j]);
    var += 2.0 * weight[j] * weight[j] * (dof[j] + 2.0 * nc[j]);
    k3 += 8.0 * weight[j] * weight[j] * weight[j] * (dof[j] + 3.0 * nc[j]);
  }
  RubenSeries ruben(g);
  for (std::int64_t i = 0; i < count; ++i) {
    const double y = x[i] - offset;
    method_used[i] = 0;
    if (!(y > 0.0)) {
      log_cdf[i] = -HUGE_VAL;
      log_sf[i] = 0.0;
      error[i] = 0.0;
      continue;
    }
    if (y == HUGE_VAL) {
      log_cdf[i] = 0.0;
      log_sf[i] = -HUGE_VAL;
      error[i] = 0.0;
      continue;
    }
    double sp_cdf, sp_sf, sp_error;
    bool have_saddlepoint = false;
    if (method != 2) {
      double value, remainder;
      if (ruben.log_cdf(y, max_terms, value, remainder)) {
        log_cdf[i] = value;
        log_sf[i] = log1m_exp(value);
        error[i] = remainder;  // relative bound on the truncated terms
        method_used[i] = 1;
        // A tiny upper tail loses its relative accuracy in 1 - P: take it from the saddlepoint.
        if (log_sf[i] < std::log(1e-8)) {
          gchi2_saddlepoint(g, y, mean, var, k3, sp_cdf, sp_sf, sp_error);
          log_sf[i] = sp_sf;
        }
        continue;
      }
      if (method == 1) {
        log_cdf[i] = log_sf[i] = error[i] = NAN;
        continue;
      }
    }
    if (!have_saddlepoint) gchi2_saddlepoint(g, y, mean, var, k3, sp_cdf, sp_sf, sp_error);
    log_cdf[i] = sp_cdf;
    log_sf[i] = sp_sf;
    error[i] = sp_error;
    method_used[i] = 2;
  }
}

}  // namespace ib::cpu
