"""Every core built-in of LANGUAGE.md section 5, checked against NumPy as the oracle.

Each table row is a jx expression over the named inputs of `ENV`, the NumPy computation it
must match (run in float64 on the same data) and the dtype jx must give, which follows JAX's
promotion rules where they differ from NumPy's. Every row runs twice: as a top-level
statement (eager, one primitive at a time) and as the body of a function called from Python
(traced into IR, then run). Property tests draw random shapes, axes and operations.
"""

from types import SimpleNamespace

import jx
import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

f16, bf16, f32, f64 = np.float16, ml_dtypes.bfloat16, np.float32, np.float64
i32, i64, u32, b1 = np.int32, np.int64, np.uint32, np.bool_

_rng = np.random.default_rng(0)


def _normal(*shape):
    return _rng.standard_normal(shape).astype(f32)


def _uniform(lo, hi, *shape):
    return _rng.uniform(lo, hi, shape).astype(f32)


ENV = {
    "a": _normal(2, 3),
    "b": _normal(3),
    "c": _normal(2, 3, 4),
    "p": _uniform(0.5, 2.0, 2, 3),  # positive: log, sqrt, power
    "u": _uniform(-0.9, 0.9, 2, 3),  # inside (-1, 1): arcsin, arccos
    "s": _normal(1, 3, 1),  # unit axes for squeeze
    "v": _normal(4),
    "mat": _normal(3, 4),
    "mat2": _normal(4, 2),
    "bm": _normal(5, 2, 3),
    "bm2": _normal(5, 3, 4),
    "bb": _normal(2, 1, 2, 3),
    "w": _normal(5, 4, 6),
    "z": np.array([0.0, np.nan, np.inf, -np.inf, 1.5, -2.0], f32),
    "i": _rng.integers(-4, 5, (2, 3)).astype(i32),
    "n": _rng.integers(1, 4, (2, 3)).astype(i32),
    "k": _rng.integers(0, 9, (2, 3)).astype(u32),
    "l": _rng.integers(-9, 9, (2, 3)).astype(i64),
    "m": _rng.random((2, 3)) > 0.5,
    "d": _normal(2, 3).astype(f64),
    "h": _normal(2, 3).astype(f16),
    "bh": _normal(2, 3).astype(bf16),
}


def _as_f64(v):
    return v.astype(f64) if v.dtype.kind == "f" or v.dtype == bf16 else v


#: The inputs NumPy sees: the same values, floats widened to float64.
NP = SimpleNamespace(**{k: _as_f64(v) for k, v in ENV.items()})


def eager(expr, env=None):
    """The value of `expr` computed by a top-level statement."""
    return jx.compile(f"y = {expr}\n", env=ENV if env is None else env).y


def traced(expr, env=None):
    """The value of `expr` computed inside a function traced from Python."""
    env = ENV if env is None else env
    return jx.fn(f"lambda {', '.join(env)}: {expr}")(*env.values())


MODES = [pytest.param(eager, id="eager"), pytest.param(traced, id="traced")]

TOLERANCE = {f16: 2e-3, bf16: 1e-2, f32: 1e-5, f64: 1e-12}


def assert_matches(out, expected, dtype, rtol=None, atol=None, what=""):
    expected = np.asarray(expected)
    assert isinstance(out, np.ndarray), f"{what}: got {type(out).__name__}"
    assert out.dtype == np.dtype(dtype), f"{what}: dtype {out.dtype}, expected {np.dtype(dtype)}"
    assert out.shape == expected.shape, f"{what}: shape {out.shape}, expected {expected.shape}"
    tol = TOLERANCE.get(np.dtype(dtype).type, 0)
    rtol = tol if rtol is None else rtol
    atol = tol / 10 if atol is None else atol
    np.testing.assert_allclose(
        out.astype(f64), expected.astype(f64), rtol=rtol, atol=atol, err_msg=what
    )


def row(expr, numpy_fn, dtype, rtol=None, atol=None):
    return pytest.param(expr, numpy_fn, dtype, rtol, atol, id=expr)


ROW_ARGS = "expr, numpy_fn, dtype, rtol, atol"


def check_row(mode, expr, numpy_fn, dtype, rtol, atol):
    assert_matches(mode(expr), numpy_fn(NP), dtype, rtol, atol, what=expr)


# ------------------------------------------------------------------ creation

