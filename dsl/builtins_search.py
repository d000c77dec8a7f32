"""The built-ins that search, count and compare positions: `unique`, `nonzero`, `argwhere`
and `flatnonzero` (data-dependent sizes: `size=` under tracing, as in JAX), `searchsorted`,
`digitize`, `interp`, `bincount`, `isin`, `select`; the differences and products of
neighbours (`diff`, `gradient`, `convolve`, `correlate`, `cross`); and `vectorize`.
A result whose length depends on the data takes its length from `size=`; at the top level,
where the data is known, the length is the data's own.
"""

from __future__ import annotations

import numpy as np

from . import dtypes, ops
from .backend import is_concrete
from .builtins import BUILTINS, builtin, static_choice, static_flag
from .builtins_arrays import _take_static, broadcast_arrays, unravel_index
from .builtins_math import isnan
from .builtins_reductions import argsort
from .builtins_shapes import _seq
from .core import aval_of, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .functions import call
from .indexing import getitem, update

# ------------------------------------------------------------------ data-dependent sizes


def _result_size(size, x, count, what, keyword="size"):
    """The static length of a data-dependent result: `size`, or the data's own count."""
    if size is not None:
        size = ops.static_ints(size)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise JxTypeError(
                f"{what}: {keyword} must be a static non-negative int, got {describe(size)}"
            )
        return size
    if not is_concrete(x):
        raise JxValueError(
            f"{what} has a data-dependent size inside a traced function; pass {keyword}=N as in JAX"
        )
    return int(count(np.asarray(x)))


def _scatter_ranked(size, fill, keep, values):
    """A length-`size` array holding `values` where `keep`, in order, then `fill`."""
    rank = ops.binary("sub", ops.cumulative("cumsum", keep, 0), 1)
    positions = ops.where(keep, ops.binary("min", rank, size), size)
    # One slot past the end takes the values not kept (a static index must be in range).
    out = ops.full((size + 1,), ops.convert(fill, aval_of(values).dtype))
    return getitem(update(out, positions, values, "set"), slice(None, size))


@builtin()
def nonzero(a, size=None, fill_value=None):
    """One index array per dimension; `size=` pads with `fill_value` (0) or cuts."""
    x = ops.as_array(a)
    shape = aval_of(x).shape
    if not shape:
        raise JxValueError("nonzero of a 0-d array; use atleast_1d first")
    n = _result_size(size, x, np.count_nonzero, "nonzero")
    flat = ops.compare("ne", ops.reshape(x, (-1,)), 0)
    fill = 0 if fill_value is None else fill_value
    fill = ops.static_ints(fill)
    fills = fill if isinstance(fill, tuple) else (fill,) * len(shape)
    out = _scatter_ranked(n, -1, flat, ops.iota(dtypes.i32, (aval_of(flat).shape[0],)))
    padded = ops.compare("lt", out, 0)
    parts = unravel_index(ops.binary("max", out, 0), shape)
    return tuple(ops.where(padded, ops.convert(f, dtypes.i32), p) for p, f in zip(parts, fills))


@builtin()
def flatnonzero(a, size=None, fill_value=None):
    return nonzero(ops.reshape(a, (-1,)), size, fill_value)[0]


@builtin()
def argwhere(a, size=None, fill_value=None):
    x = ops.as_array(a)
    if not aval_of(x).shape:
        x = ops.reshape(x, (1,))
        return ops.reshape(nonzero(x, size, fill_value)[0], (-1, 0))
    return ops.stack(nonzero(x, size, fill_value), 1)


