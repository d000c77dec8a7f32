"""The nn module against NumPy references: every activation's value and derivative over
ordinary and extreme inputs (±1e4, 0, the kinks, NaN propagation) in f64 and f32, the
softmax family and logsumexp with their gradients at large logits, one_hot,
standardize, and the initializers (shapes, variances, and JAX's exact numbers)."""

import math

import jx
import numpy as np
import pytest

NN = jx.compile(
    """
import nn
def relu(x) = nn.relu(x)
def relu6(x) = nn.relu6(x)
def leaky_relu(x) = nn.leaky_relu(x)
def leaky_relu_2(x) = nn.leaky_relu(x, negative_slope=0.2)
def elu(x) = nn.elu(x)
def elu_2(x) = nn.elu(x, alpha=2.0)
def gelu(x) = nn.gelu(x)
def gelu_exact(x) = nn.gelu(x, approximate=False)
def sigmoid(x) = nn.sigmoid(x)
def silu(x) = nn.silu(x)
def softplus(x) = nn.softplus(x)
def log_sigmoid(x) = nn.log_sigmoid(x)
def tanh_(x) = nn.tanh(x)
def softmax(x) = nn.softmax(x)
def log_softmax(x) = nn.log_softmax(x)
def softmax_0(x) = nn.softmax(x, axis=0)
def logsumexp(x) = nn.logsumexp(x)
def logsumexp_rows(x) = nn.logsumexp(x, axis=-1)
def logsumexp_keep(x) = nn.logsumexp(x, axis=0, keepdims=True)
def logsumexp_b(x, b) = nn.logsumexp(x, axis=-1, b=b)
def softmax_loss(x, w) = sum(nn.softmax(x) * w)
def log_softmax_loss(x, w) = sum(nn.log_softmax(x) * w)
def logsumexp_loss(x) = sum(nn.logsumexp(x, axis=-1))
def one_hot(x) = nn.one_hot(x, 4)
def one_hot_0(x) = nn.one_hot(x, 3, dtype=i32, axis=0)
def standardize(x) = nn.standardize(x)
def standardize_0(x) = nn.standardize(x, axis=0, epsilon=0.0)
def standardize_given(x) = nn.standardize(x, mean=1.0, variance=4.0)
def normalize(x) = nn.normalize(x)
"""
)

