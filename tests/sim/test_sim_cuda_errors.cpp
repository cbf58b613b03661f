// -device/-dtype errors (issue 7): without a CUDA build or a GPU,
// -device cuda fails with one clear line and exit 1 before any output.
#include <doctest/doctest.h>

#include "nbsim/cuda.hpp"
#include "sim_cases.hpp"

TEST_CASE("-device cuda is a clear error (exit 1, no output) without a CUDA build or a GPU") {
  if (!nbtest::require_shared("cuda errors")) return;
  nbtest::TempDir work;
  simtest::stage_inputs("simple_cubic_256", work.path());
  {
    // float32 needs the GPU backend whatever the build.
    const auto run = nbtest::run_tool("nbsim", simtest::c_parity_case_args("simple_cubic_256", {"-dtype", "float32"}), work.path());
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("-dtype float32 needs -device cuda") != std::string::npos);
  }
  const nbsim::CudaDeviceInfo info = nbsim::cuda_device_info();
  if (info.available) {
    MESSAGE("this machine has a GPU (" << info.name << "): the no-GPU error is not testable here");
    return;
  }
  const auto run = nbtest::run_tool("nbsim", simtest::c_parity_case_args("simple_cubic_256", {"-device", "cuda"}), work.path());
  INFO(run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("nbsim: error: -device cuda: ") != std::string::npos);
  CHECK(run.err.find(nbsim::cuda_built() ? "GPU" : "built without CUDA") != std::string::npos);
  CHECK_FALSE(simtest::fs::exists(work / "image.bin"));
  CHECK_FALSE(simtest::fs::exists(work / "Fdump.bin"));
}

