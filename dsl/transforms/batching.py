"""Batching (the IR -> IR half of vmap): a program over one example becomes a program over
a batch. `batch_program` interprets a program with (value, batch dim or None) pairs and
re-emits its equations with `bind` into a fresh builder; each primitive's `batch` rule,
registered below beside its family, takes `(ax, args, dims, **params)` and returns the
result and where its batch dimension lies (None: the same for every example). Equations
whose operands are all unbatched are re-emitted unchanged. Sub-programs (cond branches,
loop bodies) are batched recursively; loop state that any iteration batches is batched
from the start (a fixed point over the body), and a batched loop or branch predicate turns
into per-example `select`s, as JAX does. Collectives on the batched axis name are handled
by their own rules (collectives.py).
"""

from __future__ import annotations

from functools import partial

from .. import dtypes, ops, prims
from ..core import CTX, Builder, Tracer, aval_of, bind, current_builder, trace_into
from ..errors import TypeError as JxTypeError
from ..ir import Literal, Program
from .trace import eval_program


class Axis:
    """The axis being batched: its size and, for collectives, its name."""

    __slots__ = ("name", "size")

    def __init__(self, size: int, name=None):
        self.size = size
        self.name = name


def batch_program(program: Program, in_dims, axis_size: int, axis_name=None):
    """The batched program and its outputs' batch dims (0, or None when unbatched)."""
    return batch_subprogram(program, list(in_dims), Axis(axis_size, axis_name))


def batch_subprogram(program: Program, in_dims, ax: Axis, force=None):
    """Batch a closed program; outputs come out at dim 0, or unbatched unless `force[k]`."""
    builder = Builder()
    with trace_into(builder):
        ins = [
            builder.new_input(batched_aval(v.aval, d, ax.size))
            for v, d in zip(program.inputs, in_dims)
        ]
        outs, dims = interpret(program, ins, in_dims, ax)
        results, out_dims = [], []
        for k, (x, d) in enumerate(zip(outs, dims)):
            if d is not None or (force is not None and force[k]):
                x, d = to_front(x, d, ax.size), 0
            results.append(x)
            out_dims.append(d)
    batched, captured = builder.build(results)
    assert not captured, "a batched program is closed"
    return batched, out_dims


def batched_aval(aval, d, size):
    if d is None:
        return aval
    return aval.update(shape=aval.shape[:d] + (size,) + aval.shape[d:])


def interpret(program: Program, vals, dims, ax: Axis):
    """Evaluate `program` batched into the current builder; (outputs, their batch dims)."""
    env = dict(zip(program.inputs, zip(vals, dims)))

    def read(v):
        if type(v) is Literal:
            return _literal(v), None
        return env[v]

    saved = CTX.span
    try:
        for eqn in program.eqns:
            args, arg_dims = zip(*(read(v) for v in eqn.inputs)) if eqn.inputs else ((), ())
            CTX.span = eqn.span or saved
            if all(d is None for d in arg_dims) and not _touches_axis(eqn, ax):
                out = bind(eqn.prim, *args, **eqn.params)
                out_dims = [None] * len(eqn.outputs) if eqn.prim.multiple_results else None
            else:
                rule = eqn.prim.batch
                if rule is None:
                    raise JxTypeError(f"vmap: the primitive {eqn.prim.name} has no batching rule")
                out, out_dims = rule(ax, list(args), list(arg_dims), **eqn.params)
            if eqn.prim.multiple_results:
                env.update(zip(eqn.outputs, zip(out, out_dims)))
            else:
                env[eqn.outputs[0]] = (out, out_dims)
    finally:
        CTX.span = saved
    outs = [read(v) for v in program.outputs]
    return [x for x, _ in outs], [d for _, d in outs]


def _literal(v: Literal):
    return Tracer(current_builder(), v)  # keeps the literal's weak type


def _touches_axis(eqn, ax: Axis) -> bool:
    """Whether an equation refers to the batched axis by name (a collective), maybe inside
    a sub-program: then it is batched even when its operands are not."""
    if ax.name is None:
        return False
    return _refers_to(eqn.params, ax.name)


