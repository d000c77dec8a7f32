"""The NumPy backend: the reference every other backend is tested against.

`IMPLS` maps each primitive to a NumPy function of (arrays..., **params). `run` interprets
a Program equation by equation; `compile` (what `jit` uses) returns a callable over a
Program after the simplification passes. Results are always `np.ndarray` (never NumPy
scalars), in the dtype the primitive's shape rule promised.
"""

from __future__ import annotations

import numpy as np
from jx import dtypes, prims
from jx.errors import JxError, JxRuntimeError
from jx.ir import Literal, Program

name = "numpy"


def _wrap(f):
    return lambda *xs, **params: f(*xs)


def _shift_amount(s, bits):
    """The shift as one in-range scalar when it is a broadcast constant (the usual case), the
    array when all of it is in range, else None (shifts >= the width give 0, as in XLA)."""
    if s.size == 0:
        return s
    if not any(s.strides):
        v = int(s.flat[0])
        return v if 0 <= v < bits else None
    return s if int(s.min()) >= 0 and int(s.max()) < bits else None


def _shift_left(x, s):
    bits = x.dtype.itemsize * 8
    amount = _shift_amount(s, bits)
    if amount is not None:
        return np.left_shift(x, np.asarray(amount, dtype=x.dtype))
    big = s >= bits
    out = np.left_shift(x, np.where(big, 0, s).astype(x.dtype))
    return np.where(big, np.zeros_like(x), out)


def _shift_right(x, s):
    bits = x.dtype.itemsize * 8
    amount = _shift_amount(s, bits)
    if amount is not None:
        return np.right_shift(x, np.asarray(amount, dtype=x.dtype))
    big = s >= bits
    out = np.right_shift(x, np.where(big, 0, s).astype(x.dtype))
    fill = np.zeros_like(x) if x.dtype.kind == "u" else np.where(x < 0, -1, 0).astype(x.dtype)
    return np.where(big, fill, out)


def _int_pow(x, y):
    if x.dtype.kind in "iu":
        if np.any(y < 0):
            # NumPy raises; JAX gives 0 except for bases of +-1. Follow JAX: no exception.
            safe = np.where(y < 0, 0, y)
            out = np.power(x, safe)
            inv = np.where(np.abs(x) == 1, np.power(x, np.abs(y) % 2 + 0), 0).astype(x.dtype)
            return np.where(y < 0, inv, out)
        return np.power(x, y)
    return np.power(x, y)


def _trunc_div(x, y):
    """Integer division rounding toward zero, as lax.div (and C) define it."""
    q = _floor_divide(x, y)
    return np.where((q < 0) & (q * y != x), q + 1, q).astype(x.dtype)


def _floor_divide(x, y):
    if x.dtype.kind in "iu":
        with np.errstate(divide="ignore"):
            return np.floor_divide(x, np.where(y == 0, 1, y)) * (y != 0)
    return np.floor_divide(x, y)


def _rem(x, y):
    if x.dtype.kind in "iu":
        with np.errstate(divide="ignore"):
            return np.remainder(x, np.where(y == 0, 1, y)) * (y != 0)
    return np.remainder(x, y)


def _erf(x):
    from math import erf

    return np.vectorize(erf, otypes=[x.dtype])(x) if x.size else x


def _round(x):
    return np.round(x)  # round half to even, as NumPy and JAX's jnp.round


