"""vmap against a loop: `vmap(f)(xs)` equals stacking `f(x)` over the examples, for a table
of functions covering every primitive family and control flow, for in_axes/out_axes
variants, nested vmap, PRNG key arrays, named-axis collectives, errors, and a property
test over random shapes and elementwise compositions."""

import textwrap

import jx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

B = 4
RNG = np.random.default_rng(0)


def compile_(source: str):
    return jx.compile(textwrap.dedent(source))


def rand(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape).astype(np.float32)


def ints(*shape, low=-3, high=6):
    return RNG.integers(low, high, shape).astype(np.int32)


def take(x, i, axis):
    return x if axis is None else np.take(x, i, axis=axis)


def looped(f, args, in_axes, size=B):
    """The oracle: f on each example, stacked along axis 0."""
    outs = [f(*[take(a, i, ax) for a, ax in zip(args, in_axes)]) for i in range(size)]
    return np.stack([np.asarray(o) for o in outs])


# name, definition of f, arguments, in_axes (None: all 0)
# fmt: off
CASES = [
    ("unary", "def f(x) = exp(sin(x)) + abs(x) - tanh(x) * sqrt(abs(x))", [rand(B, 3)], None),
    ("binary", "def f(x, y) = maximum(x, y) * (x - y) / (1.0 + y * y) + x ** 2",
     [rand(B, 5), rand(B, 5)], None),
    ("broadcast_scalar", "def f(x, y) = x * y", [rand(B, 3, 2), rand(B)], None),
    ("compare_select", "def f(x, y) = where(x > y, x, 2.0 * y)", [rand(B, 6), rand(B, 6)], None),
    ("int_ops", "def f(i, j) = (i // 2) * j + i % 3 - (i & j) + (i << 1)",
     [ints(B, 4, low=0), ints(B, 4, low=0)], None),
    ("convert", "def f(x) = astype(astype(x * 3.0, i32), f32) + astype(x > 0.0, f32)",
     [rand(B, 3)], None),
    ("unmapped", "def f(x, w) = x * w + w", [rand(B, 3), rand(3)], (0, None)),
    ("reshape_T", "def f(x) = reshape(x, (3, 2)).T + 1.0", [rand(B, 2, 3)], None),
    ("transpose", "def f(x) = transpose(x, (2, 0, 1))", [rand(B, 2, 3, 4)], None),
    ("flip_slice", "def f(x) = flip(x, 1)[::2, 1:] + x[0, 0]", [rand(B, 4, 3)], None),
    ("concat_stack", "def f(x, w) = concatenate([x, w, x * 2.0], axis=0) + stack([x, w]).sum(0)[0]",
     [rand(B, 3), rand(3)], (0, None)),
    ("broadcast_to", "def f(x) = broadcast_to(x, (2, 3)) + expand_dims(x, 0)", [rand(B, 3)], None),
    ("iota", "def f(x) = x + arange(3.0)", [rand(B, 3)], None),
    ("reductions",
     "def f(x) = sum(x, axis=0) + max(x, axis=1).sum() * mean(x) - min(x) + prod(x[0])",
     [rand(B, 3, 4)], None),
    ("keepdims_var", "def f(x) = var(x, axis=1, keepdims=True) + std(x)", [rand(B, 3, 4)], None),
    ("any_all", "def f(x) = any(x > 1.0, axis=0) & all(x > -3.0)", [rand(B, 3, 2)], None),
    ("arg", "def f(x) = argmax(x, axis=1) + argmin(x, axis=0)[0] + argmax(x)",
     [rand(B, 3, 5)], None),
    ("cumulative", "def f(x) = cumsum(x, axis=1) + cumprod(x, axis=0)", [rand(B, 3, 4)], None),
    ("sort", "def f(x) = sort(x, axis=0) + astype(argsort(x, axis=1), f32)", [rand(B, 5, 3)], None),
    ("dot_both", "def f(a, b) = a @ b", [rand(B, 2, 3), rand(B, 3, 4)], None),
    ("dot_lhs", "def f(a, b) = a @ b", [rand(B, 2, 3), rand(3, 4)], (0, None)),
    ("dot_rhs", "def f(a, b) = a @ b", [rand(2, 3), rand(B, 3, 4)], (None, 0)),
    ("dot_vec", "def f(w, x) = dot(w, x) + outer(x, x)[0]", [rand(3, 3), rand(B, 3)], (None, 0)),
    ("matmul_batched", "def f(a, b) = matmul(a, b)", [rand(B, 2, 2, 3), rand(B, 2, 3, 2)], None),
    ("einsum", 'def f(a, b) = einsum("ij,jk->ki", a, b) + einsum("ij->", a)',
     [rand(B, 2, 3), rand(B, 3, 2)], None),
    ("tensordot", "def f(a, b) = tensordot(a, b, axes=1)", [rand(B, 2, 3), rand(B, 3, 2)], None),
    ("getitem_static", "def f(x) = x[1] + x[-1, ::-1] + x[:, 0][..., None][0]",
     [rand(B, 3, 3)], None),
    ("getitem_traced", "def f(x, i) = x[i] + x[:, i]",
     [rand(B, 5, 5), ints(B, low=-7, high=9)], None),
    ("getitem_array", "def f(x, i) = x[i, 1:]", [rand(B, 5, 3), ints(B, 4, low=-5, high=5)], None),
    ("getitem_unmapped_x", "def f(x, i) = x[i]",
     [rand(5, 2), ints(B, 3, low=0, high=5)], (None, 0)),
    ("getitem_unmapped_i", "def f(x, i) = x[:, i]",
     [rand(B, 2, 5), ints(3, low=0, high=5)], (0, None)),
    ("at_set", "def f(x, i, v) = x.at[i].set(v)",
     [rand(B, 5), ints(B, low=-6, high=7), rand(B)], None),
    ("at_add_rows", "def f(x, i, v) = x.at[i].add(v)",
     [rand(B, 5, 2), ints(B, 3, low=0, high=5), rand(B, 3, 2)], None),
    ("at_mul_static", "def f(x, v) = x.at[1:3].mul(v).at[0].max(v[0])",
     [rand(B, 4), rand(B, 2)], None),
    ("at_min_unmapped_x", "def f(x, i) = x.at[i].min(-5.0)",
     [rand(6), ints(B, low=0, high=6)], (None, 0)),
    ("at_unmapped_i", "def f(x, i, v) = x.at[i].set(v)",
     [rand(B, 6), ints(2, low=0, high=6), rand(B, 2)], (0, None, 0)),
    ("traced_if", """
        def f(x):
            if sum(x) > 0.0:
                y = x * 2.0
            else:
                y = -x
            return y
        """, [rand(B, 3)], None),
    ("traced_if_return", """
        def f(x, t):
            if t > 0:
                return x + 1.0
            elif t < -1:
                return x * 3.0
            return x
        """, [rand(B, 2), ints(B, low=-3, high=3)], None),
    ("if_unmapped_pred", """
        def f(x, t):
            if t > 0.0:
                y = x * 2.0
            else:
                y = x - 1.0
            return y
        """, [rand(B, 3), np.float32(1.0)], (0, None)),
    ("if_mixed_branches", """
        def f(x, t, w):
            if t > 0.0:
                y = x
            else:
                y = w
            return y
        """, [rand(B, 3), np.float32(-1.0), rand(3)], (0, None, None)),
    ("while_state_becomes_batched", """
        def f(x, n):
            i = 0
            acc = 0.0
            while i < n:
                acc = acc * 0.5 + sum(x)
                i = i + 1
            return acc
        """, [rand(B, 2), np.int32(3)], (0, None)),
    ("for_state_becomes_batched", """
        def f(x, rows):
            acc = 0.0
            for r in rows:
                acc = acc + sum(r) * x
            return acc
        """, [rand(B), rand(3, 2)], (0, None)),
    ("conditional_expr", "def f(x) = x * 2.0 if x > 0.0 else x - 1.0", [rand(B)], None),
    ("while_trip_counts", """
        def f(x):
            n = 0
            while x > 1.0:
                x = x / 2.0
                n = n + 1
            return (x, n)
        """, [rand(B, low=0.5, high=50.0)], None),
    ("while_with_if_inside", """
        def f(n):
            steps = 0
            while n != 1:
                if n % 2 == 0:
                    n = n // 2
                else:
                    n = 3 * n + 1
                steps = steps + 1
            return steps
        """, [np.array([1, 5, 7, 12], np.int32)], None),
    ("while_in_scan", """
        def f(xs):
            total = 0.0
            for x in xs:
                while x > 1.0:
                    x = x / 3.0
                total = total + x
            return total
        """, [rand(B, 3, low=0.5, high=30.0)], None),
    ("while_unmapped_pred", """
        def f(x, n):
            i = 0
            while i < n:
                x = x * 2.0 + i
                i = i + 1
            return x
        """, [rand(B, 2), np.int32(3)], (0, None)),
    ("while_in_if", """
        def f(x):
            if x > 2.0:
                while x > 2.0:
                    x = x - 1.5
            else:
                x = x * 10.0
            return x
        """, [rand(B, low=-1.0, high=9.0)], None),
    ("for_over_array", """
        def f(xs, w):
            s = 0.0
            for row in xs:
                s = s * 0.5 + sum(row * w)
            return s
        """, [rand(B, 5, 3), rand(3)], (0, None)),
    ("for_over_unmapped", """
        def f(x, rows):
            for r in rows:
                x = x * r
            return x
        """, [rand(B, 2), rand(3, 2)], (0, None)),
    ("comprehension_range", "def f(x) = [x * i + x[i] for i in range(3)]", [rand(B, 3)], None),
    ("traced_comprehension", "def f(xs) = [sum(r) * r for r in xs]", [rand(B, 3, 2)], None),
    ("static_range", """
        def f(a):
            x = a
            for i in range(5):
                x = 0.5 * (x + a / x)
            return x
        """, [rand(B, low=1.0, high=9.0)], None),
    ("jit_inside", "def f(x) = jit(lambda y: y * y + 1.0)(x) * 2.0", [rand(B, 3)], None),
    ("tree_out", 'def f(x) = {"s": sum(x), "p": (x * 2.0, x[0])}', [rand(B, 3)], None),
]
# fmt: on


