"""Fusion groups for the NumPy backend's executor: runs of elementwise equations over one
large shape, executed block by block so that their intermediates stay in cache.

`find_groups` picks, in a program, each maximal run of consecutive equations that are
elementwise ufuncs (or constant shifts, or bitcasts) over one shape of at least
`MIN_SIZE` elements, whose operands are arrays of that shape or scalars (0-d values and
their broadcasts), and a sum, max or min of its last result over every axis that ends it. `Group.compile` makes the group one function: it flattens its array
inputs, and for every block of `BLOCK` elements runs each equation with `out=` into a
small scratch buffer (reused once its value is dead) or, for the group's results, into
the block of a result array; the blocks are shared out among a few threads (NumPy
releases the GIL in its loops). Each element is computed by the same ufunc as unfused,
so results are bit for bit the same (a fused sum adds its terms in another order).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from jx.ir import Literal
from jx.primitives import BINARY, REDUCE, bitcast_p
from jx.primitives.shapes import broadcast_in_dim_p

#: Elements per block: a few scratch buffers of it fit in a core's L2 cache.
BLOCK = 1 << 15
#: The smallest shape fused (below it, blocks save nothing).
MIN_SIZE = 1 << 17
THREADS = max(1, min(os.cpu_count() or 1, 4))
_SHIFTS = {BINARY["shift_left"]: np.left_shift, BINARY["shift_right"]: np.right_shift}
#: Reductions over every axis that may end a group: each block's own reduction, then the
#: blocks' (a sum is then added up in another order than NumPy's whole-array one).
_TAILS = {
    REDUCE["reduce_sum"]: np.add.reduce,
    REDUCE["reduce_max"]: np.maximum.reduce,
    REDUCE["reduce_min"]: np.minimum.reduce,
}
_POOL: list = []


def _pool() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(THREADS - 1, thread_name_prefix="jx-fusion"))
    return _POOL[0]


class Group:
    """Equations `eqns` (compute equations; scalar broadcasts are read through) over
    `shape`: `inputs` (Vars or Literals, arrays of the shape or scalars) to `outputs`."""

    def __init__(self, eqns, shape, scalar_of, used_after, tail=None):
        self.eqns = eqns
        self.shape = shape
        self.scalar_of = scalar_of
        self.tail = tail  # a reduction of the last result to a scalar, or None
        defined = {e.outputs[0] for e in eqns}
        self.inputs = list(dict.fromkeys(
            scalar_of.get(v, v) for e in eqns for v in e.inputs if v not in defined
        ))  # fmt: skip
        self.outputs = [v for v in dict.fromkeys(e.outputs[0] for e in eqns) if v in used_after]
        if tail is not None:
            self.outputs.append(tail.outputs[0])

    def compile(self, ufuncs):
        """The group as `fn(*inputs) -> tuple of outputs`; `ufuncs[prim]` is the ufunc of
        each elementwise primitive."""
        scope = {"np": np, "run_blocks": run_blocks, "B": BLOCK}
        arg = {v: f"x{i}" for i, v in enumerate(self.inputs)}
        full = [v for v in self.inputs if v.aval.shape == self.shape]
        n = int(np.prod(self.shape))
        lines = [f"def group({', '.join(arg.values())}):"]
        lines += [f"    f{arg[v]} = np.ascontiguousarray({arg[v]}).reshape(-1)" for v in full]
        arrays = self.outputs[:-1] if self.tail is not None else self.outputs
        outs = {v: f"o{i}" for i, v in enumerate(arrays)}
        for v, name in outs.items():
            scope[f"d{name}"] = np.dtype(v.aval.dtype)
            lines.append(f"    {name} = np.empty({n}, d{name})")
        if self.tail is not None:
            scope["d_tail"] = np.dtype(self.tail.outputs[0].aval.dtype)
            lines.append(f"    partials = np.empty({-(-n // BLOCK)}, d_tail)")
        body, registers = self._block_body(arg, outs, ufuncs, scope)
        lines.append("    def work(start, stop):")
        lines += [f"        r{i} = np.empty(B, d_r{i})" for i in range(len(registers))]
        for i, dtype in enumerate(registers):
            scope[f"d_r{i}"] = dtype
        lines.append("        for lo in range(start, stop, B):")
        lines.append("            hi = min(lo + B, stop)")
        lines.append("            m = hi - lo")
        lines += [f"            b{arg[v]} = f{arg[v]}[lo:hi]" for v in full]
        lines += [f"            b{name} = {name}[lo:hi]" for name in outs.values()]
        lines += [f"            q{i} = r{i}[:m]" for i in range(len(registers))]
        lines += ["            " + line for line in body]
        lines.append(f"    run_blocks(work, {n})")
        shape = tuple(self.shape)
        results = "".join(f"{o}.reshape({shape}), " for o in outs.values())
        if self.tail is not None:
            scope["reduce"] = _TAILS[self.tail.prim]
            results += "np.asarray(reduce(partials, dtype=d_tail)),"
        lines.append(f"    return ({results})")
        exec(compile("\n".join(lines), "<jx numpy fusion group>", "exec"), scope)  # noqa: S102
        return scope["group"]

    def _block_body(self, arg, outs, ufuncs, scope):
        """The lines computing one block, and the dtypes of the scratch registers they use."""
        last = {}
        for k, e in enumerate(self.eqns):
            for v in e.inputs:
                last[self.scalar_of.get(v, v)] = k
        if self.tail is not None:
            last[self.tail.inputs[0]] = len(self.eqns)
        where: dict = {}  # a value -> how the block reads it
        for v in self.inputs:
            if v.aval.shape == self.shape:
                where[v] = f"b{arg[v]}"
            else:
                where[v] = arg[v]
        registers: list = []  # dtype per register
        free: dict = {}  # dtype -> free register numbers
        holder: dict = {}  # a value in a register -> its number
        lines = []
        for k, e in enumerate(self.eqns):
            operands = [where[self.scalar_of.get(v, v)] for v in e.inputs]
            for v in dict.fromkeys(self.scalar_of.get(v, v) for v in e.inputs):
                if last[v] == k and v in holder:  # dead here: its register may take the result
                    free.setdefault(np.dtype(v.aval.dtype), []).append(holder.pop(v))
            out = e.outputs[0]
            if out in outs:
                target = f"b{outs[out]}"
            else:
                dtype = np.dtype(out.aval.dtype)
                pool = free.get(dtype)
                if pool:
                    number = pool.pop()
                else:
                    number = len(registers)
                    registers.append(dtype)
                holder[out] = number
                target = f"q{number}"
            where[out] = target
            if e.prim is bitcast_p:
                scope[f"t{k}"] = np.dtype(out.aval.dtype)
                lines.append(f"np.copyto({target}, {operands[0]}.view(t{k}))")
            else:
                scope[f"u{k}"] = _SHIFTS.get(e.prim) or ufuncs[e.prim]
                lines.append(f"u{k}({', '.join(operands)}, out={target})")
        if self.tail is not None:
            scope["reduce"] = _TAILS[self.tail.prim]
            lines.append(f"partials[lo // B] = reduce({where[self.tail.inputs[0]]}, dtype=d_tail)")
        return lines, registers


def run_blocks(work, n: int) -> None:
    """`work(start, stop)` over [0, n), in one contiguous share of blocks per thread."""
    shares = min(THREADS, -(-n // (4 * BLOCK)))
    if shares <= 1:
        work(0, n)
        return
    step = -(-n // shares // BLOCK) * BLOCK
    futures = [_pool().submit(_quiet, work, lo, min(lo + step, n)) for lo in range(step, n, step)]
    work(0, min(step, n))
    for f in futures:
        f.result()


def _quiet(work, start, stop):
    with np.errstate(all="ignore"):  # the caller's setting, which threads do not inherit
        work(start, stop)


def find_groups(program, ufuncs, used_after) -> dict:
    """Equation index -> (Group, index after its last equation), for each group worth it.
    `used_after(v, k)` says whether Var v is read after equation k (or is an output)."""
    groups = {}
    eqns = program.eqns
    k = 0
    while k < len(eqns):
        shape = _group_shape(eqns[k])
        if shape is None:
            k += 1
            continue
        scalar_of: dict = {}
        members = []
        end = k
        while end < len(eqns):
            kind = _member(eqns[end], shape, scalar_of, ufuncs)
            if kind is None:
                break
            if kind == "broadcast":
                scalar_of[eqns[end].outputs[0]] = eqns[end].inputs[0]
            else:
                members.append(eqns[end])
            end += 1
        if len(members) >= 2:
            tail = _tail(eqns[end], members) if end < len(eqns) else None
            if tail is not None and used_after(tail.inputs[0], end):
                tail = None
            stop = end + 1 if tail is not None else end
            after = {v for e in members for v in e.outputs if used_after(v, end - 1)}
            if tail is not None:
                after.discard(tail.inputs[0])  # read by the tail alone
            groups[k] = (Group(members, shape, scalar_of, after, tail), stop)
            k = stop
        else:
            k += 1
    return groups


def _tail(eqn, members):
    """`eqn` if it reduces the group's last result over every axis, else None."""
    (x,) = eqn.inputs if len(eqn.inputs) == 1 else (None,)
    last = members[-1].outputs[0]
    every_axis = tuple(sorted(eqn.params.get("axes", ()))) == tuple(range(len(last.aval.shape)))
    if eqn.prim in _TAILS and x is last and every_axis:
        return eqn
    return None


