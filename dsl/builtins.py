"""The core built-ins of LANGUAGE.md section 5, with NumPy's names, arguments and semantics.

Each is a Python function over `ops` (compositions of primitives, never new primitives),
collected in `BUILTINS`. Array attributes and methods (`x.shape`, `x.sum(...)`) map onto
the same functions. Transformations register themselves here too (`jit` now).
"""

from __future__ import annotations

import math
from collections.abc import Sized

import numpy as np

from . import dtypes, ops
from .core import Tracer, aval_of, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .indexing import AtHelper, unpack
from .prng import Key
from .values import Builtin

BUILTINS: dict[str, object] = {}


def builtin(name=None, effect=False):
    def register(fn):
        BUILTINS[name or fn.__name__.rstrip("_")] = Builtin(
            name or fn.__name__.rstrip("_"), fn, effect
        )
        return fn

    return register


def to_dtype(d, allow_none=True):
    if d is None and allow_none:
        return None
    if isinstance(d, np.dtype):
        return d
    if isinstance(d, str) and d in dtypes.BY_NAME:
        return dtypes.BY_NAME[d]
    raise JxTypeError(f"not a dtype: {d!r}; use one of bool, i32, i64, u32, f16, bf16, f32, f64")


for _name, _dt in dtypes.BY_NAME.items():
    BUILTINS[_name] = _dt
BUILTINS["None"] = None
BUILTINS["pi"] = math.pi
BUILTINS["e"] = math.e
BUILTINS["inf"] = math.inf
BUILTINS["nan"] = math.nan

# ------------------------------------------------------------------ creation


def _float_default(dtype):
    return to_dtype(dtype) or dtypes.f32


@builtin()
def zeros(shape, dtype=None):
    return ops.full(shape, 0, _float_default(dtype))


@builtin()
def ones(shape, dtype=None):
    return ops.full(shape, 1, _float_default(dtype))


@builtin()
def full(shape, fill_value, dtype=None):
    dtype = to_dtype(dtype) or aval_of(fill_value).dtype
    return ops.full(shape, fill_value, dtype)


@builtin()
def zeros_like(x, dtype=None):
    return ops.full(ops.shape(x), 0, to_dtype(dtype) or aval_of(ops.as_array(x)).dtype)


@builtin()
def ones_like(x, dtype=None):
    return ops.full(ops.shape(x), 1, to_dtype(dtype) or aval_of(ops.as_array(x)).dtype)


@builtin()
def full_like(x, fill_value, dtype=None):
    return ops.full(ops.shape(x), fill_value, to_dtype(dtype) or aval_of(ops.as_array(x)).dtype)


def _static_number(v, what):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v.item()
    raise JxTypeError(f"{what} must be a static number, got {describe(v)}")


@builtin()
def arange(start, stop=None, step=1, dtype=None):
    if stop is None:
        start, stop = 0, start
    start, stop, step = (_static_number(v, "arange's bounds") for v in (start, stop, step))
    if step == 0:
        raise JxValueError("arange: step must not be zero")
    n = max(0, math.ceil((stop - start) / step))
    is_int = all(isinstance(v, int) for v in (start, stop, step))
    dtype = to_dtype(dtype) or (dtypes.i32 if is_int else dtypes.f32)
    out = ops.iota(dtype, (n,))
    if step != 1:
        out = ops.binary("mul", out, step)
    if start != 0:
        out = ops.binary("add", out, start)
    return out


@builtin()
def linspace(start, stop, num=50, endpoint=True, dtype=None):
    num = _static_number(num, "linspace's num")
    if not isinstance(num, int) or num < 0:
        raise JxValueError(f"linspace: num must be a non-negative int, got {num}")
    dtype = to_dtype(dtype) or dtypes.f32
    if num == 1:
        return ops.full((1,), start, dtype)
    div = (num - 1) if endpoint else num
    i = ops.iota(dtypes.f64 if dtype == dtypes.f64 else dtypes.f32, (num,))
    start_a, stop_a = ops.inexact(start), ops.inexact(stop)
    step = ops.true_divide(ops.binary("sub", stop_a, start_a), float(div))
    out = ops.binary("add", start_a, ops.binary("mul", i, step))
    if endpoint and num > 1:
        from .indexing import update

        out = update(out, -1, stop_a, "set")
    return ops.convert(out, dtype)


