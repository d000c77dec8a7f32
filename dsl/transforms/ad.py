"""Forward-mode differentiation: a JVP rule per primitive and `jvp_program`, IR -> IR.

`jvp_program(program, nonzero)` gives a program taking (primals..., tangents of the
inputs marked nonzero...) and returning (primal outputs..., tangent outputs...), built by
interpreting the program with (primal, tangent) pairs and emitting equations with
`bind`. A tangent of None is a symbolic zero: rules skip work for it. Every tangent the
rules produce is linear in the input tangents (primal values only as coefficients), so
the reverse mode (`transpose.py`) can transpose it. Control flow differentiates through
its sub-programs: `cond` branches, `while` and `scan` bodies.
"""

from __future__ import annotations

import math

import numpy as np

from .. import dtypes, ops, prims
from ..core import CTX, Builder, aval_of, bind, trace_into
from ..errors import TypeError as JxTypeError
from ..ir import Literal, Program


def differentiable(aval) -> bool:
    return dtypes.is_float(aval.dtype)


def zeros_like(x):
    a = aval_of(x)
    return ops.full(a.shape, 0, a.dtype)


def instantiate(t, primal):
    return zeros_like(primal) if t is None else t


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return bind(prims.BINARY["add"], a, b)


def _mul(t, c):
    return None if t is None else ops.binary("mul", t, c)


def _neg(t):
    return None if t is None else bind(prims.UNARY["neg"], t)


# ------------------------------------------------------------------ interpretation


def jvp_eval(program: Program, primals, tangents):
    """Evaluate `program` on (primal, tangent) pairs; (primal outputs, tangent outputs)."""
    env = {}

    def read(v):
        if type(v) is Literal:
            return v.value, None
        return env[v]

    for var, p, t in zip(program.inputs, primals, tangents):
        env[var] = (p, t)
    for eqn in program.eqns:
        pairs = [read(v) for v in eqn.inputs]
        ps = [p for p, _ in pairs]
        ts = [t for _, t in pairs]
        saved = CTX.span
        CTX.span = eqn.span or saved
        try:
            if all(t is None for t in ts):
                out = bind(eqn.prim, *ps, **eqn.params)
                outs = out if eqn.prim.multiple_results else [out]
                touts = [None] * len(outs)
            else:
                rule = eqn.prim.jvp
                if rule is None:
                    raise JxTypeError(f"cannot differentiate through '{eqn.prim.name}'", eqn.span)
                outs, touts = rule(ps, ts, **eqn.params)
                if not eqn.prim.multiple_results:
                    outs, touts = [outs], [touts]
        finally:
            CTX.span = saved
        for var, p, t in zip(eqn.outputs, outs, touts):
            if t is not None and not differentiable(var.aval):
                t = None
            env[var] = (p, t)
    results = [read(v) for v in program.outputs]
    return [p for p, _ in results], [t for _, t in results]


def jvp_program(program: Program, nonzero, instantiate_outputs=True):
    """The JVP of `program` as a program: (primals, nonzero tangents) -> (outs, tangents).

    Returns (program, out_nonzero); with instantiate_outputs every output tangent is
    materialized (zeros where symbolic), so out_nonzero is all True for float outputs."""
    builder = Builder()
    with trace_into(builder):
        primals = [builder.new_input(v.aval) for v in program.inputs]
        tangents = [
            builder.new_input(v.aval.strong()) if nz else None
            for v, nz in zip(program.inputs, nonzero)
        ]
        outs, touts = jvp_eval(program, primals, tangents)
        if instantiate_outputs:
            touts = [
                instantiate(t, p) if differentiable(aval_of(p)) else t for t, p in zip(touts, outs)
            ]
        out_nonzero = [t is not None for t in touts]
        outs = [ops.as_array(o) for o in outs]
    new, captured = builder.build(outs + [t for t in touts if t is not None])
    assert not captured
    return new, out_nonzero


# ------------------------------------------------------------------ rules


def defjvp_unary(name, deriv):
    """Elementwise f with f'(x) given by deriv(x, y): tangent = t * f'(x)."""

    def rule(ps, ts, **params):
        (x,), (t,) = ps, ts
        y = bind(prims.UNARY[name], x, **params)
        return y, _mul(t, deriv(x, y))

    prims.UNARY[name].jvp = rule


def _f(x, v):
    return ops.full((), v, aval_of(x).dtype)


