// CUDA top-k selection: one thread per query, the heap in global memory (k is small), the row
// of the transposed tile read with stride `queries` (coalesced across the warp).
#include "cuda/check.cuh"
#include "cuda/neighbors.cuh"
#include "ib/topk.hpp"

namespace ib::cuda {
namespace {

constexpr unsigned kThreads = 128;

template <class T>
__global__ void topk_kernel(const T* dots, std::int64_t queries, std::int64_t points, const double* q_norms,
                            const double* x_norms, std::int64_t q_offset, std::int64_t x_offset, bool exclude_self,
                            const std::int64_t* q_labels, const std::int64_t* x_labels, int k, double* dist,
                            std::int64_t* index) {
  const std::int64_t r = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (r >= queries) return;
  offer_row(dots + r, queries, points, q_norms[r], x_norms, x_offset, exclude_self ? q_offset + r : -1,
            q_labels != nullptr ? q_labels[r] : 0, x_labels, k, dist + r * k, index + r * k);
}

template <class T>
__global__ void exact_kernel(const T* points, const T* queries, std::int64_t dims, const std::int64_t* candidates,
                             std::int64_t items, std::int64_t select, double* out) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= items) return;
  const std::int64_t c = candidates[i];
  out[i] = c < 0 ? HUGE_VAL : exact_squared_distance(points + c * dims, queries + (i / select) * dims, dims);
}

}  // namespace

template <class T>
void exact_squared_distances(const T* points, const T* queries, std::int64_t dims, const std::int64_t* candidates,
                             std::int64_t rows, std::int64_t select, double* out, std::uintptr_t stream) {
  const std::int64_t items = rows * select;
  if (items == 0) return;
  const auto grid = static_cast<unsigned>((items + kThreads - 1) / kThreads);
  exact_kernel<T><<<grid, kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(points, queries, dims, candidates,
                                                                                  items, select, out);
  check_launch("exact_squared_distances");
}

template void exact_squared_distances<float>(const float*, const float*, std::int64_t, const std::int64_t*,
                                             std::int64_t, std::int64_t, double*, std::uintptr_t);
template void exact_squared_distances<double>(const double*, const double*, std::int64_t, const std::int64_t*,
                                              std::int64_t, std::int64_t, double*, std::uintptr_t);

template <class T>
void topk_tile(const T* dots, std::int64_t queries, std::int64_t points, const double* q_norms, const double* x_norms,
               std::int64_t q_offset, std::int64_t x_offset, bool exclude_self, const std::int64_t* q_labels,
               const std::int64_t* x_labels, int k, double* dist, std::int64_t* index, std::uintptr_t stream) {
  if (queries == 0 || points == 0) return;
  const auto grid = static_cast<unsigned>((queries + kThreads - 1) / kThreads);
  topk_kernel<T><<<grid, kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      dots, queries, points, q_norms, x_norms, q_offset, x_offset, exclude_self, q_labels, x_labels, k, dist, index);
  check_launch("topk_tile");
}

template void topk_tile<float>(const float*, std::int64_t, std::int64_t, const double*, const double*, std::int64_t,
                               std::int64_t, bool, const std::int64_t*, const std::int64_t*, int, double*,
                               std::int64_t*, std::uintptr_t);
template void topk_tile<double>(const double*, std::int64_t, std::int64_t, const double*, const double*, std::int64_t,
                                std::int64_t, bool, const std::int64_t*, const std::int64_t*, int, double*,
                                std::int64_t*, std::uintptr_t);

}  // namespace ib::cuda
