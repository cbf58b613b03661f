// The image reader: raw float32, .npy, SMV and CBF told by their content,
// read back exactly from files nbsim wrote, files written byte by byte here
// and a CBF written by CBFlib itself; and what is refused.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "nbsim/smv.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/parity/engine.hpp"
#include "nbtrace/parity/image.hpp"
#include "test_support.hpp"

#if NBTEST_CBF
#include <cbf.h>
#endif

using namespace nbtrace::image;
namespace fs = std::filesystem;

namespace {

/// The bytes of an unsigned value of `size` bytes in the given order.
std::string bytes_of(std::uint64_t bits, std::size_t size, bool big) {
  std::string out(size, '\0');
  for (std::size_t k = 0; k < size; ++k) out[big ? size - 1 - k : k] = static_cast<char>((bits >> (8 * k)) & 0xff);
  return out;
}

/// An .npy file as numpy writes it: magic, version, header length, the
/// dict padded with spaces to a multiple of 64 bytes and ending in '\n'.
std::string npy(int major, const std::string& dict, const std::string& data) {
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  std::string header = dict;
  while ((8 + len_bytes + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  out += bytes_of(header.size(), len_bytes, false) + header + data;
  return out;
}

std::string npy_dict(const std::string& descr, const std::string& shape, const std::string& fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

// Six values, fast-major 3x2 (slow 0: the first three); all exact in float.
const std::vector<double> kValues{0.0, 1.5, -2.25, 3e5, 0.125, -7.0};

std::string f4_data(bool big) {
  std::string d;
  for (double v : kValues) d += bytes_of(std::bit_cast<std::uint32_t>(static_cast<float>(v)), 4, big);
  return d;
}
std::string f8_data(const std::vector<double>& values, bool big) {
  std::string d;
  for (double v : values) d += bytes_of(std::bit_cast<std::uint64_t>(v), 8, big);
  return d;
}

std::vector<float> as_floats(const std::vector<double>& v) { return {v.begin(), v.end()}; }

/// An SMV header of HEADER_BYTES=512 with the given lines, as ADSC writes it.
std::string smv_header(const std::string& lines) {
  std::string h = "{\nHEADER_BYTES=512;\nDIM=2;\n" + lines + "}\f";
  h.append(512 - h.size(), ' ');
  return h;
}

}  // namespace

TEST_CASE("nbsim's -floatfile (raw float32) and -intfile (SMV) read back") {
  nbtest::TempDir dir;
  // 1.2 mm x 0.8 mm of 0.1 mm pixels: 12x8 (96 floats: no square).
  const auto r = nbtest::run_tool("nbsim",
                                  {"-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100", "-N", "3",
                                   "-lambda", "1", "-distance", "50", "-pixel", "0.1", "-detsize_f", "1.2", "-detsize_s",
                                   "0.8", "-floatfile", "f.bin", "-intfile", "i.img", "-scale", "1e3", "-adc", "0"},
                                  dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const std::string raw = (dir / "f.bin").string(), smv = (dir / "i.img").string();
  CHECK(image_format(raw) == ImageFormat::raw_float32);
  CHECK(image_format(smv) == ImageFormat::smv);

  const Image f = read_image(raw, Shape{12, 8});
  CHECK(f.shape() == Shape{12, 8});
  CHECK(f.data == load_float_image(raw, 12, 8).data);
  // Without a shape a raw image is the square its size makes: 96 is none.
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image(raw); }) == raw + ": holds 96 floats, not 10x10 = 100");

  const Image i = read_image(smv);  // its shape from its header
  CHECK(i.shape() == Shape{12, 8});
  const nbsim::SmvFrame frame = nbsim::read_smv(smv);  // nanoBragg's -img reader, this machine's order
  REQUIRE(frame.pixels.size() == i.data.size());
  double brightest = 0;
  for (std::size_t k = 0; k < i.data.size(); ++k) {
    CHECK(i.data[k] == static_cast<float>(frame.pixels[k]));
    // -scale 1e3 -adc 0: each integer pixel is its float pixel·1000 rounded.
    if (i.data[k] < 65535) CHECK(std::abs(i.data[k] - f.data[k] * 1e3) <= 0.5 + 1e-3);
    brightest = std::max(brightest, static_cast<double>(i.data[k]));
  }
  CHECK(brightest > 100);  // not a blank image
  CHECK(read_image(smv, Shape{12, 8}).data == i.data);
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image(smv, Shape{8, 12}, "--fpixels/--spixels"); }) ==
        smv + ": the file's shape is 12x8 (fast x slow), --fpixels/--spixels is 8x12");
}

