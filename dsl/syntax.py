"""Text to AST: the Lark LALR parser over `grammar/jx.lark` and the tree-to-AST builder.

`parse(text, name)` returns an `ast.Module`. Parser failures become `JxSyntaxError`s with
the location, the source line, a caret and a human hint (never Lark's own text). Tabs in
indentation are refused before parsing, as the language asks.
"""

from __future__ import annotations

import ast as pyast
import functools
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)
from lark.indenter import Indenter

from . import ast
from .errors import JxSyntaxError, Source, Span


class _JxIndenter(Indenter):
    NL_type = "_NEWLINE"
    OPEN_PAREN_types = ["LPAR", "LSQB", "LBRACE"]
    CLOSE_PAREN_types = ["RPAR", "RSQB", "RBRACE"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8


@functools.cache
def _parser() -> Lark:
    text = resources.files("jx.grammar").joinpath("jx.lark").read_text()
    return Lark(
        text,
        parser="lalr",
        postlex=_JxIndenter(),
        propagate_positions=True,
        maybe_placeholders=True,
    )


def parse(text: str, name: str = "<string>") -> ast.Module:
    """Parse jx source text into a Module; raise JxSyntaxError on bad input."""
    source = Source(name, text)
    _check_indentation(source)
    if not text.endswith("\n"):
        text += "\n"
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as e:
        raise _syntax_error(e, source) from None
    try:
        return _Builder(source).transform(tree)
    except VisitError as e:
        raise e.orig_exc from None


def parse_expression(text: str, name: str = "<string>") -> ast.Node:
    """Parse one expression (used by `jx.fn` and the REPL's `:type`)."""
    module = parse(text, name)
    if len(module.body) != 1 or not isinstance(module.body[0], ast.ExprStmt):
        span = module.body[0].span if module.body else Span(Source(name, text), 1, 1, 1, 2)
        raise JxSyntaxError("expected a single expression", span)
    return module.body[0].value


def _check_indentation(source: Source) -> None:
    """Refuse tabs in indentation, and an indented first statement (Lark would accept it)."""
    first = True
    for lineno, line in enumerate(source.text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "\t" in indent:
            col = indent.index("\t") + 1
            raise JxSyntaxError(
                "tab in indentation; indent with spaces",
                Span(source, lineno, col, lineno, col + 1),
            )
        if first and indent:
            raise JxSyntaxError("unexpected indent", Span(source, lineno, 1, lineno, len(indent) + 1))
        first = False


# ------------------------------------------------------------------ error messages

_EXPR_STARTS = {"NAME", "DEC_NUMBER", "FLOAT_NUMBER", "HEX_NUMBER", "STRING", "LPAR", "LSQB",
                "LBRACE", "MINUS", "PLUS", "TILDE", "NOT", "LAMBDA"}
_NAMES = {"RPAR": "')'", "RSQB": "']'", "RBRACE": "'}'", "COLON": "':'", "_NEWLINE": "a new line",
          "_INDENT": "an indented block", "_DEDENT": "the end of the block", "$END": "the end"}


def _describe(token: Token) -> str:
    if token.type in ("_NEWLINE", "$END"):
        return "the end of the line"
    if token.type == "_INDENT":
        return "an unexpected indent"
    if token.type == "_DEDENT":
        return "the end of the block"
    return f"'{token.value}'"


def _previous_text(source: Source, line: int, column: int) -> str:
    """The token-ish text just before a position, for 'after X' hints."""
    text = source.line(line)[: column - 1].rstrip()
    if not text:
        return ""
    if text[-1].isalnum() or text[-1] == "_":
        i = len(text)
        while i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_."):
            i -= 1
        return text[i:]
    i = len(text)
    while i > 0 and text[i - 1] in "+-*/%@<>=!&|^~:,([{.":
        i -= 1
    return text[i:][-3:]


def _syntax_error(e: UnexpectedInput, source: Source) -> JxSyntaxError:
    line = getattr(e, "line", None) or 1
    column = getattr(e, "column", None) or 1
    if isinstance(e, UnexpectedCharacters):
        char = source.line(line)[column - 1 : column] or "?"
        return JxSyntaxError(f"unexpected character '{char}'", Span(source, line, column, line, column + 1))
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        lines = source.text.rstrip().splitlines() or [""]
        line = len(lines)
        column = len(lines[-1]) + 1
        return JxSyntaxError("unexpected end of input (an unclosed bracket or an empty block?)",
                             Span(source, line, max(1, column - 1), line, column))
    token = e.token
    expected = set(e.expected)
    if token.type == "_NEWLINE" or token.type == "_DEDENT":
        # Lark reports the newline at the next line's start; point at the end of this one.
        prev_line = max(1, line - 1) if token.type == "_DEDENT" else line
        text = source.line(prev_line)
        span = Span(source, prev_line, max(1, len(text)), prev_line, len(text) + 1)
    else:
        width = max(1, len(str(token.value)))
        span = Span(source, line, column, line, column + width)
    prev = _previous_text(source, span.line, span.column)
    found = _describe(token)
    if token.type == "_INDENT":
        line = token.end_line or line
        width = len(source.line(line)) - len(source.line(line).lstrip())
        return JxSyntaxError("unexpected indent", Span(source, line, 1, line, width + 1))
    if "_INDENT" in expected:
        return JxSyntaxError(f"expected an indented block, found {found}", span)
    if "NAME" in expected and "DEC_NUMBER" in expected and not expected & {"RPAR", "RSQB"}:
        after = f" after '{prev}'" if prev else ""
        return JxSyntaxError(f"expected an expression{after}, found {found}", span)
    if expected & {"COLON"} and not expected & {"RPAR", "RSQB"}:
        return JxSyntaxError(f"expected ':' before {found}", span)
    if token.type == "EQUAL" and prev:
        return JxSyntaxError(f"unexpected '='; did you mean '=='? (found after '{prev}')", span)
    wanted = sorted(_NAMES[t] for t in expected if t in _NAMES)
    if wanted and len(wanted) <= 3:
        return JxSyntaxError(f"expected {' or '.join(wanted)}, found {found}", span)
    return JxSyntaxError(f"invalid syntax at {found}", span)


# ------------------------------------------------------------------ tree -> AST


def _literal(token: Token):
    return pyast.literal_eval(str(token).replace("_", "") if token.type != "STRING" else str(token))


_AUG = {"+=": "+", "-=": "-", "*=": "*", "/=": "/", "//=": "//", "%=": "%", "**=": "**",
        "@=": "@", "&=": "&", "|=": "|", "^=": "^", "<<=": "<<", ">>=": ">>"}


@v_args(inline=True, meta=True)
class _Builder(Transformer):
    """Turns Lark's tree into `ast` nodes, attaching a Span to each."""

    def __init__(self, source: Source):
        super().__init__()
        self.source = source

    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.source, 1, 1, 1, 2)
        return Span(self.source, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok(self, token: Token) -> Span:
        return Span(self.source, token.line, token.column, token.end_line, token.end_column)

    # -- statements
    def start(self, meta, *stmts):
        return ast.Module(self._span(meta), tuple(_flatten(stmts)))

    def expr_stmt(self, meta, *parts):
        if len(parts) == 1:
            return ast.ExprStmt(self._span(meta), parts[0])
        return ast.Assign(self._span(meta), tuple(parts[:-1]), parts[-1])

    def aug_assign(self, meta, target, op, value):
        return ast.AugAssign(self._span(meta), target, _AUG[str(op)], value)

    def return_stmt(self, meta, value):
        return ast.Return(self._span(meta), value)

    def pass_stmt(self, meta):
        return ast.Pass(self._span(meta))

    def assert_stmt(self, meta, test, msg):
        return ast.Assert(self._span(meta), test, msg)

    def dotted_name(self, meta, *names):
        return ".".join(str(n) for n in names)

    def import_stmt(self, meta, module, alias):
        return ast.Import(self._span(meta), module, str(alias) if alias else None)

    def import_as(self, meta, name, alias):
        return (str(name), str(alias) if alias else None)

    def from_stmt(self, meta, module, *names):
        return ast.ImportFrom(self._span(meta), module, tuple(n for n in names if n is not None))

    def forbidden_stmt(self, meta, keyword, *rest):
        return ast.Forbidden(self._span(meta), str(keyword))

    def funcdef(self, meta, name, params, body):
        return ast.FunctionDef(self._span(meta), str(name), params or (), body, self._tok(name))

    def funcdef_expr(self, meta, name, params, value):
        body = (ast.Return(value.span, value),)
        return ast.FunctionDef(self._span(meta), str(name), params or (), body, self._tok(name))

    def parameters(self, meta, *params):
        return tuple(p for p in params if p is not None)

    lambda_params = parameters

    def param(self, meta, name, default):
        return ast.Param(self._span(meta), str(name), default)

    def star_param(self, meta, name):
        return ast.Param(self._span(meta), str(name), None, star=True)

    def suite(self, meta, *stmts):
        return tuple(_flatten(stmts))

    def if_stmt(self, meta, test, body, *rest):
        orelse = rest[-1] or ()
        for clause in reversed(rest[:-1]):
            orelse = (ast.If(clause.span, clause.test, clause.body, orelse),)
        return ast.If(self._span(meta), test, body, orelse)

    def elif_clause(self, meta, test, body):
        return ast.If(self._span(meta), test, body, ())

    def while_stmt(self, meta, test, body):
        return ast.While(self._span(meta), test, body)

    def for_stmt(self, meta, target, iterable, body):
        return ast.For(self._span(meta), target, iterable, body)

    # -- expressions
    def tuple(self, meta, *elts):
        return ast.TupleExpr(self._span(meta), tuple(e for e in elts if e is not None))

    def array(self, meta, *elts):
        return ast.ListExpr(self._span(meta), tuple(e for e in elts if e is not None))

    def record(self, meta, *items):
        items = [i for i in items if i is not None]
        for key, _ in items:
            if not (isinstance(key, ast.Const) and isinstance(key.value, str)):
                raise JxSyntaxError("record keys must be string literals", key.span)
        return ast.DictExpr(self._span(meta), tuple(k.value for k, _ in items),
                            tuple(v for _, v in items))

    def dict_item(self, meta, key, value):
        return (key, value)

    def listcomp(self, meta, elt, *generators):
        return ast.ListComp(self._span(meta), elt, generators)

    def comp_for(self, meta, target, iterable, *ifs):
        return ast.Comprehension(self._span(meta), target, iterable, ifs)

    def comp_if(self, meta, test):
        return test

    def ifexp(self, meta, body, test, orelse):
        return ast.IfExp(self._span(meta), test, body, orelse)

    def lambdef(self, meta, params, body):
        return ast.Lambda(self._span(meta), params or (), body)

    def or_op(self, meta, *values):
        return ast.BoolOp(self._span(meta), "or", values)

    def and_op(self, meta, *values):
        return ast.BoolOp(self._span(meta), "and", values)

    def not_op(self, meta, operand):
        return ast.UnaryOp(self._span(meta), "not", operand)

    def compare(self, meta, left, *rest):
        return ast.Compare(self._span(meta), left, tuple(str(t) for t in rest[0::2]), rest[1::2])

    def binop(self, meta, left, op, right):
        return ast.BinOp(self._span(meta), str(op), left, right)

    def unary(self, meta, op, operand):
        return ast.UnaryOp(self._span(meta), str(op), operand)

    def pow(self, meta, base, exponent):
        return ast.BinOp(self._span(meta), "**", base, exponent)

    def call(self, meta, func, args):
        positional, keywords = [], []
        for a in args or ():
            if isinstance(a, ast.Keyword):
                if any(k.name == a.name for k in keywords):
                    raise JxSyntaxError(f"keyword argument '{a.name}' repeated", a.span)
                keywords.append(a)
            elif keywords and not isinstance(a, ast.Starred):
                raise JxSyntaxError("positional argument follows keyword argument", a.span)
            else:
                positional.append(a)
        return ast.Call(self._span(meta), func, tuple(positional), tuple(keywords))

    def arguments(self, meta, *args):
        return tuple(a for a in args if a is not None)

    def argvalue(self, meta, first, value):
        if value is None:
            return first
        if not isinstance(first, ast.Name):
            raise JxSyntaxError("a keyword argument must be a plain name before '='", first.span)
        return ast.Keyword(self._span(meta), first.id, value)

    def starred(self, meta, value):
        return ast.Starred(self._span(meta), value)

    def getitem(self, meta, value, index):
        return ast.Subscript(self._span(meta), value, index)

    def subscripts(self, meta, *items):
        items = [i for i in items if i is not None]
        if len(items) == 1 and not self._trailing_comma(meta):
            return items[0]
        return ast.TupleExpr(self._span(meta), tuple(items))

    def _trailing_comma(self, meta) -> bool:
        if getattr(meta, "empty", True):
            return False
        text = self.source.line(meta.end_line)[: meta.end_column - 1].rstrip()
        return text.endswith(",")

    def slice(self, meta, lower, upper, step):
        return ast.Slice(self._span(meta), lower, upper, step)

    def getattr(self, meta, value, name):
        return ast.Attribute(self._span(meta), value, str(name))

    def name(self, meta, token):
        return ast.Name(self._tok(token), str(token))

    def int_lit(self, meta, token):
        return ast.Const(self._tok(token), _literal(token))

    hex_lit = int_lit
    float_lit = int_lit
    str_lit = int_lit

    def ellipsis(self, meta):
        return ast.EllipsisLit(self._span(meta))

    def none_lit(self, meta):
        return ast.Const(self._span(meta), None)

    def true_lit(self, meta):
        return ast.Const(self._span(meta), True)

    def false_lit(self, meta):
        return ast.Const(self._span(meta), False)


def _flatten(items):
    for item in items:
        if item is None or isinstance(item, Token):
            continue
        if isinstance(item, tuple):
            yield from _flatten(item)
        else:
            yield item
