// CUDA kernels for the scaled ncx2: the per-element math of ib/ncx2.hpp, one thread per element;
// the likelihood reduction over (replicate = blockIdx.y, groups of four samples = grid-stride x),
// one Philox block giving the four samples' bootstrap weights. Each block writes its partial sums
// (a fixed-order tree in shared memory) and a second kernel adds the blocks' partials in block
// order: no atomics, so the sums do not depend on timing and fits are reproducible run to run.
#include <algorithm>
#include <stdexcept>

#include "cuda/check.cuh"
#include "cuda/ncx2.cuh"
#include "ib/bootstrap.hpp"
#include "ib/ncx2.hpp"

namespace ib::cuda {
namespace {

constexpr unsigned kThreads = 128;
constexpr int kStats = 11;             // value, grad[3], hess[6], weight
constexpr unsigned kMaxBlocks = 1024;  // blocks per replicate: enough to fill a GPU for one replicate
constexpr unsigned kMaxRows = 65535;   // grid.y limit

__global__ void evaluate_kernel(int function, const double* x, std::int64_t n, double df, double nc, double scale,
                                double* out) {
  const double log_scale = log(scale);
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const double y = x[i] / scale;
    if (function == 0) {
      out[i] = ncx2_log_pdf(y, df, nc, log_scale);
    } else {
      double log_cdf, log_sf;
      ncx2_log_cdf_sf(y, df, nc, log_cdf, log_sf);
      out[i] = function == 1 ? log_cdf : log_sf;
    }
  }
}

// partials: [rows, gridDim.x, kStats]. Four blocks per multiprocessor: 128 registers (148 uncapped),
// at the cost of a 4-byte spill; the series in the likelihood terms need warps to hide their latency.
__global__ void __launch_bounds__(kThreads, 4)
    likelihood_kernel(const double* samples, std::int64_t n, const Ncx2Params* params, const long long* replicates,
                      std::uint64_t seed, double* partials) {
  __shared__ double partial[kStats][kThreads];
  const Ncx2Params p = params[blockIdx.y];
  const auto replicate = static_cast<std::uint64_t>(replicates[blockIdx.y]);
  double local[kStats] = {};
  const std::int64_t groups = (n + 3) / 4;
  for (std::int64_t g = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; g < groups;
       g += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    double w[4];
    bootstrap_weights4(seed, replicate, static_cast<std::uint64_t>(g), w);
#pragma unroll 1  // one copy of the (large) likelihood terms; the weight is selected, not indexed
    for (int lane = 0; lane < 4; ++lane) {
      const std::int64_t i = 4 * g + lane;
      const double weight = lane == 0 ? w[0] : lane == 1 ? w[1] : lane == 2 ? w[2] : w[3];
      if (i >= n || weight == 0.0) continue;
      const LikelihoodTerms t = ncx2_likelihood_terms(samples[i], p.df, p.nc, p.scale);
      local[0] += weight * t.value;
#pragma unroll
      for (int k = 0; k < 3; ++k) local[1 + k] += weight * t.grad[k];
#pragma unroll
      for (int k = 0; k < 6; ++k) local[4 + k] += weight * t.hess[k];
      local[10] += weight;
    }
  }
#pragma unroll
  for (int k = 0; k < kStats; ++k) partial[k][threadIdx.x] = local[k];
  __syncthreads();
  for (unsigned width = kThreads / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) {
#pragma unroll
      for (int k = 0; k < kStats; ++k) partial[k][threadIdx.x] += partial[k][threadIdx.x + width];
    }
    __syncthreads();
  }
  if (threadIdx.x < kStats) {
    partials[(static_cast<std::int64_t>(blockIdx.y) * gridDim.x + blockIdx.x) * kStats + threadIdx.x] =
        partial[threadIdx.x][0];
  }
}

// sums[r, s] = sum over b, in order, of partials[r, b, s]: one thread per (replicate, statistic).
__global__ void finish_kernel(const double* partials, unsigned blocks, std::int64_t items, double* sums) {
  for (std::int64_t item = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; item < items;
       item += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t row = item / kStats, stat = item % kStats;
    const double* from = partials + row * blocks * kStats + stat;
    double total = 0.0;
    for (unsigned b = 0; b < blocks; ++b) total += from[static_cast<std::int64_t>(b) * kStats];
    sums[item] = total;
  }
}

unsigned blocks_per_replicate(std::int64_t n) {
  return std::min(grid_for(static_cast<unsigned long long>((n + 3) / 4), kThreads), kMaxBlocks);
}

std::size_t aligned(std::size_t bytes) { return (bytes + 255) / 256 * 256; }

// The caller's scratch memory (CuPy's pool), carved into the buffers of one likelihood pass.
struct Workspace {
  Ncx2Params* params;
  long long* replicates;
  double* partials;
  double* sums;

