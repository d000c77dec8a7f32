"""The NumPy backend: the reference every other backend is tested against.

Each primitive runs its own array implementation with `xp = numpy` (`prim.impl(np, ...)`),
except where `OVERRIDES`, keyed by primitive, has this backend's own: the control-flow
primitives (which interpret their sub-programs here) and the f32 paths that reproduce
XLA:CPU bit for bit (`xla_math.py`). A Program runs through an `Executor`
(`executor.py`): compiled once into straight-line code, loop bodies included, that writes
elementwise results into dead operands' buffers where it can; `compile` (what `jit` uses)
returns one, `run` caches one per program. Results are always
`np.ndarray` (never NumPy scalars), in the dtype the primitive's shape rule promised.
"""

from __future__ import annotations

import math
import os
import sys
from functools import partial
from operator import itemgetter, methodcaller

import numpy as np
from jx import primitives
from jx.backend import Unavailable
from jx.errors import ValueError as JxValueError
from jx.ir import Program
from jx.primitives import control
from jx.primitives.elementwise import UNARY
from jx.transforms.pmap import run_shards
from threadpoolctl import threadpool_limits

from . import executor, xla_math
from .executor import Executor

name = "numpy"
#: The arrays this backend's programs take and return.
array_types = (np.ndarray,)
#: Virtual CPU devices pmap maps over (shards run on threads), unless JX_CPU_DEVICES says.
DEFAULT_CPU_DEVICES = 8


def load(device: str | None = None):
    """The backend, for the `jx.backends` entry point: NumPy runs on the CPU only."""
    if device not in (None, "cpu"):
        raise Unavailable(f"NumPy runs on the cpu; for {device} use the xla backend")
    return sys.modules[__name__]


def device_count() -> int:
    text = os.environ.get("JX_CPU_DEVICES", str(DEFAULT_CPU_DEVICES))
    n = int(text) if text.strip().isdigit() else 0
    if n < 1:
        raise JxValueError(f"JX_CPU_DEVICES must be a positive integer, got {text!r}")
    return n


