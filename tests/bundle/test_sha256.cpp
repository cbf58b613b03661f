#include <fcntl.h>
#include <unistd.h>

#include <atomic>

#include "nbtrace/bundle/sha256.hpp"
#include "test_support.hpp"

using namespace nbtrace;

TEST_CASE("sha256_hex matches the FIPS 180-2 test vectors") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("Sha256 is incremental and reusable after final_hex") {
  Sha256 h;
  h.update("a", 1);
  h.update("bc", 2);
  CHECK(h.final_hex() == sha256_hex("abc"));
  CHECK(h.final_hex() == sha256_hex(""));
}

TEST_CASE("sha256_fd streams a file larger than its buffer") {
  nbtest::TempDir dir;
  // 1,000,000 x 'a' is the FIPS long-message vector; it spans several reads.
  nbtest::write_file(dir / "a.bin", std::string(1000000, 'a'));
  const int fd = ::open((dir / "a.bin").c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  std::vector<char> buffer;
  const FdHash h = sha256_fd(fd, buffer);
  ::close(fd);
  CHECK(h.ok);
  CHECK(h.bytes == 1000000);
  CHECK(h.hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  CHECK(buffer.size() < 1000000);  // constant memory: the buffer did not grow to the file
}

TEST_CASE("parallel_for_files runs every job once and passes exceptions on") {
  std::vector<std::atomic<int>> hits(100);
  parallel_for_files(hits.size(), 2, [&](std::size_t i, std::vector<char>&) { ++hits[i]; });
  for (const auto& h : hits) CHECK(h.load() == 1);
  CHECK_THROWS_AS(parallel_for_files(10, 2,
                                     [](std::size_t i, std::vector<char>&) {
                                       if (i == 3) throw std::runtime_error("job 3");
                                     }),
                  std::runtime_error);
  CHECK(resolve_threads(0) >= 1);
  CHECK(resolve_threads(3) == 3);
}
