"""Runs of several processes, and device meshes for sharded `jit` (LANGUAGE.md section 10).

`initialize(coordinator, num_processes, process_id)` (`jx.distributed.initialize`, what
`jx run --coordinator` and `--processes` call) joins the processes of one run through the
backend's distributed runtime; its arguments default to JX_COORDINATOR, JX_NUM_PROCESSES
and JX_PROCESS_ID, else to SLURM's variables inside a SLURM job step. After it,
`process_index()` and `process_count()` say where this process stands, `device_count()`
counts the devices of all processes and `local_device_count()` this one's (what `pmap`
maps over). `Mesh(shape, axis_names)` names the first devices of the run as an array;
`NamedSharding(mesh, PartitionSpec(...))` lays an array out on it, for `jit`'s
`in_shardings` and `out_shardings`. The language never names a backend: it asks the
registry, which hands the run to the backend's package.
"""

from __future__ import annotations

import os
import re
import socket

from . import backend as backend_registry
from . import trees
from .builtins import BUILTINS
from .core import CTX, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .values import Builtin

#: Seconds a process may take to join, and a joined one may stay silent, before the
#: others fail with an error naming it.
DEFAULT_TIMEOUT_S = 10
#: The coordinator's port inside a SLURM job: one per job, so jobs on a node do not meet.
SLURM_BASE_PORT = 61000

_PROCESS = {"index": 0, "count": 1}


def initialize(coordinator=None, num_processes=None, process_id=None, *, backend="xla",
               timeout_s=DEFAULT_TIMEOUT_S) -> tuple[int, int]:  # fmt: skip
    """Join a run of several processes: (this process's index, the number of processes)."""
    coordinator, num_processes, process_id = cluster_settings(
        coordinator, num_processes, process_id
    )
    if not 0 <= process_id < num_processes:
        raise JxValueError(f"process id {process_id} is not in 0..{num_processes - 1}")
    index, count, report = backend_registry.initialize_distributed(
        backend, coordinator, num_processes, process_id, timeout_s)  # fmt: skip
    _PROCESS.update(index=index, count=count, report=report)
    return index, count


def report_failure(message: str) -> None:
    """Tell the run's other processes that this one failed (they stop, naming it)."""
    report = _PROCESS.get("report")
    if report is not None:
        report(message)


def free_port() -> int:
    """A port nothing listens on now, for a coordinator on the loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def joins_a_run(coordinator, num_processes, process_id) -> bool:
    """Whether settings or the environment ask this process to join a run: any of the
    three given, JX_COORDINATOR or JX_NUM_PROCESSES set, or a SLURM step of several tasks."""
    env = os.environ
    slurm_tasks = env.get("SLURM_NTASKS", "1")
    return (
        any(v is not None for v in (coordinator, num_processes, process_id))
        or "JX_COORDINATOR" in env
        or "JX_NUM_PROCESSES" in env
        or ("SLURM_STEP_NODELIST" in env and slurm_tasks.isdigit() and int(slurm_tasks) > 1)
    )


def cluster_settings(coordinator, num_processes, process_id) -> tuple[str, int, int]:
    """The run's settings: the arguments given, else JX_* variables, else SLURM's."""
    env = os.environ
    slurm = "SLURM_STEP_NODELIST" in env or "SLURM_JOB_NODELIST" in env
    if coordinator is None:
        coordinator = env.get("JX_COORDINATOR") or (_slurm_coordinator(env) if slurm else None)
    if num_processes is None:
        num_processes = _number(env, "JX_NUM_PROCESSES", "SLURM_NTASKS" if slurm else None)
    if process_id is None:
        process_id = _number(env, "JX_PROCESS_ID", "SLURM_PROCID" if slurm else None)
    missing = [name for name, value in (("coordinator", coordinator),
               ("num_processes", num_processes), ("process_id", process_id)) if value is None]  # fmt: skip
    if missing or not num_processes:
        raise JxValueError(
            f"a run of several processes needs {', '.join(missing) or 'num_processes >= 1'} "
            "(arguments, --coordinator/--num-processes/--process-id, or JX_COORDINATOR, "
            "JX_NUM_PROCESSES and JX_PROCESS_ID)"
        )
    return coordinator, int(num_processes), int(process_id)


def _number(env, name, fallback=None):
    """The whole number in variable `name`, else in `fallback`; None when neither is set."""
    if name not in env and fallback is not None:
        name = fallback
    text = env.get(name)
    if text is None:
        return None
    if not text.strip().isdigit():
        raise JxValueError(f"{name} must be a whole number, got '{text}'")
    return int(text)


def _slurm_coordinator(env) -> str:
    """The first host of the job step's node list (`node[03-05,9]` is node03), on a port
    derived from the job id."""
    nodes = env.get("SLURM_STEP_NODELIST") or env["SLURM_JOB_NODELIST"]
    first = re.match(r"([^,\[]+)(\[([^,\]-]+))?", nodes)
    host = first.group(1) + (first.group(3) or "")
    return f"{host}:{SLURM_BASE_PORT + int(env.get('SLURM_JOB_ID', '0')) % 4000}"


def is_lead() -> bool:
    """Whether this process speaks for the run (process 0): it prints and saves."""
    return _PROCESS["index"] == 0


def process_index() -> int:
    """This process's index in the run (0 when the run is one process)."""
    return _PROCESS["index"]


