// CPU Philox streams: uniform 32-bit words and Box-Muller normals (see ib/normal.hpp).
// Each output element is a pure function of (seed, stream, index), so the result is the same for
// any thread count or chunking; the chunk loops are vectorized through IB_TARGET_CLONES.
#include "cpu/random.hpp"

#include <algorithm>

#include "ib/normal.hpp"
#include "ib/philox.hpp"

namespace ib::cpu {
namespace {

constexpr std::uint64_t kChunkBlocks = 4096;  // blocks per task: big enough to amortize dispatch

// Blocks [first, last) of one substream; block b holds stream words 4b .. 4b+3 and `out` receives
// the words from `offset` on. Blocks wholly inside the output go through the vectorized loop,
// the (at most two) partial blocks at the ends are written lane by lane.
IB_TARGET_CLONES
void uint32_chunk(std::uint32_t* out, std::uint64_t n, std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                  std::uint64_t first, std::uint64_t last) {
  // Interior blocks lie wholly inside [offset, offset + n).
  const std::uint64_t inner_first = std::max(first, (offset + 3) / 4);
  const std::uint64_t inner_last = std::max(inner_first, std::min(last, (offset + n) / 4));
  std::uint32_t* inner_out = out + (4 * inner_first - offset);
  // A signed index: GCC does not vectorize loops whose induction variable is uint64_t.
#pragma omp simd
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(inner_last - inner_first); ++i) {
    const Philox4x32 r = philox_block(seed, stream, inner_first + static_cast<std::uint64_t>(i));
    std::uint32_t* dst = inner_out + 4 * i;
    dst[0] = r.v[0];
    dst[1] = r.v[1];
    dst[2] = r.v[2];
    dst[3] = r.v[3];
  }
  const auto partial_block = [&](std::uint64_t b) {
    const Philox4x32 r = philox_block(seed, stream, b);
    for (std::uint64_t lane = 0; lane < 4; ++lane) {
      const std::uint64_t word = 4 * b + lane;
      if (word >= offset && word - offset < n) out[word - offset] = r.v[lane];
    }
  };
  for (std::uint64_t b = first; b < std::min(inner_first, last); ++b) partial_block(b);
  for (std::uint64_t b = inner_last; b < last; ++b) partial_block(b);
}

template <class T>
IB_TARGET_CLONES void normal_chunk(T* out, std::uint64_t n, std::uint64_t seed, std::uint64_t stream,
                                   std::uint64_t offset, std::uint64_t first, std::uint64_t last) {
  const std::uint64_t inner_first = std::max(first, (offset + 1) / 2);
  const std::uint64_t inner_last = std::max(inner_first, std::min(last, (offset + n) / 2));
  T* inner_out = out + (2 * inner_first - offset);
#pragma omp simd
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(inner_last - inner_first); ++i) {
    double z0, z1;
    box_muller(philox_block(seed, stream, inner_first + static_cast<std::uint64_t>(i)), z0, z1);
    T* dst = inner_out + 2 * i;
    dst[0] = static_cast<T>(z0);
    dst[1] = static_cast<T>(z1);
  }
  const auto partial_block = [&](std::uint64_t b) {
    double z[2];
    box_muller(philox_block(seed, stream, b), z[0], z[1]);
    for (std::uint64_t lane = 0; lane < 2; ++lane) {
      const std::uint64_t index = 2 * b + lane;
      if (index >= offset && index - offset < n) out[index - offset] = static_cast<T>(z[lane]);
    }
  };
  for (std::uint64_t b = first; b < std::min(inner_first, last); ++b) partial_block(b);
  for (std::uint64_t b = inner_last; b < last; ++b) partial_block(b);
}

// Runs chunk(out_row, stream, first_block, last_block) over every substream and block range.
template <class Chunk>
void for_each_chunk(std::uint64_t n_streams, std::uint64_t n, std::uint64_t offset, std::uint64_t words_per_block,
                    int threads, Interrupt& interrupt, Chunk chunk) {
  if (n == 0 || n_streams == 0) return;
  const std::uint64_t first_block = offset / words_per_block;
  const std::uint64_t blocks = (offset + n - 1) / words_per_block - first_block + 1;
  const std::uint64_t chunks_per_stream = (blocks + kChunkBlocks - 1) / kChunkBlocks;
  const std::int64_t tasks = static_cast<std::int64_t>(n_streams * chunks_per_stream);
  // A task is up to kChunkBlocks blocks (~50 us); tasks of short substreams are polled in groups.
  const std::int64_t tasks_per_poll =
      Interrupt::items_per_poll(static_cast<std::int64_t>(std::min(blocks, kChunkBlocks) * words_per_block));
#pragma omp parallel for schedule(static) num_threads(threads) if (tasks > 1)
  for (std::int64_t task = 0; task < tasks; ++task) {
    if (interrupt.poll_every(task, tasks_per_poll)) continue;
    const std::uint64_t s = static_cast<std::uint64_t>(task) / chunks_per_stream;
    const std::uint64_t c = static_cast<std::uint64_t>(task) % chunks_per_stream;
    const std::uint64_t first = first_block + c * kChunkBlocks;
    const std::uint64_t last = std::min(first + kChunkBlocks, first_block + blocks);
    chunk(s, first, last);
  }
  interrupt.throw_if_stopped();
}

}  // namespace

void fill_uint32(std::uint32_t* out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed,
                 std::uint64_t first_stream, std::uint64_t offset, int threads, Interrupt& interrupt) {
  for_each_chunk(n_streams, n, offset, 4, threads, interrupt,
                 [&](std::uint64_t s, std::uint64_t first, std::uint64_t last) {
                   uint32_chunk(out + s * n, n, seed, first_stream + s, offset, first, last);
                 });
}

template <class T>
void fill_normal(T* out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed, std::uint64_t first_stream,
                 std::uint64_t offset, int threads, Interrupt& interrupt) {
  for_each_chunk(n_streams, n, offset, 2, threads, interrupt,
                 [&](std::uint64_t s, std::uint64_t first, std::uint64_t last) {
                   normal_chunk<T>(out + s * n, n, seed, first_stream + s, offset, first, last);
                 });
}

template void fill_normal<float>(float*, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, int,
                                 Interrupt&);
template void fill_normal<double>(double*, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                  int, Interrupt&);

}  // namespace ib::cpu
