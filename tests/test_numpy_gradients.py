"""The NumPy functions added after the core built-ins under the transformations: their
gradients against JAX's, batching under vmap against a loop, and the NumPy and XLA
backends against each other (called, jitted and differentiated).
"""

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import jx
import numpy as np
import pytest

f32, f64 = np.float32, np.float64

GRADIENTS = [
    (
        "lambda x: sum(pad(x, ((1, 2), (0, 3)), mode='reflect') ** 2)",
        lambda x: jnp.sum(jnp.pad(x, ((1, 2), (0, 3)), mode="reflect") ** 2),
    ),
    ("lambda x: sum(roll(x, 1, axis=1) * x)", lambda x: jnp.sum(jnp.roll(x, 1, axis=1) * x)),
    (
        "lambda x: sum(split(x, 3, axis=1)[1] ** 3)",
        lambda x: jnp.sum(jnp.split(x, 3, axis=1)[1] ** 3),
    ),
    (
        "lambda x: sum(take(x, array([0, 5, 5])) ** 2)",
        lambda x: jnp.sum(jnp.take(x, jnp.array([0, 5, 5])) ** 2),
    ),
    ("lambda x: sum(tril(x) * triu(x))", lambda x: jnp.sum(jnp.tril(x) * jnp.triu(x))),
    ("lambda x: sum(diag(diagonal(x)) ** 2)", lambda x: jnp.sum(jnp.diag(jnp.diagonal(x)) ** 2)),
    ("lambda x: median(x)", jnp.median),
    (
        "lambda x: sum(quantile(x, array([2.0, 7.0], dtype=f64) / 10, axis=1))",
        lambda x: jnp.sum(jnp.quantile(x, jnp.array([0.2, 0.7]), axis=1)),
    ),
    (
        "lambda x: nanmean(where(x > 0, x, nan))",
        lambda x: jnp.nanmean(jnp.where(x > 0, x, jnp.nan)),
    ),
    ("lambda x: sum(cov(x))", lambda x: jnp.sum(jnp.cov(x))),
    ("lambda x: sum(hypot(x, 2.0 * x + 1.0))", lambda x: jnp.sum(jnp.hypot(x, 2 * x + 1))),
    ("lambda x: sum(sinc(x))", lambda x: jnp.sum(jnp.sinc(x))),
    ("lambda x: sum(logaddexp2(x, x * x))", lambda x: jnp.sum(jnp.logaddexp2(x, x * x))),
    (
        "lambda x: sum(interp(x, array([-1.0, 0.0, 2.0]), array([0.0, 3.0, 1.0])))",
        lambda x: jnp.sum(jnp.interp(x, jnp.array([-1.0, 0.0, 2.0]), jnp.array([0.0, 3.0, 1.0]))),
    ),
    ("lambda x: sum(convolve(x[0], x[1]))", lambda x: jnp.sum(jnp.convolve(x[0], x[1]))),
    ("lambda x: sum(cross(x[0], x[1]) ** 2)", lambda x: jnp.sum(jnp.cross(x[0], x[1]) ** 2)),
    ("lambda x: sum(kron(x, x))", lambda x: jnp.sum(jnp.kron(x, x))),
    ("lambda x: sum(gradient(x * x)[0])", lambda x: jnp.sum(jnp.gradient(x * x)[0])),
    ("lambda x: sum(einsum('ii->i', x) ** 2)", lambda x: jnp.sum(jnp.einsum("ii->i", x) ** 2)),
    ("lambda x: sum(x.at[1].divide(x[0] + 3.0))", lambda x: jnp.sum(x.at[1].divide(x[0] + 3.0))),
    ("lambda x: sum(x.at[0].subtract(x[1]) ** 2)", lambda x: jnp.sum(x.at[0].subtract(x[1]) ** 2)),
    (
        "lambda x: sum(average(x, axis=0, weights=x[0] * x[0] + 1.0))",
        lambda x: jnp.sum(jnp.average(x, axis=0, weights=x[0] * x[0] + 1.0)),
    ),
    ("lambda x: sum(special.gammaln(x * x + 0.5))", lambda x: jnp.sum(jsp.gammaln(x * x + 0.5))),
    ("lambda x: sum(special.digamma(x * x + 0.5))", lambda x: jnp.sum(jsp.digamma(x * x + 0.5))),
    ("lambda x: sum(vectorize(lambda s: s * s)(x))", lambda x: jnp.sum(x * x)),
    (
        "lambda x: sum(ravel_pytree({'a': x, 'b': (x[0],)})[0] ** 3)",
        lambda x: jnp.sum(x**3) + jnp.sum(x[0] ** 3),
    ),
]


