"""The built-ins that rearrange arrays without computing on them: reshapes and
transposes, adding and removing axes, joining (`concatenate`, `stack`, `hstack`,
`vstack`), broadcasting, flipping, tiling and repeating. Where a built-in takes a
sequence of arrays, an array stands for the sequence along its first axis.
"""

from __future__ import annotations

from . import ops
from .builtins import builtin, static_choice, to_dtype
from .core import aval_of, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .indexing import getitem


@builtin()
def reshape(a, shape, order="C"):
    """order="F" reads and writes the elements first axis fastest."""
    order = static_choice(order, ("C", "F", "A"), "reshape: order")
    if order == "F":
        x = ops.transpose(ops.as_array(a))
        shape = ops.normalize_shape_with_minus_one(shape)
        return ops.transpose(ops.reshape(x, tuple(reversed(shape))))
    return ops.reshape(a, shape)


@builtin()
def transpose(a, axes=None):
    return ops.transpose(a, axes)


@builtin()
def swapaxes(a, axis1, axis2):
    nd = aval_of(ops.as_array(a)).ndim
    perm = list(range(nd))
    i, j = ops.normalize_axis(axis1, nd), ops.normalize_axis(axis2, nd)
    perm[i], perm[j] = perm[j], perm[i]
    return ops.transpose(a, perm)


@builtin()
def moveaxis(a, source, destination):
    nd = aval_of(ops.as_array(a)).ndim
    src, dst = ops.normalize_axes(source, nd), ops.normalize_axes(destination, nd)
    if len(src) != len(dst):
        raise JxValueError(f"moveaxis: {len(src)} source axes for {len(dst)} destinations")
    perm = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    return ops.transpose(a, perm)


@builtin()
def expand_dims(a, axis):
    return ops.expand_dims(a, axis)


@builtin()
def squeeze(a, axis=None):
    return ops.squeeze(a, axis)


@builtin()
def ravel(a):
    return ops.reshape(a, (-1,))


def _converted(arrays, dtype):
    return arrays if dtype is None else [ops.convert(a, to_dtype(dtype)) for a in arrays]


@builtin()
def concatenate(arrays, axis=0, dtype=None):
    """axis=None joins the flattened arrays."""
    arrays = _converted(_seq(arrays, "concatenate"), dtype)
    if axis is None:
        return ops.concatenate([ops.reshape(a, (-1,)) for a in arrays], 0)
    return ops.concatenate(arrays, axis)


@builtin()
def stack(arrays, axis=0, dtype=None):
    return ops.stack(_converted(_seq(arrays, "stack"), dtype), axis)


def _seq(arrays, what):
    if ops.is_array(arrays):
        n = aval_of(arrays).shape[0] if aval_of(arrays).shape else 0
        arrays = [getitem(arrays, i) for i in range(n)]
    elif not isinstance(arrays, (tuple, list)):
        raise JxTypeError(f"{what} takes a tuple of arrays, got {describe(arrays)}")
    if not arrays:
        raise JxValueError(f"{what} needs at least one array")
    return list(arrays)


@builtin()
def hstack(tup, dtype=None):
    arrs = [ops.as_array(a) for a in _converted(_seq(tup, "hstack"), dtype)]
    axis = 0 if aval_of(arrs[0]).ndim == 1 else 1
    return ops.concatenate(
        [ops.reshape(a, (1,)) if not aval_of(a).shape else a for a in arrs], axis
    )


@builtin()
def vstack(tup, dtype=None):
    arrs = [ops.as_array(a) for a in _converted(_seq(tup, "vstack"), dtype)]
    arrs = [ops.reshape(a, (1, -1)) if aval_of(a).ndim < 2 else a for a in arrs]
    return ops.concatenate(arrs, 0)


@builtin()
def broadcast_to(array, shape):
    return ops.broadcast_to(array, ops.normalize_shape(shape))


@builtin()
def flip(m, axis=None):
    return ops.flip(m, axis)


@builtin()
def tile(A, reps):
    A = ops.as_array(A)
    reps = ops.static_ints(reps)
    reps = (reps,) if isinstance(reps, int) else reps
    if not isinstance(reps, tuple) or not all(type(r) is int for r in reps):
        raise JxTypeError(f"tile: reps must be static ints, got {describe(reps)}")
    if any(r < 0 for r in reps):
        raise JxValueError(f"tile: negative reps {reps}")
    a = aval_of(A)
    nd = max(a.ndim, len(reps))
    shape = (1,) * (nd - a.ndim) + a.shape
    reps = (1,) * (nd - len(reps)) + reps
    A = ops.reshape(A, shape)
    # Broadcast to (r0, s0, r1, s1, ...) then merge each pair.
    inter = []
    for r, s in zip(reps, shape):
        inter += [1, s]
    A = ops.reshape(A, tuple(inter))
    big = []
    for r, s in zip(reps, shape):
        big += [r, s]
    A = ops.broadcast_to(A, tuple(big))
    return ops.reshape(A, tuple(r * s for r, s in zip(reps, shape)))


@builtin()
def repeat(a, repeats, axis=None):
    a = ops.as_array(a)
    if not isinstance(repeats, int) or isinstance(repeats, bool):
        raise JxTypeError("repeat: repeats must be a static int")
    if repeats < 0:
        raise JxValueError(f"repeat: negative repeats {repeats}")
    if axis is None:
        a = ops.reshape(a, (-1,))
        axis = 0
    s = aval_of(a).shape
    axis = ops.normalize_axis(axis, len(s))
    x = ops.expand_dims(a, axis + 1)
    x = ops.broadcast_to(x, s[: axis + 1] + (repeats,) + s[axis + 1 :])
    return ops.reshape(x, s[:axis] + (s[axis] * repeats,) + s[axis + 1 :])
