"""Differentiating through the collectives, under vmap with an axis name and under pmap:
psum, pmean and all_gather against JAX (`jax.vmap(..., axis_name=...)` of `jax.grad`),
pmax and pmin (which JAX does not differentiate) against finite differences."""

from __future__ import annotations

import jx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

jax = pytest.importorskip("jax")
jnp, lax = jax.numpy, jax.lax

CASES = {
    "psum": ("sum(psum(x, 'i') * x)", lambda x: jnp.sum(lax.psum(x, "i") * x)),
    "pmean": ("sum(pmean(x, 'i') ** 2)", lambda x: jnp.sum(lax.pmean(x, "i") ** 2)),
    "all_gather": (
        "sum(all_gather(x, 'i')[0] * 2.0 + sin(all_gather(x, 'i')[2]))",
        lambda x: jnp.sum(lax.all_gather(x, "i")[0] * 2.0 + jnp.sin(lax.all_gather(x, "i")[2])),
    ),
    "chain": (
        "sum(tanh(psum(x * x, 'i')) * all_gather(x, 'i')[1])",
        lambda x: jnp.sum(jnp.tanh(lax.psum(x * x, "i")) * lax.all_gather(x, "i")[1]),
    ),
}
XS = hnp.arrays(np.float32, (3, 2), elements=st.floats(-2, 2, width=32))


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("how", ["vmap", "pmap"])
@settings(max_examples=8, deadline=None)
@given(xs=XS)
def test_grad_through_a_collective_matches_jax(name, how, xs):
    text, ref = CASES[name]
    f = jx.fn(f"{how}(grad(lambda x: {text}), axis_name='i')".replace("'", '"'))
    want = jax.vmap(jax.grad(ref), axis_name="i")(xs)
    np.testing.assert_allclose(f(xs), want, rtol=2e-5, atol=1e-4)  # f32 rounding near 0


@pytest.mark.parametrize("op", ["pmax", "pmin"])
def test_grad_through_pmax_and_pmin_agrees_with_finite_differences(op):
    xs = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 4.0]])
    loss = jx.fn(f'lambda xs: sum(vmap(lambda x: {op}(x, "i") * x, axis_name="i")(xs))')
    g = np.asarray(jx.grad(loss)(xs))
    eps = 1e-6
    for idx in np.ndindex(xs.shape):
        e = np.zeros_like(xs)
        e[idx] = eps
        fd = (float(loss(xs + e)) - float(loss(xs - e))) / (2 * eps)
        assert g[idx] == pytest.approx(fd, rel=1e-5, abs=1e-6)


def test_ties_split_the_tangent_evenly():
    # Each of the 3 shards' outputs is the max; a tied shard gets half of each: 3 * 0.5.
    f = jx.fn('vmap(grad(lambda x: pmax(x, "i")), axis_name="i")')
    np.testing.assert_allclose(f(np.array([2.0, 2.0, 1.0])), [1.5, 1.5, 0.0])


def test_data_parallel_gradient_equals_the_full_batch_gradient():
    m = jx.compile(
        """
    def loss(w, x, y) = mean((x @ w - y) ** 2)
    def shard_grad(w, x, y) = pmean(grad(loss)(w, x, y), "i")
    def parallel(w, xs, ys) = pmap(shard_grad, axis_name="i", in_axes=(None, 0, 0))(w, xs, ys)
    def full(w, x, y) = grad(loss)(w, x, y)
    """.replace("\n    ", "\n")
    )
    rng = np.random.default_rng(0)
    w = rng.standard_normal(3).astype(np.float32)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal(8).astype(np.float32)
    per_shard = np.asarray(m.parallel(w, x.reshape(4, 2, 3), y.reshape(4, 2)))
    np.testing.assert_allclose(per_shard, np.broadcast_to(m.full(w, x, y), (4, 3)), rtol=1e-5)
