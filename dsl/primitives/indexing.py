"""The indexing primitives: slice, concatenate, gather and scatter, each in one block.

slice and concatenate transpose to each other's kin (a slice's cotangent is scattered
back; a concatenation's is sliced apart), and gather and scatter to each other, so the
four sit together. gather and scatter take one index array along one axis; their
out-of-range semantics are XLA's own, which the array implementations match: gather
clamps an index into the axis, scatter drops an update whose index lies outside it.
Negative indices count from the end only in the NumPy layer, which wraps them first.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..core import aval_of, bind
from ..dtypes import ShapedArray
from ..errors import ShapeError
from ..errors import TypeError as JxTypeError
from ..registry import need, primitive, undef
from .elementwise import BINARY, add, compare, mul, select
from .shapes import (
    broadcast_in_dim,
    constant,
    deflinear,
    full,
    iota,
    move_axis,
    reshape,
    shift,
    to_front,
    transpose,
)

# ------------------------------------------------------------------ slice


def _slice_rule(x, *, start_indices, limit_indices, strides):
    shape = tuple(
        max(0, -(-(hi - lo) // st)) for lo, hi, st in zip(start_indices, limit_indices, strides)
    )
    return [x.update(shape=shape)]


def _slice_impl(xp, x, *, start_indices, limit_indices, strides):
    return x[tuple(slice(a, b, s) for a, b, s in zip(start_indices, limit_indices, strides))]


def _slice_t(cts, x, *, start_indices, limit_indices, strides):
    shape = x.aval.shape
    index = tuple(slice(a, b, s) for a, b, s in zip(start_indices, limit_indices, strides))
    positions = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int32).reshape(shape)[index]
    flat = bind(
        scatter_p,
        full((x.aval.size,), 0, x.aval.dtype),
        constant(positions.reshape(-1)),
        reshape(cts[0], (positions.size,)),
        axis=0,
        mode="add",
    )
    return [reshape(flat, shape)]


def _insert(values, d, value) -> tuple:
    return tuple(values[:d]) + (value,) + tuple(values[d:])


def _slice_batch(ax, args, dims, *, start_indices, limit_indices, strides):
    d = dims[0]
    return bind(
        slice_p,
        args[0],
        start_indices=_insert(start_indices, d, 0),
        limit_indices=_insert(limit_indices, d, ax.size),
        strides=_insert(strides, d, 1),
    ), d


slice_p = primitive("slice", _slice_rule, _slice_impl)
deflinear(slice_p)
slice_p.transpose = _slice_t
slice_p.batch = _slice_batch


def static_slice(x, starts, limits, strides=None):
    strides = strides or [1] * len(starts)
    return bind(
        slice_p,
        x,
        start_indices=tuple(int(s) for s in starts),
        limit_indices=tuple(int(s) for s in limits),
        strides=tuple(int(s) for s in strides),
    )


# ------------------------------------------------------------------ concatenate


def _concatenate_rule(*xs, dimension):
    first = xs[0]
    for x in xs[1:]:
        need(x.dtype == first.dtype, "concatenate: operand dtypes differ")
        need(
            x.ndim == first.ndim
            and all(a == b for i, (a, b) in enumerate(zip(x.shape, first.shape)) if i != dimension),
            f"concatenate: shapes {first.shape} and {x.shape} differ off axis {dimension}",
            ShapeError,
        )
    shape = list(first.shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return [ShapedArray(tuple(shape), first.dtype, all(x.weak for x in xs))]


def _concatenate_t(cts, *xs, dimension):
    ct, out, start = cts[0], [], 0
    full_shape = aval_of(ct).shape
    for x in xs:
        n = (x.aval if undef(x) else aval_of(x)).shape[dimension]
        if undef(x):
            lo, hi = [0] * len(full_shape), list(full_shape)
            lo[dimension], hi[dimension] = start, start + n
            out.append(static_slice(ct, lo, hi))
        else:
            out.append(None)
        start += n
    return out


def _concatenate_batch(ax, args, dims, *, dimension):
    xs = [to_front(x, d, ax.size) for x, d in zip(args, dims)]
    return bind(concatenate_p, *xs, dimension=dimension + 1), 0


concatenate_p = primitive(
    "concatenate",
    _concatenate_rule,
    lambda xp, *xs, dimension: xp.concatenate(xs, axis=dimension),
)
deflinear(concatenate_p)
concatenate_p.transpose = _concatenate_t
concatenate_p.batch = _concatenate_batch


def concatenate(xs, dimension: int):
    return bind(concatenate_p, *xs, dimension=dimension % aval_of(xs[0]).ndim)


# ------------------------------------------------------------------ gather


def _gather_rule(x, idx, *, axis):
    need(dtypes.is_int(idx.dtype), "indices must be integers")
    return [x.update(shape=x.shape[:axis] + idx.shape + x.shape[axis + 1 :])]


def _gather_impl(xp, x, idx, *, axis):
    return xp.take(x, xp.clip(idx, 0, max(x.shape[axis] - 1, 0)), axis=axis)


def _gather_jvp(ps, ts, *, axis):
    (x, idx), (t, _) = ps, ts
    out = bind(gather_p, x, idx, axis=axis)
    return out, None if t is None else bind(gather_p, t, idx, axis=axis)


def _clamped(idx, n: int):
    """Indices clamped into [0, n - 1], as gather reads them."""
    low, high = compare("lt", idx, 0), compare("gt", idx, max(n - 1, 0))
    return select(low, 0, select(high, max(n - 1, 0), idx))


def _gather_t(cts, x, idx, *, axis):
    # The cotangent goes where gather read: at the clamped index (scatter would drop the
    # out-of-range ones, and their gradient with them).
    zero = full(x.aval.shape, 0, x.aval.dtype)
    idx = _clamped(idx, x.aval.shape[axis])
    return [bind(scatter_p, zero, idx, cts[0], axis=axis, mode="add"), None]


def _example_rows(idx, n: int):
    """Per-example indices (batch dim 0) made positions in the flattened (batch * n) axis."""
    rows = iota(aval_of(idx).dtype, aval_of(idx).shape, 0)
    return add(idx, mul(rows, n))


def _flat_operand(x, axis: int):
    """Batched `x` (batch dim 0) as (batch * n, other axes...), n its per-example `axis`."""
    a = aval_of(x)
    x = move_axis(x, axis + 1, 1)
    return reshape(x, (a.shape[0] * a.shape[axis + 1],) + aval_of(x).shape[2:])


def _gather_batch(ax, args, dims, *, axis):
    (x, idx), (dx, di) = args, dims
    if di is None:
        out_dim = dx if dx <= axis else dx - 1 + aval_of(idx).ndim
        return bind(gather_p, x, idx, axis=shift(axis, dx)), out_dim
    if dx is None:
        return bind(gather_p, x, idx, axis=axis), axis + di
    # Both batched: one gather from the examples' rows laid end to end, each example's
    # indices clamped into its own rows first.
    x, idx = to_front(x, dx, ax.size), to_front(idx, di, ax.size)
    n = aval_of(x).shape[axis + 1]
    idx = _clamped(idx, n)
    out = bind(gather_p, _flat_operand(x, axis), _example_rows(idx, n), axis=0)
    ni = aval_of(idx).ndim - 1
    # The gather gives (batch, idx..., before..., after...); put `before` back in front.
    perm = [0, *range(1 + ni, 1 + ni + axis), *range(1, 1 + ni)]
    perm += list(range(len(perm), aval_of(out).ndim))
    return transpose(out, perm), 0


gather_p = primitive("gather", _gather_rule, _gather_impl)
gather_p.jvp = _gather_jvp
gather_p.transpose = _gather_t
gather_p.batch = _gather_batch

# ------------------------------------------------------------------ scatter


def _scatter_rule(x, idx, updates, *, axis, mode):
    need(dtypes.is_int(idx.dtype), "indices must be integers")
    want = x.shape[:axis] + idx.shape + x.shape[axis + 1 :]
    need(
        updates.shape == want,
        f"scatter: updates of shape {updates.shape}, expected {want}",
        ShapeError,
    )
    return [x]


def _scatter_impl(xp, x, idx, updates, *, axis, mode):
    keep = (idx >= 0) & (idx < x.shape[axis])
    out = xp.array(xp.moveaxis(x, axis, 0), copy=True)
    upd = xp.moveaxis(updates, list(range(axis, axis + idx.ndim)), list(range(idx.ndim)))
    idx, upd = idx[keep], upd[keep]
    if mode == "set":
        out[idx] = upd
    else:
        combine = {"add": xp.add, "mul": xp.multiply, "min": xp.minimum, "max": xp.maximum}
        combine[mode].at(out, idx, upd)
    return xp.moveaxis(out, 0, axis)


def _scatter_jvp(ps, ts, *, axis, mode):
    (x, idx, upd), (tx, _, tu) = ps, ts
    out = bind(scatter_p, x, idx, upd, axis=axis, mode=mode)
    if mode not in ("set", "add"):
        raise JxTypeError(
            f"differentiating .at[...].{mode}() is not supported; use .set/.add or where()"
        )
    if tx is None and tu is None:
        return out, None
    tx = full(aval_of(x).shape, 0, aval_of(x).dtype) if tx is None else tx
    tu = full(aval_of(upd).shape, 0, aval_of(upd).dtype) if tu is None else tu
    return out, bind(scatter_p, tx, idx, tu, axis=axis, mode=mode)


def _inside(idx, n: int):
    return bind(BINARY["and"], compare("ge", idx, 0), compare("lt", idx, n))


def _scatter_t(cts, x, idx, upd, *, axis, mode):
    ct = cts[0]
    ct_upd = None
    if undef(upd):
        # A dropped (out-of-range) update had no effect: its cotangent is zero, not the
        # value at the index gather would clamp it to.
        n = aval_of(ct).shape[axis]
        got = bind(gather_p, ct, idx, axis=axis)
        shape = aval_of(got).shape
        ndim = aval_of(idx).ndim
        kept = broadcast_in_dim(_inside(idx, n), shape, tuple(range(axis, axis + ndim)))
        ct_upd = select(kept, got, full(shape, 0, aval_of(got).dtype))
    if mode == "add":
        return [ct if undef(x) else None, None, ct_upd]
    if mode == "set":
        upd_aval = upd.aval if undef(upd) else aval_of(upd)
        zero = full(upd_aval.shape, 0, upd_aval.dtype)
        ct_x = bind(scatter_p, ct, idx, zero, axis=axis, mode="set") if undef(x) else None
        return [ct_x, None, ct_upd]
    raise JxTypeError(f"reverse mode through .at[...].{mode}() is not supported")


def _scatter_batch(ax, args, dims, *, axis, mode):
    (x, idx, updates), (dx, di, du) = args, dims
    x, updates = to_front(x, dx, ax.size), to_front(updates, du, ax.size)
    if di is None:
        return bind(scatter_p, x, idx, updates, axis=axis + 1, mode=mode), 0
    idx = to_front(idx, di, ax.size)
    n = aval_of(x).shape[axis + 1]
    inside = _inside(idx, n)
    # Out-of-range updates must stay dropped, not land in a neighbouring example's rows.
    flat = select(inside, _example_rows(idx, n), ax.size * n)
    ni = aval_of(idx).ndim - 1
    perm = [0, *range(1 + axis, 1 + axis + ni), *range(1, 1 + axis)]
    perm += list(range(len(perm), aval_of(updates).ndim))
    out = bind(scatter_p, _flat_operand(x, axis), flat, transpose(updates, perm), axis=0, mode=mode)
    out = reshape(out, (ax.size, n) + aval_of(out).shape[1:])
    return move_axis(out, 1, axis + 1), 0


scatter_p = primitive("scatter", _scatter_rule, _scatter_impl)
scatter_p.jvp = _scatter_jvp
scatter_p.transpose = _scatter_t
scatter_p.batch = _scatter_batch