@pytest.mark.parametrize("expr, jax_fn", GRADIENTS, ids=[g[0] for g in GRADIENTS])
def test_gradients_match_jax(expr, jax_fn):
    x = np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.6], [-0.2, 0.9, 1.5]], f64)
    m = jx.compile(f"import special\nf = {expr}\ng = grad(f)\n")
    with jax.enable_x64(True):
        want = np.asarray(jax.grad(jax_fn)(jnp.asarray(x)))
    np.testing.assert_allclose(m.g(x), want, rtol=1e-9, atol=1e-12)


def test_new_functions_batch_under_vmap():
    m = jx.compile(
        "def f(x) = (pad(x, 1, mode='edge'), roll(x, 1), median(x), diff(x), "
        "searchsorted(sort(x), 0.0), unique(x, size=4))\n"
        "g = vmap(f)\n"
    )
    xs = np.random.default_rng(1).standard_normal((5, 4)).astype(f32)
    for k, got in enumerate(m.g(xs)):
        for j in range(5):
            np.testing.assert_allclose(got[j], m.f(xs[j])[k], rtol=1e-6)


PARITY = """
import special
def shapes(x) = (pad(x, ((1, 2), (2, 1)), mode='reflect'), array_split(x, 2, axis=1)[1], roll(x, 3),
                 rot90(x), tril(x, -1), diag(diagonal(x)), take(x, array([0, 9, 30])),
                 kron(x[:2, :2], x[:2, :2]), r_[x[0], 0.0], atleast_3d(x))
def stats(x) = (median(x, axis=0), quantile(x, array([0.1, 0.9]), axis=1), nanmean(x),
                average(x, axis=1, weights=abs(x)), cov(x), ptp(x), count_nonzero(x > 0))
def search(x) = (searchsorted(sort(x[0]), x), unique(x, size=10), nonzero(x > 0, size=7),
                 bincount(i32(abs(x * 3)).ravel(), length=6), interp(x, sort(x[1]), x[2]),
                 isin(x, x[0]), diff(x, axis=0), gradient(x)[1], convolve(x[0], x[1]),
                 cross(x[:, :3], x[:, 2:]))
def maths(x) = (hypot(x, 1.0), sinc(x), fmax(x, 0.0), trunc(x * 4), logaddexp2(x, x),
                special.gammaln(abs(x) + 0.5), special.digamma(abs(x) + 0.5), special.erfc(x),
                einsum('ii->i', x[:, :4]), sum(x, where=x > 0, initial=1.0))
def loss(x) = sum(pad(x, 1, mode='edge') ** 2) + median(x) + sum(quantile(x, 0.3, axis=0)) + \\
    sum(special.gammaln(x * x + 1.0)) + sum(roll(x, 1) * x)
"""


@pytest.mark.parametrize("name", ["shapes", "stats", "search", "maths", "loss"])
def test_numpy_and_xla_backends_agree(name):
    x = np.random.default_rng(3).standard_normal((4, 5)).astype(f32)
    results = {}
    for backend in ("numpy", "xla"):
        f = getattr(jx.compile(PARITY, backend=backend), name)
        results[backend] = (f(x), jx.jit(f)(x), jx.grad(f)(x) if name == "loss" else ())
    for got, want in zip(jax.tree.leaves(results["xla"]), jax.tree.leaves(results["numpy"])):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
