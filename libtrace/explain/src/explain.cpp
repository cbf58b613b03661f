// The explain search: nbsim runs with quirk sets, each compared with the
// port and with nanoBragg.c; the greedy search towards each side; the
// explanations and their shares (docs/explain.md).
#include "nbtrace/explain/explain.hpp"

#include <fmt/format.h>

#include <cstring>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "nbsim/quirks.hpp"
#include "nbsim/summary.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/process.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/parity/image.hpp"
#include "nbtrace/parity/simulator_args.hpp"
#include "nbtrace/trace/diff.hpp"
#include "nbtrace/trace/scaling.hpp"

namespace fs = std::filesystem;

namespace nbtrace::explain {

int ExplainResult::exit_code() const { return verdict == "unexplained" ? exit_code::divergence : exit_code::ok; }

namespace {

using QuirkSet = std::vector<std::string>;  // ids in table order

/// The ids in table order, without repeats.
QuirkSet canonical(const QuirkSet& ids) {
  QuirkSet out;
  for (const auto& info : nbsim::kQuirkTable)
    if (std::find(ids.begin(), ids.end(), info.id) != ids.end()) out.emplace_back(info.id);
  return out;
}

QuirkSet with(QuirkSet s, const std::string& id) {
  s.push_back(id);
  return canonical(s);
}

QuirkSet symmetric_difference(const QuirkSet& a, const QuirkSet& b) {
  QuirkSet out;
  for (const auto& id : a)
    if (std::find(b.begin(), b.end(), id) == b.end()) out.push_back(id);
  for (const auto& id : b)
    if (std::find(a.begin(), a.end(), id) == a.end()) out.push_back(id);
  return canonical(out);
}

/// I_before_scaling of a trace (alias-resolved, last record: the scaling
/// module's reading of the factor).
std::optional<double> i_before_scaling(const Trace& t) {
  const ScalingComparison cmp = compare_scaling(t, t, 1e-6, AliasTable::builtin());
  for (const auto& f : cmp.factors)
    if (f.name == "I_before_scaling") return f.c_value;
  return std::nullopt;
}

/// The arguments without trace and output flags of their own: explain adds
/// its own -trace_pixel, -floatfile, -trace_file, -stats_json.
std::vector<std::string> without_own_flags(const std::vector<std::string>& args) {
  const std::map<std::string, int> values{{"-trace_pixel", 2}, {"-dump_pixel", 2}, {"-trace_file", 1},
                                          {"-stats_json", 1},  {"-mode", 1},       {"-quirk", 1},
                                          {"-no_quirk", 1}};
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto it = values.find(args[i]);
    if (it != values.end()) {
      i += static_cast<std::size_t>(it->second);
      continue;
    }
    out.push_back(args[i]);
  }
  return out;
}

struct SideData {
  std::vector<Trace> traces;  // per pixel (may be empty)
  std::optional<image::Image> image;
};

/// One nbsim run's outputs.
struct Outputs {
  std::vector<std::string> trace_texts;  // per pixel
  std::vector<Trace> traces;
  std::string image_bytes;
  std::optional<image::Image> image;
};

double l1_relative(const std::vector<float>& a, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size() && i < ref.size(); ++i) {
    num += std::fabs(static_cast<double>(a[i]) - ref[i]);
    den += std::fabs(static_cast<double>(ref[i]));
  }
  return den > 0 ? num / den : num;
}

ImageMatch image_match(const image::Image& ref, const image::Image& test) {
  const image::Metrics m = image::compare(ref, test, image::CompareOptions{});
  return ImageMatch{m.correlation, m.sum_ratio};
}

/// The shares of a pair (port set, C set): 1 - Σ|real gap - modelled gap| / Σ|real gap|.
double gap_share(const std::vector<double>& port, const std::vector<double>& c, const std::vector<double>& model_port,
                 const std::vector<double>& model_c) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < port.size(); ++i) {
    const double real = c[i] - port[i], modelled = model_c[i] - model_port[i];
    num += std::fabs(real - modelled);
    den += std::fabs(real);
  }
  return den > 0 ? 1.0 - num / den : (num == 0 ? 1.0 : 0.0);
}

