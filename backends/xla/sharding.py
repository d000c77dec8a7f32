"""Sharded `jit` on the XLA backend: a mesh's partition specs as the HLO sharding strings
(`mhlo.sharding`) that XLA's SPMD partitioner reads, and host arrays split onto the
mesh's devices and joined back.

A mesh of shape (m0, m1, ...) numbers its devices 0..M-1 in row-major order; partition p
of the compiled program runs on the mesh's device p. A spec gives, per array dimension,
the mesh axis it is split over (or None); the tile assignment is the mesh's device
numbers transposed so the split axes come first, in the dimensions' order, and the unused
axes last, where they replicate each tile (`last_tile_dim_replicate`). In a run of several
processes every process passes the whole value of each argument and places its own
devices' tiles; a result comes back whole where this process's devices hold every tile of
it (replicated outputs always do).
"""

from __future__ import annotations

import math

import jax
import numpy as np
from jax.sharding import NamedSharding
from jx.errors import ValueError as JxValueError


def hlo_sharding(spec, ndim: int, mesh_shape, axis_names) -> str:
    """The HLO sharding string of an array of rank `ndim` laid out by `spec` on the mesh."""
    if not any(spec):
        return "{replicated}"
    if len(spec) > ndim:
        raise JxValueError(f"a PartitionSpec of {len(spec)} entries for an array of rank {ndim}")
    split = [axis_names.index(name) if name is not None else None for name in spec]
    split += [None] * (ndim - len(split))
    unused = [a for a in range(len(mesh_shape)) if a not in split]
    order = [a for a in split if a is not None] + unused
    tiles = [mesh_shape[a] if a is not None else 1 for a in split]
    copies = math.prod(mesh_shape[a] for a in unused)
    dims = tiles + [copies] if copies > 1 else tiles
    ids = np.arange(math.prod(mesh_shape)).reshape(mesh_shape).transpose(order).ravel()
    replicate = " last_tile_dim_replicate" if copies > 1 else ""
    return f"{{devices=[{','.join(map(str, dims))}]{','.join(map(str, ids))}{replicate}}}"


def check_divides(spec, shape, mesh_shape, axis_names, what: str) -> None:
    """A split dimension must divide evenly over its mesh axis."""
    for dim, name in enumerate(spec):
        if name is None:
            continue
        parts = mesh_shape[axis_names.index(name)]
        if shape[dim] % parts:
            raise JxValueError(
                f"{what}: dimension {dim} of size {shape[dim]} does not split evenly over "
                f"mesh axis '{name}' of size {parts}"
            )


def place(x: np.ndarray, sharding: NamedSharding, put):
    """The host array `x` as one global array: this process's tiles on its devices."""
    tiles = sharding.addressable_devices_indices_map(x.shape)
    parts = [put(np.asarray(x[index], order="C"), device) for device, index in tiles.items()]
    return jax.make_array_from_single_device_arrays(x.shape, sharding, parts)


def _key(index) -> tuple:
    return tuple((s.start, s.stop) for s in index)


def join(parts, sharding: NamedSharding, shape, dtype) -> np.ndarray:
    """A result's tiles on this process's devices as one host array (a ValueError where
    some tile lives only on another process)."""
    everywhere = sharding.devices_indices_map(shape)
    held = {next(iter(p.devices())): p for p in parts}
    if {_key(i) for i in everywhere.values()} - {_key(everywhere[d]) for d in held}:
        raise JxValueError(
            "jit: an output split across processes cannot come back whole to one process; "
            "give it a sharding that keeps it on each process (out_shardings=PartitionSpec())"
        )
    if len({_key(i) for i in everywhere.values()}) == 1:
        return np.asarray(parts[0])
    out = np.empty(shape, dtype)
    for device, part in held.items():
        out[everywhere[device]] = np.asarray(part)
    return out
