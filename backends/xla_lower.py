"""Lowering of jx IR programs to StableHLO text, the form jaxlib's PJRT client compiles.

`module_text(program)` gives a whole module whose `main` takes the program's inputs, then
its literals hoisted to parameters (so XLA cannot fold them at compile time, see
`Lowering.literal`, and large constants never pass through the text), and returns its
outputs. Every operation is printed in MLIR's
generic form (`%3 = "stablehlo.add"(%1, %2) : (T, T) -> T`), one spelling for all ops,
with SSA names unique across the module so nested regions (reducers, branches, loop
bodies) may refer to any value above them. `RULES` maps each primitive's name to its
lowering rule `rule(lw, out_avals, *operands, **params) -> Val | list[Val]`; this file
holds the emitter and the elementwise, shape and reduction families, `xla_structured.py`
the indexing, sorting, cumulative, control-flow and collective ones.
"""

from __future__ import annotations

import numpy as np
from jx import dtypes
from jx.ir import Literal, Program

ELEMENT = {
    dtypes.bool_: "i1", dtypes.i8: "i8", dtypes.i16: "i16", dtypes.i32: "i32",
    dtypes.i64: "i64", dtypes.u8: "ui8", dtypes.u16: "ui16", dtypes.u32: "ui32",
    dtypes.u64: "ui64", dtypes.f16: "f16", dtypes.bf16: "bf16", dtypes.f32: "f32",
    dtypes.f64: "f64",
}  # fmt: skip


def tensor_type(shape, dtype) -> str:
    element = ELEMENT[np.dtype(dtype)]
    return f"tensor<{'x'.join(str(d) for d in shape)}x{element}>" if shape else f"tensor<{element}>"


def i64_array(values) -> str:
    return f"array<i64: {', '.join(str(int(v)) for v in values)}>" if values else "array<i64>"


def compare_type(dtype) -> str:
    if dtypes.is_float(dtype):
        return "FLOAT"
    return "SIGNED" if dtype.kind == "i" else "UNSIGNED"


def scalar_text(value, dtype) -> str:
    """One element as MLIR writes it: floats by their exact bits, so inf and NaN survive."""
    dtype = np.dtype(dtype)
    if dtype == dtypes.bool_:
        return "true" if bool(value) else "false"
    if dtypes.is_int(dtype):
        return str(int(value))
    bits = np.asarray(value, dtype).view(f"u{dtype.itemsize}")
    return f"0x{int(bits):0{2 * dtype.itemsize}X}"


def _uniform(flat: np.ndarray) -> bool:
    """Whether every element has the first one's bits (so NaN and -0.0 count exactly)."""
    rows = flat.view(np.uint8).reshape(flat.size, flat.dtype.itemsize)
    return bool((rows == rows[0]).all())


class Val:
    """An SSA value of the function being built: its name, shape and dtype."""

    __slots__ = ("dtype", "name", "shape")

    def __init__(self, name: str, shape, dtype):
        self.name = name
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    @property
    def type(self) -> str:
        return tensor_type(self.shape, self.dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)


