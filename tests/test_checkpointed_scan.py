"""scan(..., checkpoint=True): gradients equal plain scan's and JAX's (`jax.checkpoint`
on the step of a `jax.lax.scan`), forwards and in reverse, with ys, with a remainder
segment and on both backends; and reverse mode keeps far fewer carries (tracemalloc on
the NumPy backend)."""

import textwrap
import tracemalloc

import jax
import jax.numpy as jnp
import jx
import numpy as np
import pytest


@pytest.fixture(autouse=True, scope="module")
def jax_in_f64():
    """JAX's references in f64, for this module only (other tests compare with JAX's f32)."""
    with jax.enable_x64(True):
        yield


SOURCE = textwrap.dedent("""
    def step(c, x) = (sin(c) * 0.9 + x * c, c * x)
    def loss(c, xs, reverse, checkpoint):
        carry, ys = scan(step, c, xs, reverse=reverse, checkpoint=checkpoint)
        return sum(carry) + sum(ys * reshape(arange(1.0 * xs.shape[0]), (-1, 1)))
    def forward(c, xs) = loss(c, xs, False, True)
    def backward(c, xs) = loss(c, xs, True, True)
    d_forward = grad(forward, argnums=(0, 1))
    d_backward = grad(backward, argnums=(0, 1))
""")


def jax_loss(c, xs, reverse):
    step = jax.checkpoint(lambda c, x: (jnp.sin(c) * 0.9 + x * c, c * x))
    carry, ys = jax.lax.scan(step, c, xs, reverse=reverse)
    return jnp.sum(carry) + jnp.sum(ys * jnp.arange(xs.shape[0])[:, None])


@pytest.fixture(scope="module", params=["numpy", "xla"])
def m(request):
    return jx.compile(SOURCE, backend=request.param)


@pytest.mark.parametrize("n", [4, 9, 23, 50])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_gradients_equal_jax_checkpoint(m, n, direction):
    rng = np.random.default_rng(n)
    c, xs = rng.normal(size=3), rng.normal(size=(n, 3)) * 0.5
    want = jax.grad(jax_loss, argnums=(0, 1))(c, xs, direction == "backward")
    got = getattr(m, f"d_{direction}")(c, xs)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


def test_values_equal_plain_scan():
    m = jx.compile(SOURCE)
    c, xs = np.ones(3), np.random.default_rng(1).normal(size=(23, 3)) * 0.5
    for reverse in (False, True):
        np.testing.assert_allclose(
            m.loss(c, xs, reverse, True), m.loss(c, xs, reverse, False), rtol=1e-12
        )


def test_reverse_mode_keeps_fewer_carries():
    m = jx.compile(
        textwrap.dedent("""
        def step(c, x) = (sin(c) * 0.999 + x, None)
        def plain(c, xs) = sum(scan(step, c, xs)[0])
        def checkpointed(c, xs) = sum(scan(step, c, xs, checkpoint=True)[0])
        g_plain = grad(plain)
        g_checkpointed = grad(checkpointed)
        """)
    )
    c, xs = np.ones(2000), np.random.default_rng(0).normal(size=(400, 1)) * 0.01
    peaks = {}
    for name in ("g_plain", "g_checkpointed"):
        f = getattr(m, name)
        f(c, xs)  # traced and compiled once, outside the measurement
        tracemalloc.start()
        out = f(c, xs)
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        peaks[name + " result"] = out
    np.testing.assert_allclose(peaks["g_plain result"], peaks["g_checkpointed result"])
    history = 400 * 2000 * 8  # bytes of the carries plain reverse mode keeps
    assert peaks["g_plain"] > history
    assert peaks["g_checkpointed"] < history / 5
