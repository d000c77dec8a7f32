"""NumPy indexing and `.at[]` updates, composed from slice/rev/reshape/gather/scatter.

Static ints and slices become one `slice` (plus `rev` for negative steps) and a reshape;
`None` inserts unit axes; integer arrays and traced scalars are advanced indices,
broadcast together and folded into one flat `gather` along a merged axis, placed as NumPy
places them (where the first one was if they are adjacent, else in front). Static indices
out of range are an IndexError; traced ones are clamped into range (as JAX does), after
negative values wrap once. Updates compute the flat positions the index selects and
scatter into the flattened array; at traced positions out of range nothing is updated (as
JAX's scatter drops them).
"""

from __future__ import annotations

import math

import numpy as np

from . import dtypes, ops, primitives
from .backend import is_concrete
from .core import Tracer, aval_of, bind, describe
from .errors import IndexError as JxIndexError
from .errors import ShapeError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .ir import Literal
from .primitives.shapes import constant


def _is_static_index_item(item) -> bool:
    return (
        item is None
        or item is Ellipsis
        or isinstance(item, slice)
        or (isinstance(item, (int, np.integer)) and not isinstance(item, bool))
        or isinstance(item, np.ndarray)
    )


def _as_index_array(item, span_text="index"):
    if isinstance(item, (list, tuple)):
        item = ops.array(item)
    a = aval_of(item)
    if a.dtype == dtypes.bool_:
        raise JxIndexError(
            "boolean mask indexing makes a data-dependent shape; use where(mask, x, other) "
            "or a reduction such as sum(where(mask, x, 0))"
        )
    if not dtypes.is_int(a.dtype):
        raise JxIndexError(f"an {span_text} must be an integer, got {dtypes.short(a.dtype)}")
    return ops.as_array(item)


def _expand(index, ndim: int) -> list:
    items = list(index) if isinstance(index, tuple) else [index]
    if sum(1 for i in items if i is Ellipsis) > 1:
        raise JxIndexError("an index can only have a single ellipsis ('...')")
    consuming = sum(1 for i in items if i is not None and i is not Ellipsis)
    if consuming > ndim:
        raise JxIndexError(
            f"too many indices for an array of {ndim} dimensions: {consuming} were given"
        )
    if Ellipsis in [i for i in items if not isinstance(i, (np.ndarray, Tracer))]:
        k = next(k for k, i in enumerate(items) if i is Ellipsis)
        items[k : k + 1] = [slice(None)] * (ndim - consuming)
    else:
        items += [slice(None)] * (ndim - consuming)
    return items


def getitem(x, index, fill=None):
    """`x[index]`. Traced indices out of range clamp; with `fill`, they select `fill` instead
    (how updates find the positions to drop)."""
    x = ops.as_array(x)
    a = aval_of(x)
    items = _expand(index, a.ndim)
    # None: insert a unit axis and index it with a full slice.
    if any(i is None for i in items):
        shape, k = [], 0
        for item in items:
            if item is None:
                shape.append(1)
            else:
                shape.append(a.shape[k])
                k += 1
        x = ops.reshape(x, tuple(shape))
        a = aval_of(x)
        items = [slice(None) if i is None else i for i in items]
    for item in items:
        if isinstance(item, (float, bool, str)):
            raise JxIndexError(f"an index must be an int, a slice or an int array, got {item!r}")
    # Beside an integer array, a static int is an advanced index too (NumPy's placement rules).
    arrays = [k for k, i in enumerate(items) if not isinstance(i, (slice, int, np.integer))]
    advanced = [k for k, i in enumerate(items) if not isinstance(i, slice)] if arrays else []
    starts, limits, strides, flips, drop = [], [], [], [], []
    for k, item in enumerate(items):
        n = a.shape[k]
        if isinstance(item, slice):
            _check_slice(item)
            start, stop, step = item.indices(n)
            count = len(range(start, stop, step))
            if step < 0:
                flips.append(k)
                start, step = n - 1 - start, -step
            starts.append(start)
            limits.append(start + (count - 1) * step + 1 if count else start)
            strides.append(step)
        elif isinstance(item, (int, np.integer)) and not advanced:
            if not -n <= item < n:
                raise JxIndexError(f"index {item} is out of bounds for axis {k} with size {n}")
            starts.append(int(item) % n)
            limits.append(int(item) % n + 1)
            strides.append(1)
            drop.append(k)
        else:
            starts.append(0)
            limits.append(n)
            strides.append(1)
    if flips:
        x = bind(primitives.rev_p, x, dimensions=tuple(flips))
        # After reversing, the slice is taken over the reversed axis.
    if (starts, limits, strides) != ([0] * a.ndim, list(a.shape), [1] * a.ndim):
        x = ops.static_slice(x, starts, limits, strides)
    if drop:
        x = ops.reshape(x, tuple(d for k, d in enumerate(aval_of(x).shape) if k not in drop))
    if not advanced:
        return x
    return _advanced(x, items, advanced, _adjacent(index), fill)


