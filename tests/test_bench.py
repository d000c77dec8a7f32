"""`jx bench` run as a user runs it: the table, the JSON it saves, the comparison with a
saved run, and the median's 95% interval checked for its coverage."""

import json
import subprocess
import sys

import numpy as np
import pytest
from jx import bench

FILE = """\
def f(x) = sum(sin(x) * x)

x = linspace(0.0, 1.0, 1000)
# bench: f(x)
# bench: grad(f)(x)
"""


def jx_bench(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "jx.cli", "bench", *args, "--budget", "0.3"],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


@pytest.fixture
def saved(tmp_path):
    (tmp_path / "f.jx").write_text(FILE)
    proc = jx_bench("f.jx", "--backend", "all", "--json", "run.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path, proc.stdout, json.loads((tmp_path / "run.json").read_text())


def test_the_table_and_the_saved_run(saved):
    _, out, run = saved
    header, *rows = out.strip().splitlines()
    assert header.split()[:3] == ["bench", "backend", "median"]
    backends = {r["backend"] for r in run["results"]}
    assert "numpy" in backends and len(rows) == 2 * len(backends)
    assert {r["name"] for r in run["results"]} == {"f(x)", "grad(f)(x)"}
    for r in run["results"]:
        assert 0 < r["low_s"] <= r["median_s"] <= r["high_s"]
        assert r["compile_s"] >= 0 and r["peak_bytes"] > 0
        assert r["calls"] > r["samples"] >= bench.MIN_SAMPLES
    # the f32 array of 1000 elements that sin(x) makes is among the allocations of one call
    numpy_f = next(r for r in run["results"] if r["backend"] == "numpy" and r["name"] == "f(x)")
    assert numpy_f["peak_bytes"] >= 4000


def test_compare_with_a_saved_run(saved):
    folder, _, run = saved
    for r in run["results"]:
        scale = 100.0 if r["name"] == "f(x)" else 0.01
        for key in ("median_s", "low_s", "high_s"):
            r[key] *= scale
    (folder / "old.json").write_text(json.dumps(run))
    proc = jx_bench("f.jx", "--compare", "old.json", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert "f(x) [numpy]:" in proc.stdout and "faster" in proc.stdout.split("f(x) [numpy]:")[1]
    assert "slower" in proc.stdout.split("grad(f)(x) [numpy]:")[1]


def test_a_file_without_bench_lines_is_a_usage_error(tmp_path):
    (tmp_path / "g.jx").write_text("x = 1\n")
    proc = jx_bench("g.jx", cwd=tmp_path)
    assert proc.returncode == 2 and "no '# bench: f(args)' lines" in proc.stderr


def test_an_error_in_a_bench_line_points_at_it(tmp_path):
    (tmp_path / "h.jx").write_text("def f(x) = x\n# bench: f(nowhere)\n")
    proc = jx_bench("h.jx", cwd=tmp_path)
    assert proc.returncode == 1 and "h.jx:2:" in proc.stderr and "NameError" in proc.stderr


def test_the_median_interval_order_statistics():
    samples = list(np.random.default_rng(0).permutation(100).astype(float))
    median, low, high = bench.median_interval(samples)
    assert median == np.median(samples) and (low, high) == (40.0, 60.0)


def test_the_median_interval_covers_the_true_median_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(2000):
        _, low, high = bench.median_interval(rng.lognormal(0.0, 1.0, 31))
        hits += low <= 1.0 <= high  # the median of lognormal(0, 1) is e^0
    assert 0.93 <= hits / 2000 <= 0.995
