"""The built-ins that reduce along axes: sums, products, extrema and the logical
reductions, statistics (`mean`, `var`, `std`), arg-reductions, cumulative sums and
products, and sorting (`sort`, `argsort`, both stable); and the products of linear
algebra (`dot`, `matmul`, `vdot`, `inner`, `outer`, `tensordot`, `einsum`, `trace`).
"""

from __future__ import annotations

from . import dtypes, ops
from . import primitives as prims
from .builtins import BUILTINS, builtin, static_flag, to_dtype
from .builtins_arrays import diagonal
from .core import aval_of, bind, describe
from .einsum import einsum as _einsum
from .errors import ShapeError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .values import Builtin


def _masked(a, where, identity):
    """a with the elements outside `where` replaced by the reduction's identity."""
    if where is None:
        return a
    a = ops.as_array(a)
    return ops.where(where, a, ops.full((), identity, aval_of(a).dtype))


def _with_initial(out, name, initial):
    return out if initial is None else ops.binary(_COMBINE[name], out, initial)


_COMBINE = {"reduce_sum": "add", "reduce_prod": "mul", "reduce_max": "max", "reduce_min": "min"}


def _small_int(a):
    d = aval_of(ops.as_array(a)).dtype
    return dtypes.is_bool(d) or (dtypes.is_int(d) and d.itemsize < 4)


def _summing(name, identity):
    def fn(
        a, axis=None, dtype=None, keepdims=False, initial=None, where=None, promote_integers=True
    ):
        if isinstance(a, tuple) and not all(ops.is_array(v) or ops.is_scalar(v) for v in a):
            raise JxTypeError(f"{fn.__name__} of {describe(a)}: use tree_map or index the tuple")
        dtype = to_dtype(dtype)
        keep_small = not static_flag(promote_integers, "promote_integers")
        if dtype is None and keep_small and _small_int(a):
            dtype = aval_of(ops.as_array(a)).dtype  # promote_integers=False keeps u8 as u8
        out = ops.reduce(name, _masked(a, where, identity), axis, keepdims, dtype)
        return _with_initial(out, name, initial)

    return fn


sum_ = _summing("reduce_sum", 0)
sum_.__name__ = "sum"
prod = _summing("reduce_prod", 1)
prod.__name__ = "prod"
BUILTINS["sum"] = Builtin("sum", sum_)
BUILTINS["prod"] = Builtin("prod", prod)


def _extreme(name, prim):
    def fn(a, axis=None, keepdims=False, initial=None, where=None):
        if where is not None:
            if initial is None:
                raise JxValueError(
                    f"{name}(where=...) needs initial= (the value of an empty selection)"
                )
            a = ops.where(where, a, initial)
        return _with_initial(ops.reduce(prim, a, axis, keepdims), prim, initial)

    fn.__name__ = name
    BUILTINS[name] = Builtin(name, fn)


_extreme("max", "reduce_max")
_extreme("min", "reduce_min")
_extreme("amax", "reduce_max")
_extreme("amin", "reduce_min")


def _logical(name, prim, identity):
    def fn(a, axis=None, keepdims=False, where=None):
        return ops.reduce(prim, _masked(ops.compare("ne", a, 0), where, identity), axis, keepdims)

    fn.__name__ = name
    BUILTINS[name] = Builtin(name, fn)


_logical("all", "reduce_and", True)
_logical("any", "reduce_or", False)


@builtin()
def mean(a, axis=None, dtype=None, keepdims=False, where=None):
    if where is None:
        return ops.mean(a, axis, keepdims, to_dtype(dtype))
    x = ops.inexact(a) if dtype is None else ops.convert(a, to_dtype(dtype))
    mask = ops.broadcast_to(where, ops.shape(x))
    total = ops.reduce("reduce_sum", _masked(x, mask, 0), axis, keepdims)
    count = ops.reduce("reduce_sum", mask, axis, keepdims)
    return ops.true_divide(total, ops.convert(count, aval_of(total).dtype))


