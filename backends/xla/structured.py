"""StableHLO lowering rules for the structured primitives: indexing (gather, scatter),
argmax/argmin, cumulative scans, sort, control flow (cond, while, scan) and the pmap
collectives, and the linalg primitives StableHLO has (cholesky, triangular_solve; the
other decompositions run on the host through the NumPy backend, as every primitive without
a lowering does). Each rule emits through a `Lowering` from `xla_emit.py` and is added to
its `RULES` table, keyed by primitive, when this module is imported.

Semantics are the primitives' own, which XLA's ops have: gather clamps its indices,
scatter drops the out-of-range ones; argmax/argmin pick the first extreme value and treat NaN as extreme,
sort is stable with NaN last and -0 equal to +0, cond clamps its branch index, and a scan
is a `while` over a counter that slices its inputs and updates its stacked outputs in place.
"""

from __future__ import annotations

import numpy as np
from jx import dtypes, primitives
from jx.primitives import collectives, control, linalg
from jx.transforms import custom

from .emit import REDUCERS, RULES, i64_array, identity, lower_program


def _index_dtype(dtype) -> np.dtype:
    """A signed type that holds every index of `dtype` and its wrapped negative."""
    small = dtype.itemsize < 4 or (dtype.itemsize == 4 and dtype.kind == "i")
    return dtypes.i32 if small else dtypes.i64


def _indices(lw, idx):
    """Indices as the index vectors XLA takes: a signed type, with a trailing axis of 1."""
    return lw.reshape(lw.convert(idx, _index_dtype(idx.dtype)), idx.shape + (1,))


def _fields(**numbers) -> str:
    return ", ".join(
        f"{k} = {v}" if isinstance(v, int) else f"{k} = [{', '.join(map(str, v))}]"
        for k, v in numbers.items()
        if isinstance(v, int) or len(v)
    )


def _gather(lw, outs, x, idx, *, axis):
    indices = _indices(lw, idx)
    offset_dims = list(range(axis)) + list(range(axis + idx.ndim, x.ndim - 1 + idx.ndim))
    numbers = _fields(
        offset_dims=offset_dims,
        collapsed_slice_dims=[axis],
        start_index_map=[axis],
        index_vector_dim=idx.ndim,
    )
    sizes = [1 if d == axis else n for d, n in enumerate(x.shape)]
    attrs = {
        "dimension_numbers": f"#stablehlo.gather<{numbers}>",
        "slice_sizes": i64_array(sizes),
        "indices_are_sorted": "false",
    }
    return lw.op("stablehlo.gather", [x, indices], outs[0].shape, x.dtype, attrs)


def _scatter(lw, outs, x, idx, updates, *, axis, mode):
    indices = _indices(lw, idx)
    window = list(range(axis)) + list(range(axis + idx.ndim, updates.ndim))
    numbers = _fields(
        update_window_dims=window,
        inserted_window_dims=[axis],
        scatter_dims_to_operand_dims=[axis],
        index_vector_dim=idx.ndim,
    )

    def combine(args):
        old, new = args
        return [new if mode == "set" else lw.binary(REDUCERS[mode], old, new)]

    region = lw.region([((), x.dtype)] * 2, combine)
    attrs = {
        "scatter_dimension_numbers": f"#stablehlo.scatter<{numbers}>",
        "indices_are_sorted": "false",
        "unique_indices": "false",
    }
    return lw.op("stablehlo.scatter", [x, indices, updates], x.shape, x.dtype, attrs, [region])


def _arg_extreme(direction: str):
    def rule(lw, outs, x, *, axis, index_dtype):
        index_dtype = np.dtype(index_dtype)
        iota = lw.op(
            "stablehlo.iota", [], x.shape, index_dtype, {"iota_dimension": f"{axis} : i64"}
        )
        kind = "max" if direction == "GT" else "min"
        inits = [
            lw.const(identity(kind, x.dtype), x.dtype),
            lw.const(np.iinfo(index_dtype).max, index_dtype),
        ]

        def combine(acc, item):
            (va, ia), (vb, ib) = acc, item
            better = lw.compare(direction, va, vb)
            tie = lw.compare("EQ", va, vb)
            if dtypes.is_float(x.dtype):  # NaN beats every number; the first NaN wins
                a_nan, b_nan = lw.compare("NE", va, va), lw.compare("NE", vb, vb)
                only_a = lw.binary("stablehlo.and", a_nan, lw.unary("stablehlo.not", b_nan))
                better = lw.binary("stablehlo.or", better, only_a)
                tie = lw.binary("stablehlo.or", tie, lw.binary("stablehlo.and", a_nan, b_nan))
            first = lw.binary("stablehlo.and", tie, lw.compare("LT", ia, ib))
            pick = lw.binary("stablehlo.or", better, first)
            return [lw.select(pick, va, vb), lw.select(pick, ia, ib)]

        return lw.reduce([x, iota], inits, (axis,), combine)[1]

    return rule


