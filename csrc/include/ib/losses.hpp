// Per-element loss math of a Gaussian hypothesis on the test set, shared by the CPU and CUDA kernels.
//
// One hypothesis's prediction minus its mean is stored output-major, `products: [k, t]`
// (row c holds output c at the t test points); the hypothesis is `mean + products^T`.
#pragma once

#include <cstdint>

#include "ib/config.hpp"

namespace ib {

// Squared residual of one entry: shift = mean - target at that entry, in float64.
template <class T>
IB_HD double squared_residual(T product, double shift) {
  const double d = static_cast<double>(product) + shift;
  return d * d;
}

// The predicted class at test point j: argmax over outputs of mean + product, first maximum wins
// (as numpy.argmax). mean_t: [k, t] (the mean, transposed).
template <class T>
IB_HD std::int64_t predicted_class(const T* products, const double* mean_t, std::int64_t k, std::int64_t t,
                                   std::int64_t j) {
  std::int64_t best_class = 0;
  double best = static_cast<double>(products[j]) + mean_t[j];
  for (std::int64_t c = 1; c < k; ++c) {
    const double v = static_cast<double>(products[c * t + j]) + mean_t[c * t + j];
    if (v > best) {
      best = v;
      best_class = c;
    }
  }
  return best_class;
}

}  // namespace ib
