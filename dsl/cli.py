"""The `jx` command: run, check, ir, repl (LANGUAGE.md section 9), each with a description
and an example in its `--help`.

User-program errors print the rendered JxError (never a Python traceback) and exit 1;
usage errors exit 2 (argparse's convention). `jx run --processes N` starts N processes of
the same run on this host (a coordinator on the loopback) and waits for them; `jx run
--coordinator HOST:PORT --num-processes N --process-id I` (or the JX_* or SLURM
variables, see distributed.py) joins one process to a run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from . import backend as backend_registry
from . import bench, distributed, literate, syntax, testing
from .api import execute, get_backend, using
from .config import config
from .core import CTX
from .errors import JxError
from .files import allow_path
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
    if args.processes is not None:
        return _launch(args)
    if distributed.joins_a_run(args.coordinator, args.num_processes, args.process_id):
        distributed.initialize(args.coordinator, args.num_processes, args.process_id,
                               backend=args.backend, timeout_s=args.timeout)  # fmt: skip
    backend = _backend(args.backend, args.device)
    config.debug_nans = config.debug_nans or args.debug_nans
    config.progress = config.progress or args.progress
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


def cmd_test(args) -> int:
    files = testing.find_files(args.paths)
    if not files:
        _usage_error(f"no test files (test_*.jx, *_test.jx) in {', '.join(args.paths)}")
    backends = testing.backends_for(args.backend)
    for name in backends:
        _backend(name)
    results = []
    for path in files:
        for name in backends:
            ran = testing.run_file(path, name)
            results += ran
            failed = [r for r in ran if not r.passed]
            for r in ran if args.verbose else failed:
                print(f"{'ok' if r.passed else 'FAIL'} [{name}] {r.case.name}")
                if not r.passed:
                    print("    " + r.message.replace("\n", "\n    "))
            if not args.verbose:
                print(f"{path} [{name}]: {testing.summary(ran)}")
    if args.junit:
        testing.write_junit(results, args.junit)
    if args.json:
        testing.write_json(results, args.json)
    print(testing.summary(results))
    return 0 if all(r.passed for r in results) else 1


def cmd_bench(args) -> int:
    if not bench.collect(args.file):
        _usage_error(f"{args.file} has no '# bench: f(args)' lines")
    old = None
    if args.compare:
        try:
            old = bench.load_json(args.compare)
        except (OSError, ValueError) as e:
            _usage_error(f"cannot read {args.compare}: {e}")
    results = []
    for name in testing.backends_for(args.backend):
        _backend(name)
        results += bench.run_file(args.file, name, args.budget)
    print(bench.table(results))
    if old is not None:
        print()
        print(bench.compare(results, old))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(bench.to_json(results, args.file), f, indent=2)
    return 0


def cmd_literate(args) -> int:
    backend = _backend(args.backend)
    target = args.output or os.path.splitext(args.file)[0] + ".md"
    folder = os.path.dirname(os.path.abspath(target))
    _read(args.file)  # an unreadable file is a usage error
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        _usage_error(f"cannot write to {folder}: {e.strerror}")
    stem = os.path.splitext(os.path.basename(target))[0]
    blocks, finished = literate.render(args.file, folder, stem, backend)
    with open(target, "w", encoding="utf-8") as f:
        f.write(literate.markdown(blocks))
    written = [target]
    if args.html:
        page = os.path.splitext(target)[0] + ".html"
        with open(page, "w", encoding="utf-8") as f:
            f.write(literate.to_html(blocks, os.path.basename(args.file)))
        written.append(page)
    plots = sum(b.kind == "image" for b in blocks)
    print(f"wrote {' and '.join(written)}" + (f" with {plots} plot(s)" if plots else ""))
    if not finished:
        print(next(b.text for b in blocks if b.kind == "error"), file=sys.stderr)
    return 0 if finished else 1


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
    "test": (
        "check the expectations written in .jx test files",
        (
            "Run the examples (# >>>), expected errors (# !!) and properties (# forall) written\n"
            "in .jx files, on one backend or all; docs/testing.md has the format."
        ),
        "jx test examples/test_polynomial.jx\n  jx test tests/ --backend all --junit out.xml",
    ),
    "bench": (
        "time the calls named in '# bench: f(args)' lines",
        (
            "Time each bench line's call under jit: compile time, median and 95% interval,\n"
            "peak host memory; --json saves a run, --compare sets it beside a saved one."
        ),
        "jx bench examples/bench_mlp.jx --backend all --json now.json",
    ),
    "literate": (
        "a script as Markdown (and HTML): each statement's output and plots",
        (
            "Run a script and write it as Markdown: comments become prose, each statement a\n"
            "code block with what it printed and the PNGs its plot calls drew."
        ),
        "jx literate examples/literate_sine.jx -o sine.md --html",
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
    p.add_argument(
        "--debug-nans",
        action="store_true",
        help="stop at the first equation that makes a NaN or an infinity, with its operands",
    )
    p.add_argument(
        "--progress",
        action="store_true",
        help="a progress bar (on a terminal) for top-level for loops, scan and fori_loop",
    )
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
    p.add_argument(
        "--allow-path",
        action="append",
        metavar="DIR",
        help="let save and load use files under DIR too (repeatable)",
    )
    p.set_defaults(run=cmd_run)

    p = _command(sub, "check")
    p.add_argument("file", help="a .jx file, or - for stdin")
    p.set_defaults(run=cmd_check)

    p = _command(sub, "ir")
    p.add_argument("file", help="the .jx file that defines FUNC")
    p.add_argument("func", help="the name of the function")
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
    p.add_argument(
        "--allow-path",
        action="append",
        metavar="DIR",
        help="let save and load use files under DIR too (repeatable)",
    )
    p.set_defaults(run=cmd_ir)

    p = _command(sub, "test")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR")
    p.add_argument("--backend", default=backend_registry.DEFAULT, choices=[*backends, "all"])
    p.add_argument("--junit", metavar="PATH", help="also write the results as JUnit XML")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="list every expectation")
    p.set_defaults(run=cmd_test)

    p = _command(sub, "bench")
    p.add_argument("file")
    p.add_argument("--backend", default=backend_registry.DEFAULT, choices=[*backends, "all"])
    p.add_argument("--json", metavar="PATH", help="save the measurements")
    p.add_argument("--compare", metavar="OLD.json", help="set each median beside a saved run")
    p.add_argument(
        "--budget", type=float, default=2.0, help="seconds of timing per bench line at most"
    )
    p.set_defaults(run=cmd_bench)

    p = _command(sub, "literate")
    p.add_argument("file")
    p.add_argument("-o", "--output", metavar="OUT.md", help="where the Markdown goes")
    p.add_argument("--html", action="store_true", help="also write OUT.html")
    p.add_argument("--backend", default=backend_registry.DEFAULT, choices=backends)
    p.set_defaults(run=cmd_literate)

    p = _command(sub, "repl")
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
        distributed.report_failure(e.message)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
