"""nbparity: trace diffs, scaling-chain checks, evidence bundles and image
comparison for a port's own test suite.

The calls are the libraries the nbparity tools run (no subprocess):

- :func:`parse` a trace log into a :class:`Trace`;
- :func:`diff` two traces field by field (``nbtrace diff``) into a
  :class:`DiffResult`: per-field results, the first divergence, counts,
  the verdict, and ``to_dict()`` (the ``--json`` document);
- :func:`attribute` the I_before_scaling gap (``nbtrace attribute``);
- :func:`compare_scaling` the nine scaling factors (``compare_scaling_traces``'s
  metrics.json);
- :func:`compare_images` two images, numpy arrays or files (nb-compare's
  metrics), and :func:`read_image`;
- :mod:`nbparity.bundle`: ``seal``, ``verify``, ``audit`` evidence bundles.

Errors: a missing, unreadable or malformed input raises :class:`InputError`
(a ValueError); a bad argument value raises ValueError; an output that
cannot be written raises OSError.

NaN: nothing is dropped. Attribute access gives the numbers the C++
computed, NaN and infinities included; ``to_dict()`` of a diff is the tool's
JSON document, where (JSON having no NaN) a non-finite value is the text
"nan"/"inf"/"-inf" and an undefined delta is None.

See docs/python.md for examples, and examples/pytest/ for a port's test
suite asserting parity with it.
"""

import os

from . import _nbparity
from ._nbparity import InputError
from ._records import Record

__version__ = _nbparity.__version__
#: "nbparity-python (nbparity VERSION, git SHA)": as the tools print with --version.
version_line = _nbparity.version_line

__all__ = [
    "InputError", "Trace", "TraceField", "parse",
    "DiffResult", "FieldResult", "diff",
    "Attribution", "attribute",
    "ScalingResult", "compare_scaling",
    "ImageMetrics", "compare_images", "read_image",
    "bundle",
]


# --------------------------------------------------------------- traces

class TraceField(Record):
    """One record (one field of one TRACE line) of a :class:`Trace`.

    Entries: ``name`` (qualified: "F_latt" or "PHI.F_latt"), ``values``
    (list of floats; NaN and inf as written), ``form`` ("numbers",
    "matrix", "keyed", "text", "marker"), ``text`` (text form), ``keys``
    (component keys of the keyed form), ``shape`` ([rows, cols] of a
    matrix), ``loop`` (loop coordinates, e.g. ``{"phi_tic": 3.0}``),
    ``occurrence``, ``line`` (1-based), ``label``.
    """

    @property
    def value(self):
        """The value: a float for one number, a list for several, the text
        for text, None for a marker."""
        if self._data["form"] == "text":
            return self._data["text"]
        values = self._data["values"]
        if not values:
            return None
        return values[0] if len(values) == 1 else list(values)


