"""Derivatives through the collectives under a named vmap and under pmap: psum, pmean and
all_gather against JAX's `vmap(grad(f), axis_name=...)` (the gradient of the total over
the axis), pmax and pmin against finite differences of that total, on both backends."""

import textwrap

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


X = np.random.default_rng(3).normal(size=(4, 3))
W = np.arange(4.0)[:, None]

SOURCE = textwrap.dedent("""
    W = reshape(arange(4.0), (4, 1))
    def summed(v) = sum(sin(psum(v, "i")) * v)
    def averaged(v) = sum(exp(pmean(v, "i")) * v * v)
    def gathered(v) = sum(sin(all_gather(v, "i")) * W)
    def highest(v) = sum(pmax(v, "i") ** 2.0 * v)
    def lowest(v) = sum(tanh(pmin(v, "i")))
""")

JAX_FUNCTIONS = {
    "summed": lambda v: jnp.sum(jnp.sin(jax.lax.psum(v, "i")) * v),
    "averaged": lambda v: jnp.sum(jnp.exp(jax.lax.pmean(v, "i")) * v * v),
    "gathered": lambda v: jnp.sum(jnp.sin(jax.lax.all_gather(v, "i")) * W),
}
TOTALS = {  # each function's total over the axis, in NumPy, for finite differences
    "highest": lambda xs: sum(np.sum(xs.max(0) ** 2 * x) for x in xs),
    "lowest": lambda xs: len(xs) * np.sum(np.tanh(xs.min(0))),
}


def module(backend):
    names = list(JAX_FUNCTIONS) + list(TOTALS)
    maps = "".join(
        f'{n}_vmap = vmap(grad({n}), axis_name="i")\n{n}_pmap = pmap(grad({n}), axis_name="i")\n'
        for n in names
    )
    return jx.compile(SOURCE + maps, backend=backend)


@pytest.fixture(scope="module", params=["numpy", "xla"])
def compiled(request):
    return module(request.param)


@pytest.mark.parametrize("mapping", ["vmap", "pmap"])
@pytest.mark.parametrize("name", sorted(JAX_FUNCTIONS))
def test_gradient_through_a_collective_matches_jax(compiled, name, mapping):
    want = jax.vmap(jax.grad(JAX_FUNCTIONS[name]), axis_name="i")(X)
    got = getattr(compiled, f"{name}_{mapping}")(X)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mapping", ["vmap", "pmap"])
@pytest.mark.parametrize("name", sorted(TOTALS))
def test_gradient_through_pmax_pmin_matches_finite_differences(compiled, name, mapping):
    total, eps = TOTALS[name], 1e-6
    want = np.zeros_like(X)
    for index in np.ndindex(X.shape):
        step = np.zeros_like(X)
        step[index] = eps
        want[index] = (total(X + step) - total(X - step)) / (2 * eps)
    got = getattr(compiled, f"{name}_{mapping}")(X)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_pmax_ties_share_the_tangent():
    m = jx.compile('g = vmap(grad(lambda v: pmax(v, "i")), axis_name="i")')
    np.testing.assert_allclose(m.g(np.array([1.0, 3.0, 3.0, 2.0])), [0.0, 2.0, 2.0, 0.0])
