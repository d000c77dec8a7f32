"""Every array built-in against `jax.numpy`, over the dtypes jx supports.

Each case is one expression, written once: jx runs it (traced inside a function, as a
program does), and Python evaluates the same text with `jax.numpy`'s names, so the two
sides cannot drift apart. Values, shapes and dtypes must match. A case with 64-bit inputs
is compared with JAX's x64 mode on (jx never truncates f64), every other case with it off
(jx's defaults are 32-bit, as JAX's are then). Where jx differs on purpose or by a
promotion rule still open, the case is an explicit strict expected failure with the reason.
`test_every_builtin_has_a_case` keeps the table complete as built-ins are added.
"""

from __future__ import annotations

import functools
import re

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import jx
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from jx import dtypes as jx_dtypes
from jx.builtins import BUILTINS
from jx.values import Builtin

F32, F64, F16, BF16 = "f32", "f64", "f16", "bf16"
I8, I32, I64, U8, U32, BOOL = "i8", "i32", "i64", "u8", "u32", "bool"
# jx's dtypes by their short names, from jx's own table
DTYPES = {jx_dtypes.short(d): d for d in dict.fromkeys(jx_dtypes.BY_NAME.values())}
FLOATS = (F32, F64, F16, BF16)
FLOAT2 = (F32, F64)
NUMERIC = (F32, F64, I32, I64, U8)
ALL = (F32, F64, F16, I32, I64, U8, BOOL)
SHAPES = (F32, F64, I32, BOOL)  # rearranging: the dtype only travels along
INTS = (I32, I64, U8, I8)
TOLERANCE = {"f16": 4e-3, "bf16": 2e-2, "f32": 2e-5, "f64": 1e-11}


def _inputs(dtype: str) -> dict:
    """The arrays a case may name, all of `dtype` but the index and mask arrays."""
    rng = np.random.default_rng(7)
    d = DTYPES[dtype]
    if dtype == "bool":
        data = rng.random((6, 3, 4)) > 0.5
    elif dtype[0] == "u":
        data = rng.integers(0, 10, (6, 3, 4))
    elif dtype[0] == "i":
        data = rng.integers(-5, 6, (6, 3, 4))
    else:
        data = np.round(rng.standard_normal((6, 3, 4)), 2)
    data = data.astype(d)
    positive = np.abs(data.astype(np.float64)) + 1 if dtype != "bool" else data
    unit = np.clip(data.astype(np.float64) / 3, -0.9, 0.9) if dtype != "bool" else data
    return {
        "x": data[0],
        "y": data[1],
        "p": positive[2].astype(d),
        "u": unit[3].astype(d),
        "v": data[4, 0],
        "s": np.sort(data[4].ravel()[:6]),
        "m": data[5, :3, :3],
        "c": data[:2, :2],
        "k": np.array([2, 0, 1, 0], np.int32),
        "mask": rng.random((3, 4)) > 0.5,
    }


class Case:
    __slots__ = ("dtypes", "expr", "mismatch", "rtol")

    def __init__(self, expr, dtypes=FLOAT2, rtol=None, mismatch=None):
        self.expr, self.dtypes, self.rtol = expr, dtypes, rtol
        self.mismatch = mismatch or {}


def C(expr, dtypes=FLOAT2, rtol=None, **mismatch):
    return Case(expr, dtypes, rtol, mismatch)


PROMOTION = "promotion rules (issue 14's dtype section): "

