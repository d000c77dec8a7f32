"""The language's semantics through `jx.compile` and `jx.run_file`: functions, recursion,
trees, static and traced control flow, loops, the tracing cache and top-level effects
(LANGUAGE.md sections 2, 4 and 7), and the conformance cases (a copy in tests/conformance)."""

import pathlib
import subprocess
import sys
import textwrap

import jx
import numpy as np
import pytest

CONFORMANCE = pathlib.Path(__file__).resolve().parent / "conformance"


def compile_(source: str, **kwargs):
    return jx.compile(textwrap.dedent(source), **kwargs)


def f32(*values):
    return np.array(values, np.float32)


def closure(module, name):
    return module._scope.vars[name]


# ------------------------------------------------------------------ functions


def test_defaults_and_keywords():
    m = compile_("""
    def f(x, y=2.0, axis=0):
        z = x * y
        return sum(z, axis=axis)
    """)
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(m.f(x), [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(m.f(x, axis=1), [6.0, 6.0])
    np.testing.assert_array_equal(m.f(x, 3.0, 1), [9.0, 9.0])
    np.testing.assert_array_equal(m.f(axis=1, y=0.5, x=x), [1.5, 1.5])


def test_defaults_are_evaluated_at_definition():
    m = compile_("""
    k = 2.0
    def f(x, s=k) = x * s
    k = 10.0
    y = f(1.0)
    """)
    assert float(m.y) == 2.0


def test_expression_bodied_def_and_lambda():
    m = compile_("""
    def h(x) = x * 2
    add1 = lambda x: x + 1
    both = lambda x, y=1.0: h(x) + y
    a = h(3.0)
    b = add1(h(1.0))
    c = both(2.0)
    """)
    assert (float(m.a), float(m.b), float(m.c)) == (6.0, 3.0, 5.0)
    np.testing.assert_array_equal(m.add1(f32(1, 2)), [2.0, 3.0])


def test_closures_capture_values():
    m = compile_("""
    def scaler(a):
        return lambda x: x * a
    def adder(a):
        def inner(x):
            return x + a
        return inner
    triple = scaler(3.0)
    y = triple(2.0)
    z = adder(1.0)(2.0)
    compose = lambda f, g: lambda x: f(g(x))
    w = compose(triple, adder(1.0))(1.0)
    """)
    assert (float(m.y), float(m.z), float(m.w)) == (6.0, 3.0, 6.0)
    np.testing.assert_array_equal(m.triple(f32(1, 2)), [3.0, 6.0])


def test_closures_capture_values_not_later_rebindings():
    m = compile_("""
    def f(x):
        g = lambda y: y * x
        x = x + 1
        return g(1.0)
    def make(n):
        fs = ()
        for i in range(n):
            fs = fs + (lambda v: v * i,)
        return fs
    fs = make(3)
    a = fs[0](1.0)
    c = fs[2](1.0)
    """)
    assert float(m.f(1.0)) == 1.0
    assert (float(m.a), float(m.c)) == (0.0, 2.0)


def test_nested_helpers_may_call_later_ones_and_themselves():
    m = compile_("""
    def f(x):
        def a(y) = b(y) + 1
        def b(y) = y * 2
        def again(n):
            if n == 0:
                return x
            return again(n - 1) * 2
        return a(x) + again(3)
    """)
    assert float(m.f(1.0)) == 11.0


def test_functions_are_first_class():
    m = compile_("""
    def twice(f, x) = f(f(x))
    def sq(x) = x * x
    y = twice(sq, 3.0)
    fs = (sq, lambda x: -x)
    z = fs[1](fs[0](2.0))
    """)
    assert (float(m.y), float(m.z)) == (81.0, -4.0)


def test_static_recursion():
    m = compile_("""
    def fact(n):
        if n <= 1:
            return 1
        return n * fact(n - 1)
    y = fact(5)
    def power(x, n) = 1.0 if n == 0 else x * power(x, n - 1)
    p = power(2.0, 10)
    deep = fact(150) > 0
    """)
    assert m.y == 120
    assert float(m.p) == 1024.0
    assert m.fact(6) == 720


@pytest.mark.parametrize(
    "source, line",
    [
        ("def loop(n):\n    return loop(n + 1)\ny = loop(0)\n", 2),
        (
            "def fact(n):\n    if n <= 1:\n        return 1\n    return n * fact(n - 1)\n"
            + "y = fact(5.0)\n",
            4,
        ),
        ("def a(x) = b(x)\ndef b(x) = a(x)\ny = a(1.0)\n", 2),
    ],
    ids=["static", "traced-condition", "mutual"],
)
def test_runaway_recursion_is_a_recursion_error(source, line):
    with pytest.raises(jx.RecursionError) as info:
        jx.compile(source)
    err = info.value
    assert err.span is not None and err.span.line == line
    assert "recursion" in err.message
    assert err.render().count("\n") >= 2  # the source line and a caret


def test_errors_inside_functions_note_the_call_chain():
    source = "def a(x) = x + ones(4)\ndef b(x) = a(x) * 2\ndef c(x):\n    return b(x)\n"
    source += "y = c(ones(3))\n"
    with pytest.raises(jx.ShapeError) as info:
        jx.compile(source)
    err = info.value
    assert err.span.line == 1
    assert [span.line for _, span in err.notes] == [2, 4, 5]
    assert all("called from here" in message for message, _ in err.notes)


def test_static_number_operators():
    m = compile_("""
    a = ~True
    b = ~5
    c = 7 // 2
    d = True & False
    e = 2 ** 10
    """)
    assert (m.a, m.b, m.c, m.d, m.e) == (False, -6, 3, False, 1024)
    for source in ["y = 2.0 & 1.0\n", "y = ~2.0\n"]:
        with pytest.raises(jx.TypeError) as info:
            jx.compile(source)
        assert info.value.span.line == 1


# ------------------------------------------------------------------ tuples and records


def test_tuple_operations():
    m = compile_("""
    t = (1.0, 2.0, 3.0)
    u = (4.0,)
    v = t + u
    n = len(v)
    rest = v[1:]
    last = v[-1]
    a, b, c = t
    e = ()
    """)
    assert m.n == 4
    assert len(m.rest) == 3 and float(m.rest[0]) == 2.0
    assert float(m.last) == 4.0
    assert (float(m.a), float(m.b), float(m.c)) == (1.0, 2.0, 3.0)
    assert m.e == ()


def test_tuples_in_functions():
    m = compile_("""
    def f(t):
        a, b = t
        return a + b, len(t), t[1:]
    """)
    s, n, rest = m.f((f32(1), f32(2)))
    np.testing.assert_array_equal(s, [3.0])
    assert int(n) == 2
    assert len(rest) == 1


def test_unpacking_an_arrays_leading_axis():
    m = compile_("""
    x0, x1 = reshape(arange(6.0), (2, 3))
    def diff(x):
        a, b = x
        return a - b
    """)
    np.testing.assert_array_equal(m.x0, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(m.x1, [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(m.diff(f32([1, 2], [3, 5])), [-2.0, -3.0])
    with pytest.raises(jx.ValueError) as info:
        jx.compile("a, b, c = ones((2, 3))\n")
    assert "leading axis 2" in info.value.message and info.value.span.line == 1


def test_unpacking_errors():
    with pytest.raises(jx.ValueError):
        jx.compile("a, b = (1, 2, 3)\n")
    with pytest.raises(jx.TypeError):
        jx.compile("a, b = ones(())\n")


def test_records():
    m = compile_("""
    p = {"w": ones(2), "b": 0.5}
    def f(p, x) = p["w"] * x + p["b"]
    y = f(p, 2.0)
    nested = {"layer": (p, p)}
    w = nested["layer"][1]["w"]
    """)
    np.testing.assert_array_equal(m.y, [2.5, 2.5])
    np.testing.assert_array_equal(m.w, [1.0, 1.0])
    assert set(m.p) == {"w", "b"}
    out = m.f({"w": f32(1, 2), "b": 1.0}, 3.0)
    np.testing.assert_array_equal(out, [4.0, 7.0])


def test_record_missing_key():
    with pytest.raises(jx.IndexError) as info:
        jx.compile('r = {"weight": 1.0}\ny = r["weigth"]\n')
    assert "did you mean 'weight'" in info.value.message
    assert info.value.span.line == 2


# ------------------------------------------------------------------ if


STEP = """
def step(x):
    if x > 0:
        y = x
    else:
        y = 2 * x
    return y
"""


def test_traced_if_becomes_cond():
    m = compile_(STEP)
    assert "cond[" in m.step.ir(1.0)
    assert float(m.step(3.0)) == 3.0
    assert float(m.step(-3.0)) == -6.0
    assert float(m.step(np.float32(0.5))) == 0.5


def test_static_if_traces_one_branch():
    m = compile_("""
    def f(x, n):
        if n > 2:
            y = x * 3
        else:
            y = -x
        return y
    """)
    ir = m.f.ir(1.0, 3)
    assert "cond" not in ir and "mul" in ir and "neg" not in ir
    assert float(m.f(2.0, 3)) == 6.0
    assert float(m.f(2.0, 1)) == -2.0


def test_if_on_a_shape_is_static():
    m = compile_("""
    def f(x):
        if x.shape[0] > 2:
            return sum(x)
        return x[0]
    """)
    assert "cond" not in m.f.ir(np.ones(3))
    assert float(m.f(f32(1, 2, 3))) == 6.0
    assert float(m.f(f32(5, 2))) == 5.0


def test_names_bound_in_both_branches_survive():
    m = compile_("""
    def f(x):
        y = 0.0
        if x > 0:
            y = x
            z = 1.0
            w = 10.0
        else:
            z = -1.0
            w = -10.0
        return y + z * w
    """)
    assert float(m.f(2.0)) == 12.0
    assert float(m.f(-2.0)) == 10.0


def test_a_name_bound_in_one_branch_only_does_not_survive():
    src = "def f(x):\n    if x > 0:\n        z = 1.0\n    else:\n        y = 2.0\n    return z\n"
    src += "a = f(1.0)\n"
    with pytest.raises(jx.NameError) as info:
        jx.compile(src)
    assert info.value.span.line == 6


def test_early_return_in_a_traced_branch():
    m = compile_("""
    def f(x):
        if x > 0:
            return x
        elif x < -5:
            return 0.0 * x
        y = x * 3
        return y
    """)
    assert "cond" in m.f.ir(1.0)
    assert [float(m.f(v)) for v in (2.0, -2.0, -7.0)] == [2.0, -6.0, 0.0]


def test_early_return_in_a_nested_traced_branch():
    m = compile_("""
    def f(x, y):
        if x > 0:
            if y > 0:
                return 1.0
            z = 2.0
        else:
            z = 3.0
        return z
    def g(x):
        if x > 0:
            if x > 5:
                return 5.0
        return x
    """)
    assert [float(m.f(a, b)) for a in (1.0, -1.0) for b in (1.0, -1.0)] == [1.0, 2.0, 3.0, 3.0]
    assert m.f.ir(1.0, 1.0).count("cond[") == 2
    assert [float(m.g(v)) for v in (7.0, 3.0, -1.0)] == [5.0, 3.0, -1.0]


def test_traced_if_promotes_branch_dtypes():
    m = compile_("""
    def f(x):
        if x > 0:
            return 1
        return 2.5
    """)
    out = m.f(1.0)
    assert out.dtype == np.float32 and float(out) == 1.0
    assert float(m.f(-1.0)) == 2.5


def test_branches_must_agree():
    src = "def f(x):\n    if sum(x) > 0:\n        return x\n    else:\n        return x[0]\n"
    src += "y = f(ones(3))\n"
    with pytest.raises(jx.ShapeError) as info:
        jx.compile(src)
    err = info.value
    assert err.span.line == 2
    assert "f32[3]" in err.render() and "f32[]" in err.render()


def test_conditional_expression_traced():
    m = compile_("def f(x) = x if x > 0 else -x\n")
    assert "select" in m.f.ir(1.0)
    assert float(m.f(3.0)) == 3.0
    assert float(m.f(-2.0)) == 2.0


def test_conditional_expression_static():
    m = compile_("def f(x, n) = x * 2 if n > 0 else x\n")
    assert "select" not in m.f.ir(1.0, 1)
    assert float(m.f(3.0, 1)) == 6.0


def test_traced_condition_must_be_a_scalar():
    with pytest.raises(jx.TypeError) as info:
        jx.compile(STEP + "y = step(ones(3))\n")
    assert "scalar" in info.value.message and info.value.span.line == 3


# ------------------------------------------------------------------ while


HALVINGS = """
def halvings(x):
    n = 0
    while x > 1.0:
        x = x / 2.0
        n = n + 1
    return n
"""


def test_traced_while_in_a_plain_def():
    m = compile_(HALVINGS + "h = halvings(40.0)\n")
    assert int(m.h) == 6
    assert int(m.halvings(0.5)) == 0
    assert int(m.halvings(np.float32(1024.0))) == 10
    assert "while[" in m.halvings.ir(40.0)


def test_while_state_keeps_weak_int_as_i32():
    m = compile_(HALVINGS)
    out = m.halvings(40.0)
    assert out.dtype == np.int32


def test_while_state_promotes_a_weak_int_to_float():
    m = compile_("""
    def f(x):
        s = 0
        while s < x:
            s = s + 0.5
        return s
    """)
    out = m.f(np.float32(3.2))
    assert out.dtype == np.float32 and float(out) == 3.5


def test_static_while_unrolls():
    m = compile_("""
    def f(x):
        i = 0
        while i < 3:
            x = x * 2
            i = i + 1
        return x
    """)
    assert "while" not in m.f.ir(1.0)
    assert float(m.f(1.0)) == 8.0


def test_while_state_that_cannot_be_an_array_is_reported_at_the_loop():
    source = """
    def f(x):
        n = 2**40
        while x > 0:
            x = x - 1
            n = n + 1
        return n
    y = f(2.0)
    """
    with pytest.raises(jx.TypeError) as info:
        compile_(source)
    assert info.value.span.line == 4 and "does not fit" in info.value.message


def test_while_state_must_keep_its_shape():
    src = "def f(x):\n    while x > 0:\n        x = ones(3)\n    return x\ny = f(1.0)\n"
    with pytest.raises(jx.ShapeError) as info:
        jx.compile(src)
    assert info.value.span.line == 2


def test_endless_static_while_is_an_error_not_a_hang(monkeypatch):
    monkeypatch.setattr(jx.limits, "unroll", 1000)
    src = "def f(x):\n    while True:\n        x = x + 1\n    return x\ny = f(1.0)\n"
    with pytest.raises(jx.LimitError, match="limits.unroll = 1000") as info:
        jx.compile(src)
    assert info.value.span.line == 2


# ------------------------------------------------------------------ for


def test_static_range_loop_changes_state_structure():
    m = compile_("""
    def init(n):
        params = ()
        for i in range(n):
            w = ones((i + 1, i + 2))
            b = zeros(i + 2)
            params = params + ((w, b),)
        return params
    p = init(3)
    """)
    assert [(w.shape, b.shape) for w, b in m.p] == [((1, 2), (2,)), ((2, 3), (3,)), ((3, 4), (4,))]
    assert len(m.init(2)) == 2


def test_static_range_loop_newton():
    m = compile_("""
    def newton_sqrt(a):
        x = a
        for i in range(20):
            x = 0.5 * (x + a / x)
        return x
    """)
    assert abs(float(m.newton_sqrt(2.0)) - 2**0.5) < 1e-6
    assert "scan" not in m.newton_sqrt.ir(2.0)


def test_loop_over_a_traced_array_is_a_scan():
    m = compile_("""
    def total(xs):
        s = 0.0
        for row in xs:
            s = s + sum(row)
        return s
    def running_max(xs):
        best = xs[0]
        for v in xs:
            best = maximum(best, v)
        return best
    """)
    xs = np.arange(12, dtype=np.float32).reshape(4, 3)
    assert "scan[" in m.total.ir(xs)
    assert float(m.total(xs)) == 66.0
    assert float(m.running_max(f32(3, -1, 7, 2))) == 7.0


def test_loop_over_a_tuple_unrolls():
    m = compile_("""
    def f(ws, x):
        for w in ws:
            x = x * w
        return x
    """)
    assert float(m.f((2.0, 3.0), 1.0)) == 6.0


def test_loop_counter_weak_int_stays_i32():
    m = compile_("""
    def count(xs):
        n = 0
        for r in xs:
            n = n + 1
        return n
    def accumulate(xs):
        s = 0
        for r in xs:
            s = s + r
        return s
    """)
    n = m.count(np.ones(5, np.float32))
    assert n.dtype == np.int32 and int(n) == 5
    s = m.accumulate(np.ones(5, np.float32))
    assert s.dtype == np.float32 and float(s) == 5.0
    s64 = m.accumulate(np.ones(5, np.float64))
    assert s64.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_weak_float_loop_state_takes_the_arrays_dtype(dtype):
    m = compile_("""
    def total(xs):
        s = 0.0
        for r in xs:
            s = s + r
        return s
    def unrolled(xs):
        s = 0.0
        for i in range(xs.shape[0]):
            s = s + xs[i]
        return s
    def doubling(x):
        s = 0.5
        while s < x:
            s = s * 2 + x * 0
        return s
    """)
    xs = np.ones(3, dtype)
    assert m.total(xs).dtype == dtype == m.unrolled(xs).dtype
    assert float(m.total(xs)) == 3.0
    assert m.doubling(dtype(3)).dtype == dtype


def test_strong_loop_state_is_not_narrowed():
    m = compile_("""
    def last(xs):
        s = zeros(())
        for r in xs:
            s = r
        return s
    """)
    assert m.last(np.arange(3, dtype=np.float16)).dtype == np.float32


def test_names_first_bound_in_a_loop_do_not_escape():
    src = "def f(xs):\n    for r in xs:\n        t = r\n    return t\ny = f(ones(3))\n"
    with pytest.raises(jx.NameError) as info:
        jx.compile(src)
    assert info.value.span.line == 4
    with pytest.raises(jx.NameError):
        jx.compile("for i in range(2):\n    t = i\ny = t\n")


def test_top_level_loop_runs_eagerly(capsys):
    compile_("""
    total = 0.0
    for i in range(3):
        total = total + i
        print(i, total)
    """)
    assert capsys.readouterr().out == "0 0.0\n1 1.0\n2 3.0\n"


def test_comprehensions():
    m = compile_("""
    def rows(xs) = [r * 2 for r in xs]
    def tri(n) = [i * i for i in range(n)]
    def evens(n) = [i for i in range(n) if i % 2 == 0]
    def pairs(xs) = [(r, -r) for r in xs]
    """)
    xs = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.testing.assert_array_equal(m.rows(xs), xs * 2)
    assert "scan[" in m.rows.ir(xs)
    np.testing.assert_array_equal(m.tri(4), [0, 1, 4, 9])
    np.testing.assert_array_equal(m.evens(5), [0, 2, 4])
    _, b = m.pairs(f32(1, 2))
    np.testing.assert_array_equal(b, [-1.0, -2.0])


def test_comprehension_at_top_level():
    m = compile_("y = [r * 2 for r in reshape(arange(6.0), (3, 2))]\n")
    np.testing.assert_array_equal(m.y, np.arange(6.0).reshape(3, 2) * 2)


def test_range_of_a_traced_value_is_an_error():
    src = "def f(x):\n    for i in range(x):\n        x = x + 1\n    return x\ny = f(1.0)\n"
    with pytest.raises(jx.TypeError) as info:
        jx.compile(src)
    assert "while" in info.value.message and info.value.span.line == 2


# ------------------------------------------------------------------ the tracing cache


def test_same_signature_traces_once():
    m = compile_("def f(x) = x * 2\n")
    cache = closure(m, "f").cache
    m.f(np.ones(3, np.float32))
    assert len(cache) == 1
    entry = next(iter(cache.values()))
    m.f(np.full(3, 5.0, np.float32))
    assert len(cache) == 1 and next(iter(cache.values())) is entry


def test_new_shape_or_dtype_traces_again():
    m = compile_("def f(x) = x * 2\n")
    cache = closure(m, "f").cache
    m.f(np.ones(3, np.float32))
    m.f(np.ones(4, np.float32))
    assert len(cache) == 2
    m.f(np.ones(3, np.float64))
    assert len(cache) == 3
    m.f(2.0)
    m.f(3.0)  # a Python float is traced: one signature for every value
    assert len(cache) == 4


def test_static_ints_are_part_of_the_signature():
    m = compile_("def f(x, n) = x * n\n")
    cache = closure(m, "f").cache
    m.f(1.0, 2)
    m.f(1.0, 3)
    assert len(cache) == 2


def test_top_level_calls_use_the_cache():
    m = compile_("""
    def f(x) = x + 1
    a = f(ones(3))
    b = f(ones(3))
    c = f(ones(2))
    """)
    assert len(closure(m, "f").cache) == 2


def test_rebinding_a_module_level_array_invalidates_the_cache():
    m = compile_("""
    W = ones(3)
    def f(x) = x * W
    a = f(ones(3))
    W = 2.0 * ones(3)
    b = f(ones(3))
    """)
    np.testing.assert_array_equal(m.a, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(m.b, [2.0, 2.0, 2.0])


def test_rebinding_a_called_function_invalidates_the_cache():
    m = compile_("""
    def g(x) = x + 1
    def f(x) = g(x) * 2
    a = f(1.0)
    def g(x) = x + 2
    b = f(1.0)
    """)
    assert (float(m.a), float(m.b)) == (4.0, 6.0)


def test_rebinding_from_python_is_seen():
    m = compile_("W = ones(3)\ndef f(x) = x * W\n")
    m.f(np.ones(3, np.float32))
    m._scope.vars["W"] = np.full(3, 5.0, np.float32)
    np.testing.assert_array_equal(m.f(np.ones(3, np.float32)), [5.0, 5.0, 5.0])


# ------------------------------------------------------------------ top-level effects


def test_print_matches_numpy_str(capsys):
    compile_("""
    a = reshape(arange(6.0), (2, 3))
    print(a)
    print("a:", a[0], 3, (1, 2))
    print(ones(3) / 3)
    print(arange(3) > 0)
    """)
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    expected = [
        str(a),
        f"a: {a[0]} 3 (1, 2)",
        str(np.ones(3, np.float32) / 3),
        str(np.arange(3) > 0),
    ]
    assert capsys.readouterr().out == "\n".join(expected) + "\n"


def test_print_sep_and_end(capsys):
    compile_('print(1, 2, sep="-", end="!")\n')
    assert capsys.readouterr().out == "1-2!"


def test_save_and_load_npy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = compile_("""
    a = reshape(arange(6.0), (2, 3))
    save("x.npy", a)
    b = load("x.npy")
    """)
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), m.a)
    assert m.b.dtype == np.float32
    np.testing.assert_array_equal(m.b, m.a)


def test_save_writes_a_many_dimensional_broadcast(tmp_path, monkeypatch):
    """NumPy's writer crashed on a strided view of 53 dimensions (a fuzz case)."""
    monkeypatch.chdir(tmp_path)
    jx.compile("a = " + "[" * 52 + "ones(3)" + "]" * 52 + '\nsave("x.npy", a)')
    assert np.load(tmp_path / "x.npy").shape == (1,) * 52 + (3,)


def test_save_and_load_npz(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = compile_("""
    save("x.npz", a=ones(2), b=arange(3))
    d = load("x.npz")
    """)
    assert set(m.d) == {"a", "b"}
    np.testing.assert_array_equal(m.d["b"], [0, 1, 2])
    assert m.d["b"].dtype == np.int32


def test_save_and_load_keep_bf16(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = compile_('save("h.npy", astype(ones(2), bf16))\nh = load("h.npy")\n')
    assert str(m.h.dtype) == "bfloat16"


def test_saved_file_gets_ordinary_permissions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    compile_('save("x.npy", ones(2))\n')
    assert (tmp_path / "x.npy").stat().st_mode & 0o044  # readable beyond the owner


def test_failing_save_leaves_no_partial_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.npy").write_bytes(b"old")

    def broken_save(f, *args, **kwargs):
        f.write(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "save", broken_save)
    with pytest.raises(jx.JxRuntimeError) as info:
        jx.compile('a = ones(3)\nsave("x.npy", a)\nsave("y.npy", a)\n')
    assert info.value.span.line == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy"]
    assert (tmp_path / "x.npy").read_bytes() == b"old"


def test_save_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(jx.JxRuntimeError):
        jx.compile('save("no/such/dir/x.npy", ones(2))\n')
    with pytest.raises(jx.TypeError):
        jx.compile('save("x.txt", ones(2))\n')
    with pytest.raises(jx.TypeError):
        jx.compile('save("x.npy", lambda x: x)\n')
    assert list(tmp_path.iterdir()) == []


def test_load_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "c.npy", np.array([1 + 2j]))
    with pytest.raises(jx.JxRuntimeError) as info:
        jx.compile('y = load("missing.npy")\n')
    assert info.value.span.line == 1
    with pytest.raises(jx.TypeError) as info:
        jx.compile('y = load("c.npy")\n')
    assert "complex128" in info.value.message


def test_assert_with_and_without_message():
    jx.compile("assert 1 + 1 == 2\nassert allclose(ones(2), 1.0), 'fine'\n")
    with pytest.raises(jx.AssertionError) as info:
        jx.compile("x = ones(3)\nassert sum(x) == 4.0\n")
    assert info.value.message == "assertion failed" and info.value.span.line == 2
    with pytest.raises(jx.AssertionError) as info:
        jx.compile('x = ones(3)\nassert sum(x) == 4.0, "sum should be four"\n')
    assert info.value.message == "sum should be four"
    assert "^" in info.value.render()


def test_assert_on_an_array_is_ambiguous():
    with pytest.raises(jx.TypeError) as info:
        jx.compile("assert ones(3) == 1.0\n")
    assert "any() or all()" in info.value.message


# ------------------------------------------------------------------ conformance


def test_conformance_immutable_at(capsys):
    jx.run_file(str(CONFORMANCE / "07_immutable_at.jx"))
    assert capsys.readouterr().out.strip().splitlines()[-1] == "ok"


ERROR_CASES = {
    "mutation.jx": (jx.PurityError, 5),
    "print_in_function.jx": (jx.PurityError, 4),
    "syntax.jx": (jx.JxSyntaxError, 3),
    "undefined_name.jx": (jx.NameError, 3),
    "shape_mismatch.jx": (jx.ShapeError, 3),
    "branch_mismatch.jx": (jx.ShapeError, 3),
    "assert_fails.jx": (jx.AssertionError, 3),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_conformance_error_case(case):
    cls, line = ERROR_CASES[case]
    path = CONFORMANCE / "errors" / case
    with pytest.raises(jx.JxError) as info:
        jx.run_file(str(path))
    assert type(info.value) is cls
    assert info.value.span.line == line
    assert info.value.span.source.name == str(path)


def test_conformance_cases_through_the_cli():
    # The checker runs the real command; in-process runs above cover every case.
    cases = [str(CONFORMANCE / "errors" / c) for c in ("syntax.jx", "branch_mismatch.jx")]
    cases.append(str(CONFORMANCE / "07_immutable_at.jx"))
    proc = subprocess.run(
        [
            sys.executable,
            str(CONFORMANCE / "check.py"),
            "--jx",
            f"{sys.executable} -m jx.cli",
            *cases,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout
    assert f"{len(cases)} passed, 0 failed" in proc.stdout


# ------------------------------------------------------------------ control flow against Python


class RandomProgram:
    """Random functions of f32[3] values mixing traced ifs, conditional expressions, static
    and traced loops and comprehensions, in the subset of jx that is also Python and NumPy.
    Every value is a vector (constants are `z + c`), as traced branches must agree on shapes."""

    names = ("x", "y", "a", "b")

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def pick(self, options):
        return options[self.rng.integers(len(options))]

    def expr(self, depth=0) -> str:
        r = self.rng.random()
        if depth > 2 or r < 0.3:
            return self.pick(self.names + ("(z + 1.0)", "(z + 0.5)", "(z - 1.5)"))
        if r < 0.6:
            return f"({self.expr(depth + 1)} {self.pick('+-*')} {self.expr(depth + 1)})"
        if r < 0.7:
            return f"maximum({self.expr(depth + 1)}, {self.expr(depth + 1)})"
        if r < 0.85:
            return f"({self.expr(depth + 1)} if {self.cond()} else {self.expr(depth + 1)})"
        return f"tanh({self.expr(depth + 1)})"

    def cond(self) -> str:
        return f"sum({self.expr(2)}) {self.pick(('>', '<', '>='))} {self.pick(('0.0', '1.0'))}"

    def block(self, indent: int, depth: int, in_loop: bool) -> str:
        return "".join(self.stmt(indent, depth, in_loop) for _ in range(self.rng.integers(1, 3)))

    def stmt(self, indent: int, depth=0, in_loop=False) -> str:
        pad, r = " " * indent, self.rng.random()
        if depth > 2 or r < 0.45:
            return f"{pad}{self.pick(self.names)} = {self.expr()} + z\n"
        if r < 0.65:
            out = f"{pad}if {self.cond()}:\n{self.block(indent + 4, depth + 1, in_loop)}"
            if not in_loop and self.rng.random() < 0.25:
                out += f"{pad}    return {self.expr()} + z\n"
            if self.rng.random() < 0.7:
                out += f"{pad}else:\n{self.block(indent + 4, depth + 1, in_loop)}"
            return out
        if r < 0.75:
            n = self.rng.integers(0, 4)
            return f"{pad}for i in range({n}):\n{self.block(indent + 4, depth + 1, True)}"
        if r < 0.85:
            return f"{pad}for r in xs:\n{pad}    a = a + r * 0.5\n" + self.block(
                indent + 4, depth + 1, True
            )
        if r < 0.95:  # each while has its own counter, so every loop stops
            n = f"n{indent}"
            return (
                f"{pad}{n} = 0\n{pad}while sum(x * x) < 50.0 and {n} < 4:\n"
                f"{pad}    x = x * 1.5 + 0.25\n{pad}    {n} = {n} + 1\n"
                + self.block(indent + 4, depth + 1, True)
            )
        return f"{pad}t = [{self.expr()} * k for k in range(2)]\n{pad}b = b + t[1]\n"

    def source(self) -> str:
        body = "".join(self.stmt(4) for _ in range(self.rng.integers(2, 6)))
        return (
            f"def f(x, y, xs):\n    z = x * 0.0\n    a = x * 0.5\n    b = y + 1.0\n{body}"
            "    return x + y + a + b\n"
        )


@pytest.mark.parametrize("seed", range(40))
def test_traced_control_flow_agrees_with_python(seed):
    source = RandomProgram(seed).source()
    rng = np.random.default_rng(1000 + seed)
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    xs = rng.standard_normal((4, 3) if seed % 2 else (4, 1))
    python = {"maximum": np.maximum, "tanh": np.tanh, "sum": np.sum}
    exec(source, python)  # noqa: S102 - the same text is a Python function over NumPy arrays
    expected = python["f"](x, y, xs)
    got = jx.compile(source).f(*(v.astype(np.float32) for v in (x, y, xs)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-3, err_msg=source)
