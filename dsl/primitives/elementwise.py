"""The elementwise primitives: unary math, binary arithmetic and bitwise ops, comparisons,
select, conversions and fma, with the lax-like wrappers (`add`, `mul`, `select`...) that
the families above build their rules from.

Category groups get every rule from one helper: a unary row is (name, accepted dtypes,
implementation, derivative), a binary row (name, accepted dtypes, implementation, tangent
rule), a comparison only its implementation; all of them batch by `vectorized`. The
implementations take an array module `xp`, and define the semantics XLA's ops have
natively: a negative integer power is 0 unless the base is 1 or -1, a float converts to
an int saturating with NaN as 0, a shift by the width or more gives 0. Integer division
or remainder by zero, which XLA leaves to the hardware, gives 0 by a composition `binary`
emits where the op is built.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from .. import dtypes
from ..core import aval_of, bind, literal
from ..dtypes import ShapedArray
from ..errors import ShapeError
from ..registry import need, primitive, undef
from .shapes import broadcast_at, broadcast_to, defzero, full, instantiate, move_axis

# ------------------------------------------------------------------ family helpers


def vectorized(prim, ax, args, dims, **params):
    """Batching of an elementwise op: every operand's batch dim where the first one is."""
    d = next(d for d in dims if d is not None)
    args = [
        broadcast_at(x, d, ax.size) if e is None else move_axis(x, e, d) for x, e in zip(args, dims)
    ]
    return bind(prim, *args, **params), d


_KINDS = {
    "any": lambda dtype: True,
    "numeric": lambda dtype: not dtypes.is_bool(dtype),
    "float": dtypes.is_float,
    "int": lambda dtype: not dtypes.is_float(dtype),  # ints and bools
    "integer": dtypes.is_int,
}


def _same(name, xs):
    shape, dtype = xs[0].shape, xs[0].dtype
    for x in xs[1:]:
        need(x.shape == shape, f"{name}: operand shapes {shape} and {x.shape} differ", ShapeError)
        need(
            x.dtype == dtype,
            f"{name}: operand dtypes {dtypes.short(dtype)} and {dtypes.short(x.dtype)} differ",
        )
    return shape, dtype, all(x.weak for x in xs)


def _xp(function: str):
    """The implementation that is `xp.<function>` (settings, such as log's, are ignored).
    It says so (`xp_function`), so a backend may call its own function directly."""
    impl = lambda xp, *xs, **params: getattr(xp, function)(*xs)
    impl.xp_function = function
    return impl


def _c(x, value):
    """A strong scalar constant of x's dtype."""
    return full((), value, aval_of(x).dtype)


# ------------------------------------------------------------------ unary

UNARY = {}
FLOAT_UNARY = []  # the unary ops of floats, which the NumPy layer applies to ints as f32


def _unary(name, kind, impl, deriv=None):
    """A unary elementwise primitive; `deriv(x, y)` is its derivative at x (y = f(x)),
    None for a primitive whose derivative is zero."""

    def rule(x, **params):
        what = "bitwise not (~)" if name == "not" else name
        need(_KINDS[kind](x.dtype), f"{what} does not accept {dtypes.short(x.dtype)} values")
        return [x]

    p = UNARY[name] = primitive(name, rule, impl)
    if kind == "float":
        FLOAT_UNARY.append(name)
    p.batch = partial(vectorized, p)
    if deriv is None:
        defzero(p)
        return p

    def jvp(ps, ts, **params):
        (x,), (t,) = ps, ts
        y = bind(p, x, **params)
        return y, None if t is None else mul(t, deriv(x, y))

    p.jvp = jvp
    return p


def unary(name, x):
    return bind(UNARY[name], x)


def _recip(x):
    return div(_c(x, 1.0), x)


def _one_minus_square(x):
    return sub(_c(x, 1.0), mul(x, x))


