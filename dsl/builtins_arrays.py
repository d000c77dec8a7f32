"""The built-ins that cut, pad and reassemble arrays: `pad`, the `split` family, `take` and
`take_along_axis`, `roll`, `rot90`, the triangles and diagonals (`tril`, `triu`, `diag`,
`diagonal`, `triu_indices`), the `atleast_*d` forms, more joins (`dstack`, `column_stack`,
`append`), grids (`meshgrid`, `broadcast_arrays`, `unravel_index`) and `kron`. Where the
positions a result reads are known when the program is traced, NumPy computes them then and
one gather or slice reads them, so every function here is differentiable and batchable.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from . import dtypes, ops
from .builtins import BUILTINS, builtin, static_choice, static_flag, to_dtype
from .builtins_shapes import _seq, flip, moveaxis
from .core import aval_of, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .indexing import getitem


def _static_int(v, what):
    v = ops.static_ints(v)
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
        raise JxTypeError(f"{what} must be a static int, got {describe(v)}")
    return int(v)


def _take_static(x, positions, axis):
    """x read at the static int positions (a NumPy array) along `axis`."""
    index = (slice(None),) * axis + (np.asarray(positions, np.int32),)
    return getitem(x, index)


def _ndim(x):
    return aval_of(ops.as_array(x)).ndim


# ------------------------------------------------------------------ pad


def _pad_widths(pad_width, ndim):
    widths = ops.static_ints(pad_width)
    if isinstance(widths, int):
        widths = ((widths, widths),)
    elif isinstance(widths, tuple) and all(isinstance(w, int) for w in widths):
        widths = (widths if len(widths) == 2 else (widths[0], widths[0]),)
    if not isinstance(widths, tuple) or not all(
        isinstance(w, tuple) and len(w) in (1, 2) and all(isinstance(i, int) for i in w)
        for w in widths
    ):
        raise JxTypeError(f"pad: pad_width must be static ints, got {describe(pad_width)}")
    widths = tuple(w if len(w) == 2 else (w[0], w[0]) for w in widths)
    if len(widths) == 1:
        widths *= ndim
    if len(widths) != ndim:
        raise JxValueError(f"pad: {len(widths)} pad widths for an array of {ndim} dimensions")
    if any(i < 0 for w in widths for i in w):
        raise JxValueError(f"pad: negative pad width in {widths}")
    return widths


def _pad_values(values, ndim):
    """constant_values as one (before, after) pair per axis, as NumPy reads it."""

    def pair(v):
        if not isinstance(v, tuple):
            return (v, v)
        if len(v) in (1, 2) and not any(isinstance(i, tuple) for i in v):
            return (v[0], v[-1])
        raise JxValueError(f"pad: constant_values {values!r} is not a value or (before, after)")

    if isinstance(values, tuple) and values and isinstance(values[0], tuple):
        pairs = tuple(pair(v) for v in values)
        pairs = pairs * ndim if len(pairs) == 1 else pairs
        if len(pairs) != ndim:
            raise JxValueError(f"pad: {len(pairs)} constant_values for {ndim} dimensions")
        return pairs
    return (pair(values),) * ndim


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


@builtin()
def pad(array, pad_width, mode="constant", constant_values=0):
    """Modes constant, edge, reflect, symmetric and wrap; widths are static ints."""
    x = ops.as_array(array)
    a = aval_of(x)
    widths = _pad_widths(pad_width, a.ndim)
    mode = static_choice(mode, _PAD_MODES, "pad: mode")
    values = _pad_values(ops.static_ints(constant_values), a.ndim)
    for axis, (before, after) in enumerate(widths):
        if not before and not after:
            continue
        n = aval_of(x).shape[axis]
        if mode == "constant":
            side = values[axis]
            parts = []
            for width, value in ((before, side[0]), (None, None), (after, side[1])):
                if width is None:
                    parts.append(x)
                elif width:
                    shape = aval_of(x).shape[:axis] + (width,) + aval_of(x).shape[axis + 1 :]
                    parts.append(ops.full(shape, ops.convert(value, a.dtype)))
            x = ops.concatenate(parts, axis)
            continue
        if n == 0:
            raise JxValueError(f"pad: cannot pad an empty axis in mode {mode!r}")
        # NumPy pads the axis's positions as it would pad the values: one gather reads them.
        x = _take_static(x, np.pad(np.arange(n), (before, after), mode=mode), axis)
    return x


# ------------------------------------------------------------------ split


def _split(ary, indices_or_sections, axis, what, even):
    x = ops.as_array(ary)
    nd = aval_of(x).ndim
    axis = ops.normalize_axis(axis, nd)
    n = aval_of(x).shape[axis]
    spec = ops.static_ints(indices_or_sections)
    if isinstance(spec, int):
        if spec <= 0:
            raise JxValueError(f"{what}: number of sections must be positive, got {spec}")
        if even and n % spec:
            raise JxValueError(f"{what}: an axis of {n} does not split into {spec} equal parts")
        size, extra = divmod(n, spec)
        bounds = [i * size + min(i, extra) for i in range(spec + 1)]
    elif isinstance(spec, tuple) and all(isinstance(i, int) for i in spec):
        bounds = [0, *(min(max(i + n if i < 0 else i, 0), n) for i in spec), n]
    else:
        raise JxTypeError(f"{what}: sections must be a static int or ints, got {describe(spec)}")
    shape = aval_of(x).shape
    parts = []
    for start, stop in itertools.pairwise(bounds):
        stop = max(start, stop)
        starts = [0] * nd
        limits = list(shape)
        starts[axis], limits[axis] = start, stop
        parts.append(ops.static_slice(x, starts, limits, [1] * nd))
    return tuple(parts)


@builtin()
def split(ary, indices_or_sections, axis=0):
    """A tuple of parts: an int asks for that many equal parts, ints are the cut points."""
    return _split(ary, indices_or_sections, axis, "split", True)


@builtin()
def array_split(ary, indices_or_sections, axis=0):
    """split that allows unequal parts (the first ones one longer)."""
    return _split(ary, indices_or_sections, axis, "array_split", False)


@builtin()
def hsplit(ary, indices_or_sections):
    return _split(ary, indices_or_sections, 0 if _ndim(ary) == 1 else 1, "hsplit", True)


@builtin()
def vsplit(ary, indices_or_sections):
    return _split(ary, indices_or_sections, 0, "vsplit", True)


@builtin()
def dsplit(ary, indices_or_sections):
    return _split(ary, indices_or_sections, 2, "dsplit", True)


# ------------------------------------------------------------------ take


def _fill_value(dtype):
    """What jnp.take reads at an index out of range: NaN, or the dtype's extreme."""
    if dtypes.is_float(dtype):
        return math.nan
    if dtypes.is_bool(dtype):
        return True
    info = np.iinfo(dtype)
    return int(info.min if dtype.kind == "i" else info.max)


