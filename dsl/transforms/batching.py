"""Batching (the IR -> IR half of vmap): a program over one example becomes a program over
a batch. `batch_program` interprets a program with (value, batch dim or None) pairs and
re-emits its equations with `bind` into a fresh builder; each primitive's `batch` rule,
defined with the primitive (`primitives/`), takes `(ax, args, dims, **params)` and returns the
result and where its batch dimension lies (None: the same for every example). Equations
whose operands are all unbatched are re-emitted unchanged. Sub-programs (cond branches,
loop bodies) are batched recursively; loop state that any iteration batches is batched
from the start (a fixed point over the body), and a batched loop or branch predicate turns
into per-example `select`s, as JAX does (the control family's rules). Collectives on the
batched axis name are batched even when their operands are not.
"""

from __future__ import annotations

from ..core import CTX, Builder, Tracer, bind, current_builder, trace_into
from ..errors import TypeError as JxTypeError
from ..ir import Literal, Program
from ..primitives.shapes import to_front


class Axis:
    """The axis being batched: its size and, for collectives, its name."""

    __slots__ = ("name", "size")

    def __init__(self, size: int, name=None):
        self.size = size
        self.name = name


def batch_program(program: Program, in_dims, axis_size: int, axis_name=None):
    """The batched program and its outputs' batch dims (0, or None when unbatched)."""
    return batch_subprogram(program, list(in_dims), Axis(axis_size, axis_name))


def batch_subprogram(program: Program, in_dims, ax: Axis, force=None):
    """Batch a closed program; outputs come out at dim 0, or unbatched unless `force[k]`."""
    builder = Builder()
    with trace_into(builder):
        ins = [
            builder.new_input(batched_aval(v.aval, d, ax.size))
            for v, d in zip(program.inputs, in_dims)
        ]
        outs, dims = interpret(program, ins, in_dims, ax)
        results, out_dims = [], []
        for k, (x, d) in enumerate(zip(outs, dims)):
            if d is not None or (force is not None and force[k]):
                x, d = to_front(x, d, ax.size), 0
            results.append(x)
            out_dims.append(d)
    batched, captured = builder.build(results)
    assert not captured, "a batched program is closed"
    return batched, out_dims


def batched_aval(aval, d, size):
    if d is None:
        return aval
    return aval.update(shape=aval.shape[:d] + (size,) + aval.shape[d:])


def interpret(program: Program, vals, dims, ax: Axis):
    """Evaluate `program` batched into the current builder; (outputs, their batch dims)."""
    env = dict(zip(program.inputs, zip(vals, dims)))

    def read(v):
        if type(v) is Literal:
            return _literal(v), None
        return env[v]

    saved = CTX.span
    try:
        for eqn in program.eqns:
            args, arg_dims = zip(*(read(v) for v in eqn.inputs)) if eqn.inputs else ((), ())
            CTX.span = eqn.span or saved
            if all(d is None for d in arg_dims) and not _touches_axis(eqn, ax):
                out = bind(eqn.prim, *args, **eqn.params)
                out_dims = [None] * len(eqn.outputs) if eqn.prim.multiple_results else None
            else:
                rule = eqn.prim.batch
                if rule is None:
                    raise JxTypeError(f"vmap: the primitive {eqn.prim.name} has no batching rule")
                out, out_dims = rule(ax, list(args), list(arg_dims), **eqn.params)
            if eqn.prim.multiple_results:
                env.update(zip(eqn.outputs, zip(out, out_dims)))
            else:
                env[eqn.outputs[0]] = (out, out_dims)
    finally:
        CTX.span = saved
    outs = [read(v) for v in program.outputs]
    return [x for x, _ in outs], [d for _, d in outs]


def _literal(v: Literal):
    return Tracer(current_builder(), v)  # keeps the literal's weak type


def _touches_axis(eqn, ax: Axis) -> bool:
    """Whether an equation refers to the batched axis by name (a collective), maybe inside
    a sub-program: then it is batched even when its operands are not."""
    if ax.name is None:
        return False
    return _refers_to(eqn.params, ax.name)


def _refers_to(params, name) -> bool:
    if params.get("axis_name") == name:
        return True
    for value in params.values():
        programs = value if isinstance(value, tuple) else (value,)
        for p in programs:
            if isinstance(p, Program) and any(_refers_to(e.params, name) for e in p.eqns):
                return True
    return False
