"""A NumPy-backed stand-in for the `cupy` module: the CuPy backend's host logic runs on it.

Its `ndarray` is a subclass of NumPy's, so "on the device" is a type the tests can see
(`to_device` must make one, `to_host` must give a plain NumPy array back) while NumPy
does the arithmetic of the eager primitives. `RawKernel` compiles the generated CUDA
source for the CPU (tests/cuda_tools.py) and runs it over the arrays' memory, so a fused
kernel's arithmetic is checked against the NumPy backend here. `cuda.runtime` reports one
device. What it cannot cover: anything CuPy does differently from NumPy in the eager
implementations, real launches (grids, blocks, streams), device memory and DLPack
between devices.
"""

from __future__ import annotations

import contextlib
import ctypes
import types

import numpy as np

from tests.cuda_tools import host_library


class ndarray(np.ndarray):
    """An array "on the device"."""


def _device(x):
    if isinstance(x, np.ndarray) and not isinstance(x, ndarray):
        return x.view(ndarray)
    if isinstance(x, np.generic):
        return np.asarray(x).view(ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_device(v) for v in x)
    return x


def asarray(x, dtype=None):
    return np.asarray(x, dtype=dtype).view(ndarray)


def asnumpy(x):
    return np.array(x, copy=True).view(np.ndarray)


def from_dlpack(x):
    return np.from_dlpack(x).view(ndarray)


def empty(shape, dtype=np.float32):
    return np.empty(shape, dtype).view(ndarray)


def __getattr__(name):
    value = getattr(np, name)
    if callable(value) and not isinstance(value, (type, np.ufunc)):
        return lambda *args, **kwargs: _device(value(*args, **kwargs))
    return value


class RawKernel:
    """A generated kernel, compiled for the CPU and run with the same arguments."""

    launches = 0

    def __init__(self, source: str, name: str):
        self.source, self.name = source, name
        self.function = getattr(host_library(source), name)

    def __call__(self, grid, block, args):
        RawKernel.launches += 1
        cargs = []
        for a in args:
            if isinstance(a, np.ndarray):
                assert a.flags.c_contiguous
                cargs.append(ctypes.c_void_p(a.ctypes.data))
            else:
                cargs.append(ctypes.c_longlong(int(a)))
        self.function(*cargs)


cuda = types.SimpleNamespace(
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1),
    Device=lambda index: contextlib.nullcontext(),
)
