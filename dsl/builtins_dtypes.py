"""The built-ins about dtypes: `finfo` and `iinfo` (a dtype's limits, as a namespace of
attributes), `issubdtype` over NumPy's abstract categories (`floating`, `integer`, ...,
with bf16 a floating type as in JAX), `result_type` and `promote_types` (jx's promotion
rules), `can_cast`, and `newaxis`.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

from . import dtypes, ops
from .builtins import BUILTINS, builtin, to_dtype
from .core import aval_of, describe
from .errors import TypeError as JxTypeError
from .values import Module

BUILTINS["newaxis"] = None

#: NumPy's abstract dtype categories, by the kinds each holds ("f" includes bf16).
_CATEGORIES = {
    "generic": "biuf",
    "number": "iuf",
    "inexact": "f",
    "floating": "f",
    "integer": "iu",
    "signedinteger": "i",
    "unsignedinteger": "u",
    "bool_": "b",
}


class DtypeCategory:
    """An abstract dtype category (`floating`, `integer`, ...) for `issubdtype`."""

    jx_kind = "a dtype category"
    __slots__ = ("kinds", "name")

    def __init__(self, name, kinds):
        self.name, self.kinds = name, kinds

    def __repr__(self) -> str:
        return self.name


for _name, _kinds in _CATEGORIES.items():
    BUILTINS[_name] = DtypeCategory(_name, _kinds)


def _kind(dtype: np.dtype) -> str:
    return "f" if dtypes.is_float(dtype) else dtype.kind


def _dtype_of(x, what):
    if isinstance(x, (np.dtype, str)):
        return to_dtype(x, allow_none=False)
    if ops.is_array(x) or ops.is_scalar(x):
        return aval_of(x).dtype
    raise JxTypeError(f"{what}: expected a dtype or an array, got {describe(x)}")


@builtin()
def issubdtype(arg1, arg2):
    """Whether dtype `arg1` is `arg2` or in the category `arg2` (`floating`, `integer`, ...)."""
    if isinstance(arg1, DtypeCategory):
        return isinstance(arg2, DtypeCategory) and set(arg1.kinds) <= set(arg2.kinds)
    d = _dtype_of(arg1, "issubdtype")
    if isinstance(arg2, DtypeCategory):
        return _kind(d) in arg2.kinds
    return d == _dtype_of(arg2, "issubdtype")


@builtin()
def result_type(*arrays_and_dtypes):
    """The dtype jx's promotion gives these operands (dtypes count as strong)."""
    if not arrays_and_dtypes:
        raise JxTypeError("result_type needs at least one argument")
    avals = []
    for x in arrays_and_dtypes:
        if isinstance(x, (np.dtype, str)):
            avals.append(dtypes.ShapedArray((), to_dtype(x, allow_none=False)))
        else:
            avals.append(aval_of(ops.as_array(x)))
    dtype, _ = dtypes.promote_many(avals)
    return dtype


@builtin()
def promote_types(type1, type2):
    return result_type(to_dtype(type1, allow_none=False), to_dtype(type2, allow_none=False))


@builtin()
def can_cast(from_, to, casting="safe"):
    """Whether NumPy's `casting` rule allows it (bf16 as a float between f16 and f32)."""
    return bool(np.can_cast(_dtype_of(from_, "can_cast"), to_dtype(to, allow_none=False), casting))


def _info(name, info, dtype, fields):
    members = {"dtype": dtype, "bits": int(info.bits)}
    for field in fields:
        members[field] = np.asarray(getattr(info, field), dtype)
    return Module(f"{name}({dtypes.short(dtype)})", members)


@builtin()
def finfo(dtype):
    """A float dtype's limits: bits, eps, epsneg, max, min, tiny, smallest_normal, resolution."""
    d = _dtype_of(dtype, "finfo")
    if not dtypes.is_float(d):
        raise JxTypeError(f"finfo of {dtypes.short(d)}: not a float dtype (use iinfo)")
    fields = ("eps", "epsneg", "max", "min", "tiny", "smallest_normal", "resolution")
    return _info("finfo", ml_dtypes.finfo(d), d, fields)


@builtin()
def iinfo(int_type):
    """An int dtype's limits: bits, min and max."""
    d = _dtype_of(int_type, "iinfo")
    if not dtypes.is_int(d):
        raise JxTypeError(f"iinfo of {dtypes.short(d)}: not an int dtype (use finfo)")
    return _info("iinfo", np.iinfo(d), d, ("min", "max"))