std::vector<double> as_doubles(const std::vector<float>& v) { return {v.begin(), v.end()}; }

class Search {
 public:
  Search(const ExplainOptions& o, std::vector<PixelGap> pixels, SideData port, SideData c)
      : o_(o), pixels_(std::move(pixels)), port_(std::move(port)), c_(std::move(c)) {
    const fs::path base = o.cwd.empty() ? fs::current_path() : fs::path(o.cwd);
    args_ = stage_inputs(without_own_flags(o.args), work_.path(), base);
    nbsim_ = o.nbsim.empty() ? sibling_tool("nbsim") : o.nbsim;
  }

  bool traces() const { return !port_.traces.empty() && !c_.traces.empty(); }
  bool images() const { return port_.image && c_.image; }

  /// The run of a set (cached).
  const SetRun& run(const QuirkSet& set) {
    const auto it = index_.find(set);
    if (it != index_.end()) return result_.runs[it->second];
    Outputs out = simulate(set);
    SetRun r;
    r.quirks = set;
    if (traces()) {
      TraceMatch to_port, to_c;
      for (std::size_t p = 0; p < pixels_.size(); ++p) {
        const double i = i_before_scaling(out.traces[p]).value_or(std::nan(""));
        r.i_before_scaling.push_back(i);
        to_port.i_rel_gap.push_back(pixels_[p].port != 0 ? (i - pixels_[p].port) / pixels_[p].port : std::nan(""));
        to_c.i_rel_gap.push_back(pixels_[p].c != 0 ? (i - pixels_[p].c) / pixels_[p].c : std::nan(""));
        field_agreement(port_.traces[p], out.traces[p], to_port);
        field_agreement(c_.traces[p], out.traces[p], to_c);
      }
      r.vs_port_trace = to_port;
      r.vs_c_trace = to_c;
    }
    if (images()) {
      r.vs_port_image = image_match(*port_.image, *out.image);
      r.vs_c_image = image_match(*c_.image, *out.image);
    }
    r.mismatch_port = mismatch(r, out, port_, /*port=*/true);
    r.mismatch_c = mismatch(r, out, c_, /*port=*/false);
    outputs_.push_back(std::move(out));
    index_[set] = result_.runs.size();
    result_.runs.push_back(std::move(r));
    return result_.runs.back();
  }

  ExplainResult search() {
    result_.threshold = o_.threshold;
    result_.pixels = pixels_;
    if (images()) result_.port_vs_c_image = image_match(*c_.image, *port_.image);
    const QuirkSet spec{};
    run(spec);
    // Each quirk alone; one whose outputs equal spec's is inert here.
    QuirkSet active;
    for (const auto& info : nbsim::kQuirkTable) {
      const QuirkSet alone{std::string(info.id)};
      run(alone);
      const Outputs& a = outputs_[index_.at(alone)];
      const Outputs& s = outputs_[index_.at(spec)];
      if (a.trace_texts == s.trace_texts && a.image_bytes == s.image_bytes) result_.inert.emplace_back(info.id);
      else active.emplace_back(info.id);
    }
    result_.port_set = greedy(active, true);
    result_.c_set = greedy(active, false);
    // Before the shares: C's image may be nanoBragg.c's at another thread
    // count, and then the C set models it at that count.
    if (c_.image) thread_count();

    std::vector<std::pair<QuirkSet, QuirkSet>> pairs{{result_.port_set, result_.c_set}};
    for (const auto& id : active) {
      pairs.push_back({{}, {id}});
      pairs.push_back({{id}, {}});
    }
    for (const auto& [p, c] : pairs) {
      if (p == c) continue;
      if (std::any_of(result_.explanations.begin(), result_.explanations.end(),
                      [&](const Explanation& e) { return e.port_quirks == p && e.c_quirks == c; }))
        continue;
      result_.explanations.push_back(explanation(p, c));
    }
    std::stable_sort(result_.explanations.begin(), result_.explanations.end(), [](const Explanation& a, const Explanation& b) {
      if (a.share != b.share) return a.share > b.share;
      return a.quirks.size() < b.quirks.size();
    });

    const bool no_gap = gap_is_zero();
    if (no_gap) result_.verdict = "no_gap";
    else if (!result_.explanations.empty() && result_.explanations.front().share >= o_.threshold) result_.verdict = "explained";
    else result_.verdict = "unexplained";
    if (traces()) first_divergence();
    return std::move(result_);
  }

