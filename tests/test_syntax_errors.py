"""Syntax errors: each is a JxSyntaxError at the offending token with a short, human message.

The table pins the message and the position of each error; every case is also rendered
and checked for the `FILE:LINE:COL: JxSyntaxError: ` header, the source line and a caret,
and for the absence of anything from the parser's insides (Lark's text, terminal names).
A property test mutates a valid program at random and asks the same of every failure.
"""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jx.errors import JxSyntaxError
from jx.syntax import parse

# (source, message, line, column)
ERRORS = [
    # expressions
    ("return x +* 2", "expected an expression after '+', found '*'", 1, 11),
    (
        "def f(x):\n    y = x\n    return x +* 2\n",
        "expected an expression after '+', found '*'",
        3,
        15,
    ),
    ("x = 1 +\n", "expected an expression after '+', found the end of the line", 1, 8),
    ("x == = 2", "expected an expression after '==', found '='", 1, 6),
    ("x = )", "expected an expression after '=', found ')'", 1, 5),
    ("f(,)", "expected an expression after '(', found ','", 1, 3),
    ("x = if", "expected an expression after '=', found 'if'", 1, 5),
    ("x = 1 2", "expected an operator or the end of the line, found '2'", 1, 7),
    ("return x y", "expected an operator or the end of the line, found 'y'", 1, 10),
    ("f(1 2)", "expected ',' or ')', found '2'; perhaps you forgot a comma?", 1, 5),
    ("x = [1, 2 3]", "expected ',' or ']', found '3'; perhaps you forgot a comma?", 1, 11),
    (
        'r = {"a": 1 "b": 2}',
        "expected ',' or '}', found '\"b\"'; perhaps you forgot a comma?",
        1,
        13,
    ),
    ("a if b", "expected an operator or 'else', found the end of the line", 1, 7),
    ("x.1", "expected an attribute name after '.', found '1'", 1, 3),
    ("if x = 1:\n    pass\n", "unexpected '='; did you mean '=='?", 1, 6),
    # brackets
    ("x = (1,\n     2", "'(' was never closed", 1, 5),
    ("x = [1, [2,", "'[' was never closed", 1, 9),
    ("f(x", "'(' was never closed", 1, 2),
    ('r = {"a": 1,\n', "'{' was never closed", 1, 5),
    # compound statements
    ("if x\n    pass\n", "expected ':', found the end of the line", 1, 5),
    ("if x  # why\n    pass\n", "expected ':', found the end of the line", 1, 5),
    ("while x\n    pass\n", "expected ':', found the end of the line", 1, 8),
    ("for i in xs\n    pass\n", "expected ':', found the end of the line", 1, 12),
    ("if x:\n    pass\nelse\n    pass\n", "expected ':', found the end of the line", 3, 5),
    ("def f(x)\n    return x\n", "expected ':' or '=', found the end of the line", 1, 9),
    ("if x pass", "expected ':', found 'pass'", 1, 6),
    ("for x y:\n    pass\n", "expected an operator, ',' or 'in', found 'y'", 1, 7),
    # blocks and indentation
    (
        "def f(x):\nreturn 1\n",
        "expected an indented block after function definition on line 1",
        2,
        1,
    ),
    (
        "x = 1\nif x:\ny = 2\n",
        "expected an indented block after 'if' statement on line 2",
        3,
        1,
    ),
    (
        "def f(x):\n    for i in xs:\n    return x\n",
        "expected an indented block after 'for' statement on line 2",
        3,
        5,
    ),
    ("def f(x):", "expected an indented block after function definition on line 1", 1, 10),
    ("x = 1\n    y = 2\n", "unexpected indent", 2, 5),
    ("  x = 1\n", "unexpected indent", 1, 3),
    ("# comment\n\n   x = 1\n", "unexpected indent", 3, 4),
    ("if x:\n    y = 1\n  z = 2\n", "unindent does not match any outer indentation level", 3, 3),
    ("if x:\n\ty = 1\n", "tab in indentation; indent with spaces", 2, 1),
    ("if x:\n  \ty = 1\n", "tab in indentation; indent with spaces", 2, 3),
    # names
    ("def (x): pass", "expected a function name after 'def', found '('", 1, 5),
    ("def\n", "expected a function name after 'def', found the end of the line", 1, 4),
    (
        "def return(x): pass",
        "expected a function name after 'def', found 'return' (a keyword)",
        1,
        5,
    ),
    ("import\n", "expected a module name after 'import', found the end of the line", 1, 7),
    ("from nn import relu as\n", "expected a name after 'as', found the end of the line", 1, 23),
    ("lambda x x", "expected ',' or ':' in the lambda parameters, found 'x'", 1, 10),
    # characters and strings
    ("x = $", "unexpected character '$'", 1, 5),
    ("x = a ? b", "unexpected character '?'", 1, 7),
    ('x = "abc', "unterminated string literal", 1, 5),
    ("y = 1\nx = 'abc\n", "unterminated string literal", 2, 5),
    ("x = 1\nbreak\n", "'break' is not part of jx", 2, 1),
    ("x = a with b", "'with' is not part of jx", 1, 7),
    ("class A: pass", "'class' is not part of jx", 1, 1),
    # calls
    ("f(x=1, 2)", "positional argument follows keyword argument", 1, 8),
    ("f(1 = 2)", "a keyword argument needs a name before '='; did you mean '=='?", 1, 3),
    ("f(a=1, a=2)", "keyword argument 'a' repeated", 1, 8),
    # records
    ("r = {1: 2}", "record keys must be string literals", 1, 6),
    ("r = {w: 2}", "record keys must be string literals", 1, 6),
    ('r = {"a": 1, "a": 2}', "record key 'a' repeated", 1, 14),
    # assignment targets
    ("f(x) = 1", "cannot assign to a function call", 1, 1),
    ("x, 1 = t", "cannot assign to a literal", 1, 4),
    ("None = 1", "cannot assign to None", 1, 1),
    ("x + 1 = 2", "cannot assign to an expression", 1, 1),
    ("[a, b] = t", "cannot assign to an array literal", 1, 1),
    ("a = b + 1 = 2", "cannot assign to an expression", 1, 5),
    ("x, y += 1", "cannot use a tuple as the target of '+='", 1, 1),
    ("for f(i) in xs:\n    pass\n", "cannot assign to a function call", 1, 5),
    # parameters
    ("def f(x, x): pass", "duplicate parameter 'x'", 1, 10),
    ("g = lambda a, a: a", "duplicate parameter 'a'", 1, 15),
    (
        "def f(x=1, y): pass",
        "parameter without a default follows parameter with a default",
        1,
        12,
    ),
    ("def f(*a, *b): pass", "only one '*' parameter is allowed", 1, 11),
]

