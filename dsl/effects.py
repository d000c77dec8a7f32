"""Top-level effects: print, save, load and assert (LANGUAGE.md section 7).

They exist only at the top level (the checker refuses them in functions, and
`call_builtin` refuses them while tracing). `save` writes atomically: a temporary file in
the target's folder, then a rename, so a failure never leaves a half-written file.
"""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np

from . import ast, dtypes, ops, trees
from .builtins import builtin
from .core import CTX, Tracer, describe
from .errors import AssertionError as JxAssertionError
from .errors import JxRuntimeError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .formatting import format_value
from .interp import EXPRESSIONS, STATEMENTS, evaluate, truth


@builtin("print", effect=True)
def print_(*values, sep=" ", end="\n"):
    for name, text in (("sep", sep), ("end", end)):
        if not isinstance(text, str):
            raise JxTypeError(f"print(): {name} must be a string, got {describe(text)}")
    out = CTX.out or sys.stdout
    out.write(sep.join(format_value(v) for v in values) + end)
    out.flush()


def _path(path) -> str:
    if not isinstance(path, str):
        raise JxTypeError(f"a file path must be a string literal, got {describe(path)}")
    return os.path.abspath(path)


def _host(x) -> np.ndarray:
    if not ops.is_array(x) and not ops.is_scalar(x):
        raise JxTypeError(f"save() writes arrays, got {describe(x)}")
    return np.asarray(x)


@builtin("save", effect=True)
def save(path, *arrays, **named):
    target = _path(path)
    if target.endswith(".npy"):
        if len(arrays) != 1 or named:
            raise JxTypeError('save("x.npy", x) takes exactly one array; use .npz for several')
        payload = _host(arrays[0])
    elif target.endswith(".npz"):
        if arrays and named:
            raise JxTypeError("save(.npz) takes either positional or named arrays, not both")
        payload = {f"arr_{i}": _host(a) for i, a in enumerate(arrays)}
        payload.update({k: _host(v) for k, v in named.items()})
    else:
        raise JxTypeError("save() writes .npy or .npz files")
    folder = os.path.dirname(target)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".jx-save-", suffix=".tmp")
    except OSError as e:
        raise JxRuntimeError(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), _file_mode())  # mkstemp's file is private; a save is not
            if isinstance(payload, dict):
                np.savez(f, **payload)
            else:
                np.save(f, payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise JxRuntimeError(f"cannot write {path}: {e.strerror}") from None
        raise


def _file_mode() -> int:
    """The permissions `open()` would give a new file (0o666 less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@builtin("load", effect=True)
def load(path):
    target = _path(path)
    try:
        data = np.load(target, allow_pickle=False)
    except FileNotFoundError:
        raise JxRuntimeError(f"no such file: {path}") from None
    except (OSError, ValueError) as e:
        raise JxRuntimeError(f"cannot read {path}: {e}") from None
    if isinstance(data, np.ndarray):
        return _loaded(data, path)
    with data:
        return {k: _loaded(data[k], path) for k in data.files}


def _loaded(array: np.ndarray, path) -> np.ndarray:
    # np.save writes ml_dtypes' bfloat16 as two-byte void records: read those back as bf16.
    if array.dtype == np.dtype("V2"):
        return array.view(dtypes.bf16)
    try:
        return array.astype(dtypes.canonical(array.dtype), copy=False)
    except ValueError:
        raise JxTypeError(
            f"{path} holds an array of dtype {array.dtype}, which jx does not have"
        ) from None


def run_assert(stmt, scope, top):
    value = evaluate(stmt.test, scope)
    CTX.span = stmt.span
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
