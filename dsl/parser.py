"""The LALR parser over `grammar/jx.lark` (Lark, with a Python-style indenter that refuses
tabs and inconsistent dedents) and the messages of its failures, in the style of Python 3.12
and rustc ("expected an expression after '+', found '*'", "'(' was never closed"): each is
worked out from the parser's state at the failure (the tokens it accepts and those on its
stack), never from Lark's own text. `syntax.py` builds the AST from what it parses.
"""

from __future__ import annotations

import functools
import itertools
import re
from importlib import resources

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.indenter import Indenter
from lark.parsers.lalr_interactive_parser import InteractiveParser

from .errors import JxSyntaxError, Source, Span


class IndentError(Exception):
    """Raised by the indenter, which has no Source at hand; `parse` adds it."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class _JxIndenter(Indenter):
    NL_type = "_NEWLINE"
    OPEN_PAREN_types = ("LPAR", "LSQB", "LBRACE")
    CLOSE_PAREN_types = ("RPAR", "RSQB", "RBRACE")
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def process(self, stream):
        # Indentation is only measured after a newline, so an indented first line needs this.
        for token in stream:
            if token.type != self.NL_type and token.column > 1:
                raise IndentError("unexpected indent", token.line, token.column)
            yield from super().process(itertools.chain([token], stream))
            return

    def handle_NL(self, token: Token):
        # Lark's version counts a tab as 8 spaces and raises a bare DedentError; jx refuses
        # tabs outright and reports both problems at the line that has them.
        if self.paren_level > 0:
            return
        yield token
        indent = token.rsplit("\n", 1)[1]
        if "\t" in indent:
            raise IndentError(
                "tab in indentation; indent with spaces", token.end_line, indent.index("\t") + 1
            )
        if len(indent) > self.indent_level[-1]:
            self.indent_level.append(len(indent))
            yield Token.new_borrow_pos(self.INDENT_type, indent, token)
            return
        while len(indent) < self.indent_level[-1]:
            self.indent_level.pop()
            yield Token.new_borrow_pos(self.DEDENT_type, indent, token)
        if len(indent) != self.indent_level[-1]:
            raise IndentError(
                "unindent does not match any outer indentation level",
                token.end_line,
                len(indent) + 1,
            )


@functools.cache
def lalr() -> Lark:
    text = resources.files("jx.grammar").joinpath("jx.lark").read_text()
    return Lark(
        text,
        parser="lalr",
        postlex=_JxIndenter(),
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,  # the grammar analysis is kept in the temp folder: faster `jx` start-up
    )


# ------------------------------------------------------------------ error messages

# fmt: off
_OPENERS = {"LPAR": "')'", "LSQB": "']'", "LBRACE": "'}'"}
_CLOSERS = {"RPAR", "RSQB", "RBRACE"}
_HEADERS = {"DEF": "function definition", "IF": "'if' statement", "ELIF": "'elif' statement",
            "ELSE": "'else' statement", "FOR": "'for' statement", "WHILE": "'while' statement"}
_LAYOUT = {"_NEWLINE": "the end of the line", "$END": "the end of the input",
           "_INDENT": "an indented block", "_DEDENT": "the end of the block"}
_CATEGORIES = {"NAME": "a name", "DEC_NUMBER": "a number", "HEX_NUMBER": "a number",
               "FLOAT_NUMBER": "a number", "STRING": "a string", "FSTRING": "a string",
               "LONG_STRING": "a string",
               "IS_NOT": "'is not'",
               "AUGASSIGN": "an augmented assignment such as '+='"}
_EXPR_STARTS = {"a name", "a number", "a string", "'('", "'['", "'{'", "'+'", "'-'", "'~'",
                "'not'", "'lambda'", "'...'", "'None'", "'True'", "'False'"}
_OPERATORS = {"'+'", "'-'", "'*'", "'/'", "'//'", "'%'", "'@'", "'**'", "'<<'", "'>>'", "'&'",
              "'^'", "'|'", "'<'", "'>'", "'=='", "'>='", "'<='", "'!='", "'and'", "'or'", "'if'",
              "'is'", "'is not'",
              "'.'", "'('", "'['"}
_OPERANDS = {"a name", "a number", "a string", "'...'", "'None'", "'True'", "'False'", "')'", "']'",
             "'}'", *_LAYOUT.values()}
_NAME_AFTER = {"DEF": "a function name", "IMPORT": "a module name", "FROM": "a module name",
               "DOT": "an attribute name"}
_NOT_IN_JX = {"async", "await", "break", "class", "continue", "except", "finally", "raise",
              "try", "with", "yield"}
# fmt: on


def _shown(terminal: str) -> str:
    """How a terminal reads in a message: `'+'`, `a name`, `the end of the line`."""
    if terminal in _LAYOUT:
        return _LAYOUT[terminal]
    if terminal in _CATEGORIES:
        return _CATEGORIES[terminal]
    return f"'{lalr().get_terminal(terminal).pattern.value}'"


def _found(token: Token) -> str:
    return _LAYOUT.get(token.type) or f"'{token.value}'"


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _expected(accepts: set[str]) -> list[str]:
    """What the parser could take next, with expression starts and operators grouped."""
    shown = {_shown(t) for t in accepts}
    groups = []
    if {"a name", "a number"} <= shown:
        shown -= _EXPR_STARTS
        groups.append("an expression")
    if "'*'" in shown:
        shown -= _OPERATORS
        groups.append("an operator")
    if "the end of the line" in shown:
        shown.discard("';'")  # true, but never what was meant
    layout = sorted(shown & set(_LAYOUT.values()))
    return groups + sorted(shown - set(layout)) + layout


def _innermost(stack: list, kinds) -> Token | None:
    """The innermost unclosed bracket or open header keyword among `kinds` on the stack."""
    depth = 0
    for item in reversed(stack):
        if not isinstance(item, Token):
            continue
        if item.type in _CLOSERS:
            depth += 1
        elif item.type in _OPENERS and depth:
            depth -= 1
        elif item.type in kinds and not depth:
            return item
    return None


def _last_token(item) -> Token | None:
    """The operator, keyword or opening bracket just shifted, if that is what came last."""
    if isinstance(item, Token) and _shown(item.type) not in _OPERANDS:
        return item
    return None


def word_span(source: Source, line: int, column: int) -> Span:
    match = re.match(r"\w+|\S", source.line(line)[column - 1 :])
    return Span(source, line, column, line, column + (len(match.group()) if match else 1))


def _end_span(source: Source) -> Span:
    lines = source.lines()
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    column = len(lines[-1]) + 1
    return Span(source, len(lines), column, len(lines), column + 1)


def _token_span(token: Token, source: Source) -> Span:
    if token.type == "_NEWLINE":
        # The newline token starts after trailing spaces or at a comment; point just past code.
        column = len(source.line(token.line)[: token.column - 1].rstrip()) + 1
        return Span(source, token.line, column, token.line, column + 1)
    if token.type in ("_INDENT", "_DEDENT") and source.line(token.end_line).strip():
        return word_span(source, token.end_line, token.end_column)
    if token.type in _LAYOUT:
        return _end_span(source)
    return Span(source, token.line, token.column, token.end_line, token.end_column)


def _bad_character(source: Source, line: int, column: int) -> JxSyntaxError:
    span = word_span(source, line, column)
    text = source.line(line)[column - 1 :]
    word = re.match(r"\w*", text).group()
    if word in _NOT_IN_JX:
        return JxSyntaxError(f"'{word}' is not part of jx", span)
    if text[:1] in "'\"":
        return JxSyntaxError(
            "unterminated string literal", Span(source, line, column, line, column + 1)
        )
    return JxSyntaxError(f"unexpected character {text[:1]!r}", span)


def _replay(text: str, bad: Token) -> InteractiveParser:
    """The parser just before it was fed `bad`. The state Lark reports comes after the
    reductions LALR makes on seeing `bad`, and accepts fewer tokens than the text allowed."""
    parser = lalr().parse_interactive(text)
    try:
        for token in parser.lexer_thread.lex(parser.parser_state):
            if token.type == bad.type and token.start_pos == bad.start_pos:
                break
            parser.feed_token(token)
    except UnexpectedInput:
        pass  # the contextual lexer refused `bad` before the parser saw it
    return parser


def syntax_error(e: UnexpectedInput, source: Source, text: str) -> JxSyntaxError:
    if isinstance(e, UnexpectedCharacters):
        return _bad_character(source, e.line, e.column)
    if not isinstance(e, UnexpectedToken):
        return JxSyntaxError("invalid syntax", word_span(source, e.line or 1, e.column or 1))
    token, parser = e.token, _replay(text, e.token)
    accepts = parser.accepts()
    shown = {_shown(t) for t in accepts}
    stack = parser.parser_state.value_stack
    found, span = _found(token), _token_span(token, source)
    prev = _last_token(stack[-1]) if stack else None
    after = f" after '{prev}'" if prev is not None else ""
    opener = _innermost(stack, _OPENERS)
    context = _innermost(stack, {*_OPENERS, *_HEADERS, "LAMBDA"})
    expected = _expected(accepts)
    if token.type == "_INDENT":
        message = "unexpected indent"
    elif token.type == "$END" and opener is not None:
        message, span = f"'{opener}' was never closed", _token_span(opener, source)
    elif opener is not None and token.line > opener.line and not _closed(text, opener):
        # The rest of the text never closes it: the error is the open bracket, not what
        # follows (Python says the same).
        message, span = f"'{opener}' was never closed", _token_span(opener, source)
        opener = None
    elif "_INDENT" in accepts:
        header = _innermost(stack, _HEADERS)
        where = f" after {_HEADERS[header.type]} on line {header.line}" if header else ""
        message = f"expected an indented block{where}"
    elif token.value == "=" and "'=='" in shown and "EQUAL" not in accepts:
        message = "unexpected '='; did you mean '=='?"
    elif {"a name", "a number"} <= shown:
        message = f"expected an expression{after}, found {found}"
    elif accepts == {"NAME"}:
        what = _NAME_AFTER.get(prev.type if prev else "", "a name")
        keyword = " (a keyword)" if str(token.value).isidentifier() else ""
        message = f"expected {what}{after}, found {found}{keyword}"
    elif context is not None and context.type == "LAMBDA" and "COLON" in accepts:
        message = f"expected ',' or ':' in the lambda parameters, found {found}"
    elif context is not None and context.type in _HEADERS and "COLON" in accepts:
        wanted = "':' or '='" if "EQUAL" in accepts else "':'"
        message = f"expected {wanted}, found {found}"
    elif "'*'" in shown and "_NEWLINE" in accepts:
        message = f"expected an operator or the end of the line, found {found}"
    elif "'*'" in shown and context is opener is not None and _shown(token.type) in _EXPR_STARTS:
        closer = _OPENERS[opener.type]
        message = f"expected ',' or {closer}, found {found}; perhaps you forgot a comma?"
    elif len(expected) <= 4:
        message = f"expected {_either(expected)}, found {found}"
    else:
        message = f"invalid syntax: unexpected {found}"
    error = JxSyntaxError(message, span)
    if opener is not None and opener.line < span.line:
        error.add_note(f"'{opener}' opened here", _token_span(opener, source))
    return error


def _closed(text: str, opener: Token) -> bool:
    """Whether the bracket `opener` is closed somewhere in `text` (strings and comments
    skipped)."""
    depth, quote, i = 0, None, opener.start_pos
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif text.startswith(quote, i):
                i += len(quote) - 1
                quote = None
        elif c in "'\"":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote) - 1
        elif c == "#":
            i = text.find("\n", i)
            if i < 0:
                return False
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return True
        i += 1
    return False
