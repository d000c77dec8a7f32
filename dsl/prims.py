"""The primitive registry: one `Primitive` per op, with its shape/dtype rule.

Each primitive owns its tables: `abstract_eval` (avals in, avals out), `impls` keyed by
backend name (filled by `backends/`), and slots for the transformation rules (`jvp`,
`transpose`, `batch`) that the transformations fill beside their own code. Families
(elementwise unary/binary, comparisons, reductions) get their rules from one helper.
Primitives take arrays positionally and static settings as params; they do no implicit
broadcasting or promotion: the built-in layer (`ops.py`) makes operands agree first.
"""

from __future__ import annotations

import numpy as np

from . import dtypes
from .dtypes import ShapedArray
from .errors import ShapeError, TypeError


class Primitive:
    __slots__ = ("abstract_eval", "batch", "impls", "jvp", "multiple_results", "name", "transpose")

    def __init__(self, name: str, abstract_eval, multiple_results: bool = False):
        self.name = name
        self.abstract_eval = abstract_eval
        self.multiple_results = multiple_results
        self.impls: dict[str, object] = {}
        self.jvp = None
        self.transpose = None
        self.batch = None

    def __repr__(self) -> str:
        return self.name


REGISTRY: dict[str, Primitive] = {}


def primitive(name: str, abstract_eval, multiple_results: bool = False) -> Primitive:
    p = Primitive(name, abstract_eval, multiple_results)
    REGISTRY[name] = p
    return p


def _need(cond: bool, message: str, cls=TypeError) -> None:
    if not cond:
        raise cls(message)


# ------------------------------------------------------------------ elementwise

FLOAT_UNARY = (
    "exp",
    "exp2",
    "log",
    "log2",
    "log10",
    "log1p",
    "expm1",
    "tanh",
    "logistic",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "asinh",
    "acosh",
    "atanh",
    "sqrt",
    "rsqrt",
    "erf",
    "erf_inv",
    "floor",
    "ceil",
    "round",
)
NUMERIC_UNARY = ("neg", "sign", "abs")
INT_UNARY = ("not",)  # bitwise not on ints, logical not on bools


def _unary_rule(name, kinds):
    def rule(x, **params):
        ok = {
            "float": dtypes.is_float(x.dtype),
            "numeric": not dtypes.is_bool(x.dtype),
            "int": not dtypes.is_float(x.dtype),
        }[kinds]
        what = "bitwise not (~)" if name == "not" else name
        _need(ok, f"{what} does not accept {dtypes.short(x.dtype)} values")
        return [x]

    return rule


def _predicate_rule(x):
    return [ShapedArray(x.shape, dtypes.bool_, False)]


def _same(name, xs):
    shape, dtype = xs[0].shape, xs[0].dtype
    for x in xs[1:]:
        _need(x.shape == shape, f"{name}: operand shapes {shape} and {x.shape} differ", ShapeError)
        _need(
            x.dtype == dtype,
            f"{name}: operand dtypes {dtypes.short(dtype)} and {dtypes.short(x.dtype)} differ",
        )
    return shape, dtype, all(x.weak for x in xs)


def _binary_rule(name, kinds):
    def rule(x, y):
        shape, dtype, weak = _same(name, (x, y))
        ok = {
            "any": True,
            "numeric": not dtypes.is_bool(dtype),
            "float": dtypes.is_float(dtype),
            "int": not dtypes.is_float(dtype),
            "integer": dtypes.is_int(dtype),
        }[kinds]
        _need(ok, f"{name} does not accept {dtypes.short(dtype)} values")
        return [ShapedArray(shape, dtype, weak)]

    return rule


def _compare_rule(name):
    def rule(x, y):
        shape, _, _ = _same(name, (x, y))
        return [ShapedArray(shape, dtypes.bool_, False)]

    return rule


UNARY = {}
for _n in FLOAT_UNARY:
    UNARY[_n] = primitive(_n, _unary_rule(_n, "float"))
for _n in NUMERIC_UNARY:
    UNARY[_n] = primitive(_n, _unary_rule(_n, "numeric"))
UNARY["not"] = primitive("not", _unary_rule("not", "int"))
is_finite_p = primitive("is_finite", _predicate_rule)
is_nan_p = primitive("is_nan", _predicate_rule)

