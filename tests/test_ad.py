"""Differentiation: grad/jvp/vjp against central finite differences in f64 (with
hypothesis) and against JAX (a test-only oracle), through control flow, over trees, at
higher order, and the errors of misuse."""

import jx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from programs import DIFFERENTIABLE

FUNCS = jx.compile(DIFFERENTIABLE)
NAMES = [
    "poly",
    "trig",
    "expo",
    "logs",
    "mat",
    "reduce_max",
    "soft",
    "indexing",
    "update",
    "gathers",
    "where_",
    "branchy",
    "loopy",
    "scanned",
    "comp",
    "pw",
]


def numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        d = np.zeros_like(x)
        d.flat[i] = eps
        g.flat[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=8, deadline=None)
@given(st.lists(st.floats(-2, 2), min_size=6, max_size=6))
def test_grad_matches_finite_differences(name, values):
    x = np.array(values, dtype=np.float64) + 0.01 + np.arange(6) * 0.0137  # off kinks and ties
    f = getattr(FUNCS, name)
    g = jx.grad(f)(x)
    assert g.dtype == np.float64
    expected = numeric_grad(lambda v: float(f(v)), x)
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_jvp_and_vjp_agree_with_grad(name):
    x = np.linspace(0.3, 1.7, 6)
    f = getattr(FUNCS, name)
    g = jx.grad(f)(x)
    m = jx.compile(
        "def j(f, x, t) = jvp(f, (x,), (t,))\ndef v(f, x) = vjp(f, x)[1](1.0)", env={"F": f}
    )
    del m
    t = np.cos(np.arange(6.0))
    run = jx.compile(
        "def jv(x, t) = jvp(F, (x,), (t,))[1]\ndef vj(x) = vjp(F, x)[1](1.0)[0]", env={"F": f}
    )
    np.testing.assert_allclose(run.jv(x, t), g @ t, rtol=1e-6)
    np.testing.assert_allclose(run.vj(x), g, rtol=1e-6)


def test_trees_come_back_as_trees():
    m = jx.compile(
        """
def loss(p, x) = sum((p["w"] * x + p["b"][0]) ** 2)
g = grad(loss)({"w": 2.0, "b": (1.0,)}, 3.0)
gx = grad(loss, argnums=1)({"w": 2.0, "b": (1.0,)}, 3.0)
both = grad(loss, argnums=(0, 1))({"w": 2.0, "b": (1.0,)}, 3.0)
vg = value_and_grad(loss)({"w": 2.0, "b": (1.0,)}, 3.0)
"""
    )
    assert set(m.g) == {"w", "b"}
    assert np.allclose(m.g["w"], 2 * 7 * 3) and np.allclose(m.g["b"][0], 2 * 7)
    assert np.allclose(m.gx, 2 * 7 * 2)
    assert np.allclose(m.both[1], m.gx)
    assert np.allclose(m.vg[0], 49.0)


def test_higher_order_and_jit():
    m = jx.compile(
        """
def f(x) = x * x * x
d3 = grad(grad(grad(f)))
a = d3(2.0)
b = jit(d3)(2.0)
c = grad(jit(grad(f)))(3.0)
"""
    )
    assert np.allclose(m.a, 6.0) and np.allclose(m.b, 6.0) and np.allclose(m.c, 18.0)


def test_has_aux_and_stop_gradient():
    m = jx.compile(
        """
def f(x) = (x * x, x + 1.0)
g, aux = grad(f, has_aux=True)(3.0)
def h(x) = x * stop_gradient(x)
gh = grad(h)(3.0)
"""
    )
    assert np.allclose(m.g, 6.0) and np.allclose(m.aux, 4.0) and np.allclose(m.gh, 3.0)