def pmap(program: Program, shards, axis_name) -> list:
    """pmap's hook: every shard runs the program on its own thread. The BLAS threads are
    shared out among the shards meanwhile: n shards each starting the cores' worth of BLAS
    threads oversubscribe the machine many times over (an MLP step ran 10x slower)."""
    per_shard = max(1, (os.cpu_count() or 1) // max(len(shards), 1))
    with threadpool_limits(limits=per_shard, user_api="blas"):
        return run_shards(sys.modules[__name__], program, shards, axis_name, None)


def to_device(x) -> np.ndarray:
    return np.asarray(x)


def _cond(index, *operands, branches):
    return executor._cond(index, *operands, branches=[_executor(b).fn for b in branches])


def _while(*args, cond_program, body_program, cond_nconsts, body_nconsts):
    return executor._while(
        *args,
        cond_fn=_executor(cond_program).fn,
        body_fn=_executor(body_program).fn,
        cond_nconsts=cond_nconsts,
        body_nconsts=body_nconsts,
    )


def _scan(*args, body, length, num_consts, num_carry, reverse):
    return executor._scan(
        *args,
        body_fn=_executor(body).fn,
        length=length,
        num_consts=num_consts,
        num_carry=num_carry,
        reverse=reverse,
        y_avals=body.out_avals[num_carry:],
    )


def _flat(f):
    """Run an elementwise float function on 1-d data (it may index into its arrays)."""
    return lambda *xs: np.asarray(f(*(x.reshape(-1) for x in xs))).reshape(xs[0].shape)


def _fma(a, b, c):
    return _flat(xla_math.fma_f32)(a, b, c) if a.dtype == np.float32 else a * b + c


def _erf_inv(x):
    if x.dtype == np.float32:
        return _flat(xla_math.erf_inv_f32)(x)
    return _flat(xla_math.erf_inv_f64)(x.astype(np.float64)).astype(x.dtype)


def _xla_f32(exact_f32, fallback):
    """With exact=True, f32 through XLA:CPU's own algorithm, bit for bit (jax.random's
    gumbel depends on it); otherwise NumPy's, which is much faster."""

    def run(x, exact=False):
        return _flat(exact_f32)(x) if exact and x.dtype == np.float32 else fallback(x)

    return run


OVERRIDES = {
    control.cond_p: _cond,
    control.while_p: _while,
    control.scan_p: _scan,
    primitives.fma_p: _fma,
    UNARY["erf_inv"]: _erf_inv,
    UNARY["log"]: _xla_f32(xla_math.log_f32, np.log),
    UNARY["log1p"]: _xla_f32(xla_math.log1p_f32, np.log1p),
}
_IMPLS: dict = {}


def _impl(prim):
    """This backend's implementation of a primitive: its override, else its own on NumPy."""
    impl = _IMPLS.get(prim)
    if impl is None:
        impl = _IMPLS[prim] = OVERRIDES.get(prim) or partial(prim.impl, np)
    return impl


def _slice(eqn):
    p = eqn.params
    return itemgetter(tuple(map(slice, p["start_indices"], p["limit_indices"], p["strides"])))


def _dot_general(eqn):
    """dot_general as the impl runs it (the same matmul of the same operand shapes), with
    the transposes and reshapes worked out once from the operands' shapes."""
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    x, y = (v.aval.shape for v in eqn.inputs)
    xfree = [i for i in range(len(x)) if i not in lc and i not in lb]
    yfree = [i for i in range(len(y)) if i not in rc and i not in rb]
    px, py = (*lb, *xfree, *lc), (*rb, *rc, *yfree)
    batch = tuple(x[i] for i in lb)
    xs = batch + (math.prod(x[i] for i in xfree), -1)
    ys = batch + (math.prod(y[i] for i in rc), -1)
    out = batch + tuple(x[i] for i in xfree) + tuple(y[i] for i in yfree)
    same_x, same_y = px == tuple(range(len(x))), py == tuple(range(len(y)))
    dtype = eqn.outputs[0].aval.dtype  # bf16 @ bf16 stays bf16, as the shape rule says

    def dot(a, b):
        a = (a if same_x else np.transpose(a, px)).reshape(xs)
        b = (b if same_y else np.transpose(b, py)).reshape(ys)
        result = np.matmul(a, b).reshape(out)
        return result if result.dtype == dtype else result.astype(dtype)

    return dot


#: Equations the executor runs through a function made from the equation, not the impl.
_SPECIALIZED = {
    primitives.slice_p: _slice,
    primitives.reshape_p: lambda eqn: methodcaller("reshape", eqn.params["new_sizes"]),
    primitives.dot_general_p: _dot_general,
}


def _compiled_impl(eqn):
    """What an executor calls for an equation: NumPy's own function where the impl is just
    that (`xp_function`), a specialized one, or the implementation with its params bound."""
    prim, params = eqn.prim, eqn.params
    name = getattr(prim.impl, "xp_function", None)
    if name is not None and prim not in OVERRIDES:
        return getattr(np, name)
    special = _SPECIALIZED.get(prim)
    if special is not None:
        return special(eqn)
    return partial(_impl(prim), **params) if params else _impl(prim)


def run_eqn(prim, args, params):
    """Run one primitive; always a list of ndarrays."""
    with np.errstate(all="ignore"):  # IEEE results (inf, nan) without warnings, as in JAX
        out = _impl(prim)(*args, **params)
    if prim.multiple_results:
        return [np.asarray(o) for o in out]
    return [np.asarray(out)]


_EXECUTORS: dict = {}


def _executor(program: Program) -> Executor:
    """The program's executor, compiled on its first run (the cache keeps the program
    alive, so its id stays its own)."""
    entry = _EXECUTORS.get(id(program))
    if entry is None or entry.program is not program:
        if len(_EXECUTORS) > 512:
            _EXECUTORS.clear()
        entry = _EXECUTORS[id(program)] = Executor(program, _compiled_impl)
    return entry


def run(program: Program, args) -> list:
    """Run a Program through its compiled executor, reusing dead intermediate buffers."""
    return _executor(program)(*args)


def compile(program: Program) -> Executor:
    return Executor(program, _compiled_impl)


def to_host(x) -> np.ndarray:
    return np.asarray(x)