_INTERNALS = re.compile(
    r"__ANON|_NEWLINE|_INDENT|_DEDENT|\$END|\b[A-Z]{3,}[A-Z_]*\b|Token\(|[Ll]ark|Unexpected"
)


def _check_rendering(err: JxSyntaxError, source: str, name: str = "<string>") -> None:
    assert isinstance(err, JxSyntaxError)
    assert not _INTERNALS.search(err.message), err.message
    span = err.span
    text = str(err)
    assert text == err.render()
    assert text.startswith(f"{name}:{span.line}:{span.column}: JxSyntaxError: {err.message}")
    lines = source.splitlines()
    if 0 < span.line <= len(lines) and lines[span.line - 1].strip():
        body = text.splitlines()
        assert body[1] == "    " + lines[span.line - 1]
        assert body[2] == "    " + " " * (span.column - 1) + "^" * len(body[2].strip())


@pytest.mark.parametrize(
    ("source", "message", "line", "column"), ERRORS, ids=[e[1] for e in ERRORS]
)
def test_syntax_error(source, message, line, column):
    with pytest.raises(JxSyntaxError) as info:
        parse(source, "prog.jx")
    err = info.value
    assert err.message == message
    assert (err.span.line, err.span.column) == (line, column)
    _check_rendering(err, source, "prog.jx")


def test_rendering_of_an_error():
    with pytest.raises(JxSyntaxError) as info:
        parse("a = 1\nreturn x +* 2\n")
    assert str(info.value) == (
        "<string>:2:11: JxSyntaxError: expected an expression after '+', found '*'\n"
        "    return x +* 2\n"
        "              ^"
    )


def test_unclosed_bracket_points_at_the_bracket():
    with pytest.raises(JxSyntaxError) as info:
        parse("x = f(1,\n      2,\n")
    assert str(info.value).splitlines() == [
        "<string>:1:6: JxSyntaxError: '(' was never closed",
        "    x = f(1,",
        "         ^",
    ]


def test_error_inside_brackets_notes_where_they_opened():
    with pytest.raises(JxSyntaxError) as info:
        parse("y = (1,\n  2\n  3)\n")
    err = info.value
    assert err.message == "expected ',' or ')', found '3'; perhaps you forgot a comma?"
    assert (err.span.line, err.span.column) == (3, 3)
    ((note, span),) = err.notes
    assert note == "'(' opened here"
    assert (span.line, span.column) == (1, 5)
    assert "<string>:1:5: note: '(' opened here" in str(err)


def test_errors_after_a_long_prefix_keep_their_line():
    source = "x = 1\n" * 50 + "y = (2 +)\n"
    with pytest.raises(JxSyntaxError) as info:
        parse(source)
    assert (info.value.span.line, info.value.span.column) == (51, 9)


# ------------------------------------------------------------------ random damage

PROGRAM = """\
import nn
from nn import relu as q, softmax

def f(x, y=2, *args):
    z = x * y + x ** -2
    if z > 0 and not y:
        return z
    elif z < -1:
        z = -z
    else:
        z = [i * 2 for i in range(3) if i]
    for a, (b, c) in zip(xs, ys):
        z += a[1:, ::2, ..., None]
    while z < 10:
        z = z.at[0].set(1.5e-3)
    return {"w": z, "b": (1,)}

def g(x) = lambda t: t if x else -t
k1, k2 = random.split(random.key(0x1F))
assert f(1) == 2, "msg"
print(g(1)(2)); pass
"""

PIECES = [
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "=",
    "==",
    "+",
    "*",
    "**",
    ".",
    "...",
    ";",
    "if",
    "else",
    "elif",
    "lambda",
    "def",
    "return",
    "for",
    "in",
    "not",
    "x",
    "1",
    "1.5",
    '"',
    "'",
    "#",
    "\n",
    "    ",
    "\t",
    "\\\n",
    "$",
]


@settings(max_examples=400, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(PROGRAM)), st.integers(0, 3), st.sampled_from(PIECES)),
        min_size=1,
        max_size=3,
    )
)
def test_damaged_programs_fail_cleanly(edits):
    source = PROGRAM
    for position, deleted, inserted in edits:
        position = min(position, len(source))
        source = source[:position] + inserted + source[position + deleted :]
    try:
        parse(source)
    except JxSyntaxError as err:
        _check_rendering(err, source)
