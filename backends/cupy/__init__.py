"""The CuPy backend: jx on NVIDIA GPUs.

`load` imports CuPy and asks the driver for devices, and says which of the three is
missing when one is (CuPy, a driver, a GPU). `runtime.Backend` is the backend over a
module with CuPy's interface: the real `cupy`, or in the tests a NumPy-backed stand-in
that runs the same host logic (planning, dispatch, transfers) and the generated kernels
compiled for the CPU. Fusion and kernel text live in `fusion`, which needs neither.
"""

from __future__ import annotations

from jx.backend import Unavailable


def load(device: str | None = None):
    """The backend on the GPUs CuPy sees (`device` may be None or "gpu")."""
    if device not in (None, "gpu"):
        raise Unavailable(f"CuPy runs on NVIDIA GPUs; for {device} use the numpy or xla backend")
    try:
        import cupy  # noqa: PLC0415 - CuPy is optional: jx[gpu]
    except ImportError as e:
        raise Unavailable(f"it needs CuPy (pip install 'jx[gpu]'): {e}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - CuPy raises its own error types for a missing driver
        raise Unavailable(f"CuPy finds no usable CUDA driver: {e}") from None
    if count < 1:
        raise Unavailable("CuPy finds no NVIDIA GPU on this machine")
    from .runtime import Backend  # noqa: PLC0415 - after the checks: it uses CuPy at once

    return Backend(cupy)
