"""Lowering of jx IR programs to StableHLO text, the form jaxlib's PJRT client compiles.

`module_text(program)` gives a whole module whose `main` takes the program's inputs, then
its literals hoisted to parameters (so XLA cannot fold them at compile time, see
`Lowering.literal`, and large constants never pass through the text), and returns its
outputs. This file holds the lowering rules of the elementwise, shape and reduction
families (the elementwise ones derived from the registry's categories), keyed by
primitive in `RULES`; `structured.py` has the indexing, sorting, cumulative,
control-flow, collective and linalg ones, and `emit.py` the emitter they all use.
"""

from __future__ import annotations

import numpy as np
from jx import dtypes, primitives
from jx.ir import Program
from jx.primitives.elementwise import BINARY, COMPARE, UNARY
from jx.primitives.reductions import REDUCE

from . import structured  # noqa: F401 - its rules complete RULES
from .emit import RULES, Lowering, Val, i64_array, lower_program, reduce_with


def module_text(
    program: Program, replicas: int | None = None, shardings=None
) -> tuple[str, list[np.ndarray]]:
    """The StableHLO module for `program` and the hoisted literal arrays, which follow the
        program's inputs as extra parameters of `main`. With several replicas (pmap) each input
        and output has a leading axis of 1, the replica's slice of the stacked value; the
        hoisted literals, the same on every replica, keep their shapes (`replicas` None: one
    device, no leading axis). `shardings` (sharded
        `jit`) is (partitions, input shardings, output shardings), HLO sharding strings that
        annotate `main`'s parameters and results for XLA's SPMD partitioner (the hoisted
        literals are replicated)."""
    lw = Lowering(replicas or 1)
    lead = () if replicas is None else (1,)
    args = [Val(lw.fresh("arg"), lead + v.aval.shape, v.aval.dtype) for v in program.inputs]
    inputs = [lw.reshape(a, v.aval.shape) for a, v in zip(args, program.inputs)]
    outs = [lw.reshape(o, lead + o.shape) for o in lower_program(lw, program, inputs)]
    lw.ops("func.return", outs, [])
    params = args + [v for v, _ in lw.hoisted]
    partitions, in_shardings, out_shardings = shardings or (1, (), ())
    if shardings:
        in_shardings = [*in_shardings, *["{replicated}"] * len(lw.hoisted)]
    signature = ", ".join(
        f"{p.name}: {p.type}{_sharding_attr(in_shardings, i)}" for i, p in enumerate(params)
    )
    results = ", ".join(f"{o.type}{_sharding_attr(out_shardings, i)}" for i, o in enumerate(outs))
    attrs = f"mhlo.num_replicas = {replicas or 1} : i32, mhlo.num_partitions = {partitions} : i32"
    text = "\n".join([
        f"module @jx attributes {{{attrs}}} {{",
        f"  func.func public @main({signature}) -> ({results}) {{",
        *lw.lines,
        "  }",
        "}",
    ])  # fmt: skip
    return text, [value for _, value in lw.hoisted]


def _sharding_attr(shardings, i: int) -> str:
    return f' {{mhlo.sharding = "{shardings[i]}"}}' if shardings else ""


# -------------------------------------------------------------------- elementwise

#: The elementwise primitives StableHLO (or CHLO) spells otherwise; every other one of
#: the unary and binary categories lowers to `stablehlo.<its name>`.
_RENAMED = {
    UNARY["exp"]: "stablehlo.exponential", UNARY["log1p"]: "stablehlo.log_plus_one",
    UNARY["expm1"]: "stablehlo.exponential_minus_one", UNARY["sin"]: "stablehlo.sine",
    UNARY["cos"]: "stablehlo.cosine", UNARY["round"]: "stablehlo.round_nearest_even",
    UNARY["neg"]: "stablehlo.negate", UNARY["asin"]: "chlo.asin", UNARY["acos"]: "chlo.acos",
    UNARY["atan"]: "chlo.atan", UNARY["sinh"]: "chlo.sinh", UNARY["cosh"]: "chlo.cosh",
    UNARY["asinh"]: "chlo.asinh", UNARY["acosh"]: "chlo.acosh", UNARY["atanh"]: "chlo.atanh",
    UNARY["erf"]: "chlo.erf", UNARY["erf_inv"]: "chlo.erf_inv",
    BINARY["sub"]: "stablehlo.subtract", BINARY["mul"]: "stablehlo.multiply",
    BINARY["max"]: "stablehlo.maximum", BINARY["min"]: "stablehlo.minimum",
    BINARY["nextafter"]: "chlo.next_after",
}  # fmt: skip


