// CUDA kernel matrices, mirroring csrc/cpu/kernels.hpp (device pointers, caller's stream).
#pragma once

#include <cstdint>

#include "ib/kernels.hpp"

namespace ib::cuda {

void kernel_tile(Kernel kind, const KernelParams& params, const double* dots, const double* norms_a,
                 const double* norms_b, std::int64_t na, std::int64_t nb, double* out, std::uintptr_t stream);

}  // namespace ib::cuda
