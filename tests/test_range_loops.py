"""Loops over `range` inside functions: long ones are traced once as a scan, short ones and
those whose body needs a static index unroll (up to `jx.limits.unroll`), and `jx ir` says
which. Every answer is compared with the same loop unrolled (a larger `short_loop`) or with
NumPy running the loop by hand."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import jx
import numpy as np
import pytest


def compile_(src, backend="numpy"):
    return jx.compile(textwrap.dedent(src), backend=backend)


class Unrolled:
    """A module whose every loop below 10,000 iterations unrolls when traced: the reference."""

    def __init__(self, src, backend="numpy"):
        self.module = compile_(src, backend)

    def __getattr__(self, name):
        fn = getattr(self.module, name)
        return lambda *args: self._traced(fn, args)

    @staticmethod
    def _traced(fn, args):
        saved, jx.limits.short_loop = jx.limits.short_loop, 10_000
        try:
            return fn(*args)
        finally:
            jx.limits.short_loop = saved


def ir_unrolled(fn, *args):
    saved, jx.limits.short_loop = jx.limits.short_loop, 10_000
    try:
        return fn.ir(*args)
    finally:
        jx.limits.short_loop = saved


DECAY = """
def decay(x, n):
    for i in range(n):
        x = 0.99 * x + 0.01 * sin(x) * i
    return x
"""


@pytest.mark.parametrize("backend", ["numpy", "xla"])
def test_a_long_loop_is_one_scan_with_the_unrolled_answer(backend):
    m = compile_(DECAY, backend)
    x = np.linspace(-1, 1, 5, dtype=np.float32)
    ir = m.decay.ir(x, 200)
    assert ir.count("scan") == 1 and ir.count("sin") == 1
    ref = Unrolled(DECAY, backend)
    assert "scan" not in ir_unrolled(ref.module.decay, x, 200)
    np.testing.assert_allclose(m.decay(x, 200), ref.decay(x, 200), rtol=2e-6)


def test_a_short_loop_unrolls():
    m = compile_(DECAY)
    ir = m.decay.ir(np.ones(3, np.float32), jx.limits.short_loop)
    assert "scan" not in ir and ir.count("sin") == jx.limits.short_loop


def test_the_loop_matches_numpy_by_hand():
    m = compile_(DECAY)
    x = np.linspace(-1, 1, 7, dtype=np.float32)
    ref = x.copy()
    for i in range(500):
        ref = np.float32(0.99) * ref + np.float32(0.01) * np.sin(ref) * np.float32(i)
    np.testing.assert_allclose(m.decay(x, 500), ref, rtol=1e-4)


def test_range_with_start_and_step():
    m = compile_("""
    def f(x):
        for i in range(100, 3, -3):
            x = x + i
        return x
    """)
    assert float(m.f(0.0)) == sum(range(100, 3, -3))
    assert "scan" in m.f.ir(0.0)


def test_the_index_is_weak_so_the_state_keeps_its_dtype():
    m = compile_("""
    def f(x):
        for i in range(50):
            x = x + i * 0.5
        return x
    """)
    out = m.f(np.zeros(2, np.float16))
    assert out.dtype == np.float16
    np.testing.assert_allclose(out, sum(i * 0.5 for i in range(50)), rtol=1e-3)


def test_reverse_mode_through_a_long_loop():
    src = """
    def f(w):
        x = 1.0
        for i in range(60):
            x = tanh(w * x + 0.1)
        return x
    def df(w) = grad(f)(w)
    """
    m, ref = compile_(src), Unrolled(src)
    assert "scan" in m.f.ir(0.7)
    np.testing.assert_allclose(m.df(0.7), ref.df(0.7), rtol=1e-5)
    eps = 1e-3
    fd = (float(ref.f(0.7 + eps)) - float(ref.f(0.7 - eps))) / (2 * eps)
    np.testing.assert_allclose(m.df(0.7), fd, rtol=1e-2)


def test_vmap_of_a_function_with_a_long_loop():
    src = """
    def f(x):
        for i in range(40):
            x = x * 0.9 + 1.0
        return x
    def g(xs) = vmap(f)(xs)
    """
    xs = np.arange(4, dtype=np.float32)
    np.testing.assert_allclose(compile_(src).g(xs), Unrolled(src).g(xs), rtol=1e-6)


def test_keys_folded_with_the_index_give_the_unrolled_bits():
    src = """
    import random
    def noise(key, x):
        for i in range(64):
            x = x + random.normal(random.fold_in(key, i), x.shape)
        return x
    def split_keys(key, x):
        for i in range(64):
            key, sub = random.split(key)
            x = x + random.uniform(sub, x.shape)
        return x
    def both(seed, x) = (noise(random.key(seed), x), split_keys(random.key(seed), x))
    """
    m, ref = compile_(src), Unrolled(src)
    x = np.zeros(3, np.float32)
    assert m.both.ir(3, x).count("scan") == 2
    for got, want in zip(m.both(3, x), ref.both(3, x)):
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_an_outside_key_used_in_the_body_is_still_a_reuse():
    src = """
    import random
    def bad(key, x):
        for i in range(100):
            x = x + random.normal(key, x.shape)
        return x
    y = bad(random.key(0), zeros(2))
    """
    with pytest.raises(jx.KeyReuseError):
        compile_(src)


@pytest.mark.parametrize(
    "body",
    [
        "x = x + params[i % 2]",  # indexes a tuple: i must be static
        "x = x + sum(ones(i + 1))",  # a shape
        "x = x + len(range(i))",  # a static range
    ],
)
def test_a_body_that_needs_a_static_index_unrolls(body):
    src = f"""
    def f(x):
        params = (1.0, 2.0)
        for i in range(40):
            {body}
        return x
    """
    m = compile_(src)
    assert "scan" not in m.f.ir(0.0)
    assert float(m.f(0.0)) == float(Unrolled(src).f(0.0))


def test_a_state_that_changes_shape_unrolls():
    m = compile_("""
    def f(x):
        for i in range(40):
            x = concatenate((x, ones(1)))
        return x
    """)
    assert m.f(np.zeros(2, np.float32)).shape == (42,)


def test_return_inside_a_long_loop_unrolls():
    m = compile_("""
    def first_over(x, limit):
        for i in range(100):
            if i * 1.0 > limit:
                return x * i
        return x
    """)
    assert float(m.first_over(2.0, 50)) == 2.0 * 51


def test_a_loop_that_must_unroll_past_the_bound_is_an_error_naming_it(monkeypatch):
    monkeypatch.setattr(jx.limits, "unroll", 500)
    src = "def f(x):\n    for i in range(1000):\n        x = x + ones(i + 1)[0]\n    return x\ny = f(0.0)\n"
    with pytest.raises(jx.LimitError, match=r"limits\.unroll = 500") as info:
        jx.compile(src)
    assert info.value.span.line == 2
    assert "range(1000)" in info.value.message


def test_a_huge_range_is_a_loop_not_a_hang():
    # 2**63 iterations would never finish unrolling; as a scan it traces at once (and is
    # never run here: only its IR is asked for).
    m = compile_("""
    def f(x):
        for i in range(2**62):
            x = x + 1.0
        return x
    """)
    ir = m.f.ir(0.0)
    assert "scan" in ir and "i64" in ir


def test_a_long_comprehension_over_a_range_is_a_scan():
    src = """
    def table(x) = [sin(x * i) for i in range(100)]
    def nested(x) = [[x * i + j for j in range(3)] for i in range(50)]
    """
    m, ref = compile_(src), Unrolled(src)
    assert "scan" in m.table.ir(0.3)
    np.testing.assert_allclose(m.table(0.3), ref.table(0.3), rtol=1e-6)
    assert m.nested(1.0).shape == (50, 3)
    np.testing.assert_allclose(m.nested(1.0), ref.nested(1.0))


def test_top_level_loops_still_run_eagerly():
    m = compile_("""
    total = 0
    for i in range(1000):
        total = total + i
    """)
    assert m.total == sum(range(1000))


KERNEL_LSQ = """
def gram(kernel, xs) = vmap(lambda x: vmap(lambda y: kernel(x, y))(xs))(xs)

