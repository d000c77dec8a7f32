"""Argument checking and resource bounds: each bad call or runaway program is a JxError at
the user's line that names what was wrong (the closest keyword or library name, the bound
and how to raise it), and values inside the bounds still compute what NumPy does."""

import subprocess
import sys

import jx
import numpy as np
import pytest


def error_of(source: str) -> jx.JxError:
    with pytest.raises(jx.JxError) as caught:
        jx.compile(source, name="b.jx")
    assert caught.value.span is not None and caught.value.span.source.name == "b.jx"
    return caught.value


# ------------------------------------------------------------------ arguments


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        ("y = sum(ones(3), axiss=0)", "did you mean 'axis'?"),
        ("y = ones((2, 3)).sum(axes=0)", "did you mean 'axis'?"),
        ("y = ones(3).mean(keepdim=True)", "did you mean 'keepdims'?"),
        ("y = normalize(ones(3))", "did you mean 'nn.normalize' (import nn)?"),
        ("y = qr(eye(2))", "did you mean 'linalg.qr' (import linalg)?"),
    ],
)
def test_a_misspelt_keyword_or_name_gets_a_suggestion(source, hint):
    assert hint in error_of(source).message


def test_array_methods_keep_their_builtins_signature():
    m = jx.compile(
        "x = reshape(arange(6.0), (2, 3))\na = x.sum(1)\nb = x.max(axis=0, keepdims=True)"
    )
    np.testing.assert_array_equal(m.a, [3.0, 12.0])
    np.testing.assert_array_equal(m.b, [[3.0, 4.0, 5.0]])
    assert (
        "too many positional arguments"
        in error_of("y = ones(3).sum(0, None, False, 1, 2, 3, 4, 5)").message
    )


@pytest.mark.parametrize(
    "source",
    [
        "print(1, sep=3)",
        "print(1, end=2)",
        "y = sum(eye(2), keepdims=ones(2))",
        "y = argmax(eye(2), 0, keepdims=ones(2))",
        "import linalg\ny = linalg.cholesky(eye(2), eye(2))",
        "import linalg\ny = linalg.eigh(eye(2), eye(2))",
        "f = lambda x: x\ng = jit(f, static_argnums=f32)",
        "y = (1, 2)[::0]",
        "y = (1, 2)[::1.5]",
        "y = max(1.0, 0)",
        "y = trace(ones(3))",
        "y = hstack(())",
        "y = pmap(lambda r: r)(eye(0))",
    ],
)
def test_a_value_where_another_kind_goes_is_an_error(source):
    error_of(source)


def test_zero_d_axes_are_out_of_bounds_as_in_jax():
    assert "out of bounds" in error_of("y = std(1.0, axis=0)").message
    m = jx.compile("y = sum(2.0)\nz = std(ones(3), axis=-1)")
    assert m.y == 2.0 and m.z == 0.0


# ------------------------------------------------------------------ integers


@pytest.mark.parametrize(
    "source", ["y = 2 ** (10**10)", "y = 1 << (10**10)", "print(10**5000)", "y = 3 ** 3000"]
)
def test_static_integers_are_bounded_before_they_are_computed(source):
    message = error_of(source).message
    assert "jx.limits.int_bits" in message and "JX_LIMIT_INT_BITS" in message


def test_the_int_bound_can_be_raised(monkeypatch):
    monkeypatch.setattr(jx.limits, "int_bits", 20_000)
    # computed exactly inside jx (a result this big cannot leave as an array)
    assert bool(jx.compile("y = 2 ** 10000\nok = y // 2 ** 9999 == 2").ok)


def test_integers_that_do_not_fit_an_array_are_type_errors():
    assert "does not fit in i64" in error_of("y = array([2**70])").message
    # 2**63 is a weak u64 (as in JAX with x64); past u64 nothing holds it
    assert "does not fit" in error_of("y = jit(lambda x: x)(2**64)").message
    np.testing.assert_array_equal(jx.compile("y = array([2**40])").y, [2**40])


def test_python_conversions_refuse_what_python_refuses():
    for source in ["y = int(inf)", "y = int(nan)", "y = float(10**400)", "y = arange(nan)"]:
        assert isinstance(error_of(source), jx.ValueError)
    m = jx.compile(
        "a = len(range(10**20)) == 10**20\nb = len(range(10, 0, -3))\nc = len(range(5, 2))"
    )
    assert (bool(m.a), m.b, m.c) == (True, 4, 0)


