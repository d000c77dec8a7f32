"""Speed of jx on both backends against NumPy by hand and jax.jit, measured in one run.

    python benchmarks/bench.py [--repeat N] [--quick] [--only TEXT]

One row per workload of the speed goals: the median wall time of jx on the numpy backend
(jit), jx on the xla backend (jit), the same program written by hand in NumPy, and
jax.jit; the ratios jx numpy / NumPy, jx numpy / jax and jx xla / jax (> 1: jx is
slower); and the row's goals, each `ok` or `FAIL`:

- `np`: jx numpy <= 1.0x NumPy (every row); `fused`: <= 1/1.5 of NumPy (elementwise chains
  and reductions); `rand`: jx numpy <= 1.0x jax.random; `xla`: jx xla <= 1.0x jax.jit
  (every row); `call`: both backends <= jax.jit per call (a plain cached call: within 2x).

Contenders take turns in blocks (`bench_xla.median_times`), so a change in the machine's
load touches them alike: read ratios, not single timings. Without JAX its columns are
blank and the goals that need it are skipped.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass, field
from functools import partial

import jx
import numpy as np
from bench_xla import aligned, median_times

SOURCE = """
import nn
import optim
import random

def poly(x) = x + x*x + x*x*x
def fused_sum(x, y, z) = sum(x + y*z)
def softmax(x) = nn.softmax(x, axis=-1)
def logsumexp(x) = nn.logsumexp(x, axis=-1)
def layer_norm(x, g, b):
    mu = mean(x, axis=-1, keepdims=True)
    var = mean(square(x - mu), axis=-1, keepdims=True)
    return (x - mu) / sqrt(var + 1e-5) * g + b

init, update = optim.adam(1e-3)
def mlp_loss(params, x, y):
    w1, b1, w2, b2, w3, b3 = params
    h = nn.relu(x @ w1 + b1)
    h = nn.relu(h @ w2 + b2)
    return -mean(sum(nn.log_softmax(h @ w3 + b3) * y, axis=-1))
def adam_step(params, state, x, y):
    mu, nu, count = state
    record = {"count": count, "mu": mu, "nu": nu}
    updates, record = update(grad(mlp_loss)(params, x, y), record, params)
    return optim.apply_updates(params, updates), (record["mu"], record["nu"], record["count"])

def hess(x) = hessian(nn.logsumexp)(x)
def jac_mlp(x, w1, b1, w2) = jacrev(lambda v: w2 @ tanh(w1 @ v + b1))(x)
def per_example(w, xs, ys) = vmap(lambda x, y: grad(lambda w: 0.5 * (dot(w, x) - y)**2)(w))(xs, ys)

def normal(seed) = random.normal(random.key(seed), (N,))
def uniform(seed) = random.uniform(random.key(seed), (N,))
def split(seed) = random.key_data(random.split(random.key(seed), 1000))

def lorenz(s0):
    def step(s, _):
        x, y, z = s[0], s[1], s[2]
        ds = stack((10.0*(y - x), x*(28.0 - z) - y, x*y - (8.0/3.0)*z))
        return s + 0.01*ds, s[0]
    return scan(step, s0, None, length=1000)
