// Error checks for CUDA calls and launches: raise, never abort.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace ib::cuda {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
  }
}

inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// Grid size for a grid-stride loop over `items` with `threads` per block.
inline unsigned grid_for(unsigned long long items, unsigned threads) {
  const unsigned long long blocks = (items + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535ull * 16 ? (blocks > 0 ? blocks : 1) : 65535ull * 16);
}

}  // namespace ib::cuda