class Lowering:
    """Emits the body of one module's `main`, with nested regions, one line per op."""

    def __init__(self, replicas: int = 1):
        self.replicas = replicas
        self.lines: list[str] = []
        self.count = 0
        self.depth = 4
        self.hoisted: list[tuple[Val, np.ndarray]] = []
        self.hoisted_keys: dict[object, Val] = {}

    def fresh(self, prefix: str = "v") -> str:
        self.count += 1
        return f"%{prefix}{self.count}"

    # ---------------------------------------------------------------- emitting ops

    def ops(self, opname, args, outs, attrs=None, regions=()) -> list[Val]:
        """Emit one op with results `outs` ((shape, dtype) pairs); its result Vals."""
        name = self.fresh()
        results = (
            [Val(name, *outs[0])] if len(outs) == 1
            else [Val(f"{name}#{k}", *o) for k, o in enumerate(outs)]
        )  # fmt: skip
        head = f"{name}:{len(outs)} = " if len(outs) > 1 else f"{name} = " if outs else ""
        text = f'{head}"{opname}"({", ".join(a.name for a in args)})'
        if regions:
            text += " (" + ", ".join(regions) + ")"
        if attrs:
            text += " {" + ", ".join(f"{k} = {v}" for k, v in attrs.items()) + "}"
        out_types = ", ".join(tensor_type(*o) for o in outs)
        text += f" : ({', '.join(a.type for a in args)}) -> "
        text += f"({out_types})" if len(outs) != 1 else out_types
        self.lines.append(" " * self.depth + text)
        return results

    def op(self, opname, args, shape, dtype, attrs=None, regions=()) -> Val:
        return self.ops(opname, args, [(shape, dtype)], attrs, regions)[0]

    def region(self, arg_types, body) -> str:
        """A region text: block arguments of `arg_types`, `body(args) -> list[Val]` returned."""
        saved, self.lines = self.lines, []
        self.depth += 2
        args = [Val(self.fresh("r"), shape, dtype) for shape, dtype in arg_types]
        results = body(args)
        self.ops("stablehlo.return", results, [])
        self.depth -= 2
        inner, self.lines = self.lines, saved
        header = ""
        if args:
            header = " " * (self.depth + 1) + "^bb0(" + ", ".join(
                f"{a.name}: {a.type}" for a in args) + "):\n"  # fmt: skip
        return "{\n" + header + "\n".join(inner) + "\n" + " " * self.depth + "}"

    # ---------------------------------------------------------------- helpers

    def const(self, value, dtype, shape=()) -> Val:
        """A constant filled with one scalar value."""
        text = f"dense<{scalar_text(value, dtype)}> : {tensor_type(shape, dtype)}"
        return self.op("stablehlo.constant", [], shape, dtype, {"value": text})

    def full_like(self, x: Val, value) -> Val:
        return self.const(value, x.dtype, x.shape)

    def unary(self, opname, x: Val) -> Val:
        return self.op(opname, [x], x.shape, x.dtype)

    def binary(self, opname, x: Val, y: Val) -> Val:
        return self.op(opname, [x, y], x.shape, x.dtype)

    def compare(self, direction, x: Val, y: Val, kind=None) -> Val:
        attrs = {"comparison_direction": f"#stablehlo<comparison_direction {direction}>",
                 "compare_type": f"#stablehlo<comparison_type {kind or compare_type(x.dtype)}>"}  # fmt: skip
        return self.op("stablehlo.compare", [x, y], x.shape, dtypes.bool_, attrs)

    def select(self, pred: Val, on_true: Val, on_false: Val) -> Val:
        return self.op("stablehlo.select", [pred, on_true, on_false], on_true.shape,
                       on_true.dtype)  # fmt: skip

    def convert(self, x: Val, dtype) -> Val:
        if x.dtype == dtype:
            return x
        return self.op("stablehlo.convert", [x], x.shape, dtype)

    def reshape(self, x: Val, shape) -> Val:
        if tuple(shape) == x.shape:
            return x
        return self.op("stablehlo.reshape", [x], shape, x.dtype)

    def broadcast(self, x: Val, shape, dims) -> Val:
        attrs = {"broadcast_dimensions": i64_array(dims)}
        return self.op("stablehlo.broadcast_in_dim", [x], shape, x.dtype, attrs)

    def transpose(self, x: Val, perm) -> Val:
        shape = [x.shape[p] for p in perm]
        return self.op("stablehlo.transpose", [x], shape, x.dtype,
                       {"permutation": i64_array(perm)})  # fmt: skip

    def reduce(self, xs, inits, axes, combine) -> list[Val]:
        """A (variadic) reduce over `axes`; `combine(accs, items) -> list[Val]` on scalars."""
        shape = tuple(d for i, d in enumerate(xs[0].shape) if i not in axes)
        scalars = [((), x.dtype) for x in xs]
        region = self.region(scalars * 2, lambda a: combine(a[: len(xs)], a[len(xs) :]))
        return self.ops("stablehlo.reduce", [*xs, *inits], [(shape, x.dtype) for x in xs],
                        {"dimensions": i64_array(sorted(axes))}, [region])  # fmt: skip

    def literal(self, lit: Literal, inline: bool) -> Val:
        """A constant operand. XLA evaluates an operation whose operands are all constants
        at compile time, with the C library's functions and without fused multiply-adds, so
        its result would differ from the same program run on data (and from the NumPy
        backend, which reproduces XLA's run-time kernels). So a literal is written inline
        only where its operation also takes data (`inline`), which XLA fuses best, and is
        passed in as a parameter otherwise. An array of one repeated value (a folded
        broadcast) is its scalar broadcast; any other array is always a parameter."""
        value = np.asarray(lit.value)
        if value.size == 0:
            return self.const(0, value.dtype, value.shape)
        flat = np.ascontiguousarray(value).reshape(-1)
        if value.ndim == 0 or _uniform(flat):
            if inline:
                return self.const(flat[0], value.dtype, value.shape)
            scalar = self.parameter(flat[:1].reshape(()), (value.dtype.str, flat[:1].tobytes()))
            return scalar if value.ndim == 0 else self.broadcast(scalar, value.shape, ())
        return self.parameter(value, id(lit.value))

    def parameter(self, value: np.ndarray, key) -> Val:
        """The hoisted parameter holding `value` (one per key)."""
        hoisted = self.hoisted_keys.get(key)
        if hoisted is None:
            hoisted = Val(self.fresh("c"), value.shape, value.dtype)
            self.hoisted.append((hoisted, value))
            self.hoisted_keys[key] = hoisted
        return hoisted