def _erf(xp, x):
    return xp.vectorize(math.erf, otypes=[x.dtype])(x) if x.size else x


def _not(xp, x):
    return xp.logical_not(x) if x.dtype == np.bool_ else xp.invert(x)


_LOG2, _LOG10 = math.log(2), math.log(10)

# fmt: off
_unary("exp", "float", _xp("exp"), lambda x, y: y)
_unary("exp2", "float", _xp("exp2"), lambda x, y: mul(y, _c(x, _LOG2)))
# log and log1p take `exact`: compute f32 with XLA:CPU's own algorithm (backends/numpy/xla_math.py)
_unary("log", "float", _xp("log"), lambda x, y: _recip(x))
_unary("log2", "float", _xp("log2"), lambda x, y: _recip(mul(x, _c(x, _LOG2))))
_unary("log10", "float", _xp("log10"), lambda x, y: _recip(mul(x, _c(x, _LOG10))))
_unary("log1p", "float", _xp("log1p"), lambda x, y: _recip(add(x, _c(x, 1.0))))
_unary("expm1", "float", _xp("expm1"), lambda x, y: add(y, _c(x, 1.0)))
_unary("tanh", "float", _xp("tanh"), lambda x, y: sub(_c(x, 1.0), mul(y, y)))
_unary("logistic", "float", lambda xp, x: (1 / (1 + xp.exp(-x))).astype(x.dtype),
       lambda x, y: mul(y, sub(_c(x, 1.0), y)))
_unary("sin", "float", _xp("sin"), lambda x, y: unary("cos", x))
_unary("cos", "float", _xp("cos"), lambda x, y: neg(unary("sin", x)))
_unary("tan", "float", _xp("tan"), lambda x, y: add(_c(x, 1.0), mul(y, y)))
_unary("asin", "float", _xp("arcsin"), lambda x, y: unary("rsqrt", _one_minus_square(x)))
_unary("acos", "float", _xp("arccos"), lambda x, y: neg(unary("rsqrt", _one_minus_square(x))))
_unary("atan", "float", _xp("arctan"), lambda x, y: _recip(add(_c(x, 1.0), mul(x, x))))
_unary("sinh", "float", _xp("sinh"), lambda x, y: unary("cosh", x))
_unary("cosh", "float", _xp("cosh"), lambda x, y: unary("sinh", x))
_unary("asinh", "float", _xp("arcsinh"), lambda x, y: unary("rsqrt", add(mul(x, x), _c(x, 1.0))))
_unary("acosh", "float", _xp("arccosh"), lambda x, y: unary("rsqrt", sub(mul(x, x), _c(x, 1.0))))
_unary("atanh", "float", _xp("arctanh"), lambda x, y: _recip(_one_minus_square(x)))
_unary("sqrt", "float", _xp("sqrt"), lambda x, y: _recip(mul(y, _c(x, 2.0))))
_unary("rsqrt", "float", lambda xp, x: (1 / xp.sqrt(x)).astype(x.dtype),
       lambda x, y: mul(div(y, x), _c(x, -0.5)))
_unary("cbrt", "float", _xp("cbrt"), lambda x, y: _recip(mul(_c(x, 3.0), mul(y, y))))
_unary("erf", "float", _erf,
       lambda x, y: mul(_c(x, 2 / math.sqrt(math.pi)), unary("exp", neg(mul(x, x)))))
# No array library has erf_inv: each backend brings its own (NumPy: XLA:CPU's algorithm).
_unary("erf_inv", "float", None,
       lambda x, y: mul(_c(x, math.sqrt(math.pi) / 2), unary("exp", mul(y, y))))
_unary("floor", "float", _xp("floor"))
_unary("ceil", "float", _xp("ceil"))
_unary("round", "float", _xp("round"))  # half to even, as NumPy and jnp.round
_unary("sign", "numeric", _xp("sign"))
_unary("not", "int", _not)  # bitwise not on ints, logical not on bools
# fmt: on

