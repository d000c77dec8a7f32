"""debug_print inside functions (plain, jit, vmap, grad, loops, on both backends) and the
NaN hunt (`jx.config.debug_nans`, `jx run --debug-nans`) run as a user runs them."""

import subprocess
import sys

import jx
import numpy as np
import pytest

BACKENDS = ["numpy", "xla"]

PROGRAM = """\
def f(x):
    y = sin(x)
    debug_print("y = {}", y)
    return sum(y * y)

def scanned(xs):
    acc = 0.0
    for v in xs:
        acc = acc + v
        debug_print("acc = {}", acc)
    return acc
"""
X = np.linspace(0.0, 1.0, 3, dtype=np.float32)


def printed(capsys, backend, call):
    m = jx.compile(PROGRAM, backend=backend)
    capsys.readouterr()
    call(m)
    return capsys.readouterr().out.splitlines()


def y_line(x):
    return f"y = {np.sin(x).astype(np.float32)}"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("transform", [None, "jit", "grad", "value_and_grad", "jacrev"])
def test_prints_once_with_the_values_under_transformations(capsys, backend, transform):
    def call(m):
        f = m.f if transform is None else getattr(jx, transform)(m.f)
        f(X)

    lines = printed(capsys, backend, call)
    assert len(lines) == 1
    got = np.array(lines[0].split("[")[1].split("]")[0].split(), dtype=np.float32)
    np.testing.assert_allclose(got, np.sin(X), rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_vmap_prints_the_batch(capsys, backend):
    xs = np.stack([X, 2 * X])
    lines = printed(capsys, backend, lambda m: jx.vmap(m.f)(xs))
    got = np.array(" ".join(lines).replace("y =", "").replace("[", " ").replace("]", " ").split(),
                   dtype=np.float32)  # fmt: skip
    np.testing.assert_allclose(got.reshape(2, 3), np.sin(xs), rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_loop_prints_every_iteration_and_grad_does_not_repeat_it(capsys, backend):
    expected = [f"acc = {v}" for v in np.cumsum(X, dtype=np.float32)]
    assert printed(capsys, backend, lambda m: m.scanned(X)) == expected
    assert printed(capsys, backend, lambda m: jx.grad(m.scanned)(X)) == expected
    assert printed(capsys, backend, lambda m: jx.jit(m.scanned)(X)) == expected


def test_the_print_survives_the_clean_up_passes():
    from jx.passes import optimize

    m = jx.compile(PROGRAM + "def twice(x):\n    debug_print('{}', x)\n    debug_print('{}', x)\n"
                   "    return 0.0\n")  # fmt: skip
    program = jx.functions.trace_function(m.twice.value, [X], {}, None).program
    assert [e.prim.name for e in optimize(program).eqns] == ["debug_print", "debug_print"]


def test_a_bad_format_is_the_users_error():
    with pytest.raises(jx.TypeError, match="does not fit its values"):
        jx.compile('def g(x):\n    debug_print("{} {}", x)\n    return x\ny = g(1.0)\n')


NAN = """\
def f(x):
    y = x - 2.0
    return sum(sqrt(y))

x = linspace(0.0, 3.0, 4)
print(grad(f)(x))
"""


def jx_run(*args, stdin):
    return subprocess.run(
        [sys.executable, "-m", "jx.cli", "run", *args, "-"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_without_the_switch_nans_pass_silently():
    proc = jx_run(stdin=NAN)
    assert proc.returncode == 0 and "nan" in proc.stdout


@pytest.mark.parametrize("backend", BACKENDS)
def test_debug_nans_names_the_first_equation_with_its_operands(backend):
    proc = jx_run("--debug-nans", "--backend", backend, stdin=NAN)
    assert proc.returncode == 1
    err = proc.stderr
    assert "Traceback" not in err
    assert err.startswith("<stdin>:3:16: FloatingPointError: sqrt produced nan (2 of 4 elements)")
    assert "return sum(sqrt(y))" in err
    assert "note: operand 1: f32[4] [-2., -1.,  0.,  1.]" in err


def test_debug_nans_checks_top_level_code_and_infinities():
    proc = jx_run("--debug-nans", stdin="x = ones(3)\ny = log(x - 1.0)\nprint(y)\n")
    assert proc.returncode == 1
    assert "<stdin>:2:5: FloatingPointError: log produced inf (3 of 3 elements)" in proc.stderr


def test_the_config_switch(monkeypatch):
    m = jx.compile("def f(x) = log(x) * 2.0")
    assert np.isneginf(m.f(np.zeros(2, np.float32))).all()
    monkeypatch.setattr(jx.config, "debug_nans", True)
    with pytest.raises(jx.FloatingPointError, match="log produced inf") as e:
        m.f(np.zeros(2, np.float32))
    assert e.value.span.line == 1
    with pytest.raises(jx.FloatingPointError, match="so did an argument"):
        m.f(np.array([np.nan], np.float32))
    jx.config.update("debug_nans", False)
    assert not jx.config.debug_nans
    with pytest.raises(AttributeError):
        jx.config.update("no_such_switch", True)