class Trace:
    """A parsed trace log (every TRACE_<tag> line of a captured stdout).

    - ``len(trace)``, ``trace[i]``, ``for f in trace``: the records in file
      order (:class:`TraceField`);
    - ``trace["F_latt"]``, ``"F_latt" in trace``: the last record of that
      name; ``trace.value(name)`` its value;
    - ``trace.fields`` (list), ``trace.names`` (distinct names in order),
      ``trace.as_dict()`` (name → value of its last record);
    - ``path``, ``tag`` ("C", "PY", ...), ``stats`` (parser counts),
      ``pixels`` ((slow, fast) of TRACE_CONFIG lines), ``diagnostics``
      ((line, reason) of malformed lines), ``warnings`` (text);
    - ``to_dict()``: all of it as plain data.
    """

    def __init__(self, handle, warnings=""):
        self._handle = handle
        self._fields = None
        self.warnings = warnings

    @property
    def path(self):
        """The path the trace was read from."""
        return self._handle.path

    @property
    def tag(self):
        """The tag read (given or detected), e.g. "C" or "PY"."""
        return self._handle.tag

    @property
    def fields(self):
        """Every record in file order, as :class:`TraceField`."""
        if self._fields is None:
            self._fields = [TraceField(r) for r in self._handle.records()]
        return self._fields

    @property
    def names(self):
        """The distinct field names, in order of first appearance."""
        return list(dict.fromkeys(f["name"] for f in self.fields))

    @property
    def stats(self):
        """What the parser counted: lines, trace_lines, records, malformed_lines, ..."""
        return self._handle.stats()

    @property
    def pixels(self):
        """Traced pixels announced by TRACE_CONFIG lines, as (slow, fast)."""
        return self._handle.pixels()

    @property
    def diagnostics(self):
        """Malformed lines skipped (with ``allow_malformed``): (line, reason)."""
        return self._handle.diagnostics()

    def __len__(self):
        return len(self._handle)

    def __iter__(self):
        return iter(self.fields)

    def __contains__(self, name):
        return self._handle.find_last(name) is not None

    def __getitem__(self, key):
        if isinstance(key, int):
            return self.fields[key]
        index = self._handle.find_last(key)
        if index is None:
            raise KeyError(f"{self.path}: no field {key!r}")
        return self.fields[index]

    def get(self, name, default=None):
        """The last record named ``name``, or ``default``."""
        return self[name] if name in self else default

    def value(self, name):
        """The value of the last record named ``name`` (see TraceField.value)."""
        return self[name].value

    def as_dict(self):
        """name → value of the last record of that name."""
        return {f["name"]: f.value for f in self.fields}

    def to_dict(self):
        """path, tag, stats, pixels, diagnostics and every record, as plain data."""
        return {
            "path": self.path, "tag": self.tag, "stats": self.stats,
            "pixels": [list(p) for p in self.pixels],
            "diagnostics": [list(d) for d in self.diagnostics],
            "fields": [f.to_dict() for f in self.fields],
        }

    def __repr__(self):
        return f"<nbparity.Trace {self.path!r} TRACE_{self.tag}: {len(self)} records>"


def parse(path, tag=None, allow_malformed=False):
    """Read and parse a trace log; returns a :class:`Trace`.

    ``tag``: the TRACE_<tag> lines to read ("C", "PY", "CPP"); default: the
    most frequent tag in the file. Raises :class:`InputError` when the file
    cannot be read, has no TRACE_<tag> line, or has a malformed one (unless
    ``allow_malformed``: those lines are skipped and listed in
    ``trace.diagnostics`` and ``trace.warnings``).
    """
    handle, warnings = _nbparity.load_trace(os.fspath(path), tag or "", bool(allow_malformed))
    return Trace(handle, warnings)


def _trace_handle(value, tag, allow_malformed):
    if isinstance(value, Trace):
        return value._handle
    if isinstance(value, (str, os.PathLike)):
        return parse(value, tag, allow_malformed)._handle
    raise TypeError(f"a trace is a path or an nbparity.Trace, not {type(value).__name__}")


def _alias_specs(aliases):
    if not aliases:
        return []
    if isinstance(aliases, dict):
        return [f"{k}={v}" for k, v in aliases.items()]
    if isinstance(aliases, str):
        return [aliases]
    return list(aliases)


# --------------------------------------------------------------- diff

def _one_or_list(values):
    return values[0] if len(values) == 1 else list(values)


class FieldResult(Record):
    """One aligned field of a diff (a record pair, or a record on one side).

    Entries: ``name`` (also ``field``), ``label`` (with loop coordinates),
    ``status`` ("PASS", "MATCH_ZERO", "WAIVED", "MINOR", "DIVERGENT",
    "CRITICAL", "NON_FINITE", "DIVERGENT_ZERO_REF", "TEXT_MISMATCH",
    "SHAPE_MISMATCH", "MISSING": the worst component's), ``divergent``,
    ``present`` ("both", "ref", "test"), ``ref``/``test`` (the value: a
    float for one component, a list for several, text for text, None where
    that side lacks the field), ``abs_delta``/``rel_delta`` (test − ref and
    relative, per component like ``ref``; NaN where undefined),
    ``max_abs_rel_delta``, ``max_ulps``, ``ref_line``, ``test_line``,
    ``loop``, ``occurrence``, ``form``, ``components`` (a dict per
    component: ``component``, ``key``, ``ref``, ``test``, ``abs_delta``,
    ``rel_delta``, ``ulps``, ``status``, ``underlying_status``, ``waiver``).
    The first divergence also has ``upstream``: the fields just before it.
    """

    def __init__(self, data):
        comps = data["components"]
        data["field"] = data["name"]
        for key in ("ref", "test", "abs_delta", "rel_delta"):
            values = [c[key] for c in comps]
            if key in ("ref", "test") and data["present"] not in ("both", key):
                data[key] = None
            else:
                data[key] = _one_or_list(values) if values else None
        super().__init__(data)

    def __repr__(self):
        return (f"<FieldResult {self._data['label']} {self._data['status']} "
                f"ref={self._data['ref']!r} test={self._data['test']!r}>")


