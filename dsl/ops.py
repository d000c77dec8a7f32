"""Array operations with NumPy semantics, composed from primitives.

This is the layer between the language and the primitives: it promotes dtypes (JAX's
rules, weak literals), broadcasts shapes, normalizes axes and turns NumPy-style indexing
into `slice`/`reshape`/`rev`/`gather`/`scatter`. Built-ins (`builtins.py`) and the
evaluator's operators call these; none of it adds a primitive.
"""

from __future__ import annotations

import math

import numpy as np

from . import dtypes, primitives
from .backend import is_concrete
from .core import Tracer, aval_of, bind, describe, literal
from .errors import ShapeError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .ir import Literal
from .limits import how_to_raise, limits
from .primitives import elementwise
from .primitives.shapes import constant


def is_array(x) -> bool:
    return isinstance(x, (Tracer, np.generic)) or is_concrete(x)


def is_scalar(x) -> bool:
    """A static Python number (a weak literal)."""
    return type(x) in (int, float, bool)


def as_array(x):
    """Any number or array as something `bind` takes (0-d array for Python scalars)."""
    if type(x) is Tracer or is_concrete(x):
        return x
    if is_scalar(x) or isinstance(x, np.generic):
        a = aval_of(x)
        return literal(x, a.dtype, a.weak)
    if isinstance(x, (tuple, list)):
        return array(x)
    raise JxTypeError(f"expected an array, got {describe(x)}")


def shape(x) -> tuple:
    return aval_of(x).shape if not isinstance(x, (tuple, list)) else np.shape(x)


def convert(x, dtype, weak: bool = False):
    dtype = np.dtype(dtype)
    if is_scalar(x):
        return literal(x, dtype, weak)
    x = as_array(x)
    a = aval_of(x)
    if a.dtype == dtype and a.weak == weak:
        return x
    return elementwise.convert_element_type(x, dtype, weak)


def _to(x, dtype, weak):
    if is_scalar(x):
        if isinstance(x, float) and dtypes.is_int(dtype):
            raise JxTypeError(f"cannot use the float {x} as {dtypes.short(dtype)}")
        return literal(x, dtype, weak)
    a = aval_of(x)
    if a.dtype == dtype:
        return as_array(x)
    return elementwise.convert_element_type(as_array(x), dtype, weak)


def broadcast_shapes(*shapes) -> tuple:
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(ndim):
        dims = {s[i - ndim + len(s)] for s in shapes if i - ndim + len(s) >= 0} - {1}
        if len(dims) > 1:
            text = " ".join(str(tuple(s)) for s in shapes)
            raise ShapeError(f"shapes {text} cannot be broadcast together")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def broadcast_to(x, shape_):
    x = as_array(x)
    shape_ = tuple(int(d) for d in shape_)
    xs = aval_of(x).shape
    if xs == shape_:
        return x
    if len(xs) > len(shape_):
        raise ShapeError(f"cannot broadcast shape {xs} to {shape_}")
    lead = len(shape_) - len(xs)
    for a, b in zip(xs, shape_[lead:]):
        if a not in (1, b):
            raise ShapeError(f"cannot broadcast shape {xs} to {shape_}")
    dims = tuple(range(lead, len(shape_)))
    return bind(primitives.broadcast_in_dim_p, x, shape=shape_, broadcast_dimensions=dims)


def _operands(*xs, dtype=None):
    """Promote and broadcast operands to one dtype and shape (lists and tuples of numbers
    and arrays are arrays here)."""
    xs = [as_array(x) if isinstance(x, (tuple, list)) else x for x in xs]
    avals = [aval_of(x) for x in xs]
    if dtype is None:
        dtype, weak = dtypes.promote_many(avals)
    else:
        weak = False
    shape_ = broadcast_shapes(*(a.shape for a in avals))
    return [broadcast_to(_to(x, dtype, weak), shape_) for x in xs], dtype


#: On bools, + and * are the logical or and and (NumPy and JAX agree).
_BOOL_BINARY = {"add": "or", "mul": "and"}