def _refers_to(params, name) -> bool:
    if params.get("axis_name") == name:
        return True
    for value in params.values():
        programs = value if isinstance(value, tuple) else (value,)
        for p in programs:
            if isinstance(p, Program) and any(_refers_to(e.params, name) for e in p.eqns):
                return True
    return False


# ------------------------------------------------------------------ moving batch dims


def move_axis(x, src: int, dst: int):
    if src == dst:
        return x
    perm = [i for i in range(aval_of(x).ndim) if i != src]
    perm.insert(dst, src)
    return bind(prims.transpose_p, x, permutation=tuple(perm))


def broadcast_at(x, d: int, size: int):
    """An unbatched value as the same value for every example, batched at `d`."""
    a = aval_of(x)
    shape = a.shape[:d] + (size,) + a.shape[d:]
    dims = tuple(i + (i >= d) for i in range(a.ndim))
    return bind(prims.broadcast_in_dim_p, x, shape=shape, broadcast_dimensions=dims)


def to_front(x, d, size: int):
    """`x` with its batch dim at 0, materializing it if `x` is unbatched."""
    return broadcast_at(x, 0, size) if d is None else move_axis(x, d, 0)


def shift(axis: int, d: int) -> int:
    """Where a per-example axis lies once the batch dim `d` is inserted."""
    return axis + (axis >= d)


# ------------------------------------------------------------------ elementwise


def _elementwise_rule(prim, ax, args, dims, **params):
    # Operands have one shape per example: put every batch dim where the first one is.
    d = next(d for d in dims if d is not None)
    args = [
        broadcast_at(x, d, ax.size) if e is None else move_axis(x, e, d) for x, e in zip(args, dims)
    ]
    return bind(prim, *args, **params), d


for _p in [
    *prims.UNARY.values(),
    *prims.BINARY.values(),
    *prims.COMPARE.values(),
    prims.is_finite_p,
    prims.is_nan_p,
    prims.select_p,
    prims.convert_p,
    prims.bitcast_p,
    prims.stop_gradient_p,
    prims.fma_p,
]:
    _p.batch = partial(_elementwise_rule, _p)

# ------------------------------------------------------------------ shapes


def _broadcast_in_dim_rule(ax, args, dims, *, shape, broadcast_dimensions):
    x = to_front(args[0], dims[0], ax.size)
    dims = (0,) + tuple(d + 1 for d in broadcast_dimensions)
    out = bind(
        prims.broadcast_in_dim_p, x, shape=(ax.size,) + tuple(shape), broadcast_dimensions=dims
    )
    return out, 0


def _reshape_rule(ax, args, dims, *, new_sizes):
    x = to_front(args[0], dims[0], ax.size)
    return bind(prims.reshape_p, x, new_sizes=(ax.size,) + tuple(new_sizes)), 0


def _transpose_rule(ax, args, dims, *, permutation):
    d = dims[0]
    perm = (d,) + tuple(shift(p, d) for p in permutation)
    return bind(prims.transpose_p, args[0], permutation=perm), 0


def _rev_rule(ax, args, dims, *, dimensions):
    d = dims[0]
    return bind(prims.rev_p, args[0], dimensions=tuple(shift(a, d) for a in dimensions)), d


def _slice_rule(ax, args, dims, *, start_indices, limit_indices, strides):
    d = dims[0]
    return bind(
        prims.slice_p,
        args[0],
        start_indices=_insert(start_indices, d, 0),
        limit_indices=_insert(limit_indices, d, ax.size),
        strides=_insert(strides, d, 1),
    ), d


def _insert(values, d, value) -> tuple:
    return tuple(values[:d]) + (value,) + tuple(values[d:])


def _concatenate_rule(ax, args, dims, *, dimension):
    xs = [to_front(x, d, ax.size) for x, d in zip(args, dims)]
    return bind(prims.concatenate_p, *xs, dimension=dimension + 1), 0


prims.broadcast_in_dim_p.batch = _broadcast_in_dim_rule
prims.reshape_p.batch = _reshape_rule
prims.transpose_p.batch = _transpose_rule
prims.rev_p.batch = _rev_rule
prims.slice_p.batch = _slice_rule
prims.concatenate_p.batch = _concatenate_rule
prims.iota_p.batch = lambda ax, args, dims, **params: (bind(prims.iota_p, **params), None)

