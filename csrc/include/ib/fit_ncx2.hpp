// Maximum-likelihood fit of a scaled ncx2 (loc = 0), host code shared by the CPU and CUDA modules:
// a Levenberg-Marquardt / trust-region Newton iteration with the analytic gradient and Hessian,
// run in lockstep for several bootstrap replicates so that each iteration is one batched
// likelihood reduction (CPU: OpenMP over samples; CUDA: one kernel).
//
// The iteration runs on u = (log mean, log variance, rho = nc / (df + nc)) in [0, 1): mean and
// variance are what a sample pins down, and when df and nc are large the likelihood is a long
// ridge along rho, straight in these coordinates but curved in (df, nc, scale) (measured: 200
// iterations without convergence there, against under 10 here). The likelihood terms come in u
// already (ncx2_likelihood_terms), formed per sample where that avoids cancellation.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace ib {

struct Ncx2Params {
  double df, nc, scale;
};

// Weighted sums over the samples of ncx2_likelihood_terms, plus the total weight.
struct LikelihoodSums {
  double value = 0.0, grad[3] = {0, 0, 0}, hess[6] = {0, 0, 0, 0, 0, 0}, weight = 0.0;
};

struct FitOutcome {
  Ncx2Params params;
  double loglik;
  int iterations;
  bool converged;
};

namespace detail {

// Solve M d = g for symmetric positive-definite M (packed 00,01,02,11,12,22), entries of `fixed`
// held at 0. Returns false when M is not positive definite on the free coordinates.
inline bool solve_spd3(const double m[6], const double g[3], const bool fixed[3], double d[3]) {
  double a[3][3] = {{m[0], m[1], m[2]}, {m[1], m[3], m[4]}, {m[2], m[4], m[5]}};
  double b[3] = {g[0], g[1], g[2]};
  for (int i = 0; i < 3; ++i) {
    if (!fixed[i]) continue;
    for (int j = 0; j < 3; ++j) a[i][j] = a[j][i] = 0.0;
    a[i][i] = 1.0;
    b[i] = 0.0;
  }
  double l[3][3] = {};
  for (int i = 0; i < 3; ++i) {  // Cholesky
    for (int j = 0; j <= i; ++j) {
      double s = a[i][j];
      for (int k = 0; k < j; ++k) s -= l[i][k] * l[j][k];
      if (i == j) {
        if (!(s > 0.0)) return false;
        l[i][i] = std::sqrt(s);
      } else {
        l[i][j] = s / l[j][j];
      }
    }
  }
  double z[3];
  for (int i = 0; i < 3; ++i) {
    double s = b[i];
    for (int k = 0; k < i; ++k) s -= l[i][k] * z[k];
    z[i] = s / l[i][i];
  }
  for (int i = 2; i >= 0; --i) {
    double s = z[i];
    for (int k = i + 1; k < 3; ++k) s -= l[k][i] * d[k];
    d[i] = s / l[i][i];
  }
  return true;
}

// Coordinates of the iteration, u = (log m, log v, rho), and the likelihood's (log df, log scale, nc).
inline void to_u(const Ncx2Params& p, double u[3]) {
  const double a = p.df + p.nc;
  u[0] = std::log(p.scale * a);
  u[1] = std::log(2.0 * p.scale * p.scale * (p.df + 2.0 * p.nc));
  u[2] = p.nc / a;
}

inline Ncx2Params from_u(const double u[3]) {
  // v / m^2 = 2 (1 + rho) / A with A = df + nc; scale = m / A; df = A (1 - rho); nc = A rho.
  // scale = exp(u0) / A keeps the model mean scale * A within an ulp or two of exp(u0); the form
  // exp(u0 - log A) rounds u0 - log A (~ -56 for df ~ 1e24), which moved the mean by ~30 ulps, and
  // for a sample of relative spread 1e-12 by ~1e-2 standard deviations: more than the last
  // Newton steps, which then failed.
  const double rho = u[2];
  const double a = 2.0 * (1.0 + rho) * std::exp(2.0 * u[0] - u[1]);
  return {a * (1.0 - rho), a * rho, std::exp(u[0]) / a};
}

// Parameters at which the likelihood is defined: 0 < df, 0 <= nc, 0 < scale, all finite.
inline bool admissible(const Ncx2Params& p) {
  return p.df > 0.0 && p.df < HUGE_VAL && p.nc >= 0.0 && p.nc < HUGE_VAL && p.scale > 0.0 && p.scale < HUGE_VAL;
}

}  // namespace detail

