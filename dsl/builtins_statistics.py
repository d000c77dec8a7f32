"""The statistics built-ins beyond `mean`/`var`/`std`: order statistics (`median`,
`quantile`, `percentile`, `partition`), the NaN-ignoring reductions (`nansum`, `nanmean`,
`nanmax`, ...), `average` with weights, `cov` and `corrcoef`, `count_nonzero` and `ptp`.
Order statistics sort along the axis and read the sorted values at the quantile's
positions; NaN-ignoring reductions replace NaN by the reduction's identity first.
"""

from __future__ import annotations

import math

from . import dtypes, ops
from .builtins import BUILTINS, builtin, static_choice, static_flag, to_dtype
from .builtins_arrays import take_along_axis
from .builtins_math import isnan
from .builtins_reductions import _sorted, argmax, argmin, sum_
from .core import aval_of, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .values import Builtin

# ------------------------------------------------------------------ quantiles

_QUANTILE_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def _quantile(a, q, axis, method, keepdims, what, skip_nan=False, per=1):
    method = static_choice(method, _QUANTILE_METHODS, f"{what}: method")
    x = ops.inexact(a)
    nd = aval_of(x).ndim
    axes = ops.normalize_axes(axis, nd)
    kept = tuple(1 if k in axes else d for k, d in enumerate(aval_of(x).shape))
    # The reduced axes moved to the end and merged into one lane, which is sorted.
    s = aval_of(x).shape
    rest = [k for k in range(nd) if k not in axes]
    n = math.prod(s[k] for k in axes)
    if n == 0:
        raise JxValueError(f"{what} of an empty axis")
    lead = tuple(s[k] for k in rest)
    x = ops.reshape(ops.transpose(x, [*rest, *axes]), lead + (n,))
    sorted_x = _sorted([x], -1)[0]
    dtype = aval_of(x).dtype
    # q in the data's dtype first (a Python number exactly), then hundredths if asked.
    q = ops.convert(q, dtype) if per == 1 else ops.true_divide(ops.convert(q, dtype), per)
    qshape = aval_of(q).shape
    q = ops.reshape(q, (1,) * len(lead) + (-1,))
    nq = aval_of(q).shape[-1]
    # NaNs sort last: skipping them, each lane reads among its first `count` sorted values.
    count = ops.reduce("reduce_sum", ops.logical_not(isnan(x)), -1, keepdims=True)
    last = ops.binary("sub", count, 1) if skip_nan else ops.full(lead + (1,), n - 1, dtypes.i32)
    last = ops.binary("max", last, 0)
    pos = ops.binary("mul", q, ops.convert(last, dtype))
    lo = ops.unary("floor", pos)
    frac = ops.binary("sub", pos, lo)
    lo_i = ops.binary("min", ops.binary("max", ops.convert(lo, dtypes.i32), 0), last)
    hi_i = ops.binary("min", ops.binary("add", lo_i, 1), last)
    low = take_along_axis(sorted_x, ops.broadcast_to(lo_i, lead + (nq,)), -1)
    high = take_along_axis(sorted_x, ops.broadcast_to(hi_i, lead + (nq,)), -1)
    if method == "linear":
        out = ops.binary("add", low, ops.binary("mul", frac, ops.binary("sub", high, low)))
    elif method == "lower":
        out = low
    elif method == "higher":
        out = ops.where(ops.compare("gt", frac, 0), high, low)
    elif method == "nearest":
        # Ties go to the even position, as NumPy rounds.
        odd = ops.compare("ne", ops.binary("rem", lo_i, 2), 0)
        tie_up = ops.logical("and", ops.compare("eq", frac, 0.5), odd)
        out = ops.where(ops.logical("or", ops.compare("gt", frac, 0.5), tie_up), high, low)
    else:
        out = ops.binary("mul", ops.binary("add", low, high), 0.5)
    undefined = ops.compare("eq", count, 0) if skip_nan else ops.compare("lt", count, n)
    out = ops.where(undefined, ops.full((), math.nan, dtype), out)
    # (lead..., q) to (q..., lead...), then the reduced axes kept as unit axes if asked.
    out = ops.reshape(out, lead + qshape)
    nl = len(lead)
    out = ops.transpose(out, [*range(nl, nl + len(qshape)), *range(nl)])
    return ops.reshape(out, qshape + kept) if keepdims else out


