"""The built-ins that reduce along axes: sums, products, extrema and the logical
reductions, statistics (`mean`, `var`, `std`), arg-reductions, cumulative sums and
products, and sorting (`sort`, `argsort`, both stable); and the products of linear
algebra (`dot`, `matmul`, `vdot`, `inner`, `outer`, `tensordot`, `einsum`, `trace`).
"""

from __future__ import annotations

from . import dtypes, ops
from . import primitives as prims
from .builtins import BUILTINS, builtin, to_dtype
from .builtins_creation import eye
from .core import aval_of, bind, describe
from .einsum import einsum as _einsum
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .values import Builtin


def _reducer(name, prim):
    def fn(a, axis=None, keepdims=False):
        return ops.reduce(prim, a, axis, keepdims)

    fn.__name__ = name
    BUILTINS[name] = Builtin(name, fn)
    return fn


@builtin("sum")
def sum_(a, axis=None, dtype=None, keepdims=False):
    if isinstance(a, tuple) and not all(ops.is_array(v) or ops.is_scalar(v) for v in a):
        raise JxTypeError(f"sum of {describe(a)}: use tree_map or index the tuple")
    return ops.reduce("reduce_sum", a, axis, keepdims, to_dtype(dtype))


@builtin()
def prod(a, axis=None, dtype=None, keepdims=False):
    return ops.reduce("reduce_prod", a, axis, keepdims, to_dtype(dtype))


_reducer("max", "reduce_max")
_reducer("min", "reduce_min")
_reducer("amax", "reduce_max")
_reducer("amin", "reduce_min")
_reducer("all", "reduce_and")
_reducer("any", "reduce_or")


@builtin()
def mean(a, axis=None, dtype=None, keepdims=False):
    return ops.mean(a, axis, keepdims, to_dtype(dtype))


@builtin()
def var(a, axis=None, ddof=0, keepdims=False):
    return ops.var(a, axis, keepdims, ddof)


@builtin()
def std(a, axis=None, ddof=0, keepdims=False):
    return ops.unary("sqrt", ops.var(a, axis, keepdims, ddof))


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
def trace(a, offset=0):
    a = ops.as_array(a)
    if aval_of(a).ndim < 2:
        raise JxValueError(f"trace() needs an array of at least 2 dimensions, got {describe(a)}")
    if type(offset) is not int:
        raise JxTypeError(f"trace(): offset must be a static int, got {describe(offset)}")
    n, m = aval_of(a).shape[-2:]
    return sum_(ops.binary("mul", a, eye(n, m, offset, aval_of(a).dtype)), axis=(-2, -1))


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
def sort(a, axis=-1):
    return _sorted([a], axis)[0]


@builtin()
def argsort(a, axis=-1):
    """Indices that sort `a`; stable, as jnp.argsort."""
    a = ops.as_array(a)
    if axis is None:
        a = ops.reshape(a, (-1,))
        axis = 0
    a_ = aval_of(a)
    ax = ops.normalize_axis(axis, a_.ndim)
    return _sorted([a, ops.iota(dtypes.i32, a_.shape, ax)], ax)[1]