@builtin()
def eye(N, M=None, k=0, dtype=None):
    N, M = ops.normalize_shape((N, N if M is None else M))
    rows = ops.iota(dtypes.i32, (N, M), 0)
    cols = ops.iota(dtypes.i32, (N, M), 1)
    mask = ops.compare("eq", ops.binary("add", rows, k), cols)
    return ops.convert(mask, _float_default(dtype))


@builtin()
def array(object, dtype=None):
    return ops.array(object, to_dtype(dtype))


@builtin()
def asarray(a, dtype=None):
    return ops.array(a, to_dtype(dtype))


@builtin()
def astype(x, dtype):
    return ops.convert(ops.as_array(x), to_dtype(dtype, allow_none=False))


# ------------------------------------------------------------------ elementwise

_FLOAT_FUNCS = {
    "exp": "exp",
    "exp2": "exp2",
    "log": "log",
    "log2": "log2",
    "log10": "log10",
    "log1p": "log1p",
    "expm1": "expm1",
    "sqrt": "sqrt",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
}


def _unary_builtin(name, prim):
    def fn(x):
        return ops.unary(prim, x)

    fn.__name__ = name
    BUILTINS[name] = Builtin(name, fn)


for _name, _prim in _FLOAT_FUNCS.items():
    _unary_builtin(_name, _prim)


def _rounding(prim):
    def fn(x):
        a = aval_of(ops.as_array(x))
        return ops.as_array(x) if not dtypes.is_float(a.dtype) else ops.unary(prim, x)

    return fn


@builtin()
def floor(x):
    return _rounding("floor")(x)


@builtin()
def ceil(x):
    return _rounding("ceil")(x)


@builtin()
def round_(x, decimals=0):
    if type(decimals) is not int:
        raise JxTypeError(f"round: decimals must be a static int, got {describe(decimals)}")
    if decimals == 0:
        return _rounding("round")(x)
    x = ops.as_array(x)
    dtype = aval_of(x).dtype
    if not dtypes.is_float(dtype):
        if decimals > 0:
            return x  # ints are already round to any decimals, as in NumPy and JAX
        # To tens, hundreds, ...: exact in f64 for every i32 and u32, then back to the int.
        scale = 10.0**-decimals
        q = _rounding("round")(ops.true_divide(ops.convert(x, dtypes.f64), scale))
        return ops.convert(ops.binary("mul", q, scale), dtype)
    scale = 10.0**decimals
    return ops.true_divide(_rounding("round")(ops.binary("mul", x, scale)), scale)


BUILTINS["around"] = BUILTINS["round"]


@builtin()
def abs_(x):
    x = ops.as_array(x)
    if aval_of(x).dtype.kind in "bu":  # bools and unsigned ints are their own abs, as in NumPy
        return x
    return ops.unary("abs", x)


BUILTINS["absolute"] = BUILTINS["abs"]


@builtin()
def sign(x):
    return ops.unary("sign", x)


@builtin()
def negative(x):
    return ops.unary("neg", x)


@builtin()
def square(x):
    return ops.binary("mul", x, x)


@builtin()
def reciprocal(x):
    return ops.true_divide(1, x)


@builtin()
def maximum(x, y):
    return ops.binary("max", x, y)


@builtin()
def minimum(x, y):
    return ops.binary("min", x, y)


@builtin()
def clip(x, a_min=None, a_max=None, *, min=None, max=None):  # NumPy 2 and JAX spell them so
    a_min = a_min if min is None else min
    a_max = a_max if max is None else max
    out = ops.as_array(x)
    if a_min is not None:
        out = ops.binary("max", out, a_min)
    if a_max is not None:
        out = ops.binary("min", out, a_max)
    return out


@builtin()
def where(condition, x=None, y=None):
    if x is None or y is None:
        raise JxTypeError(
            "where(condition) with one argument gives a data-dependent shape; "
            "pass where(condition, x, y)"
        )
    return ops.where(condition, x, y)


@builtin()
def power(x, y):
    return ops.power(x, y)


@builtin()
def arctan2(y, x):
    return ops.binary("atan2", ops.inexact(y), ops.inexact(x))


