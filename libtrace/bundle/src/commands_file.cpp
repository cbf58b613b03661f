// commands.txt: its format, parsing and appending; making a folder a bundle.
#include <charconv>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <sstream>

#include <fmt/format.h>

#include "internal.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/shell.hpp"
#include "nbtrace/base/version.hpp"

namespace nbtrace::bundle {

namespace {

constexpr std::string_view kHeaderPrefix = "# nbbundle commands.txt v1";
constexpr std::string_view kEntryPrefix = "## run";

bool printable_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/// shell_quote, but the result is always printable ASCII: other bytes go
/// through printf octal escapes (POSIX sh), so commands.txt stays ASCII.
std::string quote_ascii(std::string_view arg) {
  if (printable_ascii(arg)) return shell_quote(arg);
  std::string format;  // printf's format string: the argument with % and \ escaped
  for (unsigned char c : arg) {
    if (c == '%') format += "%%";
    else if (c == '\\') format += "\\\\";
    else if (c == '\'') format += "'\\''";
    else if (c >= 0x20 && c <= 0x7e) format += static_cast<char>(c);
    else format += fmt::format("\\{:03o}", c);
  }
  return "\"$(printf '" + format + "')\"";
}

std::string join_ascii(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    out += quote_ascii(a);
  }
  return out;
}

/// Field values: bytes outside '!'..'~' and '%' become %XX, so a value never
/// holds a space and the header stays one ASCII line.
std::string encode_value(std::string_view v) {
  std::string out;
  for (unsigned char c : v) {
    if (c <= 0x20 || c >= 0x7f || c == '%') {
      out += fmt::format("%{:02X}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out.empty() ? "%00" : out;
}

std::string decode_value(std::string_view v) {
  if (v == "%00") return "";
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && std::isxdigit(static_cast<unsigned char>(v[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
      // Two hex digits (checked above): cannot fail.
      unsigned byte = 0;
      std::from_chars(v.data() + i + 1, v.data() + i + 3, byte, 16);
      out += static_cast<char>(byte);
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

std::string collapse_ws(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

std::string format_duration(double s) { return fmt::format("{:.3f}", s); }

std::optional<std::string> read_if_exists(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) throw InputError(p.string() + ": cannot read: " + std::strerror(errno));
  std::string s;
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  std::fclose(f);
  return s;
}

}  // namespace

FolderLock::FolderLock(const fs::path& dir) : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
  if (fd_ < 0) throw OutputError(dir.string() + ": cannot open: " + std::strerror(errno));
  while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
  }
}

FolderLock::~FolderLock() { ::close(fd_); }

// ---------------------------------------------------------------- commands.txt

std::string commands_header(std::string_view bundle_id) {
  return std::string(kHeaderPrefix) + " bundle=" + std::string(bundle_id) +
         "\n# Each entry: a '## run' line of key=value fields, then the command line.\n"
         "# Re-run a command from the folder that contains this bundle (see docs/bundles.md).\n\n";
}

CommandsFile parse_commands(std::string_view text) {
  CommandsFile f;
  std::vector<std::string> lines;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t nl = text.find('\n', start);
    std::string_view l = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.emplace_back(l);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.starts_with(kHeaderPrefix)) {
      const std::size_t at = l.find(" bundle=");
      if (at != std::string::npos) f.bundle_id = collapse_ws(l.substr(at + 8));
      continue;
    }
    if (l.starts_with(kEntryPrefix) && (l.size() == kEntryPrefix.size() || l[kEntryPrefix.size()] == ' ')) {
      CommandEntry e;
      e.line = i + 1;
      std::istringstream tokens(l.substr(kEntryPrefix.size()));
      for (std::string tok; tokens >> tok;) {
        const std::size_t eq = tok.find('=');
        if (eq == std::string::npos || eq == 0) {
          f.problems.emplace_back(i + 1, "field '" + tok + "' is not key=value");
          continue;
        }
        e.fields[tok.substr(0, eq)] = decode_value(tok.substr(eq + 1));
      }
      if (i + 1 < lines.size() && !lines[i + 1].empty() && lines[i + 1][0] != '#') {
        e.command = lines[++i];
      } else {
        f.problems.emplace_back(i + 1, "entry header without a command line after it");
      }
      for (const char* key : {"n", "start", "duration_s", "exit", "cwd", "git", "dirty", "run"}) {
        if (!e.fields.count(key)) f.problems.emplace_back(e.line, std::string("entry lacks field '") + key + "'");
      }
      f.entries.push_back(std::move(e));
      continue;
    }
    if (l.empty() || l[0] == '#') continue;
    // A hand-written command, possibly continued with trailing backslashes.
    std::string cmd = l;
    while (!cmd.empty() && cmd.back() == '\\' && i + 1 < lines.size()) {
      cmd.pop_back();
      cmd += ' ' + lines[++i];
    }
    f.legacy_commands.push_back(collapse_ws(cmd));
  }
  return f;
}

std::string recorded_command_line(const fs::path& bundle, const RunRecord& run) {
  const fs::path parent = fs::weakly_canonical(fs::absolute(bundle)).parent_path();
  const fs::path rel = fs::weakly_canonical(run.cwd).lexically_relative(parent);
  const std::string cmd = join_ascii(run.argv);
  if (rel.empty() || rel == ".") return cmd;
  return "(cd " + quote_ascii(rel.generic_string()) + " && " + cmd + ")";
}

AppendResult append_command(const fs::path& bundle, const RunRecord& run) {
  const FolderLock lock(bundle);
  const fs::path path = bundle / kCommandsName;
  const std::string old = read_if_exists(path).value_or("");
  const CommandsFile parsed = parse_commands(old);

  AppendResult r;
  r.command_line = recorded_command_line(bundle, run);
  r.number = parsed.entries.size() + 1;
  for (const CommandEntry& e : parsed.entries) {
    if (e.command == r.command_line) {
      r.rerun = true;
      if (auto n = e.fields.find("n"); n != e.fields.end()) r.rerun_of = std::strtoul(n->second.c_str(), nullptr, 10);
      break;
    }
  }
  if (!r.rerun) {
    const std::string flat = collapse_ws(r.command_line);
    for (const std::string& c : parsed.legacy_commands) r.rerun = r.rerun || c == flat;
  }

  const fs::path bundle_abs = fs::weakly_canonical(fs::absolute(bundle));
  const fs::path cwd_rel = fs::weakly_canonical(run.cwd).lexically_relative(bundle_abs);
  std::string entry = std::string(kEntryPrefix) + " n=" + std::to_string(r.number) + " start=" +
                      encode_value(run.start_utc) + " duration_s=" + format_duration(run.duration_s) +
                      " exit=" + std::to_string(run.exit_code) +
                      " cwd=" + encode_value(cwd_rel.empty() ? "." : cwd_rel.generic_string()) +
                      " git=" + encode_value(run.git.sha) + " dirty=" + (run.git.dirty ? "yes" : "no") +
                      " git_from=" + (run.git.from_build ? "build" : "cwd") + " run=" + (r.rerun ? "rerun" : "first");
  if (r.rerun_of) entry += " of=" + std::to_string(*r.rerun_of);
  if (!run.stdout_file.empty()) entry += " stdout=" + encode_value(run.stdout_file);
  if (!run.stderr_file.empty()) entry += " stderr=" + encode_value(run.stderr_file);
  entry += "\n" + r.command_line + "\n\n";

  std::string content = old;
  if (content.empty()) content = commands_header(bundle_id_from_path(bundle).value_or(bundle_id_now()));
  else if (!content.ends_with("\n\n")) content += content.ends_with('\n') ? "\n" : "\n\n";
  content += entry;
  write_file_atomic(path, content);
  return r;
}

std::string ensure_bundle(const fs::path& dir, std::optional<std::string> id, std::ostream& err) {
  if (id && !is_bundle_id(*id)) throw UsageError("--id " + *id + ": expected a UTC time as YYYYMMDDTHHMMSSZ");
  const std::optional<std::string> path_id = bundle_id_from_path(dir);
  if (id && path_id && *id != *path_id) {
    throw UsageError("--id " + *id + " contradicts the id " + *path_id + " in the folder name " + dir.string());
  }
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) throw UsageError(dir.string() + ": exists and is not a folder");
  const fs::path cmds = dir / kCommandsName;
  if (const auto existing = read_if_exists(cmds)) {
    const CommandsFile f = parse_commands(*existing);
    if (f.bundle_id && id && *f.bundle_id != *id) {
      throw UsageError(dir.string() + " is already bundle " + *f.bundle_id + " (--id " + *id + ")");
    }
    return f.bundle_id ? *f.bundle_id : id ? *id : path_id ? *path_id : bundle_id_now();
  }
  const std::string chosen = id ? *id : path_id ? *path_id : bundle_id_now();
  fs::create_directories(dir, ec);
  if (ec) throw OutputError(dir.string() + ": cannot create folder: " + ec.message());
  write_file_atomic(cmds, commands_header(chosen));
  if (!path_id) {
    err << "nbbundle: note: " << dir.string() << ": the folder name carries no bundle id; audit matches ids "
        << "against the folder name (e.g. name it .../" << chosen << ")\n";
  }
  return chosen;
}

}  // namespace nbtrace::bundle
