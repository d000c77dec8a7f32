"""Reverse mode: transpose the linear part of a program, IR -> IR.

`transpose_program(program, linear_in, linear_out)` takes a program some of whose inputs
are linear (tangents, for a JVP program) and returns one taking (the non-linear inputs,
cotangents of the linear outputs) to the cotangents of the linear inputs. A forward pass
re-emits everything that does not depend on linear inputs (the primal computation);
a backward pass walks the linear equations in reverse, applying each primitive's
transpose rule. `cond` and `scan` whose operands mix both kinds are transposed by
rematerializing their primal part inside the transposed sub-programs; reverse mode
through `while` is refused with the loop's location.
"""

from __future__ import annotations

import numpy as np

from .. import ops, prims
from ..core import CTX, Builder, aval_of, bind, trace_into
from ..errors import TypeError as JxTypeError
from ..ir import Literal, Program
from .trace import eval_program


class Undefined:
    """Stands for a linear input in a transpose rule's arguments."""

    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval


def undef(x) -> bool:
    return type(x) is Undefined


def _zeros(aval):
    return ops.full(aval.shape, 0, aval.dtype)


def _acc(table, var, ct):
    if ct is None:
        return
    prev = table.get(var)
    table[var] = ct if prev is None else bind(prims.BINARY["add"], prev, ct)


# ------------------------------------------------------------------ linearity analysis


def linear_outputs(program: Program, linear_in) -> list:
    """Which outputs depend on the linear inputs (recursing into sub-programs)."""
    lin = {v for v, m in zip(program.inputs, linear_in) if m}
    for eqn in program.eqns:
        mask = [type(v) is not Literal and v in lin for v in eqn.inputs]
        if any(mask):
            for v, m in zip(eqn.outputs, _eqn_linear_outputs(eqn, mask)):
                if m:
                    lin.add(v)
    return [type(v) is not Literal and v in lin for v in program.outputs]


def _eqn_linear_outputs(eqn, mask) -> list:
    p = eqn.params
    if eqn.prim is prims.cond_p:
        outs = [linear_outputs(b, mask[1:]) for b in p["branches"]]
        return [any(col) for col in zip(*outs)]
    if eqn.prim is prims.scan_p:
        nc, nk = p["num_consts"], p["num_carry"]
        carry = mask[nc : nc + nk]
        while True:
            out = linear_outputs(p["body"], mask[:nc] + carry + mask[nc + nk :])
            new = [a or b for a, b in zip(carry, out[:nk])]
            if new == carry:
                return new + out[nk:]
            carry = new
    if eqn.prim is prims.while_p:
        nc, nb = p["cond_nconsts"], p["body_nconsts"]
        carry = mask[nc + nb :]
        while True:
            out = linear_outputs(p["body_program"], mask[nc : nc + nb] + carry)
            new = [a or b for a, b in zip(carry, out)]
            if new == carry:
                return new
            carry = new
    return [True] * len(eqn.outputs)


# ------------------------------------------------------------------ the transformation