@builtin()
def isnan(x):
    from . import prims
    from .core import bind

    x = ops.as_array(x)
    if not dtypes.is_float(aval_of(x).dtype):
        return ops.full(aval_of(x).shape, False, dtypes.bool_)
    return bind(prims.is_nan_p, x)


@builtin()
def isfinite(x):
    from . import prims
    from .core import bind

    x = ops.as_array(x)
    if not dtypes.is_float(aval_of(x).dtype):
        return ops.full(aval_of(x).shape, True, dtypes.bool_)
    return bind(prims.is_finite_p, x)


@builtin()
def isinf(x):
    return ops.logical("and", ops.logical_not(isfinite(x)), ops.logical_not(isnan(x)))


@builtin()
def logaddexp(x, y):
    x, y = ops.inexact(x), ops.inexact(y)
    hi = ops.binary("max", x, y)
    lo = ops.binary("min", x, y)
    diff = ops.binary("sub", lo, hi)
    # Equal infinities give nan in hi - lo; use 0 there (log(2) + inf is right).
    diff = ops.where(ops.compare("eq", x, y), ops.full_like(diff, 0), diff)
    return ops.binary("add", hi, ops.unary("log1p", ops.unary("exp", diff)))


@builtin()
def logical_and(x, y):
    return ops.logical("and", x, y)


@builtin()
def logical_or(x, y):
    return ops.logical("or", x, y)


@builtin()
def logical_not(x):
    return ops.logical_not(x)


@builtin()
def logical_xor(x, y):
    return ops.logical("xor", x, y)


# ------------------------------------------------------------------ reductions


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


# ------------------------------------------------------------------ shapes


@builtin()
def reshape(a, shape):
    return ops.reshape(a, shape)


@builtin()
def transpose(a, axes=None):
    return ops.transpose(a, axes)


@builtin()
def swapaxes(a, axis1, axis2):
    nd = aval_of(ops.as_array(a)).ndim
    perm = list(range(nd))
    i, j = ops.normalize_axis(axis1, nd), ops.normalize_axis(axis2, nd)
    perm[i], perm[j] = perm[j], perm[i]
    return ops.transpose(a, perm)


@builtin()
def moveaxis(a, source, destination):
    nd = aval_of(ops.as_array(a)).ndim
    src, dst = ops.normalize_axis(source, nd), ops.normalize_axis(destination, nd)
    perm = [i for i in range(nd) if i != src]
    perm.insert(dst, src)
    return ops.transpose(a, perm)


@builtin()
def expand_dims(a, axis):
    return ops.expand_dims(a, axis)


@builtin()
def squeeze(a, axis=None):
    return ops.squeeze(a, axis)


@builtin()
def ravel(a):
    return ops.reshape(a, (-1,))


@builtin()
def concatenate(arrays, axis=0):
    return ops.concatenate(_seq(arrays, "concatenate"), axis)


@builtin()
def stack(arrays, axis=0):
    return ops.stack(_seq(arrays, "stack"), axis)


def _seq(arrays, what):
    if ops.is_array(arrays):
        n = aval_of(arrays).shape[0] if aval_of(arrays).shape else 0
        from .indexing import getitem

        return [getitem(arrays, i) for i in range(n)]
    if not isinstance(arrays, (tuple, list)):
        raise JxTypeError(f"{what} takes a tuple of arrays, got {describe(arrays)}")
    return list(arrays)


@builtin()
def hstack(tup):
    arrs = [ops.as_array(a) for a in _seq(tup, "hstack")]
    axis = 0 if aval_of(arrs[0]).ndim == 1 else 1
    return ops.concatenate(
        [ops.reshape(a, (1,)) if not aval_of(a).shape else a for a in arrs], axis
    )


@builtin()
def vstack(tup):
    arrs = [ops.as_array(a) for a in _seq(tup, "vstack")]
    arrs = [ops.reshape(a, (1, -1)) if aval_of(a).ndim < 2 else a for a in arrs]
    return ops.concatenate(arrs, 0)


@builtin()
def broadcast_to(array, shape):
    return ops.broadcast_to(array, ops.normalize_shape(shape))


@builtin()
def flip(m, axis=None):
    return ops.flip(m, axis)