X = np.array([-1e4, -50.0, -6.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 5.9, 6.0, 6.1, 50.0, 1e4])


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _erf(x):
    return np.vectorize(math.erf)(x)


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def _gelu_tanh_grad(x):
    c = math.sqrt(2 / math.pi)
    t = np.tanh(c * (x + 0.044715 * x**3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)


def _phi(x):
    return np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


# name: (value, derivative), both NumPy in f64; derivatives at kinks follow jax.nn.
ACTIVATIONS = {
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0),
    "relu6": (lambda x: np.clip(x, 0, 6), lambda x: ((x > 0) & (x < 6)) * 1.0),
    "leaky_relu": (lambda x: np.where(x >= 0, x, 0.01 * x), lambda x: np.where(x >= 0, 1, 0.01)),
    "leaky_relu_2": (lambda x: np.where(x >= 0, x, 0.2 * x), lambda x: np.where(x >= 0, 1, 0.2)),
    "elu": (
        lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
        lambda x: np.where(x > 0, 1, np.exp(np.minimum(x, 0))),
    ),
    "elu_2": (
        lambda x: np.where(x > 0, x, 2 * np.expm1(np.minimum(x, 0))),
        lambda x: np.where(x > 0, 1, 2 * np.exp(np.minimum(x, 0))),
    ),
    "gelu": (_gelu_tanh, _gelu_tanh_grad),
    "gelu_exact": (
        lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
        lambda x: 0.5 * (1 + _erf(x / math.sqrt(2))) + x * _phi(x),
    ),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * _sigmoid(-x)),
    "silu": (lambda x: x * _sigmoid(x), lambda x: _sigmoid(x) + x * _sigmoid(x) * _sigmoid(-x)),
    "softplus": (lambda x: np.logaddexp(x, 0), _sigmoid),
    "log_sigmoid": (lambda x: -np.logaddexp(-x, 0), lambda x: _sigmoid(-x)),
    "tanh_": (np.tanh, lambda x: 1 / np.cosh(np.minimum(np.abs(x), 300)) ** 2),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activation_values(name, dtype):
    value, _ = ACTIVATIONS[name]
    x = X.astype(dtype)
    got = getattr(NN, name)(x)
    assert got.dtype == dtype
    expected = value(x.astype(np.float64))
    # gelu's 1 + tanh (or 1 + erf) cancels to 0 below about -6, as in JAX: an absolute bound.
    tol = {np.float64: 1e-12, np.float32: 2e-6}[dtype]
    np.testing.assert_allclose(got, expected, rtol=tol, atol=1e-8 if "gelu" in name else 0)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activation_gradients_at_extremes(name, dtype):
    _, deriv = ACTIVATIONS[name]
    x = X.astype(dtype)
    fn = getattr(NN, name)
    got = np.asarray(jx.vmap(jx.grad(fn))(x))
    assert np.isfinite(got).all(), got
    # f32 derivatives such as tanh's 1 - y*y are exact to about one unit in the last place
    # of 1, so small ones are compared absolutely.
    rtol, atol = {np.float64: (1e-9, 1e-15), np.float32: (2e-5, 3e-7)}[dtype]
    np.testing.assert_allclose(got, deriv(x.astype(np.float64)), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_propagate_nan(name):
    out = getattr(NN, name)(np.array([np.nan, 1.0, -1.0]))
    assert np.isnan(out[0]) and np.isfinite(out[1:]).all()


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_gradients_match_finite_differences(name):
    fn = getattr(NN, name)
    x = np.array([-3.1, -0.7, 0.4, 2.2, 5.5, 7.3])
    eps = 1e-6
    numeric = (fn(x + eps) - fn(x - eps)) / (2 * eps)
    np.testing.assert_allclose(jx.vmap(jx.grad(fn))(x), numeric, rtol=1e-6, atol=1e-9)


LOGITS = np.array(
    [[1e4, -1e4, 0.0], [1.0, 2.0, 3.0], [-1e4, -1e4, -1e4], [0.0, 0.0, 0.0], [-1e4, 1e4, 1e4]]
)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _logsumexp(x, axis=None, keepdims=False):
    m = x.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_family_values(dtype):
    x = LOGITS.astype(dtype)
    x64 = x.astype(np.float64)
    tol = {np.float64: 1e-12, np.float32: 1e-6}[dtype]
    np.testing.assert_allclose(NN.softmax(x), _softmax(x64), rtol=tol, atol=1e-30)
    np.testing.assert_allclose(NN.softmax_0(x), _softmax(x64, 0), rtol=tol, atol=1e-30)
    logp = x64 - _logsumexp(x64, -1, True)
    np.testing.assert_allclose(NN.log_softmax(x), logp, rtol=tol)
    np.testing.assert_allclose(NN.logsumexp_rows(x), _logsumexp(x64, -1), rtol=tol)
    np.testing.assert_allclose(NN.logsumexp_keep(x), _logsumexp(x64, 0, True), rtol=tol)
    np.testing.assert_allclose(NN.logsumexp(x), _logsumexp(x64), rtol=tol)
    assert NN.logsumexp(x).shape == ()


def test_logsumexp_weights_infinities_and_nan():
    x = np.array([[1.0, 2.0, 3.0], [1e4, 1e4, -1e4]])
    b = np.array([0.5, 2.0, 0.0])
    expected = np.log((b * np.exp(x - x.max(-1, keepdims=True))).sum(-1)) + x.max(-1)
    np.testing.assert_allclose(NN.logsumexp_b(x, b), expected, rtol=1e-12)
    assert NN.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    assert NN.logsumexp(np.array([np.inf, 1.0])) == np.inf
    assert np.isnan(NN.logsumexp(np.array([np.nan, 1.0])))
    assert np.isnan(NN.softmax(np.array([np.nan, 1.0, 2.0]))).all()
    assert np.isnan(NN.log_softmax(np.array([np.nan, 1.0, 2.0]))).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_family_gradients_at_large_logits(dtype):
    x = LOGITS.astype(dtype)
    w = np.arange(15.0).reshape(5, 3).astype(dtype) / 7
    s = _softmax(x.astype(np.float64))
    tol = {np.float64: 1e-12, np.float32: 1e-5}[dtype]
    grads = {
        "softmax": (jx.grad(NN.softmax_loss)(x, w), s * (w - (s * w).sum(-1, keepdims=True))),
        "log_softmax": (jx.grad(NN.log_softmax_loss)(x, w), w - s * w.sum(-1, keepdims=True)),
        "logsumexp": (jx.grad(NN.logsumexp_loss)(x), s),
    }
    for name, (got, expected) in grads.items():
        assert np.isfinite(got).all(), name
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol, err_msg=name)


