"""The `jax.lax` slicing built-ins whose start may be traced: `dynamic_slice` and
`dynamic_update_slice`. Sizes are static, starts are ints or traced ints, and, as in
JAX, a negative start counts from the end and a start is then clamped so that the slice
fits inside the array. Both are built from
gathers and scatters over index ranges, so grad, vmap, jit and every backend follow.
"""

from __future__ import annotations

from . import dtypes, ops
from .builtins import builtin
from .core import aval_of, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .indexing import getitem
from .indexing import update as indexed_update


def _sequence(value, what: str) -> tuple:
    if isinstance(value, (tuple, list)):
        return tuple(value)
    if ops.is_array(value) and aval_of(value).ndim == 1:
        return tuple(getitem(value, i) for i in range(aval_of(value).shape[0]))
    raise JxTypeError(f"{what} must be a tuple, one per axis, got {describe(value)}")


def _starts(start_indices, shape, sizes, what: str) -> list:
    """Each axis's start, clamped to [0, dim - size] as JAX does, as an i32 value."""
    starts = _sequence(start_indices, f"{what}: start_indices")
    if len(starts) != len(shape):
        raise JxValueError(f"{what}: {len(starts)} start indices for an array of {len(shape)} axes")
    out = []
    for s, dim, size in zip(starts, shape, sizes):
        if ops.is_array(s) and not dtypes.is_int(aval_of(s).dtype):
            raise JxTypeError(f"{what}: start indices must be ints, got {describe(s)}")
        if not ops.is_array(s) and (not isinstance(s, int) or isinstance(s, bool)):
            raise JxTypeError(f"{what}: start indices must be ints, got {describe(s)}")
        if isinstance(s, int):
            s = s + dim if s < 0 else s
            out.append(min(max(s, 0), dim - size))
        else:
            s = ops.convert(s, dtypes.i32)
            s = ops.where(ops.compare("lt", s, 0), ops.binary("add", s, dim), s)
            out.append(ops.binary("min", ops.binary("max", s, 0), dim - size))
    return out


def _ranges(starts, sizes) -> tuple:
    """Open-mesh index arrays: axis d's indices start_d + arange(size_d), shaped to
    broadcast along that axis only."""
    n = len(sizes)
    index = []
    for d, (start, size) in enumerate(zip(starts, sizes)):
        shape = tuple(size if k == d else 1 for k in range(n))
        index.append(ops.reshape(ops.binary("add", ops.iota(dtypes.i32, (size,)), start), shape))
    return tuple(index)


@builtin()
def dynamic_slice(operand, start_indices, slice_sizes):
    """`jax.lax.dynamic_slice`: the block of `operand` of static shape `slice_sizes`
    starting at `start_indices` (ints or traced ints, one per axis; a negative one
    counts from the end; each is clamped so the block fits)."""
    x = ops.as_array(operand)
    shape = aval_of(x).shape
    sizes = _sequence(slice_sizes, "dynamic_slice: slice_sizes")
    if len(sizes) != len(shape) or not all(
        isinstance(s, int) and not isinstance(s, bool) for s in sizes
    ):
        raise JxTypeError(
            f"dynamic_slice: slice_sizes must be {len(shape)} static ints, got {sizes!r}"
        )
    if any(not 0 <= s <= d for s, d in zip(sizes, shape)):
        raise JxValueError(f"dynamic_slice: slice_sizes {sizes} do not fit in shape {shape}")
    if not shape:
        return x
    starts = _starts(start_indices, shape, sizes, "dynamic_slice")
    return getitem(x, _ranges(starts, sizes))


@builtin()
def dynamic_update_slice(operand, update, start_indices):
    """`jax.lax.dynamic_update_slice`: `operand` with the block at `start_indices` (ints
    or traced ints, one per axis; a negative one counts from the end; each is clamped so the
    block fits) replaced by `update`."""
    x = ops.as_array(operand)
    u = ops.as_array(update)
    shape, ushape = aval_of(x).shape, aval_of(u).shape
    if len(ushape) != len(shape) or any(s > d for s, d in zip(ushape, shape)):
        raise JxValueError(
            f"dynamic_update_slice: an update of shape {ushape} does not fit in {shape}"
        )
    if not shape:
        return ops.convert(u, aval_of(x).dtype)
    starts = _starts(start_indices, shape, ushape, "dynamic_update_slice")
    return indexed_update(x, _ranges(starts, ushape), ops.convert(u, aval_of(x).dtype), "set")
