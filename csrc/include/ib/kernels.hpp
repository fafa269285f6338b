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
  nngp_relu = 6,
  ntk_relu = 7,
  nngp_erf = 8,
  ntk_erf = 9
};

// The kernels of infinitely wide MLPs (input Dense, then `depth` x (activation, Dense)), computed by a
// recursion over the layers.
IB_HD bool is_network_kernel(Kernel kind) {
  return kind == Kernel::nngp_relu || kind == Kernel::ntk_relu || kind == Kernel::nngp_erf || kind == Kernel::ntk_erf;
}

struct KernelParams {
  double lengthscale = 1.0;                       // rbf, laplacian (= matern12), matern32, matern52
  double variance = 1.0;                          // output scale of the stationary kernels
  double gamma = 1.0, coef0 = 1.0, degree = 3.0;  // polynomial: (gamma x.y + coef0)^degree; linear: x.y + coef0
  double weight_var = 2.0, bias_var = 0.0;        // network kernels: sigma_w^2, sigma_b^2
  int depth = 1;                                  // network kernels: hidden layers
  double input_dim = 1.0;                         // network kernels: first layer scales x.y by sigma_w^2 / d
};

// The default `stop` of kernel_value: never stops.
struct NeverStop {
  IB_HD bool operator()() const { return false; }
};

// One layer of a network kernel for (u, v) Gaussian with variances kxx, kyy and covariance kxy:
// the next covariance sigma_b^2 + sigma_w^2 E[phi(u) phi(v)] and the derivative factor
// E[phi'(u) phi'(v)] that multiplies sigma_w^2 times the incoming NTK (neural-tangents' conventions:
// no factor 2 in either; weight_var = 2 is the He scaling of ReLU).
struct LayerStep {
  double k, kdot;
};

constexpr double kPi = 3.14159265358979323846;

// ReLU: the arc-cosine kernel of degree 1 and its degree-0 counterpart (pi - theta) / (2 pi).
IB_HD LayerStep relu_layer(double kxy, double kxx, double kyy, double weight_var, double bias_var) {
  const double norm = sqrt(kxx * kyy);
  // A zero-variance input is exactly 0 in every network, where relu'(0) = 0 (as in JAX and PyTorch).
  if (!(norm > 0.0)) return {bias_var, 0.0};
  double c = kxy / norm;
  c = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
  const double theta = acos(c);
  return {bias_var + weight_var * norm * (sin(theta) + (kPi - theta) * c) / (2.0 * kPi), (kPi - theta) / (2.0 * kPi)};
}

// erf: E[erf(u) erf(v)] = 2/pi asin(2 kxy / sqrt((1 + 2 kxx)(1 + 2 kyy))) and, with erf' = 2/sqrt(pi)
// exp(-x^2), E[erf'(u) erf'(v)] = 4/pi / sqrt((1 + 2 kxx)(1 + 2 kyy) - 4 kxy^2).
IB_HD LayerStep erf_layer(double kxy, double kxx, double kyy, double weight_var, double bias_var) {
  const double outer = (1.0 + 2.0 * kxx) * (1.0 + 2.0 * kyy);
  double s = 2.0 * kxy / sqrt(outer);
  s = s > 1.0 ? 1.0 : (s < -1.0 ? -1.0 : s);
  const double det = outer - 4.0 * kxy * kxy;
  // det >= 1 + 2 (kxx + kyy) >= 1 by Cauchy-Schwarz; rounding cannot bring it near 0.
  return {bias_var + weight_var * 2.0 / kPi * asin(s), 4.0 / kPi / sqrt(det > 1.0 ? det : 1.0)};
}

// The NNGP kernel (ntk = false) or the neural tangent kernel (ntk = true) of the MLP, by the
// recursion K^1 = Theta^1 = sigma_w^2 x.y / d + sigma_b^2, K^{l+1} = step(K^l).k,
// Theta^{l+1} = K^{l+1} + sigma_w^2 step(K^l).kdot Theta^l. The diagonal follows the same steps.
template <class Stop>
IB_HD double network_kernel(bool erf, bool ntk, const KernelParams& p, double dot, double norm_x, double norm_y,
                            Stop& stop) {
  double kxy = p.bias_var + p.weight_var * dot / p.input_dim;
  double kxx = p.bias_var + p.weight_var * norm_x / p.input_dim;
  double kyy = p.bias_var + p.weight_var * norm_y / p.input_dim;
  double theta = kxy;
  for (int layer = 0; layer < p.depth; ++layer) {
    if ((layer & 4095) == 0 && stop()) break;
    const LayerStep xy =
        erf ? erf_layer(kxy, kxx, kyy, p.weight_var, p.bias_var) : relu_layer(kxy, kxx, kyy, p.weight_var, p.bias_var);
    if (erf) {
      kxx = erf_layer(kxx, kxx, kxx, p.weight_var, p.bias_var).k;
      kyy = erf_layer(kyy, kyy, kyy, p.weight_var, p.bias_var).k;
    } else {  // the diagonal: theta = 0
      kxx = p.bias_var + 0.5 * p.weight_var * kxx;
      kyy = p.bias_var + 0.5 * p.weight_var * kyy;
    }
    theta = xy.k + p.weight_var * xy.kdot * theta;
    kxy = xy.k;
  }
  return ntk ? theta : kxy;
}

// stop() is polled before every 4096 layers of the network kernels' recursion (a depth near 2^31
// takes a minute per element): when it returns true the recursion ends early and the caller
// discards the value.
template <class Stop = NeverStop>
IB_HD double kernel_value(Kernel kind, const KernelParams& p, double dot, double norm_x, double norm_y,
                          Stop stop = Stop()) {
  switch (kind) {
    case Kernel::polynomial:
      return pow(p.gamma * dot + p.coef0, p.degree);
    case Kernel::linear:
      return dot + p.coef0;
    case Kernel::nngp_relu:
      return network_kernel(false, false, p, dot, norm_x, norm_y, stop);
    case Kernel::ntk_relu:
      return network_kernel(false, true, p, dot, norm_x, norm_y, stop);
    case Kernel::nngp_erf:
      return network_kernel(true, false, p, dot, norm_x, norm_y, stop);
    case Kernel::ntk_erf:
      return network_kernel(true, true, p, dot, norm_x, norm_y, stop);
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
