// CUDA top-k selection and exact re-ranking.
//
// topk: a warp per query row of the tile [queries, points] (row-major, as on the CPU). The lanes read
// 32 consecutive inner products at a time (coalesced, kUnroll steps of loads in flight), turn them
// into squared distances and test them against the warp's current k-th distance; the few that pass are
// offered to the query's max-heap one at a time, in increasing point order, by lane 0. So the heap
// sees the same sequence of accepted offers as the CPU's scan (ib/topk.hpp) would on the same
// inner products. The heap lives in shared memory for the tile (global memory when k is too
// large for it) and is read from and written back to the caller's [queries, k] arrays.
//
// exact: a warp per (query, candidate) pair, the lanes striding over the dimensions (coalesced),
// float64 partial sums combined in a fixed shuffle order.
#include <algorithm>
#include <stdexcept>

#include "cuda/check.cuh"
#include "cuda/neighbors.cuh"
#include "ib/topk.hpp"

namespace ib::cuda {
namespace {

constexpr unsigned kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kUnroll = 4;                       // steps of loads in flight per lane
constexpr unsigned kMaxWarps = 8;                // queries per block
constexpr std::size_t kSharedLimit = 48 * 1024;  // default dynamic shared memory per block
constexpr std::size_t kHeapEntry = sizeof(double) + sizeof(std::int64_t);

template <class T>
__global__ void topk_kernel(const T* dots, std::int64_t queries, std::int64_t points, const double* q_norms,
                            const double* x_norms, std::int64_t q_offset, std::int64_t x_offset, bool exclude_self,
                            const std::int64_t* q_labels, const std::int64_t* x_labels, int k, double* dist,
                            std::int64_t* index, bool shared_heap) {
  extern __shared__ double heap_memory[];
  const unsigned warps = blockDim.x / kWarpSize, warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * warps + warp;
  if (r >= queries) return;  // whole warps leave; no block-wide barrier follows
  double* heap_dist = dist + r * k;
  std::int64_t* heap_index = index + r * k;
  if (shared_heap) {
    double* local_dist = heap_memory + static_cast<std::size_t>(warp) * k;
    auto* local_index = reinterpret_cast<std::int64_t*>(heap_memory + static_cast<std::size_t>(warps) * k) +
                        static_cast<std::size_t>(warp) * k;
    for (int j = lane; j < k; j += kWarpSize) {
      local_dist[j] = heap_dist[j];
      local_index[j] = heap_index[j];
    }
    heap_dist = local_dist;
    heap_index = local_index;
    __syncwarp();
  }
  const T* row = dots + r * points;
  const double q_norm = q_norms[r];
  const std::int64_t self = exclude_self ? q_offset + r : -1;
  const std::int64_t q_label = q_labels != nullptr ? q_labels[r] : 0;
  double threshold = heap_dist[0];  // the k-th smallest kept so far (the heap's root)
  for (std::int64_t base = 0; base < points; base += kUnroll * kWarpSize) {
    // Every load of the step first (independent, in flight together), then the distances.
    T dot[kUnroll];
    double x_norm[kUnroll];
    bool eligible[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const std::int64_t j = base + u * kWarpSize + lane;
      const bool inside = j < points;
      dot[u] = inside ? row[j] : T(0);
      x_norm[u] = inside ? x_norms[j] : 0.0;
      eligible[u] = inside && x_offset + j != self && (x_labels == nullptr || x_labels[j] != q_label);
    }
    double d[kUnroll];
    bool any = false;
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const double value = q_norm + x_norm[u] - 2.0 * static_cast<double>(dot[u]);
      d[u] = eligible[u] ? (value > 0.0 ? value : 0.0) : HUGE_VAL;
      any |= d[u] < threshold;
    }
    if (!__any_sync(kFullMask, any)) continue;  // the common case once the heap is full
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      unsigned offers = __ballot_sync(kFullMask, d[u] < threshold);
      while (offers != 0) {  // in increasing point order: lanes of step u, then step u + 1
        const int source = __ffs(offers) - 1;
        offers &= offers - 1;
        const double offered = __shfl_sync(kFullMask, d[u], source);
        if (lane == 0) heap_offer(heap_dist, heap_index, k, offered, x_offset + base + u * kWarpSize + source);
        __syncwarp();
        threshold = heap_dist[0];
        __syncwarp();  // every lane has read the root before lane 0 writes the heap again
      }
    }
  }
  if (shared_heap) {
    for (int j = lane; j < k; j += kWarpSize) {
      dist[r * k + j] = heap_dist[j];
      index[r * k + j] = heap_index[j];
    }
  }
}

