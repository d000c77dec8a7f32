"""Source text that Python's own readers would trip over: bad literals, lone carriage
returns, characters that `str.splitlines` treats as line ends, and nesting past the
documented bound. Each is a JxSyntaxError at the right place or runs, never a traceback."""

import subprocess
import sys

import jx
import pytest


def syntax_error(src):
    with pytest.raises(jx.JxSyntaxError) as info:
        jx.compile(src)
    return info.value


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ('x = "\\N{foo}"\n', "bad string literal: unknown Unicode character name"),
        ('x = "\\x"\n', "bad string literal: truncated \\xXX escape"),
        ("x = " + "1" * 5001 + "\n", "integer literal too long (5001 digits; at most 4300)"),
        ('x = f"a{1}\\x"\n', "bad string literal: truncated \\xXX escape"),
    ],
)
def test_bad_literals(src, message):
    err = syntax_error(src)
    assert err.message == message
    assert (err.span.line, err.span.column) == (1, 5)


def test_an_unknown_escape_keeps_its_backslash_quietly():
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import jx; print(jx.compile('x = \"a\\\\d\"').x)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "a\\d"


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_every_newline_convention_reads_alike(newline):
    m = jx.compile(newline.join(["x = 1", "y = x + 1", ""]))
    assert int(m.y) == 2
    with pytest.raises(jx.NameError) as info:
        jx.compile(newline.join(["x = 1", "y = z", ""]))
    assert info.value.span.line == 2
    assert "y = z" in info.value.render()


@pytest.mark.parametrize("char", ["\x0c", "\x85", "\u2028", "\x1c"])
def test_the_caret_is_on_the_named_line(char):
    # `str.splitlines` ends lines at these characters; the parser does not, and neither
    # may the caret's line lookup.
    src = f"s = 'a{char}b'\nx = 1\ny = zz\n" if char != "\x0c" else "x = 1\n\x0cy = zz\n"
    with pytest.raises(jx.NameError) as info:
        jx.compile(src)
    err = info.value
    line = src.split("\n")[err.span.line - 1]
    assert line.endswith("y = zz")
    rendered = err.render().split("\n")
    assert rendered[1].endswith("y = zz")
    assert rendered[2].index("^") == rendered[1].index("zz")


@pytest.mark.parametrize(
    "src",
    [
        "x = " + "**".join(["1"] * 1200) + "\n",
        "x = " + "abs(" * 2000 + "1" + ")" * 2000 + "\n",
        "x = " + " if True else ".join(["1"] * 1200) + "\n",
        "x = " + "+".join(["1"] * 3000) + "\n",
        "".join("    " * i + "if True:\n" for i in range(1200)) + "    " * 1200 + "x = 1\n",
    ],
)
def test_nesting_past_the_bound_is_a_syntax_error_naming_it(src):
    err = syntax_error(src)
    assert "nested too deeply: more than 1000 levels" in err.message
    assert "jx.limits.nesting" in err.message


def test_nesting_within_the_bound_runs():
    m = jx.compile(
        "x = "
        + "+".join(["1"] * 900)
        + "\n"
        + "".join("    " * i + f"def f{i}(x):\n" for i in range(200))
        + "    " * 200
        + "return x\n"
        + "y = "
        + "abs(" * 250
        + "-1.0"
        + ")" * 250
        + "\n"
    )
    assert int(m.x) == 900
    assert float(m.y) == 1.0


def test_the_nesting_bound_can_be_raised():
    src = "x = " + "+".join(["1"] * 1500) + "\n"
    saved = jx.limits.nesting
    jx.limits.nesting = 2000
    try:
        assert int(jx.compile(src).x) == 1500
    finally:
        jx.limits.nesting = saved
    proc = subprocess.run(
        [sys.executable, "-c", f"import jx; print(int(jx.compile({src!r}).x))"],
        capture_output=True,
        text=True,
        check=False,
        env={**__import__("os").environ, "JX_LIMIT_NESTING": "2000"},
    )
    assert proc.stdout.strip() == "1500", proc.stderr


@pytest.mark.parametrize(
    ("src", "line", "column"),
    [
        ("x = (1, 2\ny = 3\n", 1, 5),
        ("x = foo(1, 2\n\nprint(x)\n", 1, 8),
        ("def f(x):\n    y = g(x,\n    return y\n", 2, 10),
        ("x = [1, 2\n", 1, 5),
    ],
)
def test_a_bracket_never_closed_is_reported_at_the_bracket(src, line, column):
    err = syntax_error(src)
    assert err.message.endswith("was never closed")
    assert (err.span.line, err.span.column) == (line, column)


def test_a_missing_comma_inside_closed_brackets_is_still_a_comma_hint():
    err = syntax_error("x = max(1\n2)\n")
    assert "perhaps you forgot a comma?" in err.message


def test_triple_quoted_strings_and_docstrings():
    m = jx.compile(
        "def f(x):\n    \"\"\"Twice x.\n\n    Any shape.\"\"\"\n    return 2 * x\ns = '''a\nb'''\n"
    )
    assert float(m.f(1.0)) == 2.0
    assert m.s == "a\nb"
