"""Grammar-driven generation of plausible, and deliberately implausible, jx programs.

A `ProgramGenerator` writes a script statement by statement (imports, assignments, `def`s in
both forms, decorated defs, if/while/for, comprehensions, records, tuples, `.at[]` updates,
prints and asserts), tracking which names hold which kind of value so that most programs get
past the checker and into tracing and running. At every expression it may instead go wild:
call any built-in or library function named in docs/reference.md with arguments of random
kinds, keywords misspelt or duplicated, or an odd literal (2**70, nan, a string, a ragged
list). With `bounded` set it never writes a loop count, range or exponent that could make
the program run without end, so a bounded campaign never waits on a time limit.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference.md"
_ENTRY = re.compile(r"^- `(?:(\w+)\.)?(\w+)\(([^)]*)\)`", re.MULTILINE)
_PARAM = re.compile(r"(?:^|, )(\*{0,2}\w+)")


def read_signatures(path: Path = REFERENCE) -> list[tuple[str, list[str]]]:
    """(qualified name, parameter names) of every function the reference lists."""
    found = []
    for module, name, params in _ENTRY.findall(path.read_text(encoding="utf-8")):
        if module in ("", "linalg", "nn", "random", "optim") and not name.startswith("_"):
            found.append((f"{module}.{name}" if module else name, _PARAM.findall(params)))
    return found


SIGNATURES = read_signatures()
# Built-ins whose integer arguments count loop trips or elements produced one by one: a huge
# value there is unbounded work, kept out of bounded programs.
LOOPING = {"fori_loop", "while_loop", "scan", "range", "linspace", "arange", "repeat", "tile"}

ODD_LITERALS = [
    "nan",
    "inf",
    "-inf",
    "-0.0",
    "1e308",
    "1e-320",
    "1e309",
    "0",
    "-1",
    "True",
    "None",
    '"text"',
    '""',
    "()",
    "(())",
    "[]",
    "[[1, 2], [3]]",
    "[[]]",
    "{}",
    '{"a": 1}',
    "f32",
    "i64",
    "bool",
    "...",
    "2**70",
    "2**63",
    "-2**63 - 1",
    "2**64",
    "10**20",
    "10**400",
    "0x7fffffffffffffff",
    "1_000",
    "3.5",
    "-3",
]
HUGE_INTS = ["2**70", "2**63", "2**64", "10**20", "2**31", "-2**63 - 1"]
UNARY = [
    "sin",
    "cos",
    "exp",
    "tanh",
    "sqrt",
    "abs",
    "log1p",
    "square",
    "negative",
    "sign",
    "floor",
    "nn.relu",
    "nn.sigmoid",
    "nn.softplus",
    "stop_gradient",
    "expm1",
]
REDUCE = ["sum", "mean", "max", "min", "prod", "std", "var", "amax", "argmax", "all", "any"]
BINOPS = ["+", "-", "*", "/", "//", "%", "**", "@", "<", ">", "==", "!=", "&", "|", "^"]
METHODS = ["sum", "mean", "max", "min", "cumsum", "ravel", "round", "std", "argmin", "clip"]
TRANSFORMS = ["jit", "grad", "vmap", "jacfwd", "jacrev", "hessian", "pmap", "value_and_grad"]
DTYPES = ["f32", "f64", "i32", "i64", "bool", "bf16", "f16", "u8", '"float32"', '"nope"']


class ProgramGenerator:
    """One program from one random stream; `wildness` is the chance an expression goes wild."""

    def __init__(self, rng: random.Random, bounded: bool = True, wildness: float = 0.15):
        self.rng = rng
        self.bounded = bounded
        self.wildness = wildness
        self.names: dict[str, list[str]] = {k: [] for k in ("scalar", "vector", "matrix", "fn")}
        self.fresh = 0
        # One length for most arrays of a program, so that most shapes fit and runs go deep.
        self.n = rng.randint(1, 4)

    # ------------------------------------------------------------------ helpers

    def pick(self, options):
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def new_name(self, prefix: str) -> str:
        self.fresh += 1
        return f"{prefix}{self.fresh}"

    def small_int(self) -> str:
        if self.chance(self.wildness / 3):
            return self.pick(["0", "-1", "-2"] + ([] if self.bounded else HUGE_INTS))
        return str(self.rng.randint(1, 5))

    def size(self) -> str:
        """An array size: small, or now and then zero, negative, huge or not an int at all."""
        if self.chance(self.wildness / 2):
            return self.pick(["0", "-1", "2**70", "2**63", "10**20", "2.5", "nan", "None", '"3"'])
        return str(self.n if self.chance(0.8) else self.rng.randint(1, 4))

    def literal(self) -> str:
        return self.pick(["0.5", "1.0", "2.0", "-1.5", "3", "0", "1e-3", "True", "pi"])

    # ------------------------------------------------------------------ expressions

    def expr(self, kind: str, depth: int = 0) -> str:
        if depth > 3 or self.chance(0.2 * depth):
            return self.leaf(kind)
        if self.chance(self.wildness):
            return self.wild(depth)
        return getattr(self, f"{kind}_expr")(depth + 1)

    def leaf(self, kind: str) -> str:
        if self.names.get(kind) and self.chance(0.7):
            return self.pick(self.names[kind])
        return {
            "scalar": self.literal,
            "vector": lambda: f"ones({self.size()})",
            "matrix": lambda: f"eye({self.size()})",
            "fn": lambda: self.pick(["sin", "nn.relu", "lambda v: v * 2.0", "exp"]),
        }[kind]()

    def scalar_expr(self, d: int) -> str:
        e = self.expr
        return self.pick(
            [
                lambda: self.literal(),
                lambda: f"{self.pick(UNARY)}({e('scalar', d)})",
                lambda: f"({e('scalar', d)} {self.pick(BINOPS[:7])} {e('scalar', d)})",
                lambda: f"{self.pick(REDUCE)}({e('vector', d)})",
                lambda: f"{e('vector', d)}[{self.small_int()}]",
                lambda: f"{e('vector', d)}.{self.pick(METHODS[:4])}()",
                lambda: f"grad(lambda s: {self.pick(UNARY)}(s) * s)({e('scalar', d)})",
                lambda: f"({e('scalar', d)} if {e('scalar', d)} > 0 else {e('scalar', d)})",
                lambda: f"sum({e('matrix', d)} @ {e('vector', d)})",
                lambda: f"linalg.det({e('matrix', d)})",
                lambda: f"nn.logsumexp({e('vector', d)})",
                lambda: f"{e('fn', d)}({e('scalar', d)})",
                lambda: (
                    f"cond({e('scalar', d)} > 0, lambda a: a + 1.0, lambda a: a - 1.0, "
                    f"{e('scalar', d)})"
                ),
                lambda: (
                    f"fori_loop(0, {self.small_int()}, lambda i, v: v + {self.literal()}, "
                    f"{e('scalar', d)})"
                ),
                lambda: f"while_loop(lambda v: v < {self.literal()}, lambda v: v + 1.0, 0.0)",
                lambda: f"random.uniform(random.key({self.small_int()}))",
            ]
        )()

    def vector_expr(self, d: int) -> str:
        e = self.expr
        n = self.size()
        return self.pick(
            [
                lambda: f"ones({n})",
                lambda: f"(arange({n}) * 1.0)",
                lambda: f"linspace(0.0, 1.0, {n})",
                lambda: "array([" + ", ".join(self.literal() for _ in range(3)) + "])",
                lambda: f"{self.pick(UNARY)}({e('vector', d)})",
                lambda: f"({e('vector', d)} {self.pick(BINOPS[:6])} {e('scalar', d)})",
                lambda: f"({e('vector', d)} {self.pick(BINOPS[:4])} {e('vector', d)})",
                lambda: f"{e('matrix', d)} @ {e('vector', d)}",
                lambda: (
                    f"{e('vector', d)}.at[{self.small_int()}].{self.pick(['set', 'add', 'mul', 'max'])}"
                    f"({e('scalar', d)})"
                ),
                lambda: f"{e('vector', d)}[{self.small_int()}:{self.small_int()}]",
                lambda: f"{e('vector', d)}[::{self.pick(['1', '-1', '2', '0'])}]",
                lambda: f"random.normal(random.key({self.small_int()}), ({n},))",
                lambda: f"vmap({e('fn', d)})({e('vector', d)})",
                lambda: f"jit({e('fn', d)})({e('vector', d)})",
                lambda: f"where({e('vector', d)} > 0, {e('vector', d)}, {e('scalar', d)})",
                lambda: f"concatenate(({e('vector', d)}, {e('vector', d)}))",
                lambda: (
                    f"{self.pick(['sort', 'cumsum', 'flip', 'nn.softmax', 'ravel'])}"
                    f"({e('vector', d)})"
                ),
                lambda: f"{e('matrix', d)}[{self.small_int()}]",
                lambda: f"{self.pick(REDUCE[:4])}({e('matrix', d)}, axis={self.small_int()})",
                lambda: f"array([{e('scalar', d)} for i in range({self.small_int()})])",
                lambda: f"scan(lambda c, x: (c + x, c * x), 0.0, {e('vector', d)})[1]",
                lambda: f"grad(lambda w: sum({self.pick(UNARY)}(w)))({e('vector', d)})",
                lambda: f"astype({e('vector', d)}, {self.pick(DTYPES)})",
                lambda: f"nn.one_hot({self.small_int()}, {n})",
            ]
        )()

    def matrix_expr(self, d: int) -> str:
        e = self.expr
        n, m = self.size(), self.size()
        return self.pick(
            [
                lambda: f"ones(({n}, {m}))",
                lambda: f"eye({n})",
                lambda: f"reshape(arange({n} * {m}) * 1.0, ({n}, {m}))",
                lambda: f"outer({e('vector', d)}, {e('vector', d)})",
                lambda: f"{e('matrix', d)}.T",
                lambda: f"({e('matrix', d)} @ {e('matrix', d)})",
                lambda: f"({e('matrix', d)} {self.pick(BINOPS[:4])} {e('scalar', d)})",
                lambda: f"stack([{e('vector', d)}, {e('vector', d)}])",
                lambda: f"linalg.{self.pick(['inv', 'cholesky', 'pinv'])}({e('matrix', d)})",
                lambda: f"linalg.qr({e('matrix', d)})[{self.pick(['0', '1', '2'])}]",
                lambda: f"jacfwd(lambda v: v * v)({e('vector', d)})",
                lambda: f"hessian(lambda v: sum(v ** 3))({e('vector', d)})",
                lambda: f"{e('matrix', d)}.at[{self.small_int()}, :].set({e('scalar', d)})",
                lambda: f"transpose({e('matrix', d)}, ({self.small_int()}, {self.small_int()}))",
                lambda: f"random.uniform(random.key(0), ({n}, {m}))",
                lambda: f"pmap(lambda r: r * 2.0)({e('matrix', d)})",
            ]
        )()

    def fn_expr(self, d: int) -> str:
        body = self.expr(self.pick(["scalar", "vector"]), d)
        return self.pick(
            [
                lambda: f"lambda v: {self.pick(UNARY)}(v) + v",
                lambda: f"{self.pick(TRANSFORMS)}(lambda v: sum(v * v))",
                lambda: f"jit({self.pick(UNARY)})",
                lambda: f"lambda v: {body}",
                lambda: f"vmap(lambda v: v * 2.0, in_axes={self.pick(['0', '1', 'None', '(0,)'])})",
            ]
        )()

    def wild(self, d: int) -> str:
        """Any function the reference names, with arguments of any kind, or an odd literal."""
        if self.chance(0.3):
            return self.pick(ODD_LITERALS if not self.bounded else ODD_LITERALS[:-10])
        name, params = self.pick(SIGNATURES)
        kinds = ("scalar", "vector", "matrix", "fn")
        args = [self.expr(self.pick(kinds), d + 1) for _ in range(self.rng.randint(0, 3))]
        if (name not in LOOPING or not self.bounded) and args and self.chance(0.3):
            args[self.rng.randrange(len(args))] = self.pick(ODD_LITERALS)
        if self.chance(0.5):
            plain = [p for p in params if not p.startswith("*")]
            word = self.pick(plain) if plain and self.chance(0.7) else self.pick(["axiss", "file"])
            value = self.pick([self.small_int(), self.pick(DTYPES), self.expr("vector", d + 1)])
            args.append(f"{word}={value}")
        return f"{name}({', '.join(args)})"

    # ------------------------------------------------------------------ statements

    def bind(self, kind: str, name: str | None = None) -> str:
        name = name or self.new_name(kind[0])
        value = self.expr(kind)
        self.names[kind].append(name)
        return f"{name} = {value}"

    def function(self) -> list[str]:
        name = self.new_name("f")
        kind = self.pick(["scalar", "vector"])
        saved = {k: list(v) for k, v in self.names.items()}
        self.names[kind].append("x")
        result = self.expr(self.pick(["scalar", "vector"]))
        if self.chance(0.4):
            lines = [f"def {name}(x) = {result}"]
        else:
            lines = (
                [f"def {name}(x):"] + ["    " + s for s in self.body()] + [f"    return {result}"]
            )
        if self.chance(0.2):
            lines.insert(0, self.pick(["@jit", "@grad", "@vmap", "@jit(static_argnums=0)"]))
        self.names = saved
        self.names["fn"].append(name)
        return lines

    def body(self) -> list[str]:
        """A few statements inside a function: traced if/else, loops, updates."""
        lines = []
        for _ in range(self.rng.randint(0, 3)):
            kind = self.pick(["scalar", "vector"])
            target = self.new_name("t")
            choice = self.rng.randrange(5)
            if choice == 0:
                lines += [
                    f"if {self.expr('scalar', 2)} > 0:",
                    f"    {target} = {self.expr(kind, 2)}",
                    "else:",
                    f"    {target} = {self.expr(kind, 2)}",
                ]
            elif choice == 1:
                lines += [
                    f"{target} = {self.expr(kind, 2)}",
                    f"for i in range({self.small_int()}):",
                    f"    {target} = {target} + {self.expr(kind, 3)}",
                ]
            elif choice == 2:
                lines += [
                    f"{target} = 0.0",
                    f"while {target} < {self.literal()}:",
                    f"    {target} = {target} + 1.0",
                ]
            elif choice == 3:
                lines += [f"{target} = {self.expr(kind, 2)}", f"{target} += {self.expr(kind, 3)}"]
            else:
                lines += [f"{target}, _ = ({self.expr(kind, 2)}, {self.expr(kind, 2)})"]
            self.names[kind].append(target)
        return lines

    def statement(self) -> list[str]:
        choice = self.rng.randrange(11)
        kind = self.pick(["scalar", "vector", "matrix"])
        if choice <= 2:
            return [self.bind(kind)]
        if choice <= 4:
            return self.function()
        if choice == 5:
            args = [
                self.expr(self.pick(["scalar", "vector"])) for _ in range(self.rng.randint(1, 2))
            ]
            if self.chance(self.wildness):
                args.append(self.pick(["sep=3", "end=2", 'sep=""', 'end="!"', "flush=True"]))
            return [f"print({', '.join(args)})"]
        if choice == 6:
            name = self.pick(self.names["fn"]) if self.names["fn"] else "sin"
            return [f"print({name}({self.expr(self.pick(['scalar', 'vector']))}))"]
        if choice == 7:
            r = self.new_name("r")
            return [
                f'{r} = {{"w": {self.expr(kind)}, "b": {self.expr("scalar")}}}',
                f'print({r}["{self.pick(["w", "b", "c"])}"])',
            ]
        if choice == 8:
            return [f"for i in range({self.small_int()}):", f"    print(i, {self.expr('scalar')})"]
        if choice == 9:
            return [f"assert {self.expr('scalar')} {self.pick(['<', '>', '=='])} {self.literal()}"]
        return [f"print([{self.expr('scalar', 2)} for v in {self.expr('vector', 2)}])"]

    def program(self) -> str:
        lines = [f"import {m}" for m in ("linalg", "nn", "random") if not self.chance(0.05)]
        for _ in range(self.rng.randint(1, 6)):
            lines += self.statement()
        return "\n".join(lines) + "\n"


def generate(rng: random.Random, bounded: bool = True) -> str:
    """One program drawn from `rng`."""
    return ProgramGenerator(rng, bounded, wildness=rng.choice([0.05, 0.15, 0.3])).program()
