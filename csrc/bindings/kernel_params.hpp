// Kernel parameters from a Python dict, shared by the _native and _native_cuda bindings.
#pragma once

#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "ib/kernels.hpp"

namespace ib::bindings {

inline KernelParams kernel_params(const pybind11::dict& d) {
  KernelParams p;
  for (const auto& item : d) {
    const auto key = item.first.cast<std::string>();
    if (key == "depth") {
      p.depth = item.second.cast<int>();
      continue;
    }
    const double v = item.second.cast<double>();
    if (key == "lengthscale")
      p.lengthscale = v;
    else if (key == "variance")
      p.variance = v;
    else if (key == "gamma")
      p.gamma = v;
    else if (key == "coef0")
      p.coef0 = v;
    else if (key == "degree")
      p.degree = v;
    else if (key == "weight_var")
      p.weight_var = v;
    else if (key == "bias_var")
      p.bias_var = v;
    else if (key == "input_dim")
      p.input_dim = v;
    else
      throw std::invalid_argument("params: unknown kernel parameter '" + key + "'");
  }
  return p;
}

}  // namespace ib::bindings