 private:
  const ExplainOptions& o_;
  std::vector<PixelGap> pixels_;
  SideData port_, c_;
  ScratchDir work_{"nbparity-explain-"};
  std::vector<std::string> args_;
  std::string nbsim_;
  ExplainResult result_;
  std::map<QuirkSet, std::size_t> index_;
  std::vector<Outputs> outputs_;
  int serial_ = 0;
  /// The C set's image at the thread count that reproduces C's (above 1).
  std::optional<image::Image> threaded_c_image_;

  /// Which OpenMP thread count of nanoBragg.c made C's image: the C set's
  /// run first (one thread), then -c_threads 2..64, until one equals it bit
  /// for bit. Only the phi carry-over (C-PARITY-001) is per thread.
  void thread_count() {
    const QuirkSet& set = result_.c_set;
    const auto same_bits = [&](const Outputs& o) {
      return o.image && o.image->data.size() == c_.image->data.size() &&
             std::memcmp(o.image->data.data(), c_.image->data.data(), c_.image->data.size() * sizeof(float)) == 0;
    };
    if (same_bits(outputs_[index_.at(set)])) {
      result_.c_threads = 1;
      return;
    }
    if (std::find(set.begin(), set.end(), "C-PARITY-001") == set.end()) {
      result_.c_threads_note = "C's image differs from the C set's run, and without C-PARITY-001 in the set the thread "
                               "count changes nothing: not searched";
      return;
    }
    for (int t = 2; t <= 64; ++t) {
      Outputs out;
      try {
        out = simulate(set, t);
      } catch (const ProgramRunFailed& e) {
        result_.c_threads_note = std::string("not searched: ") + e.what();
        return;
      }
      if (same_bits(out)) {
        result_.c_threads = t;
        threaded_c_image_ = std::move(out.image);
        return;
      }
    }
    result_.c_threads_note = "no thread count from 1 to 64 reproduces C's image bit for bit under the C set";
  }

  /// nbsim -mode spec -quirk ID ... ARGS, one run per traced pixel (each
  /// trace is one pixel, as the sides' are); the first run's image. With
  /// c_threads > 0: the image alone, with -c_threads.
  Outputs simulate(const QuirkSet& set, int c_threads = 0) {
    Outputs out;
    const bool trace_runs = traces() && c_threads == 0;
    const std::size_t runs = std::max<std::size_t>(1, trace_runs ? pixels_.size() : 0);
    for (std::size_t p = 0; p < runs; ++p) {
      const std::string stem = fmt::format("run{}", serial_++);
      std::vector<std::string> argv{nbsim_, "-mode", "spec"};
      for (const auto& id : set) argv.insert(argv.end(), {"-quirk", id});
      if (c_threads > 0) argv.insert(argv.end(), {"-c_threads", std::to_string(c_threads)});
      const std::vector<std::string> a = with_floatfile(args_, stem + ".bin");
      argv.insert(argv.end(), a.begin(), a.end());
      if (trace_runs)
        argv.insert(argv.end(), {"-trace_pixel", std::to_string(pixels_[p].slow), std::to_string(pixels_[p].fast),
                                 "-trace_file", stem + ".trace"});
      argv.insert(argv.end(), {"-stats_json", stem + ".json", "-quiet", "-noprogress"});
      ProcessOptions po;
      po.cwd = work_.path();
      po.out = StreamTarget::captured();
      po.err = StreamTarget::captured();
      const ProcessResult r = run_process(argv, po);
      if (!r.started) throw ProgramRunFailed("cannot start " + nbsim_ + ": " + r.start_error);
      if (r.exit_code != 0) {
        std::string why = r.err;
        while (!why.empty() && why.back() == '\n') why.pop_back();
        throw ProgramRunFailed(fmt::format("nbsim exited {} for quirk set [{}]: {}", r.exit_code, fmt::join(set, ", "),
                                      printable(why)));
      }
      if (trace_runs) {
        out.trace_texts.push_back(read_text_file(work_.path() / (stem + ".trace")));
        out.traces.push_back(parse_trace(out.trace_texts.back(), stem + ".trace"));
      }
      if (p == 0) {
        const nbsim::RunSummary summary = nbsim::read_summary((work_.path() / (stem + ".json")).string());
        out.image_bytes = read_text_file(work_.path() / (stem + ".bin"));
        if (port_.image || c_.image)
          out.image = image::load_float_image((work_.path() / (stem + ".bin")).string(),
                                              static_cast<std::size_t>(summary.fpixels),
                                              static_cast<std::size_t>(summary.spixels));
        for (const auto* side : {&port_, &c_})
          if (side->image && out.image && side->image->shape() != out.image->shape())
            throw InputError(fmt::format("the {} image is {}x{} pixels, nbsim's for this command line {}x{}",
                                         side == &port_ ? "port's" : "C", side->image->fast, side->image->slow,
                                         out.image->fast, out.image->slow));
      }
      fs::remove(work_.path() / (stem + ".bin"));
    }
    return out;
  }

