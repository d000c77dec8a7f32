"""The StableHLO emitter: types and constants as MLIR text, `Lowering` (one function's
body, op by op, with nested regions) and `lower_program`, which emits a jx program's
equations through `RULES`, the table from each primitive to its lowering rule
`rule(lw, out_avals, *operands, **params) -> Val | list[Val]`.

Every operation is printed in MLIR's generic form (`%3 = "stablehlo.add"(%1, %2) : (T, T)
-> T`), one spelling for all ops, with SSA names unique across the module so nested
regions (reducers, branches, loop bodies) may refer to any value above them. The rules
themselves are `xla_lower.py` (elementwise, shapes, reductions) and `xla_structured.py`
(indexing, sorting, control flow, collectives, linalg), which fill `RULES`.
"""

from __future__ import annotations

import math

import numpy as np
from jx import dtypes
from jx.errors import ValueError as JxValueError
from jx.ir import Literal, Program

#: primitive -> lowering rule, filled by the rule modules.
RULES: dict = {}

ELEMENT = {
    dtypes.bool_: "i1", dtypes.i8: "i8", dtypes.i16: "i16", dtypes.i32: "i32",
    dtypes.i64: "i64", dtypes.u8: "ui8", dtypes.u16: "ui16", dtypes.u32: "ui32",
    dtypes.u64: "ui64", dtypes.f16: "f16", dtypes.bf16: "bf16", dtypes.f32: "f32",
    dtypes.f64: "f64",
}  # fmt: skip


def tensor_type(shape, dtype) -> str:
    # XLA aborts the process on a shape whose size in bytes overflows int64: refuse it here.
    if math.prod(d or 1 for d in shape) * np.dtype(dtype).itemsize >= 1 << 63:
        raise JxValueError(f"the xla backend cannot hold an array of shape {tuple(shape)}")
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
        rule = RULES.get(eqn.prim)
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


# -------------------------------------------------------------------- reductions
# (shared by the reduction, cumulative, scatter and collective rules)


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
