// pybind11 module `_native`: the CPU kernels. Python validates arguments; the checks here are the
// cheap invariants that keep a wrong call from writing out of bounds (they raise, never abort).
// Every kernel runs without the GIL and stops on Ctrl-C (bindings/interrupt.hpp): KeyboardInterrupt
// within ~10 ms plus one chunk of work, never a partial result.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "bindings/interrupt.hpp"
#include "bindings/kernel_params.hpp"
#include "bindings/ncx2_fit_bindings.hpp"
#include "cpu/gaussian_losses.hpp"
#include "cpu/gchi2.hpp"
#include "cpu/kernels.hpp"
#include "cpu/ncx2.hpp"
#include "cpu/neighbors.hpp"
#include "cpu/random.hpp"
#include "ib/philox.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace py = pybind11;

namespace {

int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

// A writable C-contiguous array of the given dtype and element count.
template <class T>
T* output_pointer(py::array& a, py::ssize_t size, const char* name) {
  require(py::isinstance<py::array_t<T>>(a) && (a.flags() & py::array::c_style) && a.writeable(),
          std::string(name) + ": expected a writable C-contiguous array of the kernel's dtype");
  require(a.size() == size,
          std::string(name) + ": has " + std::to_string(a.size()) + " elements, expected " + std::to_string(size));
  return static_cast<T*>(a.mutable_data());
}

template <class T>
const T* input_pointer(const py::array& a, py::ssize_t size, const char* name) {
  require(py::isinstance<py::array_t<T>>(a) && (a.flags() & py::array::c_style),
          std::string(name) + ": expected a C-contiguous array of the kernel's dtype");
  require(a.size() == size,
          std::string(name) + ": has " + std::to_string(a.size()) + " elements, expected " + std::to_string(size));
  return static_cast<const T*>(a.data());
}

void fill_uint32(py::array out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed,
                 std::uint64_t first_stream, std::uint64_t offset, int threads) {
  auto* dst = output_pointer<std::uint32_t>(out, static_cast<py::ssize_t>(n_streams * n), "out");
  ib::bindings::interruptible([&](ib::Interrupt& interrupt) {
    ib::cpu::fill_uint32(dst, n_streams, n, seed, first_stream, offset, threads, interrupt);
  });
}

template <class T>
void fill_normal_typed(py::array& out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed,
                       std::uint64_t first_stream, std::uint64_t offset, int threads) {
  auto* dst = output_pointer<T>(out, static_cast<py::ssize_t>(n_streams * n), "out");
  ib::bindings::interruptible([&](ib::Interrupt& interrupt) {
    ib::cpu::fill_normal<T>(dst, n_streams, n, seed, first_stream, offset, threads, interrupt);
  });
}

void fill_normal(py::array out, std::uint64_t n_streams, std::uint64_t n, std::uint64_t seed,
                 std::uint64_t first_stream, std::uint64_t offset, int threads) {
  if (py::isinstance<py::array_t<float>>(out)) {
    fill_normal_typed<float>(out, n_streams, n, seed, first_stream, offset, threads);
  } else {
    fill_normal_typed<double>(out, n_streams, n, seed, first_stream, offset, threads);
  }
}

template <class T>
void gaussian_losses_typed(const std::string& loss, const py::array& products, const py::array& offset,
                           const py::array& labels, py::array& losses, std::int64_t k, std::int64_t t, int threads) {
  const std::int64_t batch = losses.size();
  T* out = output_pointer<T>(losses, batch, "losses");
  const T* prod = input_pointer<T>(products, batch * k * t, "products");
  const double* off = input_pointer<double>(offset, k * t, "offset");
  if (loss == "mse") {
    ib::bindings::interruptible(
        [&](ib::Interrupt& interrupt) { ib::cpu::mse_losses<T>(prod, off, batch, k, t, out, threads, interrupt); });
  } else if (loss == "error") {
    const std::int64_t* lab = input_pointer<std::int64_t>(labels, t, "labels");
    ib::bindings::interruptible([&](ib::Interrupt& interrupt) {
      ib::cpu::error_losses<T>(prod, off, lab, batch, k, t, out, threads, interrupt);
    });
  } else {
    throw std::invalid_argument("loss: unknown loss '" + loss + "'");
  }
}

// products: [batch, k, t]; offset: [k, t] (mean - targets for "mse", mean for "error", transposed);
// labels: [t] int64 (ignored for "mse"); losses: [batch].
void gaussian_losses(const std::string& loss, const py::array& products, const py::array& offset,
                     const py::array& labels, py::array losses, std::int64_t k, std::int64_t t, int threads) {
  require(k > 0 && t > 0, "k and t must be positive");
  if (py::isinstance<py::array_t<float>>(losses)) {
    gaussian_losses_typed<float>(loss, products, offset, labels, losses, k, t, threads);
  } else {
    gaussian_losses_typed<double>(loss, products, offset, labels, losses, k, t, threads);
  }
}

// x, out: [n] float64; function: "logpdf" | "logcdf" | "logsf".
void ncx2_function(const std::string& function, const py::array& x, py::array out, double df, double nc, double scale,
                   int threads) {
  const py::ssize_t n = x.size();
  const double* in = input_pointer<double>(x, n, "x");
  double* dst = output_pointer<double>(out, n, "out");
  ib::cpu::Ncx2Function which;
  if (function == "logpdf") {
    which = ib::cpu::Ncx2Function::log_pdf;
  } else if (function == "logcdf") {
    which = ib::cpu::Ncx2Function::log_cdf;
  } else if (function == "logsf") {
    which = ib::cpu::Ncx2Function::log_sf;
  } else {
    throw std::invalid_argument("function: unknown '" + function + "'");
  }
  require(df > 0.0 && nc >= 0.0 && scale > 0.0, "df, nc, scale: need df > 0, nc >= 0, scale > 0");
  ib::bindings::interruptible(
      [&](ib::Interrupt& interrupt) { ib::cpu::ncx2_evaluate(which, in, n, df, nc, scale, dst, threads, interrupt); });
}

// samples: [n]; params: [count, 3] (df, nc, scale); replicates: [count] int64.
// Returns [count, 11] = (value, grad[3], hess[6] packed 00 01 02 11 12 22, weight) in
// u = (log df, log scale, nc).
py::array_t<double> ncx2_likelihood(const py::array& samples, const py::array_t<double, py::array::c_style>& params,
                                    const py::array_t<long long, py::array::c_style>& replicates, std::uint64_t seed,
                                    int threads) {
  const py::ssize_t n = samples.size();
  const double* x = input_pointer<double>(samples, n, "samples");
  const auto p = ib::bindings::params_from(params);
  const auto reps = ib::bindings::replicates_from(replicates, p.size());
  std::vector<ib::LikelihoodSums> sums(p.size());
  ib::bindings::interruptible([&](ib::Interrupt& interrupt) {
    ib::cpu::ncx2_likelihood_sums(x, n, p.data(), reps.data(), p.size(), seed, sums.data(), threads, interrupt);
  });
  return ib::bindings::sums_to_array(sums);
}

// Fits one replicate per row of start: returns (params [count, 3], loglik, iterations, converged).
py::tuple ncx2_fit(const py::array& samples, const py::array_t<double, py::array::c_style>& start,
                   const py::array_t<long long, py::array::c_style>& replicates, std::uint64_t seed, bool fix_nc_zero,
                   int max_iterations, double relative_tolerance, int threads) {
  const py::ssize_t n = samples.size();
  const double* x = input_pointer<double>(samples, n, "samples");
  const auto p = ib::bindings::params_from(start);
  const auto reps = ib::bindings::replicates_from(replicates, p.size());
  const auto settings = ib::bindings::settings_from(fix_nc_zero, max_iterations, relative_tolerance);
  std::vector<ib::FitOutcome> outcomes;
  ib::bindings::interruptible([&](ib::Interrupt& interrupt) {
    outcomes = ib::cpu::ncx2_fit(x, n, p, reps, seed, settings, threads, interrupt);
  });
  return ib::bindings::outcomes_to_tuple(outcomes);
}

template <class T>
void topk_tile_typed(const py::array& dots, bool transposed, const py::array& q_norms, const py::array& x_norms,
                     std::int64_t q_offset, std::int64_t x_offset, bool exclude_self, const py::object& q_labels,
                     const py::object& x_labels, py::array& dist, py::array& index, int threads) {
  const py::ssize_t queries = q_norms.size(), points = x_norms.size();
  const py::ssize_t k = queries > 0 ? dist.size() / queries : 0;
  require(k > 0 && dist.size() == queries * k, "dist: expected shape [queries, k]");
  const T* d = input_pointer<T>(dots, queries * points, "dots");
  const double* qn = input_pointer<double>(q_norms, queries, "q_norms");
  const double* xn = input_pointer<double>(x_norms, points, "x_norms");
  const std::int64_t* ql = nullptr;
  const std::int64_t* xl = nullptr;
  if (!q_labels.is_none()) {
    ql = input_pointer<std::int64_t>(q_labels.cast<py::array>(), queries, "q_labels");
    xl = input_pointer<std::int64_t>(x_labels.cast<py::array>(), points, "x_labels");
  }
  double* hd = output_pointer<double>(dist, queries * k, "dist");
  auto* hi = output_pointer<std::int64_t>(index, queries * k, "index");
  ib::bindings::interruptible([&](ib::Interrupt& interrupt) {
    ib::cpu::topk_tile<T>(d, transposed, queries, points, qn, xn, q_offset, x_offset, exclude_self, ql, xl,
                          static_cast<int>(k), hd, hi, threads, interrupt);
  });
}

// dots: [queries, points] ([points, queries] when transposed); norms float64; labels int64 or None;
// dist [queries, k] float64 and index [queries, k] int64 are the running heaps.
void topk_tile(const py::array& dots, bool transposed, const py::array& q_norms, const py::array& x_norms,
               std::int64_t q_offset, std::int64_t x_offset, bool exclude_self, const py::object& q_labels,
               const py::object& x_labels, py::array dist, py::array index, int threads) {
  if (py::isinstance<py::array_t<float>>(dots)) {
    topk_tile_typed<float>(dots, transposed, q_norms, x_norms, q_offset, x_offset, exclude_self, q_labels, x_labels,
                           dist, index, threads);
  } else {
    topk_tile_typed<double>(dots, transposed, q_norms, x_norms, q_offset, x_offset, exclude_self, q_labels, x_labels,
                            dist, index, threads);
  }
}

template <class T>
void exact_typed(const py::array& points, const py::array& queries, const py::array& candidates, py::array& out,
                 int threads) {
  require(points.ndim() == 2 && queries.ndim() == 2 && candidates.ndim() == 2 && points.shape(1) == queries.shape(1) &&
              candidates.shape(0) == queries.shape(0),
          "points [n, d], queries [rows, d], candidates [rows, select]: shapes do not match");
  const py::ssize_t dims = points.shape(1), rows = queries.shape(0), select = candidates.shape(1);
  const T* p = input_pointer<T>(points, points.size(), "points");
  const T* q = input_pointer<T>(queries, rows * dims, "queries");
  const auto* c = input_pointer<std::int64_t>(candidates, rows * select, "candidates");
  double* o = output_pointer<double>(out, rows * select, "out");
  for (py::ssize_t i = 0; i < rows * select; ++i) {
    require(c[i] >= -1 && c[i] < points.shape(0), "candidates: index out of range");
  }
  ib::bindings::interruptible([&](ib::Interrupt& interrupt) {
    ib::cpu::exact_squared_distances<T>(p, q, dims, c, rows, select, o, threads, interrupt);
  });
}

// out[r, s] = |points[candidates[r, s]] - queries[r]|^2 in float64 (inf for -1).
void exact_squared_distances(const py::array& points, const py::array& queries, const py::array& candidates,
                             py::array out, int threads) {
  if (py::isinstance<py::array_t<float>>(points)) {
    exact_typed<float>(points, queries, candidates, out, threads);
  } else {
    exact_typed<double>(points, queries, candidates, out, threads);
  }
}

// weight, dof, nc: [terms] float64 (weights distinct and positive); x: [count] float64.
// Returns (log_cdf, log_sf, error, method_used) arrays of [count].
py::tuple gchi2_evaluate(const py::array& weight, const py::array& dof, const py::array& nc, double offset,
                         const py::array& x, int method, std::int64_t max_terms, int threads) {
  const py::ssize_t terms = weight.size(), count = x.size();
  require(terms > 0, "weights: need at least one term");
  require(method >= 0 && method <= 3, "method: expected 0 (auto), 1 (Ruben), 2 (saddlepoint) or 3 (inversion)");
  const double* w = input_pointer<double>(weight, terms, "weights");
  const double* h = input_pointer<double>(dof, terms, "dofs");
  const double* n = input_pointer<double>(nc, terms, "noncentralities");
  const double* xs = input_pointer<double>(x, count, "x");
  py::array_t<double> log_cdf(count), log_sf(count), error(count);
  py::array_t<std::int8_t> used(count);
  double *lc = log_cdf.mutable_data(), *ls = log_sf.mutable_data(), *er = error.mutable_data();
  std::int8_t* mu = used.mutable_data();
  ib::bindings::interruptible([&](ib::Interrupt& interrupt) {
    ib::cpu::gchi2_evaluate(w, h, n, terms, offset, xs, count, method, max_terms, lc, ls, er, mu, threads, interrupt);
  });
  return py::make_tuple(log_cdf, log_sf, error, used);
}

// Returns (log_pdf, error) arrays of [count].
py::tuple gchi2_log_pdf(const py::array& weight, const py::array& dof, const py::array& nc, double offset,
                        const py::array& x, int threads) {
  const py::ssize_t terms = weight.size(), count = x.size();
  require(terms > 0, "weights: need at least one term");
  const double* w = input_pointer<double>(weight, terms, "weights");
  const double* h = input_pointer<double>(dof, terms, "dofs");
  const double* n = input_pointer<double>(nc, terms, "noncentralities");
  const double* xs = input_pointer<double>(x, count, "x");
  py::array_t<double> log_pdf(count), error(count);
  double *lp = log_pdf.mutable_data(), *er = error.mutable_data();
  ib::bindings::interruptible([&](ib::Interrupt& interrupt) {
    ib::cpu::gchi2_log_pdf(w, h, n, terms, offset, xs, count, lp, er, threads, interrupt);
  });
  return py::make_tuple(log_pdf, error);
}

// dots, out: [na, nb] float64; norms: [na], [nb] float64.
void kernel_tile(ib::Kernel kind, const py::dict& params, const py::array& dots, const py::array& norms_a,
                 const py::array& norms_b, py::array out, int threads) {
  const py::ssize_t na = norms_a.size(), nb = norms_b.size();
  const double* d = input_pointer<double>(dots, na * nb, "dots");
  const double* a = input_pointer<double>(norms_a, na, "norms_a");
  const double* b = input_pointer<double>(norms_b, nb, "norms_b");
  double* o = output_pointer<double>(out, na * nb, "out");
  const ib::KernelParams p = ib::bindings::kernel_params(params);
  ib::bindings::interruptible(
      [&](ib::Interrupt& interrupt) { ib::cpu::kernel_tile(kind, p, d, a, b, na, nb, o, threads, interrupt); });
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "inductive-bias CPU kernels";
  // The one list of covariance functions: Python reads its names from here (the CUDA module takes the
  // same registered type).
  py::enum_<ib::Kernel>(m, "Kernel")
      .value("rbf", ib::Kernel::rbf)
      .value("laplacian", ib::Kernel::laplacian)
      .value("matern32", ib::Kernel::matern32)
      .value("matern52", ib::Kernel::matern52)
      .value("polynomial", ib::Kernel::polynomial)
      .value("linear", ib::Kernel::linear)
      .value("nngp_relu", ib::Kernel::nngp_relu)
      .value("ntk_relu", ib::Kernel::ntk_relu)
      .value("nngp_erf", ib::Kernel::nngp_erf)
      .value("ntk_erf", ib::Kernel::ntk_erf);
  m.def(
      "philox4x32_10",
      [](std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3, std::uint32_t k0, std::uint32_t k1) {
        const ib::Philox4x32 r = ib::philox4x32_10(c0, c1, c2, c3, k0, k1);
        return py::make_tuple(r.v[0], r.v[1], r.v[2], r.v[3]);
      },
      "The Philox4x32-10 bijection on counter (c0..c3) and key (k0, k1).");
  m.def("fill_uint32", &fill_uint32, py::arg("out"), py::arg("n_streams"), py::arg("n"), py::arg("seed"),
        py::arg("first_stream"), py::arg("offset"), py::arg("threads"));
  m.def("fill_normal", &fill_normal, py::arg("out"), py::arg("n_streams"), py::arg("n"), py::arg("seed"),
        py::arg("first_stream"), py::arg("offset"), py::arg("threads"));
  m.def("gaussian_losses", &gaussian_losses, py::arg("loss"), py::arg("products"), py::arg("offset"), py::arg("labels"),
        py::arg("losses"), py::arg("k"), py::arg("t"), py::arg("threads"));
  m.def("ncx2_function", &ncx2_function, py::arg("function"), py::arg("x"), py::arg("out"), py::arg("df"),
        py::arg("nc"), py::arg("scale"), py::arg("threads"));
  m.def("ncx2_likelihood", &ncx2_likelihood, py::arg("samples"), py::arg("params"), py::arg("replicates"),
        py::arg("seed"), py::arg("threads"));
  m.def("ncx2_fit", &ncx2_fit, py::arg("samples"), py::arg("start"), py::arg("replicates"), py::arg("seed"),
        py::arg("fix_nc_zero"), py::arg("max_iterations"), py::arg("relative_tolerance"), py::arg("threads"));
  m.def("topk_tile", &topk_tile, py::arg("dots"), py::arg("transposed"), py::arg("q_norms"), py::arg("x_norms"),
        py::arg("q_offset"), py::arg("x_offset"), py::arg("exclude_self"), py::arg("q_labels"), py::arg("x_labels"),
        py::arg("dist"), py::arg("index"), py::arg("threads"));
  m.def("exact_squared_distances", &exact_squared_distances, py::arg("points"), py::arg("queries"),
        py::arg("candidates"), py::arg("out"), py::arg("threads"));
  m.def("gchi2_evaluate", &gchi2_evaluate, py::arg("weights"), py::arg("dofs"), py::arg("noncentralities"),
        py::arg("offset"), py::arg("x"), py::arg("method"), py::arg("max_terms"), py::arg("threads"));
  m.def("gchi2_log_pdf", &gchi2_log_pdf, py::arg("weights"), py::arg("dofs"), py::arg("noncentralities"),
        py::arg("offset"), py::arg("x"), py::arg("threads"));
  m.def("kernel_tile", &kernel_tile, py::arg("kind"), py::arg("params"), py::arg("dots"), py::arg("norms_a"),
        py::arg("norms_b"), py::arg("out"), py::arg("threads"));
  m.def("max_threads", &max_threads);
  m.def("build_info", [] {
    py::dict info;
    info["version"] = IB_VERSION;
#ifdef _OPENMP
    info["openmp"] = true;
    info["openmp_version"] = _OPENMP;
#else
    info["openmp"] = false;
#endif
#if defined(__clang__)
    info["compiler"] = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    info["compiler"] = std::string("gcc ") + __VERSION__;
#else
    info["compiler"] = "unknown";
#endif
    return info;
  });
}
