"""The elementwise built-ins: NumPy's math functions (`exp` to `arctanh`, rounding, `abs`,
`clip`, `where`, `power`, `arctan2`, `logaddexp`, `nextafter`), the float predicates
(`isnan`, `isfinite`, `isinf`), the logical functions, the whole-array comparisons
(`isclose`, `allclose`, `array_equal`), and the primitives the standard library's random
module needs and jx cannot compose exactly (`_bitcast`, `_fma`, `_erf_inv`, `_log_exact`,
`_erf`).
"""

from __future__ import annotations

from . import dtypes, ops
from . import primitives as prims
from .builtins import BUILTINS, builtin, static_flag, to_dtype
from .core import aval_of, bind, describe
from .errors import TypeError as JxTypeError
from .values import Builtin

_FLOAT_FUNCS = {
    "exp": "exp",
    "exp2": "exp2",
    "log": "log",
    "log2": "log2",
    "log10": "log10",
    "log1p": "log1p",
    "expm1": "expm1",
    "sqrt": "sqrt",
    "cbrt": "cbrt",
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


_FLOAT_DECIMALS = 308  # 10.0 ** 309 overflows f64


@builtin()
def round_(x, decimals=0):
    if type(decimals) is not int:
        raise JxTypeError(f"round: decimals must be a static int, got {describe(decimals)}")
    if decimals == 0:
        return _rounding("round")(x)
    x = ops.as_array(x)
    if abs(decimals) > _FLOAT_DECIMALS:
        # As Python's round: every float is round to so many decimals, and rounds to 0 at
        # so many tens (10.0 ** decimals itself would overflow).
        return x if decimals > 0 else ops.binary("mul", x, 0)
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
    return ops.power(x, 2)


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
    x = ops.as_array(x)
    if not dtypes.is_float(aval_of(x).dtype):
        return ops.full(aval_of(x).shape, False, dtypes.bool_)
    return bind(prims.is_nan_p, x)


@builtin()
def isfinite(x):
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
    # hi + log1p(exp(lo - hi)) with hi, lo chosen by a select, not max/min: at a tie the
    # select takes one branch, a smooth function of both, so every derivative is right.
    x_is_hi = ops.compare("ge", x, y)
    hi = ops.where(x_is_hi, x, y)
    lo = ops.where(x_is_hi, y, x)
    diff = ops.binary("sub", lo, hi)
    # Equal infinities give nan in lo - hi; use 0 there (log(2) + inf is right).
    equal_inf = ops.logical("and", ops.compare("eq", x, y), isinf(x))
    diff = ops.where(equal_inf, ops.full_like(diff, 0), diff)
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
    # As NumPy: finite values within tolerance, infinities only when equal (inf != -inf).
    finite = ops.logical("and", isfinite(a), isfinite(b))
    close = ops.where(finite, ops.compare("le", diff, tol), ops.compare("eq", a, b))
    if equal_nan:
        close = ops.logical("or", close, ops.logical("and", isnan(a), isnan(b)))
    return close


@builtin()
def array_equal(a1, a2, equal_nan=False):
    if ops.shape(a1) != ops.shape(a2):
        return False
    same = ops.compare("eq", a1, a2)
    if static_flag(equal_nan, "array_equal: equal_nan"):
        same = ops.logical("or", same, ops.logical("and", isnan(a1), isnan(a2)))
    return all_(same)


@builtin()
def nextafter(x1, x2):
    return ops.binary("nextafter", ops.inexact(x1), ops.inexact(x2))


# Primitives the standard library's random module needs and jx cannot compose exactly.
@builtin("_bitcast")
def bitcast(x, dtype):
    return bind(prims.bitcast_p, ops.as_array(x), new_dtype=to_dtype(dtype, allow_none=False))


@builtin("_fma")
def fma(a, b, c):
    (a, b, c), _ = ops._operands(ops.inexact(a), ops.inexact(b), ops.inexact(c))
    return bind(prims.fma_p, a, b, c)


@builtin("_erf_inv")
def erf_inv(x):
    return ops.unary("erf_inv", x)


@builtin("_log_exact")
def log_exact(x):
    """log computed as XLA:CPU does, bit for bit (slower on NumPy); for the random module."""
    return bind(prims.UNARY["log"], ops.inexact(x), exact=True)


@builtin("_erf")
def erf(x):
    return ops.unary("erf", x)