neg_p = _unary("neg", "numeric", _xp("negative"))
neg_p.jvp = lambda ps, ts: (neg(ps[0]), None if ts[0] is None else neg(ts[0]))
neg_p.transpose = lambda cts, x: [neg(cts[0])]


def _abs_jvp(ps, ts):
    (x,), (t,) = ps, ts
    y = bind(abs_p, x)
    return y, None if t is None else select(compare("ge", x, 0), t, neg(t))


abs_p = _unary("abs", "numeric", _xp("abs"))
abs_p.jvp = _abs_jvp


def neg(x):
    return bind(neg_p, x)


def _predicate_rule(x):
    return [ShapedArray(x.shape, dtypes.bool_, False)]


is_finite_p = primitive("is_finite", _predicate_rule, _xp("isfinite"))
is_nan_p = primitive("is_nan", _predicate_rule, _xp("isnan"))
for _p in (is_finite_p, is_nan_p):
    defzero(_p)
    _p.batch = partial(vectorized, _p)

# ------------------------------------------------------------------ binary

BINARY = {}


def _binary(name, kind, impl, tangent=None):
    """A binary elementwise primitive; `tangent(x, y, out, tx, ty)` its tangent from
    symbolic-zero (None) input tangents, None for a primitive whose derivative is zero."""

    def rule(x, y):
        shape, dtype, weak = _same(name, (x, y))
        need(_KINDS[kind](dtype), f"{name} does not accept {dtypes.short(dtype)} values")
        return [ShapedArray(shape, dtype, weak)]

    p = BINARY[name] = primitive(name, rule, impl)
    p.batch = partial(vectorized, p)
    if tangent is None:
        defzero(p)
        return p

    def jvp(ps, ts):
        x, y = ps
        out = bind(p, x, y)
        return out, tangent(x, y, out, *ts)

    p.jvp = jvp
    return p


def add_tangents(a, b):
    """The sum of two tangents, either maybe a symbolic zero (None)."""
    if a is None:
        return b
    if b is None:
        return a
    return bind(add_p, a, b)


def _scaled(t, c):
    return None if t is None else mul(t, c)


def _negated(t):
    return None if t is None else neg(t)


def _trunc_div(xp, x, y):
    """Integer division rounding toward zero, as XLA (and C) define it."""
    q = xp.floor_divide(x, y)
    return xp.where((q < 0) & (q * y != x), q + 1, q).astype(x.dtype)


def _div_impl(xp, x, y):
    return xp.true_divide(x, y) if dtypes.is_float(x.dtype) else _trunc_div(xp, x, y)


def _div_tangent(x, y, out, tx, ty):
    return add_tangents(
        None if tx is None else div(tx, y), None if ty is None else neg(mul(ty, div(out, y)))
    )


def _rem_tangent(x, y, out, tx, ty):
    return add_tangents(tx, None if ty is None else neg(mul(ty, unary("floor", div(x, y)))))


def _pow_tangent(x, y, out, tx, ty):
    dx = None
    if tx is not None:
        # y * x ** (y - 1), with 0 where y == 0 (so d/dx x**0 is 0 even at x = 0).
        safe = select(compare("eq", y, 0), _c(y, 0.0), mul(y, bind(pow_p, x, sub(y, _c(y, 1.0)))))
        dx = mul(tx, safe)
    dy = None
    if ty is not None:
        logx = select(compare("eq", x, 0), _c(x, 0.0), unary("log", x))
        dy = mul(ty, mul(out, logx))
    return add_tangents(dx, dy)


def _minmax_tangent(pick):
    # Ties split the tangent evenly, as JAX does for max/min.
    def tangent(x, y, out, tx, ty):
        tie = select(compare("eq", x, y), _c(x, 0.5), _c(x, 0.0))
        wx = select(compare(pick, x, y), _c(x, 1.0), tie)
        return add_tangents(_scaled(tx, wx), _scaled(ty, sub(_c(x, 1.0), wx)))

    return tangent


