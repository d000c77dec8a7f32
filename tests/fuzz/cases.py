"""Fuzz cases: what to run and how, each rebuilt exactly from (seed, index).

A case is jx source plus the way it reaches jx: `compile` (`jx.compile(source, name=...)`),
`call` (compile, then call the function `f` from Python with host arguments written as a
Python expression) or `cli` (`python -m jx.cli run -` with the source on stdin).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .generate import ProgramGenerator, generate
from .mutate import corpus, mutate

# Host arguments for `call` cases: Python expressions over `np`, evaluated in the worker.
HOST_ARGUMENTS = [
    "[[1, 2], [3]]",
    "np.ones(3)",
    "np.ones((2, 3), dtype=np.complex64)",
    "2**70",
    "2**63",
    "float('nan')",
    "'text'",
    "None",
    "np.array(['a'])",
    "{'a': np.ones(2)}",
    "(1.0, np.ones(2))",
    "[1.0, 2.0]",
    "np.float64(1.5)",
    "np.int64(2**62)",
    "np.ones(0)",
    "np.ones((2, 0))",
    "lambda v: v",
    "object()",
    "np.datetime64('2020')",
    "[[]]",
    "[]",
    "np.ones(3, dtype=np.uint64)",
    "np.ones(3, dtype=object)",
    "b'bytes'",
    "1j",
    "True",
]


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    via: str = "compile"
    arguments: str = ""

    def how_to_run(self, path: str, backend: str = "numpy") -> str:
        """A shell line that replays this case from its source file."""
        if self.via == "cli":
            return f"python -m jx.cli run - --backend {backend} < {path}"
        extra = f" --call {self.arguments!r}" if self.via == "call" else ""
        return f"python -m tests.fuzz --backend {backend} --replay {path}{extra}"


def make_case(seed: int, index: int, bounded: bool = True, cli_every: int = 50) -> Case:
    """Case number `index` of the campaign `seed`; every `cli_every`-th runs through `jx run`."""
    rng = random.Random(f"{seed}:{index}")
    name = f"fuzz_{seed}_{index}.jx"
    roll = rng.random()
    if roll < 0.45:
        source = generate(rng, bounded)
    elif roll < 0.9:
        seeds = [t for t in corpus() if not (bounded and "while" in t)]
        source = mutate(rng, rng.choice(seeds), bounded)
    else:
        source = mutate(rng, generate(rng, bounded), bounded)
    if cli_every and index % cli_every == cli_every - 1:
        return Case("<stdin>", source, "cli")
    if rng.random() < 0.06:
        generator = ProgramGenerator(rng, bounded)
        generator.names["vector"].append("x")
        source = f"def f(x) = {generator.expr(rng.choice(['vector', 'scalar']))}\n"
        return Case(name, source, "call", rng.choice(HOST_ARGUMENTS))
    return Case(name, source)