# fmt: off
CASES = [
    # elementwise math
    *[C(f"{f}(x)", (*FLOATS, I32)) for f in (
        "exp", "exp2", "expm1", "sin", "cos", "tan", "arctan", "sinh", "cosh", "tanh",
        "arcsinh", "cbrt", "floor", "ceil", "round", "around", "trunc", "fix", "abs",
        "absolute", "fabs", "sign", "negative", "positive", "square", "isnan", "isfinite",
        "isinf", "signbit", "deg2rad", "rad2deg", "degrees", "radians", "sinc")],
    *[C(f"{f}(p)", (*FLOATS, I32)) for f in ("log", "log2", "log10", "log1p", "sqrt", "reciprocal", "arccosh")],
    *[C(f"{f}(u)", FLOATS) for f in ("arcsin", "arccos", "arctanh")],
    C("round(x, 1)", FLOATS), C("nan_to_num(x / 0.0)", FLOATS),
    C("clip(x, -0.5, 0.5)", NUMERIC), C("clip(x, max=1)", NUMERIC),
    C("where(mask, x, y)", ALL), C("where(x > 0, x, 0)", NUMERIC),
    *[C(f"{f}(x, y)", NUMERIC) for f in (
        "add", "subtract", "multiply", "maximum", "minimum", "fmax", "fmin", "equal",
        "not_equal", "greater", "greater_equal", "less", "less_equal")],
    *[C(f"{f}(x, p)", NUMERIC) for f in ("mod", "remainder", "floor_divide")],
    *[C(f"{f}(x, p)", (*FLOAT2, I32)) for f in ("divide", "true_divide", "power")],
    *[C(f"{f}(x, y)", FLOAT2) for f in ("arctan2", "hypot", "logaddexp", "logaddexp2",
                                          "nextafter", "copysign", "heaviside")],
    *[C(f"{f}(x, y)", (I32, I64, U8, BOOL)) for f in ("bitwise_and", "bitwise_or", "bitwise_xor")],
    *[C(f"{f}(x)", (I32, I64, U8, BOOL)) for f in ("bitwise_not", "invert", "bitwise_invert")],
    *[C(f"{f}(x, 2)", INTS) for f in ("left_shift", "right_shift", "bitwise_left_shift",
                                        "bitwise_right_shift")],
    *[C(f"{f}(x > 0, y > 0)", (F32,)) for f in ("logical_and", "logical_or", "logical_xor")],
    C("logical_not(x)", ALL),
    C("isclose(x, y + 0.001, atol=0.01)", FLOAT2), C("allclose(x, x + 1e-9)", FLOAT2),
    C("array_equal(x, x)", ALL), C("array_equal(x / 0.0, x / 0.0, equal_nan=True)", FLOAT2),
    # reductions and statistics
    *[C(f"{f}(x, axis=1)", ALL) for f in ("sum", "prod", "max", "min", "amax", "amin", "all", "any", "count_nonzero")],
    *[C(f"{f}(x, axis=0)", (*FLOAT2, I32, I64)) for f in ("argmax", "argmin", "ptp")],
    *[C(f"{f}(x, axis=1)", (*FLOAT2, F16, I32)) for f in ("mean", "var", "std", "median")],
    C("cumsum(x, axis=1)", NUMERIC), C("cumprod(x, axis=0)", NUMERIC),
    C("sum(x, where=mask)", NUMERIC), C("sum(x, axis=0, initial=3)", NUMERIC),
    C("max(x, axis=1, initial=0, where=mask)", NUMERIC), C("mean(x, axis=0, where=mask)", FLOAT2),
    C("var(x, axis=1, ddof=1)", FLOAT2), C("std(x, dtype=f64)", (F32,)),
    C("sum(x, promote_integers=False)", (U8, I8)),
    C("quantile(x, 0.3)", FLOAT2), C("quantile(x, array([0.25, 0.5]), axis=1, keepdims=True)", FLOAT2),
    C("percentile(x, 70, axis=0, method='nearest')", FLOAT2), C("percentile(x, 40, method='lower')", FLOAT2),
    C("quantile(x, 0.4, axis=1, method='higher')", FLOAT2), C("quantile(x, 0.4, axis=1, method='midpoint')", FLOAT2),
    *[C(f"{f}(where(mask, x, nan), axis=1)", FLOAT2) for f in (
        "nansum", "nanprod", "nanmax", "nanmin", "nanmean", "nanvar", "nanstd", "nanmedian",
        "nanargmax", "nanargmin")],
    C("nanquantile(where(mask, x, nan), 0.3, axis=0)", FLOAT2),
    C("nanpercentile(where(mask, x, nan), 60.0, axis=1)", FLOAT2),
    C("average(x, axis=1, weights=p)", FLOAT2), C("average(x, axis=0, weights=p[:, 0], returned=True)", FLOAT2),
    C("cov(x)", FLOAT2), C("cov(x, rowvar=False, ddof=0)", FLOAT2), C("corrcoef(x, y)", FLOAT2),
    # sorting and searching
    C("sort(x, axis=0)", NUMERIC), C("sort(x, descending=True)", NUMERIC), C("x.sort()", NUMERIC),
    C("argsort(x, axis=1)", (*FLOAT2, I32)), C("x.argsort(axis=0)", (*FLOAT2, I32)),
    C("argsort(x, descending=True, stable=True)", (*FLOAT2, I32)),
    C("sort(partition(x, 1, axis=1))", NUMERIC),
    C("searchsorted(s, x)", NUMERIC), C("searchsorted(s, x, side='right')", NUMERIC),
    C("digitize(x, s)", FLOAT2), C("interp(x, s, s * 2 + 1)", FLOAT2),
    C("interp(x, s, s * s, left=-1.0, right=5.0)", FLOAT2),
    C("unique(x, size=12)", NUMERIC), C("unique(x, size=5, fill_value=0)", NUMERIC),
    C("unique(x, return_counts=True, return_index=True, return_inverse=True, size=12)", (F32, I32)),
    C("nonzero(x, size=12)", NUMERIC), C("argwhere(x > 0, size=6)", NUMERIC),
    C("flatnonzero(x, size=5, fill_value=-1)", NUMERIC),
    C("bincount(ravel(abs(x)), length=10)", (I32, U8)),
    C("bincount(ravel(abs(x)), weights=ravel(p), length=8)", (I32,)),
    C("isin(x, v)", NUMERIC), C("select([x > 0.5, x < -0.5], [x, -x], 9)", FLOAT2),
    # linear algebra products
    C("dot(x, y.T)", NUMERIC), C("matmul(x.T, y)", NUMERIC), C("x @ y.T", NUMERIC),
    C("vdot(x, y)", NUMERIC), C("inner(x, y)", NUMERIC), C("outer(v, v)", NUMERIC),
    C("tensordot(x, y, axes=([1], [1]))", NUMERIC), C("tensordot(c, transpose(c, (1, 2, 0)), 2)", NUMERIC),
    C("einsum('ij,kj->ik', x, y)", NUMERIC), C("einsum('ii->i', m)", NUMERIC),
    C("einsum('...ij,...kj->...ik', c, c)", NUMERIC), C("einsum(x, [0, 1], y, [0, 1], [1])", NUMERIC),
    C("trace(m)", NUMERIC), C("trace(c, 0, 1, 2)", NUMERIC), C("kron(m, m[:2, :2])", NUMERIC),
    C("cross(x[:, :3], y[:, :3])", NUMERIC), C("convolve(v, v[:3])", FLOAT2),
    C("convolve(v, v[:3], mode='same')", FLOAT2), C("correlate(v, v[:2])", FLOAT2),
    C("correlate(v, v[:3], mode='full')", FLOAT2),
    C("linalg.inv(m + 3 * eye(3))", FLOAT2), C("linalg.det(m)", FLOAT2),
    # creation
    C("zeros((2, 3))", (F32,)), C("ones(3, dtype=i32)", (F32,)), C("full((2, 2), 7)", (F32,)),
    C("zeros_like(x)", SHAPES), C("ones_like(x, dtype=f16)", SHAPES), C("full_like(x, 2, shape=(2,))", SHAPES),
    C("empty((2, 2))", (F32,)), C("empty_like(x)", SHAPES), C("identity(3)", (F32,)),
    C("eye(3, 4, 1)", (F32,)), C("arange(2, 11, 3)", (F32,)), C("arange(0.0, 1.0, 0.25)", (F32,)),
    C("linspace(0.0, 1.0, 5)", (F32,)), C("linspace(0.0, 1.0, 4, endpoint=False, retstep=True)", (F32,)),
    C("linspace(v, v + 1, 3, axis=1)", FLOAT2), C("logspace(0.0, 2.0, 5)", (F32,)),
    C("logspace(0.0, 3.0, 4, base=2.0)", (F32,)), C("array([1, 2, 3])", (F32,)),
    C("asarray(x)", SHAPES), C("astype(x, f32)", SHAPES), C("x.astype(i32)", SHAPES),
    C("f32(x)", SHAPES), C("i32(x)", NUMERIC), C("f16(x)", FLOAT2),
    C("triu_indices(4, 1)", (F32,)), C("tril_indices(3)", (F32,)),
    C("meshgrid(v, v[:3])", (F32, I32)), C("meshgrid(v, v[:3], indexing='ij')", (F32, I32)),
    C("unravel_index(array([1, 5, 11]), (3, 4))", (F32,)),
    # shapes
    C("reshape(x, (4, 3))", SHAPES), C("reshape(x, (2, -1), order='F')", SHAPES), C("ravel(x)", SHAPES),
    C("transpose(c, (1, 0, 2))", SHAPES), C("swapaxes(c, 0, 2)", SHAPES), C("moveaxis(c, (0, 1), (2, 0))", SHAPES),
    C("expand_dims(x, 1)", SHAPES), C("squeeze(x[:1])", SHAPES), C("x[:, newaxis]", SHAPES),
    C("concatenate((x, y), axis=1)", SHAPES), C("concatenate((x, y), axis=None)", SHAPES),
    C("concatenate((x, y), dtype=f32)", NUMERIC), C("stack((x, y), axis=2)", SHAPES),
    C("hstack((x, y))", SHAPES), C("vstack((x, y))", SHAPES), C("dstack((x, y))", SHAPES),
    C("column_stack((v, v))", SHAPES), C("row_stack((x, y))", SHAPES), C("append(x, y)", SHAPES),
    C("append(x, y, axis=0)", SHAPES), C("broadcast_to(v[:4], (3, 4))", SHAPES),
    C("broadcast_arrays(x, v[:4])", SHAPES), C("flip(x, 1)", SHAPES), C("flipud(x)", SHAPES),
    C("fliplr(x)", SHAPES), C("rot90(x)", SHAPES), C("rot90(c, 3, axes=(1, 2))", SHAPES),
    C("rollaxis(c, 2)", SHAPES), C("tile(x, (2, 1))", SHAPES), C("repeat(x, 2, axis=1)", SHAPES),
    C("roll(x, 2)", SHAPES), C("roll(x, (1, -1), axis=(0, 1))", SHAPES),
    C("atleast_1d(v)", SHAPES), C("atleast_2d(v)", SHAPES), C("atleast_3d(x)", SHAPES),
    C("split(x, 2, axis=1)", SHAPES), C("array_split(x, 3, axis=1)", SHAPES), C("hsplit(x, [1, 3])", SHAPES),
    C("vsplit(x, 3)", SHAPES), C("dsplit(c, 2)", SHAPES),
    C("pad(x, 1)", SHAPES), C("pad(x, ((1, 2), (0, 1)), mode='edge')", SHAPES),
    C("pad(x, 2, mode='reflect')", NUMERIC), C("pad(x, (1, 3), mode='symmetric')", NUMERIC),
    C("pad(x, 5, mode='wrap')", NUMERIC), C("pad(x, 1, constant_values=7)", NUMERIC),
    C("take(x, k)", SHAPES), C("take(x, k, axis=1)", SHAPES), C("take(x, array([0, 20]), mode='clip')", SHAPES),
    C("take_along_axis(x, argsort(x, axis=0), axis=0)", NUMERIC),
    C("tril(x)", SHAPES), C("triu(x, 1)", SHAPES), C("diag(v)", SHAPES), C("diag(x, 1)", SHAPES),
    C("diagonal(c, 0, 1, 2)", SHAPES), C("diff(x)", NUMERIC), C("diff(x, 2, axis=0)", FLOAT2),
    C("diff(x, prepend=0, append=1)", FLOAT2), C("gradient(x)", FLOAT2),
    C("gradient(x, 0.5, axis=1)", FLOAT2),
    # dtypes
    C("finfo(x).eps", FLOATS), C("finfo(x).max", FLOATS), C("finfo(x).tiny", FLOATS),
    C("finfo(x).bits", FLOATS), C("iinfo(x).min", (I32, I64, U8, I8)), C("iinfo(x).max", (I32, I64, U8, I8)),
    C("issubdtype(x.dtype, floating)", ALL), C("issubdtype(x.dtype, integer)", ALL),
    C("issubdtype(x.dtype, signedinteger)", ALL), C("issubdtype(x.dtype, unsignedinteger)", ALL),
    C("issubdtype(x.dtype, inexact)", ALL), C("issubdtype(x.dtype, number)", ALL),
    C("issubdtype(x.dtype, generic)", ALL), C("issubdtype(x.dtype, bool_)", ALL),
    C("result_type(x, i32)", ALL), C("promote_types(x.dtype, u8)", ALL), C("can_cast(x.dtype, f64)", ALL),
    # indexing and updates
    C("x.at[1].set(0)", NUMERIC), C("x.at[k[:2], 1].add(1)", NUMERIC), C("x.at[0].subtract(1)", NUMERIC),
    C("x.at[:, 1].multiply(2)", NUMERIC), C("x.at[0, 0].divide(2.0)", FLOAT2),
    C("x.at[1].power(2)", (*FLOAT2, I32)), C("x.at[0].min(0)", NUMERIC), C("x.at[0].max(0)", NUMERIC),
    # special
    *[C(f"special.{f}(x)", (*FLOAT2, F16)) for f in ("erf", "erfc", "expit")],
    C("special.ndtr(x)", FLOAT2),
    *[C(f"special.{f}(u)", FLOAT2) for f in ("erfinv", "ndtri")],
    C("special.gammaln(x * 4)", FLOAT2, rtol=1e-4), C("special.digamma(x * 4)", FLOAT2, rtol=1e-4),
    C("special.logit(p / 4)", FLOAT2), C("special.xlogy(x, p)", FLOAT2), C("special.xlog1py(x, p)", FLOAT2),
    # functions of functions, trees, index tricks
    C("ravel_pytree((x, {'a': y}))[0]", SHAPES), C("r_[1:4, 0, v]", SHAPES), C("c_[v, v]", SHAPES),
    C("vectorize(lambda a, b: a * b + 1)(x, v[:4])", NUMERIC),
    C("vectorize(lambda a: (a, a > 0))(x)", FLOAT2),
]
# fmt: on