  static void field_agreement(const Trace& side, const Trace& model, TraceMatch& m) {
    const DiffResult d = diff_traces(side, model, DiffOptions{});
    m.compared += d.num_compared;
    m.agree += d.num_compared - std::min(d.num_compared, d.num_divergent);
  }

  /// The search's distance of a run to one side (docs/explain.md).
  double mismatch(const SetRun& r, const Outputs& out, const SideData& side, bool port) const {
    double m = 0;
    if (traces()) {
      double num = 0, den = 0;
      for (std::size_t p = 0; p < pixels_.size(); ++p) {
        const double target = port ? pixels_[p].port : pixels_[p].c;
        num += std::fabs(r.i_before_scaling[p] - target);
        den += std::fabs(target);
      }
      m += den > 0 ? num / den : num;
      const TraceMatch& t = port ? *r.vs_port_trace : *r.vs_c_trace;
      if (t.compared) m += 1e-3 * (1.0 - static_cast<double>(t.agree) / static_cast<double>(t.compared));
    }
    if (side.image && out.image) m += l1_relative(out.image->data, side.image->data);
    if (std::isnan(m)) m = std::numeric_limits<double>::infinity();
    return m;
  }

  /// From spec, add the quirk that most lowers the distance to a side,
  /// while one does.
  QuirkSet greedy(const QuirkSet& active, bool port) {
    QuirkSet cur;
    double best = port ? run(cur).mismatch_port : run(cur).mismatch_c;
    for (;;) {
      std::optional<QuirkSet> pick;
      double pick_m = best;
      for (const auto& id : active) {
        if (std::find(cur.begin(), cur.end(), id) != cur.end()) continue;
        const QuirkSet next = with(cur, id);
        const SetRun& r = run(next);
        const double m = port ? r.mismatch_port : r.mismatch_c;
        if (m < pick_m) {
          pick_m = m;
          pick = next;
        }
      }
      // A gain below 1e-9 of the distance is rounding, not a match.
      if (!pick || !(pick_m < best - 1e-9 * best)) return cur;
      cur = *pick;
      best = pick_m;
    }
  }

  Explanation explanation(const QuirkSet& p, const QuirkSet& c) {
    Explanation e;
    e.port_quirks = p;
    e.c_quirks = c;
    e.quirks = symmetric_difference(p, c);
    const SetRun rp = run(p);
    const SetRun rc = run(c);
    if (traces()) {
      std::vector<double> port, cv;
      for (const auto& px : pixels_) {
        port.push_back(px.port);
        cv.push_back(px.c);
      }
      e.share_i_before_scaling = gap_share(port, cv, rp.i_before_scaling, rc.i_before_scaling);
    }
    if (images()) {
      const auto& mp = outputs_[index_.at(p)].image->data;
      const bool threaded = threaded_c_image_ && c == result_.c_set;
      const auto& mc = threaded ? threaded_c_image_->data : outputs_[index_.at(c)].image->data;
      e.share_image = gap_share(as_doubles(port_.image->data), as_doubles(c_.image->data), as_doubles(mp), as_doubles(mc));
    }
    e.share = std::min(e.share_i_before_scaling.value_or(1.0), e.share_image.value_or(1.0));
    if (std::isnan(e.share)) e.share = 0;
    return e;
  }