TEST_CASE(".npy written byte by byte: f4 and f8, both byte orders, versions 1.0 to 3.0") {
  nbtest::TempDir dir;
  struct Case {
    std::string name;
    int major;
    std::string descr;
    std::string data;
  };
  const std::vector<double> f8_values{0.1, 1.0 / 3.0, -2.5, 1e10, 6.02e23, -1e-5};
  const std::vector<Case> cases{{"le_f4", 1, "<f4", f4_data(false)},
                                {"be_f4", 1, ">f4", f4_data(true)},
                                {"le_f8", 1, "<f8", f8_data(f8_values, false)},
                                {"be_f8", 1, ">f8", f8_data(f8_values, true)},
                                {"v2_f4", 2, "<f4", f4_data(false)},
                                {"v3_be_f8", 3, ">f8", f8_data(f8_values, true)}};
  for (const Case& c : cases) {
    CAPTURE(c.name);
    // Named .bin: the content tells the format, not the name.
    const fs::path p = dir / (std::string(c.name) + ".bin");
    nbtest::write_file(p, npy(c.major, npy_dict(c.descr, "(2, 3)"), c.data));
    CHECK(image_format(p.string()) == ImageFormat::npy);
    const Image img = read_image(p.string());
    CHECK(img.shape() == Shape{3, 2});  // numpy's (rows, columns) = (slow, fast)
    CHECK(img.data == as_floats(c.descr[1] == 'f' && c.descr[2] == '8' ? f8_values : kValues));
    CHECK(read_image(p.string(), Shape{3, 2}).data == img.data);
  }
  CHECK(as_floats(f8_values)[0] == 0.1f);  // f8 is rounded to the comparison's float

  const fs::path good = dir / "good.npy";
  nbtest::write_file(good, npy(1, npy_dict("<f4", "(2, 3)"), f4_data(false)));
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image(good.string(), Shape{2, 3}, "--fpixels/--spixels"); }) ==
        good.string() + ": the file's shape is 3x2 (fast x slow), --fpixels/--spixels is 2x3");

  // A 1-D array takes the shape given, and only with one.
  const fs::path flat = dir / "flat.npy";
  nbtest::write_file(flat, npy(1, npy_dict("<f4", "(6,)"), f4_data(false)));
  CHECK(read_image(flat.string(), Shape{3, 2}).data == as_floats(kValues));
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image(flat.string()); }) ==
        flat.string() + ": .npy holds a 1-D array of 6 values: give its shape");
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image(flat.string(), Shape{4, 2}); }) ==
        flat.string() + ": .npy holds a 1-D array of 6 values, not 4x2 (the shape given)");

  // One frame of a stack, (1, 2, 3), is the 3x2 image.
  const fs::path stack = dir / "stack.npy";
  nbtest::write_file(stack, npy(1, npy_dict("<f4", "(1, 2, 3)"), f4_data(false)));
  CHECK(read_image(stack.string()).shape() == Shape{3, 2});

  struct Refusal {
    std::string name;
    std::string file;
    std::string message;
  };
  const std::vector<Refusal> refused{
      {"fortran", npy(1, npy_dict("<f4", "(2, 3)", "True"), f4_data(false)),
       ": .npy with fortran_order True (column-major) is not read; save it C-ordered (numpy.ascontiguousarray)"},
      {"complex", npy(1, npy_dict("<c8", "(2, 3)"), f4_data(false) + f4_data(false)),
       ": .npy dtype '<c8' is not read (floats f4, f8; integers i1 to i8, u1 to u8; structured dtypes refused)"},
      {"half", npy(1, npy_dict("<f2", "(2, 3)"), std::string(12, '\0')),
       ": .npy dtype '<f2' is not read (floats f4, f8; integers i1 to i8, u1 to u8; structured dtypes refused)"},
      {"truncated", npy(1, npy_dict("<f4", "(2, 3)"), f4_data(false).substr(0, 20)),
       ": truncated: its .npy shape (2, 3) of <f4 needs 24 bytes of pixels after 128 header bytes, the file has 20"},
      {"longer", npy(1, npy_dict("<f4", "(2, 3)"), f4_data(false) + "xxxx"),
       ": 4 bytes after the .npy shape (2, 3) of <f4 pixels: not an .npy file numpy wrote"},
      {"empty_shape", npy(1, npy_dict("<f4", "(0, 3)"), ""),
       ": its .npy shape (0, 3) of <f4 gives a 3x0 image: no pixels to compare"},
      {"huge", npy(1, npy_dict("<f4", "(4294967296, 4294967296)"), f4_data(false)),
       ": its .npy shape (4294967296, 4294967296) of <f4 gives a 4294967296x4294967296 image: more pixels than memory "
       "holds"},
      {"cube", npy(1, npy_dict("<f4", "(2, 1, 3)"), f4_data(false)), ": .npy shape (2, 1, 3) is not an image (2-D)"},
      {"version", std::string("\x93NUMPY\x04\x00", 8) + std::string(8, ' '), ": .npy version 4.0 is not read (1.0, 2.0, 3.0)"},
      {"short", std::string("\x93NUMPY", 6), ": truncated .npy header"},
      {"not_dict", npy(1, "{'shape': (2, 3)}", f4_data(false)),
       ": .npy header is not the dict numpy writes: {'shape': (2, 3)}"},
  };
  for (const Refusal& r : refused) {
    CAPTURE(r.name);
    const fs::path p = dir / (std::string(r.name) + ".npy");
    nbtest::write_file(p, r.file);
    std::string expected = p.string() + r.message;
    const std::string got = nbtest::message_of<nbtrace::InputError>([&] { read_image(p.string()); });
    if (r.name == "not_dict") CHECK(got.rfind(expected, 0) == 0);  // the header's padding follows
    else CHECK(got == expected);
  }
}

