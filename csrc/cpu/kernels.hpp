// CPU kernel matrices from a tile of inner products (see ib/kernels.hpp).
//   dots, out: [na, nb] row-major (out may alias dots)   norms_a: [na], norms_b: [nb] (squared norms)
// Polls `interrupt` between rows (and inside deep network-kernel recursions); throws Interrupted when it
// fired, `out` then partly written.
#pragma once

#include <cstdint>

#include "ib/interrupt.hpp"
#include "ib/kernels.hpp"

namespace ib::cpu {

void kernel_tile(Kernel kind, const KernelParams& params, const double* dots, const double* norms_a,
                 const double* norms_b, std::int64_t na, std::int64_t nb, double* out, int threads,
                 Interrupt& interrupt = Interrupt::never());

}  // namespace ib::cpu
