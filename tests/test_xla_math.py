"""backends/xla_math: float32 functions that must equal XLA:CPU bit for bit.

The oracle tests compare against jax (skipped when jax is absent); the others check the
arithmetic itself (exact rational FMA, accuracy against float64, special values).
"""

import math
from fractions import Fraction

import numpy as np
import pytest
from jx.backends.numpy.xla_math import (
    erf_inv_f32,
    erf_inv_f64,
    fma_f32,
    fma_f64,
    log1p_f32,
    log1p_f64,
    log_f32,
)

F32 = np.float32


def bits(a):
    return np.asarray(a, F32).view(np.uint32)


def ulps(a, b):
    """Distance in float32 ulps between finite arrays of one sign."""
    return np.abs(bits(a).view(np.int32).astype(np.int64) - bits(b).view(np.int32))


def round_f32(q):
    """Round an exact rational to the nearest float32 (ties to even), subnormals included."""
    if q == 0:
        return 0.0
    sign, q = (-1 if q < 0 else 1), abs(q)
    e = q.numerator.bit_length() - q.denominator.bit_length()
    e += 1 if Fraction(2) ** e <= q / 2 else 0
    e -= 1 if Fraction(2) ** e > q else 0
    quantum = Fraction(2) ** max(e - 23, -149)
    n = round(q / quantum)  # Fraction rounds half to even
    value = n * quantum
    return sign * (math.inf if value >= 2**128 else float(value))


def uniform_grid(rng, n):
    """Values -1 + k * 2^-23, the float32 grid that jax's normal feeds to erf_inv."""
    return rng.integers(0, 2**24, n).astype(F32) * F32(2**-23) - F32(1)


def random_floats(rng, n):
    return rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32).view(F32)


def hard_fma_cases(rng, n):
    """a*b + c whose float64 sum is a float32 tie while the exact value is not."""
    scale = (2.0 ** rng.integers(-60, 60, n)).astype(F32)
    sign = rng.choice([-1, 1], n).astype(F32)
    mant = rng.integers(0, 2**23, n).astype(np.uint32)
    c = ((np.uint32(127) << 23) | mant).view(F32) * scale * sign
    a = F32(1 + 2**-23) * scale * sign
    b = F32(2**-24 * (1 - 2**-23)) * rng.choice([-1, 1], n).astype(F32)
    return a, b, c


# ---------------------------------------------------------------- oracle-free


def test_fma_equals_exact_rational_rounding():
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(1500).astype(F32) * F32(8) for _ in range(3))
    ha, hb, hc = hard_fma_cases(rng, 1500)
    # results in the subnormal range and exact cancellations
    ta = np.full(300, 2.0**-70, F32)
    tb = rng.standard_normal(300).astype(F32) * F32(2.0**-70)
    tc = rng.standard_normal(300).astype(F32) * F32(2.0**-140)
    a, b, c = (np.concatenate(t) for t in ((a, ha, ta), (b, hb, tb), (c, hc, tc)))
    got = fma_f32(a, b, c)
    want = [round_f32(Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z)))
            for x, y, z in zip(a, b, c)]  # fmt: skip
    np.testing.assert_array_equal(bits(got), bits(np.array(want, F32)))
    naive = (a.astype(np.float64) * b + c).astype(F32)
    assert (bits(naive) != bits(got)).sum() > 100  # the hard cases really are hard


def test_fma_specials_and_broadcasting():
    inf, nan = np.inf, np.nan
    assert np.isnan(fma_f32(inf, 1, -inf))
    assert np.isnan(fma_f32(0, inf, 1))
    assert np.isnan(fma_f32(nan, 1, 1))
    assert fma_f32(3e38, 10, 0) == inf and fma_f32(-3e38, 10, 0) == -inf
    assert fma_f32(2, 3, inf) == inf
    assert bits(fma_f32(-0.0, 1, -0.0)) == bits(F32(-0.0))
    assert bits(fma_f32(0.0, 1, -0.0)) == bits(F32(0.0))
    out = fma_f32(np.ones((2, 3), F32), F32(2), np.arange(3, dtype=F32))
    assert out.shape == (2, 3) and out.dtype == F32
    np.testing.assert_array_equal(out, [[2, 3, 4], [2, 3, 4]])
    # a float32 multiply followed by an add would give 0 here
    assert fma_f32(F32(1 - 2**-24), F32(1 + 2**-23), F32(-1)) == F32(2**-24 - 2**-47)


