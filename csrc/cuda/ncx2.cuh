// CUDA kernels for the scaled ncx2, mirroring csrc/cpu/ncx2.hpp (device pointers, caller's stream).
//   x, out: [n]   elementwise log-density / log-CDF / log-SF
//   samples: [n]  weighted likelihood sums per bootstrap replicate, and the lockstep fit on them
//   workspace: ncx2_workspace_bytes(n, count) bytes of device memory from the caller (CuPy's pool)
#pragma once

#include <cstdint>
#include <vector>

#include "ib/fit_ncx2.hpp"
#include "ib/interrupt.hpp"

namespace ib::cuda {

// function: 0 log-pdf, 1 log-CDF, 2 log-SF
void ncx2_evaluate(int function, const double* x, std::int64_t n, double df, double nc, double scale, double* out,
                   std::uintptr_t stream);

// Scratch bytes for `count` replicates of `n` samples (a lockstep fit needs it for its start count).
std::size_t ncx2_workspace_bytes(std::int64_t n, std::size_t count);

void ncx2_likelihood_sums(const double* samples, std::int64_t n, const Ncx2Params* params, const long long* replicates,
                          std::size_t count, std::uint64_t seed, LikelihoodSums* sums, void* workspace,
                          std::size_t workspace_bytes, std::uintptr_t stream);

std::vector<FitOutcome> ncx2_fit(const double* samples, std::int64_t n, const std::vector<Ncx2Params>& start,
                                 const std::vector<long long>& replicates, std::uint64_t seed,
                                 const FitSettings& settings, void* workspace, std::size_t workspace_bytes,
                                 std::uintptr_t stream, Interrupt& interrupt);

}  // namespace ib::cuda
