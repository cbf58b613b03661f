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

fs::path temp_name_for(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  const std::string suffix = ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++) + "." +
                             std::to_string(rd() & 0xffffff);
  fs::path tmp = target;
  tmp += suffix;
  return tmp;
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

}  // namespace

void write_file_atomic(const fs::path& path, std::string_view content) {
  ensure_parent(path);
  const fs::path tmp = temp_name_for(path);
  write_all(tmp, content);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw OutputError(path.string() + ": cannot replace: " + std::strerror(err));
  }
}

AtomicFileSet::~AtomicFileSet() { discard_temps(); }

void AtomicFileSet::add(fs::path path, std::string content) {
  pending_.push_back({std::move(path), std::move(content), {}});
}

void AtomicFileSet::discard_temps() noexcept {
  for (Pending& p : pending_) {
    if (!p.temp.empty()) ::unlink(p.temp.c_str());
    p.temp.clear();
  }
}

void AtomicFileSet::commit() {
  try {
    for (Pending& p : pending_) {
      ensure_parent(p.path);
      p.temp = temp_name_for(p.path);
      write_all(p.temp, p.content);
    }
  } catch (...) {
    discard_temps();
    throw;
  }
  for (Pending& p : pending_) {
    if (::rename(p.temp.c_str(), p.path.c_str()) != 0) {
      const int err = errno;
      discard_temps();
      throw OutputError(p.path.string() + ": cannot replace: " + std::strerror(err));
    }
    p.temp.clear();
  }
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
