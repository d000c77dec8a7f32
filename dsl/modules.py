"""Imports: the standard library (`.jx` files shipped in `jx.stdlib`, or modules built in
Python such as `random`), then `NAME.jx` beside the importing file; anything else is an
ImportError. A module runs its top level once per backend and is cached by path.
"""

from __future__ import annotations

import os
import re
from importlib import resources

from . import ast, check, syntax
from .builtins import BUILTINS
from .core import CTX
from .errors import ImportError as JxImportError
from .errors import JxError
from .interp import STATEMENTS, exec_block
from .limits import python_frames
from .values import Module, Scope

#: Modules implemented in Python: name -> function building the Module (each such module
#: registers itself here: random_module.py, linalg.py).
NATIVE: dict = {}

_CACHE: dict = {}
_LOADING: set = set()


def builtins_scope() -> Scope:
    return Scope(None, vars=dict(BUILTINS))


def module_scope(path: str | None = None) -> Scope:
    scope = Scope(builtins_scope(), is_module=True)
    scope.vars["__file__"] = path
    return scope


def _importer_dir(scope: Scope) -> str:
    while scope is not None and not scope.is_module:
        scope = scope.parent
    path = scope.vars.get("__file__") if scope is not None else None
    return os.path.dirname(os.path.abspath(path)) if path else os.getcwd()


def find_module(name: str, scope: Scope) -> str | None:
    stdlib = resources.files("jx.stdlib").joinpath(f"{name}.jx")
    if stdlib.is_file():
        return str(stdlib)
    local = os.path.join(_importer_dir(scope), *name.split(".")) + ".jx"
    return local if os.path.isfile(local) else None


def module_exists(name: str, importer: str) -> bool:
    """Whether `import name` in the file named `importer` finds a module (for the checker)."""
    return name in NATIVE or find_module(name, module_scope(importer)) is not None


def missing_module(name: str, span) -> JxImportError:
    known = sorted(
        set(NATIVE)
        | {p.name[:-3] for p in resources.files("jx.stdlib").iterdir() if p.name.endswith(".jx")}
    )
    return JxImportError(
        f"no module named '{name}' (the standard library has "
        f"{', '.join(known)}; or put {name}.jx beside this file)",
        span,
    )


def _resolve(name: str, span) -> None:
    if not module_exists(name, span.source.name):
        raise missing_module(name, span)


def check_module(module, known: set = frozenset()) -> None:
    """The static checks of a module whose names are the built-ins' (and `known`)."""
    with python_frames():
        check.check_module(module, set(BUILTINS), known, _resolve, library_member)


_TOP_LEVEL_NAME = re.compile(r"^(?:def\s+([A-Za-z]\w*)|([A-Za-z]\w*)\s*=[^=])", re.MULTILINE)
_MEMBERS: dict = {}


def library_member(name: str) -> str | None:
    """`module.name` where a standard-library module has a public member `name` (for the
    hint of an undefined name)."""
    if not _MEMBERS:
        for module, build in NATIVE.items():
            _MEMBERS[module] = set(build().members)
        for entry in resources.files("jx.stdlib").iterdir():
            if entry.name.endswith(".jx") and entry.name[:-3] not in _MEMBERS:
                found = _TOP_LEVEL_NAME.findall(entry.read_text(encoding="utf-8"))
                _MEMBERS[entry.name[:-3]] = {a or b for a, b in found}
    return next((f"{m}.{name}" for m in sorted(_MEMBERS) if name in _MEMBERS[m]), None)


def import_module(name: str, span, scope: Scope) -> Module:
    key = (name, CTX.backend.name if CTX.backend else None)
    if name in NATIVE:
        if key not in _CACHE:
            _CACHE[key] = NATIVE[name]()
        return _CACHE[key]
    path = find_module(name, scope)
    if path is None:
        raise missing_module(name, span)
    key = (path, key[1])
    if key in _CACHE:
        return _CACHE[key]
    if key in _LOADING:
        raise JxImportError(f"circular import of '{name}'", span)
    _LOADING.add(key)
    try:
        module = load_module(name, path)
    except JxError as e:  # the error is in the other file: say which import led there
        e.add_note(f"while importing '{name}' here", span)
        raise
    finally:
        _LOADING.discard(key)
    _CACHE[key] = module
    return module


def load_module(name: str, path: str) -> Module:
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    tree = syntax.parse(text, path)
    check_module(tree)
    scope = module_scope(path)
    saved = CTX.builders, CTX.depth, CTX.span  # the importer's errors keep their own place
    CTX.builders, CTX.depth = [], 0
    try:
        exec_block(tree.body, scope, top=True)
    finally:
        CTX.builders, CTX.depth, CTX.span = saved
    return Module(name, {k: v for k, v in scope.vars.items() if not k.startswith("_")})


def exec_import(stmt, scope, top):
    module = import_module(stmt.module, stmt.span, scope)
    scope.vars[stmt.alias or stmt.module.split(".")[-1]] = module


def exec_import_from(stmt, scope, top):
    module = import_module(stmt.module, stmt.span, scope)
    for name, alias in stmt.names:
        scope.vars[alias or name] = module.attr(name, stmt.span)


STATEMENTS[ast.Import] = exec_import
STATEMENTS[ast.ImportFrom] = exec_import_from
