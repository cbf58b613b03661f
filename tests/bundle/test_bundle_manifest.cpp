#include "nbtrace/bundle/bundle.hpp"
#include "test_support.hpp"

using namespace nbtrace::bundle;
namespace fs = std::filesystem;

namespace {
const std::string H = "d57e79f4a1c0871d4fb57ab551a5986048404dedbc0d90cf964be6e51d03d26e";
}

TEST_CASE("bundle ids") {
  CHECK(is_bundle_id("20251008T212459Z"));
  CHECK_FALSE(is_bundle_id("20251008T212459"));
  CHECK_FALSE(is_bundle_id("2025-10-08T21:24"));
  CHECK_FALSE(is_bundle_id("20251008X212459Z"));
  CHECK(is_bundle_id(bundle_id_now()));
  CHECK(bundle_id_from_path("a/20251008T212459Z/spec_baseline") == std::optional<std::string>("20251008T212459Z"));
  CHECK(bundle_id_from_path("a/20251008T212459Z") == std::optional<std::string>("20251008T212459Z"));
  CHECK(bundle_id_from_path("a/20251008T212459Z/") == std::optional<std::string>("20251008T212459Z"));
  CHECK_FALSE(bundle_id_from_path("20251008T212459Z/x/y").has_value());  // only the folder and its parent count
}

TEST_CASE("parse_manifest reads GNU, escaped, BSD, binary and comment lines as sha256sum -c does") {
  const std::string text = "# comment\n"
                           "\n" +
                           H + "  plain name.log\n" + "\\" + H + "  back\\\\slash\\nnl\n" + H + " *bin.dat\n" +
                           "SHA256 (bsd (1).txt) = " + std::string(H.size(), 'A') + "\n" + H + "  crlf.txt\r\n" +
                           "not a line\n" + H.substr(1) + "  short.txt\n" + "\\" + H + "  bad\\escape\n";
  const Manifest m = parse_manifest(text);
  REQUIRE(m.entries.size() == 5);
  CHECK(m.entries[0].path == "plain name.log");
  CHECK(m.entries[0].line == 3);
  CHECK(m.entries[0].format == LineFormat::gnu);
  CHECK(m.entries[1].path == "back\\slash\nnl");
  CHECK(m.entries[1].escaped);
  CHECK(m.entries[2].path == "bin.dat");
  CHECK(m.entries[2].format == LineFormat::gnu_binary);
  CHECK(m.entries[3].path == "bsd (1).txt");
  CHECK(m.entries[3].format == LineFormat::bsd);
  CHECK(m.entries[3].hex == std::string(H.size(), 'a'));  // upper-case hex accepted, stored lower
  CHECK(m.entries[4].path == "crlf.txt");
  REQUIRE(m.malformed.size() == 3);
  CHECK(m.malformed[0].line == 8);
  CHECK(m.malformed[1].line == 9);
  CHECK(m.malformed[2].line == 10);
}

TEST_CASE("one-space lines are accepted only when the whole manifest uses them") {
  CHECK(parse_manifest(H + " a.txt\n" + H + " b.txt\n").entries.size() == 2);
  const Manifest mixed = parse_manifest(H + "  a.txt\n" + H + " b.txt\n");
  CHECK(mixed.entries.size() == 1);
  CHECK(mixed.malformed.size() == 1);
}

TEST_CASE("manifest_line escapes backslash, newline and CR like GNU and round-trips") {
  CHECK(manifest_line(H, "a b.txt") == H + "  a b.txt\n");
  CHECK(manifest_line(H, "a\\b") == "\\" + H + "  a\\\\b\n");
  for (const std::string name : {"x", "sp ace", "back\\slash", "new\nline", "cr\rx", "sub/dir/f.log"}) {
    const Manifest m = parse_manifest(manifest_line(H, name));
    REQUIRE(m.entries.size() == 1);
    CHECK(m.entries[0].path == name);
  }
  CHECK(display_name("a\\b") == "\\a\\\\b");
  CHECK(display_name("ab") == "ab");
}

TEST_CASE("classify_entry refuses names that leave the bundle, without opening them") {
  nbtest::TempDir dir;
  const fs::path root = fs::canonical(dir.path());
  nbtest::write_file(dir / "in.txt", "x");
  fs::create_directory(dir / "sub");
  fs::create_symlink("/etc/passwd", dir / "passwd");
  fs::create_symlink("../in.txt", dir / "sub/up");
  fs::create_directory_symlink("/etc", dir / "etc");
  CHECK(classify_entry(root, "in.txt") == EntrySafety::safe);
  CHECK(classify_entry(root, "missing.txt") == EntrySafety::safe);
  CHECK(classify_entry(root, "sub/up") == EntrySafety::safe);  // a link that stays inside is fine
  CHECK(classify_entry(root, "/etc/passwd") == EntrySafety::absolute);
  CHECK(classify_entry(root, "C:\\x") == EntrySafety::absolute);
  CHECK(classify_entry(root, "../x") == EntrySafety::dotdot);
  CHECK(classify_entry(root, "sub/../../x") == EntrySafety::dotdot);
  CHECK(classify_entry(root, "") == EntrySafety::empty);
  CHECK(classify_entry(root, "passwd") == EntrySafety::symlink_escape);
  CHECK(classify_entry(root, "etc/hostname") == EntrySafety::symlink_escape);
}

TEST_CASE("list_files lists every file sorted, marks escaping symlinks, skips folders") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "b.txt", "b");
  nbtest::write_file(dir / "a/z.txt", "z");
  nbtest::write_file(dir / "B.txt", "B");
  fs::create_symlink("/etc/passwd", dir / "link");
  const auto files = list_files(dir.path());
  REQUIRE(files.size() == 4);
  CHECK(files[0].path == "B.txt");  // byte order, as LC_ALL=C sort
  CHECK(files[1].path == "a/z.txt");
  CHECK(files[2].path == "b.txt");
  CHECK(files[3].path == "link");
  CHECK(files[3].escapes);
  CHECK_FALSE(files[2].escapes);
}

TEST_CASE("machine_paths finds the absolute paths that tie text to one machine") {
  using V = std::vector<std::string>;
  CHECK(machine_paths("\"c_trace\": \"/Users/u/runs/c.log\",") == V{"/Users/u/runs/c.log"});
  CHECK(machine_paths("--out=/scratch/u1/x and `/opt/nb/bin` (/tmp/a/b)") == V{"/scratch/u1/x", "/opt/nb/bin", "/tmp/a/b"});
  CHECK(machine_paths("C:\\Users\\bob\\x") == V{"C:\\Users\\bob\\x"});
  CHECK(machine_paths("cmd 2>/dev/null; /bin/sh -c x; /usr/bin/env python; /etc/passwd").empty());
  CHECK(machine_paths("see https://example.org/a/b, I/O, a/b/c, 1/2/3, /tmp, / alone").empty());
}
