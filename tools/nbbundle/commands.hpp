#pragma once
// nbbundle subcommands: each file binds one options struct to a CLI11
// subcommand and calls one library function (nbtrace/bundle.hpp).
#include <CLI/CLI.hpp>
#include <functional>

/// Registers a subcommand; the returned function runs it (exit code).
std::function<int()> setup_init(CLI::App& app);
std::function<int()> setup_record(CLI::App& app);
std::function<int()> setup_seal(CLI::App& app);
std::function<int()> setup_verify(CLI::App& app);
std::function<int()> setup_audit(CLI::App& app);