def _check_case(src, args, in_axes):
    axes = in_axes or (0,) * len(args)
    spec = "(" + ", ".join(str(a) for a in axes) + ",)"
    m = compile_(src + f"\ng = vmap(f, in_axes={spec})\n")
    got = m.g(*args)
    want = [m.f(*[take(a, i, ax) for a, ax in zip(args, axes)]) for i in range(B)]
    flat_got, _ = _leaves(got)
    flat_want = [_leaves(w)[0] for w in want]
    assert len(flat_got) == len(flat_want[0])
    for k, g in enumerate(flat_got):
        w = np.stack([np.asarray(fw[k]) for fw in flat_want])
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def _leaves(tree):
    if isinstance(tree, tuple):
        out = [x for t in tree for x in _leaves(t)[0]]
        return out, None
    if isinstance(tree, dict):
        return [x for k in sorted(tree) for x in _leaves(tree[k])[0]], None
    return [np.asarray(tree)], None


@pytest.mark.parametrize("name,src,args,in_axes", CASES, ids=[c[0] for c in CASES])
def test_vmap_equals_loop(name, src, args, in_axes):
    _check_case(textwrap.dedent(src), args, in_axes)


# ------------------------------------------------------------------ axes


def test_in_axes_nonzero_and_negative():
    m = compile_("""
    def f(x, y) = sum(x * y) + x
    g = vmap(f, in_axes=(1, -1))
    """)
    x, y = rand(3, B), rand(3, B)
    np.testing.assert_allclose(m.g(x, y), looped(m.f, [x, y], [1, 1]), rtol=1e-6)


