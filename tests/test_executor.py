"""The NumPy backend's compiled executor, its fusion groups and the call fast path: each
gives bit for bit what NumPy computes by hand (random chains through hypothesis, with the
fusion threshold lowered so that small arrays run in many blocks on several threads),
loops and errors behave as before, buffers are reused, and a rebound module name
retraces a fast-path call."""

import jx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jx.backends.numpy import executor, fusion

OPS = {
    "({} + {})": np.add,
    "({} - {})": np.subtract,
    "({} * {})": np.multiply,
    "maximum({}, {})": np.maximum,
}
UNARY = {"exp(-abs({}))": lambda v: np.exp(-np.abs(v)), "tanh({})": np.tanh, "-({})": np.negative}


@pytest.fixture
def small_blocks(monkeypatch):
    """Fusion on arrays of 64 elements and more, in blocks of 16, on up to 4 threads."""
    monkeypatch.setattr(fusion, "MIN_SIZE", 64)
    monkeypatch.setattr(fusion, "BLOCK", 16)
    monkeypatch.setattr(fusion, "THREADS", 4)
    fusion._POOL.clear()
    yield
    fusion._POOL.clear()


def chains(depth):
    """(jx expression text, the same computed by NumPy) over x, y and an f32 scalar 0.5
    (strong: a weak 0.5 is exact, so tanh(0.5) would be computed in f64 first)."""
    leaf = st.sampled_from([("x", lambda x, y: x), ("y", lambda x, y: y),
                            ("f32(0.5)", lambda x, y: np.float32(0.5))])  # fmt: skip
    if depth == 0:
        return leaf
    sub = chains(depth - 1)

    def binary(op, a, b):
        return op.format(a[0], b[0]), lambda x, y: OPS[op](a[1](x, y), b[1](x, y))

    def unary(op, a):
        return op.format(a[0]), lambda x, y: UNARY[op](a[1](x, y))

    return st.one_of(
        leaf,
        st.builds(binary, st.sampled_from(list(OPS)), sub, sub),
        st.builds(unary, st.sampled_from(list(UNARY)), sub),
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chains(4), st.integers(64, 300))
def test_fused_chains_equal_numpy_bit_for_bit(small_blocks, chain, n):
    text, by_hand = chain
    m = jx.compile(f"def f(x, y) = {text} + x")
    rng = np.random.default_rng(n)
    x, y = (rng.standard_normal(n).astype(np.float32) for _ in range(2))
    got = jx.jit(m.f)(x, y)
    want = np.asarray(by_hand(x, y) + x, np.float32)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_fused_u32_shifts_and_bitcast(small_blocks):
    m = jx.compile(
        """
def rotl(x, r) = (x << r) | (x >> (32 - r))
def f(x, k) = _bitcast((rotl(x + k, 13) ^ x) >> 9 | 0x3F800000, f32) - 1.0
"""
    )
    x = np.arange(1000, dtype=np.uint32) * np.uint32(2654435761)
    k = np.uint32(12345)
    r = (x + k) << np.uint32(13) | (x + k) >> np.uint32(19)
    bits = ((r ^ x) >> np.uint32(9)) | np.uint32(0x3F800000)
    want = bits.view(np.float32) - np.float32(1.0)
    np.testing.assert_array_equal(jx.jit(m.f)(x, k), want)


def test_random_bits_unchanged_by_fusion(small_blocks):
    m = jx.compile("import random\ndef f(s) = random.uniform(random.key(s), (777,))")
    fused = jx.jit(m.f)(3)
    fusion.MIN_SIZE = 1 << 40  # nothing fuses
    plain = jx.compile("import random\ndef f(s) = random.uniform(random.key(s), (777,))")
    np.testing.assert_array_equal(fused, jx.jit(plain.f)(3))


def test_groups_found_and_blocks_cover_every_element(small_blocks):
    m = jx.compile("def f(x) = x + x*x + x*x*x")
    x = np.arange(1001, dtype=np.float32) / 100
    np.testing.assert_array_equal(jx.jit(m.f)(x), x + x * x + x * x * x)
    seen = np.zeros(1001, bool)

    def work(start, stop):
        seen[start:stop] = True

    fusion.run_blocks(work, 1001)
    assert seen.all()


def test_loops_run_compiled_bodies():
    m = jx.compile(
        """
def count(x) = while_loop(lambda c: c[0] < 100, lambda c: (c[0] + 1, c[1] * 0.5 + 1.0), (0, x))
def cumulative(xs) = scan(lambda c, x: (c + x, c * x), 0.0, xs)
def pick(p, x) = cond(p, lambda v: v + 1.0, lambda v: v * 3.0, x)
"""
    )
    n, x = jx.jit(m.count)(np.float32(4.0))
    want = np.float32(4.0)
    for _ in range(100):
        want = want * np.float32(0.5) + np.float32(1.0)
    assert int(n) == 100 and x == want
    xs = np.arange(1, 6, dtype=np.float32)
    carry, ys = jx.jit(m.cumulative)(xs)
    assert carry == xs.sum()
    np.testing.assert_array_equal(ys, np.concatenate([[0], np.cumsum(xs)[:-1]]) * xs)
    assert jx.jit(m.pick)(False, np.float32(2.0)) == 6.0
    assert jx.jit(m.pick)(True, np.float32(2.0)) == 3.0


