"""The built-ins that make arrays: filled ones (`zeros`, `ones`, `full` and their `_like`
forms), ranges (`arange`, `linspace`), `eye`, and conversions (`array`, `asarray`,
`astype`). Sizes and bounds are static numbers; a floating result defaults to f32 and an
integer range to i32, as in JAX.
"""

from __future__ import annotations

import math

import numpy as np

from . import dtypes, ops
from .builtins import builtin, to_dtype
from .core import aval_of, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .indexing import update


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
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise JxValueError(f"arange: bounds and step must be finite, got {start}, {stop}, {step}")
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
