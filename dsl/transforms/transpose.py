"""Reverse mode: transpose the linear part of a program, IR -> IR.

`transpose_program(program, linear_in, linear_out)` takes a program some of whose inputs
are linear (tangents, for a JVP program) and returns one taking (the non-linear inputs,
cotangents of the linear outputs) to the cotangents of the linear inputs. A forward pass
re-emits everything that does not depend on linear inputs (the primal computation);
a backward pass walks the linear equations in reverse, applying each primitive's
transpose rule (defined with the primitive, in `primitives/`). Which outputs of an
equation are linear is all of them, except for primitives with sub-programs, whose rule
in `linearity_rules` (registered by the control family) looks inside.

The backward pass keeps the unselected side of a `select` an exact zero all the way down:
a cotangent that came out of a select's transpose carries the select's predicate as a
mask, each elementwise transpose applied to it re-applies the mask (`select(mask, ct, 0)`)
and passes it on, so `grad(lambda x: sum(where(x > 0, sqrt(x), 0.0)))` at x = 0 is 0, not
0 * inf = NaN. A linear map of an exact zero is zero, so wherever the product was finite
the mask changes nothing; it only keeps 0 * inf and 0 * NaN from forming. Masks do not
cross equations that move elements (reductions, broadcasts, transposes, dots).
"""

from __future__ import annotations

from ..core import CTX, Builder, bind, trace_into
from ..errors import TypeError as JxTypeError
from ..ir import Literal, Program
from ..passes import without_effects
from ..primitives import elementwise
from ..primitives.elementwise import BINARY, UNARY, add_tangents
from ..primitives.reductions import dot_general_p
from ..primitives.shapes import full
from ..registry import Undefined

#: primitive -> rule(linear input mask, **params) -> linear output mask, for primitives
#: whose outputs need not all depend on a linear input (those with sub-programs).
linearity_rules: dict = {}
#: primitive -> rule(args, mask, out_mask, **params) -> the non-linear outputs (None at the
#: linear ones) of a mixed equation, for primitives that can compute them without running
#: their linear part (scan: a scan of its body's primal part).
primal_rules: dict = {}


def _primal_outputs(eqn, mask, out_mask, read) -> list:
    """The non-linear outputs of an equation with linear inputs."""
    args = [None if m else read(v) for v, m in zip(eqn.inputs, mask)]
    rule = primal_rules.get(eqn.prim)
    if rule is not None:
        return rule(args, mask, out_mask, **eqn.params)
    args = [_zeros(v.aval) if m else a for v, m, a in zip(eqn.inputs, mask, args)]
    return bind(eqn.prim, *args, **eqn.params)


def _zeros(aval):
    return full(aval.shape, 0, aval.dtype)


def _acc(table, var, ct):
    if ct is not None:
        table[var] = add_tangents(table.get(var), ct)


#: Equations whose transpose maps each element's cotangent to the same element of its
#: inputs: a mask of exact zeros passes through them.
_ELEMENTWISE = {
    *UNARY.values(),
    *BINARY.values(),
    elementwise.select_p,
    elementwise.convert_p,
    elementwise.fma_p,
}
#: Linear in each operand alone, not in both together (x * x is not linear).
_BILINEAR = {BINARY["mul"], BINARY["div"], dot_general_p}
_UNMASKED = object()  # a cotangent with a contribution that no select masked


def _acc_mask(masks, var, mask):
    """Record a contribution's mask: masks of exact zeros combine with `or`; one unmasked
    contribution makes the sum unmasked."""
    old = masks.get(var)
    if mask is None or old is _UNMASKED:
        masks[var] = _UNMASKED
    elif old is None:
        masks[var] = mask
    else:
        masks[var] = elementwise.binary("or", old, mask)


def _in_masks(eqn, args, mask):
    """The masks the input cotangents of `eqn`'s transpose carry (None: unmasked)."""
    n = len(eqn.inputs)
    if eqn.prim is elementwise.select_p:
        p = args[0]
        on_true, on_false = p, elementwise.unary("not", p)
        if mask is not None:
            on_true = elementwise.binary("and", on_true, mask)
            on_false = elementwise.binary("and", on_false, mask)
        return [None, on_true, on_false]
    if mask is not None and eqn.prim in _ELEMENTWISE:
        return [mask] * n
    return [None] * n


def _masked(ct, mask):
    if ct is None or mask is None:
        return ct
    return elementwise.select(mask, ct, full(ct.aval.shape, 0, ct.aval.dtype))


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