def process_count() -> int:
    """The processes of the run (1 unless `jx.distributed.initialize` joined several)."""
    return _PROCESS["count"]


def device_count() -> int:
    """The devices of every process of the run, on the current backend."""
    return CTX.backend.device_count()


def local_device_count() -> int:
    """The devices of this process, on the current backend: what pmap maps over."""
    local = getattr(CTX.backend, "local_device_count", None)
    return local() if local is not None else CTX.backend.device_count()


for _fn in (process_index, process_count, device_count, local_device_count):
    BUILTINS[_fn.__name__] = Builtin(_fn.__name__, _fn)


# -------------------------------------------------------------------- meshes


class Mesh:
    """The run's first prod(shape) devices as an array of that shape, its axes named."""

    jx_kind = "a device mesh"

    def __init__(self, shape, axis_names):
        self.shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        names = (axis_names,) if isinstance(axis_names, str) else tuple(axis_names)
        if not all(type(n) is int and n >= 1 for n in self.shape):
            raise JxTypeError(f"Mesh: the shape must be positive ints, got {self.shape}")
        if len(names) != len(self.shape) or not all(isinstance(n, str) for n in names):
            raise JxTypeError(f"Mesh: one axis name (a string) per dimension of {self.shape}")
        if len(set(names)) != len(names):
            raise JxValueError(f"Mesh: axis names must differ, got {names}")
        self.axis_names = names

    def __repr__(self) -> str:
        axes = ", ".join(f"{n}={s}" for n, s in zip(self.axis_names, self.shape))
        return f"Mesh({axes})"


class PartitionSpec:
    """Per array dimension, the mesh axis it is split over (None: kept whole)."""

    jx_kind = "a PartitionSpec"

    def __init__(self, *axes):
        if not all(a is None or isinstance(a, str) for a in axes):
            raise JxTypeError("PartitionSpec takes mesh axis names (strings) or None")
        self.axes = axes

    def __repr__(self) -> str:
        return f"PartitionSpec({', '.join(map(repr, self.axes))})"


class NamedSharding:
    """An array's layout on a mesh: `spec` names the mesh axis of each split dimension."""

    jx_kind = "a NamedSharding"

    def __init__(self, mesh, spec):
        if not isinstance(mesh, Mesh) or not isinstance(spec, PartitionSpec):
            raise JxTypeError(f"NamedSharding(mesh, spec), got {describe(mesh)}, {describe(spec)}")
        unknown = [a for a in spec.axes if a is not None and a not in mesh.axis_names]
        if unknown:
            raise JxValueError(f"PartitionSpec names {unknown[0]!r}, not an axis of {mesh}")
        if len({a for a in spec.axes if a is not None}) < len([a for a in spec.axes if a]):
            raise JxValueError(f"{spec} splits two dimensions over the same mesh axis")
        self.mesh = mesh
        self.spec = spec

    def __repr__(self) -> str:
        return f"NamedSharding({self.mesh}, {self.spec})"


for _cls in (Mesh, PartitionSpec, NamedSharding):
    BUILTINS[_cls.__name__] = Builtin(_cls.__name__, _cls)


def leaf_specs(shardings, values, what: str) -> tuple[Mesh | None, list[tuple]]:
    """`jit`'s in_shardings or out_shardings against the arguments or results `values` (a
    tuple): one sharding for all, or one per value (None: replicated), each covering every
    leaf of its value; the mesh and one spec (a tuple of axis names or None) per leaf."""
    per_value = shardings if isinstance(shardings, (tuple, list)) else (shardings,) * len(values)
    if len(per_value) != len(values):
        raise JxValueError(f"jit: {what} has {len(per_value)} entries for {len(values)} values")
    meshes = {id(s.mesh): s.mesh for s in per_value if isinstance(s, NamedSharding)}
    for s in per_value:
        if s is not None and not isinstance(s, NamedSharding):
            raise JxTypeError(
                f"jit: {what} takes NamedSharding(mesh, spec) or None, got {describe(s)}"
            )
    if len(meshes) > 1:
        raise JxValueError(f"jit: every sharding of {what} must use the same mesh")
    specs = []
    for s, value in zip(per_value, values):
        spec = s.spec.axes if s is not None else ()
        specs += [spec] * len(trees.flatten(value, _is_leaf_marker)[0])
    return next(iter(meshes.values()), None), specs


class LeafMarker:
    """Stands for one leaf where only a tree's shape matters (counting leaves per value)."""

    __slots__ = ()


def _is_leaf_marker(x) -> bool:
    return isinstance(x, LeafMarker)