# -------------------------------------------------------------------- programs


def lower_program(lw: Lowering, program: Program, inputs) -> list[Val]:
    """Emit `program`'s equations with its inputs bound to `inputs`; its output Vals.
    `folded` holds the Vars XLA could compute at compile time (from inline constants and
    operations without operands, such as iota); see `Lowering.literal`."""
    env = dict(zip(program.inputs, inputs))
    folded = set()
    for eqn in program.eqns:
        rule = RULES.get(eqn.prim.name)
        if rule is None:
            raise NotImplementedError(f"the xla backend cannot lower '{eqn.prim.name}'")
        literals = [type(v) is Literal for v in eqn.inputs]
        takes_data = not all(lit or v in folded for lit, v in zip(literals, eqn.inputs))
        args = [
            lw.literal(v, takes_data) if lit else env[v] for lit, v in zip(literals, eqn.inputs)
        ]
        outs = rule(lw, [v.aval for v in eqn.outputs], *args, **eqn.params)
        outs = outs if isinstance(outs, list) else [outs]
        env.update(zip(eqn.outputs, outs))
        if not takes_data and not any(literals):
            folded.update(eqn.outputs)
    return [lw.literal(v, True) if type(v) is Literal else env[v] for v in program.outputs]


def module_text(program: Program, replicas: int = 1) -> tuple[str, list[np.ndarray]]:
    """The StableHLO module for `program` and the hoisted literal arrays, which follow the
    program's inputs as extra parameters of `main`. With several replicas (pmap) each input
    and output has a leading axis of 1, the replica's slice of the stacked value; the
    hoisted literals, the same on every replica, keep their shapes."""
    lw = Lowering(replicas)
    lead = (1,) if replicas > 1 else ()
    args = [Val(lw.fresh("arg"), lead + v.aval.shape, v.aval.dtype) for v in program.inputs]
    inputs = [lw.reshape(a, v.aval.shape) for a, v in zip(args, program.inputs)]
    outs = [lw.reshape(o, lead + o.shape) for o in lower_program(lw, program, inputs)]
    lw.ops("func.return", outs, [])
    params = args + [v for v, _ in lw.hoisted]
    signature = ", ".join(f"{p.name}: {p.type}" for p in params)
    results = ", ".join(o.type for o in outs)
    attrs = f"mhlo.num_replicas = {replicas} : i32, mhlo.num_partitions = 1 : i32"
    text = "\n".join([
        f"module @jx attributes {{{attrs}}} {{",
        f"  func.func public @main({signature}) -> ({results}) {{",
        *lw.lines,
        "  }",
        "}",
    ])  # fmt: skip
    return text, [value for _, value in lw.hoisted]


# -------------------------------------------------------------------- elementwise