def _atan2_tangent(y, x, out, ty, tx):
    num = add_tangents(_scaled(ty, x), _negated(_scaled(tx, y)))
    return div(num, add(mul(x, x), mul(y, y)))


def _power(xp, x, y):
    if x.dtype.kind != "i" or not xp.any(y < 0):
        return xp.power(x, y)
    # NumPy raises for negative integer powers; XLA (and JAX) give 1/x**|y| rounded to an
    # integer: 0, except for bases of 1 and -1.
    out = xp.power(x, xp.where(y < 0, 0, y))
    unit = xp.where(xp.abs(x) == 1, xp.power(x, xp.abs(y) % 2), 0).astype(x.dtype)
    return xp.where(y < 0, unit, out)


def _shift_amount(s, bits):
    """The shift as one in-range scalar when it is a broadcast constant (the usual case), the
    array when all of it is in range, else None (shifts >= the width give 0, as in XLA)."""
    if s.size == 0:
        return s
    if not any(s.strides):
        v = int(s.flat[0])
        return v if 0 <= v < bits else None
    return s if int(s.min()) >= 0 and int(s.max()) < bits else None


def _shift(xp, shift, fill, x, s):
    """`shift(x, s)` with shifts of the width or more giving `fill(xp, x)`, as in XLA."""
    bits = x.dtype.itemsize * 8
    amount = _shift_amount(s, bits)
    if amount is not None:
        return shift(x, xp.asarray(amount, dtype=x.dtype))
    big = s >= bits
    return xp.where(big, fill(xp, x), shift(x, xp.where(big, 0, s).astype(x.dtype)))


def _shift_left(xp, x, s):
    return _shift(xp, xp.left_shift, lambda xp, x: xp.zeros_like(x), x, s)


def _shift_right(xp, x, s):
    def fill(xp, x):  # the sign bit everywhere: 0 for unsigned and non-negative, -1 below
        return xp.zeros_like(x) if x.dtype.kind == "u" else xp.where(x < 0, -1, 0).astype(x.dtype)

    return _shift(xp, xp.right_shift, fill, x, s)


# fmt: off
add_p = _binary("add", "numeric", _xp("add"), lambda x, y, o, tx, ty: add_tangents(tx, ty))
sub_p = _binary("sub", "numeric", _xp("subtract"),
                lambda x, y, o, tx, ty: add_tangents(tx, _negated(ty)))
mul_p = _binary("mul", "numeric", _xp("multiply"),
                lambda x, y, o, tx, ty: add_tangents(_scaled(tx, y), _scaled(ty, x)))
div_p = _binary("div", "numeric", _div_impl, _div_tangent)
_binary("floor_divide", "numeric", _xp("floor_divide"))
_binary("rem", "numeric", _xp("remainder"), _rem_tangent)
pow_p = _binary("pow", "numeric", _power, _pow_tangent)
_binary("max", "any", _xp("maximum"), _minmax_tangent("gt"))
_binary("min", "any", _xp("minimum"), _minmax_tangent("lt"))
_binary("atan2", "float", _xp("arctan2"), _atan2_tangent)
_binary("nextafter", "float", _xp("nextafter"))
_binary("and", "int", _xp("bitwise_and"))
_binary("or", "int", _xp("bitwise_or"))
_binary("xor", "int", _xp("bitwise_xor"))
_binary("shift_left", "integer", _shift_left)
_binary("shift_right", "integer", _shift_right)
# fmt: on

add_p.transpose = lambda cts, x, y: [cts[0] if undef(x) else None, cts[0] if undef(y) else None]
sub_p.transpose = lambda cts, x, y: [
    cts[0] if undef(x) else None,
    neg(cts[0]) if undef(y) else None,
]
mul_p.transpose = lambda cts, x, y: [
    mul(cts[0], y) if undef(x) else None,
    mul(x, cts[0]) if undef(y) else None,
]


