"""Fusion for the CuPy backend: maximal runs of elementwise equations become one CUDA kernel.

`plan(program)` walks a program in order and groups consecutive equations that compute
elementwise over one output shape: arithmetic, bitwise ops and shifts, comparisons,
`select`, conversions and bitcasts, a set of float functions, and the producers that are
elementwise in disguise (`broadcast_in_dim`, whose operand is read through its strides,
and `iota`). Every other equation, and any group member of a dtype CUDA has no plain C
type for (f16, bf16), stays a step of its own. A group becomes a `Kernel`: CUDA C source
with one grid-stride loop, reading the group's inputs once and writing only the values
used after the group. The source depends only on the group's structure, so it is the key
of the compiled-kernel cache. This module only writes text: it imports neither CuPy nor
CUDA, so it runs (and its kernels compile under NVRTC) anywhere.

The semantics are the NumPy backend's, which are XLA's: integer arithmetic wraps (done in
unsigned arithmetic, as C's signed overflow is undefined), integer division truncates and
gives 0 for a zero divisor, a shift by the width or more fills with 0 (or the sign), float
to int conversion saturates with NaN as 0, max and min propagate NaN. Float functions are
CUDA's own, within a few ulp of NumPy's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from jx import primitives
from jx.ir import Literal, Program
from jx.primitives.elementwise import BINARY, UNARY

C_TYPES = {
    np.dtype(np.bool_): "bool",
    np.dtype(np.int8): "signed char",
    np.dtype(np.int16): "short",
    np.dtype(np.int32): "int",
    np.dtype(np.int64): "long long",
    np.dtype(np.uint8): "unsigned char",
    np.dtype(np.uint16): "unsigned short",
    np.dtype(np.uint32): "unsigned int",
    np.dtype(np.uint64): "unsigned long long",
    np.dtype(np.float32): "float",
    np.dtype(np.float64): "double",
}
_UNSIGNED = {
    "signed char": "unsigned char",
    "short": "unsigned short",
    "int": "unsigned int",
    "long long": "unsigned long long",
}

_WRAPPING = {"add": "+", "sub": "-", "mul": "*"}
_BITWISE = {"and": "&", "or": "|", "xor": "^"}
_COMPARE = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
# Float functions: CUDA's name for f32 (f64 drops the trailing f).
_FLOAT_FUNCTIONS = {
    "exp": "expf",
    "log": "logf",
    "sin": "sinf",
    "cos": "cosf",
    "tan": "tanf",
    "tanh": "tanhf",
    "sqrt": "sqrtf",
    "log1p": "log1pf",
    "expm1": "expm1f",
    "floor": "floorf",
    "ceil": "ceilf",
    "abs": "fabsf",
    "sinh": "sinhf",
    "cosh": "coshf",
    "asin": "asinf",
    "acos": "acosf",
    "atan": "atanf",
    "exp2": "exp2f",
    "log2": "log2f",
    "log10": "log10f",
}

FUSABLE = (
    {BINARY[n] for n in (*_WRAPPING, *_BITWISE, "div", "max", "min")}
    | {BINARY["shift_left"], BINARY["shift_right"]}
    | {primitives.COMPARE[n] for n in _COMPARE}
    | {UNARY[n] for n in (*_FLOAT_FUNCTIONS, "neg", "not")}
    | {
        primitives.select_p,
        primitives.convert_p,
        primitives.bitcast_p,
        primitives.broadcast_in_dim_p,
        primitives.iota_p,
    }
)

#: Helpers every kernel may call (device functions, also valid host C++ for the CPU check).
PRELUDE = """\
template <typename T, typename U> __device__ inline T jx_bitcast(U x) {
  union { U from; T to; } v; v.from = x; return v.to;
}
template <typename T> __device__ inline T jx_fmax(T a, T b) {
  return (a != a) ? a : (b != b) ? b : (a > b ? a : b);
}
template <typename T> __device__ inline T jx_fmin(T a, T b) {
  return (a != a) ? a : (b != b) ? b : (a < b ? a : b);
}
__device__ inline float jx_trunc(float x) { return truncf(x); }
__device__ inline double jx_trunc(double x) { return trunc(x); }
template <typename T, typename F> __device__ inline T jx_saturate(F x, T lo, T hi) {
  F t = jx_trunc(x);
  return (t != t) ? (T)0 : (t >= (F)hi) ? hi : (t <= (F)lo) ? lo : (T)t;
}
"""


@dataclass(frozen=True)
class Kernel:
    """One fused group: `source` defines `extern "C" __global__ void <name>(inputs...,
    outputs..., long long n)`; `inputs` and `outputs` are the program's Vars it reads and
    writes, `shape` the one shape of its loop."""

    name: str
    source: str
    inputs: tuple
    outputs: tuple
    shape: tuple


def fusable(eqn) -> bool:
    if eqn.prim not in FUSABLE:
        return False
    if any(type(v) is Literal and np.size(v.value) != 1 for v in eqn.inputs):
        return False  # a constant array: an operand like any other, left to CuPy
    avals = [v.aval for v in eqn.outputs] + [v.aval for v in eqn.inputs]
    return all(a.dtype in C_TYPES for a in avals)


def plan(program: Program) -> list:
    """The program as steps: a `Kernel` for each fused group of two or more equations,
    else the equation itself."""
    uses: dict = {}
    for k, eqn in enumerate(program.eqns):
        for v in eqn.inputs:
            if type(v) is not Literal:
                uses.setdefault(v, []).append(k)
    live_out = {v for v in program.outputs if type(v) is not Literal}
    steps, group = [], []

    def flush(end):
        if len(group) >= 2:
            steps.append(_kernel(group, uses, live_out, end))
        else:
            steps.extend(group)
        group.clear()

    for k, eqn in enumerate(program.eqns):
        shape = eqn.outputs[0].aval.shape if eqn.outputs else None
        if fusable(eqn) and int(np.prod(shape, dtype=np.int64)) > 0:
            if group and shape != group[0].outputs[0].aval.shape:
                flush(k)
            if eqn.prim is primitives.broadcast_in_dim_p and any(
                type(v) is not Literal and v in _defined(group) for v in eqn.inputs
            ):
                flush(k)  # its operand has another shape and was computed in the group
            group.append(eqn)
            continue
        flush(k)
        steps.append(eqn)
    flush(len(program.eqns))
    return steps


def _defined(group) -> set:
    return {v for eqn in group for v in eqn.outputs}


def _kernel(group, uses, live_out, end) -> Kernel:
    defined = _defined(group)
    inputs: list = []
    for eqn in group:
        for v in eqn.inputs:
            if type(v) is not Literal and v not in defined and v not in inputs:
                inputs.append(v)
    outputs = [
        v
        for eqn in group
        for v in eqn.outputs
        if v in live_out or any(k >= end for k in uses.get(v, ()))
    ]
    shape = group[0].outputs[0].aval.shape
    body = _body(group, inputs, outputs, shape)
    params = [f"const {C_TYPES[v.aval.dtype]}* __restrict__ in{i}" for i, v in enumerate(inputs)]
    params += [f"{C_TYPES[v.aval.dtype]}* __restrict__ out{i}" for i, v in enumerate(outputs)]
    params.append("long long n")
    signature = ", ".join(params)
    loop = (
        "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;\n"
        "       i += (long long)blockDim.x * gridDim.x) {\n" + body + "  }\n"
    )
    digest = hashlib.sha1((signature + loop).encode()).hexdigest()[:16]
    name = f"jx_fused_{digest}"
    source = f'{PRELUDE}\nextern "C" __global__ void {name}({signature}) {{\n{loop}}}\n'
    return Kernel(name, source, tuple(inputs), tuple(outputs), shape)


def _body(group, inputs, outputs, shape) -> str:
    names: dict = {}
    lines = []
    coords = set()  # the output coordinates some operand is read by
    for eqn in group:
        if eqn.prim is primitives.iota_p:
            coords.add(eqn.params["dimension"])
        elif eqn.prim is primitives.broadcast_in_dim_p:
            (x,) = eqn.inputs
            if type(x) is not Literal and x.aval.shape != tuple(shape):
                dims = eqn.params["broadcast_dimensions"]
                coords |= {dims[a] for a, n in enumerate(x.aval.shape) if n != 1}
    if coords:
        strides = np.cumprod((1,) + tuple(reversed(shape[1:])))[::-1]
        for d in sorted(coords):
            lines.append(f"long long c{d} = (i / {int(strides[d])}LL) % {int(shape[d])}LL;")
    counter = [0]

    def fresh(aval, expr):
        name = f"v{counter[0]}"
        counter[0] += 1
        lines.append(f"{C_TYPES[aval.dtype]} {name} = {expr};")
        return name

    for k, v in enumerate(inputs):
        if v.aval.shape == tuple(shape):
            names[v] = fresh(v.aval, f"in{k}[i]")

    for eqn in group:
        out = eqn.outputs[0]
        if eqn.prim is primitives.broadcast_in_dim_p:
            (x,) = eqn.inputs
            if type(x) is Literal:
                expr = _constant(np.asarray(x.value).reshape(-1)[0])
            elif x in names and x.aval.shape == tuple(shape):
                expr = names[x]
            else:
                expr = f"in{inputs.index(x)}[{_broadcast_index(x.aval.shape, eqn.params)}]"
            names[out] = fresh(out.aval, expr)
            continue
        if eqn.prim is primitives.iota_p:
            names[out] = fresh(out.aval, f"({C_TYPES[out.aval.dtype]})c{eqn.params['dimension']}")
            continue
        for x in eqn.inputs:
            if type(x) is not Literal and x not in names:  # a 0-d input, read once
                names[x] = fresh(x.aval, f"in{inputs.index(x)}[0]")
        args = [_constant(x.value) if type(x) is Literal else names[x] for x in eqn.inputs]
        names[out] = fresh(out.aval, _expression(eqn, args))
    for k, v in enumerate(outputs):
        lines.append(f"out{k}[i] = {names[v]};")
    return "".join(f"    {line}\n" for line in lines)


def _broadcast_index(operand_shape, params) -> str:
    terms = []
    stride = 1
    dims = params["broadcast_dimensions"]
    for axis in reversed(range(len(operand_shape))):
        if operand_shape[axis] != 1:
            terms.append(f"c{dims[axis]} * {stride}LL" if stride != 1 else f"c{dims[axis]}")
        stride *= operand_shape[axis]
    return " + ".join(reversed(terms)) or "0"


def _constant(value) -> str:
    """A scalar as a C expression of its exact value and type, in parentheses."""
    v = np.asarray(value).reshape(())
    ctype = C_TYPES[v.dtype]
    if v.dtype == np.bool_:
        return "true" if bool(v) else "false"
    if v.dtype.kind == "f":
        x = float(v)
        if not np.isfinite(x):
            return f"(jx_bitcast<{ctype}>({_bits(v)}))"
        return f"({x.hex()})" if v.dtype == np.float64 else f"({x!r}f)"
    if v.dtype.kind == "u":
        return f"(({ctype}){int(v)}ULL)"
    if int(v) == np.iinfo(np.int64).min:
        return f"(({ctype})(-9223372036854775807LL - 1))"
    return f"(({ctype})({int(v)}LL))"


def _bits(v: np.ndarray) -> str:
    if v.dtype == np.float32:
        return f"(unsigned int){int(v.view(np.uint32))}U"
    return f"(unsigned long long){int(v.view(np.uint64))}ULL"


def _expression(eqn, args) -> str:
    prim, out = eqn.prim, eqn.outputs[0].aval
    ctype = C_TYPES[out.dtype]
    name = prim.name
    if name in _WRAPPING:
        op = _WRAPPING[name]
        if out.dtype.kind == "f":
            return f"{args[0]} {op} {args[1]}"
        unsigned = _UNSIGNED.get(ctype, ctype)
        return f"({ctype})(({unsigned}){args[0]} {op} ({unsigned}){args[1]})"
    if name in _BITWISE:
        return f"({ctype})({args[0]} {_BITWISE[name]} {args[1]})"
    if name in _COMPARE:
        return f"{args[0]} {_COMPARE[name]} {args[1]}"
    if name == "div":
        if out.dtype.kind == "f":
            return f"{args[0]} / {args[1]}"
        a, b = args
        if out.dtype.kind == "u":
            return f"({b} == 0) ? ({ctype})0 : ({ctype})({a} / {b})"
        unsigned = _UNSIGNED.get(ctype, ctype)
        return (
            f"({b} == 0) ? ({ctype})0 : ({b} == -1) ? ({ctype})(({unsigned})0 - "
            f"({unsigned}){a}) : ({ctype})({a} / {b})"
        )
    if name in ("max", "min"):
        if out.dtype.kind == "f":
            return f"jx_f{name}({args[0]}, {args[1]})"
        op = ">" if name == "max" else "<"
        return f"({args[0]} {op} {args[1]}) ? {args[0]} : {args[1]}"
    if name in ("shift_left", "shift_right"):
        bits = out.dtype.itemsize * 8
        a, s = args
        unsigned = _UNSIGNED.get(ctype, ctype)
        big = f"(({unsigned}){s} >= {bits}U)"
        if name == "shift_left":
            return f"{big} ? ({ctype})0 : ({ctype})(({unsigned}){a} << {s})"
        fill = (
            "(" + ctype + ")0" if out.dtype.kind == "u" else f"({a} < 0 ? ({ctype})-1 : ({ctype})0)"
        )
        return f"{big} ? {fill} : ({ctype})({a} >> {s})"
    if name == "neg":
        if out.dtype.kind == "f":
            return f"-{args[0]}"
        unsigned = _UNSIGNED.get(ctype, ctype)
        return f"({ctype})(({unsigned})0 - ({unsigned}){args[0]})"
    if name == "not":
        return f"!{args[0]}" if out.dtype == np.bool_ else f"({ctype})~{args[0]}"
    if name in _FLOAT_FUNCTIONS:
        if out.dtype.kind != "f":
            if name == "abs":
                return f"({args[0]} < 0) ? ({ctype})(-{args[0]}) : {args[0]}"
            raise AssertionError(f"{name} of {out.dtype}")
        fn = _FLOAT_FUNCTIONS[name]
        return f"{fn if out.dtype == np.float32 else fn[:-1]}({args[0]})"
    if prim is primitives.select_p:
        pred, on_true, on_false = args
        return f"{pred} ? {on_true} : {on_false}"
    if prim is primitives.bitcast_p:
        src = C_TYPES[eqn.inputs[0].aval.dtype]
        return f"jx_bitcast<{ctype}, {src}>({args[0]})"
    if prim is primitives.convert_p:
        src = eqn.inputs[0].aval.dtype
        if out.dtype == np.bool_:
            return f"{args[0]} != 0"
        if src.kind == "f" and out.dtype.kind in "iu":
            info = np.iinfo(out.dtype)
            lo, hi = (
                _constant(np.asarray(info.min, out.dtype)),
                _constant(np.asarray(info.max, out.dtype)),
            )
            return f"jx_saturate<{ctype}>({args[0]}, {lo}, {hi})"
        if src.kind in "iub" and out.dtype.kind in "iu":
            unsigned = _UNSIGNED.get(ctype, ctype)
            return f"({ctype})({unsigned}){args[0]}"
        return f"({ctype}){args[0]}"
    raise AssertionError(f"no CUDA expression for {name}")
