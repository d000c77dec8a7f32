"""Collectives over a named mapped axis: `psum`, `pmax`, `pmin`, `all_gather`, `axis_index`
(primitives) and `pmean` (psum divided by the axis size), as built-ins.

An axis name is bound while `vmap(..., axis_name=...)` or `pmap` traces its function; a
collective naming an axis that is not bound is a NameError. Under vmap the batching rules
below reduce over the batch dimension itself. Under pmap each shard runs the program on
its own thread, and the NumPy implementations meet at a `Rendezvous` (a barrier and one
slot per shard) that the pmap executor installs for the thread; every shard gets the same
combined value, in a buffer of its own.
"""

from __future__ import annotations

import threading

import numpy as np

from .. import dtypes, ops, prims, trees
from ..builtins import BUILTINS
from ..core import aval_of, bind, describe
from ..dtypes import ShapedArray
from ..errors import JxRuntimeError
from ..errors import NameError as JxNameError
from ..errors import TypeError as JxTypeError
from ..values import Builtin
from .batching import broadcast_at, move_axis

# ------------------------------------------------------------------ bound axis names

#: (name, size) of the mapped axes whose functions are being traced, innermost last.
AXES: list = []


class bound_axis:
    """`with bound_axis(name, size):` while tracing a function mapped over that axis."""

    def __init__(self, name, size: int):
        self.name = name
        self.size = size

    def __enter__(self):
        if self.name is not None:
            AXES.append((self.name, self.size))

    def __exit__(self, *exc):
        if self.name is not None:
            AXES.pop()


def axis_size(name) -> int:
    if not isinstance(name, str):
        raise JxTypeError(f"an axis name must be a string, got {describe(name)}")
    for bound, size in reversed(AXES):
        if bound == name:
            return size
    raise JxNameError(
        f"unbound axis name '{name}': collectives need an enclosing "
        f"vmap(..., axis_name='{name}') or pmap(..., "
        f"axis_name='{name}')"
    )


# ------------------------------------------------------------------ primitives

psum_p = prims.primitive("psum", lambda x, *, axis_name: [x])
pmax_p = prims.primitive("pmax", lambda x, *, axis_name: [x])
pmin_p = prims.primitive("pmin", lambda x, *, axis_name: [x])


def _all_gather_rule(x, *, axis_name, axis_size):
    return [x.update(shape=(axis_size,) + x.shape)]


all_gather_p = prims.primitive("all_gather", _all_gather_rule)
axis_index_p = prims.primitive(
    "axis_index", lambda *, axis_name: [ShapedArray((), dtypes.i32, False)]
)

COLLECTIVES = (psum_p, pmax_p, pmin_p, all_gather_p, axis_index_p)

# ------------------------------------------------------------------ batching rules


def _reduction_rule(prim, reduce_name, ax, args, dims, *, axis_name):
    (x,), (d,) = args, dims
    if axis_name != ax.name:
        # A collective over an outer axis acts on each example's value alike.
        return bind(prim, x, axis_name=axis_name), d
    if d is None:  # every example holds the same value
        return (ops.binary("mul", x, ax.size) if prim is psum_p else x), None
    return bind(prims.REDUCE[reduce_name], x, axes=(d,)), None


psum_p.batch = lambda *a, **p: _reduction_rule(psum_p, "reduce_sum", *a, **p)
pmax_p.batch = lambda *a, **p: _reduction_rule(pmax_p, "reduce_max", *a, **p)
pmin_p.batch = lambda *a, **p: _reduction_rule(pmin_p, "reduce_min", *a, **p)


def _all_gather_batch(ax, args, dims, *, axis_name, axis_size):
    (x,), (d,) = args, dims
    if axis_name != ax.name:
        return bind(all_gather_p, x, axis_name=axis_name, axis_size=axis_size), d + 1
    if d is None:
        return broadcast_at(x, 0, ax.size), None
    return move_axis(x, d, 0), None


def _axis_index_batch(ax, args, dims, *, axis_name):
    if axis_name != ax.name:
        return bind(axis_index_p, axis_name=axis_name), None
    return ops.iota(dtypes.i32, (ax.size,)), 0


all_gather_p.batch = _all_gather_batch
axis_index_p.batch = _axis_index_batch

# ------------------------------------------------------------------ running under pmap


