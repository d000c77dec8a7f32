"""Elementary functions that reproduce XLA:CPU bit for bit, in plain NumPy.

jax.random draws normal and Gumbel samples through `erf_inv`, `log1p` and `log`, and on an
x86-64 CPU with FMA the compiled XLA kernels differ by a few ulps from NumPy's or the C
library's versions: XLA expands these functions into its own polynomials (a Cephes-style
rational approximation for log1p near zero, a Cephes-style logf elsewhere, and Giles'
erfinv approximations), and LLVM contracts most multiply-adds into fused multiply-adds. The
constants and the order of operations here were read off the LLVM IR and the machine code
that XLA emits for `jnp.log1p`, `jnp.log` and `jax.scipy.special.erfinv`; each FMA in that
code is an `fma_f32` / `fma_f64` here. XLA:CPU also runs with denormals flushed to zero
(inputs and results), which is emulated where it can change a result.

Scope: float32 `log_f32`, `log1p_f32`, `erf_inv_f32` and float64 `log1p_f64`, `erf_inv_f64`
(what `jax.random.normal` and `gumbel` use), checked against jax 0.10 on x86-64 with FMA.
One known difference: for a standalone `jnp.log` on some arrays of fewer than 16 elements,
XLA calls the C library's `logf` instead of its inlined polynomial; that path is not
reproduced (inside `jax.random.gumbel` the inlined polynomial is used at every size).

Everything is vectorised and processed in cache-sized blocks; the exact (slower) step of
`fma_f32` only runs on the elements whose float64 sum lies on a float32 rounding boundary.
"""

import math

import numpy as np

__all__ = [
    "erf_inv_f32",
    "erf_inv_f64",
    "fma_f32",
    "fma_f64",
    "log1p_f32",
    "log1p_f64",
    "log_f32",
]

_F32 = np.float32
_F64 = np.float64
_TINY = 2.0**-126  # smallest normal float32
_BLOCK = 1 << 14  # elements per block: keeps the float64 temporaries in cache


def _c(bits):
    """The float32 constant with the given bit pattern, as an exact Python float."""
    return float(np.uint32(bits).view(_F32))


def _fma(a, b64, c):
    """fma_f32 with `b` already in float64 (exact) and `c` a float32 array or exact float."""
    s = a.astype(_F64)
    s *= b64
    s += c
    out = s.astype(_F32)
    low = s.view(np.uint64) & np.uint64(0x1FFFFFFF)  # the 29 bits that float32 drops
    suspect = low == np.uint64(0x10000000)
    suspect |= (np.abs(out) < _F32(_TINY)) & (s != 0)
    if suspect.any():
        idx = np.nonzero(suspect)
        shape = out.shape
        pa = np.broadcast_to(a, shape)[idx].astype(_F64) * np.broadcast_to(b64, shape)[idx]
        cc = np.broadcast_to(np.asarray(c, _F64), shape)[idx]
        ss = pa + cc
        bb = ss - cc  # two-sum: pa + cc == ss + err exactly
        err = (cc - (ss - bb)) + (pa - bb)
        even = (ss.view(np.uint64) & np.uint64(1)) == 0
        fix = (err != 0) & even & np.isfinite(ss)
        ss[fix] = np.nextafter(ss[fix], np.copysign(np.inf, err[fix]))  # round to odd
        with np.errstate(over="ignore"):
            out[idx] = ss.astype(_F32)
    return out


def fma_f32(a, b, c):
    """Fused multiply-add `a * b + c` on float32, rounded once (round to nearest even).

    The product of two float32 values is exact in float64, so only the float64 sum and its
    rounding to float32 can go wrong: that double rounding differs from a single rounding only
    when the float64 sum lands exactly halfway between two float32 values (or in the subnormal
    range). Those elements are recomputed with an exact two-sum and rounded to odd in float64
    before the final rounding, which is then correct.
    """
    a, b, c = np.broadcast_arrays(np.asarray(a, _F32), np.asarray(b, _F32), np.asarray(c, _F32))
    out = np.empty(a.shape, _F32)
    fa, fb, fc, fo = a.reshape(-1), b.reshape(-1), c.reshape(-1), out.reshape(-1)
    with np.errstate(invalid="ignore", over="ignore"):
        for i in range(0, fo.size, _BLOCK):
            blk = slice(i, i + _BLOCK)
            fo[blk] = _fma(fa[blk], fb[blk].astype(_F64), fc[blk])
    return out