_INDEX_X64 = (
    PROMOTION + "indices (argmax, argsort, nonzero, counts) are i32; under x64 JAX gives i64"
)
_UNSIGNED_SUM = PROMOTION + "sums and products of u8 give i32; JAX gives u32"
_I64_FLOAT = PROMOTION + "i64 meeting a float literal gives f32; under x64 JAX gives f64"
_LINSPACE = "issue 14's wrong answers: linspace of f64 ends returns f32"

#: Where jx and JAX still differ, each for a reason owned elsewhere: (expression, dtype) -> why.
DIFFERENCES = {
    **{(e, F64): _INDEX_X64 for e in ("argmax(x, axis=0)", "argmin(x, axis=0)")},
    **{
        (e, d): _INDEX_X64
        for d in (F64, I64)
        for e in (
            "count_nonzero(x, axis=1)",
            "nonzero(x, size=12)",
            "argwhere(x > 0, size=6)",
            "flatnonzero(x, size=5, fill_value=-1)",
        )
    },
    **{
        (e, F64): _INDEX_X64
        for e in (
            "nanargmax(where(mask, x, nan), axis=1)",
            "nanargmin(where(mask, x, nan), axis=1)",
            "argsort(x, axis=1)",
            "x.argsort(axis=0)",
            "argsort(x, descending=True, stable=True)",
        )
    },
}

