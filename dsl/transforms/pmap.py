"""`pmap(f, axis_name=None, in_axes=0, out_axes=0)`: f run once per device, one slice of the
mapped axis each (LANGUAGE.md section 10).

On the NumPy backend the devices are virtual CPU devices (8, or `JX_CPU_DEVICES`); a
mapped axis longer than the device count is a ValueError. f is traced once per signature
to a per-shard program with its axis name bound, and every shard runs that program on a
thread pool sized to the cores, or with one thread per shard when the program holds
collectives (all shards must reach each collective together; see collectives.py); the
shards' outputs are stacked along `out_axes`. In a run of several processes (distributed.py)
each process maps its own slice over its own devices, and the collectives span them all.
A backend may offer its own `pmap(program,
shard_args, axis_name)` hook; other backends, and pmap called inside a trace (within `jit`
or `vmap`), evaluate f as `vmap` with the same axis name, which gives the same values.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import trees
from ..builtins import BUILTINS
from ..core import CTX, current_builder, describe
from ..distributed import local_device_count, process_count
from ..errors import JxError, JxRuntimeError
from ..errors import TypeError as JxTypeError
from ..errors import ValueError as JxValueError
from ..functions import input_avals, number_leaf, signature
from ..ir import Program
from ..primitives.collectives import COLLECTIVES, Rendezvous, ShardAborted, shard_of
from ..values import Builtin, TraceCache, TraceEntry
from .vmap import (
    Vmapped,
    example_avals,
    in_axes_of,
    mapped_size,
    out_axes_of,
    static_axes,
    trace_mapped,
)


class Pmapped:
    """`pmap(f, ...)`: callable like f, on a leading axis split over devices."""

    jx_kind = "a pmapped function"

    def __init__(self, fn, axis_name=None, in_axes=0, out_axes=0):
        self.fn = fn
        if axis_name is not None and not isinstance(axis_name, str):
            raise JxTypeError(f"axis_name must be a string, got {describe(axis_name)}")
        self.axis_name = axis_name
        self.in_axes = static_axes(in_axes, "in_axes")
        self.out_axes = static_axes(out_axes, "out_axes")
        self.cache = TraceCache()
        self.as_vmap = Vmapped(fn, self.in_axes, self.out_axes, axis_name, "pmap")

    def __repr__(self) -> str:
        return f"<pmap {getattr(self.fn, 'name', 'function')}>"

    def jx_call(self, args, kwargs, span):
        leaves, in_tree = trees.flatten((tuple(args), kwargs), number_leaf)
        axes, names = in_axes_of(self.in_axes, args, kwargs, leaves, in_tree, "pmap")
        size = mapped_size(leaves, axes, names, "pmap")
        devices = local_device_count()  # in a run of several processes, this one's
        if size == 0:
            raise JxValueError("pmap: the mapped axis has size 0; each device needs a slice", span)
        if size > devices:
            raise JxValueError(
                f"pmap: the mapped axis has size {size} but there are only "
                f"{devices} devices (JX_CPU_DEVICES sets the number of "
                "virtual CPU devices)"
            )
        backend = CTX.backend
        if current_builder() is not None and process_count() > 1:
            # As vmap it would see this process's part of the axis alone.
            raise JxValueError(
                "pmap inside a traced function (a def called at the top level, jit, vmap, "
                "grad) cannot span the processes of a run: call pmap(f)(x) at the top level, "
                "or use jit with in_shardings",
                span,
            )
        if current_builder() is not None or getattr(backend, "pmap", None) is None:
            return self.as_vmap.jx_call(args, kwargs, span)

        def make():
            avals = example_avals(leaves, axes)
            # The collectives see the whole axis: every process's part of it.
            axis_size = size * process_count()
            traced = trace_mapped(self.fn, args, kwargs, span, avals, self.axis_name, axis_size)
            return TraceEntry(traced.program, traced, out_axes_of(self.out_axes, traced, "pmap"))

        entry = self.cache.lookup(signature(in_tree, input_avals(leaves), tuple(axes)), make)
        avals = entry.program.in_avals
        shards = [
            [_shard_value(x, ax, i, a) for x, ax, a in zip(leaves, axes, avals)]
            for i in range(size)
        ]
        hook = getattr(backend, "pmap", None)
        if hook is not None:
            results = hook(entry.program, shards, self.axis_name)
        else:
            results = run_shards(backend, entry.program, shards, self.axis_name, span)
        outs = [_stack([r[k] for r in results], ax) for k, ax in enumerate(entry.extra)]
        return trees.unflatten(entry.traced.out_tree, outs)


def _shard_value(x, ax, i, aval):
    """Shard i's part of an argument leaf: its slice of the mapped axis."""
    data = np.asarray(x)
    if ax is None:
        return data.astype(aval.dtype, copy=False)
    return np.take(data, i, axis=ax)


def _stack(values, ax):
    if ax is None:  # an unmapped output: every shard holds the same value
        return values[0]
    nd = np.ndim(values[0]) + 1
    if not -nd <= ax < nd:
        raise JxValueError(f"pmap out_axes {ax} is out of range for an output of rank {nd}")
    return np.stack(values, axis=ax % nd)


def has_collectives(program: Program) -> bool:
    for eqn in program.eqns:
        if eqn.prim in COLLECTIVES:
            return True
        for value in eqn.params.values():
            for p in value if isinstance(value, tuple) else (value,):
                if isinstance(p, Program) and has_collectives(p):
                    return True
    return False


def run_shards(backend, program: Program, shards, axis_name, span) -> list:
    """Run `program` once per shard on a thread pool; each shard's list of outputs."""
    n = len(shards)
    workers = n if has_collectives(program) else min(n, os.cpu_count() or 1)
    rendezvous = Rendezvous(n)

    def run_one(i):
        with shard_of(axis_name, rendezvous, i):
            try:
                return backend.run(program, shards[i])
            except BaseException:
                rendezvous.abort()  # the others may be waiting for this shard at a collective
                raise
            finally:
                rendezvous.leave()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jx-pmap") as pool:
        futures = [pool.submit(run_one, i) for i in range(n)]
        errors = [f.exception() for f in futures]
    failures = [e for e in errors if e is not None and not isinstance(e, ShardAborted)]
    if failures:
        if isinstance(failures[0], JxError):
            raise failures[0].with_span(span)
        raise JxRuntimeError(f"pmap: a shard failed on the backend: {failures[0]}", span)
    return [f.result() for f in futures]


def pmap(fun, axis_name=None, in_axes=0, out_axes=0):
    return Pmapped(fun, axis_name, in_axes, out_axes)


BUILTINS["pmap"] = Builtin("pmap", pmap)
