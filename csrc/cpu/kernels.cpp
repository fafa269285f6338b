// CPU kernel matrices: the covariance function applied to a BLAS tile, one row per task.
#include "cpu/kernels.hpp"

namespace ib::cpu {

void kernel_tile(Kernel kind, const KernelParams& params, const double* dots, const double* norms_a,
                 const double* norms_b, std::int64_t na, std::int64_t nb, double* out, int threads) {
#pragma omp parallel for schedule(static) num_threads(threads) if (na > 1)
  for (std::int64_t i = 0; i < na; ++i) {
    for (std::int64_t j = 0; j < nb; ++j) {
      out[i * nb + j] = kernel_value(kind, params, dots[i * nb + j], norms_a[i], norms_b[j]);
    }
  }
}

}  // namespace ib::cpu
