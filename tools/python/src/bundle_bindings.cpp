// Evidence bundles: seal, verify, audit (the library calls of nbbundle).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <filesystem>
#include <string>

#include "bindings.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "py_json.hpp"

namespace nbpy {

namespace bundle = nbtrace::bundle;

void bind_bundle(py::module_& m) {
  m.def(
      "bundle_seal",
      [](const std::string& dir, unsigned threads) {
        bundle::SealOptions opt;
        opt.dir = dir;
        opt.threads = threads;
        opt.tool = "nbparity-python";
        bundle::SealResult r;
        {
          py::gil_scoped_release release;
          r = bundle::seal_bundle(opt);
        }
        py::dict d;
        d["dir"] = dir;
        d["files"] = r.files;
        d["bytes"] = r.bytes;
        d["added"] = r.added;
        d["changed"] = r.changed;
        d["removed"] = r.removed;
        d["report"] = bundle::seal_report(dir, r);
        return d;
      },
      py::arg("dir"), py::arg("threads") = 0u, "seal_bundle, as nbbundle seal runs it.");

  m.def(
      "bundle_verify",
      [](const std::string& dir, const std::string& manifest, bool strict, unsigned threads) {
        bundle::VerifyResult r;
        {
          py::gil_scoped_release release;
          r = bundle::verify_manifest(dir, manifest, threads, strict);
        }
        if (r.items.empty()) {
          // As nbbundle verify (and sha256sum -c): a manifest listing nothing verifies nothing.
          throw nbtrace::InputError((std::filesystem::path(dir) / r.manifest).string() +
                                    ": no properly formatted SHA-256 checksum lines found");
        }
        py::list items;
        for (const bundle::VerifyItem& i : r.items) {
          py::dict e;
          e["path"] = i.entry.path;
          e["line"] = i.entry.line;
          e["verdict"] = std::string(bundle::verdict_name(i.verdict));
          e["detail"] = i.detail;
          e["listed_sha256"] = i.entry.hex;
          e["sha256"] = i.hex.empty() ? py::object(py::none()) : py::object(py::str(i.hex));
          items.append(e);
        }
        py::list malformed;
        for (const bundle::ManifestLineProblem& p : r.malformed) malformed.append(py::make_tuple(p.line, p.text));
        py::dict counts;
        for (bundle::Verdict v : {bundle::Verdict::ok, bundle::Verdict::failed, bundle::Verdict::missing,
                                  bundle::Verdict::refused}) {
          counts[py::str(std::string(bundle::verdict_name(v)))] = r.count(v);
        }
        py::dict d;
        d["dir"] = dir;
        d["manifest"] = r.manifest;
        d["strict"] = strict;
        d["ok"] = r.passes(strict);
        d["counts"] = counts;
        d["items"] = items;
        d["malformed"] = malformed;
        d["unlisted"] = r.unlisted;
        return d;
      },
      py::arg("dir"), py::arg("manifest") = std::string(bundle::kManifestName), py::arg("strict") = false,
      py::arg("threads") = 0u, "verify_manifest, as nbbundle verify runs it.");

  m.def(
      "bundle_audit",
      [](const std::string& dir, const std::string& manifest, const std::string& kind, unsigned threads) {
        bundle::AuditOptions opt;
        opt.dir = dir;
        opt.manifest = manifest;
        opt.kind = kind;
        opt.threads = threads;
        bundle::AuditResult r;
        {
          py::gil_scoped_release release;
          r = bundle::audit_bundle(opt);
        }
        py::dict d;
        d["document"] = json_text_to_python(bundle::findings_json(r));
        d["json"] = bundle::findings_json(r);
        d["kind"] = r.kind;
        d["errors"] = r.errors();
        d["warnings"] = r.findings.size() - r.errors();
        return d;
      },
      py::arg("dir"), py::arg("manifest") = std::string(bundle::kManifestName), py::arg("kind") = "auto",
      py::arg("threads") = 0u, "audit_bundle, as nbbundle audit runs it.");
}

}  // namespace nbpy
