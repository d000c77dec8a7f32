"""The `jx` command: run, check, ir, repl (LANGUAGE.md section 9), each with a description
and an example in its `--help`.

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
from .formatting import parse_signature
from .functions import trace_function, traced_leaf
from .ir_check import check_program
from .modules import check_module
from .passes import PIPELINE, optimize
from .repl import main as repl_main
from .toplevel_check import check_top_level
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
    module = syntax.parse(text, name)
    check_module(module)
    errors = check_top_level(module, name)
    if not errors:
        print(f"{name}: ok")
        return 0
    sys.stdout.flush()
    print("\n\n".join(e.render() for e in errors), file=sys.stderr)
    print(f"{name}: {len(errors)} error{'s' * (len(errors) > 1)}", file=sys.stderr)
    return 1


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


DESCRIPTION = """\
jx is a small, pure, functional array language embedded in Python: NumPy's names,
grad/vmap/jit/pmap, native if/for/while, and errors with a caret in your source.

examples:
  jx run examples/polynomial.jx
  jx check script.jx
  jx ir script.jx f --args "f32[3]"
  jx repl"""

#: Each command's help: (one line for `jx --help`, a description, an example).
COMMANDS = {
    "run": (
        "run a .jx script (- for stdin)",
        (
            "Run a script's top level: print() writes to stdout, errors go to stderr with a\n"
            "caret under the source and exit status 1."
        ),
        "jx run examples/polynomial.jx\n  echo 'print(sum(ones(3)))' | jx run -",
    ),
    "check": (
        "find a script's errors without running it",
        (
            "Parse and check a script, then trace its top level without computing anything:\n"
            "syntax, names, purity and key reuse, and shape, branch and static index errors,\n"
            "every independent one. Nothing is printed or saved; exit status 1 on errors."
        ),
        "jx check script.jx",
    ),
    "ir": (
        "print the IR of a function for given argument types",
        (
            "Trace FUNC from FILE (its top level runs first) at the argument types given, and\n"
            "print the program, like jax.make_jaxpr."
        ),
        (
            'jx ir script.jx f --args "f32[3,3], f32[]"\n'
            '  jx ir script.jx loss --args "f32[3]" --grad --after cse'
        ),
    ),
    "repl": (
        "interactive jx",
        (
            "An interactive session: expression statements print their value, :help lists the\n"
            "commands, help(NAME) or NAME? shows a docstring. Over a pipe it runs statements."
        ),
        "jx repl\n  jx repl --backend xla",
    ),
}


def _command(sub, name: str):
    short, description, example = COMMANDS[name]
    return sub.add_parser(
        name,
        help=short,
        description=description,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="jx", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"jx {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    # Only the installed backends are offered (cupy appears with its package).
    backends = backend_registry.names()
    devices = ["cpu", "gpu", "tpu"]

    p = _command(sub, "run")
    p.add_argument("file", help="a .jx file, or - for stdin")
    p.add_argument("--backend", default=backend_registry.DEFAULT, choices=backends)
    p.add_argument("--device", choices=devices, help="the xla backend's platform")
    p.set_defaults(run=cmd_run)

    p = _command(sub, "check")
    p.add_argument("file", help="a .jx file, or - for stdin")
    p.set_defaults(run=cmd_check)

    p = _command(sub, "ir")
    p.add_argument("file", help="the .jx file that defines FUNC")
    p.add_argument("func", help="the name of the function")
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
    p.set_defaults(run=cmd_ir)

    p = _command(sub, "repl")
    p.add_argument("--backend", default=backend_registry.DEFAULT, choices=backends)
    p.add_argument("--device", choices=devices, help="the xla backend's platform")
    p.set_defaults(run=cmd_repl)

    args = parser.parse_args(argv)
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
