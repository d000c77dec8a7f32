"""The Python boundary: jx errors are Python's built-in errors too, leave with jx's own
frames filtered from the traceback and a located note for the call from Python; functions
from jx.compile carry their jx signature and docstring."""

import inspect
import os
import subprocess
import sys
import traceback
import warnings

import jx
import numpy as np
import pytest

PROGRAM = '''
def g(x):
    return x @ x

def f(x, y=2.0, *, z=1):
    """Adds y to g(x).

    The rest of the story."""
    return g(x) + y
'''


@pytest.mark.parametrize(
    ("jx_class", "builtin"),
    [
        (jx.TypeError, TypeError),
        (jx.ShapeError, ValueError),
        (jx.ValueError, ValueError),
        (jx.IndexError, IndexError),
        (jx.NameError, NameError),
        (jx.ImportError, ImportError),
        (jx.AssertionError, AssertionError),
        (jx.RecursionError, RecursionError),
        (jx.JxSyntaxError, SyntaxError),
        (jx.KeyReuseError, ValueError),
        (jx.JxRuntimeError, RuntimeError),
    ],
)
def test_error_classes_subclass_the_builtins(jx_class, builtin):
    assert issubclass(jx_class, jx.JxError) and issubclass(jx_class, builtin)


def test_shape_error_is_caught_as_value_error():
    m = jx.compile(PROGRAM)
    with pytest.raises(ValueError, match="matmul"):
        m.f(np.ones((2, 3), np.float32))


def test_jx_recursion_error_keeps_its_message():
    with pytest.raises(jx.RecursionError, match="maximum recursion depth"):
        jx.compile("def r(n) = r(n + 1)\nr(0)")


def test_traceback_has_no_internal_frames_and_locates_the_python_call():
    m = jx.compile(PROGRAM)
    try:
        m.f(np.ones((2, 3), np.float32))
    except jx.ShapeError as e:
        frames = traceback.extract_tb(e.__traceback__)
        error = e
    internal = [f for f in frames if "/dsl/" in f.filename or "/backends/" in f.filename]
    # The one frame left is the boundary's re-raise, as in JAX's filtered tracebacks.
    assert len(internal) <= 1 and frames[0].filename == __file__
    notes = [(m, s) for m, s in error.notes if m.startswith("called from here ('f')")]
    assert notes and notes[0][1].source.name == __file__
    assert "m.f(np.ones((2, 3), np.float32))" in error.render()


def test_syntax_error_prints_its_caret_through_python():
    script = "import jx\njx.compile('x = (1 +')\n"
    run = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True
    )
    assert "JxSyntaxError" in run.stderr and "x = (1 +" in run.stderr
    assert "/dsl/" not in run.stderr.replace("dsl/api.py", "")


def test_uncaught_error_traceback_is_short():
    script = (
        f"import numpy as np, jx\nm = jx.compile({PROGRAM!r})\nm.f(np.ones((2, 3), np.float32))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True
    )
    frames = [line for line in run.stderr.splitlines() if line.startswith("  File ")]
    assert len(frames) <= 2, run.stderr
    assert "note: called from here ('f')" in run.stderr and "<string>:3:" in run.stderr


def test_filtering_can_be_turned_off():
    script = "import jx\njx.compile('x = undefined_name')\n"
    env = {"JX_TRACEBACK_FILTERING": "off", "PATH": ""}
    run = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, env=env
    )
    frames = [line for line in run.stderr.splitlines() if line.startswith("  File ")]
    assert len(frames) > 3


def test_signature_and_docstring():
    m = jx.compile(PROGRAM)
    assert str(inspect.signature(m.f)) == "(x, y=2.0, *, z=1)"
    assert m.f.__doc__ == "Adds y to g(x).\n\nThe rest of the story."
    assert m.g.__doc__ is None
    assert jx.compile("def h(x):\n    y = x + 1\n    return y").h.__doc__ is None
    assert "Adds y to g(x)." in pydoc_text(m.f)
    assert str(inspect.signature(jx.fn("lambda a, *rest: a"))) == "(a, *rest)"


def test_builtin_function_keeps_its_python_signature():
    m = jx.compile("s = sum")
    assert "axis" in inspect.signature(m.s).parameters


def pydoc_text(obj) -> str:
    import pydoc

    return pydoc.render_doc(obj, renderer=pydoc.plaintext)


def test_py_typed_is_shipped():
    from importlib import resources

    assert resources.files("jx").joinpath("py.typed").is_file()


# ------------------------------------------------------------------ the REPL, as typed


@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")
def test_docstrings_and_dtypes_in_the_repl_on_a_pseudo_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "jx.cli", "repl"],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(24, 160),
    )
    try:

        def enter(keys: str, *outputs: str) -> None:
            child.expect_exact("\x1b[?2004h")  # each prompt turns bracketed paste on
            child.send(keys)
            for output in outputs:
                child.expect_exact(output)

        enter('def sq(x):\r"""Squares x."""\rreturn x * x\r\r')
        enter(":doc sq\r", "sq: <function sq(x)>", "Squares x.")
        enter("help(sq)\r", "Squares x.")
        enter("sq?\r", "Squares x.")
        enter('array(1.5, dtype="bfloat16")\r', "1.5:bf16[]")
        enter('{"a": ones((2, 2)), "b": 1}\r', "{'a': [[1. 1.]\r\n       [1. 1.]],\r\n 'b': 1}")
        enter("import random\r")
        enter("random.split(random.key(0), 1000)\r", "key<threefry2x32>(1000,) [[", "...")
        enter("\x04")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_jx_help_describes_each_command_with_an_example():
    def help_text(*args):
        run = subprocess.run(
            [sys.executable, "-m", "jx.cli", *args, "--help"],
            check=False,
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0
        return run.stdout

    assert "examples:" in help_text()
    for command in ("run", "check", "ir", "repl"):
        text = help_text(command)
        assert f"example:\n  jx {command}" in text, text
    # Only installed backends are offered.
    from jx import backend

    assert "cupy" not in help_text("run") or "cupy" in backend.names()


# ------------------------------------------------------------------ re-traces


def test_new_int_arguments_warn_once_with_the_name_and_the_advice():
    m = jx.compile("def f(x, n) = x * n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(10):
            np.testing.assert_allclose(m.f(2.0, n), 2.0 * n)
    retraces = [w for w in caught if issubclass(w.category, jx.RetraceWarning)]
    assert len(retraces) == 1
    message = str(retraces[0].message)
    assert "'n'" in message and "static_argnums" in message and "jit(f)" in message


def test_one_int_value_many_times_does_not_warn():
    m = jx.compile("def f(x, n) = x * n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in range(10):
            m.f(float(x), 3)
        jitted = jx.jit(m.f)
        for n in range(10):
            jitted(1.0, n)  # jit traces ints: one trace, no warning
