// Running selection of the k smallest squared distances per query. A tile of inner products
// arrives from BLAS; each element becomes |q|^2 + |x|^2 - 2 q.x (clamped at 0) and enters a bounded
// max-heap [k] kept per query. Pairs are skipped when they are the same point (exclude_self) or
// share a label (labels given: the search for the nearest point of another class). The heap is
// shared with the CUDA kernel; the row scan and the exact distance are the CPU's (the GPU spreads
// both over a warp, csrc/cuda/neighbors.cu, so its exact distances differ in the last bits).
#pragma once

#include <cstdint>

#include "ib/config.hpp"

namespace ib {

// Max-heap on dist[0..k): the root is the largest kept distance. Insert (d, i) if d < root.
IB_HD void heap_offer(double* dist, std::int64_t* index, int k, double d, std::int64_t i) {
  if (!(d < dist[0])) return;
  int node = 0;
  for (;;) {  // sift the new element down from the root
    const int left = 2 * node + 1, right = left + 1;
    int largest = node;
    double largest_d = d;
    if (left < k && dist[left] > largest_d) {
      largest = left;
      largest_d = dist[left];
    }
    if (right < k && dist[right] > largest_d) {
      largest = right;
      largest_d = dist[right];
    }
    if (largest == node) break;
    dist[node] = dist[largest];
    index[node] = index[largest];
    node = largest;
  }
  dist[node] = d;
  index[node] = i;
}

// One query row of a tile. dots(j) = q . x_j at dots[j * stride]; x indices are x_offset + j.
template <class T>
IB_HD void offer_row(const T* dots, std::int64_t stride, std::int64_t count, double q_norm, const double* x_norms,
                     std::int64_t x_offset, std::int64_t self, std::int64_t q_label, const std::int64_t* x_labels,
                     int k, double* dist, std::int64_t* index) {
  for (std::int64_t j = 0; j < count; ++j) {
    const std::int64_t x = x_offset + j;
    if (x == self || (x_labels != nullptr && x_labels[j] == q_label)) continue;
    const double d = q_norm + x_norms[j] - 2.0 * static_cast<double>(dots[j * stride]);
    heap_offer(dist, index, k, d > 0.0 ? d : 0.0, x);
  }
}

// |x - q|^2 accumulated in float64 from the vectors themselves: no cancellation for near-duplicates.
template <class T>
IB_HD double exact_squared_distance(const T* x, const T* q, std::int64_t dims) {
  double total = 0.0;
  for (std::int64_t j = 0; j < dims; ++j) {
    const double d = static_cast<double>(x[j]) - static_cast<double>(q[j]);
    total += d * d;
  }
  return total;
}

}  // namespace ib