CREATION = [
    row("zeros((2, 3))", lambda e: np.zeros((2, 3)), f32),
    row("zeros(4, dtype=i32)", lambda e: np.zeros(4), i32),
    row("zeros((2,), dtype=f64)", lambda e: np.zeros(2), f64),
    row("zeros((2, 2), dtype=bool)", lambda e: np.zeros((2, 2), bool), b1),
    row("zeros(())", lambda e: np.zeros(()), f32),
    row("zeros([2, 3])", lambda e: np.zeros([2, 3]), f32),
    row("ones(3)", lambda e: np.ones(3), f32),
    row("ones((2, 2), dtype=f16)", lambda e: np.ones((2, 2)), f16),
    row("ones(3, dtype=bf16)", lambda e: np.ones(3), bf16),
    row("ones((2, 0))", lambda e: np.ones((2, 0)), f32),
    row("full((2, 3), 7)", lambda e: np.full((2, 3), 7), i32),
    row("full((2,), 2.5)", lambda e: np.full(2, 2.5), f32),
    row("full(3, 2, dtype=f64)", lambda e: np.full(3, 2.0), f64),
    row("full((3,), 2.7, dtype=i32)", lambda e: np.full(3, 2.7, dtype=np.int32), i32),
    row("full((2, 3), b)", lambda e: np.full((2, 3), e.b), f32),
    row("full((2,), True)", lambda e: np.full(2, True), b1),
    row("zeros_like(a)", lambda e: np.zeros((2, 3)), f32),
    row("zeros_like(i)", lambda e: np.zeros((2, 3)), i32),
    row("zeros_like(a, dtype=u32)", lambda e: np.zeros((2, 3)), u32),
    row("ones_like(d)", lambda e: np.ones((2, 3)), f64),
    row("ones_like(a, dtype=i32)", lambda e: np.ones((2, 3)), i32),
    row("ones_like(h)", lambda e: np.ones((2, 3)), f16),
    row("full_like(a, 3)", lambda e: np.full((2, 3), 3.0), f32),
    row("full_like(i, 2.7)", lambda e: np.full_like(e.i, 2.7), i32),
    row("full_like(c, -1.5, dtype=f64)", lambda e: np.full((2, 3, 4), -1.5), f64),
    row("arange(5)", lambda e: np.arange(5), i32),
    row("arange(2, 11, 3)", lambda e: np.arange(2, 11, 3), i32),
    row("arange(10, 0, -3)", lambda e: np.arange(10, 0, -3), i32),
    row("arange(3, 1)", lambda e: np.arange(3, 1), i32),
    row("arange(0.0, 1.0, 0.25)", lambda e: np.arange(0.0, 1.0, 0.25), f32),
    row("arange(1, 2, 0.1)", lambda e: np.arange(1, 2, 0.1), f32),
    row("arange(5, dtype=f64)", lambda e: np.arange(5.0), f64),
    row("arange(4, dtype=f16)", lambda e: np.arange(4.0), f16),
    row("linspace(0, 1, 5)", lambda e: np.linspace(0, 1, 5), f32),
    row("linspace(-1.0, 2.0, 7, endpoint=False)", lambda e: np.linspace(-1, 2, 7, False), f32),
    row("linspace(0, 10, 11, dtype=f64)", lambda e: np.linspace(0, 10, 11), f64),
    row("linspace(3, -3, 4)", lambda e: np.linspace(3, -3, 4), f32),
    row("linspace(2, 3, 1)", lambda e: np.linspace(2, 3, 1), f32),
    row("linspace(0, 1, 0)", lambda e: np.linspace(0, 1, 0), f32),
    row("linspace(0, 10, 4, dtype=i32)", lambda e: np.linspace(0, 10, 4, dtype=np.int32), i32),
    row("eye(3)", lambda e: np.eye(3), f32),
    row("eye(2, 4)", lambda e: np.eye(2, 4), f32),
    row("eye(4, k=-1)", lambda e: np.eye(4, k=-1), f32),
    row("eye(3, 2, k=1, dtype=i32)", lambda e: np.eye(3, 2, k=1), i32),
    row("eye(2, dtype=f64)", lambda e: np.eye(2), f64),
    row("array([1.5, 2.5])", lambda e: np.array([1.5, 2.5]), f32),
    row("[1, 2]", lambda e: np.array([1, 2]), i32),
    row("[1, 2.5]", lambda e: np.array([1, 2.5]), f32),
    row("[True, False]", lambda e: np.array([True, False]), b1),
    row("[[1.0, 2.0], [3.0, 4.0]]", lambda e: np.array([[1.0, 2.0], [3.0, 4.0]]), f32),
    row("asarray(1.5)", lambda e: np.asarray(1.5), f32),
    row("asarray(7)", lambda e: np.asarray(7), i32),
    row("[b, b]", lambda e: np.array([e.b, e.b]), f32),
    row("[d[0], b]", lambda e: np.array([e.d[0], e.b]), f64),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(ROW_ARGS, CREATION)
def test_creation(mode, expr, numpy_fn, dtype, rtol, atol):
    check_row(mode, expr, numpy_fn, dtype, rtol, atol)


# ------------------------------------------------------------------ elementwise math

#: name -> (NumPy function, low, high, float-only): the domain each is tested on.
UNARY = {
    "abs": (np.abs, -3, 3, False),
    "sign": (np.sign, -3, 3, False),
    "square": (np.square, -3, 3, False),
    "floor": (np.floor, -3, 3, False),
    "ceil": (np.ceil, -3, 3, False),
    "round": (np.round, -3, 3, False),
    "exp": (np.exp, -3, 3, True),
    "exp2": (np.exp2, -3, 3, True),
    "log": (np.log, 0.25, 4, True),
    "log2": (np.log2, 0.25, 4, True),
    "log10": (np.log10, 0.25, 4, True),
    "log1p": (np.log1p, -0.5, 3, True),
    "expm1": (np.expm1, -3, 3, True),
    "sqrt": (np.sqrt, 0, 4, True),
    "sin": (np.sin, -3, 3, True),
    "cos": (np.cos, -3, 3, True),
    "tan": (np.tan, -1.2, 1.2, True),
    "arcsin": (np.arcsin, -0.95, 0.95, True),
    "arccos": (np.arccos, -0.95, 0.95, True),
    "arctan": (np.arctan, -3, 3, True),
    "sinh": (np.sinh, -3, 3, True),
    "cosh": (np.cosh, -3, 3, True),
    "tanh": (np.tanh, -3, 3, True),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [f32, f64, f16, bf16], ids=["f32", "f64", "f16", "bf16"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_float(mode, name, dtype):
    numpy_fn, lo, hi, _ = UNARY[name]
    x = np.linspace(lo, hi, 12).reshape(3, 4).astype(dtype)
    out = mode(f"{name}(x)", {"x": x})
    expected = numpy_fn(x.astype(f64))
    # Rounding is exact, but low-precision inputs sit on .5 ties NumPy's float64 agrees with.
    assert_matches(out, expected, dtype, what=f"{name}({np.dtype(dtype)})")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [i32, u32, i64], ids=["i32", "u32", "i64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_int(mode, name, dtype):
    """Ints stay ints where NumPy keeps them; float functions of ints give f32, as in JAX."""
    numpy_fn, lo, hi, float_only = UNARY[name]
    lo = max(lo, 0) if dtype == u32 else lo
    x = np.clip(np.arange(-3, 9).reshape(3, 4), np.ceil(lo), np.floor(hi)).astype(dtype)
    out = mode(f"{name}(x)", {"x": x})
    expected = numpy_fn(x.astype(f64))
    assert_matches(out, expected, f32 if float_only else dtype, what=f"{name}({np.dtype(dtype)})")


@pytest.mark.parametrize("mode", MODES)
def test_round_half_to_even_and_decimals(mode):
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 1.25, -2.75], f32)
    assert_matches(mode("round(x)", {"x": x}), np.round(x), f32)
    assert_matches(mode("round(x, 1)", {"x": x}), np.round(x.astype(f64), 1), f32)
    assert_matches(mode("round(x * 100.0, -1)", {"x": x}), np.round(x * 100.0, -1), f32)
    assert_matches(mode("x.round()", {"x": x}), np.round(x), f32)
    assert_matches(mode("round(astype(x, f64), 1)", {"x": x}), np.round(x.astype(f64), 1), f64)
    i = np.array([14, -26, 35, 25, -15, 2_000_000_005], i32)
    for decimals in (-2, -1, 0, 1, 2):
        expr = f"round(i, {decimals})"
        assert_matches(mode(expr, {"i": i}), np.round(i, decimals), i32, what=expr)
    k = np.array([14, 25, 4_000_000_049], u32)
    assert_matches(mode("round(k, -1)", {"k": k}), np.round(k, -1), u32)


ELEMENTWISE = [
    row("maximum(a, b)", lambda e: np.maximum(e.a, e.b), f32),
    row("minimum(a, 0.5)", lambda e: np.minimum(e.a, 0.5), f32),
    row("maximum(i, 2)", lambda e: np.maximum(e.i, 2), i32),
    row("maximum(i, 2.5)", lambda e: np.maximum(e.i, 2.5), f32),
    row("minimum(d, a)", lambda e: np.minimum(e.d, e.a), f64),
    row("maximum(z, 0.0)", lambda e: np.maximum(e.z, 0.0), f32),
    row("arctan2(a, b)", lambda e: np.arctan2(e.a, e.b), f32),
    row("arctan2(i, n)", lambda e: np.arctan2(e.i, e.n), f32),
    row("arctan2(d, 1.0)", lambda e: np.arctan2(e.d, 1.0), f64),
    row("power(p, b)", lambda e: np.power(e.p, e.b), f32),
    row("power(p, 3)", lambda e: np.power(e.p, 3), f32),
    row("power(p, 0.5)", lambda e: np.power(e.p, 0.5), f32),
    row("power(a, 0)", lambda e: np.power(e.a, 0), f32),
    row("power(i, 2)", lambda e: np.power(e.i, 2), i32),
    row("power(n, n)", lambda e: np.power(e.n, e.n), i32),
    row("power(2.0, a)", lambda e: np.power(2.0, e.a), f32),
    row("power(abs(d), 1.5)", lambda e: np.power(np.abs(e.d), 1.5), f64),
    row("p ** -1.5", lambda e: e.p**-1.5, f32),
    row("logaddexp(a, b)", lambda e: np.logaddexp(e.a, e.b), f32),
    row("logaddexp(a, a)", lambda e: np.logaddexp(e.a, e.a), f32),
    row("logaddexp(i, 0)", lambda e: np.logaddexp(e.i, 0), f32),
    row("logaddexp(z[2:4], z[2:4])", lambda e: np.logaddexp(e.z[2:4], e.z[2:4]), f32),
    row("logaddexp(d, -1.0)", lambda e: np.logaddexp(e.d, -1.0), f64),
    row("clip(a, -0.5, 0.5)", lambda e: np.clip(e.a, -0.5, 0.5), f32),
    row("clip(a, None, 0.3)", lambda e: np.clip(e.a, None, 0.3), f32),
    row("clip(a, -0.2)", lambda e: np.clip(e.a, -0.2, None), f32),
    row("clip(a, b, 1.0)", lambda e: np.clip(e.a, e.b, 1.0), f32),
    row("clip(i, 0, 3)", lambda e: np.clip(e.i, 0, 3), i32),
    row("clip(d, 0, 1)", lambda e: np.clip(e.d, 0, 1), f64),
    row("clip(a, min=-0.5)", lambda e: np.clip(e.a, min=-0.5), f32),
    row("clip(a, max=0.5)", lambda e: np.clip(e.a, max=0.5), f32),
    row("clip(a, min=b, max=1.0)", lambda e: np.clip(e.a, min=e.b, max=1.0), f32),
    row("a.clip(-0.5, 0.5)", lambda e: e.a.clip(-0.5, 0.5), f32),
    row("where(m, a, b)", lambda e: np.where(e.m, e.a, e.b), f32),
    row("where(m, a, 0)", lambda e: np.where(e.m, e.a, 0), f32),
    row("where(m, i, 0.5)", lambda e: np.where(e.m, e.i, 0.5), f32),
    row("where(m, 1, 2)", lambda e: np.where(e.m, 1, 2), i32),
    row("where(a > 0, a, d)", lambda e: np.where(e.a > 0, e.a, e.d), f64),
    row("where(i, a, -a)", lambda e: np.where(e.i, e.a, -e.a), f32),
    row("where(b > 0, h, 0.0)", lambda e: np.where(e.b > 0, e.h, 0.0), f16, 2e-3, 1e-4),
    row("isnan(z)", lambda e: np.isnan(e.z), b1),
    row("isfinite(z)", lambda e: np.isfinite(e.z), b1),
    row("isnan(i)", lambda e: np.isnan(e.i), b1),
    row("isfinite(i)", lambda e: np.isfinite(e.i), b1),
    row("isnan(d / 0.0)", lambda e: np.isnan(e.d / 0.0), b1),
    row("abs(z)", lambda e: np.abs(e.z), f32),
    row("abs(m)", lambda e: np.abs(e.m), b1),
    row("abs(k)", lambda e: np.abs(e.k), u32),
    row("sign(z[2:])", lambda e: np.sign(e.z[2:]), f32),
    row("sqrt(-p)", lambda e: np.sqrt(-e.p), f32),
    row("log(0.0 * p)", lambda e: np.log(0.0 * e.p), f32),
    row("exp(1)", lambda e: np.exp(1.0), f32),
    row("sqrt(2.0)", lambda e: np.sqrt(2.0), f32),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(ROW_ARGS, ELEMENTWISE)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_elementwise(mode, expr, numpy_fn, dtype, rtol, atol):
    check_row(mode, expr, numpy_fn, dtype, rtol, atol)


# ------------------------------------------------------------------ type promotion

#: JAX's promotion table (x64 enabled) for the jx dtypes, from jax.numpy.promote_types.
_DTYPES = {
    "bool": b1,
    "i32": i32,
    "i64": i64,
    "u32": u32,
    "f16": f16,
    "bf16": bf16,
    "f32": f32,
    "f64": f64,
}
_LATTICE_ORDER = ["bool", "u32", "i32", "i64", "f16", "bf16", "f32", "f64"]


def _jax_promote(x: str, y: str) -> str:
    if x == y:
        return x
    if "bool" in (x, y):
        return y if x == "bool" else x
    pair = {x, y}
    if pair == {"f16", "bf16"}:
        return "f32"
    if pair == {"i32", "u32"}:
        return "i64"
    return max(x, y, key=_LATTICE_ORDER.index)


def _sample(dtype, shape=(2, 3)):
    values = np.array([[1, 0, 3], [2, 1, 4]]).reshape(shape)
    return values.astype(dtype)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("left", list(_DTYPES))
def test_promotion_table(mode, left):
    """`x + y` for every pair of jx dtypes gives JAX's result type, with the right values."""
    for right, right_dtype in _DTYPES.items():
        x, y = _sample(_DTYPES[left]), _sample(right_dtype)
        want = _DTYPES[_jax_promote(left, right)]
        expected = (x.astype(f64) + y.astype(f64)).astype(want)
        if want == b1:
            expected = x | y  # bool + bool is a logical or, as in NumPy and JAX
        assert_matches(mode("x + y", {"x": x, "y": y}), expected, want, what=f"{left}+{right}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(_DTYPES))
def test_weak_literals_take_the_array_dtype(mode, name):
    """`x * 2` and `x * 2.0` keep x's dtype unless the literal's kind is higher."""
    x = _sample(_DTYPES[name])
    int_result = i32 if name == "bool" else _DTYPES[name]
    float_result = _DTYPES[name] if name in ("f16", "bf16", "f32", "f64") else f32
    assert_matches(mode("x * 2", {"x": x}), x.astype(f64) * 2, int_result, what=f"{name} * 2")
    assert_matches(mode("x * 2.0", {"x": x}), x.astype(f64) * 2, float_result, what=name)
    assert_matches(mode("2.5 + x", {"x": x}), x.astype(f64) + 2.5, float_result, rtol=1e-2)
    assert_matches(mode("x / 2", {"x": x}), x.astype(f64) / 2, float_result, what=f"{name} / 2")


PROMOTION = [
    row("a * 2.0", lambda e: e.a * 2.0, f32),
    row("h * 2.0", lambda e: e.h * 2.0, f16),
    row("d * 2.0", lambda e: e.d * 2.0, f64),
    row("i * 2.0", lambda e: e.i * 2.0, f32),
    row("i + k", lambda e: e.i + e.k.astype(i64), i64),
    row("h + bh", lambda e: e.h + e.bh, f32),
    row("m + m", lambda e: e.m | e.m, b1),
    row("m * m", lambda e: e.m & e.m, b1),
    row("m + 1", lambda e: e.m + 1, i32),
    row("m * 1.5", lambda e: e.m * 1.5, f32),
    row("sum(m)", lambda e: np.sum(e.m), i32),
    row("sum(m, axis=0)", lambda e: np.sum(e.m, axis=0), i32),
    row("d + a", lambda e: e.d + e.a, f64),
    row("d + 1", lambda e: e.d + 1, f64),
    row("d / 3", lambda e: e.d / 3, f64),
    row("i / n", lambda e: e.i / e.n, f32),
    row("i // n", lambda e: e.i // e.n, i32),
    row("l + i", lambda e: e.l + e.i, i64),
    row("k * 2", lambda e: e.k * 2, u32),
    row("h + i", lambda e: e.h + e.i, f16, 2e-3, 1e-3),
    row("exp(d)", lambda e: np.exp(e.d), f64),
    row("mean(d, axis=0)", lambda e: np.mean(e.d, axis=0), f64),
    row("d @ d.T", lambda e: e.d @ e.d.T, f64),
    row("-i", lambda e: -e.i, i32),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(ROW_ARGS, PROMOTION)
def test_promotion(mode, expr, numpy_fn, dtype, rtol, atol):
    check_row(mode, expr, numpy_fn, dtype, rtol, atol)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [f16, bf16], ids=["f16", "bf16"])
def test_low_precision_reductions_accumulate_in_f32(mode, dtype):
    """As JAX: sums, products, means and variances of f16/bf16 accumulate in f32 and round
    once at the end; long reductions stay accurate (and a mean's divisor never overflows)."""
    x = (np.arange(3000) % 7 * 0.1 + 0.5).astype(dtype)
    wide = x.astype(f64)
    cases = [
        ("sum(x)", wide.sum()),
        ("mean(x)", wide.mean()),
        ("var(x)", wide.var()),
        ("std(x)", wide.std()),
        ("mean(x.reshape(30, 100), axis=1)", wide.reshape(30, 100).mean(axis=1)),
        (
            "var(x.reshape(30, 100), axis=0, keepdims=True)",
            wide.reshape(30, 100).var(axis=0, keepdims=True),
        ),
        ("prod(x[:20] * 0.0 + 1.0)", 1.0),
        ("mean(ones(70000, dtype=f16))", 1.0),
    ]
    for expr, expected in cases:
        out = mode(expr, {"x": x})
        want = f16 if "f16" in expr else dtype
        rtol = 8e-3 if want == bf16 else 1e-3
        assert_matches(out, np.asarray(expected), want, rtol=rtol, atol=0, what=expr)


def test_f64_is_never_truncated():
    """Values only float64 can hold survive the elementwise, reduction and matmul paths."""
    x = np.array([1.0 + 1e-12, 2.0, 1e-300], f64)
    m = jx.compile("def f(x):\n    return (x * 1.0, sum(x), x @ x, exp(log(x)), astype(x, f64))\n")
    for out in m.f(x):
        assert out.dtype == f64
    np.testing.assert_array_equal(m.f(x)[0], x)
    np.testing.assert_allclose(m.f(x)[1], x.sum(), rtol=1e-15)


# ------------------------------------------------------------------ reductions

REDUCERS = {
    "sum": (np.sum, "c", f32),
    "mean": (np.mean, "c", f32),
    "prod": (np.prod, "c", f32),
    "max": (np.max, "c", f32),
    "min": (np.min, "c", f32),
    "var": (np.var, "c", f32),
    "std": (np.std, "c", f32),
    "any": (np.any, "c > 0.5", b1),
    "all": (np.all, "c > -1.5", b1),
}
AXES = [None, 0, 1, -1, 2, (0, 2), (-1, 0), (0, 1, 2), ()]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=repr)
@pytest.mark.parametrize("name", list(REDUCERS))
def test_reductions(mode, name, axis, keepdims):
    numpy_fn, arg, dtype = REDUCERS[name]
    expr = f"{name}({arg}, axis={axis!r}, keepdims={keepdims})"
    expected = numpy_fn(eval(arg, {}, vars(NP)), axis=axis, keepdims=keepdims)
    assert_matches(mode(expr), expected, dtype, rtol=1e-5, atol=1e-5, what=expr)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, 2, -3], ids=repr)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_reductions(mode, name, axis, keepdims):
    expr = f"{name}(c, axis={axis!r}, keepdims={keepdims})"
    expected = getattr(np, name)(NP.c, axis=axis, keepdims=keepdims)
    assert_matches(mode(expr), expected, i32, what=expr)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("axis", [None, 0, 1, -1, 2], ids=repr)
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumulative(mode, name, axis):
    expr = f"{name}(c, axis={axis!r})"
    expected = getattr(np, name)(NP.c, axis=axis)
    assert_matches(mode(expr), expected, f32, rtol=1e-5, atol=1e-5, what=expr)


REDUCTION_DTYPES = [
    row("sum(i)", lambda e: np.sum(e.i), i32),
    row("sum(i, axis=1)", lambda e: np.sum(e.i, axis=1), i32),
    row("sum(k)", lambda e: np.sum(e.k), u32),
    row("sum(l, axis=0)", lambda e: np.sum(e.l, axis=0), i64),
    row("sum(m)", lambda e: np.sum(e.m), i32),
    row("sum(a, dtype=f64)", lambda e: np.sum(e.a), f64),
    row("sum(h)", lambda e: np.sum(e.h), f16, 5e-3, 5e-3),
    row("sum(d, axis=1)", lambda e: np.sum(e.d, axis=1), f64),
    row("prod(i, axis=0)", lambda e: np.prod(e.i, axis=0), i32),
    row("prod(m)", lambda e: np.prod(e.m), i32),
    row("max(i)", lambda e: np.max(e.i), i32),
    row("min(k, axis=1)", lambda e: np.min(e.k, axis=1), u32),
    row("max(m)", lambda e: np.max(e.m), b1),
    row("mean(i)", lambda e: np.mean(e.i), f32),
    row("mean(m, axis=0)", lambda e: np.mean(e.m, axis=0), f32),
    row("mean(h)", lambda e: np.mean(e.h), f16, 5e-3, 5e-3),
    row("mean(bh)", lambda e: np.mean(e.bh), bf16, 2e-2, 2e-2),
    row("mean(d)", lambda e: np.mean(e.d), f64),
    row("var(i)", lambda e: np.var(e.i), f32),
    row("var(d, axis=0)", lambda e: np.var(e.d, axis=0), f64),
    row("var(a, ddof=1)", lambda e: np.var(e.a, ddof=1), f32),
    row("std(d)", lambda e: np.std(e.d), f64),
    row("std(a, axis=1, ddof=1)", lambda e: np.std(e.a, axis=1, ddof=1), f32),
    row("std(i, keepdims=True)", lambda e: np.std(e.i, keepdims=True), f32),
    row("any(i)", lambda e: np.any(e.i), b1),
    row("all(i, axis=0)", lambda e: np.all(e.i, axis=0), b1),
    row("any(m, axis=(0, 1), keepdims=True)", lambda e: np.any(e.m, keepdims=True), b1),
    row("argmax(i, axis=1)", lambda e: np.argmax(e.i, axis=1), i32),
    row("argmin(d)", lambda e: np.argmin(e.d), i32),
    row("cumsum(i, axis=1)", lambda e: np.cumsum(e.i, axis=1), i32),
    row("cumsum(m)", lambda e: np.cumsum(e.m), i32),
    row("cumsum(k, axis=0)", lambda e: np.cumsum(e.k, axis=0), u32),
    row("cumprod(n, axis=-1)", lambda e: np.cumprod(e.n, axis=-1), i32),
    row("cumsum(d)", lambda e: np.cumsum(e.d), f64),
    row("cumsum(a, dtype=f64)", lambda e: np.cumsum(e.a), f64),
    row("sum(c, axis=(0, 2))", lambda e: np.sum(e.c, axis=(0, 2)), f32),
    row("sum(c, axis=[0, 2])", lambda e: np.sum(e.c, axis=(0, 2)), f32),
    row("sum(zeros((0, 3)), axis=0)", lambda e: np.zeros(3), f32),
    row("prod(zeros((2, 0)), axis=1)", lambda e: np.ones(2), f32),
    row("sum(3.0)", lambda e: np.asarray(3.0), f32),
    row("mean(2)", lambda e: np.asarray(2.0), f32),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(ROW_ARGS, REDUCTION_DTYPES)
def test_reduction_dtypes(mode, expr, numpy_fn, dtype, rtol, atol):
    check_row(mode, expr, numpy_fn, dtype, rtol, atol)


# ------------------------------------------------------------------ shapes

SHAPES = [
    row("reshape(a, (3, 2))", lambda e: np.reshape(e.a, (3, 2)), f32),
    row("reshape(a, 6)", lambda e: np.reshape(e.a, 6), f32),
    row("reshape(c, (-1,))", lambda e: np.reshape(e.c, -1), f32),
    row("reshape(c, (4, -1))", lambda e: np.reshape(e.c, (4, -1)), f32),
    row("reshape(c, (2, -1, 2))", lambda e: np.reshape(e.c, (2, -1, 2)), f32),
    row("reshape(b[0], (1, 1))", lambda e: np.reshape(e.b[0], (1, 1)), f32),
    row("reshape(i, (3, 2))", lambda e: np.reshape(e.i, (3, 2)), i32),
    row("reshape(c, [4, -1])", lambda e: np.reshape(e.c, [4, -1]), f32),
    row("transpose(a)", lambda e: np.transpose(e.a), f32),
    row("transpose(c)", lambda e: np.transpose(e.c), f32),
    row("transpose(c, (1, 2, 0))", lambda e: np.transpose(e.c, (1, 2, 0)), f32),
    row("transpose(c, (-1, 0, 1))", lambda e: np.transpose(e.c, (-1, 0, 1)), f32),
    row("transpose(b)", lambda e: e.b, f32),
    row("swapaxes(c, 0, 2)", lambda e: np.swapaxes(e.c, 0, 2), f32),
    row("swapaxes(c, -1, 1)", lambda e: np.swapaxes(e.c, -1, 1), f32),
    row("swapaxes(a, 1, 1)", lambda e: e.a, f32),
    row("expand_dims(a, 0)", lambda e: np.expand_dims(e.a, 0), f32),
    row("expand_dims(a, -1)", lambda e: np.expand_dims(e.a, -1), f32),
    row("expand_dims(a, 1)", lambda e: np.expand_dims(e.a, 1), f32),
    row("expand_dims(a, (0, 3))", lambda e: np.expand_dims(e.a, (0, 3)), f32),
    row("expand_dims(a, (-1, 0))", lambda e: np.expand_dims(e.a, (-1, 0)), f32),
    row("squeeze(s)", lambda e: np.squeeze(e.s), f32),
    row("squeeze(s, axis=0)", lambda e: np.squeeze(e.s, axis=0), f32),
    row("squeeze(s, axis=-1)", lambda e: np.squeeze(e.s, axis=-1), f32),
    row("squeeze(s, axis=(0, 2))", lambda e: np.squeeze(e.s, axis=(0, 2)), f32),
    row("squeeze(a)", lambda e: e.a, f32),
    row("concatenate((a, a))", lambda e: np.concatenate((e.a, e.a)), f32),
    row("concatenate((a, a, a), axis=1)", lambda e: np.concatenate((e.a,) * 3, axis=1), f32),
    row("concatenate((c, c), axis=-1)", lambda e: np.concatenate((e.c, e.c), -1), f32),
    row("concatenate((a, i))", lambda e: np.concatenate((e.a, e.i)), f32),
    row("concatenate((i, l))", lambda e: np.concatenate((e.i, e.l)), i64),
    row("concatenate((a, d), axis=1)", lambda e: np.concatenate((e.a, e.d), 1), f64),
    row("concatenate([b, b])", lambda e: np.concatenate([e.b, e.b]), f32),
    row("concatenate((a,))", lambda e: e.a, f32),
    row("stack((a, a))", lambda e: np.stack((e.a, e.a)), f32),
    row("stack((a, a, a), axis=1)", lambda e: np.stack((e.a,) * 3, axis=1), f32),
    row("stack((a, a), axis=-1)", lambda e: np.stack((e.a, e.a), axis=-1), f32),
    row("stack((b[0], b[1]))", lambda e: np.stack((e.b[0], e.b[1])), f32),
    row("stack((a, i))", lambda e: np.stack((e.a, e.i)), f32),
    row("broadcast_to(b, (4, 2, 3))", lambda e: np.broadcast_to(e.b, (4, 2, 3)), f32),
    row("broadcast_to(a, (2, 3))", lambda e: e.a, f32),
    row("broadcast_to(s, (2, 3, 5))", lambda e: np.broadcast_to(e.s, (2, 3, 5)), f32),
    row("broadcast_to(2.0, (3,))", lambda e: np.broadcast_to(2.0, (3,)), f32),
    row("broadcast_to(i[0], 3)", lambda e: e.i[0], i32),
    row("broadcast_to(b, [2, 3])", lambda e: np.broadcast_to(e.b, [2, 3]), f32),
    row("flip(c)", lambda e: np.flip(e.c), f32),
    row("flip(c, 1)", lambda e: np.flip(e.c, 1), f32),
    row("flip(c, -1)", lambda e: np.flip(e.c, -1), f32),
    row("flip(c, (0, 2))", lambda e: np.flip(e.c, (0, 2)), f32),
    row("tile(b, 2)", lambda e: np.tile(e.b, 2), f32),
    row("tile(a, (2, 2))", lambda e: np.tile(e.a, (2, 2)), f32),
    row("tile(a, (2, 1, 3))", lambda e: np.tile(e.a, (2, 1, 3)), f32),
    row("tile(c, 2)", lambda e: np.tile(e.c, 2), f32),
    row("tile(a, 1)", lambda e: np.tile(e.a, 1), f32),
    row("tile(a, [1, 2])", lambda e: np.tile(e.a, [1, 2]), f32),
    row("tile(i, (0, 2))", lambda e: np.tile(e.i, (0, 2)), i32),
    row("repeat(a, 2)", lambda e: np.repeat(e.a, 2), f32),
    row("repeat(a, 3, axis=0)", lambda e: np.repeat(e.a, 3, axis=0), f32),
    row("repeat(a, 2, axis=-1)", lambda e: np.repeat(e.a, 2, axis=-1), f32),
    row("repeat(c, 2, axis=1)", lambda e: np.repeat(e.c, 2, axis=1), f32),
    row("repeat(a, 0, axis=1)", lambda e: np.repeat(e.a, 0, axis=1), f32),
    row("ravel(c)", lambda e: np.ravel(e.c), f32),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(ROW_ARGS, SHAPES)
def test_shapes(mode, expr, numpy_fn, dtype, rtol, atol):
    check_row(mode, expr, numpy_fn, dtype, rtol, atol)


# ------------------------------------------------------------------ linear algebra

LINALG = [
    row("dot(b, b)", lambda e: np.dot(e.b, e.b), f32),
    row("dot(a, b)", lambda e: np.dot(e.a, e.b), f32),
    row("dot(b, mat)", lambda e: np.dot(e.b, e.mat), f32),
    row("dot(a, mat)", lambda e: np.dot(e.a, e.mat), f32),
    row("dot(2.0, a)", lambda e: np.dot(2.0, e.a), f32),
    row("dot(a, 3)", lambda e: np.dot(e.a, 3), f32),
    row("dot(c, w)", lambda e: np.dot(e.c, e.w), f32),
    row("dot(i, n.T)", lambda e: np.dot(e.i, e.n.T), i32),
    row("dot(m, m.T)", lambda e: np.dot(e.m.astype(int), e.m.T.astype(int)), i32),
    row("dot(d, b)", lambda e: np.dot(e.d, e.b), f64),
    row("matmul(a, mat)", lambda e: np.matmul(e.a, e.mat), f32),
    row("a @ mat", lambda e: e.a @ e.mat, f32),
    row("matmul(a, b)", lambda e: np.matmul(e.a, e.b), f32),
    row("matmul(b, mat)", lambda e: np.matmul(e.b, e.mat), f32),
    row("b @ b", lambda e: e.b @ e.b, f32),
    row("matmul(bm, bm2)", lambda e: np.matmul(e.bm, e.bm2), f32),
    row("matmul(bm, mat)", lambda e: np.matmul(e.bm, e.mat), f32),
    row("matmul(a, bm2)", lambda e: np.matmul(e.a, e.bm2), f32),
    row("matmul(bb, bm2)", lambda e: np.matmul(e.bb, e.bm2), f32),
    row("matmul(bm, b)", lambda e: np.matmul(e.bm, e.b), f32),
    row("matmul(b, bm2)", lambda e: np.matmul(e.b, e.bm2), f32),
    row("matmul(i, n.T)", lambda e: np.matmul(e.i, e.n.T), i32),
    row("matmul(h, mat)", lambda e: np.matmul(e.h, e.mat), f32),
    row("matmul(d, mat)", lambda e: np.matmul(e.d, e.mat), f64),
    row("outer(b, v)", lambda e: np.outer(e.b, e.v), f32),
    row("outer(a, b)", lambda e: np.outer(e.a, e.b), f32),
    row("outer(i[0], n[1])", lambda e: np.outer(e.i[0], e.n[1]), i32),
    row("einsum('ij,jk->ik', a, mat)", lambda e: np.einsum("ij,jk->ik", e.a, e.mat), f32),
    row("einsum('ij,jk', a, mat)", lambda e: np.einsum("ij,jk", e.a, e.mat), f32),
    row("einsum('bij,bjk->bik', bm, bm2)", lambda e: np.einsum("bij,bjk->bik", e.bm, e.bm2), f32),
    row("einsum('ij->ji', a)", lambda e: np.einsum("ij->ji", e.a), f32),
    row("einsum('ij->', a)", lambda e: np.einsum("ij->", e.a), f32),
    row("einsum('ijk->j', c)", lambda e: np.einsum("ijk->j", e.c), f32),
    row("einsum('i,i->', b, b)", lambda e: np.einsum("i,i->", e.b, e.b), f32),
    row("einsum('i,j->ij', b, v)", lambda e: np.einsum("i,j->ij", e.b, e.v), f32),
    row("einsum('ij,ij->i', a, a)", lambda e: np.einsum("ij,ij->i", e.a, e.a), f32),
    row("einsum('ijk->kji', c)", lambda e: np.einsum("ijk->kji", e.c), f32),
    row(
        "einsum('ij,jk,kl->il', a, mat, mat2)",
        lambda e: np.einsum("ij,jk,kl->il", e.a, e.mat, e.mat2),
        f32,
    ),
    row(
        "einsum('bij,jk,bk->bi', bm, mat, bm2[:, 0])",
        lambda e: np.einsum("bij,jk,bk->bi", e.bm, e.mat, e.bm2[:, 0]),
        f32,
    ),
    row("einsum('ij, jk -> ki', a, mat)", lambda e: np.einsum("ij,jk->ki", e.a, e.mat), f32),
    row("einsum('ij,jk->ik', i, n.T)", lambda e: np.einsum("ij,jk->ik", e.i, e.n.T), i32),
    row("tensordot(a, mat, 1)", lambda e: np.tensordot(e.a, e.mat, 1), f32),
    row("tensordot(c, c, 3)", lambda e: np.tensordot(e.c, e.c, 3), f32),
    row("tensordot(c, c[0], 2)", lambda e: np.tensordot(e.c, e.c[0], 2), f32),
    row("tensordot(b, v, 0)", lambda e: np.tensordot(e.b, e.v, 0), f32),
    row(
        "tensordot(c, c, axes=((0, 1), (0, 1)))",
        lambda e: np.tensordot(e.c, e.c, axes=((0, 1), (0, 1))),
        f32,
    ),
    row("tensordot(a, a, ([1], [1]))", lambda e: np.tensordot(e.a, e.a, ([1], [1])), f32),
    row(
        "tensordot(c, c, ([0, 1], [0, 1]))", lambda e: np.tensordot(e.c, e.c, ([0, 1], [0, 1])), f32
    ),
    row("tensordot(c, bm, (1, 2))", lambda e: np.tensordot(e.c, e.bm, (1, 2)), f32),
    row(
        "tensordot(c, mat, axes=((-2, -1), (0, 1)))",
        lambda e: np.tensordot(e.c, e.mat, axes=((-2, -1), (0, 1))),
        f32,
    ),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(ROW_ARGS, LINALG)
def test_linear_algebra(mode, expr, numpy_fn, dtype, rtol, atol):
    check_row(mode, expr, numpy_fn, dtype, 1e-5 if rtol is None else rtol, 1e-5)


# ------------------------------------------------------------------ astype, allclose, len

MISC = [
    row("astype(a * 3.0, i32)", lambda e: (e.a * 3.0).astype(np.float32).astype(i32), i32),
    row("astype(a, f64)", lambda e: e.a, f64),
    row("astype(a, bool)", lambda e: e.a.astype(bool), b1),
    row("astype(i, f16)", lambda e: e.i, f16),
    row("astype(a, bf16)", lambda e: e.a.astype(bf16), bf16),
    row("astype(m, f32)", lambda e: e.m.astype(f32), f32),
    row("astype(i, 'u32')", lambda e: e.i.astype(u32), u32),
    row("astype(d, f32)", lambda e: e.d.astype(f32), f32),
    # float -> int saturates and sends NaN to 0, as XLA converts
    row("astype(z, i32)", lambda e: np.array([0, 0, 2**31 - 1, -(2**31), 1, -2]), i32),
    row("astype(z, u32)", lambda e: np.array([0, 0, 2**32 - 1, 0, 1, 0]), u32),
    row("astype(z, i64)", lambda e: np.array([0, 0, 2**63 - 1, -(2**63), 1, -2]), i64),
    row("astype(a * 0.0 + 3e9, i32)", lambda e: np.full((2, 3), 2**31 - 1), i32),
    row("astype(a * 0.0 - 3e9, i32)", lambda e: np.full((2, 3), -(2**31)), i32),
    row(
        "astype(astype(z, bf16), i32)", lambda e: np.array([0, 0, 2**31 - 1, -(2**31), 1, -2]), i32
    ),
    row("astype(2147483520.0, i32)", lambda e: np.asarray(2147483520), i32),
    row("astype(a, 'float64')", lambda e: e.a, f64),
    row("allclose(a, a)", lambda e: np.asarray(True), b1),
    row("allclose(a, a + 1e-3)", lambda e: np.asarray(False), b1),
    row("allclose(a, a + 1e-3, atol=1e-2)", lambda e: np.asarray(True), b1),
    row("allclose(a, a * 1.001, rtol=1e-2)", lambda e: np.asarray(True), b1),
    row("allclose(z, z)", lambda e: np.asarray(False), b1),
    row("allclose(z, z, equal_nan=True)", lambda e: np.asarray(True), b1),
    row("allclose(a, b)", lambda e: np.asarray(np.allclose(e.a, e.b)), b1),
    row("allclose(i, i)", lambda e: np.asarray(True), b1),
    row("allclose(d, d + 1e-12)", lambda e: np.asarray(True), b1),
    row("stop_gradient(a)", lambda e: e.a, f32),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(ROW_ARGS, MISC)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_misc(mode, expr, numpy_fn, dtype, rtol, atol):
    check_row(mode, expr, numpy_fn, dtype, rtol, atol)


@pytest.mark.parametrize("mode", MODES)
def test_len(mode):
    assert mode("len(a)") == 2
    assert mode("len(c[0])") == 3
    assert mode("len((a, b, c))") == 3
    assert mode("len(())") == 0
    assert mode("len({'x': a, 'y': b})") == 2


@pytest.mark.parametrize("mode", MODES)
def test_tree_map(mode):
    out = mode("tree_map(lambda t: t * 2.0, (a, {'w': b, 'v': (c,)}))")
    assert isinstance(out, tuple) and isinstance(out[1], dict)
    assert_matches(out[0], NP.a * 2, f32)
    assert_matches(out[1]["w"], NP.b * 2, f32)
    assert_matches(out[1]["v"][0], NP.c * 2, f32)
    out = mode("tree_map(lambda x, y: x + y, {'p': a, 'q': (i, d)}, {'p': b, 'q': (n, a)})")
    assert_matches(out["p"], NP.a + NP.b, f32)
    assert_matches(out["q"][0], NP.i + NP.n, i32)
    assert_matches(out["q"][1], NP.d + NP.a, f64)
    out = mode("tree_map(sum, (a, c))")
    assert_matches(out[1], np.sum(NP.c), f32)


# ------------------------------------------------------------------ attributes and methods

METHODS = [
    row("a.sum()", lambda e: e.a.sum(), f32),
    row("a.sum(axis=0)", lambda e: e.a.sum(axis=0), f32),
    row("c.sum(axis=(0, -1), keepdims=True)", lambda e: e.c.sum((0, -1), keepdims=True), f32),
    row("i.sum(axis=1)", lambda e: e.i.sum(axis=1), i32),
    row("a.mean()", lambda e: e.a.mean(), f32),
    row("c.mean(axis=(0, 1))", lambda e: e.c.mean(axis=(0, 1)), f32),
    row("c.max(axis=-1, keepdims=True)", lambda e: e.c.max(axis=-1, keepdims=True), f32),
    row("a.max()", lambda e: e.a.max(), f32),
    row("c.min()", lambda e: e.c.min(), f32),
    row("a.min(axis=1)", lambda e: e.a.min(axis=1), f32),
    row("a.reshape(3, 2)", lambda e: e.a.reshape(3, 2), f32),
    row("a.reshape((3, 2))", lambda e: e.a.reshape((3, 2)), f32),
    row("c.reshape(4, -1)", lambda e: e.c.reshape(4, -1), f32),
    row("c.reshape(-1)", lambda e: e.c.reshape(-1), f32),
    row("c.reshape((2, 12))", lambda e: e.c.reshape((2, 12)), f32),
    row("a.astype(i32)", lambda e: e.a.astype(f32).astype(i32), i32),
    row("a.astype(f64)", lambda e: e.a, f64),
    row("i.astype(f32)", lambda e: e.i, f32),
    row("a.transpose()", lambda e: e.a.transpose(), f32),
    row("c.transpose(2, 0, 1)", lambda e: e.c.transpose(2, 0, 1), f32),
    row("c.transpose((2, 0, 1))", lambda e: e.c.transpose((2, 0, 1)), f32),
    row("a.T", lambda e: e.a.T, f32),
    row("c.T", lambda e: e.c.T, f32),
    row("b.T", lambda e: e.b, f32),
    row("c.prod(axis=1)", lambda e: e.c.prod(axis=1), f32),
    row("c.argmax(axis=2)", lambda e: e.c.argmax(axis=2), i32),
    row("c.std(axis=0)", lambda e: e.c.std(axis=0), f32),
    row("a.cumsum(axis=1)", lambda e: e.a.cumsum(axis=1), f32),
    row("a.T.sum(axis=0).reshape(1, 2)", lambda e: e.a.T.sum(axis=0).reshape(1, 2), f32),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(ROW_ARGS, METHODS)
def test_methods(mode, expr, numpy_fn, dtype, rtol, atol):
    check_row(mode, expr, numpy_fn, dtype, rtol, atol)


@pytest.mark.parametrize("mode", MODES)
def test_attributes(mode):
    assert mode("c.shape") == (2, 3, 4)
    assert mode("b.shape") == (3,)
    assert mode("a[0, 0].shape") == ()
    assert mode("c.ndim") == 3
    assert mode("a[0, 0].ndim") == 0
    assert mode("c.size") == 24
    assert mode("c.dtype") == np.dtype(f32)
    assert mode("d.dtype") == np.dtype(f64)
    assert mode("m.dtype") == np.dtype(b1)
    assert mode("bh.dtype") == np.dtype(bf16)
    assert mode("(a * 2).shape") == (2, 3)
    assert_matches(mode("zeros(c.shape[1:])"), np.zeros((3, 4)), f32)
    assert_matches(mode("zeros(a.shape, dtype=i.dtype)"), np.zeros((2, 3)), i32)


# ------------------------------------------------------------------ errors


ERRORS = [
    ("sum(a, axis=2)", jx.ValueError, "out of bounds"),
    ("mean(a, axis=-3)", jx.ValueError, "out of bounds"),
    ("sum(a, axis=(0, 0))", jx.ValueError, "repeated"),
    ("argmax(c, axis=3)", jx.ValueError, "out of bounds"),
    ("cumsum(a, axis=2)", jx.ValueError, "out of bounds"),
    ("a.sum(axis=5)", jx.ValueError, "out of bounds"),
    ("sum(a, axis=1.5)", jx.TypeError, "axis"),
    ("reshape(a, (4, 2))", jx.ShapeError, "reshape"),
    ("a.reshape(4, -1)", jx.ShapeError, "reshape"),
    ("reshape(a, (-1, -1))", jx.ValueError, "one unknown dimension"),
    ("reshape(a, 'x')", jx.TypeError, "shape"),
    ("matmul(a, a)", jx.ShapeError, "(2, 3) and (2, 3)"),
    ("a @ b[0:2]", jx.ShapeError, "align"),
    ("matmul(bm, bb)", jx.ShapeError, ""),
    ("matmul(a, 1.0)", jx.ValueError, "1-d"),
    ("dot(a, a)", jx.ShapeError, "align"),
    ("tensordot(a, a, axes=([0], [1]))", jx.ShapeError, ""),
    ("tensordot(a, a, axes=(1,))", jx.ValueError, "axes"),
    ("tensordot(a, a, 3)", jx.ValueError, "axes"),
    ("einsum('ij,jk->ik', a, a)", jx.ShapeError, "label 'j'"),
    ("einsum('ij', a, a)", jx.ValueError, "operands"),
    ("einsum('ij->k', a)", jx.ValueError, "output label"),
    # A ragged list is a list; where it must be an array it is a ShapeError.
    ("sum([[1, 2], [3]])", jx.ShapeError, "ragged"),
    ("[[1.0, 2.0], 3.0] * 2.0", jx.ShapeError, "ragged"),
    ("array([a, b])", jx.ShapeError, "ragged"),
    ("exp([a, b])", jx.TypeError, "a list is an array only when"),
    ("a + c", jx.ShapeError, "broadcast"),
    ("maximum(a, v)", jx.ShapeError, "broadcast"),
    ("where(m, a, v)", jx.ShapeError, "broadcast"),
    ("broadcast_to(a, (3, 3))", jx.ShapeError, "broadcast"),
    ("broadcast_to(a, (3,))", jx.ShapeError, "broadcast"),
    ("concatenate((a, b))", jx.ShapeError, "dimensions"),
    ("concatenate((a, c[0]), axis=0)", jx.ShapeError, ""),
    ("concatenate((a, a), axis=2)", jx.ValueError, "out of bounds"),
    ("stack((a, b))", jx.ShapeError, "same shape"),
    ("stack(())", jx.ValueError, "at least one"),
    ("squeeze(a, axis=0)", jx.ValueError, "squeeze"),
    ("expand_dims(a, 4)", jx.ValueError, "out of bounds"),
    ("expand_dims(a, (0, 0))", jx.ValueError, "repeated"),
    ("expand_dims(a, (1, -3))", jx.ValueError, "repeated"),
    ("transpose(c, (0, 1))", jx.ValueError, "axes"),
    ("transpose(c, (0, 1, 1))", jx.ValueError, "repeated"),
    ("swapaxes(a, 0, 2)", jx.ValueError, "out of bounds"),
    ("flip(a, 2)", jx.ValueError, "out of bounds"),
    ("zeros((2, -1))", jx.ValueError, "negative"),
    ("zeros('x')", jx.TypeError, "shape"),
    ("zeros(a)", jx.TypeError, "shape"),
    ("zeros(3, dtype='f128')", jx.TypeError, "dtype"),
    ("astype(a, 'float')", jx.TypeError, "dtype"),
    ("a.astype(7)", jx.TypeError, "dtype"),
    ("arange(a)", jx.TypeError, "static"),
    ("arange(0, 5, 0)", jx.ValueError, "step"),
    ("linspace(0, 1, -1)", jx.ValueError, "negative"),
    ("eye(2.5)", jx.TypeError, ""),
    ("eye(-1)", jx.ValueError, "negative"),
    ("tile(a, 1.5)", jx.TypeError, "reps"),
    ("tile(a, -1)", jx.ValueError, "negative"),
    ("repeat(a, 2.5)", jx.TypeError, "repeats"),
    ("repeat(a, -1)", jx.ValueError, "negative"),
    ("exp('x')", jx.TypeError, "array"),
    ("round(a, 1.5)", jx.TypeError, "decimals"),
    ("len(a[0, 0])", jx.TypeError, "0-d"),
    ("a.foo", jx.TypeError, "no attribute"),
    ("tree_map(lambda t: t, (a,), (a, a))", jx.TypeError, "structure"),
    ("where(m)", jx.TypeError, "where(condition, x, y)"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("expr, error, text", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_is_a_jx_error(mode, expr, error, text):
    with pytest.raises(error) as info:
        mode(expr)
    assert isinstance(info.value, jx.JxError)
    assert text in info.value.message
    assert info.value.span is not None, "the error points at the source"


# ------------------------------------------------------------------ properties

_FLOATS = st.floats(-10, 10, width=32, allow_subnormal=False)

#: jx expression over x and y -> NumPy function; all well defined on _FLOATS.
BINARY = {
    "x + y": np.add,
    "x - y": np.subtract,
    "x * y": np.multiply,
    "maximum(x, y)": np.maximum,
    "minimum(x, y)": np.minimum,
    "arctan2(x, y)": np.arctan2,
    "logaddexp(x, y)": np.logaddexp,
    "where(x > y, x, y * 2.0)": lambda x, y: np.where(x > y, x, y * 2.0),
    "clip(x, -1.0, y)": lambda x, y: np.minimum(np.maximum(x, -1.0), y),
    "x * y + x": lambda x, y: x * y + x,
}


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
    expr=st.sampled_from(sorted(BINARY)),
)
def test_property_broadcasting_binary_ops(data, shapes, expr):
    sx, sy = shapes.input_shapes
    x = data.draw(hnp.arrays(f32, sx, elements=_FLOATS), label="x")
    y = data.draw(hnp.arrays(f32, sy, elements=_FLOATS), label="y")
    expected = BINARY[expr](x.astype(f64), y.astype(f64))
    env = {"x": x, "y": y}
    mode = data.draw(st.sampled_from([eager, traced]), label="mode")
    assert_matches(mode(expr, env), expected, f32, rtol=1e-5, atol=1e-5, what=expr)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=4),
    name=st.sampled_from(sorted(UNARY)),
)
def test_property_unary_ops(data, shape, name):
    numpy_fn, lo, hi, _ = UNARY[name]
    elements = st.floats(float(f32(lo)), float(f32(hi)), width=32, allow_subnormal=False)
    x = data.draw(hnp.arrays(f32, shape, elements=elements), label="x")
    out = traced(f"{name}(x)", {"x": x})
    assert_matches(out, numpy_fn(x.astype(f64)), f32, rtol=1e-5, atol=1e-5, what=name)


_REDUCE_NUMPY = {
    "sum": np.sum,
    "mean": np.mean,
    "max": np.max,
    "min": np.min,
    "prod": np.prod,
    "var": np.var,
    "std": np.std,
}


@st.composite
def _shape_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-nd, nd - 1))
    axes = draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd))
    signs = draw(st.lists(st.booleans(), min_size=len(axes), max_size=len(axes)))
    return shape, tuple(a - nd if neg else a for a, neg in zip(axes, signs))


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    shape_axis=_shape_and_axis(),
    name=st.sampled_from(sorted(_REDUCE_NUMPY)),
    keepdims=st.booleans(),
)
def test_property_reductions(data, shape_axis, name, keepdims):
    shape, axis = shape_axis
    elements = st.floats(0.5, 1.5, width=32) if name == "prod" else _FLOATS
    x = data.draw(hnp.arrays(f32, shape, elements=elements), label="x")
    expr = f"{name}(x, axis={axis!r}, keepdims={keepdims})"
    expected = _REDUCE_NUMPY[name](x.astype(f64), axis=axis, keepdims=keepdims)
    mode = data.draw(st.sampled_from([eager, traced]), label="mode")
    assert_matches(mode(expr, {"x": x}), expected, f32, rtol=1e-5, atol=1e-4, what=expr)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    shapes=hnp.mutually_broadcastable_shapes(
        signature="(m?,n),(n,p?)->(m?,p?)", max_dims=4, max_side=4
    ),
)
def test_property_matmul(data, shapes):
    sx, sy = shapes.input_shapes
    x = data.draw(hnp.arrays(f32, sx, elements=_FLOATS), label="x")
    y = data.draw(hnp.arrays(f32, sy, elements=_FLOATS), label="y")
    expected = np.matmul(x.astype(f64), y.astype(f64))
    assert_matches(traced("x @ y", {"x": x, "y": y}), expected, f32, rtol=1e-5, atol=1e-3)
