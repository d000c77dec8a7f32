"""`jx repl`: sessions and commands, inputs over a pipe, the terminal through prompt_toolkit's
pipe input and through a real pseudo-terminal, history, completion and the Pygments lexer."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time

import pytest
from jx import backend as backend_registry
from jx import repl_commands
from jx.repl import Session, run_stream
from jx.repl_input import needs_more, read_inputs
from jx.repl_terminal import _history, history_path, run_terminal


def session() -> tuple[Session, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Session(out=out, err=err), out, err


def run_session(*inputs: str) -> tuple[Session, str, str]:
    s, out, err = session()
    for text in inputs:
        s.handle(text)
    return s, out.getvalue(), err.getvalue()


def run(*inputs: str) -> tuple[str, str]:
    """What a session prints for these inputs: (stdout, stderr)."""
    return run_session(*inputs)[1:]


# ------------------------------------------------------------------ sessions


def test_expression_statements_print_and_definitions_persist():
    out, err = run("x = [1.0, 2.0]", "x * 2", "def f(y) = y + x", "f(x)", "f", "_")
    assert out.splitlines() == ["[2. 4.]", "[2. 4.]", "<function f(y)>", "<function f(y)>"]
    assert err == ""


def test_a_failed_input_changes_nothing():
    s, out, err = run_session("x = 1.0", "x = 5.0\ny = undefined + 1", "x", "y")
    assert out.splitlines() == ["1.0"]
    assert "<input-2>:2:5: NameError: name 'undefined' is not defined" in err
    assert "<input-4>:1:1: NameError: name 'y' is not defined" in err
    assert s.failed


def test_a_failed_input_leaves_its_keys_unused():
    out, err = run(
        "import random",
        "k = random.key(0)",
        "a = random.normal(k, (2,))\nb = oops",
        "a = random.normal(k, (2,))",
        "a.shape",
    )
    assert "NameError" in err and "KeyReuseError" not in err
    assert out.splitlines() == ["(2,)"]


def test_a_rebound_name_is_seen_by_functions_defined_earlier():
    # Cached traces remember the table they read: restoring it in place keeps them honest.
    out, err = run("a = 2.0", "def f(x) = x * a", "f(1.0)", "a = 3.0", "f(1.0)")
    assert out.splitlines() == ["2.0", "3.0"] and err == ""


def test_top_level_effects_work_as_in_scripts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # save and load use files under the working directory
    path = tmp_path / "x.npy"
    out, err = run(f'save("{path}", [1, 2])', f'print(load("{path}") + 1)', "assert 1 > 2, 'no'")
    assert out.splitlines() == ["[2 3]"]
    assert "AssertionError: no" in err


def test_functions_show_their_signature():
    out, err = run("def g(a, *rest, axis=0) = a", "g", "lambda x: x")
    assert out.splitlines() == ["<function g(a, *rest, axis=0)>", "<function <lambda>(x)>"]
    assert err == ""


# ------------------------------------------------------------------ commands


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("x * 2", "f32[3]"),
        ("(x, {'s': x.sum()})", "(f32[3], {'s': f32[]})"),
        ("x.shape", "(3:i32[]~,)"),
        ("1.0", "1.0:f64[]~"),  # a weak float is exact
        ("f(ones((2, 3)))", "f32[2,3]"),
        ("f", "<function f(y)>"),
        ("x.dtype", "dtype f32"),
        ("random.split(k)", "key[2]"),
        ("astype(x, i32) > 0", "bool[3]"),
    ],
)
def test_type_traces_without_running(expr, expected):
    out, err = run(
        "import random", "k = random.key(0)", "x = zeros((3,))", "def f(y) = y * 2", f":type {expr}"
    )
    assert (out.strip(), err) == (expected, "")


def test_type_does_not_run_effects_or_use_keys():
    out, err = run(
        "import random",
        "k = random.key(0)",
        ":type random.normal(k, (2,))",
        "random.normal(k, (2,)).shape",
        ":type print(1)",
    )
    assert out.splitlines() == ["f32[2]", "(2,)"]
    assert "PurityError: print() is an effect" in err


def test_ir_of_a_call_has_its_arguments_as_inputs():
    out, err = run("x = ones((3,))", "def f(y) = sin(y) * x", ":ir f(x)")
    assert out.startswith("{ lambda a:f32[3] . let")
    assert "sin a" in out and err == ""


def test_ir_for_argument_types_like_jx_ir():
    out, err = run("def f(a, b) = a @ b", ":ir f f32[2,3], f32[3]")
    assert out.startswith("{ lambda a:f32[2,3] b:f32[3] . let") and "dot_general" in out
    assert err == ""


def test_ir_of_an_expression():
    out, err = run("x = ones((2,))", ":ir x * 2")
    assert "mul const<f32[2]>" in out and err == ""


@pytest.mark.parametrize(
    "command, message",
    [
        (":ir f q32[3]", "unknown dtype 'q32'"),
        (":ir nope f32[3]", "NameError: name 'nope' is not defined"),
        (":type", "usage: :type EXPR"),
        (":type 1 +", "JxSyntaxError"),
        (":bogus", "unknown command ':bogus'"),
        (":tpye x", "did you mean 'type'?"),
        (":backend nosuch", "unknown backend 'nosuch'"),
        (":load /no/such/file.jx", "cannot read /no/such/file.jx"),
    ],
)
def test_command_errors_are_reported(command, message):
    out, err = run("def f(x) = x", command)
    assert message in err and out == ""


def test_time_reports_a_median_over_runs():
    out, err = run(
        "import random",
        "k = random.key(0)",
        "x = ones((100,))",
        ":time (x * x).sum()",
        ":time random.normal(k, (3,))",
    )
    lines = out.splitlines()
    assert len(lines) == 2 and err == ""
    for line in lines:
        value, unit, median, of, runs, *_ = line.split()
        assert float(value) > 0 and unit in ("s", "ms", "µs", "ns")
        assert (median, of) == ("median", "of") and int(runs) >= 3
        assert line.endswith("after 1 warm-up run)")


def test_hlo_needs_the_xla_backend(monkeypatch):
    from jx.errors import ValueError as JxValueError

    def no_xla(name):
        raise JxValueError(f"the {name} backend is not available in this build of jx")

    s, _, err = session()
    s.handle("def f(x) = x + 1")
    monkeypatch.setattr(repl_commands, "get_backend", no_xla)
    s.handle(":hlo f(1.0)")
    assert ":hlo needs the xla backend" in err.getvalue()


def test_hlo_prints_stablehlo():
    pytest.importorskip("jax")
    out, err = run("def f(x) = sin(x) * 2.0", ":hlo f f32[3]")
    assert "stablehlo.sine" in out and "tensor<3xf32>" in out, err


def test_load_reset_backend_help_quit(tmp_path):
    (tmp_path / "helper.jx").write_text("def twice(x) = 2 * x\n")
    (tmp_path / "lib.jx").write_text("import helper\ndef g(x) = helper.twice(x) + 1\ng(1)\n")
    s, out, err = run_session(f":load {tmp_path / 'lib.jx'}", "g(2.0)", ":backend", ":reset", "g")
    lines = out.splitlines()
    assert lines[0] == f"loaded {tmp_path / 'lib.jx'}"  # a file's expressions are not echoed
    installed = ", ".join(backend_registry.names())  # numpy, xla and cupy where its entry point is
    assert lines[1:3] == ["5.0", f"backend: numpy (installed: {installed})"]
    assert "NameError: name 'g' is not defined" in err
    s.handle(":help")
    assert ":type EXPR" in s.out.getvalue()
    s.handle(":quit")
    assert s.done


# ------------------------------------------------------------------ completion


def test_completion_of_names_members_and_commands():
    s = run_session("import nn", "x = ones((2,))", "my_value = 1")[0]
    assert s.completions("nn.softm") == (5, ["softmax"])
    assert "relu" in s.completions("nn.")[1]
    assert s.completions("y = my_v") == (4, ["my_value"])
    assert s.completions("su") == (2, ["subtract", "sum"])
    assert s.completions("x.sh") == (2, ["shape"])
    assert s.completions("wh") == (2, ["where", "while", "while_loop"])
    assert s.completions(":ty") == (3, [":type"])
    assert s.completions("f(1.") == (0, [])
    assert "__file__" not in s.completions("")[1]


# ------------------------------------------------------------------ where inputs end


@pytest.mark.parametrize(
    "text, more",
    [
        ("x = 1", False),
        ("def f(x) = x", False),
        ("def f(x):", True),
        ("def f(x):\n    return x", True),
        ("def f(x):\n    return x\n", False),
        ("def f(x):\n    return x\n    ", False),
        ("f(1,", True),
        ("f(1,\n  2)", False),
        ("x = [1,\n\n", True),
        ("x = 1 + \\", True),
        ("s = ':'  # a comment:", False),
        ("d = {'a':", True),
        ("if x > 0:\n    y = 1\nelse:", True),
        (":type f(", False),
        ("", False),
    ],
)
def test_when_enter_continues_the_input(text, more):
    assert needs_more(text) is more


def test_piped_input_groups_statements_and_blocks():
    lines = [
        "x = 1",
        "# a comment",
        "def f(y):",
        "    z = y",
        "",
        "    return z",
        "# a comment in column 0 does not end the block",
        "f(x)",
        "if x > 0:",
        "    y = 1",
        "else:",
        "    y = 2",
        ":type y",
        "t = (1,",
        "     2)",
    ]
    assert list(read_inputs(lines)) == [
        (1, "x = 1"),
        (3, "def f(y):\n    z = y\n\n    return z\n# a comment in column 0 does not end the block"),
        (8, "f(x)"),
        (9, "if x > 0:\n    y = 1\nelse:\n    y = 2"),
        (13, ":type y"),
        (14, "t = (1,\n     2)"),
    ]


def test_run_stream_reports_true_line_numbers_and_status():
    out, err = io.StringIO(), io.StringIO()
    text = "x = 2.0\ndef f(y):\n    return y * x\nf(3.0)\n\nf(nope)\nf(1.0)\n"
    status = run_stream(Session(out=out, err=err), io.StringIO(text))
    assert out.getvalue().splitlines() == ["6.0", "2.0"]
    assert err.getvalue().startswith("<stdin>:6:3: NameError: name 'nope' is not defined")
    assert status == 1
    assert run_stream(Session(out=io.StringIO()), io.StringIO("1 + 1\n:quit\nnope\n")) == 0


def jx_command(*args) -> list[str]:
    return [sys.executable, "-m", "jx.cli", *args]


def test_jx_repl_reads_stdin_when_it_is_not_a_terminal():
    script = (
        "import nn\n"
        "def f(x):\n"
        "    h = nn.relu(x)\n"
        "\n"
        "    return h * 2\n"
        "f(ones((2,)) - 2)\n"
        "f(oops)\n"
        "f(ones((2,)))\n"
        ":type f(ones((4, 4)))\n"
        ":ir f f32[2]\n"
        ":time f(ones((2,)))\n"
    )
    done = subprocess.run(
        jx_command("repl"), input=script, capture_output=True, text=True, timeout=60, check=False
    )
    lines = done.stdout.splitlines()
    assert lines[:3] == ["[0. 0.]", "[2. 2.]", "f32[4,4]"]
    assert lines[3].startswith("{ lambda a:f32[2] . let")
    assert "median of" in lines[-1]
    assert done.stderr.startswith("<stdin>:7:3: NameError: name 'oops' is not defined")
    assert done.returncode == 1
    clean = subprocess.run(
        jx_command("repl"), input="1 + 1\n", capture_output=True, text=True, timeout=60, check=False
    )
    assert (clean.stdout, clean.returncode) == ("2\n", 0)


# ------------------------------------------------------------------ the terminal


class Terminal:
    """The terminal REPL on prompt_toolkit's pipe input, typed at from another thread."""

    def __init__(self):
        from prompt_toolkit.history import InMemoryHistory

        self.session, self.out, self.err = session()
        self.history = InMemoryHistory()
        self._input = None

    def run(self, typing) -> int:
        """Run the REPL until it ends; `typing(self)` types into it meanwhile."""

        failures = []

        def typist():
            try:
                typing(self)
            except AssertionError as e:
                failures.append(e)
            finally:
                self._input.send_text("\x04")  # Ctrl-D: leave, whatever happened

        from prompt_toolkit.input import create_pipe_input
        from prompt_toolkit.output import DummyOutput

        thread = threading.Thread(target=typist, daemon=True)
        with create_pipe_input() as self._input:
            thread.start()
            status = run_terminal(self.session, self._input, DummyOutput(), self.history)
        thread.join(5)
        if failures:
            raise failures[0]
        return status

    def type(self, text: str, wait_for: str | None = None) -> None:
        self._input.send_text(text)
        if wait_for is not None:
            self.wait_for(wait_for)

    def wait_for(self, text: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.out.getvalue() + self.err.getvalue():
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {text!r} in {self.out.getvalue()!r}")
            time.sleep(0.01)


def test_terminal_multiline_def_auto_indent_and_errors():
    term = Terminal()

    def typing(t: Terminal):
        # Enter after the ':' indents the body; after `return` it dedents; a blank line runs it.
        t.type("def f(x):\ry = x * 2\rreturn y + 1\r\r")
        t.type("f(3.0)\r", wait_for="7.0")
        t.type("f(nope)\r", wait_for="NameError")
        t.type("f(1.0)\r", wait_for="3.0")
        t.type("t = (1,\r2)\rt\r", wait_for="(1, 2)")

    assert term.run(typing) == 0
    assert term.out.getvalue().splitlines()[1:] == ["7.0", "3.0", "(1, 2)"]
    assert "<input-3>:1:3: NameError: name 'nope' is not defined" in term.err.getvalue()
    history = list(term.history.get_strings())
    assert history[0] == "def f(x):\n    y = x * 2\n    return y + 1"


def test_terminal_ctrl_c_cancels_the_input():
    term = Terminal()

    def typing(t: Terminal):
        t.type("x = 1\x03")  # Ctrl-C instead of Enter
        t.type("x\r", wait_for="NameError")
        t.type("x = 2\r:type x\r", wait_for="2:i32[]~")

    term.run(typing)
    assert "name 'x' is not defined" in term.err.getvalue()


def test_terminal_tab_completes_module_members():
    term = Terminal()

    def typing(t: Terminal):
        t.type("import nn\r:backend\r", wait_for="backend: numpy")
        t.type("nn.softm\t")
        time.sleep(0.3)  # completion runs in the background
        t.type("(zeros((2,)))\r", wait_for="[0.5 0.5]")

    term.run(typing)
    assert "[0.5 0.5]" in term.out.getvalue()


def test_history_lives_in_the_data_dir(tmp_path, monkeypatch):
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert history_path() == str(tmp_path / "data" / "jx" / "history")
    history = _history()
    assert isinstance(history, FileHistory)
    history.store_string("x = 1")
    assert "+x = 1" in (tmp_path / "data" / "jx" / "history").read_text()
    # A data dir that cannot be made (here a file is in the way) keeps history in memory.
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "file"))
    assert isinstance(_history(), InMemoryHistory)


