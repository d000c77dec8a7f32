"""Speed of jx against NumPy and JAX, measured in the same run.

    python benchmarks/bench.py [--repeat N] [--quick]

Prints one row per workload: the median wall time of each contender and the ratio of
jx to each (ratio > 1 means jx is slower). JAX is optional; its columns are blank
without it. The machine is shared, so read medians and ratios, not single timings.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jx
import numpy as np


def median_time(fn, repeat):
    fn()  # warm-up: tracing, compilation, caches
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        np.asarray(out[0] if isinstance(out, tuple) else out)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def try_jax():
    try:
        import jax

        return jax
    except ImportError:
        return None


def jax_runner(jax, fn, *args):
    """A no-argument callable running jax.jit(fn) on device copies of args (None without JAX)."""
    if jax is None:
        return None
    f = jax.jit(fn)
    device_args = [a if not isinstance(a, np.ndarray) else jax.numpy.asarray(a) for a in args]
    return lambda: f(*device_args).block_until_ready()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    a = ap.parse_args()
    repeat = 3 if a.quick else a.repeat
    n_poly = 1000 if a.quick else 2000
    n_normal = 10**6 if a.quick else 10**7
    jax = try_jax()
    m = jx.compile(
        """
import random
def poly(x) = x + x*x + x*x*x
def sumsq(x) = sum(square(x))
def hess(x) = jit(jacfwd(jacrev(sumsq)))(x)
def normals(seed, n) = random.normal(random.key(seed), (n,))
def tiny(x) = x + 1.0
"""
    )
    jpoly = jx.jit(m.poly)
    x = np.random.default_rng(0).standard_normal((n_poly, n_poly)).astype(np.float32)
    h_in = np.random.default_rng(1).standard_normal(1000).astype(np.float32)
    small = np.ones(3, np.float32)
    rows = []

    def row(name, jx_fn, np_fn=None, jax_fn=None):
        t_jx = median_time(jx_fn, repeat)
        t_np = median_time(np_fn, repeat) if np_fn else None
        t_jax = median_time(jax_fn, repeat) if jax_fn else None
        rows.append((name, t_jx, t_np, t_jax))

    def poly(v):
        return v + v * v + v * v * v

    row(
        f"x+x*x+x*x*x {n_poly}^2 f32 (jx eager call)",
        lambda: m.poly(x),
        lambda: poly(x),
        jax_runner(jax, poly, x),
    )
    row(
        f"x+x*x+x*x*x {n_poly}^2 f32 (jx jit)",
        lambda: jpoly(x),
        lambda: poly(x),
        jax_runner(jax, poly, x),
    )
    hess = normal = None
    if jax:
        jnp = jax.numpy
        hess = jax_runner(jax, jax.jacfwd(jax.jacrev(lambda v: jnp.sum(jnp.square(v)))), h_in)
        key = jax.random.key(0)
        normal = jax_runner(jax, lambda k: jax.random.normal(k, (n_normal,)), key)
    row("hessian jit(jacfwd(jacrev(sum sq))) 1000", lambda: m.hess(h_in), None, hess)
    gen = np.random.default_rng(0)
    row(
        f"random.normal {n_normal:.0e} f32",
        lambda: m.normals(0, n_normal),
        lambda: gen.standard_normal(n_normal, dtype=np.float32),
        normal,
    )
    row(
        "tiny cached call f32[3]",
        lambda: m.tiny(small),
        lambda: small + 1.0,
        jax_runner(jax, lambda v: v + 1.0, small),
    )
    print(f"{'workload':44} {'jx':>10} {'numpy':>10} {'jax':>10} {'jx/numpy':>9} {'jx/jax':>8}")
    for name, t_jx, t_np, t_jax in rows:

        def fmt(t):
            return f"{t * 1e3:9.3f}ms" if t is not None else " " * 11

        r_np = f"{t_jx / t_np:9.2f}" if t_np else " " * 9
        r_jax = f"{t_jx / t_jax:8.2f}" if t_jax else " " * 8
        print(f"{name:44} {fmt(t_jx)}{fmt(t_np)}{fmt(t_jax)} {r_np} {r_jax}")


if __name__ == "__main__":
    main()