def _recip(x):
    return ops.true_divide(_f(x, 1.0), x)


_UNARY_DERIVS = {
    "exp": lambda x, y: y,
    "exp2": lambda x, y: ops.binary("mul", y, _f(x, math.log(2))),
    "log": lambda x, y: _recip(x),
    "log2": lambda x, y: _recip(ops.binary("mul", x, _f(x, math.log(2)))),
    "log10": lambda x, y: _recip(ops.binary("mul", x, _f(x, math.log(10)))),
    "log1p": lambda x, y: _recip(ops.binary("add", x, _f(x, 1.0))),
    "expm1": lambda x, y: ops.binary("add", y, _f(x, 1.0)),
    "tanh": lambda x, y: ops.binary("sub", _f(x, 1.0), ops.binary("mul", y, y)),
    "logistic": lambda x, y: ops.binary("mul", y, ops.binary("sub", _f(x, 1.0), y)),
    "sin": lambda x, y: bind(prims.UNARY["cos"], x),
    "cos": lambda x, y: bind(prims.UNARY["neg"], bind(prims.UNARY["sin"], x)),
    "tan": lambda x, y: ops.binary("add", _f(x, 1.0), ops.binary("mul", y, y)),
    "asin": lambda x, y: bind(
        prims.UNARY["rsqrt"], ops.binary("sub", _f(x, 1.0), ops.binary("mul", x, x))
    ),
    "acos": lambda x, y: bind(
        prims.UNARY["neg"],
        bind(prims.UNARY["rsqrt"], ops.binary("sub", _f(x, 1.0), ops.binary("mul", x, x))),
    ),
    "atan": lambda x, y: _recip(ops.binary("add", _f(x, 1.0), ops.binary("mul", x, x))),
    "sinh": lambda x, y: bind(prims.UNARY["cosh"], x),
    "cosh": lambda x, y: bind(prims.UNARY["sinh"], x),
    "asinh": lambda x, y: bind(
        prims.UNARY["rsqrt"], ops.binary("add", ops.binary("mul", x, x), _f(x, 1.0))
    ),
    "acosh": lambda x, y: bind(
        prims.UNARY["rsqrt"], ops.binary("sub", ops.binary("mul", x, x), _f(x, 1.0))
    ),
    "atanh": lambda x, y: _recip(ops.binary("sub", _f(x, 1.0), ops.binary("mul", x, x))),
    "sqrt": lambda x, y: _recip(ops.binary("mul", y, _f(x, 2.0))),
    "rsqrt": lambda x, y: ops.binary("mul", ops.true_divide(y, x), _f(x, -0.5)),
    "erf": lambda x, y: ops.binary(
        "mul",
        _f(x, 2 / math.sqrt(math.pi)),
        bind(prims.UNARY["exp"], bind(prims.UNARY["neg"], ops.binary("mul", x, x))),
    ),
    "erf_inv": lambda x, y: ops.binary(
        "mul", _f(x, math.sqrt(math.pi) / 2), bind(prims.UNARY["exp"], ops.binary("mul", y, y))
    ),
}

for _name, _d in _UNARY_DERIVS.items():
    defjvp_unary(_name, _d)


def _zero_jvp(prim):
    def rule(ps, ts, **params):
        out = bind(prim, *ps, **params)
        n = len(out) if prim.multiple_results else None
        return out, ([None] * n if n is not None else None)

    prim.jvp = rule


for _p in [prims.UNARY[n] for n in ("sign", "floor", "ceil", "round", "not")] + [
    prims.is_finite_p,
    prims.is_nan_p,
    prims.bitcast_p,
    prims.stop_gradient_p,
    prims.iota_p,
    prims.argmax_p,
    prims.argmin_p,
    *prims.COMPARE.values(),
    prims.BINARY["floor_divide"],
    prims.BINARY["nextafter"],
    *(prims.BINARY[n] for n in ("and", "or", "xor", "shift_left", "shift_right")),
    prims.REDUCE["reduce_and"],
    prims.REDUCE["reduce_or"],
]:
    _zero_jvp(_p)


def _linear_jvp(prim):
    """A primitive linear in all its array operands: the tangent is the same op on tangents."""

    def rule(ps, ts, **params):
        out = bind(prim, *ps, **params)
        tangents = [instantiate(t, p) for t, p in zip(ts, ps)]
        return out, bind(prim, *tangents, **params)

    prim.jvp = rule


