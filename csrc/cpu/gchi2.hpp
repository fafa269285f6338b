// CPU evaluation of the generalized chi-squared distribution (see ib/gchi2.hpp).
//   weight, dof, nc: [terms]   x and the outputs: [count]
// method: 0 automatic (Ruben's series when it converges within max_terms, else the inversion of the
// moment generating function, the saddlepoint should that fail), 1 Ruben only (NaN where it does not
// converge), 2 saddlepoint only, 3 inversion only. method_used: 1, 2 or 3 per x.
// Both poll `interrupt` (ib/interrupt.hpp) between x, while Ruben's coefficients are built and
// between the nodes of an inversion, and throw Interrupted when it fired.
#pragma once

#include <cstdint>

#include "ib/interrupt.hpp"

namespace ib::cpu {

void gchi2_evaluate(const double* weight, const double* dof, const double* nc, std::int64_t terms, double offset,
                    const double* x, std::int64_t count, int method, std::int64_t max_terms, double* log_cdf,
                    double* log_sf, double* error, std::int8_t* method_used, int threads,
                    Interrupt& interrupt = Interrupt::never());

// log density at each x (the inversion at the saddlepoint) and its absolute error estimate; NaN
// where the integral could not reach 1e-6 within its budget.
void gchi2_log_pdf(const double* weight, const double* dof, const double* nc, std::int64_t terms, double offset,
                   const double* x, std::int64_t count, double* log_pdf, double* error, int threads,
                   Interrupt& interrupt = Interrupt::never());

}  // namespace ib::cpu