def _blockwise(fn, x, dtype=_F32):
    """Apply the 1-d kernel `fn` to `x` (cast to `dtype`) in cache-sized blocks."""
    x = np.asarray(x, dtype)
    out = np.empty(x.shape, dtype)
    flat, fo = x.reshape(-1), out.reshape(-1)
    with np.errstate(invalid="ignore", over="ignore"):
        for i in range(0, fo.size, _BLOCK):
            fo[i : i + _BLOCK] = fn(flat[i : i + _BLOCK])
    return out


def _daz(x):
    """Treat float32 subnormals as signed zeros (XLA:CPU runs with DAZ/FTZ set)."""
    sub = (np.abs(x) < _F32(_TINY)) & (x != 0)
    return np.where(sub, np.copysign(_F32(0), x), x) if sub.any() else x


def _mul_ftz(x, y):
    """float32 x * y with flush-to-zero as x86 does it: tininess is judged after rounding
    to 24 bits with an unbounded exponent, i.e. on the exact product against this bound."""
    e = x.astype(_F64) * y
    out = e.astype(_F32)
    tiny = np.abs(e) < _TINY - 2.0**-151
    out[tiny] = np.copysign(_F32(0), e[tiny])
    return out


# logf core: log(m * 2^e) with m in [sqrt(1/2), sqrt(2)); three interleaved cubic chains in r.
_LOG_A = (_c(0x3D9021BB), _c(0xBDEBD1B8), _c(0x3DEF251A))
_LOG_B = (_c(0xBDFE5D4F), _c(0x3E11E9BF), _c(0xBE2AAE50))
_LOG_C = (_c(0x3E4CCEAC), _c(0xBE7FFFFC), _c(0x3EAAAAAA))
_LN2_LO = _F32(_c(0xB95E8083))
_LN2_HI = _F32(_c(0x3F318000))
_SQRT_HALF = _F32(_c(0x3F3504F3))
_NAN_BITS = np.uint32(0xFFFFFFFF)  # the NaN XLA:CPU's log returns for x < 0 or NaN


def _log_positive(v):
    """XLA:CPU's float32 log for finite v > 0 (smaller values are clamped to the tiniest)."""
    v = np.maximum(v, _F32(_TINY))
    bits = v.view(np.int32)
    e = ((bits >> 23) - 127).astype(_F32) + _F32(1)
    m = ((bits & np.int32(-2139095041)) | np.int32(0x3F000000)).view(_F32)  # in [0.5, 1)
    lt = m < _SQRT_HALF
    r = (m - _F32(1)) + np.where(lt, m, _F32(0))  # exact
    e -= lt.astype(_F32)
    r64 = r.astype(_F64)
    z = r * r
    r3 = (z * r).astype(_F64)
    a = _fma(_fma(r, _LOG_A[0], _LOG_A[1]), r64, _LOG_A[2])
    b = _fma(_fma(r, _LOG_B[0], _LOG_B[1]), r64, _LOG_B[2])
    c = _fma(_fma(r, _LOG_C[0], _LOG_C[1]), r64, _LOG_C[2])
    b = _fma(_fma(a, r3, b), r3, c)
    y = _fma(b, r3, e * _LN2_LO)
    # r - 0.5*z is one fused operation in XLA; 0.5*z is exact here, so a plain subtraction
    # rounds identically.
    y = (r - z * _F32(0.5)) + y
    # fused in XLA too, but e * ln2_hi is exact (8-bit integer times a 9-bit constant)
    return e * _LN2_HI + y


def _log_special(v, out):
    """Apply XLA's special cases of log(v) to `out` (v already flushed)."""
    bad = ~(v > 0)  # negative or NaN
    if bad.any():
        out[bad] = _NAN_BITS.view(_F32)
    out[v == 0] = -np.inf
    out[v == np.inf] = np.inf
    return out


def _log_kernel(x):
    x = _daz(x)
    out = _log_positive(np.where((x > 0) & (x < np.inf), x, _F32(1)))
    return _log_special(x, out)


