"""Evaluating a closed Program inline: every transformation runs its transformed program
through here, recording its equations into the current trace, or at the top level running
it on the backend as one unit. (Tracing a function to a Program is `functions.trace_function`.)
"""

from __future__ import annotations

from ..core import CTX, Tracer, bind, current_builder
from ..functions import leaf_value, run_guarded
from ..ir import Literal, Program


def eval_program(program: Program, args) -> list:
    """Evaluate a program's equations with `bind`: recorded while tracing, else run now."""
    builder = current_builder()

    def read(v):
        if type(v) is not Literal:
            return env[v]
        # While tracing, the literal itself: its value alone would lose its weak flag.
        return v.value if builder is None else Tracer(builder, v)

    env = {}
    for var, value in zip(program.inputs, args):
        env[var] = value
    for eqn in program.eqns:
        ins = [read(v) for v in eqn.inputs]
        saved = CTX.span
        CTX.span = eqn.span or saved
        try:
            out = bind(eqn.prim, *ins, **eqn.params)
        finally:
            CTX.span = saved
        if eqn.prim.multiple_results:
            for var, value in zip(eqn.outputs, out):
                env[var] = value
        else:
            env[eqn.outputs[0]] = out
    return [read(v) for v in program.outputs]


def run_program(program: Program, args) -> list:
    """Run a program: on the backend as one unit at top level, inline while tracing."""
    if current_builder() is None:
        values = [leaf_value(a, v.aval) for a, v in zip(args, program.inputs)]
        return run_guarded(lambda *v: CTX.backend.run(program, v), values, CTX.span, program)
    return eval_program(program, args)
