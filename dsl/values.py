"""The kinds of value a jx program handles besides arrays, numbers, tuples and records.

`Scope` is a chain of name tables (function locals, then enclosing functions, the
module, the built-ins). `Closure` is a jx function (a `def` or `lambda` and the scope it
was defined in). `Builtin` wraps a Python function the language provides; `Module` is an
imported namespace. All carry a `jx_kind` used in error messages. `TraceCache` is where
every traced function keeps its programs, one per abstract signature.
"""

from __future__ import annotations

import difflib
import inspect

from .errors import NameError as JxNameError
from .errors import TypeError as JxTypeError


class Scope:
    __slots__ = ("is_module", "parent", "vars")

    def __init__(self, parent: Scope | None = None, is_module: bool = False, vars=None):
        self.vars: dict = {} if vars is None else vars
        self.parent = parent
        self.is_module = is_module

    def lookup(self, name: str, span=None):
        scope = self
        while scope is not None:
            vars_ = scope.vars
            if name in vars_:
                value = vars_[name]
                if scope.is_module and READS:
                    READS[-1].append((vars_, name, value))
                return value
            scope = scope.parent
        raise JxNameError(f"name '{name}' is not defined{did_you_mean(name, self.names())}", span)

    def names(self) -> set:
        out, scope = set(), self
        while scope is not None:
            out |= set(scope.vars)
            scope = scope.parent
        return out

    def fork(self) -> Scope:
        """A copy of this scope's own table (for tracing a branch), same parents."""
        return Scope(self.parent, self.is_module, dict(self.vars))


#: Stack of lists recording module-level reads made while tracing (for cache validity).
READS: list = []

#: Entries a TraceCache holds before it starts afresh.
CACHE_LIMIT = 256


class TraceEntry:
    """What a function traced for one signature became: `program` (as traced or
    transformed), the `Traced` call it came from, `extra` data of whoever made it, and the
    executables compiled from it per backend. Valid while the module-level names the trace
    read stay bound to the same values."""

    __slots__ = ("compiled", "extra", "program", "reads", "traced")

    def __init__(self, program, traced, extra=None):
        self.program = program
        self.traced = traced
        self.extra = extra
        self.compiled: dict = {}
        self.reads: list = []

    def current(self) -> bool:
        """Whether every module-level name the trace read is still bound as it was."""
        for table, name, value in self.reads:
            if table.get(name, _MISSING) is not value:
                return False
        return True


class TraceCache(dict):
    """The one cache of traced programs: signature -> TraceEntry, for plain calls, `jit`,
    the differentiation transforms, `vmap` and `pmap` alike. `int_values` keeps, for a
    plain call, the values each Python int parameter was traced for (to warn of re-traces)."""

    def __init__(self):
        super().__init__()
        self.int_values: dict | None = {}  # None once the re-trace warning has been given

    def lookup(self, key, make):
        """The valid entry for `key`, else `make()`'s, recording the module names it reads."""
        entry = self.get(key)
        if entry is not None and entry.current():
            return entry
        READS.append([])
        try:
            entry = make()
        finally:
            reads = READS.pop()
            if READS:
                READS[-1].extend(reads)
        entry.reads = reads
        if len(self) >= CACHE_LIMIT:
            self.clear()
        self[key] = entry
        return entry


_MISSING = object()


def did_you_mean(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


class Closure:
    """A jx function: its definition, defaults and the scope it closes over, and the
    evaluator's `exec_body(body, scope)` that runs it (passed in by whoever makes it)."""

    jx_kind = "a function"
    __slots__ = (
        "__weakref__",
        "body",
        "cache",
        "defaults",
        "exec_body",
        "name",
        "params",
        "scope",
        "span",
    )

    def __init__(self, name, params, body, scope, defaults, span, exec_body):
        self.exec_body = exec_body
        self.name = name
        self.params = params  # tuple of ast.Param
        self.body = body  # tuple of statements
        self.scope = scope
        self.defaults = defaults  # dict name -> value
        self.span = span
        self.cache = TraceCache()

    def __repr__(self) -> str:
        return f"<function {self.name}>"

    def bind_args(self, args, kwargs, span):
        """Map call arguments to parameter names, Python-style; TypeError on a bad call."""
        bound = {}
        at = next((i for i, p in enumerate(self.params) if p.star), len(self.params))
        positional, keyword_only = self.params[:at], self.params[at + 1 :]
        star = self.params[at] if at < len(self.params) else None
        if len(args) > len(positional) and not (star and star.name):
            raise JxTypeError(
                f"{self.name}() takes {_count(len(positional))} but {len(args)} were given", span
            )
        for p, a in zip(positional, args):
            bound[p.name] = a
        if star is not None and star.name:
            bound[star.name] = tuple(args[len(positional) :])
        named = {p.name for p in positional} | {p.name for p in keyword_only}
        for k, v in kwargs.items():
            if k not in named:
                raise JxTypeError(f"{self.name}() got an unexpected keyword argument '{k}'", span)
            if k in bound:
                raise JxTypeError(f"{self.name}() got multiple values for argument '{k}'", span)
            bound[k] = v
        for p in (*positional, *keyword_only):
            if p.name not in bound:
                if p.name in self.defaults:
                    bound[p.name] = self.defaults[p.name]
                else:
                    kind = "keyword-only argument" if p in keyword_only else "argument"
                    raise JxTypeError(f"{self.name}() missing {kind} '{p.name}'", span)
        return bound


def _count(n: int) -> str:
    return f"{n} argument" + ("" if n == 1 else "s")


class Builtin:
    """A function the language provides, implemented in Python over `ops`."""

    __slots__ = ("effect", "fn", "name", "signature")
    jx_kind = "a built-in function"

    def __init__(self, name: str, fn, effect: bool = False):
        self.name = name
        self.fn = fn
        self.effect = effect
        try:
            self.signature = inspect.signature(fn)
        except (TypeError, ValueError):
            self.signature = None

    def check_args(self, args, kwargs, span):
        """Refuse a call its signature does not accept, before the call runs (a misspelt
        keyword names the closest parameter)."""
        if self.signature is None:
            return
        params = self.signature.parameters.values()
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            named = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
            for k in kwargs:
                if k not in named:
                    raise JxTypeError(
                        f"{self.name}() got an unexpected keyword argument '{k}'"
                        f"{did_you_mean(k, named)}",
                        span,
                    )
        try:
            self.signature.bind(*args, **kwargs)
        except TypeError as e:
            raise JxTypeError(f"{self.name}(): {e}", span) from None

    def __repr__(self) -> str:
        return f"<built-in {self.name}>"


class Module:
    """An imported namespace: a jx module's top-level names, or a built-in module."""

    jx_kind = "a module"

    def __init__(self, name: str, members: dict):
        self.name = name
        self.members = members

    def attr(self, name: str, span=None):
        if name.startswith("_") or name not in self.members:
            hint = did_you_mean(name, [m for m in self.members if not m.startswith("_")])
            raise JxNameError(f"module '{self.name}' has no member '{name}'{hint}", span)
        return self.members[name]

    def __repr__(self) -> str:
        return f"<module {self.name}>"
