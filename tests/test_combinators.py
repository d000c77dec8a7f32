"""The JAX-style combinators cond, while_loop, fori_loop and scan: values against NumPy,
and grad/vmap/jit through them."""

import jx
import numpy as np
import pytest

M = jx.compile(
    """
def pick(x) = cond(x > 0.0, lambda v: v * 2.0, lambda v: -v, x)
def doubling(x) = while_loop(lambda s: s[0] < 10.0, lambda s: (s[0] * 2.0, s[1] + 1), (x, 0))
def running(xs) = scan(lambda c, x: (c + x, c * x), 0.0, xs)
def loss(xs) = running(xs)[0] + sum(running(xs)[1])
def poly(x) = fori_loop(0, 5, lambda i, acc: acc + i * x, 0.0)
def power(x, n) = fori_loop(0, n, lambda i, acc: acc * x, 1.0)
def rev(xs) = scan(lambda c, x: (c * 10.0 + x, c), 0.0, xs, reverse=True)
def tree_carry(xs) = scan(lambda c, x: ({"s": c["s"] + x, "n": c["n"] + 1}, x * x),
                          {"s": 0.0, "n": 0}, xs)
"""
)


def test_cond():
    assert M.pick(3.0) == 6.0 and M.pick(-2.0) == 2.0
    assert jx.grad(M.pick)(3.0) == 2.0 and jx.grad(M.pick)(-3.0) == -1.0
    np.testing.assert_allclose(jx.vmap(M.pick)(np.array([1.0, -1.0], np.float32)), [2.0, 1.0])


def test_while_loop():
    x, n = M.doubling(1.5)
    assert x == 12.0 and n == 3
    assert jx.jit(M.doubling)(1.5)[1] == 3


def test_scan_values_and_gradient():
    xs = np.array([1.0, 2.0, 3.0], np.float32)
    c, ys = M.running(xs)
    assert c == 6.0
    np.testing.assert_allclose(ys, [0.0, 2.0, 9.0])
    np.testing.assert_allclose(jx.grad(M.loss)(xs), [6.0, 5.0, 4.0])
    c, ys = M.rev(xs)
    assert c == 321.0
    np.testing.assert_allclose(ys, [32.0, 3.0, 0.0])


def test_scan_tree_carry():
    c, ys = M.tree_carry(np.array([1.0, 2.0], np.float32))
    assert c["s"] == 3.0 and c["n"] == 2
    np.testing.assert_allclose(ys, [1.0, 4.0])


def test_fori_loop_static_and_traced_bounds():
    assert M.poly(2.0) == 20.0 and jx.grad(M.poly)(2.0) == 10.0
    assert jx.jit(M.power)(2.0, 5) == 32.0
    assert jx.grad(M.power)(2.0, 3) == pytest.approx(12.0)


def test_carry_mismatch_is_a_clear_error():
    with pytest.raises(jx.ShapeError):
        jx.compile("y = scan(lambda c, x: (c + x, x), 0.0, ones((3, 2)))\n")