def _group_shape(eqn):
    if len(eqn.outputs) != 1:
        return None
    shape = eqn.outputs[0].aval.shape
    return shape if shape and int(np.prod(shape)) >= MIN_SIZE else None


def _member(eqn, shape, scalar_of, ufuncs):
    """'broadcast' for a scalar's broadcast to the shape, 'compute' for an equation the
    group can run, else None."""
    if len(eqn.outputs) != 1 or eqn.outputs[0].aval.shape != shape:
        return None
    out = eqn.outputs[0].aval
    if eqn.prim is broadcast_in_dim_p:
        return "broadcast" if eqn.inputs[0].aval.shape == () else None

    def fits(v):
        return v.aval.shape == shape or v in scalar_of or v.aval.shape == ()

    if eqn.prim is bitcast_p:
        (x,) = eqn.inputs
        ok = (
            x.aval.shape == shape
            and np.dtype(x.aval.dtype).itemsize == np.dtype(out.dtype).itemsize
        )
        return "compute" if ok else None
    if eqn.prim in _SHIFTS:
        x, s = eqn.inputs
        s = scalar_of.get(s, s)
        bits = np.dtype(out.dtype).itemsize * 8
        constant = type(s) is Literal and s.aval.shape == () and 0 <= int(s.value) < bits
        same = x.aval.dtype == out.dtype and s.aval.dtype == out.dtype
        return "compute" if constant and same and fits(x) else None
    if eqn.prim in ufuncs and all(v.aval.dtype == out.dtype and fits(v) for v in eqn.inputs):
        return "compute"
    return None
