"""NumPy's ufunc names for jx's operators (`add`, `multiply`, `equal`, `mod`, the
`bitwise_*` functions and the shifts, ...) and the elementwise functions composed from
primitives: `fabs`, `fmax`/`fmin` (NaN-ignoring), `hypot`, `trunc`, `sinc`, `logaddexp2`,
the angle conversions, `copysign`, `signbit`, `heaviside`, `nan_to_num`. Each is the
operator's own primitive or a short composition of them, so every transformation applies.
"""

from __future__ import annotations

import math

import ml_dtypes

from . import dtypes, ops
from .builtins import BUILTINS, builtin
from .builtins_math import isinf, isnan, logaddexp
from .core import aval_of
from .values import Builtin


def _binary_builtin(name, fn):
    BUILTINS[name] = Builtin(name, fn)


_BINARY_PRIMS = {
    "add": "add",
    "subtract": "sub",
    "multiply": "mul",
    "floor_divide": "floor_divide",
    "mod": "rem",
    "remainder": "rem",
    "bitwise_and": "and",
    "bitwise_or": "or",
    "bitwise_xor": "xor",
    "left_shift": "shift_left",
    "right_shift": "shift_right",
    "bitwise_left_shift": "shift_left",
    "bitwise_right_shift": "shift_right",
}
_COMPARISONS = {
    "equal": "eq",
    "not_equal": "ne",
    "greater": "gt",
    "greater_equal": "ge",
    "less": "lt",
    "less_equal": "le",
}


def _binary(prim):
    return lambda x1, x2: ops.binary(prim, x1, x2)


def _comparison(prim):
    return lambda x1, x2: ops.compare(prim, x1, x2)


for _name, _prim in _BINARY_PRIMS.items():
    _binary_builtin(_name, _binary(_prim))
for _name, _prim in _COMPARISONS.items():
    _binary_builtin(_name, _comparison(_prim))


@builtin()
def divide(x1, x2):
    return ops.true_divide(x1, x2)


BUILTINS["true_divide"] = BUILTINS["divide"]


@builtin()
def positive(x):
    return ops.as_array(x)


@builtin()
def bitwise_not(x):
    return ops.unary("not", x)


BUILTINS["invert"] = BUILTINS["bitwise_not"]
BUILTINS["bitwise_invert"] = BUILTINS["bitwise_not"]


@builtin()
def fabs(x):
    return ops.unary("abs", ops.inexact(x))


def _nan_ignoring(prim):
    def fn(x1, x2):
        (x, y), _ = ops._operands(x1, x2)
        both = ops.binary(prim, x, y)
        return ops.where(isnan(x), y, ops.where(isnan(y), x, both))

    return fn


_binary_builtin("fmax", _nan_ignoring("max"))
_binary_builtin("fmin", _nan_ignoring("min"))


@builtin()
def hypot(x1, x2):
    (x, y), _ = ops._operands(ops.inexact(x1), ops.inexact(x2))
    x, y = ops.unary("abs", x), ops.unary("abs", y)
    # Scaled by the larger so that neither square overflows.
    hi, lo = ops.binary("max", x, y), ops.binary("min", x, y)
    safe = ops.where(ops.compare("eq", hi, 0), ops.full_like(hi, 1), hi)
    ratio = ops.true_divide(lo, safe)
    out = ops.binary(
        "mul", hi, ops.unary("sqrt", ops.binary("add", 1, ops.binary("mul", ratio, ratio)))
    )
    return ops.where(ops.logical("or", isinf(x), isinf(y)), ops.full_like(hi, math.inf), out)


@builtin()
def trunc(x):
    x = ops.as_array(x)
    if not dtypes.is_float(aval_of(x).dtype):
        return x
    return ops.where(ops.compare("lt", x, 0), ops.unary("ceil", x), ops.unary("floor", x))


BUILTINS["fix"] = BUILTINS["trunc"]


@builtin()
def sinc(x):
    """sin(pi x) / (pi x), 1 at 0 (with the right derivatives there)."""
    x = ops.inexact(x)
    zero = ops.compare("eq", x, 0)
    safe = ops.where(zero, ops.full_like(x, 1), x)
    pix = ops.binary("mul", safe, math.pi)
    # Near 0 the Taylor series 1 - (pi x)^2 / 6 keeps the value and its derivatives exact.
    pix0 = ops.binary("mul", x, math.pi)
    near = ops.binary("sub", 1, ops.true_divide(ops.binary("mul", pix0, pix0), 6))
    return ops.where(zero, near, ops.true_divide(ops.unary("sin", pix), pix))


@builtin()
def logaddexp2(x1, x2):
    ln2 = math.log(2)
    x, y = ops.binary("mul", ops.inexact(x1), ln2), ops.binary("mul", ops.inexact(x2), ln2)
    return ops.true_divide(logaddexp(x, y), ln2)


@builtin()
def deg2rad(x):
    return ops.binary("mul", ops.inexact(x), math.pi / 180)


@builtin()
def rad2deg(x):
    return ops.binary("mul", ops.inexact(x), 180 / math.pi)


BUILTINS["radians"] = BUILTINS["deg2rad"]
BUILTINS["degrees"] = BUILTINS["rad2deg"]


@builtin()
def signbit(x):
    x = ops.as_array(x)
    dtype = aval_of(x).dtype
    if dtypes.is_float(dtype):
        # The sign bit itself, so -0.0 and -nan count as negative, as in NumPy.
        bits = {2: dtypes.i16, 4: dtypes.i32, 8: dtypes.i64}[dtype.itemsize]
        return ops.compare("lt", BUILTINS["_bitcast"].fn(x, bits), 0)
    if dtype.kind in "bu":
        return ops.full(aval_of(x).shape, False, dtypes.bool_)
    return ops.compare("lt", x, 0)


@builtin()
def copysign(x1, x2):
    (x, y), _ = ops._operands(ops.inexact(x1), ops.inexact(x2))
    magnitude = ops.unary("abs", x)
    return ops.where(signbit(y), ops.unary("neg", magnitude), magnitude)


@builtin()
def heaviside(x1, x2):
    (x, h0), _ = ops._operands(ops.inexact(x1), ops.inexact(x2))
    step = ops.convert(ops.compare("gt", x, 0), aval_of(x).dtype)
    return ops.where(isnan(x), x, ops.where(ops.compare("eq", x, 0), h0, step))


@builtin()
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN becomes `nan`, infinities the dtype's extremes (or `posinf`/`neginf`)."""
    x = ops.as_array(x)
    dtype = aval_of(x).dtype
    if not dtypes.is_float(dtype):
        return x
    info = ml_dtypes.finfo(dtype)
    hi = float(info.max) if posinf is None else posinf
    lo = float(info.min) if neginf is None else neginf
    x = ops.where(isnan(x), ops.convert(nan, dtype), x)
    x = ops.where(ops.compare("eq", x, math.inf), ops.convert(hi, dtype), x)
    return ops.where(ops.compare("eq", x, -math.inf), ops.convert(lo, dtype), x)
