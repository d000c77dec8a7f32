"""The linalg primitives: matrix decompositions, each in one block with all its rules.

Seven primitives (triangular_solve, cholesky, lu, qr, svd, eigh, pinv) each get a shape
rule, an array implementation over `xp.linalg` (over any leading batch dims; a
factorization that fails gives NaNs, as JAX does, instead of raising), a JVP rule from the
standard matrix-calculus formulas and a batching rule (batch dims go to the front). JVP
rules build tangents only from linear primitives (dot_general, masks, transposes and
triangular_solve, which is linear in its right-hand side and has a transpose rule), so
reverse mode, jacfwd, hessian and vmap work through every function built on them. The
language's module built on them is `linalg.py`.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .. import dtypes
from ..core import aval_of, bind
from ..dtypes import ShapedArray
from ..errors import ShapeError
from ..errors import TypeError as JxTypeError
from ..registry import primitive, undef
from .elementwise import add, compare, convert_element_type, div, mul, neg, sub
from .indexing import concatenate, static_slice
from .reductions import matmul
from .shapes import constant, expand_dims, full_like, iota, reduce_sum, to_front
from .shapes import matrix_transpose as mT

# ------------------------------------------------------------------ helpers


def _const(a: np.ndarray, dtype):
    return constant(np.asarray(a, dtype=dtype))


def _tri(x, k=0, lower=True):
    """The lower (or upper) triangle of x from diagonal k, by a constant mask (linear)."""
    a = aval_of(x)
    m, n = a.shape[-2:]
    mask = np.tri(m, n, k) if lower else 1 - np.tri(m, n, k - 1)
    return mul(x, _const(mask, a.dtype))


def eye(n, dtype):
    return _const(np.eye(n), dtype)


def diag(x):
    """The diagonal of a square matrix (stack): linear in x."""
    n = aval_of(x).shape[-1]
    return reduce_sum(mul(x, eye(n, aval_of(x).dtype)), (aval_of(x).ndim - 1,))


def _lower_symmetric(t):
    """The symmetric matrix that a routine reading only the lower triangle sees."""
    return add(_tri(t), mT(_tri(t, -1)))


def _scale(x, c):
    return mul(x, c)


def permutation_matrix(perm, dtype):
    n = aval_of(perm).shape[-1]
    hot = compare("eq", expand_dims(perm, -1), iota(dtypes.i32, (n,)))
    return convert_element_type(hot, dtype)


def _cols(shape, lo, hi):
    return [0] * (len(shape) - 1) + [lo], list(shape[:-1]) + [hi], [1] * len(shape)


def _rows(shape, lo, hi):
    starts, limits, strides = _cols(shape[:-1], lo, hi)
    return starts + [0], limits + [shape[-1]], strides + [1]


# ------------------------------------------------------------------ shared by every primitive


def _work(x):
    """x in a dtype LAPACK takes (f16 and bf16 are computed in f32)."""
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float32)


def _per_matrix(xp, fn, x, like):
    """fn over a batch; matrices it fails on give NaNs shaped like `like` (one matrix's
    outputs), as JAX returns NaNs instead of raising."""
    try:
        return fn(x)
    except xp.linalg.LinAlgError:
        batch = x.shape[:-2]
        outs = [xp.full(batch + o.shape, np.nan, o.dtype) for o in like]
        for idx in np.ndindex(*batch):
            try:
                res = fn(x[idx])
            except xp.linalg.LinAlgError:
                continue
            for o, r in zip(outs, res if isinstance(res, tuple) else (res,)):
                o[idx] = r
        return tuple(outs) if isinstance(like, tuple) and len(like) > 1 else outs[0]


def _like(xp, x, *shapes):
    return tuple(xp.zeros(s, x.dtype) for s in shapes)


def matrix_aval(name, x, square=False):
    if x.ndim < 2:
        raise ShapeError(f"linalg.{name} needs a matrix (or a stack of them), got shape {x.shape}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ShapeError(f"linalg.{name} needs square matrices, got shape {x.shape}")
    if not dtypes.is_float(x.dtype):
        raise JxTypeError(f"linalg.{name} needs float matrices, got {dtypes.short(x.dtype)}")
    return ShapedArray(x.shape, x.dtype, False)


def _batch_rule(prim, ax, args, dims, **params):
    """Every linalg primitive maps over leading dims: put the batch dim first."""
    args = [to_front(x, d, ax.size) for x, d in zip(args, dims)]
    out = bind(prim, *args, **params)
    return out, ([0] * len(out) if prim.multiple_results else 0)


def _define(name, abstract_eval, impl, multiple_results=False):
    """A linalg primitive with its implementation and the batching rule they share."""
    p = primitive(name, abstract_eval, impl, multiple_results)
    p.batch = partial(_batch_rule, p)
    return p


# ------------------------------------------------------------------ triangular_solve
# op(a) x = b (left_side) or x op(a) = b, op(a) = a or a.T, reading one triangle of a.
# Linear in b, so it has a transpose rule: the solve with op(a) transposed.


def _triangular_solve_rule(a, b, *, left_side, lower, transpose_a, unit_diagonal):
    matrix_aval("triangular_solve", a, square=True)
    matrix_aval("triangular_solve", b)
    n = a.shape[-1]
    if b.shape[:-2] != a.shape[:-2] or b.shape[-2 if left_side else -1] != n:
        raise ShapeError(
            f"linalg.triangular_solve: a matrix of shape {a.shape} and a "
            f"right-hand side of shape {b.shape} do not fit"
        )
    if a.dtype != b.dtype:
        raise JxTypeError("linalg.triangular_solve: operand dtypes differ")
    return [ShapedArray(b.shape, b.dtype, False)]


def _substitute(xp, m, b, lower, unit):
    """Solve m x = b for triangular m by substitution (inf/nan for a singular m)."""
    x = xp.zeros(np.broadcast_shapes(m.shape[:-2], b.shape[:-2]) + b.shape[-2:], b.dtype)
    n = m.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in range(n) if lower else reversed(range(n)):
            done = slice(0, i) if lower else slice(i + 1, n)
            r = b[..., i, :] - (m[..., i, None, done] @ x[..., done, :])[..., 0, :]
            x[..., i, :] = r if unit else r / m[..., i, i, None]
    return x


def _triangular_solve_impl(xp, a, b, *, left_side, lower, transpose_a, unit_diagonal):
    m, rhs = _work(a), _work(b)
    if not left_side:  # x op(a) = b  is  op(a)^T x^T = b^T
        rhs, transpose_a = xp.swapaxes(rhs, -1, -2), not transpose_a
    if transpose_a:
        m, lower = xp.swapaxes(m, -1, -2), not lower
    x = _substitute(xp, m, rhs, lower, unit_diagonal)
    return (x if left_side else xp.swapaxes(x, -1, -2)).astype(b.dtype)


triangular_solve_p = _define("triangular_solve", _triangular_solve_rule, _triangular_solve_impl)


def triangular_solve_bind(a, b, left_side=True, lower=True, transpose_a=False, unit=False):
    return bind(
        triangular_solve_p,
        a,
        b,
        left_side=left_side,
        lower=lower,
        transpose_a=transpose_a,
        unit_diagonal=unit,
    )


def _triangular_solve_jvp(ps, ts, *, left_side, lower, transpose_a, unit_diagonal):
    a, b = ps
    ta, tb = ts
    params = {
        "left_side": left_side,
        "lower": lower,
        "transpose_a": transpose_a,
        "unit_diagonal": unit_diagonal,
    }
    x = bind(triangular_solve_p, a, b, **params)
    out = None if tb is None else bind(triangular_solve_p, a, tb, **params)
    if ta is not None:
        # d(op(A)^-1 B) = -op(A)^-1 op(dA) X, reading only the triangle A's solve reads.
        strict = 1 if unit_diagonal else 0
        g = neg(_tri(ta, -strict if lower else strict, lower))
        g = mT(g) if transpose_a else g
        da = bind(triangular_solve_p, a, matmul(g, x) if left_side else matmul(x, g), **params)
        out = da if out is None else add(out, da)
    return x, out


def _triangular_solve_transpose(cts, a, b, *, left_side, lower, transpose_a, unit_diagonal):
    if undef(a):
        raise JxTypeError("triangular_solve is linear in its right-hand side only")
    return [
        None,
        bind(
            triangular_solve_p,
            a,
            cts[0],
            left_side=left_side,
            lower=lower,
            transpose_a=not transpose_a,
            unit_diagonal=unit_diagonal,
        ),
    ]


triangular_solve_p.jvp = _triangular_solve_jvp
triangular_solve_p.transpose = _triangular_solve_transpose


# ------------------------------------------------------------------ cholesky


def _cholesky_impl(xp, x):
    w = _work(x)
    n = x.shape[-1]
    return _per_matrix(xp, xp.linalg.cholesky, w, _like(xp, w, (n, n))).astype(x.dtype)


cholesky_p = _define(
    "cholesky", lambda x: [matrix_aval("cholesky", x, square=True)], _cholesky_impl
)


def _cholesky_jvp(ps, ts):
    (x,), (t,) = ps, ts
    chol = bind(cholesky_p, x)
    # Murray (2016): dL = L phi(L^-1 dA L^-T), phi = lower triangle with a halved diagonal.
    t = _lower_symmetric(t)
    right = triangular_solve_bind(chol, t, left_side=False, transpose_a=True)
    inner = triangular_solve_bind(chol, right)
    n = aval_of(x).shape[-1]
    phi = _const(np.tril(np.ones((n, n))) - 0.5 * np.eye(n), aval_of(x).dtype)
    return chol, matmul(chol, mul(inner, phi))


cholesky_p.jvp = _cholesky_jvp


# ------------------------------------------------------------------ lu
# P x = L U with partial pivoting, packed: (lu, pivots, permutation) as lax.linalg.lu.


def _lu_rule(x):
    out = matrix_aval("lu", x, square=True)
    index = ShapedArray(x.shape[:-1], dtypes.i32, False)
    return [out, index, index]


def _lu_impl(xp, x):
    """LU with partial pivoting (LAPACK getrf's choices): P x = L U, packed in one matrix."""
    *batch, n, _ = x.shape
    lu = _work(x).reshape(-1, n, n).copy()
    count = lu.shape[0]
    rows = xp.arange(count)
    pivots = xp.zeros((count, n), np.int32)
    perm = xp.tile(xp.arange(n, dtype=np.int32), (count, 1))
    for j in range(n):
        p = j + xp.argmax(xp.abs(lu[:, j:, j]), axis=1)
        pivots[:, j] = p
        # Fancy indexing copies, so these swap rows j and p of every matrix.
        lu[rows, j], lu[rows, p] = lu[rows, p], lu[rows, j]
        perm[rows, j], perm[rows, p] = perm[rows, p], perm[rows, j]
        pivot = lu[:, j, j]
        pivot = xp.where(pivot == 0, 1, pivot)  # a zero column stays zero (singular)
        lu[:, j + 1 :, j] /= pivot[:, None]
        lu[:, j + 1 :, j + 1 :] -= lu[:, j + 1 :, j, None] * lu[:, j, None, j + 1 :]
    shape = tuple(batch)
    return [
        lu.reshape(x.shape).astype(x.dtype),
        pivots.reshape(shape + (n,)),
        perm.reshape(shape + (n,)),
    ]


lu_p = _define("lu", _lu_rule, _lu_impl, multiple_results=True)


def _lu_jvp(ps, ts):
    (x,), (t,) = ps, ts
    lu, pivots, perm = bind(lu_p, x)
    dtype = aval_of(x).dtype
    n = aval_of(x).shape[-1]
    lower = add(_tri(lu, -1), eye(n, dtype))
    upper = _tri(lu, 0, lower=False)
    pt = matmul(permutation_matrix(perm, dtype), t)
    la = triangular_solve_bind(lower, pt, unit=True)
    lau = triangular_solve_bind(upper, la, left_side=False, lower=False)
    dlu = add(matmul(lower, _tri(lau, -1)), matmul(_tri(lau, 0, lower=False), upper))
    return [lu, pivots, perm], [dlu, None, None]


lu_p.jvp = _lu_jvp


# ------------------------------------------------------------------ qr


def _qr_rule(x, *, full_matrices):
    matrix_aval("qr", x)
    *batch, m, n = x.shape
    k = m if full_matrices else min(m, n)
    return [
        ShapedArray((*batch, m, k), x.dtype, False),
        ShapedArray((*batch, k, n), x.dtype, False),
    ]


def _qr_impl(xp, x, *, full_matrices):
    w = _work(x)
    q, r = xp.linalg.qr(w, mode="complete" if full_matrices else "reduced")
    return [q.astype(x.dtype), r.astype(x.dtype)]


qr_p = _define("qr", _qr_rule, _qr_impl, multiple_results=True)


def _square_qr_jvp(q, r, t):
    """dQ, dR for the reduced QR of a tall or square matrix (Walter and Lehmann)."""
    dx_rinv = triangular_solve_bind(r, t, left_side=False, lower=False)
    qt_dx_rinv = matmul(mT(q), dx_rinv)
    low = _tri(qt_dx_rinv, -1)
    skew = sub(low, mT(low))
    dq = add(matmul(q, sub(skew, qt_dx_rinv)), dx_rinv)
    dr = matmul(sub(qt_dx_rinv, skew), r)
    return dq, dr


def _complement_tangent(basis, d_basis, complement):
    """A tangent for columns that only span the orthogonal complement of `basis` (so any
    orthonormal choice is valid): the smallest rotation keeping the whole set orthonormal."""
    return neg(matmul(basis, matmul(mT(d_basis), complement)))


def _qr_jvp(ps, ts, *, full_matrices):
    (x,), (t,) = ps, ts
    q, r = bind(qr_p, x, full_matrices=full_matrices)
    m, n = aval_of(x).shape[-2:]
    k = min(m, n)
    if m >= n:
        q1 = static_slice(q, *_cols(aval_of(q).shape, 0, k))
        r1 = static_slice(r, *_rows(aval_of(r).shape, 0, k))
        dq, dr = _square_qr_jvp(q1, r1, t)
        if full_matrices and m > n:
            q2 = static_slice(q, *_cols(aval_of(q).shape, k, m))
            dq = concatenate([dq, _complement_tangent(q1, dq, q2)], -1)
            dr = concatenate(
                [dr, full_like(static_slice(r, *_rows(aval_of(r).shape, k, m)), 0)], -2
            )
        return [q, r], [dq, dr]
    # Wide: x = [x1 x2] with x1 square, x1 = Q R1 and R2 = Q^T x2.
    x2 = static_slice(x, *_cols(aval_of(x).shape, m, n))
    t1 = static_slice(t, *_cols(aval_of(t).shape, 0, m))
    t2 = static_slice(t, *_cols(aval_of(t).shape, m, n))
    r1 = static_slice(r, *_cols(aval_of(r).shape, 0, m))
    dq, dr1 = _square_qr_jvp(q, r1, t1)
    dr2 = add(matmul(mT(dq), x2), matmul(mT(q), t2))
    return [q, r], [dq, concatenate([dr1, dr2], -1)]


qr_p.jvp = _qr_jvp


# ------------------------------------------------------------------ svd
# Outputs (u, s, vt), or (s,) with compute_uv=False.


def _svd_rule(x, *, full_matrices, compute_uv):
    matrix_aval("svd", x)
    *batch, m, n = x.shape
    k = min(m, n)
    s = ShapedArray((*batch, k), x.dtype, False)
    if not compute_uv:
        return [s]
    um, vn = (m, n) if full_matrices else (k, k)
    return [
        ShapedArray((*batch, m, um), x.dtype, False),
        s,
        ShapedArray((*batch, vn, n), x.dtype, False),
    ]


def _svd_impl(xp, x, *, full_matrices, compute_uv):
    w = _work(x)
    m, n = x.shape[-2:]
    k = min(m, n)
    if not compute_uv:
        s = _per_matrix(xp, partial(xp.linalg.svd, compute_uv=False), w, _like(xp, w, (k,)))
        return [s.astype(x.dtype)]
    um, vn = (m, n) if full_matrices else (k, k)
    like = _like(xp, w, (m, um), (k,), (vn, n))
    outs = _per_matrix(xp, lambda a: tuple(xp.linalg.svd(a, full_matrices=full_matrices)), w, like)
    return [o.astype(x.dtype) for o in outs]


svd_p = _define("svd", _svd_rule, _svd_impl, multiple_results=True)


def _svd_jvp(ps, ts, *, full_matrices, compute_uv):
    (x,), (t,) = ps, ts
    m, n = aval_of(x).shape[-2:]
    k = min(m, n)
    outs = bind(svd_p, x, full_matrices=full_matrices and compute_uv, compute_uv=True)
    u_all, s, vt_all = outs
    u = static_slice(u_all, *_cols(aval_of(u_all).shape, 0, k))
    vt = static_slice(vt_all, *_rows(aval_of(vt_all).shape, 0, k))
    v = mT(vt)
    dav = matmul(t, v)
    ds_mat = matmul(mT(u), dav)
    ds = diag(ds_mat)
    if not compute_uv:
        return [s], [ds]
    dtype = aval_of(x).dtype
    row = expand_dims(s, -2)
    col = expand_dims(s, -1)
    ident = eye(k, dtype)
    # F[i, j] = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it.
    diffs = mul(add(row, col), sub(row, col))
    f = sub(div(1.0, add(diffs, ident)), ident)
    dss = _scale(ds_mat, row)
    sds = _scale(ds_mat, col)
    du = matmul(u, _scale(add(dss, mT(dss)), f))
    dv = matmul(v, _scale(add(sds, mT(sds)), f))
    if m > n:
        du = add(du, div(sub(dav, matmul(u, ds_mat)), row))
    if n > m:
        dau = matmul(mT(t), u)
        dv = add(dv, div(sub(dau, matmul(v, matmul(vt, dau))), row))
    if full_matrices and m > n:
        u2 = static_slice(u_all, *_cols(aval_of(u_all).shape, k, m))
        du = concatenate([du, _complement_tangent(u, du, u2)], -1)
    if full_matrices and n > m:
        v2 = mT(static_slice(vt_all, *_rows(aval_of(vt_all).shape, k, n)))
        dv = concatenate([dv, _complement_tangent(v, dv, v2)], -1)
    return outs, [du, ds, mT(dv)]


svd_p.jvp = _svd_jvp


# ------------------------------------------------------------------ eigh
# Outputs (w, v), eigenvalues ascending, reading the lower (or upper) triangle.


def _eigh_rule(x, *, lower):
    matrix_aval("eigh", x, square=True)
    return [ShapedArray(x.shape[:-1], x.dtype, False), ShapedArray(x.shape, x.dtype, False)]


def _eigh_impl(xp, x, *, lower):
    w = _work(x)
    n = x.shape[-1]
    outs = _per_matrix(
        xp,
        lambda a: tuple(xp.linalg.eigh(a, UPLO="L" if lower else "U")),
        w,
        _like(xp, w, (n,), (n, n)),
    )
    return [o.astype(x.dtype) for o in outs]


eigh_p = _define("eigh", _eigh_rule, _eigh_impl, multiple_results=True)


def _eigh_jvp(ps, ts, *, lower):
    (x,), (t,) = ps, ts
    w, v = bind(eigh_p, x, lower=lower)
    t = _lower_symmetric(t) if lower else mT(_lower_symmetric(mT(t)))
    n = aval_of(x).shape[-1]
    ident = eye(n, aval_of(x).dtype)
    # F[i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it.
    gaps = sub(expand_dims(w, -2), expand_dims(w, -1))
    f = sub(div(1.0, add(gaps, ident)), ident)
    vt_dx_v = matmul(mT(v), matmul(t, v))
    return [w, v], [diag(vt_dx_v), matmul(v, _scale(vt_dx_v, f))]


eigh_p.jvp = _eigh_jvp


# ------------------------------------------------------------------ pinv
# A primitive (not svd composed) so that its derivative is right at repeated singular
# values, where the SVD's is not.


def _pinv_rule(x, *, rtol):
    matrix_aval("pinv", x)
    return [ShapedArray(x.shape[:-2] + (x.shape[-1], x.shape[-2]), x.dtype, False)]


def _pinv_impl(xp, x, *, rtol):
    w = _work(x)
    u, s, vt = _svd_impl(xp, w, full_matrices=False, compute_uv=True)
    cutoff = rtol * xp.max(s, axis=-1, keepdims=True, initial=0)
    with np.errstate(divide="ignore"):
        s_inv = xp.where(s > cutoff, 1 / xp.where(s > cutoff, s, 1), 0)
    out = xp.swapaxes(vt, -1, -2) @ (s_inv[..., None] * xp.swapaxes(u, -1, -2))
    return out.astype(x.dtype)


pinv_p = _define("pinv", _pinv_rule, _pinv_impl)


def _pinv_jvp(ps, ts, *, rtol):
    (x,), (t,) = ps, ts
    p = bind(pinv_p, x, rtol=rtol)
    m, n = aval_of(x).shape[-2:]
    dtype = aval_of(x).dtype
    # Golub and Pereyra (1973), exact where the rank does not change.
    first = neg(matmul(p, matmul(t, p)))
    left = sub(eye(n, dtype), matmul(p, x))
    second = matmul(left, matmul(mT(t), matmul(mT(p), p)))
    right = sub(eye(m, dtype), matmul(x, p))
    third = matmul(matmul(p, mT(p)), matmul(mT(t), right))
    return p, add(first, add(second, third))


pinv_p.jvp = _pinv_jvp
