"""The collectives over a named mapped axis: psum, pmax, pmin, all_gather and axis_index,
each in one block with its shape rule, batching rule and implementation.

Under vmap the batching rules reduce over the batch dimension itself. Under pmap each
shard runs the program on its own thread, and the implementations meet at a `Rendezvous`
(a barrier and one slot per shard) that the pmap executor installs for the thread
(`shard_of`); every shard gets the same combined value, in a buffer of its own. The
built-ins that bind these, and the axis names they check, are `transforms/collectives.py`.

Under AD, as in JAX: psum and all_gather are linear; psum's transpose is psum (every
shard's output depends on every shard's input), all_gather's is a sum over the shards of
the cotangents followed by each shard's own slice. pmax and pmin pass the tangent of the
shards holding the extreme, split evenly between ties (as max does), which is a psum of a
select, so reverse mode follows from those two.
"""

from __future__ import annotations

import threading

import numpy as np

from .. import dtypes
from ..core import bind
from ..dtypes import ShapedArray
from ..errors import JxRuntimeError
from ..errors import NameError as JxNameError
from ..registry import primitive
from .elementwise import compare, convert_element_type, div, mul, select
from .indexing import gather_p
from .reductions import REDUCE
from .shapes import broadcast_at, deflinear, full, instantiate, iota, move_axis

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


def _exchanging(combine):
    """The implementation of a collective that combines every shard's value."""

    def impl(xp, x, *, axis_name, **params):
        rendezvous, index = _shard(axis_name)
        return rendezvous.exchange(index, xp.asarray(x), lambda values: combine(xp, values))

    return impl


# ------------------------------------------------------------------ psum, pmax, pmin


def _reduction_batch(prim, reduce_name, ax, args, dims, *, axis_name):
    (x,), (d,) = args, dims
    if axis_name != ax.name:
        # A collective over an outer axis acts on each example's value alike.
        return bind(prim, x, axis_name=axis_name), d
    if d is None:  # every example holds the same value
        return (mul(x, ax.size) if prim is psum_p else x), None
    return bind(REDUCE[reduce_name], x, axes=(d,)), None


def _all_reduction(name, reduce_name, combine):
    p = primitive(name, lambda x, *, axis_name: [x], _exchanging(combine))
    p.batch = lambda *args, **params: _reduction_batch(p, reduce_name, *args, **params)
    return p


psum_p = _all_reduction(
    "psum", "reduce_sum", lambda xp, vs: xp.sum(xp.stack(vs), axis=0, dtype=vs[0].dtype)
)
pmax_p = _all_reduction("pmax", "reduce_max", lambda xp, vs: xp.max(xp.stack(vs), axis=0))
pmin_p = _all_reduction("pmin", "reduce_min", lambda xp, vs: xp.min(xp.stack(vs), axis=0))
deflinear(psum_p)
psum_p.transpose = lambda cts, x, *, axis_name: [bind(psum_p, cts[0], axis_name=axis_name)]


def _extreme_jvp(prim):
    def jvp(ps, ts, *, axis_name):
        (x,), (t,) = ps, ts
        out = bind(prim, x, axis_name=axis_name)
        if t is None:
            return out, None
        at = compare("eq", x, out)
        dtype = t.aval.dtype if hasattr(t, "aval") else x.aval.dtype
        count = bind(psum_p, convert_element_type(at, dtype), axis_name=axis_name)
        mine = select(at, instantiate(t, x), full(x.aval.shape, 0, dtype))
        return out, div(bind(psum_p, mine, axis_name=axis_name), count)

    prim.jvp = jvp


_extreme_jvp(pmax_p)
_extreme_jvp(pmin_p)

# ------------------------------------------------------------------ all_gather


def _all_gather_batch(ax, args, dims, *, axis_name, axis_size):
    (x,), (d,) = args, dims
    if axis_name != ax.name:
        return bind(all_gather_p, x, axis_name=axis_name, axis_size=axis_size), d + 1
    if d is None:
        return broadcast_at(x, 0, ax.size), None
    return move_axis(x, d, 0), None


all_gather_p = primitive(
    "all_gather",
    lambda x, *, axis_name, axis_size: [x.update(shape=(axis_size,) + x.shape)],
    _exchanging(lambda xp, vs: xp.stack(vs)),
)
all_gather_p.batch = _all_gather_batch
deflinear(all_gather_p)


def _all_gather_t(cts, x, *, axis_name, axis_size):
    total = bind(psum_p, cts[0], axis_name=axis_name)
    return [bind(gather_p, total, bind(axis_index_p, axis_name=axis_name), axis=0)]


# ------------------------------------------------------------------ axis_index


def _axis_index_batch(ax, args, dims, *, axis_name):
    if axis_name != ax.name:
        return bind(axis_index_p, axis_name=axis_name), None
    return iota(dtypes.i32, (ax.size,)), 0


axis_index_p = primitive(
    "axis_index",
    lambda *, axis_name: [ShapedArray((), dtypes.i32, False)],
    lambda xp, *, axis_name: xp.asarray(_shard(axis_name)[1], dtype=np.int32),
)
axis_index_p.batch = _axis_index_batch
all_gather_p.transpose = _all_gather_t

COLLECTIVES = (psum_p, pmax_p, pmin_p, all_gather_p, axis_index_p)
