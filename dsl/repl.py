"""`jx repl`: interactive jx, on a terminal (prompt_toolkit) or over a pipe.

A `Session` holds one module scope and runs inputs into it: every expression statement
prints its value, definitions persist, and an input that fails changes nothing — the
scope's table and the PRNG key uses are put back as they were. Lines starting with `:`
are commands (`:help` lists them); `:type`, `:ir` and `:hlo` trace an expression without
running it. On a terminal a `def`, `if`, `for` or `while` block continues until a blank
line, with auto-indent, highlighting (`jx.lexer`), completion of names in scope,
built-ins and module members, and history in `$XDG_DATA_HOME/jx/history`. When stdin is
not a terminal, statements are read from it and their results printed, so a session is
scriptable: a block there ends at the next line that starts in column 0 (blank lines
inside a block are kept, as in a script), and the exit status is 1 if any input failed.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from contextlib import contextmanager

import numpy as np

from . import ast, ops, syntax, trees
from .api import BACKENDS, get_backend, run_module, using
from .builtins import _METHODS
from .check import check_module
from .cli import parse_signature
from .core import CTX, aval_of
from .dtypes import short
from .effects import format_value
from .errors import JxError
from .errors import ValueError as JxValueError
from .functions import trace_call, traced_leaf
from .interp import evaluate
from .lexer import KEYWORDS
from .modules import module_scope
from .passes import optimize
from .prng import Key, journal_mark, journal_take
from .repl_input import read_inputs
from .repl_terminal import run_terminal
from .values import Closure, Module, did_you_mean

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
  :backend [NAME]       show or switch the backend (numpy, xla, cupy)
  :load FILE.jx         run a file's top level into this session
  :reset                forget every definition
  :quit                 leave (or Ctrl-D)"""


class Session:
    """One interactive namespace and the commands that work on it."""

    def __init__(self, backend="numpy", out=None, err=None):
        self.backend = get_backend(backend) if isinstance(backend, str) else backend
        self.scope = module_scope(None)
        self.count = 0  # inputs so far, to name each one's source
        self.failed = False  # whether any input failed (the exit status over a pipe)
        self.done = False
        self._out, self._err = out, err

    # -- output: resolved when written, so a notebook's per-cell stdout is honoured
    @property
    def out(self):
        return self._out or sys.stdout

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def complain(self, text: str) -> None:
        self.failed = True
        self.out.flush()  # what was printed before the error comes before it
        print(text, file=self._err or sys.stderr, flush=True)

    # -- running inputs
    def handle(self, text: str, name: str | None = None) -> bool:
        """Run one input, a command or statements; errors are printed. True on success."""
        if not text.strip():
            return True
        if text.lstrip().startswith(":"):
            return self.command(text.strip())
        self.count += 1
        name = name or f"<input-{self.count}>"
        return self._guarded(lambda: self.execute(text, name, echo=self.echo))

    def _guarded(self, action) -> bool:
        """Run `action`, printing what went wrong instead of raising. True on success."""
        try:
            action()
        except JxError as e:
            # An error with no place in the source to point at (a command's) needs no caret.
            self.complain(e.render() if e.span else f"{e.kind}: {e.message}")
        except KeyboardInterrupt:
            self.complain("interrupted")
        except Exception as e:  # noqa: BLE001 - a bug in jx: report it, keep the session alive
            self.complain(f"internal error: {type(e).__name__}: {e}")
        else:
            return True
        return False

    def execute(self, source, name: str, echo=None, env=None):
        """Parse, check and run source text (or a parsed module) at the top level, all or
        nothing: any failure leaves the session as it was, and raises."""
        module = syntax.parse(source, name) if isinstance(source, str) else source
        with self.transaction():
            run_module(module, name, self.backend, env, self.scope, echo)

    def echo(self, value) -> None:
        self.scope.vars["_"] = value
        self.say(show(value))

    @contextmanager
    def transaction(self, keep: bool = True):
        """Run a block against the session's state; undo it on failure (or always, unless
        `keep`). The table is restored in place rather than swapped for a copy: closures
        hold the scope, and cached traces hold its table to notice rebound names."""
        saved, mark, saved_out = dict(self.scope.vars), journal_mark(), CTX.out
        CTX.out = self.out
        try:
            yield
        except BaseException:
            self._restore(saved, mark)
            raise
        else:
            if not keep:
                self._restore(saved, mark)
        finally:
            CTX.out = saved_out

    def _restore(self, saved: dict, mark: int) -> None:
        self.scope.vars.clear()
        self.scope.vars.update(saved)
        journal_take(mark)  # keys used by the undone code are unused again

    # -- commands
    def command(self, line: str) -> bool:
        name, _, arg = line[1:].partition(" ")
        method = getattr(self, f"cmd_{name}", None)
        if method is None:
            hint = did_you_mean(name, COMMANDS)
            self.complain(f"unknown command ':{name}'{hint} (:help lists the commands)")
            return False
        return self._guarded(lambda: method(arg.strip()))

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
        self.say(f"backend: {self.backend.name} (known: {', '.join(BACKENDS)})")

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

    def cmd_type(self, arg: str) -> None:
        program, out_tree, rewraps = self._trace(*self._target(arg, ":type", calls=False))
        leaves = [_LeafType(_leaf_text(a, r)) for a, r in zip(program.out_avals, rewraps)]
        self.say(type_text(trees.unflatten(out_tree, leaves)))

    def cmd_ir(self, arg: str) -> None:
        self.say(str(self._trace(*self._target(arg, ":ir"))[0]))

    def cmd_hlo(self, arg: str) -> None:
        try:
            xla = get_backend("xla")
        except JxError as e:
            raise JxValueError(f":hlo needs the xla backend: {e.message}") from None
        program = self._trace(*self._target(arg, ":hlo"), backend=xla)[0]
        self.say(xla.hlo(optimize(program)))  # optimized as `jit` does before compiling

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
        return Closure("<expression>", (), body, self.scope, {}, expr.span), [], {}, expr.span

    def _trace(self, fn, args, kwargs, span, backend=None):
        """Trace abstractly: (program, output tree, output rewraps); nothing runs."""
        with self.transaction(keep=False), using(backend or self.backend):
            program, out_tree, _, _, rewraps = trace_call(fn, args, kwargs, traced_leaf, span)
        return program, out_tree, rewraps

    # -- completion
    def completions(self, text: str) -> tuple[int, list[str]]:
        """For the text before the cursor: (length of the word being completed, candidates)."""
        if re.fullmatch(r":\w*", text):
            return len(text), [f":{c}" for c in COMMANDS if f":{c}".startswith(text)]
        word = re.search(r"[\w.]*$", text).group()
        if word[:1].isdigit():
            return 0, []
        if "." in word:
            base, _, prefix = word.rpartition(".")
            names = members(self._resolve(base))
        else:
            prefix = word
            names = self.scope.names() | _WORDS
        hidden = "_" if not prefix.startswith("_") else "__"
        found = {n for n in names if n.startswith(prefix) and not n.startswith(hidden)}
        return len(prefix), sorted(found, key=lambda n: (n.lower(), n))

    def _resolve(self, dotted: str):
        """The value a dotted name stands for, following modules only (nothing runs)."""
        first, *rest = dotted.split(".")
        value = self.scope.vars.get(first, self.scope.parent.vars.get(first))
        for attr in rest:
            if not isinstance(value, Module):
                return None
            value = value.members.get(attr)
        return value