def transpose_program(program: Program, linear_in, linear_out) -> Program:
    builder = Builder()
    with trace_into(builder):
        value, lin = {}, set()
        for v, m in zip(program.inputs, linear_in):
            if m:
                lin.add(v)
            else:
                value[v] = builder.new_input(v.aval)
        outs_lin = [v for v, m in zip(program.outputs, linear_out) if m]
        cts_in = [builder.new_input(v.aval.strong()) for v in outs_lin]

        def read(v):
            return v.value if type(v) is Literal else value[v]

        pending = []
        for eqn in program.eqns:
            mask = [type(v) is not Literal and v in lin for v in eqn.inputs]
            saved = CTX.span
            CTX.span = eqn.span or saved
            try:
                if not any(mask):
                    out = bind(eqn.prim, *[read(v) for v in eqn.inputs], **eqn.params)
                    outs = out if eqn.prim.multiple_results else [out]
                    value.update(zip(eqn.outputs, outs))
                    continue
                out_mask = _eqn_linear_outputs(eqn, mask)
                if not all(out_mask):
                    # Primal outputs of a mixed equation: run it with zero tangents.
                    args = [_zeros(v.aval) if m else read(v) for v, m in zip(eqn.inputs, mask)]
                    outs = bind(eqn.prim, *args, **eqn.params)
                    for v, m, o in zip(eqn.outputs, out_mask, outs):
                        if not m:
                            value[v] = o
                lin.update(v for v, m in zip(eqn.outputs, out_mask) if m)
                pending.append((eqn, mask, out_mask))
            finally:
                CTX.span = saved
        ct: dict = {}
        for v, c in zip(outs_lin, cts_in):
            if type(v) is not Literal and v in lin:
                _acc(ct, v, c)
        for eqn, mask, out_mask in reversed(pending):
            cts = [ct.pop(v, None) if m else None for v, m in zip(eqn.outputs, out_mask)]
            if all(c is None for c in cts):
                continue
            rule = eqn.prim.transpose
            saved = CTX.span
            CTX.span = eqn.span or saved
            try:
                if rule is None:
                    raise JxTypeError(
                        f"reverse-mode differentiation through '{eqn.prim.name}' is not supported",
                        eqn.span,
                    )
                args = [Undefined(v.aval) if m else read(v) for v, m in zip(eqn.inputs, mask)]
                in_cts = rule(cts, *args, **eqn.params)
            finally:
                CTX.span = saved
            for v, m, c in zip(eqn.inputs, mask, in_cts):
                if m and c is not None:
                    _acc(ct, v, c)
        results = [
            ct.get(v) if v in ct else _zeros(v.aval.strong())
            for v, m in zip(program.inputs, linear_in)
            if m
        ]
        results = [ops.as_array(r) for r in results]
    new, captured = builder.build(results)
    assert not captured
    return new


# ------------------------------------------------------------------ rules


def _ct(cts):
    return cts[0]


def _neg(x):
    return bind(prims.UNARY["neg"], x)


prims.BINARY["add"].transpose = lambda cts, x, y: [
    _ct(cts) if undef(x) else None,
    _ct(cts) if undef(y) else None,
]
prims.BINARY["sub"].transpose = lambda cts, x, y: [
    _ct(cts) if undef(x) else None,
    _neg(_ct(cts)) if undef(y) else None,
]
prims.UNARY["neg"].transpose = lambda cts, x: [_neg(_ct(cts))]


def _mul_t(cts, x, y):
    ct = _ct(cts)
    return [
        bind(prims.BINARY["mul"], ct, y) if undef(x) else None,
        bind(prims.BINARY["mul"], x, ct) if undef(y) else None,
    ]


prims.BINARY["mul"].transpose = _mul_t


def _div_t(cts, x, y):
    if undef(y):
        raise JxTypeError("a division is not linear in its denominator")
    return [bind(prims.BINARY["div"], _ct(cts), y), None]


prims.BINARY["div"].transpose = _div_t


def _fma_t(cts, a, b, c):
    ct = _ct(cts)
    return [
        bind(prims.BINARY["mul"], ct, b) if undef(a) else None,
        bind(prims.BINARY["mul"], a, ct) if undef(b) else None,
        ct if undef(c) else None,
    ]


prims.fma_p.transpose = _fma_t


def _convert_t(cts, x, *, new_dtype, weak=False):
    return [bind(prims.convert_p, _ct(cts), new_dtype=x.aval.dtype, weak=x.aval.weak)]


prims.convert_p.transpose = _convert_t


def _select_t(cts, p, a, b):
    ct = _ct(cts)
    zero = _zeros(aval_of(ct))
    return [
        None,
        bind(prims.select_p, p, ct, zero) if undef(a) else None,
        bind(prims.select_p, p, zero, ct) if undef(b) else None,
    ]


