"""The linalg module: every function against NumPy (values, stacks, dtypes, failure cases),
its gradient against central finite differences in f64 (reverse and forward mode, for
decompositions through functions that do not depend on their sign or basis choices),
vmap over a batch of matrices against a loop, and higher-order derivatives."""

import jx
import numpy as np
import pytest

RNG = np.random.default_rng(0)
A = RNG.normal(size=(4, 4))
SPD = A @ A.T + 4 * np.eye(4)
TALL = RNG.normal(size=(5, 3))
WIDE = TALL.T.copy()
B_VEC = RNG.normal(size=4)
B_MAT = RNG.normal(size=(4, 2))
B_TALL = RNG.normal(size=(5, 2))
LOWER = np.tril(RNG.normal(size=(4, 4))) + 3 * np.eye(4)
UPPER = LOWER.T.copy()
ENV = {"A0": A, "B": B_VEC, "BM": B_MAT, "BT": B_TALL, "L0": LOWER}

HELPERS = """
import linalg

def cat(x, y) = concatenate((ravel(x), ravel(y)))
def sv(a) = linalg.svd(a, full_matrices=False)
def svd_mix(a):
    u, s, vt = sv(a)
    return (u * sin(s)) @ vt
def svd_full_u(a):
    u, s, vt = linalg.svd(a)
    k = s.shape[0]
    return cat(u[:, :k] * sign(u[0, :k]) , u[:, k:] @ u[:, k:].T)
def svd_full_vt(a):
    u, s, vt = linalg.svd(a)
    k = s.shape[0]
    return cat(vt[:k] * sign(vt[:k, 0])[:, None], vt[k:].T @ vt[k:])
def eigh_mix(a):
    w, v = linalg.eigh(a)
    return cat(w, (v * sin(w)) @ v.T)
def qr_both(a):
    q, r = linalg.qr(a)
    return cat(q, r)
def qr_complete(a):
    q, r = linalg.qr(a, mode="complete")
    k = a.shape[1]  # tall a
    return cat(cat(q[:, :k], r), q[:, k:] @ q[:, k:].T)
def lstsq_both(a) = cat(linalg.lstsq(a, BT)[0], linalg.lstsq(a, BT)[1])
"""

# (name, jx expression of `a`, input): each is differentiated with respect to `a`.
GRAD_CASES = [
    ("det", "linalg.det(a)", A),
    ("slogdet", "linalg.slogdet(a)[1]", A),
    ("inv", "linalg.inv(a)", A),
    ("solve_a_vector", "linalg.solve(a, B)", A),
    ("solve_a_matrix", "linalg.solve(a, BM)", A),
    ("solve_b", "linalg.solve(A0, a)", B_MAT),
    ("cholesky", "linalg.cholesky(a)", SPD),
    ("cholesky_upper", "linalg.cholesky(a, upper=True)", SPD),
    ("qr_square", "qr_both(a)", A),
    ("qr_tall", "qr_both(a)", TALL),
    ("qr_wide", "qr_both(a)", WIDE),
    ("qr_complete_tall", "qr_complete(a)", TALL),
    ("qr_r", 'linalg.qr(a, mode="r")', TALL),
    ("svd_values", "linalg.svd(a, compute_uv=False)", TALL),
    ("svd_square", "svd_mix(a)", A),
    ("svd_tall", "svd_mix(a)", TALL),
    ("svd_wide", "svd_mix(a)", WIDE),
    ("svd_full_tall", "svd_full_u(a)", TALL),
    ("svd_full_wide", "svd_full_vt(a)", WIDE),
    ("eigh", "eigh_mix(a)", SPD),
    ("eigvalsh", "linalg.eigvalsh(a)", A),
    ("pinv_tall", "linalg.pinv(a)", TALL),
    ("pinv_wide", "linalg.pinv(a)", WIDE),
    ("pinv_square", "linalg.pinv(a)", A),
    ("lstsq", "lstsq_both(a)", TALL),
    ("norm_vector_2", "linalg.norm(a)", B_VEC),
    ("norm_vector_1", "linalg.norm(a, 1)", B_VEC),
    ("norm_vector_inf", "linalg.norm(a, inf)", B_VEC),
    ("norm_vector_-inf", "linalg.norm(a, -inf)", B_VEC),
    ("norm_vector_3", "linalg.norm(a, 3)", B_VEC),
    ("norm_fro", 'linalg.norm(a, "fro")', TALL),
    ("norm_nuc", 'linalg.norm(a, "nuc")', TALL),
    ("norm_2", "linalg.norm(a, 2)", TALL),
    ("norm_-2", "linalg.norm(a, -2)", TALL),
    ("norm_1", "linalg.norm(a, 1)", TALL),
    ("norm_inf", "linalg.norm(a, inf)", TALL),
    ("norm_axis", "linalg.norm(a, axis=0)", TALL),
]
for _left in (True, False):
    for _lower in (True, False):
        for _trans in (True, False):
            for _unit in (True, False):
                _flags = (
                    f"left_side={_left}, lower={_lower}, transpose_a={_trans}, "
                    f"unit_diagonal={_unit}"
                )
                _name = f"triangular_solve_{int(_left)}{int(_lower)}{int(_trans)}{int(_unit)}"
                _rhs = "BM" if _left else "BM.T"
                GRAD_CASES.append(
                    (
                        _name + "_a",
                        f"linalg.triangular_solve(a, {_rhs}, {_flags})",
                        LOWER if _lower else UPPER,
                    )
                )
                _mat = "L0" if _lower else "L0.T"
                GRAD_CASES.append(
                    (
                        _name + "_b",
                        f"linalg.triangular_solve({_mat}, a, {_flags})",
                        B_MAT if _left else B_MAT.T,
                    )
                )


def numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        d = np.zeros_like(x)
        d.flat[i] = eps
        g.flat[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


def _loss(expr):
    return jx.compile(
        HELPERS + f"def out(a) = {expr}\ndef loss(a, w) = sum(({expr}) * w)\n", env=ENV
    )


@pytest.mark.parametrize("name,expr,x", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradient_matches_finite_differences(name, expr, x):
    m = _loss(expr)
    w = np.random.default_rng(1).normal(size=np.shape(m.out(x)))
    expected = numeric_grad(lambda v: float(m.loss(v, w)), x)
    got = np.asarray(jx.grad(m.loss)(x, w))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    forward = np.asarray(jx.jacfwd(m.loss)(x, w))
    np.testing.assert_allclose(forward, expected, rtol=1e-5, atol=1e-6)


VALUES = jx.compile(
    """
import linalg
def det(a) = linalg.det(a)
def slogdet(a) = linalg.slogdet(a)
def inv(a) = linalg.inv(a)
def solve(a, b) = linalg.solve(a, b)
def cholesky(a) = linalg.cholesky(a)
def qr(a) = linalg.qr(a)
def qr_complete(a) = linalg.qr(a, mode="complete")
def svd(a) = linalg.svd(a)
def svd_reduced(a) = linalg.svd(a, full_matrices=False)
def svd_values(a) = linalg.svd(a, compute_uv=False)
def eigh(a) = linalg.eigh(a)
def eigvalsh(a) = linalg.eigvalsh(a)
def pinv(a) = linalg.pinv(a)
def lstsq(a, b) = linalg.lstsq(a, b)
def norm(x) = linalg.norm(x)
def lower_solve(a, b) = linalg.triangular_solve(a, b, left_side=True, lower=True)
"""
)

# (function, NumPy reference, inputs): plain matrices and stacks of them.
STACK = RNG.normal(size=(3, 2, 4, 4))
SPD_STACK = STACK @ np.swapaxes(STACK, -1, -2) + 4 * np.eye(4)
TALL_STACK = RNG.normal(size=(3, 5, 3))
VALUE_CASES = [
    ("det", np.linalg.det, (A,)),
    ("det", np.linalg.det, (STACK,)),
    ("slogdet", np.linalg.slogdet, (A,)),
    ("slogdet", np.linalg.slogdet, (STACK,)),
    ("inv", np.linalg.inv, (A,)),
    ("inv", np.linalg.inv, (STACK,)),
    ("solve", np.linalg.solve, (A, B_VEC)),
    ("solve", np.linalg.solve, (A, B_MAT)),
    ("solve", np.linalg.solve, (STACK, B_VEC)),
    ("solve", np.linalg.solve, (STACK, RNG.normal(size=(2, 4, 3)))),
    ("cholesky", np.linalg.cholesky, (SPD,)),
    ("cholesky", np.linalg.cholesky, (SPD_STACK,)),
    ("qr", np.linalg.qr, (TALL,)),
    ("qr", np.linalg.qr, (WIDE,)),
    ("qr", np.linalg.qr, (TALL_STACK,)),
    ("qr_complete", lambda a: np.linalg.qr(a, mode="complete"), (TALL,)),
    ("svd", np.linalg.svd, (TALL,)),
    ("svd", np.linalg.svd, (WIDE,)),
    ("svd", np.linalg.svd, (TALL_STACK,)),
    ("svd_reduced", lambda a: np.linalg.svd(a, full_matrices=False), (TALL,)),
    ("svd_values", lambda a: np.linalg.svd(a, compute_uv=False), (WIDE,)),
    ("eigh", np.linalg.eigh, (SPD,)),
    ("eigh", np.linalg.eigh, (SPD_STACK,)),
    ("eigvalsh", np.linalg.eigvalsh, (SPD,)),
    ("pinv", np.linalg.pinv, (TALL,)),
    ("pinv", np.linalg.pinv, (TALL_STACK,)),
    ("lstsq", lambda a, b: np.linalg.lstsq(a, b), (TALL, B_TALL)),
    ("lstsq", lambda a, b: np.linalg.lstsq(a, b), (TALL, B_TALL[:, 0])),
    ("norm", np.linalg.norm, (STACK,)),
    ("lower_solve", lambda a, b: np.linalg.solve(a, b), (LOWER, B_MAT)),
    ("lower_solve", lambda a, b: np.linalg.solve(a, b[:, None])[:, 0], (LOWER, B_VEC)),
]


@pytest.mark.parametrize("name,reference,args", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_values_match_numpy(name, reference, args):
    got = getattr(VALUES, name)(*args)
    expected = reference(*args)
    if not isinstance(expected, tuple):
        got, expected = (got,), (expected,)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_results_keep_the_float_dtype(dtype):
    a = SPD.astype(dtype)
    outs = [
        VALUES.det(a),
        VALUES.inv(a),
        VALUES.cholesky(a),
        *VALUES.qr(a),
        *VALUES.svd(a),
        *VALUES.eigh(a),
        VALUES.pinv(a),
        *VALUES.slogdet(a),
    ]
    assert [np.asarray(o).dtype for o in outs] == [dtype] * len(outs)
    tol = {np.float16: 1e-2, np.float32: 1e-5, np.float64: 1e-12}[dtype]
    np.testing.assert_allclose(VALUES.inv(a).astype(np.float64) @ SPD, np.eye(4), atol=tol * 10)


def test_integer_matrices_are_float32():
    out = VALUES.det(np.array([[2, 1], [1, 3]], np.int32))
    assert out.dtype == np.float32 and np.isclose(out, 5.0)


def test_singular_and_indefinite_matrices():
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert VALUES.det(singular) == 0.0
    sign, logdet = VALUES.slogdet(singular)
    assert sign == 0.0 and logdet == -np.inf
    # Not positive definite: NaNs (as JAX), not an exception; only that matrix in a stack.
    out = VALUES.cholesky(np.stack([np.eye(2), -np.eye(2)]))
    np.testing.assert_array_equal(out[0], np.eye(2))
    assert np.isnan(out[1]).all()
    sign, _ = VALUES.slogdet(np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert sign == -1.0
    assert not np.isfinite(VALUES.lower_solve(np.zeros((2, 2)), np.ones(2))).any()


def test_vmap_over_a_batch_matches_a_loop():
    m = jx.compile(
        """
import linalg
def many(a):
    spd = a @ a.T + 4.0 * eye(4)
    u, s, vt = linalg.svd(a)
    q, r = linalg.qr(a)
    w, v = linalg.eigh(spd)
    return (linalg.det(a), linalg.slogdet(a), linalg.inv(a), linalg.solve(a, B),
            linalg.cholesky(spd), abs(u), s, q, r, w, linalg.pinv(a), linalg.norm(a, 2),
            linalg.triangular_solve(spd, B, left_side=True, lower=True))
def loss(a) = linalg.slogdet(a)[1] + sum(linalg.inv(a)) + linalg.norm(a, "nuc")
""",
        env={"B": B_VEC},
    )
    batch = RNG.normal(size=(6, 4, 4))
    batched = jx.vmap(m.many)(batch)
    for i in range(len(batch)):
        one = m.many(batch[i])
        for b, o in zip(_leaves(batched), _leaves(one)):
            np.testing.assert_allclose(np.asarray(b)[i], o, rtol=1e-9, atol=1e-10)
    grads = jx.vmap(jx.grad(m.loss))(batch)
    for i in range(len(batch)):
        np.testing.assert_allclose(grads[i], jx.grad(m.loss)(batch[i]), rtol=1e-9)
        np.testing.assert_allclose(grads[i], numeric_grad(m.loss, batch[i]), rtol=1e-5)


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _leaves(t)]
    return [np.asarray(tree)]


def test_vmap_with_an_unbatched_operand():
    m = jx.compile("import linalg\ndef f(a, b) = linalg.solve(a, b)")
    bs = RNG.normal(size=(5, 4))
    out = jx.vmap(m.f, in_axes=(None, 0))(A, bs)
    np.testing.assert_allclose(out, np.linalg.solve(A, bs.T).T, rtol=1e-10)
    out = jx.vmap(m.f, in_axes=(0, None))(STACK[0], B_VEC)
    np.testing.assert_allclose(out, np.linalg.solve(STACK[0], B_VEC), rtol=1e-10)


def test_hessian_of_logdet():
    m = jx.compile("import linalg\ndef logdet(a) = linalg.slogdet(a)[1]")
    h = np.asarray(jx.hessian(m.logdet)(SPD))
    inv = np.linalg.inv(SPD)
    # d^2 log det / dA_ij dA_kl = -inv[l, i] * inv[j, k]
    np.testing.assert_allclose(h, -np.einsum("li,jk->ijkl", inv, inv), rtol=1e-8, atol=1e-12)


def test_grad_of_logdet_is_inverse_transpose_under_jit():
    m = jx.compile(
        "import linalg\ndef logdet(a) = linalg.slogdet(a)[1]\ndef g(a) = jit(grad(logdet))(a)"
    )
    np.testing.assert_allclose(m.g(A), np.linalg.inv(A).T, rtol=1e-10)


def test_second_derivatives_through_decompositions():
    m = jx.compile(
        "import linalg\ndef f(a) = sum(linalg.cholesky(a)) + "
        'linalg.norm(a, "nuc") + sum(linalg.eigvalsh(a) ** 3)'
    )
    h = np.asarray(jx.hessian(m.f)(SPD)).reshape(16, 16)
    g = jx.grad(m.f)
    expected = _numeric_jacobian(lambda v: np.asarray(g(v)), SPD)
    np.testing.assert_allclose(h, expected, rtol=1e-5, atol=1e-6)


def _numeric_jacobian(f, x, eps=1e-6):
    cols = []
    for i in range(x.size):
        d = np.zeros_like(x)
        d.flat[i] = eps
        cols.append(((f(x + d) - f(x - d)) / (2 * eps)).ravel())
    return np.stack(cols, axis=1)


@pytest.mark.parametrize(
    "source,message",
    [
        ("linalg.det(ones((2, 3)))", "square"),
        ("linalg.inv(ones(3))", "matrix"),
        ("linalg.solve(eye(3), ones(4))", "do not fit"),
        ('linalg.qr(eye(3), mode="full")', "mode"),
        ('linalg.norm(eye(3), "max")', "invalid order"),
        ("linalg.norm(ones((2, 2, 2)), 2)", "axis"),
    ],
)
def test_errors_point_at_the_call(source, message):
    with pytest.raises(jx.JxError) as info:
        jx.compile(f"import linalg\nx = {source}\n")
    assert message in str(info.value)
    assert "<string>:2:" in str(info.value)


def test_conformance_identity_in_f32():
    m = jx.compile(
        """
import linalg
import random
a = random.normal(random.key(5), (6, 4))
spd = a.T @ a + eye(4)
def logdet(m) = linalg.slogdet(m)[1]
g = grad(logdet)(spd)
ok = allclose(g, linalg.inv(spd).T, atol=1e-4)
"""
    )
    assert bool(m.ok)


XLA_SOURCE = """
import linalg
def everything(a, b):
    spd = a @ a.T + 4.0 * eye(4)
    u, s, vt = linalg.svd(a)
    w, v = linalg.eigh(spd)
    q, r = linalg.qr(a)
    return (linalg.det(a), linalg.slogdet(a), linalg.solve(a, b), linalg.cholesky(spd), s,
            w, abs(q), abs(r), linalg.pinv(a), linalg.norm(a, 2),
            linalg.triangular_solve(spd, b, left_side=True, lower=True))
def cho_solve(a, b):
    l = linalg.cholesky(a)
    y = linalg.triangular_solve(l, b, left_side=True, lower=True)
    return linalg.triangular_solve(l, y, left_side=True, lower=True, transpose_a=True)
def jitted(a, b) = jit(cho_solve)(a, b)
def jitted_grad(a, b) = jit(grad(lambda m: sum(cho_solve(m, b))))(a)
def not_positive(a) = jit(linalg.cholesky)(a)
"""


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_xla_backend_matches_numpy(dtype):
    pytest.importorskip("jax")
    xla = jx.compile(XLA_SOURCE, backend="xla")
    ref = jx.compile(XLA_SOURCE)
    a, b, spd = A.astype(dtype), B_MAT.astype(dtype), SPD.astype(dtype)
    tol = {np.float64: 1e-10, np.float32: 2e-5}[dtype]
    for x, r in zip(_leaves(xla.everything(a, b)), _leaves(ref.everything(a, b))):
        assert x.dtype == r.dtype
        np.testing.assert_allclose(x, r, rtol=tol, atol=tol)
    # cholesky and triangular_solve lower to StableHLO: these compile as one program.
    np.testing.assert_allclose(xla.jitted(spd, b), np.linalg.solve(SPD, B_MAT), rtol=tol)
    np.testing.assert_allclose(xla.jitted_grad(spd, b), ref.jitted_grad(spd, b), rtol=tol, atol=tol)
    out = xla.not_positive(np.stack([np.eye(2), -np.eye(2)]).astype(dtype))
    np.testing.assert_array_equal(out[0], np.eye(2))
    assert np.isnan(out[1]).all()