TEST_CASE("SMV written by hand: big-endian unsigned_short, unsigned_int, and refusals") {
  nbtest::TempDir dir;
  const std::vector<std::uint32_t> values{0, 1, 258, 65535, 4096, 77};
  std::string be16;
  for (std::uint32_t v : values) be16 += bytes_of(v, 2, true);
  const fs::path p = dir / "frame.img";
  nbtest::write_file(p, smv_header("BYTE_ORDER=big_endian;\nTYPE=unsigned_short;\nSIZE1=3;\nSIZE2=2;\n") + be16);
  const Image img = read_image(p.string());
  CHECK(img.shape() == Shape{3, 2});
  CHECK(img.data == std::vector<float>{0, 1, 258, 65535, 4096, 77});

  // 32-bit, little-endian, and a DETECTOR_TYPE that is not the pixel TYPE.
  const std::vector<std::uint32_t> wide{0, 70000, 1u << 24, 3, 65536, 12345678};
  std::string le32;
  for (std::uint32_t v : wide) le32 += bytes_of(v, 4, false);
  const fs::path q = dir / "wide.img";
  nbtest::write_file(q, smv_header("BYTE_ORDER=little_endian;\nTYPE=unsigned_int;\nSIZE1=2;\nSIZE2=3;\nDETECTOR_TYPE=x;\n") + le32);
  CHECK(read_image(q.string()).shape() == Shape{2, 3});
  CHECK(read_image(q.string()).data == std::vector<float>{0, 70000, 16777216, 3, 65536, 12345678});

  std::string be_signed;
  for (int v : {-1, -32768, 5, 32767}) be_signed += bytes_of(static_cast<std::uint16_t>(v), 2, true);
  const fs::path s = dir / "signed.img";
  nbtest::write_file(s, smv_header("BYTE_ORDER=big_endian;\nTYPE=signed_short;\nSIZE1=2;\nSIZE2=2;\n") + be_signed);
  CHECK(read_image(s.string()).data == std::vector<float>{-1, -32768, 5, 32767});

  struct Refusal {
    std::string name;
    std::string file;
    std::string message;
  };
  const std::vector<Refusal> refused{
      {"truncated", smv_header("TYPE=unsigned_short;\nSIZE1=3;\nSIZE2=2;\n") + be16.substr(0, 10),
       ": truncated: its SMV header (HEADER_BYTES=512, SIZE1=3, SIZE2=2, unsigned_short) needs 12 bytes of pixels "
       "after 512 header bytes, the file has 10"},
      {"type", smv_header("TYPE=mad_packed;\nSIZE1=3;\nSIZE2=2;\n") + be16,
       ": SMV TYPE=mad_packed is not read (unsigned_short, signed_short, unsigned_int, signed_int)"},
      {"order", smv_header("BYTE_ORDER=vax;\nSIZE1=3;\nSIZE2=2;\n") + be16,
       ": SMV BYTE_ORDER=vax is not little_endian or big_endian"},
      {"no_size", smv_header("SIZE1=3;\n") + be16, ": SMV header has no SIZE2"},
      {"zero_size", smv_header("SIZE1=3;\nSIZE2=0;\n") + be16, ": SMV header SIZE2 is not a positive whole number"},
      {"header", "{\nHEADER_BYTES=4096;\nSIZE1=3;\nSIZE2=2;\n}", ": truncated: SMV HEADER_BYTES=4096, the file has 40 bytes"},
  };
  for (const Refusal& r : refused) {
    CAPTURE(r.name);
    const fs::path f = dir / (std::string(r.name) + ".img");
    nbtest::write_file(f, r.file);
    CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image(f.string()); }) == f.string() + r.message);
  }
}

