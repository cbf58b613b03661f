"""Result records: a dict with attribute access, shared by every result type."""

import copy


class Record:
    """A result as a mapping with attribute access.

    ``r.name`` and ``r["name"]`` read the same entry (``for name in r``
    lists them; there are no keys()/items() methods, which would hide
    entries of those names); ``to_dict()`` returns a
    deep copy of the plain data (dicts, lists, str, int, float, None). NaN and
    infinities the C++ computed are kept as ``float("nan")`` / ``inf``.
    """

    __slots__ = ("_data",)

    def __init__(self, data):
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name):
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r} "
                f"(entries: {', '.join(self._data)})") from None

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __getitem__(self, key):
        return self._data[key]

    def __contains__(self, key):
        return key in self._data

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __eq__(self, other):
        if isinstance(other, Record):
            return self._data == other._data
        if isinstance(other, dict):
            return self._data == other
        return NotImplemented

    __hash__ = None

    def get(self, key, default=None):
        """The entry ``key``, or ``default``."""
        return self._data.get(key, default)

    def to_dict(self):
        """The entries as a plain dict (a deep copy)."""
        return copy.deepcopy(self._data)

    def __repr__(self):
        shown = ", ".join(f"{k}={v!r}" for k, v in list(self._data.items())[:6]
                          if not isinstance(v, (list, dict)))
        return f"<{type(self).__name__} {shown}>"
