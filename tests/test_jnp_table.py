"""Every numeric built-in against `jax.numpy` over every jx dtype: the result's dtype and
values, in a traced function. JAX runs with x64 on when the input is 64-bit and off
otherwise — jx's rule: 32-bit defaults, and 64-bit values never narrowed. A case JAX
rejects (say `nextafter` of ints) is skipped; one where jx alone fails is a failure.
"""

import jx
import numpy as np
import pytest
from jx import dtypes as jx_dtypes

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

# jx's dtypes by their short names, from jx's own table
DTYPES = {jx_dtypes.short(d): d for d in dict.fromkeys(jx_dtypes.BY_NAME.values())}
TOLERANCE = {"f16": 2e-3, "bf16": 2e-2, "f32": 2e-6, "f64": 1e-13}

UNARY = [
    "abs",
    "absolute",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctanh",
    "cbrt",
    "ceil",
    "cos",
    "cosh",
    "exp",
    "exp2",
    "expm1",
    "floor",
    "isfinite",
    "isinf",
    "isnan",
    "log",
    "log10",
    "log1p",
    "log2",
    "logical_not",
    "negative",
    "reciprocal",
    "round",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "tan",
    "tanh",
]
BINARY = [
    "arctan2",
    "logaddexp",
    "logical_and",
    "logical_or",
    "logical_xor",
    "maximum",
    "minimum",
    "power",
    "nextafter",
]
REDUCTIONS = [
    "sum",
    "prod",
    "max",
    "min",
    "amax",
    "amin",
    "all",
    "any",
    "mean",
    "var",
    "std",
    "argmax",
    "argmin",
    "cumsum",
    "cumprod",
    "sort",
    "argsort",
]
PRODUCTS = ["dot", "matmul", "vdot", "inner", "outer"]
CASES = [(n, 1) for n in UNARY + REDUCTIONS] + [(n, 2) for n in BINARY + PRODUCTS]
#: jx's documented differences (docs/language.md, section 2.1).
DIFFERENT = {
    **{(n, "f64"): "indices into an f64 array are i32" for n in ("argmax", "argmin", "argsort")},
    **{(n, "bool"): "a product of bools is an i32 count" for n in PRODUCTS if n != "outer"},
}


def _values(name: str, dtype):
    kind = np.dtype(dtype).kind
    if kind == "b":
        return np.array([True, False, True], dtype)
    if kind in "iu":
        return np.array([1, 2, 3], dtype)
    return np.array([0.25, 0.5, 1.5], dtype)


def _tolerance(dtype_name: str, out_dtype) -> float:
    name = {np.dtype(v): k for k, v in DTYPES.items()}.get(np.dtype(out_dtype), dtype_name)
    return max(TOLERANCE.get(name, 0), TOLERANCE.get(dtype_name, 0))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize(("name", "arity"), CASES, ids=[n for n, _ in CASES])
def test_builtin_matches_jax_numpy(name, arity, dtype_name, request):
    if (name, dtype_name) in DIFFERENT:
        request.applymarker(pytest.mark.xfail(strict=True, reason=DIFFERENT[name, dtype_name]))
    dtype = DTYPES[dtype_name]
    args = [_values(name, dtype), _values(name, dtype)[::-1].copy()][:arity]
    with jax.enable_x64(np.dtype(dtype).itemsize == 8):
        try:
            want = np.asarray(getattr(jnp, name)(*[jnp.asarray(a) for a in args]))
        except (TypeError, ValueError) as e:
            pytest.skip(f"jax.numpy rejects {name}({dtype_name}): {e}")
    params = ", ".join(f"a{i}" for i in range(arity))
    out = jx.fn(f"lambda {params}: {name}({params})")(*args)
    assert out.dtype == want.dtype, f"{name}({dtype_name}): {out.dtype}, JAX {want.dtype}"
    assert out.shape == want.shape
    tol = _tolerance(dtype_name, want.dtype)
    np.testing.assert_allclose(
        out.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol, equal_nan=True
    )
