// _nbparity: the compiled half of the Python package nbparity. It calls the
// same library functions the tools call; nbparity/__init__.py wraps its
// results in documented classes.
#include <pybind11/pybind11.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "bindings.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/version.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_nbparity, m) {
  m.doc() = "Compiled bindings of the nbparity libraries (use the nbparity package, which wraps them).";
  m.attr("__version__") = std::string(nbtrace::version());
  m.attr("build_git_sha") = std::string(nbtrace::build_git_sha());
  // The same line as every tool's --version and the env.json of the bundles it seals.
  m.attr("version_line") = nbtrace::version_line("nbparity-python");

  // The library's error classes, as the tools' exit codes sort them:
  // bad input (exit 5) → nbparity.InputError, a ValueError; a bad option
  // value (exit 1) → ValueError; an output that cannot be written → OSError.
  static py::exception<nbtrace::InputError> input_error(
      m, "InputError", PyExc_ValueError);
  input_error.doc() = "A missing, unreadable or malformed input (a trace, bundle, image or policy): "
                      "the error the tools exit 5 for. A subclass of ValueError.";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const nbtrace::InputError& e) {
      input_error(e.what());
    } catch (const nbtrace::UsageError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const nbtrace::OutputError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const std::filesystem::filesystem_error& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const nlohmann::json::exception& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  nbpy::bind_trace(m);
  nbpy::bind_bundle(m);
  nbpy::bind_image(m);
}
