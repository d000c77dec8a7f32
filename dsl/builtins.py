"""The table of built-ins (LANGUAGE.md section 5), how one enters it, and array attributes.

`BUILTINS` maps each name a program sees without an import to its value. The dtype names
and the constants (`None`, `pi`, `e`, `inf`, `nan`) are entered here; the functions, with
NumPy's names, arguments and semantics and written over `ops` (compositions of
primitives, never new primitives), register themselves with `@builtin()` (a trailing
underscore dropped: `sum_` is `sum`) from their families (`builtins_creation`,
`builtins_math`, `builtins_reductions`, `builtins_shapes`, `builtins_python`), as do the
effects and the transformations; importing `jx` imports them all. `to_dtype` reads a dtype
argument, and `array_attribute` maps `x.shape`, `x.sum(...)` and the other array
attributes and methods onto the table.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from . import dtypes, ops
from .core import aval_of, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .indexing import AtHelper
from .values import Builtin, did_you_mean

BUILTINS: dict[str, object] = {}


def builtin(name=None, effect=False):
    def register(fn):
        BUILTINS[name or fn.__name__.rstrip("_")] = Builtin(
            name or fn.__name__.rstrip("_"), fn, effect
        )
        return fn

    return register


def to_dtype(d, allow_none=True):
    if d is None and allow_none:
        return None
    if isinstance(d, np.dtype):
        return d
    if isinstance(d, str) and d in dtypes.BY_NAME:
        return dtypes.BY_NAME[d]
    raise JxTypeError(f"not a dtype: {d!r}; use one of bool, i32, i64, u32, f16, bf16, f32, f64")


def static_flag(v, what: str) -> bool:
    """A keyword that must be a static True or False (not an array)."""
    if type(v) in (bool, int) or isinstance(v, np.bool_):
        return bool(v)
    raise JxTypeError(f"{what} must be a static True or False, got {describe(v)}")


def static_choice(v, choices: tuple, what: str) -> str:
    """A keyword that must be one of a few strings."""
    if isinstance(v, str) and v in choices:
        return v
    shown = repr(v) if isinstance(v, str) else describe(v)
    raise JxValueError(f"{what} {shown} is not one of {', '.join(choices)}")


for _name, _dt in dtypes.BY_NAME.items():
    BUILTINS[_name] = _dt
BUILTINS["None"] = None
BUILTINS["pi"] = math.pi
BUILTINS["e"] = math.e
BUILTINS["inf"] = math.inf
BUILTINS["nan"] = math.nan

# Each array method is the built-in of the name shown, with the array as first argument.
_METHODS = {
    "sum": "sum",
    "mean": "mean",
    "max": "max",
    "min": "min",
    "prod": "prod",
    "all": "all",
    "any": "any",
    "argmax": "argmax",
    "argmin": "argmin",
    "std": "std",
    "var": "var",
    "cumsum": "cumsum",
    "cumprod": "cumprod",
    "astype": "astype",
    "transpose": "transpose",
    "squeeze": "squeeze",
    "ravel": "ravel",
    "flatten": "ravel",
    "dot": "dot",
    "clip": "clip",
    "round": "round",
    "swapaxes": "swapaxes",
    "repeat": "repeat",
    "sort": "sort",
    "argsort": "argsort",
    "take": "take",
    "nonzero": "nonzero",
    "diagonal": "diagonal",
    "trace": "trace",
    "ptp": "ptp",
    "searchsorted": "searchsorted",
}


def array_attribute(x, attr: str, span):
    a = aval_of(x)
    if attr == "shape":
        return a.shape
    if attr == "ndim":
        return a.ndim
    if attr == "size":
        return a.size
    if attr == "dtype":
        return dtypes.alone(a)  # a weak float is exact inside, but its dtype is f32
    if attr == "T":
        return ops.transpose(x)
    if attr == "at":
        return AtHelper(x)
    if attr == "reshape":

        def reshape_method(*shape):
            return ops.reshape(x, shape[0] if len(shape) == 1 else shape)

        return Builtin("reshape", reshape_method)
    if attr == "transpose":

        def transpose_method(*axes):
            return ops.transpose(
                x, (axes[0] if len(axes) == 1 and isinstance(axes[0], tuple) else axes) or None
            )

        return Builtin("transpose", transpose_method)
    if attr in _METHODS:
        return Builtin(attr, functools.partial(BUILTINS[_METHODS[attr]].fn, x))
    hint = did_you_mean(attr, ["shape", "ndim", "size", "dtype", "T", "at", "reshape", *_METHODS])
    raise JxTypeError(f"an array has no attribute '{attr}'{hint}", span)
