// Poisson bootstrap weights: replicate b gives sample i the weight Poisson(1) drawn from word i of
// Philox substream b (replicate 0 is the original sample, all weights 1). Independent weights,
// unlike multinomial resampling, need no shared state, so every thread and device computes any
// weight on its own; the bootstrap distribution is the same to first order.
#pragma once

#include <cstdint>

#include "ib/config.hpp"
#include "ib/philox.hpp"

namespace ib {

// floor(2^32 P(Poisson(1) <= k)) for k = 0..11, from
//   mpmath (dps=50): [int(floor(2**32 * fsum(e**-1 / factorial(i) for i in range(k + 1)))) for k in range(12)]
// The mass above 11 (8e-10) goes to 12.
IB_HD std::uint32_t poisson1_threshold(int k) {
  constexpr std::uint32_t kThresholds[12] = {1580030168u, 3160060337u, 3950075421u, 4213413783u,
                                             4279248373u, 4292415291u, 4294609777u, 4294923276u,
                                             4294962463u, 4294966817u, 4294967252u, 4294967292u};
  return kThresholds[k];
}

IB_HD double bootstrap_weight(std::uint64_t seed, std::uint64_t replicate, std::uint64_t index) {
  if (replicate == 0) return 1.0;
  const Philox4x32 block = philox_block(seed, replicate, index / 4);
  const std::uint32_t u = block.v[index % 4];
  int k = 0;
  while (k < 12 && u >= poisson1_threshold(k)) ++k;
  return static_cast<double>(k);
}

}  // namespace ib