class DiffResult:
    """A field-by-field trace diff (``nbtrace diff``).

    - ``verdict``: "PASS", "DIVERGENT" or "NOT_COMPARED" (fewer fields on
      both sides than the policy's minimum); ``ok`` / ``bool(result)``:
      verdict is PASS;
    - ``fields``: every aligned field (:class:`FieldResult`), reference
      order then test-only fields; ``divergent_fields``;
    - ``first_divergence``: its :class:`FieldResult` (``.field`` or
      ``["field"]`` is the name; ``.upstream`` the fields before it), or None;
    - ``counts``: compared, agree, divergent, divergent_components, waived,
      missing, non_finite, min_compared (also ``num_compared``, ...);
    - ``tolerance_rel``, ``unused_waivers``;
    - ``summary`` (the verdict paragraph), ``table()``, ``markdown()``,
      ``report()`` (summary and the divergent fields, for a failing test);
    - ``to_dict()`` / ``to_json()``: the ``nbtrace diff --json`` document;
      ``result["num_divergent"]`` reads that document.
    """

    def __init__(self, handle):
        self._handle = handle
        self._fields = None
        self._doc = None

    @property
    def verdict(self):
        """PASS, DIVERGENT or NOT_COMPARED."""
        return self._handle.verdict

    @property
    def ok(self):
        """True when the verdict is PASS."""
        return self.verdict == "PASS"

    def __bool__(self):
        return self.ok

    @property
    def tolerance_rel(self):
        """The relative tolerance of the diff."""
        return self._handle.tolerance_rel

    @property
    def fields(self):
        """Every aligned field, as :class:`FieldResult`."""
        if self._fields is None:
            self._fields = [FieldResult(d) for d in self._handle.fields()]
        return self._fields

    @property
    def divergent_fields(self):
        """The fields whose status is a divergence."""
        return [f for f in self.fields if f.divergent]

    @property
    def first_divergence(self):
        """The first divergent field in reference order (with ``upstream``), or None."""
        index = self._handle.first_divergence
        if index is None:
            return None
        data = self.fields[index].to_dict()
        data["upstream"] = [self.fields[i] for i in self._handle.upstream]
        return FieldResult(data)

    @property
    def counts(self):
        """compared, agree, divergent, divergent_components, waived, missing, non_finite, min_compared."""
        return self._handle.counts()

    def __getattr__(self, name):
        if name.startswith("num_") and name[4:] in self.counts:
            return self.counts[name[4:]]
        raise AttributeError(f"DiffResult has no attribute {name!r}")

    @property
    def unused_waivers(self):
        """Waivers of the policy that matched nothing divergent."""
        return self._handle.unused_waivers

    @property
    def summary(self):
        """The verdict paragraph ``nbtrace diff -q`` prints."""
        return self._handle.summary()

    def table(self, only_divergent=False, show_missing=False, color=False):
        """The terminal table ``nbtrace diff`` prints."""
        return self._handle.table(only_divergent, show_missing, color)

    def markdown(self):
        """The ``nbtrace diff --md`` report."""
        return self._handle.markdown()

    def report(self):
        """Text for a failing test: the summary and the divergent fields' table."""
        if self.ok:
            return self.summary
        return self.summary + "\n" + self.table(only_divergent=True)

    def to_json(self):
        """The ``nbtrace diff --json`` document, as text."""
        return self._handle.to_json()

    def to_dict(self):
        """The ``nbtrace diff --json`` document, as a dict."""
        if self._doc is None:
            self._doc = self._handle.to_dict()
        return self._doc

    def __getitem__(self, key):
        return self.to_dict()[key]

    def __repr__(self):
        c = self.counts
        return (f"<nbparity.DiffResult {self.verdict}: {c['compared']} compared, "
                f"{c['divergent']} divergent>")


