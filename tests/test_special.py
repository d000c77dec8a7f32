"""The `special` module against SciPy: values in f32 and f64 over both branches of the
reflection formulas, and the poles, as JAX gives them.
"""

import jx
import numpy as np
import pytest
import scipy.special as sp

f32, f64 = np.float32, np.float64

SPECIAL_INPUTS = np.array([-3.7, -1.5, -0.3, 0.1, 0.5, 1.0, 2.5, 7.25, 30.0])


@pytest.mark.parametrize("dtype, rtol", [(f32, 2e-5), (f64, 1e-12)], ids=["f32", "f64"])
@pytest.mark.parametrize(
    "name, reference, domain",
    [
        ("gammaln", sp.gammaln, SPECIAL_INPUTS),
        ("digamma", sp.digamma, SPECIAL_INPUTS),
        ("erf", sp.erf, SPECIAL_INPUTS / 4),
        ("erfc", sp.erfc, SPECIAL_INPUTS / 4),
        ("expit", sp.expit, SPECIAL_INPUTS),
        ("logit", sp.logit, np.linspace(0.05, 0.95, 7)),
        ("ndtr", sp.ndtr, SPECIAL_INPUTS / 2),
        ("ndtri", sp.ndtri, np.linspace(0.05, 0.95, 7)),
    ],
)
def test_special_functions(name, reference, domain, dtype, rtol):
    f = jx.compile(f"import special\ndef f(x) = special.{name}(x)\n").f
    x = domain.astype(dtype)
    out = f(x)
    assert out.dtype == dtype
    want = reference(x.astype(f64))
    # f32 loses relative accuracy where the reflection subtracts nearly equal values.
    np.testing.assert_allclose(out, want, rtol=rtol * (50 if dtype == f32 else 1), atol=rtol)


def test_special_poles_and_products():
    m = jx.compile(
        "import special\n"
        "def f(x) = (special.digamma(x), special.gammaln(x), special.xlogy(x, x), "
        "special.xlog1py(x, x))\n"
    )
    x = np.array([0.0, -2.0, 1.5], f64)
    digamma, gammaln, xlogy, xlog1py = m.f(x)
    assert np.isnan(digamma[:2]).all() and np.isinf(gammaln[:2]).all()
    np.testing.assert_allclose(xlogy, [0.0, np.nan, 1.5 * np.log(1.5)], rtol=1e-12)
    np.testing.assert_allclose(xlog1py, [0.0, np.nan, 1.5 * np.log1p(1.5)], rtol=1e-12)