COMMANDS = [n[4:] for n in dir(Session) if n.startswith("cmd_")]
_WORDS = {*KEYWORDS, "True", "False", "None", "and", "or", "not"}


def _signature_error(message: str):
    raise JxValueError(message.replace("--args", "argument types"))


def members(value) -> list[str]:
    """Names completion offers after `value.`."""
    if isinstance(value, Module):
        return list(value.members)
    if isinstance(value, Key):
        return ["shape", "ndim"]
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return ["shape", "ndim", "size", "dtype", "T", "at", "reshape", *_METHODS]
    return []


# ------------------------------------------------------------------ showing values


def show(value) -> str:
    """An echoed value: what print() shows, and a signature for a jx function."""
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


class _LeafType(str):
    """The type of a traced leaf in `:type`'s answer, told apart from static strings."""


def _leaf_text(aval, rewrap) -> str:
    if rewrap is None:
        return str(aval)
    value = rewrap(np.zeros(aval.shape, aval.dtype))  # a key (or other wrapped leaf)
    name = "key" if isinstance(value, Key) else type(value).__name__
    return f"{name}[{','.join(str(d) for d in value.shape)}]"


def type_text(tree) -> str:
    """`:type`'s answer: avals for traced leaves, `value:type` for static numbers."""
    if isinstance(tree, _LeafType):
        return str(tree)
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


def run_stream(session: Session, lines) -> int:
    """The REPL over a pipe: each input runs as it completes; 1 if any failed, else 0."""
    for start, text in read_inputs(lines):
        if text.startswith(":"):
            session.command(text)
        else:
            # Blank lines in front keep error locations true to the stream's line numbers.
            session.handle("\n" * (start - 1) + text, "<stdin>")
        if session.done:
            break
    return 1 if session.failed else 0


def main(backend="numpy") -> int:
    """`jx repl`: interactive on a terminal, scriptable when stdin is a pipe or a file."""
    session = Session(backend)
    if sys.stdin.isatty():
        return run_terminal(session)
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a replaced sys.stdin (tests, embedding) is already text
        return run_stream(session, sys.stdin)
    # Bytes, decoded here: jx source is UTF-8 whatever the locale says.
    return run_stream(session, (line.decode("utf-8", "replace") for line in stream))
