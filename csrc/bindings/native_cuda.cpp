// pybind11 module `_native_cuda`: the CUDA kernels. Arrays arrive as device pointers (integers)
// with sizes, allocated and validated by the Python layer; `stream` is the caller's CUDA stream
// (CuPy: cupy.cuda.get_current_stream().ptr).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "bindings/interrupt.hpp"
#include "bindings/kernel_params.hpp"
#include "bindings/ncx2_fit_bindings.hpp"
#include "cuda/check.cuh"
#include "cuda/gaussian_losses.cuh"
#include "cuda/kernels.cuh"
#include "cuda/ncx2.cuh"
#include "cuda/neighbors.cuh"
#include "cuda/random.cuh"

namespace py = pybind11;

namespace {

template <class T>
T* device_pointer(std::uintptr_t address) {
  return reinterpret_cast<T*>(address);
}

// (usable devices, why none): with a driver older than this static runtime, or none at all, the
// count is 0 and the message says why (e.g. "CUDA driver version is insufficient for CUDA runtime
// version").
py::tuple device_status() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the error so later calls start clean
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    return py::make_tuple(0, std::string(cudaGetErrorString(status)) + "; driver supports CUDA " +
                                 std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10) +
                                 ", this build's runtime is CUDA " + std::to_string(runtime / 1000) + "." +
                                 std::to_string(runtime % 1000 / 10));
  }
  return py::make_tuple(count, count > 0 ? "" : "no CUDA device");
}

void fill_normal(std::uintptr_t out, const std::string& dtype, std::uint64_t n_streams, std::uint64_t n,
                 std::uint64_t seed, std::uint64_t first_stream, std::uint64_t offset, std::uintptr_t stream) {
  py::gil_scoped_release release;
  if (dtype == "float32") {
    ib::cuda::fill_normal(device_pointer<float>(out), n_streams, n, seed, first_stream, offset, stream);
  } else if (dtype == "float64") {
    ib::cuda::fill_normal(device_pointer<double>(out), n_streams, n, seed, first_stream, offset, stream);
  } else {
    throw std::invalid_argument("dtype: expected float32 or float64, got " + dtype);
  }
}

template <class T>
void gaussian_losses_typed(const std::string& loss, std::uintptr_t products, std::uintptr_t offset,
                           std::uintptr_t labels, std::uintptr_t losses, std::int64_t batch, std::int64_t k,
                           std::int64_t t, std::uintptr_t stream) {
  if (loss == "mse") {
    ib::cuda::mse_losses(device_pointer<const T>(products), device_pointer<const double>(offset), batch, k, t,
                         device_pointer<T>(losses), stream);
  } else if (loss == "error") {
    ib::cuda::error_losses(device_pointer<const T>(products), device_pointer<const double>(offset),
                           device_pointer<const std::int64_t>(labels), batch, k, t, device_pointer<T>(losses), stream);
  } else {
    throw std::invalid_argument("loss: unknown loss '" + loss + "'");
  }
}

// products: [batch, k, t]; offset: [k, t] float64; labels: [t] int64 (ignored for "mse"); losses: [batch]
void gaussian_losses(const std::string& loss, const std::string& dtype, std::uintptr_t products, std::uintptr_t offset,
                     std::uintptr_t labels, std::uintptr_t losses, std::int64_t batch, std::int64_t k, std::int64_t t,
                     std::uintptr_t stream) {
  if (batch < 0 || k <= 0 || t <= 0) throw std::invalid_argument("batch, k and t must be positive");
  if (batch == 0) return;
  py::gil_scoped_release release;
  if (dtype == "float32") {
    gaussian_losses_typed<float>(loss, products, offset, labels, losses, batch, k, t, stream);
  } else if (dtype == "float64") {
    gaussian_losses_typed<double>(loss, products, offset, labels, losses, batch, k, t, stream);
  } else {
    throw std::invalid_argument("dtype: expected float32 or float64, got " + dtype);
  }
}

int ncx2_function_code(const std::string& function) {
  if (function == "logpdf") return 0;
  if (function == "logcdf") return 1;
  if (function == "logsf") return 2;
  throw std::invalid_argument("function: unknown '" + function + "'");
}