@builtin()
def unique(
    ar, return_index=False, return_inverse=False, return_counts=False, size=None, fill_value=None
):
    """The sorted distinct values of the flattened array (a tuple with the asked extras);
    `size=` pads with `fill_value` (the smallest value) or cuts, as in JAX."""
    x = ops.reshape(ar, (-1,))
    total = aval_of(x).shape[0]
    n = _result_size(size, x, lambda v: np.unique(v).size, "unique")
    if total == 0:
        return ops.full((n,), 0, aval_of(x).dtype)
    order = argsort(x)
    s = getitem(x, order)
    first = ops.concatenate(
        [
            ops.full((1,), True),
            ops.compare("ne", getitem(s, slice(1, None)), getitem(s, slice(None, -1))),
        ]
    )
    fill = getitem(s, 0) if fill_value is None else fill_value
    values = _scatter_ranked(n, fill, first, s)
    return_index, return_inverse, return_counts = (
        static_flag(f, "unique: return_*") for f in (return_index, return_inverse, return_counts)
    )
    extras = []
    group = ops.binary("sub", ops.cumulative("cumsum", first, 0), 1)
    if return_index:
        # Past the distinct values, the index of the first (smallest) one, as in JAX.
        extras.append(_scatter_ranked(n, getitem(order, 0), first, order))
    if return_inverse:
        inverse = update(ops.full((total,), 0, dtypes.i32), order, group, "set")
        extras.append(ops.reshape(inverse, ops.shape(ar)))
    if return_counts:
        counts = update(ops.full((n + 1,), 0, dtypes.i32), ops.binary("min", group, n), 1, "add")
        extras.append(getitem(counts, slice(None, n)))
    return (values, *extras) if extras else values


# ------------------------------------------------------------------ sorted positions


def _before(a, v, side):
    """a[i] sorts before v (side='left') or not after it ('right'); NaN sorts last."""
    if side == "left":
        plain = ops.compare("lt", a, v)
        return ops.logical("or", plain, ops.logical("and", isnan(v), ops.logical_not(isnan(a))))
    return ops.logical("or", ops.compare("le", a, v), isnan(v))


@builtin()
def searchsorted(a, v, side="left", sorter=None):
    """Where each of `v` goes in the sorted 1-d `a` (an i32 array)."""
    side = static_choice(side, ("left", "right"), "searchsorted: side")
    a = ops.as_array(a)
    if aval_of(a).ndim != 1:
        raise JxValueError("searchsorted: a must be 1-d")
    if sorter is not None:
        a = getitem(a, ops.as_array(sorter))
    v = ops.as_array(v)
    (a, v), _ = ops._operands_no_broadcast(a, v)
    # Count the elements before each query: exact, and one comparison per pair.
    before = _before(a, ops.expand_dims(v, -1), side)
    return ops.reduce("reduce_sum", before, -1)


@builtin()
def digitize(x, bins, right=False):
    return searchsorted(bins, x, "left" if static_flag(right, "digitize: right") else "right")