@builtin()
def var(a, axis=None, dtype=None, ddof=0, keepdims=False, where=None):
    x = ops.inexact(a) if dtype is None else ops.convert(a, to_dtype(dtype))
    if where is None:
        return ops.var(x, axis, keepdims, ddof)
    mask = ops.broadcast_to(where, ops.shape(x))
    centered = ops.binary("sub", x, mean(x, axis, keepdims=True, where=mask))
    sq = _masked(ops.binary("mul", centered, centered), mask, 0)
    count = ops.convert(ops.reduce("reduce_sum", mask, axis, keepdims), aval_of(sq).dtype)
    total = ops.reduce("reduce_sum", sq, axis, keepdims)
    return ops.true_divide(total, ops.binary("max", ops.binary("sub", count, ddof), 0))


@builtin()
def std(a, axis=None, dtype=None, ddof=0, keepdims=False, where=None):
    return ops.unary("sqrt", var(a, axis, dtype, ddof, keepdims, where))


@builtin()
def argmax(a, axis=None, keepdims=False):
    return ops.arg_reduce("argmax", a, axis, keepdims)


@builtin()
def argmin(a, axis=None, keepdims=False):
    return ops.arg_reduce("argmin", a, axis, keepdims)


@builtin()
def cumsum(a, axis=None, dtype=None):
    return ops.cumulative("cumsum", a, axis, to_dtype(dtype))


@builtin()
def cumprod(a, axis=None, dtype=None):
    return ops.cumulative("cumprod", a, axis, to_dtype(dtype))


@builtin()
def dot(a, b):
    return ops.dot(a, b)


@builtin()
def matmul(a, b):
    return ops.matmul(a, b)


@builtin()
def vdot(a, b):
    return ops.dot(ops.reshape(a, (-1,)), ops.reshape(b, (-1,)))


@builtin()
def inner(a, b):
    a, b = ops.as_array(a), ops.as_array(b)
    if not aval_of(a).shape or not aval_of(b).shape:
        return ops.binary("mul", a, b)
    return ops.tensordot(a, b, ((-1,), (-1,)))


@builtin()
def outer(a, b):
    return ops.outer(a, b)


@builtin()
def tensordot(a, b, axes=2):
    return ops.tensordot(a, b, axes)


@builtin()
def einsum(subscripts, *operands):
    return _einsum(subscripts, *operands)


@builtin()
def trace(a, offset=0, axis1=0, axis2=1, dtype=None):
    """The sum along the diagonal of axes `axis1` and `axis2` (0 and 1, NumPy's)."""
    a = ops.as_array(a)
    if aval_of(a).ndim < 2:
        raise ShapeError(f"trace needs an array of two or more dimensions, got {aval_of(a)}")
    if type(offset) is not int:
        raise JxTypeError(f"trace(): offset must be a static int, got {describe(offset)}")
    return sum_(diagonal(a, offset, axis1, axis2), -1, dtype)


def _sorted(operands, axis, num_keys=1):
    if axis is None:
        operands = [ops.reshape(o, (-1,)) for o in operands]
        axis = 0
    nd = aval_of(ops.as_array(operands[0])).ndim
    return bind(
        prims.sort_p,
        *[ops.as_array(o) for o in operands],
        dimension=ops.normalize_axis(axis, nd),
        num_keys=num_keys,
    )


@builtin()
def sort(a, axis=-1, kind=None, order=None, stable=True, descending=False):
    """Always stable; `descending=True` sorts largest first (NaN first)."""
    if axis is None:
        a, axis = ops.reshape(a, (-1,)), 0
    out = _sorted([a], axis)[0]
    if static_flag(descending, "sort: descending"):
        return ops.flip(out, ops.normalize_axis(axis, aval_of(out).ndim))
    return out


@builtin()
def argsort(a, axis=-1, kind=None, order=None, stable=True, descending=False):
    """Indices that sort `a`; stable, as jnp.argsort (equal elements keep their order, also
    with `descending=True`)."""
    a = ops.as_array(a)
    if axis is None:
        a = ops.reshape(a, (-1,))
        axis = 0
    a_ = aval_of(a)
    ax = ops.normalize_axis(axis, a_.ndim)
    if static_flag(descending, "argsort: descending"):
        # Stable ascending order of the reversed array, read backwards, in original positions.
        order = argsort(ops.flip(a, ax), ax)
        return ops.binary("sub", a_.shape[ax] - 1, ops.flip(order, ax))
    return _sorted([a, ops.iota(ops.index_dtype(a_.dtype), a_.shape, ax)], ax)[1]
