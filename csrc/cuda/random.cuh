// CUDA Philox streams, mirroring csrc/cpu/random.hpp. Pointers are device pointers; `stream` is
// the caller's cudaStream_t as an integer. Launch errors raise std::runtime_error.
//   out: [n_streams, n]   out[s, j] = word / normal (offset + j) of substream first_stream + s
#pragma once

#include <cstdint>

namespace ib::cuda {

void fill_uint32(std::uint32_t* out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed,
                 std::uint64_t first_stream, std::uint64_t offset, std::uintptr_t stream);

template <class T>
void fill_normal(T* out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed, std::uint64_t first_stream,
                 std::uint64_t offset, std::uintptr_t stream);

}  // namespace ib::cuda
