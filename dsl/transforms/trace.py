"""What every transformation shares: trace a function to a closed Program, evaluate a
Program inline (recording into the current trace, or running eagerly), and a function
object that caches its transformed program per abstract signature.

A transformed function traces its argument function with fresh inputs standing for the
argument leaves (arrays and numbers; other values are static). Values the function
captures from an enclosing trace become extra program inputs after the leaves, so the
program is closed and can be transformed, then evaluated with those values appended.
"""

from __future__ import annotations

import numpy as np

from .. import trees
from ..core import CTX, Builder, Tracer, aval_of, bind, current_builder, trace_into
from ..errors import JxError
from ..ir import Literal, Program


def is_leaf(x) -> bool:
    """Leaves a transformation maps over: arrays and numbers (and keys)."""
    return type(x) in (Tracer, np.ndarray, float, int, bool) or hasattr(x, "jx_leaf")


class Traced:
    """A function traced to a closed program: inputs are the leaves, then the captures."""

    __slots__ = ("captured", "in_tree", "n_leaves", "out_protos", "out_tree", "program")

    def __init__(self, program, in_tree, out_tree, captured, n_leaves, out_protos):
        self.program = program
        self.in_tree = in_tree
        self.out_tree = out_tree
        self.captured = captured
        self.n_leaves = n_leaves
        self.out_protos = out_protos


def trace_to_program(fn, args, kwargs, span, avals=None, is_leaf=is_leaf) -> Traced:
    """Trace `fn(*args, **kwargs)`; `avals` may override the leaves' abstract values.

    `is_leaf` says which argument values are traced (the rest are static)."""
    from ..functions import call, unwrap_output, wrap_input

    leaves, in_tree = trees.flatten((tuple(args), kwargs), is_leaf)
    avals = (
        list(avals)
        if avals is not None
        else [aval_of(x).strong() if type(x) is not float else aval_of(x) for x in leaves]
    )
    builder = Builder()
    with trace_into(builder):
        inputs = [wrap_input(builder, x, a) for x, a in zip(leaves, avals)]
        targs, tkwargs = trees.unflatten(in_tree, inputs)
        out = call(fn, list(targs), tkwargs, span)
    out_leaves, out_tree = trees.flatten(
        out,
        lambda x: type(x) is Tracer or hasattr(x, "jx_leaf") or isinstance(x, (np.ndarray, float)),
    )
    with trace_into(builder):
        outs = [unwrap_output(o) for o in out_leaves]
        outs = [o if type(o) is Tracer else _as_tracer(o) for o in outs]
    program, captured = builder.build(outs)
    return Traced(program, in_tree, out_tree, captured, len(leaves), out_leaves)


def _as_tracer(x):
    from .. import ops

    return ops.as_array(x)


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
        from ..functions import leaf_value

        values = [leaf_value(a, v.aval) for a, v in zip(args, program.inputs)]
        try:
            return CTX.backend.run(program, values)
        except JxError:
            raise
        except Exception as e:  # noqa: BLE001 - any backend failure becomes the user's error
            from ..errors import JxRuntimeError

            raise JxRuntimeError(f"the backend failed: {e}", CTX.span) from None
    return eval_program(program, args)


def signature(args, kwargs, extra=()):
    leaves, tree = trees.flatten((tuple(args), kwargs), is_leaf)
    return (
        tree,
        tuple(aval_of(x) for x in leaves),
        tuple(hasattr(x, "jx_leaf") for x in leaves),
        extra,
    ), leaves