def binary(name: str, x, y):
    (x, y), dtype = _operands(x, y)
    if dtypes.is_bool(dtype):
        name = _BOOL_BINARY.get(name, name)
    return elementwise.binary(name, x, y)


def compare(name: str, x, y):
    (x, y), _ = _operands(x, y)
    return bind(primitives.COMPARE[name], x, y)


def inexact(x):
    """x as a float array: 64-bit ints and weak (exact) ints become f64, narrower ints and
    bools jx's default f32."""
    a = aval_of(x)
    if dtypes.is_float(a.dtype):
        return as_array(x)
    return _to(x, dtypes.f64 if a.weak else dtypes.float_for(a.dtype), a.weak)


def unary(name: str, x):
    if name in primitives.FLOAT_UNARY:
        x = inexact(x)
    return bind(primitives.UNARY[name], as_array(x))


def true_divide(x, y):
    (x, y), dtype = _operands(x, y)
    if not dtypes.is_float(dtype):
        x, y = inexact(x), inexact(y)
    return bind(primitives.BINARY["div"], x, y)


def power(x, y):
    if dtypes.is_bool(aval_of(x).dtype) and dtypes.kind_rank(aval_of(y).dtype) < 2:
        x = convert(x, dtypes.i32)  # bools raised to ints count in i32, as in JAX
    if is_scalar(y) and isinstance(y, int) and not isinstance(y, bool) and 0 <= y <= 4:
        # Small integer powers by multiplication: exact, and simpler derivatives.
        x = as_array(x)
        if y == 0:
            return full_like(x, 1)
        out = x
        for _ in range(y - 1):
            out = binary("mul", out, x)
        return out
    return binary("pow", x, y)


def where(c, x, y):
    c = as_array(c)
    if aval_of(c).dtype != dtypes.bool_:
        c = compare("ne", c, 0)
    (x, y), _ = _operands(x, y)
    shape_ = broadcast_shapes(aval_of(c).shape, aval_of(x).shape)
    return bind(
        primitives.select_p,
        broadcast_to(c, shape_),
        broadcast_to(x, shape_),
        broadcast_to(y, shape_),
    )


def logical_not(x):
    x = as_array(x)
    if aval_of(x).dtype != dtypes.bool_:
        x = compare("ne", x, 0)
    return bind(primitives.UNARY["not"], x)


def logical(name: str, x, y):
    x, y = as_array(x), as_array(y)
    if aval_of(x).dtype != dtypes.bool_:
        x = compare("ne", x, 0)
    if aval_of(y).dtype != dtypes.bool_:
        y = compare("ne", y, 0)
    return binary(name, x, y)


# ------------------------------------------------------------------ creation


def full(shape_, value, dtype=None):
    shape_ = normalize_shape(shape_)
    if dtype is None:
        dtype = dtypes.alone(aval_of(value))
    # An explicit dtype converts as NumPy does: full((3,), 2.7, dtype=i32) is all 2s.
    return broadcast_to(convert(value, dtype), shape_)


def full_like(x, value, dtype=None):
    return full(aval_of(x).shape, value, dtype or aval_of(x).dtype)


def iota(dtype, shape_, dimension=0):
    return bind(primitives.iota_p, dtype=np.dtype(dtype), shape=tuple(shape_), dimension=dimension)


def static_ints(v):
    """Ints written as array literals (`zeros([2, 3])`, `axes=([1], [0])`) as (nested) tuples
    of ints; anything else unchanged."""
    if isinstance(v, (tuple, list)):
        return tuple(static_ints(i) for i in v)
    value = v.var.value if isinstance(v, Tracer) and type(v.var) is Literal else v
    if isinstance(value, np.ndarray) and dtypes.is_int(value.dtype):
        return _nested_tuple(value.tolist())
    return v


def _nested_tuple(v):
    return tuple(_nested_tuple(i) for i in v) if isinstance(v, list) else v


def normalize_shape(shape_) -> tuple:
    shape_ = static_ints(shape_)
    if isinstance(shape_, (int, np.integer)) and not isinstance(shape_, bool):
        shape_ = (shape_,)
    if not isinstance(shape_, (tuple, list)) or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in shape_
    ):
        raise JxTypeError(f"a shape must be a tuple of static ints, got {describe(shape_)}")
    if any(d < 0 for d in shape_):
        raise JxValueError(f"negative dimension in shape {tuple(shape_)}")
    return tuple(int(d) for d in shape_)


