// Ctrl-C for native work in the bindings (see ib/interrupt.hpp).
//
//   ib::bindings::interruptible([&](ib::Interrupt& interrupt) { ib::cpu::work(..., interrupt); });
//
// runs the work with the GIL released. Every ib::Interrupt::kPeriod of work (less often while another
// thread holds the GIL) the calling thread takes the GIL back for a moment and runs
// PyErr_CheckSignals: Python's own handlers, so SIGINT raises KeyboardInterrupt and a user's handler
// runs as usual. When a handler raised, the work stops, its partial results are discarded and that
// exception propagates. Python runs signal handlers on the main thread only, so work called from
// other threads runs without checks (and without the GIL traffic); KeyboardInterrupt reaches the
// main thread there as in plain Python.
#pragma once

#include <pybind11/gil_safe_call_once.h>
#include <pybind11/pybind11.h>

#include <exception>
#include <utility>

#include "ib/interrupt.hpp"

namespace ib::bindings {

namespace detail {

// Holds the GIL only for the check. The exception a handler raised stays pending on this thread
// (its thread state keeps it while the GIL is released again) until interruptible() rethrows it.
inline bool check_signals(void*) {
  pybind11::gil_scoped_acquire gil;
  return PyErr_CheckSignals() != 0;
}

// Whether this is Python's main thread, where signal handlers run. Called with the GIL held.
inline bool on_main_thread() {
  PYBIND11_CONSTINIT static pybind11::gil_safe_call_once_and_store<unsigned long> main_ident;
  const unsigned long ident =
      main_ident
          .call_once_and_store_result([] {
            return pybind11::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
          })
          .get_stored();
  return PyThread_get_thread_ident() == ident;
}

}  // namespace detail

// Runs work(ib::Interrupt&) without the GIL; raises the pending Python exception (KeyboardInterrupt)
// when a signal handler raised during the work. Call with the GIL held.
template <class Work>
void interruptible(Work&& work) {
  Interrupt interrupt(detail::on_main_thread() ? &detail::check_signals : nullptr, nullptr);
  std::exception_ptr failure;
  {
    pybind11::gil_scoped_release release;
    try {
      std::forward<Work>(work)(interrupt);
    } catch (const Interrupted&) {
      // The pending Python exception is raised below.
    } catch (...) {
      failure = std::current_exception();
    }
  }
  if (interrupt.stopped()) {
    if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);  // defensive: stop implies a raised handler
    throw pybind11::error_already_set();
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace ib::bindings