def _opname(prim) -> str:
    return _RENAMED.get(prim, f"stablehlo.{prim.name}")


def _unary(opname):
    # `exact` (log, log1p) asks NumPy for XLA's own algorithm; here it is the only one.
    return lambda lw, outs, x, **params: lw.unary(opname, x)


def _binary(opname):
    return lambda lw, outs, x, y: lw.binary(opname, x, y)


def _compare(direction):
    return lambda lw, outs, x, y: lw.compare(direction.upper(), x, y)


def _log_base(base):
    def rule(lw, outs, x):
        return lw.binary("stablehlo.divide", lw.unary("stablehlo.log", x),
                         lw.full_like(x, np.log(base)))  # fmt: skip

    return rule


def _abs(lw, outs, x):
    return x if x.dtype.kind == "u" else lw.unary("stablehlo.abs", x)


def _sign(lw, outs, x):
    if x.dtype.kind != "u":
        return lw.unary("stablehlo.sign", x)
    return lw.convert(lw.compare("NE", x, lw.full_like(x, 0)), x.dtype)


def _div(lw, outs, x, y):
    # XLA's integer division truncates, as the primitive does; a zero divisor never gets
    # here (the NumPy layer's composition replaces it).
    return lw.binary("stablehlo.divide", x, y)


def _adjust_toward_divisor(lw, x, y, trunc_rem):
    """The mask where a truncated remainder is nonzero with a sign other than y's: there
    NumPy's floor division is one less and its remainder one y more."""
    zero = lw.full_like(x, 0)
    nonzero = lw.compare("NE", trunc_rem, zero)
    signs = lw.compare("NE", lw.compare("LT", trunc_rem, zero), lw.compare("LT", y, zero))
    return lw.binary("stablehlo.and", nonzero, signs)


def _floor_divide(lw, outs, x, y):
    if x.dtype.kind == "u":
        return _div(lw, outs, x, y)
    if dtypes.is_int(x.dtype):
        q = lw.binary("stablehlo.divide", x, y)
        fix = _adjust_toward_divisor(lw, x, y, lw.binary("stablehlo.remainder", x, y))
        return lw.select(fix, lw.binary("stablehlo.subtract", q, lw.full_like(q, 1)), q)
    # NumPy's float floor division: (x - fmod(x, y)) / y, moved down where fmod's sign is
    # not y's, then rounded to the nearest whole number; x / 0 stays x / 0.
    mod = lw.binary("stablehlo.remainder", x, y)
    div = lw.binary("stablehlo.divide", lw.binary("stablehlo.subtract", x, mod), y)
    fix = _adjust_toward_divisor(lw, x, y, mod)
    div = lw.select(fix, lw.binary("stablehlo.subtract", div, lw.full_like(div, 1)), div)
    floor = lw.unary("stablehlo.floor", div)
    up = lw.compare("GT", lw.binary("stablehlo.subtract", div, floor), lw.full_like(x, 0.5))
    floor = lw.select(up, lw.binary("stablehlo.add", floor, lw.full_like(x, 1)), floor)
    # A zero quotient takes the sign of x / y, as in NumPy.
    quotient = lw.binary("stablehlo.divide", x, y)
    signed_zero = lw.binary("stablehlo.multiply", lw.full_like(x, 0.0), quotient)
    floor = lw.select(lw.compare("EQ", div, lw.full_like(x, 0)), signed_zero, floor)
    by_zero = lw.compare("EQ", y, lw.full_like(y, 0))
    return lw.select(by_zero, quotient, floor)


