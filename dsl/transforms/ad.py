"""Forward-mode differentiation: `jvp_program`, IR -> IR, from each primitive's JVP rule.

`jvp_program(program, nonzero)` gives a program taking (primals..., tangents of the
inputs marked nonzero...) and returning (primal outputs..., tangent outputs...), built by
interpreting the program with (primal, tangent) pairs and emitting equations with
`bind`. A tangent of None is a symbolic zero: rules skip work for it. Every tangent the
rules produce is linear in the input tangents (primal values only as coefficients), so
the reverse mode (`transpose.py`) can transpose it. The rules live with their primitives
(`primitives/`); control flow's run this interpreter on its branches and loop bodies.
"""

from __future__ import annotations

from .. import dtypes
from ..core import CTX, Builder, aval_of, bind, trace_into
from ..errors import TypeError as JxTypeError
from ..ir import Literal, Program
from ..primitives.shapes import instantiate


def differentiable(aval) -> bool:
    return dtypes.is_float(aval.dtype)


# ------------------------------------------------------------------ interpretation


def jvp_eval(program: Program, primals, tangents):
    """Evaluate `program` on (primal, tangent) pairs; (primal outputs, tangent outputs)."""
    env = {}

    def read(v):
        if type(v) is Literal:
            return v.value, None
        return env[v]

    for var, p, t in zip(program.inputs, primals, tangents):
        env[var] = (p, t)
    for eqn in program.eqns:
        pairs = [read(v) for v in eqn.inputs]
        ps = [p for p, _ in pairs]
        ts = [t for _, t in pairs]
        saved = CTX.span
        CTX.span = eqn.span or saved
        try:
            if all(t is None for t in ts):
                out = bind(eqn.prim, *ps, **eqn.params)
                outs = out if eqn.prim.multiple_results else [out]
                touts = [None] * len(outs)
            else:
                rule = eqn.prim.jvp
                if rule is None:
                    raise JxTypeError(f"cannot differentiate through '{eqn.prim.name}'", eqn.span)
                outs, touts = rule(ps, ts, **eqn.params)
                if not eqn.prim.multiple_results:
                    outs, touts = [outs], [touts]
        finally:
            CTX.span = saved
        for var, p, t in zip(eqn.outputs, outs, touts):
            if t is not None and not differentiable(var.aval):
                t = None
            env[var] = (p, t)
    results = [read(v) for v in program.outputs]
    return [p for p, _ in results], [t for _, t in results]


def jvp_program(program: Program, nonzero, instantiate_outputs=True):
    """The JVP of `program` as a program: (primals, nonzero tangents) -> (outs, tangents).

    Returns (program, out_nonzero); with instantiate_outputs every output tangent is
    materialized (zeros where symbolic), so out_nonzero is all True for float outputs."""
    builder = Builder()
    with trace_into(builder):
        primals = [builder.new_input(v.aval) for v in program.inputs]
        tangents = [
            builder.new_input(v.aval.strong()) if nz else None
            for v, nz in zip(program.inputs, nonzero)
        ]
        outs, touts = jvp_eval(program, primals, tangents)
        if instantiate_outputs:
            touts = [
                instantiate(t, p) if differentiable(aval_of(p)) else t for t, p in zip(touts, outs)
            ]
        out_nonzero = [t is not None for t in touts]
    new, captured = builder.build(outs + [t for t in touts if t is not None])
    assert not captured
    return new, out_nonzero