def list_value(items: list):
    """A list literal's value: an array when its items are numbers and arrays of one shape
    (as `np.array` makes it), else the list itself, a tree node like JAX's lists, which
    becomes an array where one is expected (`as_array`)."""
    if items and all(is_array(v) or is_scalar(v) or isinstance(v, list) for v in items):
        try:
            return array(items)
        except (ShapeError, JxTypeError):  # ragged, or lists holding trees
            return items
    return items


def array(value, dtype=None):
    """An array from a (nested) tuple/list of numbers and arrays; ragged is a ShapeError."""
    if is_array(value) or is_scalar(value):
        x = as_array(value)
        if is_scalar(x):  # a weak number computed at once stays a number; array() makes one
            x = np.asarray(x, dtypes.alone(aval_of(x)))
        return x if dtype is None else convert(x, dtype)
    if not isinstance(value, (tuple, list)):
        raise JxTypeError(f"cannot make an array from {describe(value)}")
    if len(value) == 0:
        return np.zeros((0,), dtype or dtypes.f32)
    if (
        all(is_scalar(v) for v in value)
        and not any(isinstance(v, bool) for v in value[1:])
        and (not isinstance(value[0], bool))
    ):
        dtype_, weak = dtypes.promote_many([aval_of(v) for v in value])
        alone = dtypes.alone(dtypes.ShapedArray((), dtype_, weak))
        target = np.dtype(dtype) if dtype is not None else alone
        if target == dtypes.i32 and any(not -(2**31) <= v < 2**31 for v in value):
            target = dtypes.i64  # as NumPy: integers too big for i32 make an i64 array
        try:
            return constant(np.asarray(value, dtype=target))
        except OverflowError:
            too_big = next(v for v in value if isinstance(v, int) and not -(2**63) <= v < 2**63)
            raise JxTypeError(
                f"the literal {too_big} does not fit in {dtypes.short(target)}"
            ) from None
    items = [array(v) for v in value]
    shapes = {aval_of(i).shape for i in items}
    if len(shapes) > 1:
        raise ShapeError(f"ragged array literal: elements of shapes {sorted(shapes)}")
    out = stack(items, 0)
    return out if dtype is None else convert(out, dtype)


# ------------------------------------------------------------------ shapes


def normalize_axis(axis, ndim: int) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise JxTypeError(f"an axis must be a static int, got {describe(axis)}")
    if not -ndim <= axis < ndim:
        raise JxValueError(f"axis {axis} is out of bounds for an array of {ndim} dimensions")
    return int(axis) % ndim


def normalize_axes(axis, ndim: int) -> tuple:
    axis = static_ints(axis)
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(normalize_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise JxValueError(f"repeated axis in {tuple(axis)}")
        return axes
    return (normalize_axis(axis, ndim),)


def reshape(x, new_shape):
    x = as_array(x)
    a = aval_of(x)
    new_shape = list(normalize_shape_with_minus_one(new_shape))
    if new_shape.count(-1) > 1:
        raise JxValueError("can only specify one unknown dimension (-1)")
    if -1 in new_shape:
        known = math.prod(d for d in new_shape if d != -1)
        if known == 0 or a.size % known:
            raise ShapeError(f"cannot reshape {a.shape} to {tuple(new_shape)}")
        new_shape[new_shape.index(-1)] = a.size // known
    if tuple(new_shape) == a.shape:
        return x
    return bind(primitives.reshape_p, x, new_sizes=tuple(new_shape))


def normalize_shape_with_minus_one(s) -> tuple:
    s = static_ints(s)
    if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
        return (int(s),)
    if not isinstance(s, (tuple, list)) or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in s
    ):
        raise JxTypeError(f"a shape must be a tuple of static ints, got {describe(s)}")
    return tuple(int(d) for d in s)


