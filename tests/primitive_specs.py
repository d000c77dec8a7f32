"""The spec rows of the primitive table that need nothing but NumPy: example operands and
params for every array primitive, each with an independent NumPy reference and what
transformations apply to it. `test_primitive_specs.py` generates its checks from these rows
and adds edge rows and the rows that need sub-programs or a mapped axis (control flow,
collectives). A row names the operands it is differentiable in (`diff`;
`NOT_DIFFERENTIABLE` says none), whether reverse mode applies too (`reverse`), and the
operands it is linear in (`linear`, checked through the primitive's own transpose rule).
References follow jx's documented semantics where NumPy's differ: integer division and
remainder by zero give 0, shifts past the width fill, float-to-int conversion saturates,
gather clamps out-of-range indices and scatter drops them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

NOT_DIFFERENTIABLE = ()


@dataclass(frozen=True)
class Spec:
    name: str
    args: tuple
    params: dict
    ref: Callable  # (*args, **params) -> an array, or a tuple of arrays
    diff: tuple  # operands differentiated (in f64) against finite differences
    linear: tuple = ()  # operands the primitive is linear in: its transpose rule applies
    reverse: bool = True  # whether reverse mode applies where `diff` does (else: refused)
    vary: Callable | None = None  # (operand position, array, k) -> example k's operand
    atol: float = 0.0  # extra absolute tolerance of the value check
    # check (value, jvp, vjp, transpose, batch, xla) -> why it fails: a known bug
    xfail: dict = field(default_factory=dict)


RNG = np.random.default_rng(7)


def rand(*shape, dtype=np.float32, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape).astype(dtype)


def ints(*shape, dtype=np.int32, low=-9, high=10):
    return RNG.integers(low, high, shape).astype(dtype)


def bools(*shape):
    return RNG.integers(0, 2, shape).astype(bool)


F32 = np.float32
F64 = np.float64
SPECIAL = np.array([0.0, -0.0, 1.5, -1.5, np.inf, -np.inf, np.nan, 2.5, -3.5, 7.0], F32)
TIES = np.array([[1.0, 2.0, 2.0, -1.0], [3.0, 3.0, 0.0, 0.0], [-2.0, 5.0, 5.0, 5.0]], F32)


def spd(*batch, n=3, dtype=F64):
    a = rand(*batch, n, n, dtype=dtype)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n, dtype=dtype)


def scale_floats(i, x, k):
    """Example k's operand for rows whose structure a shuffle would break (SPD matrices)."""
    return x * x.dtype.type(1 + 0.25 * k) if x.dtype.kind == "f" else x


# ------------------------------------------------------------------ references


def _erf(x):
    return np.vectorize(math.erf, otypes=[x.dtype])(x) if x.size else x


def _erf_inv(y):
    """Newton's method on math.erf, in f64; +-1 give +-inf, beyond them NaN."""
    w = y.astype(F64)
    inside = np.abs(w) < 1
    x = np.zeros_like(w)
    target = np.where(inside, w, 0)
    for _ in range(60):
        err = _erf(x) - target
        x = x - err / (2 / math.sqrt(math.pi) * np.exp(-x * x))
    edge = np.where(np.abs(w) == 1, np.copysign(np.inf, w), np.nan)
    return np.where(inside, x, edge).astype(y.dtype)


def _cast(f):
    return lambda *xs: np.asarray(f(*xs)).astype(xs[0].dtype)


SAME_NAME = "exp exp2 log log2 log10 log1p expm1 tanh sin cos tan sinh cosh sqrt cbrt floor ceil"
UNARY_REFS = {name: getattr(np, name) for name in SAME_NAME.split()} | {
    "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "asinh": np.arcsinh,
    "acosh": np.arccosh, "atanh": np.arctanh, "erf": _erf, "erf_inv": _erf_inv,
    "round": np.rint,  # half to even
    "logistic": _cast(lambda x: 1 / (1 + np.exp(-x.astype(F64)))),
    "rsqrt": _cast(lambda x: 1 / np.sqrt(x.astype(F64))),
}  # fmt: skip
# Where each float function's derivative is smooth: the finite differences sample there.
DOMAINS = {
    **dict.fromkeys(("log", "log2", "log10", "sqrt", "rsqrt", "cbrt"), (0.2, 3)),
    **dict.fromkeys(("asin", "acos", "atanh", "erf_inv"), (-0.9, 0.9)),
    "log1p": (-0.5, 3),
    "acosh": (1.2, 3),
    "tan": (-1.2, 1.2),
}
NOT_SMOOTH = ("floor", "ceil", "round")


