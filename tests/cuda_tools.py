"""Compiling the CUDA backend's kernels without a GPU, for the tests.

`nvrtc_compile(source, arch)` compiles CUDA C with NVRTC (the `nvidia-cuda-nvrtc-cu12`
wheel, which runs on any machine: it needs no driver) through its C API and returns the
PTX, or raises `CudaCompileError` with NVRTC's log and the numbered source.
`host_library(source)` compiles the same kernel source as C++ for the CPU (a small header
turns `__global__`/`__device__` into plain functions and the launch into one loop over
every element), so the generated arithmetic can be run here and compared with the NumPy
backend. Compiled libraries live in one temporary folder removed when the process exits.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import pathlib
import shutil
import subprocess
import tempfile


class CudaCompileError(Exception):
    pass


def _numbered(source: str) -> str:
    return "\n".join(f"{k + 1:4} | {line}" for k, line in enumerate(source.splitlines()))


_NVRTC = None


def _nvrtc():
    global _NVRTC
    if _NVRTC is None:
        import nvidia.cuda_nvrtc

        lib = pathlib.Path(next(iter(nvidia.cuda_nvrtc.__path__))) / "lib" / "libnvrtc.so.12"
        _NVRTC = ctypes.CDLL(str(lib))
    return _NVRTC


def nvrtc_compile(source: str, arch: str = "compute_80") -> str:
    nvrtc = _nvrtc()
    program = ctypes.c_void_p()
    check = _checker(nvrtc)
    check(
        nvrtc.nvrtcCreateProgram(
            ctypes.byref(program), source.encode(), b"jx_kernel.cu", 0, None, None
        )
    )
    try:
        options = [f"-arch={arch}".encode(), b"-std=c++17"]
        argv = (ctypes.c_char_p * len(options))(*options)
        status = nvrtc.nvrtcCompileProgram(program, len(options), argv)
        if status != 0:
            size = ctypes.c_size_t()
            nvrtc.nvrtcGetProgramLogSize(program, ctypes.byref(size))
            log = ctypes.create_string_buffer(size.value)
            nvrtc.nvrtcGetProgramLog(program, log)
            raise CudaCompileError(
                f"NVRTC ({arch}) failed:\n{log.value.decode()}\n{_numbered(source)}"
            )
        size = ctypes.c_size_t()
        check(nvrtc.nvrtcGetPTXSize(program, ctypes.byref(size)))
        ptx = ctypes.create_string_buffer(size.value)
        check(nvrtc.nvrtcGetPTX(program, ptx))
        return ptx.value.decode()
    finally:
        nvrtc.nvrtcDestroyProgram(ctypes.byref(program))


def _checker(nvrtc):
    def check(status):
        if status != 0:
            nvrtc.nvrtcGetErrorString.restype = ctypes.c_char_p
            raise CudaCompileError(nvrtc.nvrtcGetErrorString(status).decode())

    return check


HOST_HEADER = """\
// No system headers (they cost most of the compile): the C math functions are declared.
extern "C" float expf(float); extern "C" double exp(double);
extern "C" float logf(float); extern "C" double log(double);
extern "C" float sinf(float); extern "C" double sin(double);
extern "C" float cosf(float); extern "C" double cos(double);
extern "C" float tanf(float); extern "C" double tan(double);
extern "C" float tanhf(float); extern "C" double tanh(double);
extern "C" float sqrtf(float); extern "C" double sqrt(double);
extern "C" float log1pf(float); extern "C" double log1p(double);
extern "C" float expm1f(float); extern "C" double expm1(double);
extern "C" float floorf(float); extern "C" double floor(double);
extern "C" float ceilf(float); extern "C" double ceil(double);
extern "C" float fabsf(float); extern "C" double fabs(double);
extern "C" float sinhf(float); extern "C" double sinh(double);
extern "C" float coshf(float); extern "C" double cosh(double);
extern "C" float asinf(float); extern "C" double asin(double);
extern "C" float acosf(float); extern "C" double acos(double);
extern "C" float atanf(float); extern "C" double atan(double);
extern "C" float exp2f(float); extern "C" double exp2(double);
extern "C" float log2f(float); extern "C" double log2(double);
extern "C" float log10f(float); extern "C" double log10(double);
extern "C" float truncf(float); extern "C" double trunc(double);
extern "C" float erff(float); extern "C" double erf(double);
extern "C" float fmaf(float, float, float); extern "C" double fma(double, double, double);
#define isfinite(x) __builtin_isfinite(x)
#define __global__
#define __device__
#define __restrict__
struct jx_dim3 { unsigned x; };
static const jx_dim3 blockIdx = {0}, threadIdx = {0}, blockDim = {1}, gridDim = {1};
"""

_WORK = None


def _work_dir() -> pathlib.Path:
    global _WORK
    if _WORK is None:
        _WORK = pathlib.Path(tempfile.mkdtemp(prefix="jx-host-kernels-"))
        atexit.register(shutil.rmtree, _WORK, ignore_errors=True)
    return _WORK


_LIBRARIES: dict = {}


def host_library(source: str) -> ctypes.CDLL:
    """The kernel source compiled for this CPU (g++), loaded."""
    lib = _LIBRARIES.get(source)
    if lib is not None:
        return lib
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    work = _work_dir()
    src, out = work / f"{digest}.cpp", work / f"{digest}.so"
    src.write_text(HOST_HEADER + source)
    done = subprocess.run(
        ["g++", "-std=c++17", "-O0", "-shared", "-fPIC", "-o", str(out), str(src)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise CudaCompileError(f"g++ failed:\n{done.stderr}\n{_numbered(source)}")
    lib = _LIBRARIES[source] = ctypes.CDLL(str(out))
    return lib
