#pragma once
// Small pieces of HTML writing shared by the report pages (report.html of
// bundles and matrices, and explain's page).
#include <optional>
#include <string>
#include <string_view>

namespace nbtrace::report::html {

/// Text safe inside an element or a quoted attribute.
std::string escape(std::string_view text);
/// RFC 4648 base64 of `bytes`.
std::string base64(std::string_view bytes);
/// data:<mime>;base64,<...>
std::string data_uri(std::string_view mime, std::string_view bytes);
/// A number for a reader: 6 significant digits; "—" when absent, "nan"/"inf" as such.
std::string number(std::optional<double> v);
/// The page around `body`: inline CSS, and a Content-Security-Policy that
/// allows nothing but inline styles and data: images, so that the page
/// cannot load anything from anywhere.
std::string page(std::string_view title, std::string_view body);
/// CSS class of a verdict or status ("pass", "minor", "fail", "missing", "waived").
std::string_view status_class(std::string_view status);

}  // namespace nbtrace::report::html
