"""The XLA backend: jx programs lowered to StableHLO (`lower.py`), compiled by the PJRT
client that jaxlib provides and run on its device buffers.

`run_eqn` runs one primitive through a small executable cached per primitive, params and
argument types (eager top-level code); `run` and `compile` (what `jit` uses) run a whole
program as one executable, compiled once per program and platform, and kept on disk
between runs (XLA takes ~0.1 s to compile even one op). Equations that do not lower (a
primitive without a rule) run on the host through the NumPy backend, between compiled
segments. Results come back as `np.ndarray`, which is what the rest of jx treats as a
concrete array: on CPU that is a view of the device buffer, which a later call takes
back without a copy (as it does any 64-byte aligned array), so chained calls copy
nothing; on a GPU each call's results cross to the host. The platform is `cpu`, `gpu` or
`tpu` (`use_device`, or the `JX_XLA_DEVICE` variable; jax's default otherwise). On CPU,
XLA is asked for `JX_CPU_DEVICES` (8 by default) host devices before jax starts, so that
`pmap` maps over real XLA devices: pmap's `backend.pmap` hook compiles the per-shard
program once with one replica per shard, its collectives lowered to `all_reduce` /
`all_gather` over one replica group. In a run of several processes (`distributed.py`)
the replicas are the first devices of every process, each process feeding its own shards
(as multi-controller JAX does), and `compile_sharded` (sharded `jit`) compiles one SPMD
program partitioned over a device mesh (`sharding.py`). f64 values stay f64: buffers are
made with x64 enabled for the transfer, whatever jax's own setting.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
import tempfile

import numpy as np
from jx.backends import numpy as numpy_backend
from jx.dtypes import ShapedArray
from jx.errors import ValueError as JxValueError
from jx.ir import Eqn, Literal, Program, Var
from jx.primitives.collectives import COLLECTIVES
from jx.primitives.control import cond_p, while_p

name = "xla"
PLATFORMS = ("cpu", "gpu", "tpu")
DEFAULT_CPU_DEVICES = 8
CACHE_LIMIT = 1024


def _request_cpu_devices() -> None:
    """Ask XLA for several host devices; it reads the flag once, when jax starts its CPU
    client, so this must run before any jax computation in the process."""
    flags = os.environ.get("XLA_FLAGS", "")
    text = os.environ.get("JX_CPU_DEVICES", str(DEFAULT_CPU_DEVICES))
    if "xla_force_host_platform_device_count" in flags or not text.isdigit() or int(text) < 1:
        return
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={text}".strip()


_request_cpu_devices()

# Imported after the request above, which jax reads when it starts.
import jax
import jax.extend.backend
from jax.sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding
from jaxlib import _jax, xla_client
from jx.transforms.pmap import has_collectives, run_shards

from . import distributed, sharding
from .distributed import process_count, process_index
from .lower import RULES, module_text

_chosen: str | None = None
_clients: dict[str, object] = {}


def use_device(which: str | None) -> None:
    """Run on platform `which` (cpu, gpu or tpu; None keeps the current one, by default
    JX_XLA_DEVICE or jax's default); a JxValueError when jaxlib offers no such platform."""
    global _chosen
    _client(which)
    if which is not None:
        _chosen = which


def platform() -> str:
    """The platform programs run on now."""
    chosen = _chosen or os.environ.get("JX_XLA_DEVICE") or jax.default_backend()
    return "gpu" if chosen in ("cuda", "rocm") else chosen


def _client(which: str | None = None):
    which = which or platform()
    client = _clients.get(which)
    if client is None:
        if which not in PLATFORMS:
            raise JxValueError(f"unknown device '{which}'; choose one of {', '.join(PLATFORMS)}")
        try:
            client = jax.extend.backend.get_backend(which)
        except RuntimeError:
            have = ", ".join(sorted(jax.extend.backend.backends()))
            raise JxValueError(f"the xla backend has no {which} device here (jaxlib offers: "
                               f"{have})") from None  # fmt: skip
        _clients[which] = client
    return client


def devices() -> list:
    """The devices of every process of the run, in process order."""
    return sorted(_client().devices(), key=lambda d: (d.process_index, d.id))


def local_devices() -> list:
    return list(_client().local_devices())


def device_count() -> int:
    """The devices of all processes (on CPU: JX_CPU_DEVICES each, set before jax started)."""
    return len(devices())


def local_device_count() -> int:
    """The devices of this process, which `pmap` maps over (in a run of several processes
    each one maps its own part of the axis)."""
    return len(local_devices())


def _replica_devices(shards: int) -> list:
    """pmap's devices: the first `shards` of every process, in process order."""
    by_process: dict[int, list] = {}
    for d in devices():
        by_process.setdefault(d.process_index, []).append(d)
    return [d for p in sorted(by_process) for d in by_process[p][:shards]]


# -------------------------------------------------------------------- transfers

_SHARDINGS: dict = {}
_AVALS: dict = {}
_ZERO_COPY = _jax.HostBufferSemantics.ZERO_COPY


def _put(x, device):
    """A host array as a buffer on `device` (no copy where the platform can share memory)."""
    x = np.asarray(x)
    sharding = _SHARDINGS.get(device)
    if sharding is None:
        sharding = _SHARDINGS[device] = SingleDeviceSharding(device)
    aval = _AVALS.get((x.shape, x.dtype))
    if aval is None:
        if len(_AVALS) > CACHE_LIMIT:
            _AVALS.clear()
        aval = _AVALS[(x.shape, x.dtype)] = jax.core.ShapedArray(x.shape, x.dtype)
    return _jax.batched_device_put(aval, sharding, [x], [device], True, False, _ZERO_COPY,
                                   True)  # fmt: skip


def to_host(x) -> np.ndarray:
    return np.asarray(x)


# -------------------------------------------------------------------- executables


def _cache_dir() -> str | None:
    """Where compiled executables are kept between runs: JX_XLA_CACHE_DIR, by default
    ~/.cache/jx/xla; an empty JX_XLA_CACHE_DIR turns the cache off."""
    default = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                           "jx", "xla")  # fmt: skip
    return os.environ.get("JX_XLA_CACHE_DIR", default) or None


