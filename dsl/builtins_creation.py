"""The built-ins that make arrays: filled ones (`zeros`, `ones`, `full` and their `_like`
forms), ranges (`arange`, `linspace`), `eye`, and conversions (`array`, `asarray`,
`astype`). Sizes and bounds are static numbers; a floating result defaults to f32 and an
integer range to i32, as in JAX.
"""

from __future__ import annotations

import math

import numpy as np

from . import dtypes, ops
from .builtins import builtin, static_flag, to_dtype
from .builtins_shapes import moveaxis
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
    return ops.full(shape, fill_value, to_dtype(dtype))


@builtin()
def zeros_like(x, dtype=None, shape=None):
    return full_like(x, 0, dtype, shape)


@builtin()
def ones_like(x, dtype=None, shape=None):
    return full_like(x, 1, dtype, shape)


@builtin()
def full_like(x, fill_value, dtype=None, shape=None):
    """`shape=` gives the result another shape than x's."""
    shape = ops.shape(x) if shape is None else shape
    return ops.full(shape, fill_value, to_dtype(dtype) or aval_of(ops.as_array(x)).dtype)


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
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """Array ends give one range per element, along `axis` of the result."""
    num = _static_number(num, "linspace's num")
    if not isinstance(num, int) or num < 0:
        raise JxValueError(f"linspace: num must be a non-negative int, got {num}")
    start_a, stop_a = ops.inexact(start), ops.inexact(stop)
    # The ends' float (f64 ends give f64), f32 for Python numbers, as JAX.
    end_dtype = dtypes.promote_many([aval_of(start_a), aval_of(stop_a)])
    dtype = to_dtype(dtype) or dtypes.alone(dtypes.ShapedArray((), *end_dtype))
    (start_a, stop_a), _ = ops._operands(start_a, stop_a)
    ends = aval_of(start_a).shape
    div = (num - 1) if endpoint else num
    step = ops.true_divide(ops.binary("sub", stop_a, start_a), float(div) if div else math.nan)
    wide = dtypes.f64 in (dtype, end_dtype[0])
    i = ops.iota(dtypes.f64 if wide else dtypes.f32, (num,) + (1,) * len(ends))
    out = ops.binary("add", start_a, ops.binary("mul", i, step))
    if endpoint and num > 1:
        out = update(out, -1, stop_a, "set")
    elif num == 1:
        out = ops.broadcast_to(start_a, (1, *ends))
    out = moveaxis(ops.convert(out, dtype), 0, axis) if ends else ops.convert(out, dtype)
    if static_flag(retstep, "linspace: retstep"):
        return out, ops.convert(step, dtype)
    return out


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


@builtin()
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    exponents = linspace(start, stop, num, endpoint, axis=axis)
    out = ops.power(ops.convert(base, aval_of(exponents).dtype), exponents)
    return out if dtype is None else ops.convert(out, to_dtype(dtype))


@builtin()
def identity(n, dtype=None):
    return eye(n, dtype=dtype)


@builtin()
def empty(shape, dtype=None):
    """zeros: jx arrays are never uninitialised."""
    return zeros(shape, dtype)


@builtin()
def empty_like(prototype, dtype=None, shape=None):
    return zeros_like(prototype, dtype, shape)