def test_in_axes_one_with_indexing_and_scan():
    m = compile_("""
    def f(x, i):
        s = 0.0
        for r in x:
            s = s + r[i]
        return s + x[i, i]
    g = vmap(f, in_axes=(2, 0))
    """)
    x, i = rand(3, 3, B), ints(B, low=-3, high=3)
    np.testing.assert_allclose(m.g(x, i), looped(m.f, [x, i], [2, 0]), rtol=1e-6)


def test_in_axes_tree_and_record():
    m = compile_("""
    def f(p, x) = p["w"] * x + p["b"][0]
    g = vmap(f, in_axes=({"w": None, "b": 0}, 0))
    def h(pair) = pair[0] - pair[1]
    k = vmap(h, in_axes=((0, None),))
    """)
    w, b, x = rand(3), rand(B, 2), rand(B, 3)
    want = np.stack([w * x[i] + b[i, 0] for i in range(B)])
    np.testing.assert_allclose(m.g({"w": w, "b": b}, x), want, rtol=1e-6)
    np.testing.assert_allclose(m.k((x, w)), x - w, rtol=1e-6)


def test_keyword_arguments_are_mapped():
    m = compile_("def f(x, y=1.0) = x * y\ng = vmap(f)")
    x, y = rand(B, 2), rand(B, 2)
    np.testing.assert_allclose(m.g(x, y=y), x * y, rtol=1e-6)


