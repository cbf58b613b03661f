#pragma once
// The parts of _nbparity, one file each: traces (parse, diff, attribution,
// scaling chain), evidence bundles, images.
#include <pybind11/pybind11.h>

namespace nbpy {

namespace py = pybind11;

void bind_trace(py::module_& m);
void bind_bundle(py::module_& m);
void bind_image(py::module_& m);

}  // namespace nbpy