BINARY = {}
for _n, _k in [
    ("add", "numeric"),
    ("sub", "numeric"),
    ("mul", "numeric"),
    ("div", "numeric"),
    ("floor_divide", "numeric"),
    ("rem", "numeric"),
    ("pow", "numeric"),
    ("max", "any"),
    ("min", "any"),
    ("atan2", "float"),
    ("nextafter", "float"),
    ("and", "int"),
    ("or", "int"),
    ("xor", "int"),
    ("shift_left", "integer"),
    ("shift_right", "integer"),
]:
    BINARY[_n] = primitive(_n, _binary_rule(_n, _k))

COMPARE = {}
for _n in ("eq", "ne", "lt", "le", "gt", "ge"):
    COMPARE[_n] = primitive(_n, _compare_rule(_n))


def _select_rule(pred, on_true, on_false):
    _need(pred.dtype == dtypes.bool_, "select: the predicate must be bool")
    shape, dtype, weak = _same("select", (on_true, on_false))
    _need(
        pred.shape == shape,
        f"select: predicate shape {pred.shape} differs from {shape}",
        ShapeError,
    )
    return [ShapedArray(shape, dtype, weak)]


select_p = primitive("select", _select_rule)


def _convert_rule(x, *, new_dtype, weak=False):
    return [ShapedArray(x.shape, new_dtype, weak)]


convert_p = primitive("convert_element_type", _convert_rule)


def _bitcast_rule(x, *, new_dtype):
    _need(
        np.dtype(new_dtype).itemsize == x.dtype.itemsize,
        "bitcast_convert_type needs dtypes of the same width",
    )
    return [ShapedArray(x.shape, new_dtype, False)]


bitcast_p = primitive("bitcast_convert_type", _bitcast_rule)

stop_gradient_p = primitive("stop_gradient", lambda x: [x])


def _fma_rule(a, b, c):
    shape, dtype, weak = _same("fma", (a, b, c))
    _need(dtypes.is_float(dtype), "fma needs float operands")
    return [ShapedArray(shape, dtype, weak)]


# a*b + c rounded once, as XLA:CPU contracts it; jax.random's uniform depends on it.
fma_p = primitive("fma", _fma_rule)

# ------------------------------------------------------------------ shapes


def _broadcast_in_dim_rule(x, *, shape, broadcast_dimensions):
    _need(
        len(broadcast_dimensions) == x.ndim,
        "broadcast_in_dim: one dimension per operand axis",
        ShapeError,
    )
    for axis, dim in enumerate(broadcast_dimensions):
        _need(
            x.shape[axis] in (1, shape[dim]),
            f"cannot broadcast shape {x.shape} to {tuple(shape)}",
            ShapeError,
        )
    return [ShapedArray(tuple(shape), x.dtype, x.weak)]


broadcast_in_dim_p = primitive("broadcast_in_dim", _broadcast_in_dim_rule)


def _reshape_rule(x, *, new_sizes):
    size = int(np.prod(new_sizes, dtype=np.int64))
    _need(
        size == x.size,
        f"cannot reshape {x.shape} ({x.size} elements) to {tuple(new_sizes)}",
        ShapeError,
    )
    return [x.update(shape=new_sizes)]


reshape_p = primitive("reshape", _reshape_rule)


def _transpose_rule(x, *, permutation):
    _need(
        sorted(permutation) == list(range(x.ndim)),
        f"transpose: {tuple(permutation)} is not a permutation of the {x.ndim} axes",
        ShapeError,
    )
    return [x.update(shape=[x.shape[p] for p in permutation])]


transpose_p = primitive("transpose", _transpose_rule)

rev_p = primitive("rev", lambda x, *, dimensions: [x])


