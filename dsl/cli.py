"""The `jx` command: run, check, ir, repl (LANGUAGE.md section 9).

User-program errors print the rendered JxError (never a Python traceback) and exit 1;
usage errors exit 2 (argparse's convention). `jx run --processes N` starts N processes of
the same run on this host (a coordinator on the loopback) and waits for them; `jx run
--coordinator HOST:PORT --num-processes N --process-id I` (or the JX_* or SLURM
variables, see distributed.py) joins one process to a run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from . import backend as backend_registry
from . import distributed, syntax
from .api import execute, get_backend, using
from .core import CTX
from .errors import JxError
from .formatting import parse_signature
from .functions import trace_function, traced_leaf
from .ir_check import check_program
from .modules import check_module
from .passes import PIPELINE, optimize
from .repl import main as repl_main
from .transforms.autodiff import grad
from .values import Closure
from .version import __version__


def _read(path: str) -> tuple[str, str]:
    name = "<stdin>" if path == "-" else path
    try:
        # UTF-8 whatever the locale says (stdin is read as bytes); a byte-order mark is dropped.
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            return (stream.read().decode("utf-8-sig") if stream else sys.stdin.read()), name
        with open(path, encoding="utf-8-sig") as f:
            return f.read(), name
    except OSError as e:
        print(f"jx: cannot read {path}: {e.strerror}", file=sys.stderr)
        raise SystemExit(2) from None
    except UnicodeDecodeError:
        print(f"jx: {name} is not UTF-8 text", file=sys.stderr)
        raise SystemExit(2) from None


def _usage_error(message: str):
    print(f"jx: {message}", file=sys.stderr)
    raise SystemExit(2)


def _backend(name: str, device: str | None = None):
    """The backend module; one that is not available (or lacks the device asked for) is a
    usage error, like an unknown one."""

    try:
        return get_backend(name, device)
    except JxError as e:
        _usage_error(e.message)


def cmd_run(args) -> int:
    if args.processes is not None:
        return _launch(args)
    if distributed.joins_a_run(args.coordinator, args.num_processes, args.process_id):
        distributed.initialize(args.coordinator, args.num_processes, args.process_id,
                               backend=args.backend, timeout_s=args.timeout)  # fmt: skip
    backend = _backend(args.backend, args.device)
    text, name = _read(args.file)
    execute(text, name, backend)
    return 0


def _launch(args) -> int:
    """Run the script as `args.processes` processes on this host; the first failure's exit
    status (the others stop within --timeout once one fails, or are stopped after it)."""
    if args.processes < 1:
        _usage_error("--processes must be at least 1")
    if args.backend != "xla":
        _usage_error("--processes runs on the xla backend: add --backend xla")
    text = _read(args.file)[0] if args.file == "-" else None  # stdin is read once, for all
    command = [sys.executable, "-m", "jx.cli", "run", args.file, "--backend", "xla",
               "--coordinator", f"127.0.0.1:{distributed.free_port()}",
               "--num-processes", str(args.processes), "--timeout", str(args.timeout)]  # fmt: skip
    if args.device:
        command += ["--device", args.device]
    stdin = subprocess.PIPE if text is not None else None
    children = [
        subprocess.Popen([*command, "--process-id", str(i)], stdin=stdin)
        for i in range(args.processes)
    ]
    if stdin is not None:
        for child in children:
            child.stdin.write(text.encode())
            child.stdin.close()
    status, deadline = 0, None
    while any(c.poll() is None for c in children):
        failed = [c.returncode for c in children if c.returncode not in (None, 0)]
        if failed and deadline is None:
            status, deadline = failed[0], time.monotonic() + args.timeout + 5
        if deadline is not None and time.monotonic() > deadline:
            for child in children:
                if child.poll() is None:
                    child.kill()
        time.sleep(0.05)
    return status or next((c.returncode for c in children if c.returncode), 0)


def cmd_check(args) -> int:
    text, name = _read(args.file)
    check_module(syntax.parse(text, name))
    print(f"{name}: ok")
    return 0


def cmd_ir(args) -> int:
    backend = _backend(args.backend, args.device)
    arrays = parse_signature(args.args or "", _usage_error)
    text, name = _read(args.file)
    scope = execute(text, name, backend)
    if args.func not in scope.vars:
        _usage_error(f"{name} defines no '{args.func}'")
    fn = scope.vars[args.func]
    if isinstance(fn, Closure):
        try:  # --args that do not fit the signature are the command's mistake, not the file's
            fn.bind_args(arrays, {}, None)
        except JxError as e:
            _usage_error(f"--args: {e.message}")
    if args.grad:
        fn = grad(fn)
    CTX.loop_notes = []  # each range loop says whether it unrolled or became a scan
    try:
        with using(backend):
            program = trace_function(
                fn, arrays, {}, CTX.span, is_leaf=traced_leaf, static_outputs=True
            ).program
    finally:
        notes, CTX.loop_notes = CTX.loop_notes, None
        if args.after:
            program = optimize(program, until=args.after)
    if args.check:
        check_program(program, after=args.after)
    if args.hlo:
        program = _backend("xla", args.device).lowered_text(program)
    elif args.cuda:
        program = _backend("cupy", None).lowered_text(program)
    comment = "//" if args.hlo or args.cuda else "#"
    for note in notes:
        print(f"{comment} {note}")
    print(program)
    return 0


def cmd_repl(args) -> int:
    return repl_main(_backend(args.backend, args.device))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="jx", description="Run and inspect jx programs.")
    parser.add_argument("--version", action="version", version=f"jx {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    backends = backend_registry.names()
    devices = ["cpu", "gpu", "tpu"]

    p = sub.add_parser("run", help="run a .jx script (- for stdin)")
    p.add_argument("file")
    p.add_argument("--backend", default=backend_registry.DEFAULT, choices=backends)
    p.add_argument("--device", choices=devices, help="the xla backend's platform")
    p.add_argument("--processes", type=int, help="start N processes of one run on this host")
    p.add_argument("--coordinator", help="HOST:PORT of process 0, to join a run")
    p.add_argument("--num-processes", type=int, help="the processes of the run to join")
    p.add_argument("--process-id", type=int, help="this process's index in the run")
    p.add_argument(
        "--timeout",
        type=int,
        default=distributed.DEFAULT_TIMEOUT_S,
        help="seconds a process may take to join, or stay silent, before the others stop",
    )
    p.set_defaults(run=cmd_run)

    p = sub.add_parser("check", help="parse and check a script without running it")
    p.add_argument("file")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("ir", help="print the IR of a function for given argument types")
    p.add_argument("file")
    p.add_argument("func")
    p.add_argument("--args", default="", help='argument types, e.g. "f32[3,3], f32[]"')
    p.add_argument("--hlo", action="store_true", help="show the StableHLO the xla backend runs")
    p.add_argument(
        "--cuda", action="store_true", help="show the CUDA kernels the cupy backend generates"
    )
    p.add_argument("--backend", default=backend_registry.DEFAULT, choices=backends)
    p.add_argument("--device", choices=devices, help="the xla backend's platform")
    p.add_argument("--grad", action="store_true", help="show the program of grad(FUNC)")
    p.add_argument(
        "--after",
        default=None,
        choices=[name for name, _ in PIPELINE],
        help="show the program after this pass",
    )
    p.add_argument(
        "--check", action="store_true", help="check the program keeps the IR's rules (jx.ir_check)"
    )
    p.set_defaults(run=cmd_ir)

    p = sub.add_parser("repl", help="interactive jx")
    p.add_argument("--backend", default=backend_registry.DEFAULT, choices=backends)
    p.add_argument("--device", choices=devices, help="the xla backend's platform")
    p.set_defaults(run=cmd_repl)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except JxError as e:
        sys.stdout.flush()
        print(e.render(), file=sys.stderr)
        distributed.report_failure(e.message)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