def _wrapped(values, like):
    """Exact Python integers wrapped to `like`'s dtype (two's complement), in its shape."""
    modulus = 1 << (like.dtype.itemsize * 8)
    return np.array([v % modulus for v in values], np.uint64).astype(like.dtype).reshape(like.shape)


def _int_quotient(x, y, rounding):
    """Integer x / y rounded by `rounding`, computed exactly in Python; 0 where y is 0."""
    pairs = zip(x.ravel().tolist(), y.ravel().tolist())
    return _wrapped([0 if b == 0 else rounding(a, b) for a, b in pairs], x)


def _trunc_div(a, b):
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _div(x, y):
    return _int_quotient(x, y, _trunc_div) if x.dtype.kind in "iu" else x / y


def _floor_divide(x, y):
    if x.dtype.kind in "iu":
        return _int_quotient(x, y, lambda a, b: a // b)
    return np.floor_divide(x, y)  # -1.5 // inf is -1: the quotient that np.mod's remainder fits


def _rem(x, y):
    if x.dtype.kind in "iu":
        return _int_quotient(x, y, lambda a, b: a % b)
    return np.mod(x, y)


def _pow(x, y):
    if x.dtype.kind not in "iu":
        return np.power(x, y)
    out = []
    for a, b in zip(x.ravel().tolist(), y.ravel().tolist()):
        if b >= 0:
            out.append(a**b)
        else:  # a negative power of an integer: only +-1 survive truncation
            out.append({1: 1, -1: (-1) ** (-b)}.get(a, 0))
    return _wrapped(out, x)


def _shift(x, s, left):
    bits = x.dtype.itemsize * 8
    out = []
    for a, b in zip(x.ravel().tolist(), s.ravel().tolist()):
        if not 0 <= b < bits:
            out.append(0 if left or a >= 0 else -1)
        elif left:
            out.append(a << b)
        else:
            out.append(a >> b)  # Python ints: arithmetic for signed, logical for unsigned
    return _wrapped(out, x)


BINARY_REFS = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": _div,
    "floor_divide": _floor_divide, "rem": _rem, "pow": _pow, "max": np.maximum,
    "min": np.minimum, "atan2": np.arctan2, "nextafter": np.nextafter, "and": np.bitwise_and,
    "or": np.bitwise_or, "xor": np.bitwise_xor,
    "shift_left": lambda x, s: _shift(x, s, True), "shift_right": lambda x, s: _shift(x, s, False),
    "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
    "ge": np.greater_equal,
}  # fmt: skip


def _convert(x, *, new_dtype, weak=False):
    new_dtype = np.dtype(new_dtype)
    if x.dtype.kind == "f" and new_dtype.kind in "iu":
        info = np.iinfo(new_dtype)
        # Saturating: clamp first (int() of the clamped float truncates toward zero); NaN -> 0.
        out = [0 if math.isnan(v) else int(min(max(v, info.min), info.max)) for v in x.ravel()]
        return np.array(out, dtype=new_dtype).reshape(x.shape)
    return x.astype(new_dtype)


def _gather(x, idx, *, axis):
    # The primitive's own semantics (XLA's): indices clamp into range; negative ones wrap
    # once in the NumPy layer above it, not here.
    n = x.shape[axis]
    return np.take(x, np.clip(idx, 0, n - 1), axis=axis)


def _scatter(x, idx, upd, *, axis, mode):
    n = x.shape[axis]
    out = np.moveaxis(x.copy(), axis, 0)
    upd = np.moveaxis(upd, list(range(axis, axis + idx.ndim)), list(range(idx.ndim)))
    combine = {"set": lambda old, new: new, "add": np.add, "mul": np.multiply,
               "min": np.minimum, "max": np.maximum}[mode]  # fmt: skip
    for pos in np.ndindex(idx.shape):
        i = int(idx[pos])
        if 0 <= i < n:  # out-of-range updates, negative ones too, are dropped
            out[i] = combine(out[i], upd[pos])
    return np.moveaxis(out, 0, axis)


def _cumulative(f):
    def ref(x, *, axis, reverse):
        flip = (lambda a: np.flip(a, axis)) if reverse else (lambda a: a)
        return flip(f(flip(x), axis=axis)).astype(x.dtype)

    return ref