template <class T>
__global__ void exact_kernel(const T* points, const T* queries, std::int64_t dims, const std::int64_t* candidates,
                             std::int64_t items, std::int64_t select, double* out) {
  const unsigned lane = threadIdx.x % kWarpSize;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * (blockDim.x / kWarpSize);
  for (std::int64_t i = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarpSize; i < items;
       i += warps) {
    const std::int64_t c = candidates[i];
    if (c < 0) {
      if (lane == 0) out[i] = HUGE_VAL;
      continue;
    }
    const T* x = points + c * dims;
    const T* q = queries + (i / select) * dims;
    double total = 0.0;
    for (std::int64_t j = lane; j < dims; j += kWarpSize) {
      const double d = static_cast<double>(x[j]) - static_cast<double>(q[j]);
      total += d * d;
    }
#pragma unroll
    for (unsigned width = kWarpSize / 2; width > 0; width /= 2) total += __shfl_down_sync(kFullMask, total, width);
    if (lane == 0) out[i] = total;
  }
}

}  // namespace

template <class T>
void exact_squared_distances(const T* points, const T* queries, std::int64_t dims, const std::int64_t* candidates,
                             std::int64_t rows, std::int64_t select, double* out, std::uintptr_t stream) {
  const std::int64_t items = rows * select;
  if (items == 0) return;
  constexpr unsigned threads = 256;
  exact_kernel<T><<<grid_for(static_cast<unsigned long long>(items) * kWarpSize, threads), threads, 0,
                    reinterpret_cast<cudaStream_t>(stream)>>>(points, queries, dims, candidates, items, select, out);
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
  if (k <= 0) throw std::invalid_argument("k: must be positive");
  // As many queries per block as their heaps fit the default shared memory; past one, global memory.
  const std::size_t per_warp = static_cast<std::size_t>(k) * kHeapEntry;
  const bool shared_heap = per_warp <= kSharedLimit;
  const unsigned warps =
      shared_heap ? static_cast<unsigned>(std::min<std::size_t>(kMaxWarps, kSharedLimit / per_warp)) : kMaxWarps;
  const std::size_t shared_bytes = shared_heap ? warps * per_warp : 0;
  const auto grid = static_cast<unsigned>((queries + warps - 1) / warps);
  topk_kernel<T><<<grid, warps * kWarpSize, shared_bytes, reinterpret_cast<cudaStream_t>(stream)>>>(
      dots, queries, points, q_norms, x_norms, q_offset, x_offset, exclude_self, q_labels, x_labels, k, dist, index,
      shared_heap);
  check_launch("topk_tile");
}

template void topk_tile<float>(const float*, std::int64_t, std::int64_t, const double*, const double*, std::int64_t,
                               std::int64_t, bool, const std::int64_t*, const std::int64_t*, int, double*,
                               std::int64_t*, std::uintptr_t);
template void topk_tile<double>(const double*, std::int64_t, std::int64_t, const double*, const double*, std::int64_t,
                                std::int64_t, bool, const std::int64_t*, const std::int64_t*, int, double*,
                                std::int64_t*, std::uintptr_t);

}  // namespace ib::cuda
