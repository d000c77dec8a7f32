"""The random module: bits equal to jax.random's (JAX is the oracle, a test-only dependency),
and key linearity (KeyReuseError at the second use, with a note at the first)."""

import pathlib
import subprocess
import sys

import jx
import numpy as np
import pytest

jax = pytest.importorskip("jax")
jr = jax.random
jnp = jax.numpy

SEEDS = [0, 1, 7, 42, 1234, 2**31 - 1, 2**32 - 1, -1, -12345, 2**32 + 5]
SHAPES = [(), (1,), (3,), (7,), (2, 3), (4, 5), (3, 1, 4), (1000,), (33, 17)]

M = jx.compile(
    """
import random

def draw(name, seed, shape):
    k = random.key(seed)
    if name == "uniform":
        return random.uniform(k, shape)
    if name == "uniform_range":
        return random.uniform(k, shape, minval=-3.0, maxval=5.0)
    if name == "uniform_odd":
        return random.uniform(k, shape, minval=0.1, maxval=0.7)
    if name == "normal":
        return random.normal(k, shape)
    if name == "bernoulli":
        return random.bernoulli(k, 0.3, shape)
    if name == "randint":
        return random.randint(k, shape, -5, 17)
    if name == "randint_full":
        return random.randint(k, shape, -2147483648, 2147483647)
    if name == "gumbel":
        return random.gumbel(k, shape)
    if name == "split":
        return random.key_data(random.split(k, 3))
    if name == "split_shape":
        return random.key_data(random.split(k, (2, 3)))
    return random.key_data(random.fold_in(k, 7))

def key_data(seed) = random.key_data(random.key(seed))
def permutation(seed, n) = random.permutation(random.key(seed), n)
def permute_rows(seed, x) = random.permutation(random.key(seed), x)
def categorical(seed, logits) = random.categorical(random.key(seed), logits)
def choice(seed, n, shape) = random.choice(random.key(seed), n, shape)
def choice_p(seed, p, shape) = random.choice(random.key(seed), 5, shape, p=p)
def truncated(seed, shape) = random.truncated_normal(random.key(seed), -1.0, 2.0, shape)
def uniform64(seed, shape) = random.uniform(random.key(seed), shape, dtype=f64)
"""
)


def _jax(name, seed, shape):
    k = jr.PRNGKey(seed)
    if name == "uniform":
        return jr.uniform(k, shape)
    if name == "uniform_range":
        return jr.uniform(k, shape, minval=-3.0, maxval=5.0)
    if name == "uniform_odd":
        return jr.uniform(k, shape, minval=0.1, maxval=0.7)
    if name == "normal":
        return jr.normal(k, shape)
    if name == "bernoulli":
        return jr.bernoulli(k, 0.3, shape)
    if name == "randint":
        return jr.randint(k, shape, -5, 17)
    if name == "randint_full":
        return jr.randint(k, shape, -(2**31), 2**31 - 1)
    if name == "gumbel":
        return jr.gumbel(k, shape)
    if name == "split":
        return jr.split(k, 3)
    if name == "split_shape":
        return jr.split(k, (2, 3))
    return jr.fold_in(k, 7)


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    if a.dtype.kind == "f":
        np.testing.assert_array_equal(
            a.view(f"u{a.dtype.itemsize}"), b.view(f"u{b.dtype.itemsize}")
        )
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", SEEDS)
def test_key_data(seed):
    _same_bits(M.key_data(seed), jr.key_data(jr.key(seed)))


@pytest.mark.parametrize("name", ["split", "split_shape", "fold_in"])
@pytest.mark.parametrize("seed", SEEDS)
def test_key_derivation(name, seed):
    _same_bits(M.draw(name, seed, ()), _jax(name, seed, ()))


DISTRIBUTIONS = [
    "uniform",
    "uniform_range",
    "uniform_odd",
    "normal",
    "bernoulli",
    "randint",
    "randint_full",
    "gumbel",
]


@pytest.mark.parametrize("name", DISTRIBUTIONS)
@pytest.mark.parametrize("seed", SEEDS[:6])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_distribution_bits(name, seed, shape):
    _same_bits(M.draw(name, seed, shape), _jax(name, seed, shape))


def test_normal_many_samples_bitwise():
    _same_bits(M.draw("normal", 3, (1 << 18,)), jr.normal(jr.PRNGKey(3), (1 << 18,)))


@pytest.mark.parametrize("n", [1, 2, 5, 10, 100, 1000, 5000])
@pytest.mark.parametrize("seed", [0, 42, 2**32 - 1])
def test_permutation(n, seed):
    _same_bits(M.permutation(seed, n), jr.permutation(jr.PRNGKey(seed), n))


def test_permutation_of_rows():
    x = np.arange(24, dtype=np.float32).reshape(6, 4)
    _same_bits(M.permute_rows(5, x), jr.permutation(jr.PRNGKey(5), x))
    v = np.arange(10, dtype=np.int32) * 3
    _same_bits(M.permute_rows(9, v), jr.permutation(jr.PRNGKey(9), v))


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 6)], ids=str)
def test_categorical(shape):
    logits = np.linspace(-2, 2, int(np.prod(shape)), dtype=np.float32).reshape(shape)
    for seed in (0, 1, 99):
        _same_bits(M.categorical(seed, logits), jr.categorical(jr.PRNGKey(seed), logits))


def test_choice():
    for seed in (0, 3):
        _same_bits(M.choice(seed, 10, (4,)), jr.choice(jr.PRNGKey(seed), 10, (4,)))
        p = np.array([0.1, 0.2, 0.3, 0.15, 0.25], np.float32)
        _same_bits(M.choice_p(seed, p, (6,)), jr.choice(jr.PRNGKey(seed), 5, (6,), p=p))


def test_truncated_normal_in_range_and_close_to_jax():
    ours = M.truncated(4, (2000,))
    ref = np.asarray(jr.truncated_normal(jr.PRNGKey(4), -1.0, 2.0, (2000,)))
    assert ours.dtype == np.float32
    assert ours.min() > -1.0 and ours.max() < 2.0
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_uniform_f64_bitwise():
    with jax.enable_x64(True):
        ref = jr.uniform(jr.PRNGKey(11), (100,), dtype=jnp.float64)
    _same_bits(M.uniform64(11, (100,)), ref)


def test_conformance_case_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "jx.cli", "run", "tests/conformance/10_random_keys.jx"],
        check=False,
        capture_output=True,
        text=True,
        cwd=str(pathlib.Path(__file__).parent.parent),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("ok")