def _dot_general(x, y, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    letters = iter("abcdefghijklmnop")
    xs = [next(letters) for _ in range(x.ndim)]
    ys = [next(letters) for _ in range(y.ndim)]
    for a, b in zip(lc + lb, rc + rb):
        ys[b] = xs[a]
    out = [xs[a] for a in lb]
    out += [c for i, c in enumerate(xs) if i not in lc and i not in lb]
    out += [c for i, c in enumerate(ys) if i not in rc and i not in rb]
    wide = (lambda a: a.astype(F64)) if x.dtype.kind == "f" else (lambda a: a.astype(np.int64))
    if x.dtype == np.bool_:
        wide = lambda a: a.astype(np.int64)
    value = np.einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", wide(x), wide(y))
    dtype = preferred_element_type or x.dtype
    return (value != 0 if dtype == np.bool_ else value).astype(dtype)


def _sort(*operands, dimension, num_keys):
    keys = [np.moveaxis(k, dimension, -1) for k in operands[:num_keys]]
    order = np.lexsort(keys[::-1], axis=-1)  # stable; NaN keys last
    order = np.moveaxis(order, -1, dimension)
    return tuple(np.take_along_axis(x, order, axis=dimension) for x in operands)


def _triangular_solve(a, b, *, left_side, lower, transpose_a, unit_diagonal):
    def mT(x):
        return np.swapaxes(x, -1, -2)

    m = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        eye = np.eye(a.shape[-1], dtype=a.dtype)
        m = m * (1 - eye) + eye
    m = mT(m) if transpose_a else m
    x = np.linalg.solve(m, b) if left_side else mT(np.linalg.solve(mT(m), mT(b)))
    return x.astype(a.dtype)


def _lu(x):
    """Doolittle with partial pivoting: (packed L\\U, pivots, permutation), P x = L U."""
    a = x.astype(F64).copy()
    n = a.shape[0]
    perm = np.arange(n, dtype=np.int32)
    pivots = np.zeros(n, np.int32)
    for j in range(n):
        p = j + int(np.argmax(np.abs(a[j:, j])))
        pivots[j] = p
        a[[j, p]], perm[[j, p]] = a[[p, j]], perm[[p, j]]
        a[j + 1 :, j] /= a[j, j]
        a[j + 1 :, j + 1 :] -= np.outer(a[j + 1 :, j], a[j, j + 1 :])
    return a.astype(x.dtype), pivots, perm


def _per_matrix(f):
    """A reference over one matrix mapped over leading dimensions."""

    def ref(x, **params):
        if x.ndim == 2:
            return f(x, **params)
        outs = [ref(m, **params) for m in x]
        if isinstance(outs[0], tuple):
            return tuple(np.stack(col) for col in zip(*outs))
        return np.stack(outs)

    return ref


def _qr(x, *, full_matrices):
    return tuple(np.linalg.qr(x, mode="complete" if full_matrices else "reduced"))


def _svd(x, *, full_matrices, compute_uv):
    if not compute_uv:
        return (np.linalg.svd(x, compute_uv=False),)
    return tuple(np.linalg.svd(x, full_matrices=full_matrices))


def _eigh(x, *, lower):
    return tuple(np.linalg.eigh(x, UPLO="L" if lower else "U"))


def _pinv(x, *, rtol):
    return np.linalg.pinv(x, rcond=rtol)


LINALG_REFS = {
    "cholesky": _per_matrix(np.linalg.cholesky), "triangular_solve": _triangular_solve,
    "lu": _per_matrix(_lu), "qr": _per_matrix(_qr), "svd": _per_matrix(_svd),
    "eigh": _per_matrix(_eigh), "pinv": _per_matrix(_pinv),
}  # fmt: skip


# ------------------------------------------------------------------ rows


def _unary_rows(name):
    ref = UNARY_REFS[name]
    low, high = DOMAINS.get(name, (-2, 2))
    smooth = name not in NOT_SMOOTH
    edge = np.clip(SPECIAL, -1, 1) if name == "erf_inv" else SPECIAL
    return [
        Spec(name, (rand(3, 4, low=low, high=high),), {}, ref, NOT_DIFFERENTIABLE),
        Spec(name, (edge,), {}, ref, NOT_DIFFERENTIABLE),
        Spec(name, (rand(2, 3, dtype=F64, low=low, high=high),), {}, ref,
             (0,) if smooth else NOT_DIFFERENTIABLE),
    ]  # fmt: skip


def _binary(name, x, y, diff=NOT_DIFFERENTIABLE, linear=()):
    return Spec(name, (x, y), {}, BINARY_REFS[name], diff, linear)


NONZERO = rand(3, 4, dtype=F64, low=0.5, high=2) * np.where(bools(3, 4), 1, -1)
WITH_ZEROS = np.where(bools(3, 4), 0, rand(3, 4)).astype(F32)
I, J = ints(3, 4), ints(3, 4)
U, V = ints(3, 4, dtype=np.uint32, low=0, high=1000), ints(3, 4, dtype=np.uint32, low=0, high=40)
INT_DIVISIONS = ("div", "floor_divide", "rem")


def _nonzero(a):
    return np.where(a == 0, 1, a).astype(a.dtype)


ELEMENTWISE = (
    [row for name in UNARY_REFS for row in _unary_rows(name)]
    + [Spec("neg", (a,), {}, np.negative, d, l) for a, d, l in
       [(rand(3, 4), (), (0,)), (I, (), ()), (rand(5, dtype=F64), (0,), (0,))]]
    + [Spec("abs", (a,), {}, np.abs, d) for a, d in [(SPECIAL, ()), (I, ()), (NONZERO, (0,))]]
    + [Spec("sign", (a,), {}, np.sign, ()) for a in (SPECIAL, I, U, NONZERO)]
    + [Spec("not", (a,), {}, np.invert, ()) for a in (I, bools(5), U.astype(np.uint8))]
    + [Spec(n, (a,), {}, f, ()) for n, f in [("is_finite", np.isfinite), ("is_nan", np.isnan)]
       for a in (SPECIAL, SPECIAL.astype(F64))]
    + [_binary(n, rand(3, 4), rand(3, 4)) for n in BINARY_REFS if n not in
       ("and", "or", "xor", "shift_left", "shift_right", "rem", "floor_divide")]
    # Integer division by zero is defined above the primitive (a composition gives 0, XLA's
    # op leaves it to the hardware), so the primitive's rows divide by nonzero integers.
    + [_binary(n, I, _nonzero(J) if n in INT_DIVISIONS else J) for n in BINARY_REFS
       if n not in ("atan2", "nextafter", "pow")]
    + [_binary(n, U, _nonzero(V) if n in INT_DIVISIONS else V)
       for n in ("div", "floor_divide", "rem", "pow", "xor", "shift_left", "shift_right", "lt")]
    + [_binary(n, WITH_ZEROS, np.where(bools(3, 4), 0, rand(3, 4)).astype(F32))
       for n in ("div", "floor_divide", "rem", "atan2")]
    + [_binary(n, SPECIAL[:, None] * np.ones(10, F32), np.ones(10, F32)[:, None] * SPECIAL)
       for n in ("div", "floor_divide", "rem", "atan2", "max", "min", "eq", "lt", "pow")]
    + [_binary("pow", I, ints(3, 4, low=-3, high=5)),
       _binary("pow", np.array([1, -1, 2, -2, 0, 3], np.int32),
               np.array([-3, -3, -1, 3, 2, 21], np.int32)),
       _binary("shift_left", I, ints(3, 4, low=-2, high=40)),
       _binary("shift_right", I, ints(3, 4, low=-2, high=40)),
       _binary("nextafter", SPECIAL, np.full(10, np.inf, F32)),
       _binary("nextafter", SPECIAL.astype(F64), np.full(10, -np.inf, F64))]
    + [_binary(n, TIES, TIES.T.reshape(3, 4)) for n in ("max", "min", "eq", "le", "ge")]
    + [_binary(n, bools(6), bools(6)) for n in ("and", "or", "xor", "max", "min", "eq", "ne")]
    + [_binary(n, rand(3, 4, dtype=F64), rand(3, 4, dtype=F64), (0, 1), lin) for n, lin in
       [("add", (0, 1)), ("sub", (0, 1)), ("mul", (1,)), ("div", (0,)), ("max", ()),
        ("min", ()), ("atan2", ())]]
    + [_binary("div", rand(3, 4, dtype=F64), NONZERO, (0, 1)),
       _binary("pow", rand(3, 4, dtype=F64, low=0.5, high=2), rand(3, 4, dtype=F64), (0, 1)),
       _binary("rem", rand(3, 4, dtype=F64, low=0.1, high=4), rand(3, 4, dtype=F64, low=1.1,
               high=1.6), (0, 1)),
       _binary("floor_divide", rand(3, 4, dtype=F64, low=0.1, high=4),
               rand(3, 4, dtype=F64, low=1.1, high=1.6)),
       _binary("nextafter", rand(4, dtype=F64), rand(4, dtype=F64))]
    + [_binary(n, SPECIAL, np.where(bools(10), SPECIAL, 1.5).astype(F32))
       for n in ("eq", "ne", "lt", "le", "gt", "ge")]
    + [_binary(n, rand(3, 4, dtype=F64), rand(3, 4, dtype=F64)) for n in ("lt", "gt", "ge", "ne")]
)  # fmt: skip


def _select(p, a, b):
    return np.where(p, a, b)


def _fma(a, b, c):
    return (a.astype(F64) * b + c).astype(a.dtype)


SELECT_AND_CASTS = (
    [Spec("select", (bools(3, 4), rand(3, 4), rand(3, 4)), {}, _select, ()),
     Spec("select", (bools(5), ints(5), ints(5)), {}, _select, ()),
     Spec("select", (bools(2, 3), rand(2, 3, dtype=F64), rand(2, 3, dtype=F64)), {}, _select,
          (1, 2), (1, 2)),
     Spec("fma", (rand(3, 4), rand(3, 4), rand(3, 4)), {}, _fma, ()),
     Spec("fma", (rand(4, dtype=F64), rand(4, dtype=F64), rand(4, dtype=F64)), {}, _fma,
          (0, 1, 2), (1, 2)),
     Spec("stop_gradient", (rand(3, 4, dtype=F64),), {}, np.asarray, ()),
     Spec("stop_gradient", (I,), {}, np.asarray, ())]
    + [Spec("convert_element_type", (a,), {"new_dtype": np.dtype(d)}, _convert, ())
       for a, d in [(rand(3, 4) * 100, "i4"), (SPECIAL * 1e10, "i4"), (SPECIAL, "u1"),
                    (SPECIAL, "i8"), (I, "f4"), (rand(3, 4), "f8"), (rand(3, 4), "?"),
                    (I, "?"), (bools(4), "f4"), (rand(3, 4), "f2"), (U, "i8"), (I, "u8")]]
    + [Spec("convert_element_type", (rand(3, 4, dtype=F64),), {"new_dtype": np.dtype("f8")},
            _convert, (0,), (0,)),
       Spec("convert_element_type", (rand(3, 4, dtype=F64),), {"new_dtype": np.dtype("f4")},
            _convert, (), (0,))]
    + [Spec("bitcast_convert_type", (a,), {"new_dtype": np.dtype(d)},
            lambda x, *, new_dtype: x.view(new_dtype), ())
       for a, d in [(rand(3, 4), "u4"), (U, "f4"), (I, "u4"), (rand(3, dtype=F64), "i8")]]
)  # fmt: skip

X64 = rand(3, 4, dtype=F64)
IDX = np.array([0, 4, -1, -5, 9, -9, 2], np.int32)  # wrapped negatives; clamped beyond
IN_RANGE = np.array([0, 4, -1, -5, 2, 2], np.int32)
DISTINCT = np.array([0, 4, -1, 7, -9, 1], np.int32)  # no two name one row; 7, -9 dropped


def _lin(name, args, params, ref, dtype_rows=True, xfail=None):
    """A structural primitive: linear in operand 0, rows in f32, i32 and a differentiable f64."""
    rows = [Spec(name, args, params, ref, NOT_DIFFERENTIABLE)]
    if dtype_rows:
        ints_args = tuple((a * 10).astype(np.int32) if a.dtype.kind == "f" else a for a in args)
        rows.append(Spec(name, ints_args, params, ref, NOT_DIFFERENTIABLE))
    f64 = tuple(a.astype(F64) if a.dtype.kind == "f" else a for a in args)
    floats = tuple(i for i, a in enumerate(args) if a.dtype.kind == "f")
    rows.append(Spec(name, f64, params, ref, floats, floats, xfail=xfail or {}))
    return rows


def _broadcast(x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for axis, dim in enumerate(broadcast_dimensions):
        expanded[dim] = x.shape[axis]
    return np.broadcast_to(x.reshape(expanded), shape)


def _slice(x, *, start_indices, limit_indices, strides):
    return x[tuple(slice(a, b, s) for a, b, s in zip(start_indices, limit_indices, strides))]


def _iota(*, dtype, shape, dimension):
    view = [1] * len(shape)
    view[dimension] = shape[dimension]
    return np.broadcast_to(np.arange(shape[dimension]).astype(dtype).reshape(view), shape)


SHAPES = (
    _lin("broadcast_in_dim", (rand(3, 1),), {"shape": (2, 3, 5), "broadcast_dimensions": (1, 2)},
         _broadcast)
    + _lin("broadcast_in_dim", (rand(),), {"shape": (2, 3), "broadcast_dimensions": ()},
           _broadcast, False)
    + _lin("reshape", (rand(3, 4),), {"new_sizes": (2, 6)}, lambda x, *, new_sizes:
           x.reshape(new_sizes))
    + _lin("transpose", (rand(2, 3, 4),), {"permutation": (2, 0, 1)},
           lambda x, *, permutation: x.transpose(permutation))
    + _lin("rev", (rand(2, 3, 4),), {"dimensions": (0, 2)},
           lambda x, *, dimensions: np.flip(x, dimensions))
    + _lin("concatenate", (rand(3, 4), rand(3, 4), rand(3, 2)), {"dimension": 1},
           lambda *xs, dimension: np.concatenate(xs, dimension))
    + _lin("slice", (rand(6, 7),), {"start_indices": (1, 0), "limit_indices": (5, 7),
                                     "strides": (2, 3)}, _slice)
    + _lin("gather", (rand(5, 3), IDX), {"axis": 0}, _gather)
    + _lin("gather", (rand(5, 3), IN_RANGE), {"axis": 0}, _gather, False)
    + _lin("gather", (rand(2, 5, 3), ints(2, 2, low=-7, high=7)), {"axis": 1}, _gather, False)
    + _lin("gather", (rand(4, 6), np.array(2, np.int64)), {"axis": 1}, _gather, False)
    + [Spec("gather", (rand(300), np.array([250, -3], np.int16)), {"axis": 0}, _gather, ()),
       Spec("gather", (rand(30), np.array([250, 3], np.uint8)), {"axis": 0}, _gather, ())]
    + [Spec("scatter", (rand(5, 3), DISTINCT, rand(6, 3)), {"axis": 0, "mode": m}, _scatter, ())
       for m in ("set", "add", "mul", "min", "max")]
    + [Spec("scatter", (ints(5, 3), IDX, ints(7, 3)), {"axis": 0, "mode": m}, _scatter, ())
       for m in ("add", "max")]
    + [Spec("scatter", (rand(2, 5, 3, dtype=F64), idx, rand(2, 4, 3, dtype=F64)),
            {"axis": 1, "mode": "add"}, _scatter, (0, 2), (0, 2))
       for idx in [np.array([0, 4, -5, 4], np.int32), np.array([0, 6, -2, -7], np.int32)]]
    + [Spec("scatter", (rand(5, 3, dtype=F64), idx, rand(len(idx), 3, dtype=F64)),
            {"axis": 0, "mode": "set"}, _scatter, (0, 2), (0, 2))
       for idx in [np.array([0, 4, -2, 2, 1], np.int32), DISTINCT]]
    + [Spec("iota", (), {"dtype": np.dtype(d), "shape": s, "dimension": k}, _iota, ())
       for d, s, k in [("i4", (3, 4), 1), ("f4", (5,), 0), ("u8", (2, 3), 0)]]
)  # fmt: skip


PROD_BUG = "reduce_prod's JVP divides by the operand: NaN where it holds a zero"
EMPTY_BUG = "the NumPy backend fails on an empty reduce_max/min or dot_general contraction"
F16_DOT_BUG = "dot_general's preferred_element_type: the NumPy backend accumulates in f16"


def _reducer(f):
    return lambda x, *, axes: np.asarray(f(x, axis=tuple(axes))).astype(x.dtype)


def _extreme(f, highest: bool):
    """A max (min, with `highest`) reference whose empty reductions give the identity, as
    XLA's reduce does: the lowest (highest) value of the dtype."""

    def ref(x, *, axes):
        if x.dtype.kind == "f":
            initial = np.inf if highest else -np.inf
        elif x.dtype.kind == "b":
            initial = highest
        else:
            initial = np.iinfo(x.dtype).max if highest else np.iinfo(x.dtype).min
        return np.asarray(f(x, axis=tuple(axes), initial=initial))

    return ref


def _arg(f):
    return lambda x, *, axis, index_dtype: f(x, axis=axis).astype(index_dtype)


REDUCTIONS = (
    [Spec(n, (a,), {"axes": ax}, _reducer(f), ()) for n, f in
     [("reduce_sum", np.sum), ("reduce_prod", np.prod)]
     for a, ax in [(rand(3, 4, 5), (0, 2)), (ints(3, 4), (1,)), (U, (0, 1)), (TIES, (1,)),
                   (SPECIAL.reshape(2, 5), (1,))]]
    + [Spec(n, (a,), {"axes": ax}, f, ()) for n, f in
       [("reduce_max", _extreme(np.max, False)), ("reduce_min", _extreme(np.min, True))]
       for a, ax in [(rand(3, 4, 5), (0, 2)), (ints(3, 4), (1,)), (U, (0, 1)), (TIES, (1,)),
                     (SPECIAL.reshape(2, 5), (1,)), (bools(3, 4), (1,))]]
    + [Spec(n, (a,), {"axes": (0,)}, f, (), xfail=dict.fromkeys(("value", "batch", "xla"),
            EMPTY_BUG)) for n, f in [("reduce_max", _extreme(np.max, False)),
                                     ("reduce_min", _extreme(np.min, True))]
       for a in (np.zeros((0, 3), F32), np.zeros((0, 2), np.int32))]
    + [Spec(n, (bools(3, 4),), {"axes": (1,)}, _reducer(f), ()) for n, f in
       [("reduce_and", np.all), ("reduce_or", np.any)]]
    + [Spec(n, (bools(3, 4),), {"axes": (0, 1)}, _reducer(f), ()) for n, f in
       [("reduce_and", np.all), ("reduce_or", np.any)]]
    + [Spec("reduce_sum", (rand(3, 4, dtype=F64),), {"axes": (0,)}, _reducer(np.sum), (0,),
            (0,)),
       Spec("reduce_prod", (NONZERO,), {"axes": (1,)}, _reducer(np.prod), (0,)),
       Spec("reduce_prod", (np.where(bools(3, 4), 0.0, NONZERO),), {"axes": (1,)},
            _reducer(np.prod), (0,), xfail={"jvp": PROD_BUG, "vjp": PROD_BUG}),
       Spec("reduce_max", (rand(3, 4, dtype=F64),), {"axes": (0, 1)},
            _extreme(np.max, False), (0,)),
       Spec("reduce_min", (rand(3, 4, dtype=F64),), {"axes": (1,)},
            _extreme(np.min, True), (0,))]
    + [Spec(n, (a,), {"axis": ax, "index_dtype": np.dtype("i4")}, _arg(f), ())
       for n, f in [("argmax", np.argmax), ("argmin", np.argmin)]
       for a, ax in [(rand(3, 7), 1), (ints(6, 2, low=0, high=3), 0), (SPECIAL, 0),
                     (TIES, 1), (np.array([1.0, np.nan, 3.0, np.nan], F32), 0), (bools(5), 0)]]
    + [Spec(n, (a,), {"axis": ax, "reverse": r}, _cumulative(f), ())
       for n, f in [("cumsum", np.cumsum), ("cumprod", np.cumprod),
                    ("cummax", np.maximum.accumulate)]
       for a, ax in [(rand(3, 7, low=0.5, high=1.5), 1), (ints(9, 2, low=-3, high=4), 0)]
       for r in (False, True)]
    + [Spec("cumsum", (rand(3, 4, dtype=F64),), {"axis": 1, "reverse": r},
            _cumulative(np.cumsum), (0,), (0,)) for r in (False, True)]
    + [Spec("cumprod", (NONZERO,), {"axis": 0, "reverse": r}, _cumulative(np.cumprod), (0,))
       for r in (False, True)]
    + [Spec("cummax", (rand(3, 4, dtype=F64),), {"axis": 1, "reverse": False},
            _cumulative(np.maximum.accumulate), (0,),
            xfail={"jvp": "cummax has no JVP rule", "vjp": "cummax has no JVP rule"})]
)  # fmt: skip


def _dims(contract, batch=((), ())):
    return {"dimension_numbers": (contract, batch)}


MATMUL = _dims(((1,), (0,)))
CONTRACTIONS = (
    [Spec("dot_general", args, params, _dot_general, ()) for args, params in
     [((rand(3, 4), rand(4, 5)), MATMUL),
      ((rand(2, 3, 4), rand(2, 4, 5)), _dims(((2,), (1,)), ((0,), (0,)))),
      ((ints(3, 4), ints(4)), MATMUL),
      ((bools(3, 4), bools(4, 2)), MATMUL),
      ((rand(3, 4, dtype=np.float16), rand(4, dtype=np.float16)), MATMUL)]]
    + [Spec("dot_general", (rand(3, 4, dtype=np.float16), rand(4, dtype=np.float16)),
            {**MATMUL, "preferred_element_type": np.dtype(F32)}, _dot_general, (),
            xfail={"value": F16_DOT_BUG}),
       Spec("dot_general", (np.zeros((3, 0), F32), np.zeros((0, 2), F32)), MATMUL, _dot_general,
            (), xfail=dict.fromkeys(("value", "batch", "xla"), EMPTY_BUG))]
    + [Spec("dot_general", (rand(3, 4, dtype=F64), rand(4, 2, dtype=F64)), MATMUL, _dot_general,
            (0, 1), (1,)),
       Spec("dot_general", (rand(2, 3, 4, dtype=F64), rand(4, 2, 3, dtype=F64)),
            _dims(((2, 1), (0, 2))), _dot_general, (0, 1), (0,)),
       Spec("dot_general", (rand(2, 3, 4, dtype=F64), rand(2, 4, dtype=F64)),
            _dims(((2,), (1,)), ((0,), (0,))), _dot_general, (0, 1), (1,))]
    + [Spec("sort", args, {"dimension": d, "num_keys": k}, _sort, diff) for args, d, k, diff in
       [((np.array([3, 1, 2, 1, 3, 0], np.int32), np.arange(6, dtype=np.int32)), 0, 1, ()),
        ((SPECIAL, np.arange(10, dtype=np.int32)), 0, 1, ()),
        ((TIES, rand(3, 4)), 1, 1, ()),
        ((ints(4, 6, low=0, high=3), ints(4, 6, low=0, high=3), rand(4, 6)), 1, 2, ()),
        ((rand(5, 3),), 0, 1, ()),
        ((rand(5, dtype=F64), rand(5, dtype=F64)), 0, 1, (0, 1))]]
    + [Spec("sort", (rand(3, 5, dtype=F64), rand(3, 5, dtype=F64)), {"dimension": 1,
            "num_keys": 1}, _sort, (0, 1))]
)  # fmt: skip

SQUARE = rand(3, 3, dtype=F64) + 3 * np.eye(3)
LINALG = (
    [Spec("cholesky", (a,), {}, LINALG_REFS["cholesky"], (0,), vary=scale_floats)
     for a in (spd(), spd(2))]
    + [Spec("cholesky", (spd(dtype=F32),), {}, LINALG_REFS["cholesky"], (),
            vary=scale_floats, atol=1e-5)]
    + [Spec("triangular_solve", (SQUARE, rand(3, 2, dtype=F64) if left else rand(2, 3, dtype=F64)),
            {"left_side": left, "lower": lower, "transpose_a": tr, "unit_diagonal": unit},
            LINALG_REFS["triangular_solve"], (0, 1), (1,))
       for left, lower, tr, unit in [(True, True, False, False), (False, True, True, False),
                                     (True, False, True, True), (False, False, False, False)]]
    + [Spec("lu", (a,), {}, LINALG_REFS["lu"], (0,), vary=scale_floats)
       for a in (SQUARE, rand(2, 3, 3, dtype=F64))]
    + [Spec("qr", (a,), {"full_matrices": full}, LINALG_REFS["qr"], (0,), vary=scale_floats)
       for a, full in [(rand(4, 3, dtype=F64), False), (rand(3, 3, dtype=F64), True),
                       (rand(2, 3, 2, dtype=F64), False)]]
    + [Spec("svd", (a,), {"full_matrices": full, "compute_uv": uv}, LINALG_REFS["svd"], (0,),
            vary=scale_floats)
       for a, full, uv in [(rand(4, 3, dtype=F64), False, True), (rand(3, 4, dtype=F64), False,
                           True), (rand(2, 3, 3, dtype=F64), False, False),
                           (rand(3, 3, dtype=F64), True, True)]]
    + [Spec("eigh", (a,), {"lower": lower}, LINALG_REFS["eigh"], (0,), vary=scale_floats)
       for a, lower in [(spd(), True), (rand(3, 3, dtype=F64), False), (spd(2), True)]]
    + [Spec("pinv", (a,), {"rtol": 1e-10}, LINALG_REFS["pinv"], (0,), vary=scale_floats)
       for a in (rand(4, 3, dtype=F64), rand(2, 3, 4, dtype=F64))]
)  # fmt: skip

SPECS = ELEMENTWISE + SELECT_AND_CASTS + SHAPES + REDUCTIONS + CONTRACTIONS + LINALG
