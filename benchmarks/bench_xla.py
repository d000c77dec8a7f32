"""The XLA backend's speed against NumPy, jx on NumPy and jax.jit, measured in one run.

    python benchmarks/bench_xla.py [--repeat N] [--quick] [--device cpu|gpu|tpu]

One row per seed workload: the median wall time of NumPy (eager), jx on the numpy backend
(jit), jx on the xla backend (jit) and jax.jit, then the ratios of jx xla to jax.jit and
to NumPy (below 1: jx xla is faster). Every contender gets its inputs in its own form,
already placed: NumPy arrays for NumPy and jx numpy, 64-byte aligned copies for jx xla
(which XLA:CPU takes without copying), `jax.Array`s for jax.jit; each
timing includes waiting for the result. The machine may be shared: read medians and
ratios, not single timings.
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

import jx
import numpy as np
from jx.backends.xla import runtime as xla

SOURCE = """
def cube_sum(x) = x + x*x + x*x*x
def poly(x) = -4.0*x**3 + 9.0*x**2 + 6.0*x - 3.0
def fused_sum(x, y, z) = sum(x + y*z)
def sumsq(x) = sum(x*x)
def hessian(x) = jacfwd(jacrev(sumsq))(x)
def matmul(a, b) = a @ b
"""


def aligned(x: np.ndarray) -> np.ndarray:
    """A copy of `x` starting at a 64-byte boundary, which XLA:CPU uses in place."""
    buffer = np.empty(x.nbytes + 64, np.uint8)
    start = -buffer.ctypes.data % 64
    out = buffer[start : start + x.nbytes].view(x.dtype).reshape(x.shape)
    out[...] = x
    return out


def _run(fn) -> None:
    """Run `fn` and wait for its results (a tree of arrays)."""
    out = fn()
    for leaf in out if isinstance(out, tuple) else (out,):
        if isinstance(leaf, tuple):
            _run(lambda leaf=leaf: leaf)
        elif hasattr(leaf, "block_until_ready"):
            leaf.block_until_ready()
        else:
            np.asarray(leaf)


def median_times(fns, repeat: int, rounds: int = 4) -> list[float]:
    """Each function's median time. Every contender runs in blocks of consecutive calls
    (one untimed first), so that it meets its own steady state (allocator, caches) rather
    than the previous contender's; the blocks take turns over a few rounds, in reverse
    order every other round, so that a change in the machine's load touches every
    contender alike."""
    times = [[] for _ in fns]
    per_round = max(1, -(-repeat // rounds))
    for r in range(rounds):
        turns = list(zip(fns, times))
        for fn, samples in turns[::-1] if r % 2 else turns:
            _run(fn)
            for _ in range(per_round):
                start = time.perf_counter()
                _run(fn)
                samples.append(time.perf_counter() - start)
    return [statistics.median(samples) for samples in times]


def workloads(quick: bool):
    """(name, jx function name, NumPy function, jax.numpy function, input arrays)."""
    rng = np.random.default_rng(0)
    n1, n2, n3 = (500, 1000, 500) if quick else (2000, 5000, 2000)

    def f32(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    def cube_sum(x):
        return x + x * x + x * x * x

    def poly(x):
        return -4.0 * x**3 + 9.0 * x**2 + 6.0 * x - 3.0

    return [
        (f"x+x*x+x*x*x {n1}^2 f32", "cube_sum", cube_sum, cube_sum, [f32(n1, n1)]),
        (f"x+x*x+x*x*x {n2}^2 f32", "cube_sum", cube_sum, cube_sum, [f32(n2, n2)]),
        (f"-4x^3+9x^2+6x-3 {n3}^2 f32", "poly", poly, poly, [f32(n3, n3)]),
        (f"sum(x+y*z) {n3}^2 f32", "fused_sum", lambda x, y, z: np.sum(x + y * z),
         lambda x, y, z: (x + y * z).sum(), [f32(n3, n3), f32(n3, n3), f32(n3, n3)]),
        ("jit(jacfwd(jacrev(sum sq))) 1000", "hessian", lambda x: 2.0 * np.eye(x.size, dtype=x.dtype),
         None, [f32(1000)]),
        ("matmul 1000^2 f32", "matmul", np.matmul, lambda a, b: a @ b, [f32(1000, 1000), f32(1000, 1000)]),
    ]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    ap.add_argument("--device", default=None, choices=["cpu", "gpu", "tpu"])
    a = ap.parse_args()
    repeat = 3 if a.quick else a.repeat
    xla.use_device(a.device)
    on_numpy = jx.compile(SOURCE, backend="numpy")
    on_xla = jx.compile(SOURCE, backend="xla")
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        jax = None
    if jax is not None:  # jax.jit on the platform jx runs on
        device = jax.devices(xla.platform())[0]
        hessian = jax.jacfwd(jax.jacrev(lambda v: jnp.sum(v * v)))

    print(f"device: {xla.devices()[0].device_kind} ({xla.platform()}), median of {repeat}")
    head = ["workload", "numpy", "jx numpy", "jx xla", "jax.jit", "xla/jax", "xla/numpy"]
    print(f"{head[0]:36}" + "".join(f"{h:>11}" for h in head[1:]))
    for name, fn_name, np_fn, jnp_fn, inputs in workloads(a.quick):
        fns = [
            partial(np_fn, *inputs),
            partial(jx.jit(getattr(on_numpy, fn_name)), *inputs),
            partial(jx.jit(getattr(on_xla, fn_name)), *(aligned(x) for x in inputs)),
        ]
        if jax is not None:
            on_jax = [jax.device_put(x, device) for x in inputs]
            fns.append(partial(jax.jit(jnp_fn or hessian), *on_jax))
        times = median_times(fns, repeat)
        t_np, t_xla, t_jax = times[0], times[2], times[3] if jax else None
        cells = [f"{t * 1e3:9.2f}ms" for t in times] + [f"{'-':>11}"] * (4 - len(times))
        cells.append(f"{t_xla / t_jax:11.2f}" if t_jax else f"{'-':>11}")
        cells.append(f"{t_xla / t_np:11.2f}")
        print(f"{name:36}" + "".join(cells), flush=True)


if __name__ == "__main__":
    main()
