"""`jx check`'s abstract run: a module's top level traced, not run.

After the static checks, the top-level statements run one by one inside one program
builder, so every array is abstract (a shape and a dtype) and nothing is computed: shape
errors, the branches of an `if` on an array that disagree, and static indices out of
range are found as tracing finds them inside functions, without running the program.
`print` and `save` do nothing here and `assert` checks only that its test traces
(effects.py and functions.py read `CTX.checking`). An
error does not stop the run: the statement's names are marked as failed, the statements
that use them are skipped (their errors would follow from the first), and the others
still run, so every independent error is reported.
"""

from __future__ import annotations

from . import ast
from .api import get_backend, using
from .core import CTX, Builder, trace_into
from .errors import JxError
from .interp import exec_stmt
from .modules import module_scope
from .prng import journal_mark, journal_take


def check_top_level(module: ast.Module, name: str, backend="numpy") -> list[JxError]:
    """The errors tracing `module`'s top level finds, in source order."""
    scope = module_scope(name if name not in ("<string>", "<stdin>") else None)
    errors: list[JxError] = []
    failed: set = set()  # names bound by statements that failed or were skipped
    saved, mark = CTX.checking, journal_mark()
    CTX.checking = True
    try:
        with using(get_backend(backend)), trace_into(Builder()):
            for stmt in module.body:
                bound = ast.bound_names((stmt,))
                if _names_used(stmt) & failed:
                    failed |= bound
                    continue
                try:
                    exec_stmt(stmt, scope, True)
                except JxError as e:
                    errors.append(e)
                    failed |= bound
    finally:
        CTX.checking = saved
        journal_take(mark)  # the key uses of a trace that is thrown away
    return errors


def _names_used(stmt) -> set:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
