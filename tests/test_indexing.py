"""NumPy indexing and `.at[]` updates, checked against NumPy itself.

An index is written the same way in jx and in Python, so each row's expression is evaluated
by jx (eagerly at the top level, and traced inside a function whose arguments are the inputs)
and by Python on the NumPy arrays. Traced indices clamp into range as JAX's gathers do, and
updates at traced out-of-range indices are dropped as JAX's scatters do; static indices out of
range and boolean masks are `jx.IndexError`s.
"""

import jx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

ENV = {
    "x": np.arange(24, dtype=np.float32).reshape(2, 3, 4),
    "y": np.arange(5, dtype=np.float32) * 10,
    "x4": np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5),
    "yi": np.arange(5, dtype=np.int32),
    "r": np.array([1, 0, 1]),  # for an axis of size 2
    "q": np.array([0, 2, -1]),  # for an axis of size 3
    "t": np.array([3, 0, -4]),  # for an axis of size 4
    "Q": np.array([[0, 1], [2, -3]]),  # 2-d, for an axis of size 3
    "T": np.array([[3, 0], [1, 2]]),  # 2-d, for an axis of size 4
    "qu": np.array([4, 0], np.uint32),
    "v4": np.array([1.0, -2.0, 3.0, -4.0], np.float32),
    "v34": np.arange(12, dtype=np.float32).reshape(3, 4) * -1,
}


def eager(expr, env=None):
    return jx.compile(f"out = {expr}\n", env=ENV if env is None else env).out


def traced(expr, env=None):
    env = ENV if env is None else env
    return jx.fn(f"lambda {', '.join(env)}: {expr}")(*env.values())


MODES = [pytest.param(eager, id="eager"), pytest.param(traced, id="traced")]


def numpy_eval(expr):
    return eval(expr, {"np": np}, {k: v.copy() for k, v in ENV.items()})


def assert_same(out, expected, what=""):
    expected = np.asarray(expected)
    assert isinstance(out, np.ndarray), what
    assert out.dtype == expected.dtype, f"{what}: {out.dtype} != {expected.dtype}"
    assert out.shape == expected.shape, f"{what}: {out.shape} != {expected.shape}"
    np.testing.assert_array_equal(out, expected, err_msg=what)


