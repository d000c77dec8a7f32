"""The CuPy backend without a GPU: its host logic runs on a NumPy-backed stand-in for
`cupy` (tests/cupy_standin.py) whose kernels are the generated CUDA source compiled for
the CPU, compared with the NumPy backend on the conformance scripts, the examples and the
parity programs; and every kernel those generate compiles under NVRTC for sm_80 and
sm_90 (tests/cuda_tools.py). On a machine with CuPy and a GPU the last tests run the same
programs on the real device; elsewhere they skip."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys

import jx
import numpy as np
import pytest
from jx import backend as registry
from jx.backends.cupy import fusion, special
from jx.cli import main as jx_main
from jx.core import CTX
from jx.functions import trace_function

from tests import cupy_standin
from tests.cuda_tools import nvrtc_compile
from tests.test_backend_parity import CALLS, CHAOTIC, PROGRAMS, SCRIPTS, _module_values, assert_same

pytestmark = pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")


@contextlib.contextmanager
def standin_backend():
    """The cupy backend loaded over the stand-in, then forgotten again."""
    saved = sys.modules.get("cupy")
    sys.modules["cupy"] = cupy_standin
    registry._LOADED.pop(("cupy", None), None)
    try:
        yield registry.load("cupy")
    finally:
        registry._LOADED.pop(("cupy", None), None)
        if saved is None:
            sys.modules.pop("cupy", None)
        else:
            sys.modules["cupy"] = saved


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every script and parity call on the stand-in and on NumPy, and the kernel sources."""
    sources: set = set()
    scripts, calls = {}, {}
    with standin_backend() as backend:
        compile_kernel = backend.kernel

        def recording(k):
            sources.add(k.source)
            return compile_kernel(k)

        backend.kernel = recording
        cwd = os.getcwd()
        os.chdir(tmp_path_factory.mktemp("scripts"))  # scripts may save files
        try:
            for path in SCRIPTS:
                with contextlib.redirect_stdout(io.StringIO()):
                    got = _module_values(jx.run_file(str(path), backend="cupy"))
                    want = _module_values(jx.run_file(str(path), backend="numpy"))
                scripts[path.name] = (got, want)
        finally:
            os.chdir(cwd)
        modules = {b: jx.compile(PROGRAMS, backend=b) for b in ("cupy", "numpy")}
        for name, args in CALLS:
            for how in ("call", "jit"):
                results = {}
                for b, m in modules.items():
                    f = getattr(m, name)
                    results[b] = (jx.jit(f) if how == "jit" else f)(*args)
                calls[f"{name}-{how}"] = (results["cupy"], results["numpy"])
    return scripts, calls, sources


@pytest.mark.parametrize("name", [p.name for p in SCRIPTS])
def test_scripts_match_the_numpy_backend(runs, name):
    got, want = runs[0][name]
    if name not in CHAOTIC:
        assert_same(got, want, f"{name}: ")


@pytest.mark.parametrize("key", [f"{n}-{h}" for n, _ in CALLS for h in ("call", "jit")])
def test_calls_match_the_numpy_backend(runs, key):
    got, want = runs[1][key]
    assert_same(got, want, f"{key}: ")


@pytest.mark.parametrize("arch", ["compute_80", "compute_90"])
def test_every_generated_kernel_compiles_under_nvrtc(runs, arch):
    sources = sorted(runs[2]) + [special.ERF_INV_SOURCE]
    assert len(sources) > 20  # the programs above do fuse
    for source in sources:
        assert ".entry" in nvrtc_compile(source, arch)


POLY = "def poly(x) = x + x * x + x * x * x\ndef bits(k) = random.uniform(random.key(k), (4096,))"


def test_an_elementwise_chain_is_one_kernel():
    with standin_backend() as backend:
        m = jx.compile("import random\n" + POLY, backend="cupy")
        x = np.linspace(-2, 2, 4096, dtype=np.float32).reshape(64, 64)
        before = cupy_standin.RawKernel.launches
        out = m.poly(x)
        assert cupy_standin.RawKernel.launches == before + 1
        np.testing.assert_allclose(out, x + x * x + x * x * x, rtol=1e-6)
        text = backend.lowered_text(_program(m.poly, x))
        assert text.count("__global__") == 1 and "// " not in text


def _program(fn, *args):
    return trace_function(fn.value, list(args), {}, CTX.span).program


