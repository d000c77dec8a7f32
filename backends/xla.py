"""The XLA backend: jx programs lowered to StableHLO (`xla_lower.py`), compiled by the PJRT
client that jaxlib provides and run on its device buffers.

`run_eqn` runs one primitive through a small executable cached per primitive, params and
argument types (eager top-level code); `run` and `compile` (what `jit` uses) run a whole
program as one executable, compiled once per program and platform. Arguments go to the
device without a copy where the platform allows it (CPU), and results come back as
`np.ndarray`, which is what the rest of jx treats as a concrete array: on CPU that is a
view of the device buffer, so chained calls copy nothing; on a GPU each call's results
cross to the host. The platform is `cpu`, `gpu` or `tpu` (`use_device`, or the
`JX_XLA_DEVICE` variable; jax's default otherwise). On CPU, XLA is asked for
`JX_CPU_DEVICES` (8 by default) host devices before jax starts, so that `pmap` maps over
real XLA devices: its per-shard program is compiled once with one replica per shard, and
its collectives become `all_reduce` / `all_gather` over one replica group. f64 values
stay f64: buffers are made with x64 enabled for the transfer, whatever jax's own setting.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile

import numpy as np
from jx import prims
from jx.backends import numpy as numpy_backend
from jx.errors import ValueError as JxValueError
from jx.ir import Eqn, Literal, Program, Var

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
from jx.backends.xla_lower import RULES, module_text

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
    return list(_client().local_devices())


def device_count() -> int:
    """Devices `pmap` can map over (on CPU: JX_CPU_DEVICES, when set before jax started)."""
    return len(devices())


# -------------------------------------------------------------------- transfers

_SHARDINGS: dict = {}
_AVALS: dict = {}


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
    return _jax.batched_device_put(aval, sharding, [x], [device], True, False,
                                   _jax.HostBufferSemantics.ZERO_COPY, True)  # fmt: skip


def to_host(x) -> np.ndarray:
    return np.asarray(x)


def from_host(x) -> np.ndarray:
    """A host array in the backend's own form: on CPU a view of a device buffer, which later
    calls take without a copy (XLA copies a NumPy array that is not 64-byte aligned)."""
    x = np.asarray(x)
    return np.asarray(_put(x, devices()[0])) if platform() == "cpu" else x


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


def _compile(client, text: str, devices):
    """Compile a module for `devices` (one replica each), or load it from the disk cache:
    XLA takes about 0.1 s for even a one-op module, loading a compiled one 2 ms."""
    options = xla_client.CompileOptions()
    if len(devices) > 1:
        options.num_replicas = len(devices)
        options.executable_build_options.num_replicas = len(devices)
    device_list = xla_client.DeviceList(tuple(devices))
    folder = _cache_dir()
    path = None
    if folder is not None:
        stamp = f"{jax.__version__}|{client.platform_version}|{devices[0].device_kind}|{_HOST}|"
        digest = hashlib.sha256((stamp + str(len(devices)) + text).encode()).hexdigest()
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
    per device (pmap), where every parameter and result gains a leading axis of 1."""

    def __init__(self, program: Program, replicas: int = 1):
        self.text, consts = module_text(program, replicas)
        client = _client()
        self.devices = list(client.local_devices())[:replicas]
        self.executable = _compile(client, self.text, self.devices)
        if replicas == 1:
            self.consts = [_put(c, self.devices[0]) for c in consts]
        else:
            mesh = Mesh(np.array(self.devices), ("replicas",))
            self.stacked = NamedSharding(mesh, PartitionSpec("replicas"))
            self.consts = [
                jax.make_array_from_single_device_arrays(
                    c.shape, NamedSharding(mesh, PartitionSpec()),
                    [_put(c, d) for d in self.devices])
                for c in consts
            ]  # fmt: skip

    def __call__(self, *args) -> list[np.ndarray]:
        device = self.devices[0]
        buffers = [_put(x, device) for x in args] + self.consts
        results = self.executable.execute_sharded(buffers)
        return [np.asarray(r[0]) for r in results.disassemble_into_single_device_arrays()]

    def run_replicas(self, shards) -> list[list[np.ndarray]]:
        """Shard i's arguments on device i; each shard's list of results."""
        columns = []
        for values in zip(*shards):
            parts = [_put(np.asarray(v)[None], d) for v, d in zip(values, self.devices)]
            shape = (len(parts),) + parts[0].shape[1:]
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


def _executable(program: Program, replicas: int = 1) -> Executable:
    """The cached executable of a program (kept alive by the cache, so its id stays its own)."""
    key = (id(program), platform(), replicas)
    entry = _PROGRAMS.get(key)
    if entry is None or entry[0] is not program:
        entry = _PROGRAMS.put(key, (program, Executable(program, replicas)))
    return entry[1]


