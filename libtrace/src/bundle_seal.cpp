// env.json and `nbbundle seal`.
#include <openssl/crypto.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "bundle_internal.hpp"
#include "nbtrace/atomic_file.hpp"
#include "nbtrace/bundle.hpp"
#include "nbtrace/error.hpp"
#include "nbtrace/sha256.hpp"
#include "nbtrace/version.hpp"

#ifndef NB_CXX_FLAGS
#define NB_CXX_FLAGS ""
#endif
#ifndef NB_BUILD_TYPE
#define NB_BUILD_TYPE ""
#endif

namespace nbtrace::bundle {

namespace {

using json = nlohmann::ordered_json;

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

/// The value after the first "key<sep>" line of a file (e.g. /proc/cpuinfo).
std::string field_of(const fs::path& file, std::string_view key, char sep) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(key)) continue;
    const std::size_t at = line.find(sep, key.size());
    if (at == std::string::npos) continue;
    if (trim(line.substr(key.size(), at - key.size())).empty()) return trim(line.substr(at + 1));
  }
  return {};
}

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

std::vector<GpuInfo> nvidia_gpus(const fs::path& proc_dir) {
  // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug ..."
  // or "... Open Kernel Module for x86_64  550.54.14  Release Build ...":
  // the driver version is the first dotted number.
  std::string driver;
  {
    std::ifstream in(proc_dir / "version");
    std::string first;
    std::getline(in, first);
    std::istringstream words(first);
    for (std::string w; words >> w;) {
      const bool dotted = w.find('.') != std::string::npos && std::isdigit(static_cast<unsigned char>(w[0])) &&
                          w.find_first_not_of("0123456789.") == std::string::npos;
      if (dotted) {
        driver = w;
        break;
      }
    }
  }
  std::vector<GpuInfo> list;
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(proc_dir / "gpus", ec)) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& d : dirs) list.push_back({field_of(d / "information", "Model", ':'), driver});
  return list;
}

std::string environment_json(std::string_view bundle_id, const GitState& git) {
  json env;
  env["bundle_id"] = bundle_id.empty() ? json(nullptr) : json(std::string(bundle_id));
  env["sealed_utc"] = utc_now_iso();
  env["tool"] = "nbbundle";
  env["tool_version"] = std::string(version());
  env["tool_git_sha"] = std::string(build_git_sha());
  env["git_sha"] = git.sha + (git.dirty ? "-dirty" : "");
  env["git_sha_from"] = git.from_build ? "build" : "cwd";
  env["compiler"] = compiler();
  env["cxx_flags"] = trim(NB_CXX_FLAGS);
  env["build_type"] = NB_BUILD_TYPE;
  env["openssl"] = OpenSSL_version(OPENSSL_VERSION);
  utsname u{};
  ::uname(&u);
  std::string pretty = field_of("/etc/os-release", "PRETTY_NAME", '=');
  if (pretty.size() >= 2 && pretty.front() == '"') pretty = pretty.substr(1, pretty.size() - 2);
  env["os"] = {{"name", pretty.empty() ? std::string(u.sysname) : pretty},
               {"kernel", std::string(u.sysname) + " " + u.release},
               {"machine", u.machine}};
  const std::string cpu = field_of("/proc/cpuinfo", "model name", ':');
  env["cpu"] = {{"model", cpu.empty() ? json(nullptr) : json(cpu)}, {"threads", std::thread::hardware_concurrency()}};
  json g = json::array();
  for (const GpuInfo& gpu : nvidia_gpus()) {
    g.push_back({{"model", gpu.model}, {"driver", gpu.driver.empty() ? json(nullptr) : json(gpu.driver)}});
  }
  if (!g.empty()) env["gpus"] = std::move(g);
  return env.dump(2) + "\n";
}