@builtin()
def quantile(a, q, axis=None, method="linear", keepdims=False):
    return _quantile(a, q, axis, method, keepdims, "quantile")


@builtin()
def percentile(a, q, axis=None, method="linear", keepdims=False):
    return _quantile(a, q, axis, method, keepdims, "percentile", per=100)


@builtin()
def median(a, axis=None, keepdims=False):
    return _quantile(a, 0.5, axis, "linear", keepdims, "median")


@builtin()
def partition(a, kth, axis=-1):
    """A valid partition around `kth`: the sorted array (NumPy leaves the order of the other
    elements unspecified)."""
    if not isinstance(ops.static_ints(kth), int):
        raise JxTypeError(f"partition: kth must be a static int, got {describe(kth)}")
    return _sorted([a], axis)[0]


# ------------------------------------------------------------------ NaN-ignoring reductions


def _without_nan(a, value):
    x = ops.as_array(a)
    if not dtypes.is_float(aval_of(x).dtype):
        return x
    return ops.where(isnan(x), ops.full((), value, aval_of(x).dtype), x)


def _all_nan(a, axis, keepdims):
    x = ops.as_array(a)
    if not dtypes.is_float(aval_of(x).dtype):
        return None
    return ops.reduce("reduce_and", isnan(x), axis, keepdims)


@builtin()
def nansum(a, axis=None, dtype=None, keepdims=False):
    return sum_(_without_nan(a, 0), axis, dtype, keepdims)


@builtin()
def nanprod(a, axis=None, dtype=None, keepdims=False):
    return ops.reduce("reduce_prod", _without_nan(a, 1), axis, keepdims, to_dtype(dtype))


def _nan_extreme(name, identity):
    def fn(a, axis=None, keepdims=False):
        out = ops.reduce(name, _without_nan(a, identity), axis, keepdims)
        all_nan = _all_nan(a, axis, keepdims)
        if all_nan is None:
            return out
        return ops.where(all_nan, ops.full((), math.nan, aval_of(out).dtype), out)

    return fn


BUILTINS["nanmax"] = Builtin("nanmax", _nan_extreme("reduce_max", -math.inf))
BUILTINS["nanmin"] = Builtin("nanmin", _nan_extreme("reduce_min", math.inf))


def _count(a, axis, keepdims):
    x = ops.inexact(a)
    return ops.reduce("reduce_sum", ops.logical_not(isnan(x)), axis, keepdims)


@builtin()
def nanmean(a, axis=None, dtype=None, keepdims=False):
    x = ops.inexact(a) if dtype is None else ops.convert(a, to_dtype(dtype))
    total = ops.reduce("reduce_sum", _without_nan(x, 0), axis, keepdims)
    return ops.true_divide(total, ops.convert(_count(x, axis, keepdims), aval_of(total).dtype))


@builtin()
def nanvar(a, axis=None, dtype=None, ddof=0, keepdims=False):
    x = ops.inexact(a) if dtype is None else ops.convert(a, to_dtype(dtype))
    centered = ops.binary("sub", x, nanmean(x, axis, keepdims=True))
    sq = _without_nan(ops.binary("mul", centered, centered), 0)
    n = ops.convert(_count(x, axis, keepdims), aval_of(sq).dtype)
    total = ops.reduce("reduce_sum", sq, axis, keepdims)
    return ops.true_divide(total, ops.binary("max", ops.binary("sub", n, ddof), 0))


@builtin()
def nanstd(a, axis=None, dtype=None, ddof=0, keepdims=False):
    return ops.unary("sqrt", nanvar(a, axis, dtype, ddof, keepdims))


@builtin()
def nanargmax(a, axis=None, keepdims=False):
    return argmax(_without_nan(a, -math.inf), axis, keepdims)


