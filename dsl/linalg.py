"""NumPy's linear algebra, differentiable and batchable: the `linalg` module.

cholesky, qr, svd, eigh, pinv and triangular_solve wrap primitives of the same names
(`primitives/linalg.py`, with all their rules); solve, inv, det and slogdet are
composed from the `lu` primitive and triangular solves, lstsq from pinv, and norm from
reductions and singular values, so grad, jacfwd, hessian and vmap work through all of
them. Every function takes stacks of matrices (leading batch dims), as NumPy does.
"""

from __future__ import annotations

import math

import numpy as np

from . import dtypes, ops
from .core import aval_of, bind, describe
from .errors import ShapeError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .modules import NATIVE
from .primitives.linalg import (
    cholesky_p,
    diag,
    eigh_p,
    eye,
    lu_p,
    matrix_aval,
    mT,
    permutation_matrix,
    pinv_p,
    qr_p,
    svd_p,
    triangular_solve_bind,
)
from .values import Builtin, Module


def _matrix(a, name, square=False):
    a = ops.inexact(a)
    matrix_aval(name, aval_of(a), square)
    return ops.convert(a, aval_of(a).dtype)  # a strong array


def _flags(name, **flags) -> None:
    """Refuse anything but a bool (or an int) where linalg.`name` takes a flag."""
    for flag, value in flags.items():
        if not isinstance(value, (bool, int)):
            raise JxTypeError(f"linalg.{name}: {flag} must be True or False, got {describe(value)}")


def _promote(a, b):
    dtype, _ = dtypes.promote_many([aval_of(a), aval_of(b)])
    return ops.convert(a, dtype), ops.convert(b, dtype)


def _symmetrize(a):
    return ops.binary("mul", ops.binary("add", a, mT(a)), 0.5)


def _perm_sign(pivots, dtype):
    n = aval_of(pivots).shape[-1]
    swaps = ops.reduce("reduce_sum", ops.compare("ne", pivots, ops.iota(dtypes.i32, (n,))), -1)
    odd = ops.convert(ops.binary("rem", swaps, 2), dtype)
    return ops.binary("sub", 1.0, ops.binary("mul", odd, 2.0))


def cholesky(a, upper=False):
    """Cholesky factor of a symmetric positive-definite matrix: lower L with a = L @ L.T
    (upper=True gives L.T). Reads (a + a.T) / 2; NaNs where a is not positive definite."""
    _flags("cholesky", upper=upper)
    chol = bind(cholesky_p, _symmetrize(_matrix(a, "cholesky", square=True)))
    return mT(chol) if upper else chol


def solve(a, b):
    """x with a @ x == b for square a (LU with partial pivoting). A 1-d b is one vector;
    otherwise b is a (stack of) matrix with columns as right-hand sides, as in NumPy 2."""
    a, b = _promote(_matrix(a, "solve", square=True), ops.inexact(b))
    n = aval_of(a).shape[-1]
    vector = aval_of(b).ndim == 1
    if vector:
        b = ops.expand_dims(b, -1)
    if aval_of(b).ndim < 2 or aval_of(b).shape[-2] != n:
        raise ShapeError(
            f"linalg.solve: a of shape {aval_of(a).shape} and b of shape "
            f"{aval_of(b).shape} do not fit"
        )
    lu, _, perm = bind(lu_p, a)
    batch = ops.broadcast_shapes(aval_of(a).shape[:-2], aval_of(b).shape[:-2])
    lu = ops.broadcast_to(lu, batch + (n, n))
    pb = ops.matmul(
        ops.broadcast_to(permutation_matrix(perm, aval_of(a).dtype), batch + (n, n)),
        ops.broadcast_to(b, batch + aval_of(b).shape[-2:]),
    )
    x = triangular_solve_bind(lu, triangular_solve_bind(lu, pb, unit=True), lower=False)
    return ops.squeeze(x, -1) if vector else x


def inv(a):
    """The inverse of a square matrix (or of each in a stack)."""
    a = _matrix(a, "inv", square=True)
    return solve(a, ops.broadcast_to(eye(aval_of(a).shape[-1], aval_of(a).dtype), aval_of(a).shape))


def det(a):
    """The determinant of a square matrix, from its LU factorization."""
    a = _matrix(a, "det", square=True)
    lu, pivots, _ = bind(lu_p, a)
    product = ops.reduce("reduce_prod", diag(lu), -1)
    return ops.binary("mul", _perm_sign(pivots, aval_of(a).dtype), product)