def _rem(lw, outs, x, y):
    r = lw.binary("stablehlo.remainder", x, y)
    if x.dtype.kind == "u":
        return r
    r = lw.select(_adjust_toward_divisor(lw, x, y, r), lw.binary("stablehlo.add", r, y), r)
    if dtypes.is_int(x.dtype):
        return r
    # A zero remainder takes y's sign.
    signed_zero = lw.select(lw.compare("LT", y, lw.full_like(y, 0)), lw.full_like(x, -0.0),
                            lw.full_like(x, 0.0))  # fmt: skip
    return lw.select(lw.compare("EQ", r, lw.full_like(r, 0)), signed_zero, r)


def _pow(lw, outs, x, y):
    # Integer exponents are never negative here: the NumPy layer's composition handles those.
    return lw.binary("stablehlo.power", x, y)


def _shift_right(lw, outs, x, s):
    kind = "arithmetic" if x.dtype.kind == "i" else "logical"
    return lw.binary(f"stablehlo.shift_right_{kind}", x, s)


def _exp2(lw, outs, x):
    return lw.binary("stablehlo.power", lw.full_like(x, 2.0), x)


def _is_finite(lw, outs, x):
    if not dtypes.is_float(x.dtype):
        return lw.const(True, dtypes.bool_, x.shape)
    return lw.op("stablehlo.is_finite", [x], x.shape, dtypes.bool_)


def _is_nan(lw, outs, x):
    if not dtypes.is_float(x.dtype):
        return lw.const(False, dtypes.bool_, x.shape)
    return lw.compare("NE", x, x)


def _select(lw, outs, pred, on_true, on_false):
    return lw.select(pred, on_true, on_false)


def _convert(lw, outs, x, *, new_dtype, weak=False):
    new_dtype = np.dtype(new_dtype)
    if new_dtype == x.dtype:
        return x
    if new_dtype == dtypes.bool_:
        return lw.compare("NE", x, lw.full_like(x, 0))
    return lw.convert(x, new_dtype)


def _bitcast(lw, outs, x, *, new_dtype):
    new_dtype = np.dtype(new_dtype)
    if new_dtype == dtypes.bool_:
        return lw.compare("NE", x, lw.full_like(x, 0))
    if x.dtype == dtypes.bool_:
        return lw.convert(x, new_dtype)
    return lw.op("stablehlo.bitcast_convert", [x], x.shape, new_dtype)


def _fma(lw, outs, a, b, c):
    """a*b + c rounded once. StableHLO has no fused multiply-add, and XLA contracts a
    multiply into an add only where both land in one kernel, so f32 goes through f64: the
    product is exact there, the sum's rounding error is recovered exactly (TwoSum), and a
    sum lying on an f32 rounding tie is nudged toward the exact value before rounding."""
    if a.dtype != dtypes.f32:
        return lw.binary("stablehlo.add", lw.binary("stablehlo.multiply", a, b), c)
    p = lw.binary("stablehlo.multiply", lw.convert(a, dtypes.f64), lw.convert(b, dtypes.f64))
    c = lw.convert(c, dtypes.f64)
    s = lw.binary("stablehlo.add", p, c)
    back_p = lw.binary("stablehlo.subtract", s, c)
    back_c = lw.binary("stablehlo.subtract", s, back_p)
    error = lw.binary("stablehlo.add", lw.binary("stablehlo.subtract", p, back_p),
                      lw.binary("stablehlo.subtract", c, back_c))  # fmt: skip
    low_bits = lw.binary("stablehlo.and", lw.op("stablehlo.bitcast_convert", [s], s.shape,
                                                dtypes.u64), lw.const(0x1FFFFFFF, dtypes.u64, s.shape))  # fmt: skip
    tie = lw.compare("EQ", low_bits, lw.full_like(low_bits, 0x10000000))
    inexact = lw.compare("NE", error, lw.full_like(error, 0))
    toward = lw.select(lw.compare("GT", error, lw.full_like(error, 0)),
                       lw.full_like(s, np.inf), lw.full_like(s, -np.inf))  # fmt: skip
    nudged = lw.binary("chlo.next_after", s, toward)
    s = lw.select(lw.binary("stablehlo.and", tie, inexact), nudged, s)
    return lw.convert(s, dtypes.f32)


