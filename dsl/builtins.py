"""The core built-ins of LANGUAGE.md section 5, with NumPy's names, arguments and semantics.

Each is a Python function over `ops` (compositions of primitives, never new primitives),
collected in `BUILTINS`. Array attributes and methods (`x.shape`, `x.sum(...)`) map onto
the same functions. Transformations register themselves here too (`jit` now).
"""

from __future__ import annotations

import math

import numpy as np

from . import dtypes, ops
from .core import aval_of, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .indexing import AtHelper, update
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


for _name, _dt in dtypes.BY_NAME.items():
    BUILTINS[_name] = _dt
BUILTINS["None"] = None
BUILTINS["pi"] = math.pi
BUILTINS["e"] = math.e
BUILTINS["inf"] = math.inf
BUILTINS["nan"] = math.nan

# ------------------------------------------------------------------ creation


def _float_default(dtype):
    return to_dtype(dtype) or dtypes.f32


@builtin()
def zeros(shape, dtype=None):
    return ops.full(shape, 0, _float_default(dtype))


@builtin()
def ones(shape, dtype=None):
    return ops.full(shape, 1, _float_default(dtype))


@builtin()
def full(shape, fill_value, dtype=None):
    dtype = to_dtype(dtype) or aval_of(fill_value).dtype
    return ops.full(shape, fill_value, dtype)


@builtin()
def zeros_like(x, dtype=None):
    return ops.full(ops.shape(x), 0, to_dtype(dtype) or aval_of(ops.as_array(x)).dtype)


@builtin()
def ones_like(x, dtype=None):
    return ops.full(ops.shape(x), 1, to_dtype(dtype) or aval_of(ops.as_array(x)).dtype)


@builtin()
def full_like(x, fill_value, dtype=None):
    return ops.full(ops.shape(x), fill_value, to_dtype(dtype) or aval_of(ops.as_array(x)).dtype)


def _static_number(v, what):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v.item()
    raise JxTypeError(f"{what} must be a static number, got {describe(v)}")


@builtin()
def arange(start, stop=None, step=1, dtype=None):
    if stop is None:
        start, stop = 0, start
    start, stop, step = (_static_number(v, "arange's bounds") for v in (start, stop, step))
    if step == 0:
        raise JxValueError("arange: step must not be zero")
    n = max(0, math.ceil((stop - start) / step))
    is_int = all(isinstance(v, int) for v in (start, stop, step))
    dtype = to_dtype(dtype) or (dtypes.i32 if is_int else dtypes.f32)
    out = ops.iota(dtype, (n,))
    if step != 1:
        out = ops.binary("mul", out, step)
    if start != 0:
        out = ops.binary("add", out, start)
    return out


@builtin()
def linspace(start, stop, num=50, endpoint=True, dtype=None):
    num = _static_number(num, "linspace's num")
    if not isinstance(num, int) or num < 0:
        raise JxValueError(f"linspace: num must be a non-negative int, got {num}")
    dtype = to_dtype(dtype) or dtypes.f32
    if num == 1:
        return ops.full((1,), start, dtype)
    div = (num - 1) if endpoint else num
    i = ops.iota(dtypes.f64 if dtype == dtypes.f64 else dtypes.f32, (num,))
    start_a, stop_a = ops.inexact(start), ops.inexact(stop)
    step = ops.true_divide(ops.binary("sub", stop_a, start_a), float(div))
    out = ops.binary("add", start_a, ops.binary("mul", i, step))
    if endpoint and num > 1:
        out = update(out, -1, stop_a, "set")
    return ops.convert(out, dtype)


@builtin()
def eye(N, M=None, k=0, dtype=None):
    N, M = ops.normalize_shape((N, N if M is None else M))
    rows = ops.iota(dtypes.i32, (N, M), 0)
    cols = ops.iota(dtypes.i32, (N, M), 1)
    mask = ops.compare("eq", ops.binary("add", rows, k), cols)
    return ops.convert(mask, _float_default(dtype))


@builtin()
def array(object, dtype=None):
    return ops.array(object, to_dtype(dtype))


@builtin()
def asarray(a, dtype=None):
    return ops.array(a, to_dtype(dtype))


@builtin()
def astype(x, dtype):
    return ops.convert(ops.as_array(x), to_dtype(dtype, allow_none=False))


# ------------------------------------------------------------------ attributes and methods

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
        return a.dtype
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
        target = BUILTINS[_METHODS[attr]].fn

        def method(*args, **kwargs):
            return target(x, *args, **kwargs)

        return Builtin(attr, method)
    hint = did_you_mean(attr, ["shape", "ndim", "size", "dtype", "T", "at", "reshape", *_METHODS])
    raise JxTypeError(f"an array has no attribute '{attr}'{hint}", span)