def _adjacent(index) -> bool:
    """Whether the advanced indices sit side by side in the index as written: anything
    between them (a slice, None, even an Ellipsis that stands for no axes) sends the
    broadcast dimensions to the front, as in NumPy."""
    items = index if isinstance(index, tuple) else (index,)

    def basic(i):
        return i is None or i is Ellipsis or isinstance(i, slice)

    where = [k for k, i in enumerate(items) if not basic(i)]
    return where == list(range(where[0], where[-1] + 1))


def _static_value(item):
    """The value of an index known while tracing (a host array or an array literal)."""
    if isinstance(item, Tracer) and type(item.var) is Literal:
        return item.var.value
    return item


def _advanced(x, items, advanced, adjacent, fill):
    a = aval_of(x)
    indices = []
    for k in advanced:
        item = items[k]
        n = a.shape[k]
        static = _static_value(item)
        if isinstance(item, (int, np.integer)):
            if not -n <= item < n:
                raise JxIndexError(f"index {item} is out of bounds for axis {k} with size {n}")
            item = np.asarray(int(item) % n, dtype=np.int32)
        elif isinstance(static, np.ndarray) and static.dtype.kind in "iu":
            item = static
            bad = (item < -n) | (item >= n)
            if bad.any():
                raise JxIndexError(
                    f"index {int(item[bad].flat[0])} is out of bounds for axis {k} with size {n}"
                )
        indices.append(_as_index_array(item))
    shape = ops.broadcast_shapes(*(aval_of(i).shape for i in indices))
    flat = valid = None
    for k, idx in zip(advanced, indices):
        n = a.shape[k]
        idx = ops.convert(idx, dtypes.i32) if aval_of(idx).dtype != dtypes.i32 else idx
        idx = ops.where(ops.compare("lt", idx, 0), ops.binary("add", idx, n), idx)
        if fill is not None:
            inside = ops.logical("and", ops.compare("ge", idx, 0), ops.compare("lt", idx, n))
            valid = inside if valid is None else ops.logical("and", valid, inside)
        idx = ops.binary("min", ops.binary("max", idx, 0), max(n - 1, 0))
        idx = ops.broadcast_to(idx, shape)
        flat = idx if flat is None else ops.binary("add", ops.binary("mul", flat, n), idx)
    pos = advanced[0] if adjacent else 0
    rest = [k for k in range(a.ndim) if k not in advanced]
    perm = rest[:pos] + advanced + rest[pos:]
    x = ops.transpose(x, perm)
    merged = math.prod(a.shape[k] for k in advanced)
    tshape = aval_of(x).shape
    x = ops.reshape(x, tshape[:pos] + (merged,) + tshape[pos + len(advanced) :])
    out = bind(primitives.gather_p, x, flat, axis=pos)
    if valid is None:
        return out
    after = aval_of(out).ndim - pos - len(shape)
    valid = ops.reshape(ops.broadcast_to(valid, shape), (1,) * pos + shape + (1,) * after)
    return ops.where(valid, out, fill)


def _check_slice(item: slice) -> None:
    for part in (item.start, item.stop, item.step):
        if part is not None and not isinstance(part, (int, np.integer)):
            raise JxIndexError(
                f"slice bounds must be static ints, got {describe(part)}; "
                "use dynamic_slice for traced starts"
            )
    if item.step == 0:
        raise JxIndexError("slice step cannot be zero")