def test_one_hot():
    x = np.array([0, 3, 1, -1, 4], np.int32)
    out = NN.one_hot(x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0], [0] * 4, [0] * 4])
    grid = np.array([[0, 2], [1, 1]], np.int32)
    out = NN.one_hot_0(grid)
    assert out.dtype == np.int32 and out.shape == (3, 2, 2)
    np.testing.assert_array_equal(out, np.moveaxis(np.eye(3, dtype=np.int32)[grid], -1, 0))


def test_standardize():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(4, 6))
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(NN.standardize(x), ref, rtol=1e-10)
    np.testing.assert_allclose(NN.normalize(x), ref, rtol=1e-10)
    ref0 = (x - x.mean(0)) / x.std(0)
    np.testing.assert_allclose(NN.standardize_0(x), ref0, rtol=1e-10)
    np.testing.assert_allclose(NN.standardize_given(x), (x - 1.0) / np.sqrt(4.0 + 1e-5))
    assert np.isnan(NN.standardize(np.array([np.nan, 1.0]))).all()
    np.testing.assert_array_equal(NN.standardize(np.full(3, 1e4)), np.zeros(3))


INIT = jx.compile(
    """
import nn
import random
def glorot_uniform(seed, shape) = nn.glorot_uniform(random.key(seed), shape)
def glorot_normal(seed, shape) = nn.glorot_normal(random.key(seed), shape)
def he_uniform(seed, shape) = nn.he_uniform(random.key(seed), shape)
def he_normal(seed, shape) = nn.he_normal(random.key(seed), shape)
def lecun_uniform(seed, shape) = nn.lecun_uniform(random.key(seed), shape)
def lecun_normal(seed, shape) = nn.lecun_normal(random.key(seed), shape)
def he_normal_f64(seed, shape) = nn.he_normal(random.key(seed), shape, f64)
"""
)

# name: (variance numerator, which fan, uniform?)
INITIALIZERS = {
    "glorot_uniform": (1.0, "avg", True),
    "glorot_normal": (1.0, "avg", False),
    "he_uniform": (2.0, "in", True),
    "he_normal": (2.0, "in", False),
    "lecun_uniform": (1.0, "in", True),
    "lecun_normal": (1.0, "in", False),
}


@pytest.mark.parametrize("name", INITIALIZERS)
def test_initializer_variance_and_support(name):
    scale, fan, uniform = INITIALIZERS[name]
    shape = (3, 200, 300)  # receptive field 3: fan_in 600, fan_out 900
    w = getattr(INIT, name)(0, shape)
    assert w.shape == shape and w.dtype == np.float32
    denominator = {"in": 600, "avg": 750}[fan]
    variance = scale / denominator
    assert abs(w.var() / variance - 1) < 0.02
    assert abs(w.mean()) < 0.01 * math.sqrt(variance)
    bound = math.sqrt(3 * variance) if uniform else 2 * math.sqrt(variance) / 0.87962566103423978
    assert np.abs(w).max() <= bound * (1 + 1e-6)


def test_initializers_take_the_dtype():
    w = INIT.he_normal_f64(1, (50, 40))
    assert w.dtype == np.float64 and abs(w.var() * 50 / 2 - 1) < 0.1


@pytest.mark.parametrize("name", INITIALIZERS)
def test_initializers_match_jax(name):
    jax = pytest.importorskip("jax")
    init = getattr(jax.nn.initializers, name)()
    for shape in [(3, 4), (5, 2, 3)]:
        expected = np.asarray(init(jax.random.key(7), shape, np.float32))
        np.testing.assert_array_equal(getattr(INIT, name)(7, shape), expected)


def test_initializers_use_their_key():
    with pytest.raises(jx.KeyReuseError):
        jx.compile(
            "import nn\nimport random\nk = random.key(0)\n"
            "a = nn.he_normal(k, (2, 2))\nb = nn.he_normal(k, (2, 2))\n"
        )


def test_reference_docs_cover_every_function():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parent.parent / "docs" / "generate.py"
    spec = importlib.util.spec_from_file_location("docs_generate", path)
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    text = generate.render()
    m = jx.compile("import nn\nimport optim\nimport linalg\nimport random\n")
    for module in ("nn", "optim", "linalg", "random"):
        for name in getattr(m, module).members:
            if not name.startswith("_"):
                assert f"`{module}.{name}(" in text, f"{module}.{name}"
    assert "- `nn.relu(x)`: Rectified linear unit" in text
    assert "- `linalg.slogdet(a)`: (sign, logabsdet)" in text
    for name in ("sum", "grad", "vmap", "print", "psum"):
        assert f"- `{name}(" in text
