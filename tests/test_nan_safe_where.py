"""Gradients through `where` never form 0 * inf: the unselected side's cotangent stays an
exact zero all the way down (JAX gives NaN here: its issues #347, #1052, #5798). Checked
against finite differences, against JAX on programs where both sides are finite (no
correct gradient changes), and under jit, vmap, grad of grad and the XLA backend."""

from __future__ import annotations

import jx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

jax = pytest.importorskip("jax")
jnp = jax.numpy

SOURCE = """
def sqrt_where(x) = sum(where(x > 0, sqrt(x), 0.0))
def log_where(x) = sum(where(x > 0, log(x), x * 2.0))
def nested(x) = sum(where(x > 0, where(x < 4.0, sqrt(x) * log(x), 1.0), 0.0) ** 2)
def double_where(x) = sum(where(x > 0, sqrt(where(x > 0, x, 1.0)), 0.0))
def selected_nan(x) = sum(where(x > -5.0, sqrt(x), 0.0))
def second(x) = where(x > 0, x * sqrt(x), 0.0)
def d_sqrt_where(x) = grad(sqrt_where)(x)
def d2_second(x) = grad(grad(second))(x)
"""
X = np.array([-1.0, 0.0, 0.25, 4.0, 9.0], np.float32)


@pytest.fixture(scope="module", params=["numpy", "xla"])
def m(request):
    return jx.compile(SOURCE, backend=request.param)


def test_the_unselected_side_gives_an_exact_zero(m):
    g = np.asarray(m.d_sqrt_where(X))
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[:2], [0.0, 0.0])
    np.testing.assert_allclose(g[2:], 0.5 / np.sqrt(X[2:]), rtol=1e-6)


@pytest.mark.parametrize("name", ["sqrt_where", "log_where", "nested", "double_where"])
def test_gradients_agree_with_finite_differences(m, name):
    f = getattr(m, name)
    x = np.array([-1.5, -0.5, 0.0, 0.5, 2.0, 3.5, 6.0], np.float64)
    g = np.asarray(jx.grad(f)(x))
    assert np.all(np.isfinite(g))
    eps = 1e-6
    for i in range(len(x)):
        if x[i] == 0.0:
            continue  # the kink itself: one-sided
        e = np.zeros_like(x)
        e[i] = eps
        fd = (float(f(x + e)) - float(f(x - e))) / (2 * eps)
        np.testing.assert_allclose(g[i], fd, rtol=1e-4, atol=1e-6)


def test_a_nan_on_the_selected_side_still_shows(m):
    g = np.asarray(jx.grad(m.selected_nan)(np.array([-1.0, 4.0], np.float32)))
    assert np.isnan(g[0]) and g[1] == pytest.approx(0.25)


def test_grad_of_grad_jit_and_vmap(m):
    assert float(m.d2_second(0.0)) == 0.0  # JAX: nan
    assert float(m.d2_second(4.0)) == pytest.approx(0.75 / 2.0)
    np.testing.assert_array_equal(jx.jit(m.d_sqrt_where)(X), m.d_sqrt_where(X))
    per = jx.vmap(jx.grad(jx.fn("lambda x: where(x > 0, sqrt(x), 0.0)")))(X)
    np.testing.assert_array_equal(per, m.d_sqrt_where(X))


FINITE = [
    ("where(x > c, sin(x) * x, x * x)", lambda x, c: jnp.where(x > c, jnp.sin(x) * x, x * x)),
    ("where(x < c, exp(x), c * x)", lambda x, c: jnp.where(x < c, jnp.exp(x), c * x)),
    (
        "where(x > c, where(x > 2.0 * c, x ** 3, cos(x)), tanh(x))",
        lambda x, c: jnp.where(x > c, jnp.where(x > 2.0 * c, x**3, jnp.cos(x)), jnp.tanh(x)),
    ),
    ("maximum(x, c) * where(x > 0, x, -x)", lambda x, c: jnp.maximum(x, c) * jnp.abs(x)),
]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(-3, 3, width=32), min_size=1, max_size=6),
    st.floats(-1, 1, width=32),
    st.sampled_from(range(len(FINITE))),
)
def test_finite_gradients_are_unchanged(xs, c, k):
    text, ref = FINITE[k]
    f = jx.fn(f"lambda x, c: sum({text})")
    x = np.array(xs, np.float32)
    got = np.asarray(jx.grad(f)(x, np.float32(c)))
    want = np.asarray(jax.grad(lambda x: ref(x, np.float32(c)).sum())(x))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