def _host_stamp() -> str:
    """The host's CPU model and features: CPU code is compiled for the machine it runs on."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags", "Features"))]
    except OSError:
        lines = []
    return hashlib.sha256("".join(sorted(set(lines))).encode()).hexdigest()[:16]


_HOST = _host_stamp()


def _load(client, path: str, device_list, options):
    """A cached executable, or None where there is none (or one this jaxlib cannot read)."""
    try:
        with open(path, "rb") as f:
            return client.deserialize_executable(f.read(), device_list, options)
    except (OSError, RuntimeError):
        return None


def _compile(client, text: str, devices, partitioned: bool = False):
    """Compile a module for `devices` (one replica each, or one SPMD partition each when
    `partitioned`), or load it from the disk cache: XLA takes about 0.1 s for even a
    one-op module, loading a compiled one 2 ms."""
    options = xla_client.CompileOptions()
    build = options.executable_build_options
    ids = np.array([d.id for d in devices])
    if partitioned:
        options.num_partitions = build.num_partitions = len(devices)
        build.use_spmd_partitioning = True
        assignment = ids.reshape(1, -1)
    else:
        options.num_replicas = build.num_replicas = len(devices)
        assignment = ids.reshape(-1, 1)
    options.device_assignment = xla_client.DeviceAssignment.create(assignment)
    device_list = xla_client.DeviceList(tuple(devices))
    folder = _cache_dir()
    path = None
    if folder is not None:
        stamp = f"{jax.__version__}|{client.platform_version}|{devices[0].device_kind}|{_HOST}|"
        layout = f"{partitioned}|{process_count()}|{ids.tolist()}|"
        digest = hashlib.sha256((stamp + layout + text).encode()).hexdigest()
        path = os.path.join(folder, digest[:40])
        cached = _load(client, path, device_list, options)
        if cached is not None:
            return cached
    executable = client.compile_and_load(text.encode(), device_list, options)
    if path is not None:
        try:
            os.makedirs(folder, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=folder)
            with os.fdopen(fd, "wb") as f:
                f.write(client.serialize_executable(executable))
            os.replace(temp, path)
        except OSError:
            pass
    return executable


class Executable:
    """One program compiled for the current platform: on one device, or with one replica
    per device (pmap: `shards` devices of every process), where every parameter and result
    gains a leading axis of 1."""

    def __init__(self, program: Program, shards: int | None = None):
        client = _client()
        self.devices = local_devices()[:1] if shards is None else _replica_devices(shards)
        self.text, consts = module_text(program, shards and len(self.devices))
        self.executable = _compile(client, self.text, self.devices)
        if shards is None:
            self.consts = [_put(c, self.devices[0]) for c in consts]
            # Each parameter's placement, made once: its aval, and the device as a list.
            self.params = [
                (v.aval.shape, np.dtype(v.aval.dtype), jax.core.ShapedArray(v.aval.shape, v.aval.dtype))
                for v in program.inputs
            ]  # fmt: skip
            self.sharding = SingleDeviceSharding(self.devices[0])
        else:
            mesh = Mesh(np.array(self.devices), ("replicas",))
            self.stacked = NamedSharding(mesh, PartitionSpec("replicas"))
            self.local = [d for d in self.devices if d.process_index == process_index()]
            whole = NamedSharding(mesh, PartitionSpec())
            self.consts = [sharding.place(c, whole, _put) for c in consts]

    def __call__(self, *args) -> list[np.ndarray]:
        device, sharding = self.devices[0], self.sharding
        on_device = [device]
        buffers = []
        for x, (shape, dtype, aval) in zip(args, self.params):
            if type(x) is np.ndarray and x.shape == shape and x.dtype == dtype:
                buffers.append(_jax.batched_device_put(aval, sharding, [x], on_device, True,
                               False, _ZERO_COPY, True))  # fmt: skip
            else:
                buffers.append(_put(x, device))
        results = self.executable.execute(buffers + self.consts)
        return [np.asarray(r) for r in results]

    def run_replicas(self, shards) -> list[list[np.ndarray]]:
        """Shard i's arguments on this process's device i; each shard's list of results."""
        columns = []
        for values in zip(*shards):
            parts = [_put(np.asarray(v)[None], d) for v, d in zip(values, self.local)]
            shape = (len(self.devices),) + parts[0].shape[1:]
            columns.append(jax.make_array_from_single_device_arrays(shape, self.stacked, parts))
        results = self.executable.execute_sharded(columns + self.consts)
        per_output = results.disassemble_into_single_device_arrays()
        return [[np.asarray(out[i])[0] for out in per_output] for i in range(len(shards))]


