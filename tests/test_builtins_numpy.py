"""The NumPy functions and keywords added after the core built-ins, against NumPy.

The rows use test_builtins' inputs and checker: each expression runs eagerly (a top-level
statement) and traced (inside a function), and must match NumPy's float64 result with the
dtype JAX gives. Data-dependent sizes under tracing, and bad arguments, are JxErrors with
a caret. (Gradients and backends: test_numpy_gradients.py; the special module:
test_special.py; every built-in against jax.numpy: test_numpy_table.py.)
"""

import jx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.test_builtins import MODES, ROW_ARGS, b1, check_row, eager, f16, f32, f64, i32, i64, row

ARRAYS = [
    row("pad(a, 1)", lambda e: np.pad(e.a, 1), f32),
    row(
        "pad(a, ((1, 0), (2, 3)), mode='edge')",
        lambda e: np.pad(e.a, ((1, 0), (2, 3)), "edge"),
        f32,
    ),
    row("pad(c, 2, mode='reflect')", lambda e: np.pad(e.c, 2, "reflect"), f32),
    row("pad(a, 4, mode='symmetric')", lambda e: np.pad(e.a, 4, "symmetric"), f32),
    row("pad(v, (5, 7), mode='wrap')", lambda e: np.pad(e.v, (5, 7), "wrap"), f32),
    row(
        "pad(i, 1, constant_values=(-1, 9))", lambda e: np.pad(e.i, 1, constant_values=(-1, 9)), i32
    ),
    row("pad(d, ((0, 1), (1, 0)))", lambda e: np.pad(e.d, ((0, 1), (1, 0))), f64),
    row("split(c, 2, axis=2)[1]", lambda e: np.split(e.c, 2, 2)[1], f32),
    row("split(mat, [1, 3], axis=1)[2]", lambda e: np.split(e.mat, [1, 3], 1)[2], f32),
    row("array_split(v, 3)[0]", lambda e: np.array_split(e.v, 3)[0], f32),
    row("array_split(mat, 3, axis=1)[2]", lambda e: np.array_split(e.mat, 3, 1)[2], f32),
    row("hsplit(a, 3)[1]", lambda e: np.hsplit(e.a, 3)[1], f32),
    row("vsplit(mat, [2])[1]", lambda e: np.vsplit(e.mat, [2])[1], f32),
    row("dsplit(c, [1])[1]", lambda e: np.dsplit(e.c, [1])[1], f32),
    row("take(a, [0, 5, 2])", lambda e: np.take(e.a, [0, 5, 2]), f32),
    row("take(c, [[2, 0]], axis=2)", lambda e: np.take(e.c, [[2, 0]], 2), f32),
    row("take(a, [-1, 7], mode='clip')", lambda e: np.take(e.a, [-1, 7], mode="clip"), f32),
    row("take(a, [-8, 7], mode='wrap')", lambda e: np.take(e.a, [-8, 7], mode="wrap"), f32),
    row("take(a, [1, 9])", lambda e: np.array([e.a.ravel()[1], np.nan]), f32),
    row("take_along_axis(a, argsort(a, axis=1), axis=1)", lambda e: np.sort(e.a, 1), f32),
    row(
        "take_along_axis(c, i[:, :1, None] % 3, 1)",
        lambda e: np.take_along_axis(e.c, e.i[:, :1, None] % 3, 1),
        f32,
    ),
    row("roll(a, 2)", lambda e: np.roll(e.a, 2), f32),
    row("roll(c, -1, axis=1)", lambda e: np.roll(e.c, -1, 1), f32),
    row("roll(c, (1, 2), axis=(0, 2))", lambda e: np.roll(e.c, (1, 2), (0, 2)), f32),
    row("rot90(mat)", lambda e: np.rot90(e.mat), f32),
    row("rot90(c, -1, axes=(2, 0))", lambda e: np.rot90(e.c, -1, (2, 0)), f32),
    row("rollaxis(c, 2, 1)", lambda e: np.rollaxis(e.c, 2, 1), f32),
    row("flipud(a)", lambda e: np.flipud(e.a), f32),
    row("fliplr(a)", lambda e: np.fliplr(e.a), f32),
    row("tril(mat, -1)", lambda e: np.tril(e.mat, -1), f32),
    row("triu(c)", lambda e: np.triu(e.c), f32),
    row("tril(i, 1)", lambda e: np.tril(e.i, 1), i32),
    row("diag(mat, 1)", lambda e: np.diag(e.mat, 1), f32),
    row("diag(v, -2)", lambda e: np.diag(e.v, -2), f32),
    row("diagonal(c, 1, 2, 0)", lambda e: np.diagonal(e.c, 1, 2, 0), f32),
    row("triu_indices(4, 1, 5)[1]", lambda e: np.triu_indices(4, 1, 5)[1], i32),
    row("tril_indices(3)[0]", lambda e: np.tril_indices(3)[0], i32),
    row("atleast_1d(2.0)", lambda e: np.atleast_1d(2.0), f32),
    row("atleast_2d(v)", lambda e: np.atleast_2d(e.v), f32),
    row("atleast_3d(v)", lambda e: np.atleast_3d(e.v), f32),
    row("atleast_3d(a)", lambda e: np.atleast_3d(e.a), f32),
    row("dstack((a, p))", lambda e: np.dstack((e.a, e.p)), f32),
    row("column_stack((v, v))", lambda e: np.column_stack((e.v, e.v)), f32),
    row("row_stack((b, b))", lambda e: np.vstack((e.b, e.b)), f32),
    row("append(a, b)", lambda e: np.append(e.a, e.b), f32),
    row("append(a, p, axis=1)", lambda e: np.append(e.a, e.p, 1), f32),
    row("broadcast_arrays(a, b)[1]", lambda e: np.broadcast_arrays(e.a, e.b)[1], f32),
    row("meshgrid(b, v)[0]", lambda e: np.meshgrid(e.b, e.v)[0], f32),
    row("meshgrid(b, v, indexing='ij')[1]", lambda e: np.meshgrid(e.b, e.v, indexing="ij")[1], f32),
    row(
        "meshgrid(b, v, b, sparse=True)[2]",
        lambda e: np.meshgrid(e.b, e.v, e.b, sparse=True)[2],
        f32,
    ),
    row(
        "unravel_index(array([0, 7, 23]), (2, 3, 4))[2]",
        lambda e: np.unravel_index([0, 7, 23], (2, 3, 4))[2],
        i32,
    ),
    row("kron(a, eye(2))", lambda e: np.kron(e.a, np.eye(2)), f32),
    row("kron(b, i)", lambda e: np.kron(e.b, e.i), f32),
    row("logspace(0.0, 2.0, 3)", lambda e: np.logspace(0, 2, 3), f32),
    row("identity(2, dtype=i32)", lambda e: np.identity(2), i32),
    row("empty((2,), dtype=f64)", lambda e: np.zeros(2), f64),
    row("empty_like(i)", lambda e: np.zeros((2, 3)), i32),
    row("ones_like(a, shape=(4,))", lambda e: np.ones(4), f32),
    row("linspace(b, b + 1.0, 3, axis=-1)", lambda e: np.linspace(e.b, e.b + 1, 3, axis=-1), f32),
    row(
        "linspace(b, 2.0, 2, endpoint=False)", lambda e: np.linspace(e.b, 2, 2, endpoint=False), f32
    ),
    row("linspace(0.0, 1.0, 5, retstep=True)[1]", lambda e: np.float64(0.25), f32),
]