IMPLS: dict[str, object] = {
    "neg": _wrap(np.negative),
    "sign": _wrap(np.sign),
    "abs": _wrap(np.abs),
    "exp": _wrap(np.exp),
    "exp2": _wrap(np.exp2),
    "log": _wrap(np.log),
    "log2": _wrap(np.log2),
    "log10": _wrap(np.log10),
    "log1p": _wrap(np.log1p),
    "expm1": _wrap(np.expm1),
    "tanh": _wrap(np.tanh),
    "sin": _wrap(np.sin),
    "cos": _wrap(np.cos),
    "tan": _wrap(np.tan),
    "asin": _wrap(np.arcsin),
    "acos": _wrap(np.arccos),
    "atan": _wrap(np.arctan),
    "sinh": _wrap(np.sinh),
    "cosh": _wrap(np.cosh),
    "asinh": _wrap(np.arcsinh),
    "acosh": _wrap(np.arccosh),
    "atanh": _wrap(np.arctanh),
    "sqrt": _wrap(np.sqrt),
    "rsqrt": lambda x: (1 / np.sqrt(x)).astype(x.dtype),
    "logistic": lambda x: (1 / (1 + np.exp(-x))).astype(x.dtype),
    "erf": _wrap(_erf),
    "floor": _wrap(np.floor),
    "ceil": _wrap(np.ceil),
    "round": _wrap(_round),
    "not": lambda x: np.logical_not(x) if x.dtype == np.bool_ else np.invert(x),
    "is_finite": _wrap(np.isfinite),
    "is_nan": _wrap(np.isnan),
    "add": _wrap(np.add),
    "sub": _wrap(np.subtract),
    "mul": _wrap(np.multiply),
    "div": lambda x, y: np.true_divide(x, y) if x.dtype.kind not in "iub" else _trunc_div(x, y),
    "floor_divide": _wrap(_floor_divide),
    "rem": _wrap(_rem),
    "pow": _wrap(_int_pow),
    "max": _wrap(np.maximum),
    "min": _wrap(np.minimum),
    "atan2": _wrap(np.arctan2),
    "nextafter": _wrap(np.nextafter),
    "and": _wrap(np.bitwise_and),
    "or": _wrap(np.bitwise_or),
    "xor": _wrap(np.bitwise_xor),
    "shift_left": _wrap(_shift_left),
    "shift_right": _wrap(_shift_right),
    "eq": _wrap(np.equal),
    "ne": _wrap(np.not_equal),
    "lt": _wrap(np.less),
    "le": _wrap(np.less_equal),
    "gt": _wrap(np.greater),
    "ge": _wrap(np.greater_equal),
    "select": _wrap(np.where),
    "stop_gradient": _wrap(np.asarray),
}

IMPLS["convert_element_type"] = lambda x, *, new_dtype, weak=False: _convert(x, new_dtype)
IMPLS["bitcast_convert_type"] = lambda x, *, new_dtype: x.view(new_dtype)


def _convert(x, dtype):
    dtype = np.dtype(dtype)
    if (x.dtype.kind == "f" or x.dtype == dtypes.bf16) and dtype.kind in "iu":
        # Like XLA: NaN -> 0 and out-of-range values saturate instead of being undefined.
        # The bounds are compared, not clipped to: i32's max is no f32, and would wrap.
        info = np.iinfo(dtype)
        t = np.trunc(x.astype(np.float32) if x.dtype == dtypes.bf16 else x)
        high, low = t >= float(info.max), t <= float(info.min)
        out = np.where(high | low | np.isnan(t), 0, t).astype(dtype)
        return np.where(high, info.max, np.where(low, info.min, out)).astype(dtype)
    return x.astype(dtype)


