"""NaN and infinity hunting (`jx.config.debug_nans`, `jx run --debug-nans`).

With the switch on, every result of a program run at the top level, and of each primitive
run eagerly there, is checked; one holding a NaN or an infinity has the program re-run
equation by equation on the same backend, and the first equation whose operands were finite
but whose result is not is reported as a `FloatingPointError` at the line it came from,
with the operands' values. A loop or branch that made one is reported as a whole, at its
own line (its body is not re-run alone).
"""

from __future__ import annotations

import numpy as np

from . import dtypes
from .config import config
from .errors import FloatingPointError as JxFloatingPointError
from .errors import Span
from .ir import Literal, Program

#: How many elements of an operand the report shows.
SHOWN = 8


def nonfinite(arrays) -> bool:
    """Whether any floating-point array among `arrays` holds a NaN or an infinity."""
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind in "fcV" and a.size and not np.isfinite(a.astype(np.float64)).all():
            return True
    return False


def check_eqn(prim, args, outs, span: Span | None) -> None:
    """The eager check of one primitive's result (top-level code)."""
    if config.debug_nans and nonfinite(outs) and not nonfinite(args):
        raise _report(prim.name, args, outs, span)


def check_program(program: Program, args, outs, backend, span: Span | None) -> None:
    """The check of a program's results; on a NaN or an infinity, the hunt for its source."""
    if not (config.debug_nans and nonfinite(outs)):
        return
    if nonfinite(args):
        raise JxFloatingPointError(
            "a result holds a NaN or an infinity, and so did an argument: "
            + ", ".join(_show(a) for a in args if nonfinite([a])),
            span,
        )
    env = dict(zip(program.inputs, args))
    for eqn in program.eqns:
        ins = [v.value if type(v) is Literal else env[v] for v in eqn.inputs]
        results = backend.run_eqn(eqn.prim, ins, eqn.params)
        if nonfinite(results) and not nonfinite(ins):
            raise _report(eqn.prim.name, ins, results, eqn.span or span)
        env.update(zip(eqn.outputs, results))


def _report(name: str, args, outs, span) -> JxFloatingPointError:
    bad = next(np.asarray(o) for o in outs if nonfinite([o]))
    made = "nan" if np.isnan(bad.astype(np.float64)).any() else "inf"
    count = int((~np.isfinite(bad.astype(np.float64))).sum())
    error = JxFloatingPointError(
        f"{name} produced {made} ({count} of {bad.size} elements) from finite operands", span
    )
    for k, a in enumerate(args, 1):
        error.add_note(f"operand {k}: {_show(a)}")
    error.add_note(f"result: {_show(bad)}")
    return error


def _show(a) -> str:
    a = np.asarray(a)
    text = np.array2string(a.ravel()[:SHOWN] if a.ndim else a, separator=", ", precision=6)
    more = f" ... ({a.size} elements)" if a.size > SHOWN else ""
    return f"{dtypes.short(a.dtype)}{list(a.shape)} {text}{more}"