def test_while_forward_mode_works_and_reverse_is_a_clear_error():
    m = jx.compile(
        """
def f(x):
    y = x
    while y < 10.0:
        y = y * 2.0
    return y
t = jvp(f, (1.5,), (1.0,))[1]
"""
    )
    assert np.allclose(m.t, 8.0)
    with pytest.raises(jx.TypeError) as info:
        jx.compile(
            "def f(x):\n    y = x\n    while y < 10.0:\n        y = y * 2.0\n    return y\n"
            "g = grad(f)(1.5)\n"
        )
    assert "while" in info.value.message


def test_grad_errors():
    with pytest.raises(jx.TypeError) as info:
        jx.compile("def f(x) = x * 2.0\ng = grad(f)(ones(3))\n")
    assert "scalar" in info.value.message and "jacrev" in info.value.message
    with pytest.raises(jx.TypeError) as info:
        jx.compile("def f(x) = x * 2\ng = grad(f)(3)\n")
    assert "float" in info.value.message


def test_hessian_and_jacobians_agree():
    m = jx.compile(
        """
def f(v) = array([v[0] * v[1], sin(v[2]) * v[0], v[1] ** 2])
def s(v) = sum(v ** 3) + v[0] * v[1]
v = array([0.5, -1.2, 2.0])
jf = jacfwd(f)(v)
jr = jacrev(f)(v)
h = hessian(s)(v)
"""
    )
    np.testing.assert_allclose(m.jf, m.jr, rtol=1e-6)
    v = np.array([0.5, -1.2, 2.0])
    expected = np.diag(6 * v)
    expected[0, 1] = expected[1, 0] = 1.0
    np.testing.assert_allclose(m.h, expected, rtol=1e-5)


jax = pytest.importorskip("jax")
jnp = jax.numpy

JAX_CASES = [
    ("def f(x) = sum(sin(x) * x ** 2)", lambda x: jnp.sum(jnp.sin(x) * x**2)),
    (
        "def f(x) = sum(exp(-x * x) / (1.0 + abs(x)))",
        lambda x: jnp.sum(jnp.exp(-x * x) / (1 + jnp.abs(x))),
    ),
    ("def f(x) = log(sum(exp(x))) + max(x)", lambda x: jnp.log(jnp.sum(jnp.exp(x))) + jnp.max(x)),
    ("def f(x) = sum(tanh(outer(x, x)) @ x)", lambda x: jnp.sum(jnp.tanh(jnp.outer(x, x)) @ x)),
    ("def f(x) = sum(cumsum(x) * x[::-1])", lambda x: jnp.sum(jnp.cumsum(x) * x[::-1])),
]


@pytest.mark.parametrize("src,ref", JAX_CASES)
def test_against_jax(src, ref):
    x = np.linspace(-1.1, 1.3, 5).astype(np.float32)
    m = jx.compile(src + "\ndef g(x) = grad(f)(x)\ndef h(x) = hessian(f)(x)\n")
    np.testing.assert_allclose(m.g(x), jax.grad(ref)(x), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(m.h(x), jax.hessian(ref)(x), rtol=2e-4, atol=1e-5)
    t = np.ones(5, np.float32)
    j = jx.compile(src + "\ndef jv(x, t) = jvp(f, (x,), (t,))\n").jv(x, t)
    jj = jax.jvp(ref, (x,), (t,))
    np.testing.assert_allclose(j[1], jj[1], rtol=2e-5, atol=1e-6)


def test_top_level_transforms_trace_once_per_signature_and_see_rebinding():
    m = jx.compile("def f(x) = sum(x * x * scale)\nscale = 2.0\ng = grad(f)\nh = hessian(f)\n")
    g, h = m._scope.vars["g"], m._scope.vars["h"]
    x = np.arange(3, dtype=np.float32)
    for _ in range(3):
        np.testing.assert_allclose(m.g(x), 4 * x)
        m.h(x)
    assert len(g.cache) == 1 and len(h.cache) == 1
    m.g(np.arange(4, dtype=np.float32))
    assert len(g.cache) == 2
    m._scope.vars["scale"] = 3.0  # a rebound module-level name is read again
    np.testing.assert_allclose(m.g(x), 6 * x)
    np.testing.assert_allclose(m.h(x), 6 * np.eye(3))
