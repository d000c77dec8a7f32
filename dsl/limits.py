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
- `int_bits`: how many bits a static (Python) integer may have; `2 ** (10**10)` is a
  ValueError at once instead of a computation that never ends.
- `array_bytes`: the largest array, in bytes, an operation may make (and the largest
  dimension times its item size): a bigger one is a ValueError when the operation is
  traced or run, before any backend allocates it.
- `program_equations`: how many equations one traced program may hold (a transformation
  of a transformation can grow a program exponentially).
- `transform_depth`: how many differentiations (grad, jacfwd, jacrev, jvp, vjp; hessian
  is two) may nest: each multiplies a program's size, so grad of grad of ... 14 deep would
  run for hours.
- `file_bytes`: the most bytes one `save` may write (refused before writing anything).

Each error names its bound and how to raise it, in the words of `how_to_raise(name)`.
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
    int_bits: int = 4096
    array_bytes: int = 8 << 30
    program_equations: int = 200_000
    transform_depth: int = 8
    file_bytes: int = 8 << 30

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


def how_to_raise(name: str) -> str:
    """The sentence an error about bound `name` ends with."""
    return (
        f"the bound is jx.limits.{name} = {getattr(limits, name):_}; raise it with the "
        f"environment variable JX_LIMIT_{name.upper()} or by setting jx.limits.{name}"
    )