_UNARY = {
    "exp": "stablehlo.exponential", "log": "stablehlo.log", "log1p": "stablehlo.log_plus_one",
    "expm1": "stablehlo.exponential_minus_one", "tanh": "stablehlo.tanh",
    "logistic": "stablehlo.logistic", "sin": "stablehlo.sine", "cos": "stablehlo.cosine",
    "tan": "stablehlo.tan", "sqrt": "stablehlo.sqrt", "rsqrt": "stablehlo.rsqrt",
    "floor": "stablehlo.floor", "ceil": "stablehlo.ceil", "round": "stablehlo.round_nearest_even",
    "neg": "stablehlo.negate", "not": "stablehlo.not",
    "asin": "chlo.asin", "acos": "chlo.acos", "atan": "chlo.atan", "sinh": "chlo.sinh",
    "cosh": "chlo.cosh", "asinh": "chlo.asinh", "acosh": "chlo.acosh", "atanh": "chlo.atanh",
    "erf": "chlo.erf", "erf_inv": "chlo.erf_inv",
}  # fmt: skip

_BINARY = {
    "add": "stablehlo.add", "sub": "stablehlo.subtract", "mul": "stablehlo.multiply",
    "max": "stablehlo.maximum", "min": "stablehlo.minimum", "atan2": "stablehlo.atan2",
    "and": "stablehlo.and", "or": "stablehlo.or", "xor": "stablehlo.xor",
    "shift_left": "stablehlo.shift_left", "nextafter": "chlo.next_after",
}  # fmt: skip

_COMPARE = {"eq": "EQ", "ne": "NE", "lt": "LT", "le": "LE", "gt": "GT", "ge": "GE"}


def _unary(opname):
    # `exact` (log, log1p) asks NumPy for XLA's own algorithm; here it is the only one.
    return lambda lw, outs, x, **params: lw.unary(opname, x)


def _binary(opname):
    return lambda lw, outs, x, y: lw.binary(opname, x, y)


def _compare(direction):
    return lambda lw, outs, x, y: lw.compare(direction, x, y)


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


def _nonzero_divisor(lw, x, y):
    """(y with zeros replaced by ones, the mask of zeros): integer division by zero gives 0."""
    zero = lw.compare("EQ", y, lw.full_like(y, 0))
    return lw.select(zero, lw.full_like(y, 1), y), zero


def _div(lw, outs, x, y):
    if dtypes.is_float(x.dtype):
        return lw.binary("stablehlo.divide", x, y)
    safe, zero = _nonzero_divisor(lw, x, y)
    return lw.select(zero, lw.full_like(x, 0), lw.binary("stablehlo.divide", x, safe))


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
        safe, zero = _nonzero_divisor(lw, x, y)
        q = lw.binary("stablehlo.divide", x, safe)
        fix = _adjust_toward_divisor(lw, x, safe, lw.binary("stablehlo.remainder", x, safe))
        q = lw.select(fix, lw.binary("stablehlo.subtract", q, lw.full_like(q, 1)), q)
        return lw.select(zero, lw.full_like(x, 0), q)
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
    if dtypes.is_int(x.dtype):
        safe, zero = _nonzero_divisor(lw, x, y)
        r = lw.binary("stablehlo.remainder", x, safe)
        if x.dtype.kind == "i":
            fix = _adjust_toward_divisor(lw, x, safe, r)
            r = lw.select(fix, lw.binary("stablehlo.add", r, safe), r)
        return lw.select(zero, lw.full_like(x, 0), r)
    r = lw.binary("stablehlo.remainder", x, y)
    fix = _adjust_toward_divisor(lw, x, y, r)
    r = lw.select(fix, lw.binary("stablehlo.add", r, y), r)
    # A zero remainder takes y's sign.
    signed_zero = lw.select(lw.compare("LT", y, lw.full_like(y, 0)), lw.full_like(x, -0.0),
                            lw.full_like(x, 0.0))  # fmt: skip
    return lw.select(lw.compare("EQ", r, lw.full_like(r, 0)), signed_zero, r)


def _pow(lw, outs, x, y):
    if dtypes.is_float(x.dtype):
        return lw.binary("stablehlo.power", x, y)
    if x.dtype.kind == "u":
        return lw.binary("stablehlo.power", x, y)
    # A negative integer power is 0, except for bases 1 and -1 (as JAX defines it).
    zero, one = lw.full_like(y, 0), lw.full_like(x, 1)
    negative = lw.compare("LT", y, zero)
    out = lw.binary("stablehlo.power", x, lw.select(negative, zero, y))
    odd = lw.binary("stablehlo.remainder", lw.unary("stablehlo.abs", y), lw.full_like(y, 2))
    unit = lw.compare("EQ", lw.unary("stablehlo.abs", x), one)
    inverse = lw.select(unit, lw.binary("stablehlo.power", x, odd), lw.full_like(x, 0))
    return lw.select(negative, inverse, out)


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