class Rendezvous:
    """Where the shards of one pmap call meet to combine their values. The last shard to
    arrive combines; a shard that fails or finishes while others wait releases them with
    an error instead of leaving them waiting forever."""

    def __init__(self, n: int):
        self.n = n
        self.ready = threading.Condition()
        self.slots = [None] * n
        self.arrived = 0
        self.generation = 0
        self.finished = 0
        self.result = None
        self.broken: Exception | None = None

    def exchange(self, index: int, value, combine):
        with self.ready:
            if self.finished and self.broken is None:
                self.broken = _diverged()
            if self.broken is not None:
                raise self.broken
            generation = self.generation
            self.slots[index] = value
            self.arrived += 1
            if self.arrived == self.n:
                self.result = combine(self.slots)
                self.slots, self.arrived = [None] * self.n, 0
                self.generation += 1
                self.ready.notify_all()
            else:
                while self.generation == generation and self.broken is None:
                    self.ready.wait()
                if self.generation == generation:
                    raise self.broken
            # The next combination needs this shard too, so `result` is still this one's.
            result = self.result
        # Each shard owns its result, as each device owns its buffer: the backend may then
        # write into it in place (its buffer reuse) without another shard seeing the write.
        # Nobody writes the shared combined value, so the copies may run side by side.
        return result.copy()

    def leave(self) -> None:
        """A shard finished: nobody waiting for it now will ever see it arrive."""
        with self.ready:
            self.finished += 1
            if self.arrived and self.broken is None:
                self.broken = _diverged()
                self.ready.notify_all()

    def abort(self) -> None:
        with self.ready:
            if self.broken is None:
                self.broken = ShardAborted()
            self.ready.notify_all()


class ShardAborted(Exception):
    """Raised in the shards waiting at a collective when another shard failed."""

    jx_passthrough = True  # backends re-raise it as is, so pmap can tell it from the cause


def _diverged():
    return JxRuntimeError(
        "pmap: the shards did not all reach the same collectives (does a "
        "loop run a different number of times on each shard?)"
    )


_SHARD = threading.local()


class shard_of:
    """`with shard_of(name, rendezvous, index):` on a thread running one pmap shard."""

    def __init__(self, name, rendezvous, index: int):
        self.binding = (name, rendezvous, index)

    def __enter__(self):
        _SHARD.binding = self.binding

    def __exit__(self, *exc):
        _SHARD.binding = None


def _shard(axis_name):
    binding = getattr(_SHARD, "binding", None)
    if binding is None or binding[0] != axis_name:
        raise JxNameError(
            f"unbound axis name '{axis_name}' (a collective runs only inside "
            "vmap or pmap over that axis)"
        )
    return binding[1], binding[2]


def _collective_impl(combine):
    def impl(x, *, axis_name, **params):
        rendezvous, index = _shard(axis_name)
        return rendezvous.exchange(index, np.asarray(x), combine)

    return impl


def _axis_index_impl(*, axis_name):
    return np.asarray(_shard(axis_name)[1], dtype=np.int32)


def _sum(values):
    return np.sum(np.stack(values), axis=0, dtype=values[0].dtype)


NUMPY_IMPLS = {
    "psum": _collective_impl(_sum),
    "pmax": _collective_impl(lambda vs: np.max(np.stack(vs), axis=0)),
    "pmin": _collective_impl(lambda vs: np.min(np.stack(vs), axis=0)),
    "all_gather": _collective_impl(np.stack),
    "axis_index": _axis_index_impl,
}


def _register_numpy() -> None:
    from ..backends import numpy as numpy_backend

    for name, impl in NUMPY_IMPLS.items():
        numpy_backend.IMPLS[name] = impl
        prims.REGISTRY[name].impls["numpy"] = impl


_register_numpy()

# ------------------------------------------------------------------ built-ins


def _each_leaf(x, fn):
    leaves, tree = trees.flatten(x, lambda v: ops.is_array(v) or ops.is_scalar(v))
    return trees.unflatten(tree, [fn(ops.as_array(v)) for v in leaves])


def _summable(x):
    return ops.convert(x, dtypes.i32) if aval_of(x).dtype == dtypes.bool_ else x


def psum(x, axis_name):
    axis_size(axis_name)
    return _each_leaf(x, lambda v: bind(psum_p, _summable(v), axis_name=axis_name))


def pmean(x, axis_name):
    n = axis_size(axis_name)
    return _each_leaf(
        x, lambda v: ops.true_divide(bind(psum_p, _summable(v), axis_name=axis_name), n)
    )


def pmax(x, axis_name):
    axis_size(axis_name)
    return _each_leaf(x, lambda v: bind(pmax_p, v, axis_name=axis_name))


def pmin(x, axis_name):
    axis_size(axis_name)
    return _each_leaf(x, lambda v: bind(pmin_p, v, axis_name=axis_name))


def all_gather(x, axis_name):
    n = axis_size(axis_name)
    return _each_leaf(x, lambda v: bind(all_gather_p, v, axis_name=axis_name, axis_size=n))


def axis_index(axis_name):
    axis_size(axis_name)
    return bind(axis_index_p, axis_name=axis_name)


for _fn in (psum, pmean, pmax, pmin, all_gather, axis_index):
    BUILTINS[_fn.__name__] = Builtin(_fn.__name__, _fn)
