"""`while_loop(..., max_steps=N)`: reverse mode through a loop with a traced condition,
checked against finite differences and against the unbounded loop's values."""

from __future__ import annotations

import jx
import numpy as np
import pytest

M = jx.compile("""
def newton_sqrt(a):
    def body(s):
        x, i = s
        return (0.5 * (x + a / x), i + 1)
    x, i = while_loop(lambda s: abs(s[0] * s[0] - a) > 1e-6, body, (a, 0), max_steps=60)
    return x
def grow(x) = while_loop(lambda v: v < 10.0, lambda v: v * 1.5 + sin(v), x, max_steps=100)
def grow_free(x) = while_loop(lambda v: v < 10.0, lambda v: v * 1.5 + sin(v), x)
def capped(x) = while_loop(lambda v: v < 1e9, lambda v: v * 2.0, x, max_steps=3)
def d_newton(a) = grad(newton_sqrt)(a)
def d_grow(x) = grad(grow)(x)
""")


@pytest.mark.parametrize("a", [0.5, 2.0, 9.0, 30.0])
def test_reverse_mode_through_a_traced_condition(a):
    a = np.float64(a)
    np.testing.assert_allclose(M.newton_sqrt(a), np.sqrt(a), rtol=1e-9)
    np.testing.assert_allclose(M.d_newton(a), 0.5 / np.sqrt(a), rtol=1e-6)


@pytest.mark.parametrize("x", [0.3, 1.0, 2.5, 7.0])
def test_gradient_matches_finite_differences_and_values_the_free_loop(x):
    x = np.float64(x)
    np.testing.assert_allclose(M.grow(x), M.grow_free(x), rtol=1e-12)
    eps = 1e-6
    fd = (float(M.grow(x + eps)) - float(M.grow(x - eps))) / (2 * eps)
    np.testing.assert_allclose(M.d_grow(x), fd, rtol=1e-5)
    np.testing.assert_allclose(jx.jit(M.d_grow)(x), M.d_grow(x), rtol=1e-12)


def test_running_out_of_steps_stops_there():
    assert float(M.capped(np.float32(1.0))) == 8.0


def test_a_bad_bound_is_a_jx_error():
    with pytest.raises(jx.TypeError, match="max_steps must be a static int") as info:
        jx.compile("y = while_loop(lambda v: v < 3.0, lambda v: v + 1.0, 0.0, max_steps=2.5)\n")
    assert info.value.span.line == 1
