// Covariance functions of the kernel hypothesis spaces, per element, shared by the CPU and CUDA
// kernels. Inputs come from a BLAS tile: the inner product x.y and the squared norms |x|^2, |y|^2.
#pragma once

#include <cmath>
#include <cstdint>

#include "ib/config.hpp"

namespace ib {

enum class Kernel : int {
  rbf = 0,
  laplacian = 1,
  matern32 = 2,
  matern52 = 3,
  polynomial = 4,
  linear = 5,
  nngp_relu = 6
};

struct KernelParams {
  double lengthscale = 1.0;                       // rbf, laplacian (= matern12), matern32, matern52
  double variance = 1.0;                          // output scale of the stationary kernels
  double gamma = 1.0, coef0 = 1.0, degree = 3.0;  // polynomial: (gamma x.y + coef0)^degree; linear: x.y + coef0
  double weight_var = 2.0, bias_var = 0.0;        // nngp_relu: sigma_w^2, sigma_b^2
  int depth = 1;                                  // nngp_relu: hidden layers
  double input_dim = 1.0;                         // nngp_relu: first layer scales x.y by sigma_w^2 / d
};

// The default `stop` of kernel_value: never stops.
struct NeverStop {
  IB_HD bool operator()() const { return false; }
};

// One step of the arc-cosine recursion for ReLU: E[relu(u) relu(v)] for (u, v) Gaussian with
// variances kxx, kyy and covariance kxy, times sigma_w^2, plus sigma_b^2.
IB_HD double relu_layer(double kxy, double kxx, double kyy, double weight_var, double bias_var) {
  const double norm = sqrt(kxx * kyy);
  if (!(norm > 0.0)) return bias_var;
  double c = kxy / norm;
  c = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
  const double theta = acos(c);
  return bias_var +
         weight_var * norm * (sin(theta) + (3.14159265358979323846 - theta) * c) / (2.0 * 3.14159265358979323846);
}

// stop() is polled before every 4096 layers of the nngp_relu recursion (a depth near 2^31 takes a
// minute per element): when it returns true the recursion ends early and the caller discards the
// value.
template <class Stop = NeverStop>
IB_HD double kernel_value(Kernel kind, const KernelParams& p, double dot, double norm_x, double norm_y,
                          Stop stop = Stop()) {
  switch (kind) {
    case Kernel::polynomial:
      return pow(p.gamma * dot + p.coef0, p.degree);
    case Kernel::linear:
      return dot + p.coef0;
    case Kernel::nngp_relu: {
      double kxy = p.bias_var + p.weight_var * dot / p.input_dim;
      double kxx = p.bias_var + p.weight_var * norm_x / p.input_dim;
      double kyy = p.bias_var + p.weight_var * norm_y / p.input_dim;
      for (int layer = 0; layer < p.depth; ++layer) {
        if ((layer & 4095) == 0 && stop()) break;
        kxy = relu_layer(kxy, kxx, kyy, p.weight_var, p.bias_var);
        kxx = p.bias_var + 0.5 * p.weight_var * kxx;  // the diagonal: theta = 0
        kyy = p.bias_var + 0.5 * p.weight_var * kyy;
      }
      return kxy;
    }
    default: {
      const double squared = norm_x + norm_y - 2.0 * dot;
      const double r = sqrt(squared > 0.0 ? squared : 0.0) / p.lengthscale;
      switch (kind) {
        case Kernel::rbf:
          return p.variance * exp(-0.5 * r * r);
        case Kernel::laplacian:
          return p.variance * exp(-r);
        case Kernel::matern32:
          return p.variance * (1.0 + 1.7320508075688772 * r) * exp(-1.7320508075688772 * r);
        default:
          return p.variance * (1.0 + 2.2360679774997896 * r + 5.0 / 3.0 * r * r) * exp(-2.2360679774997896 * r);
      }
    }
  }
}

}  // namespace ib