def _div_t(cts, x, y):
    need(not undef(y), "a division is not linear in its denominator")
    return [div(cts[0], y), None]


div_p.transpose = _div_t


def _pair(x, y):
    """Operands of one shape: a Python number becomes a weak constant of the other's dtype,
    and shapes broadcast as NumPy's do (dtypes are the caller's to make agree)."""
    if isinstance(x, (int, float)):
        x = literal(x, aval_of(y).dtype, True)
    if isinstance(y, (int, float)):
        y = literal(y, aval_of(x).dtype, True)
    shape = np.broadcast_shapes(aval_of(x).shape, aval_of(y).shape)
    return broadcast_to(x, shape), broadcast_to(y, shape)


def add(x, y):
    return bind(add_p, *_pair(x, y))


def sub(x, y):
    return bind(sub_p, *_pair(x, y))


def mul(x, y):
    return bind(mul_p, *_pair(x, y))


def div(x, y):
    """Division of floats (the rules' own; `binary` gives integers their semantics)."""
    return bind(div_p, *_pair(x, y))


def binary(name: str, x, y):
    """A binary op on operands of one dtype and shape; an integer divisor of zero gives 0
    (the quotient or remainder by 1 is computed there, then replaced)."""
    dtype = aval_of(x).dtype
    if name in ("div", "rem", "floor_divide") and dtypes.is_int(dtype):
        zero = compare("eq", y, 0)
        quotient = bind(BINARY[name], x, select(zero, 1, y))
        return select(zero, 0, quotient)
    return bind(BINARY[name], x, y)


# ------------------------------------------------------------------ comparisons

COMPARE = {}


def _compare_rule(name):
    def rule(x, y):
        shape, _, _ = _same(name, (x, y))
        return [ShapedArray(shape, dtypes.bool_, False)]

    return rule


for _name, _function in [
    ("eq", "equal"),
    ("ne", "not_equal"),
    ("lt", "less"),
    ("le", "less_equal"),
    ("gt", "greater"),
    ("ge", "greater_equal"),
]:
    _p = COMPARE[_name] = primitive(_name, _compare_rule(_name), _xp(_function))
    defzero(_p)
    _p.batch = partial(vectorized, _p)


def compare(name: str, x, y):
    return bind(COMPARE[name], *_pair(x, y))


# ------------------------------------------------------------------ select


def _select_rule(pred, on_true, on_false):
    need(pred.dtype == dtypes.bool_, "select: the predicate must be bool")
    shape, dtype, weak = _same("select", (on_true, on_false))
    need(
        pred.shape == shape,
        f"select: predicate shape {pred.shape} differs from {shape}",
        ShapeError,
    )
    return [ShapedArray(shape, dtype, weak)]


def _select_jvp(ps, ts):
    p, a, b = ps
    _, ta, tb = ts
    out = bind(select_p, p, a, b)
    if ta is None and tb is None:
        return out, None
    return out, bind(select_p, p, instantiate(ta, a), instantiate(tb, b))


def _select_t(cts, p, a, b):
    ct = cts[0]
    zero = full(aval_of(ct).shape, 0, aval_of(ct).dtype)
    return [
        None,
        bind(select_p, p, ct, zero) if undef(a) else None,
        bind(select_p, p, zero, ct) if undef(b) else None,
    ]


select_p = primitive("select", _select_rule, _xp("where"))
select_p.jvp = _select_jvp
select_p.transpose = _select_t
select_p.batch = partial(vectorized, select_p)


def select(pred, on_true, on_false):
    """`on_true` where `pred`, else `on_false`; numbers and shapes as `add` takes them."""
    on_true, on_false = _pair(on_true, on_false)
    shape = np.broadcast_shapes(aval_of(pred).shape, aval_of(on_true).shape)
    return bind(
        select_p,
        broadcast_to(pred, shape),
        broadcast_to(on_true, shape),
        broadcast_to(on_false, shape),
    )