#: Built-ins without a jax.numpy counterpart: the transformations, effects and Python forms
#: have their own tests (test_ad, test_vmap, test_python_forms, ...).
NOT_JAX_NUMPY = {
    # transformations, custom rules, effects and lax-style slicing (tested on their own)
    "checkpoint",
    "remat",
    "custom_jvp",
    "custom_vjp",
    "linearize",
    "linear_transpose",
    "debug_print",
    "plot",
    "list",
    "dynamic_slice",
    "dynamic_update_slice",
    # devices, processes and shardings (tests/test_distributed.py)
    "Mesh",
    "NamedSharding",
    "PartitionSpec",
    "device_count",
    "local_device_count",
    "process_count",
    "process_index",
    "None",
    "e",
    "inf",
    "nan",
    "pi",
    "newaxis",
    "print",
    "save",
    "load",
    "len",
    "range",
    "tuple",
    "int",
    "float",
    "zip",
    "enumerate",
    "partial",
    "tree_map",
    "stop_gradient",
    "jit",
    "grad",
    "value_and_grad",
    "jvp",
    "vjp",
    "jacfwd",
    "jacrev",
    "hessian",
    "vmap",
    "pmap",
    "cond",
    "scan",
    "while_loop",
    "fori_loop",
    "psum",
    "pmean",
    "pmax",
    "pmin",
    "all_gather",
    "axis_index",
    "_bitcast",
    "_fma",
    "_erf",
    "_erf_inv",
    "_log_exact",
}


