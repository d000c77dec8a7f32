"""The IR checker: proof that a program keeps the rules every transform and pass relies on.

`check_program` re-runs each equation's shape rule on its operands' avals and compares the
result (shape, dtype, weak flag, count) with the avals the equation declares; checks SSA
(program inputs distinct, every Var defined once and before its first use, outputs
defined), that each literal's aval describes its value, and, recursively, every
sub-program held in params: that cond branches, while cond/body and scan bodies take and
give what the equation's operands, params and results say. A broken rule raises `IRError`
naming it and showing the equation with its neighbours. With `ENABLED` on (environment
variable `JX_CHECK_IR=1`, as in the test suite) every program a builder closes and every
pipeline pass's result is checked, so a bug shows where it is made, not where it crashes.
"""

from __future__ import annotations

import os

import numpy as np

from .dtypes import ShapedArray
from .errors import IRError
from .ir import Literal, Program, Var, pretty_around

ENABLED = os.environ.get("JX_CHECK_IR", "0") not in ("", "0")


def check_program(program: Program, after: str | None = None) -> None:
    """Raise IRError at the first rule `program` breaks; `after` names the pass that made it."""
    _check(program, [f"after pass {after!r}"] if after else [])


def _mismatch(got: ShapedArray, want: ShapedArray, compare_weak: bool = True) -> str | None:
    """What differs between two avals (weak flags too, unless `compare_weak` is off), or None
    when they agree."""
    if tuple(got.shape) != tuple(want.shape):
        return "shape"
    if got.dtype != want.dtype:
        return "dtype"
    if compare_weak and got.weak != want.weak:
        return "weak flag"
    return None


def _literal_mismatch(lit: Literal) -> str | None:
    value = lit.value
    if not isinstance(value, (np.ndarray, np.generic)):
        return f"holds a {type(value).__name__}, not an array"
    if tuple(value.shape) != tuple(lit.aval.shape) or value.dtype != lit.aval.dtype:
        got = ShapedArray(value.shape, value.dtype, lit.aval.weak)
        return f"has aval {lit.aval} but its value is {got}"
    return None


class _ProgramChecker:
    """Checks one program; `path` says where it sits (pass, enclosing equations)."""

    def __init__(self, program: Program, path: list[str]):
        self.program = program
        self.path = path
        self.defined: set = set()

    def fail(self, index: int, message: str, span=None) -> None:
        where = ", ".join(self.path)
        text = f"{where}: {message}" if where else message
        raise IRError(f"{text}\n{pretty_around(self.program, index)}", span)

    def operand(self, index: int, what: str, v, span) -> None:
        if type(v) is Literal:
            if (problem := _literal_mismatch(v)) is not None:
                self.fail(index, f"{what} is a literal that {problem}", span)
            return
        if type(v) is not Var:
            self.fail(index, f"{what} is a {type(v).__name__}, not a Var or Literal", span)
        if v not in self.defined:
            later = any(v in eqn.outputs for eqn in self.program.eqns[index:])
            why = "used before its definition" if later else "never defined in this program"
            self.fail(index, f"{what} is {why}", span)

    def run(self) -> None:
        program = self.program
        for k, v in enumerate(program.inputs):
            if type(v) is not Var:
                self.fail(-1, f"input {k} is a {type(v).__name__}, not a Var")
            if v in self.defined:
                self.fail(-1, f"input {k} is listed twice among the inputs")
            self.defined.add(v)
        for index, eqn in enumerate(program.eqns):
            head = f"equation {index} ({eqn.prim.name})"
            for k, v in enumerate(eqn.inputs):
                self.operand(index, f"{head}: operand {k}", v, eqn.span)
            self.equation(index, head, eqn)
            for k, v in enumerate(eqn.outputs):
                if type(v) is not Var:
                    self.fail(index, f"{head}: result {k} is a {type(v).__name__}, not a Var")
                if v in self.defined:
                    self.fail(index, f"{head}: result {k} is a Var defined twice", eqn.span)
                self.defined.add(v)
        end = len(program.eqns)
        for k, v in enumerate(program.outputs):
            self.operand(end, f"program output {k}", v, None)

    def equation(self, index: int, head: str, eqn) -> None:
        prim = eqn.prim
        try:
            expected = prim.abstract_eval(*[v.aval for v in eqn.inputs], **eqn.params)
        except Exception as e:  # noqa: BLE001 - any failure of the rule means a broken equation
            message = getattr(e, "message", None) or f"{type(e).__name__}: {e}"
            self.fail(index, f"{head}: its shape rule rejects it: {message}", eqn.span)
        if not prim.multiple_results and len(eqn.outputs) != 1:
            self.fail(index, f"{head}: binds {len(eqn.outputs)} results, not one", eqn.span)
        if len(expected) != len(eqn.outputs):
            self.fail(
                index,
                f"{head}: binds {len(eqn.outputs)} results, its shape rule gives {len(expected)}",
                eqn.span,
            )
        for k, (v, want) in enumerate(zip(eqn.outputs, expected)):
            if type(v) is Var and (what := _mismatch(v.aval, want)) is not None:
                self.fail(
                    index,
                    f"{head}: result {k} is {v.aval}, its shape rule gives {want} ({what} differs)",
                    eqn.span,
                )
        rule = INTERFACES.get(prim)

        def fail(message):
            self.fail(index, f"{head}: {message}", eqn.span)

        for label, sub, ins, outs, leading in rule(eqn, fail) if rule else ():
            where = f"{label} of {head}"
            self.interface(index, where, sub, ins, outs, leading, eqn.span)
            _check(sub, [*self.path, f"in {where}"])

    def interface(self, index, where, sub, ins, outs, leading, span) -> None:
        """`sub` must take avals `ins` and give `outs`: all its results, or its leading ones.

        Weak flags may differ across this boundary, as JAX's `typematch` allows: a loop
        starts from a weak literal and carries a strong value, or a branch returns a literal
        where another returns an array. A weak flag only steers promotion while a program
        is traced; dtype and shape, which fix what runs, must agree."""
        if len(sub.inputs) != len(ins):
            self.fail(index, f"{where}: takes {len(sub.inputs)} inputs, not {len(ins)}", span)
        if len(sub.outputs) < len(outs) or (not leading and len(sub.outputs) != len(outs)):
            need = f"at least {len(outs)}" if leading else str(len(outs))
            self.fail(index, f"{where}: gives {len(sub.outputs)} results, not {need}", span)
        for side, avals, want in (("input", sub.in_avals, ins), ("result", sub.out_avals, outs)):
            for k, (got, aval) in enumerate(zip(avals, want)):
                if (what := _mismatch(got, aval, compare_weak=False)) is not None:
                    self.fail(
                        index,
                        f"{where}: {side} {k} is {got}, the equation needs {aval} ({what} differs)",
                        span,
                    )


def _check(program: Program, path: list[str]) -> None:
    _ProgramChecker(program, path).run()


#: How each primitive holding sub-programs in its params feeds them, registered beside the
#: primitive (the control family): `rule(eqn, fail)` gives rows of (label, sub-program, the
#: input avals it must take, the result avals it must give, whether those are only its
#: leading ones), and reports operands that fit no sub-program through `fail`.
INTERFACES: dict = {}
