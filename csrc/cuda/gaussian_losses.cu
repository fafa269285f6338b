// CUDA loss reductions: one thread block per hypothesis, float64 partial sums reduced in shared
// memory. The per-element math is ib/losses.hpp, shared with the CPU kernels.
#include "cuda/check.cuh"
#include "cuda/gaussian_losses.cuh"
#include "ib/losses.hpp"

namespace ib::cuda {
namespace {

constexpr unsigned kThreads = 256;

__device__ double block_sum(double value) {
  __shared__ double partial[kThreads];
  partial[threadIdx.x] = value;
  __syncthreads();
  for (unsigned width = kThreads / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
    __syncthreads();
  }
  return partial[0];
}

template <class T>
__global__ void mse_kernel(const T* products, const double* shift, std::int64_t entries, T* losses) {
  const T* hypothesis = products + blockIdx.x * entries;
  double acc = 0.0;
  for (std::int64_t i = threadIdx.x; i < entries; i += kThreads) acc += squared_residual(hypothesis[i], shift[i]);
  const double total = block_sum(acc);
  if (threadIdx.x == 0) losses[blockIdx.x] = static_cast<T>(total / static_cast<double>(entries));
}

template <class T>
__global__ void error_kernel(const T* products, const double* mean_t, const std::int64_t* labels, std::int64_t k,
                             std::int64_t t, T* losses) {
  const T* hypothesis = products + blockIdx.x * k * t;
  double wrong = 0.0;
  for (std::int64_t j = threadIdx.x; j < t; j += kThreads)
    wrong += predicted_class(hypothesis, mean_t, k, t, j) != labels[j];
  const double total = block_sum(wrong);
  if (threadIdx.x == 0) losses[blockIdx.x] = static_cast<T>(total / static_cast<double>(t));
}

// One launch handles at most 2^31 - 1 hypotheses (the grid's x limit); larger batches loop.
constexpr std::int64_t kMaxGrid = 2147483647;

}  // namespace

template <class T>
void mse_losses(const T* products, const double* shift, std::int64_t batch, std::int64_t k, std::int64_t t, T* losses,
                std::uintptr_t stream) {
  for (std::int64_t b0 = 0; b0 < batch; b0 += kMaxGrid) {
    const auto grid = static_cast<unsigned>(batch - b0 < kMaxGrid ? batch - b0 : kMaxGrid);
    mse_kernel<T><<<grid, kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(products + b0 * k * t, shift, k * t,
                                                                                 losses + b0);
    check_launch("mse_losses");
  }
}

template <class T>
void error_losses(const T* products, const double* mean_t, const std::int64_t* labels, std::int64_t batch,
                  std::int64_t k, std::int64_t t, T* losses, std::uintptr_t stream) {
  for (std::int64_t b0 = 0; b0 < batch; b0 += kMaxGrid) {
    const auto grid = static_cast<unsigned>(batch - b0 < kMaxGrid ? batch - b0 : kMaxGrid);
    error_kernel<T><<<grid, kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(products + b0 * k * t, mean_t,
                                                                                   labels, k, t, losses + b0);
    check_launch("error_losses");
  }
}

template void mse_losses<float>(const float*, const double*, std::int64_t, std::int64_t, std::int64_t, float*,
                                std::uintptr_t);
template void mse_losses<double>(const double*, const double*, std::int64_t, std::int64_t, std::int64_t, double*,
                                 std::uintptr_t);
template void error_losses<float>(const float*, const double*, const std::int64_t*, std::int64_t, std::int64_t,
                                  std::int64_t, float*, std::uintptr_t);
template void error_losses<double>(const double*, const double*, const std::int64_t*, std::int64_t, std::int64_t,
                                   std::int64_t, double*, std::uintptr_t);

}  // namespace ib::cuda
