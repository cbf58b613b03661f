"""Evidence bundles: seal, verify and audit a bundle folder.

The same library calls as ``nbbundle seal``, ``nbbundle verify`` and
``nbbundle audit`` (docs/bundles.md). A folder that cannot be read raises
:class:`nbparity.InputError`; a verification that fails is a result with
``ok`` False, not an exception.
"""

import os

from . import _nbparity
from ._records import Record

__all__ = ["seal", "verify", "audit", "SealResult", "VerifyResult", "AuditResult"]


class SealResult(Record):
    """What a seal wrote.

    Entries: ``dir``; ``files`` and ``bytes`` (in sha256.txt); ``added``,
    ``changed``, ``removed`` (file names, against the previous manifest);
    ``report`` (the text ``nbbundle seal`` prints).
    """


class VerifyResult(Record):
    """A manifest check, as ``nbbundle verify`` makes it.

    Entries: ``ok`` (every listed file verifies; with ``strict`` also no
    malformed line and no unlisted file), ``counts`` (``{"OK": n,
    "FAILED": n, "MISSING": n, "REFUSED": n}``), ``items`` (one dict per
    listed file: ``path``, ``line``, ``verdict``, ``detail``,
    ``listed_sha256``, ``sha256``), ``malformed`` ((line, text) pairs),
    ``unlisted`` (with ``strict``), ``manifest``, ``dir``, ``strict``.
    """

    def __bool__(self):
        return bool(self._data["ok"])

    @property
    def failed(self):
        """The items whose verdict is not OK."""
        return [i for i in self._data["items"] if i["verdict"] != "OK"]


class AuditResult(Record):
    """An audit, as ``nbbundle audit --json`` writes it.

    Entries: the JSON document's (``findings``: dicts with ``code``,
    ``severity``, ``file``, ``message``; ``kind``; counts), plus ``errors``,
    ``warnings`` and ``ok`` (no finding of error severity).
    """

    def __bool__(self):
        return bool(self._data["ok"])

    @property
    def codes(self):
        """The finding codes, e.g. ``["B003"]``, in report order."""
        return [f["code"] for f in self._data["findings"]]


def seal(path, threads=0):
    """Seal the bundle at ``path``: write env.json and git_sha.txt, then
    sha256.txt over every other file (all or nothing).

    Returns a :class:`SealResult`. Raises :class:`nbparity.InputError`
    (unreadable folder or file), ValueError (an entry escaping the bundle)
    or OSError (an output that cannot be written). The recorded git state
    is that of the current folder's repository, as for ``nbbundle seal``.
    """
    return SealResult(_nbparity.bundle_seal(os.fspath(path), threads))


def verify(path, manifest="sha256.txt", strict=False, threads=0):
    """Check every file the bundle's manifest lists (``sha256sum -c``).

    Returns a :class:`VerifyResult` (``ok`` False when a file is FAILED,
    MISSING or REFUSED). Raises :class:`nbparity.InputError` when the
    folder or manifest cannot be read or the manifest lists nothing.
    """
    return VerifyResult(_nbparity.bundle_verify(os.fspath(path), manifest, strict, threads))


def audit(path, manifest="sha256.txt", kind="auto", threads=0):
    """Audit the bundle: everything verify checks plus the bundle faults
    B001-B015 (docs/bundles.md). ``kind``: "auto", "scaling" or "generic".

    Returns an :class:`AuditResult` (``ok`` when no finding is an error).
    """
    r = _nbparity.bundle_audit(os.fspath(path), manifest, kind, threads)
    data = dict(r["document"])
    data.update(errors=r["errors"], warnings=r["warnings"], ok=r["errors"] == 0)
    data.setdefault("kind", r["kind"])
    return AuditResult(data)
