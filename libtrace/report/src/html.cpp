#include "nbtrace/report/html.hpp"

#include <fmt/format.h>

#include <cmath>

namespace nbtrace::report::html {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (two ? static_cast<unsigned char>(bytes[i + 1]) << 8 : 0u);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += two ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string data_uri(std::string_view mime, std::string_view bytes) {
  return "data:" + std::string(mime) + ";base64," + base64(bytes);
}

std::string number(std::optional<double> v) {
  if (!v) return "—";
  if (std::isnan(*v)) return "nan";
  if (std::isinf(*v)) return *v > 0 ? "inf" : "-inf";
  return fmt::format("{:.6g}", *v);
}

std::string_view status_class(std::string_view s) {
  if (s == "PASS") return "pass";
  if (s == "MINOR" || s == "WAIVED") return "minor";
  if (s == "MISSING" || s == "NOT_COMPARED") return "missing";
  return "fail";
}

std::string page(std::string_view title, std::string_view body) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
      "style-src 'unsafe-inline'\">\n<title>";
  out += escape(title);
  out += "</title>\n<style>\n"
         "body{margin:0;font:14px/1.4 sans-serif;color:#111;background:#fff;position:relative}\n"
         "header{position:absolute;left:0;top:0;width:100%;height:64px;overflow:hidden;padding:8px 16px;"
         "box-sizing:border-box;border-bottom:1px solid #ccc}\n"
         "header h1{font-size:20px;margin:0}\n"
         ".verdict{font-weight:bold;padding:1px 6px;border-radius:3px}\n"
         ".pass{background:#d8f5d8}.minor{background:#fff3c4}.fail{background:#ffd6d6}.missing{background:#e8e8e8}\n"
         ".overview{position:absolute;left:0;top:64px;width:100%}\n"
         ".panel{position:absolute;display:block;background:#000}\n"
         ".caption{position:absolute;font-weight:bold}\n"
         ".flow{padding:0 16px 24px 16px}\n"
         "table{border-collapse:collapse;margin:8px 0}\n"
         "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;font-variant-numeric:tabular-nums}\n"
         "tr.first td{background:#ffe066;font-weight:bold}\n"
         "img.zoom{image-rendering:pixelated;width:168px;height:168px;margin-right:6px;border:1px solid #888}\n"
         ".note{background:#ffd6d6;padding:4px 8px;margin:4px 0}\n"
         "code{font-size:12px}\n"
         "</style>\n</head>\n<body>\n";
  out += body;
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace nbtrace::report::html
