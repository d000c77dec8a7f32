"""Reverse mode: transpose the linear part of a program, IR -> IR.

`transpose_program(program, linear_in, linear_out)` takes a program some of whose inputs
are linear (tangents, for a JVP program) and returns one taking (the non-linear inputs,
cotangents of the linear outputs) to the cotangents of the linear inputs. A forward pass
re-emits everything that does not depend on linear inputs (the primal computation);
a backward pass walks the linear equations in reverse, applying each primitive's
transpose rule (defined with the primitive, in `primitives/`). Which outputs of an
equation are linear is all of them, except for primitives with sub-programs, whose rule
in `linearity_rules` (registered by the control family) looks inside.
"""

from __future__ import annotations

from ..core import CTX, Builder, bind, trace_into
from ..errors import TypeError as JxTypeError
from ..ir import Literal, Program
from ..passes import without_effects
from ..primitives.elementwise import add_tangents
from ..primitives.shapes import full
from ..registry import Undefined

#: primitive -> rule(linear input mask, **params) -> linear output mask, for primitives
#: whose outputs need not all depend on a linear input (those with sub-programs).
linearity_rules: dict = {}


def _zeros(aval):
    return full(aval.shape, 0, aval.dtype)


def _acc(table, var, ct):
    if ct is not None:
        table[var] = add_tangents(table.get(var), ct)


# ------------------------------------------------------------------ linearity analysis


def linear_outputs(program: Program, linear_in) -> list:
    """Which outputs depend on the linear inputs (recursing into sub-programs)."""
    lin = {v for v, m in zip(program.inputs, linear_in) if m}
    for eqn in program.eqns:
        mask = [type(v) is not Literal and v in lin for v in eqn.inputs]
        if any(mask):
            for v, m in zip(eqn.outputs, _eqn_linear_outputs(eqn, mask)):
                if m:
                    lin.add(v)
    return [type(v) is not Literal and v in lin for v in program.outputs]


def _eqn_linear_outputs(eqn, mask) -> list:
    rule = linearity_rules.get(eqn.prim)
    return [True] * len(eqn.outputs) if rule is None else rule(mask, **eqn.params)


# ------------------------------------------------------------------ the transformation


def transpose_program(program: Program, linear_in, linear_out, effects=False) -> Program:
    """The transposed program. Its forward pass keeps the effects (`debug_print`) only with
    `effects`: grad and vjp run the primal program for its value anyway, and print there."""
    if not effects:
        program = without_effects(program)
    builder = Builder()
    with trace_into(builder):
        value, lin = {}, set()
        for v, m in zip(program.inputs, linear_in):
            if m:
                lin.add(v)
            else:
                value[v] = builder.new_input(v.aval)
        outs_lin = [v for v, m in zip(program.outputs, linear_out) if m]
        cts_in = [builder.new_input(v.aval.strong()) for v in outs_lin]

        def read(v):
            return v.value if type(v) is Literal else value[v]

        pending = []
        for eqn in program.eqns:
            mask = [type(v) is not Literal and v in lin for v in eqn.inputs]
            saved = CTX.span
            CTX.span = eqn.span or saved
            try:
                if not any(mask):
                    out = bind(eqn.prim, *[read(v) for v in eqn.inputs], **eqn.params)
                    outs = out if eqn.prim.multiple_results else [out]
                    value.update(zip(eqn.outputs, outs))
                    continue
                out_mask = _eqn_linear_outputs(eqn, mask)
                if not all(out_mask):
                    # Primal outputs of a mixed equation: run it with zero tangents.
                    args = [_zeros(v.aval) if m else read(v) for v, m in zip(eqn.inputs, mask)]
                    outs = bind(eqn.prim, *args, **eqn.params)
                    for v, m, o in zip(eqn.outputs, out_mask, outs):
                        if not m:
                            value[v] = o
                lin.update(v for v, m in zip(eqn.outputs, out_mask) if m)
                pending.append((eqn, mask, out_mask))
            finally:
                CTX.span = saved
        ct: dict = {}
        for v, c in zip(outs_lin, cts_in):
            if type(v) is not Literal and v in lin:
                _acc(ct, v, c)
        for eqn, mask, out_mask in reversed(pending):
            cts = [ct.pop(v, None) if m else None for v, m in zip(eqn.outputs, out_mask)]
            if all(c is None for c in cts):
                continue
            rule = eqn.prim.transpose
            saved = CTX.span
            CTX.span = eqn.span or saved
            try:
                if rule is None:
                    raise JxTypeError(
                        f"reverse-mode differentiation through '{eqn.prim.name}' is not supported",
                        eqn.span,
                    )
                args = [Undefined(v.aval) if m else read(v) for v, m in zip(eqn.inputs, mask)]
                in_cts = rule(cts, *args, **eqn.params)
            finally:
                CTX.span = saved
            for v, m, c in zip(eqn.inputs, mask, in_cts):
                if m and c is not None:
                    _acc(ct, v, c)
        results = [
            ct.get(v) if v in ct else _zeros(v.aval.strong())
            for v, m in zip(program.inputs, linear_in)
            if m
        ]
    new, captured = builder.build(results)
    assert not captured
    return new