def test_fma_f64_equals_exact_rational_rounding():
    rng = np.random.default_rng(10)
    a, b, c = (rng.standard_normal(2000) * 2.0 ** rng.integers(-40, 40, 2000) for _ in range(3))
    # float64 ties: c + half an ulp of c, minus a tiny amount
    hc = 1 + rng.integers(0, 2**52, 2000) * 2.0**-52
    ha, hb = np.full(2000, 1 + 2.0**-52), np.full(2000, 2.0**-53 * (1 - 2.0**-52))
    a, b, c = np.concatenate([a, ha]), np.concatenate([b, hb]), np.concatenate([c, hc])
    want = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c)]
    np.testing.assert_array_equal(fma_f64(a, b, c), want)
    assert ((a * b + c) != want).sum() > 500
    assert fma_f64(2.0, 3.0, 1.0) == 7.0 and fma_f64(np.ones((2, 2)), 2.0, 1.0).shape == (2, 2)


def test_f64_functions_close_to_reference():
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, 20_000)
    # far from 0 the result is log(1 + x), so the rounding of 1 + x shows
    np.testing.assert_allclose(log1p_f64(-(x * x)), np.log1p(-(x * x)), rtol=1e-13, atol=0)
    small = rng.uniform(-0.29, 0.41, 20_000)  # XLA's rational is less accurate below -0.29
    np.testing.assert_allclose(log1p_f64(small), np.log1p(small), rtol=5e-16, atol=0)
    y = erf_inv_f64(x)
    np.testing.assert_allclose([math.erf(v) for v in y], x, rtol=0, atol=4e-15)
    assert list(erf_inv_f64([1.0, -1.0, 0.0])) == [np.inf, -np.inf, 0.0]


def test_log1p_close_to_float64():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-1, 0, 50_000), rng.uniform(-0.5, 0.5, 50_000),
                        np.exp(rng.uniform(-20, 30, 50_000))]).astype(F32)  # fmt: skip
    ref = np.log1p(x.astype(np.float64)).astype(F32)
    ok = ref != 0
    assert ulps(log1p_f32(x)[ok], ref[ok]).max() <= 2


def test_log_close_to_float64():
    rng = np.random.default_rng(2)
    x = np.exp2(rng.uniform(-126, 128, 100_000)).astype(F32)
    x = x[np.isfinite(x) & (x != 1)]
    ref = np.log(x.astype(np.float64)).astype(F32)
    assert ulps(log_f32(x), ref).max() <= 2


def test_erf_inv_inverts_erf():
    rng = np.random.default_rng(3)
    x = uniform_grid(rng, 20_000)
    y = erf_inv_f32(x).astype(np.float64)
    back = np.array([math.erf(v) for v in y])
    assert np.abs(back - x).max() < 2e-7
    assert np.all(np.sign(y) == np.sign(x))


def test_special_values():
    inf = np.inf
    lg = log_f32(np.array([0.0, -0.0, 1e-40, inf, 1.0, -1.0, np.nan], F32))
    np.testing.assert_array_equal(lg[:5], [-inf, -inf, -inf, inf, 0.0])  # denormals are zero
    assert np.isnan(lg[5:]).all()
    lp = log1p_f32(np.array([0.0, -0.0, 1e-40, -1.0, inf, -2.0, np.nan], F32))
    np.testing.assert_array_equal(bits(lp[:5]), bits(np.array([0.0, -0.0, 0.0, -inf, inf], F32)))
    assert np.isnan(lp[5:]).all()
    # x86 flush-to-zero judges tininess after rounding: 0.886 * x rounds to 2^-126 in IEEE
    # arithmetic, but the exact product lies below 2^-126 - 2^-151, so XLA gives 0
    assert bits(erf_inv_f32(F32(1.3264034e-38))) == 0
    ei = erf_inv_f32(np.array([0.0, -0.0, 1.0, -1.0, 1.5, np.nan], F32))
    np.testing.assert_array_equal(bits(ei[:4]), bits(np.array([0.0, -0.0, inf, -inf], F32)))
    assert np.isnan(ei[4:]).all()
    for f in (log_f32, log1p_f32, erf_inv_f32):
        assert f(np.zeros((0, 3), F32)).shape == (0, 3)
        assert f(F32(0.5)).shape == () and f(F32(0.5)).dtype == F32


# ---------------------------------------------------------------- against jax


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax")
    return jax


def jit_f32(jax, fn, x):
    return np.asarray(jax.jit(fn)(x))


def test_fma_matches_contracted_jit(jax):
    rng = np.random.default_rng(4)
    a, b, c = (rng.standard_normal(1 << 19).astype(F32) for _ in range(3))
    ha, hb, hc = hard_fma_cases(rng, 1 << 18)
    a, b, c = np.concatenate([a, ha]), np.concatenate([b, hb]), np.concatenate([c, hc])
    want = np.asarray(jax.jit(lambda a, b, c: a * b + c)(a, b, c))
    np.testing.assert_array_equal(bits(fma_f32(a, b, c)), bits(want))


def test_log1p_bitwise(jax):
    rng = np.random.default_rng(5)
    u = uniform_grid(rng, 1 << 21)
    x = np.concatenate([-(u * u), random_floats(rng, 1 << 19),
                        rng.uniform(-0.5, 0.5, 1 << 19).astype(F32)])  # fmt: skip
    want = jit_f32(jax, jax.numpy.log1p, x)
    np.testing.assert_array_equal(bits(log1p_f32(x)), bits(want))


