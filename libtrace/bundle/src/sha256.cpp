#include "nbtrace/bundle/sha256.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace nbtrace {

namespace {
constexpr std::size_t kBufferSize = 256 * 1024;  // large reads amortise syscalls; fits L2

std::string to_hex(const unsigned char* d, unsigned n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (unsigned i = 0; i < n; ++i) {
    s[2 * i] = digits[d[i] >> 4];
    s[2 * i + 1] = digits[d[i] & 15];
  }
  return s;
}
}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx_);
    throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::update(const void* data, std::size_t size) {
  if (size && EVP_DigestUpdate(ctx_, data, size) != 1) throw std::runtime_error("OpenSSL: SHA-256 update failed");
}

std::string Sha256::final_hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_DigestFinal_ex(ctx_, md, &len) != 1 || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: SHA-256 final failed");
  }
  return to_hex(md, len);
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.final_hex();
}

FdHash sha256_fd(int fd, std::vector<char>& buffer) {
  if (buffer.size() < kBufferSize) buffer.resize(kBufferSize);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Sha256 h;
  FdHash r;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      r.error = errno;
      return r;
    }
    h.update(buffer.data(), static_cast<std::size_t>(n));
    r.bytes += static_cast<std::uint64_t>(n);
  }
  r.hex = h.final_hex();
  r.ok = true;
  return r;
}

unsigned resolve_threads(unsigned threads) noexcept {
  if (threads) return threads;
  const unsigned hc = std::thread::hardware_concurrency();
  return hc ? hc : 1;
}

void parallel_for_files(std::size_t n, unsigned threads,
                        const std::function<void(std::size_t, std::vector<char>&)>& job) {
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(resolve_threads(threads), n));
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&] {
    std::vector<char> buffer;
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        job(i, buffer);
      } catch (...) {
        const std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next.store(n);  // stop handing out work
      }
    }
  };
  if (workers <= 1) {
    work();
  } else {
    std::vector<std::jthread> pool;
    pool.reserve(workers);
    for (unsigned t = 0; t < workers; ++t) pool.emplace_back(work);
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace nbtrace