  bool gap_is_zero() const {
    for (const auto& px : pixels_)
      if (px.port != px.c) return false;
    if (images() && port_.image->data != c_.image->data) return false;
    return true;
  }

  void first_divergence() {
    for (std::size_t p = 0; p < pixels_.size(); ++p) {
      const DiffResult d = diff_traces(c_.traces[p], port_.traces[p], DiffOptions{});
      if (!d.first_divergence) continue;
      const FieldResult& f = d.fields[*d.first_divergence];
      result_.first_divergence =
          FirstDivergence{pixels_[p].slow, pixels_[p].fast, d.field_label(f), std::string(status_name(f.status)), f.max_abs_rel};
      return;
    }
  }
};

/// The pixel of a trace: its TRACE_CONFIG line, else "s<S>_f<F>" in its file name.
std::optional<TracedPixel> pixel_of(const Trace& t, const std::string& path) {
  if (!t.pixels().empty()) return t.pixels().front();
  static const std::regex name(R"(s(\d+)_f(\d+))");
  std::smatch m;
  const std::string file = fs::path(path).filename().string();
  if (std::regex_search(file, m, name)) return TracedPixel{std::stoi(m[1]), std::stoi(m[2])};
  return std::nullopt;
}

Trace load(const std::string& path) { return load_trace_checked(path, "", false, std::cerr); }

/// Runs the reference program once per pixel (a nanoBragg trace is one
/// pixel); the first run's float image is C's image.
SideData run_reference(const ExplainOptions& o, const std::vector<TracedPixel>& pixels, bool want_image) {
  SideData c;
  ScratchDir work("nbparity-explain-c-");
  const fs::path base = o.cwd.empty() ? fs::current_path() : fs::path(o.cwd);
  const std::vector<std::string> args = stage_inputs(without_own_flags(o.args), work.path(), base);
  const std::vector<std::string> program = command_line_argv(o.ref_bin, "--ref-bin");
  const std::size_t runs = std::max<std::size_t>(1, pixels.size());
  for (std::size_t p = 0; p < runs; ++p) {
    std::vector<std::string> argv = program;
    const auto a = with_floatfile(args, "c_image.bin");
    argv.insert(argv.end(), a.begin(), a.end());
    if (!pixels.empty())
      argv.insert(argv.end(), {"-trace_pixel", std::to_string(pixels[p].slow), std::to_string(pixels[p].fast)});
    argv.insert(argv.end(), {"-nonoise", "-nopgm"});
    const RunOutcome r = run_program(argv, work.path(), work.path() / "c_stdout.log", work.path() / "c_stderr.log");
    if (r.exit_code != 0)
      throw ProgramRunFailed(fmt::format("{} exited {} (see its stderr: {})", o.ref_bin, r.exit_code,
                                    printable(read_text_file(work.path() / "c_stderr.log"))));
    if (!pixels.empty()) c.traces.push_back(parse_trace(r.stdout_text, fmt::format("C trace of ({}, {})", pixels[p].slow, pixels[p].fast)));
    if (p == 0 && want_image) {
      const image::Shape shape = image_shape(std::nullopt, nullptr, r.stdout_text, args, (work.path() / "c_image.bin").string());
      c.image = image::load_float_image((work.path() / "c_image.bin").string(), shape.fast, shape.slow);
    }
  }
  return c;
}

