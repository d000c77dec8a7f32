"""The REPL's line editor on a terminal, built on prompt_toolkit.

An input runs on Enter once it is complete (`repl_input.needs_more`); until then Enter
adds a line, indented deeper after a `:` and shallower after `return` or `pass`, and Tab
and Backspace move by four-column stops. Input is highlighted by the Pygments lexer
`jx.lexer`, Tab completes from the session (names in scope, built-ins, module members and
commands; file paths after `:load`), and history lives in `$XDG_DATA_HOME/jx/history`, or
in memory when that file cannot be written. Ctrl-C drops the input, Ctrl-D leaves.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.completion import Completer, Completion, PathCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.filters import Condition
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.lexers import PygmentsLexer

from .lexer import JxLexer
from .repl_input import needs_more, scan
from .version import __version__

if TYPE_CHECKING:  # for annotations only: repl imports this module to run a terminal
    from .repl import Session


def history_path() -> str:
    data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(data, "jx", "history")


class _TolerantHistory(FileHistory):
    """A history file that stops being written, not the session, when writing fails."""

    def store_string(self, string: str) -> None:
        try:
            super().store_string(string)
        except OSError:
            pass


def _history():
    path = history_path()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError:  # a read-only home: keep the history for this session only
        return InMemoryHistory()
    return _TolerantHistory(path)


def _indent_after(text: str) -> str:
    """The indentation of the next line: deeper after a ':', shallower after a return."""
    line = text.rsplit("\n", 1)[-1]
    indent = len(line) - len(line.lstrip(" "))
    if scan(line)[2]:
        indent += 4
    elif re.match(r"\s*(return|pass)\b", line):
        indent = max(0, indent - 4)
    return " " * indent


def _key_bindings():
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
    return get_app().current_buffer.document.current_line_before_cursor


class _Completer(Completer):
    """Names in scope, built-ins, module members and commands; file paths after `:load`."""

    paths = PathCompleter(expanduser=True)

    def __init__(self, session: Session):
        self.session = session

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        if text.startswith(":load "):
            path = text[len(":load ") :].lstrip()
            yield from self.paths.get_completions(Document(path), complete_event)
            return
        length, names = self.session.completions(text)
        for name in names:
            yield Completion(name, start_position=-length)


def run_terminal(session: Session, input=None, output=None, history=None) -> int:
    """The REPL on a terminal (or on prompt_toolkit's test input and output)."""
    prompt = PromptSession(
        message="jx> ",
        prompt_continuation=lambda width, line, wrap: "... ".rjust(width),
        multiline=True,
        key_bindings=_key_bindings(),
        lexer=PygmentsLexer(JxLexer),
        completer=_Completer(session),
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
