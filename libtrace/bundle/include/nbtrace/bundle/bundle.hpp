#pragma once
// Evidence bundles: a folder of traces, metrics, summaries and logs with
// commands.txt (what ran), env.json, git_sha.txt and sha256.txt (a GNU
// sha256sum manifest of every other file). This module makes bundles that
// are correct by construction (init, record, seal) and checks any bundle,
// hand-made ones included (verify, audit). docs/bundles.md describes the
// layout, the commands.txt format and the audit codes.
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nbtrace/base/progress.hpp"

namespace nbtrace::bundle {

namespace fs = std::filesystem;

inline constexpr std::string_view kManifestName = "sha256.txt";
inline constexpr std::string_view kCommandsName = "commands.txt";
inline constexpr std::string_view kGitShaName = "git_sha.txt";
inline constexpr std::string_view kEnvName = "env.json";

// ---------------------------------------------------------------- ids

/// True for a bundle id: UTC time as YYYYMMDDTHHMMSSZ.
bool is_bundle_id(std::string_view s) noexcept;
/// The current UTC time as a bundle id.
std::string bundle_id_now();
/// The id carried by the folder's name or its parent's name (nearest first).
std::optional<std::string> bundle_id_from_path(const fs::path& dir);

// ---------------------------------------------------------------- manifest

enum class LineFormat { gnu, gnu_binary, bsd, gnu_one_space };

struct ManifestEntry {
  std::size_t line = 0;  ///< 1-based line in the manifest
  std::string path;      ///< unescaped file name as listed
  std::string hex;       ///< lower-case digest
  LineFormat format = LineFormat::gnu;
  bool escaped = false;  ///< the line used GNU's leading-backslash escaping
};

struct ManifestLineProblem {
  std::size_t line = 0;
  std::string text;  ///< the offending line (printable form)
};

struct Manifest {
  std::vector<ManifestEntry> entries;
  std::vector<ManifestLineProblem> malformed;
};

/// Parses sha256sum -c input: GNU `<hex>  <name>` / `<hex> *<name>` (with
/// GNU's `\` escaping), BSD `SHA256 (<name>) = <hex>`; `#` lines and empty
/// lines are skipped, as sha256sum does.
Manifest parse_manifest(std::string_view text);
/// One GNU manifest line (with '\n'), escaping `\`, LF and CR as GNU does.
std::string manifest_line(std::string_view hex, std::string_view path);
/// The name as sha256sum prints it (`\`-prefixed escaped form when needed).
std::string display_name(std::string_view path);

enum class EntrySafety { safe, absolute, dotdot, empty, symlink_escape, symlink_loop };
/// Whether a listed name stays inside the bundle rooted at `root` (a
/// canonical path). Symlinks are resolved, but nothing is opened.
EntrySafety classify_entry(const fs::path& root, std::string_view path);
std::string_view safety_reason(EntrySafety s) noexcept;

/// Absolute paths in a line of text that tie it to one machine (audit code
/// B005): `/a/b…` with two components or more after a boundary (start,
/// space, quote, `=`, `:`, `(`, …) and drive paths `C:\…`; system paths that
/// mean the same everywhere (/dev/, /proc/, /sys/, /bin/, /usr/bin/, /etc/)
/// are left out.
std::vector<std::string> machine_paths(std::string_view line);

// ---------------------------------------------------------------- files

struct BundleFile {
  std::string path;       ///< relative, '/' separated
  bool symlink = false;
  bool escapes = false;   ///< a symlink resolving outside the bundle
  bool loops = false;     ///< a symlink in a loop: it resolves to nothing
  /// Debris of an interrupted write (the staging folder, NAME.tmp.PID):
  /// never sealed or verified; audit reports it (B015).
  bool staging = false;
  std::uint64_t size = 0;
  /// A symlink that cannot be followed inside the bundle (out of it, or a loop).
  bool unfollowable() const { return escapes || loops; }
  /// Why it cannot be followed, for messages ("" when it can).
  std::string_view link_problem() const {
    return loops ? "a symlink loop" : escapes ? "a symlink pointing outside the bundle" : "";
  }
};

/// Every file below `root` (recursively; symlinks listed, not followed into
/// folders), sorted by path bytes.
std::vector<BundleFile> list_files(const fs::path& root);

// ---------------------------------------------------------------- verify

enum class Verdict { ok, failed, missing, refused };
std::string_view verdict_name(Verdict v) noexcept;

struct VerifyItem {
  ManifestEntry entry;
  Verdict verdict = Verdict::ok;
  std::string detail;  ///< why it failed, missing or was refused
  std::string hex;     ///< the file's digest, when it could be hashed
};

struct VerifyResult {
  std::string manifest;  ///< manifest name relative to the bundle
  std::vector<VerifyItem> items;
  std::vector<ManifestLineProblem> malformed;
  std::vector<std::string> unlisted;  ///< filled with list_unlisted
  std::size_t count(Verdict v) const;
  bool all_ok() const;
  /// What `nbbundle verify` calls a pass: every listed file verifies and,
  /// when strict, no line is malformed and no file goes unlisted.
  bool passes(bool strict) const;
};

/// Checks every listed file (in parallel). With list_unlisted, also lists
/// the files present but not listed (the manifest itself excluded).
/// Throws InputError when the folder or manifest cannot be read, UsageError
/// when `manifest` names a path outside the folder. A `progress` meter is
/// started with the number of files to hash and advanced as each is done.
VerifyResult verify_manifest(const fs::path& dir, std::string_view manifest, unsigned threads, bool list_unlisted,
                             ProgressMeter* progress = nullptr);


// ---------------------------------------------------------------- git, env

struct GitState {
  std::string sha;     ///< full sha, or build_git_sha() outside a git tree
  bool dirty = false;  ///< tracked files differ from HEAD
  bool from_build = false;  ///< the fallback was used
};

/// The git state of the repository containing `cwd` (git rev-parse HEAD and
/// git status --porcelain --untracked-files=no); outside a git tree, the
/// sha the tools were built from.
GitState git_state(const fs::path& cwd);
/// git_sha.txt content: sha, `-dirty` suffix, newline.
std::string git_sha_text(const GitState& g);

struct GpuInfo {
  std::string model;
  std::string driver;  ///< empty when unknown
};
/// NVIDIA GPUs as the driver lists them under `proc_dir` (normally
/// /proc/driver/nvidia: version, gpus/*/information); empty without one.
std::vector<GpuInfo> nvidia_gpus(const fs::path& proc_dir = "/proc/driver/nvidia");

/// env.json: the sealing tool and its version line (version_line(tool)),
/// compiler and flags, OS, CPU model, threads, GPU and driver where present.
std::string environment_json(std::string_view bundle_id, const GitState& git, std::string_view tool);

// ---------------------------------------------------------------- commands.txt

/// One entry of commands.txt.
struct CommandEntry {
  std::size_t line = 0;  ///< line of the `## run` header
  std::map<std::string, std::string> fields;  ///< decoded key=value fields
  std::string command;   ///< the command line (sh, run from the bundle's parent)
};

struct CommandsFile {
  std::optional<std::string> bundle_id;  ///< from the file header
  std::vector<CommandEntry> entries;
  /// Hand-written commands (non-comment lines, `\` continuations joined,
  /// whitespace collapsed), as in the bundles people assembled by hand.
  std::vector<std::string> legacy_commands;
  std::vector<std::pair<std::size_t, std::string>> problems;  ///< line, message
};

CommandsFile parse_commands(std::string_view text);

/// The header of a new commands.txt.
std::string commands_header(std::string_view bundle_id);

/// A run to append to commands.txt.
struct RunRecord {
  std::vector<std::string> argv;
  fs::path cwd;  ///< where it ran (absolute)
  std::string start_utc;  ///< YYYY-MM-DDTHH:MM:SSZ
  double duration_s = 0;
  int exit_code = 0;
  GitState git;
  std::string stdout_file, stderr_file;  ///< captures, relative to the bundle
};

/// The command line as recorded: shell-quoted, ASCII only (other bytes via
/// printf octal escapes), prefixed by `(cd REL && …)` unless it ran in the
/// bundle's parent.
std::string recorded_command_line(const fs::path& bundle, const RunRecord& run);

struct AppendResult {
  std::size_t number = 0;  ///< entry number n
  bool rerun = false;      ///< the same command line appears earlier
  std::optional<std::size_t> rerun_of;  ///< n of its first nbbundle entry (none for a hand-written one)
  std::string command_line;
};

/// Appends the entry (atomically, under a lock on the bundle folder),
/// creating commands.txt when absent.
AppendResult append_command(const fs::path& bundle, const RunRecord& run);

/// Makes `dir` a bundle if it is not one yet (folder, commands.txt header).
/// Returns the bundle id. Throws UsageError when `id` contradicts the id in
/// the path or in an existing commands.txt.
std::string ensure_bundle(const fs::path& dir, std::optional<std::string> id, std::ostream& err);

std::string utc_now_iso();


struct SealOptions {
  std::string dir;
  /// The tool that seals ("nbbundle", "nbparity", ...): env.json records it
  /// as "tool" and its version line as "tool_version_line". Required:
  /// seal_bundle throws std::logic_error when it is empty.
  std::string tool;
  unsigned threads = 0;
  /// The git state to record; unset: asked of git for the current folder
  /// (a batch passes it once for all its bundles).
  std::optional<GitState> git = std::nullopt;
  /// Files of sealed sub-bundles (folders with their own manifest) take
  /// the digest that manifest lists, unless modified after it was written:
  /// sealing a batch folder then reads only what is new. `verify` still
  /// hashes every file.
  bool reuse_subbundle_digests = false;
};
struct SealResult {
  std::size_t files = 0;
  std::uint64_t bytes = 0;
  std::vector<std::string> added, changed, removed;  ///< against the previous manifest
};
/// Checks and hashes every file first; then writes env.json, git_sha.txt and
/// sha256.txt as one set. A seal that refuses (an entry escaping the
/// bundle, an unreadable file) has changed nothing. Throws std::logic_error
/// when opt.tool is empty (a caller's bug, not the user's).
SealResult seal_bundle(const SealOptions& opt);
/// What `nbbundle seal` prints: "sealed DIR: N files, B bytes in sha256.txt"
/// and the files added, changed and removed.
std::string seal_report(std::string_view dir, const SealResult& r);

// ---------------------------------------------------------------- audit

/// Stable audit codes (docs/bundles.md).
namespace code {
inline constexpr std::string_view manifest_lists_itself = "B001";
inline constexpr std::string_view listed_missing = "B002";
inline constexpr std::string_view hash_mismatch = "B003";
inline constexpr std::string_view not_covered = "B004";
inline constexpr std::string_view absolute_path = "B005";
inline constexpr std::string_view non_ascii_commands = "B006";
inline constexpr std::string_view git_sha = "B007";
inline constexpr std::string_view id_mismatch = "B008";
inline constexpr std::string_view metrics_inconsistent = "B009";
inline constexpr std::string_view required_missing = "B010";
inline constexpr std::string_view unsafe_entry = "B011";
inline constexpr std::string_view malformed_line = "B012";
inline constexpr std::string_view commands_format = "B013";
inline constexpr std::string_view manifest_format = "B014";
inline constexpr std::string_view stray_staging = "B015";
}  // namespace code

enum class Severity { warning, error };
std::string_view severity_name(Severity s) noexcept;

struct Finding {
  std::string code;
  Severity severity = Severity::error;
  std::string file;  ///< relative to the bundle
  std::string message;
};

struct AuditOptions {
  std::string dir;
  std::string manifest = std::string(kManifestName);
  std::string kind = "auto";  ///< auto, scaling, generic
  unsigned threads = 0;
};

struct AuditResult {
  std::string kind;  ///< the kind checked
  std::vector<Finding> findings;
  std::size_t errors() const;
};

AuditResult audit_bundle(const AuditOptions& opt);
/// {"findings": [{"code","severity","file","message"}…]} plus kind/counts.
std::string findings_json(const AuditResult& r);

}  // namespace nbtrace::bundle
