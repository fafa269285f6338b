// CPU kernel matrices: the covariance function applied to a BLAS tile, one row per task.
#include "cpu/kernels.hpp"

namespace ib::cpu {

namespace {

template <class Stop>
void tile(Kernel kind, const KernelParams& params, const double* dots, const double* norms_a, const double* norms_b,
          std::int64_t na, std::int64_t nb, double* out, int threads, Interrupt& interrupt, Stop stop) {
  const std::int64_t rows_per_poll = Interrupt::items_per_poll(nb * (is_network_kernel(kind) ? params.depth : 1));
#pragma omp parallel for schedule(static) num_threads(threads) if (na > 1)
  for (std::int64_t i = 0; i < na; ++i) {
    if (interrupt.poll_every(i, rows_per_poll)) continue;
    for (std::int64_t j = 0; j < nb; ++j) {
      out[i * nb + j] = kernel_value(kind, params, dots[i * nb + j], norms_a[i], norms_b[j], stop);
    }
  }
  interrupt.throw_if_stopped();
}

}  // namespace

void kernel_tile(Kernel kind, const KernelParams& params, const double* dots, const double* norms_a,
                 const double* norms_b, std::int64_t na, std::int64_t nb, double* out, int threads,
                 Interrupt& interrupt) {
  if (is_network_kernel(kind) && params.depth >= 4096) {  // seconds per element at the deepest: poll inside
    tile(kind, params, dots, norms_a, norms_b, na, nb, out, threads, interrupt,
         [&interrupt] { return interrupt.poll(); });
  } else {
    tile(kind, params, dots, norms_a, norms_b, na, nb, out, threads, interrupt, NeverStop());
  }
}

}  // namespace ib::cpu