@builtin()
def take(a, indices, axis=None, mode=None, fill_value=None):
    """Indices out of range read `fill_value` (NaN, or the dtype's extreme) as in jnp.take;
    mode="clip" clamps them and mode="wrap" takes them modulo the axis."""
    x = ops.as_array(a)
    if axis is None:
        x, axis = ops.reshape(x, (-1,)), 0
    a_ = aval_of(x)
    axis = ops.normalize_axis(axis, a_.ndim)
    n = a_.shape[axis]
    idx = ops.as_array(ops.array(indices) if isinstance(indices, (tuple, list)) else indices)
    if not dtypes.is_int(aval_of(idx).dtype):
        raise JxTypeError(f"take: indices must be integers, got {describe(indices)}")
    mode = static_choice("fill" if mode is None else mode, ("fill", "clip", "wrap"), "take: mode")
    if mode == "wrap":
        idx = ops.binary("rem", idx, n)
    elif mode == "clip":
        idx = ops.binary("min", ops.binary("max", idx, 0), n - 1)
    if mode != "fill":
        return getitem(x, (slice(None),) * axis + (idx,))
    inside = ops.logical("and", ops.compare("ge", idx, -n), ops.compare("lt", idx, n))
    out = getitem(x, (slice(None),) * axis + (ops.where(inside, idx, 0),))
    inside = ops.reshape(inside, (1,) * axis + aval_of(idx).shape + (1,) * (a_.ndim - axis - 1))
    fill = _fill_value(a_.dtype) if fill_value is None else fill_value
    return ops.where(inside, out, ops.convert(fill, a_.dtype))