def _not(lw, outs, x):
    return lw.unary("stablehlo.not", x)


def _select(lw, outs, pred, on_true, on_false):
    return lw.select(pred, on_true, on_false)


def _convert(lw, outs, x, *, new_dtype, weak=False):
    new_dtype = np.dtype(new_dtype)
    if new_dtype == x.dtype:
        return x
    if new_dtype == dtypes.bool_:
        return lw.compare("NE", x, lw.full_like(x, 0))
    if dtypes.is_float(x.dtype) and dtypes.is_int(new_dtype):
        # NaN -> 0 and out-of-range values saturate, as the NumPy backend defines it.
        info = np.iinfo(new_dtype)
        t = lw.select(lw.compare("NE", x, x), lw.full_like(x, 0), x)
        out = lw.convert(t, new_dtype)
        low = lw.compare("LE", t, lw.full_like(t, float(info.min)))
        high = lw.compare("GE", t, lw.full_like(t, float(info.max)))
        out = lw.select(low, lw.const(info.min, new_dtype, x.shape), out)
        return lw.select(high, lw.const(info.max, new_dtype, x.shape), out)
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


# -------------------------------------------------------------------- reductions


def identity(kind: str, dtype) -> object:
    """The value a reduction of `kind` starts from."""
    dtype = np.dtype(dtype)
    if kind in ("add", "or"):
        return False if dtype == dtypes.bool_ else 0
    if kind in ("mul", "and"):
        return True if dtype == dtypes.bool_ else 1
    low = kind == "max"
    if dtype == dtypes.bool_:
        return not low
    if dtypes.is_float(dtype):
        return -np.inf if low else np.inf
    info = np.iinfo(dtype)
    return info.min if low else info.max


REDUCERS = {"add": "stablehlo.add", "mul": "stablehlo.multiply", "max": "stablehlo.maximum",
            "min": "stablehlo.minimum", "and": "stablehlo.and", "or": "stablehlo.or"}  # fmt: skip


def reduce_with(lw, x: Val, axes, kind: str) -> Val:
    if not axes:
        return x
    init = lw.const(identity(kind, x.dtype), x.dtype)
    combine = lambda acc, item: [lw.binary(REDUCERS[kind], acc[0], item[0])]
    return lw.reduce([x], [init], axes, combine)[0]


def _reduction(kind):
    return lambda lw, outs, x, *, axes: reduce_with(lw, x, tuple(axes), kind)


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


RULES: dict[str, object] = {}
RULES.update({name: _unary(op) for name, op in _UNARY.items()})
RULES.update({name: _binary(op) for name, op in _BINARY.items()})
RULES.update({name: _compare(d) for name, d in _COMPARE.items()})
RULES.update({
    "exp2": _exp2, "log2": _log_base(2.0), "log10": _log_base(10.0), "abs": _abs,
    "sign": _sign, "not": _not, "is_nan": _is_nan, "is_finite": _is_finite, "div": _div, "floor_divide": _floor_divide,
    "rem": _rem, "pow": _pow, "shift_right": _shift_right, "select": _select,
    "convert_element_type": _convert, "bitcast_convert_type": _bitcast, "fma": _fma,
    "stop_gradient": lambda lw, outs, x: x,
    "broadcast_in_dim": _broadcast_in_dim,
    "reshape": lambda lw, outs, x, *, new_sizes: lw.reshape(x, new_sizes),
    "transpose": lambda lw, outs, x, *, permutation: lw.transpose(x, permutation),
    "rev": _rev, "concatenate": _concatenate, "slice": _slice, "iota": _iota,
    "reduce_sum": _reduction("add"), "reduce_prod": _reduction("mul"),
    "reduce_max": _reduction("max"), "reduce_min": _reduction("min"),
    "reduce_and": _reduction("and"), "reduce_or": _reduction("or"),
    "dot_general": _dot_general,
})  # fmt: skip

from jx.backends import xla_structured  # noqa: F401 - it adds its rules to RULES
