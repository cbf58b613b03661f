// Nonsense that nbsim used to accept with exit 0: each is refused in one line
// naming the flag and the rule (exit 1; a bad input file exits 5), in both
// modes, before any output is written.
#include "hostile_support.hpp"

namespace {

const std::vector<std::string> kCell{"-cell", "100", "100", "100", "90", "90", "90"};

/// nbsim with a small valid run, `extra` last (the last value of a flag wins).
nbtest::ProcessResult nbsim(const nbtest::TempDir& dir, const std::string& mode, std::vector<std::string> extra,
                            bool with_cell = true) {
  std::vector<std::string> a{"-mode", mode, "-default_F", "10", "-N", "2", "-lambda", "1", "-distance", "50",
                             "-detpixels", "8", "-pixel", "0.1", "-floatfile", "f.bin", "-intfile", "i.img"};
  if (with_cell) a.insert(a.end(), kCell.begin(), kCell.end());
  a.insert(a.end(), extra.begin(), extra.end());
  return nbtest::run_tool("nbsim", a, dir.path());
}

}  // namespace

TEST_CASE("physically meaningless values: refused, nothing written, in spec and c-parity mode") {
  struct Probe {
    std::vector<std::string> args;
    std::string fragment;
    bool with_cell = true;
  };
  const std::vector<Probe> probes{
      {{"-lambda", "0"}, "-lambda (or -energy) must be finite and > 0, got 0 Angstrom"},
      {{"-lambda", "-1"}, "-lambda (or -energy) must be finite and > 0, got -1 Angstrom"},
      {{"-N", "0"}, "must be at least 1, got 0"},
      {{"-detpixels", "0"}, "(or -detpixels) must be at least 1, got 0"},
      {{"-cell", "100", "100", "100", "10", "10", "90"}, "the angles cannot form a cell"},
      {{"-cell", "100", "100", "100"}, "-cell needs 6 values, got 3", false},
      {{"-trace_pixel", "100", "3"}, "is outside the 8x8-pixel detector"},
      {{"-detpixels", "2000000"}, "GiB, this machine has"},
  };
  for (const std::string mode : {"spec", "c-parity"}) {
    for (const Probe& p : probes) {
      nbtest::TempDir dir;
      CAPTURE(mode);
      CAPTURE(p.args);
      hostile::check_refusal(nbsim(dir, mode, p.args, p.with_cell), "nbsim", 1, p.fragment);
      CHECK(hostile::tree(dir.path()).empty());
    }
  }
}

TEST_CASE("an HKL line with F = nan: exit 5 naming file and line, nothing written") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "nan.hkl", "0 0 0 10\n1 0 0 nan\n");
  const auto r = nbsim(dir, "spec", {"-hkl", "nan.hkl"});
  hostile::check_refusal(r, "nbsim", 5, "nan.hkl:2: the structure factor F must be a finite number, got 'nan'");
  CHECK(hostile::tree(dir.path()) == std::vector<std::string>{"nan.hkl"});
}
