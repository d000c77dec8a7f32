"""Reductions, cumulative scans, argmax/argmin, dot_general and sort, each in one block.

The reduce_* group shares its shape and batching rules with reduce_sum (`shapes.py`,
beside broadcast_in_dim, its transpose); the cumulative group likewise shares one rule
set. dot_general contracts and batches named dimensions (matmul, tensordot and einsum
are built on it); sort orders every operand by the first `num_keys`, stably.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .. import dtypes
from ..core import aval_of, bind
from ..dtypes import ShapedArray
from ..errors import ShapeError
from ..registry import need, primitive, undef
from .elementwise import add, add_tangents, compare, convert_element_type, div, mul
from .indexing import gather_p
from .shapes import (
    broadcast_to,
    deflinear,
    defzero,
    full,
    iota,
    reduce_batch,
    reduce_rule,
    reduce_sum,
    reduce_sum_p,
    reshape,
    shift,
    to_front,
    transpose,
)

# ------------------------------------------------------------------ reductions

REDUCE = {"reduce_sum": reduce_sum_p}


def _reduction(name, impl, bool_only=False):
    p = REDUCE[name] = primitive(name, reduce_rule(name, bool_only), impl)
    p.batch = partial(reduce_batch, p)
    return p


def _reduce_extreme_jvp(prim, ps, ts, *, axes):
    (x,), (t,) = ps, ts
    y = bind(prim, x, axes=axes)
    if t is None:
        return y, None
    a = aval_of(x)
    keep = tuple(1 if i in axes else d for i, d in enumerate(a.shape))
    mask = convert_element_type(compare("eq", x, broadcast_to(reshape(y, keep), a.shape)), a.dtype)
    return y, div(reduce_sum(mul(t, mask), axes), reduce_sum(mask, axes))


def _reduce_prod_jvp(ps, ts, *, axes):
    (x,), (t,) = ps, ts
    y = bind(reduce_prod_p, x, axes=axes)
    return y, None if t is None else mul(y, reduce_sum(div(t, x), axes))


reduce_prod_p = _reduction(
    "reduce_prod", lambda xp, x, *, axes: xp.prod(x, axis=tuple(axes), dtype=x.dtype)
)
reduce_prod_p.jvp = _reduce_prod_jvp
for _name, _function in (("reduce_max", "max"), ("reduce_min", "min")):
    _p = _reduction(_name, lambda xp, x, *, axes, f=_function: getattr(xp, f)(x, axis=tuple(axes)))
    _p.jvp = partial(_reduce_extreme_jvp, _p)
for _name, _function in (("reduce_and", "all"), ("reduce_or", "any")):
    _p = _reduction(
        _name, lambda xp, x, *, axes, f=_function: getattr(xp, f)(x, axis=tuple(axes)), True
    )
    defzero(_p)

# ------------------------------------------------------------------ argmax, argmin


def _arg_rule(x, *, axis, index_dtype):
    need(x.shape[axis] > 0, "argmax/argmin of an empty axis", ShapeError)
    shape = tuple(d for i, d in enumerate(x.shape) if i != axis)
    return [ShapedArray(shape, index_dtype, False)]


def _arg_batch(prim, ax, args, dims, *, axis, index_dtype):
    d = dims[0]
    axis = shift(axis, d)
    return bind(prim, args[0], axis=axis, index_dtype=index_dtype), d - (axis < d)


def _arg_extreme(name):
    def impl(xp, x, *, axis, index_dtype):
        return getattr(xp, name)(x, axis=axis).astype(index_dtype)

    p = primitive(name, _arg_rule, impl)
    defzero(p)
    p.batch = partial(_arg_batch, p)
    return p


argmax_p = _arg_extreme("argmax")
argmin_p = _arg_extreme("argmin")

# ------------------------------------------------------------------ cumulative


def _cumulative(name, function):
    def impl(xp, x, *, axis, reverse):
        f = getattr(xp, function) if function != "cummax" else xp.maximum.accumulate
        if reverse:
            return xp.flip(f(xp.flip(x, axis), axis=axis, dtype=x.dtype), axis)
        return f(x, axis=axis, dtype=x.dtype)

    def batch(ax, args, dims, *, axis, reverse):
        d = dims[0]
        return bind(p, args[0], axis=shift(axis, d), reverse=reverse), d

    p = primitive(name, lambda x, *, axis, reverse: [x], impl)
    p.batch = batch
    return p


cumsum_p = _cumulative("cumsum", "cumsum")
deflinear(cumsum_p)
cumsum_p.transpose = lambda cts, x, *, axis, reverse: [
    bind(cumsum_p, cts[0], axis=axis, reverse=not reverse)
]


def _cumprod_jvp(ps, ts, *, axis, reverse):
    (x,), (t,) = ps, ts
    y = bind(cumprod_p, x, axis=axis, reverse=reverse)
    if t is None:
        return y, None
    return y, mul(y, bind(cumsum_p, div(t, x), axis=axis, reverse=reverse))


cumprod_p = _cumulative("cumprod", "cumprod")
cumprod_p.jvp = _cumprod_jvp
cummax_p = _cumulative("cummax", "cummax")

# ------------------------------------------------------------------ dot_general


def _dot_general_rule(x, y, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    need(x.dtype == y.dtype, "dot_general: operand dtypes differ")
    for a, b in zip(lc, rc):
        need(
            x.shape[a] == y.shape[b],
            f"contracting dimensions differ: {x.shape} and {y.shape}",
            ShapeError,
        )
    for a, b in zip(lb, rb):
        need(
            x.shape[a] == y.shape[b],
            f"batch dimensions differ: {x.shape} and {y.shape}",
            ShapeError,
        )
    batch = tuple(x.shape[a] for a in lb)
    xfree = tuple(d for i, d in enumerate(x.shape) if i not in lc and i not in lb)
    yfree = tuple(d for i, d in enumerate(y.shape) if i not in rc and i not in rb)
    dtype = preferred_element_type or x.dtype
    return [ShapedArray(batch + xfree + yfree, dtype, x.weak and y.weak)]


def _dot_general_impl(xp, x, y, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    xfree = [i for i in range(x.ndim) if i not in lc and i not in lb]
    yfree = [i for i in range(y.ndim) if i not in rc and i not in rb]
    xt = xp.transpose(x, list(lb) + xfree + list(lc))
    yt = xp.transpose(y, list(rb) + list(rc) + yfree)
    nb = len(lb)
    bshape = xt.shape[:nb]
    xm = xt.reshape(bshape + (int(np.prod(xt.shape[nb : nb + len(xfree)], dtype=np.int64)), -1))
    ym = yt.reshape(bshape + (int(np.prod(yt.shape[nb : nb + len(rc)], dtype=np.int64)), -1))
    out = xp.matmul(xm, ym)
    out = out.reshape(bshape + xt.shape[nb : nb + len(xfree)] + yt.shape[nb + len(rc) :])
    # NumPy's matmul of bf16 gives f32; the result has the operands' dtype, as in XLA.
    return out.astype(preferred_element_type or x.dtype, copy=False)


def _dot_general_jvp(ps, ts, **params):
    (x, y), (tx, ty) = ps, ts
    out = bind(dot_general_p, x, y, **params)
    a = None if tx is None else bind(dot_general_p, tx, y, **params)
    b = None if ty is None else bind(dot_general_p, x, ty, **params)
    return out, add_tangents(a, b)


def _dot_general_t(cts, x, y, *, dimension_numbers, preferred_element_type=None):
    ct = cts[0]
    (lc, rc), (lb, rb) = dimension_numbers
    xa = x.aval if undef(x) else aval_of(x)
    ya = y.aval if undef(y) else aval_of(y)
    nb = len(lb)
    x_free = [i for i in range(xa.ndim) if i not in lc and i not in lb]
    y_free = [i for i in range(ya.ndim) if i not in rc and i not in rb]
    ct_batch = tuple(range(nb))
    ct_xfree = tuple(range(nb, nb + len(x_free)))
    ct_yfree = tuple(range(nb + len(x_free), nb + len(x_free) + len(y_free)))
    out = [None, None]
    if undef(x):
        numbers = ((ct_yfree, tuple(y_free)), (ct_batch, tuple(rb)))
        r = bind(dot_general_p, ct, y, dimension_numbers=numbers)
        dims = list(lb) + x_free + [a for _, a in sorted(zip(rc, lc))]
        out[0] = transpose(r, tuple(int(i) for i in np.argsort(dims)))
    if undef(y):
        numbers = ((ct_xfree, tuple(x_free)), (ct_batch, tuple(lb)))
        r = bind(dot_general_p, ct, x, dimension_numbers=numbers)
        dims = list(rb) + y_free + [b for _, b in sorted(zip(lc, rc))]
        out[1] = transpose(r, tuple(int(i) for i in np.argsort(dims)))
    return out


def _dot_general_batch(ax, args, dims, *, dimension_numbers, preferred_element_type=None):
    (x, y), (dx, dy) = args, dims
    (lc, rc), (lb, rb) = dimension_numbers
    nx, ny = aval_of(x).ndim, aval_of(y).ndim
    if dx is not None and dy is not None:
        # The batch dims become the first dot_general batch dimension: output dim 0.
        lc, lb = [shift(a, dx) for a in lc], [dx] + [shift(a, dx) for a in lb]
        rc, rb = [shift(a, dy) for a in rc], [dy] + [shift(a, dy) for a in rb]
        out_dim = 0
    elif dx is not None:
        lc, lb = [shift(a, dx) for a in lc], [shift(a, dx) for a in lb]
        free = [i for i in range(nx) if i not in lc and i not in lb]
        out_dim = len(lb) + free.index(dx)
    else:
        rc, rb = [shift(a, dy) for a in rc], [shift(a, dy) for a in rb]
        free = [i for i in range(ny) if i not in rc and i not in rb]
        out_dim = len(rb) + nx - len(lc) - len(lb) + free.index(dy)
    numbers = ((tuple(lc), tuple(rc)), (tuple(lb), tuple(rb)))
    out = bind(
        dot_general_p,
        x,
        y,
        dimension_numbers=numbers,
        preferred_element_type=preferred_element_type,
    )
    return out, out_dim


dot_general_p = primitive("dot_general", _dot_general_rule, _dot_general_impl)
dot_general_p.jvp = _dot_general_jvp
dot_general_p.transpose = _dot_general_t
dot_general_p.batch = _dot_general_batch


def matmul(a, b):
    """Matrix products of two stacks of matrices with the same leading dims."""
    nd = aval_of(a).ndim
    batch = tuple(range(nd - 2))
    return bind(dot_general_p, a, b, dimension_numbers=(((nd - 1,), (nd - 2,)), (batch, batch)))


# ------------------------------------------------------------------ sort


def _sort_rule(*operands, dimension, num_keys):
    shape = operands[0].shape
    for x in operands[1:]:
        need(x.shape == shape, "sort: operands must have one shape", ShapeError)
    return list(operands)


def _sort_impl(xp, *operands, dimension, num_keys):
    keys = operands[:num_keys]
    order = xp.lexsort(tuple(xp.moveaxis(k, dimension, -1) for k in reversed(keys)), axis=-1)
    order = xp.moveaxis(order, -1, dimension)
    return [xp.take_along_axis(x, order, axis=dimension) for x in operands]


def _sort_jvp(ps, ts, *, dimension, num_keys):
    shape = aval_of(ps[0]).shape
    outs = bind(
        sort_p, *ps, iota(dtypes.i32, shape, dimension), dimension=dimension, num_keys=num_keys
    )
    # Each tangent read where its element went: flat positions of the permuted elements.
    strides = [int(np.prod(shape[d + 1 :], dtype=np.int64)) for d in range(len(shape))]
    flat = mul(outs[-1], full((), strides[dimension], dtypes.i32))
    for d in range(len(shape)):
        if d != dimension:
            flat = add(flat, mul(iota(dtypes.i32, shape, d), full((), strides[d], dtypes.i32)))
    size = int(np.prod(shape, dtype=np.int64))

    def permuted(t):
        return bind(gather_p, reshape(t, (size,)), flat, axis=0)

    return outs[:-1], [None if t is None else permuted(t) for t in ts]


def _sort_batch(ax, args, dims, *, dimension, num_keys):
    xs = [to_front(x, d, ax.size) for x, d in zip(args, dims)]
    outs = bind(sort_p, *xs, dimension=dimension + 1, num_keys=num_keys)
    return outs, [0] * len(outs)


# A stable sort of every operand by the first `num_keys` operands, along one dimension.
sort_p = primitive("sort", _sort_rule, _sort_impl, multiple_results=True)
sort_p.jvp = _sort_jvp
sort_p.batch = _sort_batch
