"""custom_jvp and custom_vjp against jax.custom_jvp and jax.custom_vjp on the same rules:
values, gradients, grad of grad, jit, vmap (the rule still applies to vmapped code), both
backends, and the errors a rule's mistakes give."""

from __future__ import annotations

import textwrap

import jx
import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = jax.numpy

SOURCE = """
import nn

@custom_jvp
def softplus(x) = log1p(exp(x))

@softplus.defjvp
def softplus_jvp(primals, tangents):
    (x,) = primals
    (t,) = tangents
    return softplus(x), t * nn.sigmoid(x)

@custom_jvp
def safe_norm(x) = sqrt(sum(x * x))

@safe_norm.defjvp
def safe_norm_jvp(primals, tangents):
    (x,) = primals
    (t,) = tangents
    n = safe_norm(x)
    return n, where(n > 0, sum(x * t) / where(n > 0, n, 1.0), 0.0)

@custom_vjp
def clip_gradient(x) = x
def clip_fwd(x) = (x, ())
def clip_bwd(res, g) = (clip(g, -1.0, 1.0),)
clip_gradient.defvjp(clip_fwd, clip_bwd)

@custom_vjp
def scaled_sin(x, s) = sin(x) * s
def scaled_sin_fwd(x, s) = (sin(x) * s, (cos(x), sin(x), s))
def scaled_sin_bwd(res, g) = (res[0] * res[2] * g, sum(res[1] * g))
scaled_sin.defvjp(scaled_sin_fwd, scaled_sin_bwd)

def d_softplus(x) = grad(softplus)(x)
def dd_softplus(x) = grad(grad(softplus))(x)
def d_norm(x) = grad(safe_norm)(x)
def d_clip(x) = grad(lambda x: sum(clip_gradient(x) * x * 3.0))(x)
def d_scaled(x, s) = grad(lambda x, s: sum(scaled_sin(x, s) ** 2), argnums=(0, 1))(x, s)
def per_example(xs) = vmap(grad(lambda x: clip_gradient(x) * x * 3.0))(xs)
def through_vmap(xs) = grad(lambda xs: sum(vmap(clip_gradient)(xs) * xs * 3.0))(xs)
def jvp_softplus(x, t) = jvp(softplus, (x,), (t,))
"""


@jax.custom_jvp
def j_softplus(x):
    return jnp.log1p(jnp.exp(x))


@j_softplus.defjvp
def _(primals, tangents):
    (x,), (t,) = primals, tangents
    return j_softplus(x), t * jax.nn.sigmoid(x)


@jax.custom_vjp
def j_clip(x):
    return x


j_clip.defvjp(lambda x: (x, ()), lambda res, g: (jnp.clip(g, -1.0, 1.0),))


@jax.custom_vjp
def j_scaled(x, s):
    return jnp.sin(x) * s


j_scaled.defvjp(
    lambda x, s: (jnp.sin(x) * s, (jnp.cos(x), jnp.sin(x), s)),
    lambda res, g: (res[0] * res[2] * g, jnp.sum(res[1] * g)),
)

X = np.array([-3.0, 0.0, 0.5, 20.0, 1000.0], np.float32)


@pytest.fixture(scope="module", params=["numpy", "xla"])
def m(request):
    return jx.compile(SOURCE, backend=request.param)


def test_custom_jvp_matches_jax(m):
    for x in X:
        np.testing.assert_allclose(m.softplus(x), j_softplus(x), rtol=1e-6)
        np.testing.assert_allclose(m.d_softplus(x), jax.grad(j_softplus)(x), rtol=1e-6)
        np.testing.assert_allclose(
            m.dd_softplus(x), jax.grad(jax.grad(j_softplus))(x), rtol=1e-5, atol=1e-7
        )
    assert float(m.d_softplus(np.float32(1000.0))) == 1.0  # the naive rule gives nan
    out, tangent = m.jvp_softplus(np.float32(0.5), np.float32(2.0))
    want = jax.jvp(j_softplus, (np.float32(0.5),), (np.float32(2.0),))
    np.testing.assert_allclose([out, tangent], want, rtol=1e-6)


def test_a_norm_at_zero_has_a_finite_gradient(m):
    np.testing.assert_array_equal(m.d_norm(np.zeros(3, np.float32)), np.zeros(3))
    x = np.array([3.0, 4.0], np.float32)
    np.testing.assert_allclose(m.d_norm(x), x / 5.0, rtol=1e-6)


