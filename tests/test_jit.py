"""jit: traced once per signature, optimized (each pass tested alone), and equal to the
plain call on random programs (hypothesis); jacfwd equals jacrev on the same programs."""

import jx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jx import passes
from jx.api import using
from jx.backends import numpy as numpy_backend
from jx.functions import trace_function, traced_leaf

UNARY = ["sin({})", "tanh({})", "exp(-square({}))", "({} * 0.5)", "abs({})", "-({})"]
BINARY = ["({} + {})", "({} - {})", "({} * {})", "maximum({}, {})", "where({} > 0.0, {}, x)"]


def expressions(depth):
    leaf = st.sampled_from(["x", "y", "1.5", "(x * 1.0 + 0.0)"])
    if depth == 0:
        return leaf
    sub = expressions(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda f, a: f.format(a), st.sampled_from(UNARY), sub),
        st.builds(
            lambda f, a, b: f.format(a, b),
            st.sampled_from(BINARY),
            sub,
            sub,
        ),
    )


@settings(max_examples=40, deadline=None)
@given(expressions(3), st.lists(st.floats(-2, 2), min_size=4, max_size=4))
def test_jit_equals_plain_call(expr, values):
    m = jx.compile(f"def f(x, y) = sum({expr} * x)\n")
    x = np.array(values, dtype=np.float32)
    y = x[::-1].copy() + 0.25
    np.testing.assert_allclose(jx.jit(m.f)(x, y), m.f(x, y), rtol=1e-5, atol=1e-5)


@settings(max_examples=20, deadline=None)
@given(expressions(2), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_jacfwd_equals_jacrev(expr, values):
    m = jx.compile(f"def f(x) = sin(x) * ({expr.replace('y', 'x')})\n")
    x = np.array(values, dtype=np.float64) + np.arange(3) * 0.0137 + 0.01
    np.testing.assert_allclose(jx.jacfwd(m.f)(x), jx.jacrev(m.f)(x), rtol=1e-9, atol=1e-9)


def test_traced_once_per_signature():
    m = jx.compile("def f(x) = x * 2.0\ng = jit(f)\n")
    g = m._scope.vars["g"]
    for _ in range(3):
        m.g(np.ones(3, np.float32))
    assert len(g.cache) == 1
    m.g(np.ones(4, np.float32))
    m.g(np.ones(3, np.float64))
    assert len(g.cache) == 3


def test_static_argnums():
    m = jx.compile(
        "def f(x, n) = sum(array([x ** i for i in range(n)]))\ng = jit(f, static_argnums=1)\n"
    )
    assert np.allclose(m.g(2.0, 4), 1 + 2 + 4 + 8)
    assert np.allclose(m.g(2.0, 2), 3)
    with pytest.raises(jx.TypeError):
        jx.compile("def f(x, n) = sum(array([x ** i for i in range(n)]))\ny = jit(f)(2.0, 3)\n")


def program_of(src, *args):
    m = jx.compile(src)
    with using(numpy_backend):
        return trace_function(
            m._scope.vars["f"], list(args), {}, None, is_leaf=traced_leaf, static_outputs=True
        ).program


def names(program):
    return [e.prim.name for e in program.eqns]


def test_dce_drops_unused_equations():
    p = program_of("def f(x):\n    unused = exp(x)\n    return x * 2.0\n", np.ones(3, np.float32))
    assert "exp" in names(p) and "exp" not in names(passes.dce(p))


def test_cse_merges_repeats():
    p = program_of("def f(x) = sin(x) * sin(x)\n", np.ones(3, np.float32))
    assert names(p).count("sin") == 2 and names(passes.cse(p)).count("sin") == 1


def test_simplify_removes_identities():
    p = program_of("def f(x) = (x * 1.0 + 0.0) / 1.0 - 0.0\n", np.ones(3, np.float32))
    out = passes.dce(passes.simplify(p))
    assert not {"mul", "add", "div", "sub"} & set(names(out))


def test_fold_evaluates_constants():
    p = program_of("def f(x) = x + exp(zeros(3)) * 2.0\n", np.ones(3, np.float32))
    out = passes.dce(passes.fold(p))
    assert "exp" not in names(out)
    with using(numpy_backend):
        np.testing.assert_allclose(numpy_backend.run(out, [np.ones(3, np.float32)])[0], 3.0)


def test_optimized_program_computes_the_same():
    src = (
        "def f(x):\n    a = sin(x) * 1.0\n    b = sin(x) + 0.0\n    return a * b + exp(zeros(3))\n"
    )
    x = np.linspace(0, 1, 3).astype(np.float32)
    p = program_of(src, x)
    full, opt = numpy_backend.run(p, [x])[0], numpy_backend.run(passes.optimize(p), [x])[0]
    np.testing.assert_allclose(full, opt, rtol=1e-6)
    assert len(passes.optimize(p).eqns) < len(p.eqns)


def test_jit_of_traced_if_is_a_cond_not_an_error():
    m = jx.compile("def f(x):\n    if x > 0.0:\n        return x\n    return 2.0 * x\n")
    assert jx.jit(m.f)(3.0) == 3.0 and jx.jit(m.f)(-3.0) == -6.0
    assert "cond" in m.f.ir(1.0)
