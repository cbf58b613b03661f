#pragma once
// nbtrace subcommands: each file binds one options struct to a CLI11
// subcommand and calls one library function.
#include <CLI/CLI.hpp>
#include <functional>

/// Registers a subcommand; the returned function runs it (exit code).
std::function<int()> setup_diff(CLI::App& app);
std::function<int()> setup_show(CLI::App& app);
std::function<int()> setup_attribute(CLI::App& app);
