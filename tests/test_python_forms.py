"""Python forms a JAX user writes: decorators, annotations, `is None`, f-strings and
starred assignment targets. Each works as in Python or is a JxError saying what to write."""

import io
import textwrap

import jx
import numpy as np
import pytest


def compile_(src):
    return jx.compile(textwrap.dedent(src))


def printed(src) -> str:
    out = io.StringIO()
    from jx.core import CTX

    saved, CTX.out = CTX.out, out
    try:
        compile_(src)
    finally:
        CTX.out = saved
    return out.getvalue()


# ------------------------------------------------------------------ decorators


def test_decorators_apply_innermost_first():
    m = compile_("""
    @jit
    def f(x):
        return x * 2.0

    @vmap
    @jit
    def g(x) = sum(x)

    def twice(fn) = lambda x: fn(fn(x))

    @twice
    def inc(x) = x + 1.0
    """)
    np.testing.assert_allclose(m.f(np.ones(3, np.float32)), 2 * np.ones(3))
    np.testing.assert_allclose(m.g(np.ones((4, 3), np.float32)), np.full(4, 3.0))
    np.testing.assert_allclose(m.inc(np.float32(1.0)), 3.0)


def test_a_decorated_function_is_not_arity_checked_as_written():
    # `bind_first` changes the signature: the checker must not read the def's parameters.
    m = compile_("""
    def bind_first(fn) = lambda y: fn(10.0, y)

    @bind_first
    def add(x, y) = x + y
    z = add(1.0)
    """)
    np.testing.assert_allclose(m.z, 11.0)


def test_an_unknown_decorator_is_a_name_error():
    with pytest.raises(jx.NameError) as info:
        compile_("@jitt\ndef f(x) = x\n")
    assert info.value.span.line == 1 and "did you mean 'jit'" in info.value.message


# ------------------------------------------------------------------ annotations


def test_annotations_are_parsed_and_ignored():
    m = compile_("""
    def f(x: f32[3], n: int = 2, *rest: f32) -> f32[3]:
        return x * n

    def g(x: f32) -> f32 = x + 1.0
    y: f32[3] = f(ones(3))
    z: int
    h = lambda x, s=3: x * s
    """)
    np.testing.assert_allclose(m.y, 2 * np.ones(3))
    np.testing.assert_allclose(m.g(np.float32(1)), 2.0)
    assert int(m.h(2)) == 6


def test_only_a_name_can_be_annotated():
    with pytest.raises(jx.JxSyntaxError, match="only a name can be annotated"):
        compile_("x = ones(3)\nx[0]: f32 = 1.0\n")


# ------------------------------------------------------------------ is None


def test_is_none_and_is_not_none():
    m = compile_("""
    def f(x, scale=None):
        if scale is None:
            return x
        return x * scale
    a = f(2.0)
    b = f(2.0, 3.0)
    c = (None is None, None is not None, 1 is not None)
    """)
    assert float(m.a) == 2.0 and float(m.b) == 6.0
    assert m.c == (True, False, True)


def test_is_between_values_says_to_use_equality():
    with pytest.raises(jx.TypeError, match=r"compares with None only .*use ==") as info:
        compile_("x = 1 is 1\n")
    assert info.value.span.line == 1


# ------------------------------------------------------------------ f-strings


def test_f_strings_format_like_python():
    out = printed("""
    loss = 0.123456
    y = ones(3) * 2.0
    n = 3
    print(f"loss {loss:.3f} n={n:>3} {{raw}} {'s'!r} {n + 4} {sum(y):8.2f}|")
    print(f'{n=} {y=}')
    print(f"{y}")
    """)
    assert out.splitlines() == [
        "loss 0.123 n=  3 {raw} 's' 7     6.00|",
        "n=3 y=[2. 2. 2.]",
        "[2. 2. 2.]",
    ]


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ('print(f"{x")\n', "expecting '}'", 9),
        ('print(f"{}")\n', "empty expression not allowed", 10),
        ('print(f"a}b")\n', "single '}' is not allowed", 10),
        ('print(f"{1!z}")\n', "invalid conversion character 'z'", 10),
    ],
)
def test_f_string_syntax_errors_point_into_the_string(source, message, column):
    with pytest.raises(jx.JxSyntaxError) as info:
        compile_(source)
    assert message in info.value.message
    assert (info.value.span.line, info.value.span.column) == (1, column)


def test_an_error_inside_a_field_points_at_the_field():
    with pytest.raises(jx.NameError) as info:
        compile_('x = 1\nprint(f"value: {y + x}")\n')
    assert (info.value.span.line, info.value.span.column) == (2, 17)


def test_a_format_spec_needs_a_scalar():
    with pytest.raises(jx.TypeError, match=r"format spec '.2f' needs a scalar"):
        compile_('print(f"{ones(3):.2f}")\n')


def test_an_f_string_of_a_traced_value_is_an_error():
    m = compile_('def f(x) = f"{x}"\n')
    with pytest.raises(jx.TypeError, match="formats concrete values"):
        m.f(np.ones(2, np.float32))


# ------------------------------------------------------------------ starred targets


def test_starred_targets_take_the_rest_as_a_tuple():
    m = compile_("""
    import random
    a, *rest = (1, 2, 3, 4)
    *init, last = (1, 2, 3)
    first, *mid, end = (1, 2)
    key, *subkeys = random.split(random.key(0), 3)
    row, *rows = ones((3, 2))
    """)
    assert m.a == 1 and m.rest == (2, 3, 4)
    assert m.init == (1, 2) and m.last == 3
    assert m.first == 1 and m.mid == () and m.end == 2
    assert len(m.subkeys) == 2
    assert len(m.rows) == 2 and m.row.shape == (2,)