@builtin()
def nanargmin(a, axis=None, keepdims=False):
    return argmin(_without_nan(a, math.inf), axis, keepdims)


@builtin()
def nanmedian(a, axis=None, keepdims=False):
    """The median of the values that are not NaN (NaN where all are)."""
    return _quantile(a, 0.5, axis, "linear", keepdims, "nanmedian", skip_nan=True)


@builtin()
def nanquantile(a, q, axis=None, method="linear", keepdims=False):
    return _quantile(a, q, axis, method, keepdims, "nanquantile", skip_nan=True)


@builtin()
def nanpercentile(a, q, axis=None, method="linear", keepdims=False):
    return _quantile(a, q, axis, method, keepdims, "nanpercentile", skip_nan=True, per=100)


# ------------------------------------------------------------------ weighted statistics


@builtin()
def average(a, axis=None, weights=None, returned=False, keepdims=False):
    x = ops.inexact(a)
    if weights is None:
        out = ops.mean(x, axis, keepdims)
        n = math.prod(aval_of(x).shape[k] for k in ops.normalize_axes(axis, aval_of(x).ndim))
        total = ops.full(aval_of(out).shape, float(n), aval_of(out).dtype)
    else:
        w = ops.inexact(weights)
        if aval_of(w).shape != aval_of(x).shape:
            if axis is None or aval_of(w).ndim != 1:
                raise JxValueError("average: weights of another shape need a 1-d array and an axis")
            ax = ops.normalize_axis(axis, aval_of(x).ndim)
            w = ops.reshape(w, tuple(-1 if k == ax else 1 for k in range(aval_of(x).ndim)))
        (x, w), _ = ops._operands(x, w)
        total = ops.reduce("reduce_sum", w, axis, keepdims)
        out = ops.true_divide(
            ops.reduce("reduce_sum", ops.binary("mul", x, w), axis, keepdims), total
        )
    if static_flag(returned, "average: returned"):
        return out, ops.broadcast_to(total, aval_of(out).shape)
    return out


@builtin()
def cov(m, y=None, rowvar=True, bias=False, ddof=None):
    x = ops.inexact(m)
    if aval_of(x).ndim > 2:
        raise JxValueError("cov takes a 1-d or a 2-d array")
    x = ops.reshape(x, (1, -1)) if aval_of(x).ndim < 2 else x
    rowvar = static_flag(rowvar, "cov: rowvar")
    if not rowvar and aval_of(x).shape[0] != 1:
        x = ops.transpose(x)
    if y is not None:
        yy = ops.inexact(y)
        yy = ops.reshape(yy, (1, -1)) if aval_of(yy).ndim < 2 else yy
        if not rowvar and aval_of(yy).shape[0] != 1:
            yy = ops.transpose(yy)
        x = ops.concatenate([x, yy], 0)
    n = aval_of(x).shape[1]
    ddof = (0 if static_flag(bias, "cov: bias") else 1) if ddof is None else ddof
    centered = ops.binary("sub", x, ops.mean(x, 1, keepdims=True))
    out = ops.true_divide(ops.matmul(centered, ops.transpose(centered)), float(n - ddof))
    return ops.squeeze(out) if aval_of(out).shape == (1, 1) else out


@builtin()
def corrcoef(x, y=None, rowvar=True):
    c = cov(x, y, rowvar)
    if not aval_of(c).shape:
        return ops.true_divide(c, c)
    d = ops.unary("sqrt", BUILTINS["diagonal"].fn(c))
    out = ops.true_divide(ops.true_divide(c, ops.reshape(d, (-1, 1))), ops.reshape(d, (1, -1)))
    return ops.binary("max", ops.binary("min", out, 1), -1)


@builtin()
def count_nonzero(a, axis=None, keepdims=False):
    return ops.reduce("reduce_sum", ops.compare("ne", a, 0), axis, keepdims)


@builtin()
def ptp(a, axis=None, keepdims=False):
    hi = ops.reduce("reduce_max", a, axis, keepdims)
    return ops.binary("sub", hi, ops.reduce("reduce_min", a, axis, keepdims))
