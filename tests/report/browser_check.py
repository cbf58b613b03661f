#!/usr/bin/env python3
"""A parity bundle's report.html, looked at in a real browser.

Makes a bundle with `nbparity run` (nbsim c-parity as the reference, nbsim
spec as the test, on examples/demo_scaling: the images differ by the phi
carry-over), then has headless Chromium load report.html with every request
sent to a proxy of ours, and checks:

- the page loaded: the DOM Chromium dumps holds the verdict and the
  highlighted first divergence;
- it made no external request: the proxy saw no connection (and, as a
  control, it does see one from a page that loads an external image, so the
  check can fail);
- the image panels are not blank: in the screenshot, each panel box that
  `nbparity report --json` gives has enough pixels unlike its background
  (the cyan circles marking the worst pixels left out).

Usage: browser_check.py --bin BUILD/bin --example examples/demo_scaling
Exit 0 pass, 1 fail, 77 skipped (no Chromium).
"""
import argparse
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import zlib

SKIP = 77

# What Chromium itself asks for, whatever the page (its clock, component
# updater and account service), even with background networking off: these
# exact hosts are not the page's requests. Any other host is.
BROWSER_SERVICE_HOSTS = {"clients2.google.com", "update.googleapis.com", "accounts.google.com",
                         "edgedl.me.gvt1.com", "redirector.gvt1.com", "optimizationguide-pa.googleapis.com"}


def request_host(line):
    """The host a proxied request line is for ("GET http://h/p ..." or "CONNECT h:443 ...")."""
    parts = line.split()
    if len(parts) < 2:
        return ""
    target = parts[1]
    if "://" in target:
        target = target.split("://", 1)[1]
    return target.split("/", 1)[0].split(":", 1)[0]


def page_requests(requests):
    return [r for r in requests if request_host(r) not in BROWSER_SERVICE_HOSTS]


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Proxy:
    """Accepts connections on 127.0.0.1 and records the first line of each."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                data = conn.recv(4096)
            except OSError:
                data = b""
            self.requests.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
            conn.close()


def chromium_args(chromium, proxy_port, profile):
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-pings",
            "--disable-domain-reliability", "--disable-client-side-phishing-detection",
            f"--proxy-server=http://127.0.0.1:{proxy_port}", "--window-size=1200,1400"]


def run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, **kw)


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def panel_content(rows, box):
    """Fraction of a panel's pixels unlike its most common colour, the
    markers (cyan circles) left out."""
    counts = {}
    for y in range(box["y"] + 2, box["y"] + box["height"] - 2):
        for x in range(box["x"] + 2, box["x"] + box["width"] - 2):
            px = rows[y][x]
            if px[0] < 90 and px[1] > 150 and px[2] > 150:
                continue  # a marker circle
            counts[px] = counts.get(px, 0) + 1
    total = sum(counts.values())
    background = max(counts.values())
    return (total - background) / total, len(counts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--example", required=True)
    a = ap.parse_args()
    a.bin, a.example = os.path.abspath(a.bin), os.path.abspath(a.example)
    chromium = find_chromium()
    if not chromium:
        print("browser_check: skipped: no chromium (apt-get install chromium)")
        return SKIP
    failures = []
    with tempfile.TemporaryDirectory(prefix="nb-report-browser-") as work:
        for f in ("demo.mat", "demo.hkl"):
            shutil.copy(os.path.join(a.example, f), work)
        case = json.load(open(os.path.join(a.example, "case.json")))
        ref = os.path.join(work, "cparity.sh")
        with open(ref, "w") as f:
            f.write(f"#!/bin/sh\nexec '{os.path.join(a.bin, 'nbsim')}' -mode c-parity \"$@\"\n")
        os.chmod(ref, 0o755)
        r = run([os.path.join(a.bin, "nbparity"), "run", "--ref-bin", ref, "--mode", "spec", "--pixels", "27,488",
                 "--bundle", "20261203T000000Z", "--"] + case["args"], cwd=work)
        if r.returncode != 3:
            print(f"nbparity run: exit {r.returncode}, expected 3 (spec diverges from c-parity)\n"
                  + r.stdout.decode() + r.stderr.decode())
            return 1
        bundle = os.path.join(work, "20261203T000000Z")
        r = run([os.path.join(a.bin, "nbparity"), "report", bundle, "--json", os.path.join(work, "report.json")])
        if r.returncode != 0:
            print("nbparity report failed:\n" + r.stdout.decode() + r.stderr.decode())
            return 1
        written = json.load(open(os.path.join(work, "report.json")))
        page = "file://" + os.path.join(bundle, "report.html")

        proxy = Proxy()
        profile = os.path.join(work, "profile")
        base = chromium_args(chromium, proxy.port, profile)
        dom = run(base + ["--dump-dom", page]).stdout.decode("utf-8", "replace")
        if 'id="verdict">DIVERGENT<' not in dom:
            failures.append("the page did not load: no verdict DIVERGENT in the DOM")
        if 'id="first-divergence-0"' not in dom:
            failures.append("no highlighted first divergence in the DOM")
        shot = os.path.join(work, "shot.png")
        run(base + [f"--screenshot={shot}", page])
        made = page_requests(proxy.requests)
        if made:
            failures.append(f"the report made {len(made)} external request(s): {made}")
        # And statically: no URL of another origin in any src or href.
        html = open(os.path.join(bundle, "report.html"), encoding="utf-8").read()
        for attr in ("src=\"http", "href=\"http", "src=\"//", "href=\"//", "url(http", "@import"):
            if attr in html:
                failures.append(f"report.html holds {attr!r}")

        # The control: a page that loads an external image reaches the proxy.
        control = os.path.join(work, "control.html")
        with open(control, "w") as f:
            f.write('<!DOCTYPE html><img src="http://nbparity-control.invalid/x.png">')
        run(base + ["--dump-dom", "file://" + control])
        if "nbparity-control.invalid" not in {request_host(r) for r in page_requests(proxy.requests)}:
            failures.append("control: an external image did not reach the proxy, so the check sees nothing")

        if not os.path.exists(shot):
            failures.append("no screenshot")
        else:
            _, _, rows = read_png(shot)
            if len(written["overview"]) != 3:
                failures.append(f"expected 3 overview panels, report --json gives {written['overview']}")
            for box in written["overview"]:
                share, colours = panel_content(rows, box)
                print(f"panel {box['name']}: {share:.4f} of pixels unlike the background, {colours} colours")
                if share < 0.001 or colours < 3:
                    failures.append(f"panel {box['name']} looks blank ({share:.4f}, {colours} colours)")
    for f in failures:
        print("FAIL " + f)
    if not failures:
        print("browser_check: report.html loaded offline, no external request, 3 image panels drawn")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