def test_out_axes():
    m = compile_("""
    def f(x) = (x * 2.0, sum(x), 7.0)
    g = vmap(f, out_axes=(1, 0, None))
    h = vmap(lambda x: {"a": x, "b": x[0]}, out_axes={"a": -1, "b": 0})
    """)
    x = rand(B, 3)
    a, s, c = m.g(x)
    np.testing.assert_allclose(a, (x * 2).T, rtol=1e-6)
    np.testing.assert_allclose(s, x.sum(1), rtol=1e-5)
    assert float(c) == 7.0
    r = m.h(x)
    np.testing.assert_allclose(r["a"], x.T)
    np.testing.assert_allclose(r["b"], x[:, 0])


def test_unbatched_output_is_broadcast():
    m = compile_("g = vmap(lambda x, w: w * 2.0, in_axes=(0, None))")
    np.testing.assert_allclose(m.g(rand(B), np.float32(3.0)), [6.0] * B)


def test_nested_vmap():
    m = compile_("""
    def f(x, y) = x * y + 1.0
    outer = vmap(vmap(f, in_axes=(0, None)), in_axes=(None, 0))
    def rowdot(a, b) = vmap(lambda r: dot(r, b))(a)
    g = vmap(rowdot)
    """)
    x, y = rand(3), rand(2)
    np.testing.assert_allclose(m.outer(x, y), y[:, None] * x[None, :] + 1, rtol=1e-6)
    a, b = rand(B, 3, 5), rand(B, 5)
    np.testing.assert_allclose(m.g(a, b), np.einsum("bij,bj->bi", a, b), rtol=1e-5)


def test_vmap_inside_jit_and_jit_inside_vmap():
    m = compile_("""
    def sq(x) = x * x
    inside = jit(lambda xs: vmap(sq)(xs) + 1.0)
    outside = vmap(jit(sq))
    """)
    x = rand(B, 3)
    np.testing.assert_allclose(m.inside(x), x * x + 1, rtol=1e-6)
    np.testing.assert_allclose(m.outside(x), x * x, rtol=1e-6)


def test_top_level_calls_do_not_retrace():
    m = compile_("g = vmap(lambda x: x * 2.0)")
    vm = m._scope.vars["g"]
    m.g(rand(B, 3))
    m.g(rand(B, 3))
    assert len(vm.cache) == 1
    m.g(rand(B, 2))
    assert len(vm.cache) == 2


