"""Joining XLA's multi-controller runtime: the distributed service (on process 0) and
client (on every process) that jaxlib provides, the engine `jax.distributed.initialize`
drives, with gloo collectives between the CPU devices of all processes.

The service and client are made here through jaxlib rather than through
`jax.distributed.initialize`, because that one leaves failures to the client's default
handler, which aborts the process with a stack trace; jax's backend factory then finds
them where `jax.distributed.initialize` would have put them, in its `global_state`.
Failures are bounded in time and reported as a JxRuntimeError: a process that does not
join within `timeout_s` fails `initialize` everywhere; once joined, every process bumps a
counter in the service's key-value store twice a second and a watchdog thread watches the
others' counters, so a process that stops (killed, crashed, stuck) is named on the
others within `timeout_s`, which then stop (also when a collective fails first, its peer's
sockets closed) (a process blocked in a collective can only
be stopped, not unwound). A process that fails with an error says so in the store and
the others stop at once; one that finishes marks itself done and waits for the rest at
the service's shutdown barrier.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import sys
import threading
import time

import jax
from jax._src import distributed as jax_distributed
from jax._src import xla_bridge
from jaxlib import _jax
from jx.errors import JxRuntimeError
from jx.errors import ValueError as JxValueError

DEFAULT_TIMEOUT_S = 10
HEARTBEAT_S = 0.5
#: The service's own heartbeat limit stays well above the watchdog's, so that the
#: watchdog reports a dead process before jaxlib's handler aborts this one.
SERVICE_SLACK = 6
#: How long a finished process waits at shutdown for the others to finish.
SHUTDOWN_S = 3600

_joined: dict = {}


def initialize(coordinator: str, num_processes: int, process_id: int, timeout_s: int):
    """Join the cluster of `num_processes` whose service runs at `coordinator`
    (HOST:PORT, started here when `process_id` is 0): (process index, process count, the
    function that tells the others this process failed)."""
    if _joined:
        raise JxValueError("jx.distributed.initialize was already called in this process")
    if xla_bridge.backends_are_initialized():
        raise JxValueError(
            "jx.distributed.initialize must run before the xla backend's first use in the process"
        )
    host, port = _address(coordinator)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    service = None
    if process_id == 0:
        _check_port_free(port)
        try:
            service = _jax.get_distributed_runtime_service(
                f"[::]:{port}", num_processes, heartbeat_timeout=SERVICE_SLACK * timeout_s,
                cluster_register_timeout=timeout_s, shutdown_timeout=SHUTDOWN_S)  # fmt: skip
        except Exception as e:  # noqa: BLE001 - jaxlib's errors carry gRPC's text
            raise JxRuntimeError(f"cannot start the coordinator on port {port}: {e}") from None
    # The callback keeps jaxlib's default handler (an abort) away from a failed connect,
    # which then raises here instead.
    client = _jax.get_distributed_runtime_client(
        f"{host}:{port}", process_id, init_timeout=timeout_s,
        heartbeat_timeout=SERVICE_SLACK * timeout_s, shutdown_timeout=SHUTDOWN_S,
        missed_heartbeat_callback=lambda *_: None, use_compression=True)  # fmt: skip
    try:
        client.connect()
    except Exception:  # noqa: BLE001 - a timeout or refused connection, whatever its type
        raise JxRuntimeError(
            f"process {process_id}: the {num_processes} processes did not all join the "
            f"coordinator at {host}:{port} within {timeout_s} s"
        ) from None
    state = jax_distributed.global_state
    state.service, state.client = service, client
    state.process_id, state.num_processes = process_id, num_processes
    _joined.update(client=client, index=process_id, count=num_processes, timeout=timeout_s)
    watchdog = threading.Thread(target=_watch, name="jx-watchdog", daemon=True)
    watchdog.start()
    atexit.register(_finish)
    return process_id, num_processes, report_failure


def _address(coordinator: str) -> tuple[str, int]:
    host, sep, port = coordinator.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise JxValueError(f"the coordinator address must be HOST:PORT, got '{coordinator}'")
    return host, int(port)


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("", port))
        except OSError as e:
            raise JxRuntimeError(
                f"the coordinator port {port} is in use on this host ({e.strerror}); "
                "choose another with --coordinator HOST:PORT"
            ) from None


def process_index() -> int:
    return _joined.get("index", 0)


def process_count() -> int:
    return _joined.get("count", 1)


def report_failure(message: str) -> None:
    """Tell the other processes this one failed (they stop at once, naming it)."""
    client = _joined.get("client")
    if client is not None:
        # The coordinator may be gone already: then there is no one left to tell.
        with contextlib.suppress(Exception):
            client.key_value_set(f"jx/failed/{process_index()}", message, allow_overwrite=True)
        _joined["failed"] = True


def collective_failed(error: Exception) -> JxRuntimeError:
    """A collective failed under this process (gloo saw a peer's sockets close): give the
    watchdog the time to name the peer that stopped (it then ends this process); failing
    that, the collective's own error."""
    time.sleep(_joined.get("timeout", 0) + 3 * HEARTBEAT_S)
    return JxRuntimeError(f"a collective across processes failed: {error}")


def _finish() -> None:
    """At exit: mark this process done, then wait at the shutdown barrier for the rest; an
    uncaught exception (Python sets `sys.last_value` before the exit handlers) fails it."""
    client = _joined.get("client")
    uncaught = getattr(sys, "last_value", None)
    if uncaught is not None and not _joined.get("failed"):
        report_failure(f"{type(uncaught).__name__}: {uncaught}")
    if client is None:
        return
    if _joined.get("failed"):
        # Leave once the others' watchdogs have read the failure (before this process's
        # sockets close under their collectives); tearing the client down would wait.
        time.sleep(3 * HEARTBEAT_S)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    # A peer that dies while this one waits is the watchdog's to report.
    with contextlib.suppress(Exception):
        client.key_value_set(f"jx/done/{process_index()}", "1", allow_overwrite=True)
        client.shutdown()


def _stop(message: str) -> None:
    sys.stdout.flush()
    print(JxRuntimeError(message).render(), file=sys.stderr, flush=True)
    os._exit(1)


def _watch() -> None:
    """Beat this process's counter, and stop when another's has stood still too long."""
    client, me, count = _joined["client"], _joined["index"], _joined["count"]
    timeout = _joined["timeout"]
    seen = {i: (None, time.monotonic()) for i in range(count) if i != me}
    while not _joined.get("failed"):  # a failed process has said so; it only exits now
        try:
            client.key_value_increment(f"jx/beat/{me}", 1)
            beats = dict(client.key_value_dir_get("jx/beat/"))
            done = {k.rsplit("/", 1)[1] for k, _ in client.key_value_dir_get("jx/done/")}
            failed = client.key_value_dir_get("jx/failed/")
        except Exception:  # noqa: BLE001 - whatever the RPC error, the coordinator is unreachable
            _stop(f"process {me}: lost the coordinator (process 0 stopped?)")
        for key, message in failed:
            _stop(f"process {key.rsplit('/', 1)[1]} of {count} failed: {message}")
        now = time.monotonic()
        for peer, (last, since) in seen.items():
            beat = beats.get(f"jx/beat/{peer}")
            if str(peer) in done:
                continue
            if beat != last:
                seen[peer] = (beat, now)
            elif now - since > timeout:
                _stop(f"process {peer} of {count} stopped answering (no heartbeat for "
                      f"{timeout} s); stopping process {me}")  # fmt: skip
        time.sleep(HEARTBEAT_S)
