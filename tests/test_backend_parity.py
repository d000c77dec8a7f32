"""Backend parity: the same jx programs give the same results on the numpy and xla
backends (floats to a tolerance, integers, bools and random bits exactly). The programs are
every example script and conformance case (their top-level values compared), and a
table of functions drawn from the other tests (differentiation, control flow, indexing,
vmap, random, nn), each called plainly, under jit and, for the scalar ones, through grad.
Skipped where jaxlib is absent."""

import os
import pathlib

import numpy as np
import pytest

pytest.importorskip("jax")

import jx
from programs import DIFFERENTIABLE

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFORMANCE = ROOT / "tests" / "conformance"
SCRIPTS = sorted((ROOT / "examples").glob("*.jx")) + sorted(CONFORMANCE.glob("*.jx"))
RNG = np.random.default_rng(3)
#: Scripts whose values depend on rounding far beyond a tolerance (hundreds of training
#: steps): there both backends must run them to the end, their own asserts passing.
CHAOTIC = {"mlp_sine.jx"}


def _leaves(value, path="", out=None):
    """The arrays and numbers of a result tree, by path."""
    out = {} if out is None else out
    if isinstance(value, dict):
        for k, v in value.items():
            _leaves(v, f"{path}.{k}", out)
    elif isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            _leaves(v, f"{path}[{i}]", out)
    elif isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        out[path] = np.asarray(value)
    return out


def assert_same(got, want, what=""):
    got, want = _leaves(got), _leaves(want)
    assert got.keys() == want.keys(), what
    for path, w in want.items():
        g = got[path]
        assert g.shape == w.shape and g.dtype == w.dtype, f"{what}{path}: {g.dtype} vs {w.dtype}"
        if w.dtype.kind == "f" or w.dtype.kind == "V":
            tol = 1e-6 if w.dtype == np.float64 else 2e-4
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=tol,
                                       atol=tol, equal_nan=True, err_msg=what + path)  # fmt: skip
        else:
            np.testing.assert_array_equal(g, w, err_msg=what + path)


def _module_values(module):
    values = {}
    for name in dir(module):
        value = getattr(module, name)
        if not callable(value):
            values[name] = value
    return values


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_parity(path, tmp_path, capsys):
    cwd = os.getcwd()
    os.chdir(tmp_path)  # scripts may save files
    try:
        results, printed = {}, {}
        for backend in ("numpy", "xla"):
            results[backend] = _module_values(jx.run_file(str(path), backend=backend))
            printed[backend] = capsys.readouterr().out.splitlines()
    finally:
        os.chdir(cwd)
    assert len(printed["xla"]) == len(printed["numpy"])
    if path.name not in CHAOTIC:
        assert_same(results["xla"], results["numpy"], f"{path.name}: ")


PROGRAMS = (
    """
import random
import nn
"""
    + DIFFERENTIABLE
    + """
def halvings(n):
    steps = 0
    while n > 1:
        n = n // 2
        steps = steps + 1
    return steps
def stats(x) = (mean(x, axis=0), std(x, axis=1), argmax(x, axis=1), argmin(x, axis=0),
                cumsum(x, axis=1), sort(x, axis=0), x.T @ x, clip(x, -0.5, 0.5))
def ints(a, b) = (a // b, a % b, a * b - a, a >> 2, a << 3, a & b, a | b, a ^ b, -a, abs(a))
def at_ops(x, i) = (x.at[i].add(1.0), x.at[i].mul(2.0), x.at[i].min(0.0),
                    x.at[i].max(0.5), x.at[i].set(9.0), x[i])
def batched(x, y) = vmap(lambda a, b: sum(a * b) + a)(x, y)
def draws(seed):
    k1, k2, k3, k4 = random.split(random.key(seed), 4)
    return (random.normal(k1, (64,)), random.uniform(k2, (33,), minval=-2.0, maxval=3.5),
            random.randint(k3, (40,), -5, 17), random.permutation(k4, 12))
def mlp(x):
    k1, k2 = random.split(random.key(0))
    w1, w2 = nn.glorot_normal(k1, (4, 8)), nn.he_uniform(k2, (8, 3))
    return nn.log_softmax(nn.gelu(x @ w1) @ w2), nn.softmax(nn.silu(x @ w1), axis=0)
def f64_sum(x) = sum(x * 1e-9) + x[0]
"""
)
SCALAR = ["poly", "trig", "expo", "logs", "mat", "reduce_max", "soft", "indexing", "update",
          "gathers", "where_", "branchy", "loopy", "scanned", "pw"]  # fmt: skip
X6 = np.linspace(0.3, 1.7, 6).astype(np.float32) - 0.9
CALLS = [(name, (X6,)) for name in SCALAR] + [
    ("halvings", (np.int32(1000),)),
    ("stats", (RNG.standard_normal((5, 4)).astype(np.float32),)),
    ("ints", (RNG.integers(-50, 50, 8).astype(np.int32), RNG.integers(1, 9, 8).astype(np.int32))),
    ("at_ops", (RNG.standard_normal(5).astype(np.float32), np.int32(-2))),
    ("batched", (RNG.standard_normal((3, 4)).astype(np.float32),
                 RNG.standard_normal((3, 4)).astype(np.float32))),
    ("draws", (np.int32(11),)),
    ("mlp", (RNG.standard_normal((2, 4)).astype(np.float32),)),
    ("f64_sum", (np.linspace(1.0, 2.0, 5),)),
]  # fmt: skip


@pytest.fixture(scope="module")
def modules():
    return {b: jx.compile(PROGRAMS, backend=b) for b in ("numpy", "xla")}


@pytest.mark.parametrize("how", ["call", "jit", "grad"])
@pytest.mark.parametrize("name,args", CALLS, ids=[c[0] for c in CALLS])
def test_function_parity(modules, name, args, how):
    if how == "grad" and name not in SCALAR:
        pytest.skip("grad is for the scalar functions")
    results = {}
    for backend, m in modules.items():
        f = getattr(m, name)
        f = {"call": f, "jit": jx.jit(f), "grad": jx.grad(f)}[how]
        results[backend] = f(*args)
    assert_same(results["xla"], results["numpy"], f"{name} ({how}): ")
