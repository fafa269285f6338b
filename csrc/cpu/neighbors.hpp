// CPU top-k selection over a tile of inner products (see ib/topk.hpp).
//   dots:     [queries, points] row-major (q . x), or [points, queries] when transposed
//   q_norms:  [queries], x_norms: [points]   squared norms, float64
//   q_labels: [queries], x_labels: [points]  or null (then labels are ignored)
//   dist, index: [queries, k]                running heaps, updated in place
// Query r has global index q_offset + r (for exclude_self); point j has x_offset + j.
// Both poll `interrupt` between rows and throw Interrupted when it fired (outputs partly updated).
#pragma once

#include <cstdint>

#include "ib/interrupt.hpp"

namespace ib::cpu {

template <class T>
void topk_tile(const T* dots, bool transposed, std::int64_t queries, std::int64_t points, const double* q_norms,
               const double* x_norms, std::int64_t q_offset, std::int64_t x_offset, bool exclude_self,
               const std::int64_t* q_labels, const std::int64_t* x_labels, int k, double* dist, std::int64_t* index,
               int threads, Interrupt& interrupt = Interrupt::never());

// out[r, s] = |points[candidates[r, s]] - queries[r]|^2 in float64 (inf where the candidate is -1).
//   points: [n, dims], queries: [rows, dims], candidates and out: [rows, select]
template <class T>
void exact_squared_distances(const T* points, const T* queries, std::int64_t dims, const std::int64_t* candidates,
                             std::int64_t rows, std::int64_t select, double* out, int threads,
                             Interrupt& interrupt = Interrupt::never());

}  // namespace ib::cpu
