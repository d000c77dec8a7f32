"""The NumPy backend: the reference every other backend is tested against.

Each primitive runs its own array implementation with `xp = numpy` (`prim.impl(np, ...)`),
except where `OVERRIDES`, keyed by primitive, has this backend's own: the control-flow
primitives (which interpret their sub-programs here) and the f32 paths that reproduce
XLA:CPU bit for bit (`xla_math.py`). `run` interprets a Program equation by equation,
writing elementwise results into dead operands' buffers where it can (`INPLACE`);
`compile` (what `jit` uses) returns a callable over a Program. Results are always
`np.ndarray` (never NumPy scalars), in the dtype the primitive's shape rule promised.
"""

from __future__ import annotations

import os
import sys
from functools import partial

import numpy as np
from jx import primitives
from jx.backend import Unavailable
from jx.errors import JxError, JxRuntimeError
from jx.errors import ValueError as JxValueError
from jx.ir import Literal, Program
from jx.primitives import control
from jx.primitives.elementwise import BINARY, UNARY
from jx.transforms.pmap import run_shards
from threadpoolctl import threadpool_limits

from . import xla_math

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
    i = int(np.clip(index, 0, len(branches) - 1))
    return run(branches[i], operands)


def _while(*args, cond_program, body_program, cond_nconsts, body_nconsts):
    cconsts = args[:cond_nconsts]
    bconsts = args[cond_nconsts : cond_nconsts + body_nconsts]
    carry = list(args[cond_nconsts + body_nconsts :])
    while bool(run(cond_program, [*cconsts, *carry])[0]):
        carry = run(body_program, [*bconsts, *carry])
    return carry


def _scan(*args, body, length, num_consts, num_carry, reverse):
    consts = args[:num_consts]
    carry = list(args[num_consts : num_consts + num_carry])
    xs = args[num_consts + num_carry :]
    ys = []
    for i in range(length - 1, -1, -1) if reverse else range(length):
        outs = run(body, [*consts, *carry, *(x[i] for x in xs)])
        carry, y = outs[:num_carry], outs[num_carry:]
        ys.append(y)
    if reverse:
        ys.reverse()
    n_ys = len(body.outputs) - num_carry
    out_ys = [
        np.stack([y[k] for y in ys]) if ys else np.zeros((0,) + aval.shape, aval.dtype)
        for k, aval in enumerate(body.out_avals[num_carry:])
    ]
    assert len(out_ys) == n_ys
    return [*carry, *out_ys]


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


def run_eqn(prim, args, params):
    """Run one primitive; always a list of ndarrays."""
    with np.errstate(all="ignore"):  # IEEE results (inf, nan) without warnings, as in JAX
        out = _impl(prim)(*args, **params)
    if prim.multiple_results:
        return [np.asarray(o) for o in out]
    return [np.asarray(out)]


# Elementwise primitives that can write into a dead operand's buffer (out=).
INPLACE = {
    BINARY["add"]: np.add,
    BINARY["sub"]: np.subtract,
    BINARY["mul"]: np.multiply,
    BINARY["max"]: np.maximum,
    BINARY["min"]: np.minimum,
    BINARY["and"]: np.bitwise_and,
    BINARY["or"]: np.bitwise_or,
    BINARY["xor"]: np.bitwise_xor,
    UNARY["neg"]: np.negative,
    UNARY["exp"]: np.exp,
    UNARY["sin"]: np.sin,
    UNARY["cos"]: np.cos,
    UNARY["tanh"]: np.tanh,
    UNARY["sqrt"]: np.sqrt,
    UNARY["abs"]: np.abs,
}
_PLANS: dict = {}


def _plan(program: Program):
    """Per equation, the operand positions whose values die there (buffer-reuse candidates).

    Program inputs and outputs never die: the caller owns the inputs and keeps the outputs."""
    plan = _PLANS.get(id(program))
    if plan is not None and plan[0] is program:
        return plan[1]
    last: dict = {}
    for k, eqn in enumerate(program.eqns):
        for v in eqn.inputs:
            if type(v) is not Literal:
                last[v] = k
    keep = set(program.inputs) | {v for v in program.outputs if type(v) is not Literal}
    dying = []
    for k, eqn in enumerate(program.eqns):
        dying.append(
            tuple(
                i
                for i, v in enumerate(eqn.inputs)
                if type(v) is not Literal
                and v not in keep
                and last.get(v) == k
                and eqn.inputs.index(v) == i
            )
        )
    if len(_PLANS) > 512:
        _PLANS.clear()
    _PLANS[id(program)] = (program, dying)
    return dying


def run(program: Program, args) -> list:
    """Interpret a Program equation by equation, reusing dead intermediate buffers."""
    with np.errstate(all="ignore"):  # IEEE results (inf, nan) without warnings, as in JAX
        return _run(program, args)


def _run(program: Program, args) -> list:
    env = dict(zip(program.inputs, args))
    dying = _plan(program)
    # id -> array that must never be written: the caller's arguments, bases of views, and
    # anything an implementation returned unchanged (it may still be live under another name).
    aliased: dict = {id(a): a for a in args}
    for eqn, dead in zip(program.eqns, dying):
        ins = [v.value if type(v) is Literal else env[v] for v in eqn.inputs]
        ufunc = INPLACE.get(eqn.prim)
        out = None
        if ufunc is not None and dead:
            want = eqn.outputs[0].aval
            for i in dead:
                buf = ins[i]
                if (
                    type(buf) is np.ndarray
                    and buf.base is None
                    and buf.flags.writeable
                    and id(buf) not in aliased
                    and buf.dtype == want.dtype
                    and buf.shape == want.shape
                ):
                    out = ufunc(*ins, out=buf)
                    break
        if out is None:
            try:
                out = _impl(eqn.prim)(*ins, **eqn.params)
            except JxError:
                raise
            except Exception as e:  # the equation's own span, not the caller's
                if getattr(e, "jx_passthrough", False):
                    raise
                raise JxRuntimeError(
                    f"{eqn.prim.name} failed on the numpy backend: {e}", eqn.span
                ) from None
        for v in (eqn.inputs[i] for i in dead):
            del env[v]
        outs = out if eqn.prim.multiple_results else [out]
        ids = {id(x) for x in ins}
        for var, value in zip(eqn.outputs, outs):
            if type(value) is np.ndarray and value.base is not None:
                aliased[id(value.base)] = value.base
            if id(value) in ids:
                aliased[id(value)] = value
            env[var] = value
    return [np.asarray(v.value if type(v) is Literal else env[v]) for v in program.outputs]


def compile(program: Program):
    return lambda *args: run(program, args)


def to_host(x) -> np.ndarray:
    return np.asarray(x)
