"""Program clean-ups run before a jitted program is compiled: named `Program -> Program`
passes in one pipeline list, each testable alone (`jx ir --after NAME` shows the program
after a pass). All primitives are pure, so equations may be folded, merged or dropped.

- fold: equations whose inputs are all small constants are evaluated now (NumPy).
- simplify: x*1, 1*x, x+0, 0+x, x-0, x/1, --x, and shape ops that change nothing.
- cse: an equation equal to an earlier one (same primitive, inputs, params) is reused.
- dce: equations nothing uses are dropped.
Sub-programs (branches, loop bodies) are cleaned the same way.
"""

from __future__ import annotations

import numpy as np

from . import backend, ir_check
from .ir import Eqn, Literal, Program

FOLD_LIMIT = 4096  # elements: larger results stay computed at run time, not embedded


def _map_subprograms(eqn: Eqn, run) -> Eqn:
    params, changed = {}, False
    for k, v in eqn.params.items():
        if isinstance(v, Program):
            params[k], changed = run(v), True
        elif isinstance(v, tuple) and v and all(isinstance(p, Program) for p in v):
            params[k], changed = tuple(run(p) for p in v), True
        else:
            params[k] = v
    return eqn.replace(params=params) if changed else eqn


def _rewrite(program: Program, visit) -> Program:
    """Walk equations with a substitution table; `visit(eqn, subst)` returns the equation
    to keep (or None) after possibly recording substitutions for its outputs."""
    subst: dict = {}

    def sub(v):
        return subst.get(v, v) if type(v) is not Literal else v

    eqns = []
    for eqn in program.eqns:
        eqn = eqn.replace(inputs=tuple(sub(v) for v in eqn.inputs))
        kept = visit(eqn, subst)
        if kept is not None:
            eqns.append(kept)
    return Program(program.inputs, eqns, [sub(v) for v in program.outputs])


def dce(program: Program) -> Program:
    live = {v for v in program.outputs if type(v) is not Literal}
    kept = []
    for eqn in reversed(program.eqns):
        if eqn.prim.effect or any(o in live for o in eqn.outputs):
            kept.append(_map_subprograms(eqn, dce))
            live.update(v for v in eqn.inputs if type(v) is not Literal)
    return Program(program.inputs, reversed(kept), program.outputs)


def without_effects(program: Program) -> Program:
    """The program with its effect equations (`debug_print`) dropped, in sub-programs too."""
    kept = [_map_subprograms(e, without_effects) for e in program.eqns if not e.prim.effect]
    return Program(program.inputs, kept, program.outputs)


_NO_FOLD = {"cond", "while", "scan", "sort"}


def fold(program: Program) -> Program:
    # Constants fold on the reference backend, whose results every backend matches.
    reference = backend.load(backend.DEFAULT)

    def visit(eqn, subst):
        eqn = _map_subprograms(eqn, fold)
        if (
            eqn.prim.name in _NO_FOLD
            or eqn.prim.multiple_results
            or not all(type(v) is Literal for v in eqn.inputs)
            or any(o.aval.size > FOLD_LIMIT for o in eqn.outputs)
        ):
            return eqn
        try:
            (value,) = reference.run_eqn(eqn.prim, [v.value for v in eqn.inputs], eqn.params)
        except Exception:  # noqa: BLE001 - not folded: the backend runs it, under its guard
            return eqn
        out = eqn.outputs[0]
        subst[out] = Literal(value.astype(out.aval.dtype), out.aval)
        return None

    return _rewrite(program, visit)


def _constant(v, scalars):
    """The single value every element of `v` has, if known; else None."""
    if type(v) is Literal:
        flat = np.asarray(v.value).reshape(-1)
        if flat.size and np.all(flat == flat[0]):
            return flat[0].item()
        return None
    return scalars.get(v)


def simplify(program: Program) -> Program:
    scalars: dict = {}  # vars known to hold one repeated constant (broadcast literals)

    def visit(eqn, subst):
        eqn = _map_subprograms(eqn, simplify)
        name, ins = eqn.prim.name, eqn.inputs
        out = eqn.outputs[0] if eqn.outputs else None
        if name == "broadcast_in_dim" and (c := _constant(ins[0], scalars)) is not None:
            scalars[out] = c
        same = out is not None and not eqn.prim.multiple_results

        def forward(v):
            # Only a value of the very same aval may stand in for the result: a weak one in
            # place of a strong one would change the weak flags of every later equation.
            if type(v) is Literal or v.aval != out.aval:
                return eqn
            subst[out] = v
            return None

        if same and name in ("mul", "add", "sub", "div"):
            a, b = ins
            ca, cb = _constant(a, scalars), _constant(b, scalars)
            if name == "mul" and cb == 1:
                return forward(a)
            if name == "mul" and ca == 1:
                return forward(b)
            if name == "add" and cb == 0:
                return forward(a)
            if name == "add" and ca == 0:
                return forward(b)
            if name in ("sub",) and cb == 0:
                return forward(a)
            if name == "div" and cb == 1:
                return forward(a)
        if same and name in ("reshape", "broadcast_in_dim", "convert_element_type", "transpose"):
            v = ins[0]
            if (
                type(v) is not Literal
                and v.aval == out.aval
                and (name != "transpose" or eqn.params["permutation"] == tuple(range(v.aval.ndim)))
            ):
                return forward(v)
        return eqn

    return _rewrite(program, visit)


def _key(x):
    if type(x) is Literal:
        a = np.asarray(x.value)
        if a.size > 64:
            return ("lit", id(x))
        return ("lit", a.dtype.str, a.shape, a.tobytes(), x.aval.weak)  # weak 2.0 is not 2.0
    if isinstance(x, (Program, np.ndarray)):
        return ("id", id(x))
    if isinstance(x, tuple):
        return tuple(_key(v) for v in x)
    if isinstance(x, dict):
        return tuple(sorted((k, _key(v)) for k, v in x.items()))
    try:
        hash(x)
        return x
    except TypeError:
        return ("id", id(x))


def cse(program: Program) -> Program:
    seen: dict = {}

    def visit(eqn, subst):
        eqn = _map_subprograms(eqn, cse)
        if eqn.prim.effect:  # two prints of one value print twice
            return eqn
        key = (
            eqn.prim.name,
            tuple(_key(v) if type(v) is Literal else ("var", id(v)) for v in eqn.inputs),
            _key(eqn.params),
        )
        earlier = seen.get(key)
        if earlier is not None:
            for mine, theirs in zip(eqn.outputs, earlier.outputs):
                subst[mine] = theirs
            return None
        seen[key] = eqn
        return eqn

    return _rewrite(program, visit)


PIPELINE = [("fold", fold), ("simplify", simplify), ("cse", cse), ("dce", dce)]


def optimize(program: Program, until: str | None = None) -> Program:
    for name, run in PIPELINE:
        program = run(program)
        if ir_check.ENABLED:
            ir_check.check_program(program, after=name)
        if name == until:
            break
    return program