namespace {

/// Digests listed by the manifests of sub-bundles, by path from the root,
/// for files not modified since their manifest was written.
std::map<std::string, std::string> subbundle_digests(const RootDir& root, const std::vector<BundleFile>& files,
                                                     const std::string& manifest) {
  std::map<std::string, std::string> digests;
  for (const BundleFile& f : files) {
    const auto slash = f.path.rfind('/');
    if (f.symlink || slash == std::string::npos || f.path.compare(slash + 1, std::string::npos, manifest) != 0) continue;
    const std::string prefix = f.path.substr(0, slash + 1);
    std::error_code ec;
    const auto written = fs::last_write_time(root.canonical / f.path, ec);
    if (ec) continue;
    try {
      for (const ManifestEntry& e : parse_manifest(read_beneath(root.fd, f.path, 1u << 30)).entries) {
        // A sub-manifest speaks only for files beneath its own folder.
        const fs::path rel(e.path);
        if (rel.is_absolute() || std::any_of(rel.begin(), rel.end(), [](const fs::path& c) { return c == ".."; }))
          continue;
        const auto when = fs::last_write_time(root.canonical / (prefix + e.path), ec);
        if (!ec && when <= written) digests[prefix + e.path] = e.hex;
      }
    } catch (const InputError&) {
      // An unreadable sub-manifest: its files are hashed like any other.
    }
  }
  return digests;
}

}  // namespace

SealResult seal_bundle(const SealOptions& opt) {
  if (opt.dir.empty()) throw UsageError("DIR is required");
  const RootDir root(opt.dir);
  const FolderLock lock(root.canonical);
  const std::string manifest(kManifestName);

  std::string id;
  try {
    id = parse_commands(read_beneath(root.fd, std::string(kCommandsName), 64u << 20)).bundle_id.value_or("");
  } catch (const InputError&) {
  }
  if (id.empty()) id = bundle_id_from_path(root.canonical).value_or("");

  const GitState git = opt.git ? *opt.git : git_state(fs::current_path());
  write_file_atomic(root.canonical / kEnvName, environment_json(id, git));
  write_file_atomic(root.canonical / kGitShaName, git_sha_text(git));

  std::vector<BundleFile> files = list_files(root.canonical);
  std::erase_if(files, [&](const BundleFile& f) { return f.path == manifest; });
  for (const BundleFile& f : files) {
    if (f.escapes) {
      throw InputError((fs::path(opt.dir) / f.path).string() +
                       ": symlink pointing outside the bundle; copy the file in instead before sealing");
    }
  }
  const std::map<std::string, std::string> sealed =
      opt.reuse_subbundle_digests ? subbundle_digests(root, files, manifest) : std::map<std::string, std::string>{};
  std::vector<FileDigest> digests(files.size());
  parallel_for_files(files.size(), opt.threads, [&](std::size_t i, std::vector<char>& buffer) {
    const auto known = sealed.find(files[i].path);
    if (known != sealed.end() && !files[i].symlink) {
      digests[i] = FileDigest{true, 0, known->second, files[i].size};
      return;
    }
    digests[i] = hash_beneath(root.fd, files[i].path, buffer);
  });

  SealResult r;
  std::string content;
  std::map<std::string, std::string> now;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!digests[i].ok) {
      throw InputError((fs::path(opt.dir) / files[i].path).string() + ": cannot hash: " +
                       (digests[i].error == EINVAL ? "not a regular file" : std::strerror(digests[i].error)));
    }
    content += manifest_line(digests[i].hex, files[i].path);
    now[files[i].path] = digests[i].hex;
    r.bytes += digests[i].bytes;
  }
  r.files = files.size();

  std::map<std::string, std::string> before;
  try {
    for (const ManifestEntry& e : parse_manifest(read_beneath(root.fd, manifest, 1u << 30)).entries) {
      before[e.path] = e.hex;
    }
  } catch (const InputError&) {
  }
  for (const auto& [path, hex] : now) {
    const auto it = before.find(path);
    if (it == before.end()) r.added.push_back(path);
    else if (it->second != hex) r.changed.push_back(path);
  }
  for (const auto& [path, hex] : before) {
    if (!now.count(path)) r.removed.push_back(path);
  }
  // Renamed into place last: a crash leaves the old manifest or this one.
  write_file_atomic(root.canonical / manifest, content);
  return r;
}

int run_seal(const SealOptions& opt, std::ostream& out, std::ostream& err) {
  (void)err;
  const SealResult r = seal_bundle(opt);
  out << "sealed " << opt.dir << ": " << r.files << " files, " << r.bytes << " bytes in " << kManifestName << "\n";
  const auto list = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    out << "  " << what << ":";
    for (const std::string& p : v) out << " " << display_name(p);
    out << "\n";
  };
  list("added", r.added);
  list("changed", r.changed);
  list("removed", r.removed);
  return 0;
}

}  // namespace nbtrace::bundle
