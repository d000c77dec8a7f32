"""Mutation of real jx programs: the corpus and the edits applied to it.

The corpus is every `.jx` file under examples/, stdlib/ and tests/conformance/, plus the jx
strings the tests pass to `jx.compile` and `jx.fn`. A mutant is one to three edits of a
corpus program: token deletion, duplication or swap, operator or literal replacement,
truncation, an odd character (`\\r`, form feed, `\\u2028`, a BOM, NUL, ...) put somewhere,
deep nesting around an expression, or a very long line. Bounded mutants leave out programs
with `while` loops and never write huge literals, so none of them runs without end.
"""

from __future__ import annotations

import ast
import functools
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_TOKEN = re.compile(r"\s+|\w+|\"[^\"\n]*\"|'[^'\n]*'|\*\*|//|[<>=!]=|.", re.DOTALL)
_NUMBER = re.compile(r"^\d\w*$")
OPERATORS = [
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "@",
    "<",
    ">",
    "==",
    "&",
    "|",
    "^",
    "<<",
    ">>",
    "=",
    ".",
    ",",
    ":",
    "not",
    "and",
    "is",
    "in",
    "lambda",
]
ODD_CHARS = [
    "\r",
    "\r\n",
    "\x0c",
    "\u2028",
    "\ufeff",
    "\x00",
    "\t",
    "\x85",
    "\u00a0",
    "\\",
    "\\\n",
    "é",
    "\U0001f600",
    "\u0301",
    "\x1b",
    "'",
    '"',
    '"""',
    "#",
    "$",
    "?",
]
BOUNDED_LITERALS = [
    "0",
    "1",
    "-1",
    "2",
    "0.0",
    "0.5",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "3.5",
    "True",
    "None",
    '"s"',
    "()",
    "f64",
    "[]",
]
HUGE_LITERALS = ["2**70", "2**63", "10**20", "10**400", "10**5000", "2**64", "-2**63"]


def _compiled_strings(path: Path) -> list[str]:
    """String literals given first to a `compile`, `fn` or `execute` call in a test file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            text = first.value if isinstance(first, ast.Constant) else None
            if name in ("compile", "fn", "execute") and isinstance(text, str) and text.strip():
                found.append(text)
    return found


@functools.cache
def corpus() -> tuple[str, ...]:
    """Every seed program, in a fixed order."""
    files = sorted(
        p
        for folder in ("examples", "stdlib", "tests/conformance")
        for p in (ROOT / folder).rglob("*.jx")
    )
    texts = [p.read_text(encoding="utf-8") for p in files]
    for test in sorted((ROOT / "tests").glob("test_*.py")):
        texts += _compiled_strings(test)
    return tuple(texts)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _solid(toks: list[str]) -> list[int]:
    return [i for i, t in enumerate(toks) if not t.isspace()]


def mutate(rng: random.Random, text: str, bounded: bool = True) -> str:
    """One to three random edits of `text`."""
    for _ in range(rng.randint(1, 3)):
        text = rng.choice(EDITS)(rng, text, bounded)
    return text


def delete_token(rng, text, bounded):
    toks = tokens(text)
    solid = _solid(toks)
    if solid:
        del toks[rng.choice(solid)]
    return "".join(toks)


def duplicate_token(rng, text, bounded):
    toks = tokens(text)
    solid = _solid(toks)
    if solid:
        i = rng.choice(solid)
        toks.insert(i, toks[i] + rng.choice(["", " "]))
    return "".join(toks)


def swap_tokens(rng, text, bounded):
    toks = tokens(text)
    solid = _solid(toks)
    if len(solid) > 1:
        k = rng.randrange(len(solid) - 1)
        i, j = solid[k], solid[k + 1] if rng.random() < 0.7 else rng.choice(solid)
        toks[i], toks[j] = toks[j], toks[i]
    return "".join(toks)


def replace_operator(rng, text, bounded):
    toks = tokens(text)
    ops = [i for i, t in enumerate(toks) if t in OPERATORS]
    if ops:
        toks[rng.choice(ops)] = rng.choice(OPERATORS)
    return "".join(toks)


def replace_literal(rng, text, bounded):
    toks = tokens(text)
    numbers = [i for i, t in enumerate(toks) if _NUMBER.match(t)]
    if numbers:
        choices = BOUNDED_LITERALS + ([] if bounded else HUGE_LITERALS)
        toks[rng.choice(numbers)] = rng.choice(choices)
    return "".join(toks)


def truncate(rng, text, bounded):
    return text[: rng.randrange(len(text) + 1)]


def insert_odd_character(rng, text, bounded):
    at = rng.randrange(len(text) + 1)
    return text[:at] + rng.choice(ODD_CHARS) + text[at:]


def nest_deeply(rng, text, bounded):
    """Wrap the right side of one assignment in many brackets or unary minus signs."""
    lines = text.split("\n")
    candidates = [i for i, line in enumerate(lines) if " = " in line and not line.startswith(" ")]
    if not candidates:
        return text
    i = rng.choice(candidates)
    left, right = lines[i].split(" = ", 1)
    depth = rng.choice([50, 200, 999, 1001, 3000])
    opening, closing = rng.choice([("(", ")"), ("[", "]"), ("-", ""), ("(lambda: ", ")()")])
    lines[i] = f"{left} = {opening * depth}{right}{closing * depth}"
    return "\n".join(lines)


def long_line(rng, text, bounded):
    """Append one very long line: a long sum, a long array literal or a long call chain."""
    n = rng.choice([1000, 5000, 20000])
    line = rng.choice(
        [
            "z = " + " + ".join(["1.0"] * n),
            "z = array([" + ", ".join(["0.5"] * n) + "])",
            "z = ones(2)" + ".T" * n,
            "z = " + "x" * n,
            "#" * (n * 10),
        ]
    )
    return text + "\n" + line + "\n"


EDITS = [
    delete_token,
    duplicate_token,
    swap_tokens,
    replace_operator,
    replace_literal,
    truncate,
    insert_odd_character,
    nest_deeply,
    long_line,
]
