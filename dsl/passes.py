"""Program clean-ups run before a jitted program is compiled: named `Program -> Program`
passes in one pipeline list. Each is testable alone; `jx ir --after NAME` shows the
program after a pass.
"""

from __future__ import annotations

from .ir import Eqn, Literal, Program


def dce(program: Program) -> Program:
    """Drop equations whose outputs nothing uses (every primitive is pure)."""
    live = {id(v) for v in program.outputs if not isinstance(v, Literal)}
    kept = []
    for eqn in reversed(program.eqns):
        if any(id(o) in live for o in eqn.outputs):
            kept.append(_dce_params(eqn))
            live.update(id(v) for v in eqn.inputs if not isinstance(v, Literal))
    return Program(program.inputs, reversed(kept), program.outputs)


def _dce_params(eqn: Eqn) -> Eqn:
    params = {}
    changed = False
    for k, v in eqn.params.items():
        if isinstance(v, Program):
            params[k] = dce(v)
            changed = True
        elif isinstance(v, tuple) and v and all(isinstance(p, Program) for p in v):
            params[k] = tuple(dce(p) for p in v)
            changed = True
        else:
            params[k] = v
    return eqn.replace(params=params) if changed else eqn


PIPELINE = [("dce", dce)]


def optimize(program: Program, until: str | None = None) -> Program:
    for name, run in PIPELINE:
        program = run(program)
        if name == until:
            break
    return program
