#pragma once
// The one JSON → Python conversion of the module: every result type's
// nlohmann JSON (the tools' documents) becomes dicts, lists, str, int,
// float, bool and None. A double held in the JSON passes through as it is,
// NaN and ±inf included (only text JSON cannot carry them).
#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>
#include <string_view>

namespace nbpy {

namespace py = pybind11;

py::object to_python(const nlohmann::json& j);
py::object to_python(const nlohmann::ordered_json& j);

/// Parses a JSON document a library function rendered, then converts it.
py::object json_text_to_python(std::string_view text);

/// A Python dict, list, str, number, bool or None as JSON (for policies
/// given as dicts); raises TypeError for anything else.
nlohmann::json from_python(const py::handle& obj);

}  // namespace nbpy
