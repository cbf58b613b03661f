"""The nbparity Python module on real data, cross-checked against the tools'
own output (nbtrace, compare_scaling_traces, nbbundle, nb-compare)."""

import json
import math
import os
import pydoc
import shutil
import subprocess
import sys

import pytest

import nbparity
from conftest import DEMO, SOURCE_DIR, run_tool

C27 = DEMO / "c_trace_s27_f488.log"
PY27 = DEMO / "py_trace_s27_f488.log"
C30 = DEMO / "c_trace_s30_f493.log"
PY30 = DEMO / "py_trace_s30_f493.log"
BUNDLES = SOURCE_DIR / "bundles"


def last_value_in_file(path, tag, name):
    """The numbers of the last `TRACE_<tag>: name ...` line, read without the module."""
    values = None
    for line in path.read_text().splitlines():
        prefix = f"TRACE_{tag}: {name} "
        if line.startswith(prefix):
            values = [float(x) for x in line[len(prefix):].split()]
    return values


# ------------------------------------------------------------------ parse

def test_parse_reads_the_records_and_values_of_a_c_trace():
    t = nbparity.parse(C27)
    assert t.tag == "C"
    assert len(t) == t.stats["records"] == len(t.fields)
    assert t.pixels == [(27, 488)]
    assert t.value("I_before_scaling") == last_value_in_file(C27, "C", "I_before_scaling")[0]
    assert t["pix0_vector_meters"].values == last_value_in_file(C27, "C", "pix0_vector_meters")
    assert "F_latt" in t and "no_such_field" not in t
    with pytest.raises(KeyError):
        t["no_such_field"]
    phi = [f for f in t if f.name == "PHI.phi_deg"]
    assert [f.loop["phi_tic"] for f in phi] == list(range(10))
    d = t.to_dict()
    assert d["tag"] == "C" and len(d["fields"]) == len(t)
    assert json.loads(json.dumps(d)) == d  # plain data
    assert t.as_dict()["I_before_scaling"] == t.value("I_before_scaling")


def test_parse_detects_the_port_tag_and_takes_an_explicit_one():
    assert nbparity.parse(PY27).tag == "PY"
    # Another tag reads none of the port's lines: a diff against it compares nothing.
    other = nbparity.parse(PY27, tag="C")
    assert len(other) == 0 and other.stats["foreign_lines"] == nbparity.parse(PY27).stats["trace_lines"]
    r = nbparity.diff(C27, other)
    assert r.verdict == "NOT_COMPARED" and not r.ok


def test_parse_errors_are_python_exceptions(tmp_path):
    with pytest.raises(nbparity.InputError) as e:
        nbparity.parse(tmp_path / "missing.log")
    assert isinstance(e.value, ValueError) and "missing.log" in str(e.value)
    bad = tmp_path / "bad.log"
    bad.write_text("TRACE_C: good 1.5\nTRACE_C: [1 2; 3]\n")
    with pytest.raises(nbparity.InputError, match="bad.log:2"):
        nbparity.parse(bad)
    t = nbparity.parse(bad, allow_malformed=True)
    assert t.value("good") == 1.5
    assert t.diagnostics and t.diagnostics[0][0] == 2
    assert "bad.log:2" in t.warnings


# ------------------------------------------------------------------ diff

def test_diff_to_dict_is_the_nbtrace_json_document(tmp_path):
    out = tmp_path / "diff.json"
    run_tool("nbtrace", "diff", C27, PY27, "--json", out, "-q", check_codes=(3,))
    tool_doc = json.loads(out.read_text())
    r = nbparity.diff(str(C27), str(PY27))
    assert r.to_dict() == tool_doc
    assert json.loads(r.to_json()) == tool_doc
    assert r["num_divergent"] == tool_doc["num_divergent"] == r.num_divergent == r.counts["divergent"]
    assert r.verdict == tool_doc["verdict"] == "DIVERGENT"
    assert not r.ok and not r