// Upper bound of rho = nc / (df + nc): df >= 1e-9 (df + nc). The likelihood can increase all the
// way to df = 0, where the limit is a Poisson mixture of chi-squares with 2j degrees of freedom.
constexpr double kMaxRho = 1.0 - 1e-9;

// Upper bound of nc in a fit: nc / 2 <= 1e8 = kMaxTerms, so that every function of the fitted
// distribution (log-CDF and log-SF walk over the Poisson index) can be evaluated. With
// nc <= df + nc = 2 (1 + rho) mean^2 / variance, the fits the Python layer leaves rho free in
// (relative spread above ~2e-4, mean^2 / variance <= 2.5e7; below, it holds nc at 0) stay under
// 1e8; the bound only catches a replicate wandering off.
constexpr double kMaxFitNc = 2e8;

// Where the iteration can make no more progress (a step of relative size 1e-12, or damping beyond
// 1e12) it has converged when the predicted gain of a Newton step is below the strict tolerance or
// below 1e-4 nats: the parameters are then within 0.015 standard errors of the optimum
// (gain = z^2 / 2), which no statistic read off the fit can resolve. Above that it has not.
constexpr double kStalledGain = 1e-4;

// The largest rho with nc = 2 rho (1 + rho) m^2 / v <= kMaxFitNc at u = (log m, log v, .).
inline double max_rho(const double u[3]) {
  const double e = std::exp(2.0 * u[0] - u[1]);  // m^2 / v
  const double bound = 0.5 * (std::sqrt(1.0 + 2.0 * kMaxFitNc / e) - 1.0);
  return std::min(kMaxRho, bound);
}

struct FitSettings {
  bool fix_nc_zero = false;  // fit the scaled central chi-squared
  int max_iterations = 200;
  double relative_tolerance = 1e-13;
};

