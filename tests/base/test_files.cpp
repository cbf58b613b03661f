#include <filesystem>

#include "nbtrace/base/files.hpp"
#include "nbtrace/base/error.hpp"
#include "test_support.hpp"

using namespace nbtrace;
namespace fs = std::filesystem;

TEST_CASE("write_file_atomic replaces the file and leaves no temporaries") {
  nbtest::TempDir dir;
  const fs::path p = dir / "sub/out.txt";
  write_file_atomic(p, "first");
  write_file_atomic(p, "second");
  CHECK(nbtest::read_file(p) == "second");
  CHECK(std::distance(fs::directory_iterator(p.parent_path()), fs::directory_iterator{}) == 1);
}

TEST_CASE("AtomicFileSet writes all files or none") {
  nbtest::TempDir dir;
  {
    AtomicFileSet set;
    set.add(dir / "a.txt", "A");
    set.add(dir / "b.txt", "B");
    set.commit();
  }
  CHECK(nbtest::read_file(dir / "a.txt") == "A");
  CHECK(nbtest::read_file(dir / "b.txt") == "B");

  // The second target's folder cannot be created (a file stands in its way):
  // the first file must keep its old content and no temporaries remain.
  nbtest::write_file(dir / "blocker", "x");
  AtomicFileSet set;
  set.add(dir / "a.txt", "new A");
  set.add(dir / "blocker/c.txt", "C");
  CHECK_THROWS_AS(set.commit(), OutputError);
  CHECK(nbtest::read_file(dir / "a.txt") == "A");
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 3);  // a.txt, b.txt, blocker
}
