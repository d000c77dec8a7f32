"""Running cases under limits and judging what came out.

Each `Worker` is a spawned process that imports jx once, lowers its own address-space limit
(`RLIMIT_AS`), sends its output to /dev/null, works in a temporary folder (programs may
`save`) and then runs case after case. The parent waits at most `Limits.seconds` for each
answer and replaces a worker that overran or died. `judge` holds the contract: a case
succeeds, or raises a `jx.JxError` whose span lies in the case's own source and whose
rendering shows the spanned line. Every other outcome is a failure with a signature: the
exception class and the innermost jx frame (`jx.builtins_reductions:fn`), `timeout`, or
`signal N`.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

import jx
import numpy as np
from jx.errors import Source

from .cases import Case

JX_ROOT = Path(jx.__file__).resolve().parents[1]
_FRAME = re.compile(r'File "([^"]+)", line \d+, in (\S+)')
_CLI_ERROR = re.compile(r"^<stdin>:(\d+):(\d+): (\w+): ", re.MULTILINE)


@dataclass(frozen=True)
class Limits:
    seconds: float = 10.0
    memory_bytes: int = 2 << 30


@dataclass(frozen=True)
class Outcome:
    """`signature` is None when the case kept the contract; `detail` says what happened."""

    signature: str | None
    detail: str


def _jx_frame(tb) -> str:
    """`module:function` of the innermost frame inside jx (by module name, so the signature
    is the same from a source checkout and an installed package)."""
    inside = []
    for frame, _ in traceback.walk_tb(tb):
        module = frame.f_globals.get("__name__", "")
        if module == "jx" or module.startswith("jx."):
            inside.append(f"{module}:{frame.f_code.co_name}")
    return inside[-1] if inside else "outside-jx"


def _signature(kind: str, error: BaseException) -> str:
    return f"{kind}@{_jx_frame(error.__traceback__)}"


def judge(case: Case, error: BaseException | None) -> Outcome:
    """The verdict on a case that finished, with `error` what it raised (None: it ran)."""
    if error is None:
        return Outcome(None, "ran")
    detail = "".join(traceback.format_exception(error))
    if not isinstance(error, jx.JxError):
        return Outcome(_signature(type(error).__name__, error), detail)
    span, kind = error.span, f"jx.{error.kind}"
    if span is None:
        return Outcome(_signature(f"{kind}-without-span", error), detail)
    if span.source.name != case.name:
        return Outcome(_signature(f"{kind}-span-elsewhere", error), detail)
    lines = Source(case.name, case.source).line
    line_count = case.source.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    text = lines(span.line)
    if not 1 <= span.line <= line_count or (text.strip() and f"    {text}\n" not in error.render()):
        return Outcome(_signature(f"{kind}-caret-off", error), detail)
    return Outcome(None, error.render())


def run_in_process(case: Case, backend: str) -> Outcome:
    """Run one case here and judge it (the worker's loop; also for replays)."""
    # A signature names the innermost jx frame: keep jx's own frames in the traceback,
    # which jx's entry points otherwise filter out.
    saved = os.environ.get("JX_TRACEBACK_FILTERING")
    os.environ["JX_TRACEBACK_FILTERING"] = "off"
    try:
        module = jx.compile(case.source, backend=backend, name=case.name)
        if case.via == "call":
            module.f(eval(case.arguments, {"np": np}))
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        return judge(case, error)
    finally:
        if saved is None:
            del os.environ["JX_TRACEBACK_FILTERING"]
        else:
            os.environ["JX_TRACEBACK_FILTERING"] = saved
    return judge(case, None)


def run_cli(case: Case, backend: str, limits: Limits) -> Outcome:
    """Run a case through `python -m jx.cli run -` and judge its exit status and stderr."""
    command = [sys.executable, "-m", "jx.cli", "run", "-", "--backend", backend]
    memory = limits.memory_bytes

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    with tempfile.TemporaryDirectory() as folder:
        try:
            done = subprocess.run(
                command,
                check=False,
                input=case.source.encode("utf-8", "surrogatepass"),
                capture_output=True,
                timeout=limits.seconds + 5,
                cwd=folder,
                preexec_fn=limit_memory,
            )
        except subprocess.TimeoutExpired:
            return Outcome("timeout", "jx run did not finish")
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode == 0:
        return Outcome(None, "ran")
    if done.returncode < 0:
        return Outcome(f"signal {-done.returncode}", stderr)
    if "Traceback (most recent call last)" in stderr:
        last = stderr.strip().splitlines()[-1].split(":")[0]
        return Outcome(f"{last}@{_jx_frame(_FRAME.findall(stderr))}", stderr)
    found = _CLI_ERROR.search(stderr)
    if done.returncode != 1 or not found:
        return Outcome(f"jx-run-exit-{done.returncode}", stderr)
    line = Source(case.name, case.source).line(int(found[1]))
    if line.strip() and f"    {line}\n" not in stderr + "\n":
        return Outcome(f"jx.{found[3]}-caret-off@cli", stderr)
    return Outcome(None, stderr)


def _serve(connection, backend: str, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.chdir(tempfile.mkdtemp(prefix="jx-fuzz-"))
    jx.compile("print(sum(ones(2)))", backend=backend)  # warm the backend before the clock runs
    connection.send("ready")
    while (case := connection.recv()) is not None:
        connection.send(run_in_process(case, backend))


class Worker:
    """A worker process that runs cases one at a time and is replaced when it fails."""

    def __init__(self, backend: str, limits: Limits):
        self.backend = backend
        self.limits = limits
        self.process = None
        self.restarts = 0

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, self.backend, self.limits.memory_bytes), daemon=True
        )
        self.process.start()
        child.close()
        if not self.connection.poll(300) or self.connection.recv() != "ready":
            raise RuntimeError("a fuzz worker did not start")

    def _replace(self) -> None:
        self.process.kill()
        self.process.join()
        self.restarts += 1
        self.process = None

    def run(self, case: Case, seconds: float | None = None) -> Outcome:
        if case.via == "cli":
            return run_cli(case, self.backend, self.limits)
        if self.process is None:
            self._start()
        seconds = seconds or self.limits.seconds
        self.connection.send(case)
        try:
            if self.connection.poll(seconds):
                return self.connection.recv()
        except (EOFError, ConnectionError):
            self.process.join()
            code = self.process.exitcode
            self._replace()
            return Outcome(f"signal {-code}" if code < 0 else f"exit {code}", "the worker died")
        self._replace()
        return Outcome("timeout", f"no answer within {seconds:g} s")

    def close(self) -> None:
        if self.process is not None:
            self.connection.send(None)
            self.process.join(5)
            if self.process.is_alive():
                self.process.kill()
            self.process = None


def run_cases(cases, backend: str, limits: Limits, workers: int, on_outcome) -> None:
    """Run `cases` on `workers` workers; `on_outcome(case, outcome)` is called under a lock.
    A timeout is confirmed by one more run with three times the time: load from other
    processes on the machine must not read as a hang."""
    pending = iter(cases)
    lock = threading.Lock()
    broken: list[BaseException] = []

    def drive():
        worker = Worker(backend, limits)
        try:
            while True:
                with lock:
                    case = next(pending, None)
                if case is None:
                    return
                outcome = worker.run(case)
                if outcome.signature == "timeout":
                    outcome = worker.run(case, 3 * limits.seconds)
                with lock:
                    on_outcome(case, outcome)
        except BaseException as error:  # noqa: BLE001 - raised again in the calling thread
            broken.append(error)
        finally:
            worker.close()

    threads = [threading.Thread(target=drive) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if broken:
        raise broken[0]
