"""Text to AST: the tree the parser (`parser.py`) reads from `grammar/jx.lark`, built into
`ast` nodes with their spans, f-strings included.

`parse(text, name)` returns an `ast.Module`. Every failure is a `JxSyntaxError` whose span
points at the offending token (the messages of parse failures are `parser.py`'s). The
builder refuses what the grammar lets through but Python would not (assigning to a call,
a positional argument after a keyword one, non-string record keys, duplicate parameters),
literals Python cannot read, and text nested deeper than `jx.limits.nesting`.
"""

from __future__ import annotations

import ast as pyast
import dataclasses
import warnings

from lark import Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError

from . import ast
from .errors import JxSyntaxError, Source, Span
from .limits import limits, python_frames
from .parser import IndentError, lalr, syntax_error, word_span


def parse(text: str, name: str = "<string>") -> ast.Module:
    """Parse jx source text into a Module; raise JxSyntaxError on bad input."""
    # Lines end at \n, \r\n or a lone \r, as in Python; spans and carets count the same.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    source = Source(name, text)
    text = text if text.endswith("\n") else text + "\n"
    try:
        tree = lalr().parse(text)
    except UnexpectedInput as e:
        raise syntax_error(e, source, text) from None
    except IndentError as e:
        raise JxSyntaxError(e.message, word_span(source, e.line, e.column)) from None
    _check_nesting(tree, source)
    try:
        with python_frames():
            return _Builder(source).transform(tree)
    except VisitError as e:
        raise e.orig_exc from None


def _check_nesting(tree, source: Source) -> None:
    """Refuse text nested deeper than `limits.nesting` (counted without recursion, so the
    recursive walks after it stay within Python's frames)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.nesting:
            meta = node.meta
            raise JxSyntaxError(
                f"nested too deeply: more than {limits.nesting} levels (the bound "
                "jx.limits.nesting, or JX_LIMIT_NESTING)",
                Span(source, meta.line, meta.column, meta.line, meta.column + 1),
            )
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))


def parse_expression(text: str, name: str = "<string>") -> ast.Node:
    """Parse one expression (used by `jx.fn` and the REPL's `:type`)."""
    module = parse(text, name)
    if len(module.body) != 1 or not isinstance(module.body[0], ast.ExprStmt):
        span = module.body[0].span if module.body else Span(Source(name, text), 1, 1, 1, 2)
        raise JxSyntaxError("expected a single expression", span)
    return module.body[0].value


# ------------------------------------------------------------------ tree -> AST


def _literal(token: Token, source: Source):
    text = str(token)
    string = token.type in ("STRING", "LONG_STRING")
    try:
        with warnings.catch_warnings():
            # An unknown escape such as "\d" keeps its backslash, as Python does today.
            warnings.simplefilter("ignore")
            return pyast.literal_eval(text if string else text.replace("_", ""))
    except (SyntaxError, ValueError) as e:
        if not string and "digits" in str(e):
            message = f"integer literal too long ({len(text)} digits; at most 4300)"
        else:  # the message without Python's "(unicode error) 'unicodeescape' codec" preamble
            detail = str(getattr(e, "msg", None) or e).rsplit(": ", 1)[-1]
            message = f"bad string literal: {detail}"
        span = Span(source, token.line, token.column, token.end_line, token.end_column)
        raise JxSyntaxError(message, span) from None


# fmt: off
_NOT_ASSIGNABLE = {ast.Call: "a function call", ast.Const: "a literal", ast.EllipsisLit: "'...'",
                   ast.ListExpr: "an array literal", ast.DictExpr: "a record literal",
                   ast.ListComp: "a comprehension", ast.Lambda: "a lambda",
                   ast.Compare: "a comparison", ast.IfExp: "a conditional expression"}
# fmt: on


def _check_target(node: ast.Node, augmented: str | None = None) -> None:
    """Targets are names, tuples of targets, subscripts or attributes (the last two are
    mutation, which the checker explains); anything else cannot be assigned at all."""
    if isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)):
        return
    if isinstance(node, ast.TupleExpr) and augmented:
        raise JxSyntaxError(f"cannot use a tuple as the target of '{augmented}'", node.span)
    if isinstance(node, ast.TupleExpr):
        stars = [e for e in node.elts if isinstance(e, ast.Starred)]
        if len(stars) > 1:
            raise JxSyntaxError("multiple starred names in one assignment", stars[1].span)
        for elt in node.elts:
            _check_target(elt.value if isinstance(elt, ast.Starred) else elt)
        return
    if isinstance(node, ast.Starred):
        raise JxSyntaxError("a starred name must be in a tuple: write '*a, = v'", node.span)
    kind = _NOT_ASSIGNABLE.get(type(node), "an expression")
    if isinstance(node, ast.Const) and (node.value is None or isinstance(node.value, bool)):
        kind = repr(node.value)
    raise JxSyntaxError(f"cannot assign to {kind}", node.span)


