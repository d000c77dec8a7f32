"""The `jx` command (LANGUAGE.md section 9): run, check, ir and --version; user errors exit 1
with the rendered message and no traceback, usage errors exit 2.

Most cases call `jx.cli.main` in this process (starting Python and building the parser costs
about half a second per run); a few run the real command in a subprocess.
"""

import io
import re
import subprocess
import sys

import jx
import pytest
from jx import cli, ir_check, passes
from jx.ir import Program, Var

GOOD = """\
def f(x, y):
    return x @ x * y

a = ones((2, 2))
print(f(a, 2.0))
"""

RENDERED = re.compile(r"^(.+?):(\d+):(\d+): (\w+): (.+)$")


def jx_cli(*args, stdin=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "jx.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def jx_main(capsys):
    """`jx ARGS` run in this process: a Result like subprocess.run's."""

    def run(*args):
        try:
            code = cli.main(list(args))
        except SystemExit as e:
            code = e.code
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.jx"
    path.write_text(GOOD)
    return path


def first_error(proc) -> re.Match:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    match = RENDERED.match(proc.stderr.splitlines()[0])
    assert match, proc.stderr
    return match


# ------------------------------------------------------------------ run


def test_run_file(jx_main, good):
    proc = jx_main("run", str(good))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[[4. 4.]\n [4. 4.]]\n"
    assert proc.stderr == ""


def test_run_stdin():
    proc = jx_cli("run", "-", stdin="x = arange(3)\nprint(x * 2)\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[0 2 4]\n"


def test_run_stdin_error_names_stdin(jx_main, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x = 1\ny = x +* 2\n")))
    match = first_error(jx_main("run", "-"))
    assert match.group(1) == "<stdin>" and match.group(2) == "2"
    assert match.group(4) == "JxSyntaxError"


def test_stdin_is_utf8_whatever_the_locale(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "LANG": "C"}
    proc = subprocess.run(
        [sys.executable, "-m", "jx.cli", "run", "-"],
        env=env,
        input='print("\u00e9t\u00e9")\n'.encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode("utf-8") == "\u00e9t\u00e9\n"


def test_stdin_that_is_not_utf8_is_a_usage_error():
    proc = subprocess.run(
        [sys.executable, "-m", "jx.cli", "run", "-"],
        input=b"x = 1\n\xff\n",
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2 and b"not UTF-8" in proc.stderr


def test_a_byte_order_mark_is_not_source(jx_main, tmp_path):
    path = tmp_path / "bom.jx"
    path.write_bytes(b"\xef\xbb\xbfx = 1\r\nprint(x + 1)\r\n")
    proc = jx_main("run", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "2\n"
    assert int(jx.run_file(str(path)).x) == 1


def test_run_relative_paths_against_the_current_directory(jx_main, tmp_path, monkeypatch):
    (tmp_path / "p.jx").write_text('save("out.npy", ones(2))\nprint(load("out.npy"))\n')
    monkeypatch.chdir(tmp_path)
    proc = jx_main("run", "p.jx")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.npy").exists()


def test_run_imports_a_module_beside_the_file(jx_main, tmp_path, monkeypatch):
    (tmp_path / "helper.jx").write_text("def twice(x) = 2 * x\n")
    (tmp_path / "sub").mkdir()
    main = tmp_path / "main.jx"
    main.write_text("import helper\nprint(helper.twice(3))\n")
    monkeypatch.chdir(tmp_path / "sub")
    proc = jx_main("run", str(main))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "6\n"


def test_error_in_an_imported_module_notes_the_import(jx_main, tmp_path):
    (tmp_path / "helper.jx").write_text("x = 1\nassert x == 2, 'helper is broken'\n")
    main = tmp_path / "main.jx"
    main.write_text("y = 0\nimport helper\n")
    proc = jx_main("run", str(main))
    match = first_error(proc)
    assert match.group(1) == str(tmp_path / "helper.jx") and match.group(2) == "2"
    assert f"{main}:2:1: note: while importing 'helper' here" in proc.stderr


def test_circular_import(jx_main, tmp_path):
    (tmp_path / "a.jx").write_text("import b\n")
    (tmp_path / "b.jx").write_text("import a\n")
    main = tmp_path / "main.jx"
    main.write_text("import a\n")
    match = first_error(jx_main("run", str(main)))
    assert match.group(4) == "ImportError" and "circular" in match.group(5)


def test_output_before_an_error_is_kept(jx_main, tmp_path):
    path = tmp_path / "late.jx"
    path.write_text('print("first")\nassert False, "stop"\n')
    proc = jx_main("run", str(path))
    match = first_error(proc)
    assert proc.stdout == "first\n"
    assert match.group(4) == "AssertionError" and match.group(5) == "stop"


@pytest.mark.parametrize(
    "source, cls, line",
    [
        ("def f(x):\n    return x +* 2\n", "JxSyntaxError", 2),
        ("x = ones(3) + ones(4)\n", "ShapeError", 1),
        ("x = 1\ny = xx + 1\n", "NameError", 2),
        ("x = ones(3)\nassert sum(x) == 4.0, 'four'\n", "AssertionError", 2),
        ("def f(x):\n    x[0] = 1.0\n    return x\n", "PurityError", 2),
        ("import nosuchmod\n", "ImportError", 1),
        ("def f(n) = f(n + 1)\ny = f(0)\n", "RecursionError", 1),
        ("def f(x):\n\treturn x\n", "JxSyntaxError", 2),
    ],
    ids=["syntax", "shape", "name", "assert", "purity", "import", "recursion", "tab"],
)
def test_user_errors_exit_1_without_a_traceback(jx_main, tmp_path, source, cls, line):
    path = tmp_path / "bad.jx"
    path.write_text(source)
    proc = jx_main("run", str(path))
    match = first_error(proc)
    assert match.group(1) == str(path)
    assert (match.group(4), int(match.group(2))) == (cls, line)
    assert "^" in proc.stderr  # the caret under the source line


def test_error_inside_a_function_has_call_notes(jx_main, tmp_path):
    path = tmp_path / "bad.jx"
    path.write_text("def f(a, b):\n    return a + b\ny = f(zeros(3), zeros(4))\n")
    proc = jx_main("run", str(path))
    first_error(proc)
    assert f"{path}:3:5: note: called from here ('f')" in proc.stderr


# ------------------------------------------------------------------ check


def test_check_good_file(jx_main, good):
    proc = jx_main("check", str(good))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{good}: ok"


def test_check_does_not_run_the_program(jx_main, tmp_path):
    path = tmp_path / "p.jx"
    path.write_text('print("ran")\nx = ones(3) + ones(4)\n')
    proc = jx_main("check", str(path))
    # Nothing runs (no output), while tracing the top level finds the shape error.
    assert "ran" not in proc.stdout and proc.returncode == 1
    assert f"{path}:2:5: ShapeError" in proc.stderr


@pytest.mark.parametrize(
    "source, cls, line, column",
    [
        ("x = \n", "JxSyntaxError", 1, 4),
        ("def f(x):\n    print(x)\n    return x\n", "PurityError", 2, 5),
        ("x = 1\ny = yy\n", "NameError", 2, 5),
        ("def f(x) = x\ny = f(1, 2)\n", "TypeError", 2, 5),
        ("import nosuchmod\n", "ImportError", 1, 1),
    ],
)
def test_check_bad_file(jx_main, tmp_path, source, cls, line, column):
    path = tmp_path / "bad.jx"
    path.write_text(source)
    match = first_error(jx_main("check", str(path)))
    assert match.group(1) == str(path)
    assert (match.group(4), int(match.group(2)), int(match.group(3))) == (cls, line, column)


def test_check_stdin(jx_main, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x = 1\n")))
    proc = jx_main("check", "-")
    assert proc.returncode == 0 and proc.stdout.strip() == "<stdin>: ok"


# ------------------------------------------------------------------ ir


def test_ir_prints_equations(jx_main, good):
    proc = jx_main("ir", str(good), "f", "--args", "f32[3,3], f32[]")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "a:f32[3,3] b:f32[]" in out
    assert "dot_general" in out and "mul" in out
    assert out.rstrip().endswith("}")


def test_ir_of_a_traced_if(jx_main, tmp_path):
    path = tmp_path / "step.jx"
    path.write_text("def step(x):\n    if x > 0:\n        return x\n    return -x\n")
    proc = jx_main("ir", str(path), "step", "--args", "f32[]")
    assert proc.returncode == 0, proc.stderr
    assert "cond[" in proc.stdout and "neg" in proc.stdout


def test_ir_after_a_pass(jx_main, good):
    proc = jx_main("ir", str(good), "f", "--args", "f32[2,2], f32[]", "--after", "dce")
    assert proc.returncode == 0, proc.stderr
    assert "mul" in proc.stdout


def test_ir_user_error_in_the_function(jx_main, tmp_path):
    path = tmp_path / "bad.jx"
    path.write_text("def f(x, y) = x + y\n")
    match = first_error(jx_main("ir", str(path), "f", "--args", "f32[3], f32[4]"))
    assert match.group(4) == "ShapeError" and match.group(2) == "1"


def test_ir_check_passes_a_good_program(jx_main, good):
    proc = jx_main("ir", str(good), "f", "--args", "f32[2,2], f32[]", "--after", "dce", "--check")
    assert proc.returncode == 0, proc.stderr
    assert "dot_general" in proc.stdout


def test_ir_check_names_the_broken_rule_and_the_pass(jx_main, good, monkeypatch):
    def widen(program):
        first = program.eqns[0]
        wrong = first.replace(outputs=(Var(first.outputs[0].aval.update(shape=(9,))),))
        return Program(program.inputs, [wrong, *program.eqns[1:]], program.outputs)

    monkeypatch.setattr(ir_check, "ENABLED", False)  # only --check looks
    monkeypatch.setattr(passes, "PIPELINE", [("widen", widen)])
    monkeypatch.setattr(cli, "PIPELINE", passes.PIPELINE)
    proc = jx_main("ir", str(good), "f", "--args", "f32[2,2], f32[]", "--after", "widen", "--check")
    match = first_error(proc)
    assert proc.returncode == 1 and match.group(4) == "IRError"
    assert "after pass 'widen': equation 0 (dot_general): result 0 is f32[9]" in proc.stderr
    assert "\n>     c:f32[9] = dot_general" in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["nope", "--args", "f32[3]"],
        ["f", "--args", "q32[3]"],
        ["f", "--args", "f32[3"],
        ["f", "--args", "f32[a]"],
        ["f", "--args", "f32[3]"],  # f takes two arguments
        ["f", "--args", "f32[3], f32[], f32[]"],
        ["f", "--args", "f32[3], f32[]", "--after", "nopass"],
    ],
    ids=["no-function", "bad-dtype", "unclosed", "bad-dim", "too-few", "too-many", "bad-pass"],
)
def test_ir_usage_errors_exit_2(jx_main, good, args):
    proc = jx_main("ir", str(good), *args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ usage


def test_usage_error_from_the_installed_command():
    proc = jx_cli("frobnicate")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_user_error_from_the_installed_command(tmp_path):
    path = tmp_path / "bad.jx"
    path.write_text("x = ones(3) + ones(4)\n")
    match = first_error(jx_cli("run", str(path)))
    assert match.group(4) == "ShapeError"


def test_version():
    proc = jx_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"jx {jx.__version__}"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["frobnicate"],
        ["run"],
        ["run", "no_such_file.jx"],
        ["check", "no_such_file.jx"],
        ["run", "GOOD", "--backend", "tpu"],
        ["run", "GOOD", "--frob"],
    ],
    ids=[
        "no-command",
        "unknown-command",
        "no-file",
        "missing-file",
        "check-missing",
        "bad-backend",
        "unknown-flag",
    ],
)
def test_usage_errors_exit_2(jx_main, good, args):
    args = [str(good) if a == "GOOD" else a for a in args]
    proc = jx_main(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip()


def test_a_directory_or_binary_file_is_a_usage_error(jx_main, tmp_path):
    binary = tmp_path / "bin.jx"
    binary.write_bytes(b"\xff\xfe\x00")
    for path in (tmp_path, binary):
        proc = jx_main("run", str(path))
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