def test_custom_vjp_matches_jax(m):
    x = np.array([0.1, 2.0, -0.5], np.float32)
    want = jax.grad(lambda x: jnp.sum(j_clip(x) * x * 3.0))(x)
    np.testing.assert_allclose(m.d_clip(x), want, rtol=1e-6)
    s = np.float32(1.5)
    got = m.d_scaled(x, s)
    want = jax.grad(lambda x, s: jnp.sum(j_scaled(x, s) ** 2), argnums=(0, 1))(x, s)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5)


def test_the_rules_apply_under_vmap_and_jit(m):
    xs = np.array([0.1, 2.0, -5.0], np.float32)
    want = jax.vmap(jax.grad(lambda x: j_clip(x) * x * 3.0))(xs)
    np.testing.assert_allclose(m.per_example(xs), want, rtol=1e-6)
    want = jax.grad(lambda xs: jnp.sum(jax.vmap(j_clip)(xs) * xs * 3.0))(xs)
    np.testing.assert_allclose(m.through_vmap(xs), want, rtol=1e-6)
    np.testing.assert_allclose(jx.jit(m.d_clip)(xs), m.d_clip(xs))


def _error(src):
    with pytest.raises(jx.JxError) as info:
        jx.compile(textwrap.dedent(src))
    return info.value


def test_mistakes_in_rules_are_jx_errors():
    e = _error("""
    @custom_jvp
    def f(x) = x * 2.0
    y = f(1.0)
    """)
    assert "no rule yet" in e.message and e.span.line == 4
    e = _error("""
    @custom_jvp
    def f(x) = x * 2.0
    f.defjvp(lambda p, t: p[0])
    y = grad(f)(1.0)
    """)
    assert "(primal_out, tangent_out)" in e.message
    e = _error("""
    @custom_vjp
    def f(x) = x * 2.0
    f.defvjp(lambda x: (x * 2.0, ()), lambda r, g: (g, g))
    y = grad(f)(1.0)
    """)
    assert "must give 1 values" in e.message
    e = _error("""
    @custom_vjp
    def f(x) = x * 2.0
    f.defvjp(lambda x: (x * 2.0, ()), lambda r, g: (g,))
    y = jvp(f, (1.0,), (1.0,))
    """)
    assert "forward-mode" in e.message
    e = _error("""
    @custom_jvp
    def f(x) = x
    f.defvjp(1, 2)
    """)
    assert "only '.defjvp'" in e.message


CHECKPOINT = """
def f(x) = sin(x) * exp(x)
def d_plain(x) = grad(lambda x: sum(f(x)))(x)
def d_ck(x) = grad(lambda x: sum(checkpoint(f)(x)))(x)
def d_remat(x) = grad(lambda x: sum(remat(f, policy="everything_saveable")(x)))(x)
def step(c, x) = (tanh(c * 1.01 + x), sum(c))
def counted(c, x) = ((tanh(c[0] * 1.01 + x), c[1] + 1), c[0][0])
def run(c, xs) = scan(step, c, xs)
def run_ck(c, xs) = scan(step, c, xs, checkpoint=True)
def loss(c, xs) = sum(run(c, xs)[0]) + sum(run(c, xs)[1])
def loss_ck(c, xs) = sum(run_ck(c, xs)[0]) + sum(run_ck(c, xs)[1])
def loss_body(c, xs) = sum(scan(checkpoint(step), c, xs)[0])
def loss_counted(c, xs) = sum(scan(checkpoint(counted), (c, 0), xs, checkpoint=True)[0][0])
def d_loss(c, xs) = grad(loss)(c, xs)
def d_loss_ck(c, xs) = grad(loss_ck)(c, xs)
def d_body(c, xs) = grad(loss_body)(c, xs)
def d_counted(c, xs) = grad(loss_counted)(c, xs)
"""