for _p in (
    prims.broadcast_in_dim_p,
    prims.reshape_p,
    prims.transpose_p,
    prims.rev_p,
    prims.slice_p,
    prims.concatenate_p,
    prims.cumsum_p,
    prims.REDUCE["reduce_sum"],
):
    _linear_jvp(_p)


def _neg_jvp(ps, ts):
    return bind(prims.UNARY["neg"], ps[0]), _neg(ts[0])


prims.UNARY["neg"].jvp = _neg_jvp


def _abs_jvp(ps, ts):
    (x,), (t,) = ps, ts
    y = bind(prims.UNARY["abs"], x)
    if t is None:
        return y, None
    return y, ops.where(ops.compare("ge", x, 0), t, bind(prims.UNARY["neg"], t))


prims.UNARY["abs"].jvp = _abs_jvp


def _binary_jvp(name, rule):
    def jvp(ps, ts):
        x, y = ps
        out = bind(prims.BINARY[name], x, y)
        return out, rule(x, y, out, *ts)

    prims.BINARY[name].jvp = jvp


_binary_jvp("add", lambda x, y, o, tx, ty: _add(tx, ty))
_binary_jvp("sub", lambda x, y, o, tx, ty: _add(tx, _neg(ty)))
_binary_jvp("mul", lambda x, y, o, tx, ty: _add(_mul(tx, y), _mul(ty, x)))
_binary_jvp(
    "div",
    lambda x, y, o, tx, ty: _add(
        None if tx is None else ops.true_divide(tx, y),
        None if ty is None else _neg(ops.binary("mul", ty, ops.true_divide(o, y))),
    ),
)
_binary_jvp(
    "rem",
    lambda x, y, o, tx, ty: _add(
        tx,
        None
        if ty is None
        else _neg(ops.binary("mul", ty, bind(prims.UNARY["floor"], ops.true_divide(x, y)))),
    ),
)


def _pow_rule(x, y, out, tx, ty):
    dx = None
    if tx is not None:
        # y * x ** (y - 1), with 0 where y == 0 (so d/dx x**0 is 0 even at x = 0).
        ym1 = ops.binary("sub", y, _f(y, 1.0))
        safe = ops.where(
            ops.compare("eq", y, 0),
            _f(y, 0.0),
            ops.binary("mul", y, bind(prims.BINARY["pow"], x, ym1)),
        )
        dx = ops.binary("mul", tx, safe)
    dy = None
    if ty is not None:
        logx = ops.where(ops.compare("eq", x, 0), _f(x, 0.0), bind(prims.UNARY["log"], x))
        dy = ops.binary("mul", ty, ops.binary("mul", out, logx))
    return _add(dx, dy)


_binary_jvp("pow", _pow_rule)


def _minmax_rule(pick):
    # Ties split the tangent evenly, as JAX does for max/min.
    def rule(x, y, out, tx, ty):
        wx = ops.where(
            ops.compare(pick, x, y),
            _f(x, 1.0),
            ops.where(ops.compare("eq", x, y), _f(x, 0.5), _f(x, 0.0)),
        )
        wy = ops.binary("sub", _f(x, 1.0), wx)
        return _add(_mul(tx, wx), _mul(ty, wy))

    return rule


_binary_jvp("max", _minmax_rule("gt"))
_binary_jvp("min", _minmax_rule("lt"))
_binary_jvp(
    "atan2",
    lambda y, x, o, ty, tx: ops.true_divide(
        _add(_mul(ty, x), _neg(_mul(tx, y))),
        ops.binary("add", ops.binary("mul", x, x), ops.binary("mul", y, y)),
    ),
)


def _fma_jvp(ps, ts):
    a, b, c = ps
    ta, tb, tc = ts
    return bind(prims.fma_p, a, b, c), _add(_add(_mul(ta, b), _mul(tb, a)), tc)


prims.fma_p.jvp = _fma_jvp


def _select_jvp(ps, ts):
    p, a, b = ps
    _, ta, tb = ts
    out = bind(prims.select_p, p, a, b)
    if ta is None and tb is None:
        return out, None
    return out, bind(prims.select_p, p, instantiate(ta, a), instantiate(tb, b))


prims.select_p.jvp = _select_jvp


