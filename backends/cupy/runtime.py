"""The CuPy backend's runtime: eager primitives, compiled programs, transfers, pmap.

Eagerly, a primitive runs its own array implementation with `xp = cupy`, the one table
every backend shares, except where `_overrides` has this backend's own (control flow runs
its sub-programs compiled here). `compile` turns a program into a list of steps planned
once (`fusion.plan`): a generated kernel for each fused elementwise group (compiled once
per source and cached), else the primitive; cuBLAS, cuSOLVER and the rest come through
CuPy's own functions that the implementations call. While a program runs, each value is
dropped at its last use, so CuPy's memory pool reuses its buffer for the next one.
Arrays stay on the device between equations and calls; `to_device`/`to_host` cross, and
`to_device` takes any DLPack array (torch, JAX) without a copy.
"""

from __future__ import annotations

import itertools
import os
import threading
from functools import partial

import numpy as np
from jx.errors import JxError, JxRuntimeError
from jx.errors import ValueError as JxValueError
from jx.ir import Literal, Program
from jx.primitives import control
from jx.primitives.elementwise import UNARY
from jx.transforms.pmap import run_shards

from . import fusion, special

BLOCK = 256
MAX_BLOCKS = 4096
#: Devices pmap maps over unless JX_GPU_DEVICES says: shards take the GPUs in turn, so a
#: machine with one GPU runs an 8-way pmap as 8 shards on it (as the numpy backend does
#: with CPU threads).
DEFAULT_DEVICES = 8