def _params():
    for case in CASES:
        for dtype in case.dtypes:
            reason = case.mismatch.get(dtype) or DIFFERENCES.get((case.expr, dtype))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(case, dtype, id=f"{case.expr}-{dtype}", marks=marks)


def _jax_namespace(inputs):
    ns = {name: getattr(jnp, name) for name in dir(jnp) if not name.startswith("_")}
    # jx's dtype names are JAX's scalar types (callable, and dtypes where one is expected).
    ns.update({short: getattr(jnp, np.dtype(d).name) for short, d in DTYPES.items()})
    ns.update(bool_=jnp.bool_, special=jsp, linalg=jnp.linalg, array=jnp.array)
    ns.update(fix=jnp.trunc, row_stack=jnp.vstack)  # NumPy's names that jax.numpy dropped
    ns.update(ravel_pytree=ravel_pytree)
    ns.update(inputs)
    return ns


def _leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _compare(got, want, dtype, rtol, what):
    got, want = _leaves(got), _leaves(want)
    assert len(got) == len(want), f"{what}: {len(got)} results, JAX gives {len(want)}"
    for g, w in zip(got, want):
        if isinstance(w, (bool, int, np.dtype)):
            assert g == w, f"{what}: {g!r}, JAX gives {w!r}"
            continue
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype, f"{what}: dtype {g.dtype}, JAX gives {w.dtype}"
        assert g.shape == w.shape, f"{what}: shape {g.shape}, JAX gives {w.shape}"
        tol = rtol or TOLERANCE.get(dtype, 1e-6)
        if g.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=what)
        else:
            np.testing.assert_allclose(
                g.astype(np.float64), w.astype(np.float64), rtol=tol, atol=tol, err_msg=what
            )


