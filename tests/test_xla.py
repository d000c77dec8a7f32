"""The XLA backend against the NumPy reference: a table of primitive specs (each run through
its own small executable and inside a whole compiled program), control flow, f64, random
bits, the device option, pmap over XLA CPU devices and the StableHLO text itself. Skipped
where jaxlib is absent."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax")

import jx
from jx import primitives
from jx.backends import numpy as numpy_backend
from jx.backends.xla import runtime as xla
from jx.dtypes import ShapedArray, bf16
from jx.errors import JxError
from jx.ir import Eqn, Program, Var
from jx.registry import REGISTRY

RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float32, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape).astype(dtype)


def ints(*shape, dtype=np.int32, low=-9, high=10):
    return RNG.integers(low, high, shape).astype(dtype)


def bools(*shape):
    return RNG.integers(0, 2, shape).astype(bool)


X, Y = rand(3, 4), rand(3, 4)
POS = rand(3, 4, low=0.1, high=3.0)
UNIT = rand(3, 4, low=-0.95, high=0.95)
I, J = ints(3, 4), ints(3, 4)
U, V = ints(3, 4, dtype=np.uint32, low=0, high=1000), ints(3, 4, dtype=np.uint32, low=0, high=40)
SPECIAL = np.array([0.0, -0.0, 1.5, -1.5, np.inf, -np.inf, np.nan, 2.5, -3.5, 7.0], np.float32)
D = np.array([3.0, -3.0, 0.0, -0.0, 2.5, -2.5, np.inf, 1.0, -7.0, 0.5], np.float32)


def _program(prim, args, params):
    inputs = [Var(ShapedArray(a.shape, a.dtype, False)) for a in args]
    outs = [Var(a) for a in prim.abstract_eval(*(v.aval for v in inputs), **params)]
    return Program(inputs, [Eqn(prim, inputs, outs, params, None)], outs)


# Every unary primitive from the registry, except those whose domain needs special inputs
# (they have their own rows below).
UNARY_F = [
    n for n in primitives.FLOAT_UNARY if n not in ("asin", "acos", "acosh", "atanh", "erf_inv")
] + ["neg", "sign", "abs", "is_finite", "is_nan"]
# fmt: off
SPECS = (
    [(n, (POS if n.startswith(("log", "sqrt", "rsqrt")) else X,), {}) for n in UNARY_F]
    + [(n, (SPECIAL,), {}) for n in ("floor", "ceil", "round", "sign", "abs", "is_finite")]
    + [(n, (UNIT,), {}) for n in ("asin", "acos", "atanh", "erf_inv")]
    + [("acosh", (POS + 1,), {}), ("log", (POS,), {"exact": True}),
       ("log1p", (POS,), {"exact": True}), ("not", (I,), {}), ("not", (bools(5),), {}),
       ("neg", (I,), {}), ("abs", (I,), {}), ("sign", (I,), {}), ("sign", (U,), {})]
    + [(n, (X, Y), {}) for n in ("add", "sub", "mul", "div", "max", "min", "atan2", "pow",
                                  "nextafter", "floor_divide", "rem")]
    + [(n, (SPECIAL[:, None] * np.ones(10, np.float32), np.ones(10, np.float32)[:, None] * D),
        {}) for n in ("floor_divide", "rem")]
    + [(n, (I, J), {}) for n in ("add", "sub", "mul", "div", "floor_divide", "rem", "max",
                                  "min", "and", "or", "xor")]
    + [(n, (U, V), {}) for n in ("div", "floor_divide", "rem", "pow", "xor", "shift_left",
                                  "shift_right")]
    + [("pow", (I, ints(3, 4, low=-3, high=5)), {}),
       ("pow", (np.array([1, -1, 2, -2, 0], np.int32), np.array([-3, -3, -1, 3, 2], np.int32)),
        {}),
       ("shift_left", (I, ints(3, 4, low=0, high=40)), {}),
       ("shift_right", (I, ints(3, 4, low=0, high=40)), {}),
       ("and", (bools(6), bools(6)), {}), ("max", (bools(6), bools(6)), {})]
    + [(n, (X, np.where(bools(3, 4), X, Y)), {}) for n in ("eq", "ne", "lt", "le", "gt", "ge")]
    + [(n, (I, J), {}) for n in ("lt", "ge")] + [("lt", (U, V), {})]
    + [("select", (bools(3, 4), X, Y), {}), ("fma", (X, Y, POS), {}),
       ("stop_gradient", (X,), {})]
    + [("convert_element_type", (a,), {"new_dtype": np.dtype(d)}) for a, d in [
        (X * 100, "i4"), (SPECIAL * 1e10, "i4"), (SPECIAL, "u1"), (I, "f4"), (X, "f8"),
        (X, "?"), (I, "?"), (bools(4), "f4"), (X, bf16), (X, "f2"), (U, "i8")]]
    + [("bitcast_convert_type", (X,), {"new_dtype": np.dtype("u4")}),
       ("bitcast_convert_type", (U,), {"new_dtype": np.dtype("f4")})]
    + [("broadcast_in_dim", (rand(3, 1),), {"shape": (2, 3, 5), "broadcast_dimensions": (1, 2)}),
       ("broadcast_in_dim", (rand(),), {"shape": (2, 3), "broadcast_dimensions": ()}),
       ("reshape", (X,), {"new_sizes": (2, 6)}),
       ("transpose", (rand(2, 3, 4),), {"permutation": (2, 0, 1)}),
       ("rev", (rand(2, 3, 4),), {"dimensions": (0, 2)}),
       ("concatenate", (X, Y, rand(3, 2)), {"dimension": 1}),
       ("slice", (rand(6, 7),), {"start_indices": (1, 0), "limit_indices": (5, 7),
                                 "strides": (2, 3)}),
       ("iota", (), {"dtype": np.dtype("i4"), "shape": (3, 4), "dimension": 1}),
       ("iota", (), {"dtype": np.dtype("f4"), "shape": (5,), "dimension": 0})]
    + [("gather", (rand(5, 3), np.array([0, 4, -1, -5, 9, -9], np.int32)), {"axis": 0}),
       ("gather", (rand(2, 5, 3), ints(2, 2, low=-7, high=7)), {"axis": 1}),
       ("gather", (rand(4, 6), np.array(2, np.int64)), {"axis": 1}),
       ("gather", (rand(300,), np.array([250, -3], np.int16)), {"axis": 0}),
       ("gather", (rand(30,), np.array([250, 3], np.uint8)), {"axis": 0})]
    + [("scatter", (rand(5, 3), np.array([0, 4, -1, 7, -9], np.int32), rand(5, 3)),
        {"axis": 0, "mode": m}) for m in ("set", "add", "mul", "min", "max")]
    + [("scatter", (rand(2, 5, 3), ints(4, low=-6, high=6), rand(2, 4, 3)),
        {"axis": 1, "mode": "add"})]
    + [(n, (a,), {"axes": ax}) for n in ("reduce_sum", "reduce_prod", "reduce_max", "reduce_min")
       for a, ax in [(rand(3, 4, 5), (0, 2)), (ints(3, 4), (1,)), (U, (0, 1))]]
    + [(n, (bools(3, 4),), {"axes": (1,)}) for n in ("reduce_and", "reduce_or", "reduce_max")]
    + [(n, (a,), {"axis": ax, "index_dtype": np.dtype("i4")}) for n in ("argmax", "argmin")
       for a, ax in [(rand(3, 7), 1), (ints(6, 2, low=0, high=3), 0), (SPECIAL, 0),
                     (np.array([1.0, np.nan, 3.0, np.nan], np.float32), 0), (bools(5), 0)]]
    + [(n, (a,), {"axis": ax, "reverse": r}) for n in ("cumsum", "cumprod", "cummax")
       for a, ax in [(rand(3, 7, low=0.5, high=1.5), 1), (ints(9, 2, low=-3, high=4), 0)]
       for r in (False, True)]
    + [("dot_general", (rand(3, 4), rand(4, 5)), {"dimension_numbers": (((1,), (0,)), ((), ()))}),
       ("dot_general", (rand(2, 3, 4), rand(2, 4, 5)),
        {"dimension_numbers": (((2,), (1,)), ((0,), (0,)))}),
       ("dot_general", (ints(3, 4), ints(4,)), {"dimension_numbers": (((1,), (0,)), ((), ()))}),
       ("dot_general", (bools(3, 4), bools(4, 2)),
        {"dimension_numbers": (((1,), (0,)), ((), ()))}),
       ("dot_general", (rand(3, 4, dtype=bf16), rand(4, dtype=bf16)),
        {"dimension_numbers": (((1,), (0,)), ((), ())), "preferred_element_type": np.float32})]
    + [("sort", (np.array([3, 1, 2, 1, 3, 0], np.int32), np.arange(6, dtype=np.int32)),
        {"dimension": 0, "num_keys": 1}),
       ("sort", (SPECIAL, np.arange(10, dtype=np.int32)), {"dimension": 0, "num_keys": 1}),
       ("sort", (ints(4, 6, low=0, high=3), ints(4, 6, low=0, high=3), rand(4, 6)),
        {"dimension": 1, "num_keys": 2}),
       ("sort", (rand(5, 3),), {"dimension": 0, "num_keys": 1})]
)
# fmt: on


def _tolerance(x):
    return {np.dtype(np.float16): 2e-3, np.dtype(bf16): 1e-2}.get(np.asarray(x).dtype, 2e-6)


def _close(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype)
    if want.dtype.kind in "fV" or want.dtype == bf16:
        tol = _tolerance(want)
        np.testing.assert_allclose(
            got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol, equal_nan=True
        )
    else:
        np.testing.assert_array_equal(got, want)


@pytest.fixture(scope="module")
def compiled_specs():
    """Every spec's results from one compiled program holding them all (XLA takes ~0.1 s
    to compile even a one-op module, so one program keeps this table fast)."""
    inputs, eqns, outputs, slots = [], [], [], []
    for name, args, params in SPECS:
        prim = REGISTRY[name]
        program = _program(prim, args, params)
        inputs += program.inputs
        eqns += program.eqns
        slots.append(slice(len(outputs), len(outputs) + len(program.outputs)))
        outputs += program.outputs
    results = xla.compile(Program(inputs, eqns, outputs))(
        *(a for _, args, _ in SPECS for a in args)
    )
    return [results[k] for k in slots]


IDS = [f"{s[0]}-{i}" for i, s in enumerate(SPECS)]


@pytest.mark.parametrize("k", range(len(SPECS)), ids=IDS)
def test_primitive_matches_numpy(compiled_specs, k):
    name, args, params = SPECS[k]
    want = numpy_backend.run_eqn(REGISTRY[name], list(args), params)
    assert len(compiled_specs[k]) == len(want)
    for g, w in zip(compiled_specs[k], want):
        _close(g, w)


@pytest.mark.parametrize("k", range(0, len(SPECS), 9), ids=IDS[::9])
def test_one_primitive_eagerly(k):
    name, args, params = SPECS[k]
    prim = REGISTRY[name]
    want = numpy_backend.run_eqn(prim, list(args), params)
    for g, w in zip(xla.run_eqn(prim, list(args), params), want):
        _close(g, w)


def test_fma_rounds_once():
    a = np.concatenate([rand(20000), np.full(3, 1 + 2**-12, np.float32)])
    b = np.concatenate([rand(20000), np.full(3, 1 + 2**-12, np.float32)])
    c = np.concatenate([rand(20000) * 1e-3, np.array([0.0, 2**-60, -(2**-60)], np.float32)])
    want = numpy_backend.run_eqn(REGISTRY["fma"], [a, b, c], {})[0]
    got = xla.run_eqn(REGISTRY["fma"], [a, b, c], {})[0]
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    assert got[-2] > got[-3] == got[-1]  # a tie goes the way the exact value says


def test_every_primitive_has_a_lowering():
    from jx.backends.xla.lower import RULES

    missing = [n for n, p in REGISTRY.items() if p not in RULES]
    # debug_print and progress run on the host, between the compiled parts
    on_host = {
        "cholesky",
        "lu",
        "triangular_solve",
        "qr",
        "svd",
        "eigh",
        "pinv",
        "debug_print",
        "progress",
    }
    assert set(missing) <= on_host


# -------------------------------------------------------------------- whole programs

PROGRAMS = """
def poly(x) = -4.0 * x**3 + 9.0 * x**2 + 6.0 * x - 3.0
def branches(x):
    if sum(x) > 0.0:
        return x * 2.0, 1
    return x - 1.0, 2