void write_outputs(const ExplainOptions& o, const ExplainResult& r) {
  const std::string json_text = nlohmann::json(r).dump(2) + "\n";
  const std::string md = explain_markdown(r);
  AtomicFileSet files;
  if (!o.json_out.empty()) files.add(o.json_out, json_text);
  if (!o.md_out.empty()) files.add(o.md_out, md);
  files.commit();
  if (o.bundle_dir.empty()) return;
  const fs::path bundle = o.bundle_dir;
  bundle::ensure_bundle(bundle, std::nullopt, std::cerr);
  bundle::RunRecord record;
  record.cwd = fs::current_path();
  record.argv = relativize_paths(o.argv.empty() ? std::vector<std::string>{"nbparity", "explain"} : o.argv, record.cwd);
  record.git = bundle::git_state(record.cwd);
  record.start_utc = bundle::utc_now_iso();
  record.exit_code = r.exit_code();
  AtomicFileSet in_bundle;
  in_bundle.add(bundle / "explain.json", json_text);
  in_bundle.add(bundle / "explain.md", md);
  in_bundle.add(bundle / "report.html", explain_html(r));
  in_bundle.commit();
  bundle::append_command(bundle, record);
  bundle::seal_bundle(bundle::SealOptions{bundle.string(), o.tool, 0});
}

}  // namespace

ExplainResult run_explain(const ExplainOptions& o) {
  if (o.args.empty()) throw UsageError("explain: give the nanoBragg command line after --");
  if (o.port_traces.empty() && o.port_image.empty()) throw UsageError("explain: give the port's output: --port-trace and/or --port-image");
  if (o.ref_bin.empty() && o.c_traces.empty() && o.c_image.empty())
    throw UsageError("explain: give nanoBragg.c's output (--c-trace, --c-image) or --ref-bin to run it");
  if (!o.c_traces.empty() && o.c_traces.size() != o.port_traces.size())
    throw UsageError(fmt::format("explain: {} --port-trace but {} --c-trace: give one C trace per port trace, in the same order",
                                 o.port_traces.size(), o.c_traces.size()));
  if (!(o.threshold > 0 && o.threshold <= 1)) throw UsageError("explain: --threshold must be in (0, 1]");

  SideData port, c;
  std::vector<TracedPixel> where;
  for (std::size_t i = 0; i < o.port_traces.size(); ++i) {
    port.traces.push_back(load(o.port_traces[i]));
    if (!o.c_traces.empty()) c.traces.push_back(load(o.c_traces[i]));
    std::optional<TracedPixel> px = pixel_of(port.traces.back(), o.port_traces[i]);
    if (!px && !c.traces.empty()) px = pixel_of(c.traces.back(), o.c_traces[i]);
    if (!px)
      throw InputError(o.port_traces[i] + ": which pixel it traces is not known (no TRACE_CONFIG line, no s<S>_f<F> in its name, no C trace that says)");
    where.push_back(*px);
  }
  if (!o.ref_bin.empty() && c.traces.empty() && o.c_image.empty()) {
    c = run_reference(o, where, !o.port_image.empty());
  }
  if (!o.c_image.empty()) c.image = image::read_image(o.c_image);
  if (!o.port_image.empty()) port.image = image::read_image(o.port_image);
  if (port.image && c.image && port.image->shape() != c.image->shape())
    throw InputError(fmt::format("{} is {}x{} pixels but {} is {}x{}", o.port_image, port.image->fast, port.image->slow,
                                 o.c_image.empty() ? "C's image" : o.c_image, c.image->fast, c.image->slow));

  std::vector<PixelGap> pixels;
  if (!c.traces.empty()) {
    for (std::size_t i = 0; i < where.size(); ++i) {
      const auto ip = i_before_scaling(port.traces[i]);
      const auto ic = i_before_scaling(c.traces[i]);
      if (!ip) throw InputError(port.traces[i].path() + ": no I_before_scaling field");
      if (!ic) throw InputError(c.traces[i].path() + ": no I_before_scaling field");
      pixels.push_back(PixelGap{where[i].slow, where[i].fast, *ip, *ic});
    }
  } else {
    port.traces.clear();  // nothing to compare them with
  }
  if (pixels.empty() && !(port.image && c.image))
    throw UsageError("explain: nothing to compare: give traces of the same pixels, or images, on both sides");

  Search search(o, std::move(pixels), std::move(port), std::move(c));
  ExplainResult result = search.search();
  write_outputs(o, result);
  return result;
}

}  // namespace nbtrace::explain