@builtin()
def tile(A, reps):
    A = ops.as_array(A)
    reps = ops.static_ints(reps)
    reps = (reps,) if isinstance(reps, int) else reps
    if not isinstance(reps, tuple) or not all(type(r) is int for r in reps):
        raise JxTypeError(f"tile: reps must be static ints, got {describe(reps)}")
    if any(r < 0 for r in reps):
        raise JxValueError(f"tile: negative reps {reps}")
    a = aval_of(A)
    nd = max(a.ndim, len(reps))
    shape = (1,) * (nd - a.ndim) + a.shape
    reps = (1,) * (nd - len(reps)) + reps
    A = ops.reshape(A, shape)
    # Broadcast to (r0, s0, r1, s1, ...) then merge each pair.
    inter = []
    for r, s in zip(reps, shape):
        inter += [1, s]
    A = ops.reshape(A, tuple(inter))
    big = []
    for r, s in zip(reps, shape):
        big += [r, s]
    A = ops.broadcast_to(A, tuple(big))
    return ops.reshape(A, tuple(r * s for r, s in zip(reps, shape)))


@builtin()
def repeat(a, repeats, axis=None):
    a = ops.as_array(a)
    if not isinstance(repeats, int) or isinstance(repeats, bool):
        raise JxTypeError("repeat: repeats must be a static int")
    if repeats < 0:
        raise JxValueError(f"repeat: negative repeats {repeats}")
    if axis is None:
        a = ops.reshape(a, (-1,))
        axis = 0
    s = aval_of(a).shape
    axis = ops.normalize_axis(axis, len(s))
    x = ops.expand_dims(a, axis + 1)
    x = ops.broadcast_to(x, s[: axis + 1] + (repeats,) + s[axis + 1 :])
    return ops.reshape(x, s[:axis] + (s[axis] * repeats,) + s[axis + 1 :])


# ------------------------------------------------------------------ linear algebra


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
    from .einsum import einsum as _einsum

    return _einsum(subscripts, *operands)


@builtin()
def trace(a, offset=0):
    a = ops.as_array(a)
    n, m = aval_of(a).shape[-2:]
    return sum_(ops.binary("mul", a, eye(n, m, offset, aval_of(a).dtype)), axis=(-2, -1))


# ------------------------------------------------------------------ misc


@builtin()
def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return all_(isclose(a, b, rtol, atol, equal_nan))


def all_(x):
    return ops.reduce("reduce_and", x)


@builtin()
def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = ops.inexact(ops.array(a)), ops.inexact(ops.array(b))
    (a, b), _ = ops._operands(a, b)
    diff = ops.unary("abs", ops.binary("sub", a, b))
    tol = ops.binary("add", atol, ops.binary("mul", rtol, ops.unary("abs", b)))
    close = ops.compare("le", diff, tol)
    close = ops.logical("or", close, ops.compare("eq", a, b))  # equal infinities
    if equal_nan:
        close = ops.logical("or", close, ops.logical("and", isnan(a), isnan(b)))
    return close


@builtin()
def array_equal(a1, a2):
    if ops.shape(a1) != ops.shape(a2):
        return False
    return all_(ops.compare("eq", a1, a2))


@builtin()
def stop_gradient(x):
    from . import prims, trees
    from .core import bind

    leaves, tree = trees.flatten(x)
    return trees.unflatten(tree, [bind(prims.stop_gradient_p, ops.as_array(v)) for v in leaves])


@builtin()
def len_(obj):
    if ops.is_array(obj):
        shape = ops.shape(obj)
        if not shape:
            raise JxTypeError("len() of a 0-d array")
        return shape[0]
    if isinstance(obj, Sized):  # tuples, records, ranges, key arrays
        return len(obj)
    raise JxTypeError(f"len() of {describe(obj)}")


@builtin()
def range_(start, stop=None, step=1):
    for v in (start, stop, step):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
            raise JxTypeError(
                f"range() takes static ints, got {describe(v)}; a loop over a "
                "traced count needs while or fori_loop"
            )
    return range(start) if stop is None else range(start, stop, step)


@builtin()
def tuple_(iterable=()):
    if isinstance(iterable, (tuple, range)):
        return tuple(iterable)
    if ops.is_array(iterable):
        return unpack(iterable, ops.shape(iterable)[0], None)
    raise JxTypeError(f"tuple() of {describe(iterable)}")


@builtin()
def int_(x):
    if isinstance(x, (int, float, bool)):
        return int(x)
    return ops.convert(x, dtypes.i32)