def slogdet(a):
    """(sign, logabsdet) of a square matrix: det = sign * exp(logabsdet), without overflow;
    (0, -inf) for a singular matrix."""
    a = _matrix(a, "slogdet", square=True)
    lu, pivots, _ = bind(lu_p, a)
    d = diag(lu)
    signs = ops.reduce("reduce_prod", ops.unary("sign", d), -1)
    sign = ops.binary("mul", _perm_sign(pivots, aval_of(a).dtype), signs)
    return sign, ops.reduce("reduce_sum", ops.unary("log", ops.unary("abs", d)), -1)


def triangular_solve(a, b, left_side=False, lower=False, transpose_a=False, unit_diagonal=False):
    """Solve op(a) @ x == b (left_side) or x @ op(a) == b with triangular a, op(a) = a.T if
    transpose_a; only a's lower (or upper) triangle is read. As lax.linalg.triangular_solve;
    a 1-d b is one vector."""
    _flags(
        "triangular_solve",
        left_side=left_side,
        lower=lower,
        transpose_a=transpose_a,
        unit_diagonal=unit_diagonal,
    )
    a, b = _promote(_matrix(a, "triangular_solve", square=True), ops.inexact(b))
    vector = aval_of(b).ndim == 1
    if vector:
        b = ops.expand_dims(b, -1 if left_side else 0)
    batch = ops.broadcast_shapes(aval_of(a).shape[:-2], aval_of(b).shape[:-2])
    a = ops.broadcast_to(a, batch + aval_of(a).shape[-2:])
    b = ops.broadcast_to(b, batch + aval_of(b).shape[-2:])
    x = triangular_solve_bind(a, b, left_side, lower, transpose_a, unit_diagonal)
    return ops.squeeze(x, -1 if left_side else -2) if vector else x


def qr(a, mode="reduced"):
    """QR factorization (q, r) with orthonormal columns in q and upper-triangular r;
    mode "reduced" (k = min(m, n) columns), "complete" (q is m x m) or "r" (r only)."""
    if not isinstance(mode, str) or mode not in ("reduced", "complete", "r"):
        got = repr(mode) if isinstance(mode, str) else describe(mode)
        raise JxValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {got}")
    q, r = bind(qr_p, _matrix(a, "qr"), full_matrices=mode == "complete")
    return r if mode == "r" else (q, r)


