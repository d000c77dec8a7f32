"""Backends behind one interface, found through the `jx.backends` entry-point group.

An installed distribution offers a backend by naming, in that group, a module with a
`load(device)` function; `load` returns the backend (or raises `Unavailable` saying what is
missing: a library, a driver, a device). The language never names a backend: it asks this
registry. A backend has

- `name`, and `array_types`: the types of the arrays its programs take and return;
- `to_device(host_array)` and `to_host(array)` (a NumPy array);
- `run_eqn(prim, args, params)`: one primitive, eagerly, as a list of arrays;
- `run(program, args)`: a program, equation by equation; `compile(program)`: what `jit`
  runs, a callable over the program's inputs;
- `device_count()`: how many devices `pmap` may map over; and optionally `pmap(program,
  shards, axis_name)` to run the shards itself (else they run on threads, one `run` each);
- optionally `lowered_text(program)`: the text of what `compile` builds (StableHLO, CUDA);
- optionally `local_device_count()` (the devices of this process, where `device_count`
  counts those of all processes) and `compile_sharded(program, mesh, in_specs, out_specs)`,
  `jit` over a device mesh.

A backend's package may offer `initialize_distributed(coordinator, num_processes,
process_id, timeout_s)`, which joins a multi-process run before the backend is loaded and
returns (process index, process count, a function that tells the others this one failed).
"""

from __future__ import annotations

from importlib.metadata import entry_points

import numpy as np

from .errors import ValueError as JxValueError

GROUP = "jx.backends"
#: The reference backend, what runs when none is named: NumPy on the CPU.
DEFAULT = "numpy"

_LOADED: dict = {}

#: The concrete array types the language meets: NumPy's (host arrays, the IR's constants)
#: and those of every backend loaded so far. Code above asks `is_concrete`, never a type.
ARRAY_TYPES: tuple = (np.ndarray,)


class Unavailable(Exception):
    """Raised by a backend's `load` when it cannot run here; the message says why."""


def _entry_points() -> dict:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def names() -> list[str]:
    """The installed backends' names, without loading any of them."""
    return sorted(_entry_points())


def load(name: str, device: str | None = None):
    """The backend `name`, set up for `device` (cpu, gpu, tpu) where it has a choice."""
    key = (name, device)
    backend = _LOADED.get(key)
    if backend is not None:
        return backend
    found = _entry_points().get(name)
    if found is None:
        choices = ", ".join(names())
        raise JxValueError(f"unknown backend '{name}'; the installed backends are {choices}")
    try:
        backend = found.load().load(device)
    except Unavailable as e:
        raise JxValueError(f"the {name} backend cannot run here: {e}") from None
    _LOADED[key] = backend
    global ARRAY_TYPES
    ARRAY_TYPES = tuple(dict.fromkeys((*ARRAY_TYPES, *backend.array_types)))
    return backend


def initialize_distributed(name: str, coordinator: str, num_processes: int, process_id: int,
                           timeout_s: int) -> tuple:  # fmt: skip
    """Join a run of several processes on backend `name` (see the module's docstring)."""
    found = _entry_points().get(name)
    join = getattr(found.load(), "initialize_distributed", None) if found else None
    if join is None:
        raise JxValueError(f"the {name} backend does not run across processes; use xla")
    return join(coordinator, num_processes, process_id, timeout_s)


def is_concrete(x) -> bool:
    """Whether `x` is a concrete array: a NumPy array or an array of a loaded backend."""
    return type(x) is np.ndarray or isinstance(x, ARRAY_TYPES)
