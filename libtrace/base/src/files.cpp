#include "nbtrace/base/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "nbtrace/base/error.hpp"

namespace nbtrace {

namespace fs = std::filesystem;

namespace {

/// A fresh name for `target`'s new content (or its backup) in the staging
/// folder beside it, which is created when missing.
fs::path staged_name_for(const fs::path& target, const char* role) {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  const fs::path dir = target.parent_path() / kStagingDirName;
  std::error_code ec;
  fs::create_directory(dir, ec);
  if (ec && ec != std::errc::file_exists)
    throw OutputError(dir.string() + ": cannot create the staging folder: " + ec.message());
  return dir / (target.filename().string() + "." + role + "." + std::to_string(::getpid()) + "." +
                std::to_string(counter++) + "." + std::to_string(rd() & 0xffffff));
}

void write_all(const fs::path& path, std::string_view content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw OutputError(path.string() + ": cannot create: " + std::strerror(errno));
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      throw OutputError(path.string() + ": write failed: " + std::strerror(err));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 && errno != EINVAL) {
    const int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    throw OutputError(path.string() + ": fsync failed: " + std::strerror(err));
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    throw OutputError(path.string() + ": close failed: " + std::strerror(err));
  }
}

void ensure_parent(const fs::path& path) {
  const fs::path parent = path.parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw OutputError(parent.string() + ": cannot create folder: " + ec.message());
}

/// `path` with an explicit folder, so its staging folder has a place.
fs::path with_folder(const fs::path& path) { return path.has_parent_path() ? path : fs::path(".") / path; }

}  // namespace

fs::path staging_path_for(const fs::path& target) { return staged_name_for(with_folder(target), "new"); }

void remove_empty_staging(const fs::path& target) noexcept {
  ::rmdir((with_folder(target).parent_path() / kStagingDirName).c_str());
}

bool is_staging_path(std::string_view relative_path) noexcept {
  std::size_t start = 0;
  while (start <= relative_path.size()) {
    const std::size_t slash = relative_path.find('/', start);
    const std::string_view part =
        relative_path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part == kStagingDirName) return true;
    if (slash == std::string_view::npos) {
      // Old-style temporaries of earlier versions and killed runs: NAME.tmp.PID[.N...]
      const std::size_t at = part.find(".tmp.");
      return at != std::string_view::npos && at + 5 < part.size() &&
             part.find_first_not_of("0123456789.", at + 5) == std::string_view::npos;
    }
    start = slash + 1;
  }
  return false;
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  AtomicFileSet one;
  one.add_borrowed(path, content);
  one.commit();
}

AtomicFileSet::~AtomicFileSet() {
  roll_back();
  clean_staging();
}

void AtomicFileSet::add(fs::path path, std::string content) {
  pending_.push_back({with_folder(path), std::move(content), {}, {}, {}, false});
}

void AtomicFileSet::add_borrowed(fs::path path, std::string_view content) {
  pending_.push_back({with_folder(path), {}, content, {}, {}, false});
}

void AtomicFileSet::roll_back() noexcept {
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    Pending& p = *it;
    if (p.renamed) {
      if (!p.backup.empty()) {
        if (::rename(p.backup.c_str(), p.path.c_str()) == 0) p.backup.clear();
      } else {
        ::unlink(p.path.c_str());
      }
      p.renamed = false;
    }
  }
}

void AtomicFileSet::clean_staging() noexcept {
  for (Pending& p : pending_) {
    if (!p.staged.empty()) ::unlink(p.staged.c_str());
    if (!p.backup.empty()) ::unlink(p.backup.c_str());
    p.staged.clear();
    p.backup.clear();
  }
  // Removed only when empty: another writer may be staging beside us.
  for (const Pending& p : pending_) remove_empty_staging(p.path);
}

void AtomicFileSet::commit() {
  try {
    for (Pending& p : pending_) {
      std::error_code ec;
      if (fs::is_directory(p.path, ec))
        throw OutputError(p.path.string() + ": is a folder, not a file that can be written");
    }
    for (Pending& p : pending_) {
      ensure_parent(p.path);
      p.staged = staged_name_for(p.path, "new");
      write_all(p.staged, p.borrowed.data() ? p.borrowed : std::string_view(p.content));
      // The old content stays reachable until the whole set is in place.
      if (::access(p.path.c_str(), F_OK) == 0) {
        p.backup = staged_name_for(p.path, "old");
        if (::link(p.path.c_str(), p.backup.c_str()) != 0) {
          const int err = errno;
          p.backup.clear();
          throw OutputError(p.path.string() + ": cannot keep the old file while replacing it: " +
                            std::strerror(err));
        }
      }
    }
    for (Pending& p : pending_) {
      if (::rename(p.staged.c_str(), p.path.c_str()) != 0) {
        const int err = errno;
        throw OutputError(p.path.string() + ": cannot replace: " + std::strerror(err));
      }
      p.staged.clear();
      p.renamed = true;
    }
  } catch (...) {
    roll_back();
    clean_staging();
    pending_.clear();
    throw;
  }
  for (Pending& p : pending_) p.renamed = false;  // committed: nothing to roll back
  clean_staging();
  pending_.clear();
}

std::string read_text_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw InputError(p.string() + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ScratchDir::ScratchDir(const std::string& prefix) {
  std::random_device rd;
  path_ = fs::temp_directory_path() / (prefix + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace nbtrace