def log_f32(x):
    """Natural logarithm of float32 `x`, bit-identical to `jnp.log` compiled by XLA:CPU."""
    return _blockwise(_log_kernel, x)


# log1p near zero: x - x^2/2 + x^3 * P(x)/Q(x), both degree 6, |x| < sqrt(2) - 1.
_L1P_SMALL = _F32(_c(0x3ED413CD))
_L1P_P = (
    4.527e-05,
    _c(0x3EFF40C5),
    _c(0x40D284FA),
    _c(0x41EF4B9C),
    _c(0x4273CC76),
    _c(0x426473AD),
    _c(0x41A05101),
)
_L1P_Q = (
    _c(0x417101AD),
    _c(0x42A6185B),
    _c(0x435DC32D),
    _c(0x439A8CA3),
    _c(0x43586D8A),
    _c(0x42707982),
)


def _log1p_small(x):
    x64 = x.astype(_F64)
    num = np.full(x.shape, _F32(_L1P_P[0]))
    for k in _L1P_P[1:]:
        num = _fma(num, x64, k)
    den = x + _F32(_L1P_Q[0])  # fma(1, x, q0) is a plain sum
    for k in _L1P_Q[1:]:
        den = _fma(den, x64, k)
    x2 = x * x
    t = (x * x2) * (num / den)
    # fused t - 0.5*x2 in XLA; the product is exact unless |x| < 2^-62, where the
    # correction is far below half an ulp of x anyway.
    return x + (t - x2 * _F32(0.5))


def _log1p_kernel(x):
    x = _daz(x)
    small = np.abs(x) < _L1P_SMALL
    if small.all():
        return _log1p_small(x)
    out = np.empty(x.shape, _F32)
    out[small] = _log1p_small(x[small])
    big = ~small
    v = x[big] + _F32(1)
    r = _log_positive(np.where((v > 0) & (v < np.inf), v, _F32(1)))
    out[big] = _log_special(v, r)
    return out


def log1p_f32(x):
    """log(1 + x) for float32 `x`, bit-identical to `jnp.log1p` compiled by XLA:CPU."""
    return _blockwise(_log1p_kernel, x)


# Giles' single-precision erfinv: a degree-8 polynomial in w - 2.5 (w < 5) or sqrt(w) - 3.
_ERFINV_CENTRAL = tuple(
    _c(b)
    for b in (
        0x32F16588, 0x34B84B36, 0xB66C7357, 0xB6935AC1, 0x396532DB,
        0xBAA45408, 0xBB88E4EF, 0x3E7C8F63, 0x3FC02E2F,
    )
)  # fmt: skip
_ERFINV_TAIL = tuple(
    _c(b)
    for b in (
        0xB951F09B, 0x38D3B56B, 0x3AB0DC72, 0xBB70BDE7, 0x3BBC127B,
        0xBBF9C5D7, 0x3C1AA57E, 0x3F8036DB, 0x40354F7E,
    )
)  # fmt: skip


def _erfinv_poly(coef, w):
    w64 = w.astype(_F64)
    p = np.full(w.shape, _F32(coef[0]))
    for k in coef[1:]:
        p = _fma(p, w64, k)
    return p


def _erf_inv_kernel(x):
    x = _daz(x)
    lg = _log1p_kernel(x * -x)  # -w
    central = lg > _F32(-5)
    p = _erfinv_poly(_ERFINV_CENTRAL, _F32(-2.5) - lg)
    tail = ~central
    if tail.any():
        p[tail] = _erfinv_poly(_ERFINV_TAIL, np.sqrt(-lg[tail]) - _F32(3))
    p[np.abs(x) == 1] = np.inf
    return _mul_ftz(x, p)


def erf_inv_f32(x):
    """Inverse error function of float32 `x`, bit-identical to XLA:CPU's `erf_inv`.

    Matches `jax.scipy.special.erfinv` under jit and the `erf_inv` inside
    `jax.random.normal`. erf_inv(+-1) = +-inf; |x| > 1 gives NaN.
    """
    return _blockwise(_erf_inv_kernel, x)


