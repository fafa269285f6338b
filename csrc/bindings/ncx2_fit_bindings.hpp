// Conversions between NumPy arrays and the ncx2 fitting types, shared by the _native and
// _native_cuda bindings.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "ib/fit_ncx2.hpp"

namespace ib::bindings {

namespace py = pybind11;

// params: [count, 3] float64 (df, nc, scale), C-contiguous.
inline std::vector<Ncx2Params> params_from(const py::array_t<double, py::array::c_style>& params) {
  if (params.ndim() != 2 || params.shape(1) != 3) throw std::invalid_argument("params: expected shape [count, 3]");
  std::vector<Ncx2Params> out(static_cast<std::size_t>(params.shape(0)));
  for (std::size_t r = 0; r < out.size(); ++r) {
    out[r] = {params.at(r, 0), params.at(r, 1), params.at(r, 2)};
    if (!(out[r].df > 0.0 && out[r].nc >= 0.0 && out[r].scale > 0.0)) {
      throw std::invalid_argument("params: need df > 0, nc >= 0, scale > 0");
    }
  }
  return out;
}

inline std::vector<long long> replicates_from(const py::array_t<long long, py::array::c_style>& replicates,
                                              std::size_t count) {
  if (static_cast<std::size_t>(replicates.size()) != count) {
    throw std::invalid_argument("replicates: expected one per row of params");
  }
  return std::vector<long long>(replicates.data(), replicates.data() + count);
}

// [count, 11] = (value, grad[3], hess[6], weight) per replicate.
inline py::array_t<double> sums_to_array(const std::vector<LikelihoodSums>& sums) {
  py::array_t<double> out({static_cast<py::ssize_t>(sums.size()), static_cast<py::ssize_t>(11)});
  for (std::size_t r = 0; r < sums.size(); ++r) {
    double* row = out.mutable_data(r, 0);
    row[0] = sums[r].value;
    for (int k = 0; k < 3; ++k) row[1 + k] = sums[r].grad[k];
    for (int k = 0; k < 6; ++k) row[4 + k] = sums[r].hess[k];
    row[10] = sums[r].weight;
  }
  return out;
}

// (params [count, 3], loglik [count], iterations [count], converged [count]).
inline py::tuple outcomes_to_tuple(const std::vector<FitOutcome>& outcomes) {
  const auto count = static_cast<py::ssize_t>(outcomes.size());
  py::array_t<double> fitted({count, static_cast<py::ssize_t>(3)});
  py::array_t<double> loglik(count);
  py::array_t<int> iterations(count);
  py::array_t<bool> converged(count);
  for (py::ssize_t r = 0; r < count; ++r) {
    fitted.mutable_at(r, 0) = outcomes[r].params.df;
    fitted.mutable_at(r, 1) = outcomes[r].params.nc;
    fitted.mutable_at(r, 2) = outcomes[r].params.scale;
    loglik.mutable_at(r) = outcomes[r].loglik;
    iterations.mutable_at(r) = outcomes[r].iterations;
    converged.mutable_at(r) = outcomes[r].converged;
  }
  return py::make_tuple(fitted, loglik, iterations, converged);
}

inline FitSettings settings_from(bool fix_nc_zero, int max_iterations, double relative_tolerance) {
  FitSettings settings;
  settings.fix_nc_zero = fix_nc_zero;
  settings.max_iterations = max_iterations;
  settings.relative_tolerance = relative_tolerance;
  return settings;
}

}  // namespace ib::bindings