TEST_CASE("CBF written by CBFlib (byte-offset compression) reads back exactly") {
  nbtest::TempDir dir;
  const fs::path p = dir / "frame.cbf";
  // 5x4, fast-major: Pilatus' -1/-2 masks, deltas beyond 8 and 16 bits, a 2^24.
  std::vector<int> pixels{0, 1, 2, 3, -1, -2, 127, 128, 32767, 32768, 1000000, -1000000, 16777216, 0, 5,
                          65535, 65536, 42, 7, 0};
#if NBTEST_CBF
  CHECK(cbf_supported());
  cbf_handle h = nullptr;
  REQUIRE(cbf_make_handle(&h) == 0);
  REQUIRE(cbf_new_datablock(h, "image_1") == 0);
  REQUIRE(cbf_new_category(h, "array_data") == 0);
  REQUIRE(cbf_new_column(h, "data") == 0);
  REQUIRE(cbf_set_integerarray_wdims_fs(h, CBF_BYTE_OFFSET, 1, pixels.data(), sizeof(int), 1, pixels.size(),
                                        "little_endian", 5, 4, 0, 0) == 0);
  FILE* out = std::fopen(p.c_str(), "w+b");
  REQUIRE(out != nullptr);
  // Readable (w+b, isbuffer 1): CBFlib may use it as its buffer and closes it.
  REQUIRE(cbf_write_file(h, out, 1, CBF, MSG_DIGEST | MIME_HEADERS, 0) == 0);
  REQUIRE(cbf_free_handle(h) == 0);
  CHECK(nbtest::read_file(p).rfind("###CBF: VERSION", 0) == 0);
  CHECK(nbtest::read_file(p).find("x-CBF_BYTE_OFFSET") != std::string::npos);
  CHECK(image_format(p.string()) == ImageFormat::cbf);
  const Image img = read_image(p.string());
  CHECK(img.shape() == Shape{5, 4});
  CHECK(img.data == std::vector<float>(pixels.begin(), pixels.end()));
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image(p.string(), Shape{4, 5}, "--fpixels/--spixels"); }) ==
        p.string() + ": the file's shape is 5x4 (fast x slow), --fpixels/--spixels is 4x5");

  // Real (IEEE float) pixels too, uncompressed.
  const std::vector<float> reals{0.5f, -1.25f, 3e-7f, 6.5e7f, 0, 1};
  h = nullptr;
  REQUIRE(cbf_make_handle(&h) == 0);
  REQUIRE(cbf_new_datablock(h, "image_1") == 0);
  REQUIRE(cbf_new_category(h, "array_data") == 0);
  REQUIRE(cbf_new_column(h, "data") == 0);
  REQUIRE(cbf_set_realarray_wdims_fs(h, CBF_NONE, 1, const_cast<float*>(reals.data()), sizeof(float), reals.size(),
                                     "little_endian", 2, 3, 0, 0) == 0);
  const fs::path q = dir / "real.cbf";
  out = std::fopen(q.c_str(), "w+b");
  REQUIRE(out != nullptr);
  REQUIRE(cbf_write_file(h, out, 1, CBF, MSG_DIGEST | MIME_HEADERS, 0) == 0);
  REQUIRE(cbf_free_handle(h) == 0);
  CHECK(read_image(q.string()).shape() == Shape{2, 3});
  const Image real = read_image(q.string());
  REQUIRE(real.data.size() == reals.size());
  for (std::size_t k = 0; k < reals.size(); ++k) CHECK(real.data[k] == reals[k]);

  // A changed pixel byte fails the Content-MD5 check instead of reading wrong.
  {
    std::string changed = nbtest::read_file(p);
    const std::size_t data = changed.find("\x0c\x1a\x04\xd5");  // the binary section's start mark
    REQUIRE(data != std::string::npos);
    changed[data + 4 + 3] ^= 0x01;
    nbtest::write_file(dir / "changed.cbf", changed);
    const std::string m = nbtest::message_of<nbtrace::InputError>([&] { read_image((dir / "changed.cbf").string()); });
    CHECK(m == (dir / "changed.cbf").string() + ": CBFlib cannot read it (array parameters: bad format)");
  }
  // A damaged one is CBFlib's refusal, one line.
  std::string bytes = nbtest::read_file(p);
  nbtest::write_file(dir / "cut.cbf", bytes.substr(0, bytes.size() / 2));
  const std::string cut = nbtest::message_of<nbtrace::InputError>([&] { read_image((dir / "cut.cbf").string()); });
  CHECK(cut.rfind((dir / "cut.cbf").string() + ": CBFlib cannot read it (parse: bad format; ", 0) == 0);
  CHECK(cut.find('\n') == std::string::npos);
