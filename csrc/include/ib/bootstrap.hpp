// Poisson bootstrap weights: replicate b gives sample i the weight Poisson(1) drawn from word i of
// Philox substream b (replicate 0 is the original sample, all weights 1). Independent weights,
// unlike multinomial resampling, need no shared state, so every thread and device computes any
// weight on its own; the bootstrap distribution is the same to first order.
#pragma once

#include <cstdint>

#include "ib/config.hpp"
#include "ib/philox.hpp"

namespace ib {

// Poisson(1) from one uniform word: the number of thresholds floor(2^32 P(Poisson(1) <= k)),
// k = 0..11, at or below u. Thresholds from
//   mpmath (dps=50): [int(floor(2**32 * fsum(e**-1 / factorial(i) for i in range(k + 1)))) for k in range(12)]
// The mass above 11 (8e-10) goes to 12. Compares against constants only: no table in memory, which
// on a GPU would sit in local memory.
IB_HD double poisson1_from_word(std::uint32_t u) {
  return static_cast<double>((u >= 1580030168u) + (u >= 3160060337u) + (u >= 3950075421u) + (u >= 4213413783u) +
                             (u >= 4279248373u) + (u >= 4292415291u) + (u >= 4294609777u) + (u >= 4294923276u) +
                             (u >= 4294962463u) + (u >= 4294966817u) + (u >= 4294967252u) + (u >= 4294967292u));
}

// Weights of samples 4 g .. 4 g + 3 from one Philox block (all four words used).
IB_HD void bootstrap_weights4(std::uint64_t seed, std::uint64_t replicate, std::uint64_t group, double w[4]) {
  if (replicate == 0) {
    w[0] = w[1] = w[2] = w[3] = 1.0;
    return;
  }
  const Philox4x32 block = philox_block(seed, replicate, group);
  w[0] = poisson1_from_word(block.v[0]);
  w[1] = poisson1_from_word(block.v[1]);
  w[2] = poisson1_from_word(block.v[2]);
  w[3] = poisson1_from_word(block.v[3]);
}

IB_HD double bootstrap_weight(std::uint64_t seed, std::uint64_t replicate, std::uint64_t index) {
  double w[4];
  bootstrap_weights4(seed, replicate, index / 4, w);
  const unsigned lane = static_cast<unsigned>(index % 4);
  return lane == 0 ? w[0] : lane == 1 ? w[1] : lane == 2 ? w[2] : w[3];
}

}  // namespace ib