def _convert_jvp(ps, ts, *, new_dtype, weak=False):
    (x,), (t,) = ps, ts
    out = bind(prims.convert_p, x, new_dtype=new_dtype, weak=weak)
    if t is None or not dtypes.is_float(np.dtype(new_dtype)):
        return out, None
    return out, bind(prims.convert_p, t, new_dtype=new_dtype, weak=weak)


prims.convert_p.jvp = _convert_jvp


def _gather_jvp(ps, ts, *, axis):
    (x, idx), (t, _) = ps, ts
    out = bind(prims.gather_p, x, idx, axis=axis)
    return out, None if t is None else bind(prims.gather_p, t, idx, axis=axis)


prims.gather_p.jvp = _gather_jvp


def _scatter_jvp(ps, ts, *, axis, mode):
    x, idx, upd = ps
    tx, _, tu = ts
    out = bind(prims.scatter_p, x, idx, upd, axis=axis, mode=mode)
    if mode not in ("set", "add"):
        raise JxTypeError(
            f"differentiating .at[...].{mode}() is not supported; use .set/.add or where()"
        )
    if tx is None and tu is None:
        return out, None
    return out, bind(
        prims.scatter_p, instantiate(tx, x), idx, instantiate(tu, upd), axis=axis, mode=mode
    )


prims.scatter_p.jvp = _scatter_jvp


def _reduce_extreme_jvp(name):
    def rule(ps, ts, *, axes):
        (x,), (t,) = ps, ts
        y = bind(prims.REDUCE[name], x, axes=axes)
        if t is None:
            return y, None
        keep = tuple(1 if i in axes else d for i, d in enumerate(aval_of(x).shape))
        yb = ops.broadcast_to(ops.reshape(y, keep), aval_of(x).shape)
        mask = ops.convert(ops.compare("eq", x, yb), aval_of(x).dtype)
        num = bind(prims.REDUCE["reduce_sum"], ops.binary("mul", t, mask), axes=axes)
        return y, ops.true_divide(num, bind(prims.REDUCE["reduce_sum"], mask, axes=axes))

    prims.REDUCE[name].jvp = rule


_reduce_extreme_jvp("reduce_max")
_reduce_extreme_jvp("reduce_min")


def _reduce_prod_jvp(ps, ts, *, axes):
    (x,), (t,) = ps, ts
    y = bind(prims.REDUCE["reduce_prod"], x, axes=axes)
    if t is None:
        return y, None
    return y, ops.binary(
        "mul", y, bind(prims.REDUCE["reduce_sum"], ops.true_divide(t, x), axes=axes)
    )


prims.REDUCE["reduce_prod"].jvp = _reduce_prod_jvp


def _cumprod_jvp(ps, ts, *, axis, reverse):
    (x,), (t,) = ps, ts
    y = bind(prims.cumprod_p, x, axis=axis, reverse=reverse)
    if t is None:
        return y, None
    return y, ops.binary(
        "mul", y, bind(prims.cumsum_p, ops.true_divide(t, x), axis=axis, reverse=reverse)
    )


prims.cumprod_p.jvp = _cumprod_jvp


def _dot_general_jvp(ps, ts, **params):
    x, y = ps
    tx, ty = ts
    out = bind(prims.dot_general_p, x, y, **params)
    a = None if tx is None else bind(prims.dot_general_p, tx, y, **params)
    b = None if ty is None else bind(prims.dot_general_p, x, ty, **params)
    return out, _add(a, b)


prims.dot_general_p.jvp = _dot_general_jvp


def _sort_jvp(ps, ts, *, dimension, num_keys):
    shape = aval_of(ps[0]).shape
    iota = ops.iota(dtypes.i32, shape, dimension)
    outs = bind(prims.sort_p, *ps, iota, dimension=dimension, num_keys=num_keys)
    perm = outs[-1]
    if len(shape) != 1:
        raise JxTypeError("differentiating sort is supported for 1-d arrays")
    touts = [None if t is None else bind(prims.gather_p, t, perm, axis=0) for t in ts]
    return outs[:-1], touts


prims.sort_p.jvp = _sort_jvp


# ------------------------------------------------------------------ control flow


def _cond_jvp(ps, ts, *, branches):
    index, operands = ps[0], ps[1:]
    nonzero = [t is not None for t in ts[1:]]
    jbranches = [jvp_program(b, nonzero)[0] for b in branches]
    tangents = [t for t in ts[1:] if t is not None]
    n = len(branches[0].outputs)
    outs = bind(prims.cond_p, index, *operands, *tangents, branches=tuple(jbranches))
    touts = list(outs[n:])
    return outs[:n], _spread(touts, [differentiable(v.aval) for v in branches[0].outputs])