def test_diff_fields_and_first_divergence_agree_with_the_tool(tmp_path):
    out = tmp_path / "diff.json"
    run_tool("nbtrace", "diff", C27, PY27, "--json", out, "-q", check_codes=(3,))
    doc = json.loads(out.read_text())
    r = nbparity.diff(nbparity.parse(C27), nbparity.parse(PY27))
    first = r.first_divergence
    assert first.field == first["field"] == doc["first_divergence"] == "pix0_vector_meters"
    assert first.status == doc["first_divergence_detail"]["status"] == "CRITICAL"
    assert first.ref_line == doc["first_divergence_detail"]["ref_line"]
    assert first.upstream == []
    # The per-component entries of the JSON, in order, are the fields' components.
    entries = [(f.name, c) for f in r.fields for c in f.components]
    assert len(entries) == len(doc["fields"])
    for (name, c), e in zip(entries, doc["fields"]):
        assert (name, c["status"]) == (e["name"], e["status"])
        if isinstance(e["ref"], float):
            assert c["ref"] == e["ref"]
        if e["rel_delta"] is not None:
            assert c["rel_delta"] == e["rel_delta"]
    pix0 = r.fields[first.index]
    assert pix0.ref == last_value_in_file(C27, "C", "pix0_vector_meters")
    assert pix0.test == last_value_in_file(PY27, "PY", "pix0_vector_meters")
    assert pix0.abs_delta == [t - c for c, t in zip(pix0.ref, pix0.test)]
    assert r.counts["compared"] == sum(f.present == "both" for f in r.fields)
    assert r.counts["missing"] == sum(f.present != "both" for f in r.fields)


def test_a_trace_against_itself_passes():
    t = nbparity.parse(C30)
    r = nbparity.diff(t, t)
    assert r.ok and r.verdict == "PASS" and bool(r)
    assert r.first_divergence is None and r.to_dict()["first_divergence"] is None
    assert r.counts["compared"] == len(r.fields) > 20
    assert all(f.status in ("PASS", "MATCH_ZERO") for f in r.fields)


def test_diff_options_match_the_tool(tmp_path):
    policy = DEMO / "spec_vs_c.policy.json"
    out = tmp_path / "policy.json"
    p = run_tool("nbtrace", "diff", C27, PY27, "--tolerances", policy, "--json", out, "-q", check_codes=(0, 3))
    r = nbparity.diff(C27, PY27, policy=policy)
    assert r.to_dict() == json.loads(out.read_text())
    assert r.summary == p.stdout.split("json: ")[0]
    # The same policy as a dict gives the same diff.
    r2 = nbparity.diff(C27, PY27, policy=json.loads(policy.read_text()))
    assert r2.to_dict()["fields"] == r.to_dict()["fields"]
    loose = nbparity.diff(C27, PY27, tolerance=0.5, fields=["fdet_vec", "sdet_vec", "lambda_*"])
    out2 = tmp_path / "loose.json"
    run_tool("nbtrace", "diff", C27, PY27, "--tolerance", 0.5, "--fields", "fdet_vec", "--fields", "sdet_vec",
             "--fields", "lambda_*", "--json", out2, "-q")
    assert loose.to_dict() == json.loads(out2.read_text())
    assert loose.ok and loose.tolerance_rel == 0.5
    with pytest.raises(ValueError, match="tolerance"):
        nbparity.diff(C27, PY27, tolerance=-1)
    with pytest.raises(nbparity.InputError):
        nbparity.diff(C27, PY27, policy=tmp_path / "no_policy.json")