def minimize(f, x, num_steps=10000, step_size=0.000001, mass=0.9):
    def update(i, state):
        x, velocity = state
        velocity = mass * velocity + grad(f)(x)
        return (x - step_size * velocity, velocity)
    update = jit(update)
    state = (x, zeros_like(x))
    for i in range(num_steps):
        state = update(i, state)
    return state[0]

def train(xs, ys, num_steps):
    kernel = lambda x, y: dot(x, y)
    gram_mat = jit(partial(gram, kernel))(xs)
    def objective(v) = 0.5 * sum((gram_mat @ v - ys) ** 2.0) + 0.01 * sum(v ** 2.0)
    return minimize(objective, zeros(xs.shape[0]), num_steps)
"""


@pytest.mark.parametrize("backend", ["numpy", "xla"])
def test_kernel_least_squares_minimize_is_one_loop(backend):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((30, 5)).astype(np.float32)
    ys = xs @ rng.standard_normal(5).astype(np.float32)
    m = compile_(KERNEL_LSQ, backend)
    ir = m.train.ir(xs, ys, 10_000)
    assert ir.count("scan") == 1 and len(ir.splitlines()) < 100
    v = np.asarray(m.train(xs, ys, 10_000), np.float64)
    g = xs.astype(np.float64) @ xs.T.astype(np.float64)
    ref, velocity = np.zeros(30), np.zeros(30)
    for _ in range(10_000):  # the same momentum steps in NumPy, f64
        velocity = 0.9 * velocity + (g.T @ (g @ ref - ys) + 0.02 * ref)
        ref = ref - 0.000001 * velocity
    np.testing.assert_allclose(v, ref, rtol=2e-3, atol=2e-4)


def test_jx_ir_says_what_became_of_each_loop(tmp_path):
    path = tmp_path / "loops.jx"
    path.write_text(
        "def f(x):\n"
        "    for i in range(3):\n"
        "        x = x + i\n"
        "    for i in range(100):\n"
        "        x = x * 0.5\n"
        "    for i in range(40):\n"
        "        x = x + ones(i + 1)[0]\n"
        "    return x\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "jx.cli", "ir", str(path), "f", "--args", "f32[]"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "# line 4: for loop over range(100): a scan of 100 iterations" in out
    assert "# line 6: for loop over range(40): unrolled 40 times, because:" in out
    assert "line 2" not in out  # short loops unroll without a word