def _node(cls, *leading):
    """A builder method for a node whose fields are `leading` then the rule's children."""
    return lambda self, meta, *children: cls(self._span(meta), *leading, *children)


def _check_params(params: tuple) -> None:
    seen, defaulted, starred = set(), False, False
    if params and params[-1].star and not params[-1].name:
        raise JxSyntaxError("named parameters must follow a bare '*'", params[-1].span)
    for p in params:
        if p.name and p.name in seen:
            raise JxSyntaxError(f"duplicate parameter '{p.name}'", p.span)
        seen.add(p.name)
        if p.star and starred:
            raise JxSyntaxError("only one '*' parameter is allowed", p.span)
        if p.default is None and defaulted and not p.star and not starred:
            raise JxSyntaxError(
                "parameter without a default follows parameter with a default", p.span
            )
        starred |= p.star
        defaulted |= p.default is not None


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
        for target in parts[:-1]:
            _check_target(target)
        return ast.Assign(self._span(meta), tuple(parts[:-1]), parts[-1])

    def ann_assign(self, meta, target, annotation, value):
        if not isinstance(target, ast.Name):
            raise JxSyntaxError("only a name can be annotated", target.span)
        if value is None:  # `x: f32` declares nothing jx needs
            return ast.Pass(self._span(meta))
        return ast.Assign(self._span(meta), (target,), value)

    def aug_assign(self, meta, target, op, value):
        _check_target(target, augmented=str(op))
        return ast.AugAssign(self._span(meta), target, str(op)[:-1], value)

    return_stmt = _node(ast.Return)
    pass_stmt = _node(ast.Pass)
    assert_stmt = _node(ast.Assert)

    def dotted_name(self, meta, *names):
        return ".".join(str(n) for n in names)

    def import_stmt(self, meta, *modules):
        return tuple(ast.Import(self._span(meta), module, alias) for module, alias in modules)

    def import_as(self, meta, name, alias):
        return (str(name), str(alias) if alias else None)

    import_module = import_as

    def from_stmt(self, meta, module, *names):
        return ast.ImportFrom(self._span(meta), module, tuple(n for n in names if n is not None))

    def forbidden_stmt(self, meta, keyword, *rest):
        return ast.Forbidden(self._span(meta), str(keyword))

    def funcdef(self, meta, name, params, returns, body):
        return ast.FunctionDef(self._span(meta), str(name), params or (), body, self._tok(name))

    def funcdef_expr(self, meta, name, params, returns, value):
        body = (ast.Return(value.span, value),)
        return ast.FunctionDef(self._span(meta), str(name), params or (), body, self._tok(name))

    def decorated(self, meta, *parts):
        *decorators, fdef = parts
        return dataclasses.replace(fdef, decorators=tuple(decorators))

    def decorator(self, meta, expr):
        return expr

    def parameters(self, meta, *params):
        params = tuple(p for p in params if p is not None)
        _check_params(params)
        return params

    lambda_params = parameters

    def param(self, meta, name, annotation, default):
        return ast.Param(self._span(meta), str(name), default)

    def star_param(self, meta, name, annotation):
        return ast.Param(self._span(meta), str(name), None, star=True)

    def lambda_param(self, meta, name, default):
        return ast.Param(self._span(meta), str(name), default)

    def lambda_star_param(self, meta, name):
        return ast.Param(self._span(meta), str(name), None, star=True)

    def bare_star(self, meta):
        # `*` alone: no extra positional arguments; the parameters after it are keyword-only.
        return ast.Param(self._span(meta), "", None, star=True)

    def suite(self, meta, *stmts):
        return tuple(_flatten(stmts))

    def if_stmt(self, meta, test, body, *rest):
        orelse = rest[-1] or ()
        for clause in reversed(rest[:-1]):
            orelse = (ast.If(clause.span, clause.test, clause.body, orelse),)
        return ast.If(self._span(meta), test, body, orelse)

    def elif_clause(self, meta, test, body):
        return ast.If(self._span(meta), test, body, ())

    while_stmt = _node(ast.While)

    def for_stmt(self, meta, target, iterable, body):
        _check_target(target)
        return ast.For(self._span(meta), target, iterable, body)

    # -- expressions
    def tuple(self, meta, *elts):
        return ast.TupleExpr(self._span(meta), tuple(e for e in elts if e is not None))

    def array(self, meta, *elts):
        return ast.ListExpr(self._span(meta), tuple(e for e in elts if e is not None))

    def record(self, meta, *items):
        keys = []
        for key, _ in (i for i in items if i is not None):
            if key is None:  # `**r`: the fields of r, overridden by later ones
                keys.append(None)
                continue
            if not (isinstance(key, ast.Const) and isinstance(key.value, str)):
                raise JxSyntaxError("record keys must be string literals", key.span)
            if key.value in keys:
                raise JxSyntaxError(f"record key '{key.value}' repeated", key.span)
            keys.append(key.value)
        values = tuple(v for _, v in (i for i in items if i is not None))
        return ast.DictExpr(self._span(meta), tuple(keys), values)

    def dict_item(self, meta, key, value):
        return (key, value)

    def dict_spread(self, meta, value):
        return (None, value)

    def genexpr(self, meta, *parts):
        raise JxSyntaxError(
            "generator expressions are not part of jx: write a list comprehension, "
            "[x for x in xs] (an array when its items are arrays of one shape); so "
            "sum(x for x in xs) is sum([x for x in xs], axis=0), which adds the items",
            self._span(meta),
        )

    def listcomp(self, meta, elt, *generators):
        return ast.ListComp(self._span(meta), elt, generators)

    def comp_for(self, meta, target, iterable, *ifs):
        _check_target(target)
        return ast.Comprehension(self._span(meta), target, iterable, ifs)

    def ifexp(self, meta, body, test, orelse):
        return ast.IfExp(self._span(meta), test, body, orelse)

    def lambdef(self, meta, params, body):
        return ast.Lambda(self._span(meta), params or (), body)

    not_op = _node(ast.UnaryOp, "not")

    def or_op(self, meta, *values):
        return ast.BoolOp(self._span(meta), "or", values)

    def and_op(self, meta, *values):
        return ast.BoolOp(self._span(meta), "and", values)

    def compare(self, meta, left, *rest):
        ops = tuple(" ".join(str(t).split()) for t in rest[0::2])  # `is  not` -> `is not`
        return ast.Compare(self._span(meta), left, ops, rest[1::2])

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
            raise JxSyntaxError(
                "a keyword argument needs a name before '='; did you mean '=='?", first.span
            )
        return ast.Keyword(self._span(meta), first.id, value)

    starred = _node(ast.Starred)
    getitem = _node(ast.Subscript)
    slice = _node(ast.Slice)

    def getattr(self, meta, value, name):
        return ast.Attribute(self._span(meta), value, str(name))

    def name(self, meta, token):
        return ast.Name(self._tok(token), str(token))

    def int_lit(self, meta, token):
        return ast.Const(self._tok(token), _literal(token, self.source))

    hex_lit = int_lit
    float_lit = int_lit
    str_lit = int_lit

    def fstring(self, meta, token):
        return ast.FString(self._tok(token), tuple(_fstring_parts(token, self.source)))

    ellipsis = _node(ast.EllipsisLit)
    none_lit = _node(ast.Const, None)
    true_lit = _node(ast.Const, True)
    false_lit = _node(ast.Const, False)


