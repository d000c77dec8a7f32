"""Data-parallel MLP training step on the XLA backend: 2 processes against 1, same batch.

    python benchmarks/bench_distributed.py [--steps N] [--batch B] [--width W]

One row per layout of the same 2-device mesh and the same global batch: one process with
2 CPU devices, and 2 processes with 1 device each on the loopback (gloo all-reduce
between them); plus one process with 1 device as the baseline. Each row is the median
wall time of a jitted step (loss, gradient, Adam update, `in_shardings` splitting the
batch over the mesh) after a warm-up, as process 0 measured it. The machine may be
shared: read the ratios, not single timings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

SOURCE = """
import optim
import random
def loss(params, x, y) = mean(square(tanh(x @ params["w1"] + params["b1"]) @ params["w2"] - y))
opt_init, opt_update = optim.adam(1e-3)
def step(params, state, x, y):
    value, grads = value_and_grad(loss)(params, x, y)
    updates, state = opt_update(grads, state, params)
    return optim.apply_updates(params, updates), state, value
mesh = Mesh((device_count(),), ("data",))
whole = NamedSharding(mesh, PartitionSpec())
rows = NamedSharding(mesh, PartitionSpec("data"))
step = jit(step, in_shardings=(whole, whole, rows, rows), out_shardings=whole)
"""


def worker(args) -> None:
    import jx
    import numpy as np

    if args.processes > 1:
        jx.distributed.initialize(args.coordinator, args.processes, args.process_id)
    m = jx.compile(SOURCE, backend="xla")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch, args.width)).astype(np.float32)
    y = rng.normal(size=(args.batch, 1)).astype(np.float32)
    params = {
        "w1": (rng.normal(size=(args.width, args.width)) / args.width**0.5).astype(np.float32),
        "b1": np.zeros(args.width, np.float32),
        "w2": (rng.normal(size=(args.width, 1)) / args.width**0.5).astype(np.float32),
    }
    state = m.opt_init(params)
    times = []
    for i in range(args.steps + 3):
        start = time.perf_counter()
        params, state, value = m.step(params, state, x, y)
        if i >= 3:  # the first steps compile
            times.append(time.perf_counter() - start)
    if jx.process_index() == 0:
        print(f"{statistics.median(times) * 1e3:.3f} {float(value):.6f}", flush=True)


def run(processes: int, devices: int, args) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["JX_CPU_DEVICES"] = str(devices)
    base = [sys.executable, __file__, "--worker", "--processes", str(processes),
            "--steps", str(args.steps), "--batch", str(args.batch), "--width", str(args.width)]  # fmt: skip
    if processes > 1:
        from jx import distributed

        base += ["--coordinator", f"127.0.0.1:{distributed.free_port()}"]
    procs = [
        subprocess.Popen(
            [*base, "--process-id", str(i)], env=env, stdout=subprocess.PIPE, text=True
        )
        for i in range(processes)
    ]
    outs = [p.communicate()[0] for p in procs]
    line = [ln for ln in outs[0].splitlines() if not ln.startswith("[Gloo]")][-1]
    ms, loss = line.split()
    return float(ms), float(loss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--process-id", type=int, default=0)
    parser.add_argument("--coordinator")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    print(f"data-parallel MLP step, batch {args.batch}, width {args.width}, {args.steps} steps")
    print(f"{'layout':34} {'ms/step':>9} {'vs 1x2':>7} {'loss':>10}")
    rows = [("1 process x 1 device", 1, 1), ("1 process x 2 devices", 1, 2),
            ("2 processes x 1 device (gloo)", 2, 1)]  # fmt: skip
    results = {name: run(p, d, args) for name, p, d in rows}
    reference = results["1 process x 2 devices"][0]
    for name, (ms, loss) in results.items():
        print(f"{name:34} {ms:9.2f} {ms / reference:7.2f} {loss:10.6f}")


if __name__ == "__main__":
    main()