prims.select_p.transpose = _select_t


def _reduce_sum_t(cts, x, *, axes):
    shape = x.aval.shape
    keep = tuple(1 if i in axes else d for i, d in enumerate(shape))
    return [ops.broadcast_to(ops.reshape(_ct(cts), keep), shape)]


prims.REDUCE["reduce_sum"].transpose = _reduce_sum_t


def _broadcast_t(cts, x, *, shape, broadcast_dimensions):
    ct = _ct(cts)
    xs = x.aval.shape
    summed = [d for d in range(len(shape)) if d not in broadcast_dimensions]
    summed += [d for a, d in enumerate(broadcast_dimensions) if xs[a] == 1 and shape[d] != 1]
    if summed:
        ct = bind(prims.REDUCE["reduce_sum"], ct, axes=tuple(sorted(summed)))
    return [ops.reshape(ct, xs)]


prims.broadcast_in_dim_p.transpose = _broadcast_t
prims.reshape_p.transpose = lambda cts, x, *, new_sizes: [ops.reshape(_ct(cts), x.aval.shape)]
prims.transpose_p.transpose = lambda cts, x, *, permutation: [
    ops.transpose(_ct(cts), tuple(int(i) for i in np.argsort(permutation)))
]
prims.rev_p.transpose = lambda cts, x, *, dimensions: [
    bind(prims.rev_p, _ct(cts), dimensions=dimensions)
]
prims.cumsum_p.transpose = lambda cts, x, *, axis, reverse: [
    bind(prims.cumsum_p, _ct(cts), axis=axis, reverse=not reverse)
]


def _slice_t(cts, x, *, start_indices, limit_indices, strides):
    shape = x.aval.shape
    index = tuple(slice(a, b, s) for a, b, s in zip(start_indices, limit_indices, strides))
    positions = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int32).reshape(shape)[index]
    flat = bind(
        prims.scatter_p,
        ops.reshape(_zeros(x.aval.strong()), (-1,)),
        ops.literal_array(positions.reshape(-1)),
        ops.reshape(_ct(cts), (-1,)),
        axis=0,
        mode="add",
    )
    return [ops.reshape(flat, shape)]


prims.slice_p.transpose = _slice_t


def _concatenate_t(cts, *xs, dimension):
    ct, out, start = _ct(cts), [], 0
    full = aval_of(ct).shape
    for x in xs:
        n = (x.aval if undef(x) else aval_of(x)).shape[dimension]
        if undef(x):
            lo = [0] * len(full)
            hi = list(full)
            lo[dimension], hi[dimension] = start, start + n
            out.append(ops.static_slice(ct, lo, hi, [1] * len(full)))
        else:
            out.append(None)
        start += n
    return out


prims.concatenate_p.transpose = _concatenate_t


def _gather_t(cts, x, idx, *, axis):
    zero = _zeros(x.aval.strong())
    return [bind(prims.scatter_p, zero, idx, _ct(cts), axis=axis, mode="add"), None]


prims.gather_p.transpose = _gather_t


def _scatter_t(cts, x, idx, upd, *, axis, mode):
    ct = _ct(cts)
    ct_upd = bind(prims.gather_p, ct, idx, axis=axis) if undef(upd) else None
    if mode == "add":
        return [ct if undef(x) else None, None, ct_upd]
    if mode == "set":
        zero = _zeros(upd.aval if undef(upd) else aval_of(upd))
        ct_x = bind(prims.scatter_p, ct, idx, zero, axis=axis, mode="set") if undef(x) else None
        return [ct_x, None, ct_upd]
    raise JxTypeError(f"reverse mode through .at[...].{mode}() is not supported")


prims.scatter_p.transpose = _scatter_t


