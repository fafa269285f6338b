// CPU kernel matrices from a tile of inner products (see ib/kernels.hpp).
//   dots, out: [na, nb] row-major (out may alias dots)   norms_a: [na], norms_b: [nb] (squared norms)
#pragma once

#include <cstdint>

#include "ib/kernels.hpp"

namespace ib::cpu {

void kernel_tile(Kernel kind, const KernelParams& params, const double* dots, const double* norms_a,
                 const double* norms_b, std::int64_t na, std::int64_t nb, double* out, int threads);

}  // namespace ib::cpu