def _concatenate_rule(*xs, dimension):
    first = xs[0]
    for x in xs[1:]:
        _need(x.dtype == first.dtype, "concatenate: operand dtypes differ")
        _need(
            x.ndim == first.ndim
            and all(a == b for i, (a, b) in enumerate(zip(x.shape, first.shape)) if i != dimension),
            f"concatenate: shapes {first.shape} and {x.shape} differ off axis {dimension}",
            ShapeError,
        )
    shape = list(first.shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return [ShapedArray(tuple(shape), first.dtype, all(x.weak for x in xs))]


concatenate_p = primitive("concatenate", _concatenate_rule)


def _slice_rule(x, *, start_indices, limit_indices, strides):
    shape = tuple(
        max(0, -(-(hi - lo) // st)) for lo, hi, st in zip(start_indices, limit_indices, strides)
    )
    return [x.update(shape=shape)]


slice_p = primitive("slice", _slice_rule)


def _gather_rule(x, idx, *, axis):
    _need(dtypes.is_int(idx.dtype), "indices must be integers")
    return [x.update(shape=x.shape[:axis] + idx.shape + x.shape[axis + 1 :])]


gather_p = primitive("gather", _gather_rule)


def _scatter_rule(x, idx, updates, *, axis, mode):
    _need(dtypes.is_int(idx.dtype), "indices must be integers")
    want = x.shape[:axis] + idx.shape + x.shape[axis + 1 :]
    _need(
        updates.shape == want,
        f"scatter: updates of shape {updates.shape}, expected {want}",
        ShapeError,
    )
    return [x]


scatter_p = primitive("scatter", _scatter_rule)


def _iota_rule(*, dtype, shape, dimension):
    return [ShapedArray(tuple(shape), dtype, False)]


iota_p = primitive("iota", _iota_rule)

# ------------------------------------------------------------------ reductions


def _reduce_rule(name, kinds):
    def rule(x, *, axes):
        if kinds == "bool":
            _need(x.dtype == dtypes.bool_, f"{name} needs bool values")
        shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
        return [x.update(shape=shape)]

    return rule


REDUCE = {}
for _n, _k in [
    ("reduce_sum", "any"),
    ("reduce_prod", "any"),
    ("reduce_max", "any"),
    ("reduce_min", "any"),
    ("reduce_and", "bool"),
    ("reduce_or", "bool"),
]:
    REDUCE[_n] = primitive(_n, _reduce_rule(_n, _k))


def _arg_rule(x, *, axis, index_dtype):
    shape = tuple(d for i, d in enumerate(x.shape) if i != axis)
    _need(x.shape[axis] > 0, "argmax/argmin of an empty axis", ShapeError)
    return [ShapedArray(shape, index_dtype, False)]


argmax_p = primitive("argmax", _arg_rule)
argmin_p = primitive("argmin", _arg_rule)

cumsum_p = primitive("cumsum", lambda x, *, axis, reverse: [x])
cumprod_p = primitive("cumprod", lambda x, *, axis, reverse: [x])
cummax_p = primitive("cummax", lambda x, *, axis, reverse: [x])


def _dot_general_rule(x, y, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    _need(x.dtype == y.dtype, "dot_general: operand dtypes differ")
    for a, b in zip(lc, rc):
        _need(
            x.shape[a] == y.shape[b],
            f"contracting dimensions differ: {x.shape} and {y.shape}",
            ShapeError,
        )
    for a, b in zip(lb, rb):
        _need(
            x.shape[a] == y.shape[b],
            f"batch dimensions differ: {x.shape} and {y.shape}",
            ShapeError,
        )
    batch = tuple(x.shape[a] for a in lb)
    xfree = tuple(d for i, d in enumerate(x.shape) if i not in lc and i not in lb)
    yfree = tuple(d for i, d in enumerate(y.shape) if i not in rc and i not in rb)
    dtype = preferred_element_type or x.dtype
    return [ShapedArray(batch + xfree + yfree, dtype, x.weak and y.weak)]


dot_general_p = primitive("dot_general", _dot_general_rule)


def _sort_rule(*operands, dimension, num_keys):
    shape = operands[0].shape
    for x in operands[1:]:
        _need(x.shape == shape, "sort: operands must have one shape", ShapeError)
    return list(operands)


# A stable sort of every operand by the first `num_keys` operands, along one dimension.
sort_p = primitive("sort", _sort_rule, multiple_results=True)

# ------------------------------------------------------------------ control flow


def _cond_rule(index, *operands, branches):
    _need(index.shape == () and dtypes.is_int(index.dtype), "cond: the index must be an int scalar")
    return list(branches[0].out_avals)


cond_p = primitive("cond", _cond_rule, multiple_results=True)


def _while_rule(*args, cond_program, body_program, cond_nconsts, body_nconsts):
    return list(body_program.out_avals)


while_p = primitive("while", _while_rule, multiple_results=True)


def _scan_rule(*args, body, length, num_consts, num_carry, reverse):
    outs = body.out_avals
    carry, ys = outs[:num_carry], outs[num_carry:]
    return list(carry) + [y.update(shape=(length,) + y.shape) for y in ys]


scan_p = primitive("scan", _scan_rule, multiple_results=True)