def diff(ref, test, tolerance=None, policy=None, *, abs_floor=None, aliases=None,
         no_builtin_aliases=False, fields=None, ref_tag=None, test_tag=None,
         allow_malformed=False):
    """Compare ``test`` against ``ref`` field by field, as ``nbtrace diff`` does.

    ``ref``, ``test``: paths or :class:`Trace` objects. ``tolerance``:
    relative tolerance for PASS (default 1e-6, or the policy's).
    ``policy``: a policy file path or a dict of the same JSON
    (tolerance_rel, abs_floor, min_compared_fields, non_finite, overrides,
    waivers, aliases: docs/trace-diff.md); ``tolerance`` and ``abs_floor``
    win over it. ``aliases``: {test_name: reference_name} or "a=b" specs.
    ``fields``: globs of the fields to compare. Tags and
    ``allow_malformed`` apply to traces given as paths.

    Returns a :class:`DiffResult`. Raises :class:`InputError` for an
    unreadable trace or policy, ValueError for a bad option.
    """
    policy_file, policy_dict = "", None
    if isinstance(policy, (str, os.PathLike)):
        policy_file = os.fspath(policy)
    elif policy is not None:
        policy_dict = dict(policy)
    if isinstance(fields, str):
        fields = [fields]
    handle = _nbparity.diff(
        _trace_handle(ref, ref_tag, allow_malformed), _trace_handle(test, test_tag, allow_malformed),
        tolerance, abs_floor, policy_file, policy_dict, _alias_specs(aliases),
        bool(no_builtin_aliases), list(fields or []))
    return DiffResult(handle)


# --------------------------------------------------------------- attribution

class Attribution(Record):
    """The attribution of an I_before_scaling gap (``nbtrace attribute --json``).

    Entries: ``quantity``, ``ref``, ``test``, ``ref_value``, ``test_value``,
    ``gap`` (test − ref), ``gap_rel``, ``final_gap_rel``, ``step_channel``,
    ``steps`` (per-step terms and shares), ``attributed_share``,
    ``unattributed_share``, ``terms_inconsistent``, ``first_step_factors``,
    ``scaling_factors``, ``lattice``, ``hypotheses`` (ranked, best first:
    ``id``, ``title``, ``score``, ``evidence``), ``narrative``. Also
    ``markdown`` and ``svg`` (the reports) and ``to_json()``.
    """

    def __init__(self, raw):
        super().__init__(raw["document"])
        object.__setattr__(self, "_extra", raw)

    __slots__ = ("_extra",)

    @property
    def markdown(self):
        """The ``nbtrace attribute --md`` report (no chart link)."""
        return self._extra["markdown"]

    @property
    def svg(self):
        """The per-step bar chart (SVG text)."""
        return self._extra["svg"]

    @property
    def best(self):
        """The best-ranked hypothesis (a dict), or None."""
        h = self._data["hypotheses"]
        return h[0] if h else None

    def to_json(self):
        """The ``nbtrace attribute --json`` document, as text."""
        return self._extra["json"]


def attribute(ref, test, cells=None, ref_label=None, test_label=None, aliases=None):
    """Explain the I_before_scaling gap of ``test`` against ``ref`` (two
    traces of one pixel), as ``nbtrace attribute`` does.

    ``cells``: (Na, Nb, Nc) for the lattice recomputation (default:
    inferred). Labels default to the traces' tags. Returns an
    :class:`Attribution`; raises :class:`InputError` when a trace lacks
    I_before_scaling.
    """
    raw = _nbparity.attribute(
        _trace_handle(ref, None, False), _trace_handle(test, None, False),
        tuple(cells) if cells is not None else None, ref_label or "", test_label or "",
        _alias_specs(aliases))
    return Attribution(raw)


# --------------------------------------------------------------- scaling chain

class ScalingResult(Record):
    """The nine-factor scaling-chain comparison: compare_scaling_traces's
    metrics.json as a mapping.

    Entries: ``tolerance_rel``, ``first_divergence`` (a factor name or
    None), ``num_divergent``, ``factors`` ({name: {description, c_value,
    py_value, abs_delta, rel_delta, status}}, in chain order). Also ``ok``
    (every factor PASS or MATCH), ``passes`` ({name: bool}), ``pixel``
    ((slow, fast) or None), ``markdown`` (summary.md) and ``to_json()`` (the
    metrics.json text). Where the file has null for a non-finite number,
    the mapping has the NaN or infinity itself.
    """

    def __init__(self, raw):
        super().__init__(raw["metrics"])
        object.__setattr__(self, "_extra", raw)

    __slots__ = ("_extra",)

    @property
    def passes(self):
        """{factor name: PASS or MATCH (both ~0)}."""
        return {f["name"]: f["passes"] for f in self._extra["factors"]}

    @property
    def ok(self):
        """True when every factor passes."""
        return all(self.passes.values())

    @property
    def pixel(self):
        """The traced pixel (slow, fast) from the traces, or None."""
        return self._extra["pixel"]

    @property
    def markdown(self):
        """summary.md, as compare_scaling_traces writes it."""
        return self._extra["markdown"]

    def to_json(self):
        """metrics.json, byte for byte as compare_scaling_traces writes it."""
        return self._extra["json"]


