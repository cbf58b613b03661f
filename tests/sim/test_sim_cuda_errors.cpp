// -device errors (issue 7): without a CUDA build or a GPU,
// -device cuda fails with one clear line and exit 1 before any output.
#include <doctest/doctest.h>

#include "nbsim/cuda.hpp"
#include "sim_cases.hpp"

TEST_CASE("-device cuda is a clear error (exit 1, no output) without a CUDA build or a GPU") {
  if (!nbtest::require_shared("cuda errors")) return;
  nbtest::TempDir work;
  simtest::stage_inputs("simple_cubic_256", work.path());
  const nbsim::CudaDeviceInfo info = nbsim::cuda_device_info();
  if (info.available) {
    MESSAGE("this machine has a GPU (" << info.name << "): the no-GPU error is not testable here");
    return;
  }
  // Both number types (float32 runs on the CPU too, issue 16) fail the
  // same way: the device is what is missing.
  for (const char* dtype : {"float64", "float32"}) {
    CAPTURE(dtype);
    const auto run = nbtest::run_tool("nbsim", simtest::c_parity_case_args("simple_cubic_256", {"-device", "cuda", "-dtype", dtype}),
                                      work.path());
    INFO(run.err);
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("nbsim: error: -device cuda: ") != std::string::npos);
    CHECK(run.err.find(nbsim::cuda_built() ? "GPU" : "built without CUDA") != std::string::npos);
    CHECK_FALSE(simtest::fs::exists(work / "image.bin"));
    CHECK_FALSE(simtest::fs::exists(work / "Fdump.bin"));
  }
}

