"""The XLA backend (jaxlib's PJRT runtime, StableHLO lowered by jx): `runtime` runs programs,
`lower` and `structured` hold the lowering rules, `emit` writes the StableHLO text,
`sharding` the annotations of sharded `jit`, and `distributed` joins several processes.

Importing this package needs nothing beyond jx; `load` imports jax, so a machine without
it learns why when it asks for the backend.
"""

from __future__ import annotations

from jx.backend import Unavailable
from jx.errors import JxError
from jx.errors import ValueError as JxValueError


def load(device: str | None = None):
    """The backend on `device` (cpu, gpu, tpu; jax's default when None)."""
    try:
        from . import runtime  # noqa: PLC0415 - jax and jaxlib are optional: jx[xla]
    except ImportError as e:
        raise Unavailable(f"it needs jax and jaxlib (pip install 'jx[xla]'): {e}") from None
    try:
        runtime.use_device(device)
    except JxError as e:
        raise Unavailable(e.message) from None
    return runtime


def initialize_distributed(coordinator: str, num_processes: int, process_id: int, timeout_s: int):
    """Join a run of `num_processes` processes (before this backend's first `load`)."""
    try:
        from . import distributed  # noqa: PLC0415 - jax and jaxlib are optional: jx[xla]
    except ImportError as e:
        raise JxValueError(f"running across processes needs jax and jaxlib: {e}") from None
    return distributed.initialize(coordinator, num_processes, process_id, timeout_s)
