"""The Python embedding (LANGUAGE.md section 8): `jx.compile`, `jx.fn`, `jx.run_file`,
`jx.jit`, `Function.ir`; NumPy arrays and Python scalars in, NumPy arrays out; errors are
`jx.JxError` subclasses with spans."""

import jx
import numpy as np
import pytest

POLY = """
def f(x):
    return x + x*x + x*x*x
"""


def test_compile_with_the_numpy_backend():
    m = jx.compile(POLY, backend="numpy")
    out = m.f(np.ones(3, np.float32))
    assert type(out) is np.ndarray
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [3.0, 3.0, 3.0])


def test_unknown_backend():
    with pytest.raises(jx.ValueError) as info:
        jx.compile(POLY, backend="tpu")
    assert "tpu" in info.value.message


def test_module_attributes():
    m = jx.compile("a = 2.0 * ones(2)\nn = 3\nt = (1, ones(1))\ndef g(x) = x\n")
    np.testing.assert_array_equal(m.a, [2.0, 2.0])
    assert m.n == 3 and m["n"] == 3
    assert "g" in m and "nope" not in m
    assert {"a", "n", "t", "g"} <= set(dir(m))
    assert isinstance(m.g, jx.Function)
    with pytest.raises(AttributeError):
        m.nope  # noqa: B018
    assert not hasattr(m, "_private")


@pytest.mark.parametrize(
    "x, dtype",
    [
        (np.ones(3, np.float32), np.float32),
        (np.ones(3, np.float64), np.float64),
        (np.ones(3, np.float16), np.float16),
        (np.arange(3, dtype=np.int32), np.int32),
        (2.0, np.float32),
        (2, np.int32),
        (np.float64(2.0), np.float64),
        ([1.0, 2.0], np.float32),
        ([1, 2], np.int32),
        (np.array([1.0, 2.0]), np.float64),
    ],
    ids=[
        "f32",
        "f64",
        "f16",
        "i32",
        "py-float",
        "py-int",
        "np-f64-scalar",
        "list",
        "int-list",
        "np-f64",
    ],
)
def test_arrays_out_with_the_right_dtype(x, dtype):
    m = jx.compile(POLY)
    out = m.f(x)
    assert type(out) is np.ndarray
    assert out.dtype == dtype
    xs = np.asarray(x, dtype)
    np.testing.assert_allclose(out, xs + xs * xs + xs * xs * xs)


def test_python_lists_read_like_array_literals():
    f = jx.fn("lambda x: x")
    assert f([0.1, 2.0]).dtype == np.float32
    assert f([[1, 2], [3, 4]]).dtype == np.int32
    assert f([True, False]).dtype == np.bool_
    assert f([2**40, 1]).dtype == np.int64  # kept whole rather than wrapped
    assert f([1e300]).dtype == np.float64  # kept finite rather than made inf


def test_static_results_leave_as_arrays():
    m = jx.compile("def fact(n) = 1 if n <= 1 else n * fact(n - 1)\ndef pair(x) = (x, 2.5)\n")
    out = m.fact(5)
    assert type(out) is np.ndarray and out.dtype == np.int32 and int(out) == 120
    _, b = m.pair(np.ones(2, np.float32))
    assert type(b) is np.ndarray and b.dtype == np.float32


def test_a_static_int_result_beyond_i64_is_an_error():
    m = jx.compile("def f(n) = n\n")
    assert m.f(2**40).dtype == np.int64
    with pytest.raises(jx.TypeError) as info:
        m.f(2**70)
    assert info.value.span.line == 1


def test_trees_in_and_out():
    m = jx.compile('def f(p, xs) = {"y": p["w"] * xs[0] + xs[1], "n": len(xs)}\n')
    out = m.f({"w": np.float32(2.0)}, (np.ones(2, np.float32), 1.0))
    assert set(out) == {"y", "n"}
    np.testing.assert_array_equal(out["y"], [3.0, 3.0])
    assert int(out["n"]) == 2


def test_keyword_arguments_from_python():
    m = jx.compile("def f(x, scale=1.0) = x * scale\n")
    assert float(m.f(2.0, scale=3.0)) == 6.0
    assert float(m.f(x=2.0)) == 2.0


