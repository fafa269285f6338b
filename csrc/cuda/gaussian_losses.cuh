// CUDA loss reductions, mirroring csrc/cpu/gaussian_losses.hpp (device pointers, caller's stream).
//   products: [batch, k, t]; offset: [k, t] float64; labels: [t] int64; losses: [batch]
#pragma once

#include <cstdint>

namespace ib::cuda {

template <class T>
void mse_losses(const T* products, const double* shift, std::int64_t batch, std::int64_t k, std::int64_t t, T* losses,
                std::uintptr_t stream);

template <class T>
void error_losses(const T* products, const double* mean_t, const std::int64_t* labels, std::int64_t batch,
                  std::int64_t k, std::int64_t t, T* losses, std::uintptr_t stream);

}  // namespace ib::cuda