def test_in_place_results_keep_being_reused():
    """x*x*x + x: the square's buffer takes the cube and then the sum (as NumPy with
    out=); an in-place result stays reusable, and nothing writes into the input."""
    from jx.backends import numpy as numpy_backend
    from jx.dtypes import ShapedArray
    from jx.ir import Eqn, Program, Var
    from jx.primitives import BINARY

    a = Var(ShapedArray((4, 4), np.float32, False))
    sq, cube, out = (Var(a.aval) for _ in range(3))
    eqns = [
        Eqn(BINARY["mul"], [a, a], [sq], {}, None),
        Eqn(BINARY["mul"], [sq, a], [cube], {}, None),
        Eqn(BINARY["add"], [cube, a], [out], {}, None),
    ]
    ex = executor.Executor(Program([a], eqns, [out]), numpy_backend._compiled_impl)
    assert executor._owned(ex.program) == {sq, cube}
    x = np.full((4, 4), 2.0, np.float32)
    assert ex(x)[0].tolist() == [[10.0] * 4] * 4
    assert x.tolist() == [[2.0] * 4] * 4


def test_a_failing_equation_is_the_error_of_its_own_equation():
    from jx.dtypes import ShapedArray
    from jx.errors import JxRuntimeError
    from jx.ir import Eqn, Program, Var
    from jx.primitives import BINARY

    def impl(eqn):
        if eqn.prim is BINARY["div"]:
            return lambda *xs: xs[0][[5]]  # an IndexError, on the second equation
        return np.add

    a = Var(ShapedArray((2,), np.float32, False))
    b, c = Var(a.aval), Var(a.aval)
    eqns = [Eqn(BINARY["add"], [a, a], [b], {}, None), Eqn(BINARY["div"], [b, a], [c], {}, None)]
    with pytest.raises(JxRuntimeError, match="div failed on the numpy backend"):
        executor.Executor(Program([a], eqns, [c]), impl)(np.ones(2, np.float32))


def test_fast_path_retraces_when_a_module_name_is_rebound():
    m = jx.compile("scale = 2.0\ndef f(x) = x * scale\ndef g(x) = f(x) + 1.0")
    x = np.ones(3, np.float32)
    g = m.g
    assert g(x).tolist() == [3.0] * 3
    assert g(x).tolist() == [3.0] * 3  # the fast path
    m._scope.vars["scale"] = 5.0
    assert g(x).tolist() == [6.0] * 3
    assert jx.jit(m.g)(x).tolist() == [6.0] * 3


def test_fast_path_takes_floats_and_keeps_dtypes():
    m = jx.compile("def f(x, y) = (x * y, y)")
    f = jx.jit(m.f)
    for _ in range(3):
        out, y = f(np.arange(3, dtype=np.float32), 2.0)
        assert out.dtype == np.float32 and out.tolist() == [0.0, 2.0, 4.0]
        assert float(y) == 2.0
    assert f(np.arange(3.0), 2.0)[0].dtype == np.float64


def test_module_attribute_is_one_function_while_bound():
    m = jx.compile("def f(x) = x + 1.0")
    assert m.f is m.f
    m._scope.vars["f"] = m._scope.vars["f"]
    assert m.f is m.f


def test_reductions_end_a_group(small_blocks):
    m = jx.compile(
        """
def total(x, y, z) = sum(x + y*z)
def peak(x, y) = max(x * y + 1.0)
def low(x, y) = min(exp(-x) * y)
def kept(x, y):
    t = x * y + 1.0
    return sum(t), t
"""
    )
    rng = np.random.default_rng(0)
    x, y, z = (rng.standard_normal(1001).astype(np.float32) for _ in range(3))
    np.testing.assert_allclose(jx.jit(m.total)(x, y, z), np.sum(x + y * z), rtol=1e-5)
    assert jx.jit(m.peak)(x, y) == np.max(x * y + np.float32(1.0))
    assert jx.jit(m.low)(x, y) == np.min(np.exp(-x) * y)
    total, t = jx.jit(m.kept)(x, y)
    np.testing.assert_array_equal(t, x * y + np.float32(1.0))
    np.testing.assert_allclose(total, np.sum(t), rtol=1e-5)
    assert total.shape == () and total.dtype == np.float32