def _cumulative(kind: str):
    """An inclusive scan in log2(n) steps: add each element's value 1, 2, 4, ... back."""

    def rule(lw, outs, x, *, axis, reverse):
        flip = {"dimensions": i64_array([axis])}
        if reverse:
            x = lw.op("stablehlo.reverse", [x], x.shape, x.dtype, flip)
        fill = lw.const(identity(kind, x.dtype), x.dtype)
        n, step = x.shape[axis], 1
        while step < n:
            low = [step if d == axis else 0 for d in range(x.ndim)]
            attrs = {
                "edge_padding_low": i64_array(low),
                "edge_padding_high": i64_array([-v for v in low]),
                "interior_padding": i64_array([0] * x.ndim),
            }
            shifted = lw.op("stablehlo.pad", [x, fill], x.shape, x.dtype, attrs)
            x = lw.binary(REDUCERS[kind], x, shifted)
            step *= 2
        if reverse:
            x = lw.op("stablehlo.reverse", [x], x.shape, x.dtype, flip)
        return x

    return rule


def _sort_key(lw, v):
    """A float key with NaNs made one positive NaN and -0 made +0, for a total order."""
    if not dtypes.is_float(v.dtype):
        return v, None
    v = lw.select(lw.compare("NE", v, v), lw.full_like(v, np.nan), v)
    v = lw.select(lw.compare("EQ", v, lw.full_like(v, 0)), lw.full_like(v, 0), v)
    return v, "TOTALORDER"


def _sort(lw, outs, *operands, dimension, num_keys):
    def less(args):
        result = None
        for k in reversed(range(num_keys)):
            (a, kind), (b, _) = _sort_key(lw, args[2 * k]), _sort_key(lw, args[2 * k + 1])
            lt = lw.compare("LT", a, b, kind)
            if result is not None:
                later = lw.binary("stablehlo.and", lw.compare("EQ", a, b, kind), result)
                lt = lw.binary("stablehlo.or", lt, later)
            result = lt
        return [result]

    scalars = [((), x.dtype) for x in operands for _ in range(2)]
    region = lw.region(scalars, less)
    attrs = {"dimension": f"{dimension} : i64", "is_stable": "true"}
    return lw.ops(
        "stablehlo.sort", list(operands), [(x.shape, x.dtype) for x in operands], attrs, [region]
    )


# -------------------------------------------------------------------- control flow


def _inline_body(lw, outs, *args, body, **params):
    """A call with a custom derivative rule: its body, inline."""
    return lower_program(lw, body, list(args))


def _forward_of_custom_vjp(lw, outs, *args, **params):
    return custom.custom_vjp_lin_p.impl(None, *args, **params)


def _cond(lw, outs, index, *operands, branches):
    last = len(branches) - 1
    index = lw.binary("stablehlo.maximum", index, lw.full_like(index, 0))
    index = lw.convert(lw.binary("stablehlo.minimum", index, lw.full_like(index, last)), dtypes.i32)
    regions = [lw.region([], lambda _, b=b: lower_program(lw, b, operands)) for b in branches]
    return lw.ops("stablehlo.case", [index], [(o.shape, o.dtype) for o in outs], None, regions)


def _while(lw, outs, *args, cond_program, body_program, cond_nconsts, body_nconsts):
    cond_consts = args[:cond_nconsts]
    body_consts = args[cond_nconsts : cond_nconsts + body_nconsts]
    carry = list(args[cond_nconsts + body_nconsts :])
    types = [(c.shape, c.dtype) for c in carry]
    cond = lw.region(types, lambda a: lower_program(lw, cond_program, [*cond_consts, *a]))
    body = lw.region(types, lambda a: lower_program(lw, body_program, [*body_consts, *a]))
    return lw.ops("stablehlo.while", carry, types, None, [cond, body])


def _scan(lw, outs, *args, body, length, num_consts, num_carry, reverse):
    consts = args[:num_consts]
    init = list(args[num_consts : num_consts + num_carry])
    xs = args[num_consts + num_carry :]
    ys = [lw.const(0, y.dtype, y.shape) for y in outs[num_carry:]]
    if length == 0:  # no turn runs (and XLA refuses a row slice of an empty xs)
        return [*init, *ys]
    state = [lw.const(0, dtypes.i32), *init, *ys]
    types = [(v.shape, v.dtype) for v in state]

    def cond(a):
        return [lw.compare("LT", a[0], lw.const(length, dtypes.i32))]

    def step(a):
        i, carry, stacked = a[0], a[1 : 1 + num_carry], a[1 + num_carry :]
        at = lw.binary("stablehlo.subtract", lw.const(length - 1, dtypes.i32), i) if reverse else i
        zero = lw.const(0, dtypes.i32)
        items = []
        for x in xs:
            sizes = {"slice_sizes": i64_array((1,) + x.shape[1:])}
            row = lw.op(
                "stablehlo.dynamic_slice",
                [x, at] + [zero] * (x.ndim - 1),
                (1,) + x.shape[1:],
                x.dtype,
                sizes,
            )
            items.append(lw.reshape(row, x.shape[1:]))
        results = lower_program(lw, body, [*consts, *carry, *items])
        updated = []
        for buf, y in zip(stacked, results[num_carry:]):
            row = lw.reshape(y, (1,) + y.shape)
            updated.append(
                lw.op(
                    "stablehlo.dynamic_update_slice",
                    [buf, row, at] + [zero] * (buf.ndim - 1),
                    buf.shape,
                    buf.dtype,
                )
            )
        next_i = lw.binary("stablehlo.add", i, lw.const(1, dtypes.i32))
        return [next_i, *results[:num_carry], *updated]

    regions = [lw.region(types, cond), lw.region(types, step)]
    return lw.ops("stablehlo.while", state, types, None, regions)[1:]