// samples: device pointer to [n] float64; params [count, 3] and replicates [count] on the host.
py::array_t<double> ncx2_likelihood(std::uintptr_t samples, std::int64_t n,
                                    const py::array_t<double, py::array::c_style>& params,
                                    const py::array_t<long long, py::array::c_style>& replicates, std::uint64_t seed,
                                    std::uintptr_t workspace, std::size_t workspace_bytes, std::uintptr_t stream) {
  const auto p = ib::bindings::params_from(params);
  const auto reps = ib::bindings::replicates_from(replicates, p.size());
  std::vector<ib::LikelihoodSums> sums(p.size());
  {
    py::gil_scoped_release release;
    ib::cuda::ncx2_likelihood_sums(device_pointer<const double>(samples), n, p.data(), reps.data(), p.size(), seed,
                                   sums.data(), device_pointer<void>(workspace), workspace_bytes, stream);
  }
  return ib::bindings::sums_to_array(sums);
}

py::tuple ncx2_fit(std::uintptr_t samples, std::int64_t n, const py::array_t<double, py::array::c_style>& start,
                   const py::array_t<long long, py::array::c_style>& replicates, std::uint64_t seed, bool fix_nc_zero,
                   int max_iterations, double relative_tolerance, std::uintptr_t workspace, std::size_t workspace_bytes,
                   std::uintptr_t stream) {
  const auto p = ib::bindings::params_from(start);
  const auto reps = ib::bindings::replicates_from(replicates, p.size());
  const auto settings = ib::bindings::settings_from(fix_nc_zero, max_iterations, relative_tolerance);
  std::vector<ib::FitOutcome> outcomes;
  ib::bindings::interruptible([&](ib::Interrupt& interrupt) {
    outcomes = ib::cuda::ncx2_fit(device_pointer<const double>(samples), n, p, reps, seed, settings,
                                  device_pointer<void>(workspace), workspace_bytes, stream, interrupt);
  });
  return ib::bindings::outcomes_to_tuple(outcomes);
}

}  // namespace