def svd(a, full_matrices=True, compute_uv=True):
    """Singular value decomposition (u, s, vt) with a = u[:, :k] @ diag(s) @ vt[:k], s
    descending; s alone when compute_uv=False. With full_matrices the extra columns of u
    (or rows of vt) are any orthonormal completion, differentiated by the least rotation."""
    _flags("svd", full_matrices=full_matrices, compute_uv=compute_uv)
    outs = bind(svd_p, _matrix(a, "svd"), full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(outs) if compute_uv else outs[0]


def eigh(a, UPLO="L", symmetrize_input=True):
    """Eigenvalues (ascending) and eigenvectors (w, v) of a symmetric matrix: a @ v = v * w.
    Reads (a + a.T) / 2, or only the UPLO triangle when symmetrize_input=False."""
    if not isinstance(UPLO, str) or UPLO not in ("L", "U"):
        got = repr(UPLO) if isinstance(UPLO, str) else describe(UPLO)
        raise JxValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {got}")
    _flags("eigh", symmetrize_input=symmetrize_input)
    a = _matrix(a, "eigh", square=True)
    w, v = bind(eigh_p, _symmetrize(a) if symmetrize_input else a, lower=UPLO == "L")
    return w, v


def eigvalsh(a, UPLO="L"):
    """Eigenvalues (ascending) of a symmetric matrix."""
    return eigh(a, UPLO)[0]


def _default_rtol(a, factor):
    m, n = aval_of(a).shape[-2:]
    return factor * max(m, n) * float(np.finfo(aval_of(a).dtype).eps)


def pinv(a, rtol=None):
    """Moore-Penrose pseudo-inverse, from the SVD; singular values below rtol * max(s) count
    as zero (default rtol 10 * max(m, n) * eps, as JAX)."""
    a = _matrix(a, "pinv")
    return bind(pinv_p, a, rtol=float(_default_rtol(a, 10) if rtol is None else rtol))


def lstsq(a, b, rcond=None):
    """Least-squares solution of a @ x ~= b: (x, residuals, rank, s) as jnp.linalg.lstsq
    (residuals are always the squared column norms of b - a @ x)."""
    a, b = _promote(_matrix(a, "lstsq"), ops.inexact(b))
    if aval_of(a).ndim != 2 or aval_of(b).ndim not in (1, 2):
        raise ShapeError("linalg.lstsq needs a 2-d a and a 1-d or 2-d b")
    if aval_of(b).shape[0] != aval_of(a).shape[0]:
        raise ShapeError(
            f"linalg.lstsq: a of shape {aval_of(a).shape} and b of shape "
            f"{aval_of(b).shape} do not fit"
        )
    rcond = float(_default_rtol(a, 1) if rcond is None else rcond)
    x = ops.matmul(bind(pinv_p, a, rtol=rcond), b)
    r = ops.binary("sub", b, ops.matmul(a, x))
    resid = ops.reduce("reduce_sum", ops.binary("mul", r, r), 0, keepdims=aval_of(b).ndim == 1)
    (s,) = bind(svd_p, a, full_matrices=False, compute_uv=False)
    big = ops.compare("gt", s, ops.binary("mul", ops.reduce("reduce_max", s), rcond))
    rank = ops.reduce("reduce_sum", big)
    return x, resid, rank, s


def _vector_norm(x, ord, axis):
    ax = ops.unary("abs", x)
    if ord is None or ord == 2:
        return _sqrt_of_sum(ops.reduce("reduce_sum", ops.binary("mul", x, x), axis, True))
    if ord == math.inf:
        return ops.reduce("reduce_max", ax, axis, True)
    if ord == -math.inf:
        return ops.reduce("reduce_min", ax, axis, True)
    if ord == 0:
        nonzero = ops.convert(ops.compare("ne", x, 0.0), aval_of(x).dtype)
        return ops.reduce("reduce_sum", nonzero, axis, True)
    if ord == 1:
        return ops.reduce("reduce_sum", ax, axis, True)
    p = float(ord)
    return ops.power(ops.reduce("reduce_sum", ops.power(ax, p), axis, True), 1.0 / p)


def _matrix_norm(x, ord, axes):
    row, col = axes
    ax = ops.unary("abs", x)
    if ord in (None, "fro", "f"):
        return _sqrt_of_sum(ops.reduce("reduce_sum", ops.binary("mul", x, x), axes, True))
    if ord in (1, -1, math.inf, -math.inf):
        summed, picked = (row, col) if ord in (1, -1) else (col, row)
        sums = ops.reduce("reduce_sum", ax, summed, True)
        return ops.reduce("reduce_max" if ord > 0 else "reduce_min", sums, picked, True)
    if ord in (2, -2, "nuc"):
        nd = aval_of(x).ndim
        rest = tuple(i for i in range(nd) if i not in axes)
        (s,) = bind(
            svd_p, ops.transpose(x, rest + (row, col)), full_matrices=False, compute_uv=False
        )
        how = {2: "reduce_max", -2: "reduce_min", "nuc": "reduce_sum"}[ord]
        return ops.expand_dims(ops.reduce(how, s, -1), tuple(sorted(axes)))
    raise JxValueError(f"linalg.norm: invalid order {ord!r} for matrices")


def _sqrt_of_sum(s):
    """sqrt(s) of a sum of squares, with gradient 0 where s is 0 (the subgradient JAX users
    reach for with a double where; here the NaN-safe where gives it directly)."""
    positive = ops.compare("gt", s, 0)
    return ops.where(positive, ops.unary("sqrt", s), ops.full_like(s, 0))


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm as numpy.linalg.norm: vector orders inf, -inf, 0, 1, 2 and any
    p; matrix orders "fro", "nuc", 1, -1, 2, -2, inf, -inf (axis a pair, or a 2-d x)."""
    x = ops.inexact(x)
    nd = aval_of(x).ndim
    if ord is not None and not isinstance(ord, (int, float, str)):
        raise JxTypeError(
            f"linalg.norm: ord must be a static number or string, got {describe(ord)}"
        )
    if isinstance(ord, str) and ord not in ("fro", "f", "nuc"):
        raise JxValueError(f"linalg.norm: invalid order {ord!r}")
    if axis is None:
        if ord is None:
            flat = ops.reshape(x, (-1,))
            out = _sqrt_of_sum(ops.reduce("reduce_sum", ops.binary("mul", flat, flat)))
            return ops.reshape(out, (1,) * nd) if keepdims else out
        if nd not in (1, 2):
            raise JxValueError("linalg.norm: give axis for an order of a >2-d array")
        axis = tuple(range(nd))
    axes = ops.normalize_axes(axis, nd)
    if len(axes) == 1 and not isinstance(ord, str):
        out = _vector_norm(x, ord, axes[0])
    elif len(axes) == 2:
        out = _matrix_norm(x, ord, axes)
    else:
        raise JxValueError(f"linalg.norm: invalid order {ord!r} for axis {axis!r}")
    return out if keepdims else ops.squeeze(out, axes)


def build_module() -> Module:
    fns = [
        cholesky,
        det,
        eigh,
        eigvalsh,
        inv,
        lstsq,
        norm,
        pinv,
        qr,
        slogdet,
        solve,
        svd,
        triangular_solve,
    ]
    return Module("linalg", {f.__name__: Builtin(f.__name__, f) for f in fns})


NATIVE["linalg"] = build_module
