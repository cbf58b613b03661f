// Sealing a bundle: env.json, git_sha.txt, then sha256.txt (atomically, last).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <ostream>
#include <stdexcept>

#include "internal.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/bundle/sha256.hpp"

namespace nbtrace::bundle {

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
  if (opt.tool.empty()) throw std::logic_error("seal_bundle: SealOptions::tool names no sealing tool");
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

  // Everything is checked and hashed before anything is written: a seal
  // that refuses leaves the bundle as it was.
  const GitState git = opt.git ? *opt.git : git_state(fs::current_path());
  const std::map<std::string, std::string> written{{std::string(kEnvName), environment_json(id, git, opt.tool)},
                                                   {std::string(kGitShaName), git_sha_text(git)}};
  std::vector<BundleFile> files = list_files(root.canonical);
  std::erase_if(files, [&](const BundleFile& f) { return f.path == manifest || f.staging || written.count(f.path); });
  for (const BundleFile& f : files) {
    if (f.unfollowable()) {
      throw InputError((fs::path(opt.dir) / f.path).string() + ": " + std::string(f.link_problem()) +
                       "; copy the file in instead before sealing");
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
  std::map<std::string, std::string> now;  // path -> digest, in path order as the manifest lists them
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!digests[i].ok) {
      throw InputError((fs::path(opt.dir) / files[i].path).string() + ": cannot hash: " +
                       (digests[i].error == EINVAL ? "not a regular file" : std::strerror(digests[i].error)));
    }
    now[files[i].path] = digests[i].hex;
    r.bytes += digests[i].bytes;
  }
  for (const auto& [path, content] : written) {
    now[path] = sha256_hex(content);
    r.bytes += content.size();
  }
  r.files = now.size();
  std::string content;
  for (const auto& [path, hex] : now) content += manifest_line(hex, path);

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
  AtomicFileSet outputs;
  for (const auto& [path, text] : written) outputs.add(root.canonical / path, text);
  outputs.add(root.canonical / manifest, content);  // renamed last of the set
  outputs.commit();
  return r;
}

std::string seal_report(std::string_view dir, const SealResult& r) {
  std::string text = "sealed " + std::string(dir) + ": " + std::to_string(r.files) + " files, " + std::to_string(r.bytes) +
                     " bytes in " + std::string(kManifestName) + "\n";
  const auto list = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    text += std::string("  ") + what + ":";
    for (const std::string& p : v) text += " " + display_name(p);
    text += "\n";
  };
  list("added", r.added);
  list("changed", r.changed);
  list("removed", r.removed);
  return text;
}

}  // namespace nbtrace::bundle
