"""The cube root, added as one elementwise row: its value against NumPy on both backends,
its gradient against central finite differences and its batching against a loop."""

from __future__ import annotations

import jx
import numpy as np
import pytest

X = np.array([-27.0, -2.5, -0.3, 0.4, 1.0, 8.0, 1e6], np.float64)


@pytest.mark.parametrize("backend", ["numpy", "xla"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_value_matches_numpy(backend, dtype):
    if backend == "xla":
        pytest.importorskip("jax")
    m = jx.compile("def f(x) = cbrt(x)\n", backend=backend)
    x = X.astype(dtype)
    got = m.f(x)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, np.cbrt(x), rtol=1e-6 if dtype == np.float32 else 1e-13)


def test_ints_become_f32():
    got = jx.compile("y = cbrt(asarray([8, -27]))\n").y
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [2.0, -3.0])


def test_grad_matches_finite_differences():
    m = jx.compile("def f(x) = cbrt(x) * 2.0\ng = grad(f)\n")
    for x in X[X != 0]:
        eps = 1e-6 * max(1.0, abs(x))
        numeric = (float(m.f(x + eps)) - float(m.f(x - eps))) / (2 * eps)
        np.testing.assert_allclose(float(m.g(x)), numeric, rtol=1e-6)
        np.testing.assert_allclose(float(m.g(x)), 2 / (3 * np.cbrt(x) ** 2), rtol=1e-12)


def test_vmap_matches_a_loop():
    m = jx.compile("def f(row) = cbrt(row) + row[0]\nv = vmap(f)\n")
    xs = np.arange(-6.0, 6.0).reshape(3, 4)
    np.testing.assert_allclose(m.v(xs), np.stack([m.f(r) for r in xs]))