def transpose(x, axes=None):
    x = as_array(x)
    nd = aval_of(x).ndim
    axes = static_ints(axes)
    if isinstance(axes, int):
        axes = (axes,)
    perm = tuple(reversed(range(nd))) if axes is None else normalize_axes(tuple(axes), nd)
    if len(perm) != nd:
        raise JxValueError(f"transpose: axes {axes} do not match {nd} dimensions")
    if perm == tuple(range(nd)):
        return x
    return bind(primitives.transpose_p, x, permutation=perm)


def expand_dims(x, axis):
    x = as_array(x)
    a = aval_of(x)
    axis = static_ints(axis)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    nd = a.ndim + len(axes)
    axes = sorted(normalize_axes(tuple(axes), nd))
    shape_ = list(a.shape)
    for ax in axes:
        shape_.insert(ax, 1)
    return reshape(x, tuple(shape_))


def squeeze(x, axis=None):
    x = as_array(x)
    a = aval_of(x)
    if axis is None:
        axes = [i for i, d in enumerate(a.shape) if d == 1]
    else:
        axes = normalize_axes(axis, a.ndim)
        for ax in axes:
            if a.shape[ax] != 1:
                raise JxValueError(f"cannot squeeze axis {ax} of size {a.shape[ax]}")
    return reshape(x, tuple(d for i, d in enumerate(a.shape) if i not in axes))


def concatenate(xs, axis=0):
    xs = [as_array(x) for x in xs]
    if not xs:
        raise JxValueError("need at least one array to concatenate")
    # Weak numbers take the arrays' dtype; all weak, the dtype they have alone (f32).
    dtype, weak = dtypes.promote_many([aval_of(x) for x in xs])
    if weak:
        dtype = dtypes.alone(dtypes.ShapedArray((), dtype, True))
    xs = [convert(x, dtype) for x in xs]
    nd = aval_of(xs[0]).ndim
    if nd == 0:
        raise JxValueError("zero-dimensional arrays cannot be concatenated")
    if any(aval_of(x).ndim != nd for x in xs):
        raise ShapeError(
            "all arrays to concatenate must have the same number of dimensions, "
            f"got shapes {[aval_of(x).shape for x in xs]}"
        )
    if len(xs) == 1:
        return xs[0]
    return bind(primitives.concatenate_p, *xs, dimension=normalize_axis(axis, nd))


def stack(xs, axis=0):
    xs = [as_array(x) for x in xs]
    if not xs:
        raise JxValueError("need at least one array to stack")
    shapes = {aval_of(x).shape for x in xs}
    if len(shapes) > 1:
        raise ShapeError(f"all arrays to stack must have the same shape, got {sorted(shapes)}")
    nd = aval_of(xs[0]).ndim + 1
    axis = normalize_axis(axis, nd)
    return concatenate([expand_dims(x, axis) for x in xs], axis)


def flip(x, axis=None):
    x = as_array(x)
    axes = normalize_axes(axis, aval_of(x).ndim)
    return bind(primitives.rev_p, x, dimensions=axes) if axes else x


def static_slice(x, starts, limits, strides):
    return bind(
        primitives.slice_p,
        as_array(x),
        start_indices=tuple(starts),
        limit_indices=tuple(limits),
        strides=tuple(strides),
    )


# ------------------------------------------------------------------ reductions


#: Floats that sums, products, means and variances accumulate in f32, as JAX does.
_LOW_FLOATS = (dtypes.f16, dtypes.bf16)


def check_int_width(op: str, x, y) -> None:
    """Refuse a static integer wider than `limits.int_bits`: the value `x` itself (op "="),
    or, before computing it, the result of `x ** y` or `x << y` (Python would compute
    `2 ** (10**10)` for ever)."""
    if type(x) is not int:
        return
    bits = x.bit_length()
    if type(y) is int and y > 0:  # lower bounds on the result's width
        if op == "**":
            bits = (bits - 1) * y
        elif op == "<<" and x:
            bits += y
    if bits > limits.int_bits:
        raise JxValueError(
            f"a static integer with more than {limits.int_bits} bits; {how_to_raise('int_bits')}"
        )


