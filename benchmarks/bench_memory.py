"""Peak memory of reverse mode through a long scan, with and without checkpointing.

    python benchmarks/bench_memory.py [--steps N] [--width W]

The gradient of a loss after N steps of a recurrent update of a W-wide state, on the
NumPy backend, measured with tracemalloc (NumPy's buffers are traced): plain `scan`
keeps every step's carry for the backward pass (O(N) carries); `scan(...,
checkpoint=True)` keeps the carries at the starts of about sqrt(N) segments and one
segment's steps at a time (O(sqrt N)), computing each segment a second time. The table
gives the peaks, their ratio and the time each took (one run each; the machine may be
shared). Both gradients are checked to agree.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import jx
import numpy as np

SOURCE = """
def step(c, x) = (tanh(c * 0.9 + x * 0.1), None)
def loss(c0, xs) = sum(scan(step, c0, xs)[0] ** 2)
def loss_ck(c0, xs) = sum(scan(step, c0, xs, checkpoint=True)[0] ** 2)
def g(c0, xs) = grad(loss)(c0, xs)
def g_ck(c0, xs) = grad(loss_ck)(c0, xs)
"""


def measure(fn, *args):
    tracemalloc.start()
    start = time.perf_counter()
    out = np.asarray(fn(*args))
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, peak, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--width", type=int, default=1024)
    args = parser.parse_args()
    m = jx.compile(SOURCE)
    rng = np.random.default_rng(0)
    c0 = rng.standard_normal(args.width).astype(np.float32)
    xs = rng.standard_normal((args.steps, args.width)).astype(np.float32)
    xs_bytes = xs.nbytes
    plain, plain_peak, plain_s = measure(m.g, c0, xs)
    ck, ck_peak, ck_s = measure(m.g_ck, c0, xs)
    np.testing.assert_allclose(ck, plain, rtol=1e-4, atol=1e-6)
    carry = 4 * args.width
    print(f"reverse mode through a {args.steps}-step scan of a {args.width}-wide f32 carry")
    print(f"(the inputs xs alone are {xs_bytes / 2**20:.1f} MiB; one carry is {carry} B)")
    print(f"{'':>14} | {'peak MiB':>9} | {'carries':>8} | {'seconds':>7}")
    for name, peak, s in (("plain", plain_peak, plain_s), ("checkpointed", ck_peak, ck_s)):
        print(f"{name:>14} | {peak / 2**20:9.1f} | {peak / carry:8.0f} | {s:7.2f}")
    print(f"peak ratio checkpointed / plain: {ck_peak / plain_peak:.3f}")


if __name__ == "__main__":
    main()
