// The one image reader of nb-compare and the parity engine: raw float32,
// .npy, SMV and CBF, told apart by their first bytes (a file's name says
// nothing), each read into the float32 fast-major Image the comparison uses.
#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <type_traits>

#include "nbsim/smv.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/parity/image.hpp"

#ifdef NB_HAVE_CBF
// Last: cbf.h undefines ULLONG_MAX for C++ and needs HDF5's hdf5.h.
#include <cbf.h>
#endif

namespace nbtrace::image {

namespace {

constexpr const char* kFormats = "formats: raw float32, .npy, SMV, CBF";

std::string shape_text(Shape s) { return std::to_string(s.fast) + "x" + std::to_string(s.slow); }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

/// The formats whose signature is known but which are not read here, named
/// in the refusal; only signatures of 3 bytes or more, so a raw float32
/// image is taken for one by chance once in 2^24 first pixels at most.
std::string foreign_format(std::string_view head) {
  using namespace std::string_view_literals;
  if (starts_with(head, "II*\0"sv) || starts_with(head, "MM\0*"sv)) return "TIFF";
  if (starts_with(head, "\x89PNG\r\n\x1a\n"sv)) return "PNG";
  if (starts_with(head, "\x89HDF\r\n\x1a\n"sv)) return "HDF5/NeXus";
  if (starts_with(head, "\xff\xd8\xff"sv)) return "JPEG";
  if (starts_with(head, "\x1f\x8b\x08"sv)) return "gzip-compressed";
  if (starts_with(head, "BZh"sv) && head.size() > 3 && head[3] >= '1' && head[3] <= '9') return "bzip2-compressed";
  if (starts_with(head, "PK\x03\x04"sv)) return "ZIP, an .npz?";
  if (starts_with(head, "SIMPLE  ="sv)) return "FITS";
  if (starts_with(head, "CDF\x01"sv) || starts_with(head, "CDF\x02"sv)) return "netCDF";
  if (head.size() > 3 && (starts_with(head, "P5"sv) || starts_with(head, "P2"sv)) &&
      std::isspace(static_cast<unsigned char>(head[2])) && std::isdigit(static_cast<unsigned char>(head[3])))
    return "PGM";
  // EDF: "{\n" and a keyword; SMV's "{\nHEADER_BYTES=" is told apart first.
  if (starts_with(head, "{\n"sv) && head.size() > 5 &&
      std::all_of(head.begin() + 2, head.begin() + 6, [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == ' '; }))
    return "EDF";
  return "";
}

/// One stored pixel type: its size in bytes, kind ('u' unsigned, 'i' signed,
/// 'f' IEEE float) and byte order.
struct Element {
  std::size_t size = 4;
  char kind = 'f';
  bool big_endian = false;
};

float decode(const unsigned char* p, const Element& e) {
  std::uint64_t bits = 0;
  for (std::size_t k = 0; k < e.size; ++k) bits |= std::uint64_t{p[e.big_endian ? e.size - 1 - k : k]} << (8 * k);
  if (e.kind == 'f') {
    if (e.size == 4) return std::bit_cast<float>(static_cast<std::uint32_t>(bits));
    return static_cast<float>(std::bit_cast<double>(bits));  // beyond float's range: ±inf, refused by the comparison
  }
  if (e.kind == 'i' && e.size < 8 && (bits >> (8 * e.size - 1)) != 0) bits |= ~std::uint64_t{0} << (8 * e.size);
  return e.kind == 'i' ? static_cast<float>(static_cast<std::int64_t>(bits)) : static_cast<float>(bits);
}

Image decode_pixels(std::string_view bytes, Shape shape, const Element& e) {
  Image img;
  img.fast = shape.fast;
  img.slow = shape.slow;
  img.data.resize(shape.fast * shape.slow);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (std::size_t i = 0; i < img.data.size(); ++i) img.data[i] = decode(p + i * e.size, e);
  return img;
}

/// fast·slow, or 0 when it would not fit in memory's index (a hostile header).
std::size_t pixel_count(Shape s) {
  if (s.fast == 0 || s.slow == 0) return 0;
  if (s.fast > std::numeric_limits<std::size_t>::max() / s.slow / 8) return 0;
  return s.fast * s.slow;
}

/// A self-describing file's shape against the one the caller gave.
void check_given(const std::string& shown, Shape in_file, const std::optional<Shape>& given, std::string_view from) {
  if (given && *given != in_file) {
    throw InputError(shown + ": the file's shape is " + shape_text(in_file) + " (fast x slow), " + std::string(from) +
                     " is " + shape_text(*given));
  }
}

/// The pixel bytes a header promises: refused when the file holds fewer.
std::string_view pixel_bytes(const std::string& shown, const std::string& data, std::size_t offset, Shape shape,
                             const Element& e, const std::string& what) {
  const std::size_t n = pixel_count(shape);
  if (n == 0) {
    throw InputError(shown + ": " + what + " gives a " + shape_text(shape) + " image: " +
                     (shape.fast && shape.slow ? "more pixels than memory holds" : "no pixels to compare"));
  }
  const std::size_t need = n * e.size;
  if (data.size() < offset || data.size() - offset < need) {
    throw InputError(shown + ": truncated: " + what + " needs " + std::to_string(need) + " bytes of pixels after " +
                     std::to_string(offset) + " header bytes, the file has " +
                     std::to_string(data.size() > offset ? data.size() - offset : 0));
  }
  return std::string_view(data).substr(offset, need);
}

// --- .npy (numpy's format, versions 1.0, 2.0 and 3.0) -----------------------

/// The value after 'key': in numpy's header dict, as written (a quoted
/// string, True/False, or a parenthesised tuple); empty when absent.
std::string npy_field(std::string_view header, std::string_view key) {
  for (const char q : {'\'', '"'}) {
    const std::string quoted = std::string(1, q) + std::string(key) + q;
    std::size_t at = header.find(quoted);
    if (at == std::string_view::npos) continue;
    at = header.find(':', at + quoted.size());
    if (at == std::string_view::npos) return "";
    at = header.find_first_not_of(" \t", at + 1);
    if (at == std::string_view::npos) return "";
    std::size_t end;
    if (header[at] == '\'' || header[at] == '"') end = header.find(header[at], at + 1) + 1;
    else if (header[at] == '(') end = header.find(')', at) + 1;
    else end = header.find_first_of(",}", at);
    if (end == std::string_view::npos || end == 0) return "";
    return std::string(header.substr(at, end - at));
  }
  return "";
}

Element npy_element(const std::string& shown, const std::string& descr) {
  // '<f4': byte order ('<' little, '>' big, '|' none, '=' this machine's), kind, size.
  const std::string bad = shown + ": .npy dtype " + printable(descr) +
                          " is not read (floats f4, f8; integers i1 to i8, u1 to u8; structured dtypes refused)";
  if (descr.size() != 5 || descr.front() != '\'' || descr.back() != '\'') throw InputError(bad);
  const char order = descr[1], kind = descr[2], size = descr[3];
  if (order != '<' && order != '>' && order != '|' && order != '=') throw InputError(bad);
  Element e;
  e.kind = kind;
  e.size = static_cast<std::size_t>(size - '0');
  e.big_endian = order == '>' || (order == '=' && std::endian::native == std::endian::big);
  const bool ok = (kind == 'f' && (e.size == 4 || e.size == 8)) ||
                  ((kind == 'i' || kind == 'u') && (e.size == 1 || e.size == 2 || e.size == 4 || e.size == 8));
  if (!ok) throw InputError(bad);
  return e;
}

Image read_npy(const std::string& path, const std::string& shown, const std::optional<Shape>& given,
               std::string_view from) {
  const std::string data = read_text_file(path);
  if (data.size() < 8) throw InputError(shown + ": truncated .npy header");
  const int major = static_cast<unsigned char>(data[6]);
  const int minor = static_cast<unsigned char>(data[7]);
  if (major < 1 || major > 3) {
    throw InputError(shown + ": .npy version " + std::to_string(major) + "." + std::to_string(minor) +
                     " is not read (1.0, 2.0, 3.0)");
  }
  // Version 1 has a 2-byte header length, versions 2 and 3 a 4-byte one, little-endian.
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  if (data.size() < 8 + len_bytes) throw InputError(shown + ": truncated .npy header");
  std::size_t header_len = 0;
  for (std::size_t k = 0; k < len_bytes; ++k) header_len |= std::size_t{static_cast<unsigned char>(data[8 + k])} << (8 * k);
  const std::size_t offset = 8 + len_bytes + header_len;
  if (data.size() < offset) throw InputError(shown + ": truncated .npy header");
  const std::string_view header = std::string_view(data).substr(8 + len_bytes, header_len);

  const std::string descr = npy_field(header, "descr");
  const std::string fortran = npy_field(header, "fortran_order");
  const std::string tuple = npy_field(header, "shape");
  if (descr.empty() || fortran.empty() || tuple.empty()) {
    throw InputError(shown + ": .npy header is not the dict numpy writes: " + printable(header));
  }
  const Element e = npy_element(shown, descr);
  if (fortran != "False") {
    throw InputError(shown + ": .npy with fortran_order " + printable(fortran) +
                     " (column-major) is not read; save it C-ordered (numpy.ascontiguousarray)");
  }
  std::vector<std::size_t> dims;
  for (std::size_t at = 1; at + 1 < tuple.size();) {
    at = tuple.find_first_not_of(" ,", at);
    if (at == std::string::npos || at + 1 >= tuple.size()) break;
    std::size_t end = at;
    while (end < tuple.size() && std::isdigit(static_cast<unsigned char>(tuple[end]))) ++end;
    if (end == at || end - at > 18) throw InputError(shown + ": .npy shape " + printable(tuple) + " is not a tuple of sizes");
    dims.push_back(std::stoull(tuple.substr(at, end - at)));
    at = end;
  }
  // Leading dimensions of 1 (one frame of a stack) add nothing.
  while (dims.size() > 2 && dims.front() == 1) dims.erase(dims.begin());
  Shape shape;
  if (dims.size() == 2) {
    shape = {dims[1], dims[0]};  // C order: (rows = slow, columns = fast)
    check_given(shown, shape, given, from);
  } else if (dims.size() == 1) {
    if (!given) throw InputError(shown + ": .npy holds a 1-D array of " + std::to_string(dims[0]) + " values: give its shape");
    if (pixel_count(*given) != dims[0]) {
      throw InputError(shown + ": .npy holds a 1-D array of " + std::to_string(dims[0]) + " values, not " +
                       shape_text(*given) + " (" + std::string(from) + ")");
    }
    shape = *given;
  } else {
    throw InputError(shown + ": .npy shape " + printable(tuple) + " is not an image (2-D)");
  }
  const std::string what = ".npy shape " + printable(tuple) + " of " + printable(descr.substr(1, 3));
  const std::string_view bytes = pixel_bytes(shown, data, offset, shape, e, "its " + what);
  if (data.size() - offset != bytes.size()) {
    throw InputError(shown + ": " + std::to_string(data.size() - offset - bytes.size()) + " bytes after the " + what +
                     " pixels: not an .npy file numpy wrote");
  }
  return decode_pixels(bytes, shape, e);
}

// --- SMV (ADSC) -------------------------------------------------------------

/// The word after "KEY=" at the start of a header line, up to ';' (empty
/// when absent). Numbers are looked up with nbsim::smv_value, the rule nbsim
/// reads -img headers by; a word needs a line start, so TYPE is not found
/// inside DETECTOR_TYPE.
std::string smv_word(const std::string& header, const std::string& key) {
  for (std::size_t at = header.rfind(key); at != std::string::npos; at = at ? header.rfind(key, at - 1) : std::string::npos) {
    if (at > 0 && header[at - 1] != '\n') continue;
    const std::size_t eq = at + key.size();
    if (eq >= header.size() || header[eq] != '=') continue;
    const std::size_t end = header.find_first_of(";\n", eq + 1);
    return header.substr(eq + 1, end == std::string::npos ? std::string::npos : end - eq - 1);
  }
  return "";
}

/// A header number that must be a whole count (HEADER_BYTES, SIZE1, SIZE2).
std::size_t smv_count(const std::string& shown, const std::string& header, const std::string& key) {
  const double v = nbsim::smv_value(header, key);
  if (!(v >= 1) || v > 1e12 || v != std::floor(v)) {
    throw InputError(shown + ": SMV header " + (std::isnan(v) ? "has no " + key : key + " is not a positive whole number"));
  }
  return static_cast<std::size_t>(v);
}

Image read_smv(const std::string& path, const std::string& shown, const std::optional<Shape>& given,
               std::string_view from) {
  // nbsim::read_smv is nanoBragg's -img/-mask reader: 16-bit pixels in this
  // machine's order. This one honours TYPE and BYTE_ORDER, and shares its
  // header look-up (smv_value).
  const std::string data = read_text_file(path);
  const std::size_t header_bytes = smv_count(shown, data.substr(0, std::min<std::size_t>(data.size(), 512)), "HEADER_BYTES");
  if (header_bytes > data.size()) {
    throw InputError(shown + ": truncated: SMV HEADER_BYTES=" + std::to_string(header_bytes) + ", the file has " +
                     std::to_string(data.size()) + " bytes");
  }
  const std::string header = data.substr(0, header_bytes);
  const Shape shape{smv_count(shown, header, "SIZE1"), smv_count(shown, header, "SIZE2")};  // SIZE1 is fast
  check_given(shown, shape, given, from);
  Element e;
  const std::string type = smv_word(header, "TYPE");
  if (type.empty() || type == "unsigned_short") e = {2, 'u', false};  // ADSC's default
  else if (type == "signed_short") e = {2, 'i', false};
  else if (type == "unsigned_int") e = {4, 'u', false};
  else if (type == "signed_int") e = {4, 'i', false};
  else {
    throw InputError(shown + ": SMV TYPE=" + printable(type) +
                     " is not read (unsigned_short, signed_short, unsigned_int, signed_int)");
  }
  const std::string order = smv_word(header, "BYTE_ORDER");
  if (order == "big_endian") e.big_endian = true;
  else if (!order.empty() && order != "little_endian") {
    throw InputError(shown + ": SMV BYTE_ORDER=" + printable(order) + " is not little_endian or big_endian");
  }
  const std::string what = "its SMV header (HEADER_BYTES=" + std::to_string(header_bytes) + ", SIZE1=" +
                           std::to_string(shape.fast) + ", SIZE2=" + std::to_string(shape.slow) + ", " +
                           (type.empty() ? "unsigned_short" : printable(type)) + ")";
  return decode_pixels(pixel_bytes(shown, data, header_bytes, shape, e, what), shape, e);
}

// --- CBF, through CBFlib ----------------------------------------------------

#ifdef NB_HAVE_CBF
/// CBFlib's error bits, named.
std::string cbf_error(int code) {
  static const std::pair<int, const char*> names[] = {
      {CBF_FORMAT, "bad format"},          {CBF_ALLOC, "out of memory"},       {CBF_ARGUMENT, "bad argument"},
      {CBF_ASCII, "ASCII where binary was expected"}, {CBF_BINARY, "binary where ASCII was expected"},
      {CBF_BITCOUNT, "bit count"},         {CBF_ENDOFDATA, "data end too soon"}, {CBF_FILECLOSE, "cannot close"},
      {CBF_FILEOPEN, "cannot open"},       {CBF_FILEREAD, "read error"},       {CBF_FILESEEK, "seek error"},
      {CBF_FILETELL, "tell error"},        {CBF_FILEWRITE, "write error"},     {CBF_IDENTICAL, "duplicate name"},
      {CBF_NOTFOUND, "not found"},         {CBF_OVERFLOW, "overflow"},         {CBF_UNDEFINED, "undefined"},
      {CBF_NOTIMPLEMENTED, "not implemented"}, {CBF_NOCOMPRESSION, "no compression"}};
  std::string out;
  for (const auto& [bit, name] : names)
    if (code & bit) out += (out.empty() ? "" : ", ") + std::string(name);
  return out.empty() ? "error " + std::to_string(code) : out;
}

/// A FILE* writing into memory (POSIX open_memstream).
struct MemoryLog {
  char* text = nullptr;
  std::size_t size = 0;
  FILE* stream = open_memstream(&text, &size);
  MemoryLog() = default;
  MemoryLog(const MemoryLog&) = delete;
  MemoryLog& operator=(const MemoryLog&) = delete;
  ~MemoryLog() {
    if (stream) std::fclose(stream);
    std::free(text);
  }
  std::string first_line() {
    if (!stream || std::fflush(stream) != 0 || !text) return "";
    const std::string all(text, size);
    return all.substr(0, all.find('\n'));
  }
};

Image read_cbf(const std::string& path, const std::string& shown, const std::optional<Shape>& given,
               std::string_view from) {
  // CBFlib logs its complaints to stderr by default: they go into a buffer
  // instead, the first becoming part of our one-line error. Made before the
  // handle, so it outlives the handle that writes into it.
  MemoryLog log;
  cbf_handle h = nullptr;
  if (const int e = cbf_make_handle(&h)) throw InputError(shown + ": CBFlib: " + cbf_error(e));
  const std::unique_ptr<std::remove_pointer_t<cbf_handle>, int (*)(cbf_handle)> owner(h, cbf_free_handle);
  if (log.stream) cbf_set_cbf_logfile(h, log.stream);
  auto check = [&](int e, const char* step) {
    if (!e) return;
    std::string said = log.first_line();
    if (said.rfind("CBFlib: ", 0) == 0) said.erase(0, 8);
    throw InputError(shown + ": CBFlib cannot read it (" + step + ": " + cbf_error(e) +
                     (said.empty() ? "" : "; " + printable(said)) + ")");
  };
  FILE* stream = std::fopen(path.c_str(), "rb");
  if (!stream) throw InputError(shown + ": cannot read float image: " + std::strerror(errno));
  // CBFlib owns the stream from here (it reads binary sections lazily) and
  // closes it with the handle. MSG_DIGEST checks a Content-MD5 when present.
  check(cbf_read_widefile(h, stream, MSG_DIGEST), "parse");
  check(cbf_rewind_datablock(h), "datablock");
  check(cbf_find_category(h, "array_data"), "array_data");
  check(cbf_find_column(h, "data"), "array_data.data");
  unsigned int rows = 0;
  check(cbf_count_rows(h, &rows), "array_data.data");
  if (rows != 1) throw InputError(shown + ": CBF holds " + std::to_string(rows) + " images; one is compared");
  check(cbf_rewind_row(h), "array_data.data");
  unsigned int compression = 0;
  int id = 0, elsigned = 0, elunsigned = 0, minelem = 0, maxelem = 0, realarray = 0;
  std::size_t elsize = 0, nelem = 0, dimfast = 0, dimmid = 0, dimslow = 0, padding = 0;
  const char* byteorder = nullptr;
  check(cbf_get_arrayparameters_wdims_fs(h, &compression, &id, &elsize, &elsigned, &elunsigned, &nelem, &minelem,
                                         &maxelem, &realarray, &byteorder, &dimfast, &dimmid, &dimslow, &padding),
        "array parameters");
  Shape shape{dimfast, dimmid};
  if (dimslow > 1) {
    throw InputError(shown + ": CBF array is " + std::to_string(dimfast) + "x" + std::to_string(dimmid) + "x" +
                     std::to_string(dimslow) + ": not an image (2-D)");
  }
  if (dimfast == 0) {  // no dimensions recorded: like a 1-D array
    if (!given) throw InputError(shown + ": CBF array of " + std::to_string(nelem) + " values gives no shape: give it");
    shape = *given;
  } else {
    if (dimmid == 0) shape.slow = 1;
    check_given(shown, shape, given, from);
  }
  if (pixel_count(shape) != nelem || nelem == 0) {
    throw InputError(shown + ": CBF array holds " + std::to_string(nelem) + " values, not " + shape_text(shape));
  }
  Image img;
  img.fast = shape.fast;
  img.slow = shape.slow;
  img.data.resize(nelem);
  std::size_t read = 0;
  if (realarray) {
    if (elsize != 4 && elsize != 8) throw InputError(shown + ": CBF real elements of " + std::to_string(elsize) + " bytes");
    // Read at the stored size: CBFlib does not widen reals.
    if (elsize == sizeof(float)) {
      check(cbf_get_realarray(h, &id, img.data.data(), sizeof(float), nelem, &read), "real array");
    } else {
      std::vector<double> v(nelem);
      check(cbf_get_realarray(h, &id, v.data(), sizeof(double), nelem, &read), "real array");
      std::transform(v.begin(), v.end(), img.data.begin(), [](double x) { return static_cast<float>(x); });
    }
  } else {
    // 64-bit signed holds every element CBF stores (up to 32-bit unsigned).
    std::vector<long> v(nelem);
    check(cbf_get_integerarray(h, &id, v.data(), sizeof(long), 1, nelem, &read), "integer array");
    std::transform(v.begin(), v.end(), img.data.begin(), [](long x) { return static_cast<float>(x); });
  }
  if (read != nelem) {
    throw InputError(shown + ": truncated: CBF array gives " + std::to_string(read) + " of its " + std::to_string(nelem) +
                     " values");
  }
  return img;
}
#endif

}  // namespace

std::string_view format_name(ImageFormat f) {
  switch (f) {
    case ImageFormat::raw_float32: return "raw float32";
    case ImageFormat::npy: return ".npy";
    case ImageFormat::smv: return "SMV";
    case ImageFormat::cbf: return "CBF";
  }
  return "?";
}

bool cbf_supported() {
#ifdef NB_HAVE_CBF
  return true;
#else
  return false;
#endif
}

ImageFormat image_format(const std::string& path) {
  const std::string shown = printable(path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(shown + ": is a folder, not a float image");
  static_cast<void>(std::filesystem::file_size(path, ec));  // only its error: missing, unreadable
  if (ec) throw InputError(shown + ": cannot read float image: " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(shown + ": cannot read float image: " + std::strerror(errno));
  std::string head(16, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (starts_with(head, "\x93NUMPY")) return ImageFormat::npy;
  if (starts_with(head, "{\nHEADER_BYTES")) return ImageFormat::smv;
  if (starts_with(head, "###CBF: VERSION")) return ImageFormat::cbf;
  if (const std::string other = foreign_format(head); !other.empty()) {
    throw InputError(shown + ": not an image format nb-compare or nbparity reads (" + other + (other.back() == '?' ? "" : "?") +
                     "); " + kFormats);
  }
  return ImageFormat::raw_float32;
}

Image read_image(const std::string& path, const std::optional<Shape>& shape, std::string_view shape_from) {
  const std::string shown = printable(path);
  switch (image_format(path)) {
    case ImageFormat::npy: return read_npy(path, shown, shape, shape_from);
    case ImageFormat::smv: return read_smv(path, shown, shape, shape_from);
    case ImageFormat::cbf:
#ifdef NB_HAVE_CBF
      return read_cbf(path, shown, shape, shape_from);
#else
      throw InputError(shown + ": a CBF image, and this build has no CBF support (configure with CBFlib: "
                               "libcbf-dev, scripts/bootstrap.sh)");
#endif
    case ImageFormat::raw_float32: break;
  }
  const Shape s = shape ? *shape : square_shape(path);
  return load_float_image(path, s.fast, s.slow);
}

std::size_t float_count(const std::string& path) {
  const std::string shown = printable(path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(shown + ": is a folder, not a float image");
  const auto bytes = std::filesystem::file_size(path, ec);
  if (ec) throw InputError(shown + ": cannot read float image: " + ec.message());
  if (bytes % sizeof(float) != 0) {
    throw InputError(shown + ": " + std::to_string(bytes) + " bytes is not a whole number of float32 values");
  }
  return static_cast<std::size_t>(bytes / sizeof(float));
}

Shape square_shape(const std::string& path) {
  const auto side = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(float_count(path)))));
  return {side, side};
}

Image load_float_image(const std::string& path, std::size_t fast, std::size_t slow) {
  const std::string shown = printable(path);
  const std::size_t n = float_count(path);
  if (n == 0) throw InputError(shown + ": is empty (0 bytes): no pixels to compare");
  // fast·slow must not wrap round to the file's size.
  if (fast == 0 || slow == 0 || fast > std::numeric_limits<std::size_t>::max() / slow || n != fast * slow) {
    const std::string expected = std::to_string(fast) + "x" + std::to_string(slow);
    throw InputError(shown + ": holds " + std::to_string(n) + " floats, not " + expected +
                     (fast != 0 && slow != 0 && fast <= std::numeric_limits<std::size_t>::max() / slow
                          ? " = " + std::to_string(fast * slow)
                          : std::string()));
  }
  Image img;
  img.fast = fast;
  img.slow = slow;
  img.data.resize(n);
  std::ifstream in(path, std::ios::binary);
  if (!in || !in.read(reinterpret_cast<char*>(img.data.data()), static_cast<std::streamsize>(n * sizeof(float)))) {
    throw InputError(shown + ": cannot read float image: " + std::strerror(errno));
  }
  return img;
}

}  // namespace nbtrace::image