UFUNCS = [
    row("add(a, b)", lambda e: e.a + e.b, f32),
    row("subtract(i, 2)", lambda e: e.i - 2, i32),
    row("multiply(a, i)", lambda e: e.a * e.i, f32),
    row("divide(i, n)", lambda e: e.i / e.n, f32),
    row("true_divide(d, 2)", lambda e: e.d / 2, f64),
    row("floor_divide(i, n)", lambda e: e.i // e.n, i32),
    row("mod(a, 0.7)", lambda e: np.mod(e.a, 0.7), f32),
    row("remainder(i, n)", lambda e: np.remainder(e.i, e.n), i32),
    row("equal(i, 0)", lambda e: e.i == 0, b1),
    row("not_equal(a, b)", lambda e: e.a != e.b, b1),
    row("greater(a, 0)", lambda e: e.a > 0, b1),
    row("greater_equal(i, 1)", lambda e: e.i >= 1, b1),
    row("less(a, b)", lambda e: e.a < e.b, b1),
    row("less_equal(i, n)", lambda e: e.i <= e.n, b1),
    row("fabs(i)", lambda e: np.fabs(e.i), f32),
    row("fmax(z, 0.5)", lambda e: np.fmax(e.z, 0.5), f32),
    row("fmin(z, z[::-1])", lambda e: np.fmin(e.z, e.z[::-1]), f32),
    row("hypot(a, p)", lambda e: np.hypot(e.a, e.p), f32),
    row("hypot(z, 1.0)", lambda e: np.hypot(e.z, 1), f32),
    row("trunc(a * 3)", lambda e: np.trunc(e.a * 3), f32),
    row("trunc(i)", lambda e: e.i, i32),
    row("sinc(a)", lambda e: np.sinc(e.a), f32),
    row("sinc(0.0 * a)", lambda e: np.ones((2, 3)), f32),
    row("logaddexp2(a, p)", lambda e: np.logaddexp2(e.a, e.p), f32),
    row("deg2rad(a)", lambda e: np.deg2rad(e.a), f32),
    row("rad2deg(d)", lambda e: np.rad2deg(e.d), f64),
    row("degrees(i)", lambda e: np.degrees(e.i), f32),
    row("radians(a)", lambda e: np.radians(e.a), f32),
    row("signbit(z)", lambda e: np.signbit(e.z), b1),
    row("signbit(i)", lambda e: np.signbit(e.i), b1),
    row("copysign(p, a)", lambda e: np.copysign(e.p, e.a), f32),
    row("heaviside(a, 0.5)", lambda e: np.heaviside(e.a, 0.5), f32),
    row("nan_to_num(z)", lambda e: np.nan_to_num(e.z.astype(np.float32)), f32),
    row(
        "nan_to_num(z, nan=-1.0, posinf=9.0)",
        lambda e: np.nan_to_num(e.z.astype(f32), nan=-1, posinf=9),
        f32,
    ),
    row("bitwise_and(i, 3)", lambda e: e.i & 3, i32),
    row("bitwise_or(k, 4)", lambda e: e.k | 4, np.uint32),
    row("bitwise_xor(l, 5)", lambda e: e.l ^ 5, i64),
    row("bitwise_not(i)", lambda e: ~e.i, i32),
    row("invert(m)", lambda e: ~e.m, b1),
    row("left_shift(n, 2)", lambda e: e.n << 2, i32),
    row("right_shift(k, 1)", lambda e: e.k >> 1, np.uint32),
    row("positive(a)", lambda e: e.a, f32),
]

STATISTICS = [
    row("median(a)", lambda e: np.median(e.a), f32),
    row("median(c, axis=(0, 2))", lambda e: np.median(e.c, (0, 2)), f32),
    row("median(d, axis=0, keepdims=True)", lambda e: np.median(e.d, 0, keepdims=True), f64),
    row("median(i, axis=1)", lambda e: np.median(e.i, 1), f32),
    row("quantile(c, 0.3, axis=1)", lambda e: np.quantile(e.c, 0.3, 1), f32),
    row(
        "quantile(a, array([0.0, 0.5, 1.0]), axis=1)",
        lambda e: np.quantile(e.a, [0, 0.5, 1], 1),
        f32,
    ),
    row("percentile(c, 25.0)", lambda e: np.percentile(e.c, 25), f32),
    row(
        "percentile(d, [10, 90], axis=1, keepdims=True)",
        lambda e: np.percentile(e.d, [10, 90], 1, keepdims=True),
        f64,
    ),
    *[
        row(
            f"quantile(c, 0.35, axis=2, method='{m}')",
            lambda e, m=m: np.quantile(e.c, 0.35, 2, method=m),
            f32,
        )
        for m in ("lower", "higher", "nearest", "midpoint")
    ],
    row(
        "quantile(a, 0.5, axis=0, method='nearest')",
        lambda e: np.quantile(e.a, 0.5, 0, method="nearest"),
        f32,
    ),
    row("median(z)", lambda e: np.median(e.z), f32),
    row("nanmedian(z)", lambda e: np.nanmedian(e.z), f32),
    row(
        "nanquantile(where(a > 0, a, nan), 0.4, axis=1)",
        lambda e: np.nanquantile(np.where(e.a > 0, e.a, np.nan), 0.4, 1),
        f32,
    ),
    row("nanpercentile(z, 50.0)", lambda e: np.nanpercentile(e.z, 50), f32),
    row("nansum(z)", lambda e: np.nansum(e.z), f32),
    row("nanprod(z[:2])", lambda e: np.nanprod(e.z[:2]), f32),
    row("nanmax(z)", lambda e: np.nanmax(e.z), f32),
    row(
        "nanmin(where(a > 0, a, nan), axis=0)",
        lambda e: np.nanmin(np.where(e.a > 0, e.a, np.nan), 0),
        f32,
    ),
    row(
        "nanmean(where(a > 0, a, nan), axis=1)",
        lambda e: np.nanmean(np.where(e.a > 0, e.a, np.nan), 1),
        f32,
    ),
    row("nanvar(where(a > 0, a, nan))", lambda e: np.nanvar(np.where(e.a > 0, e.a, np.nan)), f32),
    row(
        "nanstd(where(a > 0, a, nan), ddof=1)",
        lambda e: np.nanstd(np.where(e.a > 0, e.a, np.nan), ddof=1),
        f32,
    ),
    row("nanargmax(z)", lambda e: np.nanargmax(e.z), i32),
    row(
        "nanargmin(where(a > 0, a, nan), axis=1)",
        lambda e: np.nanargmin(np.where(e.a > 0, e.a, np.nan), 1),
        i32,
    ),
    row("average(a)", lambda e: np.average(e.a), f32),
    row("average(a, axis=1, weights=p)", lambda e: np.average(e.a, 1, e.p), f32),
    row("average(c, axis=1, weights=b)", lambda e: np.average(e.c, 1, e.b + 0 * e.b), f32),
    row(
        "average(a, axis=0, weights=p[:, 0], returned=True)[1]",
        lambda e: np.average(e.a, 0, e.p[:, 0], returned=True)[1],
        f32,
    ),
    row("cov(mat)", lambda e: np.cov(e.mat), f32),
    row("cov(mat, rowvar=False, bias=True)", lambda e: np.cov(e.mat, rowvar=False, bias=True), f32),
    row("cov(b, v[:3])", lambda e: np.cov(e.b, e.v[:3]), f32),
    row("cov(d, ddof=0)", lambda e: np.cov(e.d, ddof=0), f64),
    row("corrcoef(mat)", lambda e: np.corrcoef(e.mat), f32),
    row("count_nonzero(i)", lambda e: np.count_nonzero(e.i), i32),
    row(
        "count_nonzero(m, axis=0, keepdims=True)",
        lambda e: np.count_nonzero(e.m, 0, keepdims=True),
        i32,
    ),
    row("ptp(c, axis=2)", lambda e: np.ptp(e.c, 2), f32),
    row("sort(partition(v, 2))", lambda e: np.sort(e.v), f32),
    row("partition(v, 2)[2]", lambda e: np.partition(e.v, 2)[2], f32),
]

SEARCH = [
    row("searchsorted(sort(v), a)", lambda e: np.searchsorted(np.sort(e.v), e.a), i32),
    row(
        "searchsorted(sort(v), z, side='right')",
        lambda e: np.searchsorted(np.sort(e.v), e.z, "right"),
        i32,
    ),
    row(
        "searchsorted(v, b, sorter=argsort(v))",
        lambda e: np.searchsorted(e.v, e.b, sorter=np.argsort(e.v)),
        i32,
    ),
    row("searchsorted(array([1, 2, 2, 4]), i)", lambda e: np.searchsorted([1, 2, 2, 4], e.i), i32),
    row("digitize(a, array([-1.0, 0.0, 1.0]))", lambda e: np.digitize(e.a, [-1, 0, 1]), i32),
    row(
        "digitize(a, array([-1.0, 0.0, 1.0]), right=True)",
        lambda e: np.digitize(e.a, [-1, 0, 1], right=True),
        i32,
    ),
    row(
        "interp(a, sort(v), b[0] + sort(v))",
        lambda e: np.interp(e.a, np.sort(e.v), e.b[0] + np.sort(e.v)),
        f32,
    ),
    row(
        "interp(z, array([0.0, 1.0, 1.0, 2.0]), array([0.0, 1.0, 3.0, 4.0]))",
        lambda e: np.interp(e.z, [0, 1, 1, 2], [0, 1, 3, 4]),
        f32,
    ),
    row(
        "interp(a, array([-0.5, 0.5]), array([1.0, 2.0]), left=0.0, right=9.0)",
        lambda e: np.interp(e.a, [-0.5, 0.5], [1, 2], 0, 9),
        f32,
    ),
    row(
        "unique(i, size=9, fill_value=99)",
        lambda e: np.pad(np.unique(e.i), (0, 9 - np.unique(e.i).size), constant_values=99),
        i32,
    ),
    row("unique(a, size=2)", lambda e: np.unique(e.a)[:2], f32),
    row(
        "nonzero(m, size=6, fill_value=-1)[0]",
        lambda e: np.pad(np.nonzero(e.m)[0], (0, 6 - np.count_nonzero(e.m)), constant_values=-1),
        i32,
    ),
    row("argwhere(i, size=2)", lambda e: np.argwhere(e.i)[:2], i32),
    row("bincount(n.ravel(), length=3)", lambda e: np.bincount(e.n.ravel())[:3], i32),
    row("isin(i, array([0, 2, 4]))", lambda e: np.isin(e.i, [0, 2, 4]), b1),
    row("isin(i, array([0, 2]), invert=True)", lambda e: np.isin(e.i, [0, 2], invert=True), b1),
    row(
        "select((a > 0.5, a < 0.0), (a, -a))",
        lambda e: np.select([e.a > 0.5, e.a < 0], [e.a, -e.a]),
        f32,
    ),
    row(
        "select([i > 2, i < 0], [i, -i], 7)",
        lambda e: np.select([e.i > 2, e.i < 0], [e.i, -e.i], 7),
        i32,
    ),
    row("diff(c)", lambda e: np.diff(e.c), f32),
    row("diff(i, 2, axis=0, prepend=0)", lambda e: np.diff(e.i, 2, 0, prepend=0), i32),
    row("diff(m)", lambda e: np.diff(e.m), b1),
    row("diff(v, append=array([1.0, 2.0]))", lambda e: np.diff(e.v, append=[1, 2]), f32),
    row("gradient(v)", lambda e: np.gradient(e.v), f32),
    row("gradient(c, 2.0)[2]", lambda e: np.gradient(e.c, 2.0)[2], f32),
    row("gradient(a, 0.5, 2.0)[1]", lambda e: np.gradient(e.a, 0.5, 2.0)[1], f32),
    row("convolve(v, b)", lambda e: np.convolve(e.v, e.b), f32),
    row("convolve(b, v, mode='same')", lambda e: np.convolve(e.b, e.v, "same"), f32),
    row("convolve(v, b[:2], mode='valid')", lambda e: np.convolve(e.v, e.b[:2], "valid"), f32),
    row("correlate(v, b)", lambda e: np.correlate(e.v, e.b), f32),
    row("correlate(v, b, mode='full')", lambda e: np.correlate(e.v, e.b, "full"), f32),
    row("cross(a, p)", lambda e: np.cross(e.a, e.p), f32),
    row(
        "cross(c[:, :, :2], c[:, :, 2:])",
        lambda e: e.c[..., 0] * e.c[..., 3] - e.c[..., 1] * e.c[..., 2],
        f32,
    ),
    row("cross(mat[:, :3], b)", lambda e: np.cross(e.mat[:, :3], e.b), f32),
    row(
        "cross(c[:, :, :3], moveaxis(c[:, :, 1:], -1, 0), axisb=0, axisc=0)",
        lambda e: np.cross(e.c[:, :, :3], np.moveaxis(e.c[:, :, 1:], -1, 0), axisb=0, axisc=0),
        f32,
    ),
    row("vectorize(lambda s, t: s * t + 1.0)(a, b)", lambda e: e.a * e.b + 1, f32),
    row("vectorize(lambda s, k: s ** k, excluded=(1,))(a, 2)", lambda e: e.a**2, f32),
    row("vectorize(lambda s: max(array([s, 0.0])))(c)", lambda e: np.maximum(e.c, 0), f32),
]

#: Data-dependent sizes: eager only (traced, they need size=, tested below).
EAGER_ONLY = [
    row("unique(i)", lambda e: np.unique(e.i), i32),
    row("unique(i, return_counts=True)[1]", lambda e: np.unique(e.i, return_counts=True)[1], i32),
    row("unique(i, return_index=True)[1]", lambda e: np.unique(e.i, return_index=True)[1], i32),
    row(
        "unique(i, return_inverse=True)[1]",
        lambda e: np.unique(e.i, return_inverse=True)[1].reshape(2, 3),
        i32,
    ),
    row("nonzero(i)[1]", lambda e: np.nonzero(e.i)[1], i32),
    row("flatnonzero(a > 0)", lambda e: np.flatnonzero(e.a > 0), i32),
    row("argwhere(c > 1.0)", lambda e: np.argwhere(e.c > 1), i32),
    row("bincount(n.ravel())", lambda e: np.bincount(e.n.ravel()), i32),
    row(
        "bincount(n.ravel(), weights=a.ravel(), minlength=6)",
        lambda e: np.bincount(e.n.ravel(), e.a.ravel(), 6),
        f32,
    ),
]

KEYWORDS = [
    row("r_[1:4, 0, b]", lambda e: np.r_[1:4, 0, e.b], f32),
    row("r_[0.0:1.0:0.25]", lambda e: np.r_[0.0:1.0:0.25], f32),
    row("c_[b, b * 2]", lambda e: np.c_[e.b, e.b * 2], f32),
    row("c_[a.T, b]", lambda e: np.c_[e.a.T, e.b], f32),
    row("ravel_pytree((a, {'w': b}))[0]", lambda e: np.concatenate([e.a.ravel(), e.b]), f32),
    row("ravel_pytree((a, i))[1](ravel_pytree((a, i))[0] * 2)[1]", lambda e: e.i * 2, i32),
    row("sum(a, where=a > 0)", lambda e: np.sum(e.a, where=e.a > 0), f32),
    row("sum(c, axis=(0, 2), initial=1.5)", lambda e: np.sum(e.c, (0, 2), initial=1.5), f32),
    row(
        "prod(p, axis=1, where=p > 1.0, keepdims=True)",
        lambda e: np.prod(e.p, 1, where=e.p > 1, keepdims=True),
        f32,
    ),
    row("max(a, axis=0, initial=0.5)", lambda e: np.max(e.a, 0, initial=0.5), f32),
    row("min(i, where=i > 0, initial=100)", lambda e: np.min(e.i, where=e.i > 0, initial=100), i32),
    row(
        "amax(a, where=a < 0, initial=-9.0)", lambda e: np.max(e.a, where=e.a < 0, initial=-9), f32
    ),
    row("all(a > -1.0, axis=1, where=a < 0.5)", lambda e: np.all(e.a > -1, 1, where=e.a < 0.5), b1),
    row("any(m, where=i > 0)", lambda e: np.any(e.m, where=e.i > 0), b1),
    row("mean(a, axis=1, where=a > 0)", lambda e: np.mean(e.a, 1, where=e.a > 0), f32),
    row(
        "var(c, axis=2, ddof=1, where=c > -1.0)",
        lambda e: np.var(e.c, 2, ddof=1, where=e.c > -1),
        f32,
    ),
    row("std(a, dtype=f64)", lambda e: np.std(e.a), f64),
    row("var(i, dtype=f64)", lambda e: np.var(e.i), f64),
    row("sum(m.astype(u8), promote_integers=False)", lambda e: np.sum(e.m), np.uint8),
    row("concatenate((a, i), dtype=f64)", lambda e: np.concatenate((e.a, e.i)), f64),
    row("concatenate((a, b), axis=None)", lambda e: np.concatenate((e.a, e.b), None), f32),
    row("stack((a, a), dtype=i32)", lambda e: np.stack((e.a, e.a)).astype(np.int32), i32),
    row("hstack((b, v), dtype=f16)", lambda e: np.hstack((e.b, e.v)), f16),
    row("vstack((a, b), dtype=f64)", lambda e: np.vstack((e.a, e.b)), f64),
    row("reshape(c, (4, 6), order='F')", lambda e: np.reshape(e.c, (4, 6), order="F"), f32),
    row("reshape(a, -1, order='F')", lambda e: np.reshape(e.a, -1, order="F"), f32),
    row("zeros_like(a, shape=(2, 2))", lambda e: np.zeros((2, 2)), f32),
    row("full_like(i, 4, shape=3)", lambda e: np.full(3, 4), i32),
    row("trace(c)", lambda e: np.trace(e.c), f32),
    row("trace(c, -1, axis1=2, axis2=1)", lambda e: np.trace(e.c, -1, 2, 1), f32),
    row("trace(mat, dtype=f64)", lambda e: np.trace(e.mat), f64),
    row("sort(a, descending=True)", lambda e: -np.sort(-e.a), f32),
    row("sort(c, axis=None, stable=True)", lambda e: np.sort(e.c, None), f32),
    row("argsort(i, axis=1, descending=True)", lambda e: np.argsort(-e.i, 1, kind="stable"), i32),
    row(
        "argsort(i, axis=None, descending=True)",
        lambda e: np.argsort(-e.i, None, kind="stable"),
        i32,
    ),
    row("a.sort()", lambda e: np.sort(e.a), f32),
    row("c.argsort(axis=0)", lambda e: np.argsort(e.c, 0), i32),
    row("a.take([1, 2])", lambda e: np.take(e.a, [1, 2]), f32),
    row("mat.diagonal(1)", lambda e: np.diagonal(e.mat, 1), f32),
    row("mat.trace()", lambda e: np.trace(e.mat), f32),
    row("a.ptp(axis=1)", lambda e: np.ptp(e.a, 1), f32),
    row("array_equal(z, z, equal_nan=True)", lambda e: True, b1),
    row("array_equal(z, z)", lambda e: False, b1),
    row("moveaxis(c, (0, 2), (2, 0))", lambda e: np.moveaxis(e.c, (0, 2), (2, 0)), f32),
    row("moveaxis(c, [0, 1], [-1, -2])", lambda e: np.moveaxis(e.c, [0, 1], [-1, -2]), f32),
    row("einsum('ii->i', mat[:, :3])", lambda e: np.einsum("ii->i", e.mat[:, :3]), f32),
    row("einsum('ii', mat[:, :3])", lambda e: np.einsum("ii", e.mat[:, :3]), f32),
    row("einsum('i...->...', c)", lambda e: np.einsum("i...->...", e.c), f32),
    row(
        "einsum('...ij,...jk->...ik', bm, bm2)",
        lambda e: np.einsum("...ij,...jk->...ik", e.bm, e.bm2),
        f32,
    ),
    row("einsum('...i,i', c, v)", lambda e: np.einsum("...i,i", e.c, e.v), f32),
    row(
        "einsum('ij...,j...->i...', bb, bb[0])",
        lambda e: np.einsum("ij...,j...->i...", e.bb, e.bb[0]),
        f32,
    ),
    row(
        "einsum(a, [0, 1], p, [0, 1], [1])", lambda e: np.einsum(e.a, [0, 1], e.p, [0, 1], [1]), f32
    ),
    row(
        "einsum(mat, [0, 1], mat2, [1, 2])", lambda e: np.einsum(e.mat, [0, 1], e.mat2, [1, 2]), f32
    ),
    row("f32(2)", lambda e: np.float32(2), f32),
    row("i32(a * 3)", lambda e: (e.a * 3).astype(np.int32), i32),
    row("f64(i) / 3", lambda e: e.i / 3, f64),
    row("bool(i)", lambda e: e.i != 0, b1),
    row("u8([1, 2, 300 - 45])", lambda e: np.array([1, 2, 255]), np.uint8),
    row("a.at[0].subtract(1.0)", lambda e: e.a - np.array([[1.0], [0.0]]), f32),
    row("a.at[:, 1].multiply(3.0)", lambda e: e.a * np.array([1, 3, 1]), f32),
    row("p.at[1].divide(2.0)", lambda e: e.p / np.array([[1.0], [2.0]]), f32),
    row("p.at[0, 0].power(3.0)", lambda e: e.p ** np.array([[3.0, 1, 1], [1, 1, 1]]), f32),
    row("p.at[array([0, 0])].divide(2.0)", lambda e: e.p / np.array([[4.0], [1.0]]), f32),
    row("finfo(f32).eps", lambda e: np.finfo(np.float32).eps, f32),
    row("finfo(h).max", lambda e: np.finfo(np.float16).max, f16),
    row("iinfo(i64).min", lambda e: np.iinfo(np.int64).min, i64),
    row("iinfo(u8).max + 0", lambda e: 255, np.uint8),
]


def _row_table(name, rows):
    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize(ROW_ARGS, rows)
    @pytest.mark.filterwarnings("ignore::RuntimeWarning")
    def test(mode, expr, numpy_fn, dtype, rtol, atol):
        check_row(mode, expr, numpy_fn, dtype, rtol, atol)

    test.__name__ = name
    return test


test_arrays = _row_table("test_arrays", ARRAYS)
test_ufuncs = _row_table("test_ufuncs", UFUNCS)
test_statistics = _row_table("test_statistics", STATISTICS)
test_search = _row_table("test_search", SEARCH)
test_keywords = _row_table("test_keywords", KEYWORDS)


@pytest.mark.parametrize(ROW_ARGS, EAGER_ONLY)
def test_data_dependent_sizes_at_the_top_level(expr, numpy_fn, dtype, rtol, atol):
    check_row(eager, expr, numpy_fn, dtype, rtol, atol)


@pytest.mark.parametrize(
    "expr, value",
    [
        ("issubdtype(bf16, floating)", True),
        ("issubdtype(f16, integer)", False),
        ("issubdtype(u8, unsignedinteger)", True),
        ("issubdtype(i8, signedinteger)", True),
        ("issubdtype(bool, number)", False),
        ("issubdtype(integer, number)", True),
        ("issubdtype(i32, i32)", True),
        ("result_type(i32, f16)", np.dtype(np.float16)),
        ("result_type(a, 2.0)", np.dtype(np.float32)),
        ("promote_types(u32, i32)", np.dtype(np.int64)),
        ("can_cast(i32, f64)", True),
        ("can_cast(f64, f32)", False),
        ("finfo(bf16).bits", 16),
        ("a[:, newaxis].shape", (2, 1)),
    ],
)
def test_dtype_questions(expr, value):
    assert jx.compile(f"y = {expr}\n", env={"a": np.ones(2, f32)}).y == value


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "source, message",
    [
        ("def f(x) = unique(x)\ny = f(a)\n", "unique has a data-dependent size"),
        ("def f(x) = nonzero(x)\ny = f(a)\n", "pass size=N"),
        ("def f(x) = argwhere(x)\ny = f(a)\n", "nonzero has a data-dependent size"),
        ("def f(x) = bincount(i32(x))\ny = f(a)\n", "pass length=N"),
        ("y = pad(a, 1, mode='linear_ramp')\n", "mode 'linear_ramp' is not one of"),
        ("y = pad(a, -1)\n", "negative pad width"),
        ("y = split(a, 4)\n", "does not split into 4 equal parts"),
        ("y = take(a, [0], mode='raise')\n", "mode 'raise' is not one of"),
        ("y = quantile(a, 0.5, method='weibull')\n", "method 'weibull' is not one of"),
        ("y = max(a, where=a > 0)\n", "needs initial="),
        ("y = searchsorted(a, 0.0, side='middle')\n", "side 'middle' is not one of left, right"),
        ("y = reshape(a, 3, order='K')\n", "order 'K' is not one of C, F, A"),
        ("y = einsum('i...j...', a)\n", "at most one '...'"),
        ("y = finfo(i32)\n", "not a float dtype"),
        ("y = iinfo(f32)\n", "not an int dtype"),
        ("y = f32(a, a)\n", "takes one argument"),
        ("y = a.at[0].apply(1.0)\n", "has no method 'apply'"),
        ("y = select((a > 0,), (a, a))\n", "1 conditions for 2 choices"),
        ("y = digitize(a, a[0], a)\n", "digitize: right must be a static True or False"),
        ("y = sort(a, descending=a)\n", "sort: descending must be a static True or False"),
        ("y = pad(a, 1, mode=a)\n", "pad: mode an array"),
        ("import linalg\ny = linalg.eigvalsh(eye(2), a)\n", "UPLO must be 'L' or 'U'"),
    ],
)
def test_errors_point_at_the_call(source, message):
    with pytest.raises(jx.JxError) as info:
        jx.compile(source, env={"a": np.linspace(-1, 1, 6, dtype=f32).reshape(2, 3)})
    text = str(info.value)
    assert message in text
    assert "^" in text  # the caret under the user's source


@settings(max_examples=25, deadline=None)
@given(
    x=hnp.arrays(
        f32,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
        elements=st.floats(-10, 10, width=32),
    ),
    width=st.integers(0, 5),
    mode=st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]),
    shift=st.integers(-7, 7),
)
def test_pad_and_roll_match_numpy(x, width, mode, shift):
    m = jx.compile("def f(x, w, mode, s) = (pad(x, w, mode=mode), roll(x, s, axis=-1))\n")
    if mode != "constant" and width and min(x.shape) == 0:
        return  # NumPy cannot pad an empty axis from its own values either
    padded, rolled = m.f(x, width, mode, shift)
    np.testing.assert_array_equal(padded, np.pad(x, width, mode))
    np.testing.assert_array_equal(rolled, np.roll(x, shift, axis=-1))
