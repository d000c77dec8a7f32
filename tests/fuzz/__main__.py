"""`python -m tests.fuzz`: a fuzz campaign, or the replay of one reproducer.

    python -m tests.fuzz --cases 100000 --backend numpy --workers 2 --seed 1 --out fuzz-out
    python -m tests.fuzz --replay fuzz-out/TypeError@dsl_builtins.py_sum_.jx

A campaign prints progress, then a table of failure signatures with counts, and writes one
minimised reproducer per signature to `--out` (`<signature>.jx`), with `README.txt` giving
the line that replays each. `--unbounded` lets programs ask for unbounded work (huge loop
counts and exponents), which needs generous time limits.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from pathlib import Path

from .cases import Case, make_case
from .minimise import minimise
from .runner import Limits, Worker, run_cases, run_in_process


def file_name(signature: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", signature)[:120]


def campaign(args) -> int:
    limits = Limits(args.seconds, args.memory_mb << 20)
    cases = (
        make_case(args.seed, i, bounded=not args.unbounded, cli_every=args.cli_every)
        for i in range(args.start, args.start + args.cases)
    )
    counts: Counter[str] = Counter()
    first: dict[str, Case] = {}
    done = [0]
    began = time.monotonic()

    def on_outcome(case, outcome):
        done[0] += 1
        if outcome.signature is not None:
            if outcome.signature not in counts:
                first[outcome.signature] = case
                print(f"new: {outcome.signature} (case {case.name}, via {case.via})", flush=True)
            counts[outcome.signature] += 1
        if done[0] % args.progress == 0:
            rate = done[0] / (time.monotonic() - began)
            print(f"{done[0]} cases, {sum(counts.values())} failures, {rate:.1f}/s", flush=True)

    run_cases(cases, args.backend, limits, args.workers, on_outcome)
    elapsed = time.monotonic() - began
    print(
        f"\n{done[0]} cases in {elapsed:.0f} s ({done[0] / elapsed:.1f}/s), "
        f"{sum(counts.values())} failures, {len(counts)} signatures"
    )
    print(f"{'count':>7}  signature")
    for signature, count in counts.most_common():
        print(f"{count:>7}  {signature}")
    if args.out and counts:
        write_reproducers(args, limits, counts, first)
    return 1 if counts else 0


def write_reproducers(args, limits, counts, first) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    worker = Worker(args.backend, limits)
    index = []
    try:
        for signature, _ in counts.most_common():
            budget = 15 if signature == "timeout" else args.minimise_budget
            small = minimise(first[signature], signature, worker, budget)
            path = out / f"{file_name(signature)}.jx"
            path.write_text(small.source, encoding="utf-8", newline="")
            index.append(
                f"{signature}\t{counts[signature]}\t{small.how_to_run(str(path), args.backend)}"
            )
    finally:
        worker.close()
    (out / "README.txt").write_text("\n".join(index) + "\n", encoding="utf-8")
    print(f"\nreproducers in {out}:")
    print("\n".join(index))


def replay(args) -> int:
    source = Path(args.replay).read_bytes().decode("utf-8")  # keeps \r as written
    via = "call" if args.call else "compile"
    case = Case(Path(args.replay).name, source, via, args.call or "")
    outcome = run_in_process(case, args.backend)
    print(outcome.detail)
    print(f"signature: {outcome.signature or 'none (the contract holds)'}")
    return 1 if outcome.signature else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--start", type=int, default=0, help="index of the first case")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="numpy", choices=["numpy", "xla"])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0, help="time limit per case")
    parser.add_argument("--memory-mb", type=int, default=2048, help="address-space limit")
    parser.add_argument("--cli-every", type=int, default=50, help="every Nth case runs via jx run")
    parser.add_argument("--unbounded", action="store_true", help="allow unbounded-work programs")
    parser.add_argument("--out", help="folder for minimised reproducers")
    parser.add_argument("--minimise-budget", type=int, default=300, help="runs per reproducer")
    parser.add_argument("--progress", type=int, default=500, help="print progress every N cases")
    parser.add_argument("--replay", help="run one .jx file as a case and show its outcome")
    parser.add_argument("--call", help="with --replay: host arguments for f, as Python")
    args = parser.parse_args(argv)
    return replay(args) if args.replay else campaign(args)


if __name__ == "__main__":
    sys.exit(main())
