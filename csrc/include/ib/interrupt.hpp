// Cooperative interruption of long native loops (house rule 9: Ctrl-C works). Host code only, no
// dependency: the bindings give an Interrupt a check (for Python: re-acquire the GIL, run
// PyErr_CheckSignals) and pass it down; the loops poll it.
//
//   Interrupt interrupt(check, context);   // on the thread that runs the work (the OpenMP master)
//   #pragma omp parallel for ...
//   for (chunk ...) { if (interrupt.poll()) continue; ...work of ~10 us or more... }
//   interrupt.throw_if_stopped();           // never return partial results
//
// poll() on the thread that built the Interrupt runs the check at most once per kPeriod of wall
// time (one clock read per poll in between); on every other thread it is one relaxed atomic load
// of the stop flag, so OpenMP workers skip their remaining chunks within a chunk of the stop.
// A check that takes long (the GIL held by another Python thread: up to its 5 ms switch interval)
// spaces the next ones out to kCostFactor times its duration, up to kMaxPeriod, so checks never
// cost more than ~1 / kCostFactor of the work.
// Once the check says stop, poll() returns true everywhere and the work ends with Interrupted,
// which the bindings turn into the pending Python exception (KeyboardInterrupt).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <thread>

namespace ib {

// Thrown by interrupted work after its loops have wound down (never from inside a parallel region).
struct Interrupted : std::exception {
  const char* what() const noexcept override { return "interrupted"; }
};

class Interrupt {
 public:
  // check(context): true when the work must stop. Called only on the constructing thread.
  using Check = bool (*)(void* context);
  using Clock = std::chrono::steady_clock;
  // Wall time between checks: the latency of Ctrl-C is about this plus one chunk of work.
  static constexpr std::chrono::milliseconds kPeriod{10}, kMaxPeriod{250};
  static constexpr int kCostFactor = 20;

  // An Interrupt that never fires (the default of every kernel's parameter).
  Interrupt() = default;
  Interrupt(Check check, void* context)
      : check_(check), context_(context), owner_(std::this_thread::get_id()), next_check_(Clock::now() + kPeriod) {}
  Interrupt(const Interrupt&) = delete;
  Interrupt& operator=(const Interrupt&) = delete;

  // True once the work must stop. Cheap: call it once per chunk of work, from any thread.
  bool poll() {
    if (stop_.load(std::memory_order_relaxed)) return true;
    if (check_ == nullptr || std::this_thread::get_id() != owner_) return false;
    const Clock::time_point now = Clock::now();
    if (now < next_check_) return false;
    const bool stop = check_(context_);
    const Clock::time_point done = Clock::now();
    next_check_ = done + std::clamp<Clock::duration>((done - now) * kCostFactor, kPeriod, kMaxPeriod);
    if (stop) stop_.store(true, std::memory_order_relaxed);
    return stop;
  }

  bool stopped() const { return stop_.load(std::memory_order_relaxed); }

  // For loops of small items: poll() on every `every`-th item, the stop flag alone on the others.
  // `every` is a power of two (items_per_poll gives one): a mask, no division, per item.
  bool poll_every(std::int64_t item, std::int64_t every) { return (item & (every - 1)) == 0 ? poll() : stopped(); }

  // Items per poll, a power of two, so that one poll covers about kPollWork elementary operations
  // (a clock read then costs well under 1% of the work), for items of `work_per_item` operations.
  static constexpr std::int64_t kPollWork = 1 << 14;
  static std::int64_t items_per_poll(std::int64_t work_per_item) {
    std::int64_t items = 1;
    while (items < kPollWork && items * work_per_item < kPollWork) items *= 2;
    return items;
  }

  // After a loop: end the work (no partial result leaves it) when a stop was requested.
  void throw_if_stopped() const {
    if (stopped()) throw Interrupted();
  }

  // The shared Interrupt that never fires. Its poll() touches no state: safe from every thread.
  static Interrupt& never() {
    static Interrupt instance;
    return instance;
  }

 private:
  Check check_ = nullptr;
  void* context_ = nullptr;
  std::thread::id owner_;
  Clock::time_point next_check_{};
  std::atomic<bool> stop_{false};
};

}  // namespace ib