@builtin()
def float_(x):
    if isinstance(x, (int, float, bool)):
        return float(x)
    return ops.convert(ops.as_array(x), dtypes.f32)


@builtin()
def tree_map(f, tree, *rest):
    from . import trees
    from .core import CTX
    from .functions import call

    leaves, treedef = trees.flatten(tree, _tree_leaf)
    others = []
    for r in rest:
        rl, rt = trees.flatten(r, _tree_leaf)
        if rt != treedef:
            raise JxTypeError(
                f"tree_map: trees of different structures: "
                f"{trees.structure_text(treedef)} and {trees.structure_text(rt)}"
            )
        others.append(rl)
    out = [call(f, [x, *(o[k] for o in others)], {}, CTX.span) for k, x in enumerate(leaves)]
    return trees.unflatten(treedef, out)


def _tree_leaf(x):
    # A key is one value to the function mapped over it, not the data array inside it.
    return type(x) in (Tracer, np.ndarray, float, int, bool) or isinstance(x, Key)


@builtin()
def jit(fun, static_argnums=()):
    from .functions import Jitted

    return Jitted(fun, static_argnums)


@builtin()
def nextafter(x1, x2):
    return ops.binary("nextafter", ops.inexact(x1), ops.inexact(x2))


def _sorted(operands, axis, num_keys=1):
    from . import prims
    from .core import bind

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


# Primitives the standard library's random module needs and jx cannot compose exactly.
@builtin("_bitcast")
def bitcast(x, dtype):
    from . import prims
    from .core import bind

    return bind(prims.bitcast_p, ops.as_array(x), new_dtype=to_dtype(dtype, allow_none=False))


@builtin("_fma")
def fma(a, b, c):
    from . import prims
    from .core import bind

    (a, b, c), _ = ops._operands(ops.inexact(a), ops.inexact(b), ops.inexact(c))
    return bind(prims.fma_p, a, b, c)


@builtin("_erf_inv")
def erf_inv(x):
    return ops.unary("erf_inv", x)


@builtin("_log_exact")
def log_exact(x):
    """log computed as XLA:CPU does, bit for bit (slower on NumPy); for the random module."""
    from . import prims
    from .core import bind

    return bind(prims.UNARY["log"], ops.inexact(x), exact=True)


@builtin("_erf")
def erf(x):
    return ops.unary("erf", x)


# ------------------------------------------------------------------ attributes and methods

_METHODS = {
    "sum": "sum",
    "mean": "mean",
    "max": "max",
    "min": "min",
    "prod": "prod",
    "all": "all",
    "any": "any",
    "argmax": "argmax",
    "argmin": "argmin",
    "std": "std",
    "var": "var",
    "cumsum": "cumsum",
    "cumprod": "cumprod",
    "astype": "astype",
    "transpose": "transpose",
    "squeeze": "squeeze",
    "ravel": "ravel",
    "flatten": "ravel",
    "dot": "dot",
    "clip": "clip",
    "round": "round",
    "swapaxes": "swapaxes",
    "repeat": "repeat",
}


def array_attribute(x, attr: str, span):
    a = aval_of(x)
    if attr == "shape":
        return a.shape
    if attr == "ndim":
        return a.ndim
    if attr == "size":
        return a.size
    if attr == "dtype":
        return a.dtype
    if attr == "T":
        return ops.transpose(x)
    if attr == "at":
        return AtHelper(x)
    if attr == "reshape":

        def reshape_method(*shape):
            return ops.reshape(x, shape[0] if len(shape) == 1 else shape)

        return Builtin("reshape", reshape_method)
    if attr == "transpose":

        def transpose_method(*axes):
            return ops.transpose(
                x, (axes[0] if len(axes) == 1 and isinstance(axes[0], tuple) else axes) or None
            )

        return Builtin("transpose", transpose_method)
    if attr in _METHODS:
        target = BUILTINS[_METHODS[attr]].fn

        def method(*args, **kwargs):
            return target(x, *args, **kwargs)

        return Builtin(attr, method)
    from .values import did_you_mean

    hint = did_you_mean(attr, ["shape", "ndim", "size", "dtype", "T", "at", "reshape", *_METHODS])
    raise JxTypeError(f"an array has no attribute '{attr}'{hint}", span)