def rnn(h0, xs, w, u) = scan(lambda h, x: (tanh(w @ h + u @ x), h[0]), h0, xs)
def count(x) = while_loop(lambda c: c[0] < 1000, lambda c: (c[0] + 1, c[1]*0.999 + 1.0), (0, x))
def add_one(x) = x + 1.0
"""


@dataclass
class Row:
    name: str
    jx_name: str  # the jx function, jitted
    args: tuple
    by_hand: object  # NumPy, written by hand
    on_jax: object = None  # jax.numpy / jax.random, given jax.Arrays
    goals: tuple = ("np", "xla")
    calls: str = "jit"  # jit, plain (the cached call) or attribute (m.f(x) every call)
    static: tuple = field(default=())  # positions passed as Python values, not arrays


def numpy_rows(quick: bool, jax):
    rng = np.random.default_rng(0)

    def f32(*shape, scale=1.0):
        return (scale * rng.standard_normal(shape)).astype(np.float32)

    jnp = jax.numpy if jax else None
    rows = []
    for n in (500, 1000) if quick else (1000, 2000, 5000):
        rows.append(Row(f"x+x*x+x*x*x {n}^2 f32", "poly", (f32(n, n),),
                        lambda x: x + x * x + x * x * x, lambda x: x + x * x + x * x * x,
                        ("np", "fused", "xla")))  # fmt: skip
    n = 1000 if quick else 2000
    xyz = (f32(n, n), f32(n, n), f32(n, n))

    def softmax(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def logsumexp(x):
        m = x.max(axis=-1, keepdims=True)
        return (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))[..., 0]

    def layer_norm(x, g, b):
        mu = x.mean(axis=-1, keepdims=True)
        var = np.square(x - mu).mean(axis=-1, keepdims=True)
        return (x - mu) / np.sqrt(var + np.float32(1e-5)) * g + b

    def jax_layer_norm(x, g, b):
        mu = x.mean(axis=-1, keepdims=True)
        return (x - mu) / jnp.sqrt(jnp.square(x - mu).mean(axis=-1, keepdims=True) + 1e-5) * g + b

    gb = (f32(n), f32(n))
    rows += [
        Row(f"sum(x+y*z) {n}^2 f32", "fused_sum", xyz, lambda x, y, z: np.sum(x + y * z),
            lambda x, y, z: jnp.sum(x + y * z), ("np", "fused", "xla")),
        Row(f"softmax {n}^2 f32", "softmax", xyz[:1], softmax,
            jax and partial(jax.nn.softmax, axis=-1), ("np", "fused", "xla")),
        Row(f"logsumexp {n}^2 f32", "logsumexp", xyz[:1], logsumexp,
            jax and partial(jax.nn.logsumexp, axis=-1)),
        Row(f"layer-norm {n}^2 f32", "layer_norm", (xyz[0], *gb), layer_norm, jax and jax_layer_norm,
            ("np", "fused", "xla")),
    ]  # fmt: skip
    rows.append(_mlp_row(f32, rng, jax))
    rows += _ad_rows(f32, jax)
    rows += _random_rows(quick, jax)
    rows += _loop_rows(f32, jax)
    small = np.ones(3, np.float32)
    for calls, goal in (("jit", "call"), ("plain", "call2x"), ("attribute", "call2x")):
        rows.append(Row(f"per call f(x)=x+1 f32[3] ({calls})", "add_one", (small,),
                        lambda x: x + np.float32(1.0), lambda x: x + 1.0, ("np", goal), calls))  # fmt: skip
    return rows


def _mlp_row(f32, rng, jax):
    sizes = (784, 512, 512, 10)
    params = []
    for a, b in itertools.pairwise(sizes):
        params += [f32(a, b, scale=a**-0.5), np.zeros(b, np.float32)]
    params = tuple(params)
    state = (tuple(np.zeros_like(p) for p in params), tuple(np.zeros_like(p) for p in params), 0)
    x = f32(128, 784)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]

    def by_hand(params, state, x, y):
        w1, b1, w2, b2, w3, b3 = params
        a1 = x @ w1 + b1
        h1 = np.maximum(a1, 0)
        a2 = h1 @ w2 + b2
        h2 = np.maximum(a2, 0)
        logits = h2 @ w3 + b3
        e = np.exp(logits - logits.max(axis=-1, keepdims=True))
        d3 = (e / e.sum(axis=-1, keepdims=True) - y) / len(x)
        d2 = (d3 @ w3.T) * (a2 > 0)
        d1 = (d2 @ w2.T) * (a1 > 0)
        grads = (x.T @ d1, d1.sum(0), h1.T @ d2, d2.sum(0), h2.T @ d3, d3.sum(0))
        return _adam(params, state, grads, np.sqrt)

    on_jax = None
    if jax:
        jnp = jax.numpy

        def loss(params, x, y):
            w1, b1, w2, b2, w3, b3 = params
            h = jax.nn.relu(jax.nn.relu(x @ w1 + b1) @ w2 + b2)
            return -jnp.mean(jnp.sum(jax.nn.log_softmax(h @ w3 + b3) * y, axis=-1))

        def on_jax(params, state, x, y):
            return _adam(params, state, jax.grad(loss)(params, x, y), jnp.sqrt)

    return Row("MLP 784-512-512-10 adam step, batch 128", "adam_step", (params, state, x, y),
               by_hand, on_jax)  # fmt: skip


def _adam(params, state, grads, sqrt, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    m, v, t = state
    t = t + 1
    m = tuple(b1 * mi + (1 - b1) * g for mi, g in zip(m, grads))
    v = tuple(b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads))
    step = tuple(-lr * (mi / (1 - b1**t)) / (sqrt(vi / (1 - b2**t)) + eps) for mi, vi in zip(m, v))
    return tuple(p + s for p, s in zip(params, step)), (m, v, t)


def _ad_rows(f32, jax):
    x = f32(100)
    w1, b1, w2 = f32(64, 32, scale=0.2), f32(64), f32(16, 64, scale=0.2)
    w, xs, ys = f32(100), f32(256, 100), f32(256)

    def hess(x):
        p = np.exp(x - x.max())
        p /= p.sum()
        return np.diag(p) - np.outer(p, p)

    def jac_mlp(x, w1, b1, w2):
        h = np.tanh(w1 @ x + b1)
        return (w2 * (1 - h * h)) @ w1

    jnp = jax and jax.numpy
    return [
        Row("hessian(logsumexp) n=100", "hess", (x,), hess,
            jax and jax.hessian(jax.nn.logsumexp)),
        Row("jacrev small MLP 32-64-16", "jac_mlp", (f32(32), w1, b1, w2), jac_mlp,
            jax and (lambda x, w1, b1, w2: jax.jacrev(lambda v: w2 @ jnp.tanh(w1 @ v + b1))(x))),
        Row("vmap(grad) per-example, 256x100", "per_example", (w, xs, ys),
            lambda w, xs, ys: (xs @ w - ys)[:, None] * xs,
            jax and (lambda w, xs, ys: jax.vmap(
                lambda x, y: jax.grad(lambda w: 0.5 * (jnp.dot(w, x) - y) ** 2)(w))(xs, ys))),
    ]  # fmt: skip


def random_size(quick: bool) -> int:
    return 10**6 if quick else 10**7


def _random_rows(quick: bool, jax):
    n = random_size(quick)
    gen = np.random.default_rng(0)
    rows = [
        Row(f"random.normal {n:.0e} f32", "normal", (0,),
            lambda s: gen.standard_normal(n, dtype=np.float32),
            jax and (lambda s: jax.random.normal(jax.random.key(s), (n,)))),
        Row(f"random.uniform {n:.0e} f32", "uniform", (0,),
            lambda s: gen.random(n, dtype=np.float32),
            jax and (lambda s: jax.random.uniform(jax.random.key(s), (n,)))),
        Row("random.split 1000 keys", "split", (0,),
            lambda s: gen.integers(0, 2**32, (1000, 2), dtype=np.uint32),
            jax and (lambda s: jax.random.key_data(jax.random.split(jax.random.key(s), 1000)))),
    ]  # fmt: skip
    for row in rows:
        row.goals = ("np", "rand", "xla")
        row.static = (0,)
    return rows


def _loop_rows(f32, jax):
    s0 = np.ones(3, np.float32)
    h0, xs, w, u = f32(64), f32(1000, 16), f32(64, 64, scale=0.1), f32(64, 16, scale=0.1)

    def lorenz(s):
        firsts = np.empty(1000, np.float32)
        for i in range(1000):
            x, y, z = s
            firsts[i] = x
            s = s + np.float32(0.01) * np.array(
                [10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z], np.float32
            )
        return s, firsts

    def rnn(h, xs, w, u):
        firsts = np.empty(len(xs), np.float32)
        for i, x in enumerate(xs):
            firsts[i] = h[0]
            h = np.tanh(w @ h + u @ x)
        return h, firsts

    def count(x):
        i = 0
        while i < 1000:
            i, x = i + 1, x * np.float32(0.999) + np.float32(1.0)
        return i, x

    on_jax = {}
    if jax:
        jnp, lax = jax.numpy, jax.lax

        def jax_step(s, _):
            x, y, z = s[0], s[1], s[2]
            return s + 0.01 * jnp.stack(
                (10.0 * (y - x), x * (28.0 - z) - y, x * y - (8.0 / 3.0) * z)
            ), s[0]

        on_jax = {
            "lorenz": lambda s: lax.scan(jax_step, s, None, length=1000),
            "rnn": lambda h, xs, w, u: lax.scan(lambda h, x: (jnp.tanh(w @ h + u @ x), h[0]), h, xs),
            "count": lambda x: lax.while_loop(lambda c: c[0] < 1000, lambda c: (c[0] + 1, c[1] * 0.999 + 1.0), (0, x)),
        }  # fmt: skip
    return [
        Row("scan: Lorenz ODE 1000 steps", "lorenz", (s0,), lorenz, on_jax.get("lorenz")),
        Row("scan: RNN 64 hidden, 1000 steps", "rnn", (h0, xs, w, u), rnn, on_jax.get("rnn")),
        Row("while loop 1000 iterations", "count", (s0,), count, on_jax.get("count")),
    ]


def _device(x):
    """Arrays (also inside tuples) as aligned copies, which XLA:CPU takes without copying."""
    if isinstance(x, tuple):
        return tuple(_device(v) for v in x)
    return aligned(x) if isinstance(x, np.ndarray) else x


def contenders(row: Row, modules: dict, jax) -> list:
    """No-argument callables: jx numpy, jx xla, NumPy by hand, jax.jit (None without JAX)."""
    fns = []
    for backend, module in modules.items():
        args = row.args if backend == "numpy" else _device(row.args)
        if row.calls == "attribute":
            fns.append(lambda m=module, a=args: getattr(m, row.jx_name)(*a))
            continue
        f = getattr(module, row.jx_name)
        fns.append(partial(jx.jit(f) if row.calls == "jit" else f, *args))
    fns.append(partial(row.by_hand, *row.args))
    if jax is None or row.on_jax is None:
        fns.append(None)
    elif row.static:  # a seed: traced by jax.jit too
        fns.append(partial(jax.jit(row.on_jax), row.args[0]))
    else:
        on_device = jax.tree_util.tree_map(jax.numpy.asarray, row.args)
        fns.append(partial(jax.jit(row.on_jax), *on_device))
    return fns


def verdicts(row: Row, t_np, t_xla, t_hand, t_jax) -> str:
    checks = {
        "np": lambda: t_np <= t_hand,
        "fused": lambda: t_np <= t_hand / 1.5,
        "rand": lambda: t_jax is not None and t_np <= t_jax,
        "xla": lambda: t_jax is not None and t_xla <= t_jax,
        "call": lambda: t_jax is not None and max(t_np, t_xla) <= t_jax,
        "call2x": lambda: t_jax is not None and max(t_np, t_xla) <= 2 * t_jax,
    }
    return " ".join(
        f"{goal}:{'ok' if checks[goal]() else 'FAIL'}"
        for goal in row.goals
        if t_jax is not None or goal in ("np", "fused")
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=8)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    ap.add_argument("--only", default="", help="run the rows whose name holds this text")
    a = ap.parse_args()
    repeat = 4 if a.quick else a.repeat
    try:
        import jax
    except ImportError:
        jax = None
    env = {"N": random_size(a.quick)}
    modules = {b: jx.compile(SOURCE, backend=b, env=env) for b in ("numpy", "xla")}
    head = ["jx numpy", "jx xla", "NumPy", "jax.jit", "np/NumPy", "np/jax", "xla/jax"]
    print(f"{'workload':42}" + "".join(f"{h:>10}" for h in head) + "  goals")
    for row in numpy_rows(a.quick, jax):
        if a.only not in row.name:
            continue
        fns = contenders(row, modules, jax)
        times = median_times([f for f in fns if f is not None], repeat)
        if fns[-1] is None:
            times.append(None)
        t_np, t_xla, t_hand, t_jax = times
        cells = [f"{t * 1e3:8.3f}ms" if t is not None else f"{'-':>10}" for t in times]
        for num, den in ((t_np, t_hand), (t_np, t_jax), (t_xla, t_jax)):
            cells.append(f"{num / den:10.2f}" if den else f"{'-':>10}")
        print(f"{row.name:42}" + "".join(cells) + "  " + verdicts(row, *times), flush=True)


if __name__ == "__main__":
    main()
