"""The control-flow primitives cond, while and scan, each in one block with all its rules.

Their operands are arrays and their sub-programs (branches, loop bodies) are params, so
their rules run the transformation interpreters on those sub-programs: the JVP of a
branch or body (`transforms/ad.py`), its transposition (`transforms/transpose.py`) and
its batching (`transforms/batching.py`). That puts this family above the interpreters.
Loop state whose tangent, linearity or batching any iteration changes is settled by a
fixed point over the body first. A backend runs the sub-programs itself (the NumPy
backend interprets them, the XLA backend lowers them to regions), so these primitives
have no array implementation of their own.
"""

from __future__ import annotations

from .. import dtypes, ir_check
from ..core import CTX, Builder, aval_of, bind, trace_into
from ..dtypes import ShapedArray
from ..errors import TypeError as JxTypeError
from ..ir import Program, Var
from ..registry import need, primitive, undef
from ..transforms import transpose as transposition
from ..transforms.ad import differentiable, jvp_eval, jvp_program
from ..transforms.batching import batch_subprogram, interpret
from ..transforms.trace import eval_program
from .elementwise import add, compare, convert_element_type, select_p
from .reductions import REDUCE
from .shapes import broadcast_in_dim, full, instantiate, move_axis, to_front


def _spread(values, mask):
    it = iter(values)
    return [next(it) if m else None for m in mask]


def _zeros(aval):
    return full(aval.shape, 0, aval.dtype)


def _new_program(in_avals, body) -> Program:
    """A closed program made by running `body` on fresh inputs of `in_avals`."""
    builder = Builder()
    with trace_into(builder):
        ins = [builder.new_input(a) for a in in_avals]
        outs = body(ins)
    program, captured = builder.build(outs)
    assert not captured
    return program


def _pick(index, options, n_options: int):
    """Per example, option `index` (clamped into range, as cond does) of batched options."""
    out = options[0]
    for i in range(1, n_options):
        pred = broadcast_in_dim(compare("ge", index, i), aval_of(out).shape, (0,))
        out = bind(select_p, pred, options[i], out)
    return out


def _body_jvp(body, groups, n_carry, carry_nz):
    """JVP of a loop body, laid out for while/scan.

    `groups` are (input vars, nonzero mask) in the body's input order; the new body takes,
    group by group, the primals then their nonzero tangents, and returns (carry, carry
    tangents where carry_nz, other outputs, their tangents instantiated if float)."""
    builder = Builder()
    with trace_into(builder):
        primals, tangents = [], []
        for vs, nzs in groups:
            primals += [builder.new_input(v.aval) for v in vs]
            tangents += [
                builder.new_input(v.aval.strong()) if nz else None for v, nz in zip(vs, nzs)
            ]
        outs, touts = jvp_eval(body, primals, tangents)
        carry, ys = outs[:n_carry], outs[n_carry:]
        carry_t = [instantiate(t, p) for t, p, m in zip(touts, carry, carry_nz) if m]
        ys_t = [
            instantiate(t, p) for t, p in zip(touts[n_carry:], ys) if differentiable(aval_of(p))
        ]
    program, captured = builder.build(list(carry) + carry_t + list(ys) + ys_t)
    assert not captured
    return program


def _carry_jvp_fixed_point(body, const_nz, carry_nz, extra_nz=()):
    """Which carries have nonzero tangents once the loop has run (grows to a fixed point)."""
    carry_nz = list(carry_nz)
    while True:
        _, out_nz = jvp_program(body, list(const_nz) + carry_nz + list(extra_nz), False)
        new = [a or b for a, b in zip(carry_nz, out_nz[: len(carry_nz)])]
        if new == carry_nz:
            return carry_nz
        carry_nz = new


def _instantiated(ts, ps, mask):
    return [instantiate(t, p) for t, p, m in zip(ts, ps, mask) if m]


def _carry_batch_fixed_point(body: Program, const_dims, carry_dims, x_dims, ax) -> list:
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


def _linear_carry(body, nc, nk, mask):
    """Which carries of a loop depend on its linear inputs (a fixed point over the body)."""
    carry = mask[nc : nc + nk]
    while True:
        out = transposition.linear_outputs(body, mask[:nc] + carry + mask[nc + nk :])
        new = [a or b for a, b in zip(carry, out[:nk])]
        if new == carry:
            return carry, out
        carry = new