@builtin()
def take_along_axis(arr, indices, axis):
    """arr read along `axis` at `indices` (same rank as arr, broadcast on the other axes)."""
    x = ops.as_array(arr)
    idx = ops.as_array(indices)
    if axis is None:
        x, axis = ops.reshape(x, (-1,)), 0
    nd = aval_of(x).ndim
    if aval_of(idx).ndim != nd:
        raise JxValueError(
            f"take_along_axis: indices of {aval_of(idx).ndim} dimensions for an array of {nd}"
        )
    axis = ops.normalize_axis(axis, nd)
    shape = ops.broadcast_shapes(
        tuple(1 if k == axis else d for k, d in enumerate(aval_of(x).shape)),
        tuple(1 if k == axis else d for k, d in enumerate(aval_of(idx).shape)),
    )
    index = []
    for k in range(nd):
        if k == axis:
            index.append(idx)
        else:
            index.append(np.arange(shape[k], dtype=np.int32).reshape((-1,) + (1,) * (nd - 1 - k)))
    x = ops.broadcast_to(x, shape[:axis] + (aval_of(x).shape[axis],) + shape[axis + 1 :])
    return getitem(x, tuple(index))


# ------------------------------------------------------------------ roll, rot90


@builtin()
def roll(a, shift, axis=None):
    x = ops.as_array(a)
    if axis is None:
        return ops.reshape(roll(ops.reshape(x, (-1,)), shift, 0), aval_of(x).shape)
    shifts, axes = ops.static_ints(shift), ops.static_ints(axis)
    if isinstance(axes, tuple) or isinstance(shifts, tuple):
        axes = axes if isinstance(axes, tuple) else (axes,) * len(shifts)
        shifts = shifts if isinstance(shifts, tuple) else (shifts,) * len(axes)
        if len(axes) != len(shifts):
            raise JxValueError(f"roll: {len(shifts)} shifts for {len(axes)} axes")
        for s, ax in zip(shifts, axes):
            x = roll(x, s, ax)
        return x
    ax = ops.normalize_axis(axes, aval_of(x).ndim)
    n = aval_of(x).shape[ax]
    if n == 0:
        return x
    if isinstance(shifts, int) and not isinstance(shifts, bool):
        return _take_static(x, (np.arange(n) - shifts) % n, ax)
    # A traced shift: each position reads (i - shift) mod n.
    positions = ops.binary("rem", ops.binary("sub", ops.iota(dtypes.i32, (n,)), shifts), n)
    return getitem(x, (slice(None),) * ax + (positions,))


@builtin()
def rot90(m, k=1, axes=(0, 1)):
    x = ops.as_array(m)
    k = _static_int(k, "rot90: k") % 4
    nd = aval_of(x).ndim
    ax0, ax1 = (ops.normalize_axis(a, nd) for a in ops.static_ints(axes))
    if ax0 == ax1:
        raise JxValueError("rot90: the two axes must differ")
    if k == 2:
        return flip(flip(x, ax0), ax1)
    perm = list(range(nd))
    perm[ax0], perm[ax1] = perm[ax1], perm[ax0]
    if k == 1:
        return ops.transpose(flip(x, ax1), perm)
    if k == 3:
        return flip(ops.transpose(x, perm), ax1)
    return x


@builtin()
def rollaxis(a, axis, start=0):
    nd = _ndim(a)
    axis = ops.normalize_axis(axis, nd)
    start = _static_int(start, "rollaxis: start")
    if not -nd <= start <= nd:
        raise JxValueError(f"rollaxis: start {start} is out of range for {nd} dimensions")
    start %= nd + 1
    return moveaxis(a, axis, start - 1 if axis < start else start)


@builtin()
def flipud(m):
    return flip(m, 0)


@builtin()
def fliplr(m):
    return flip(m, 1)


# ------------------------------------------------------------------ triangles and diagonals


def _triangle(m, k, lower):
    x = ops.as_array(m)
    s = aval_of(x).shape
    if len(s) < 2:
        raise JxValueError("tril/triu need an array of at least 2 dimensions")
    k = _static_int(k, "tril/triu: k")
    keep = np.tri(s[-2], s[-1], k if lower else k - 1, dtype=bool)
    keep = keep if lower else ~keep
    return ops.where(keep, x, ops.convert(0, aval_of(x).dtype))


