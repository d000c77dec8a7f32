"""`jx repl`: interactive jx, on a terminal (prompt_toolkit) or over a pipe.

A `Session` holds one module scope and runs inputs into it: every expression statement
prints its value, definitions persist, and an input that fails changes nothing — the
scope's table and the PRNG key uses are put back as they were. Lines starting with `:`
are commands (`:help` lists them; `help(NAME)` and `NAME?` are `:doc NAME`); `:type`, `:ir` and `:hlo` trace an expression without
running it. On a terminal a `def`, `if`, `for` or `while` block continues until a blank
line, with auto-indent, highlighting (`jx.lexer`), completion of names in scope,
built-ins and module members, and history in `$XDG_DATA_HOME/jx/history`. When stdin is
not a terminal, statements are read from it and their results printed, so a session is
scriptable: a block there ends at the next line that starts in column 0 (blank lines
inside a block are kept, as in a script), and the exit status is 1 if any input failed.
The commands are in `repl_commands`, where an input ends in `repl_input`, and the
terminal's line editor in `repl_terminal`; this module has the session loop and its undo.
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager

from . import syntax
from .api import get_backend, run_module
from .builtins import _METHODS
from .core import CTX
from .errors import JxError
from .lexer import KEYWORDS
from .modules import module_scope
from .prng import Key, journal_mark, journal_take
from .repl_commands import Commands, show
from .repl_input import read_inputs
from .repl_terminal import run_terminal
from .values import Module, did_you_mean


class Session(Commands):
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
        asked = _HELP_FORMS.fullmatch(text.strip())
        if asked:  # help(NAME) and NAME?, as in Python and IPython
            return self.command(f":doc {asked['help'] or asked['mark']}")
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

    def command(self, line: str) -> bool:
        name, _, arg = line[1:].partition(" ")
        method = getattr(self, f"cmd_{name}", None)
        if method is None:
            hint = did_you_mean(name, COMMANDS)
            self.complain(f"unknown command ':{name}'{hint} (:help lists the commands)")
            return False
        return self._guarded(lambda: method(arg.strip()))

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


#: `help(NAME)` or `NAME?`: the REPL's `:doc NAME`.
_HELP_FORMS = re.compile(r"help\((?P<help>[^\W\d][\w.]*)\)|(?P<mark>[^\W\d][\w.]*)\?")
COMMANDS = [n[4:] for n in dir(Session) if n.startswith("cmd_")]
_WORDS = {*KEYWORDS, "True", "False", "None", "and", "or", "not"}


def members(value) -> list[str]:
    """Names completion offers after `value.`."""
    if isinstance(value, Module):
        return list(value.members)
    if isinstance(value, Key):
        return ["shape", "ndim"]
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return ["shape", "ndim", "size", "dtype", "T", "at", "reshape", *_METHODS]
    return []


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