  Workspace(void* base, std::size_t bytes, std::int64_t n, std::size_t count) {
    if (bytes < ncx2_workspace_bytes(n, count)) throw std::invalid_argument("workspace: too small for this call");
    auto* at = static_cast<char*>(base);
    params = reinterpret_cast<Ncx2Params*>(at);
    at += aligned(count * sizeof(Ncx2Params));
    replicates = reinterpret_cast<long long*>(at);
    at += aligned(count * sizeof(long long));
    sums = reinterpret_cast<double*>(at);
    at += aligned(count * kStats * sizeof(double));
    partials = reinterpret_cast<double*>(at);
  }
};

void likelihood_sums(const Workspace& work, const double* samples, std::int64_t n, const Ncx2Params* params,
                     const long long* replicates, std::size_t count, std::uint64_t seed, LikelihoodSums* sums,
                     cudaStream_t stream) {
  if (count == 0) return;
  check(cudaMemcpyAsync(work.params, params, count * sizeof(Ncx2Params), cudaMemcpyHostToDevice, stream),
        "cudaMemcpyAsync");
  check(cudaMemcpyAsync(work.replicates, replicates, count * sizeof(long long), cudaMemcpyHostToDevice, stream),
        "cudaMemcpyAsync");
  const unsigned blocks_x = blocks_per_replicate(n);
  for (std::size_t first = 0; first < count; first += kMaxRows) {
    const auto rows = static_cast<unsigned>(std::min<std::size_t>(count - first, kMaxRows));
    likelihood_kernel<<<dim3(blocks_x, rows), kThreads, 0, stream>>>(
        samples, n, work.params + first, work.replicates + first, seed, work.partials + first * blocks_x * kStats);
    check_launch("ncx2 likelihood");
  }
  const auto items = static_cast<std::int64_t>(count) * kStats;
  finish_kernel<<<grid_for(static_cast<unsigned long long>(items), kThreads), kThreads, 0, stream>>>(
      work.partials, blocks_x, items, work.sums);
  check_launch("ncx2 likelihood (block sums)");
  std::vector<double> host(static_cast<std::size_t>(items));
  check(cudaMemcpyAsync(host.data(), work.sums, host.size() * sizeof(double), cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");  // the optimizer needs the sums now
  for (std::size_t r = 0; r < count; ++r) {
    const double* row = host.data() + r * kStats;
    sums[r].value = row[0];
    for (int k = 0; k < 3; ++k) sums[r].grad[k] = row[1 + k];
    for (int k = 0; k < 6; ++k) sums[r].hess[k] = row[4 + k];
    sums[r].weight = row[10];
  }
}

}  // namespace

std::size_t ncx2_workspace_bytes(std::int64_t n, std::size_t count) {
  return aligned(count * sizeof(Ncx2Params)) + aligned(count * sizeof(long long)) +
         aligned(count * kStats * sizeof(double)) + count * blocks_per_replicate(n) * kStats * sizeof(double);
}

void ncx2_evaluate(int function, const double* x, std::int64_t n, double df, double nc, double scale, double* out,
                   std::uintptr_t stream) {
  if (n == 0) return;
  evaluate_kernel<<<grid_for(static_cast<unsigned long long>(n), kThreads), kThreads, 0,
                    reinterpret_cast<cudaStream_t>(stream)>>>(function, x, n, df, nc, scale, out);
  check_launch("ncx2 evaluate");
}

void ncx2_likelihood_sums(const double* samples, std::int64_t n, const Ncx2Params* params, const long long* replicates,
                          std::size_t count, std::uint64_t seed, LikelihoodSums* sums, void* workspace,
                          std::size_t workspace_bytes, std::uintptr_t stream) {
  const Workspace work(workspace, workspace_bytes, n, count);
  likelihood_sums(work, samples, n, params, replicates, count, seed, sums, reinterpret_cast<cudaStream_t>(stream));
}

std::vector<FitOutcome> ncx2_fit(const double* samples, std::int64_t n, const std::vector<Ncx2Params>& start,
                                 const std::vector<long long>& replicates, std::uint64_t seed,
                                 const FitSettings& settings, void* workspace, std::size_t workspace_bytes,
                                 std::uintptr_t stream, Interrupt& interrupt) {
  const Workspace work(workspace, workspace_bytes, n, start.size());  // later passes use fewer rows
  // The host loop polls between passes (each waits for its sums), so Ctrl-C ends a long bootstrap.
  const auto evaluate = [&](const Ncx2Params* params, const long long* reps, std::size_t count, LikelihoodSums* sums) {
    if (interrupt.poll()) throw Interrupted();
    likelihood_sums(work, samples, n, params, reps, count, seed, sums, reinterpret_cast<cudaStream_t>(stream));
  };
  return fit_ncx2_lockstep(evaluate, start, replicates, settings);
}

}  // namespace ib::cuda
