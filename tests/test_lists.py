"""Lists: a list literal of numbers and arrays of one shape is an array (as `np.array`
makes it); any other list is a list, a tree like JAX's lists, with Python's list
operations, that becomes an array where one is expected. Records with the same keys in
any order are the same tree. Checked against NumPy and JAX on the same values."""

from __future__ import annotations

import textwrap

import jx
import numpy as np
import pytest


def compile_(src, backend="numpy"):
    return jx.compile(textwrap.dedent(src), backend=backend)


def test_concatenate_and_stack_take_lists():
    m = compile_("""
    a = arange(2.0)
    b = arange(3.0)
    joined = concatenate([a, b])
    stacked = stack([a, a + 1])
    rows = vstack([ones((1, 3)), zeros((2, 3))])
    """)
    a, b = np.arange(2.0), np.arange(3.0)
    np.testing.assert_array_equal(m.joined, np.concatenate([a, b]))
    np.testing.assert_array_equal(m.stacked, np.stack([a, a + 1]))
    np.testing.assert_array_equal(m.rows, np.vstack([np.ones((1, 3)), np.zeros((2, 3))]))


def test_a_numeric_list_literal_is_still_an_array():
    m = compile_("""
    x = [1.0, 2.0]
    y = [[1, 2], [3, 4]]
    doubled = x * 2
    s = y.shape
    """)
    np.testing.assert_array_equal(m.doubled, [2.0, 4.0])
    assert m.s == (2, 2) and m.y.dtype == np.int32


def test_a_list_of_pairs_is_a_list_of_pairs():
    m = compile_("""
    params = [(ones((2, 3)), zeros(3)), (ones((3, 1)), zeros(1))]
    shapes = [(w.shape, b.shape) for w, b in params]
    n = len(params)
    last_w = params[-1][0]
    first, *rest = params
    w0, b0 = params[0]
    more = params + [(ones((1, 1)), zeros(1))]
    twice = len(params * 2)
    head = params[:1]
    """)
    assert m.shapes == [((2, 3), (3,)), ((3, 1), (1,))]
    assert m.n == 2 and m.last_w.shape == (3, 1)
    assert isinstance(m.rest, tuple) and len(m.rest) == 1
    assert m.w0.shape == (2, 3) and len(m.more) == 3 and m.twice == 4
    assert isinstance(m.head, list) and len(m.head) == 1


def test_a_ragged_list_is_a_shape_error_where_an_array_is_needed():
    for src in (
        "x = [ones(2), ones(3)] + 1.0",
        "x = array([[1, 2], [3]])",
        "x = sum([[1], [2, 3]])",
    ):
        with pytest.raises(jx.ShapeError, match="ragged") as info:
            jx.compile(src)
        assert info.value.span.line == 1


def test_lists_print_as_lists(capsys):
    jx.compile("print([ones(2), zeros(3)])\nprint([(1, 2), (3,)])\nprint([])\n")
    assert capsys.readouterr().out == "[[1. 1.], [0. 0. 0.]]\n[(1, 2), (3,)]\n[]\n"


def test_grad_with_respect_to_a_list_is_a_list_as_in_jax():
    jax = pytest.importorskip("jax")
    m = compile_("""
    def loss(params, x):
        for w, b in params:
            x = tanh(x @ w + b)
        return sum(x ** 2)
    def g(params, x) = grad(loss)(params, x)
    """)
    rng = np.random.default_rng(0)
    params = [
        (rng.standard_normal((3, 4)).astype(np.float32), np.zeros(4, np.float32)),
        (rng.standard_normal((4, 2)).astype(np.float32), np.ones(2, np.float32)),
    ]
    x = rng.standard_normal((5, 3)).astype(np.float32)

    def jax_loss(params, x):
        for w, b in params:
            x = jax.numpy.tanh(x @ w + b)
        return (x**2).sum()

    got, want = m.g(params, x), jax.grad(jax_loss)(params, x)
    assert isinstance(got, list) and len(got) == 2
    for (gw, gb), (ww, wb) in zip(got, want):
        np.testing.assert_allclose(gw, ww, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(gb, wb, rtol=1e-5, atol=1e-6)


def test_python_lists_of_arrays_are_trees():
    first = jx.fn("lambda x: x[0]")
    np.testing.assert_array_equal(first([np.ones(2), np.ones(3)]), np.ones(2))
    doubled = jx.fn("lambda xs: tree_map(lambda x: 2 * x, xs)")([np.ones(2), np.ones(3)])
    assert isinstance(doubled, list) and doubled[1].shape == (3,)
    ragged = jx.fn("lambda x: len(x)")([[1, 2], [3]])
    assert int(ragged) == 2
    numbers = jx.fn("lambda x: x.shape")([[1, 2], [3, 4]])
    assert tuple(numbers) == (2, 2)


def test_jit_retraces_for_another_list_structure():
    f = jx.fn("jit(lambda xs: sum([sum(x) for x in xs]))")
    assert float(f([np.ones(2), np.ones(3)])) == 5.0
    assert float(f([np.ones(2), np.ones(3), np.ones(4)])) == 9.0


def test_list_and_tuple_builtins():
    m = compile_("""
    a = list(range(3))
    b = tuple([1, 2])
    c = list((ones(2), ones(3)))
    """)
    assert m.a == [0, 1, 2] and m.b == (1, 2) and isinstance(m.c, list)


def test_a_comprehension_of_trees_is_a_list():
    m = compile_("""
    pairs = [(i, i * 2) for i in range(3)]
    rows = [ones(3) * i for i in range(3)]
    """)
    assert m.pairs == [(0, 0), (1, 2), (2, 4)]
    np.testing.assert_array_equal(m.rows, np.ones((3, 3)) * np.arange(3)[:, None])


def test_records_in_another_key_order_are_the_same_tree():
    jax = pytest.importorskip("jax")
    m = compile_("""
    def f(p) = p["a"] * sin(p["b"])
    p = {"a": 2.0, "b": 0.5}
    t = {"b": 1.0, "a": 0.0}
    out = jvp(f, (p,), (t,))
    added = tree_map(lambda x, y: x + y, p, t)
    """)
    want = jax.jvp(
        lambda p: p["a"] * jax.numpy.sin(p["b"]), ({"a": 2.0, "b": 0.5},), ({"b": 1.0, "a": 0.0},)
    )
    np.testing.assert_allclose(m.out, want, rtol=1e-6)
    assert list(m.added) == ["a", "b"] and float(m.added["a"]) == 2.0
    assert list(m.t) == ["b", "a"]  # a record keeps the order it was written in


@pytest.mark.parametrize("src", ["y = sum(x for x in xs)", "y = (x for x in xs)"])
def test_a_generator_expression_says_to_write_a_list_comprehension(src):
    with pytest.raises(jx.JxSyntaxError, match=r"sum\(\[x for x in xs\], axis=0\)") as info:
        jx.compile(f"xs = (ones(2), ones(2))\n{src}\n")
    assert info.value.span.line == 2
    m = jx.compile("xs = (ones(2), ones(2))\ny = sum([x for x in xs], axis=0)\n")
    np.testing.assert_array_equal(m.y, [2.0, 2.0])