# ------------------------------------------------------------------ gather and scatter


def _wrapped(idx, n: int):
    """Indices wrapped once from the end, as gather and scatter read them."""
    return ops.where(ops.compare("lt", idx, 0), ops.binary("add", idx, n), idx)


def _example_rows(idx, n: int):
    """Per-example indices (batch dim 0) made positions in the flattened (batch * n) axis."""
    rows = ops.iota(aval_of(idx).dtype, aval_of(idx).shape, 0)
    return ops.binary("add", idx, ops.binary("mul", rows, n))


def _flat_operand(x, axis: int):
    """Batched `x` (batch dim 0) as (batch * n, other axes...), n its per-example `axis`."""
    a = aval_of(x)
    x = move_axis(x, axis + 1, 1)
    return ops.reshape(x, (a.shape[0] * a.shape[axis + 1],) + aval_of(x).shape[2:])


def _gather_rule(ax, args, dims, *, axis):
    (x, idx), (dx, di) = args, dims
    if di is None:
        out_dim = dx if dx <= axis else dx - 1 + aval_of(idx).ndim
        return bind(prims.gather_p, x, idx, axis=shift(axis, dx)), out_dim
    if dx is None:
        return bind(prims.gather_p, x, idx, axis=axis), axis + di
    # Both batched: one gather from the examples' rows laid end to end.
    x, idx = to_front(x, dx, ax.size), to_front(idx, di, ax.size)
    n = aval_of(x).shape[axis + 1]
    idx = ops.binary("min", ops.binary("max", _wrapped(idx, n), 0), max(n - 1, 0))
    out = bind(prims.gather_p, _flat_operand(x, axis), _example_rows(idx, n), axis=0)
    ni = aval_of(idx).ndim - 1
    # The gather gives (batch, idx..., before..., after...); put `before` back in front.
    perm = [0, *range(1 + ni, 1 + ni + axis), *range(1, 1 + ni)]
    perm += list(range(len(perm), aval_of(out).ndim))
    return ops.transpose(out, perm), 0


def _scatter_rule(ax, args, dims, *, axis, mode):
    (x, idx, updates), (dx, di, du) = args, dims
    x, updates = to_front(x, dx, ax.size), to_front(updates, du, ax.size)
    if di is None:
        return bind(prims.scatter_p, x, idx, updates, axis=axis + 1, mode=mode), 0
    idx = to_front(idx, di, ax.size)
    a = aval_of(x)
    n = a.shape[axis + 1]
    idx = _wrapped(idx, n)
    inside = ops.logical("and", ops.compare("ge", idx, 0), ops.compare("lt", idx, n))
    # Out-of-range updates must stay dropped, not land in a neighbouring example's rows.
    flat = ops.where(inside, _example_rows(idx, n), ax.size * n)
    ni = aval_of(idx).ndim - 1
    perm = [0, *range(1 + axis, 1 + axis + ni), *range(1, 1 + axis)]
    perm += list(range(len(perm), aval_of(updates).ndim))
    out = bind(
        prims.scatter_p,
        _flat_operand(x, axis),
        flat,
        ops.transpose(updates, perm),
        axis=0,
        mode=mode,
    )
    out = ops.reshape(out, (ax.size, n) + aval_of(out).shape[1:])
    return move_axis(out, 1, axis + 1), 0


prims.gather_p.batch = _gather_rule
prims.scatter_p.batch = _scatter_rule

# ------------------------------------------------------------------ reductions


def _reduce_rule(prim, ax, args, dims, *, axes):
    d = dims[0]
    axes = tuple(shift(a, d) for a in axes)
    return bind(prim, args[0], axes=axes), d - sum(a < d for a in axes)


def _arg_rule(prim, ax, args, dims, *, axis, index_dtype):
    d = dims[0]
    axis = shift(axis, d)
    return bind(prim, args[0], axis=axis, index_dtype=index_dtype), d - (axis < d)


def _cumulative_rule(prim, ax, args, dims, *, axis, reverse):
    d = dims[0]
    return bind(prim, args[0], axis=shift(axis, d), reverse=reverse), d


for _p in prims.REDUCE.values():
    _p.batch = partial(_reduce_rule, _p)
