// CUDA kernels for the scaled ncx2: the per-element math of ib/ncx2.hpp, one thread per element;
// the likelihood reduction over (replicate = blockIdx.y, samples = grid-stride x) with a shared-
// memory block sum per statistic and one double atomicAdd per block and statistic.
#include <algorithm>

#include "cuda/check.cuh"
#include "cuda/ncx2.cuh"
#include "ib/bootstrap.hpp"
#include "ib/ncx2.hpp"

namespace ib::cuda {
namespace {

constexpr unsigned kThreads = 128;
constexpr int kStats = 11;  // value, grad[3], hess[6], weight

__global__ void evaluate_kernel(int function, const double* x, std::int64_t n, double df, double nc, double scale,
                                double* out) {
  const double log_scale = log(scale);
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const double y = x[i] / scale;
    if (function == 0) {
      out[i] = y > 0.0 && y < HUGE_VAL ? ncx2_density_moments(y, df, nc).log_pdf - log_scale : neg_inf();
    } else {
      double log_cdf, log_sf;
      ncx2_log_cdf_sf(y, df, nc, log_cdf, log_sf);
      out[i] = function == 1 ? log_cdf : log_sf;
    }
  }
}

__global__ void likelihood_kernel(const double* samples, std::int64_t n, const Ncx2Params* params,
                                  const long long* replicates, std::uint64_t seed, double* sums) {
  __shared__ double partial[kStats][kThreads];
  const Ncx2Params p = params[blockIdx.y];
  const auto replicate = static_cast<std::uint64_t>(replicates[blockIdx.y]);
  double local[kStats] = {};
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const double weight = bootstrap_weight(seed, replicate, static_cast<std::uint64_t>(i));
    if (weight == 0.0) continue;
    const LikelihoodTerms t = ncx2_likelihood_terms(samples[i], p.df, p.nc, p.scale);
    local[0] += weight * t.value;
    for (int k = 0; k < 3; ++k) local[1 + k] += weight * t.grad[k];
    for (int k = 0; k < 6; ++k) local[4 + k] += weight * t.hess[k];
    local[10] += weight;
  }
  for (int k = 0; k < kStats; ++k) partial[k][threadIdx.x] = local[k];
  __syncthreads();
  for (unsigned width = kThreads / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) {
      for (int k = 0; k < kStats; ++k) partial[k][threadIdx.x] += partial[k][threadIdx.x + width];
    }
    __syncthreads();
  }
  if (threadIdx.x < kStats) atomicAdd(&sums[blockIdx.y * kStats + threadIdx.x], partial[threadIdx.x][0]);
}

// Device buffers of one lockstep fit, reused across its iterations.
struct LikelihoodBuffers {
  Ncx2Params* params = nullptr;
  long long* replicates = nullptr;
  double* sums = nullptr;
  std::size_t capacity = 0;

  void reserve(std::size_t count) {
    if (count <= capacity) return;
    release();
    check(cudaMalloc(&params, count * sizeof(Ncx2Params)), "cudaMalloc");
    check(cudaMalloc(&replicates, count * sizeof(long long)), "cudaMalloc");
    check(cudaMalloc(&sums, count * kStats * sizeof(double)), "cudaMalloc");
    capacity = count;
  }
  void release() {
    cudaFree(params);
    cudaFree(replicates);
    cudaFree(sums);
    params = nullptr;
    replicates = nullptr;
    sums = nullptr;
    capacity = 0;
  }
  ~LikelihoodBuffers() { release(); }
};

void likelihood_sums(LikelihoodBuffers& buffers, const double* samples, std::int64_t n, const Ncx2Params* params,
                     const long long* replicates, std::size_t count, std::uint64_t seed, LikelihoodSums* sums,
                     cudaStream_t stream) {
  if (count == 0) return;
  buffers.reserve(count);
  check(cudaMemcpyAsync(buffers.params, params, count * sizeof(Ncx2Params), cudaMemcpyHostToDevice, stream),
        "cudaMemcpyAsync");
  check(cudaMemcpyAsync(buffers.replicates, replicates, count * sizeof(long long), cudaMemcpyHostToDevice, stream),
        "cudaMemcpyAsync");
  check(cudaMemsetAsync(buffers.sums, 0, count * kStats * sizeof(double), stream), "cudaMemsetAsync");
  const unsigned blocks_x = std::min(grid_for(static_cast<unsigned long long>(n), kThreads), 1024u);
  for (std::size_t first = 0; first < count; first += 65535) {  // grid.y limit
    const auto rows = static_cast<unsigned>(count - first < 65535 ? count - first : 65535);
    likelihood_kernel<<<dim3(blocks_x, rows), kThreads, 0, stream>>>(samples, n, buffers.params + first,
                                                                     buffers.replicates + first, seed,
                                                                     buffers.sums + first * kStats);
    check_launch("ncx2 likelihood");
  }
  std::vector<double> host(count * kStats);
  check(cudaMemcpyAsync(host.data(), buffers.sums, host.size() * sizeof(double), cudaMemcpyDeviceToHost, stream),
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

void ncx2_evaluate(int function, const double* x, std::int64_t n, double df, double nc, double scale, double* out,
                   std::uintptr_t stream) {
  if (n == 0) return;
  evaluate_kernel<<<grid_for(static_cast<unsigned long long>(n), kThreads), kThreads, 0,
                    reinterpret_cast<cudaStream_t>(stream)>>>(function, x, n, df, nc, scale, out);
  check_launch("ncx2 evaluate");
}

void ncx2_likelihood_sums(const double* samples, std::int64_t n, const Ncx2Params* params,
                          const long long* replicates, std::size_t count, std::uint64_t seed, LikelihoodSums* sums,
                          std::uintptr_t stream) {
  LikelihoodBuffers buffers;
  likelihood_sums(buffers, samples, n, params, replicates, count, seed, sums, reinterpret_cast<cudaStream_t>(stream));
}

std::vector<FitOutcome> ncx2_fit(const double* samples, std::int64_t n, const std::vector<Ncx2Params>& start,
                                 const std::vector<long long>& replicates, std::uint64_t seed,
                                 const FitSettings& settings, std::uintptr_t stream) {
  LikelihoodBuffers buffers;
  const auto evaluate = [&](const Ncx2Params* params, const long long* reps, std::size_t count, LikelihoodSums* sums) {
    likelihood_sums(buffers, samples, n, params, reps, count, seed, sums, reinterpret_cast<cudaStream_t>(stream));
  };
  return fit_ncx2_lockstep(evaluate, start, replicates, settings);
}

}  // namespace ib::cuda
