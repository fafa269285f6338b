// CUDA kernel matrices: one thread per element of the tile.
#include "cuda/check.cuh"
#include "cuda/kernels.cuh"

namespace ib::cuda {
namespace {

constexpr unsigned kThreads = 256;

__global__ void kernel_tile_kernel(Kernel kind, KernelParams params, const double* dots, const double* norms_a,
                                   const double* norms_b, std::int64_t na, std::int64_t nb, double* out) {
  const std::int64_t items = na * nb;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < items;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    out[i] = kernel_value(kind, params, dots[i], norms_a[i / nb], norms_b[i % nb]);
  }
}

}  // namespace

void kernel_tile(Kernel kind, const KernelParams& params, const double* dots, const double* norms_a,
                 const double* norms_b, std::int64_t na, std::int64_t nb, double* out, std::uintptr_t stream) {
  if (na == 0 || nb == 0) return;
  kernel_tile_kernel<<<grid_for(static_cast<unsigned long long>(na * nb), kThreads), kThreads, 0,
                       reinterpret_cast<cudaStream_t>(stream)>>>(kind, params, dots, norms_a, norms_b, na, nb, out);
  check_launch("kernel_tile");
}

}  // namespace ib::cuda