class Backend:
    name = "cupy"

    def __init__(self, cp):
        self.cp = cp
        self.array_types = (cp.ndarray,)
        self._kernels: dict = {}  # source -> compiled kernel
        self._compiled: dict = {}  # id(program) -> (program, steps)
        self._impls: dict = {}
        self._overrides = {
            control.cond_p: self._cond,
            control.while_p: self._while,
            control.scan_p: self._scan,
            UNARY["erf_inv"]: self._erf_inv,
        }

    # ---------------------------------------------------------------- transfers

    def to_device(self, x):
        if isinstance(x, self.cp.ndarray):
            return x
        if hasattr(x, "__dlpack__") and not isinstance(x, np.ndarray):
            return self.cp.from_dlpack(x)
        return self.cp.asarray(np.asarray(x))

    def to_host(self, x) -> np.ndarray:
        if isinstance(x, self.cp.ndarray):
            return self.cp.asnumpy(x)
        return np.asarray(x)

    def device_count(self) -> int:
        text = os.environ.get("JX_GPU_DEVICES", str(DEFAULT_DEVICES))
        n = int(text) if text.strip().isdigit() else 0
        if n < 1:
            raise JxValueError(f"JX_GPU_DEVICES must be a positive integer, got {text!r}")
        return n

    def pmap(self, program: Program, shards, axis_name) -> list:
        """Each shard runs on its own thread, on the GPUs in turn."""
        gpus = int(self.cp.cuda.runtime.getDeviceCount())
        return run_shards(_ShardRunner(self, gpus), program, shards, axis_name, None)

    # ---------------------------------------------------------------- eager

    def _impl(self, prim):
        impl = self._impls.get(prim)
        if impl is None:
            impl = self._impls[prim] = self._overrides.get(prim) or partial(prim.impl, self.cp)
        return impl

    def _device(self, x):
        """An operand on the device: literals and host constants are copied once."""
        return x if isinstance(x, self.cp.ndarray) else self.cp.asarray(np.asarray(x))

    def run_eqn(self, prim, args, params):
        out = self._impl(prim)(*[self._device(a) for a in args], **params)
        outs = out if prim.multiple_results else [out]
        return [self._device(o) for o in outs]

    # ---------------------------------------------------------------- programs

    def plan(self, program: Program) -> list:
        """The program's steps, planned once per program."""
        found = self._compiled.get(id(program))
        if found is not None and found[0] is program:
            return found[1]
        steps = fusion.plan(program)
        if len(self._compiled) > 1024:
            self._compiled.clear()
        self._compiled[id(program)] = (program, steps)
        return steps

    def kernel(self, k: fusion.Kernel):
        """The compiled kernel for a fused group's source (compiled once per source)."""
        compiled = self._kernels.get(k.source)
        if compiled is None:
            compiled = self._kernels[k.source] = self.cp.RawKernel(k.source, k.name)
        return compiled

    def run(self, program: Program, args) -> list:
        steps = self.plan(program)
        env = {v: self._device(a) for v, a in zip(program.inputs, args)}
        last = _last_uses(program, steps)
        for k, step in enumerate(steps):
            if isinstance(step, fusion.Kernel):
                self._launch(step, env)
                reads = step.inputs
            else:
                ins = [v.value if type(v) is Literal else env[v] for v in step.inputs]
                try:
                    outs = self.run_eqn(step.prim, ins, step.params)
                except JxError:
                    raise
                except Exception as e:
                    if getattr(e, "jx_passthrough", False):
                        raise
                    raise JxRuntimeError(
                        f"{step.prim.name} failed on the cupy backend: {e}", step.span
                    ) from None
                env.update(zip(step.outputs, outs))
                reads = step.inputs
            for v in reads:  # a value dead after this step frees its buffer for the pool
                if type(v) is not Literal and last.get(v) == k:
                    env.pop(v, None)
        return [self._device(v.value) if type(v) is Literal else env[v] for v in program.outputs]

    def _elementwise(self, source, name, x, dtype):
        """Run the one-input kernel `name` of `source` over `x` (as `dtype`)."""
        cp = self.cp
        key = (source, name)
        compiled = self._kernels.get(key)
        if compiled is None:
            compiled = self._kernels[key] = cp.RawKernel(source, name)
        x = cp.ascontiguousarray(x.astype(dtype))
        out = cp.empty(x.shape, dtype)
        n = int(x.size)
        if n:
            blocks = max(1, min(MAX_BLOCKS, -(-n // BLOCK)))
            compiled((blocks,), (BLOCK,), (x, out, np.int64(n)))
        return out

    def _erf_inv(self, x):
        dtype = np.dtype(np.float64 if x.dtype == np.float64 else np.float32)
        out = self._elementwise(
            special.ERF_INV_SOURCE, special.ERF_INV_KERNELS[dtype.name], x, dtype
        )
        return out.astype(x.dtype)

    def _launch(self, k: fusion.Kernel, env) -> None:
        cp = self.cp
        n = int(np.prod(k.shape, dtype=np.int64))
        ins = [cp.ascontiguousarray(env[v]) for v in k.inputs]
        outs = [cp.empty(k.shape, v.aval.dtype) for v in k.outputs]
        blocks = max(1, min(MAX_BLOCKS, -(-n // BLOCK)))
        self.kernel(k)((blocks,), (BLOCK,), (*ins, *outs, np.int64(n)))
        env.update(zip(k.outputs, outs))

    def compile(self, program: Program):
        self.plan(program)
        return lambda *args: self.run(program, args)

    def lowered_text(self, program: Program) -> str:
        """The CUDA source of every fused kernel of `program`, in order, and the
        equations that run as CuPy calls between them (`jx ir --cuda`)."""
        parts = []
        for step in self.plan(program):
            if isinstance(step, fusion.Kernel):
                parts.append(step.source)
            else:
                parts.append(f"// {step.prim.name}: a CuPy call\n")
        return "\n".join(parts)

    # ---------------------------------------------------------------- control flow

    def _cond(self, index, *operands, branches):
        i = int(np.clip(int(self.to_host(index)), 0, len(branches) - 1))
        return self.run(branches[i], operands)

    def _while(self, *args, cond_program, body_program, cond_nconsts, body_nconsts):
        cconsts = args[:cond_nconsts]
        bconsts = args[cond_nconsts : cond_nconsts + body_nconsts]
        carry = list(args[cond_nconsts + body_nconsts :])
        while bool(self.to_host(self.run(cond_program, [*cconsts, *carry])[0])):
            carry = self.run(body_program, [*bconsts, *carry])
        return carry

    def _scan(self, *args, body, length, num_consts, num_carry, reverse):
        cp = self.cp
        consts = args[:num_consts]
        carry = list(args[num_consts : num_consts + num_carry])
        xs = args[num_consts + num_carry :]
        ys = []
        for i in range(length - 1, -1, -1) if reverse else range(length):
            outs = self.run(body, [*consts, *carry, *(x[i] for x in xs)])
            carry, y = outs[:num_carry], outs[num_carry:]
            ys.append(y)
        if reverse:
            ys.reverse()
        out_ys = [
            cp.stack([y[k] for y in ys]) if ys else cp.zeros((0,) + aval.shape, aval.dtype)
            for k, aval in enumerate(body.out_avals[num_carry:])
        ]
        return [*carry, *out_ys]


class _ShardRunner:
    """The backend as pmap's threads see it: each shard's thread takes the next GPU."""

    def __init__(self, backend: Backend, gpus: int):
        self.backend, self.gpus = backend, gpus
        self._local = threading.local()
        self._count = itertools.count()

    def run(self, program, args):
        local = self._local
        if not hasattr(local, "gpu"):
            local.gpu = next(self._count) % self.gpus
        with self.backend.cp.cuda.Device(local.gpu):
            return self.backend.run(program, [self.backend._device(a) for a in args])


def _last_uses(program: Program, steps) -> dict:
    """The step at which each value is read for the last time; outputs never die."""
    last: dict = {}
    for k, step in enumerate(steps):
        for v in step.inputs:
            if type(v) is not Literal:
                last[v] = k
    for v in program.outputs:
        last.pop(v, None)
    return last