def static_flag(value, name: str) -> bool:
    """A static True/False argument (an array there has no single truth value)."""
    if not isinstance(value, (bool, int, np.bool_)):
        raise JxTypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def reduce(name: str, x, axis=None, keepdims=False, dtype=None):
    keepdims = static_flag(keepdims, "keepdims")
    x = as_array(x)
    a = aval_of(x)
    axes = normalize_axes(axis, a.ndim)
    if name in ("reduce_sum", "reduce_prod"):
        if dtype is not None:
            x = convert(x, dtype)
        elif dtypes.is_bool(a.dtype) or (dtypes.is_int(a.dtype) and a.dtype.itemsize < 4):
            x = convert(x, dtypes.u32 if a.dtype.kind == "u" else dtypes.i32)
        elif a.dtype in _LOW_FLOATS:
            return convert(reduce(name, convert(x, dtypes.f32), axis, keepdims), a.dtype)
    elif name in ("reduce_max", "reduce_min"):
        for ax in axes:
            if a.shape[ax] == 0:
                raise JxValueError("zero-size array to reduction operation which has no identity")
    elif name in ("reduce_and", "reduce_or") and a.dtype != dtypes.bool_:
        x = compare("ne", x, 0)
    out = bind(primitives.REDUCE[name], x, axes=axes)
    if keepdims:
        out = reshape(out, tuple(1 if i in axes else d for i, d in enumerate(a.shape)))
    return out


def mean(x, axis=None, keepdims=False, dtype=None):
    if dtype is not None and not dtypes.is_float(dtype):
        # An int or bool dtype: the mean in the float of that width, then converted.
        return convert(mean(convert(x, dtypes.float_for(dtype)), axis, keepdims), dtype)
    x = inexact(x) if dtype is None else convert(x, dtype)
    a = aval_of(x)
    if a.dtype in _LOW_FLOATS:
        return convert(mean(convert(x, dtypes.f32), axis, keepdims), a.dtype)
    axes = normalize_axes(axis, a.ndim)
    n = math.prod(a.shape[i] for i in axes)
    total = reduce("reduce_sum", x, axis, keepdims)
    return true_divide(total, float(n) if n else float("nan"))


def var(x, axis=None, keepdims=False, ddof=0):
    x = inexact(x)
    a = aval_of(x)
    if a.dtype in _LOW_FLOATS:
        return convert(var(convert(x, dtypes.f32), axis, keepdims, ddof), a.dtype)
    axes = normalize_axes(axis, a.ndim)
    n = math.prod(a.shape[i] for i in axes)
    centered = binary("sub", x, mean(x, axis, keepdims=True))
    sq = binary("mul", centered, centered)
    return true_divide(reduce("reduce_sum", sq, axis, keepdims), float(max(n - ddof, 0)))


def index_dtype(dtype) -> np.dtype:
    """The dtype of indices into an array of `dtype`: i64 for 64-bit ints (JAX's default
    int with x64), jx's default i32 otherwise."""
    return dtypes.i64 if dtypes.is_int(dtype) and dtype.itemsize == 8 else dtypes.i32


def arg_reduce(name: str, x, axis=None, keepdims=False):
    keepdims = static_flag(keepdims, "keepdims")
    x = as_array(x)
    a = aval_of(x)
    if axis is None:
        flat = reshape(x, (-1,))
        out = bind(
            primitives.argmax_p if name == "argmax" else primitives.argmin_p,
            flat,
            axis=0,
            index_dtype=index_dtype(a.dtype),
        )
        return reshape(out, (1,) * a.ndim) if keepdims else out
    ax = normalize_axis(axis, a.ndim)
    out = bind(
        primitives.argmax_p if name == "argmax" else primitives.argmin_p,
        x,
        axis=ax,
        index_dtype=index_dtype(a.dtype),
    )
    return expand_dims(out, ax) if keepdims else out


def cumulative(name: str, x, axis=None, dtype=None):
    x = as_array(x)
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    a = aval_of(x)
    if dtype is not None:
        x = convert(x, dtype)
    elif dtypes.is_bool(a.dtype):
        x = convert(x, dtypes.i32)  # ints keep their dtype, as in JAX; bools count in i32
    prim = primitives.cumsum_p if name == "cumsum" else primitives.cumprod_p
    return bind(prim, x, axis=normalize_axis(axis, a.ndim), reverse=False)