#else
  CHECK_FALSE(cbf_supported());
  nbtest::write_file(p, "###CBF: VERSION 1.5\n");
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image(p.string()); }) ==
        p.string() + ": a CBF image, and this build has no CBF support (configure with CBFlib: libcbf-dev, "
                     "scripts/bootstrap.sh)");
#endif
}

TEST_CASE("formats are told by content: an unknown one is named, raw is what is left") {
  nbtest::TempDir dir;
  const std::string formats = "; formats: raw float32, .npy, SMV, CBF";
  const std::vector<std::pair<std::string, std::string>> foreign{
      {std::string("II*\0\x08\0\0\0", 8), "TIFF?"},
      {std::string("MM\0*\0\0\0\x08", 8), "TIFF?"},
      {"\x89PNG\r\n\x1a\n....", "PNG?"},
      {"\x89HDF\r\n\x1a\n....", "HDF5/NeXus?"},
      {"\x1f\x8b\x08\0\0\0\0\0", "gzip-compressed?"},
      {"PK\x03\x04....", "ZIP, an .npz?"},
      {"P5\n512 512\n255\n", "PGM?"},
      {"{\nHeaderID = EH:000001;\n}", "EDF?"},
  };
  for (const auto& [bytes, name] : foreign) {
    CAPTURE(name);
    const fs::path p = dir / "x.tif";
    nbtest::write_file(p, bytes);
    const std::string expected = p.string() + ": not an image format nb-compare or nbparity reads (" + name + ")" + formats;
    CHECK(nbtest::message_of<nbtrace::InputError>([&] { image_format(p.string()); }) == expected);
    CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image(p.string(), Shape{2, 2}); }) == expected);
  }
  // A raw float32 file named .npy is raw: 16 floats, a 4x4 square.
  const std::vector<float> sixteen(16, 2.5f);
  nbtest::write_file(dir / "raw.npy", std::string(reinterpret_cast<const char*>(sixteen.data()), 64));
  CHECK(image_format((dir / "raw.npy").string()) == ImageFormat::raw_float32);
  CHECK(read_image((dir / "raw.npy").string()).shape() == Shape{4, 4});
  CHECK(read_image((dir / "raw.npy").string()).data == sixteen);
  CHECK(format_name(ImageFormat::npy) == ".npy");
  // The raw refusals are unchanged through the one reader.
  nbtest::write_file(dir / "empty.bin", "");
  CHECK(image_format((dir / "empty.bin").string()) == ImageFormat::raw_float32);
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image((dir / "empty.bin").string()); }) ==
        (dir / "empty.bin").string() + ": is empty (0 bytes): no pixels to compare");
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image(dir.path().string()); }) ==
        dir.path().string() + ": is a folder, not a float image");
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image((dir / "none").string()); }) ==
        (dir / "none").string() + ": cannot read float image: No such file or directory");
  nbtest::write_file(dir / "seven.bin", "1234567");
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image((dir / "seven.bin").string(), Shape{1, 1}); }) ==
        (dir / "seven.bin").string() + ": 7 bytes is not a whole number of float32 values");
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { read_image((dir / "raw.npy").string(), Shape{1ull << 32, 1ull << 32}); }) ==
        (dir / "raw.npy").string() + ": holds 16 floats, not 4294967296x4294967296");
}

