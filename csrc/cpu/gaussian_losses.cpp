// CPU loss reductions: one hypothesis per task, float64 accumulation in a fixed order, so a loss
// does not depend on the thread count, the batch it was computed in, or the machine's vector width.
#include "cpu/gaussian_losses.hpp"

#include "ib/config.hpp"
#include "ib/losses.hpp"

namespace ib::cpu {
namespace {

constexpr int kLanes = 8;  // independent partial sums: vectorizable and still a fixed order

template <class T>
IB_TARGET_CLONES double sum_squared_residuals(const T* products, const double* shift, std::int64_t n) {
  double partial[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int lane = 0; lane < kLanes; ++lane) partial[lane] += squared_residual(products[i + lane], shift[i + lane]);
  }
  for (; i < n; ++i) partial[i % kLanes] += squared_residual(products[i], shift[i]);
  double total = 0.0;
  for (int lane = 0; lane < kLanes; ++lane) total += partial[lane];
  return total;
}

}  // namespace

template <class T>
void mse_losses(const T* products, const double* shift, std::int64_t batch, std::int64_t k, std::int64_t t, T* losses,
                int threads, Interrupt& interrupt) {
  const std::int64_t entries = k * t;
  const std::int64_t per_poll = Interrupt::items_per_poll(entries);
#pragma omp parallel for schedule(static) num_threads(threads) if (batch > 1)
  for (std::int64_t b = 0; b < batch; ++b) {
    if (interrupt.poll_every(b, per_poll)) continue;
    losses[b] =
        static_cast<T>(sum_squared_residuals(products + b * entries, shift, entries) / static_cast<double>(entries));
  }
  interrupt.throw_if_stopped();
}

template <class T>
void error_losses(const T* products, const double* mean_t, const std::int64_t* labels, std::int64_t batch,
                  std::int64_t k, std::int64_t t, T* losses, int threads, Interrupt& interrupt) {
  const std::int64_t per_poll = Interrupt::items_per_poll(k * t);
#pragma omp parallel for schedule(static) num_threads(threads) if (batch > 1)
  for (std::int64_t b = 0; b < batch; ++b) {
    if (interrupt.poll_every(b, per_poll)) continue;
    const T* hypothesis = products + b * k * t;
    std::int64_t wrong = 0;
    for (std::int64_t j = 0; j < t; ++j) wrong += predicted_class(hypothesis, mean_t, k, t, j) != labels[j];
    losses[b] = static_cast<T>(static_cast<double>(wrong) / static_cast<double>(t));
  }
  interrupt.throw_if_stopped();
}

template void mse_losses<float>(const float*, const double*, std::int64_t, std::int64_t, std::int64_t, float*, int,
                                Interrupt&);
template void mse_losses<double>(const double*, const double*, std::int64_t, std::int64_t, std::int64_t, double*, int,
                                 Interrupt&);
template void error_losses<float>(const float*, const double*, const std::int64_t*, std::int64_t, std::int64_t,
                                  std::int64_t, float*, int, Interrupt&);
template void error_losses<double>(const double*, const double*, const std::int64_t*, std::int64_t, std::int64_t,
                                   std::int64_t, double*, int, Interrupt&);

}  // namespace ib::cpu
