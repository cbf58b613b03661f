// Bundle ids, the sha256sum manifest format, safe opening of listed files,
// the file inventory and `nbbundle verify`.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <ctime>
#include <ostream>

#include <fmt/format.h>

#include "internal.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/bundle/sha256.hpp"

namespace nbtrace::bundle {

// ---------------------------------------------------------------- ids

bool is_bundle_id(std::string_view s) noexcept {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  for (std::size_t i = 0; i < 15; ++i) {
    if (i == 8) continue;
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

namespace {
std::string utc_now(const char* format) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}
}  // namespace

std::string bundle_id_now() { return utc_now("%Y%m%dT%H%M%SZ"); }

std::string utc_now_iso() { return utc_now("%Y-%m-%dT%H:%M:%SZ"); }

std::optional<std::string> bundle_id_from_path(const fs::path& dir) {
  // Ids sit in the bundle folder's name or, for sub-bundles such as
  // 20251008T212459Z/spec_baseline, in its parent's; deeper ancestors are
  // unrelated run folders.
  fs::path p = fs::absolute(dir).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  for (int depth = 0; depth < 2 && !p.empty(); ++depth) {
    const std::string name = p.filename().string();
    if (is_bundle_id(name)) return name;
    if (p == p.parent_path()) break;
    p = p.parent_path();
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- manifest format

namespace {

bool is_white(char c) { return c == ' ' || c == '\t'; }

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// GNU filename_unescape: `\\`, `\n`, `\r`; anything else is malformed.
std::optional<std::string> unescape_name(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\0') return std::nullopt;
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) return std::nullopt;
    switch (s[i]) {
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      default: return std::nullopt;
    }
  }
  return out;
}

bool needs_escape(std::string_view path) { return path.find_first_of("\\\n\r") != std::string_view::npos; }

std::string escape_name(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

/// Parses one line (without its newline). Mirrors coreutils' split_3.
std::optional<ManifestEntry> parse_line(std::string_view s, int& one_space_mode) {
  std::size_t i = 0;
  while (i < s.size() && is_white(s[i])) ++i;
  bool escaped = false;
  if (i < s.size() && s[i] == '\\') {
    escaped = true;
    ++i;
  }
  ManifestEntry e;
  e.escaped = escaped;
  std::string_view rest = s.substr(i);
  std::string_view name;
  if (rest.starts_with("SHA256 (") || rest.starts_with("SHA256(")) {
    // BSD: SHA256 (name) = hex; the name is not escaped by BSD tools, so
    // the last ") = " closes it.
    rest.remove_prefix(rest.find('(') + 1);
    const std::size_t close = rest.rfind(')');
    if (close == std::string_view::npos) return std::nullopt;
    name = rest.substr(0, close);
    std::size_t j = close + 1;
    while (j < rest.size() && is_white(rest[j])) ++j;
    if (j >= rest.size() || rest[j] != '=') return std::nullopt;
    ++j;
    while (j < rest.size() && is_white(rest[j])) ++j;
    const std::string_view hex = rest.substr(j);
    if (!is_hex64(hex)) return std::nullopt;
    e.hex = lower(hex);
    e.format = LineFormat::bsd;
  } else {
    if (rest.size() < 66 || !is_hex64(rest.substr(0, 64)) || !is_white(rest[64])) return std::nullopt;
    e.hex = lower(rest.substr(0, 64));
    std::size_t j = 65;
    const bool marker = rest.size() - j > 1 && (rest[j] == ' ' || rest[j] == '*');
    if (!marker) {
      // "<hex> <name>" (BSD -r style): like coreutils, only when no earlier
      // line used the two-column form, so a leading space cannot smuggle in.
      if (one_space_mode == 0) return std::nullopt;
      one_space_mode = 1;
      e.format = LineFormat::gnu_one_space;
    } else {
      if (one_space_mode == 1) return std::nullopt;
      one_space_mode = 0;
      e.format = rest[j] == '*' ? LineFormat::gnu_binary : LineFormat::gnu;
      ++j;
    }
    name = rest.substr(j);
  }
  if (name.empty()) return std::nullopt;
  if (escaped) {
    auto un = unescape_name(name);
    if (!un) return std::nullopt;
    e.path = std::move(*un);
  } else {
    if (name.find('\0') != std::string_view::npos) return std::nullopt;
    e.path = std::string(name);
  }
  return e;
}

/// A malformed line as reports show it: escaped and cut to 120 characters.
std::string shown_line(std::string_view s) {
  const std::string out = printable(s);
  return out.size() > 120 ? out.substr(0, 117) + "..." : out;
}

}  // namespace

Manifest parse_manifest(std::string_view text) {
  Manifest m;
  int one_space_mode = -1;  // -1 undecided, 0 two-column GNU, 1 one-space
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.front() == '#') continue;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (auto e = parse_line(line, one_space_mode)) {
      e->line = line_no;
      m.entries.push_back(std::move(*e));
    } else {
      m.malformed.push_back({line_no, shown_line(line)});
    }
  }
  return m;
}

std::string manifest_line(std::string_view hex, std::string_view path) {
  // Built by appending: GCC 12 warns falsely (-Wrestrict) on "\\" + string.
  std::string line;
  const bool esc = needs_escape(path);
  if (esc) line += '\\';
  line += hex;
  line += "  ";
  line += esc ? escape_name(path) : std::string(path);
  line += '\n';
  return line;
}

std::string display_name(std::string_view path) {
  if (!needs_escape(path)) return std::string(path);
  std::string out(1, '\\');
  out += escape_name(path);
  return out;
}

// ---------------------------------------------------------------- safety

bool is_within(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

EntrySafety classify_entry(const fs::path& root, std::string_view path) {
  if (path.empty()) return EntrySafety::empty;
  const bool drive = path.size() >= 3 && std::isalpha(static_cast<unsigned char>(path[0])) && path[1] == ':' &&
                     (path[2] == '/' || path[2] == '\\');
  if (path.front() == '/' || path.front() == '\\' || drive) return EntrySafety::absolute;
  for (std::size_t start = 0;;) {
    const std::size_t slash = path.find('/', start);
    if (path.substr(start, slash - start) == "..") return EntrySafety::dotdot;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(root / fs::path(std::string(path)), ec);
  if (ec == std::errc::too_many_symbolic_link_levels) return EntrySafety::symlink_loop;
  if (ec || !is_within(root, resolved)) return EntrySafety::symlink_escape;
  return EntrySafety::safe;
}

std::string_view safety_reason(EntrySafety s) noexcept {
  switch (s) {
    case EntrySafety::safe: return "safe";
    case EntrySafety::absolute: return "absolute path";
    case EntrySafety::dotdot: return "'..' leaves the bundle";
    case EntrySafety::empty: return "empty name";
    case EntrySafety::symlink_escape: return "symlink pointing outside the bundle";
    case EntrySafety::symlink_loop: return "symlink loop";
  }
  return "?";
}

RootDir::RootDir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(dir.string() + ": not a folder");
  canonical = fs::canonical(dir, ec);
  if (ec) throw InputError(dir.string() + ": " + ec.message());
  fd = ::open(canonical.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw InputError(dir.string() + ": cannot open: " + std::strerror(errno));
}

RootDir::~RootDir() {
  if (fd >= 0) ::close(fd);
}

int open_beneath(int root_fd, const std::string& rel) {
  // openat2 with RESOLVE_BENEATH makes the kernel refuse any path that
  // leaves the bundle (symlinks, '..', races after classify_entry).
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
  if (fd >= 0) return static_cast<int>(fd);
  if (errno != ENOSYS && errno != EPERM) return -errno;
  const int plain = ::openat(root_fd, rel.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  return plain >= 0 ? plain : -errno;
}

FileDigest hash_beneath(int root_fd, const std::string& rel, std::vector<char>& buffer) {
  FileDigest d;
  const int fd = open_beneath(root_fd, rel);
  if (fd < 0) {
    d.error = -fd;
    return d;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    d.error = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    ::close(fd);
    return d;
  }
  ::fcntl(fd, F_SETFL, 0);  // back to blocking reads for a regular file
  const FdHash h = sha256_fd(fd, buffer);
  ::close(fd);
  d.ok = h.ok;
  d.error = h.error;
  d.hex = h.hex;
  d.bytes = h.bytes;
  return d;
}

std::string read_beneath(int root_fd, const std::string& rel, std::uint64_t limit, const std::string& shown_in) {
  const std::string& shown = shown_in.empty() ? rel : shown_in;
  const int fd = open_beneath(root_fd, rel);
  if (fd < 0) throw InputError(shown + ": cannot open: " + std::strerror(-fd));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(shown + ": not a regular file");
  }
  ::fcntl(fd, F_SETFL, 0);
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      throw InputError(shown + ": read error: " + std::strerror(e));
    }
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit) break;
  }
  ::close(fd);
  return out;
}