class _Cache(dict):
    def put(self, key, value):
        if len(self) >= CACHE_LIMIT:
            self.clear()
        self[key] = value
        return value


_EQNS = _Cache()
_PROGRAMS = _Cache()


def _param_key(value):
    if isinstance(value, Program):
        return ("program", id(value))
    if isinstance(value, (tuple, list)):
        return tuple(_param_key(v) for v in value)
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype, value.tobytes())
    return value


#: Collectives meet other shards: only a replicated (pmap) executable holds them; alone they
#: run on the host, where pmap's shard threads exchange values.
_COLLECTIVES = frozenset(COLLECTIVES)


def lowerable(program: Program, replicated: bool = False) -> bool:
    """Whether the program compiles as a whole: every equation (in every sub-program too)
    has a lowering rule, collectives only in a replicated program, and none of them under a
    `while` or `cond`, which some replicas might skip (XLA would then wait forever, where
    pmap's shard threads report the divergence)."""
    for eqn in program.eqns:
        prim, subs = eqn.prim, list(_programs(eqn.params))
        if prim not in RULES or (prim in _COLLECTIVES and not replicated):
            return False
        if replicated and prim in (while_p, cond_p) and any(map(has_collectives, subs)):
            return False
        if not all(lowerable(p, replicated) for p in subs):
            return False
    return True


def _programs(params):
    for value in params.values():
        for p in value if isinstance(value, tuple) else (value,):
            if isinstance(p, Program):
                yield p


