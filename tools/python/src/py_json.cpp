#include "py_json.hpp"

#include <cmath>
#include <string>

namespace nbpy {

namespace {

template <typename Json>
py::object convert(const Json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(j.template get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.template get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.template get<std::uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(j.template get<double>());
    case nlohmann::json::value_t::string: return py::str(j.template get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const Json& e : j) out.append(convert(e));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;  // insertion order: ordered_json keeps the document's order
      for (auto it = j.begin(); it != j.end(); ++it) out[py::str(it.key())] = convert(it.value());
      return out;
    }
    case nlohmann::json::value_t::binary:
    case nlohmann::json::value_t::discarded: break;
  }
  return py::none();
}

}  // namespace

py::object to_python(const nlohmann::json& j) { return convert(j); }
py::object to_python(const nlohmann::ordered_json& j) { return convert(j); }

py::object json_text_to_python(std::string_view text) {
  return convert(nlohmann::ordered_json::parse(text.begin(), text.end()));
}

nlohmann::json from_python(const py::handle& obj) {
  if (obj.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(obj)) return obj.cast<bool>();
  if (py::isinstance<py::int_>(obj)) return obj.cast<std::int64_t>();
  if (py::isinstance<py::float_>(obj)) return obj.cast<double>();
  if (py::isinstance<py::str>(obj)) return obj.cast<std::string>();
  if (py::isinstance<py::dict>(obj)) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : obj.cast<py::dict>()) out[py::str(k).cast<std::string>()] = from_python(v);
    return out;
  }
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
    nlohmann::json out = nlohmann::json::array();
    for (const py::handle& v : obj) out.push_back(from_python(v));
    return out;
  }
  throw py::type_error("cannot express a " + std::string(py::str(obj.get_type().attr("__name__"))) + " in JSON");
}

}  // namespace nbpy
