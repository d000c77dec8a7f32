"""Dtypes against JAX: every pair of jx dtypes (strong, and with weak Python numbers)
promotes as `jax.numpy` does with x64 enabled, except where jx's 32-bit defaults apply
(a weak float meeting a narrow int is f32, not f64); f64 programs keep f64 through
literals; 64-bit ints give f64 and i64 indices; the dtype rules of reductions and
products; and fixed wrong answers and crashes, each checked against NumPy or
JAX, eagerly and traced, on the numpy backend and (where jaxlib is present) the xla one.
"""

import math

import jx
import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

DTYPES = {
    "bool": np.dtype(np.bool_),
    "i8": np.dtype(np.int8),
    "i16": np.dtype(np.int16),
    "i32": np.dtype(np.int32),
    "i64": np.dtype(np.int64),
    "u8": np.dtype(np.uint8),
    "u16": np.dtype(np.uint16),
    "u32": np.dtype(np.uint32),
    "u64": np.dtype(np.uint64),
    "f16": np.dtype(np.float16),
    "bf16": np.dtype(ml_dtypes.bfloat16),
    "f32": np.dtype(np.float32),
    "f64": np.dtype(np.float64),
}
#: Where jx's defaults are 32-bit and JAX's with x64 are 64-bit.
NARROW = {np.dtype(np.float64): np.dtype(np.float32), np.dtype(np.int64): np.dtype(np.int32)}
BACKENDS = ["numpy", "xla"]


def _sample(dtype):
    return np.array([1, 0, 3]).astype(dtype)


def eager(expr, env, backend="numpy"):
    """`expr` as a top-level statement."""
    return jx.compile(f"y = {expr}\n", backend=backend, env=env).y


def traced(expr, env, backend="numpy"):
    """`expr` as the body of a function called from Python."""
    return jx.fn(f"lambda {', '.join(env)}: {expr}", backend=backend)(*env.values())


MODES = [pytest.param(eager, id="eager"), pytest.param(traced, id="traced")]


def jax_x64(fn, *args):
    """fn's result (dtype, weak) in JAX with x64 on; Python numbers stay Python numbers."""
    with jax.enable_x64(True):
        out = fn(*[jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args])
        return np.dtype(out.dtype), bool(out.weak_type)


def jx_expected(fn, *args):
    """JAX's x64 result type, narrowed to jx's 32-bit default where the 64 bits come only
    from JAX's weak default (no input is a 64-bit array)."""
    dtype, weak = jax_x64(fn, *args)
    wide_input = any(isinstance(a, np.ndarray) and a.dtype.itemsize == 8 for a in args)
    if weak and not wide_input:
        dtype = NARROW.get(dtype, dtype)
    return dtype


def _backend(name):
    if name == "xla":
        pytest.importorskip("jaxlib")
    return name


# ------------------------------------------------------------------ promotion vs JAX


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("left", list(DTYPES))
def test_every_strong_pair_promotes_as_jax_x64(mode, left, backend):
    backend = _backend(backend)
    for right, right_dtype in DTYPES.items():
        x, y = _sample(DTYPES[left]), _sample(right_dtype)
        with jax.enable_x64(True):
            want = np.dtype(jnp.result_type(x.dtype, y.dtype))
        out = mode("x * y", {"x": x, "y": y}, backend)
        assert out.dtype == want, f"{left} * {right}: {out.dtype}, JAX {want}"
        np.testing.assert_array_equal(out.astype(np.float64), x.astype(np.float64) * y)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("literal", [2, 2.5], ids=["int", "float"])
def test_every_dtype_with_a_weak_number_promotes_as_jax(mode, literal, backend):
    backend = _backend(backend)
    for name, dtype in DTYPES.items():
        x = _sample(dtype)
        want = jx_expected(lambda a: a * literal, x)
        out = mode(f"x * {literal}", {"x": x}, backend)
        assert out.dtype == want, f"{name} * {literal}: {out.dtype}, expected {want}"
        np.testing.assert_allclose(out.astype(np.float64), x.astype(np.float64) * literal)


