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

// a b - c^2 with the rounding of c^2 recovered by fma (Kahan's 2x2 determinant), clamped at 0: the
// Gram determinant kxx kyy - kxy^2 of nearly parallel inputs, where forming it loses every digit.
IB_HD double gram_determinant(double a, double b, double c) {
  const double square = c * c;
  const double d = fma(a, b, -square) - fma(c, c, -square);
  return d > 0.0 ? d : 0.0;
}

// sin(t) - t cos(t) >= 0 for t in [0, pi]; by its series below 0.01, where the difference cancels.
IB_HD double sin_minus_t_cos(double t) {
  if (t < 0.01) {
    const double t2 = t * t;
    return t * t2 * (1.0 / 3.0 - t2 * (1.0 / 30.0 - t2 / 840.0));
  }
  return sin(t) - t * cos(t);
}

// The ReLU NTK's derivative factor (pi - theta) / (2 pi) depends on theta linearly, and acos(c) loses
// half the digits of theta for nearly parallel inputs (c near 1); theta = atan2(sqrt(det), kxy) keeps
// them when det = kxx kyy - kxy^2 is carried through the layers without cancellation. relu_determinant
// gives the next layer's det: with a = weight_var / 2, J = sin(theta) + (pi - theta) cos(theta) and
// 1 - J / pi = (pi (1 - cos theta) - (sin theta - theta cos theta)) / pi, every term is >= 0:
// det' = a b ((sqrt kxx - sqrt kyy)^2 + 2 norm (1 - J/pi)) + a^2 norm^2 (1 - J/pi) (1 + J/pi).
IB_HD double relu_theta(double kxy, double det) { return atan2(sqrt(det), kxy); }

IB_HD double relu_determinant(double kxx, double kyy, double theta, double weight_var, double bias_var) {
  const double a = 0.5 * weight_var;
  const double norm = sqrt(kxx * kyy);
  if (!(norm > 0.0)) return a * bias_var * (kxx + kyy) + a * a * kxx * kyy;  // the next kxy is bias_var
  const double half = sin(0.5 * theta);
  const double gap = (2.0 * kPi * half * half - sin_minus_t_cos(theta)) / kPi;  // 1 - J / pi
  const double root = sqrt(kxx) - sqrt(kyy);
  return a * bias_var * (root * root + 2.0 * norm * gap) + a * a * norm * norm * gap * (2.0 - gap);
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
  // The ReLU NTK's Gram determinant kxx kyy - kxy^2 (see relu_determinant); the NNGP does not need it
  // (its value depends on theta only to second order near 0) and stays as it was.
  const bool exact_angle = ntk && !erf;
  double det = 0.0;
  if (exact_angle) {
    const double c = p.weight_var / p.input_dim;
    const double distance = norm_x + norm_y - 2.0 * dot;  // |x - y|^2
    det = p.bias_var * c * (distance > 0.0 ? distance : 0.0) + c * c * gram_determinant(norm_x, norm_y, dot);
  }
  for (int layer = 0; layer < p.depth; ++layer) {
    if ((layer & 4095) == 0 && stop()) break;
    LayerStep xy =
        erf ? erf_layer(kxy, kxx, kyy, p.weight_var, p.bias_var) : relu_layer(kxy, kxx, kyy, p.weight_var, p.bias_var);
    if (exact_angle) {
      const double angle = relu_theta(kxy, det);
      if (sqrt(kxx * kyy) > 0.0) xy.kdot = (kPi - angle) / (2.0 * kPi);
      det = relu_determinant(kxx, kyy, angle, p.weight_var, p.bias_var);
    }
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
