#!/usr/bin/env python3
"""Runs the fenced shell blocks of README.md and docs/*.md as written.

The docs promise that their shell blocks run from the repository root after
the Quick start. This checks the promise. A block's info string says what
it is:

  ```sh                 run; must exit 0
  ```sh exit=N          run; must exit N (e.g. 3: a diff that finds a divergence)
  ```sh placeholder     not run: it holds placeholders written <LIKE_THIS>,
                        and must hold at least one
  ```sh long            not run here (a benchmark, a fuzz campaign, the Quick
                        start itself); every program it names must exist
  ```text / console / json / yaml / none
                        not shell: not run

Blocks of one file run in order in one scratch folder that mirrors the
repository root (a link to every top-level entry, `build` pointing at the
build folder, `../shared` at the reference data), so a block may use what
an earlier block of the same file wrote, and nothing lands in the source
tree except through those links. Each block runs under `bash -euo pipefail`.

Usage: run_doc_blocks.py --source DIR --build DIR [--shared DIR] [--without-python]
                         [--python-preload LIBS] [FILE.md ...]
Exit 0 when every block holds, 1 otherwise (each failure printed with the
block's file, line, output and exit code).
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

SHELL_LANGS = {"sh", "bash", "shell"}
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_./-]*>")
BLOCK_TIMEOUT_S = 300


class Block:
    def __init__(self, path, line, lang, attrs, text):
        self.path, self.line, self.lang, self.attrs, self.text = path, line, lang, attrs, text

    @property
    def where(self):
        return f"{self.path}:{self.line}"


def blocks_of(path):
    """Fenced blocks of a Markdown file: (line of the opening fence, info string, body)."""
    out, inside, body, start, info = [], False, [], 0, ""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            stripped = line.rstrip("\n")
            if stripped.startswith("```"):
                if not inside:
                    inside, body, start, info = True, [], n, stripped[3:].strip()
                else:
                    words = info.split()
                    lang = words[0] if words else ""
                    attrs = {}
                    for w in words[1:]:
                        k, _, v = w.partition("=")
                        attrs[k] = v
                    out.append(Block(path, start, lang, attrs, "\n".join(body) + "\n"))
                    inside = False
            elif inside:
                body.append(stripped)
    if inside:
        raise SystemExit(f"{path}:{start}: unclosed code fence")
    return out


def commands_named(text):
    """First word of each command line (after VAR=value assignments), for blocks not run."""
    names, joined = [], text.replace("\\\n", " ")
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            words = line.split()
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words.pop(0)
        if words:
            names.append(words[0])
    return names


def program_exists(name, scratch):
    if "/" in name:
        return os.path.exists(os.path.join(scratch, name))
    if os.path.exists(os.path.join(scratch, "build", "bin", name)):
        return True
    return shutil.which(name) is not None or name in {"cd", "export", "for", "do", "done", "if", "then", "fi"}


def top_level_entries(source):
    """What the repository holds at its top: git's tracked entries when it is
    a checkout (so that outputs of an earlier run, e.g. reports/ of the demo,
    are not linked in and written through), else everything."""
    try:
        p = subprocess.run(["git", "-C", source, "ls-files", "-z"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, check=True)
        names = {f.split("/", 1)[0] for f in p.stdout.decode().split("\0") if f}
        if names:
            return sorted(names)
    except (OSError, subprocess.CalledProcessError):
        pass
    return os.listdir(source)


def make_scratch(source, build, shared):
    top = tempfile.mkdtemp(prefix="nb-doc-blocks-")
    root = os.path.join(top, "repo")
    os.mkdir(root)
    for entry in top_level_entries(source):
        if entry in {".git", "build"}:
            continue
        os.symlink(os.path.join(source, entry), os.path.join(root, entry))
    os.symlink(build, os.path.join(root, "build"))
    if shared and os.path.isdir(shared):
        os.symlink(shared, os.path.join(top, "shared"))
    return top, root


def uses_python_module(text):
    """A block that imports the nbparity module (from the build or an install)."""
    return "build/python" in text or "site-packages" in text


def block_env(text, python_preload):
    """The environment a block runs in. With a sanitized build, python3 is not
    instrumented but the module is: the ASan runtime must be preloaded, and
    leak checking is off for those blocks (the interpreter does not free its
    own objects at exit)."""
    env = dict(os.environ, NB_DOC_TEST="1")
    if python_preload and uses_python_module(text):
        env["LD_PRELOAD"] = ":".join(p for p in (python_preload, env.get("LD_PRELOAD")) if p)
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    return env


def check_file(path, source, build, shared, verbose, without_python=False, python_preload=None):
    failures = []
    blocks = blocks_of(path)
    top, root = make_scratch(source, build, shared)
    try:
        for b in blocks:
            if b.lang not in SHELL_LANGS:
                continue
            if "placeholder" in b.attrs:
                if not PLACEHOLDER.search(b.text):
                    failures.append((b, "marked placeholder but holds no <PLACEHOLDER>", ""))
                continue
            if "long" in b.attrs:
                missing = [n for n in commands_named(b.text) if not program_exists(n, root)]
                if missing:
                    failures.append((b, "names programs that do not exist: " + ", ".join(missing), ""))
                continue
            if PLACEHOLDER.search(b.text):
                failures.append((b, "holds a <PLACEHOLDER> but is not marked placeholder", ""))
                continue
            if without_python and uses_python_module(b.text):
                print(f"skip {b.where}: uses the Python module, not built")
                continue
            if "../shared" in b.text and not (shared and os.path.isdir(shared)):
                print(f"skip {b.where}: needs ../shared (the reference data), absent")
                continue
            expected = int(b.attrs.get("exit", "0") or 0)
            try:
                p = subprocess.run(["bash", "-euo", "pipefail", "-c", b.text], cwd=root,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   timeout=BLOCK_TIMEOUT_S, env=block_env(b.text, python_preload))
            except subprocess.TimeoutExpired:
                failures.append((b, f"still running after {BLOCK_TIMEOUT_S} s", ""))
                continue
            output = p.stdout.decode("utf-8", "replace")
            if p.returncode != expected:
                failures.append((b, f"exit {p.returncode}, expected {expected}", output))
            elif verbose:
                print(f"ok   {b.where} (exit {p.returncode})")
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return len([b for b in blocks if b.lang in SHELL_LANGS]), failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", required=True, help="repository root")
    ap.add_argument("--build", required=True, help="build folder (holds bin/)")
    ap.add_argument("--shared", help="reference data folder (../shared)")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--without-python", action="store_true",
                    help="the Python module was not built: skip the blocks that use build/python")
    ap.add_argument("--python-preload", metavar="LIBS",
                    help="the build is sanitized: preload these ':'-joined runtimes for the blocks that use the module")
    ap.add_argument("files", nargs="*", help="Markdown files (default: README.md and docs/*.md)")
    a = ap.parse_args()
    source, build = os.path.realpath(a.source), os.path.realpath(a.build)
    shared = os.path.realpath(a.shared) if a.shared else None
    files = a.files or [os.path.join(source, "README.md")] + sorted(
        os.path.join(source, "docs", f) for f in os.listdir(os.path.join(source, "docs")) if f.endswith(".md"))
    total, failed = 0, 0
    for f in files:
        n, failures = check_file(f, source, build, shared, a.verbose, a.without_python, a.python_preload)
        total += n
        for b, why, output in failures:
            failed += 1
            rel = os.path.relpath(b.path, source)
            print(f"FAIL {rel}:{b.line}: {why}")
            print("  block:\n" + "".join("    " + l + "\n" for l in b.text.rstrip("\n").splitlines()))
            if output:
                tail = output.rstrip("\n").splitlines()[-30:]
                print("  output (last lines):\n" + "".join("    " + l + "\n" for l in tail))
    print(f"doc blocks: {total} shell blocks in {len(files)} files, {failed} failed")
    if total == 0:
        print("doc blocks: no shell block found: nothing was checked")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
