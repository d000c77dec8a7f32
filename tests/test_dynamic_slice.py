"""`dynamic_slice` and `dynamic_update_slice` against `jax.lax`, starts in and out of
range (JAX clamps them), static and traced, eager, jitted, differentiated and vmapped."""

from __future__ import annotations

import jx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

jax = pytest.importorskip("jax")
lax = jax.lax

M = jx.compile("""
def sl(x, starts, sizes) = dynamic_slice(x, starts, sizes)
def up(x, u, starts) = dynamic_update_slice(x, u, starts)
def sl_jit(x, i, j) = jit(lambda x, i, j: dynamic_slice(x, (i, j), (2, 3)))(x, i, j)
def up_jit(x, u, i, j) = jit(lambda x, u, i, j: dynamic_update_slice(x, u, (i, j)))(x, u, i, j)
def grad_sl(x, i) = grad(lambda x: sum(dynamic_slice(x, (i, 0), (2, 5)) ** 2))(x)
def grad_up(u, i) = grad(lambda u: sum(dynamic_update_slice(zeros((4, 5)), u, (i, 1)) * 3.0))(u)
def rows(x, starts) = vmap(lambda s: dynamic_slice(x, (s, 0), (2, 5)))(starts)
""")

X = np.arange(20, dtype=np.float32).reshape(4, 5)


@settings(max_examples=40, deadline=None)
@given(st.integers(-3, 6), st.integers(-3, 7), st.integers(0, 4), st.integers(0, 5))
def test_slice_matches_lax(i, j, h, w):
    want = lax.dynamic_slice(X, (i, j), (h, w))
    np.testing.assert_array_equal(M.sl(X, (i, j), (h, w)), want)


@settings(max_examples=40, deadline=None)
@given(st.integers(-3, 6), st.integers(-3, 7))
def test_traced_starts_match_lax(i, j):
    np.testing.assert_array_equal(
        M.sl_jit(X, np.int32(i), np.int32(j)), lax.dynamic_slice(X, (i, j), (2, 3))
    )
    u = -np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(
        M.up_jit(X, u, np.int32(i), np.int32(j)), lax.dynamic_update_slice(X, u, (i, j))
    )


@pytest.mark.parametrize("starts", [(0, 0), (1, 2), (3, 4), (-1, 9)])
def test_update_matches_lax(starts):
    u = np.full((2, 2), 7.0, np.float32)
    np.testing.assert_array_equal(M.up(X, u, starts), lax.dynamic_update_slice(X, u, starts))


@pytest.mark.parametrize("i", [0, 1, 3])
def test_gradients_match_jax(i):
    want = jax.grad(lambda x: (lax.dynamic_slice(x, (i, 0), (2, 5)) ** 2).sum())(X)
    np.testing.assert_allclose(M.grad_sl(X, np.int32(i)), want)
    u = np.ones((2, 3), np.float32)
    want = jax.grad(
        lambda u: (lax.dynamic_update_slice(jax.numpy.zeros((4, 5)), u, (i, 1)) * 3.0).sum()
    )(u)
    np.testing.assert_allclose(M.grad_up(u, np.int32(i)), want)


def test_vmap_over_starts():
    starts = np.array([0, 1, 2, 3], np.int32)
    want = jax.vmap(lambda s: lax.dynamic_slice(X, (s, 0), (2, 5)))(starts)
    np.testing.assert_array_equal(M.rows(X, starts), want)


def test_xla_backend_agrees():
    m = jx.compile("def f(x, i) = dynamic_slice(x, (i, 1), (3, 2))", backend="xla")
    np.testing.assert_array_equal(m.f(X, np.int32(2)), lax.dynamic_slice(X, (2, 1), (3, 2)))


@pytest.mark.parametrize(
    "call, error, text",
    [
        ("dynamic_slice(x, (0,), (1, 1))", jx.ValueError, "1 start indices"),
        ("dynamic_slice(x, (0, 0), (5, 1))", jx.ValueError, "do not fit"),
        ("dynamic_slice(x, (0, 0), (x, 1))", jx.TypeError, "static ints"),
        ("dynamic_slice(x, (0.5, 0), (1, 1))", jx.TypeError, "must be ints"),
        ("dynamic_update_slice(x, ones((5, 1)), (0, 0))", jx.ValueError, "does not fit"),
    ],
)
def test_bad_arguments_are_jx_errors(call, error, text):
    with pytest.raises(error, match=text) as info:
        jx.compile(f"x = ones((4, 5))\ny = {call}\n")
    assert info.value.span.line == 2


def test_the_traced_slice_hint_names_a_function_that_exists():
    with pytest.raises(jx.IndexError, match="dynamic_slice") as info:
        jx.compile("def f(x, i) = x[i:i + 2]\ny = jit(f)(ones(5), 1)\n")
    m = jx.compile("def f(x, i) = dynamic_slice(x, (i,), (2,))")
    np.testing.assert_array_equal(m.f(np.arange(5.0), np.int32(2)), [2.0, 3.0])
    assert info.value.span.line == 1