#: Collectives meet other shards: only a replicated (pmap) executable holds them; alone they
#: run on the host, where pmap's shard threads exchange values.
_COLLECTIVES = frozenset({"psum", "pmax", "pmin", "all_gather", "axis_index"})


def lowerable(program: Program, replicated: bool = False) -> bool:
    """Whether the program compiles as a whole: every equation (in every sub-program too)
    has a lowering rule, collectives only in a replicated program, and none of them under a
    `while` or `cond`, which some replicas might skip (XLA would then wait forever, where
    pmap's shard threads report the divergence)."""
    from jx.transforms.pmap import has_collectives

    for eqn in program.eqns:
        name, subs = eqn.prim.name, list(_programs(eqn.params))
        if name not in RULES or (name in _COLLECTIVES and not replicated):
            return False
        if replicated and name in ("while", "cond") and any(map(has_collectives, subs)):
            return False
        if not all(lowerable(p, replicated) for p in subs):
            return False
    return True


def _programs(params):
    for value in params.values():
        for p in value if isinstance(value, tuple) else (value,):
            if isinstance(p, Program):
                yield p


def run_eqn(prim, args, params) -> list[np.ndarray]:
    """Run one primitive through its own small executable; always a list of ndarrays.
    A primitive without a lowering rule runs on the host, through the NumPy backend."""
    if (
        prim.name not in RULES
        or prim.name in _COLLECTIVES
        or not all(map(lowerable, _programs(params)))
    ):
        return numpy_backend.run_eqn(prim, [np.asarray(a) for a in args], params)
    args = [np.asarray(a) for a in args]
    key = (prim.name, platform(), tuple((a.shape, a.dtype) for a in args),
           tuple((k, _param_key(v)) for k, v in params.items()))  # fmt: skip
    exe = _EQNS.get(key)
    if exe is None:
        inputs = [Var(prims.ShapedArray(a.shape, a.dtype, False)) for a in args]
        outputs = [Var(a) for a in prim.abstract_eval(*(v.aval for v in inputs), **params)]
        program = Program(inputs, [Eqn(prim, inputs, outputs, params, None)], outputs)
        exe = _EQNS.put(key, Executable(program))
    return exe(*args)


def run(program: Program, args) -> list[np.ndarray]:
    """Run a whole program as one executable (compiled on its first run); one that holds a
    primitive without a lowering rule runs equation by equation instead."""
    if not _lowerable_cached(program):
        return interpret(program, args)
    return _executable(program)(*args)


_LOWERABLE = _Cache()


def _lowerable_cached(program: Program, replicated: bool = False) -> bool:
    key = (id(program), replicated)
    entry = _LOWERABLE.get(key)
    if entry is None or entry[0] is not program:
        entry = _LOWERABLE.put(key, (program, lowerable(program, replicated)))
    return entry[1]


def interpret(program: Program, args) -> list[np.ndarray]:
    """Run a program equation by equation with `run_eqn`."""
    env = dict(zip(program.inputs, args))
    read = lambda v: v.value if type(v) is Literal else env[v]
    for eqn in program.eqns:
        outs = run_eqn(eqn.prim, [read(v) for v in eqn.inputs], eqn.params)
        env.update(zip(eqn.outputs, outs))
    return [np.asarray(read(v)) for v in program.outputs]


class Compiled:
    """`compile(program)`: one executable per platform, compiled on the first call."""

    def __init__(self, program: Program):
        self.program = program
        self.lowerable = lowerable(program)
        self.executables: dict[str, Executable] = {}

    def __call__(self, *args) -> list[np.ndarray]:
        if not self.lowerable:
            return interpret(self.program, args)
        which = platform()
        exe = self.executables.get(which)
        if exe is None:
            exe = self.executables[which] = Executable(self.program)
        return exe(*args)


def compile(program: Program) -> Compiled:
    return Compiled(program)


def pmap(program: Program, shards, axis_name) -> list[list[np.ndarray]]:
    """pmap's hook: run the per-shard program with one replica per shard, in one go (or, if
    it holds a primitive without a lowering rule, shard by shard on pmap's threads)."""
    if not _lowerable_cached(program, replicated=True):
        from jx.transforms.pmap import run_shards

        return run_shards(sys.modules[__name__], program, shards, axis_name, None)
    return _executable(program, len(shards)).run_replicas(shards)


def hlo(program: Program) -> str:
    """The StableHLO text this backend compiles for `program`."""
    return module_text(program)[0]