# -------------------------------------------------------------------- collectives


def _replica_attrs(lw) -> dict:
    n = lw.replicas
    groups = f"dense<[[{', '.join(map(str, range(n)))}]]> : tensor<1x{n}xi64>"
    handle = f"#stablehlo.channel_handle<handle = {lw.count}, type = 1>"
    return {"channel_handle": handle, "replica_groups": groups}


def _all_reduce(kind: str):
    def rule(lw, outs, x, *, axis_name):
        scalar = ((), x.dtype)
        region = lw.region([scalar, scalar], lambda a: [lw.binary(REDUCERS[kind], *a)])
        return lw.op("stablehlo.all_reduce", [x], x.shape, x.dtype, _replica_attrs(lw), [region])

    return rule


def _all_gather(lw, outs, x, *, axis_name, axis_size):
    attrs = {"all_gather_dim": "0 : i64", **_replica_attrs(lw)}
    row = lw.reshape(x, (1,) + x.shape)
    return lw.op("stablehlo.all_gather", [row], outs[0].shape, x.dtype, attrs)


def _axis_index(lw, outs, *, axis_name):
    return lw.convert(lw.op("stablehlo.replica_id", [], (), dtypes.u32), dtypes.i32)


# -------------------------------------------------------------------- linalg


def _low_float(lw, x):
    return lw.convert(x, dtypes.f32) if x.dtype in (dtypes.f16, dtypes.bf16) else x


def _triangular_solve(lw, outs, a, b, *, left_side, lower, transpose_a, unit_diagonal):
    flag = {True: "true", False: "false"}
    attrs = {
        "left_side": flag[left_side],
        "lower": flag[lower],
        "unit_diagonal": flag[unit_diagonal],
        "transpose_a": f"#stablehlo<transpose {'TRANSPOSE' if transpose_a else 'NO_TRANSPOSE'}>",
    }
    a32, b32 = _low_float(lw, a), _low_float(lw, b)
    x = lw.op("stablehlo.triangular_solve", [a32, b32], b.shape, b32.dtype, attrs)
    return lw.convert(x, b.dtype)


def _cholesky(lw, outs, x):
    x32 = _low_float(lw, x)
    chol = lw.op("stablehlo.cholesky", [x32], x.shape, x32.dtype, {"lower": "true"})
    nd = x.ndim
    rows = lw.op("stablehlo.iota", [], x.shape, dtypes.i32, {"iota_dimension": f"{nd - 2} : i64"})
    cols = lw.op("stablehlo.iota", [], x.shape, dtypes.i32, {"iota_dimension": f"{nd - 1} : i64"})
    chol = lw.select(lw.compare("GE", rows, cols), chol, lw.full_like(chol, 0))
    # A matrix that is not positive definite is all NaN, as on the NumPy backend.
    bad = lw.reduce(
        [lw.compare("NE", chol, chol)],
        [lw.const(False, dtypes.bool_)],
        (nd - 2, nd - 1),
        lambda acc, item: [lw.binary("stablehlo.or", acc[0], item[0])],
    )[0]
    bad = lw.broadcast(bad, x.shape, tuple(range(nd - 2)))
    chol = lw.select(bad, lw.full_like(chol, float("nan")), chol)
    return lw.convert(chol, x.dtype)


RULES.update(
    {
        primitives.gather_p: _gather,
        primitives.scatter_p: _scatter,
        primitives.argmax_p: _arg_extreme("GT"),
        primitives.argmin_p: _arg_extreme("LT"),
        primitives.cumsum_p: _cumulative("add"),
        primitives.cumprod_p: _cumulative("mul"),
        primitives.cummax_p: _cumulative("max"),
        primitives.sort_p: _sort,
        custom.custom_jvp_call_p: _inline_body,
        custom.custom_vjp_call_p: _inline_body,
        custom.custom_vjp_lin_p: _forward_of_custom_vjp,
        custom.saved_dot_p: lambda lw, outs, lhs, rhs, saved, **params: saved,
        control.cond_p: _cond,
        control.while_p: _while,
        control.scan_p: _scan,
        collectives.psum_p: _all_reduce("add"),
        collectives.pmax_p: _all_reduce("max"),
        collectives.pmin_p: _all_reduce("min"),
        collectives.all_gather_p: _all_gather,
        collectives.axis_index_p: _axis_index,
        linalg.triangular_solve_p: _triangular_solve,
        linalg.cholesky_p: _cholesky,
    }
)
