"""pmap over virtual CPU devices (LANGUAGE.md section 10): per-shard results equal a loop,
collectives combine every shard's value, the device count bounds the mapped axis (and
JX_CPU_DEVICES changes it), errors in one shard or shards that diverge at a collective
are reported rather than hanging, and inside a trace pmap evaluates as vmap."""

import os
import pathlib
import subprocess
import sys
import textwrap

import jx
import numpy as np
import pytest

CONFORMANCE = pathlib.Path(__file__).resolve().parent / "conformance"
RNG = np.random.default_rng(1)


def compile_(source: str):
    return jx.compile(textwrap.dedent(source))


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def test_pmap_equals_a_loop():
    m = compile_("""
    def f(x, w) = tanh(x @ w) + sum(x)
    g = pmap(f, in_axes=(0, None))
    """)
    xs, w = rand(4, 2, 3), rand(3, 5)
    want = np.stack([m.f(xs[i], w) for i in range(4)])
    np.testing.assert_allclose(m.g(xs, w), want, rtol=1e-5)


def test_pmap_of_vmap():
    m = compile_("""
    W = reshape(arange(12.0), (4, 3)) * 0.1
    def layer(x) = maximum(dot(W, x), 0.0)
    g = pmap(vmap(layer))
    h = vmap(layer)
    """)
    xss = rand(4, 5, 3)
    out = m.g(xss)
    assert out.shape == (4, 5, 4)
    np.testing.assert_allclose(out[2], m.h(xss[2]), rtol=1e-6)


def test_collective_values():
    m = compile_("""
    def f(x) = (psum(x, "i"), pmean(x, "i"), pmax(x, "i"), pmin(x, "i"), all_gather(x, "i"),
                axis_index("i"))
    g = pmap(f, axis_name="i")
    """)
    x = rand(5, 3)
    s, mean, mx, mn, gathered, idx = m.g(x)
    np.testing.assert_allclose(s, np.broadcast_to(x.sum(0), x.shape), rtol=1e-5)
    np.testing.assert_allclose(mean, np.broadcast_to(x.mean(0), x.shape), rtol=1e-5)
    np.testing.assert_array_equal(mx, np.broadcast_to(x.max(0), x.shape))
    np.testing.assert_array_equal(mn, np.broadcast_to(x.min(0), x.shape))
    np.testing.assert_array_equal(gathered, np.broadcast_to(x, (5,) + x.shape))
    np.testing.assert_array_equal(idx, np.arange(5))


def test_psum_of_a_tree_and_of_ints():
    m = compile_("""
    g = pmap(lambda p: psum(p, "d"), axis_name="d")
    n = pmap(lambda x: psum(x > 0.0, "d"), axis_name="d")
    """)
    a, b = rand(3, 2), rand(3)
    out = m.g({"a": a, "b": (b,)})
    np.testing.assert_allclose(out["a"], np.broadcast_to(a.sum(0), a.shape), rtol=1e-5)
    np.testing.assert_allclose(out["b"][0], np.broadcast_to(b.sum(), b.shape), rtol=1e-5)
    x = np.array([1.0, -1.0, 2.0], np.float32)
    np.testing.assert_array_equal(m.n(x), [2, 2, 2])


def test_collectives_inside_control_flow():
    m = compile_("""
    def f(x):
        while psum(x, "i") < 100.0:
            x = x * 2.0
        if pmax(x, "i") > 50.0:
            x = x - psum(1.0, "i")
        return x
    g = pmap(f, axis_name="i")
    def total(xs) = [psum(r, "i") for r in xs]
    h = pmap(total, axis_name="i")
    """)
    np.testing.assert_allclose(m.g(np.array([1.0, 2.0, 3.0], np.float32)), [29.0, 61.0, 93.0])
    xs = rand(2, 3, 4)
    np.testing.assert_allclose(m.h(xs), np.broadcast_to(xs.sum(0), xs.shape), rtol=1e-5)


