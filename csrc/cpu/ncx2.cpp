// CPU kernels for the scaled ncx2: OpenMP over elements, and the likelihood reduction over
// (replicate, chunk of samples) tasks summed in chunk order.
#include "cpu/ncx2.hpp"

#include <algorithm>

#include "ib/bootstrap.hpp"
#include "ib/ncx2.hpp"

namespace ib::cpu {

void ncx2_evaluate(Ncx2Function function, const double* x, std::int64_t n, double df, double nc, double scale,
                   double* out, int threads, Interrupt& interrupt) {
  constexpr std::int64_t kBlock = 256;  // elements per task and per poll (~0.1 ms of log-CDFs)
  const double log_scale = std::log(scale);
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(dynamic) num_threads(threads) if (blocks > 1)
  for (std::int64_t block = 0; block < blocks; ++block) {
    if (interrupt.poll()) continue;
    const std::int64_t end = std::min(n, (block + 1) * kBlock);
    for (std::int64_t i = block * kBlock; i < end; ++i) {
      const double y = x[i] / scale;
      if (function == Ncx2Function::log_pdf) {
        out[i] = ncx2_log_pdf(y, df, nc, log_scale);
      } else {
        double log_cdf, log_sf;
        ncx2_log_cdf_sf(y, df, nc, log_cdf, log_sf);
        out[i] = function == Ncx2Function::log_cdf ? log_cdf : log_sf;
      }
    }
  }
  interrupt.throw_if_stopped();
}

namespace {
constexpr std::int64_t kChunk = 1024;

void accumulate(LikelihoodSums& sums, const LikelihoodTerms& terms, double weight) {
  sums.value += weight * terms.value;
  for (int k = 0; k < 3; ++k) sums.grad[k] += weight * terms.grad[k];
  for (int k = 0; k < 6; ++k) sums.hess[k] += weight * terms.hess[k];
  sums.weight += weight;
}

void add(LikelihoodSums& into, const LikelihoodSums& part) {
  into.value += part.value;
  for (int k = 0; k < 3; ++k) into.grad[k] += part.grad[k];
  for (int k = 0; k < 6; ++k) into.hess[k] += part.hess[k];
  into.weight += part.weight;
}
}  // namespace

void ncx2_likelihood_sums(const double* samples, std::int64_t n, const Ncx2Params* params, const long long* replicates,
                          std::size_t count, std::uint64_t seed, LikelihoodSums* sums, int threads,
                          Interrupt& interrupt) {
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
  const std::int64_t tasks = static_cast<std::int64_t>(count) * chunks;
  std::vector<LikelihoodSums> partial(static_cast<std::size_t>(tasks));
  // A task: up to kChunk samples of one replicate, ~100 ns per sample (a log-Bessel and its derivatives).
  const std::int64_t tasks_per_poll = Interrupt::items_per_poll(std::min(n, kChunk) * 64);
#pragma omp parallel for schedule(dynamic) num_threads(threads) if (tasks > 1)
  for (std::int64_t task = 0; task < tasks; ++task) {
    if (interrupt.poll_every(task, tasks_per_poll)) continue;
    const std::size_t r = static_cast<std::size_t>(task / chunks);
    const std::int64_t begin = (task % chunks) * kChunk, end = std::min(n, begin + kChunk);
    const Ncx2Params p = params[r];
    const auto replicate = static_cast<std::uint64_t>(replicates[r]);
    LikelihoodSums local;
    for (std::int64_t group = begin / 4; group * 4 < end; ++group) {  // kChunk is a multiple of 4
      double weights[4];
      bootstrap_weights4(seed, replicate, static_cast<std::uint64_t>(group), weights);
      for (int lane = 0; lane < 4 && group * 4 + lane < end; ++lane) {
        const std::int64_t i = group * 4 + lane;
        if (weights[lane] == 0.0) continue;
        accumulate(local, ncx2_likelihood_terms(samples[i], p.df, p.nc, p.scale), weights[lane]);
      }
    }
    partial[static_cast<std::size_t>(task)] = local;
  }
  interrupt.throw_if_stopped();
  for (std::size_t r = 0; r < count; ++r) {
    sums[r] = LikelihoodSums();
    for (std::int64_t c = 0; c < chunks; ++c) add(sums[r], partial[r * chunks + c]);
  }
}

std::vector<FitOutcome> ncx2_fit(const double* samples, std::int64_t n, const std::vector<Ncx2Params>& start,
                                 const std::vector<long long>& replicates, std::uint64_t seed,
                                 const FitSettings& settings, int threads, Interrupt& interrupt) {
  // An interrupted pass throws out of the lockstep iteration (between passes, nothing else is slow).
  // The poll here, on the calling thread, also serves passes too small for the one in the reduction
  // (which polls from whichever thread runs its first task): a bootstrap of a few samples runs
  // max_iterations (up to 2^31) such passes.
  const auto evaluate = [&](const Ncx2Params* params, const long long* reps, std::size_t count, LikelihoodSums* sums) {
    if (interrupt.poll()) throw Interrupted();
    ncx2_likelihood_sums(samples, n, params, reps, count, seed, sums, threads, interrupt);
  };
  return fit_ncx2_lockstep(evaluate, start, replicates, settings);
}

}  // namespace ib::cpu