def _on_host(prim, params) -> bool:
    return prim not in RULES or prim in _COLLECTIVES or not all(map(lowerable, _programs(params)))


class Segmented:
    """A program holding equations that do not lower (a primitive without a rule, or a
    collective outside pmap's executable): each run of lowerable equations between them is
    compiled as one executable, and they run on the host through the NumPy backend."""

    def __init__(self, program: Program):
        self.program = program
        self.steps = []  # (Executable or None, input Vars, output Vars or the host Eqn)
        needed = {v for v in program.outputs if type(v) is not Literal}
        later = []  # later[i]: the Vars used by equations after i, or by the outputs
        for eqn in reversed(program.eqns):
            later.append(set(needed))
            needed.update(v for v in eqn.inputs if type(v) is not Literal)
        later.reverse()
        run: list[Eqn] = []
        for i, eqn in enumerate(program.eqns):
            if _on_host(eqn.prim, eqn.params):
                self._add_run(run, later[i - 1] if i else set())
                self.steps.append((None, eqn.inputs, eqn))
                run = []
            else:
                run.append(eqn)
        self._add_run(run, later[-1] if program.eqns else set())

    def _add_run(self, eqns, used_after) -> None:
        defined = {v for e in eqns for v in e.outputs}
        inputs = list(dict.fromkeys(
            v for e in eqns for v in e.inputs if type(v) is not Literal and v not in defined))  # fmt: skip
        outputs = [v for e in eqns for v in e.outputs if v in used_after]
        if outputs:
            self.steps.append((Executable(Program(inputs, eqns, outputs)), inputs, outputs))

    def __call__(self, *args) -> list[np.ndarray]:
        env = dict(zip(self.program.inputs, args))
        read = lambda v: v.value if type(v) is Literal else env[v]
        for exe, inputs, target in self.steps:
            if exe is None:
                outs = numpy_backend.run_eqn(target.prim, [read(v) for v in inputs], target.params)
                env.update(zip(target.outputs, outs))
            else:
                env.update(zip(target, exe(*(env[v] for v in inputs))))
        return [np.asarray(read(v)) for v in self.program.outputs]


def _runner(program: Program):
    """One executable for the program, or its segments where some equations do not lower."""
    return Executable(program) if lowerable(program) else Segmented(program)


def _cached(program: Program, shards: int | None = None):
    """The cached runner of a program (kept alive by the cache, so its id stays its own)."""
    key = (id(program), platform(), shards)
    entry = _PROGRAMS.get(key)
    if entry is None or entry[0] is not program:
        runner = _runner(program) if shards is None else Executable(program, shards)
        entry = _PROGRAMS.put(key, (program, runner))
    return entry[1]


def run_eqn(prim, args, params) -> list[np.ndarray]:
    """Run one primitive through its own small executable; always a list of ndarrays.
    A primitive without a lowering rule runs on the host, through the NumPy backend."""
    args = [np.asarray(a) for a in args]
    if _on_host(prim, params):
        return numpy_backend.run_eqn(prim, args, params)
    key = (prim, platform(), tuple((a.shape, a.dtype) for a in args),
           tuple((k, _param_key(v)) for k, v in params.items()))  # fmt: skip
    exe = _EQNS.get(key)
    if exe is None:
        inputs = [Var(ShapedArray(a.shape, a.dtype, False)) for a in args]
        outputs = [Var(a) for a in prim.abstract_eval(*(v.aval for v in inputs), **params)]
        program = Program(inputs, [Eqn(prim, inputs, outputs, params, None)], outputs)
        exe = _EQNS.put(key, Executable(program))
    return exe(*args)


def run(program: Program, args) -> list[np.ndarray]:
    """Run a whole program as one executable, compiled on its first run."""
    return _cached(program)(*args)


class Compiled:
    """`compile(program)`: one executable per platform, compiled on the first call."""

    def __init__(self, program: Program):
        self.program = program
        self.runners: dict[str, object] = {}

    def __call__(self, *args) -> list[np.ndarray]:
        which = platform()
        runner = self.runners.get(which)
        if runner is None:
            runner = self.runners[which] = _runner(self.program)
        return runner(*args)