TEST_CASE("the parity engine reads a stored .npy beside a raw image: its shape from the file") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "ref.npy", npy(1, npy_dict("<f8", "(2, 3)"), f8_data(kValues, false)));
  const std::vector<float> raw = as_floats(kValues);
  nbtest::write_file(dir / "test.bin", std::string(reinterpret_cast<const char*>(raw.data()), raw.size() * 4));
  nbtrace::ParityPlan plan;
  plan.ref = {"ref", nbtrace::StoredOutputs{dir / "ref.npy", {}}, {}, std::nullopt};
  plan.test = {"test", nbtrace::StoredOutputs{dir / "test.bin", {}}, {}, Shape{3, 2}};
  const nbtrace::ParityResult r = nbtrace::run_parity_plan(plan);
  REQUIRE(r.images);
  CHECK(r.ref.shape == Shape{3, 2});
  REQUIRE(r.images->metrics.correlation);
  CHECK(*r.images->metrics.correlation == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(r.images->metrics.max_abs_diff == 0);
  // A plan's shape that disagrees with the file's is refused.
  plan.ref.shape = Shape{2, 3};
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { nbtrace::run_parity_plan(plan); }) ==
        (dir / "ref.npy").string() + ": the file's shape is 3x2 (fast x slow), the shape given is 2x3");
}