def test_round_to_more_decimals_than_a_float_holds():
    m = jx.compile("a = round(array([1.5, 2.25]), 400)\nb = round(array([7.0]), -400)")
    np.testing.assert_array_equal(m.a, [1.5, 2.25])
    np.testing.assert_array_equal(m.b, [0.0])


# ------------------------------------------------------------------ arrays and programs


@pytest.mark.parametrize(
    "source",
    [
        "print(sum(zeros((1 << 40,))))",
        "y = jit(lambda x: x + zeros((2**40, 2**40)))(ones(1))",
        "y = jacfwd(lambda x: x * 2.0)(ones(200000))",
        "y = reshape(ones(1), (2**64,))",
        "y = zeros((2**62, 0, 2**62))",
    ],
)
def test_arrays_past_the_byte_bound_are_refused_before_allocation(source):
    error = error_of(source)
    assert "jx.limits.array_bytes" in error.message or "cannot reshape" in error.message


def test_the_array_bound_is_checked_at_its_own_size(monkeypatch):
    monkeypatch.setattr(jx.limits, "array_bytes", 4000)
    assert jx.compile("y = zeros(1000)").y.shape == (1000,)
    assert "4_000 bytes" in error_of("y = zeros(1001)").message


def test_arrays_have_at_most_64_dimensions():
    assert "at most 64" in error_of("y = reshape(ones(1), (1,) * 65)").message


def test_nested_differentiation_is_bounded():
    nested = "lambda x: sin(x)"
    for _ in range(14):
        nested = f"grad({nested})"
    error = error_of(f"y = {nested}(1.0)")
    assert "jx.limits.transform_depth" in error.message
    m = jx.compile("y = grad(grad(grad(lambda x: sin(x))))(1.0)")
    assert np.isclose(m.y, -np.cos(1.0))


def test_the_program_bound_names_itself(monkeypatch):
    monkeypatch.setattr(jx.limits, "program_equations", 50)
    error = error_of(
        "def f(x):\n    for i in (1,) * 100:\n        x = x * 2.0\n    return x\ny = f(1.0)"
    )
    assert "jx.limits.program_equations" in error.message and error.span.line in (3, 5)


def test_a_bound_set_in_the_environment():
    code = "import jx; print(jx.limits.int_bits, jx.limits.transform_depth)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"JX_LIMIT_INT_BITS": "64", "JX_LIMIT_TRANSFORM_DEPTH": "3", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["64", "3"]


# ------------------------------------------------------------------ loops and the library


@pytest.mark.parametrize(
    ("source", "who"),
    [
        ("y = fori_loop(0, 3, lambda i, v: v + 0.5, 0)", "fori_loop's body"),
        ("y = while_loop(lambda v: v < 3, lambda v: v + 0.5, 0)", "while_loop's body"),
        ("y = scan(lambda c, x: (c + x, c), 0, arange(3.0))", "scan's function"),
    ],
)
def test_a_float_into_an_int_carry_is_an_error_like_jax(source, who):
    error = error_of(source)
    assert isinstance(error, jx.TypeError) and who in error.message and "astype" in error.message


def test_widening_carries_still_work():
    m = jx.compile(
        "a = fori_loop(0, 3, lambda i, v: v + 1, 0.0)\n"
        "b = fori_loop(0, 3, lambda i, v: v + 0.5, astype(1, f16))\n"
        "c = while_loop(lambda v: v < 3.0, lambda v: v + 1, 0.5)"
    )
    assert (float(m.a), float(m.b), float(m.c)) == (3.0, 2.5, 3.5)
    assert m.b.dtype == np.float16


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("import nn\ny = nn.softmax(f32)", 2),
        ("import random\ny = random.normal(random.key(3), (-1))", 2),
        ("import nn\ndef f(x) = nn.log_sigmoid(x='nope')\ny = f(1.0)", 2),
    ],
)
def test_an_error_inside_the_library_points_at_the_users_call(source, line):
    error = error_of(source)
    assert error.span.line == line
    assert any("standard library" in note for note, _ in error.notes)
