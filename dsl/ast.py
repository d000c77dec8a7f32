"""The jx abstract syntax tree: small frozen dataclasses, each with the span it came from.

The parser (`syntax.py`) builds these from Lark's tree; the checker (`check.py`) walks
them; the evaluator (`interp.py`) runs or traces them. Sugar is removed by the parser:
`elif` becomes a nested `If`, `def f(x) = e` a body of one `Return`, `x += 1` stays an
`AugAssign` (so the checker can name it) and `a < b < c` stays one `Compare`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Span


@dataclass(frozen=True, slots=True)
class Node:
    span: Span = field(repr=False, compare=False)


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Name(Node):
    id: str


@dataclass(frozen=True, slots=True)
class Const(Node):
    """A literal: int, float, bool, None or str."""

    value: object


@dataclass(frozen=True, slots=True)
class EllipsisLit(Node):
    pass


@dataclass(frozen=True, slots=True)
class TupleExpr(Node):
    elts: tuple


@dataclass(frozen=True, slots=True)
class ListExpr(Node):
    """`[a, b]`: an array literal."""

    elts: tuple


@dataclass(frozen=True, slots=True)
class DictExpr(Node):
    """`{"w": w, **r}`: a record; keys are string literals, None for a `**r` spread."""

    keys: tuple
    values: tuple


@dataclass(frozen=True, slots=True)
class FString(Node):
    """`f"..."`: literal text (`Const`) and `FormatField`s, in order."""

    parts: tuple


@dataclass(frozen=True, slots=True)
class FormatField(Node):
    """`{value=!r:spec}` in an f-string; `debug` is the source text before `=` (or '')."""

    value: Node
    debug: str
    conversion: str | None
    spec: str


@dataclass(frozen=True, slots=True)
class BinOp(Node):
    op: str  # + - * / // % ** @ << >> & ^ |
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class UnaryOp(Node):
    op: str  # - + not ~
    operand: Node


@dataclass(frozen=True, slots=True)
class Compare(Node):
    left: Node
    ops: tuple  # of < <= > >= == != is, is not
    comparators: tuple


@dataclass(frozen=True, slots=True)
class BoolOp(Node):
    op: str  # and, or
    values: tuple


@dataclass(frozen=True, slots=True)
class IfExp(Node):
    test: Node
    body: Node
    orelse: Node


@dataclass(frozen=True, slots=True)
class Param(Node):
    name: str
    default: Node | None = None
    star: bool = False  # *args, or a bare `*` (name "") before keyword-only parameters


@dataclass(frozen=True, slots=True)
class Lambda(Node):
    params: tuple
    body: Node


@dataclass(frozen=True, slots=True)
class Starred(Node):
    value: Node


@dataclass(frozen=True, slots=True)
class Keyword(Node):
    name: str
    value: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    func: Node
    args: tuple  # expressions or Starred
    keywords: tuple  # of Keyword


@dataclass(frozen=True, slots=True)
class Attribute(Node):
    value: Node
    attr: str


@dataclass(frozen=True, slots=True)
class Slice(Node):
    lower: Node | None
    upper: Node | None
    step: Node | None


@dataclass(frozen=True, slots=True)
class Subscript(Node):
    """`x[i]`; `index` is one expression or a `TupleExpr` for `x[i, j]`."""

    value: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Comprehension(Node):
    target: Node
    iter: Node
    ifs: tuple


@dataclass(frozen=True, slots=True)
class ListComp(Node):
    elt: Node
    generators: tuple  # of Comprehension


# ----------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Import(Node):
    module: str
    alias: str | None


@dataclass(frozen=True, slots=True)
class ImportFrom(Node):
    module: str
    names: tuple  # of (name, alias or None)


@dataclass(frozen=True, slots=True)
class FunctionDef(Node):
    name: str
    params: tuple
    body: tuple
    name_span: Span = field(repr=False, compare=False, default=None)
    decorators: tuple = ()  # expressions, outermost first


@dataclass(frozen=True, slots=True)
class Assign(Node):
    targets: tuple  # `a = b = v` has two; each a Name, TupleExpr, Subscript or Attribute
    value: Node


@dataclass(frozen=True, slots=True)
class AugAssign(Node):
    target: Node
    op: str  # the binary operator, e.g. "+"
    value: Node


@dataclass(frozen=True, slots=True)
class ExprStmt(Node):
    value: Node


@dataclass(frozen=True, slots=True)
class Return(Node):
    value: Node | None


@dataclass(frozen=True, slots=True)
class If(Node):
    test: Node
    body: tuple
    orelse: tuple


@dataclass(frozen=True, slots=True)
class For(Node):
    target: Node
    iter: Node
    body: tuple


@dataclass(frozen=True, slots=True)
class While(Node):
    test: Node
    body: tuple


@dataclass(frozen=True, slots=True)
class Assert(Node):
    test: Node
    msg: Node | None


@dataclass(frozen=True, slots=True)
class Pass(Node):
    pass


@dataclass(frozen=True, slots=True)
class Forbidden(Node):
    """`global`, `nonlocal` or `del`: parsed only so the checker can explain why not."""

    keyword: str


@dataclass(frozen=True, slots=True)
class Module(Node):
    body: tuple


def walk(node):
    """Yield `node` and every node below it, depth first."""
    yield node
    for name in node.__dataclass_fields__:
        if name == "span" or name == "name_span":
            continue
        value = getattr(node, name)
        if isinstance(value, Node):
            yield from walk(value)
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, Node):
                    yield from walk(item)


def target_names(t, out: set) -> None:
    """Add the names an assignment target binds to `out`."""
    if isinstance(t, Name):
        out.add(t.id)
    elif isinstance(t, TupleExpr):
        for e in t.elts:
            target_names(e, out)
    elif isinstance(t, Starred):
        target_names(t.value, out)


def bound_names(stmts) -> set:
    """Names a block binds anywhere (not inside nested functions)."""
    out: set = set()
    for stmt in stmts:
        if isinstance(stmt, Assign):
            for t in stmt.targets:
                target_names(t, out)
        elif isinstance(stmt, AugAssign):
            target_names(stmt.target, out)
        elif isinstance(stmt, FunctionDef):
            out.add(stmt.name)
        elif isinstance(stmt, For):
            target_names(stmt.target, out)
            out |= bound_names(stmt.body)
        elif isinstance(stmt, While):
            out |= bound_names(stmt.body)
        elif isinstance(stmt, If):
            out |= bound_names(stmt.body) | bound_names(stmt.orelse)
        elif isinstance(stmt, Import):
            out.add(stmt.alias or stmt.module.split(".")[-1])
        elif isinstance(stmt, ImportFrom):
            out |= {alias or name for name, alias in stmt.names}
    return out