def _spread(values, mask):
    it = iter(values)
    return [next(it) if m else None for m in mask]


prims.cond_p.jvp = _cond_jvp


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
        outputs = [ops.as_array(o) for o in carry] + carry_t + [ops.as_array(y) for y in ys] + ys_t
    program, captured = builder.build(outputs)
    assert not captured
    return program


def _carry_fixed_point(body, n_consts, const_nz, carry_nz, extra_nz=()):
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


def _while_jvp(ps, ts, *, cond_program, body_program, cond_nconsts, body_nconsts):
    from ..ir import Var

    cconsts = ps[:cond_nconsts]
    bconsts = ps[cond_nconsts : cond_nconsts + body_nconsts]
    init = ps[cond_nconsts + body_nconsts :]
    bconst_t = ts[cond_nconsts : cond_nconsts + body_nconsts]
    init_t = ts[cond_nconsts + body_nconsts :]
    const_nz = [t is not None for t in bconst_t]
    carry_nz = [t is not None and differentiable(aval_of(p)) for t, p in zip(init_t, init)]
    carry_nz = _carry_fixed_point(body_program, body_nconsts, const_nz, carry_nz)
    if not any(carry_nz):
        outs = bind(
            prims.while_p,
            *ps,
            cond_program=cond_program,
            body_program=body_program,
            cond_nconsts=cond_nconsts,
            body_nconsts=body_nconsts,
        )
        return outs, [None] * len(outs)
    bvars = body_program.inputs
    jbody = _body_jvp(
        body_program,
        [(bvars[:body_nconsts], const_nz), (bvars[body_nconsts:], carry_nz)],
        len(init),
        carry_nz,
    )
    carry_avals = [v.aval.strong() for v, m in zip(bvars[body_nconsts:], carry_nz) if m]
    jcond = Program(
        list(cond_program.inputs) + [Var(a) for a in carry_avals],
        cond_program.eqns,
        cond_program.outputs,
    )
    ct = [t for t in bconst_t if t is not None]
    outs = bind(
        prims.while_p,
        *cconsts,
        *bconsts,
        *ct,
        *init,
        *_instantiated(init_t, init, carry_nz),
        cond_program=jcond,
        body_program=jbody,
        cond_nconsts=cond_nconsts,
        body_nconsts=body_nconsts + len(ct),
    )
    n = len(init)
    return outs[:n], _spread(outs[n:], carry_nz)


prims.while_p.jvp = _while_jvp


def _scan_jvp(ps, ts, *, body, length, num_consts, num_carry, reverse):
    consts, init, xs = (
        ps[:num_consts],
        ps[num_consts : num_consts + num_carry],
        ps[num_consts + num_carry :],
    )
    const_t, init_t, xs_t = (
        ts[:num_consts],
        ts[num_consts : num_consts + num_carry],
        ts[num_consts + num_carry :],
    )
    const_nz = [t is not None for t in const_t]
    xs_nz = [t is not None for t in xs_t]
    carry_nz = [t is not None and differentiable(aval_of(p)) for t, p in zip(init_t, init)]
    carry_nz = _carry_fixed_point(body, num_consts, const_nz, carry_nz, xs_nz)
    bvars = body.inputs
    jbody = _body_jvp(
        body,
        [
            (bvars[:num_consts], const_nz),
            (bvars[num_consts : num_consts + num_carry], carry_nz),
            (bvars[num_consts + num_carry :], xs_nz),
        ],
        num_carry,
        carry_nz,
    )
    new_consts = list(consts) + [t for t in const_t if t is not None]
    new_init = list(init) + _instantiated(init_t, init, carry_nz)
    new_xs = list(xs) + [t for t in xs_t if t is not None]
    outs = bind(
        prims.scan_p,
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
    carry, carry_t = outs[:num_carry], outs[num_carry : num_carry + n_ct]
    rest = outs[num_carry + n_ct :]
    y_float = [differentiable(v.aval) for v in body.outputs[num_carry:]]
    ys, ys_t = rest[: len(y_float)], rest[len(y_float) :]
    return list(carry) + list(ys), _spread(carry_t, carry_nz) + _spread(ys_t, y_float)


prims.scan_p.jvp = _scan_jvp
