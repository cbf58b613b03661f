// -device/-dtype errors (issue 7): without a CUDA build or a GPU,
// -device cuda fails with one clear line and exit 1 before any output.
#include <doctest/doctest.h>

#include "nbsim/cuda.hpp"
#include "sim_cases.hpp"

namespace {

std::vector<std::string> case_args(const std::string& name, std::vector<std::string> extra) {
  std::vector<std::string> args{"-mode", "c-parity"};
  const auto image_args = simtest::arguments(simtest::case_json(name).at("image_command"));
  args.insert(args.end(), image_args.begin(), image_args.end());
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("-device cuda is a clear error (exit 1, no output) without a CUDA build or a GPU") {
  if (!nbtest::require_shared("cuda errors")) return;
  nbtest::TempDir work;
  simtest::stage_inputs("simple_cubic_256", work.path());
  {
    // float32 needs the GPU backend whatever the build.
    const auto run = nbtest::run_tool("nbsim", case_args("simple_cubic_256", {"-dtype", "float32"}), work.path());
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("-dtype float32 needs -device cuda") != std::string::npos);
  }
  const nbsim::CudaDeviceInfo info = nbsim::cuda_device_info();
  if (info.available) {
    MESSAGE("this machine has a GPU (" << info.name << "): the no-GPU error is not testable here");
    return;
  }
  const auto run = nbtest::run_tool("nbsim", case_args("simple_cubic_256", {"-device", "cuda"}), work.path());
  INFO(run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("nbsim: error: -device cuda: ") != std::string::npos);
  CHECK(run.err.find(nbsim::cuda_built() ? "GPU" : "built without CUDA") != std::string::npos);
  CHECK_FALSE(simtest::fs::exists(work / "image.bin"));
  CHECK_FALSE(simtest::fs::exists(work / "Fdump.bin"));
}