def _forward(builder, program: Program, linear_in):
    """The forward pass shared by transposition and partial evaluation, traced into
    `builder`: every equation without linear inputs is emitted (and the primal outputs of
    mixed ones); the linear equations are collected. (values, read, linear vars, pending
    (eqn, input mask, output mask))."""
    value, lin = {}, set()
    for v, m in zip(program.inputs, linear_in):
        if m:
            lin.add(v)
        else:
            value[v] = builder.new_input(v.aval)

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
                value.update(zip(eqn.outputs, out if eqn.prim.multiple_results else [out]))
                continue
            out_mask = _eqn_linear_outputs(eqn, mask)
            if not all(out_mask):  # the primal outputs of a mixed equation
                outs = _primal_outputs(eqn, mask, out_mask, read)
                for v, m, o in zip(eqn.outputs, out_mask, outs):
                    if not m:
                        value[v] = o
            lin.update(v for v, m in zip(eqn.outputs, out_mask) if m)
            pending.append((eqn, mask, out_mask))
        finally:
            CTX.span = saved
    return value, read, lin, pending


def transpose_program(program: Program, linear_in, linear_out, effects=False) -> Program:
    """The transposed program. Its forward pass keeps the effects (`debug_print`) only with
    `effects`: grad and vjp run the primal program for its value anyway, and print there."""
    if not effects:
        program = without_effects(program)
    builder = Builder()
    with trace_into(builder):
        _, read, lin, pending = _forward(builder, program, linear_in)
        outs_lin = [v for v, m in zip(program.outputs, linear_out) if m]
        cts_in = [builder.new_input(v.aval.strong()) for v in outs_lin]
        ct: dict = {}
        masks: dict = {}
        for v, c in zip(outs_lin, cts_in):
            if type(v) is not Literal and v in lin:
                _acc(ct, v, c)
                _acc_mask(masks, v, None)
        for eqn, mask, out_mask in reversed(pending):
            cts = [ct.pop(v, None) if m else None for v, m in zip(eqn.outputs, out_mask)]
            out_masks = [masks.pop(v, None) for v in eqn.outputs]
            if all(c is None for c in cts):
                continue
            ct_mask = out_masks[0] if len(out_masks) == 1 else None
            ct_mask = None if ct_mask is _UNMASKED else ct_mask
            rule = eqn.prim.transpose
            saved = CTX.span
            CTX.span = eqn.span or saved
            try:
                if rule is None:
                    raise JxTypeError(
                        f"reverse-mode differentiation through '{eqn.prim.name}' is not supported",
                        eqn.span,
                    )
                if eqn.prim in _BILINEAR and all(mask[:2]):
                    raise JxTypeError(
                        f"'{eqn.prim.name}' of two linear values is not linear in both factors: "
                        "only a function linear in its inputs can be transposed",
                        eqn.span,
                    )
                args = [Undefined(v.aval) if m else read(v) for v, m in zip(eqn.inputs, mask)]
                in_cts = rule(cts, *args, **eqn.params)
                in_masks = _in_masks(eqn, args, ct_mask)
                in_cts = [
                    _masked(c, ct_mask) if ct_mask is not None and k_mask is not None else c
                    for c, k_mask in zip(in_cts, in_masks)
                ]
            finally:
                CTX.span = saved
            for v, m, c, k_mask in zip(eqn.inputs, mask, in_cts, in_masks):
                if m and c is not None:
                    _acc(ct, v, c)
                    _acc_mask(masks, v, k_mask)
        results = [
            ct.get(v) if v in ct else _zeros(v.aval.strong())
            for v, m in zip(program.inputs, linear_in)
            if m
        ]
    new, captured = builder.build(results)
    assert not captured
    return new


# ------------------------------------------------------------------ partial evaluation


def partial_eval(program: Program, linear_in):
    """Split a program some of whose inputs are linear into a known part, (the non-linear
    inputs) -> (the non-linear outputs, residuals), and a linear part, (residuals, the
    linear inputs) -> (the linear outputs); (known, linear, out_linear mask). `linearize`
    runs the known part once and the linear part for each tangent."""
    out_linear = linear_outputs(program, linear_in)
    known = Builder()
    with trace_into(known):
        value, read, lin, pending = _forward(known, program, linear_in)
        pending = [eqn for eqn, _, _ in pending]
        residuals = list(
            dict.fromkeys(
                v for eqn in pending for v in eqn.inputs if type(v) is not Literal and v not in lin
            )
        )
        known_outs = [read(v) for v, m in zip(program.outputs, out_linear) if not m]
    known_prog, captured = known.build(known_outs + [value[v] for v in residuals])
    assert not captured
    linear = Builder()
    with trace_into(linear):
        env = {v: linear.new_input(v.aval) for v in residuals}
        env.update((v, linear.new_input(v.aval)) for v, m in zip(program.inputs, linear_in) if m)
        for eqn in pending:
            args = [v.value if type(v) is Literal else env[v] for v in eqn.inputs]
            out = bind(eqn.prim, *args, **eqn.params)
            env.update(zip(eqn.outputs, out if eqn.prim.multiple_results else [out]))
        outs = [
            v.value if type(v) is Literal else env.get(v, _zeros(v.aval))
            for v, m in zip(program.outputs, out_linear)
            if m
        ]
    linear_prog, captured = linear.build(outs)
    assert not captured
    return known_prog, linear_prog, out_linear
