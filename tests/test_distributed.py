"""Runs of several processes on XLA's distributed runtime, on the loopback: pmap's
collectives across 2 and 4 processes, data-parallel training by sharded jit equal to the
single-process run, print/save on process 0, and the failures (a process that dies, one
that fails, one that never joins, a coordinator port in use) that must end every process
with a clean error within the timeout. Sharded jit on one process, the HLO sharding
strings and the cluster settings are checked in this process."""

import os
import socket
import subprocess
import sys
import textwrap
import time

import jx
import numpy as np
import pytest
from jx import distributed
from jx.formatting import format_value
from jx.functions import trace_function

pytest.importorskip("jax")
from jx.backends.xla import runtime as xla
from jx.backends.xla.sharding import hlo_sharding


def _env(devices: int) -> dict:
    # This process's XLA_FLAGS already fix its own device count: the children choose theirs.
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    return {**env, "JX_CPU_DEVICES": str(devices), "JX_XLA_CACHE_DIR": ""}


def _lines(stdout: str) -> list[str]:
    """The program's output lines: gloo reports its connections on stdout too, and the
    processes' writes may interleave with its line pieces."""
    noise = ("[Gloo]", "peer ranks")
    return [ln for ln in stdout.splitlines() if ln and not any(n in ln for n in noise)]


def jx_run(tmp_path, source: str, *flags, devices=2, timeout=90):
    path = tmp_path / "script.jx"
    path.write_text(textwrap.dedent(source))
    command = [sys.executable, "-m", "jx.cli", "run", str(path), "--backend", "xla", *flags]
    return subprocess.run(command, check=False, capture_output=True, text=True, cwd=tmp_path,
                          env=_env(devices), timeout=timeout)  # fmt: skip


#: Every process prints its line; the plain print and save come from process 0 alone.
COLLECTIVES = """
n = local_device_count()
x = (arange(n) + process_index() * n).astype(f32)
s = pmap(lambda v: psum(v, "i"), axis_name="i")(x)
g = pmap(lambda v: all_gather(v, "i"), axis_name="i")(x)
i = pmap(lambda v: axis_index("i"), axis_name="i")(x)
m = pmap(lambda v: pmax(v, "i"), axis_name="i")(x)
print(process_index(), process_count(), device_count(), n, s, g[0], i, m, all_processes=True)
save("part-{process}.npy", i)
save("whole.npy", g[0] + process_index())
print("once from", process_index())
"""


@pytest.mark.parametrize("processes, devices", [(2, 2), (4, 1)])
def test_pmap_collectives_span_every_process(tmp_path, processes, devices):
    done = jx_run(tmp_path, COLLECTIVES, "--processes", str(processes), devices=devices)
    assert done.returncode == 0, done.stderr
    total = processes * devices
    everything = np.arange(total, dtype=np.float32)
    lines = sorted(_lines(done.stdout))
    assert lines[-1] == "once from 0"  # print and save act on process 0 unless asked
    lines = lines[:-1]
    assert len(lines) == processes
    for p, line in enumerate(lines):
        mine = everything[p * devices : (p + 1) * devices]
        head = f"{p} {processes} {total} {devices} "
        assert line.startswith(head), line
        # psum: every device holds the sum over all processes' devices; all_gather: all of
        # them in process order; axis_index: the global index; pmax: the global max.
        expect = [np.full(devices, everything.sum(), np.float32), everything,
                  mine.astype(np.int32), np.full(devices, everything.max(), np.float32)]  # fmt: skip
        assert line == head + " ".join(map(format_value, expect))
        np.testing.assert_array_equal(np.load(tmp_path / f"part-{p}.npy"), mine.astype(np.int32))
    np.testing.assert_array_equal(np.load(tmp_path / "whole.npy"), everything)