def test_out_axes_and_unmapped_outputs():
    m = compile_("""
    g = pmap(lambda x: (x * 2.0, psum(sum(x), "i")), axis_name="i", out_axes=(1, None))
    """)
    x = rand(3, 4)
    a, s = m.g(x)
    np.testing.assert_allclose(a, (x * 2).T, rtol=1e-6)
    np.testing.assert_allclose(s, x.sum(), rtol=1e-5)


def test_pmap_over_keys_matches_a_loop():
    m = compile_("""
    import random
    def draw(k) = random.normal(k, (3,))
    a = pmap(draw)(random.split(random.key(5), 4))
    keys = random.split(random.key(5), 4)
    b = [draw(keys[i]) for i in range(4)]
    """)
    np.testing.assert_array_equal(m.a, m.b)


def test_too_large_leading_axis():
    m = compile_("g = pmap(lambda x: x * 2.0)")
    with pytest.raises(jx.ValueError, match="size 9 but there are only 8 devices"):
        m.g(np.ones((9, 2), np.float32))


def test_mismatched_sizes():
    m = compile_("g = pmap(lambda x, y: x + y)")
    with pytest.raises(jx.ValueError, match=r"size 2.*size 3"):
        m.g(np.ones(2, np.float32), np.ones(3, np.float32))


def test_jx_cpu_devices_is_respected():
    code = textwrap.dedent("""
        import jx, numpy as np
        m = jx.compile("g = pmap(lambda x: psum(x, 'i'), axis_name='i')")
        print(m.g(np.ones(2, np.float32)).tolist())
        try:
            m.g(np.ones(3, np.float32))
        except jx.ValueError as e:
            print(e.message)
    """)
    env = dict(os.environ, JX_CPU_DEVICES="2")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "[2.0, 2.0]"
    assert "size 3 but there are only 2 devices" in lines[1]


def test_a_failing_shard_releases_the_others():
    from jx.backends import numpy as numpy_backend
    from jx.transforms.pmap import run_shards

    m = compile_("g = pmap(lambda x: psum(x, 'i'), axis_name='i')")
    m.g(np.ones(3, np.float32))
    program = next(iter(m._scope.vars["g"].cache.values())).program

    class Failing:
        name = "numpy"

        @staticmethod
        def run(program, args):
            if float(args[0]) == 1.0:
                raise RuntimeError("device lost")
            return numpy_backend.run(program, args)

    shards = [[np.float32(i)] for i in range(3)]
    with pytest.raises(jx.JxRuntimeError, match="device lost"):
        run_shards(Failing, program, shards, "i", None)


def test_trace_errors_surface_with_their_class():
    m = compile_("g = pmap(lambda x: x @ x)")
    with pytest.raises(jx.ShapeError):
        m.g(np.ones((2, 3, 2), np.float32))


def test_shards_diverging_at_a_collective_do_not_hang():
    m = compile_("""
    def f(x):
        while x > 1.0:
            x = x / 2.0 + 0.0 * psum(x, "i")
        return x
    g = pmap(f, axis_name="i")
    """)
    with pytest.raises(jx.JxRuntimeError, match="did not all reach the same collectives"):
        m.g(np.array([1.5, 40.0], np.float32))


def test_pmap_inside_a_trace_evaluates_as_vmap():
    m = compile_("""
    inner = pmap(lambda x: x - pmean(x, "i"), axis_name="i")
    g = jit(lambda xs: inner(xs) * 2.0)
    h = vmap(lambda xs: inner(xs))
    """)
    x = rand(3, 2)
    np.testing.assert_allclose(m.g(x), (x - x.mean(0)) * 2, rtol=1e-5, atol=1e-6)
    y = rand(2, 3, 2)
    np.testing.assert_allclose(m.h(y), y - y.mean(1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_top_level_calls_do_not_retrace():
    m = compile_("g = pmap(lambda x: x + 1.0)")
    pm = m._scope.vars["g"]
    m.g(np.ones((2, 3), np.float32))
    m.g(np.zeros((2, 3), np.float32))
    assert len(pm.cache) == 1


def test_conformance_case():
    out = subprocess.run(
        [sys.executable, "-m", "jx.cli", "run", str(CONFORMANCE / "06_vmap_pmap.jx")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "ok"