def collatz(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps = steps + 1
    return steps
def running(xs):
    c = 0.0
    for x in xs:
        c = c * 0.5 + x
    return c
def updates(x, i) = x.at[i].add(10.0).at[0].set(-1.0)
def f64(x) = x * 1e-10 + 1.0
"""


@pytest.fixture(scope="module")
def modules():
    return {b: jx.compile(PROGRAMS, backend=b) for b in ("numpy", "xla")}


@pytest.mark.parametrize(
    "call",
    [
        ("poly", rand(50)),
        ("branches", rand(4)),
        ("branches", -np.ones(3, np.float32)),
        ("collatz", np.int32(27)),
        ("running", rand(7)),
        ("updates", rand(5), np.int32(-2)),
        ("f64", np.arange(3.0)),
    ],
    ids=lambda c: c[0],
)
@pytest.mark.parametrize("jit", [False, True])
def test_program_matches_numpy(modules, call, jit):
    name, *args = call
    results = {}
    for backend, m in modules.items():
        f = getattr(m, name)
        results[backend] = (jx.jit(f) if jit else f)(*args)
    want, got = results["numpy"], results["xla"]
    for w, g in zip(*(v if isinstance(v, tuple) else (v,) for v in (want, got))):
        _close(g, w)


def test_f64_stays_f64(modules):
    out = modules["xla"].f64(np.array([1.0, 2.0]))
    assert out.dtype == np.float64 and out[0] != 1.0


def test_results_are_host_arrays(modules):
    out = jx.jit(modules["xla"].poly)(rand(4))
    assert type(out) is np.ndarray


# -------------------------------------------------------------------- random bits

RANDOM = """
import random
k = random.key(42)
n = random.normal(k, (1000,))
u = random.uniform(random.key(1), (999,), minval=-3.0, maxval=7.5)
r = random.randint(random.key(2), (500,), -7, 1000)
p = random.permutation(random.key(3), 20)
g = random.gumbel(random.key(4), (300,))
"""


def test_random_bits_are_identical():
    a = jx.compile(RANDOM, backend="numpy")
    b = jx.compile(RANDOM, backend="xla")
    for name in ("n", "u", "r", "p", "g"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)


def test_random_bits_identical_under_jit():
    # Separate outputs: XLA fuses a multiply into a following add (one rounding), so an
    # expression combining draws may differ from NumPy's two roundings by an ulp.
    src = """
import random
def draw(seed):
    k1, k2, k3 = random.split(random.key(seed), 3)
    return (random.normal(k1, (257,)), random.uniform(k2, (257,), minval=-1.5, maxval=2.0),
            random.randint(k3, (100,), -3, 1001))
"""
    a, b = jx.compile(src, backend="numpy"), jx.compile(src, backend="xla")
    seed = np.int32(7)
    for got, want in zip(jx.jit(b.draw)(seed), jx.jit(a.draw)(seed)):
        np.testing.assert_array_equal(got, want)


# -------------------------------------------------------------------- pmap and devices


def test_pmap_runs_on_xla_devices():
    src = textwrap.dedent("""
    def f(x) = (psum(x, "i"), pmax(x, "i"), all_gather(x, "i"), axis_index("i"), x * 2.0)
    g = pmap(f, axis_name="i")
    """)
    m = jx.compile(src, backend="xla")
    if xla.device_count() < 4:
        pytest.skip("jax started its CPU client before the xla backend asked for devices")
    x = rand(4, 3)
    s, mx, gathered, idx, doubled = m.g(x)
    np.testing.assert_allclose(s, np.broadcast_to(x.sum(0), x.shape), rtol=1e-6)
    np.testing.assert_array_equal(mx, np.broadcast_to(x.max(0), x.shape))
    np.testing.assert_array_equal(gathered, np.broadcast_to(x, (4,) + x.shape))
    np.testing.assert_array_equal(idx, np.arange(4))
    np.testing.assert_allclose(doubled, 2 * x)


def test_cpu_device_count_follows_jx_cpu_devices():
    script = textwrap.dedent("""
    import numpy as np, jx
    from jx.backends.xla import runtime as xla
    m = jx.compile("g = pmap(lambda x: psum(x, 'i'), axis_name='i')", backend="xla")
    print(xla.device_count(), m.g(np.arange(3.0, dtype=np.float32)).tolist())
    try:
        m.g(np.ones(4, np.float32))
    except jx.JxError as e:
        print(e.message)
    """)
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["JX_CPU_DEVICES"] = "3"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                         env=env, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "3 [3.0, 3.0, 3.0]"
    assert "only 3 devices" in lines[1]


def test_collectives_under_a_loop_run_on_pmap_threads():
    # Shards that leave a loop at different times would leave XLA waiting at all_reduce;
    # such programs run shard by shard on the host, which reports the divergence.
    src = textwrap.dedent("""
    def f(x):
        while x > 1.0:
            x = x / 2.0 + 0.0 * psum(x, "i")
        return x
    g = pmap(f, axis_name="i")
    def h(x):
        for _ in range(3):
            x = x + psum(x, "i")
        return x
    k = pmap(h, axis_name="i")
    """)
    m = jx.compile(src, backend="xla")
    with pytest.raises(jx.JxRuntimeError, match="did not all reach the same collectives"):
        m.g(np.array([1.5, 40.0], np.float32))
    np.testing.assert_allclose(m.k(np.array([1.0, 2.0], np.float32)), [40.0, 41.0])


def test_primitives_without_a_lowering_run_between_compiled_segments():
    src = """
import linalg
def f(a, b):
    x = linalg.solve(a @ a.T + eye(4), b)
    return sum(x * x) + linalg.det(a)
"""
    a, b = rand(4, 4), rand(4)
    want = jx.jit(jx.compile(src).f)(a, b)
    f = jx.jit(jx.compile(src, backend="xla").f)
    np.testing.assert_allclose(f(a, b), want, rtol=1e-5)
    compiled = [c for e in f.value.cache.values() for c in e.compiled.values()
                if isinstance(c, xla.Compiled)]  # fmt: skip
    assert isinstance(compiled[0].runners[xla.platform()], xla.Segmented)


def test_an_absent_platform_is_a_clear_error():
    with pytest.raises(JxError, match="no tpu device"):
        xla.use_device("tpu")
    with pytest.raises(JxError, match="unknown device"):
        xla.use_device("abacus")
    xla.use_device("cpu")
    assert xla.platform() == "cpu"


def test_hlo_text_is_ours():
    m = jx.compile("def f(x) = sum(x * x)\n", backend="xla")
    text = m.f.hlo(rand(3))
    assert text.startswith("module @jx") and "func.func public @main" in text
    assert '"stablehlo.reduce"' in text and '"stablehlo.multiply"' in text
