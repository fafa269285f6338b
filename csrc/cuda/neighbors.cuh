// CUDA top-k selection, mirroring csrc/cpu/neighbors.hpp (the tile not transposed):
//   dots: [queries, points] (q . x); q_norms, q_labels: [queries]; x_norms, x_labels: [points]
//   dist, index: [queries, k] running max-heaps, updated in place
//   exact_squared_distances: candidates, out [rows, select]; points [*, dims], queries [rows, dims]
// Device pointers; the caller's stream.
#pragma once

#include <cstdint>

namespace ib::cuda {

template <class T>
void topk_tile(const T* dots, std::int64_t queries, std::int64_t points, const double* q_norms, const double* x_norms,
               std::int64_t q_offset, std::int64_t x_offset, bool exclude_self, const std::int64_t* q_labels,
               const std::int64_t* x_labels, int k, double* dist, std::int64_t* index, std::uintptr_t stream);

template <class T>
void exact_squared_distances(const T* points, const T* queries, std::int64_t dims, const std::int64_t* candidates,
                             std::int64_t rows, std::int64_t select, double* out, std::uintptr_t stream);

}  // namespace ib::cuda
