#pragma once
// SHA-256 through OpenSSL EVP. Files are streamed through a fixed buffer, so
// memory stays constant whatever their size; many files hash in parallel.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace nbtrace {

/// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  /// Lower-case hex digest; the object is reset for reuse.
  std::string final_hex();

 private:
  evp_md_ctx_st* ctx_;
};

/// Hex digest of a byte string.
std::string sha256_hex(std::string_view data);

/// Outcome of hashing one open file.
struct FdHash {
  bool ok = false;
  std::string hex;          ///< when ok
  int error = 0;            ///< errno when !ok
  std::uint64_t bytes = 0;  ///< bytes hashed
};

/// Streams `fd` (read to EOF) through SHA-256 using `buffer` (resized to at
/// least 256 KiB). Does not close fd.
FdHash sha256_fd(int fd, std::vector<char>& buffer);

/// Runs job(i, buffer) for i in [0, n) on `threads` workers (0: all cores),
/// each with its own reusable buffer. Jobs must be independent.
void parallel_for_files(std::size_t n, unsigned threads,
                        const std::function<void(std::size_t, std::vector<char>&)>& job);

/// Worker count for `threads` (0: std::thread::hardware_concurrency()).
unsigned resolve_threads(unsigned threads) noexcept;

}  // namespace nbtrace