@builtin()
def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation through (xp, fp), xp increasing."""
    if period is not None:
        raise JxValueError("interp: period= is not supported")
    x, xp, fp = ops.inexact(x), ops.inexact(xp), ops.inexact(fp)
    n = aval_of(xp).shape[0]
    i = ops.binary("min", ops.binary("max", searchsorted(xp, x, "right"), 1), n - 1)
    x0, x1 = getitem(xp, ops.binary("sub", i, 1)), getitem(xp, i)
    f0, f1 = getitem(fp, ops.binary("sub", i, 1)), getitem(fp, i)
    dx = ops.binary("sub", x1, x0)
    same = ops.compare("eq", dx, 0)
    t = ops.true_divide(ops.binary("sub", x, x0), ops.where(same, ops.full_like(dx, 1), dx))
    out = ops.where(
        same, f0, ops.binary("add", f0, ops.binary("mul", t, ops.binary("sub", f1, f0)))
    )
    lo = getitem(fp, 0) if left is None else left
    hi = getitem(fp, -1) if right is None else right
    out = ops.where(ops.compare("lt", x, getitem(xp, 0)), lo, out)
    return ops.where(ops.compare("gt", x, getitem(xp, -1)), hi, out)


@builtin()
def bincount(x, weights=None, minlength=0, length=None):
    """Counts (or summed weights) of each non-negative int; `length=` under tracing."""
    x = ops.reshape(x, (-1,))
    if not dtypes.is_int(aval_of(x).dtype):
        raise JxTypeError(f"bincount of {describe(x)}: the values must be ints")
    n = _result_size(
        length, x, lambda v: max(int(v.max(initial=-1)) + 1, minlength), "bincount", "length"
    )
    # As JAX: negative values count as 0, values past the length are dropped (into one
    # slot past the end, cut off after).
    x = ops.binary("max", x, 0)
    x = ops.where(ops.compare("lt", x, n), x, n)
    w = 1 if weights is None else ops.reshape(weights, (-1,))
    dtype = dtypes.i32 if weights is None else aval_of(w).dtype
    return getitem(update(ops.full((n + 1,), 0, dtype), x, w, "add"), slice(None, n))


@builtin()
def isin(element, test_elements, invert=False):
    x = ops.as_array(element)
    tests = ops.reshape(test_elements, (-1,))
    found = ops.reduce("reduce_or", ops.compare("eq", ops.expand_dims(x, -1), tests), -1)
    return ops.logical_not(found) if static_flag(invert, "isin: invert") else found


@builtin()
def select(condlist, choicelist, default=0):
    """The first choice whose condition holds, else `default`."""
    condlist, choicelist = _seq(condlist, "select"), _seq(choicelist, "select")
    if len(condlist) != len(choicelist):
        raise JxValueError(f"select: {len(condlist)} conditions for {len(choicelist)} choices")
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = ops.where(cond, choice, out)
    return ops.as_array(out)


# ------------------------------------------------------------------ neighbours


@builtin()
def diff(a, n=1, axis=-1, prepend=None, append=None):
    x = ops.as_array(a)
    axis = ops.normalize_axis(axis, aval_of(x).ndim)
    edge_shape = aval_of(x).shape[:axis] + (1,) + aval_of(x).shape[axis + 1 :]

    def edge(values):
        e = ops.as_array(values)
        return ops.broadcast_to(e, edge_shape) if not aval_of(e).shape else e

    before = [] if prepend is None else [edge(prepend)]
    after = [] if append is None else [edge(append)]
    if before or after:
        x = ops.concatenate([*before, x, *after], axis)
    for _ in range(n):
        m = aval_of(x).shape[axis]
        hi = getitem(x, (slice(None),) * axis + (slice(1, None),))
        lo = getitem(x, (slice(None),) * axis + (slice(None, m - 1),))
        x = (
            ops.compare("ne", hi, lo)
            if dtypes.is_bool(aval_of(x).dtype)
            else ops.binary("sub", hi, lo)
        )
    return x


@builtin()
def gradient(f, *varargs, axis=None):
    """Central differences inside, one-sided at the ends; scalar spacings."""
    x = ops.inexact(f)
    axes = ops.normalize_axes(axis, aval_of(x).ndim)
    if len(varargs) not in (0, 1, len(axes)):
        raise JxValueError(f"gradient: {len(varargs)} spacings for {len(axes)} axes")
    spacings = varargs * len(axes) if len(varargs) == 1 else varargs or (1.0,) * len(axes)
    out = []
    for ax, h in zip(axes, spacings):
        n = aval_of(x).shape[ax]
        if n < 2:
            raise JxValueError("gradient needs at least 2 points along each axis")
        # Position pairs (hi, lo) and their distance in steps, known when traced.
        hi = np.concatenate([[1], np.arange(2, n), [n - 1]])
        lo = np.concatenate([[0], np.arange(0, n - 2), [n - 2]])
        steps = np.where((np.arange(n) == 0) | (np.arange(n) == n - 1), 1.0, 2.0)
        shape = (-1,) + (1,) * (aval_of(x).ndim - ax - 1)
        delta = ops.binary("sub", _take_static(x, hi, ax), _take_static(x, lo, ax))
        scale = ops.convert(ops.array(np.reshape(steps, shape)), aval_of(x).dtype)
        out.append(ops.true_divide(delta, ops.binary("mul", scale, h)))
    return out[0] if len(out) == 1 else tuple(out)


def _convolve_full(a, v):
    a, v = ops.reshape(a, (-1,)), ops.reshape(v, (-1,))
    (a, v), _ = ops._operands_no_broadcast(a, v)
    n, m = aval_of(a).shape[0], aval_of(v).shape[0]
    if not n or not m:
        raise JxValueError("convolve: arrays must not be empty")
    zeros = ops.full((m - 1,), ops.convert(0, aval_of(a).dtype))
    padded = ops.concatenate([zeros, a, zeros]) if m > 1 else a
    # windows[k, j] = padded[k + j]: out[k] = sum_j a[k + j - (m - 1)] v[m - 1 - j].
    windows = np.arange(n + m - 1)[:, None] + np.arange(m)[None, :]
    return ops.matmul(_take_static(padded, windows, 0), ops.flip(v, 0)), n, m


def _mode_slice(full, n, m, mode):
    mode = static_choice(mode, ("full", "same", "valid"), "mode")
    if mode == "full":
        return full
    if mode == "same":
        start = (min(n, m) - 1) // 2
        return getitem(full, slice(start, start + max(n, m)))
    return getitem(full, slice(min(n, m) - 1, max(n, m)))


@builtin()
def convolve(a, v, mode="full"):
    out, n, m = _convolve_full(a, v)
    return _mode_slice(out, n, m, mode)


@builtin()
def correlate(a, v, mode="valid"):
    out, n, m = _convolve_full(a, ops.flip(ops.reshape(v, (-1,)), 0))
    return _mode_slice(out, n, m, mode)


@builtin()
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross products of 3-vectors (or the z part of 2-vectors) along the last axis."""
    if axis is not None:
        axisa = axisb = axisc = axis
    x = BUILTINS["moveaxis"].fn(a, axisa, -1)
    y = BUILTINS["moveaxis"].fn(b, axisb, -1)
    dx, dy = aval_of(ops.as_array(x)).shape[-1], aval_of(ops.as_array(y)).shape[-1]
    if dx not in (2, 3) or dy not in (2, 3):
        raise JxValueError(f"cross: vectors must have 2 or 3 components, got {dx} and {dy}")

    def part(v, k, d):
        return (
            getitem(v, (Ellipsis, k)) if k < d else ops.full((), 0, aval_of(ops.as_array(v)).dtype)
        )

    x0, x1, x2 = (part(x, k, dx) for k in range(3))
    y0, y1, y2 = (part(y, k, dy) for k in range(3))

    def minus(p, q, r, s):
        return ops.binary("sub", ops.binary("mul", p, q), ops.binary("mul", r, s))

    z = minus(x0, y1, x1, y0)
    if dx == 2 and dy == 2:
        return z
    out = ops.stack(list(broadcast_arrays(minus(x1, y2, x2, y1), minus(x2, y0, x0, y2), z)), -1)
    return BUILTINS["moveaxis"].fn(out, -1, axisc)