def _dot_general_t(cts, x, y, *, dimension_numbers, preferred_element_type=None):
    ct = _ct(cts)
    (lc, rc), (lb, rb) = dimension_numbers
    xa = x.aval if undef(x) else aval_of(x)
    ya = y.aval if undef(y) else aval_of(y)
    nb = len(lb)
    x_free = [i for i in range(xa.ndim) if i not in lc and i not in lb]
    y_free = [i for i in range(ya.ndim) if i not in rc and i not in rb]
    ct_batch = tuple(range(nb))
    ct_xfree = tuple(range(nb, nb + len(x_free)))
    ct_yfree = tuple(range(nb + len(x_free), nb + len(x_free) + len(y_free)))
    out = [None, None]
    if undef(x):
        r = bind(
            prims.dot_general_p,
            ct,
            y,
            dimension_numbers=((ct_yfree, tuple(y_free)), (ct_batch, tuple(rb))),
        )
        pairs = sorted(zip(rc, lc))
        dims = list(lb) + x_free + [l for _, l in pairs]
        out[0] = ops.transpose(r, tuple(int(i) for i in np.argsort(dims)))
    if undef(y):
        r = bind(
            prims.dot_general_p,
            ct,
            x,
            dimension_numbers=((ct_xfree, tuple(x_free)), (ct_batch, tuple(lb))),
        )
        pairs = sorted(zip(lc, rc))
        dims = list(rb) + y_free + [r_ for _, r_ in pairs]
        out[1] = ops.transpose(r, tuple(int(i) for i in np.argsort(dims)))
    return out


prims.dot_general_p.transpose = _dot_general_t


def _cond_t(cts, index, *operands, branches):
    mask = [undef(o) for o in operands]
    out_mask = [any(col) for col in zip(*(linear_outputs(b, mask) for b in branches))]
    nonlinear = [o for o in operands if not undef(o)]
    out_avals = branches[0].out_avals
    ct_args = [
        c if c is not None else _zeros(a.strong()) for c, a, m in zip(cts, out_avals, out_mask) if m
    ]
    tbranches = tuple(transpose_program(b, mask, out_mask) for b in branches)
    results = bind(prims.cond_p, index, *nonlinear, *ct_args, branches=tbranches)
    it = iter(results)
    return [None] + [next(it) if m else None for m in mask]


prims.cond_p.transpose = _cond_t


def _scan_t(cts, *args, body, length, num_consts, num_carry, reverse):
    nc, nk = num_consts, num_carry
    mask = [undef(a) for a in args]
    consts_m, xs_m = mask[:nc], mask[nc + nk :]
    carry_m = _eqn_linear_outputs_scan(body, nc, nk, mask)
    n_ys = len(body.outputs) - nk
    out_mask = linear_outputs(body, consts_m + carry_m + xs_m)
    out_mask = carry_m + out_mask[nk:]
    # 1. The primal carries at the start of every iteration, by a forward scan.
    zargs = [_zeros(a.aval) if undef(a) else a for a in args]
    hist_body = Program(
        body.inputs,
        body.eqns,
        list(body.outputs) + [v for v, m in zip(body.inputs[nc : nc + nk], carry_m) if not m],
    )
    fwd = bind(
        prims.scan_p,
        *zargs,
        body=hist_body,
        length=length,
        num_consts=nc,
        num_carry=nk,
        reverse=reverse,
    )
    history = fwd[nk + n_ys :]
    # 2. The transposed body, run backwards over the history.
    tbody = transpose_program(body, consts_m + carry_m + xs_m, out_mask)
    consts_nl = [a for a, m in zip(args[:nc], consts_m) if not m]
    xs_nl = [a for a, m in zip(args[nc + nk :], xs_m) if not m]
    carry_avals = [v.aval for v in body.inputs[nc : nc + nk]]
    y_avals = body.out_avals[nk:]
    ct_carry = [
        (c if c is not None else _zeros(a.strong()))
        for c, a, m in zip(cts[:nk], carry_avals, carry_m)
        if m
    ]
    ct_ys = [
        (c if c is not None else ops.full((length,) + a.shape, 0, a.dtype))
        for c, a, m in zip(cts[nk:], y_avals, out_mask[nk:])
        if m
    ]
    const_avals = [v.aval.strong() for v, m in zip(body.inputs[:nc], consts_m) if m]
    acc0 = [_zeros(a) for a in const_avals]
    bwd_body = _backward_body(tbody, body, nc, nk, consts_m, carry_m, xs_m, out_mask)
    outs = bind(
        prims.scan_p,
        *consts_nl,
        *ct_carry,
        *acc0,
        *history,
        *xs_nl,
        *ct_ys,
        body=bwd_body,
        length=length,
        num_consts=len(consts_nl),
        num_carry=len(ct_carry) + len(acc0),
        reverse=not reverse,
    )
    n_ctc = len(ct_carry)
    ct_init, ct_consts, ct_xs = (
        outs[:n_ctc],
        outs[n_ctc : n_ctc + len(acc0)],
        outs[n_ctc + len(acc0) :],
    )
    it_c, it_i, it_x = iter(ct_consts), iter(ct_init), iter(ct_xs)
    # A carry can be linear while its initial value is not (instantiated zero tangents):
    # such a carry's cotangent has no linear input to go to.
    init_cts = [next(it_i) if m else None for m in carry_m]
    init_cts = [c if m else None for c, m in zip(init_cts, mask[nc : nc + nk])]
    return (
        [next(it_c) if m else None for m in consts_m]
        + init_cts
        + [next(it_x) if m else None for m in xs_m]
    )