def _broadcast_in_dim(x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for axis, dim in enumerate(broadcast_dimensions):
        expanded[dim] = x.shape[axis]
    return np.broadcast_to(x.reshape(expanded), shape)


def _gather(x, idx, *, axis):
    n = x.shape[axis]
    idx = np.where(idx < 0, idx + n, idx)
    return np.take(x, np.clip(idx, 0, max(n - 1, 0)), axis=axis)


_SCATTER = {"add": np.add, "mul": np.multiply, "min": np.minimum, "max": np.maximum}


def _scatter(x, idx, updates, *, axis, mode):
    n = x.shape[axis]
    idx = np.where(idx < 0, idx + n, idx)
    # Out-of-range updates are dropped, as JAX does for scatter (gather clamps instead).
    keep = (idx >= 0) & (idx < n)
    out = np.array(np.moveaxis(x, axis, 0), copy=True)
    upd = np.moveaxis(updates, list(range(axis, axis + idx.ndim)), list(range(idx.ndim)))
    idx, upd = idx[keep], upd[keep]
    if mode == "set":
        out[idx] = upd
    else:
        _SCATTER[mode].at(out, idx, upd)
    return np.moveaxis(out, 0, axis)


def _slice(x, *, start_indices, limit_indices, strides):
    return x[tuple(slice(a, b, s) for a, b, s in zip(start_indices, limit_indices, strides))]


def _iota(*, dtype, shape, dimension):
    ar = np.arange(shape[dimension], dtype=dtype)
    view = [1] * len(shape)
    view[dimension] = shape[dimension]
    return np.broadcast_to(ar.reshape(view), shape)


def _reducer(f):
    return lambda x, *, axes: f(x, axis=tuple(axes))


def _accumulating_reducer(f):
    # NumPy widens small ints (np.sum of i32 is i64); the shape rule promised x's dtype.
    return lambda x, *, axes: f(x, axis=tuple(axes), dtype=x.dtype)


def _cumulative(f):
    def run(x, *, axis, reverse):
        if reverse:
            return np.flip(f(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
        return f(x, axis=axis, dtype=x.dtype)

    return run


def _dot_general(x, y, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    xfree = [i for i in range(x.ndim) if i not in lc and i not in lb]
    yfree = [i for i in range(y.ndim) if i not in rc and i not in rb]
    xt = np.transpose(x, list(lb) + xfree + list(lc))
    yt = np.transpose(y, list(rb) + list(rc) + yfree)
    nb = len(lb)
    bshape = xt.shape[:nb]
    xm = xt.reshape(bshape + (int(np.prod(xt.shape[nb : nb + len(xfree)], dtype=np.int64)), -1))
    ym = yt.reshape(bshape + (int(np.prod(yt.shape[nb : nb + len(rc)], dtype=np.int64)), -1))
    out = np.matmul(xm, ym)
    out = out.reshape(bshape + xt.shape[nb : nb + len(xfree)] + yt.shape[nb + len(rc) :])
    return out if preferred_element_type is None else out.astype(preferred_element_type)


IMPLS.update(
    {
        "broadcast_in_dim": _broadcast_in_dim,
        "reshape": lambda x, *, new_sizes: x.reshape(new_sizes),
        "transpose": lambda x, *, permutation: np.transpose(x, permutation),
        "rev": lambda x, *, dimensions: np.flip(x, dimensions),
        "concatenate": lambda *xs, dimension: np.concatenate(xs, axis=dimension),
        "slice": _slice,
        "gather": _gather,
        "scatter": _scatter,
        "iota": _iota,
        "reduce_sum": _accumulating_reducer(np.sum),
        "reduce_prod": _accumulating_reducer(np.prod),
        "reduce_max": _reducer(np.max),
        "reduce_min": _reducer(np.min),
        "reduce_and": _reducer(np.all),
        "reduce_or": _reducer(np.any),
        "argmax": lambda x, *, axis, index_dtype: np.argmax(x, axis=axis).astype(index_dtype),
        "argmin": lambda x, *, axis, index_dtype: np.argmin(x, axis=axis).astype(index_dtype),
        "cumsum": _cumulative(np.cumsum),
        "cumprod": _cumulative(np.cumprod),
        "cummax": _cumulative(np.maximum.accumulate),
        "dot_general": _dot_general,
    }
)


def _cond(index, *operands, branches):
    i = int(np.clip(index, 0, len(branches) - 1))
    return run(branches[i], operands)


def _while(*args, cond_program, body_program, cond_nconsts, body_nconsts):
    cconsts = args[:cond_nconsts]
    bconsts = args[cond_nconsts : cond_nconsts + body_nconsts]
    carry = list(args[cond_nconsts + body_nconsts :])
    while bool(run(cond_program, [*cconsts, *carry])[0]):
        carry = run(body_program, [*bconsts, *carry])
    return carry


def _scan(*args, body, length, num_consts, num_carry, reverse):
    consts = args[:num_consts]
    carry = list(args[num_consts : num_consts + num_carry])
    xs = args[num_consts + num_carry :]
    ys = []
    for i in range(length - 1, -1, -1) if reverse else range(length):
        outs = run(body, [*consts, *carry, *(x[i] for x in xs)])
        carry, y = outs[:num_carry], outs[num_carry:]
        ys.append(y)
    if reverse:
        ys.reverse()
    n_ys = len(body.outputs) - num_carry
    out_ys = [
        np.stack([y[k] for y in ys]) if ys else np.zeros((0,) + aval.shape, aval.dtype)
        for k, aval in enumerate(body.out_avals[num_carry:])
    ]
    assert len(out_ys) == n_ys
    return [*carry, *out_ys]


def _sort(*operands, dimension, num_keys):
    keys = operands[:num_keys]
    order = np.lexsort(tuple(np.moveaxis(k, dimension, -1) for k in reversed(keys)), axis=-1)
    order = np.moveaxis(order, -1, dimension)
    return [np.take_along_axis(x, order, axis=dimension) for x in operands]


def _flat(f):
    """Run an elementwise float function on 1-d data (it may index into its arrays)."""
    return lambda *xs: np.asarray(f(*(x.reshape(-1) for x in xs))).reshape(xs[0].shape)


def _fma(a, b, c):
    if a.dtype == np.float32:
        from jx.backends.xla_math import fma_f32

        return _flat(fma_f32)(a, b, c)
    return a * b + c


def _erf_inv(x):
    if x.dtype == np.float32:
        from jx.backends.xla_math import erf_inv_f32

        return _flat(erf_inv_f32)(x)
    from jx.backends.xla_math import erf_inv_f64

    return _flat(erf_inv_f64)(x.astype(np.float64)).astype(x.dtype)


def _xla_f32(name, fallback):
    """With exact=True, f32 through XLA:CPU's own algorithm, bit for bit (jax.random's
    gumbel depends on it); otherwise NumPy's, which is much faster."""

    def run(x, exact=False):
        if exact and x.dtype == np.float32:
            from jx.backends import xla_math

            return _flat(getattr(xla_math, name))(x)
        return fallback(x)

    return run


IMPLS.update(
    {
        "cond": _cond,
        "while": _while,
        "scan": _scan,
        "sort": _sort,
        "fma": _fma,
        "erf_inv": _wrap(_erf_inv),
        "log": _xla_f32("log_f32", np.log),
        "log1p": _xla_f32("log1p_f32", np.log1p),
    }
)


def run_eqn(prim, args, params):
    """Run one primitive; always a list of ndarrays."""
    with np.errstate(all="ignore"):  # IEEE results (inf, nan) without warnings, as in JAX
        out = IMPLS[prim.name](*args, **params)
    if prim.multiple_results:
        return [np.asarray(o) for o in out]
    return [np.asarray(out)]


# Elementwise primitives that can write into a dead operand's buffer (out=).
INPLACE = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "max": np.maximum,
    "min": np.minimum,
    "and": np.bitwise_and,
    "or": np.bitwise_or,
    "xor": np.bitwise_xor,
    "neg": np.negative,
    "exp": np.exp,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sqrt": np.sqrt,
    "abs": np.abs,
}
_PLANS: dict = {}


def _plan(program: Program):
    """Per equation, the operand positions whose values die there (buffer-reuse candidates).

    Program inputs and outputs never die: the caller owns the inputs and keeps the outputs."""
    plan = _PLANS.get(id(program))
    if plan is not None and plan[0] is program:
        return plan[1]
    last: dict = {}
    for k, eqn in enumerate(program.eqns):
        for v in eqn.inputs:
            if type(v) is not Literal:
                last[v] = k
    keep = set(program.inputs) | {v for v in program.outputs if type(v) is not Literal}
    dying = []
    for k, eqn in enumerate(program.eqns):
        dying.append(
            tuple(
                i
                for i, v in enumerate(eqn.inputs)
                if type(v) is not Literal
                and v not in keep
                and last.get(v) == k
                and eqn.inputs.index(v) == i
            )
        )
    if len(_PLANS) > 512:
        _PLANS.clear()
    _PLANS[id(program)] = (program, dying)
    return dying


def run(program: Program, args) -> list:
    """Interpret a Program equation by equation, reusing dead intermediate buffers."""
    with np.errstate(all="ignore"):  # IEEE results (inf, nan) without warnings, as in JAX
        return _run(program, args)


def _run(program: Program, args) -> list:
    env = dict(zip(program.inputs, args))
    dying = _plan(program)
    # id -> array that must never be written: the caller's arguments, bases of views, and
    # anything an implementation returned unchanged (it may still be live under another name).
    aliased: dict = {id(a): a for a in args}
    for eqn, dead in zip(program.eqns, dying):
        ins = [v.value if type(v) is Literal else env[v] for v in eqn.inputs]
        name = eqn.prim.name
        ufunc = INPLACE.get(name)
        out = None
        if ufunc is not None and dead:
            want = eqn.outputs[0].aval
            for i in dead:
                buf = ins[i]
                if (
                    type(buf) is np.ndarray
                    and buf.base is None
                    and buf.flags.writeable
                    and id(buf) not in aliased
                    and buf.dtype == want.dtype
                    and buf.shape == want.shape
                ):
                    out = ufunc(*ins, out=buf)
                    break
        if out is None:
            try:
                out = IMPLS[name](*ins, **eqn.params)
            except JxError:
                raise
            except Exception as e:  # the equation's own span, not the caller's
                if getattr(e, "jx_passthrough", False):
                    raise
                raise JxRuntimeError(f"{name} failed on the numpy backend: {e}", eqn.span) from None
        for v in (eqn.inputs[i] for i in dead):
            del env[v]
        outs = out if eqn.prim.multiple_results else [out]
        ids = {id(x) for x in ins}
        for var, value in zip(eqn.outputs, outs):
            if type(value) is np.ndarray and value.base is not None:
                aliased[id(value.base)] = value.base
            if id(value) in ids:
                aliased[id(value)] = value
            env[var] = value
    return [np.asarray(v.value if type(v) is Literal else env[v]) for v in program.outputs]


def compile(program: Program):
    return lambda *args: run(program, args)


def to_host(x) -> np.ndarray:
    return np.asarray(x)


def from_host(x) -> np.ndarray:
    return np.asarray(x)


for _name, _impl in IMPLS.items():
    prims.REGISTRY[_name].impls["numpy"] = _impl
