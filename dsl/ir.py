"""The IR: a typed, closed, SSA program, like a jaxpr.

A `Program` has input `Var`s, a list of `Eqn`s `outs = prim[params](ins)` and outputs
(Vars or Literals). Sub-programs (cond branches, loop bodies) are Programs held in params.
Vars compare by identity and get names only when printed. Every equation keeps the span
of the source it came from, so errors at any stage point at the user's line.
"""

from __future__ import annotations

import numpy as np

from .dtypes import ShapedArray, short
from .errors import ValueError as JxValueError
from .limits import how_to_raise, limits


class Var:
    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self) -> str:
        return f"Var({self.aval})"


class Literal:
    """A constant operand: a scalar literal or a captured host array."""

    __slots__ = ("aval", "value")

    def __init__(self, value: np.ndarray, aval: ShapedArray):
        self.value = value
        self.aval = aval

    def __repr__(self) -> str:
        return f"Literal({self.value!r})"


class Eqn:
    __slots__ = ("inputs", "outputs", "params", "prim", "span")

    def __init__(self, prim, inputs, outputs, params, span):
        self.prim = prim
        self.inputs = tuple(inputs)
        self.outputs = tuple(outputs)
        self.params = params
        self.span = span

    def replace(self, **changes) -> Eqn:
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return Eqn(**fields)


class Program:
    __slots__ = ("eqns", "inputs", "outputs")

    def __init__(self, inputs, eqns, outputs):
        self.inputs = tuple(inputs)
        self.eqns = tuple(eqns)
        self.outputs = tuple(outputs)
        if len(self.eqns) > limits.program_equations:
            # Transformations make programs without a builder: the one bound holds here too.
            raise JxValueError(
                f"a program of more than {limits.program_equations:_} equations; "
                + how_to_raise("program_equations"),
                self.eqns[-1].span,
            )

    @property
    def in_avals(self) -> tuple:
        return tuple(v.aval for v in self.inputs)

    @property
    def out_avals(self) -> tuple:
        return tuple(v.aval for v in self.outputs)

    def __str__(self) -> str:
        return pretty(self)


# ------------------------------------------------------------------ printing


class _Namer:
    def __init__(self):
        self.names: dict[int, str] = {}

    def __call__(self, v) -> str:
        if isinstance(v, Literal):
            if v.value.ndim == 0:
                text = repr(v.value.item())
                return f"{text}:{v.aval}"
            return f"const<{v.aval}>"
        key = id(v)
        if key not in self.names:
            self.names[key] = _name(len(self.names))
        return self.names[key]


def _name(n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        text = letters[n % 26] + text
        n = n // 26 - 1
        if n < 0:
            return text


def _param_text(value, namer, indent) -> str:
    if isinstance(value, Program):
        return "\n" + _pretty(value, namer, indent + 4)
    if isinstance(value, tuple) and value and all(isinstance(p, Program) for p in value):
        return "(" + ",".join("\n" + _pretty(p, namer, indent + 4) for p in value) + ")"
    if isinstance(value, np.dtype):
        return short(value)
    return repr(value)


def _lines(program: Program, namer: _Namer, indent: int) -> list[str]:
    """The header, one text per equation (several lines where it holds sub-programs), then
    the outputs line."""
    pad = " " * indent
    ins = " ".join(f"{namer(v)}:{v.aval}" for v in program.inputs)
    lines = [f"{pad}{{ lambda {ins} . let"]
    for eqn in program.eqns:
        outs = " ".join(f"{namer(v)}:{v.aval}" for v in eqn.outputs)
        params = ", ".join(
            f"{k}={_param_text(v, namer, indent + 4)}" for k, v in eqn.params.items()
        )
        args = " ".join(namer(v) for v in eqn.inputs)
        head = f"{eqn.prim.name}[{params}]" if params else eqn.prim.name
        lines.append(f"{pad}    {outs} = {head} {args}".rstrip())
    outs = ", ".join(namer(v) for v in program.outputs)
    lines.append(f"{pad}  in ({outs}) }}")
    return lines


def _pretty(program: Program, namer: _Namer, indent: int) -> str:
    return "\n".join(_lines(program, namer, indent))


def pretty(program: Program) -> str:
    return _pretty(program, _Namer(), 0)


def pretty_around(program: Program, index: int, context: int = 2) -> str:
    """Equation `index` of `program` (its outputs line when `index` is past the last one)
    with `context` equations either side, the one at `index` marked with `>` (index -1
    marks the inputs line); names are those `pretty(program)` gives."""
    lines = _lines(program, _Namer(), 0)
    at = index + 1  # lines[0] is the header
    first, last = max(0, at - context), min(len(lines), at + context + 1)
    shown = [
        ("> " if i == at else "  ") + text.replace("\n", "\n  ") for i, text in enumerate(lines)
    ]
    return "\n".join(
        (["  ..."] if first > 0 else [])
        + shown[first:last]
        + (["  ..."] if last < len(lines) else [])
    )
