// CUDA kernels for the scaled ncx2, mirroring csrc/cpu/ncx2.hpp (device pointers, caller's stream).
//   x, out: [n]   elementwise log-density / log-CDF / log-SF
//   samples: [n]  weighted likelihood sums per bootstrap replicate, and the lockstep fit on them
#pragma once

#include <cstdint>
#include <vector>

#include "ib/fit_ncx2.hpp"

namespace ib::cuda {

// function: 0 log-pdf, 1 log-CDF, 2 log-SF
void ncx2_evaluate(int function, const double* x, std::int64_t n, double df, double nc, double scale, double* out,
                   std::uintptr_t stream);

void ncx2_likelihood_sums(const double* samples, std::int64_t n, const Ncx2Params* params,
                          const long long* replicates, std::size_t count, std::uint64_t seed, LikelihoodSums* sums,
                          std::uintptr_t stream);

std::vector<FitOutcome> ncx2_fit(const double* samples, std::int64_t n, const std::vector<Ncx2Params>& start,
                                 const std::vector<long long>& replicates, std::uint64_t seed,
                                 const FitSettings& settings, std::uintptr_t stream);

}  // namespace ib::cuda
