// CPU loss reductions for batches of Gaussian hypotheses (see ib/losses.hpp for the layout).
//   products: [batch, k, t]   hypothesis b's prediction minus the mean, output-major
//   shift:    [k, t]          (mean - targets)^T, float64            (mse)
//   mean_t:   [k, t]          mean^T, float64                        (error)
//   labels:   [t]             class of each test point               (error)
//   losses:   [batch]
// Both poll `interrupt` between hypotheses and throw Interrupted when it fired (losses partly written).
#pragma once

#include <cstdint>

#include "ib/interrupt.hpp"

namespace ib::cpu {

template <class T>
void mse_losses(const T* products, const double* shift, std::int64_t batch, std::int64_t k, std::int64_t t, T* losses,
                int threads, Interrupt& interrupt = Interrupt::never());

template <class T>
void error_losses(const T* products, const double* mean_t, const std::int64_t* labels, std::int64_t batch,
                  std::int64_t k, std::int64_t t, T* losses, int threads, Interrupt& interrupt = Interrupt::never());

}  // namespace ib::cpu