def test_rebinding_a_global_invalidates_the_cache():
    m = compile_("""
    w = 2.0
    g = vmap(lambda x: x * w)
    a = g(ones(3))
    w = 3.0
    b = g(ones(3))
    """)
    np.testing.assert_allclose(m.a, [2.0] * 3)
    np.testing.assert_allclose(m.b, [3.0] * 3)


# ------------------------------------------------------------------ PRNG keys


def test_vmap_over_key_array_matches_a_loop():
    m = compile_("""
    import random
    def draw(k):
        k1, k2 = random.split(k)
        k2, k3 = random.split(k2)
        return (random.normal(k1, (3,)), random.uniform(k2, (2,)), random.randint(k3, (2,), 0, 9))
    ks = random.split(random.key(7), 5)
    batched = vmap(draw)(ks)
    same = random.split(random.key(7), 5)
    looped = [draw(same[i]) for i in range(5)]
    halves = vmap(lambda k: random.key_data(random.split(k)))(random.split(random.key(3), 4))
    """)
    for i, want in enumerate(m.looped):  # a list of 5 tuples, one per key
        for batched, one in zip(m.batched, want):
            np.testing.assert_array_equal(batched[i], one)
    jax = pytest.importorskip("jax")
    ks = jax.random.split(jax.random.key(3), 4)
    want = jax.vmap(lambda k: jax.random.key_data(jax.random.split(k)))(ks)
    np.testing.assert_array_equal(m.halves, np.asarray(want))


def test_vmap_returns_key_arrays():
    m = compile_("""
    import random
    def two(k) = random.split(k)
    keys = vmap(two)(random.split(random.key(1), 3))
    shape = keys.shape
    data = random.key_data(keys)
    first = random.key_data(two(random.split(random.key(1), 3)[0]))
    """)
    assert m.shape == (3, 2)
    np.testing.assert_array_equal(m.data[0], m.first)


# ------------------------------------------------------------------ named axes


def test_collectives_under_vmap_axis_name():
    m = compile_("""
    def f(x) = (psum(x, "i"), pmean(x, "i"), pmax(x, "i"), pmin(x, "i"), all_gather(x, "i"),
                axis_index("i"), psum(1.0, "i"))
    g = vmap(f, axis_name="i")
    def nested(x) = vmap(lambda y: psum(y, "j") + psum(y, "i"), axis_name="j")(x)
    h = vmap(nested, axis_name="i")
    """)
    x = rand(B, 3)
    s, mean, mx, mn, gathered, idx, count = m.g(x)
    np.testing.assert_allclose(s, np.broadcast_to(x.sum(0), x.shape), rtol=1e-5)
    np.testing.assert_allclose(mean, np.broadcast_to(x.mean(0), x.shape), rtol=1e-5)
    np.testing.assert_allclose(mx, np.broadcast_to(x.max(0), x.shape))
    np.testing.assert_allclose(mn, np.broadcast_to(x.min(0), x.shape))
    np.testing.assert_allclose(gathered, np.broadcast_to(x, (B,) + x.shape))
    np.testing.assert_array_equal(idx, np.arange(B))
    np.testing.assert_allclose(count, [B] * B)
    y = rand(2, 3)
    want = y.sum(1, keepdims=True) + y.sum(0, keepdims=True)
    np.testing.assert_allclose(m.h(y), want, rtol=1e-5)


def test_collective_in_a_batched_loop():
    m = compile_("""
    def f(x):
        while psum(x, "i") < 100.0:
            x = x * 2.0
        return x
    g = vmap(f, axis_name="i")
    """)
    np.testing.assert_allclose(m.g(np.array([1.0, 2.0, 3.0], np.float32)), [32.0, 64.0, 96.0])


def test_unbound_axis_name():
    with pytest.raises(jx.NameError, match="unbound axis name 'i'"):
        compile_("y = psum(ones(3), 'i')")
    with pytest.raises(jx.NameError, match="unbound axis name 'j'"):
        compile_("y = vmap(lambda x: psum(x, 'j'), axis_name='i')(ones(3))")


