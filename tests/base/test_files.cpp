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

TEST_CASE("a set whose last file cannot be written leaves every earlier target as it was") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "image.bin", "old image");
  fs::create_directory(dir / "int.img");  // a folder where a file should go
  AtomicFileSet set;
  set.add(dir / "image.bin", "new image");
  set.add(dir / "new.txt", "fresh");
  set.add(dir / "int.img", "SMV");
  CHECK_THROWS_WITH_AS(set.commit(), doctest::Contains("int.img: is a folder"), OutputError);
  CHECK(nbtest::read_file(dir / "image.bin") == "old image");
  CHECK_FALSE(fs::exists(dir / "new.txt"));
  CHECK_FALSE(fs::exists(dir / std::string(kStagingDirName)));

  // A name the staging folder cannot hold (over NAME_MAX with its suffix):
  // the failure comes after the first file was staged, and still nothing lands.
  AtomicFileSet long_name;
  long_name.add(dir / "image.bin", "new image");
  long_name.add(dir / std::string(250, 'x'), "too long to stage");
  CHECK_THROWS_AS(long_name.commit(), OutputError);
  CHECK(nbtest::read_file(dir / "image.bin") == "old image");
  CHECK_FALSE(fs::exists(dir / std::string(kStagingDirName)));
}

TEST_CASE("a set left uncommitted writes nothing; a replaced file keeps no backup behind") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "a.txt", "A");
  {
    AtomicFileSet set;
    set.add(dir / "a.txt", "never");
    set.add(dir / "b.txt", "never");
  }
  CHECK(nbtest::read_file(dir / "a.txt") == "A");
  CHECK_FALSE(fs::exists(dir / "b.txt"));
  AtomicFileSet set;
  set.add(dir / "a.txt", "A2");
  set.commit();
  CHECK(nbtest::read_file(dir / "a.txt") == "A2");
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}) == 1);
}

TEST_CASE("staging paths: the staging folder anywhere in a path, and old NAME.tmp.PID temporaries") {
  CHECK(is_staging_path(".nbstage/metrics.json.new.12.0.5"));
  CHECK(is_staging_path("traces/.nbstage/x"));
  CHECK(is_staging_path("env.json.tmp.4242.0.123"));
  CHECK(is_staging_path("c_trace.stdout.log.tmp.4242"));
  CHECK_FALSE(is_staging_path("metrics.json"));
  CHECK_FALSE(is_staging_path("notes.tmp.txt"));
  CHECK_FALSE(is_staging_path("my.nbstage.md"));
}