@builtin()
def tril(m, k=0):
    return _triangle(m, k, True)


@builtin()
def triu(m, k=0):
    return _triangle(m, k, False)


@builtin()
def diagonal(a, offset=0, axis1=0, axis2=1):
    x = ops.as_array(a)
    nd = aval_of(x).ndim
    if nd < 2:
        raise JxValueError("diagonal needs an array of at least 2 dimensions")
    offset = _static_int(offset, "diagonal: offset")
    ax1, ax2 = ops.normalize_axis(axis1, nd), ops.normalize_axis(axis2, nd)
    if ax1 == ax2:
        raise JxValueError("diagonal: axis1 and axis2 must differ")
    rest = [k for k in range(nd) if k not in (ax1, ax2)]
    x = ops.transpose(x, [*rest, ax1, ax2])
    n, m = aval_of(x).shape[-2:]
    rows = np.arange(max(0, -offset), n)
    rows = rows[rows + offset < m]
    return getitem(x, (Ellipsis, rows.astype(np.int32), (rows + offset).astype(np.int32)))


@builtin()
def diag(v, k=0):
    """The k-th diagonal of a matrix, or a matrix with `v` on its k-th diagonal."""
    x = ops.as_array(v)
    k = _static_int(k, "diag: k")
    if aval_of(x).ndim == 2:
        return diagonal(x, k)
    if aval_of(x).ndim != 1:
        raise JxValueError("diag takes a 1-d or a 2-d array")
    n = aval_of(x).shape[0] + abs(k)
    rows = np.arange(aval_of(x).shape[0]) + max(0, -k)
    positions = (rows * n + rows + k).astype(np.int32)
    # Each output position reads v at its place on the diagonal, or a zero past v's end.
    source = np.full(n * n, aval_of(x).shape[0], np.int32)
    source[positions] = np.arange(aval_of(x).shape[0])
    padded = ops.concatenate([x, ops.full((1,), ops.convert(0, aval_of(x).dtype))])
    return ops.reshape(_take_static(padded, source, 0), (n, n))


@builtin()
def triu_indices(n, k=0, m=None):
    rows, cols = np.triu_indices(_static_int(n, "triu_indices: n"), k, m)
    return ops.array(rows.astype(np.int32)), ops.array(cols.astype(np.int32))


@builtin()
def tril_indices(n, k=0, m=None):
    rows, cols = np.tril_indices(_static_int(n, "tril_indices: n"), k, m)
    return ops.array(rows.astype(np.int32)), ops.array(cols.astype(np.int32))


# ------------------------------------------------------------------ dimensions and joins


#: Where atleast_3d puts an array's own axes among the three (NumPy's placement).
_AT_LEAST_3D = {0: (1, 1, 1), 1: (1, -1, 1)}


def _atleast(arys, ndim):
    out = []
    for a in arys:
        x = ops.as_array(a)
        s = aval_of(x).shape
        if len(s) < ndim:
            if ndim == 3 and len(s) < 2:
                x = ops.reshape(x, _AT_LEAST_3D[len(s)])
            else:
                x = ops.reshape(x, s + (1,) if ndim == 3 else (1,) * (ndim - len(s)) + s)
        out.append(x)
    return out[0] if len(out) == 1 else tuple(out)


@builtin()
def atleast_1d(*arys):
    return _atleast(arys, 1)


@builtin()
def atleast_2d(*arys):
    return _atleast(arys, 2)


@builtin()
def atleast_3d(*arys):
    """As NumPy: a 1-d array of n becomes (1, n, 1), a 2-d (n, m) becomes (n, m, 1)."""
    return _atleast(arys, 3)


@builtin()
def dstack(tup, dtype=None):
    arrs = [_atleast([a], 3) for a in _seq(tup, "dstack")]
    return ops.concatenate(
        arrs if dtype is None else [ops.convert(a, to_dtype(dtype)) for a in arrs], 2
    )


@builtin()
def column_stack(tup):
    arrs = [ops.as_array(a) for a in _seq(tup, "column_stack")]
    arrs = [ops.reshape(a, (-1, 1)) if aval_of(a).ndim < 2 else a for a in arrs]
    return ops.concatenate(arrs, 1)


