// CPU kernels for the scaled non-central chi-squared distribution (see ib/ncx2.hpp).
//   x, out: [n]                      elementwise log-density / log-CDF / log-SF
//   samples: [n]; params: [count]    weighted likelihood sums per bootstrap replicate
// Each polls `interrupt` (ib/interrupt.hpp) between chunks of elements and throws Interrupted when
// it fired, leaving the outputs partly written.
#pragma once

#include <cstdint>
#include <vector>

#include "ib/fit_ncx2.hpp"
#include "ib/interrupt.hpp"

namespace ib::cpu {

enum class Ncx2Function { log_pdf, log_cdf, log_sf };

void ncx2_evaluate(Ncx2Function function, const double* x, std::int64_t n, double df, double nc, double scale,
                   double* out, int threads, Interrupt& interrupt = Interrupt::never());

// sums[i] = sum_j w_j * ncx2_likelihood_terms(samples[j], params[i]) with w_j the Poisson bootstrap
// weight of sample j in replicate replicates[i] (1 for replicate 0). Fixed chunking: the result
// does not depend on the thread count.
void ncx2_likelihood_sums(const double* samples, std::int64_t n, const Ncx2Params* params, const long long* replicates,
                          std::size_t count, std::uint64_t seed, LikelihoodSums* sums, int threads,
                          Interrupt& interrupt = Interrupt::never());

std::vector<FitOutcome> ncx2_fit(const double* samples, std::int64_t n, const std::vector<Ncx2Params>& start,
                                 const std::vector<long long>& replicates, std::uint64_t seed,
                                 const FitSettings& settings, int threads, Interrupt& interrupt = Interrupt::never());

}  // namespace ib::cpu
