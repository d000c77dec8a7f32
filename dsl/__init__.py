"""jx: a small, pure, functional array language embedded in Python.

    import jx
    m = jx.compile("def f(x) = x + x*x")
    m.f(np.ones(3))

See the README for the tour and LANGUAGE.md for the language contract.
"""

from . import effects as _effects  # noqa: F401 - registers print, save and load
from .transforms import pmap as _pmap  # noqa: F401 - registers vmap, pmap and the collectives
from .api import CompiledModule, Function, compile, fn, jit, run_file
from .errors import (
    AssertionError,
    ImportError,
    IndexError,
    JxError,
    JxRuntimeError,
    JxSyntaxError,
    KeyReuseError,
    NameError,
    PurityError,
    RecursionError,
    ShapeError,
    TypeError,
    ValueError,
)

__version__ = "0.1.0"

__all__ = [
    "compile", "fn", "run_file", "jit", "Function", "CompiledModule", "JxError",
    "JxSyntaxError", "NameError", "ImportError", "PurityError", "KeyReuseError", "ShapeError",
    "TypeError", "IndexError", "RecursionError", "AssertionError", "JxRuntimeError",
    "ValueError", "__version__",
]  # fmt: skip
