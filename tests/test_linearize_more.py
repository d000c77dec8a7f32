"""linearize and linear_transpose against jax.linearize and jax.linear_transpose on the same
functions, in the language and from Python; the linear program keeps no primal work;
Hessian-vector products through linearize of grad; and a non-linear function refused by
linear_transpose with the operation named."""

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


RNG = np.random.default_rng(5)
X, Y, V = RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=3)
M = RNG.normal(size=(2, 3))

SOURCE = textwrap.dedent("""
    M = astype(MATRIX, f64)
    def f(x, y) = (sin(x) * y, sum(exp(x) * x))
    def loss(x) = sum(tanh(M @ x) ** 2.0) + sum(x ** 3.0)
    def hvp(x, v) = linearize(grad(loss), x)[1](v)
    def tangent(x, y, tx, ty) = linearize(f, x, y)[1](tx, ty)
    def lin(x, y) = (M @ x + 2.0 * cumsum(y)[:2], x - y)
    def transposed(cx, cy) = linear_transpose(lin, X0, X0)((cx, cy))
    X0 = zeros(3, f64)
    jit_tangent = jit(tangent)
    batched_hvp = vmap(hvp, in_axes=(None, 0))
""")


def f_jax(x, y):
    return jnp.sin(x) * y, jnp.sum(jnp.exp(x) * x)


def loss_jax(x):
    return jnp.sum(jnp.tanh(M @ x) ** 2) + jnp.sum(x**3)


def lin_jax(x, y):
    return M @ x + 2.0 * jnp.cumsum(y)[:2], x - y


@pytest.fixture(scope="module", params=["numpy", "xla"])
def m(request):
    return jx.compile(SOURCE, backend=request.param, env={"MATRIX": M})


def assert_trees_close(got, want):
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["tangent", "jit_tangent"])
def test_linearize_matches_jax(m, name):
    _, f_jvp = jax.linearize(f_jax, X, Y)
    assert_trees_close(getattr(m, name)(X, Y, V, X), f_jvp(V, X))


def test_hvp_matches_jax(m):
    want = jax.jvp(jax.grad(loss_jax), (X,), (V,))[1]
    assert_trees_close(m.hvp(X, V), want)
    vs = RNG.normal(size=(4, 3))
    want = jax.vmap(lambda v: jax.jvp(jax.grad(loss_jax), (X,), (v,))[1])(vs)
    assert_trees_close(m.batched_hvp(X, vs), want)


def test_linear_transpose_matches_jax(m):
    cx, cy = RNG.normal(size=2), RNG.normal(size=3)
    want = jax.linear_transpose(lin_jax, X, X)((cx, cy))
    assert_trees_close(m.transposed(cx, cy), want)


def test_from_python():
    m = jx.compile(SOURCE, env={"MATRIX": M})
    out, f_jvp = jx.linearize(m.f, X, Y)
    want_out, want_jvp = jax.linearize(f_jax, X, Y)
    assert_trees_close(out, want_out)
    assert_trees_close(f_jvp(V, X), want_jvp(V, X))
    assert_trees_close(f_jvp(X, V), want_jvp(X, V))  # called again: the same linear map
    f_t = jx.linear_transpose(m.lin, X, X)
    cts = (RNG.normal(size=2), RNG.normal(size=3))
    assert_trees_close(f_t(cts), jax.linear_transpose(lin_jax, X, X)(cts))


def test_the_linear_program_has_no_primal_work():
    m = jx.compile("def f(x) = sum(sin(exp(x)))")
    _, f_jvp = jx.linearize(m.f, X)
    names = {eqn.prim.name for eqn in f_jvp.value.program.eqns}
    assert names.isdisjoint({"sin", "cos", "exp"}), names


def test_linear_transpose_refuses_a_product_of_inputs():
    m = jx.compile("def square(x) = x * x")
    with pytest.raises(jx.JxError, match="not linear in both factors"):
        jx.linear_transpose(m.square, X)


def test_the_linearized_function_checks_its_arguments():
    m = jx.compile("def f(x, y) = x * y")
    _, f_jvp = jx.linearize(m.f, X, Y)
    with pytest.raises(jx.JxError, match="takes 2 positional argument"):
        f_jvp(V)


def test_linearize_through_loops_and_branches_equals_jvp():
    m = jx.compile(
        textwrap.dedent("""
        def f(x):
            c = x
            for i in range(5):
                c = sin(c) * 1.1 + x
            if sum(c) > 0.0:
                c = c * c
            return sum(c)
        def g(xs):
            s = 0.0
            for x in xs:
                s = s * 0.9 + cos(x * s + x)
            return s
        """)
    )
    for f in (m.f, m.g):
        _, f_jvp = jx.linearize(f, X)
        np.testing.assert_allclose(f_jvp(V), jx.jvp(f, (X,), (V,))[1], rtol=1e-12)
