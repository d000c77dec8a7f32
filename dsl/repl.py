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

from . import __version__, ast, ops, syntax, trees
from .api import BACKENDS, get_backend, run_module, using
from .check import check_module
from .core import CTX, aval_of
from .dtypes import short
from .effects import format_value
from .errors import JxError
from .errors import ValueError as JxValueError
from .lexer import KEYWORDS
from .modules import module_scope
from .prng import Key, journal_mark, journal_take
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
        program, out_tree = self._trace(*self._target(arg, ":type", calls=False))
        leaves = [_LeafType(a) for a in program.out_avals]
        self.say(type_text(trees.unflatten(out_tree, leaves)))

    def cmd_ir(self, arg: str) -> None:
        self.say(str(self._trace(*self._target(arg, ":ir"))[0]))

    def cmd_hlo(self, arg: str) -> None:
        from .passes import optimize

        try:
            xla = get_backend("xla")
        except JxError as e:
            raise JxValueError(f":hlo needs the xla backend: {e.message}") from None
        program = self._trace(*self._target(arg, ":hlo"), backend=xla)[0]
        self.say(xla.hlo(optimize(program)))  # optimized as `jit` does before compiling

    def cmd_time(self, arg: str) -> None:
        from .interp import evaluate

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
        from .interp import evaluate

        signature = re.fullmatch(r"([^\W\d][\w.]*)\s+(\w+\[.*)", text, re.DOTALL)
        if signature:
            from .cli import parse_signature

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
        from .interp import exec_block

        closure = Closure("<expression>", (), body, self.scope, {}, expr.span, exec_block)
        return closure, [], {}, expr.span

    def _trace(self, fn, args, kwargs, span, backend=None):
        """Trace abstractly: (program, output tree); nothing runs."""
        from .functions import trace_function, traced_leaf

        with self.transaction(keep=False), using(backend or self.backend):
            traced = trace_function(
                fn, args, kwargs, span, is_leaf=traced_leaf, static_outputs=True
            )
        return traced.program, traced.out_tree

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
    from .builtins import _METHODS

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


# ------------------------------------------------------------------ where inputs end


def _scan(text: str) -> tuple[int, bool, bool]:
    """(brackets left open, ends with a backslash, opens a block: a line ending in ':')."""
    depth, block, quote, last = 0, False, None, ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c in (quote, "\n"):  # jx strings never span lines
                quote, last = None, c
        elif c == "#":
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        elif c == "\n":
            block = block or (depth == 0 and last == ":")
            last = ""
        elif not c.isspace():
            quote = c if c in "'\"" else None
            depth += c in "([{"
            depth = max(0, depth - (c in ")]}"))
            last = c
        i += 1
    block = block or (depth == 0 and last == ":")
    return depth, last == "\\", block


def needs_more(text: str) -> bool:
    """On a terminal: whether Enter continues the input rather than running it."""
    if not text.strip() or text.lstrip().startswith(":"):
        return False
    depth, continued, block = _scan(text)
    if depth or continued:
        return True
    return block and bool(text.rsplit("\n", 1)[-1].strip())  # a block ends at a blank line


def _continues_block(line: str) -> bool:
    stripped = line.strip()
    return (
        not stripped
        or stripped.startswith("#")
        or line[:1].isspace()
        or re.match(r"(elif|else)\b", stripped) is not None
    )


def read_inputs(lines):
    """Group a stream of lines into inputs: (first line number, text). A statement ends
    with its line (brackets and backslashes permitting); a block at the next line that
    starts in column 0 other than elif/else; a `:` line is a command."""
    buf: list[str] = []
    start = 0
    for lineno, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if buf and not _continues_block(line):
            yield start, "\n".join(buf)
            buf = []
        if not buf:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.startswith(":"):
                yield lineno, line
                continue
            start = lineno
        buf.append(line)
        depth, continued, block = _scan("\n".join(buf))
        if not (depth or continued or block):
            yield start, "\n".join(buf)
            buf = []
    if buf:
        yield start, "\n".join(buf)


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


# ------------------------------------------------------------------ the terminal


def history_path() -> str:
    data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(data, "jx", "history")


def _history():
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    class TolerantHistory(FileHistory):
        """A history file that stops being written, not the session, when writing fails."""

        def store_string(self, string: str) -> None:
            try:
                super().store_string(string)
            except OSError:
                pass

    path = history_path()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError:  # a read-only home: keep the history for this session only
        return InMemoryHistory()
    return TolerantHistory(path)


def _indent_after(text: str) -> str:
    """The indentation of the next line: deeper after a ':', shallower after a return."""
    line = text.rsplit("\n", 1)[-1]
    indent = len(line) - len(line.lstrip(" "))
    if _scan(line)[2]:
        indent += 4
    elif re.match(r"\s*(return|pass)\b", line):
        indent = max(0, indent - 4)
    return " " * indent


def _key_bindings():
    from prompt_toolkit.document import Document
    from prompt_toolkit.filters import Condition
    from prompt_toolkit.key_binding import KeyBindings

    bindings = KeyBindings()

    @bindings.add("enter")
    def _(event):
        buf = event.current_buffer
        if buf.complete_state:  # Enter picks the highlighted completion, as in IPython
            buf.complete_state = None
        elif needs_more(buf.document.text):
            buf.insert_text("\n" + _indent_after(buf.document.text_before_cursor))
        else:
            buf.document = Document(buf.document.text.rstrip())
            buf.validate_and_handle()

    @bindings.add("tab", filter=Condition(lambda: not _line_before_cursor().strip()))
    def _(event):
        event.current_buffer.insert_text("    ")

    @bindings.add("backspace", filter=Condition(lambda: _line_before_cursor().isspace()))
    def _(event):
        width = len(_line_before_cursor())
        event.current_buffer.delete_before_cursor((width - 1) % 4 + 1)  # back to a tab stop

    return bindings


def _line_before_cursor() -> str:
    from prompt_toolkit.application import get_app

    return get_app().current_buffer.document.current_line_before_cursor


def _completer(session: Session):
    from prompt_toolkit.completion import Completer, Completion, PathCompleter
    from prompt_toolkit.document import Document

    class JxCompleter(Completer):
        paths = PathCompleter(expanduser=True)

        def get_completions(self, document, complete_event):
            text = document.text_before_cursor
            if text.startswith(":load "):
                path = text[len(":load ") :].lstrip()
                yield from self.paths.get_completions(Document(path), complete_event)
                return
            length, names = session.completions(text)
            for name in names:
                yield Completion(name, start_position=-length)

    return JxCompleter()


def run_terminal(session: Session, input=None, output=None, history=None) -> int:
    """The REPL on a terminal (or on prompt_toolkit's test input and output)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.lexers import PygmentsLexer

    from .lexer import JxLexer

    prompt = PromptSession(
        message="jx> ",
        prompt_continuation=lambda width, line, wrap: "... ".rjust(width),
        multiline=True,
        key_bindings=_key_bindings(),
        lexer=PygmentsLexer(JxLexer),
        completer=_completer(session),
        complete_while_typing=False,
        history=history if history is not None else _history(),
        input=input,
        output=output,
    )
    session.say(
        f"jx {__version__} ({session.backend.name} backend); :help for help, Ctrl-D to exit"
    )
    while not session.done:
        try:
            text = prompt.prompt()
        except KeyboardInterrupt:  # Ctrl-C: drop this input, keep the session
            continue
        except EOFError:  # Ctrl-D
            break
        session.handle(text)
    return 0


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
