// CPU Philox streams. Substream s of the output is stream `first_stream + s` (mod 2^64).
//   out: [n_streams, n]   out[s, j] = word / normal (offset + j) of that substream
// Both poll `interrupt` between chunks of 4096 blocks and throw Interrupted when it fired.
#pragma once

#include <cstdint>

#include "ib/interrupt.hpp"

namespace ib::cpu {

void fill_uint32(std::uint32_t* out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed,
                 std::uint64_t first_stream, std::uint64_t offset, int threads,
                 Interrupt& interrupt = Interrupt::never());

template <class T>
void fill_normal(T* out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed, std::uint64_t first_stream,
                 std::uint64_t offset, int threads, Interrupt& interrupt = Interrupt::never());

}  // namespace ib::cpu