TRAINING = """
import optim
import random
def loss(params, x, y) = mean(square(tanh(x @ params["w"] + params["b"]) @ params["v"] - y))
opt_init, opt_update = optim.adam(1e-2)
def step(params, state, x, y):
    value, grads = value_and_grad(loss)(params, x, y)
    updates, state = opt_update(grads, state, params)
    return optim.apply_updates(params, updates), state, value
mesh = Mesh((device_count(),), ("data",))
whole = NamedSharding(mesh, PartitionSpec())
rows = NamedSharding(mesh, PartitionSpec("data"))
step = jit(step, in_shardings=(whole, whole, rows, rows), out_shardings=whole)
k1, k2, k3 = random.split(random.key(1), 3)
x = random.normal(k1, (64, 3))
y = sin(x[:, :1])
params = {"w": random.normal(k2, (3, 16)) * 0.5, "b": zeros(16),
          "v": random.normal(k3, (16, 1)) * 0.5}
state = opt_init(params)
for _ in range(40):
    params, state, value = step(params, state, x, y)
final = loss(params, x, y)
print(process_count(), device_count(), final)
save("params.npz", w=params["w"], b=params["b"], v=params["v"], loss=final)
"""


def test_data_parallel_training_equals_the_single_process_run(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    single = jx_run(one, TRAINING, devices=1)
    assert single.returncode == 0, single.stderr
    assert _lines(single.stdout)[0].startswith("1 1 ")
    several = jx_run(two, TRAINING, "--processes", "2", devices=2)
    assert several.returncode == 0, several.stderr
    assert _lines(several.stdout)[0].startswith("2 4 ")
    a, b = np.load(one / "params.npz"), np.load(two / "params.npz")
    for name in ("w", "b", "v", "loss"):
        np.testing.assert_allclose(b[name], a[name], rtol=1e-6, atol=1e-6)
    assert a["loss"] < 0.5


DIES = """
import os, sys
import numpy as np
import jx
index, count = jx.distributed.initialize(sys.argv[1], 2, int(sys.argv[2]), timeout_s=2)
m = jx.compile('f = pmap(lambda v: psum(v, "i"), axis_name="i")', backend="xla")
print(index, m.f(np.ones(1, np.float32)), flush=True)
if index == 1:
    os._exit(7)
m.f(np.ones(1, np.float32))
"""


def _port() -> int:
    return distributed.free_port()


def test_a_process_that_dies_stops_the_others_with_an_error(tmp_path):
    script = tmp_path / "dies.py"
    script.write_text(DIES)
    address = f"127.0.0.1:{_port()}"
    start = time.monotonic()
    procs = [subprocess.Popen([sys.executable, str(script), address, str(i)], env=_env(1),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=60) for p in procs]
    assert procs[1].returncode == 7, outs[1]
    assert _lines(outs[0][0]) == ["0 [2.]"]  # psum across the two processes, before the end
    assert procs[0].returncode == 1, outs[0]
    assert "JxRuntimeError: process 1 of 2 stopped answering (no heartbeat for 2 s)" in outs[0][1]
    assert "Traceback" not in outs[0][1]
    assert time.monotonic() - start < 45


def test_a_failing_process_stops_the_others_naming_it(tmp_path):
    source = """
    x = pmap(lambda v: psum(v, "i"), axis_name="i")(ones(1))
    y = ones(3) @ ones(4) if process_index() == 1 else x
    z = pmap(lambda v: psum(v, "i"), axis_name="i")(ones(1))
    """
    done = jx_run(tmp_path, source, "--processes", "2", devices=1)
    assert done.returncode == 1
    assert "script.jx:3:5: ShapeError: matmul" in done.stderr
    assert "JxRuntimeError: process 1 of 2 failed: matmul" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_process_that_never_joins_is_a_clean_error(tmp_path):
    start = time.monotonic()
    flags = ["--coordinator", f"127.0.0.1:{_port()}", "--num-processes", "2", "--process-id",
             "0", "--timeout", "2"]  # fmt: skip
    done = jx_run(tmp_path, "print(1)\n", *flags, devices=1)
    assert done.returncode == 1
    assert "the 2 processes did not all join the coordinator" in done.stderr
    assert "within 2 s" in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - start < 30


def test_a_coordinator_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        port = busy.getsockname()[1]
        flags = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id",
                 "0"]  # fmt: skip
        done = jx_run(tmp_path, "print(1)\n", *flags, devices=1)
    assert done.returncode == 1
    assert f"the coordinator port {port} is in use on this host" in done.stderr


