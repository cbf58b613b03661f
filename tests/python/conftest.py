"""Paths for the module's tests: the source tree, the built tools (NB_TEST_BIN_DIR,
default build/bin) and the reference data (NB_SHARED_DIR, default ../shared)."""

import os
import pathlib
import subprocess

import pytest

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("NB_TEST_BIN_DIR", SOURCE_DIR / "build" / "bin"))
SHARED_DIR = pathlib.Path(os.environ.get("NB_SHARED_DIR", SOURCE_DIR.parent / "shared"))
DEMO = SOURCE_DIR / "examples" / "demo_scaling"


def tool(name):
    path = BIN_DIR / name
    if not path.exists():
        pytest.skip(f"{path} not built (set NB_TEST_BIN_DIR)")
    return str(path)


def run_tool(name, *args, cwd=None, check_codes=(0,)):
    """Runs a built tool; returns the completed process (stdout as text)."""
    p = subprocess.run([tool(name), *map(str, args)], cwd=cwd, capture_output=True, text=True)
    assert p.returncode in check_codes, f"{name} {args}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


@pytest.fixture
def shared():
    if not (SHARED_DIR / "golden").is_dir():
        pytest.skip(f"reference data not found at {SHARED_DIR} (set NB_SHARED_DIR)")
    return SHARED_DIR