# pexpect forks, and JAX (imported by other tests) warns about forks; the child execs at once.
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")
def test_jx_repl_on_a_pseudo_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn(
        sys.executable,
        jx_command("repl")[1:],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(24, 160),
    )
    try:
        # Keys typed before the next prompt reach a terminal in cooked mode, where Ctrl-D
        # and Tab are not keys: wait for each prompt, as a person would. A prompt starts by
        # turning bracketed paste on (a redrawn prompt does not).
        def enter(keys: str, *outputs: str) -> None:
            child.expect_exact("\x1b[?2004h")
            child.send(keys)
            for output in outputs:
                child.expect(output)

        enter("import nn\r")
        enter('"ready"\r', "ready\r\n")  # the value; the input keeps its quotes
        enter("nn.softm\t")
        time.sleep(0.3)
        child.send("(zeros((2,)))\r")
        child.expect(r"\[0\.5 0\.5\]")
        enter("def sq(x):\rreturn x * x\r\r")
        enter(":type sq(ones((2, 3)))\r", r"f32\[2,3\]")
        enter("sq(nope)\r", "NameError")
        enter("sq(3.0)\r", "9.0")
        enter("\x04")  # Ctrl-D
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert "+def sq(x):" in (tmp_path / "jx" / "history").read_text()


# ------------------------------------------------------------------ the lexer


def test_lexer_tokens():
    from jx.lexer import JxLexer
    from pygments import lex
    from pygments.token import Comment, Keyword, Name, Number, Operator, String

    source = 'import nn\ndef f(x) = sum(x) @ 0x1F  # c\nsave("a.npy", 1.5e-3)\nclass\n:type f\n'
    tokens = [(t, v) for t, v in lex(source, JxLexer()) if v.strip()]
    for expected in [
        (Keyword.Namespace, "import"),
        (Name.Namespace, "nn"),
        (Keyword, "def"),
        (Name.Function, "f"),
        (Name.Builtin, "sum"),
        (Operator, "@"),
        (Number.Hex, "0x1F"),
        (Comment.Single, "# c"),
        (Name.Builtin.Pseudo, "save"),
        (String.Double, '"a.npy"'),
        (Number.Float, "1.5e-3"),
        (Keyword.Reserved, "class"),
        (Keyword.Pseudo, "type"),
    ]:
        assert expected in tokens