for _p in (prims.argmax_p, prims.argmin_p):
    _p.batch = partial(_arg_rule, _p)
for _p in (prims.cumsum_p, prims.cumprod_p, prims.cummax_p):
    _p.batch = partial(_cumulative_rule, _p)


def _dot_general_rule(ax, args, dims, *, dimension_numbers, preferred_element_type=None):
    (x, y), (dx, dy) = args, dims
    (lc, rc), (lb, rb) = dimension_numbers
    nx, ny = aval_of(x).ndim, aval_of(y).ndim
    if dx is not None and dy is not None:
        # The batch dims become the first dot_general batch dimension: output dim 0.
        lc, lb = [shift(a, dx) for a in lc], [dx] + [shift(a, dx) for a in lb]
        rc, rb = [shift(a, dy) for a in rc], [dy] + [shift(a, dy) for a in rb]
        out_dim = 0
    elif dx is not None:
        lc, lb = [shift(a, dx) for a in lc], [shift(a, dx) for a in lb]
        free = [i for i in range(nx) if i not in lc and i not in lb]
        out_dim = len(lb) + free.index(dx)
    else:
        rc, rb = [shift(a, dy) for a in rc], [shift(a, dy) for a in rb]
        free = [i for i in range(ny) if i not in rc and i not in rb]
        x_free = nx - len(lc) - len(lb)
        out_dim = len(rb) + x_free + free.index(dy)
    numbers = ((tuple(lc), tuple(rc)), (tuple(lb), tuple(rb)))
    return bind(
        prims.dot_general_p,
        x,
        y,
        dimension_numbers=numbers,
        preferred_element_type=preferred_element_type,
    ), out_dim


def _sort_rule(ax, args, dims, *, dimension, num_keys):
    xs = [to_front(x, d, ax.size) for x, d in zip(args, dims)]
    outs = bind(prims.sort_p, *xs, dimension=dimension + 1, num_keys=num_keys)
    return outs, [0] * len(outs)


prims.dot_general_p.batch = _dot_general_rule
prims.sort_p.batch = _sort_rule

# ------------------------------------------------------------------ control flow


def _new_program(in_avals, body) -> Program:
    """A closed program made by running `body` on fresh inputs of `in_avals`."""
    builder = Builder()
    with trace_into(builder):
        ins = [builder.new_input(a) for a in in_avals]
        outs = body(ins)
    program, captured = builder.build(outs)
    assert not captured
    return program


def _pick(index, options, size: int, n_options: int):
    """Per example, option `index` (clamped into range, as cond does) of batched options."""
    out = options[0]
    for i in range(1, n_options):
        shape = aval_of(out).shape
        pred = bind(
            prims.broadcast_in_dim_p,
            ops.compare("ge", index, i),
            shape=shape,
            broadcast_dimensions=(0,),
        )
        out = bind(prims.select_p, pred, options[i], out)
    return out


def _cond_rule(ax, args, dims, *, branches):
    (index, *operands), (di, *op_dims) = args, dims
    if di is not None:
        # Each example picks its own branch: run them all batched and select per example.
        runs = [interpret(b, operands, op_dims, ax) for b in branches]
        index = to_front(index, di, ax.size)
        outs = []
        for k in range(len(branches[0].outputs)):
            options = [to_front(run[0][k], run[1][k], ax.size) for run in runs]
            outs.append(_pick(index, options, ax.size, len(branches)))
        return outs, [0] * len(outs)
    batched = [batch_subprogram(b, op_dims, ax) for b in branches]
    force = [
        any(out_dims[k] is not None for _, out_dims in batched)
        for k in range(len(branches[0].outputs))
    ]
    batched = [batch_subprogram(b, op_dims, ax, force) for b in branches]
    outs = bind(prims.cond_p, index, *operands, branches=tuple(p for p, _ in batched))
    return outs, batched[0][1]


def _carry_fixed_point(body: Program, const_dims, carry_dims, x_dims, ax) -> list:
    """Which loop state is batched: batched initially, or made so by any iteration."""
    batched = [d is not None for d in carry_dims]
    while True:
        dims = [0 if b else None for b in batched]
        _, out_dims = batch_subprogram(body, [*const_dims, *dims, *x_dims], ax)
        new = [b or d is not None for b, d in zip(batched, out_dims)]
        if new == batched:
            return batched
        batched = new


