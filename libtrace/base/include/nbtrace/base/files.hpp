#pragma once
// Files: whole-file reads, atomic output (content goes to a temporary file
// in the destination folder and is renamed over the target only when
// complete, so a failure never leaves a half-written file), scratch folders.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace nbtrace {

/// Writes `content` to `path` atomically (temp file, fsync, rename).
/// Creates missing parent folders. Throws OutputError on failure.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

/// Several outputs committed together: every file is written to a temporary
/// first; commit() renames them all. If any write fails, nothing is renamed
/// and the temporaries are removed.
class AtomicFileSet {
 public:
  AtomicFileSet() = default;
  AtomicFileSet(const AtomicFileSet&) = delete;
  AtomicFileSet& operator=(const AtomicFileSet&) = delete;
  ~AtomicFileSet();

  void add(std::filesystem::path path, std::string content);
  /// Writes all temporaries, then renames them into place.
  void commit();

 private:
  struct Pending {
    std::filesystem::path path;
    std::string content;
    std::filesystem::path temp;
  };
  std::vector<Pending> pending_;
  void discard_temps() noexcept;
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