# ------------------------------------------------------------------ linear algebra


def dot_general(x, y, contracting, batch=((), ())):
    (x, y), _ = _operands_no_broadcast(x, y)
    return bind(primitives.dot_general_p, x, y, dimension_numbers=(contracting, batch))


def _operands_no_broadcast(x, y):
    ax, ay = aval_of(x), aval_of(y)
    dtype, weak = dtypes.promote(ax, ay)
    if dtypes.is_bool(dtype):
        dtype, weak = dtypes.i32, False
    return [_to(x, dtype, weak), _to(y, dtype, weak)], dtype


def matmul(x, y):
    x, y = as_array(x), as_array(y)
    sx, sy = aval_of(x).shape, aval_of(y).shape
    if not sx or not sy:
        raise JxValueError("matmul: operands must be at least 1-d (use * for scalars)")
    if len(sx) == 1 and len(sy) == 1:
        _check_contract(sx, sy, 0, 0)
        return dot_general(x, y, ((0,), (0,)))
    if len(sy) == 1:
        _check_contract(sx, sy, len(sx) - 1, 0)
        return dot_general(x, y, ((len(sx) - 1,), (0,)))
    if len(sx) == 1:
        _check_contract(sx, sy, 0, len(sy) - 2)
        out = dot_general(x, y, ((0,), (len(sy) - 2,)))
        # dot_general puts y's batch dims first and its last dim after: already right.
        return out
    batch = broadcast_shapes(sx[:-2], sy[:-2])
    _check_contract(sx, sy, len(sx) - 1, len(sy) - 2)
    x = broadcast_to(x, batch + sx[-2:])
    y = broadcast_to(y, batch + sy[-2:])
    nb = len(batch)
    bd = tuple(range(nb))
    return dot_general(x, y, ((nb + 1,), (nb,)), (bd, bd))


def _check_contract(sx, sy, ax, ay, what="matmul"):
    if sx[ax] != sy[ay]:
        raise ShapeError(
            f"{what}: shapes {sx} and {sy} do not align "
            f"(dimension {ax} of the first is {sx[ax]}, dimension {ay} "
            f"of the second is {sy[ay]})"
        )


def dot(x, y):
    x, y = as_array(x), as_array(y)
    sx, sy = aval_of(x).shape, aval_of(y).shape
    if not sx or not sy:
        return binary("mul", x, y)
    if len(sy) <= 2:
        return matmul(x, y)
    # NumPy's dot over N-d: contract x's last axis with y's second-to-last.
    _check_contract(sx, sy, len(sx) - 1, len(sy) - 2, "dot")
    return dot_general(x, y, ((len(sx) - 1,), (len(sy) - 2,)))


def tensordot(x, y, axes=2):
    x, y = as_array(x), as_array(y)
    sx, sy = aval_of(x).shape, aval_of(y).shape
    axes = static_ints(axes)
    if isinstance(axes, int):
        if not 0 <= axes <= min(len(sx), len(sy)):
            raise JxValueError(f"tensordot: axes={axes} does not fit shapes {sx} and {sy}")
        xa = tuple(range(len(sx) - axes, len(sx)))
        ya = tuple(range(axes))
    else:
        if not isinstance(axes, tuple) or len(axes) != 2:
            raise JxValueError("tensordot: axes must be an int or a pair (x_axes, y_axes)")
        xa = normalize_axes(axes[0], len(sx))
        ya = normalize_axes(axes[1], len(sy))
        if len(xa) != len(ya):
            raise JxValueError(f"tensordot: axes {axes} pair {len(xa)} axes with {len(ya)}")
    for a, b in zip(xa, ya):
        _check_contract(sx, sy, a, b, "tensordot")
    return dot_general(x, y, (tuple(xa), tuple(ya)))


def outer(x, y):
    x = reshape(as_array(x), (-1,))
    y = reshape(as_array(y), (-1,))
    return binary("mul", reshape(x, (-1, 1)), reshape(y, (1, -1)))
