"""`jx bench FILE`: timing the calls a `.jx` file names in `# bench: f(args)` comments.

The file's top level runs once (its `print`s captured): it makes the arguments. Each bench
line then calls `jit(f)` with them on each backend asked for: the first call, timed alone,
traces and compiles (reported as the compile time: that call less a steady one); warm-up
calls follow until a tenth of a second has passed; then batches of calls, each batch long
enough to time well, until the 95% interval of the median is within 2% of it or the time
budget is spent. Reported: the median time per call and the 95% interval of the median
(order statistics, no assumption about the distribution), the compile time, the peak host
memory one call allocates (`tracemalloc`: NumPy's buffers; an accelerator's own memory is not
seen) and the number of calls. `--json` saves the run; `--compare OLD.json` sets each
median beside a saved one and says which changed beyond both intervals.
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
import re
import time
import tracemalloc
from functools import partial

from . import api, syntax
from .effects import quiet
from .errors import JxSyntaxError
from .functions import call
from .version import __version__

_BENCH = re.compile(r"^\s*#\s*bench:\s*(.+?)\s*$")
WARMUP_SECONDS = 0.1
BATCH_SECONDS = 0.005  # a batch of calls at least this long, so the clock's grain is small
MIN_SAMPLES = 15
TARGET_HALF_WIDTH = 0.02  # stop when the median's 95% interval is within ±2% of it


@dataclasses.dataclass
class Measurement:
    name: str
    backend: str
    median_s: float
    low_s: float
    high_s: float
    compile_s: float
    peak_bytes: int
    calls: int
    samples: int


def collect(path: str) -> list[tuple[int, str]]:
    """The (line, call expression) of each `# bench:` comment of a file."""
    with open(path, encoding="utf-8-sig") as f:
        lines = f.read().splitlines()
    return [(i + 1, m.group(1)) for i, line in enumerate(lines) if (m := _BENCH.match(line))]


def run_file(path: str, backend: str, budget_s: float = 2.0) -> list[Measurement]:
    """Measure every bench line of a file on one backend."""
    be = api.get_backend(backend)
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    with quiet():
        scope = api.execute(text, path, be)
    results = []
    for line, expr in collect(path):
        fn, args = _prepare(expr, line, path, scope, be)
        with api.using(be):
            results.append(measure(expr, backend, partial(call, fn, args, {}, None), budget_s))
    return results


def _prepare(expr: str, line: int, path: str, scope, be):
    """`jit(f)` and the argument tuple of a bench line `f(args)` (`f` may itself be an
    expression: `grad(loss)(w, x)`), evaluated in the file's scope on the comment's line,
    so that an error points there."""
    split = _last_call(expr)
    if split is None:
        raise JxSyntaxError(f"{path}:{line}: a bench line is a call, f(args), not {expr!r}")
    head, args = expr[:split], expr[split + 1 : -1]
    source = (
        "\n" * (line - 1) + f"__jx_bench = (jit({head}), ({args}{',' if args.strip() else ''}))\n"
    )
    with quiet():
        api.run_module(syntax.parse(source, path), path, be, scope=scope)
    return scope.vars.pop("__jx_bench")


def _last_call(expr: str) -> int | None:
    """The index of the `(` that opens the call ending `expr`, or None if it ends otherwise."""
    if not expr.endswith(")"):
        return None
    depth = 0
    for i in range(len(expr) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(expr[i], 0)
        if depth == 0:
            return i if i > 0 else None
    return None


def measure(name: str, backend: str, run, budget_s: float) -> Measurement:
    """Time `run()`: first call, warm-up, then adaptive batches until the median is known."""
    start = time.perf_counter()
    run()
    first = time.perf_counter() - start
    calls = 1
    warm_until = time.perf_counter() + WARMUP_SECONDS
    while time.perf_counter() < warm_until:
        one = time.perf_counter()
        run()
        single = time.perf_counter() - one
        calls += 1
    batch = max(1, math.ceil(BATCH_SECONDS / max(single, 1e-9)))
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    while True:
        t0 = time.perf_counter()
        for _ in range(batch):
            run()
        samples.append((time.perf_counter() - t0) / batch)
        calls += batch
        if len(samples) >= MIN_SAMPLES:
            median, low, high = median_interval(samples)
            if (high - low) / 2 <= TARGET_HALF_WIDTH * median or time.perf_counter() > deadline:
                break
    tracemalloc.start()
    try:
        run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return Measurement(
        name, backend, median, low, high, max(first - median, 0.0), peak, calls + 1, len(samples)
    )


def median_interval(samples) -> tuple[float, float, float]:
    """The median and a 95% interval for it: the order statistics n/2 ∓ 1.96·√n/2 (the
    binomial count of samples below the true median, in its normal approximation)."""
    ordered = sorted(samples)
    n = len(ordered)
    half = 1.96 * math.sqrt(n) / 2
    low = ordered[max(0, math.floor(n / 2 - half))]
    high = ordered[min(n - 1, math.ceil(n / 2 + half))]
    middle = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return middle, low, high


# ------------------------------------------------------------------ reports


def seconds(s: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def table(results: list[Measurement]) -> str:
    width = max([len(r.name) for r in results] + [5])
    header = f"{'bench':<{width}}  backend  {'median':>9}  {'95% interval':>21}  "
    rows = [header + f"{'compile':>9}  {'peak mem':>9}  calls"]
    for r in results:
        interval = f"[{seconds(r.low_s)}, {seconds(r.high_s)}]"
        rows.append(
            f"{r.name:<{width}}  {r.backend:<7}  {seconds(r.median_s):>9}  {interval:>21}  "
            f"{seconds(r.compile_s):>9}  {size(r.peak_bytes):>9}  {r.calls}"
        )
    return "\n".join(rows)


def to_json(results: list[Measurement], path: str) -> dict:
    return {
        "file": path,
        "jx": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": [dataclasses.asdict(r) for r in results],
    }


def compare(results: list[Measurement], old: dict) -> str:
    """Each result beside the saved one of the same name and backend: the ratio of the
    medians, and a verdict where the two 95% intervals do not overlap."""
    saved = {(r["name"], r["backend"]): r for r in old.get("results", [])}
    rows = []
    for r in results:
        before = saved.get((r.name, r.backend))
        if before is None:
            rows.append(f"{r.name} [{r.backend}]: new")
            continue
        ratio = r.median_s / before["median_s"]
        if r.low_s > before["high_s"]:
            verdict = f"slower ({ratio:.2f}x the time)"
        elif r.high_s < before["low_s"]:
            verdict = f"faster ({1 / ratio:.2f}x)"
        else:
            verdict = f"no change beyond the noise ({ratio:.2f}x)"
        rows.append(
            f"{r.name} [{r.backend}]: {seconds(before['median_s'])} -> {seconds(r.median_s)}, "
            + verdict
        )
    return "\n".join(rows)


def load_json(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)