def test_random_bits_are_those_of_the_numpy_backend():
    src = "import random\ndef u(k) = random.uniform(random.key(k), (5000,))\n"
    src += "def n(k) = random.normal(random.key(k), (5000,))\n"
    src += "def r(k) = random.randint(random.key(k), (300,), -7, 40)\n"
    with standin_backend() as backend:
        m, ref = jx.compile(src, backend="cupy"), jx.compile(src)
        for seed in (0, 3, 12345):
            np.testing.assert_array_equal(m.u(seed), ref.u(seed))
            np.testing.assert_array_equal(m.r(seed), ref.r(seed))
            np.testing.assert_allclose(m.n(seed), ref.n(seed), rtol=2e-6, atol=1e-6)
        steps = backend.plan(_program(m.u, 3))
        kernels = [s for s in steps if isinstance(s, fusion.Kernel)]
        assert kernels and len(steps) < 40  # threefry's u32 passes fused, not 146 calls


INT_PROGRAM = """
def ints(a, b) = (a // b, a % b, a * b - a, a >> b, a << b, a & b, a | b, a ^ b, -a, abs(a))
def conv(x) = (astype(x, i32), astype(x, u32), astype(x, i8), astype(x * 1e10, i64))
def mix(a, s) = (a << s) ^ (a >> (32 - s)) + a * 2654435761
"""


def test_integer_and_conversion_semantics_bit_for_bit():
    rng = np.random.default_rng(0)
    a = rng.integers(-(2**31), 2**31 - 1, 512).astype(np.int32)
    b = rng.integers(-40, 40, 512).astype(np.int32)
    x = np.concatenate([rng.standard_normal(500) * 1e9, [np.nan, np.inf, -np.inf] * 4])
    x = x.astype(np.float32)
    ua = rng.integers(0, 2**32, 512, dtype=np.uint64).astype(np.uint32)
    us = rng.integers(0, 33, 512).astype(np.uint32)
    with standin_backend():
        m, ref = jx.compile(INT_PROGRAM, backend="cupy"), jx.compile(INT_PROGRAM)
        for f, args in (("ints", (a, b)), ("conv", (x,)), ("mix", (ua, us))):
            for g, w in zip(jx.jit(getattr(m, f))(*args), jx.jit(getattr(ref, f))(*args)):
                np.testing.assert_array_equal(g, w, err_msg=f)


def test_arrays_cross_to_the_device_and_back():
    with standin_backend() as backend:
        x = np.arange(6, dtype=np.float32)
        d = backend.to_device(x)
        assert isinstance(d, cupy_standin.ndarray)
        h = backend.to_host(d)
        assert type(h) is np.ndarray and np.array_equal(h, x)
        assert isinstance(backend.to_device(np.arange(3.0)), cupy_standin.ndarray)
        assert backend.to_device(d) is d  # already there: no copy
        out = backend.run_eqn(jx.primitives.BINARY["add"], [d, d], {})[0]
        assert isinstance(out, cupy_standin.ndarray)


def test_without_cupy_the_backend_says_why():
    code = (
        "import sys; sys.modules['cupy'] = None\n"
        "import jx\n"
        "try:\n"
        "    jx.compile('x = 1', backend='cupy')\n"
        "except jx.JxError as e:\n"
        "    print(e.message)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert "the cupy backend cannot run here: it needs CuPy (pip install 'jx[gpu]')" in out


def test_jx_ir_cuda_prints_the_kernels(tmp_path, capsys):
    path = tmp_path / "f.jx"
    path.write_text("def f(x) = exp(x) * 2.0 + x\n")
    with standin_backend():
        assert jx_main(["ir", str(path), "f", "--args", "f32[8]", "--cuda"]) == 0
    out = capsys.readouterr().out
    assert 'extern "C" __global__ void jx_fused_' in out and "expf(" in out


# ------------------------------------------------------------------ a real GPU


def _real_gpu():
    try:
        return registry.load("cupy")
    except jx.JxError as e:
        pytest.skip(f"no GPU here: {e.message}")


def test_on_a_real_gpu_the_parity_programs_match():
    _real_gpu()
    m, ref = jx.compile(PROGRAMS, backend="cupy"), jx.compile(PROGRAMS)
    for name, args in CALLS:
        assert_same(jx.jit(getattr(m, name))(*args), jx.jit(getattr(ref, name))(*args), name)
