"""`jx check` traces the top level without running it: shape errors, disagreeing branches
and static index errors are found, every independent one, while nothing is printed or
saved; the command is run as a user runs it."""

import subprocess
import sys

import pytest

SHAPE_MISMATCH = """# error: ShapeError at line 3
def f(a, b):
    return a + b
print(f(zeros(3), zeros(4)))
"""

BRANCH_MISMATCH = """# error: ShapeError at line 3
def f(x):
    if sum(x) > 0:
        return x
    else:
        return x[0]
print(f(ones(3)))
"""


def jx_check(tmp_path, text):
    path = tmp_path / "p.jx"
    path.write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "jx.cli", "check", str(path)],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    return path, proc


@pytest.mark.parametrize("program", [SHAPE_MISMATCH, BRANCH_MISMATCH])
def test_the_public_error_cases_are_found_at_line_3(tmp_path, program):
    path, proc = jx_check(tmp_path, program)
    assert proc.returncode == 1 and proc.stdout == ""
    assert f"{path}:3:" in proc.stderr and "ShapeError" in proc.stderr
    assert proc.stderr.strip().endswith(f"{path}: 1 error")


def test_every_independent_error_is_reported_and_nothing_runs(tmp_path):
    out = tmp_path / "out.npy"
    program = (
        "x = ones(3)\n"
        "y = x[5]\n"  # a static index out of range
        "z = y + 1\n"  # depends on y: not reported again
        "w = ones(2) + ones(4)\n"  # independent
        f'save("{out}", x)\n'
        'print("ran")\n'
        "v = x @ x\n"
        "assert v > 0\n"  # traced: not decided
        "u = x + ones(2)\n"  # the third error
    )
    path, proc = jx_check(tmp_path, program)
    assert proc.returncode == 1 and "ran" not in proc.stdout and not out.exists()
    assert f"{path}:2:5: IndexError" in proc.stderr
    assert f"{path}:4:5: ShapeError" in proc.stderr
    assert f"{path}:9:5: ShapeError" in proc.stderr
    assert proc.stderr.count(": note: ") == 0 and f"{path}: 3 errors" in proc.stderr


def test_a_correct_program_is_ok(tmp_path):
    program = (
        "import random\n"
        "def f(x):\n"
        "    if x < 0.0:\n"
        "        return -x\n"
        "    return x * x\n"
        "k = random.key(0)\n"
        "xs = random.normal(k, (4,))\n"
        "for i in range(3):\n"
        "    assert allclose(grad(f)(i * 1.0), 2.0 * i)\n"
        "print(vmap(f)(xs), jit(f)(2.0))\n"
    )
    path, proc = jx_check(tmp_path, program)
    assert proc.returncode == 0 and proc.stdout.strip() == f"{path}: ok", proc.stderr


def test_grad_of_a_python_float_inside_a_function_is_weak_f32(tmp_path):
    # The trace of the top level made this visible: a Python float literal handed to a
    # transformation inside a function was an f64 constant.
    import jx

    m = jx.compile("def f(x) = x * x\ndef h(y) = grad(f)(2.0) + y")
    assert float(m.h(1.0)) == 5.0
