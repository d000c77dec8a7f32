"""Top-level effects: print and assert (LANGUAGE.md section 7; save and load are in
files.py), and f-strings.

In a run of several processes, print and save act on process 0 (see each). They exist
only at the top level (the checker refuses them in functions, and
`call_builtin` refuses them while tracing). `save` and `load` are in files.py.
"""

from __future__ import annotations

import contextlib
import io
import sys

import numpy as np

from . import ast, trees
from .builtins import builtin
from .core import CTX, Tracer, describe
from .distributed import is_lead
from .errors import AssertionError as JxAssertionError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .formatting import format_value
from .interp import EXPRESSIONS, STATEMENTS, evaluate, truth


@contextlib.contextmanager
def quiet():
    """Top-level prints write nowhere meanwhile (while `jx test` and `jx bench` run)."""
    saved, CTX.out = CTX.out, io.StringIO()
    try:
        yield
    finally:
        CTX.out = saved


@builtin("print", effect=True)
def print_(*values, sep=" ", end="\n", all_processes=False):
    """Print on process 0 of a run (every process's line with all_processes=True)."""
    if not isinstance(all_processes, bool):
        raise JxTypeError(f"print(): all_processes is True or False, not {describe(all_processes)}")
    if not (all_processes or is_lead()):
        return
    for name, text in (("sep", sep), ("end", end)):
        if not isinstance(text, str):
            raise JxTypeError(f"print(): {name} must be a string, got {describe(text)}")
    try:
        text = sep.join(format_value(v) for v in values) + end
    except ValueError as e:  # Python's own bound on printing huge ints
        raise JxValueError(f"print(): {e}") from None
    out = CTX.out or sys.stdout
    out.write(text)
    out.flush()


def run_assert(stmt, scope, top):
    value = evaluate(stmt.test, scope)
    CTX.span = stmt.span
    if CTX.checking and isinstance(value, Tracer):
        return  # `jx check` traces the top level: the test traced, which is all it asks
    if not truth(value, stmt.test.span):
        message = "assertion failed"
        if stmt.msg is not None:
            msg = evaluate(stmt.msg, scope)
            message = msg if isinstance(msg, str) else format_value(msg)
        raise JxAssertionError(message, stmt.span)


STATEMENTS[ast.Assert] = run_assert


# ------------------------------------------------------------------ f-strings


def fstring(node, scope):
    return "".join(
        part.value if type(part) is ast.Const else _format_field(part, scope) for part in node.parts
    )


def _format_field(field, scope) -> str:
    value = evaluate(field.value, scope)
    if type(value) is Tracer or (
        isinstance(value, (tuple, dict)) and any(type(v) is Tracer for v in trees.flatten(value)[0])
    ):
        raise JxTypeError(
            "an f-string formats concrete values, not traced ones; return the value and "
            "format it at top level",
            field.span,
        )
    if field.conversion in ("r", "a") or (
        field.debug and field.conversion is None and not field.spec
    ):
        text = format_value(value) if not isinstance(value, str) else repr(value)
    elif field.spec:
        if isinstance(value, np.ndarray):
            if value.ndim:
                raise JxTypeError(
                    f"format spec '{field.spec}' needs a scalar, got {describe(value)}",
                    field.span,
                )
            value = value[()]
        try:
            text = format(value, field.spec)
        except (TypeError, ValueError) as e:
            raise JxValueError(f"format spec '{field.spec}': {e}", field.span) from None
    else:
        text = value if isinstance(value, str) else format_value(value)
    return field.debug + text


EXPRESSIONS[ast.FString] = fstring