def compile(program: Program) -> Compiled:
    return Compiled(program)


def pmap(program: Program, shards, axis_name) -> list[list[np.ndarray]]:
    """pmap's hook: run the per-shard program with one replica per shard, in one go (or, if
    some of it does not lower, shard by shard on pmap's threads)."""
    # One shard is no replicated module (its parameters have no replica axis).
    alone = len(shards) == 1 and process_count() == 1
    if alone or not lowerable(program, replicated=True):
        if process_count() > 1:
            raise JxValueError(
                "pmap across processes needs a function the xla backend compiles whole "
                "(every primitive lowered, no collective under a traced if or while)"
            )
        return run_shards(sys.modules[__name__], program, shards, axis_name, None)
    try:
        return _cached(program, len(shards)).run_replicas(shards)
    except jax.errors.JaxRuntimeError as e:  # a collective whose peer process went away
        if process_count() == 1:
            raise
        raise distributed.collective_failed(e) from None


class ShardedExecutable:
    """`jit` over a device mesh: one SPMD program, its parameters and results annotated
    with their shardings, which XLA's partitioner splits over the mesh's devices (the
    first ones of the run, across processes)."""

    def __init__(self, program: Program, mesh_shape, axis_names, in_specs, out_specs):
        size = math.prod(mesh_shape)
        if size > device_count():
            raise JxValueError(f"jit: a mesh of {size} devices, but the run has only "
                               f"{device_count()} (JX_CPU_DEVICES per process on CPU)")  # fmt: skip
        self.devices = devices()[:size]
        mesh = Mesh(np.array(self.devices).reshape(mesh_shape), axis_names)
        ins, outs = program.in_avals, [v.aval for v in program.outputs]
        for what, specs, avals in (
            ("in_shardings", in_specs, ins),
            ("out_shardings", out_specs, outs),
        ):
            for spec, aval in zip(specs, avals):
                sharding.check_divides(spec, aval.shape, mesh_shape, axis_names, what)
        text_of = lambda specs, avals: [
            sharding.hlo_sharding(s, a.ndim, mesh_shape, axis_names) for s, a in zip(specs, avals)
        ]  # fmt: skip
        self.text, consts = module_text(
            program, shardings=(size, text_of(in_specs, ins), text_of(out_specs, outs)))  # fmt: skip
        self.executable = _compile(_client(), self.text, self.devices, partitioned=True)
        self.in_shardings = [NamedSharding(mesh, PartitionSpec(*s)) for s in in_specs]
        self.out_shardings = [NamedSharding(mesh, PartitionSpec(*s)) for s in out_specs]
        self.out_avals = outs
        whole = NamedSharding(mesh, PartitionSpec())
        self.consts = [sharding.place(c, whole, _put) for c in consts]

    def __call__(self, *args) -> list[np.ndarray]:
        buffers = [sharding.place(np.asarray(x), s, _put) for x, s in zip(args, self.in_shardings)]
        results = self.executable.execute_sharded(buffers + self.consts)
        per_output = results.disassemble_into_single_device_arrays()
        return [sharding.join(parts, s, a.shape, a.dtype)
                for parts, s, a in zip(per_output, self.out_shardings, self.out_avals)]  # fmt: skip


def compile_sharded(program: Program, mesh_shape, axis_names, in_specs, out_specs):
    """`jit` with shardings: `in_specs`/`out_specs` give each input/output leaf a tuple of
    mesh axis names (or None) per dimension."""
    if not lowerable(program):
        raise JxValueError("jit with shardings needs a function the xla backend compiles "
                           "whole (every primitive lowered, no collective)")  # fmt: skip
    return ShardedExecutable(program, tuple(mesh_shape), tuple(axis_names), in_specs, out_specs)


def lowered_text(program: Program) -> str:
    """The StableHLO text this backend compiles for `program`."""
    return module_text(program)[0]


def to_device(x) -> np.ndarray:
    return np.asarray(x)


#: Results come back as host arrays (views of CPU device buffers).
array_types = (np.ndarray,)