def test_starred_target_errors():
    with pytest.raises(jx.ValueError, match="cannot unpack 1 values into at least 2 names"):
        compile_("a, *b, c = (1,)\n")
    with pytest.raises(jx.JxSyntaxError, match="multiple starred names"):
        compile_("*a, *b = (1, 2)\n")
    with pytest.raises(jx.JxSyntaxError, match="a starred name must be in a tuple"):
        compile_("*a = (1, 2)\n")


# ------------------------------------------------------------------ records


def test_record_spread_builds_an_updated_record():
    m = compile_("""
    s = {"a": 1.0, "b": 2.0}
    t = {**s, "b": s["b"] + 3.0, "c": 0.0}
    def bump(p) = {**p, "w": p["w"] * 2.0}
    u = grad(lambda p: sum(bump(p)["w"]) + p["b"])({"w": ones(2), "b": 1.0})
    """)
    assert list(m.t) == ["a", "b", "c"] and float(m.t["b"]) == 5.0
    np.testing.assert_allclose(m.u["w"], [2.0, 2.0])
    with pytest.raises(jx.TypeError, match=r"only a record can be spread with \*\*"):
        compile_("r = {**1}\n")


@pytest.mark.parametrize(
    ("line", "message", "note"),
    [
        ('s["even"] += 3.0', "records are immutable", 'use s = {**s, "even": s["even"] + 3.0}'),
        ('s["even"] = 3.0', "records are immutable", 'use s = {**s, "even": 3.0}'),
        ("x[0] -= 1.0", "arrays are immutable", "use x = x.at[0].set(x[0] - 1.0)"),
        ("x[0] += 1.0", "arrays are immutable", "use x = x.at[0].add(1.0)"),
        ("x[1:] = 0.0", "arrays are immutable", "use x = x.at[1:].set(0.0)"),
    ],
)
def test_mutation_hints_name_forms_that_exist(line, message, note):
    with pytest.raises(jx.PurityError) as info:
        compile_(f's = {{"even": 1.0}}\nx = ones(3)\n{line}\n')
    assert message in info.value.message
    assert info.value.notes[0][0] == note


# ------------------------------------------------------------------ zip, enumerate, partial


def test_zip_and_enumerate_follow_python():
    m = compile_("""
    ws = (ones((2, 2)), ones((2, 2)) * 2.0)
    bs = (zeros(2), ones(2))
    params = tuple(zip(ws, bs))
    def forward(params, x):
        for w, b in params:
            x = tanh(w @ x + b)
        return x
    y = forward(params, ones(2))
    pairs = tuple(zip(range(3), (4, 5)))
    rows = tuple(enumerate(eye(3), 1))
    traced = jit(lambda xs: sum(array([i * r for i, r in enumerate(xs)]), axis=0))(eye(3))
    """)
    x = np.ones(2, np.float32)
    for w, b in [(np.ones((2, 2)), np.zeros(2)), (2 * np.ones((2, 2)), np.ones(2))]:
        x = np.tanh(w @ x + b)
    np.testing.assert_allclose(m.y, x, rtol=1e-6)
    assert m.pairs == ((0, 4), (1, 5))
    assert [i for i, _ in m.rows] == [1, 2, 3]
    np.testing.assert_array_equal(m.rows[2][1], [0, 0, 1])
    np.testing.assert_allclose(m.traced, [0, 1, 2])
    with pytest.raises(jx.TypeError, match=r"zip\(\) of a 0-d|zip\(\) of an array"):
        compile_("z = zip(ones(()), (1,))\n")


def test_partial_binds_leading_arguments_and_keywords():
    m = compile_("""
    def scaled(s, x, shift=0.0) = s * x + shift
    double = partial(scaled, 2.0)
    a = double(ones(2))
    b = jit(double)(ones(2))
    c = vmap(partial(scaled, 3.0, shift=1.0))(ones((2, 2)))
    g = grad(partial(scaled, 4.0))(1.0)
    """)
    np.testing.assert_allclose(m.a, [2, 2])
    np.testing.assert_allclose(m.b, [2, 2])
    np.testing.assert_allclose(m.c, np.full((2, 2), 4.0))
    np.testing.assert_allclose(m.g, 4.0)


def test_keyword_only_parameters():
    m = compile_("""
    def f(x, *, scale=2.0, shift) = x * scale + shift
    a = f(1.0, shift=1.0)
    b = f(1.0, scale=3.0, shift=0.0)
    def g(*xs, total=0.0) = sum(array(xs)) + total
    c = g(1.0, 2.0)
    d = g(1.0, total=5.0)
    h = lambda a, *, b=1.0: a + b
    e = h(1.0, b=2.0)
    """)
    assert [float(v) for v in (m.a, m.b, m.c, m.d, m.e)] == [3.0, 3.0, 3.0, 6.0, 3.0]
    with pytest.raises(jx.TypeError, match=r"f\(\) takes 1 argument but 2 were given"):
        compile_("def f(x, *, s=1.0) = x * s\ny = f(1.0, 2.0)\n")
    with pytest.raises(jx.TypeError, match="missing keyword-only argument 'shift'"):
        compile_("def f(x, *, shift) = x + shift\ny = f(1.0)\n")
    with pytest.raises(jx.JxSyntaxError, match="named parameters must follow a bare"):
        compile_("def f(x, *) = x\n")