// evaluate(params, replicates, count, sums): the weighted likelihood sums of replicate
// replicates[i] at params[i], for i < count.
template <class Evaluate>
std::vector<FitOutcome> fit_ncx2_lockstep(Evaluate evaluate, const std::vector<Ncx2Params>& start,
                                          const std::vector<long long>& replicates, const FitSettings& settings) {
  const std::size_t n = start.size();
  std::vector<FitOutcome> out(n);
  std::vector<Ncx2Params> params = start, trial(n);
  std::vector<LikelihoodSums> sums(n), trial_sums(n);
  std::vector<double> damping(n, 1e-3), gain(n, HUGE_VAL);
  std::vector<char> active(n, 1);
  for (std::size_t r = 0; r < n; ++r) {
    if (settings.fix_nc_zero) params[r].nc = 0.0;
    out[r] = {params[r], 0.0, 0, false};
  }
  evaluate(params.data(), replicates.data(), n, sums.data());

  const auto finite = [](const double* v, int count) {
    for (int i = 0; i < count; ++i) {
      if (!std::isfinite(v[i])) return false;
    }
    return true;
  };
  // Converged when the iteration stalls: see kStalledGain.
  const auto stalled = [&](std::size_t r) {
    active[r] = 0;
    const double tolerance = settings.relative_tolerance * std::max(1.0, std::fabs(sums[r].value));
    out[r].converged = gain[r] <= std::max(tolerance, kStalledGain);
  };
  std::vector<std::size_t> index;
  std::vector<Ncx2Params> batch_params;
  std::vector<long long> batch_replicates;
  std::vector<LikelihoodSums> batch_sums;
  for (int iteration = 1; iteration <= settings.max_iterations; ++iteration) {
    index.clear();
    batch_params.clear();
    batch_replicates.clear();
    std::vector<double> step_size(n, 0.0);
    for (std::size_t r = 0; r < n; ++r) {
      if (!active[r]) continue;
      if (!(sums[r].weight > 0.0) || !std::isfinite(sums[r].value)) {  // empty resample or bad start
        active[r] = 0;
        continue;
      }
      double grad[3], hess[6], u[3];  // the sums are in u already (ncx2_likelihood_terms)
      for (int i = 0; i < 3; ++i) grad[i] = sums[r].grad[i];
      for (int i = 0; i < 6; ++i) hess[i] = sums[r].hess[i];
      detail::to_u(params[r], u);
      // A derivative that is not finite (it should not happen: the likelihood terms are formed
      // without overflow) ends this replicate unconverged rather than feeding NaN to the solver.
      if (!finite(grad, 3) || !finite(hess, 6)) {
        active[r] = 0;
        continue;
      }
      // Marquardt: (-H + mu diag|H|) d = g, with rho held fixed when it sits on a bound and the
      // gradient points outwards (or when fitting the central chi-squared).
      const double rho_high = max_rho(u);
      const bool nc_on_bound = settings.fix_nc_zero || (u[2] <= 0.0 && grad[2] <= 0.0) ||
                               (u[2] >= rho_high * (1.0 - 1e-12) && grad[2] >= 0.0);
      const bool fixed[3] = {false, false, nc_on_bound};
      double m[6], d[3];
      for (int i = 0; i < 6; ++i) m[i] = -hess[i];
      // Converged when the Newton decrement g^T (-H)^-1 g / 2 (the predicted gain) is negligible.
      const double tolerance = settings.relative_tolerance * std::max(1.0, std::fabs(sums[r].value));
      gain[r] = HUGE_VAL;  // where -H is not positive definite this is no maximum
      if (detail::solve_spd3(m, grad, fixed, d)) {
        gain[r] = 0.5 * (grad[0] * d[0] + grad[1] * d[1] + grad[2] * d[2]);
        if (gain[r] < tolerance) {
          active[r] = 0;
          out[r].converged = true;
          continue;
        }
      }
      const int diagonal[3] = {0, 3, 5};
      for (int i = 0; i < 3; ++i) m[diagonal[i]] += damping[r] * std::max(std::fabs(hess[diagonal[i]]), 1e-12);
      // Indefinite: more damping. The matrix is finite, so a diagonal beyond 1e12 |H_ii| makes it
      // positive definite; the bound only guards against the unforeseen.
      bool solved = true;
      while (!detail::solve_spd3(m, grad, fixed, d)) {
        if (damping[r] > 1e12) {
          solved = false;
          break;
        }
        damping[r] = std::max(damping[r] * 10.0, 1e-6);
        for (int i = 0; i < 3; ++i) m[diagonal[i]] += damping[r] * std::max(std::fabs(hess[diagonal[i]]), 1e-12);
      }
      if (!solved) {
        stalled(r);
        continue;
      }
      d[0] = std::clamp(d[0], -1.0, 1.0);  // at most a factor e per step in mean and variance
      d[1] = std::clamp(d[1], -2.0, 2.0);
      double next[3] = {u[0] + d[0], u[1] + d[1], 0.0};
      next[2] = settings.fix_nc_zero ? 0.0 : std::clamp(u[2] + d[2], 0.0, max_rho(next));
      trial[r] = detail::from_u(next);
      // A step whose parameters overflow (a replicate whose weight sits on one or two distinct
      // samples runs off towards variance 0 or df 0 at up to a factor e^2 per step) is a failed step.
      if (!detail::admissible(trial[r])) {
        out[r].iterations = iteration;
        damping[r] *= 4.0;
        if (damping[r] > 1e12) stalled(r);
        continue;
      }
      step_size[r] = std::max({std::fabs(d[0]), std::fabs(d[1]), std::fabs(next[2] - u[2])});
      index.push_back(r);
      batch_params.push_back(trial[r]);
      batch_replicates.push_back(replicates[r]);
    }
    if (index.empty()) break;
    batch_sums.assign(index.size(), LikelihoodSums());
    evaluate(batch_params.data(), batch_replicates.data(), index.size(), batch_sums.data());
    for (std::size_t b = 0; b < index.size(); ++b) {
      const std::size_t r = index[b];
      out[r].iterations = iteration;
      if (std::isfinite(batch_sums[b].value) && batch_sums[b].value >= sums[r].value) {
        params[r] = trial[r];
        sums[r] = batch_sums[b];
        damping[r] = std::max(damping[r] / 3.0, 1e-12);
        if (step_size[r] < 1e-12) stalled(r);  // no longer moving
      } else {
        damping[r] *= 4.0;
        if (damping[r] > 1e12) stalled(r);  // no ascent direction left
      }
    }
  }
  // Replicates still active here ran out of iterations: not converged.
  for (std::size_t r = 0; r < n; ++r) {
    out[r].params = params[r];
    out[r].loglik = sums[r].value;
  }
  return out;
}

}  // namespace ib