def test_nan_passes_through_a_diff(tmp_path):
    ref = tmp_path / "ref.log"
    test = tmp_path / "test.log"
    ref.write_text("TRACE_C: a 1.0\nTRACE_C: b nan\nTRACE_C: v 1 2 3\n")
    test.write_text("TRACE_PY: a 1.0\nTRACE_PY: b nan\nTRACE_PY: v 1 inf 3\n")
    r = nbparity.diff(ref, test)
    b = next(f for f in r.fields if f.name == "b")
    assert b.status == "NON_FINITE" and math.isnan(b.ref) and math.isnan(b.test)
    v = next(f for f in r.fields if f.name == "v")
    assert v.test[1] == math.inf and v.components[1]["status"] == "NON_FINITE"
    assert r.counts["non_finite"] == 2 and r.verdict == "DIVERGENT"
    # The JSON document writes them as text, as nbtrace diff --json does.
    entry = next(e for e in r.to_dict()["fields"] if e["name"] == "b")
    assert entry["ref"] == "nan" and entry["abs_delta"] is None
    equal = nbparity.diff(ref, test, policy={"non_finite": "equal_passes"})
    assert next(f for f in equal.fields if f.name == "b").status == "PASS"


def test_golden_cases_give_their_expected_listing(shared):
    cases = sorted((SOURCE_DIR / "tests" / "golden" / "trace_diff").glob("*/case.json"))
    assert cases
    for case in cases:
        spec = json.loads(case.read_text())
        r = nbparity.diff(shared / spec["ref"], shared / spec["test"], tolerance=spec["tolerance_rel"])
        listing = r.summary + "".join(f"{f.label} {f.status}\n" for f in r.fields if f.present == "both")
        assert listing == (case.parent / "expected.txt").read_text(), case.parent.name


# ------------------------------------------------------------------ attribution, scaling

def test_attribute_is_the_nbtrace_attribute_document(tmp_path):
    out = tmp_path / "attr.json"
    run_tool("nbtrace", "attribute", C27, PY27, "--json", out)
    doc = json.loads(out.read_text())
    a = nbparity.attribute(C27, PY27)
    assert a.to_dict() == doc
    assert a.gap_rel == doc["gap_rel"] and a.gap == a.test_value - a.ref_value
    assert a.best["id"] == doc["hypotheses"][0]["id"]
    assert a.markdown.startswith("# Attribution of the I_before_scaling gap")
    assert a.svg.lstrip().startswith("<")
    with pytest.raises(ValueError, match="cells"):
        nbparity.attribute(C27, PY27, cells=(0, 1, 1))


def test_compare_scaling_is_compare_scaling_traces_metrics(tmp_path):
    run_tool("compare_scaling_traces", "--c", C27, "--py", PY27, "--out", tmp_path / "summary.md")
    metrics_text = (tmp_path / "metrics.json").read_text()
    s = nbparity.compare_scaling(C27, PY27)
    assert s.to_json() == metrics_text
    assert s.to_dict() == json.loads(metrics_text)
    assert s.first_divergence == "I_before_scaling" and s.num_divergent == 6
    assert s.factors["I_before_scaling"]["status"] == "CRITICAL"
    assert s.passes["r_e_sqr"] and not s.ok
    assert s.pixel == (27, 488)
    # The sealed demo bundle holds the same comparison.
    bundled = BUNDLES / "scaling-demo_scaling" / "20261128T082100Z" / "metrics.json"
    assert s.to_dict() == json.loads(bundled.read_text())
    same = nbparity.compare_scaling(C27, C27)
    assert same.ok and same.first_divergence is None and same.num_divergent == 0


# ------------------------------------------------------------------ bundles

@pytest.fixture(params=["scaling-demo_scaling", "image-sparse_hkl_64"])
def bundle_copy(request, tmp_path):
    src = next((BUNDLES / request.param).iterdir())
    dst = tmp_path / request.param / src.name
    shutil.copytree(src, dst, symlinks=True)
    return dst