def test_env_constants():
    W = np.eye(3, dtype=np.float32) * 2
    m = jx.compile("def h(x) = W @ x + c\n", env={"W": W, "c": 1.0})
    np.testing.assert_array_equal(m.h(np.ones(3, np.float32)), [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(m.W, W)


def test_env_trees_and_f64():
    m = jx.compile('def h(x) = p["a"] * x + p["b"][0]\n', env={"p": {"a": np.ones(2), "b": (3.0,)}})
    out = m.h(np.ones(2, np.float32))
    assert out.dtype == np.float64  # an f64 constant is honoured, not truncated


def test_env_python_callable_is_refused():
    with pytest.raises(jx.PurityError) as info:
        jx.compile("y = f(1.0)\n", env={"f": lambda x: x})
    assert info.value.span is not None and info.value.span.line == 1


def test_fn():
    g = jx.fn("lambda x, y: x @ y")
    out = g(np.eye(2, dtype=np.float32), np.ones(2, np.float32))
    assert type(out) is np.ndarray and out.dtype == np.float32
    np.testing.assert_array_equal(out, [1.0, 1.0])
    assert isinstance(g, jx.Function)


def test_fn_with_env_and_builtins():
    g = jx.fn("lambda x: sum(x * k)", env={"k": 2.0})
    assert float(g(np.ones(3, np.float32))) == 6.0
    assert float(jx.fn("sqrt")(4.0)) == 2.0


def test_fn_errors_point_into_the_expression():
    with pytest.raises(jx.JxSyntaxError) as info:
        jx.fn("lambda x: x +")
    assert info.value.span.line == 1 and info.value.span.column == 14
    assert "lambda x: x +" in info.value.render()
    with pytest.raises(jx.ValueError) as info:
        jx.fn("3 + 4")
    assert info.value.span is not None and "function" in info.value.message
    with pytest.raises(jx.NameError) as info:
        jx.fn("lambda x: x + yy")
    assert info.value.span.column == 15


def test_run_file(tmp_path, capsys):
    path = tmp_path / "script.jx"
    path.write_text("def sq(x) = x * x\ny = sq(arange(3.0))\nprint(y)\n")
    ns = jx.run_file(str(path))
    assert capsys.readouterr().out == "[0. 1. 4.]\n"
    np.testing.assert_array_equal(ns.y, [0.0, 1.0, 4.0])
    assert float(ns.sq(3.0)) == 9.0


def test_run_file_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.jx"
    path.write_text("x = 1\ny = x + zz\n")
    with pytest.raises(jx.NameError) as info:
        jx.run_file(str(path))
    assert info.value.span.source.name == str(path)
    assert info.value.render().startswith(f"{path}:2:9: NameError:")


def test_ir_text():
    m = jx.compile(POLY)
    ir = m.f.ir(np.ones(3, np.float32))
    assert ir.startswith("{ lambda a:f32[3] .")
    assert "mul" in ir and "add" in ir
    assert "f64" in m.f.ir(np.ones(3))
    assert "f64[]~" in m.f.ir(2.0)  # a Python float is weak and exact


def test_ir_does_not_run_or_fill_the_cache():
    m = jx.compile(POLY)
    m.f.ir(np.ones(3, np.float32))
    assert m._scope.vars["f"].cache == {}


def test_jit_from_python():
    m = jx.compile(POLY)
    jf = jx.jit(m.f)
    out = jf(np.full(2, 2.0, np.float32))
    np.testing.assert_array_equal(out, [14.0, 14.0])
    assert type(out) is np.ndarray and out.dtype == np.float32
    with pytest.raises(jx.PurityError):
        jx.jit(lambda x: x)


def test_jit_in_jx_matches_the_plain_call():
    m = jx.compile(POLY + "a = f(linspace(-1.0, 1.0, 5))\nb = jit(f)(linspace(-1.0, 1.0, 5))\n")
    np.testing.assert_allclose(m.a, m.b)


def test_returned_functions_are_callable_from_python():
    m = jx.compile("def scaler(a) = lambda x: x * a\n")
    triple = m.scaler(3.0)
    assert isinstance(triple, jx.Function)
    np.testing.assert_array_equal(triple(np.ones(2, np.float32)), [3.0, 3.0])


def test_functions_inside_results_are_callable_from_python():
    m = jx.compile("def pair(x) = (x, lambda y: y + x)\nfns = {'root': sqrt}\n")
    _, add_x = m.pair(1.0)
    assert isinstance(add_x, jx.Function)
    assert float(add_x(2.0)) == 3.0
    assert isinstance(m.fns["root"], jx.Function)
    assert float(m.fns["root"](9.0)) == 3.0


# ------------------------------------------------------------------ errors


def test_errors_are_jx_errors_with_spans():
    with pytest.raises(jx.JxError) as info:
        jx.compile("x = ones(3)\ny = x @ ones(4)\n")
    err = info.value
    assert isinstance(err, jx.ShapeError)
    assert (err.span.line, err.span.column) == (2, 5)
    lines = err.render().splitlines()
    assert lines[0].startswith("<string>:2:5: ShapeError:")
    assert lines[1] == "    y = x @ ones(4)"
    assert lines[2] == "        ^^^^^^^^^^^"
    assert str(err) == err.render()


def test_error_inside_a_function_called_from_python():
    m = jx.compile("def h(x, y) = x + y\n")
    with pytest.raises(jx.ShapeError) as info:
        m.h(np.ones(3, np.float32), np.ones(4, np.float32))
    assert info.value.span.line == 1 and info.value.span.column == 15


def test_bad_arity_from_python_points_at_the_definition():
    m = jx.compile("x = 1\ndef h(x, y) = x + y\n")
    for args in [(1.0,), (1.0, 2.0, 3.0)]:
        with pytest.raises(jx.TypeError) as info:
            m.h(*args)
        assert info.value.span.line == 2
    with pytest.raises(jx.TypeError) as info:
        m.h(1.0, z=2.0)
    assert "'z'" in info.value.message
    with pytest.raises(jx.TypeError):
        m.h.ir(1.0)


@pytest.mark.parametrize(
    "value, cls",
    [
        (lambda x: x, jx.PurityError),
        (object(), jx.ValueError),
        (np.ones(2, np.complex64), jx.TypeError),
    ],
    ids=["callable", "object", "complex"],
)
def test_bad_host_arguments(value, cls):
    m = jx.compile("def h(x) = x\n")
    with pytest.raises(cls) as info:
        m.h(value)
    assert info.value.span is not None and info.value.span.line == 1


def test_every_public_error_is_a_jx_error():
    for name in [
        "JxSyntaxError",
        "NameError",
        "ImportError",
        "PurityError",
        "KeyReuseError",
        "ShapeError",
        "TypeError",
        "IndexError",
        "RecursionError",
        "AssertionError",
        "JxRuntimeError",
        "ValueError",
    ]:
        assert issubclass(getattr(jx, name), jx.JxError)