# ---------------------------------------------------------------------------------- float64
#
# For float64 XLA:CPU keeps the same structure (rational log1p near zero, Giles' erfinv in three
# regions), but the log on the far branch is a call to the C library's `log`; Python's
# `math.log` is that same function, so it is applied to those elements one by one.

_TINY64 = 2.0**-1022
_SPLIT = 134217729.0  # 2^27 + 1, splits a double into two 26-bit halves


def _d(bits):
    """The float64 constant with the given bit pattern."""
    return float(np.uint64(bits).view(_F64))


def _split(a):
    """a == hi + lo with both halves 26 bits wide (Veltkamp)."""
    t = _SPLIT * a
    hi = t - (t - a)
    return hi, a - hi


def _fma64(a, b, bh, bl, c):
    """fma_f64 with `b` already split into (bh, bl)."""
    ph = a * b
    ah, al = _split(a)
    pl = ((ah * bh - ph) + ah * bl + al * bh) + al * bl  # a * b == ph + pl exactly
    sh = c + ph
    t = sh - c
    sl = (c - (sh - t)) + (ph - t)  # c + ph == sh + sl exactly
    v = sl + pl
    t = v - sl
    err = (sl - (v - t)) + (pl - t)  # sl + pl == v + err exactly
    fix = (err != 0) & ((v.view(np.uint64) & np.uint64(1)) == 0)
    if fix.any():
        v[fix] = np.nextafter(v[fix], np.copysign(np.inf, err[fix]))  # round to odd
    return sh + v


def fma_f64(a, b, c):
    """Fused multiply-add on float64, rounded once, for finite operands of moderate size.

    The product is split exactly into two doubles (Dekker), added to `c` with an exact
    two-sum, and the two low parts are combined with rounding to odd so that the last
    rounding is correct (Boldo and Melquiond's emulation). Operands whose product or sum
    over- or underflows are outside its range.
    """
    a, b, c = np.broadcast_arrays(*(np.asarray(v, _F64) for v in (a, b, c)))
    fa, fb, fc = a.reshape(-1), b.reshape(-1), c.reshape(-1)
    with np.errstate(invalid="ignore", over="ignore"):
        return _fma64(fa, fb, *_split(fb), fc).reshape(a.shape)


def _horner64(coef, w):
    wh, wl = _split(w)
    p = np.full(w.shape, coef[0])
    for k in coef[1:]:
        p = _fma64(p, w, wh, wl, k)
    return p


def _ftz64(x):
    sub = (np.abs(x) < _TINY64) & (x != 0)
    return np.where(sub, np.copysign(0.0, x), x) if sub.any() else x


_L1P64_SMALL = _d(0x3FDA827999FCEF32)
_L1P64_P = tuple(
    _d(b)
    for b in (
        0x3F07BC0962B395CA, 0x3FDFE818A0FE1A83, 0x401A509F46F4FA53, 0x403DE9738B8CB9C9,
        0x404E798EB86C3351, 0x404C8E7597479A10, 0x40340A202D99830A,
    )
)  # fmt: skip
_L1P64_Q = tuple(
    _d(b)
    for b in (
        0x402E20359E903E37, 0x4054C30B52213498, 0x406BB86590FCFB56, 0x407351945DC908A5,
        0x406B0DB13E48E066, 0x404E0F304466448E,
    )
)  # fmt: skip


def _log1p64_kernel(x):
    x = _ftz64(x)
    out = np.empty(x.shape, _F64)
    small = np.abs(x) < _L1P64_SMALL
    xs = x[small]
    num = _horner64(_L1P64_P, xs)
    den = _horner64((1.0,) + _L1P64_Q, xs)  # fma(1, x, q0) is a plain sum
    x2 = xs * xs
    out[small] = xs + ((xs * x2) * (num / den) - x2 * 0.5)
    v = x[~small] + 1.0
    ok = (v > 0) & (v < np.inf)
    r = np.where(np.isnan(v), v, np.nan)  # C log: NaN passes through, log(< 0) is +NaN
    r[v == 0] = -np.inf
    r[v == np.inf] = np.inf
    r[ok] = np.fromiter(map(math.log, v[ok].tolist()), _F64, int(ok.sum()))
    out[~small] = r
    return out