def _state(carry, carry_dims, batched, size):
    return [to_front(x, d, size) if b else x for x, d, b in zip(carry, carry_dims, batched)]


def _while_rule(ax, args, dims, *, cond_program, body_program, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    cconsts, bconsts, carry = args[:nc], args[nc : nc + nb], args[nc + nb :]
    cdims, bdims, carry_dims = dims[:nc], dims[nc : nc + nb], dims[nc + nb :]
    batched = _carry_fixed_point(body_program, bdims, carry_dims, [], ax)
    state_dims = [0 if b else None for b in batched]
    _, (pred_dim,) = batch_subprogram(cond_program, [*cdims, *state_dims], ax)
    if pred_dim is None:
        cond, _ = batch_subprogram(cond_program, [*cdims, *state_dims], ax)
        body, _ = batch_subprogram(body_program, [*bdims, *state_dims], ax, batched)
        outs = bind(
            prims.while_p,
            *cconsts,
            *bconsts,
            *_state(carry, carry_dims, batched, ax.size),
            cond_program=cond,
            body_program=body,
            cond_nconsts=nc,
            body_nconsts=nb,
        )
        return outs, state_dims
    # A batched predicate: loop while any example goes on; the others keep their state.
    every = [True] * len(carry)
    state_dims = [0] * len(carry)
    cond, _ = batch_subprogram(cond_program, [*cdims, *state_dims], ax, [True])
    body, _ = batch_subprogram(body_program, [*bdims, *state_dims], ax, every)

    def any_goes_on(ins):
        (pred,) = eval_program(cond, ins)
        return [bind(prims.REDUCE["reduce_or"], pred, axes=(0,))]

    def step(ins):
        cc, bc, state = ins[:nc], ins[nc : nc + nb], ins[nc + nb :]
        (pred,) = eval_program(cond, [*cc, *state])
        new = eval_program(body, [*bc, *state])
        return [
            _pick(ops.convert(pred, dtypes.i32), [old, x], ax.size, 2) for old, x in zip(state, new)
        ]

    state = _state(carry, carry_dims, every, ax.size)
    state_avals = [aval_of(x) for x in state]
    cond_avals = [aval_of(x) for x in cconsts] + state_avals
    any_program = _new_program(cond_avals, any_goes_on)
    step_program = _new_program(cond_avals[:nc] + [aval_of(x) for x in bconsts] + state_avals, step)
    outs = bind(
        prims.while_p,
        *cconsts,
        *cconsts,
        *bconsts,
        *state,
        cond_program=any_program,
        body_program=step_program,
        cond_nconsts=nc,
        body_nconsts=nc + nb,
    )
    return outs, state_dims


def _scan_rule(ax, args, dims, *, body, length, num_consts, num_carry, reverse):
    nc, nk = num_consts, num_carry
    consts, carry, xs = args[:nc], args[nc : nc + nk], args[nc + nk :]
    cdims, carry_dims, xdims = dims[:nc], dims[nc : nc + nk], dims[nc + nk :]
    # The scan walks axis 0 of xs, so a batched xs keeps its batch dim at 1 (0 per slice).
    xs = [x if d is None else move_axis(x, d, 1) for x, d in zip(xs, xdims)]
    slice_dims = [None if d is None else 0 for d in xdims]
    batched = _carry_fixed_point(body, cdims, carry_dims, slice_dims, ax)
    state_dims = [0 if b else None for b in batched]
    n_ys = len(body.outputs) - nk
    program, out_dims = batch_subprogram(
        body, [*cdims, *state_dims, *slice_dims], ax, batched + [False] * n_ys
    )
    outs = bind(
        prims.scan_p,
        *consts,
        *_state(carry, carry_dims, batched, ax.size),
        *xs,
        body=program,
        length=length,
        num_consts=nc,
        num_carry=nk,
        reverse=reverse,
    )
    ys_dims = [None if d is None else 1 for d in out_dims[nk:]]
    return outs, state_dims + ys_dims


prims.cond_p.batch = _cond_rule
prims.while_p.batch = _while_rule
prims.scan_p.batch = _scan_rule
