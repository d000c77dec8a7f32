"""Dtypes, abstract values and JAX's type promotion with weak literals.

jx dtypes are NumPy dtypes (`bf16` comes from ml_dtypes). An abstract value `ShapedArray`
is a shape, a dtype and a `weak` flag: a weak value (a Python literal, or computed only
from literals) takes the dtype of the strong value it meets, as in JAX. A weak float is
held in f64, so literal arithmetic is exact until it meets a dtype. Promotion follows JAX's
lattice with x64: bool < ints < floats, u32 with i32 gives i64, f16 with bf16 gives f32;
where JAX's default would be 64-bit (an i32 meeting a float) jx's is 32-bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ml_dtypes
import numpy as np

bool_ = np.dtype(np.bool_)
i8 = np.dtype(np.int8)
i16 = np.dtype(np.int16)
i32 = np.dtype(np.int32)
i64 = np.dtype(np.int64)
u8 = np.dtype(np.uint8)
u16 = np.dtype(np.uint16)
u32 = np.dtype(np.uint32)
u64 = np.dtype(np.uint64)
f16 = np.dtype(np.float16)
bf16 = np.dtype(ml_dtypes.bfloat16)
f32 = np.dtype(np.float32)
f64 = np.dtype(np.float64)

#: Names a jx program may use for dtypes (as values, or as strings).
BY_NAME = {
    "bool": bool_,
    "i8": i8,
    "i16": i16,
    "i32": i32,
    "i64": i64,
    "u8": u8,
    "u16": u16,
    "u32": u32,
    "u64": u64,
    "f16": f16,
    "bf16": bf16,
    "f32": f32,
    "f64": f64,
    "int8": i8,
    "int16": i16,
    "int32": i32,
    "int64": i64,
    "uint8": u8,
    "uint16": u16,
    "uint32": u32,
    "uint64": u64,
    "float16": f16,
    "bfloat16": bf16,
    "float32": f32,
    "float64": f64,
}

SHORT_NAME = {
    bool_: "bool",
    i8: "i8",
    i16: "i16",
    i32: "i32",
    i64: "i64",
    u8: "u8",
    u16: "u16",
    u32: "u32",
    u64: "u64",
    f16: "f16",
    bf16: "bf16",
    f32: "f32",
    f64: "f64",
}

SUPPORTED = frozenset(SHORT_NAME)


def is_float(dtype: np.dtype) -> bool:
    return dtype.kind == "f" or dtype == bf16


def is_int(dtype: np.dtype) -> bool:
    return dtype.kind in "iu"


def is_bool(dtype: np.dtype) -> bool:
    return dtype == bool_


def kind_rank(dtype: np.dtype) -> int:
    return 0 if is_bool(dtype) else 1 if is_int(dtype) else 2


def short(dtype: np.dtype) -> str:
    return SHORT_NAME.get(dtype, str(dtype))


@dataclass(frozen=True, slots=True)
class ShapedArray:
    """The abstract value of an array: what tracing knows about it."""

    shape: tuple
    dtype: np.dtype
    weak: bool = False

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def strong(self) -> ShapedArray:
        return ShapedArray(self.shape, self.dtype, False) if self.weak else self

    def update(self, shape=None, dtype=None, weak=None) -> ShapedArray:
        return ShapedArray(
            self.shape if shape is None else tuple(shape),
            self.dtype if dtype is None else dtype,
            self.weak if weak is None else weak,
        )

    def __str__(self) -> str:
        dims = ",".join(str(d) for d in self.shape)
        return f"{short(self.dtype)}[{dims}]" + ("~" if self.weak else "")


def _join_strong(a: np.dtype, b: np.dtype) -> np.dtype:
    if a == b:
        return a
    ra, rb = kind_rank(a), kind_rank(b)
    if ra != rb:
        return a if ra > rb else b
    if ra == 2:
        if {a, b} == {f16, bf16}:
            return f32
        return a if a.itemsize >= b.itemsize else b
    # Two integer types: same signedness -> the wider; mixed -> the narrowest signed type
    # that holds both (u8 with i8 is i16, u32 with i32 is i64), as JAX's lattice.
    if (a.kind == "u") == (b.kind == "u"):
        return a if a.itemsize >= b.itemsize else b
    signed, unsigned = (a, b) if a.kind == "i" else (b, a)
    if signed.itemsize > unsigned.itemsize:
        return signed
    if unsigned == u64:
        return f64  # no int holds both: JAX meets them at its float
    return np.dtype(f"int{16 * unsigned.itemsize}")


def default_for_rank(rank: int) -> np.dtype:
    return (bool_, i32, f32)[rank]


def float_for(dtype: np.dtype) -> np.dtype:
    """The float an int or bool of this dtype computes in: f64 for 64-bit ints (f64 is
    never silently truncated, as JAX with x64), jx's default f32 for narrower ones."""
    if is_float(dtype):
        return dtype
    return f64 if is_int(dtype) and dtype.itemsize == 8 else f32


def weak_int(value: int) -> np.dtype:
    """The dtype of a Python int: i32, or i64 (then u64) when it needs the bits."""
    for dtype in (i32, i64, u64):
        info = np.iinfo(dtype)
        if info.min <= value <= info.max:
            return dtype
    return i64  # too big for any: converting it reports the overflow


def alone(aval: ShapedArray) -> np.dtype:
    """The dtype a value has as an array of its own: a weak float is held exactly (f64)
    while weak, but alone it is jx's default f32, as a weak i32 is i32."""
    if aval.weak and is_float(aval.dtype):
        return f32
    return aval.dtype


def promote(a: ShapedArray, b: ShapedArray) -> tuple[np.dtype, bool]:
    """The (dtype, weak) two operands meet at."""
    if a.weak and b.weak:
        ra, rb = kind_rank(a.dtype), kind_rank(b.dtype)
        if ra != rb:
            return (a.dtype if ra > rb else b.dtype), True
        return (a.dtype if a.dtype.itemsize >= b.dtype.itemsize else b.dtype), True
    if a.weak or b.weak:
        weak, strong = (a, b) if a.weak else (b, a)
        if kind_rank(weak.dtype) <= kind_rank(strong.dtype):
            return strong.dtype, False
        if is_float(weak.dtype):
            # A 64-bit int makes a (strong) f64; a narrower one jx's default f32, still weak.
            dtype = float_for(strong.dtype)
            return dtype, dtype != f64
        return i32, True
    return _join_strong(a.dtype, b.dtype), False


def promote_many(avals) -> tuple[np.dtype, bool]:
    avals = list(avals)
    dtype, weak = avals[0].dtype, avals[0].weak
    for aval in avals[1:]:
        dtype, weak = promote(ShapedArray((), dtype, weak), aval)
    return dtype, weak


def canonical(dtype) -> np.dtype:
    """NumPy dtypes jx does not have map to the nearest jx one (e.g. int16 -> i32)."""
    dtype = np.dtype(dtype)
    if dtype in SUPPORTED:
        return dtype
    if dtype.kind == "f":
        return f64 if dtype.itemsize > 8 else f32
    if dtype.kind == "i":
        return i64
    if dtype.kind == "u":
        return u64
    raise ValueError(f"dtype {dtype} is not supported by jx")
