"""Python-style training loops inside functions, against JAX running the same program.

    python benchmarks/bench_loops.py [--repeat N] [--steps N]

The workload is JAX's kernel least squares example: `train` builds a Gram matrix and
calls `minimize`, whose `for i in range(num_steps)` applies a jitted momentum update
10,000 times. jx traces that loop once as a scan (it is longer than
`jx.limits.short_loop`); JAX runs it as a Python loop of jitted calls. Each timing is a
whole `train` call from Python on fresh functions (so tracing and compiling count, as
they do when the example runs), repeated in turns between the contenders; the table
gives medians, the ratio to JAX and the goal (jx on XLA within 2x of JAX). The machine
may be shared: read the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jx
import numpy as np

SOURCE = """
def gram(kernel, xs) = vmap(lambda x: vmap(lambda y: kernel(x, y))(xs))(xs)

def minimize(f, x, num_steps, step_size=0.000001, mass=0.9):
    def update(i, state):
        x, velocity = state
        velocity = mass * velocity + grad(f)(x)
        return (x - step_size * velocity, velocity)
    update = jit(update)
    state = (x, zeros_like(x))
    for i in range(num_steps):
        state = update(i, state)
    return state[0]

def train(xs, ys, num_steps, regularization=0.01):
    kernel = lambda x, y: dot(x, y)
    gram_mat = jit(partial(gram, kernel))(xs)
    def objective(v):
        risk = 0.5 * sum((gram_mat @ v - ys) ** 2.0)
        return risk + regularization * sum(v ** 2.0)
    v = minimize(objective, zeros(xs.shape[0]), num_steps)
    def predict(x) = sum(v * vmap(lambda x_: kernel(x, x_))(xs))
    return vmap(predict)(xs)
"""


def jax_train(xs, ys, num_steps):
    import jax
    import jax.numpy as jnp

    kernel = lambda x, y: jnp.dot(x, y)
    gram_mat = jax.jit(lambda xs: jax.vmap(lambda x: jax.vmap(lambda y: kernel(x, y))(xs))(xs))(xs)

    def objective(v):
        return 0.5 * jnp.sum((gram_mat @ v - ys) ** 2.0) + 0.01 * jnp.sum(v**2.0)

    @jax.jit
    def update(i, state):
        x, velocity = state
        velocity = 0.9 * velocity + jax.grad(objective)(x)
        return (x - 0.000001 * velocity, velocity)

    state = (jnp.zeros(xs.shape[0]), jnp.zeros(xs.shape[0]))
    for i in range(num_steps):
        state = update(i, state)
    v = state[0]
    return np.asarray(jax.vmap(lambda x: jnp.sum(v * jax.vmap(lambda x_: kernel(x, x_))(xs)))(xs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    truth = rng.standard_normal(20).astype(np.float32)
    xs = rng.standard_normal((100, 20)).astype(np.float32)
    ys = xs @ truth

    def jx_on(backend):
        def run():
            module = jx.compile(SOURCE, backend=backend)  # fresh functions: tracing counts
            return np.asarray(module.train(xs, ys, args.steps))

        return run

    contenders = {
        "jx numpy": jx_on("numpy"),
        "jx xla": jx_on("xla"),
        "jax": lambda: jax_train(xs, ys, args.steps),
    }
    results = {name: fn() for name, fn in contenders.items()}  # warm-up, and the answers
    for name, out in results.items():
        mse = float(np.sum((out - ys) ** 2))
        print(f"{name:>9}: MSE {mse:.3g}")
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(args.repeat):
        order = list(contenders.items())
        for name, fn in order if r % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"\nkernel least squares, train() with {args.steps} steps (median of {args.repeat}):")
    print(f"{'contender':>9} | {'seconds':>8} | {'/ jax':>6} | goal")
    for name in contenders:
        ratio = med[name] / med["jax"]
        goal = "" if name != "jx xla" else ("<= 2x: pass" if ratio <= 2 else "<= 2x: FAIL")
        print(f"{name:>9} | {med[name]:8.3f} | {ratio:6.2f} | {goal}")


if __name__ == "__main__":
    main()