def test_processes_needs_the_xla_backend(tmp_path):
    path = tmp_path / "s.jx"
    path.write_text("print(1)\n")
    command = [sys.executable, "-m", "jx.cli", "run", str(path), "--processes", "2"]
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=_env(1))
    assert done.returncode == 2 and "--backend xla" in done.stderr


# -------------------------------------------------------------------- in this process


def test_hlo_sharding_strings():
    assert hlo_sharding((), 2, (4,), ("d",)) == "{replicated}"
    assert hlo_sharding(("d",), 2, (4,), ("d",)) == "{devices=[4,1]0,1,2,3}"
    assert hlo_sharding(("x",), 2, (2, 2), ("x", "y")) == (
        "{devices=[2,1,2]0,1,2,3 last_tile_dim_replicate}"
    )
    assert hlo_sharding((None, "x"), 2, (2, 2), ("x", "y")) == (
        "{devices=[1,2,2]0,1,2,3 last_tile_dim_replicate}"
    )
    assert hlo_sharding((None, "y"), 2, (2, 2), ("x", "y")) == (
        "{devices=[1,2,2]0,2,1,3 last_tile_dim_replicate}"
    )
    assert hlo_sharding(("y", "x"), 2, (2, 2), ("x", "y")) == "{devices=[2,2]0,2,1,3}"


SHARDED = """
mesh = Mesh((2, 2), ("x", "y"))
def f(a, b) = (a @ b, sum(a, axis=1))
g = jit(f, in_shardings=(NamedSharding(mesh, PartitionSpec("x", "y")),
                         NamedSharding(mesh, PartitionSpec("y", None))),
        out_shardings=(NamedSharding(mesh, PartitionSpec(None, "y")),
                       NamedSharding(mesh, PartitionSpec("x"))))
"""


@pytest.mark.parametrize("backend", ["xla", "numpy"])
def test_sharded_jit_on_a_2d_mesh_matches_numpy(backend):
    if backend == "xla" and xla.device_count() < 4:
        pytest.skip("jax started its CPU client before the xla backend asked for devices")
    m = jx.compile(SHARDED, backend=backend)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 6)).astype(np.float32), rng.normal(size=(6, 8)).astype(np.float32)
    prod, sums = m.g(a, b)
    np.testing.assert_allclose(prod, a @ b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sums, a.sum(1), rtol=1e-5)


def test_sharded_jit_lowers_with_sharding_annotations():
    if xla.device_count() < 4:
        pytest.skip("jax started its CPU client before the xla backend asked for devices")
    program = trace_function(jx.fn("lambda a: a * 2.0").value, [np.ones((4, 2), np.float32)],
                             {}, None).program  # fmt: skip
    exe = xla.compile_sharded(program, (2, 2), ("x", "y"), [("x", "y")], [("x",)])
    assert "mhlo.num_partitions = 4" in exe.text
    assert 'mhlo.sharding = "{devices=[2,2]0,1,2,3}"' in exe.text
    assert 'mhlo.sharding = "{devices=[2,1,2]0,1,2,3 last_tile_dim_replicate}"' in exe.text
    a = np.arange(8, dtype=np.float32).reshape(4, 2)
    np.testing.assert_array_equal(exe(a)[0], a * 2)