BUILTINS["row_stack"] = BUILTINS["vstack"]


@builtin()
def append(arr, values, axis=None):
    if axis is None:
        return ops.concatenate([ops.reshape(arr, (-1,)), ops.reshape(values, (-1,))], 0)
    return ops.concatenate([arr, values], axis)


@builtin()
def broadcast_arrays(*args):
    arrs = [ops.as_array(a) for a in args]
    shape = ops.broadcast_shapes(*(aval_of(a).shape for a in arrs))
    return tuple(ops.broadcast_to(a, shape) for a in arrs)


@builtin()
def meshgrid(*xi, indexing="xy", sparse=False):
    indexing = static_choice(indexing, ("xy", "ij"), "meshgrid: indexing")
    arrs = [ops.reshape(a, (-1,)) for a in xi]
    n = len(arrs)
    out = []
    for k, a in enumerate(arrs):
        shape = [1] * n
        shape[k] = -1
        if indexing == "xy" and n >= 2 and k < 2:
            shape[0], shape[1] = shape[1], shape[0]
        out.append(ops.reshape(a, tuple(shape)))
    if static_flag(sparse, "meshgrid: sparse"):
        return tuple(out)
    return broadcast_arrays(*out)


@builtin()
def unravel_index(indices, shape):
    """A tuple of index arrays, one per dimension of `shape` (traced indices are fine)."""
    shape = ops.normalize_shape(shape)
    idx = ops.as_array(indices)
    if not dtypes.is_int(aval_of(idx).dtype):
        raise JxTypeError(f"unravel_index: indices must be integers, got {describe(indices)}")
    size = math.prod(shape)
    # Negative indices wrap once and the rest clamp, as jnp.unravel_index does.
    idx = ops.where(ops.compare("lt", idx, 0), ops.binary("add", idx, size), idx)
    idx = ops.binary("min", ops.binary("max", idx, 0), max(size - 1, 0))
    out = []
    for k in range(len(shape)):
        stride = math.prod(shape[k + 1 :])
        out.append(ops.binary("rem", ops.binary("floor_divide", idx, stride), shape[k]))
    return tuple(out)


@builtin()
def kron(a, b):
    x, y = ops.as_array(a), ops.as_array(b)
    nd = max(aval_of(x).ndim, aval_of(y).ndim)
    sx = (1,) * (nd - aval_of(x).ndim) + aval_of(x).shape
    sy = (1,) * (nd - aval_of(y).ndim) + aval_of(y).shape
    # (s0, t0, s1, t1, ...): x's axes interleaved with y's, then each pair merged.
    xe = ops.reshape(x, tuple(d for s in sx for d in (s, 1)))
    ye = ops.reshape(y, tuple(d for t in sy for d in (1, t)))
    return ops.reshape(ops.binary("mul", xe, ye), tuple(s * t for s, t in zip(sx, sy)))


# ------------------------------------------------------------------ r_ and c_


class IndexTricks:
    """`r_[...]` and `c_[...]`: slices (static ranges), numbers and arrays joined along the
    first axis (`r_`), or as columns along the last (`c_`)."""

    jx_kind = "an index trick"
    __slots__ = ("columns",)

    def __init__(self, columns):
        self.columns = columns

    def getitem(self, index):
        items = index if isinstance(index, tuple) else (index,)
        parts = []
        for item in items:
            if isinstance(item, slice):
                if any(
                    not isinstance(p, (int, float, type(None)))
                    for p in (item.start, item.stop, item.step)
                ):
                    raise JxTypeError("r_/c_: slice bounds must be static numbers")
                start = 0 if item.start is None else item.start
                parts.append(
                    BUILTINS["arange"].fn(start, item.stop, 1 if item.step is None else item.step)
                )
            else:
                parts.append(ops.as_array(ops.array(item) if isinstance(item, list) else item))
        if self.columns:
            cols = [ops.reshape(p, (-1, 1)) if aval_of(p).ndim < 2 else p for p in parts]
            return ops.concatenate(cols, -1)
        return ops.concatenate(
            [ops.reshape(p, (1,)) if not aval_of(p).shape else p for p in parts], 0
        )


BUILTINS["r_"] = IndexTricks(columns=False)
BUILTINS["c_"] = IndexTricks(columns=True)