def test_log_bitwise(jax):
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.uniform(0, 1, 1 << 20).astype(F32), random_floats(rng, 1 << 20),
                        np.exp2(rng.uniform(-149, 128, 1 << 18)).astype(F32)])  # fmt: skip
    want = jit_f32(jax, jax.numpy.log, x)
    np.testing.assert_array_equal(bits(log_f32(x)), bits(want))


def test_erf_inv_bitwise(jax):
    rng = np.random.default_rng(7)
    near_tiny = np.arange(0x00800000, 0x00800000 + (1 << 19), dtype=np.uint32).view(F32)
    x = np.concatenate([uniform_grid(rng, 1 << 20), random_floats(rng, 1 << 19),
                        rng.uniform(-1, 1, 1 << 19).astype(F32), near_tiny, -near_tiny])  # fmt: skip
    want = jit_f32(jax, jax.scipy.special.erfinv, x)
    np.testing.assert_array_equal(bits(erf_inv_f32(x)), bits(want))


def _uniform_bits(jax, key, shape):
    raw = np.asarray(jax.random.bits(key, shape, np.uint32))
    return ((raw >> 9) | np.uint32(0x3F800000)).view(F32) - F32(1)  # [0, 1), 23 bits


@pytest.mark.parametrize(
    "seed,shape",
    [(0, (1 << 20,)), (1, (300, 37)), (42, (3, 1, 4)), (7, ()), (123, (5,)), (2**31 - 1, (33, 17))],
)
def test_normal_end_to_end(jax, seed, shape):
    key = jax.random.PRNGKey(seed)
    lo = np.nextafter(F32(-1), F32(0))
    u = np.maximum(lo, _uniform_bits(jax, key, shape) * F32(2) + lo)  # span 2: product exact
    got = np.sqrt(F32(2)) * erf_inv_f32(u)
    want = np.asarray(jax.random.normal(key, shape, dtype=np.float32))
    np.testing.assert_array_equal(bits(got), bits(want))


@pytest.mark.parametrize("seed,shape", [(0, (1 << 18,)), (3, (7, 11))])
def test_gumbel_end_to_end(jax, seed, shape):
    key = jax.random.PRNGKey(seed)
    tiny = F32(np.finfo(F32).tiny)
    u = np.maximum(tiny, fma_f32(_uniform_bits(jax, key, shape), F32(1) - tiny, tiny))
    got = -log_f32(-log_f32(u))
    want = np.asarray(jax.random.gumbel(key, shape, dtype=np.float32))
    np.testing.assert_array_equal(bits(got), bits(want))


def test_f64_bitwise(jax):
    rng = np.random.default_rng(12)
    u = rng.integers(0, 2**53, 1 << 18, dtype=np.int64) * 2.0**-52 - 1.0
    c = np.append(u[1:], 0.5)
    near_tiny = 2.0**-1022 * rng.uniform(1, 1.3, 1 << 14)  # results flushed to zero or not
    any_bits = rng.integers(0, 2**63, 1 << 15, dtype=np.int64).view(np.float64)
    x = np.concatenate([u, near_tiny, -near_tiny, any_bits, -any_bits])
    with jax.enable_x64(True):
        want_l = np.asarray(jax.jit(jax.numpy.log1p)(np.append(-(u * u), any_bits)))
        want_e = np.asarray(jax.jit(jax.scipy.special.erfinv)(x))
        want_f = np.asarray(jax.jit(lambda a, b, c: a * b + c)(u, u[::-1], c))
    assert want_e.dtype == np.float64
    got_l = log1p_f64(np.append(-(u * u), any_bits))
    np.testing.assert_array_equal(got_l.view(np.uint64), want_l.view(np.uint64))
    np.testing.assert_array_equal(erf_inv_f64(x).view(np.uint64), want_e.view(np.uint64))
    got_f = fma_f64(u, u[::-1], c)
    np.testing.assert_array_equal(got_f.view(np.uint64), want_f.view(np.uint64))


@pytest.mark.parametrize("seed,shape", [(0, (1 << 17,)), (5, (7,)), (9, (33, 17))])
def test_normal_f64_end_to_end(jax, seed, shape):
    with jax.enable_x64(True):
        key = jax.random.PRNGKey(seed)
        raw = np.asarray(jax.random.bits(key, shape, np.uint64))
        want = np.asarray(jax.random.normal(key, shape, dtype=np.float64))
    f = ((raw >> np.uint64(12)) | np.uint64(0x3FF0000000000000)).view(np.float64) - 1.0
    lo = np.nextafter(-1.0, 0.0)
    got = np.sqrt(2.0) * erf_inv_f64(np.maximum(lo, f * 2.0 + lo))
    np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))