# ------------------------------------------------------------------ vectorize


class Vectorized:
    """`vectorize(f)`: f applied to every element of its broadcast arguments (one vmap)."""

    jx_kind = "a function"
    __slots__ = ("excluded", "fn")

    def __init__(self, fn, excluded):
        self.fn, self.excluded = fn, excluded

    def jx_call(self, args, kwargs, span):
        mapped = [k for k in range(len(args)) if k not in self.excluded]
        arrays = broadcast_arrays(*(ops.as_array(args[k]) for k in mapped))
        shape = aval_of(arrays[0]).shape if arrays else ()
        flat = [ops.reshape(a, (-1,)) for a in arrays]

        def each(*elements):
            full = list(args)
            for k, e in zip(mapped, elements):
                full[k] = e
            return call(self.fn, full, kwargs, span)

        vmap = BUILTINS["vmap"].fn
        out = call(vmap(_Inline(each)), flat, {}, span)
        if isinstance(out, tuple):
            return tuple(ops.reshape(o, shape + ops.shape(o)[1:]) for o in out)
        return ops.reshape(out, shape + ops.shape(out)[1:])


class _Inline:
    """A Python function called as jx calls a function value."""

    jx_kind = "a function"
    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def jx_call(self, args, kwargs, span):
        return self.fn(*args, **kwargs)


@builtin()
def vectorize(pyfunc, excluded=()):
    """f over every element of its broadcast array arguments (`excluded` positions as given)."""
    excluded = ops.static_ints(excluded)
    return Vectorized(pyfunc, frozenset(excluded if isinstance(excluded, tuple) else (excluded,)))
