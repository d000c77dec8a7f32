"""The REPL's `:` commands, and how the REPL shows values.

`Commands` is the part of `repl.Session` that answers `:help`, `:quit`, `:reset`,
`:backend`, `:load` and `:doc` (a name's signature and docstring), and the commands that look at an expression without keeping
anything it does: `:type` and `:ir` trace it abstractly, `:hlo` shows the StableHLO the
xla backend makes of it, and `:time` runs it repeatedly after a warm-up run, each run
starting from the same PRNG key uses. `show` is how an echoed value is printed (a jx
function with its signature) and `type_text` is `:type`'s answer.
"""

from __future__ import annotations

import inspect
import os
import re
import statistics
import time

import numpy as np

from . import ast, dtypes, ops, syntax, trees
from . import backend as backend_registry
from .api import docstring, get_backend, using
from .core import aval_of
from .dtypes import short
from .errors import JxError
from .errors import ValueError as JxValueError
from .formatting import format_value, parse_signature
from .functions import trace_function, traced_leaf
from .interp import evaluate, exec_block
from .modules import check_module, module_scope
from .passes import optimize
from .prng import Key, journal_mark, journal_take
from .values import Builtin, Closure, Module

#: How long `:time` aims to spend timing, after its warm-up run.
TIME_BUDGET_S = 0.5

HELP = """\
Type jx statements; an expression statement prints its value (also bound to `_`).
A def/if/for/while block continues until a blank line. Ctrl-C cancels the input,
Ctrl-D exits. An input that fails changes nothing.

  :help                 this text
  :type EXPR            shape, dtype and tree structure of EXPR, traced, not run
  :ir EXPR              the IR of EXPR; for a call f(x, y), the IR of f at those arguments
  :ir FUNC ARGS         the IR of FUNC for argument types, e.g. :ir f f32[3,3], f32[]
  :hlo EXPR | FUNC ARGS the StableHLO the xla backend makes of it
  :time EXPR            median time of EXPR over repeated runs, after a warm-up run
  :doc NAME             the signature and docstring of NAME (also help(NAME), NAME?)
  :backend [NAME]       show or switch the backend (the installed ones)
  :load FILE.jx         run a file's top level into this session
  :reset                forget every definition
  :quit                 leave (or Ctrl-D)"""