def compare_scaling(c_trace, py_trace, tolerance=1e-6, aliases=None, test_label="PyTorch"):
    """Compare the nine scaling factors (I_before_scaling, r_e_sqr, fluence,
    steps, capture_fraction, polar, omega, cos_2theta, I_pixel_final) of a
    C trace and a port's trace of the same pixel, as compare_scaling_traces
    does. Returns a :class:`ScalingResult` (metrics.json as a mapping).
    """
    raw = _nbparity.compare_scaling(
        _trace_handle(c_trace, None, False), _trace_handle(py_trace, None, False),
        float(tolerance), _alias_specs(aliases), test_label)
    return ScalingResult(raw)


# --------------------------------------------------------------- images

class ImageMetrics(Record):
    """Image comparison metrics, as nb-compare and parity runs report them.

    Entries: ``roi`` ([xmin, xmax, ymin, ymax]), ``pixels``,
    ``compared_pixels`` (finite on both sides), ``non_finite_ref``,
    ``non_finite_test`` ({count, first}), ``correlation`` (Pearson r; None
    when a side is constant), ``mse``, ``rmse``, ``max_abs_diff``,
    ``max_abs_diff_at`` ({slow, fast}), ``sum_ref``, ``sum_test``,
    ``sum_ratio`` (None when ref sums to 0), ``peaks`` (found, matched,
    displacements, the peak lists), ``shape`` ([fast, slow]),
    ``invalid_checks`` and ``invalid_messages`` (a NaN or inf pixel fails
    the comparison whatever the thresholds). ``valid``: no invalid check.
    """

    @property
    def valid(self):
        """True when the metrics stand for the whole ROI (no non-finite pixel)."""
        return not self._data["invalid_checks"]


def _image_arg(value, name):
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    try:
        import numpy
    except ImportError:
        raise TypeError(f"{name}: an image path, or a 2-D array with numpy installed") from None
    return numpy.asarray(value, dtype=numpy.float32)


def _fast_slow(shape):
    if shape is None:
        return None
    slow, fast = shape
    return (int(fast), int(slow))


def compare_images(ref, test, roi=None, *, shape=None, test_shape=None, top_peaks=20,
                   peak_percentile=95.0, peak_gate=2.0):
    """Compare two images as nb-compare does: correlation, MSE, RMSE, max
    |Δ| and where, sums and their ratio, peak matching.

    ``ref``, ``test``: 2-D arrays indexed [slow, fast] (made float32, as
    the files are), or image files (raw float32, .npy, SMV, CBF; told by
    their first bytes). ``shape``: (slow, fast) of a raw file that is not
    square (``test_shape`` for the test side; default: ``shape``).
    ``roi``: (xmin, xmax, ymin, ymax), inclusive, fast = x. Returns
    :class:`ImageMetrics`. Raises ValueError when the shapes differ,
    :class:`InputError` for an unreadable file.
    """
    if test_shape is None:
        test_shape = shape
    return ImageMetrics(_nbparity.compare_images(
        _image_arg(ref, "ref"), _image_arg(test, "test"), _fast_slow(shape), _fast_slow(test_shape),
        tuple(roi) if roi is not None else None, int(top_peaks), float(peak_percentile),
        float(peak_gate)))


def read_image(path, shape=None):
    """Read an image file (raw float32, .npy, SMV, CBF) as a float32 numpy
    array [slow, fast]. ``shape``: (slow, fast) of a raw file that is not
    square. Needs numpy."""
    array, _ = _nbparity.read_image_path(os.fspath(path), _fast_slow(shape))
    return array


from . import bundle  # noqa: E402  (the submodule uses _nbparity and _records)