def _flatten(items):
    for item in items:
        if item is None or isinstance(item, Token):
            continue
        if isinstance(item, tuple):
            yield from _flatten(item)
        else:
            yield item


# ------------------------------------------------------------------ f-strings

_CONVERSIONS = {"r", "s", "a"}


def _fstring_parts(token: Token, source: Source):
    """The literal text and `{expr[=][!conv][:spec]}` fields of an f-string token."""
    body = str(token)[2:-1]
    quote = str(token)[1]
    base = token.column + 2  # the column of body[0]
    i, text = 0, []

    def field_error(message, at, width=1):
        column = base + at
        return JxSyntaxError(
            f"f-string: {message}", Span(source, token.line, column, token.line, column + width)
        )

    while i < len(body):
        c = body[i]
        if c in "{}" and body[i : i + 2] == c * 2:
            text.append(c)
            i += 2
            continue
        if c == "}":
            raise field_error("single '}' is not allowed", i)
        if c != "{":
            text.append(c)
            i += 1
            continue
        if text:
            yield ast.Const(
                _text_span(token, source), _unescape("".join(text), quote, token, source)
            )
            text = []
        end = _field_end(body, i + 1)
        if end is None:
            raise field_error("expecting '}'", i)
        yield _field(body[i + 1 : end], token, source, base + i + 1, field_error, i + 1)
        i = end + 1
    if text:
        yield ast.Const(_text_span(token, source), _unescape("".join(text), quote, token, source))


