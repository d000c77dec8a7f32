"""Values as text and back: what `print` shows of a value, and argument types written as
`"f32[3,3], f32[]"` (for `jx ir --args`, the REPL's `:ir FUNC ARGS`) made into zero arrays.
"""

from __future__ import annotations

import numpy as np

from . import dtypes
from .dtypes import BY_NAME


def format_value(v) -> str:
    """What print() shows: NumPy's str() for arrays, Python's look for the rest."""
    if isinstance(v, np.ndarray):
        return str(v)
    if isinstance(v, np.dtype):
        return dtypes.short(v)
    if isinstance(v, tuple):
        inner = ", ".join(format_value(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {format_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (bool, int, float, str)) or v is None:
        return str(v)
    return repr(v)


def parse_signature(text: str, fail):
    """`"f32[3,3], f32[]"` -> zero arrays of those shapes and dtypes; `fail(message)` raises."""

    out = []
    for part in _split_top(text):
        part = part.strip()
        if not part:
            continue
        if "[" not in part or not part.endswith("]"):
            fail(f"bad --args entry '{part}' (expected e.g. f32[3,3])")
        dtype, dims = part[:-1].split("[", 1)
        if dtype not in BY_NAME:
            fail(f"unknown dtype '{dtype}' in --args")
        dims = [d.strip() for d in dims.split(",") if d.strip()]
        if not all(d.isdigit() for d in dims):
            fail(f"bad shape in --args entry '{part}' (dimensions are whole numbers)")
        out.append(np.zeros(tuple(int(d) for d in dims), BY_NAME[dtype]))
    return out


def _split_top(text: str):
    depth, start = 0, 0
    for i, c in enumerate(text):
        depth += c == "["
        depth -= c == "]"
        if c == "," and depth == 0:
            yield text[start:i]
            start = i + 1
    yield text[start:]