@pytest.mark.parametrize("mode", MODES)
def test_weak_numbers_together_stay_weak_and_exact(mode):
    """Literal-only arithmetic is exact: it takes the dtype it meets only at the end."""
    x64, x32 = np.float64(0.1), np.float32(0.1)
    for expr, oracle in [
        ("x + 0.5 * log(2 * pi)", lambda x: x + 0.5 * np.log(2 * np.pi)),
        ("x * (1 / 3)", lambda x: x * (1 / 3)),
        ("x + sqrt(2) * exp(1.0)", lambda x: x + np.sqrt(2) * np.exp(1.0)),
    ]:
        out = mode(expr, {"x": x64})
        assert out.dtype == np.float64 and out == oracle(x64), expr  # to the last ulp
        out = mode(expr, {"x": x32})
        assert out.dtype == np.float32, expr
        assert out == oracle(np.float64(x32)).astype(np.float32), expr


def test_f64_through_literals_matches_jax_x64():
    x = np.linspace(-2, 2, 7)
    out = jx.fn("lambda x: x + 0.5 * log(2 * pi)")(x)
    with jax.enable_x64(True):
        want = np.asarray(jnp.asarray(x) + 0.5 * jnp.log(2 * jnp.pi))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_with_respect_to_a_literal_is_weak(mode):
    src = "x + grad(lambda y: y * y * 0.1)(0.3)"
    out = mode(src, {"x": np.float64(1.0)})
    assert out.dtype == np.float64 and out == 1.0 + 2 * 0.3 * 0.1
    out = mode(src, {"x": np.float32(1.0)})
    assert out.dtype == np.float32  # weak: it does not widen an f32 program


def test_a_python_float_alone_is_f32_and_exact_inside():
    assert jx.fn("lambda: 1.0")().dtype == np.float32
    assert jx.compile("y = exp(1)\n").y.dtype == np.float32
    assert jx.fn("lambda x: x * 2")(3.0).dtype == np.float32
    assert jx.grad(jx.fn("lambda x: x * x"))(3.0).dtype == np.float32
    assert "f64[]~" in jx.fn("lambda x: x * 2").ir(3.0)


_PAIRS = st.tuples(st.sampled_from(list(DTYPES)), st.sampled_from(list(DTYPES)))


@settings(max_examples=60, deadline=None)
@given(
    pair=_PAIRS,
    values=st.lists(st.integers(0, 5), min_size=3, max_size=3),
    op=st.sampled_from(["+", "*", "max"]),
)
def test_property_pairs_promote_as_jax(pair, values, op):
    """Any pair of dtypes and values: jx's dtype is JAX's (x64) and its values NumPy's."""
    x = np.array(values).astype(DTYPES[pair[0]])
    y = np.array(values[::-1]).astype(DTYPES[pair[1]])
    with jax.enable_x64(True):
        want = np.dtype(jnp.result_type(x.dtype, y.dtype))
    expr = "maximum(x, y)" if op == "max" else f"x {op} y"
    out = traced(expr, {"x": x, "y": y})
    assert out.dtype == want
    a, b = x.astype(np.float64), y.astype(np.float64)
    expected = np.maximum(a, b) if op == "max" else a + b if op == "+" else a * b
    if want == np.bool_:
        expected = expected != 0
    np.testing.assert_array_equal(out.astype(np.float64), expected.astype(want).astype(np.float64))


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(list(DTYPES)), literal=st.sampled_from([3, 1.5, -0.25]))
def test_property_weak_numbers_promote_as_jax(name, literal):
    x = _sample(DTYPES[name])
    want = jx_expected(lambda a: a + literal, x)
    assert traced(f"x + {literal}", {"x": x}).dtype == want