def test_verify_and_audit_a_sealed_bundle(bundle_copy):
    listed = len((bundle_copy / "sha256.txt").read_text().splitlines())
    v = nbparity.bundle.verify(bundle_copy)
    assert v.ok and bool(v) and v.counts["OK"] == listed == len(v.items)
    tool_audit = json.loads(run_tool("nbbundle", "audit", bundle_copy, "--json", "-").stdout)
    a = nbparity.bundle.audit(bundle_copy)
    assert a.ok and a.errors == 0
    assert {k: a[k] for k in tool_audit} == tool_audit


def test_verify_fails_after_tampering_and_seal_makes_it_verify_again(bundle_copy):
    victim = next(p for p in sorted(bundle_copy.rglob("*")) if p.is_file() and p.name not in
                  ("sha256.txt", "env.json", "git_sha.txt", "commands.txt"))
    victim.write_bytes(victim.read_bytes() + b"tampered\n")
    rel = victim.relative_to(bundle_copy).as_posix()
    v = nbparity.bundle.verify(bundle_copy)
    assert not v.ok and v.counts["FAILED"] == 1
    assert [i["path"] for i in v.failed] == [rel]
    tool_verify = run_tool("nbbundle", "verify", bundle_copy, check_codes=(4,))
    assert f"{rel}: FAILED" in tool_verify.stdout
    a = nbparity.bundle.audit(bundle_copy)
    assert not a.ok and "B003" in a.codes
    s = nbparity.bundle.seal(bundle_copy)
    assert rel in s.changed and s.files == len((bundle_copy / "sha256.txt").read_text().splitlines())
    assert s.report.startswith("sealed ")
    assert nbparity.bundle.verify(bundle_copy).ok
    env = json.loads((bundle_copy / "env.json").read_text())
    assert env["tool"] == "nbparity-python" and env["tool_version_line"] == nbparity.version_line


def test_bundle_errors(tmp_path):
    with pytest.raises(nbparity.InputError):
        nbparity.bundle.verify(tmp_path / "no_bundle")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "sha256.txt").write_text("")
    with pytest.raises(nbparity.InputError, match="no properly formatted"):
        nbparity.bundle.verify(tmp_path / "empty")


# ------------------------------------------------------------------ images

def test_compare_images_from_files_is_nb_compare(tmp_path):
    np = pytest.importorskip("numpy")
    ref, test = DEMO / "image.bin", DEMO / "py_image.bin"
    run_tool("nb-compare", "images", ref, test, "--fpixels", 512, "--spixels", 512, "--outdir", tmp_path / "nbc")
    tool_metrics = json.loads((tmp_path / "nbc" / "summary.json").read_text())["metrics"]
    m = nbparity.compare_images(ref, test)
    assert {k: m[k] for k in tool_metrics} == tool_metrics
    assert m.shape == [512, 512] and m.valid
    # Cross-check against numpy, in float64 over the float32 pixels.
    a = np.fromfile(ref, dtype="<f4").reshape(512, 512).astype(np.float64)
    b = np.fromfile(test, dtype="<f4").reshape(512, 512).astype(np.float64)
    assert m.sum_ref == pytest.approx(a.sum(), rel=1e-12)
    assert m.sum_test == pytest.approx(b.sum(), rel=1e-12)
    assert m.rmse == pytest.approx(np.sqrt(((a - b) ** 2).mean()), rel=1e-12)
    assert m.max_abs_diff == pytest.approx(np.abs(a - b).max(), rel=1e-12)
    assert m.correlation == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1], rel=1e-9)
    s, f = np.unravel_index(np.argmax(np.abs(a - b)), a.shape)
    assert m.max_abs_diff_at == {"slow": s, "fast": f}
    # Arrays give the same metrics as the files.
    assert nbparity.compare_images(a, b) == m
    assert nbparity.compare_images(a, b, roi=(0, 63, 0, 31)).pixels == 64 * 32