class Commands:
    """The commands of a `repl.Session`, which has the scope, the backend, the output
    (`say`) and the `transaction` they work with; `:name arg` calls `cmd_name(arg)`."""

    def cmd_help(self, arg: str) -> None:
        self.say(HELP)

    def cmd_quit(self, arg: str) -> None:
        self.done = True

    def cmd_reset(self, arg: str) -> None:
        self.scope = module_scope(None)
        self.say("all definitions cleared")

    def cmd_backend(self, arg: str) -> None:
        if arg:
            self.backend = get_backend(arg)
        self.say(f"backend: {self.backend.name} (installed: {', '.join(backend_registry.names())})")

    def cmd_load(self, arg: str) -> None:
        if not arg:
            raise JxValueError("usage: :load FILE.jx")
        path = os.path.expanduser(arg)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise JxValueError(f"cannot read {arg}: {getattr(e, 'strerror', None) or e}") from None
        # While it runs, the file's own imports resolve beside it, as they would in `jx run`.
        self.scope.vars["__file__"] = os.path.abspath(path)
        try:
            self.execute(text, path)
        finally:
            self.scope.vars["__file__"] = None
        self.say(f"loaded {arg}")

    def cmd_doc(self, arg: str) -> None:
        if not arg:
            raise JxValueError("usage: :doc NAME")
        expr = self._expression(arg, ":doc")
        with self.transaction(keep=False), using(self.backend):
            value = evaluate(expr, self.scope)
        if isinstance(value, Closure):
            text = docstring(value)
        elif isinstance(value, Builtin):
            text = inspect.getdoc(value.fn)
        elif isinstance(value, Module):
            text = "members: " + ", ".join(sorted(m for m in value.members if m[0] != "_"))
        else:
            text = None
        head = show(value)
        if isinstance(value, Builtin) and value.signature is not None:
            head = f"<built-in {value.name}{value.signature}>"
        self.say(f"{arg}: {head}\n\n{text or '(no docstring)'}")

    def cmd_type(self, arg: str) -> None:
        program, out_tree = self._trace(*self._target(arg, ":type", calls=False))
        leaves = [_LeafType(a) for a in program.out_avals]
        self.say(type_text(trees.unflatten(out_tree, leaves)))

    def cmd_ir(self, arg: str) -> None:
        self.say(str(self._trace(*self._target(arg, ":ir"))[0]))

    def cmd_hlo(self, arg: str) -> None:
        try:
            xla = get_backend("xla")
        except JxError as e:
            raise JxValueError(f":hlo needs the xla backend: {e.message}") from None
        program = self._trace(*self._target(arg, ":hlo"), backend=xla)[0]
        self.say(xla.lowered_text(optimize(program)))  # optimized as `jit` does before compiling

    def cmd_time(self, arg: str) -> None:
        expr = self._expression(arg, ":time")

        def once() -> float:
            mark = journal_mark()
            start = time.perf_counter()
            _wait_for(evaluate(expr, self.scope))
            elapsed = time.perf_counter() - start
            journal_take(mark)  # each run may use the same keys: each starts from the same state
            return elapsed

        with self.transaction(keep=False), using(self.backend):
            once()  # warm-up: traces, compiles and fills caches
            first = once()
            runs = max(3, min(10_000, int(TIME_BUDGET_S / max(first, 1e-7))))
            times = [first] + [once() for _ in range(runs - 1)]
        self.say(
            f"{_duration(statistics.median(times))} median of {runs} runs "
            f"(min {_duration(min(times))}; after 1 warm-up run)"
        )

    # -- expressions for :type, :ir, :hlo, :time
    def _expression(self, text: str, command: str):
        if not text:
            raise JxValueError(f"usage: {command} EXPR")
        expr = syntax.parse_expression(text, f"<{command[1:]}>")
        known = {k for k in self.scope.vars if not k.startswith("__")}
        check_module(ast.Module(expr.span, (ast.ExprStmt(expr.span, expr),)), known)
        return expr

    def _target(self, text: str, command: str, calls: bool = True):
        """What to trace: (function, args, kwargs, span). `FUNC ARGS` gives zero arrays of
        the argument types; with `calls`, `f(x, y)` gives f at the values of x and y (so the
        IR has them as inputs); any other expression is a function of no arguments."""
        signature = re.fullmatch(r"([^\W\d][\w.]*)\s+(\w+\[.*)", text, re.DOTALL)
        if signature:
            expr = self._expression(signature[1], command)
            with self.transaction(keep=False), using(self.backend):
                fn = evaluate(expr, self.scope)
            return fn, parse_signature(signature[2], fail=_signature_error), {}, expr.span
        expr = self._expression(text, command)
        starred = isinstance(expr, ast.Call) and any(isinstance(a, ast.Starred) for a in expr.args)
        if calls and isinstance(expr, ast.Call) and not starred:
            with self.transaction(keep=False), using(self.backend):
                fn = evaluate(expr.func, self.scope)
                args = [evaluate(a, self.scope) for a in expr.args]
                kwargs = {k.name: evaluate(k.value, self.scope) for k in expr.keywords}
            return fn, args, kwargs, expr.span
        body = (ast.Return(expr.span, expr),)
        closure = Closure("<expression>", (), body, self.scope, {}, expr.span, exec_block)
        return closure, [], {}, expr.span

    def _trace(self, fn, args, kwargs, span, backend=None):
        """Trace abstractly: (program, output tree); nothing runs."""
        with self.transaction(keep=False), using(backend or self.backend):
            traced = trace_function(
                fn, args, kwargs, span, is_leaf=traced_leaf, static_outputs=True
            )
        return traced.program, traced.out_tree


