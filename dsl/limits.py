"""The resource bounds jx enforces, in one place: each has a default, an environment
variable that changes it for a run (`JX_LIMIT_<NAME>`, e.g. `JX_LIMIT_NESTING=2000`), and an
attribute of `jx.limits` that changes it from Python. The error for each bound names it.

- `nesting`: how deeply expressions and blocks may nest in source text (parse-tree levels);
  deeper text is a JxSyntaxError at the line where it gets too deep.
- `short_loop`: a `for` over a `range` inside a function with at most this many iterations
  unrolls (its index is a static int); a longer one is traced once as a loop (a `scan`).
- `unroll`: the most iterations a loop may unroll while a function is traced: a range loop
  whose body needs its index as a static value, or a `while` on a static condition.
- `python_frames`: the Python recursion limit while jx parses, checks and runs a program
  (every walk over a program is recursive, a few frames per level of nesting), so jx's own
  bounds, not Python's, are what a program meets.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from dataclasses import dataclass, fields


@dataclass
class Limits:
    nesting: int = 1000
    short_loop: int = 32
    unroll: int = 10_000
    python_frames: int = 20_000

    def __post_init__(self):
        for f in fields(self):
            text = os.environ.get(f"JX_LIMIT_{f.name.upper()}")
            if text is not None:
                try:
                    setattr(self, f.name, int(text))
                except ValueError:
                    default = getattr(self, f.name)
                    warnings.warn(
                        f"JX_LIMIT_{f.name.upper()}={text!r} is not an integer; using {default}",
                        stacklevel=2,
                    )


limits = Limits()


@contextlib.contextmanager
def python_frames():
    """Raise Python's recursion limit to `limits.python_frames` while jx walks a program."""
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(max(saved, limits.python_frames))
    try:
        yield
    finally:
        sys.setrecursionlimit(saved)