def _text_span(token: Token, source: Source) -> Span:
    return Span(source, token.line, token.column, token.end_line, token.end_column)


def _unescape(text: str, quote: str, token: Token, source: Source) -> str:
    literal = Token.new_borrow_pos("STRING", quote + text + quote, token)
    return _literal(literal, source)


def _outside_strings(text: str, start: int = 0):
    """(index, character, bracket depth) of each character of `text` outside string
    literals: how a field's expression is scanned without reading its strings."""
    depth, quote = 0, None
    for i in range(start, len(text)):
        c = text[i]
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        else:
            yield i, c, depth
            depth += c in "([{"
            depth -= c in ")]}" and depth > 0


def _field_end(body: str, start: int) -> int | None:
    """The index of the `}` closing the field that starts at `start`."""
    return next(
        (i for i, c, depth in _outside_strings(body, start) if c == "}" and not depth), None
    )


def _split_field(field: str):
    """(expression, '=' or '', conversion or None, spec) of a field's text."""
    for i, c, depth in _outside_strings(field):
        if depth == 0 and (c == ":" or (c == "!" and field[i + 1 : i + 2] != "=")):
            expr, rest = field[:i], field[i:]
            break
    else:
        expr, rest = field, ""
    conversion = None
    if rest.startswith("!"):
        conversion, _, spec = rest[1:].partition(":")
    else:
        spec = rest[1:]
    debug = ""
    stripped = expr.rstrip()
    if stripped.endswith("=") and not stripped.endswith(("==", "!=", "<=", ">=")):
        debug, expr = expr, stripped[:-1]
    return expr, debug, conversion, spec


def _field(field, token, source, column, field_error, at):
    expr, debug, conversion, spec = _split_field(field)
    if not expr.strip():
        raise field_error("empty expression not allowed", at)
    if conversion is not None and conversion not in _CONVERSIONS:
        raise field_error(
            f"invalid conversion character '{conversion}': expected 's', 'r' or 'a'", at
        )
    if "{" in spec:
        raise field_error("nested fields in a format spec are not supported", at)
    # Parsed where it stands: blank lines and `_=` with spaces put the expression at its own
    # line and column (a field starts at column 4 or later), so its spans point into the
    # f-string.
    padded = "\n" * (token.line - 1) + "_=" + " " * (column - 4) + "(" + expr + ")\n"
    try:
        tree = lalr().parse(padded)
    except UnexpectedInput as e:
        raise syntax_error(e, source, padded) from None
    try:
        value = _Builder(source).transform(tree).body[0].value  # the `_ = (...)`
    except VisitError as e:
        raise e.orig_exc from None
    return ast.FormatField(value.span, value, debug, conversion, spec)
