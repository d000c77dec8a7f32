"""Programs compiled to straight-line Python for the NumPy backend.

`Executor(program, impl)` plans a program once and generates one Python function for it:
every equation becomes a line calling its implementation (params bound ahead of time)
on local variables, and a value is deleted at its last use. Loop and branch bodies are
compiled the same way into functions of their own that the loop calls directly, so a
run never interprets the IR or looks anything up per equation or iteration.

Buffer reuse is planned statically: an elementwise result (of an `INPLACE` primitive,
which returns a fresh array of its aval) that only elementwise equations read is owned,
and the equation where it dies writes its result into it with `out=` when the avals
match. Anything else (program inputs, views, values a primitive may return unchanged)
is never written. A failing equation is found from the generated line it raised on, so
the error points at that equation's source.
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np
from jx.errors import JxError, JxRuntimeError
from jx.ir import Literal, Program
from jx.primitives import control
from jx.primitives.elementwise import BINARY, UNARY
from jx.primitives.shapes import broadcast_in_dim_p

from . import fusion

# Elementwise primitives whose implementation is this ufunc over operands of one dtype,
# so they may write into a dead operand's buffer (out=).
INPLACE = {
    BINARY["add"]: np.add,
    BINARY["sub"]: np.subtract,
    BINARY["mul"]: np.multiply,
    BINARY["max"]: np.maximum,
    BINARY["min"]: np.minimum,
    BINARY["and"]: np.bitwise_and,
    BINARY["or"]: np.bitwise_or,
    BINARY["xor"]: np.bitwise_xor,
    UNARY["neg"]: np.negative,
    UNARY["exp"]: np.exp,
    UNARY["sin"]: np.sin,
    UNARY["cos"]: np.cos,
    UNARY["tanh"]: np.tanh,
    UNARY["sqrt"]: np.sqrt,
    UNARY["abs"]: np.abs,
}

_COUNTER = itertools.count()


def _cond(index, *operands, branches):
    return branches[int(np.clip(index, 0, len(branches) - 1))](*operands)


def _while(*args, cond_fn, body_fn, cond_nconsts, body_nconsts):
    cconsts = args[:cond_nconsts]
    bconsts = args[cond_nconsts : cond_nconsts + body_nconsts]
    carry = args[cond_nconsts + body_nconsts :]
    while cond_fn(*cconsts, *carry)[0]:
        carry = body_fn(*bconsts, *carry)
    return list(carry)


def _scan(*args, body_fn, length, num_consts, num_carry, reverse, y_avals):
    consts = args[:num_consts]
    carry = args[num_consts : num_consts + num_carry]
    xs = args[num_consts + num_carry :]
    ys = [np.empty((length,) + a.shape, a.dtype) for a in y_avals]
    for i in range(length - 1, -1, -1) if reverse else range(length):
        outs = body_fn(*consts, *carry, *[x[i] for x in xs])
        carry = outs[:num_carry]
        for y, value in zip(ys, outs[num_carry:]):
            y[i] = value
    return [*carry, *ys]


class Executor:
    """A program compiled once into a straight-line function, each equation calling
    `impl(eqn)` (the backend's function for it). Calling it runs the program
    with IEEE results (inf, nan) and no warnings, as in JAX, and gives a list of arrays;
    `fn` is the bare function, which loop bodies call from inside that."""

    __slots__ = ("fn", "program")

    def __init__(self, program: Program, impl):
        self.program = program
        self.fn = _generate(program, impl)

    def __call__(self, *args) -> list:
        try:
            with np.errstate(all="ignore"):
                return self.fn(*args)
        except Exception as e:
            err = runtime_error(e)
            if err is e:
                raise
            raise err from None


def _step(eqn, impl):
    """What an equation's line calls: the backend's `impl(eqn)`, or the
    control-flow runner with its bodies compiled."""
    prim, params = eqn.prim, eqn.params
    if prim is control.cond_p:
        return partial(_cond, branches=[Executor(b, impl).fn for b in params["branches"]])
    if prim is control.while_p:
        return partial(
            _while,
            cond_fn=Executor(params["cond_program"], impl).fn,
            body_fn=Executor(params["body_program"], impl).fn,
            cond_nconsts=params["cond_nconsts"],
            body_nconsts=params["body_nconsts"],
        )
    if prim is control.scan_p:
        body = params["body"]
        return partial(
            _scan,
            body_fn=Executor(body, impl).fn,
            length=params["length"],
            num_consts=params["num_consts"],
            num_carry=params["num_carry"],
            reverse=params["reverse"],
            y_avals=body.out_avals[params["num_carry"] :],
        )
    return impl(eqn)


def _owned(program: Program) -> set:
    """The Vars whose buffers may be overwritten where they die: fresh elementwise results
    (not 0-d: a ufunc gives a NumPy scalar there) read only by elementwise equations."""
    owned = {v for e in program.eqns if e.prim in INPLACE for v in e.outputs if v.aval.shape}
    for e in program.eqns:
        if e.prim not in INPLACE:
            owned.difference_update(e.inputs)
    owned.difference_update(program.outputs)
    return owned


def _generate(program: Program, impl):
    names: dict = {}
    scope: dict = {"asarray": np.asarray}

    def name_of(v):
        if type(v) is Literal:
            const = f"c{len(scope)}"
            scope[const] = v.value
            return const
        return names[v]

    for k, v in enumerate(program.inputs):
        names[v] = f"a{k}"
    last: dict = {}
    for k, eqn in enumerate(program.eqns):
        for v in eqn.inputs:
            if type(v) is not Literal:
                last[v] = k
    keep = set(program.inputs) | {v for v in program.outputs if type(v) is not Literal}
    owned = _owned(program)
    lines = [f"def run({', '.join(names[v] for v in program.inputs)}):"]
    line_eqns = {}

    def dying(start, stop):
        """The named Vars whose last use is in equations start..stop-1."""
        return list(dict.fromkeys(
            v for e in program.eqns[start:stop] for v in e.inputs
            if type(v) is not Literal and v in names and v not in keep and last[v] < stop
        ))  # fmt: skip

    def emit(eqn, call, outputs, unpack):
        """The line `outputs = call`, unpacking a sequence of results where `unpack`."""
        for v in outputs:
            names[v] = f"v{len(names)}"
        line_eqns[len(lines) + 1] = eqn
        if not outputs:  # an effect (debug_print, progress): called for what it does
            lines.append(f"    {call}")
            return
        outs = ", ".join(names[v] for v in outputs)
        lines.append(f"    {outs}{',' if unpack and len(outputs) == 1 else ''} = {call}")

    def emit_eqn(k, eqn):
        if eqn.prim is broadcast_in_dim_p and type(eqn.inputs[0]) is Literal:
            # A constant broadcast is made once: a read-only view, which nothing can change.
            value = _step(eqn, impl)(eqn.inputs[0].value)
            names[eqn.outputs[0]] = name_of(Literal(value, eqn.outputs[0].aval))
            keep.add(eqn.outputs[0])
            return
        args = [name_of(v) for v in eqn.inputs]
        want = eqn.outputs[0].aval if len(eqn.outputs) == 1 else None
        buffer = next(
            (
                v
                for v in dying(k, k + 1)
                if v in owned and v.aval.shape == want.shape and v.aval.dtype == want.dtype
            ),
            None,
        ) if eqn.prim in INPLACE and want is not None else None  # fmt: skip
        fn = f"f{k}"
        if buffer is not None:
            scope[fn] = INPLACE[eqn.prim]
            call = f"{fn}({', '.join(args)}, out={names[buffer]})"
        else:
            scope[fn] = _step(eqn, impl)
            call = f"{fn}({', '.join(args)})"
        emit(eqn, call, eqn.outputs, eqn.prim.multiple_results)

    groups = fusion.find_groups(program, INPLACE, lambda v, k: v in keep or last.get(v, -1) > k)
    k = 0
    while k < len(program.eqns):
        eqn = program.eqns[k]
        if k in groups:
            group, stop = groups[k]
            members = {id(e) for e in (*group.eqns, group.tail) if e is not None}
            for j in range(k, stop):  # the scalar broadcasts, for readers after the group
                if id(program.eqns[j]) not in members:
                    emit_eqn(j, program.eqns[j])
            fn = f"g{k}"
            scope[fn] = group.compile(INPLACE)
            emit(eqn, f"{fn}({', '.join(name_of(v) for v in group.inputs)})", group.outputs, True)
        else:
            emit_eqn(k, eqn)
            stop = k + 1
        dead = dying(k, stop)
        if dead:
            lines.append(f"    del {', '.join(names[v] for v in dead)}")
        k = stop
    results = ", ".join(
        name_of(v) if type(v) is Literal else f"asarray({names[v]})" for v in program.outputs
    )
    lines.append(f"    return [{results}]")
    scope["__jx_line_eqns__"] = line_eqns
    filename = f"<jx numpy program {next(_COUNTER)}>"
    exec(compile("\n".join(lines), filename, "exec"), scope)  # noqa: S102 - our own code
    return scope["run"]


def failed_eqn(tb):
    """The equation whose generated line raised (the innermost one), or None."""
    found = None
    while tb is not None:
        lines = tb.tb_frame.f_globals.get("__jx_line_eqns__")
        if lines is not None:
            found = lines.get(tb.tb_lineno, found)
        tb = tb.tb_next
    return found


def runtime_error(e: Exception):
    """An exception from a generated function as the user's error, at its equation."""
    if isinstance(e, JxError) or getattr(e, "jx_passthrough", False):
        return e
    eqn = failed_eqn(e.__traceback__)
    if eqn is None:
        return e
    return JxRuntimeError(f"{eqn.prim.name} failed on the numpy backend: {e}", eqn.span)
