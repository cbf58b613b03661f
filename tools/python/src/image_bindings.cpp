// Images: read (raw float32, .npy, SMV, CBF) and compare, as nb-compare and
// parity runs do (nbtrace::image).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <optional>
#include <string>

#include "bindings.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/parity/image.hpp"
#include "nbtrace/parity/image_json.hpp"
#include "py_json.hpp"

namespace nbpy {

namespace image = nbtrace::image;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

/// A 2-D array (rows = slow, columns = fast) as an image; the values become
/// float32, as the files' are.
image::Image image_from_array(const FloatArray& a, const char* which) {
  if (a.ndim() != 2) {
    throw nbtrace::UsageError(std::string(which) + " image: a 2-D array (slow, fast) is needed, got " +
                              std::to_string(a.ndim()) + " dimensions");
  }
  image::Image img;
  img.slow = static_cast<std::size_t>(a.shape(0));
  img.fast = static_cast<std::size_t>(a.shape(1));
  if (img.slow == 0 || img.fast == 0) throw nbtrace::InputError(std::string(which) + " image has no pixels");
  img.data.assign(a.data(), a.data() + a.size());
  return img;
}

FloatArray image_to_array(image::Image img) {
  FloatArray out({img.slow, img.fast});
  std::copy(img.data.begin(), img.data.end(), out.mutable_data());
  return out;
}

std::optional<image::Shape> shape_from(const std::optional<std::array<std::size_t, 2>>& fast_slow) {
  if (!fast_slow) return std::nullopt;
  return image::Shape{(*fast_slow)[0], (*fast_slow)[1]};
}

}  // namespace

void bind_image(py::module_& m) {
  m.def(
      "read_image_path",
      [](const std::string& path, std::optional<std::array<std::size_t, 2>> fast_slow) {
        image::Image img;
        std::string format;
        {
          py::gil_scoped_release release;
          format = std::string(image::format_name(image::image_format(path)));
          img = image::read_image(path, shape_from(fast_slow), "the shape given");
        }
        return py::make_tuple(image_to_array(std::move(img)), format);
      },
      py::arg("path"), py::arg("shape") = std::nullopt,
      "read_image: (float32 array (slow, fast), format name).");

  m.def(
      "compare_images",
      [](const py::object& ref, const py::object& test, std::optional<std::array<std::size_t, 2>> ref_shape,
         std::optional<std::array<std::size_t, 2>> test_shape, std::optional<std::array<std::size_t, 4>> roi,
         std::size_t top_peaks, double peak_percentile, double peak_gate) {
        auto load = [](const py::object& side, const std::optional<std::array<std::size_t, 2>>& shape,
                       const char* which) {
          if (py::isinstance<py::str>(side)) {
            const std::string path = side.cast<std::string>();
            py::gil_scoped_release release;
            return image::read_image(path, shape_from(shape), "the shape given");
          }
          return image_from_array(side.cast<FloatArray>(), which);
        };
        const image::Image a = load(ref, ref_shape, "reference");
        const image::Image b = load(test, test_shape, "test");
        image::CompareOptions opt;
        if (roi) opt.roi = image::Roi{(*roi)[0], (*roi)[1], (*roi)[2], (*roi)[3]};
        opt.top_peaks = top_peaks;
        opt.peak_percentile = peak_percentile;
        opt.peak_gate = peak_gate;
        image::Metrics metrics;
        {
          py::gil_scoped_release release;
          metrics = image::compare(a, b, opt);
        }
        nlohmann::ordered_json doc = metrics;
        // JSON writes a NaN correlation or ratio as null; the module passes it through.
        if (metrics.correlation) doc["correlation"] = *metrics.correlation;
        if (metrics.sum_ratio) doc["sum_ratio"] = *metrics.sum_ratio;
        doc["shape"] = a.shape();
        doc["invalid_checks"] = image::invalid_checks(metrics);
        doc["invalid_messages"] = image::invalid_messages(metrics);
        return to_python(doc);
      },
      py::arg("ref"), py::arg("test"), py::arg("ref_shape") = std::nullopt, py::arg("test_shape") = std::nullopt,
      py::arg("roi") = std::nullopt, py::arg("top_peaks") = 20, py::arg("peak_percentile") = 95.0,
      py::arg("peak_gate") = 2.0, "image::compare of two images (paths or 2-D float arrays).");
}

}  // namespace nbpy