BASIC = [
    "x[1]",
    "x[-1]",
    "x[1, 2]",
    "x[-1, -2, -3]",
    "x[0, 1, 2]",
    "x[1][2][3]",
    "x[0:2]",
    "x[0:2:1]",
    "x[:, 1:]",
    "x[:, :, 1:3]",
    "x[1:, 2:0:-1, ::3]",
    "x[::-1]",
    "x[:, ::-1]",
    "x[:, ::-2]",
    "x[..., ::-1]",
    "x[:, -1:-4:-1]",
    "x[::3, ::2, ::-3]",
    "x[:, 10:20]",
    "x[:, -10:2]",
    "x[5:0:-2]",
    "x[:, 2:1]",
    "x[:, 3:-5:-1, 0]",
    "x[:, 0]",
    "x[:, :, 0]",
    "x[..., 0]",
    "x[1, ...]",
    "x[1, ..., -1]",
    "x[...]",
    "x[..., None]",
    "x[None]",
    "x[None, ..., 1]",
    "x[..., 1, None]",
    "x[None, None, 0]",
    "x[:, None, 1:, None]",
    "x[0, None, :, None, -1]",
    "y[3]",
    "y[-5]",
    "y[1:4]",
    "y[::-1]",
    "y[4:1:-1]",
    "y[None, :]",
    "y[2:2]",
    "y[-2:]",
    "x4[1, :, 2]",
    "x4[..., 1:4:2]",
    "x4[:, ::-1, None, 1]",
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("expr", BASIC)
def test_basic_indexing(mode, expr):
    assert_same(mode(expr), numpy_eval(expr), expr)


ADVANCED = [
    # one array: its dimensions replace the axis it indexes
    "x[r]",
    "x[:, q]",
    "x[:, :, t]",
    "x[..., t]",
    "x[:, Q]",
    "x[..., T]",
    "y[Q]",
    "x[[0, 1]]",
    "x[:, [2, 0]]",
    "y[[4, -5, 0]]",
    "y[qu]",
    "x[q[0:1]]",
    # several arrays, broadcast together
    "x[r, q]",
    "x[r, q, t]",
    "x[:, Q, T]",
    "x[:, q[:, None], t]",
    "x[[1, 0], [2, 2]]",
    # adjacent advanced indices stay where they are
    "x[:, q, t]",
    "x[:, Q, 1:3]",
    "x4[:, q, t, :]",
    "x4[1:, Q, T]",
    # non-adjacent advanced indices go to the front
    "x[r, :, t]",
    "x4[:, Q, :, T]",
    "x4[r, 1:, :, [0, 4, 2]]",
    # an int beside an array is an advanced index too
    "x[0, q]",
    "x[0, :, t]",
    "x[:, 1, t]",
    "x[r, 1]",
    "x[r, 1, :]",
    "x[r, :, 1]",
    "x[1, q, -1]",
    "x4[..., 0, T]",
    "x4[r, q, 0, 1:3]",
    "x4[0, :, 1, t]",
    # with None and Ellipsis; even an Ellipsis for no axes separates advanced indices
    "x[:, q, ..., t]",
    "x[r, q, ..., t]",
    "x[r, ..., q, t]",
    "x[None, r, ..., q, t]",
    "x[None, r]",
    "x[r, None]",
    "x[r, None, q]",
    "x[..., q, None, t]",
    "x[r, ...]",
    # with slices, including reversed ones
    "x[::-1, q]",
    "x[r, ::-2, 1:]",
    "x4[:, q, ::-1, [1, 1, 0]]",
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("expr", ADVANCED)
def test_advanced_indexing(mode, expr):
    assert_same(mode(expr), numpy_eval(expr), expr)


@pytest.mark.parametrize("dtype", [np.float16, np.float64, np.int32, np.uint32, np.bool_])
def test_indexing_keeps_the_dtype(dtype):
    x = np.arange(12).reshape(3, 4).astype(dtype)
    for expr in ["x[1]", "x[:, ::-1]", "x[[0, 2], 1]", "x[..., None]"]:
        expected = eval(expr, {}, {"x": x})
        assert_same(traced(expr, {"x": x}), expected, expr)
        assert_same(eager(expr, {"x": x}), expected, expr)


# ------------------------------------------------------------------ traced indices


def _clamped(i, n):
    i = i + n if i < 0 else i
    return min(max(i, 0), n - 1)


@pytest.mark.parametrize("i", [-2, -1, 0, 1])
def test_traced_scalar_index(i):
    x = ENV["x"]
    f = jx.fn("lambda x, i: x[i]")
    assert_same(f(x, np.int32(i)), x[i])
    g = jx.fn("lambda x, i, j: (x[:, j], x[i, :, j], x[i, j, ::-1], x[i, 1:, j])")
    for out, expected in zip(
        g(x, np.int32(i), np.int32(i + 1)),
        (x[:, i + 1], x[i, :, i + 1], x[i, i + 1, ::-1], x[i, 1:, i + 1]),
    ):
        assert_same(out, expected)


@pytest.mark.parametrize("i", [2, 3, 100, -3, -4, -100])
def test_traced_out_of_range_index_clamps(i):
    """As in JAX, a traced index out of range is clamped: negative values wrap once, then
    clamp into [0, n-1]. (A static index out of range is an IndexError instead.)"""
    x = ENV["x"]
    assert_same(jx.fn("lambda x, i: x[i]")(x, np.int32(i)), x[_clamped(i, 2)])
    assert_same(jx.fn("lambda x, i: x[1, i]")(x, np.int32(i)), x[1, _clamped(i, 3)])
    assert_same(jx.fn("lambda x, i: x.at[i].get()")(x, np.int32(i)), x[_clamped(i, 2)])


def test_traced_index_arrays_clamp():
    y, x = ENV["y"], ENV["x"]
    q = np.array([7, -9, 2, -1])
    assert_same(jx.fn("lambda y, q: y[q]")(y, q), y[[_clamped(int(i), 5) for i in q]])
    r = np.array([[0, 5], [-3, 1]])
    expected = x[:, [[_clamped(int(i), 3) for i in row] for row in r]]
    assert_same(jx.fn("lambda x, r: x[:, r]")(x, r), expected)


def test_traced_index_in_a_loop():
    m = jx.compile(
        "def total(y):\n"
        "    s = 0.0\n"
        "    for i in range(5):\n"
        "        s = s + y[4 - i] * i\n"
        "    return s\n"
        "def pick(y, i) = y[i] + y[i - 1]\n"
    )
    y = ENV["y"]
    assert float(m.total(y)) == sum(y[4 - i] * i for i in range(5))
    assert float(m.pick(y, np.int32(3))) == y[3] + y[2]


# ------------------------------------------------------------------ errors

STATIC_OUT_OF_RANGE = [
    "x[2]",
    "x[-3]",
    "x[:, 3]",
    "x[0, 0, 4]",
    "x[0, -4]",
    "y[5]",
    "x[[0, 2]]",
    "x[:, [0, 3]]",
    "y[[1, -6]]",
    "x[0, [0, 1], 4]",
    "x.at[2].set(0.0)",
    "x.at[:, 5].add(1.0)",
    "x.at[[0, 3]].get()",
    "x.at[0, [4]].mul(2.0)",
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("expr", STATIC_OUT_OF_RANGE)
def test_static_index_out_of_range(mode, expr):
    with pytest.raises(jx.IndexError, match="out of bounds"):
        mode(expr)


def test_static_array_index_out_of_range_from_the_host():
    env = {"x": ENV["x"], "r": np.array([0, 2])}
    with pytest.raises(jx.IndexError, match="index 2 is out of bounds for axis 0"):
        eager("x[r]", env)


BAD_INDICES = [
    ("x[0, 0, 0, 0]", "too many indices"),
    ("x[..., 0, ...]", "single ellipsis"),
    ("x[1.0]", "an index must be"),
    ("x[q * 1.0]", "integer"),
    ("x[::0]", "step cannot be zero"),
    ("x.at[0].foo(1.0)", "no method"),
    ("x.at[0].set(v34[0:2])", "cannot update"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("expr, text", BAD_INDICES, ids=[e for e, _ in BAD_INDICES])
def test_bad_index(mode, expr, text):
    with pytest.raises(jx.JxError, match=text):
        mode(expr)


def test_traced_slice_bounds_are_an_error():
    with pytest.raises(jx.IndexError, match="static"):
        jx.fn("lambda y, i: y[i:i + 2]")(ENV["y"], np.int32(1))


BOOLEAN_MASKS = [
    "x[x > 3.0]",
    "y[y > 10.0]",
    "x[m]",
    "x[:, [True, False, True]]",
    "x.at[x > 3.0].set(0.0)",
    "y.at[y > 10.0].add(1.0)",
    "x[0, m[0]]",
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("expr", BOOLEAN_MASKS)
def test_boolean_mask_is_an_index_error_pointing_to_where(mode, expr):
    env = {**ENV, "m": np.array([[True, False, True]] * 2)}
    with pytest.raises(jx.IndexError, match="where") as info:
        mode(expr, env)
    assert info.value.span is not None


# ------------------------------------------------------------------ .at updates

_NUMPY_AT = {"add": np.add, "mul": np.multiply, "min": np.minimum, "max": np.maximum}


def numpy_update(target, index, mode, value):
    out = ENV[target].copy()
    idx = eval(f"np.s_[{index}]", {"np": np}, dict(ENV))
    value = eval(value, {"np": np}, dict(ENV))
    if mode == "set":
        out[idx] = value
    else:
        # ufunc.at applies every duplicate index, as JAX's scatter does.
        _NUMPY_AT[mode].at(out, idx, value)
    return out


UPDATES = [
    ("x", "1", "set", "0.0"),
    ("x", "0, 1", "add", "1.0"),
    ("x", "-1, -1, -1", "mul", "3.0"),
    ("x", ":, 1:3", "mul", "2.0"),
    ("x", "..., 0", "min", "3.0"),
    ("x", "..., 0", "max", "10.0"),
    ("x", "::-1, 0", "set", "v4"),
    ("x", "1", "set", "v34"),
    ("x", "1", "add", "v4"),
    ("x", ":, ::-2, 1:", "add", "100.0"),
    ("x", "None, 0", "set", "5.0"),
    ("x", "r", "add", "1.0"),
    ("x", "r", "set", "-1.0"),
    ("x", "[0, 0, 1]", "add", "v4"),
    ("x", "0, q", "max", "10.0"),
    ("x", ":, q, t", "add", "100.0"),
    ("x", "r, :, t", "mul", "-1.0"),
    ("x", "r, 1", "add", "v4"),
    ("x", ":, Q, T", "min", "-7.0"),
    ("y", "[0, 0, 3]", "mul", "2.0"),
    ("y", "[0, 0, 3]", "min", "-1.0"),
    ("y", "[1, 1]", "add", "np.array([10.0, 20.0], np.float32)"),
    ("y", "2:", "set", "np.array([7.0, 8.0, 9.0], np.float32)"),
    ("y", "::-2", "set", "np.array([1.0, 2.0, 3.0], np.float32)"),
    ("y", "-1", "max", "100.0"),
    ("yi", "1", "add", "2"),
    ("yi", "[1, 1, 4]", "add", "3"),
    ("yi", "1:3", "mul", "-4"),
]


def _at_expr(target, index, mode, value):
    value = value.replace("np.array(", "array(").replace("np.float32", "f32")
    return f"{target}.at[{index}].{mode}({value})"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "target, index, method, value", UPDATES, ids=[_at_expr(*u) for u in UPDATES]
)
def test_at_updates(mode, target, index, method, value):
    expr = _at_expr(target, index, method, value)
    assert_same(mode(expr), numpy_update(target, index, method, value), expr)


AT_GET = ["x[1]", "x[:, ::-1]", "x[r, :, t]", "x[0, q]", "x[..., None]", "y[Q]"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("expr", AT_GET)
def test_at_get_is_indexing(mode, expr):
    name, index = expr.split("[", 1)
    assert_same(mode(f"{name}.at[{index}.get()"), numpy_eval(expr), expr)


def test_update_leaves_the_original_unchanged():
    x = ENV["x"]
    before = x.copy()
    m = jx.compile(
        "y = x.at[0].set(9.0)\n"
        "z = x.at[:, 1].add(1.0)\n"
        "def f(x):\n"
        "    u = x.at[1, 2].mul(0.0)\n"
        "    return x, u\n",
        env={"x": x},
    )
    np.testing.assert_array_equal(m.x, before)
    np.testing.assert_array_equal(x, before)
    assert (m.y[0] == 9).all() and (m.y[1] == before[1]).all()
    np.testing.assert_array_equal(m.z[:, 1], before[:, 1] + 1)
    original, updated = m.f(x)
    np.testing.assert_array_equal(original, before)
    assert (updated[1, 2] == 0).all()
    np.testing.assert_array_equal(x, before)


def test_update_converts_the_value_to_the_array_dtype():
    yi = ENV["yi"]
    out = jx.fn("lambda yi: yi.at[1].set(2.7)")(yi)
    assert out.dtype == np.int32 and out[1] == 2
    out = jx.fn("lambda h: h.at[0].add(1.0)")(np.zeros(3, np.float16))
    assert out.dtype == np.float16 and out[0] == 1


@pytest.mark.parametrize("i", [-2, -1, 0, 1])
def test_at_with_a_traced_index(i):
    x = ENV["x"]
    for method, numpy_fn in [("set", None), ("add", np.add), ("mul", np.multiply)]:
        out = jx.fn(f"lambda x, i: x.at[i, 1:].{method}(2.0)")(x, np.int32(i))
        expected = x.copy()
        if numpy_fn is None:
            expected[i, 1:] = 2.0
        else:
            numpy_fn.at(expected, (i, slice(1, None)), 2.0)
        assert_same(out, expected, method)


def test_at_with_traced_duplicate_indices_applies_all():
    y = ENV["y"]
    q = np.array([0, 0, 3, 0])
    expected = y.copy()
    np.add.at(expected, q, 1.5)
    assert_same(jx.fn("lambda y, q: y.at[q].add(1.5)")(y, q), expected)
    values = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    expected = y.copy()
    np.multiply.at(expected, q, values)
    assert_same(jx.fn("lambda y, q, v: y.at[q].mul(v)")(y, q, values), expected)


@pytest.mark.parametrize("i", [5, 7, -6, -100])
def test_at_with_a_traced_out_of_range_index_drops_the_update(i):
    """As JAX's scatter does: updates at out-of-range traced indices are skipped."""
    y, x = ENV["y"], ENV["x"]
    for method in ("set", "add", "mul", "min", "max"):
        out = jx.fn(f"lambda y, i: y.at[i].{method}(-1.0)")(y, np.int32(i))
        assert_same(out, y, f"{method} at {i}")
    out = jx.fn("lambda x, i: x.at[:, i].set(0.0)")(x, np.int32(i))
    assert_same(out, x)
    q = np.array([1, i, -1])
    expected = y.copy()
    np.add.at(expected, [1, -1], 1.0)
    assert_same(jx.fn("lambda y, q: y.at[q].add(1.0)")(y, q), expected)


# ------------------------------------------------------------------ properties


def _index_text(index) -> str:
    def one(item):
        if item is None:
            return "None"
        if item is Ellipsis:
            return "..."
        if isinstance(item, slice):
            parts = ["" if p is None else str(p) for p in (item.start, item.stop, item.step)]
            return ":".join(parts) if item.step is not None else ":".join(parts[:2])
        return str(item)

    items = index if isinstance(index, tuple) else (index,)
    return ", ".join(one(i) for i in items) if items else "..."


@st.composite
def _array_and_basic_index(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    return np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape), index


@settings(max_examples=100, deadline=None)
@given(case=_array_and_basic_index(), use_eager=st.booleans())
def test_property_basic_indices(case, use_eager):
    x, index = case
    expr = f"x[{_index_text(index)}]"
    expected = x[index] if index != () else x
    out = (eager if use_eager else traced)(expr, {"x": x})
    assert_same(out, np.asarray(expected), expr)


@settings(max_examples=60, deadline=None)
@given(case=_array_and_basic_index(), data=st.data())
def test_property_basic_index_updates(case, data):
    x, index = case
    method = data.draw(st.sampled_from(["set", "add", "mul", "min", "max"]))
    expr = f"x.at[{_index_text(index)}].{method}(3.0)"
    expected = x.copy()
    if method == "set":
        expected[index] = 3.0
    else:
        _NUMPY_AT[method].at(expected, index, np.float32(3.0))
    assert_same(traced(expr, {"x": x}), expected, expr)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_property_integer_array_indices(data):
    """Integer arrays mixed with ints, slices (any step), None and an Ellipsis, which may stand
    for no axes at all: NumPy's placement of the broadcast dimensions in every case."""
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    index_shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    ellipsis_at = data.draw(st.none() | st.integers(0, len(shape)))
    ellipsis_len = data.draw(st.integers(0, len(shape) - (ellipsis_at or 0)))
    items, names, env = [], [], {"x": x}
    for axis, n in enumerate(shape):
        if axis == ellipsis_at:
            items.append(Ellipsis)
            names.append("...")
        if ellipsis_at is not None and ellipsis_at <= axis < ellipsis_at + ellipsis_len:
            continue
        if data.draw(st.booleans()) and data.draw(st.booleans()):
            items.append(None)
            names.append("None")
        kind = data.draw(st.sampled_from(["slice", "array", "array", "int"]))
        if kind == "slice":
            part = st.none() | st.integers(-n - 1, n + 1)
            start, stop = data.draw(part), data.draw(part)
            step = data.draw(st.sampled_from([None, 1, 2, -1, -3]))
            items.append(slice(start, stop, step))
            names.append(":".join("" if p is None else str(p) for p in (start, stop, step)))
        elif kind == "int":
            k = data.draw(st.integers(-n, n - 1))
            items.append(k)
            names.append(str(k))
        else:
            idx = data.draw(hnp.arrays(np.int32, index_shape, elements=st.integers(-n, n - 1)))
            env[f"i{axis}"] = idx
            items.append(idx)
            names.append(f"i{axis}")
    if ellipsis_at == len(shape):
        items.append(Ellipsis)
        names.append("...")
    expr = f"x[{', '.join(names)}]"
    expected = x[tuple(items)]
    mode = data.draw(st.sampled_from([eager, traced]))
    assert_same(mode(expr, env), np.asarray(expected), expr)
