// CPU loss reductions for batches of Gaussian hypotheses (see ib/losses.hpp for the layout).
//   products: [batch, k, t]   hypothesis b's prediction minus the mean, output-major
//   shift:    [k, t]          (mean - targets)^T, float64            (mse)
//   mean_t:   [k, t]          mean^T, float64                        (error)
//   labels:   [t]             class of each test point               (error)
//   losses:   [batch]
#pragma once

#include <cstdint>

namespace ib::cpu {

template <class T>
void mse_losses(const T* products, const double* shift, std::int64_t batch, std::int64_t k, std::int64_t t, T* losses,
                int threads);

template <class T>
void error_losses(const T* products, const double* mean_t, const std::int64_t* labels, std::int64_t batch,
                  std::int64_t k, std::int64_t t, T* losses, int threads);

}  // namespace ib::cpu