def _eqn_linear_outputs_scan(body, nc, nk, mask):
    carry = mask[nc : nc + nk]
    while True:
        out = linear_outputs(body, mask[:nc] + carry + mask[nc + nk :])
        new = [a or b for a, b in zip(carry, out[:nk])]
        if new == carry:
            return carry
        carry = new


def _backward_body(tbody, body, nc, nk, consts_m, carry_m, xs_m, out_mask):
    """The reverse scan's body: (nonlinear consts; carry cts, const ct sums; history,
    nonlinear xs, ys cts) -> (new carry cts, new sums; xs cts)."""
    builder = Builder()
    ins = body.inputs
    with trace_into(builder):
        consts = [builder.new_input(v.aval) for v, m in zip(ins[:nc], consts_m) if not m]
        ct_carry = [
            builder.new_input(v.aval.strong()) for v, m in zip(ins[nc : nc + nk], carry_m) if m
        ]
        acc = [builder.new_input(v.aval.strong()) for v, m in zip(ins[:nc], consts_m) if m]
        hist = [builder.new_input(v.aval) for v, m in zip(ins[nc : nc + nk], carry_m) if not m]
        xs = [builder.new_input(v.aval) for v, m in zip(ins[nc + nk :], xs_m) if not m]
        ct_ys = [
            builder.new_input(a.strong()) for a, m in zip(body.out_avals[nk:], out_mask[nk:]) if m
        ]
        cts_in = eval_program(tbody, consts + hist + xs + ct_carry + ct_ys)
        n_cc = sum(consts_m)
        n_ck = sum(carry_m)
        d_consts, d_carry, d_xs = cts_in[:n_cc], cts_in[n_cc : n_cc + n_ck], cts_in[n_cc + n_ck :]
        new_acc = [bind(prims.BINARY["add"], a, d) for a, d in zip(acc, d_consts)]
        outs = list(d_carry) + new_acc + list(d_xs)
    program, captured = builder.build(outs)
    assert not captured
    return program


prims.scan_p.transpose = _scan_t


def _while_t(cts, *args, **params):
    raise JxTypeError(
        "reverse-mode differentiation through a while loop is not supported: use "
        "forward mode (jvp, jacfwd), or a for loop over range(n) or a scan",
        CTX.span,
    )


prims.while_p.transpose = _while_t