# ------------------------------------------------------------------ 64-bit inputs


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["i64", "u64", "i32", "u32", "i8"])
def test_float_functions_of_ints(mode, name, backend):
    """64-bit ints give f64 (JAX with x64), narrower ones jx's default f32 (JAX's)."""
    backend = _backend(backend)
    x = np.array([1, 2, 7]).astype(DTYPES[name])
    want = np.float64 if DTYPES[name].itemsize == 8 else np.float32
    xf = x.astype(np.float64)
    for expr, oracle in [
        ("sin(x)", np.sin(xf)),
        ("mean(x)", np.mean(xf)),
        ("var(x)", np.var(xf)),
        ("x / 2", xf / 2),
        ("x + 2.5", xf + 2.5),
        ("sqrt(x)", np.sqrt(xf)),
    ]:
        out = mode(expr, {"x": x}, backend)
        assert out.dtype == want, f"{expr} of {name}: {out.dtype}"
        np.testing.assert_allclose(out, oracle, rtol=1e-12 if want == np.float64 else 1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_index_dtypes(mode):
    for name in ["i64", "i32", "f32", "u64"]:
        x = np.array([3, 1, 2]).astype(DTYPES[name])
        want = np.int64 if name in ("i64", "u64") else np.int32
        with jax.enable_x64(name in ("i64", "u64")):
            assert np.dtype(jnp.argmax(jnp.asarray(x)).dtype) == want
        for expr, oracle in [
            ("argmax(x)", np.argmax(x)),
            ("argmin(x)", np.argmin(x)),
            ("argsort(x)", np.argsort(x, kind="stable")),
        ]:
            out = mode(expr, {"x": x})
            assert out.dtype == want, f"{expr} of {name}: {out.dtype}"
            np.testing.assert_array_equal(out, oracle)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
def test_bf16_matmul_is_bf16(mode, backend):
    backend = _backend(backend)
    a = np.arange(6).reshape(2, 3).astype(ml_dtypes.bfloat16)
    b = np.arange(6).reshape(3, 2).astype(ml_dtypes.bfloat16)
    out = mode("a @ b", {"a": a, "b": b}, backend)
    want = np.asarray(jnp.asarray(a) @ jnp.asarray(b))
    assert out.dtype == want.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(out.astype(np.float32), want.astype(np.float32))


@pytest.mark.parametrize("mode", MODES)
def test_reduction_dtypes_follow_jax(mode):
    """JAX without x64 for narrow ints (sum of u8 is u32), with x64 for 64-bit ones."""
    for name in ["bool", "i8", "i16", "u8", "u16", "i32", "u32", "i64", "u64"]:
        x = np.array([1, 2, 3]).astype(DTYPES[name])
        wide = DTYPES[name].itemsize == 8
        for fn in ["sum", "prod", "cumsum", "cumprod"]:
            with jax.enable_x64(wide):
                want = np.asarray(getattr(jnp, fn)(jnp.asarray(x)))
            out = mode(f"{fn}(x)", {"x": x})
            assert out.dtype == want.dtype, f"{fn}({name}): {out.dtype}, JAX {want.dtype}"
            np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("mode", MODES)
def test_mean_with_an_int_dtype(mode):
    x = np.array([1.0, 2.0, 4.5, 3.0], np.float32)
    out = mode("mean(x, dtype=i64)", {"x": x})
    with jax.enable_x64(True):
        want = np.asarray(jnp.mean(jnp.asarray(x), dtype=jnp.int64))
    assert out.dtype == np.int64 and out == want


# ------------------------------------------------------------------ wrong answers, crashes


@pytest.mark.parametrize("mode", MODES)
def test_trace_uses_the_first_two_axes(mode):
    x = np.arange(60.0).reshape(3, 4, 5)
    np.testing.assert_array_equal(mode("trace(x)", {"x": x}), np.trace(x))
    np.testing.assert_array_equal(mode("trace(x, 1)", {"x": x}), np.trace(x, 1))
    m = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(mode("trace(m, -1)", {"m": m}), np.trace(m, -1))


@pytest.mark.parametrize("mode", MODES)
def test_isclose_with_infinities(mode):
    a = np.array([np.inf, 1.0, np.inf, -np.inf, np.nan, 2.0])
    b = np.array([-np.inf, np.inf, np.inf, -np.inf, np.nan, 2.0 + 1e-9])
    np.testing.assert_array_equal(mode("isclose(a, b)", {"a": a, "b": b}), np.isclose(a, b))
    np.testing.assert_array_equal(
        mode("isclose(a, b, equal_nan=True)", {"a": a, "b": b}), np.isclose(a, b, equal_nan=True)
    )


@pytest.mark.parametrize("mode", MODES)
def test_linspace_with_array_ends_and_f64(mode):
    a, b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, -2.0])
    for extra, kw in [("2, endpoint=False", {"endpoint": False}), ("4", {}), ("1", {})]:
        num = int(extra.split(",")[0])
        out = mode(f"linspace(a, b, {extra})", {"a": a, "b": b})
        want = np.linspace(a, b, num, **kw)
        assert out.shape == want.shape and out.dtype == np.float64
        np.testing.assert_allclose(out, want, rtol=1e-15)
    out = mode("linspace(s, t, 5)", {"s": np.float64(0.0), "t": np.float64(1.0)})
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.linspace(0.0, 1.0, 5))
    assert mode("linspace(0.0, 1.0, 5)", {"s": 0}).dtype == np.float32