PYBIND11_MODULE(_native_cuda, m) {
  m.doc() = "inductive-bias CUDA kernels";
  py::module_::import("inductive_bias._native");  // registers ib::Kernel, which kernel_tile takes
  m.def("device_status", &device_status, "(usable CUDA devices, why none) as this module's static runtime sees them.");
  m.def("ncx2_workspace_bytes", &ib::cuda::ncx2_workspace_bytes, py::arg("n"), py::arg("count"),
        "Device scratch bytes that ncx2_likelihood / ncx2_fit need for `count` replicates of `n` samples.");
  m.def(
      "fill_uint32",
      [](std::uintptr_t out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed, std::uint64_t first_stream,
         std::uint64_t offset, std::uintptr_t stream) {
        py::gil_scoped_release release;
        ib::cuda::fill_uint32(device_pointer<std::uint32_t>(out), n_streams, n, seed, first_stream, offset, stream);
      },
      py::arg("out"), py::arg("n_streams"), py::arg("n"), py::arg("seed"), py::arg("first_stream"), py::arg("offset"),
      py::arg("stream"));
  m.def("fill_normal", &fill_normal, py::arg("out"), py::arg("dtype"), py::arg("n_streams"), py::arg("n"),
        py::arg("seed"), py::arg("first_stream"), py::arg("offset"), py::arg("stream"));
  m.def("gaussian_losses", &gaussian_losses, py::arg("loss"), py::arg("dtype"), py::arg("products"), py::arg("offset"),
        py::arg("labels"), py::arg("losses"), py::arg("batch"), py::arg("k"), py::arg("t"), py::arg("stream"));
  m.def(
      "ncx2_function",
      [](const std::string& function, std::uintptr_t x, std::uintptr_t out, std::int64_t n, double df, double nc,
         double scale, std::uintptr_t stream) {
        const int code = ncx2_function_code(function);
        py::gil_scoped_release release;
        ib::cuda::ncx2_evaluate(code, device_pointer<const double>(x), n, df, nc, scale, device_pointer<double>(out),
                                stream);
      },
      py::arg("function"), py::arg("x"), py::arg("out"), py::arg("n"), py::arg("df"), py::arg("nc"), py::arg("scale"),
      py::arg("stream"));
  m.def("ncx2_likelihood", &ncx2_likelihood, py::arg("samples"), py::arg("n"), py::arg("params"), py::arg("replicates"),
        py::arg("seed"), py::arg("workspace"), py::arg("workspace_bytes"), py::arg("stream"));
  m.def("ncx2_fit", &ncx2_fit, py::arg("samples"), py::arg("n"), py::arg("start"), py::arg("replicates"),
        py::arg("seed"), py::arg("fix_nc_zero"), py::arg("max_iterations"), py::arg("relative_tolerance"),
        py::arg("workspace"), py::arg("workspace_bytes"), py::arg("stream"));
  m.def(
      "topk_tile",
      [](const std::string& dtype, std::uintptr_t dots, std::int64_t queries, std::int64_t points,
         std::uintptr_t q_norms, std::uintptr_t x_norms, std::int64_t q_offset, std::int64_t x_offset,
         bool exclude_self, std::uintptr_t q_labels, std::uintptr_t x_labels, int k, std::uintptr_t dist,
         std::uintptr_t index, std::uintptr_t stream) {
        py::gil_scoped_release release;
        const auto* ql = device_pointer<const std::int64_t>(q_labels);
        const auto* xl = device_pointer<const std::int64_t>(x_labels);
        if (dtype == "float32") {
          ib::cuda::topk_tile(device_pointer<const float>(dots), queries, points, device_pointer<const double>(q_norms),
                              device_pointer<const double>(x_norms), q_offset, x_offset, exclude_self, ql, xl, k,
                              device_pointer<double>(dist), device_pointer<std::int64_t>(index), stream);
        } else if (dtype == "float64") {
          ib::cuda::topk_tile(device_pointer<const double>(dots), queries, points,
                              device_pointer<const double>(q_norms), device_pointer<const double>(x_norms), q_offset,
                              x_offset, exclude_self, ql, xl, k, device_pointer<double>(dist),
                              device_pointer<std::int64_t>(index), stream);
        } else {
          throw std::invalid_argument("dtype: expected float32 or float64, got " + dtype);
        }
      },
      py::arg("dtype"), py::arg("dots"), py::arg("queries"), py::arg("points"), py::arg("q_norms"), py::arg("x_norms"),
      py::arg("q_offset"), py::arg("x_offset"), py::arg("exclude_self"), py::arg("q_labels"), py::arg("x_labels"),
      py::arg("k"), py::arg("dist"), py::arg("index"), py::arg("stream"));
  m.def(
      "exact_squared_distances",
      [](const std::string& dtype, std::uintptr_t points, std::uintptr_t queries, std::int64_t dims,
         std::uintptr_t candidates, std::int64_t rows, std::int64_t select, std::uintptr_t out, std::uintptr_t stream) {
        py::gil_scoped_release release;
        if (dtype == "float32") {
          ib::cuda::exact_squared_distances(device_pointer<const float>(points), device_pointer<const float>(queries),
                                            dims, device_pointer<const std::int64_t>(candidates), rows, select,
                                            device_pointer<double>(out), stream);
        } else if (dtype == "float64") {
          ib::cuda::exact_squared_distances(device_pointer<const double>(points), device_pointer<const double>(queries),
                                            dims, device_pointer<const std::int64_t>(candidates), rows, select,
                                            device_pointer<double>(out), stream);
        } else {
          throw std::invalid_argument("dtype: expected float32 or float64, got " + dtype);
        }
      },
      py::arg("dtype"), py::arg("points"), py::arg("queries"), py::arg("dims"), py::arg("candidates"), py::arg("rows"),
      py::arg("select"), py::arg("out"), py::arg("stream"));
  m.def(
      "kernel_tile",
      [](ib::Kernel kind, const py::dict& params, std::uintptr_t dots, std::uintptr_t norms_a, std::uintptr_t norms_b,
         std::int64_t na, std::int64_t nb, std::uintptr_t out, std::uintptr_t stream) {
        const ib::KernelParams p = ib::bindings::kernel_params(params);
        py::gil_scoped_release release;
        ib::cuda::kernel_tile(kind, p, device_pointer<const double>(dots), device_pointer<const double>(norms_a),
                              device_pointer<const double>(norms_b), na, nb, device_pointer<double>(out), stream);
      },
      py::arg("kind"), py::arg("params"), py::arg("dots"), py::arg("norms_a"), py::arg("norms_b"), py::arg("na"),
      py::arg("nb"), py::arg("out"), py::arg("stream"));
  m.def("build_info", [] {
    py::dict info;
    int runtime = 0;
    cudaRuntimeGetVersion(&runtime);
    info["cuda_runtime_version"] = runtime;
    info["cuda_architectures"] = IB_CUDA_ARCHITECTURES;
    info["cuda_runtime"] = "static";
    return info;
  });
}
