"""Special functions, as `jax.scipy.special` names them: the `special` module.

`erf`, `erfc` and `erfinv` wrap their primitives; `gammaln` is Lanczos's approximation
(g = 7, nine terms: about 1e-15 relative in f64) with the reflection formula below 1/2,
`digamma` the asymptotic series after shifting the argument past 8 (reflected below 1/2),
so both are compositions of elementwise primitives and grad, vmap and jit go through them
(the derivative of `gammaln` is `digamma` to the approximation's accuracy). `expit`,
`logit`, `xlogy`, `xlog1py` and `ndtr` complete the set used by log-densities.
"""

from __future__ import annotations

import math

from . import ops
from .modules import NATIVE
from .values import Builtin, Module

_LANCZOS_G = 7.0
_LANCZOS = (
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
)
#: The Bernoulli terms B_2k / (2k) of digamma's asymptotic series, in powers of 1 / y^2.
_DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)
_DIGAMMA_SHIFT = 8


def _add(x, y):
    return ops.binary("add", x, y)


def _sub(x, y):
    return ops.binary("sub", x, y)


def _mul(x, y):
    return ops.binary("mul", x, y)


def _div(x, y):
    return ops.true_divide(x, y)


def _select(c, x, y):
    return ops.where(c, x, y)


def erf(x):
    return ops.unary("erf", x)


def erfc(x):
    return _sub(1, ops.unary("erf", x))


def erfinv(x):
    return ops.unary("erf_inv", x)


def _lanczos_gammaln(x):
    """log Gamma(x) for x >= 1/2."""
    z = _sub(x, 1)
    series = ops.full_like(z, _LANCZOS[0])
    for i, c in enumerate(_LANCZOS[1:], start=1):
        series = _add(series, _div(c, _add(z, float(i))))
    t = _add(z, _LANCZOS_G + 0.5)
    log_t = ops.unary("log", t)
    return _add(
        _sub(_mul(_add(z, 0.5), log_t), t),
        _add(0.5 * math.log(2 * math.pi), ops.unary("log", series)),
    )


def _reflected(x):
    """Whether x is below 1/2, and x moved to where the formula holds on both branches
    (each branch of a `where` is computed, so neither may see a value it cannot take)."""
    low = ops.compare("lt", x, 0.5)
    return low, _select(low, _sub(1, x), x), _select(low, x, ops.full_like(x, 0.25))


def gammaln(x):
    """log |Gamma(x)|."""
    x = ops.inexact(x)
    low, high_x, low_x = _reflected(x)
    direct = _lanczos_gammaln(high_x)
    # log |Gamma(x)| = log(pi / |sin(pi x)|) - log Gamma(1 - x) below 1/2.
    sin_pi_x = ops.unary("abs", ops.unary("sin", _mul(low_x, math.pi)))
    reflected = _sub(_sub(math.log(math.pi), ops.unary("log", sin_pi_x)), direct)
    return _select(_pole(x, low), ops.full_like(x, math.inf), _select(low, reflected, direct))


def _pole(x, low):
    """x is 0, -1, -2, ...: where Gamma has its poles."""
    return ops.logical("and", low, ops.compare("eq", x, ops.unary("floor", x)))


def _digamma_series(y):
    """digamma(y) for y >= 8.5: log y - 1/(2y) - sum of the Bernoulli terms."""
    inv2 = _div(1, _mul(y, y))
    poly = ops.full_like(y, _DIGAMMA_SERIES[-1])
    for c in reversed(_DIGAMMA_SERIES[:-1]):
        poly = _add(_mul(poly, inv2), c)
    return _sub(_sub(ops.unary("log", y), _div(0.5, y)), _mul(poly, inv2))


def digamma(x):
    """The logarithmic derivative of Gamma (psi)."""
    x = ops.inexact(x)
    low, high_x, low_x = _reflected(x)
    # digamma(x) = digamma(x + n) - sum_k 1 / (x + k): shifted into the series' range.
    shifted = _digamma_series(_add(high_x, float(_DIGAMMA_SHIFT)))
    for k in range(_DIGAMMA_SHIFT):
        shifted = _sub(shifted, _div(1, _add(high_x, float(k))))
    # digamma(x) = digamma(1 - x) - pi / tan(pi x) below 1/2.
    reflected = _sub(shifted, _div(math.pi, ops.unary("tan", _mul(low_x, math.pi))))
    # The poles at 0, -1, -2, ... are NaN, as in JAX.
    return _select(_pole(x, low), ops.full_like(x, math.nan), _select(low, reflected, shifted))


def expit(x):
    return ops.unary("logistic", x)


def logit(x):
    x = ops.inexact(x)
    return ops.unary("log", _div(x, _sub(1, x)))


def _times_log(x, log_y):
    x = ops.inexact(x)
    (x, log_y), _ = ops._operands(x, log_y)
    zero = ops.compare("eq", x, 0)
    return _select(zero, ops.full_like(log_y, 0), _mul(x, log_y))


def xlogy(x, y):
    """x * log(y), 0 where x is 0."""
    return _times_log(x, ops.unary("log", ops.inexact(y)))


def xlog1py(x, y):
    """x * log1p(y), 0 where x is 0."""
    return _times_log(x, ops.unary("log1p", ops.inexact(y)))


def ndtr(x):
    """The standard normal distribution function."""
    x = ops.inexact(x)
    return _mul(_add(1, ops.unary("erf", _mul(x, 1 / math.sqrt(2)))), 0.5)


def ndtri(p):
    """The inverse of ndtr."""
    p = ops.inexact(p)
    return _mul(ops.unary("erf_inv", _sub(_mul(p, 2), 1)), math.sqrt(2))


def build_module() -> Module:
    fns = [digamma, erf, erfc, erfinv, expit, gammaln, logit, ndtr, ndtri, xlog1py, xlogy]
    return Module("special", {f.__name__: Builtin(f.__name__, f) for f in fns})


NATIVE["special"] = build_module
