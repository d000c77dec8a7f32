"""`linearize` and `linear_transpose` against `jax.linearize` and `jax.linear_transpose`
on the same functions, and the Hessian-vector product built from them."""

from __future__ import annotations

import jx
import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = jax.numpy

M = jx.compile("""
def f(x, y) = (sin(x) * y, sum(x * x) + y ** 3)
def g(w) = sum(tanh(w["a"] @ w["b"]))
def lin(x, y) = (2.0 * x + sum(y), y[::-1] - 3.0 * x[:2])
def loss(x) = sum(exp(x) * x ** 2)
def hvp(x, v) = jvp(grad(loss), (x,), (v,))[1]
def hvp_lin(x, v) = linearize(grad(loss), x)[1](v)
""")
X = np.array([0.3, -1.2, 2.0], np.float32)
Y = np.float32(1.5)


def jf(x, y):
    return (jnp.sin(x) * y, jnp.sum(x * x) + y**3)


@pytest.mark.parametrize("backend", ["numpy", "xla"])
def test_linearize_matches_jax(backend):
    m = jx.compile("def f(x, y) = (sin(x) * y, sum(x * x) + y ** 3)", backend=backend)
    out, f_jvp = jx.linearize(m.f, X, Y)
    want_out, want_jvp = jax.linearize(jf, X, Y)
    for got, want in zip(out, want_out):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    for tx, ty in [(np.ones(3, np.float32), np.float32(0.0)), (X, np.float32(2.0))]:
        for got, want in zip(f_jvp(tx, ty), want_jvp(tx, ty)):
            np.testing.assert_allclose(got, want, rtol=1e-5)


def test_linearize_on_records_inside_the_language():
    m = jx.compile(
        """
    def g(w) = sum(tanh(w["a"] @ w["b"]))
    w = {"a": ones((2, 3)) * 0.1, "b": ones((3, 2)) * 0.2}
    t = {"a": ones((2, 3)), "b": zeros((3, 2))}
    value, g_jvp = linearize(g, w)
    tangent = g_jvp(t)
    """.replace("\n    ", "\n")
    )
    w = {"a": np.ones((2, 3), np.float32) * 0.1, "b": np.ones((3, 2), np.float32) * 0.2}
    t = {"a": np.ones((2, 3), np.float32), "b": np.zeros((3, 2), np.float32)}
    value, g_jvp = jax.linearize(lambda w: jnp.sum(jnp.tanh(w["a"] @ w["b"])), w)
    np.testing.assert_allclose(m.value, value, rtol=1e-6)
    np.testing.assert_allclose(m.tangent, g_jvp(t), rtol=1e-5)


def test_linear_transpose_matches_jax():
    x, y = np.arange(3, dtype=np.float32), np.arange(2, dtype=np.float32)
    t = jx.linear_transpose(M.lin, x, y)
    want_t = jax.linear_transpose(lambda x, y: (2.0 * x + jnp.sum(y), y[::-1] - 3.0 * x[:2]), x, y)
    ct = (np.array([1.0, -2.0, 0.5], np.float32), np.array([3.0, 4.0], np.float32))
    for got, want in zip(t(ct), want_t(ct)):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_hessian_vector_products_agree():
    v = np.array([1.0, 0.5, -2.0], np.float32)
    want = jax.jvp(jax.grad(lambda x: jnp.sum(jnp.exp(x) * x**2)), (X,), (v,))[1]
    np.testing.assert_allclose(M.hvp(X, v), want, rtol=1e-5)
    np.testing.assert_allclose(M.hvp_lin(X, v), want, rtol=1e-5)


def test_wrong_tangents_are_jx_errors():
    _, f_jvp = jx.linearize(M.f, X, Y)
    with pytest.raises(jx.TypeError, match="takes 2 positional"):
        f_jvp(X)
    with pytest.raises(jx.TypeError, match="shape"):
        f_jvp(np.ones(4, np.float32), Y)
