"""The structural primitives every other rule is built from, and the rule-family helpers.

broadcast_in_dim, reshape, transpose, rev, iota and reduce_sum (broadcast_in_dim's
transpose, so they sit together), each in one block with its shape rule, JVP, transpose,
batching rule and array implementation. Below them in the import order are only the
registry and `core`; above them every other family uses the lax-like wrappers here
(`broadcast_in_dim`, `reshape`, `full_like`, `move_axis`...) and the helpers for rule
families: `deflinear` (a JVP that is the op itself on tangents), `defzero` (a
non-differentiable output) and the reduction family's shape and batching rules.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from ..core import Tracer, aval_of, bind, current_builder, literal
from ..dtypes import ShapedArray
from ..errors import ShapeError
from ..ir import Literal
from ..registry import need, primitive

# ------------------------------------------------------------------ rule-family helpers


def instantiate(t, primal):
    """A tangent made concrete: zeros where it is symbolic (None)."""
    return zeros_like(primal) if t is None else t


def deflinear(prim) -> None:
    """A primitive linear in all its array operands: the tangent is the op on tangents."""

    def rule(ps, ts, **params):
        out = bind(prim, *ps, **params)
        tangents = [instantiate(t, p) for t, p in zip(ts, ps)]
        return out, bind(prim, *tangents, **params)

    prim.jvp = rule


def defzero(prim) -> None:
    """A primitive whose outputs have zero derivative (integer, boolean or piecewise flat)."""

    def rule(ps, ts, **params):
        out = bind(prim, *ps, **params)
        return out, ([None] * len(out) if prim.multiple_results else None)

    prim.jvp = rule


def shift(axis: int, d: int) -> int:
    """Where a per-example axis lies once the batch dim `d` is inserted."""
    return axis + (axis >= d)


def reduce_rule(name: str, bool_only: bool = False):
    """The shape rule of a reduction over `axes`."""

    def rule(x, *, axes):
        if bool_only:
            need(x.dtype == np.bool_, f"{name} needs bool values")
        return [x.update(shape=tuple(d for i, d in enumerate(x.shape) if i not in axes))]

    return rule


def reduce_batch(prim, ax, args, dims, *, axes):
    d = dims[0]
    axes = tuple(shift(a, d) for a in axes)
    return bind(prim, args[0], axes=axes), d - sum(a < d for a in axes)


# ------------------------------------------------------------------ broadcast_in_dim


def _broadcast_in_dim_rule(x, *, shape, broadcast_dimensions):
    need(
        len(broadcast_dimensions) == x.ndim,
        "broadcast_in_dim: one dimension per operand axis",
        ShapeError,
    )
    for axis, dim in enumerate(broadcast_dimensions):
        need(
            x.shape[axis] in (1, shape[dim]),
            f"cannot broadcast shape {x.shape} to {tuple(shape)}",
            ShapeError,
        )
    return [ShapedArray(tuple(shape), x.dtype, x.weak)]


def _broadcast_in_dim_impl(xp, x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for axis, dim in enumerate(broadcast_dimensions):
        expanded[dim] = x.shape[axis]
    return xp.broadcast_to(x.reshape(expanded), shape)


broadcast_in_dim_p = primitive("broadcast_in_dim", _broadcast_in_dim_rule, _broadcast_in_dim_impl)
deflinear(broadcast_in_dim_p)


def _broadcast_in_dim_t(cts, x, *, shape, broadcast_dimensions):
    ct = cts[0]
    xs = x.aval.shape
    summed = [d for d in range(len(shape)) if d not in broadcast_dimensions]
    summed += [d for a, d in enumerate(broadcast_dimensions) if xs[a] == 1 and shape[d] != 1]
    if summed:
        ct = reduce_sum(ct, tuple(sorted(summed)))
    return [reshape(ct, xs)]


def _broadcast_in_dim_batch(ax, args, dims, *, shape, broadcast_dimensions):
    x = to_front(args[0], dims[0], ax.size)
    dims = (0,) + tuple(d + 1 for d in broadcast_dimensions)
    return broadcast_in_dim(x, (ax.size,) + tuple(shape), dims), 0


broadcast_in_dim_p.transpose = _broadcast_in_dim_t
broadcast_in_dim_p.batch = _broadcast_in_dim_batch


def broadcast_in_dim(x, shape, broadcast_dimensions):
    return bind(
        broadcast_in_dim_p, x, shape=tuple(shape), broadcast_dimensions=tuple(broadcast_dimensions)
    )


def broadcast_to(x, shape):
    """`x` broadcast to `shape` as NumPy aligns shapes (trailing axes; a no-op if equal)."""
    shape = tuple(shape)
    xs = aval_of(x).shape
    if xs == shape:
        return x
    lead = len(shape) - len(xs)
    return broadcast_in_dim(x, shape, range(lead, len(shape)))


def constant(a: np.ndarray):
    """A constant array: a Literal while tracing, the array itself otherwise."""
    builder = current_builder()
    if builder is None:
        return a
    return Tracer(builder, Literal(a, ShapedArray(a.shape, a.dtype, False)))


def full(shape, value, dtype):
    """An array of `shape` filled with `value` (a strong-typed constant)."""
    scalar = literal(value, np.dtype(dtype), False)
    return broadcast_in_dim(scalar, shape, ()) if shape else scalar


def full_like(x, value):
    a = aval_of(x)
    return full(a.shape, value, a.dtype)


def zeros_like(x):
    return full_like(x, 0)


def broadcast_at(x, d: int, size: int):
    """An unbatched value as the same value for every example, batched at `d`."""
    a = aval_of(x)
    shape = a.shape[:d] + (size,) + a.shape[d:]
    return broadcast_in_dim(x, shape, tuple(i + (i >= d) for i in range(a.ndim)))


def to_front(x, d, size: int):
    """`x` with its batch dim at 0, materializing it if `x` is unbatched."""
    return broadcast_at(x, 0, size) if d is None else move_axis(x, d, 0)


# ------------------------------------------------------------------ reshape


def _reshape_rule(x, *, new_sizes):
    size = math.prod(new_sizes)
    need(
        size == x.size,
        f"cannot reshape {x.shape} ({x.size} elements) to {tuple(new_sizes)}",
        ShapeError,
    )
    return [x.update(shape=new_sizes)]


def _reshape_batch(ax, args, dims, *, new_sizes):
    x = to_front(args[0], dims[0], ax.size)
    return reshape(x, (ax.size,) + tuple(new_sizes)), 0


reshape_p = primitive(
    "reshape", _reshape_rule, lambda xp, x, *, new_sizes: xp.reshape(x, new_sizes)
)
deflinear(reshape_p)
reshape_p.transpose = lambda cts, x, *, new_sizes: [reshape(cts[0], x.aval.shape)]
reshape_p.batch = _reshape_batch


def reshape(x, shape):
    shape = tuple(int(d) for d in shape)
    return x if aval_of(x).shape == shape else bind(reshape_p, x, new_sizes=shape)


def expand_dims(x, axis: int):
    """`x` with a new axis of size 1 at `axis` (negative counts from the end of the result)."""
    shape = list(aval_of(x).shape)
    shape.insert(axis % (len(shape) + 1), 1)
    return reshape(x, shape)


# ------------------------------------------------------------------ transpose


def _transpose_rule(x, *, permutation):
    need(
        sorted(permutation) == list(range(x.ndim)),
        f"transpose: {tuple(permutation)} is not a permutation of the {x.ndim} axes",
        ShapeError,
    )
    return [x.update(shape=[x.shape[p] for p in permutation])]


def _transpose_batch(ax, args, dims, *, permutation):
    d = dims[0]
    return bind(transpose_p, args[0], permutation=(d,) + tuple(shift(p, d) for p in permutation)), 0


transpose_p = primitive(
    "transpose", _transpose_rule, lambda xp, x, *, permutation: xp.transpose(x, permutation)
)
deflinear(transpose_p)
transpose_p.transpose = lambda cts, x, *, permutation: [
    transpose(cts[0], tuple(int(i) for i in np.argsort(permutation)))
]
transpose_p.batch = _transpose_batch


def transpose(x, permutation):
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return bind(transpose_p, x, permutation=permutation)


def move_axis(x, src: int, dst: int):
    if src == dst:
        return x
    perm = [i for i in range(aval_of(x).ndim) if i != src]
    perm.insert(dst, src)
    return bind(transpose_p, x, permutation=tuple(perm))


def matrix_transpose(x):
    """The last two axes swapped."""
    nd = aval_of(x).ndim
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


# ------------------------------------------------------------------ rev


def _rev_batch(ax, args, dims, *, dimensions):
    d = dims[0]
    return bind(rev_p, args[0], dimensions=tuple(shift(a, d) for a in dimensions)), d


rev_p = primitive(
    "rev", lambda x, *, dimensions: [x], lambda xp, x, *, dimensions: xp.flip(x, dimensions)
)
deflinear(rev_p)
rev_p.transpose = lambda cts, x, *, dimensions: [bind(rev_p, cts[0], dimensions=dimensions)]
rev_p.batch = _rev_batch

# ------------------------------------------------------------------ iota


def _iota_impl(xp, *, dtype, shape, dimension):
    view = [1] * len(shape)
    view[dimension] = shape[dimension]
    return xp.broadcast_to(xp.arange(shape[dimension], dtype=dtype).reshape(view), shape)


iota_p = primitive(
    "iota",
    lambda *, dtype, shape, dimension: [ShapedArray(tuple(shape), dtype, False)],
    _iota_impl,
)
defzero(iota_p)
iota_p.batch = lambda ax, args, dims, **params: (bind(iota_p, **params), None)


def iota(dtype, shape, dimension: int = 0):
    return bind(iota_p, dtype=np.dtype(dtype), shape=tuple(shape), dimension=dimension)


# ------------------------------------------------------------------ reduce_sum


def _reduce_sum_t(cts, x, *, axes):
    shape = x.aval.shape
    keep = tuple(1 if i in axes else d for i, d in enumerate(shape))
    return [broadcast_to(reshape(cts[0], keep), shape)]


# NumPy widens small ints (np.sum of i32 is i64); the shape rule promised x's dtype.
reduce_sum_p = primitive(
    "reduce_sum",
    reduce_rule("reduce_sum"),
    lambda xp, x, *, axes: xp.sum(x, axis=tuple(axes), dtype=x.dtype),
)
deflinear(reduce_sum_p)
reduce_sum_p.transpose = _reduce_sum_t
reduce_sum_p.batch = partial(reduce_batch, reduce_sum_p)


def reduce_sum(x, axes):
    return bind(reduce_sum_p, x, axes=tuple(axes))