# ------------------------------------------------------------------ errors


def test_mismatched_sizes_name_both():
    m = compile_("g = vmap(lambda x, y: x + y)")
    with pytest.raises(jx.ValueError, match=r"size 3.*size 4"):
        m.g(np.ones(3, np.float32), np.ones(4, np.float32))


def test_in_axes_structure_mismatch():
    m = compile_("""
    g = vmap(lambda x, y: x + y, in_axes=(0,))
    h = vmap(lambda p: p[0], in_axes=((0, 0, 0),))
    k = vmap(lambda x: x, in_axes=2)
    n = vmap(lambda x: x, in_axes=None)
    """)
    with pytest.raises(jx.ValueError, match="1 entries but the function got 2"):
        m.g(np.ones(3, np.float32), np.ones(3, np.float32))
    with pytest.raises(jx.ValueError, match="does not match"):
        m.h((np.ones(3, np.float32), np.ones(3, np.float32)))
    with pytest.raises(jx.ValueError, match="axis 2 of argument 0, which has rank 1"):
        m.k(np.ones(3, np.float32))
    with pytest.raises(jx.ValueError, match="at least one mapped argument"):
        m.n(np.ones(3, np.float32))


def test_out_axes_none_for_a_batched_output():
    m = compile_("g = vmap(lambda x: x, out_axes=None)")
    with pytest.raises(jx.ValueError, match="out_axes is None"):
        m.g(np.ones(3, np.float32))


def test_bad_in_axes_kind():
    with pytest.raises(jx.TypeError, match="in_axes must be"):
        compile_("g = vmap(lambda x: x, in_axes='a')")


# ------------------------------------------------------------------ property


UNARY = {
    "sin": np.sin,
    "exp": lambda x: np.exp(np.clip(x, -5, 5)),
    "abs": np.abs,
    "neg": np.negative,
    "tanh": np.tanh,
}
UNARY_JX = {
    "sin": "sin({})",
    "exp": "exp(clip({}, -5.0, 5.0))",
    "abs": "abs({})",
    "neg": "(-{})",
    "tanh": "tanh({})",
}
BINARY = {"+": np.add, "*": np.multiply, "-": np.subtract, "max": np.maximum}
BINARY_JX = {"+": "({} + {})", "*": "({} * {})", "-": "({} - {})", "max": "maximum({}, {})"}


@st.composite
def programs(draw):
    size = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    axes = [draw(st.one_of(st.none(), st.integers(0, len(shape)))) for _ in range(2)]
    if all(a is None for a in axes):
        axes[0] = 0
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(sorted(UNARY)), st.sampled_from(sorted(BINARY)), st.integers(0, 1)
            ),
            min_size=1,
            max_size=4,
        )
    )
    return size, shape, axes, steps


def _compose(f, unary, binary, use_y):
    return lambda x, y: BINARY[binary](UNARY[unary](f(x, y)), y if use_y else x)


@settings(max_examples=25, deadline=None)
@given(programs())
def test_property_vmap_equals_stacking(case):
    size, shape, axes, steps = case
    text, fn = "x", lambda x, y: x
    for unary, binary, use_y in steps:
        other = "y" if use_y else "x"
        text = BINARY_JX[binary].format(UNARY_JX[unary].format(text), other)
        fn = _compose(fn, unary, binary, use_y)
    spec = "(" + ", ".join(str(a) for a in axes) + ",)"
    m = compile_(f"def f(x, y) = {text}\ng = vmap(f, in_axes={spec})")
    args = []
    for ax in axes:
        full = shape[:ax] + (size,) + shape[ax:] if ax is not None else shape
        args.append(rand(*full))
    got = m.g(*args)
    want = np.stack([fn(*[take(a, i, ax) for a, ax in zip(args, axes)]) for i in range(size)])
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-5, atol=1e-5)