# ------------------------------------------------------------------ cond


def _cond_rule(index, *operands, branches):
    need(index.shape == () and dtypes.is_int(index.dtype), "cond: the index must be an int scalar")
    return list(branches[0].out_avals)


def _cond_jvp(ps, ts, *, branches):
    index, operands = ps[0], ps[1:]
    nonzero = [t is not None for t in ts[1:]]
    jbranches = [jvp_program(b, nonzero)[0] for b in branches]
    tangents = [t for t in ts[1:] if t is not None]
    n = len(branches[0].outputs)
    outs = bind(cond_p, index, *operands, *tangents, branches=tuple(jbranches))
    return outs[:n], _spread(outs[n:], [differentiable(v.aval) for v in branches[0].outputs])


def _cond_linear(mask, *, branches):
    outs = [transposition.linear_outputs(b, mask[1:]) for b in branches]
    return [any(col) for col in zip(*outs)]


def _cond_t(cts, index, *operands, branches):
    mask = [undef(o) for o in operands]
    out_mask = _cond_linear([False, *mask], branches=branches)
    nonlinear = [o for o in operands if not undef(o)]
    out_avals = branches[0].out_avals
    ct_args = [
        c if c is not None else _zeros(a.strong()) for c, a, m in zip(cts, out_avals, out_mask) if m
    ]
    tbranches = tuple(transposition.transpose_program(b, mask, out_mask) for b in branches)
    results = bind(cond_p, index, *nonlinear, *ct_args, branches=tbranches)
    return [None] + _spread(results, mask)


def _cond_batch(ax, args, dims, *, branches):
    (index, *operands), (di, *op_dims) = args, dims
    if di is not None:
        # Each example picks its own branch: run them all batched and select per example.
        runs = [interpret(b, operands, op_dims, ax) for b in branches]
        index = to_front(index, di, ax.size)
        outs = []
        for k in range(len(branches[0].outputs)):
            options = [to_front(run[0][k], run[1][k], ax.size) for run in runs]
            outs.append(_pick(index, options, len(branches)))
        return outs, [0] * len(outs)
    batched = [batch_subprogram(b, op_dims, ax) for b in branches]
    force = [
        any(out_dims[k] is not None for _, out_dims in batched)
        for k in range(len(branches[0].outputs))
    ]
    batched = [batch_subprogram(b, op_dims, ax, force) for b in branches]
    outs = bind(cond_p, index, *operands, branches=tuple(p for p, _ in batched))
    return outs, batched[0][1]


cond_p = primitive("cond", _cond_rule, multiple_results=True)
cond_p.jvp = _cond_jvp
cond_p.transpose = _cond_t
cond_p.batch = _cond_batch


def _cond_interfaces(eqn, fail):
    operands = [v.aval for v in eqn.inputs[1:]]
    results = [v.aval for v in eqn.outputs]
    return [
        (f"branch {i}", b, operands, results, False) for i, b in enumerate(eqn.params["branches"])
    ]


ir_check.INTERFACES[cond_p] = _cond_interfaces
transposition.linearity_rules[cond_p] = _cond_linear

# ------------------------------------------------------------------ while


def _while_rule(*args, cond_program, body_program, cond_nconsts, body_nconsts):
    return list(body_program.out_avals)


