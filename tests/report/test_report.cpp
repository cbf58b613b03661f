// report.html from the library: a synthetic image pair whose worst pixel is
// known, a real trace diff of the demo's traces, and a sealed bundle
// reported (and a tampered one refused).
#include <doctest/doctest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "nbtrace/base/error.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/report/report.hpp"
#include "nbtrace/trace/diff.hpp"
#include "nbtrace/trace/report.hpp"
#include "nbtrace/trace/trace.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace nbtrace;

namespace {

/// A 40×30 frame of smooth background with a spot; the test side has one
/// pixel 5.0 brighter at (slow 7, fast 31) and one 2.0 darker at (20, 3).
report::ImagePair synthetic_pair() {
  report::ImagePair p;
  p.title = "synthetic";
  for (image::Image* img : {&p.ref, &p.test}) {
    img->fast = 40;
    img->slow = 30;
    img->data.resize(40 * 30);
    for (std::size_t s = 0; s < 30; ++s)
      for (std::size_t f = 0; f < 40; ++f)
        img->data[s * 40 + f] = static_cast<float>(0.1 * static_cast<double>(f + s) + (s == 15 && f == 20 ? 50.0 : 0.0));
  }
  p.test.data[7 * 40 + 31] += 5.0f;
  p.test.data[20 * 40 + 3] -= 2.0f;
  return p;
}

std::string raw_floats(const image::Image& img) {
  std::string bytes(img.data.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), img.data.data(), bytes.size());
  return bytes;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

nlohmann::json demo_diff() {
  const fs::path demo = nbtest::source_dir() / "examples/demo_scaling";
  const Trace c = parse_trace(nbtest::read_file(demo / "c_trace_s27_f488.log"), "c_trace_s27_f488.log");
  const Trace py = parse_trace(nbtest::read_file(demo / "py_trace_s27_f488.log"), "py_trace_s27_f488.log");
  DiffOptions o;
  o.policy.rel = 1e-6;
  return nlohmann::json::parse(diff_to_json(diff_traces(c, py, o)));
}

}  // namespace

TEST_CASE("render_report: one colour scale, the worst pixels in order, fixed panel boxes, no external URL") {
  report::ReportInput in;
  in.title = "synthetic <run> & co";
  in.verdict = "DIVERGENT";
  in.images.push_back(synthetic_pair());
  std::vector<report::WorstPixel> worst;
  std::vector<report::PanelBox> boxes;
  const std::string html = report::render_report(in, &worst, &boxes);
  REQUIRE(worst.size() == 2);  // only two pixels differ
  CHECK(worst[0].slow == 7);
  CHECK(worst[0].fast == 31);
  CHECK(worst[0].test - worst[0].ref == doctest::Approx(5.0).epsilon(1e-6));
  CHECK(worst[1].slow == 20);
  CHECK(worst[1].fast == 3);
  REQUIRE(boxes.size() == 3);
  CHECK(boxes[0].name == "ref");
  CHECK(boxes[2].name == "diff");
  CHECK(boxes[0].width == 360);  // the longer side (fast, 40 px) fills the panel
  CHECK(boxes[0].height == 270);
  CHECK(boxes[1].x > boxes[0].x + boxes[0].width);
  // Three overview panels, then ref|test|diff zooms around both worst pixels.
  CHECK(count(html, "data:image/png;base64,") == 3 + 3 * 2);
  CHECK(count(html, "<circle ") == 3 * 2);
  CHECK(html.find("Content-Security-Policy") != std::string::npos);
  CHECK(html.find("synthetic &lt;run&gt; &amp; co") != std::string::npos);
  CHECK(count(html, "http") == 1);  // http-equiv alone
}

TEST_CASE("render_report: the trace table marks the first divergence, and the equal images say so") {
  report::ReportInput in;
  in.title = "demo";
  in.verdict = "DIVERGENT";
  report::ImagePair same = synthetic_pair();
  same.test = same.ref;
  in.images.push_back(same);
  in.traces.push_back(report::TraceTable{"demo pixel", "diffs/s27_f488.json", demo_diff()});
  std::vector<report::WorstPixel> worst;
  const std::string html = report::render_report(in, &worst);
  CHECK(worst.empty());
  CHECK(html.find("equal pixel for pixel") != std::string::npos);
  const std::size_t row = html.find("<tr class=\"first\" id=\"first-divergence-0\">");
  REQUIRE(row != std::string::npos);
  CHECK(html.find("<code>pix0_vector_meters</code>", row) == html.find("<code>", row));
  CHECK(count(html, "class=\"first\"") == 1);
  CHECK(html.find("fields on one side only</summary>") != std::string::npos);
}

TEST_CASE("write_bundle_report: a sealed bundle gets report.html and still verifies; a tampered one is refused") {
  nbtest::TempDir tmp;
  const fs::path dir = tmp / "20261203T000000Z";
  const report::ImagePair p = synthetic_pair();
  nbtest::write_file(dir / "ref_image.bin", raw_floats(p.ref));
  nbtest::write_file(dir / "test_image.bin", raw_floats(p.test));
  nbtest::write_file(dir / "metrics.json",
                     R"({"tool": "nbparity run", "bundle_id": "20261203T000000Z", "verdict": "DIVERGENT",
                         "image": {"shape": [40, 30], "correlation": 0.99, "sum_ratio": null}})");
  nbtest::write_file(dir / "diffs/s27_f488.json", demo_diff().dump());
  bundle::SealOptions seal;
  seal.dir = dir.string();
  seal.tool = "test";
  bundle::seal_bundle(seal);

  const report::ReportWritten r = report::write_bundle_report(dir, "nbparity");
  CHECK(r.resealed);
  CHECK(r.image_pairs == 1);
  CHECK(r.trace_tables == 1);
  CHECK(r.worst.size() == 2);
  CHECK(r.bytes == fs::file_size(dir / "report.html"));
  const bundle::VerifyResult v = bundle::verify_manifest(dir, "sha256.txt", 1, true);
  CHECK(v.passes(true));
  CHECK(nbtest::read_file(dir / "sha256.txt").find("  report.html\n") != std::string::npos);
  const nlohmann::json back = nlohmann::json(r);
  CHECK(back.get<report::ReportWritten>().worst.size() == 2);

  // Tampered after the seal: no report is written and nothing is resealed.
  const std::string manifest = nbtest::read_file(dir / "sha256.txt");
  fs::remove(dir / "report.html");
  nbtest::write_file(dir / "test_image.bin", raw_floats(p.ref));
  CHECK_THROWS_AS(report::write_bundle_report(dir, "nbparity"), InputError);
  CHECK_FALSE(fs::exists(dir / "report.html"));
  CHECK(nbtest::read_file(dir / "sha256.txt") == manifest);

  CHECK_THROWS_AS(report::read_parity_bundle(tmp.path()), InputError);  // no metrics.json
  CHECK_THROWS_WITH_AS(report::read_parity_bundle(tmp / "absent"), doctest::Contains("no such folder"), InputError);
}
