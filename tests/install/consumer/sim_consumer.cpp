// sim_consumer HKL H K L: reads an HKL file with the installed simulator
// library and prints its reflection count, index bounds and F(H,K,L).
#include <cstdlib>
#include <fmt/format.h>
#include <iostream>

#include "nbsim/hkl.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: sim_consumer HKL H K L\n";
    return 1;
  }
  try {
    const nbsim::HklGrid grid = nbsim::load_hkl_text(argv[1], 0.0);
    const int h = std::atoi(argv[2]), k = std::atoi(argv[3]), l = std::atoi(argv[4]);
    if (h < grid.h_min || h > grid.h_max || k < grid.k_min || k > grid.k_max || l < grid.l_min || l > grid.l_max) {
      std::cerr << "sim_consumer: index outside the grid\n";
      return 5;
    }
    const auto cell = (static_cast<std::size_t>(h - grid.h_min) * grid.k_range() + (k - grid.k_min)) * grid.l_range() +
                      (l - grid.l_min);
    // {} prints the shortest text that reads back as the same double.
    fmt::print("reflections {}\nbounds {} {} {} {} {} {}\nF {}\n", grid.reflections, grid.h_min, grid.h_max, grid.k_min,
               grid.k_max, grid.l_min, grid.l_max, grid.values[cell]);
  } catch (const std::exception& e) {
    std::cerr << "sim_consumer: " << e.what() << '\n';
    return 5;
  }
  return 0;
}