# -------------------------------------------------------------------- shapes


def _broadcast_in_dim(lw, outs, x, *, shape, broadcast_dimensions):
    return lw.broadcast(x, shape, broadcast_dimensions)


def _slice(lw, outs, x, *, start_indices, limit_indices, strides):
    attrs = {"start_indices": i64_array(start_indices), "limit_indices": i64_array(limit_indices),
             "strides": i64_array(strides)}  # fmt: skip
    return lw.op("stablehlo.slice", [x], outs[0].shape, x.dtype, attrs)


def _concatenate(lw, outs, *xs, dimension):
    return lw.op("stablehlo.concatenate", list(xs), outs[0].shape, xs[0].dtype,
                 {"dimension": f"{dimension} : i64"})  # fmt: skip


def _iota(lw, outs, *, dtype, shape, dimension):
    return lw.op("stablehlo.iota", [], shape, dtype, {"iota_dimension": f"{dimension} : i64"})


def _rev(lw, outs, x, *, dimensions):
    return lw.op("stablehlo.reverse", [x], x.shape, x.dtype,
                 {"dimensions": i64_array(dimensions)})  # fmt: skip


def _dot_general(lw, outs, x, y, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    fields = [("lhs_batching_dimensions", lb), ("rhs_batching_dimensions", rb),
              ("lhs_contracting_dimensions", lc), ("rhs_contracting_dimensions", rc)]  # fmt: skip
    numbers = ", ".join(f"{k} = [{', '.join(map(str, v))}]" for k, v in fields if len(v))
    dtype = x.dtype
    if dtype == dtypes.bool_:  # a bool product is an OR of ANDs: count, then test
        x, y = lw.convert(x, dtypes.i32), lw.convert(y, dtypes.i32)
    out = lw.op("stablehlo.dot_general", [x, y], outs[0].shape, x.dtype,
                {"dot_dimension_numbers": f"#stablehlo.dot<{numbers}>"})  # fmt: skip
    if dtype == dtypes.bool_:
        out = lw.compare("NE", out, lw.full_like(out, 0))
    return lw.convert(out, outs[0].dtype)


def _reduction(kind):
    return lambda lw, outs, x, *, axes: reduce_with(lw, x, tuple(axes), kind)


def _reduction_kind(name: str) -> str:
    kind = name.removeprefix("reduce_")
    return {"sum": "add", "prod": "mul"}.get(kind, kind)


RULES.update({p: _unary(_opname(p)) for p in UNARY.values()})
RULES.update({p: _binary(_opname(p)) for p in BINARY.values()})
RULES.update({p: _compare(name) for name, p in COMPARE.items()})
RULES.update({p: _reduction(_reduction_kind(name)) for name, p in REDUCE.items()})
RULES.update({
    UNARY["exp2"]: _exp2, UNARY["log2"]: _log_base(2.0), UNARY["log10"]: _log_base(10.0),
    UNARY["abs"]: _abs, UNARY["sign"]: _sign, primitives.is_nan_p: _is_nan,
    primitives.is_finite_p: _is_finite, BINARY["div"]: _div,
    BINARY["floor_divide"]: _floor_divide, BINARY["rem"]: _rem, BINARY["pow"]: _pow,
    BINARY["shift_right"]: _shift_right, primitives.select_p: _select,
    primitives.convert_p: _convert, primitives.bitcast_p: _bitcast, primitives.fma_p: _fma,
    primitives.stop_gradient_p: lambda lw, outs, x: x,
    primitives.broadcast_in_dim_p: _broadcast_in_dim,
    primitives.reshape_p: lambda lw, outs, x, *, new_sizes: lw.reshape(x, new_sizes),
    primitives.transpose_p: lambda lw, outs, x, *, permutation: lw.transpose(x, permutation),
    primitives.rev_p: _rev, primitives.concatenate_p: _concatenate,
    primitives.slice_p: _slice, primitives.iota_p: _iota,
    primitives.dot_general_p: _dot_general,
})  # fmt: skip