# ------------------------------------------------------------------ conversions


def _convert_jvp(ps, ts, *, new_dtype, weak=False):
    (x,), (t,) = ps, ts
    out = bind(convert_p, x, new_dtype=new_dtype, weak=weak)
    if t is None or not dtypes.is_float(np.dtype(new_dtype)):
        return out, None
    return out, bind(convert_p, t, new_dtype=new_dtype, weak=weak)


def _convert_t(cts, x, *, new_dtype, weak=False):
    return [bind(convert_p, cts[0], new_dtype=x.aval.dtype, weak=x.aval.weak)]


def _convert(xp, x, *, new_dtype, weak=False):
    dtype = np.dtype(new_dtype)
    if not (dtypes.is_float(x.dtype) and dtypes.is_int(dtype)):
        return x.astype(dtype)
    # NaN -> 0 and out-of-range values saturate, as XLA converts. The bounds are compared,
    # not clipped to: i32's max is no f32, and would wrap.
    info = np.iinfo(dtype)
    t = xp.trunc(x.astype(np.float32) if x.dtype == dtypes.bf16 else x)
    high, low = t >= float(info.max), t <= float(info.min)
    out = xp.where(high | low | xp.isnan(t), 0, t).astype(dtype)
    return xp.where(high, info.max, xp.where(low, info.min, out)).astype(dtype)


convert_p = primitive(
    "convert_element_type",
    lambda x, *, new_dtype, weak=False: [ShapedArray(x.shape, new_dtype, weak)],
    _convert,
)
convert_p.jvp = _convert_jvp
convert_p.transpose = _convert_t
convert_p.batch = partial(vectorized, convert_p)


def convert_element_type(x, new_dtype, weak: bool = False):
    return bind(convert_p, x, new_dtype=np.dtype(new_dtype), weak=weak)


def _bitcast_rule(x, *, new_dtype):
    need(
        np.dtype(new_dtype).itemsize == x.dtype.itemsize,
        "bitcast_convert_type needs dtypes of the same width",
    )
    return [ShapedArray(x.shape, new_dtype, False)]


bitcast_p = primitive(
    "bitcast_convert_type", _bitcast_rule, lambda xp, x, *, new_dtype: x.view(new_dtype)
)
defzero(bitcast_p)
bitcast_p.batch = partial(vectorized, bitcast_p)

stop_gradient_p = primitive("stop_gradient", lambda x: [x], _xp("asarray"))
defzero(stop_gradient_p)
stop_gradient_p.batch = partial(vectorized, stop_gradient_p)

# ------------------------------------------------------------------ fma


def _fma_rule(a, b, c):
    shape, dtype, weak = _same("fma", (a, b, c))
    need(dtypes.is_float(dtype), "fma needs float operands")
    return [ShapedArray(shape, dtype, weak)]


def _fma_jvp(ps, ts):
    (a, b, c), (ta, tb, tc) = ps, ts
    tangent = add_tangents(add_tangents(_scaled(ta, b), _scaled(tb, a)), tc)
    return bind(fma_p, a, b, c), tangent


def _fma_t(cts, a, b, c):
    ct = cts[0]
    return [
        mul(ct, b) if undef(a) else None,
        mul(a, ct) if undef(b) else None,
        ct if undef(c) else None,
    ]


# a*b + c rounded once, as XLA:CPU contracts it; jax.random's uniform depends on it. Rounded
# twice here: a backend overrides it where it must match XLA bit for bit.
fma_p = primitive("fma", _fma_rule, lambda xp, a, b, c: a * b + c)
fma_p.jvp = _fma_jvp
fma_p.transpose = _fma_t
fma_p.batch = partial(vectorized, fma_p)
