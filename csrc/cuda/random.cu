// CUDA Philox streams: the same per-block math as csrc/cpu/random.cpp (ib/normal.hpp), one thread
// per Philox block in a grid-stride loop. Built with --fmad=false so normals match the CPU bitwise.
#include "cuda/check.cuh"
#include "cuda/random.cuh"
#include "ib/normal.hpp"
#include "ib/philox.hpp"

namespace ib::cuda {
namespace {

constexpr unsigned kThreads = 256;

// Thread item i -> (substream s, block b); blocks of a substream run from offset / per_block to
// (offset + n - 1) / per_block.
struct BlockRange {
  std::uint64_t first, count;
  __host__ __device__ BlockRange(std::uint64_t n, std::uint64_t offset, std::uint64_t per_block)
      : first(offset / per_block), count((offset + n - 1) / per_block - offset / per_block + 1) {}
};

__global__ void uint32_kernel(std::uint32_t* out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed,
                              std::uint64_t first_stream, std::uint64_t offset) {
  const BlockRange range(n, offset, 4);
  const std::uint64_t items = n_streams * range.count;
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; i < items;
       i += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    const std::uint64_t s = i / range.count, b = range.first + i % range.count;
    const Philox4x32 r = philox_block(seed, first_stream + s, b);
    std::uint32_t* row = out + s * n;
    for (std::uint64_t lane = 0; lane < 4; ++lane) {
      const std::uint64_t word = 4 * b + lane;
      if (word >= offset && word - offset < n) row[word - offset] = r.v[lane];
    }
  }
}

template <class T>
__global__ void normal_kernel(T* out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed,
                              std::uint64_t first_stream, std::uint64_t offset) {
  const BlockRange range(n, offset, 2);
  const std::uint64_t items = n_streams * range.count;
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; i < items;
       i += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    const std::uint64_t s = i / range.count, b = range.first + i % range.count;
    double z[2];
    box_muller(philox_block(seed, first_stream + s, b), z[0], z[1]);
    T* row = out + s * n;
    for (std::uint64_t lane = 0; lane < 2; ++lane) {
      const std::uint64_t index = 2 * b + lane;
      if (index >= offset && index - offset < n) row[index - offset] = static_cast<T>(z[lane]);
    }
  }
}

}  // namespace

void fill_uint32(std::uint32_t* out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed,
                 std::uint64_t first_stream, std::uint64_t offset, std::uintptr_t stream) {
  if (n == 0 || n_streams == 0) return;
  const unsigned grid = grid_for(n_streams * BlockRange(n, offset, 4).count, kThreads);
  uint32_kernel<<<grid, kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(out, n_streams, n, seed, first_stream,
                                                                               offset);
  check_launch("fill_uint32");
}

template <class T>
void fill_normal(T* out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed, std::uint64_t first_stream,
                 std::uint64_t offset, std::uintptr_t stream) {
  if (n == 0 || n_streams == 0) return;
  const unsigned grid = grid_for(n_streams * BlockRange(n, offset, 2).count, kThreads);
  normal_kernel<T>
      <<<grid, kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(out, n_streams, n, seed, first_stream, offset);
  check_launch("fill_normal");
}

template void fill_normal<float>(float*, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                 std::uintptr_t);
template void fill_normal<double>(double*, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                  std::uintptr_t);

}  // namespace ib::cuda