def test_compare_images_keeps_nan_and_refuses_mismatched_shapes():
    np = pytest.importorskip("numpy")
    a = np.ones((8, 8), dtype=np.float32)
    a[2:5, 2:5] = 3
    b = a.copy()
    b[1, 6] = np.nan
    m = nbparity.compare_images(a, b)
    assert m.non_finite_test == {"count": 1, "first": {"slow": 1, "fast": 6, "value": "nan"}}
    assert m.invalid_checks == ["non_finite_test"] and not m.valid
    assert m.compared_pixels == 63
    with pytest.raises(ValueError):
        nbparity.compare_images(a, np.ones((8, 9), dtype=np.float32))
    with pytest.raises(ValueError, match="2-D"):
        nbparity.compare_images(a.ravel(), b.ravel())


def test_smv_images_simulated_with_nbsim(tmp_path):
    np = pytest.importorskip("numpy")
    case = json.loads((SOURCE_DIR / "examples" / "sparse_hkl_64" / "case.json").read_text())
    shutil.copy(SOURCE_DIR / "examples" / "sparse_hkl_64" / "sparse.hkl", tmp_path)
    run_tool("nbsim", *case["args"], "-floatfile", "float.bin", "-intfile", "image.smv", "-nonoise", "-nopgm",
             cwd=tmp_path)
    smv = nbparity.read_image(tmp_path / "image.smv")
    floats = nbparity.read_image(tmp_path / "float.bin")
    assert smv.shape == floats.shape == (64, 64) and smv.dtype == np.float32
    m = nbparity.compare_images(tmp_path / "image.smv", tmp_path / "float.bin")
    run_tool("nb-compare", "images", tmp_path / "image.smv", tmp_path / "float.bin", "--outdir", tmp_path / "nbc")
    tool_metrics = json.loads((tmp_path / "nbc" / "summary.json").read_text())["metrics"]
    assert {k: m[k] for k in tool_metrics} == tool_metrics
    assert m.correlation > 0.99  # the integer image is the float one scaled and rounded
    same = nbparity.compare_images(tmp_path / "image.smv", smv)
    assert same.max_abs_diff == 0 and same.correlation == pytest.approx(1.0)


# ------------------------------------------------------------------ documentation

def test_every_public_name_is_documented():
    text = pydoc.render_doc(nbparity, renderer=pydoc.plaintext)
    for name in nbparity.__all__:
        obj = getattr(nbparity, name)
        assert obj.__doc__ and obj.__doc__.strip(), name
        assert name in text
    for name in nbparity.bundle.__all__:
        assert getattr(nbparity.bundle, name).__doc__, name
    tool_line = run_tool("nbtrace", "--version").stdout.strip()
    assert tool_line.startswith("nbtrace (nbparity " + nbparity.__version__ + ", git ")
    assert nbparity.version_line == tool_line.replace("nbtrace", "nbparity-python", 1)


# ------------------------------------------------------------------ install

def test_installed_package_imports_from_the_prefix(tmp_path):
    build = os.environ.get("NB_TEST_BUILD_DIR")
    if not build:
        pytest.skip("NB_TEST_BUILD_DIR not set (CTest sets it)")
    prefix = tmp_path / "prefix"
    subprocess.run([os.environ.get("NB_CMAKE", "cmake"), "--install", build, "--prefix", str(prefix)],
                   check=True, capture_output=True)
    site = prefix / os.environ.get("NB_PYTHON_SITEARCH", f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages")
    assert (site / "nbparity" / "__init__.py").is_file()
    env = dict(os.environ, PYTHONPATH=str(site))
    probe = ("import nbparity, sys; r = nbparity.diff(sys.argv[1], sys.argv[1]); "
             "print(nbparity.__file__, r.verdict)")
    out = subprocess.run([sys.executable, "-c", probe, str(C30)], env=env, cwd=tmp_path,
                         check=True, capture_output=True, text=True).stdout.split()
    assert out == [str(site / "nbparity" / "__init__.py"), "PASS"]