// ---------------------------------------------------------------- machine paths (B005)

namespace {
bool path_boundary(char c) { return std::string_view(" \t\"'`=:(,[<>{|;").find(c) != std::string_view::npos; }
}  // namespace

bool path_end(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || std::string_view("\"'`),;]>|}").find(c) != std::string_view::npos;
}

std::vector<std::string> machine_paths(std::string_view line) {
  static constexpr std::string_view portable[] = {"/dev/", "/proc/", "/sys/", "/bin/", "/usr/bin/", "/etc/"};
  std::vector<std::string> found;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const bool at_boundary = i == 0 || path_boundary(line[i - 1]);
    if (!at_boundary) continue;
    std::size_t end = i;
    while (end < line.size() && !path_end(line[end])) ++end;
    const std::string_view tok = line.substr(i, end - i);
    const bool unix_path = tok.size() > 3 && tok[0] == '/' && (std::isalnum(static_cast<unsigned char>(tok[1])) ||
                                                               tok[1] == '_' || tok[1] == '.' || tok[1] == '~') &&
                           tok.find('/', 1) != std::string_view::npos && tok.find('/', 1) + 1 < tok.size();
    const bool drive_path = tok.size() > 3 && std::isalpha(static_cast<unsigned char>(tok[0])) && tok[1] == ':' &&
                            tok[2] == '\\' && std::isalnum(static_cast<unsigned char>(tok[3]));
    if (unix_path) {
      const bool is_portable = std::any_of(std::begin(portable), std::end(portable),
                                           [&](std::string_view p) { return tok.starts_with(p); });
      if (!is_portable) found.emplace_back(tok);
    } else if (drive_path) {
      found.emplace_back(tok);
    }
    if (unix_path || drive_path) i = end;
  }
  return found;
}

