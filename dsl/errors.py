"""Errors are values with spans.

Every user mistake becomes a `JxError` carrying the `Span` of the offending source and
optional notes (each a message with its own span). `render()` gives the compiler-style
text `FILE:LINE:COL: Class: message`, the source line, a caret run under the span, then
the notes. The class names mirror Python's, so users know what each means, and each
class also subclasses the Python built-in it mirrors (`jx.TypeError` is a `TypeError`,
`ShapeError` a `ValueError`), so Python code can catch jx errors as it catches its own.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Source:
    """A named piece of jx text (a file, `<string>`, `<stdin>` or a REPL input)."""

    name: str
    text: str

    def lines(self) -> list[str]:
        """The text's lines as the parser counts them: only \n ends a line (\r\n and a lone
        \r are read as \n first); form feeds, \x85 and \u2028 are characters on a line."""
        return self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def line(self, lineno: int) -> str:
        lines = self.lines()
        return lines[lineno - 1] if 0 < lineno <= len(lines) else ""


@dataclass(frozen=True, slots=True)
class Span:
    """A region of source: 1-based line and column, end column exclusive."""

    source: Source
    line: int
    column: int
    end_line: int
    end_column: int

    def __repr__(self) -> str:
        return f"{self.source.name}:{self.line}:{self.column}"

    def caret(self) -> str:
        """The source line and a caret run under this span."""
        text = self.source.line(self.line)
        if not text:
            return ""
        end = self.end_column if self.end_line == self.line else len(text) + 1
        width = max(1, min(end, len(text) + 1) - self.column)
        return f"    {text}\n    {' ' * (self.column - 1)}{'^' * width}"


class JxError(Exception):
    """Base of every error a jx program can raise; carries a span and notes."""

    def __init__(self, message: str, span: Span | None = None, notes=()):
        super().__init__(message)
        self.message = message
        self.span = span
        self.notes: list[tuple[str, Span | None]] = list(notes)

    @property
    def kind(self) -> str:
        return type(self).__name__

    def with_span(self, span: Span | None) -> JxError:
        """Attach a span if the error has none yet (errors raised deep inside rules)."""
        if self.span is None and span is not None:
            self.span = span
        return self

    def add_note(self, message: str, span: Span | None = None) -> None:
        self.notes.append((message, span))

    def render(self) -> str:
        parts = []
        where = repr(self.span) if self.span else "<unknown>"
        parts.append(f"{where}: {self.kind}: {self.message}")
        if self.span is not None and self.span.caret():
            parts.append(self.span.caret())
        for message, span in self.notes:
            if span is not None:
                parts.append(f"{span!r}: note: {message}")
                if span.caret():
                    parts.append(span.caret())
            else:
                parts.append(f"note: {message}")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.render()


class JxSyntaxError(JxError, builtins.SyntaxError):
    """Text that is not jx: bad tokens, bad indentation, tabs."""

    # Python prints a SyntaxError from its fields (file, line, text, offset, message) rather
    # than from str(): they are kept in step with the span, so a traceback shows the caret.
    def __init__(self, message: str, span: Span | None = None, notes=()):
        super().__init__(message, span, notes)
        self._sync_fields()

    def with_span(self, span: Span | None) -> JxError:
        super().with_span(span)
        self._sync_fields()
        return self

    def _sync_fields(self) -> None:
        self.msg = self.message
        if self.span is not None:
            self.filename = self.span.source.name
            self.lineno, self.offset = self.span.line, self.span.column
            self.end_lineno, self.end_offset = self.span.end_line, self.span.end_column
            self.text = self.span.source.line(self.span.line)


class NameError(JxError, builtins.NameError):
    """A name used but never bound."""


class ImportError(JxError, builtins.ImportError):
    """An unknown module."""


class PurityError(JxError, builtins.TypeError):
    """Mutation, effects inside functions, host callables."""


class KeyReuseError(JxError, builtins.ValueError):
    """A PRNG key value used twice."""


class ShapeError(JxError, builtins.ValueError):
    """Shapes that do not fit: broadcasting, matmul, branches, ragged literals."""


class TypeError(JxError, builtins.TypeError):
    """A value of the wrong kind: arity, dtypes, arithmetic on keys, grad of non-scalars."""


class IndexError(JxError, builtins.IndexError):
    """A static index out of range, or a boolean mask."""


class RecursionError(JxError, builtins.RecursionError):
    """Recursion that does not terminate on static values."""


class LimitError(JxError, builtins.RuntimeError):
    """A resource bound of `jx.limits` reached; the message names the bound."""


class AssertionError(JxError, builtins.AssertionError):
    """A failed top-level `assert`."""


class JxRuntimeError(JxError, builtins.RuntimeError):
    """A failure inside a backend while running an equation."""


class ValueError(JxError, builtins.ValueError):
    """A value of the right kind but an unusable content (a bad axis, a bad dtype name)."""


class IRError(JxError, builtins.RuntimeError):
    """A program that breaks the IR's rules: an internal bug in a transform or a pass."""


class FloatingPointError(JxRuntimeError):
    """A NaN or an infinity made by an equation, found with `jx.config.debug_nans`."""


class RetraceWarning(builtins.UserWarning):
    """A function traced again and again for new values of a static Python int argument."""
