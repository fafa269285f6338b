// CPU top-k selection: one query row per task (OpenMP), each row scanned in order, so the heaps do
// not depend on the thread count.
#include "cpu/neighbors.hpp"

#include "ib/topk.hpp"

namespace ib::cpu {

template <class T>
void topk_tile(const T* dots, std::int64_t queries, std::int64_t points, const double* q_norms, const double* x_norms,
               std::int64_t q_offset, std::int64_t x_offset, bool exclude_self, const std::int64_t* q_labels,
               const std::int64_t* x_labels, int k, double* dist, std::int64_t* index, int threads) {
#pragma omp parallel for schedule(static) num_threads(threads) if (queries > 1)
  for (std::int64_t r = 0; r < queries; ++r) {
    offer_row(dots + r * points, 1, points, q_norms[r], x_norms, x_offset, exclude_self ? q_offset + r : -1,
              q_labels != nullptr ? q_labels[r] : 0, x_labels, k, dist + r * k, index + r * k);
  }
}

template void topk_tile<float>(const float*, std::int64_t, std::int64_t, const double*, const double*, std::int64_t,
                               std::int64_t, bool, const std::int64_t*, const std::int64_t*, int, double*,
                               std::int64_t*, int);
template void topk_tile<double>(const double*, std::int64_t, std::int64_t, const double*, const double*, std::int64_t,
                                std::int64_t, bool, const std::int64_t*, const std::int64_t*, int, double*,
                                std::int64_t*, int);

}  // namespace ib::cpu