def _signature_error(message: str):
    raise JxValueError(message.replace("--args", "argument types"))


# ------------------------------------------------------------------ showing values


def show(value, indent: int = 0) -> str:
    """An echoed value: what print() shows, with the type where that text misleads (an
    array of a dtype other than f32, i32 and bool, which print() shows the same: bf16 reads
    like f32, a 0-d f64 like a Python float), records and tuples that do not fit
    a line one entry a line with continuation lines aligned, and a signature for a jx
    function. `indent` is the column the value starts at."""
    if isinstance(value, (tuple, dict)):
        return _show_tree(value, indent)
    if ops.is_array(value) and value.dtype not in _PLAIN_DTYPES:
        text = str(value.astype(np.float32)) if value.dtype == dtypes.bf16 else str(value)
        return _aligned(f"{text}:{aval_of(value).strong()}", indent)  # the type says bf16
    if ops.is_array(value):
        return _aligned(format_value(value), indent)
    if isinstance(value, Closure):
        params = (
            f"*{p.name}"
            if p.star
            else f"{p.name}={format_value(value.defaults[p.name])}"
            if p.name in value.defaults
            else p.name
            for p in value.params
        )
        return f"<function {value.name}({', '.join(params)})>"
    return format_value(value)


def _show_tree(tree, indent: int) -> str:
    if isinstance(tree, dict):
        opening, closing = "{", "}"
        heads = [f"{k!r}: " for k in tree]
        values = list(tree.values())
    else:
        opening, closing = "(", ",)" if len(tree) == 1 else ")"
        heads, values = [""] * len(tree), list(tree)
    flat = opening + ", ".join(h + show(v) for h, v in zip(heads, values)) + closing
    if "\n" not in flat and indent + len(flat) <= _WIDTH:
        return flat
    entries = [h + show(v, indent + 1 + len(h)) for h, v in zip(heads, values, strict=True)]
    return opening + (",\n" + " " * (indent + 1)).join(entries) + closing


def _aligned(text: str, indent: int) -> str:
    """Multi-line text whose later lines start at column `indent`, under the first."""
    return text.replace("\n", "\n" + " " * indent)


#: The dtypes an echoed array's text implies (those of jx's literals), shown bare.
_PLAIN_DTYPES = (dtypes.f32, dtypes.i32, np.dtype(bool))

#: The width an echoed record or tuple fits on one line within.
_WIDTH = 80


class _LeafType:
    """The abstract value of a traced leaf in `:type`'s answer."""

    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval


def type_text(tree) -> str:
    """`:type`'s answer: avals for traced leaves, `value:type` for static numbers."""
    if isinstance(tree, _LeafType):
        return str(tree.aval)
    if isinstance(tree, Key):
        return f"key[{','.join(str(d) for d in tree.data.aval.shape[:-1])}]"
    if isinstance(tree, tuple):
        inner = ", ".join(type_text(t) for t in tree)
        return f"({inner},)" if len(tree) == 1 else f"({inner})"
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {type_text(v)}" for k, v in tree.items()) + "}"
    if isinstance(tree, (bool, int, float)):
        return f"{tree}:{aval_of(tree)}"
    if isinstance(tree, str):
        return repr(tree)
    if ops.is_array(tree):  # a module-level array, constant in the trace
        return str(aval_of(tree).strong())
    if hasattr(tree, "itemsize") and hasattr(tree, "kind"):  # a dtype
        return f"dtype {short(tree)}"
    return show(tree)


def _wait_for(value) -> None:
    """Block until an asynchronous backend has finished computing `value`."""
    leaves, _ = trees.flatten(value, lambda x: hasattr(x, "block_until_ready"))
    for leaf in leaves:
        leaf.block_until_ready()


def _duration(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"