def _while_jvp(ps, ts, *, cond_program, body_program, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    cconsts, bconsts, init = ps[:nc], ps[nc : nc + nb], ps[nc + nb :]
    bconst_t, init_t = ts[nc : nc + nb], ts[nc + nb :]
    const_nz = [t is not None for t in bconst_t]
    carry_nz = [t is not None and differentiable(aval_of(p)) for t, p in zip(init_t, init)]
    carry_nz = _carry_jvp_fixed_point(body_program, const_nz, carry_nz)
    if not any(carry_nz):
        outs = bind(
            while_p,
            *ps,
            cond_program=cond_program,
            body_program=body_program,
            cond_nconsts=nc,
            body_nconsts=nb,
        )
        return outs, [None] * len(outs)
    bvars = body_program.inputs
    groups = [(bvars[:nb], const_nz), (bvars[nb:], carry_nz)]
    jbody = _body_jvp(body_program, groups, len(init), carry_nz)
    carry_avals = [v.aval.strong() for v, m in zip(bvars[nb:], carry_nz) if m]
    jcond = Program(
        list(cond_program.inputs) + [Var(a) for a in carry_avals],
        cond_program.eqns,
        cond_program.outputs,
    )
    ct = [t for t in bconst_t if t is not None]
    outs = bind(
        while_p,
        *cconsts,
        *bconsts,
        *ct,
        *init,
        *_instantiated(init_t, init, carry_nz),
        cond_program=jcond,
        body_program=jbody,
        cond_nconsts=nc,
        body_nconsts=nb + len(ct),
    )
    n = len(init)
    return outs[:n], _spread(outs[n:], carry_nz)


def _while_linear(mask, *, cond_program, body_program, cond_nconsts, body_nconsts):
    return _linear_carry(
        body_program, body_nconsts, len(body_program.outputs), mask[cond_nconsts:]
    )[0]


def _while_t(cts, *args, **params):
    raise JxTypeError(
        "reverse-mode differentiation through a while loop is not supported: use "
        "forward mode (jvp, jacfwd), or a for loop over range(n) or a scan",
        CTX.span,
    )


def _while_batch(ax, args, dims, *, cond_program, body_program, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    cconsts, bconsts, carry = args[:nc], args[nc : nc + nb], args[nc + nb :]
    cdims, bdims, carry_dims = dims[:nc], dims[nc : nc + nb], dims[nc + nb :]
    batched = _carry_batch_fixed_point(body_program, bdims, carry_dims, [], ax)
    state_dims = [0 if b else None for b in batched]
    _, (pred_dim,) = batch_subprogram(cond_program, [*cdims, *state_dims], ax)
    if pred_dim is None:
        cond, _ = batch_subprogram(cond_program, [*cdims, *state_dims], ax)
        body, _ = batch_subprogram(body_program, [*bdims, *state_dims], ax, batched)
        outs = bind(
            while_p,
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
        return [bind(REDUCE["reduce_or"], pred, axes=(0,))]

    def step(ins):
        cc, bc, state = ins[:nc], ins[nc : nc + nb], ins[nc + nb :]
        (pred,) = eval_program(cond, [*cc, *state])
        new = eval_program(body, [*bc, *state])
        index = convert_element_type(pred, dtypes.i32)
        return [_pick(index, [old, x], 2) for old, x in zip(state, new)]

    state = _state(carry, carry_dims, every, ax.size)
    state_avals = [aval_of(x) for x in state]
    cond_avals = [aval_of(x) for x in cconsts] + state_avals
    any_program = _new_program(cond_avals, any_goes_on)
    step_program = _new_program(cond_avals[:nc] + [aval_of(x) for x in bconsts] + state_avals, step)
    outs = bind(
        while_p,
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


while_p = primitive("while", _while_rule, multiple_results=True)
while_p.jvp = _while_jvp
while_p.transpose = _while_t
while_p.batch = _while_batch


def _while_interfaces(eqn, fail):
    p, avals = eqn.params, [v.aval for v in eqn.inputs]
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    carry = avals[nc + nb :]
    return [
        (
            "cond_program",
            p["cond_program"],
            avals[:nc] + carry,
            [ShapedArray((), dtypes.bool_, False)],
            False,
        ),
        ("body_program", p["body_program"], avals[nc : nc + nb] + carry, carry, False),
    ]


ir_check.INTERFACES[while_p] = _while_interfaces
transposition.linearity_rules[while_p] = _while_linear

# ------------------------------------------------------------------ scan


def _scan_rule(*args, body, length, num_consts, num_carry, reverse):
    outs = body.out_avals
    carry, ys = outs[:num_carry], outs[num_carry:]
    return list(carry) + [y.update(shape=(length,) + y.shape) for y in ys]


def _scan_jvp(ps, ts, *, body, length, num_consts, num_carry, reverse):
    nc, nk = num_consts, num_carry
    consts, init, xs = ps[:nc], ps[nc : nc + nk], ps[nc + nk :]
    const_t, init_t, xs_t = ts[:nc], ts[nc : nc + nk], ts[nc + nk :]
    const_nz = [t is not None for t in const_t]
    xs_nz = [t is not None for t in xs_t]
    carry_nz = [t is not None and differentiable(aval_of(p)) for t, p in zip(init_t, init)]
    carry_nz = _carry_jvp_fixed_point(body, const_nz, carry_nz, xs_nz)
    bvars = body.inputs
    groups = [(bvars[:nc], const_nz), (bvars[nc : nc + nk], carry_nz), (bvars[nc + nk :], xs_nz)]
    jbody = _body_jvp(body, groups, nk, carry_nz)
    new_consts = list(consts) + [t for t in const_t if t is not None]
    new_init = list(init) + _instantiated(init_t, init, carry_nz)
    new_xs = list(xs) + [t for t in xs_t if t is not None]
    outs = bind(
        scan_p,
        *new_consts,
        *new_init,
        *new_xs,
        body=jbody,
        length=length,
        num_consts=len(new_consts),
        num_carry=len(new_init),
        reverse=reverse,
    )
    n_ct = sum(carry_nz)
    carry, carry_t = outs[:nk], outs[nk : nk + n_ct]
    rest = outs[nk + n_ct :]
    y_float = [differentiable(v.aval) for v in body.outputs[nk:]]
    ys, ys_t = rest[: len(y_float)], rest[len(y_float) :]
    return list(carry) + list(ys), _spread(carry_t, carry_nz) + _spread(ys_t, y_float)


def _scan_linear(mask, *, body, length, num_consts, num_carry, reverse):
    carry, out = _linear_carry(body, num_consts, num_carry, mask)
    return carry + out[num_carry:]


def _scan_t(cts, *args, body, length, num_consts, num_carry, reverse):
    nc, nk = num_consts, num_carry
    mask = [undef(a) for a in args]
    consts_m, xs_m = mask[:nc], mask[nc + nk :]
    carry_m, _ = _linear_carry(body, nc, nk, mask)
    out_mask = transposition.linear_outputs(body, consts_m + carry_m + xs_m)
    out_mask = carry_m + out_mask[nk:]
    # 1. The primal carries at the start of every iteration, by a forward scan of the
    # body's primal part alone (its linear equations need tangents, and some, such as a
    # custom_vjp's, cannot run forward at all).
    consts_nl = [a for a, m in zip(args[:nc], consts_m) if not m]
    xs_nl = [a for a, m in zip(args[nc + nk :], xs_m) if not m]
    _, history = _primal_scan(
        body, args, consts_m + carry_m + xs_m, nc, nk, length, reverse, history=True
    )
    # 2. The transposed body, run backwards over the history.
    tbody = transposition.transpose_program(body, consts_m + carry_m + xs_m, out_mask)
    carry_avals = [v.aval for v in body.inputs[nc : nc + nk]]
    y_avals = body.out_avals[nk:]
    ct_carry = [
        (c if c is not None else _zeros(a.strong()))
        for c, a, m in zip(cts[:nk], carry_avals, carry_m)
        if m
    ]
    ct_ys = [
        (c if c is not None else full((length,) + a.shape, 0, a.dtype))
        for c, a, m in zip(cts[nk:], y_avals, out_mask[nk:])
        if m
    ]
    const_avals = [v.aval.strong() for v, m in zip(body.inputs[:nc], consts_m) if m]
    acc0 = [_zeros(a) for a in const_avals]
    bwd_body = _backward_body(tbody, body, nc, nk, consts_m, carry_m, xs_m, out_mask)
    outs = bind(
        scan_p,
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
    ct_init, ct_consts = outs[:n_ctc], outs[n_ctc : n_ctc + len(acc0)]
    ct_xs = outs[n_ctc + len(acc0) :]
    # A carry can be linear while its initial value is not (instantiated zero tangents):
    # such a carry's cotangent has no linear input to go to.
    init_cts = _spread(ct_init, carry_m)
    init_cts = [c if m else None for c, m in zip(init_cts, mask[nc : nc + nk])]
    return _spread(ct_consts, consts_m) + init_cts + _spread(ct_xs, xs_m)


def _scan_primal(args, mask, out_mask, *, body, length, num_consts, num_carry, reverse):
    """A mixed scan's non-linear outputs, by a scan of its body's primal part."""
    nc, nk = num_consts, num_carry
    carry_m, _ = _linear_carry(body, nc, nk, mask)  # a carry a tangent flows into is linear
    mask = list(mask[:nc]) + carry_m + list(mask[nc + nk :])
    found, _ = _primal_scan(body, args, mask, nc, nk, length, reverse, history=False)
    return [found.get(k) for k in range(len(body.outputs))]


def _primal_scan(body, args, mask, nc, nk, length, reverse, history):
    """A scan of `body`'s primal part (`partial_eval`'s known program, its residuals
    dropped) over the non-linear `args` (`mask`: the linear inputs, carries at their fixed
    point). Gives its non-linear outputs by body output index and, with `history`, instead
    of the ys, the non-linear carries entering every iteration (stacked)."""
    known, _, body_linear = transposition.partial_eval(body, mask)
    known_of = {k: j for j, k in enumerate(i for i, m in enumerate(body_linear) if not m)}
    carries = [k for k in range(nk) if not mask[nc + k]]
    ys = [] if history else [k for k in range(nk, len(body.outputs)) if not body_linear[k]]
    n_consts = sum(1 for m in mask[:nc] if not m)
    outputs = [known.outputs[known_of[k]] for k in carries + ys]
    if history:
        outputs += known.inputs[n_consts : n_consts + len(carries)]
    outs = bind(
        scan_p,
        *[a for a, m in zip(args, mask) if not m],
        body=Program(known.inputs, known.eqns, outputs),
        length=length,
        num_consts=n_consts,
        num_carry=len(carries),
        reverse=reverse,
    )
    n = len(carries) + len(ys)
    return dict(zip(carries + ys, outs[:n])), outs[n:]


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
        n_cc, n_ck = sum(consts_m), sum(carry_m)
        d_consts, d_carry, d_xs = cts_in[:n_cc], cts_in[n_cc : n_cc + n_ck], cts_in[n_cc + n_ck :]
        new_acc = [add(a, d) for a, d in zip(acc, d_consts)]
        outs = list(d_carry) + new_acc + list(d_xs)
    program, captured = builder.build(outs)
    assert not captured
    return program


def _scan_batch(ax, args, dims, *, body, length, num_consts, num_carry, reverse):
    nc, nk = num_consts, num_carry
    consts, carry, xs = args[:nc], args[nc : nc + nk], args[nc + nk :]
    cdims, carry_dims, xdims = dims[:nc], dims[nc : nc + nk], dims[nc + nk :]
    # The scan walks axis 0 of xs, so a batched xs keeps its batch dim at 1 (0 per slice).
    xs = [x if d is None else move_axis(x, d, 1) for x, d in zip(xs, xdims)]
    slice_dims = [None if d is None else 0 for d in xdims]
    batched = _carry_batch_fixed_point(body, cdims, carry_dims, slice_dims, ax)
    state_dims = [0 if b else None for b in batched]
    n_ys = len(body.outputs) - nk
    program, out_dims = batch_subprogram(
        body, [*cdims, *state_dims, *slice_dims], ax, batched + [False] * n_ys
    )
    outs = bind(
        scan_p,
        *consts,
        *_state(carry, carry_dims, batched, ax.size),
        *xs,
        body=program,
        length=length,
        num_consts=nc,
        num_carry=nk,
        reverse=reverse,
    )
    return outs, state_dims + [None if d is None else 1 for d in out_dims[nk:]]


scan_p = primitive("scan", _scan_rule, multiple_results=True)
scan_p.jvp = _scan_jvp
scan_p.transpose = _scan_t
scan_p.batch = _scan_batch
transposition.primal_rules[scan_p] = _scan_primal


def _scan_interfaces(eqn, fail):
    p, avals = eqn.params, [v.aval for v in eqn.inputs]
    nc, nk, length = p["num_consts"], p["num_carry"], p["length"]
    carry, xs = avals[nc : nc + nk], avals[nc + nk :]
    for k, x in enumerate(xs):
        if not x.shape or x.shape[0] != length:
            fail(f"scanned operand {k} is {x}, its leading axis must be the length {length}")
    slices = [x.update(shape=x.shape[1:]) for x in xs]
    return [("body", p["body"], avals[:nc] + carry + slices, carry, True)]


ir_check.INTERFACES[scan_p] = _scan_interfaces
transposition.linearity_rules[scan_p] = _scan_linear