def _static_positions(shape, index):
    """Flat positions selected by a fully static index, computed by NumPy itself."""
    items = index if isinstance(index, tuple) else (index,)
    if not all(_is_static_index_item(i) for i in items):
        return None
    for item in items:
        if isinstance(item, slice):
            _check_slice(item)
    if any(is_concrete(i) and i.dtype == np.bool_ for i in items):
        return None
    try:
        return np.arange(math.prod(shape), dtype=np.int32).reshape(shape)[index]
    except IndexError as e:
        raise JxIndexError(str(e)) from None


def update(x, index, value, mode: str):
    """`x.at[index].<mode>(value)` for mode in set, add, mul, min, max."""
    x = ops.as_array(x)
    a = aval_of(x)
    positions = _static_positions(a.shape, index)
    if positions is None:
        # Traced indices out of range select position a.size, which scatter drops (as JAX).
        iota = ops.reshape(ops.iota(dtypes.i32, (a.size,)), a.shape)
        positions = getitem(iota, index, fill=a.size)
    else:
        positions = constant(positions) if positions.ndim else positions
    pshape = aval_of(positions).shape
    value = ops.convert(value, a.dtype) if not ops.is_scalar(value) else value
    try:
        value = ops.broadcast_to(ops.convert(value, a.dtype), pshape)
    except ShapeError:
        raise ShapeError(
            f"cannot update a selection of shape {pshape} with a value of shape {ops.shape(value)}"
        ) from None
    flat_x = ops.reshape(x, (a.size,))
    flat_p = ops.reshape(ops.as_array(positions), (-1,))
    flat_v = ops.reshape(value, (-1,))
    out = bind(primitives.scatter_p, flat_x, flat_p, flat_v, axis=0, mode=mode)
    return ops.reshape(out, a.shape)


def unpack(value, n: int, span):
    """`value` as n parts, for `a, b = value`: a tuple's items or an array's rows."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise JxValueError(f"cannot unpack {describe(value)} into {n} names", span)
        return tuple(value)
    if ops.is_array(value):
        shape = ops.shape(value)
        if not shape:
            raise JxTypeError("cannot unpack a 0-d array", span)
        if shape[0] != n:
            raise JxValueError(
                f"cannot unpack an array with leading axis {shape[0]} into {n} names", span
            )
        return tuple(getitem(value, i) for i in range(n))
    raise JxTypeError(f"cannot unpack {describe(value)}", span)


class AtHelper:
    """`x.at`: indexing it gives an `AtIndexed` with the update methods."""

    jx_kind = "an .at helper"

    def __init__(self, x):
        self.x = x

    def getitem(self, index):
        return AtIndexed(self.x, index)


class AtIndexed:
    jx_kind = "an .at[...] selection"
    METHODS = ("set", "add", "subtract", "mul", "multiply", "divide", "power", "min", "max", "get")

    def __init__(self, x, index):
        self.x = x
        self.index = index

    def method(self, name):
        if name not in self.METHODS:
            raise JxTypeError(f"x.at[...] has no method '{name}'; it has {', '.join(self.METHODS)}")
        if name == "get":
            return lambda: getitem(self.x, self.index)
        if name == "subtract":
            return lambda value: update(self.x, self.index, ops.unary("neg", value), "add")
        if name in ("divide", "power"):
            return lambda value: self._scaled(name, value)
        mode = "mul" if name == "multiply" else name
        return lambda value: update(self.x, self.index, value, mode)

    def _scaled(self, name, value):
        """x.at[i].divide(v) and .power(v), as JAX: x / f and x ** f, with f holding v at the
        selected elements (the product of the values where an index repeats) and 1 elsewhere.
        Distinct static positions set f, so the result is differentiable in v."""
        x = ops.as_array(self.x)
        positions = _static_positions(aval_of(x).shape, self.index)
        distinct = positions is not None and len(np.unique(positions)) == positions.size
        ones = ops.full_like(x, 1)
        factors = update(ones, self.index, value, "set" if distinct else "mul")
        return ops.true_divide(x, factors) if name == "divide" else ops.power(x, factors)