def _x64(case, dtype) -> bool:
    return dtype in ("f64", "i64", "u64") or "64" in case.expr


@functools.cache
def _jax_results(dtype: str, x64: bool) -> dict:
    """JAX's value of every case of `dtype` (and x64 mode), all traced into one program:
    one compilation instead of hundreds. Values that are not arrays (dtypes, bools of
    dtypes) and JAX's own errors are taken while tracing."""
    exprs = [c.expr for c in CASES if dtype in c.dtypes and _x64(c, dtype) == x64]
    static = {}

    def every_case(arrays):
        ns = _jax_namespace(arrays)
        traced = {}
        for expr in exprs:
            try:
                value = eval(expr, ns)
            except Exception as e:  # noqa: BLE001 - reported by the case that asked
                static[expr] = e
                continue
            arrays_only = all(isinstance(v, jax.Array) for v in jax.tree.leaves(value))
            (traced if arrays_only else static)[expr] = value
        return traced

    with jax.enable_x64(x64):
        inputs = {k: jnp.asarray(v) for k, v in _inputs(dtype).items()}
        traced = jax.tree.map(np.asarray, jax.jit(every_case)(inputs))
    return {**static, **traced}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case, dtype", list(_params()))
def test_builtin_matches_jax_numpy(case, dtype):
    inputs = _inputs(dtype)
    needs_import = "special." in case.expr or "linalg." in case.expr
    source = ("import special\nimport linalg\n" if needs_import else "") + (
        f"def f({', '.join(inputs)}):\n    return {case.expr}\n"
    )
    got = jx.compile(source).f(*inputs.values())
    want = _jax_results(dtype, _x64(case, dtype))[case.expr]
    if isinstance(want, Exception):
        raise want
    _compare(got, want, dtype, case.rtol, case.expr)


def _names_in(expr: str) -> set:
    return set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", expr))


def test_every_builtin_has_a_case():
    covered = set().union(*(_names_in(c.expr) for c in CASES))
    dtype_names = {n for n, v in BUILTINS.items() if isinstance(v, np.dtype)}
    functions = {n for n, v in BUILTINS.items() if isinstance(v, Builtin) or n not in dtype_names}
    missing = sorted(functions - covered - NOT_JAX_NUMPY - dtype_names)
    assert not missing, f"built-ins without a case in the jax.numpy table: {missing}"