// ---------------------------------------------------------------- inventory

std::vector<BundleFile> list_files(const fs::path& root_in) {
  std::error_code ec;
  const fs::path root = fs::canonical(root_in, ec);
  if (ec) throw InputError(root_in.string() + ": " + ec.message());
  std::vector<BundleFile> files;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) throw InputError(root_in.string() + ": cannot list: " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw InputError(root_in.string() + ": cannot list: " + ec.message());
    const fs::directory_entry& e = *it;
    BundleFile f;
    f.path = e.path().lexically_relative(root).generic_string();
    f.staging = is_staging_path(f.path);
    if (e.is_symlink(ec)) {
      f.symlink = true;
      const fs::path target = fs::weakly_canonical(e.path(), ec);
      f.loops = ec == std::errc::too_many_symbolic_link_levels;
      f.escapes = !f.loops && (ec || !is_within(root, target));
      // A link to a folder inside the bundle is not a file; its files are
      // listed under their real path.
      if (!f.unfollowable() && fs::is_directory(target, ec)) continue;
    } else if (e.is_directory(ec)) {
      continue;
    } else {
      f.size = e.file_size(ec);
    }
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(), [](const BundleFile& a, const BundleFile& b) { return a.path < b.path; });
  return files;
}

// ---------------------------------------------------------------- verify