@pytest.mark.parametrize("backend", BACKENDS)
def test_logaddexp_second_derivative_at_a_tie(backend):
    backend = _backend(backend)
    f = jx.fn("lambda a, b: grad(grad(logaddexp))(a, b)", backend=backend)
    want = float(jax.grad(jax.grad(jnp.logaddexp))(0.3, 0.3))
    assert want == pytest.approx(0.25)
    assert float(f(0.3, 0.3)) == pytest.approx(want)
    g = jx.fn("lambda a, b: grad(logaddexp, argnums=(0, 1))(a, b)", backend=backend)
    assert tuple(map(float, g(0.3, 0.3))) == pytest.approx((0.5, 0.5))
    assert float(jx.fn("lambda: logaddexp(inf, inf)")()) == np.inf
    assert float(jx.fn("lambda: logaddexp(-inf, -inf)")()) == -np.inf


def test_grad_argnums_in_the_order_given():
    f = jx.fn(
        "lambda a, b, c, d: grad(lambda a, b, c, d: a * b * c * d * d * d, argnums=(3, 1))"
        "(a, b, c, d)"
    )
    want = jax.grad(lambda a, b, c, d: a * b * c * d**3, argnums=(3, 1))(1.0, 2.0, 3.0, 4.0)
    np.testing.assert_allclose(f(1.0, 2.0, 3.0, 4.0), want)
    g = jx.fn("lambda a, b: grad(lambda a, b: a * b * b, argnums=[0, 1])(a, b)")
    np.testing.assert_allclose(g(1.0, 2.0), (4.0, 4.0))
    h = jx.fn("lambda a, b: value_and_grad(lambda a, b: a * b * b, argnums=(1, 0))(a, b)")
    value, grads = h(1.0, 2.0)
    assert float(value) == 4.0
    np.testing.assert_allclose(grads, (4.0, 4.0))


@pytest.mark.parametrize("mode", MODES)
def test_transpose_with_a_list_of_axes(mode):
    x = np.arange(24.0).reshape(2, 3, 4)
    out = mode("transpose(x, [2, 0, 1])", {"x": x})
    np.testing.assert_array_equal(out, np.transpose(x, [2, 0, 1]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_jit_of_a_big_python_int_with_u64(backend):
    backend = _backend(backend)
    u = np.array([1, 2, 2**63 + 5], np.uint64)
    m = jx.compile("y = jit(lambda a, b: a ^ b)(4261317309, u)\n", backend=backend, env={"u": u})
    assert m.y.dtype == np.uint64
    np.testing.assert_array_equal(m.y, np.uint64(4261317309) ^ u)


@pytest.mark.parametrize("mode", MODES)
def test_hstack_of_one_1d_array(mode):
    a = np.arange(3.0)
    np.testing.assert_array_equal(mode("hstack([a])", {"a": a}), np.hstack([a]))
    np.testing.assert_array_equal(mode("hstack((a,))", {"a": a}), np.hstack((a,)))


def test_bf16_prints_with_its_dtype(capsys):
    jx.compile("print(ones(2, dtype=bf16))\nprint(ones(2))\nprint(ones((), dtype=bf16))\n")
    assert capsys.readouterr().out == "[1. 1.] bf16\n[1. 1.]\n1.0 bf16\n"


def test_weak_int_beyond_i32_as_an_argument_is_i64():
    assert jx.fn("lambda n: n + 1")(2**40) == 2**40 + 1
    assert math.isclose(float(jx.fn("lambda x, n: x * n")(np.float64(0.5), 2**40)), 2.0**39)
