// CPU top-k selection: one query row per task (OpenMP), each row scanned in order, so the heaps do
// not depend on the thread count.
#include "cpu/neighbors.hpp"

#include <cmath>

#include "ib/topk.hpp"

namespace ib::cpu {

template <class T>
void topk_tile(const T* dots, bool transposed, std::int64_t queries, std::int64_t points, const double* q_norms,
               const double* x_norms, std::int64_t q_offset, std::int64_t x_offset, bool exclude_self,
               const std::int64_t* q_labels, const std::int64_t* x_labels, int k, double* dist, std::int64_t* index,
               int threads, Interrupt& interrupt) {
  // A transposed tile is the other half of a symmetric product: row r is column r, read with stride.
  const std::int64_t row_step = transposed ? 1 : points, stride = transposed ? queries : 1;
  const std::int64_t rows_per_poll = Interrupt::items_per_poll(points);
#pragma omp parallel for schedule(static) num_threads(threads) if (queries > 1)
  for (std::int64_t r = 0; r < queries; ++r) {
    if (interrupt.poll_every(r, rows_per_poll)) continue;
    offer_row(dots + r * row_step, stride, points, q_norms[r], x_norms, x_offset, exclude_self ? q_offset + r : -1,
              q_labels != nullptr ? q_labels[r] : 0, x_labels, k, dist + r * k, index + r * k);
  }
  interrupt.throw_if_stopped();
}

template <class T>
void exact_squared_distances(const T* points, const T* queries, std::int64_t dims, const std::int64_t* candidates,
                             std::int64_t rows, std::int64_t select, double* out, int threads, Interrupt& interrupt) {
  const std::int64_t rows_per_poll = Interrupt::items_per_poll(select * dims);
#pragma omp parallel for schedule(static) num_threads(threads) if (rows > 1)
  for (std::int64_t r = 0; r < rows; ++r) {
    if (interrupt.poll_every(r, rows_per_poll)) continue;
    for (std::int64_t s = 0; s < select; ++s) {
      const std::int64_t c = candidates[r * select + s];
      out[r * select + s] = c < 0 ? HUGE_VAL : exact_squared_distance(points + c * dims, queries + r * dims, dims);
    }
  }
  interrupt.throw_if_stopped();
}

template void exact_squared_distances<float>(const float*, const float*, std::int64_t, const std::int64_t*,
                                             std::int64_t, std::int64_t, double*, int, Interrupt&);
template void exact_squared_distances<double>(const double*, const double*, std::int64_t, const std::int64_t*,
                                              std::int64_t, std::int64_t, double*, int, Interrupt&);

template void topk_tile<float>(const float*, bool, std::int64_t, std::int64_t, const double*, const double*,
                               std::int64_t, std::int64_t, bool, const std::int64_t*, const std::int64_t*, int, double*,
                               std::int64_t*, int, Interrupt&);
template void topk_tile<double>(const double*, bool, std::int64_t, std::int64_t, const double*, const double*,
                                std::int64_t, std::int64_t, bool, const std::int64_t*, const std::int64_t*, int,
                                double*, std::int64_t*, int, Interrupt&);

}  // namespace ib::cpu
