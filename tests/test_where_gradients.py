"""NaN-safe gradients through `where`: the branch not taken contributes an exact zero, also
where its derivative is infinite or NaN (finite differences and JAX's "double where" give
the reference), and on a family of where-programs whose gradients are finite everywhere
jx still equals JAX, on both backends and in higher order."""

import textwrap

import jax
import jax.numpy as jnp
import jx
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st


@pytest.fixture(autouse=True, scope="module")
def jax_in_f64():
    """JAX's references in f64, for this module only (other tests compare with JAX's f32)."""
    with jax.enable_x64(True):
        yield


# name -> (jx body in x, JAX's function written with the double-where trick)
GUARDED = {
    "sqrt": (
        "sum(where(x > 0.0, sqrt(x), 0.0))",
        lambda x: jnp.sum(jnp.where(x > 0, jnp.sqrt(jnp.where(x > 0, x, 1.0)), 0.0)),
    ),
    "log": (
        "sum(where(x > 0.0, x * log(x), 0.0))",
        lambda x: jnp.sum(jnp.where(x > 0, x * jnp.log(jnp.where(x > 0, x, 1.0)), 0.0)),
    ),
    "sinc": (
        "sum(where(x != 0.0, sin(x) / x, 1.0))",
        lambda x: jnp.sum(jnp.where(x != 0, jnp.sin(x) / jnp.where(x != 0, x, 1.0), 1.0)),
    ),
    "rsqrt_power": (
        "sum(where(x > 0.0, x ** 1.5 + 1.0 / sqrt(x), x * x))",
        lambda x: jnp.sum(
            jnp.where(x > 0, (s := jnp.where(x > 0, x, 1.0)) ** 1.5 + 1 / jnp.sqrt(s), x * x)
        ),
    ),
    "nested": (
        "sum(where(x <= 1.0, 0.0, sqrt(log(x))))",
        lambda x: jnp.sum(jnp.where(x <= 1, 0.0, jnp.sqrt(jnp.log(jnp.where(x <= 1, 2.0, x))))),
    ),
}
POINTS = np.array([-2.0, -1e-3, 0.0, 0.5, 1.0, 3.0])


def compile_guarded(backend):
    source = "".join(f"def w_{n}(x) = {body}\n" for n, (body, _) in GUARDED.items())
    source += "".join(f"d_{n} = grad(w_{n})\ndd_{n} = grad(grad(w_{n}))\n" for n in GUARDED)
    source += "".join(f"v_{n} = vmap(grad(w_{n}))\n" for n in GUARDED)
    return jx.compile(source, backend=backend)


@pytest.fixture(scope="module", params=["numpy", "xla"])
def guarded(request):
    return compile_guarded(request.param)


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_gradient_equals_the_double_where(guarded, name):
    want = jax.grad(GUARDED[name][1])(POINTS)
    got = getattr(guarded, f"d_{name}")(POINTS)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_second_derivative_equals_the_double_where(guarded, name):
    for x in POINTS:
        want = jax.grad(jax.grad(GUARDED[name][1]))(x)
        got = getattr(guarded, f"dd_{name}")(x)
        assert np.isfinite(got)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_gradient_under_vmap(guarded, name):
    xs = np.stack([POINTS, POINTS[::-1]])
    want = jax.vmap(jax.grad(GUARDED[name][1]))(xs)
    np.testing.assert_allclose(getattr(guarded, f"v_{name}")(xs), want, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_gradient_matches_finite_differences_away_from_the_switch(name):
    m = compile_guarded("numpy")
    f = getattr(m, f"w_{name}")
    eps = 1e-6
    for x in POINTS[POINTS != 0.0]:  # the switch itself is a kink
        if name == "nested" and abs(x - 1.0) < 1e-3:
            continue
        want = (f(np.array([x + eps])) - f(np.array([x - eps]))) / (2 * eps)
        got = getattr(m, f"d_{name}")(np.array([x]))[0]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_the_plain_program_is_nan_in_jax_and_finite_in_jx():
    x = np.array([-1.0, 0.0, 4.0])
    naive = jax.grad(lambda x: jnp.sum(jnp.where(x > 0, jnp.sqrt(x), 0.0)))(x)
    assert np.isnan(naive[:2]).all()
    m = jx.compile("g = grad(lambda x: sum(where(x > 0.0, sqrt(x), 0.0)))")
    np.testing.assert_array_equal(m.g(x), [0.0, 0.0, 0.25])


# ------------------------------------------------------------------ no finite gradient changes

UNARY = {  # jx name -> JAX function, each finite with a finite derivative on [0.1, 3]
    # (and nonzero there but for log, which is not a divisor below)
    "sin": jnp.sin, "exp": jnp.exp, "log": jnp.log, "sqrt": jnp.sqrt, "tanh": jnp.tanh,
    "square": jnp.square, "arctan": jnp.arctan, "log1p": jnp.log1p, "reciprocal": None,
}  # fmt: skip
JX_BODY = {"reciprocal": "(1.0 / ({}))"}
JAX_FN = {"reciprocal": lambda v: 1.0 / v}
BINARY = {"+": jnp.add, "*": jnp.multiply, "/": jnp.divide}


def _jx(name, arg):
    return JX_BODY.get(name, name + "({})").format(arg)


def _jax(name):
    return JAX_FN.get(name) or UNARY[name]


@settings(max_examples=25, deadline=None)
@given(
    f=st.sampled_from(sorted(UNARY)),
    g=st.sampled_from(sorted(UNARY)),
    h=st.sampled_from(sorted(UNARY)),
    op=st.sampled_from(sorted(BINARY)),
    threshold=st.floats(0.5, 2.5),
    xs=st.lists(st.floats(0.1, 3.0), min_size=1, max_size=6),
)
def test_finite_where_gradients_equal_jax(f, g, h, op, threshold, xs):
    assume(not (op == "/" and g == "log"))
    source = textwrap.dedent(f"""
        def prog(x) = sum(where(x > {threshold!r}, {_jx(f, "x")} {op} {_jx(g, "x")}, {_jx(h, "x * 0.5")}))
        d = grad(prog)
    """)
    m = jx.compile(source)

    def reference(x):
        on = BINARY[op](_jax(f)(x), _jax(g)(x))
        return jnp.sum(jnp.where(x > threshold, on, _jax(h)(x * 0.5)))

    x = np.array(xs)
    want = jax.grad(reference)(x)
    assert np.all(np.isfinite(want))
    np.testing.assert_allclose(m.d(x), want, rtol=1e-9, atol=1e-12)


def test_higher_derivatives_where_a_cotangent_is_zero_by_value():
    # Cotangents that are zero by value (x = 0 here), not from a branch not taken, keep
    # their derivatives: the third derivative of x**3 is 6 everywhere, also at 0.
    m = jx.compile(
        textwrap.dedent("""
        def cube(x):
            r = 1.0
            for i in range(3):
                r = r * x
            return where(x < -5.0, 0.0, r)
        third = grad(grad(grad(cube)))
        second = grad(grad(lambda x: x * x * sin(x)))
        """)
    )
    for x in (0.0, 1.0, -2.0):
        np.testing.assert_allclose(m.third(x), 6.0, rtol=1e-6)
    want = jax.grad(jax.grad(lambda x: x * x * jnp.sin(x)))(0.0)
    np.testing.assert_allclose(m.second(0.0), want, atol=1e-12)
