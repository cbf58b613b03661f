#pragma once
// Files: whole-file reads, all-or-nothing output (content is staged beside
// its target and renamed over it only when complete, so a failure never
// leaves a half-written file or half a set), scratch folders.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace nbtrace {

/// Name of the staging folder that outputs are written into before they are
/// renamed over their targets, one beside each target. A process killed
/// mid-write leaves its debris there and nowhere else: bundle seal and
/// verify skip it, audit reports it as stray.
inline constexpr std::string_view kStagingDirName = ".nbstage";

/// True when a relative path lies in a staging folder or names an old-style
/// temporary output (`NAME.tmp.PID...`).
bool is_staging_path(std::string_view relative_path) noexcept;

/// A fresh path in the staging folder beside `target` (the folder is made
/// when missing), for output that must be streamed before it is renamed
/// over `target`. Throws OutputError.
std::filesystem::path staging_path_for(const std::filesystem::path& target);
/// Removes the staging folder beside `target` when it is empty.
void remove_empty_staging(const std::filesystem::path& target) noexcept;

/// Writes `content` to `path` atomically (staged, fsync, rename). Creates
/// missing parent folders. Throws OutputError on failure, and then `path`
/// is as it was.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

/// Several outputs committed as one: commit() writes every file into the
/// staging folder beside its target, keeps a link to each target that
/// already exists, then renames the new files over the targets. When any
/// step fails every target is put back as it was (restored, or removed when
/// it did not exist) and the staging debris is removed: the set lands whole
/// or not at all. (Only a kill during the final renames, a few system calls,
/// can leave a mix.)
class AtomicFileSet {
 public:
  AtomicFileSet() = default;
  AtomicFileSet(const AtomicFileSet&) = delete;
  AtomicFileSet& operator=(const AtomicFileSet&) = delete;
  ~AtomicFileSet();

  void add(std::filesystem::path path, std::string content);
  /// As add(), without a copy: `content` is the caller's memory and must
  /// stay unchanged until commit() returns (a 25 MB image need not be held
  /// twice).
  void add_borrowed(std::filesystem::path path, std::string_view content);
  /// Stages everything, then renames it into place. Throws OutputError.
  void commit();

 private:
  struct Pending {
    std::filesystem::path path;
    std::string content;
    std::string_view borrowed;  ///< add_borrowed's bytes (then `content` is empty)
    std::filesystem::path staged;  ///< the new content, in the staging folder
    std::filesystem::path backup;  ///< a link to the old target ("" when none)
    bool renamed = false;
  };
  std::vector<Pending> pending_;
  void roll_back() noexcept;
  void clean_staging() noexcept;
};

/// A whole file as bytes; throws InputError naming it when unreadable.
std::string read_text_file(const std::filesystem::path& p);

/// A fresh folder under the system temporary folder, removed with everything
/// in it when the object goes away.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix = "nbparity-");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace nbtrace