def log1p_f64(x):
    """log(1 + x) for float64 `x` as XLA:CPU computes it (same C library underneath)."""
    return _blockwise(_log1p64_kernel, x, _F64)


# Giles' double-precision erfinv: w < 6.25, w < 16, and beyond, each a Horner polynomial.
_ERFINV64 = tuple(
    tuple(float.fromhex(h) for h in coef.split())
    for coef in (
        """-0x1.135d2e746e627p-68 -0x1.8ddf93324d327p-63 0x1.7b83eef0b7c9fp-60
        0x1.9ba72cd589b91p-57 -0x1.33689090a6b96p-53 0x1.82e11898132e0p-56 0x1.de4acfd9e26bap-48
        -0x1.6d33eed66c487p-45 -0x1.6f2167040d8e2p-44 0x1.72a22c2d77e20p-39 -0x1.c8859c4e5c0afp-37
        -0x1.dc583d118a561p-35 0x1.20f47ccf46b3cp-30 -0x1.1a9e38dc84d60p-28 -0x1.f36cd6d3d46a9p-26
        0x1.c6b4f5d03b787p-22 -0x1.6e8a5434ae8a2p-20 -0x1.d1d1f7b8736f6p-17 0x1.879c2a212f024p-13
        -0x1.845769484fca8p-11 -0x1.8b6c33114f909p-8 0x1.ebd80d9b13e28p-3 0x1.a755e7c99ae86p+0""",
        """0x1.3040f87dbd932p-29 0x1.85cbe52878635p-24 -0x1.2777453dd3955p-22
        0x1.395abcd554c6cp-26 0x1.936388a3790adp-20 -0x1.0d5db812b5083p-18 0x1.8860cd5d652f6p-19
        0x1.a29a0cacdfb23p-17 -0x1.8cef1f80281f2p-15 0x1.1e684d0b9188ap-14 0x1.932cd54c8a222p-16
        -0x1.7448a89ef8aa3p-12 0x1.f3cc55ad40c25p-11 -0x1.ba924132f38b1p-10 0x1.468eeca533cf8p-9
        -0x1.ebadabb891bbdp-9 0x1.5ffcfe5b76afcp-8 0x1.0158a6d641d39p+0 0x1.8abcc380d5a48p+1""",
        """-0x1.dcec3a7785389p-36 -0x1.18feec0e38727p-32 0x1.9e6bf2dda45e3p-30
        -0x1.0468fb24e2f5fp-28 0x1.05ac6a8fba182p-27 -0x1.0102e495fb9c0p-26 0x1.f4c20e1334af8p-26
        -0x1.22d220fdf9c3ep-24 0x1.ebc8bb824cb54p-23 -0x1.0a8d40ea372ccp-20 0x1.2fbd29d093d2bp-18
        -0x1.4a3497e1e0facp-16 0x1.3ebf4eb00938fp-14 -0x1.c2f36a8fc5d53p-13 -0x1.22ea5df04047cp-13
        0x1.02a30d1fba0dcp+0 0x1.3664ddd1ad7fbp+2""",
    )
)


def _erf_inv64_kernel(x):
    x = _ftz64(x)
    lg = _log1p64_kernel(_ftz64(x * -x))  # -w
    region = np.where(lg > -6.25, 0, np.where(lg > -16.0, 1, 2))
    p = np.empty(x.shape, _F64)
    for r, (coef, shift) in enumerate(zip(_ERFINV64, (None, 3.25, 5.0))):
        sel = region == r
        if not sel.any():
            continue
        w = -3.125 - lg[sel] if shift is None else np.sqrt(-lg[sel]) - shift
        p[sel] = _horner64(coef, w)
    p[np.abs(x) == 1] = np.inf
    r = x * p
    small = np.abs(r) <= _TINY64  # flushed when tiny after rounding with unbounded exponent
    if small.any():
        tiny = np.abs(x[small] * 2.0**200 * p[small]) < 2.0**-822
        r[small] = np.where(tiny, np.copysign(0.0, r[small]), r[small])
    return r


def erf_inv_f64(x):
    """Inverse error function of float64 `x` as XLA:CPU computes it (jax x64 mode)."""
    return _blockwise(_erf_inv64_kernel, x, _F64)
