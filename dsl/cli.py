"""The `jx` command: run, check, ir, repl (LANGUAGE.md section 9).

User-program errors print the rendered JxError (never a Python traceback) and exit 1;
usage errors exit 2 (argparse's convention).
"""

from __future__ import annotations

import argparse
import sys

from . import backend as backend_registry
from . import syntax
from .api import execute, get_backend, using
from .core import CTX
from .errors import JxError
from .files import allow_path
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
    backend = _backend(args.backend, args.device)
    text, name = _read(args.file)
    execute(text, name, backend)
    return 0


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
    with using(backend):
        program = trace_function(
            fn, arrays, {}, CTX.span, is_leaf=traced_leaf, static_outputs=True
        ).program
        if args.after:
            program = optimize(program, until=args.after)
    if args.check:
        check_program(program, after=args.after)
    if args.hlo:
        program = _backend("xla", args.device).lowered_text(program)
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
    p.add_argument(
        "--allow-path",
        action="append",
        metavar="DIR",
        help="let save and load use files under DIR too (repeatable)",
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
    p.add_argument(
        "--allow-path",
        action="append",
        metavar="DIR",
        help="let save and load use files under DIR too (repeatable)",
    )
    p.set_defaults(run=cmd_ir)

    p = sub.add_parser("repl", help="interactive jx")
    p.add_argument("--backend", default=backend_registry.DEFAULT, choices=backends)
    p.add_argument("--device", choices=devices, help="the xla backend's platform")
    p.add_argument(
        "--allow-path",
        action="append",
        metavar="DIR",
        help="let save and load use files under DIR too (repeatable)",
    )
    p.set_defaults(run=cmd_repl)

    args = parser.parse_args(argv)
    for folder in getattr(args, "allow_path", None) or ():
        allow_path(folder)
    try:
        return args.run(args)
    except JxError as e:
        sys.stdout.flush()
        print(e.render(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
