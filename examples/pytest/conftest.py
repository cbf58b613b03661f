"""A port's test suite asserting parity with the reference, through nbparity.

The `parity` fixture diffs a traced pixel (the reference C trace against the
port's trace of the same pixel) and fails the test when they diverge; the
failure report then carries a section with the verdict, the first divergence
and the table of divergent fields, and the test's user_properties (JUnit XML
`<property>`s) carry the verdict and first divergence.
"""

import pathlib

import pytest

import nbparity

# The demo's traces stand in for the port's: a port's own suite would write
# its trace of the pixel into tmp_path first and diff that.
DEMO = pathlib.Path(__file__).resolve().parent.parent / "demo_scaling"

pytest_plugins = ["pytester"]  # test_port_parity.py runs a failing suite in a subprocess

_RESULTS = pytest.StashKey[list]()


@pytest.fixture
def parity(request):
    """assert_parity(ref, test, **diff_options) -> nbparity.DiffResult.

    Diffs ``test`` against ``ref`` (paths or nbparity.Trace; options as
    nbparity.diff takes them: tolerance, policy, fields, aliases, ...) and
    fails the test unless the verdict is PASS.
    """
    results = request.node.stash.setdefault(_RESULTS, [])

    def assert_parity(ref, test, **diff_options):
        result = nbparity.diff(ref, test, **diff_options)
        results.append((ref, test, result))
        first = result.first_divergence
        request.node.user_properties.append(("nbparity_verdict", result.verdict))
        request.node.user_properties.append(("nbparity_first_divergence", first.label if first else ""))
        if not result.ok:
            where = f"first divergence {first.label} {first.status}" if first else result.verdict
            pytest.fail(f"{test} does not match {ref}: {where}", pytrace=False)
        return result

    return assert_parity


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Adds each diff of a failed test to its report (shown under the failure)."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for ref, test, result in item.stash.get(_RESULTS, []):
        report.sections.append((f"nbparity diff {pathlib.Path(test).name} vs {pathlib.Path(ref).name}",
                                result.report()))