@pytest.mark.parametrize("backend", ["numpy", "xla"])
def test_checkpoint_gives_the_gradients_of_jax_checkpoint(backend):
    m = jx.compile(CHECKPOINT, backend=backend)
    x = np.linspace(-1, 1, 5, dtype=np.float32)
    want = jax.grad(lambda x: jnp.sum(jax.checkpoint(lambda x: jnp.sin(x) * jnp.exp(x))(x)))(x)
    for name in ("d_plain", "d_ck", "d_remat"):
        np.testing.assert_allclose(getattr(m, name)(x), want, rtol=1e-6)
    c = np.full(4, 0.3, np.float32)
    xs = np.linspace(-0.5, 0.5, 4 * 103, dtype=np.float32).reshape(103, 4)  # 103 = 10 * 10 + 3
    for name in ("run",):
        plain, ck = getattr(m, name)(c, xs), m.run_ck(c, xs)
        for a, b in zip(plain, ck):
            np.testing.assert_allclose(a, b, rtol=1e-6)

    def j_step(c, x):
        return jnp.tanh(c * 1.01 + x), jnp.sum(c)

    def j_loss(c, xs):
        carry, ys = jax.lax.scan(jax.checkpoint(j_step), c, xs)
        return jnp.sum(carry) + jnp.sum(ys)

    want = jax.grad(j_loss)(c, xs)
    np.testing.assert_allclose(m.d_loss(c, xs), want, rtol=1e-4)
    np.testing.assert_allclose(m.d_loss_ck(c, xs), want, rtol=1e-4)
    want_body = jax.grad(lambda c, xs: jnp.sum(jax.lax.scan(jax.checkpoint(j_step), c, xs)[0]))
    np.testing.assert_allclose(m.d_body(c, xs), want_body(c, xs), rtol=1e-4)
    np.testing.assert_allclose(m.d_counted(c, xs), want_body(c, xs), rtol=1e-4)


def test_a_checkpointed_scan_keeps_about_sqrt_n_carries():
    import tracemalloc

    m = jx.compile(CHECKPOINT)
    c = np.zeros(4096, np.float32)
    xs = np.full((400, 4096), 0.01, np.float32)
    peaks = {}
    for name in ("d_loss", "d_loss_ck"):
        getattr(m, name)(c, xs[:3])  # trace and compile first
        tracemalloc.start()
        getattr(m, name)(c, xs)
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    carry = 4 * 4096
    assert peaks["d_loss"] > 400 * carry  # every step's carry
    assert peaks["d_loss_ck"] < 0.4 * peaks["d_loss"]  # about 2 * sqrt(400) = 40 of them


DOTS = """
def mlp(w1, w2, x) = sum(tanh(tanh(x @ w1) @ w2) ** 2)
def d_plain(w1, w2, x) = grad(mlp, argnums=(0, 1))(w1, w2, x)
def d_dots(w1, w2, x) = grad(checkpoint(mlp, policy="dots_saveable"), argnums=(0, 1))(w1, w2, x)
def d_none(w1, w2, x) = grad(checkpoint(mlp), argnums=(0, 1))(w1, w2, x)
"""


@pytest.mark.parametrize("backend", ["numpy", "xla"])
def test_the_dots_saveable_policy_matches_jax(backend):
    m = jx.compile(DOTS, backend=backend)
    rng = np.random.default_rng(1)
    w1, w2, x = (rng.standard_normal(s).astype(np.float32) for s in ((4, 5), (5, 3), (6, 4)))

    def j_mlp(w1, w2, x):
        return jnp.sum(jnp.tanh(jnp.tanh(x @ w1) @ w2) ** 2)

    policy = jax.checkpoint_policies.dots_saveable
    want = jax.grad(jax.checkpoint(j_mlp, policy=policy), argnums=(0, 1))(w1, w2, x)
    for name in ("d_plain", "d_dots", "d_none"):
        for g, w in zip(getattr(m, name)(w1, w2, x), want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_dots_saveable_does_not_multiply_again_on_the_way_back():
    m = jx.compile(DOTS)
    args = [np.ones(s, np.float32) for s in ((4, 5), (5, 3), (6, 4))]
    plain, dots = (getattr(m, n).ir(*args) for n in ("d_none", "d_dots"))
    assert dots.count("dot_general") < plain.count("dot_general")
    assert "saved_dot" in dots


def test_a_bad_policy_is_a_jx_error():
    with pytest.raises(jx.TypeError, match="policy must be one of") as info:
        jx.compile("def f(x) = x\ng = checkpoint(f, policy='dots')\n")
    assert info.value.span.line == 2