@pytest.mark.parametrize(
    "source, message",
    [
        ('m = Mesh((2,), ("a", "b"))', "one axis name"),
        ('m = Mesh((2,), "a")\ns = NamedSharding(m, PartitionSpec("b"))', "not an axis of"),
        ('m = Mesh((2,), "a")\ns = NamedSharding(m, PartitionSpec("a", "a"))', "same mesh axis"),
        (
            (
                'm = Mesh((3,), "a")\nf = jit(lambda x: x * 2, in_shardings=NamedSharding(m, '
                'PartitionSpec("a")))\ny = f(ones(4))'
            ),
            "does not split evenly",
        ),
        (
            (
                'm = Mesh((64,), "a")\nf = jit(lambda x: x * 2, in_shardings=NamedSharding(m, '
                "PartitionSpec()))\ny = f(ones(4))"
            ),
            "only",
        ),
        ("f = jit(lambda x: x * 2, in_shardings=3)\ny = f(ones(4))", "NamedSharding"),
    ],
)
def test_sharding_mistakes_are_jx_errors(source, message):
    with pytest.raises(jx.JxError, match=message):
        jx.compile(source, backend="xla")


def test_cluster_settings_come_from_arguments_then_jx_then_slurm(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("JX_COORDINATOR", "JX_NUM_PROCESSES", "JX_PROCESS_ID", "SLURM_")):
            monkeypatch.delenv(name)
    assert not distributed.joins_a_run(None, None, None)
    assert distributed.cluster_settings("h:1", 2, 1) == ("h:1", 2, 1)
    monkeypatch.setenv("JX_COORDINATOR", "10.0.0.1:1234")
    monkeypatch.setenv("JX_NUM_PROCESSES", "4")
    monkeypatch.setenv("JX_PROCESS_ID", "3")
    assert distributed.joins_a_run(None, None, None)
    assert distributed.cluster_settings(None, None, None) == ("10.0.0.1:1234", 4, 3)
    for name in ("JX_COORDINATOR", "JX_NUM_PROCESSES", "JX_PROCESS_ID"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("SLURM_STEP_NODELIST", "node[07-09,12]")
    monkeypatch.setenv("SLURM_NTASKS", "4")
    monkeypatch.setenv("SLURM_PROCID", "2")
    monkeypatch.setenv("SLURM_JOB_ID", "4005")
    assert distributed.joins_a_run(None, None, None)
    assert distributed.cluster_settings(None, None, None) == ("node07:61005", 4, 2)
    monkeypatch.setenv("SLURM_STEP_NODELIST", "gpu-a1,gpu-a2")
    assert distributed.cluster_settings(None, None, None)[0] == "gpu-a1:61005"
    monkeypatch.delenv("SLURM_STEP_NODELIST")
    with pytest.raises(jx.ValueError, match="needs coordinator, num_processes, process_id"):
        distributed.cluster_settings(None, None, None)


def test_a_single_process_run_is_process_zero_of_one():
    m = jx.compile("a = process_index()\nb = process_count()\nc = local_device_count()\n")
    assert (m.a, m.b) == (0, 1) and m.c >= 1
    assert jx.process_index() == 0 and jx.process_count() == 1


def test_jit_with_only_none_shardings_is_plain_jit():
    m = jx.compile(
        "f = jit(lambda x: x * 2.0, in_shardings=(None,))\ny = f(ones(4))\n", backend="xla"
    )
    np.testing.assert_array_equal(m.y, np.full(4, 2.0, np.float32))


def test_stdin_scripts_run_on_every_process(tmp_path):
    command = [sys.executable, "-m", "jx.cli", "run", "-", "--backend", "xla", "--processes", "2"]
    source = "print(process_count())\n"
    done = subprocess.run(command, input=source, check=False, capture_output=True, text=True,
                          env=_env(1), timeout=90)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout) == ["2"]


def test_pmap_inside_jit_refuses_to_span_processes(monkeypatch):
    monkeypatch.setitem(distributed._PROCESS, "count", 2)
    source = 'f = jit(lambda x: pmap(lambda v: psum(v, "i"), axis_name="i")(x))\ny = f(ones(2))\n'
    with pytest.raises(jx.ValueError, match="cannot span the processes"):
        jx.compile(source)
