#pragma once
// Helpers shared by the bundle module's sources (not installed).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace nbtrace::bundle {

namespace fs = std::filesystem;

/// An open bundle folder: its canonical path and a directory fd that files
/// are opened beneath.
struct RootDir {
  explicit RootDir(const fs::path& dir);
  ~RootDir();
  RootDir(const RootDir&) = delete;
  RootDir& operator=(const RootDir&) = delete;
  fs::path canonical;
  int fd = -1;
};

/// Characters that end a path token in text (space, quotes, brackets, …).
bool path_end(char c);

/// True when `p` (canonical) is `root` or below it.
bool is_within(const fs::path& root, const fs::path& p);

/// Opens `rel` read-only so that it cannot resolve outside root_fd (openat2
/// RESOLVE_BENEATH where the kernel has it). Returns fd or -errno.
int open_beneath(int root_fd, const std::string& rel);

struct FileDigest {
  bool ok = false;
  int error = 0;  ///< errno; EINVAL: not a regular file
  std::string hex;
  std::uint64_t bytes = 0;
};
FileDigest hash_beneath(int root_fd, const std::string& rel, std::vector<char>& buffer);

/// Reads at most about `limit` bytes of a regular file beneath root_fd;
/// throws InputError naming `shown` (default: rel).
std::string read_beneath(int root_fd, const std::string& rel, std::uint64_t limit, const std::string& shown = {});

/// An exclusive flock on the bundle folder for its lifetime: record and seal
/// of one bundle never interleave their read-modify-write.
class FolderLock {
 public:
  explicit FolderLock(const fs::path& dir);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_;
};

}  // namespace nbtrace::bundle