std::string_view verdict_name(Verdict v) noexcept {
  switch (v) {
    case Verdict::ok: return "OK";
    case Verdict::failed: return "FAILED";
    case Verdict::missing: return "MISSING";
    case Verdict::refused: return "REFUSED";
  }
  return "?";
}

std::size_t VerifyResult::count(Verdict v) const {
  return static_cast<std::size_t>(
      std::count_if(items.begin(), items.end(), [v](const VerifyItem& i) { return i.verdict == v; }));
}

bool VerifyResult::all_ok() const { return count(Verdict::ok) == items.size(); }

VerifyResult verify_manifest(const fs::path& dir, std::string_view manifest_name, unsigned threads,
                             bool list_unlisted, ProgressMeter* progress) {
  const RootDir root(dir);
  const std::string manifest(manifest_name);
  const std::string shown = (dir / manifest).string();
  const EntrySafety safety = classify_entry(root.canonical, manifest);
  if (safety == EntrySafety::symlink_escape || safety == EntrySafety::symlink_loop)
    throw InputError(shown + ": " + std::string(safety_reason(safety)) + "; refused");
  if (safety != EntrySafety::safe) throw UsageError("--manifest " + manifest + ": must name a file inside the bundle");
  Manifest m = parse_manifest(read_beneath(root.fd, manifest, std::uint64_t{1} << 30, shown));

  VerifyResult r;
  r.manifest = manifest;
  r.malformed = std::move(m.malformed);
  r.items.resize(m.entries.size());
  std::vector<std::size_t> to_hash;
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    VerifyItem& item = r.items[i];
    item.entry = std::move(m.entries[i]);
    const EntrySafety s = classify_entry(root.canonical, item.entry.path);
    if (s != EntrySafety::safe) {
      item.verdict = Verdict::refused;
      item.detail = std::string(safety_reason(s));
    } else {
      to_hash.push_back(i);
    }
  }
  if (progress) progress->start(to_hash.size());
  parallel_for_files(to_hash.size(), threads, [&](std::size_t k, std::vector<char>& buffer) {
    VerifyItem& item = r.items[to_hash[k]];
    const FileDigest d = hash_beneath(root.fd, item.entry.path, buffer);
    if (progress) progress->advance();
    if (!d.ok) {
      if (d.error == ENOENT || d.error == ENOTDIR) {
        item.verdict = Verdict::missing;
      } else if (d.error == EXDEV || d.error == ELOOP) {
        // RESOLVE_BENEATH says EXDEV for a way out and ELOOP for a loop.
        item.verdict = Verdict::refused;
        item.detail = std::string(safety_reason(d.error == ELOOP ? EntrySafety::symlink_loop : EntrySafety::symlink_escape));
      } else {
        item.verdict = Verdict::failed;
        item.detail = d.error == EINVAL ? "not a regular file" : std::strerror(d.error);
      }
    } else if ((item.hex = d.hex) != item.entry.hex) {
      item.verdict = Verdict::failed;
      item.detail = item.entry.path == manifest ? "the manifest lists itself" : "";
    }
  });
  if (progress) progress->finish();
  if (list_unlisted) {
    std::vector<std::string> listed;
    for (const VerifyItem& i : r.items) listed.push_back(i.entry.path);
    std::sort(listed.begin(), listed.end());
    for (const BundleFile& f : list_files(root.canonical)) {
      if (f.path != manifest && !f.staging && !std::binary_search(listed.begin(), listed.end(), f.path))
        r.unlisted.push_back(f.path);
    }
  }
  return r;
}

bool VerifyResult::passes(bool strict) const {
  return all_ok() && (!strict || (malformed.empty() && unlisted.empty()));
}

}  // namespace nbtrace::bundle
