"""The evaluator: runs or traces the AST.

One evaluator serves both modes. With no program builder on the stack (a script's top
level) every operation runs at once on the backend; inside a function call it is traced
into IR (`core.bind` decides). Static values (Python numbers, tuples, records, shapes,
functions) are computed here directly; calls go to `functions.py`. Each kind of node has
one rule in `STATEMENTS` or `EXPRESSIONS`; the rules that need more than the evaluator
(control flow, assert, import) live in control.py, effects.py and modules.py, which add
them to those tables. `CTX.span` follows the node being evaluated so equations and errors
carry the user's location.
"""

from __future__ import annotations

import operator

import numpy as np

from . import ast, ops
from .backend import is_concrete
from .builtins import array_attribute
from .builtins_arrays import IndexTricks
from .core import CTX, Tracer, describe
from .dtypes import short
from .errors import IndexError as JxIndexError
from .errors import JxError, PurityError, ShapeError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .functions import call
from .indexing import AtHelper, AtIndexed, getitem, unpack
from .prng import Key
from .values import Builtin, Closure, Module, Scope, did_you_mean


class ReturnValue:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


# ------------------------------------------------------------------ statements


def exec_block(stmts, scope: Scope, top: bool = False):
    """Run statements; a ReturnValue if one of them returned."""
    stmts = _fold_early_returns(stmts)
    for stmt in stmts:
        result = exec_stmt(stmt, scope, top)
        if result is not None:
            return result
    return None


def _always_returns(stmts) -> bool:
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, ast.Return):
        return True
    if isinstance(last, ast.If):
        return _always_returns(last.body) and _always_returns(last.orelse)
    return False


def _may_return(stmts) -> bool:
    return any(
        isinstance(s, ast.Return)
        or isinstance(s, ast.If)
        and (_may_return(s.body) or _may_return(s.orelse))
        for s in stmts
    )


def _fold_early_returns(stmts):
    """`if c: return a` followed by more statements: those become the else branch.

    More generally the statements after an `if` that may return are copied into each branch
    that does not always return (a nested `if` folds its own the same way when it runs). This
    keeps every traced `if` a two-armed expression, so `return` inside a branch works the
    same whether the condition is static or traced.
    """
    stmts = tuple(stmts)
    for k, stmt in enumerate(stmts[:-1]):
        if isinstance(stmt, ast.If) and (_may_return(stmt.body) or _may_return(stmt.orelse)):
            rest = stmts[k + 1 :]
            body = stmt.body if _always_returns(stmt.body) else stmt.body + rest
            orelse = stmt.orelse if _always_returns(stmt.orelse) else stmt.orelse + rest
            return stmts[:k] + (ast.If(stmt.span, stmt.test, body, orelse),)
    return stmts


def exec_stmt(stmt, scope: Scope, top: bool):
    CTX.span = stmt.span
    handler = STATEMENTS[type(stmt)]
    try:
        return handler(stmt, scope, top)
    except JxError as e:
        e.with_span(stmt.span)  # an error raised deep in a rule points at least at its statement
        raise


def _exec_expr(stmt, scope, top):
    value = evaluate(stmt.value, scope)
    if top and CTX.echo is not None and value is not None:
        CTX.echo(value)


def _exec_assign(stmt, scope, top):
    value = evaluate(stmt.value, scope)
    for target in stmt.targets:
        assign(target, value, scope)


def _exec_aug(stmt, scope, top):
    target = stmt.target
    if not isinstance(target, ast.Name):
        raise PurityError(
            "arrays are immutable; use x = x.at[i].add(v) instead of x[i] += v", stmt.span
        )
    value = binary_op(
        stmt.op, scope.lookup(target.id, target.span), evaluate(stmt.value, scope), stmt.span
    )
    scope.vars[target.id] = value


def assign(target, value, scope: Scope):
    if isinstance(target, ast.Name):
        scope.vars[target.id] = value
    elif isinstance(target, ast.TupleExpr):
        star = next((i for i, t in enumerate(target.elts) if isinstance(t, ast.Starred)), None)
        if star is None:
            parts = _unpack(value, len(target.elts), target.span)
        else:  # `a, *rest, b = v`: rest takes what the others leave, as a tuple
            n = _length(value, target.span)
            fixed = len(target.elts) - 1
            if n < fixed:
                raise JxValueError(
                    f"cannot unpack {n} values into at least {fixed} names", target.span
                )
            got = _unpack(value, n, target.span)
            parts = (*got[:star], tuple(got[star : n - fixed + star]), *got[n - fixed + star :])
        for t, v in zip(target.elts, parts):
            assign(t.value if isinstance(t, ast.Starred) else t, v, scope)
    elif isinstance(target, ast.Subscript):
        raise PurityError("arrays are immutable; use x = x.at[i].set(v)", target.span)
    elif isinstance(target, ast.Attribute):
        raise PurityError("values are immutable; attributes cannot be assigned", target.span)
    else:
        raise JxTypeError("cannot assign to this expression", target.span)


def _unpack(value, n: int, span):
    return value.unpack(n, span) if isinstance(value, Key) else unpack(value, n, span)


def _length(value, span) -> int:
    """How many values unpacking `value` gives: a tuple's items, an array's (or a key
    array's) leading axis."""
    if isinstance(value, (tuple, list)):
        return len(value)
    shape = (
        value.shape if isinstance(value, Key) else ops.shape(value) if ops.is_array(value) else None
    )
    if not shape:
        raise JxTypeError(f"cannot unpack {describe(value)}", span)
    return shape[0]


def _exec_def(stmt, scope, top):
    # As in Python: the decorators are evaluated first, then applied innermost first.

    decorators = [(evaluate(d, scope), d.span) for d in stmt.decorators]
    value = make_closure(stmt.name, stmt.params, stmt.body, scope, stmt.span)
    for decorator, span in reversed(decorators):
        value = call(decorator, [value], {}, span)
    scope.vars[stmt.name] = value


def make_closure(name, params, body, scope, span):
    defaults = {p.name: evaluate(p.default, scope) for p in params if p.default is not None}
    return Closure(name, params, body, _captured(scope), defaults, span, exec_block)


def _captured(scope: Scope) -> Scope:
    """The scope a closure made in `scope` sees: the values its enclosing functions bind now.

    Closures capture values: rebinding a local later binds a new value the closure does not
    see, and a loop variable stays visible after the loop forgets it. Names bound later (a
    helper defined after this one, the function itself) are still found in the live scope
    behind the snapshot, and module-level names stay live, so rebinding one is seen.
    """
    frames, s = [], scope
    while s is not None and not s.is_module:
        frames.append(s.vars)
        s = s.parent
    if not frames:
        return scope
    values: dict = {}
    for frame in reversed(frames):
        values.update(frame)
    return Scope(scope, vars=values)


def _exec_return(stmt, scope, top):
    return ReturnValue(None if stmt.value is None else evaluate(stmt.value, scope))


def _exec_pass(stmt, scope, top):
    return None


def _exec_forbidden(stmt, scope, top):
    raise PurityError(
        f"'{stmt.keyword}' is not part of jx: values are immutable and functions "
        "pure; rebind a name instead",
        stmt.span,
    )


#: The rule running each kind of statement. control.py adds if/while/for, effects.py
#: assert and modules.py import: they need the evaluator, so they register with it.
STATEMENTS = {
    ast.ExprStmt: _exec_expr,
    ast.Assign: _exec_assign,
    ast.AugAssign: _exec_aug,
    ast.FunctionDef: _exec_def,
    ast.Return: _exec_return,
    ast.Pass: _exec_pass,
    ast.Forbidden: _exec_forbidden,
}


# ------------------------------------------------------------------ truth and tracing


def is_traced(x) -> bool:
    return type(x) is Tracer


def truth(value, span) -> bool:
    """A static or concrete condition as a Python bool (NumPy's rules)."""
    if isinstance(value, np.generic) or is_concrete(value):
        if np.size(value) != 1:
            raise JxTypeError(
                f"the truth value of an array of shape {np.shape(value)} is ambiguous; "
                "use any() or all()",
                span,
            )
        return bool(np.asarray(value).reshape(()))
    if type(value) is Tracer:
        raise JxTypeError("a traced value has no truth value here", span)
    return bool(value)


# ------------------------------------------------------------------ expressions


def evaluate(node, scope: Scope):
    CTX.span = node.span
    return EXPRESSIONS[type(node)](node, scope)


def _name(node, scope):
    return scope.lookup(node.id, node.span)


def _const(node, scope):
    return node.value


def _expand(nodes, scope) -> list:
    """Evaluate expressions in order, spreading `*t` (a tuple) into its elements."""
    out = []
    for e in nodes:
        if isinstance(e, ast.Starred):
            v = evaluate(e.value, scope)
            if not isinstance(v, tuple):
                raise JxTypeError(f"only tuples can be unpacked with *, got {describe(v)}", e.span)
            out.extend(v)
        else:
            out.append(evaluate(e, scope))
    return out


def _tuple(node, scope):
    return tuple(_expand(node.elts, scope))


def _list(node, scope):
    values = list(_expand(node.elts, scope))
    CTX.span = node.span
    try:
        return ops.list_value(values)
    except JxError as e:
        raise e.with_span(node.span) from None


def _dict(node, scope):
    record = {}
    for k, v in zip(node.keys, node.values):
        value = evaluate(v, scope)
        if k is not None:
            record[k] = value
        elif isinstance(value, dict):
            record.update(value)
        else:
            raise JxTypeError(f"only a record can be spread with **, got {describe(value)}", v.span)
    return record


_BINARY_STATIC = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
    "<<": operator.lshift,
    ">>": operator.rshift,
    "&": operator.and_,
    "|": operator.or_,
    "^": operator.xor,
}

_BINARY_ARRAY = {
    "+": lambda x, y: ops.binary("add", x, y),
    "-": lambda x, y: ops.binary("sub", x, y),
    "*": lambda x, y: ops.binary("mul", x, y),
    "/": ops.true_divide,
    "//": lambda x, y: ops.binary("floor_divide", x, y),
    "%": lambda x, y: ops.binary("rem", x, y),
    "**": ops.power,
    "@": ops.matmul,
    "<<": lambda x, y: ops.binary("shift_left", x, y),
    ">>": lambda x, y: ops.binary("shift_right", x, y),
    "&": lambda x, y: ops.binary("and", x, y),
    "|": lambda x, y: ops.binary("or", x, y),
    "^": lambda x, y: ops.binary("xor", x, y),
}


def binary_op(op: str, x, y, span):
    if ops.is_scalar(x) and ops.is_scalar(y):
        if op == "@":
            raise JxTypeError("@ needs arrays, not numbers", span)
        ops.check_int_width(op, x, y)
        try:
            result = _BINARY_STATIC[op](x, y)
        except ZeroDivisionError:
            return _BINARY_ARRAY[op](ops.as_array(x), y)
        except (OverflowError, ValueError) as e:
            raise JxValueError(str(e), span) from None
        except TypeError:  # e.g. 2.0 & 1.0: Python refuses it, and so does jx
            raise JxTypeError(
                f"unsupported operands for {op}: {describe(x)} and {describe(y)}", span
            ) from None
        ops.check_int_width("=", result, 0)
        return result
    if type(x) is type(y) and isinstance(x, (tuple, list)) and op == "+":
        return x + y  # concatenation, as in Python
    if op == "*" and isinstance(x, (tuple, list)) and type(y) is int:
        return x * y  # static repetition, as in Python: (1,) * n
    if isinstance(x, Key) or isinstance(y, Key):
        return Key.reject_binary(op, span)
    for v in (x, y):
        if not (ops.is_array(v) or ops.is_scalar(v) or isinstance(v, (tuple, list))):
            raise JxTypeError(f"unsupported operand for {op}: {describe(v)}", span)
        if isinstance(v, tuple) and not all(ops.is_array(e) or ops.is_scalar(e) for e in v):
            raise JxTypeError(f"unsupported operand for {op}: {describe(v)}", span)
    return _BINARY_ARRAY[op](x, y)


def _binop(node, scope):
    x = evaluate(node.left, scope)
    y = evaluate(node.right, scope)
    CTX.span = node.span
    try:
        return binary_op(node.op, x, y, node.span)
    except JxError as e:
        raise e.with_span(node.span) from None


def _unary(node, scope):
    x = evaluate(node.operand, scope)
    CTX.span = node.span
    if isinstance(x, Key):
        return Key.reject_unary(node.op, node.span)
    if node.op == "not":
        if is_traced(x):
            return ops.logical_not(x)
        return not truth(x, node.span)
    if ops.is_scalar(x):
        if node.op == "~" and isinstance(x, float):
            raise JxTypeError("~ needs an int or a bool, not a float", node.span)
        if node.op == "~" and isinstance(x, bool):
            return not x  # NumPy's invert of a bool, not Python's -2
        return {"-": operator.neg, "+": operator.pos, "~": operator.invert}[node.op](x)
    if not ops.is_array(x):
        raise JxTypeError(f"unsupported operand for unary {node.op}: {describe(x)}", node.span)
    if node.op == "-":
        return ops.unary("neg", x)
    if node.op == "+":
        return x
    return ops.unary("not", x)


_COMPARE_NAMES = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}
_COMPARE_STATIC = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def compare_op(op, x, y, span):
    if op in ("is", "is not"):
        if x is not None and y is not None:
            raise JxTypeError(
                f"'{op}' compares with None only (x is None); to compare values use "
                + ("==" if op == "is" else "!="),
                span,
            )
        return (x is y) == (op == "is")
    if ops.is_array(x) or ops.is_array(y) or isinstance(x, list) or isinstance(y, list):
        for v in (x, y):
            if not (ops.is_array(v) or ops.is_scalar(v) or isinstance(v, (tuple, list))):
                if op in ("==", "!="):
                    return op == "!="
                raise JxTypeError(f"cannot compare {describe(x)} and {describe(y)}", span)
        return ops.compare(_COMPARE_NAMES[op], x, y)
    if isinstance(x, Key) or isinstance(y, Key):
        return Key.reject_compare(op, span)
    try:
        return _COMPARE_STATIC[op](x, y)
    except TypeError:
        raise JxTypeError(
            f"cannot compare {describe(x)} and {describe(y)} with {op}", span
        ) from None


def _compare(node, scope):
    left = evaluate(node.left, scope)
    result = None
    for op, right_node in zip(node.ops, node.comparators):
        right = evaluate(right_node, scope)
        CTX.span = node.span
        try:
            part = compare_op(op, left, right, node.span)
        except JxError as e:
            raise e.with_span(node.span) from None
        result = part if result is None else _and(result, part, node.span)
        left = right
    return result


def _and(a, b, span):
    if is_traced(a) or is_traced(b):
        return ops.logical("and", a, b)
    return b if truth(a, span) else a


def _boolop(node, scope):
    value = evaluate(node.values[0], scope)
    for nxt in node.values[1:]:
        if is_traced(value):
            other = evaluate(nxt, scope)
            value = ops.logical("and" if node.op == "and" else "or", value, other)
            continue
        t = truth(value, node.span)
        if (node.op == "and" and not t) or (node.op == "or" and t):
            return value
        value = evaluate(nxt, scope)
    return value


def _lambda(node, scope):
    return make_closure(
        "<lambda>", node.params, (ast.Return(node.body.span, node.body),), scope, node.span
    )


def _call(node, scope):
    fn = evaluate(node.func, scope)
    args = _expand(node.args, scope)
    kwargs = {k.name: evaluate(k.value, scope) for k in node.keywords}
    CTX.span = node.span
    return call(fn, args, kwargs, node.span)


def _attribute(node, scope):
    value = evaluate(node.value, scope)
    CTX.span = node.span
    return get_attribute(value, node.attr, node.span)


def get_attribute(value, attr: str, span):
    if isinstance(value, Module):
        return value.attr(attr, span)
    if isinstance(value, AtIndexed):
        return Builtin(f"at[...].{attr}", value.method(attr))
    if isinstance(value, Key):
        return value.attribute(attr, span)
    if ops.is_array(value):
        return array_attribute(value, attr, span)
    if isinstance(value, np.dtype) and attr == "name":
        return short(value)
    hook = getattr(value, "jx_attribute", None)  # values of the layers above (custom rules)
    if hook is not None:
        return hook(attr, span)
    raise JxTypeError(f"{describe(value)} has no attribute '{attr}'", span)


def _subscript(node, scope):
    value = evaluate(node.value, scope)
    index = _index(node.index, scope)
    CTX.span = node.span
    try:
        return subscript(value, index, node.span)
    except JxError as e:
        raise e.with_span(node.span) from None


def subscript(value, index, span):
    if isinstance(value, (AtHelper, IndexTricks)):
        return value.getitem(index)
    if isinstance(value, tuple):
        if isinstance(index, slice):
            parts = (index.start, index.stop, index.step)
            if not all(p is None or type(p) is int for p in parts):
                raise JxTypeError("a tuple slice takes static ints", span)
            if index.step == 0:
                raise JxValueError("slice step cannot be zero", span)
        if isinstance(index, slice) or (isinstance(index, int) and not isinstance(index, bool)):
            try:
                return value[index]
            except IndexError:
                raise JxIndexError(
                    f"tuple index {index} is out of range for a tuple of {len(value)}", span
                ) from None
        raise JxTypeError(
            f"a tuple index must be a static int or slice, got {describe(index)}", span
        )
    if isinstance(value, list):
        if isinstance(index, slice) or (isinstance(index, int) and not isinstance(index, bool)):
            try:
                return value[index]
            except IndexError:
                raise JxIndexError(
                    f"list index {index} is out of range for a list of {len(value)}", span
                ) from None
        return getitem(ops.as_array(value), index)  # x[:, 0], x[i]: the list as an array
    if isinstance(value, dict):
        if not isinstance(index, str):
            raise JxTypeError("a record is indexed by a string key", span)
        if index not in value:
            raise JxIndexError(f"record has no key '{index}'{did_you_mean(index, value)}", span)
        return value[index]
    if isinstance(value, Key):
        return value.getitem(index, span)
    if ops.is_array(value):
        return getitem(value, index)
    raise JxTypeError(f"{describe(value)} cannot be indexed", span)


def _index(node, scope):
    if isinstance(node, ast.TupleExpr):
        return tuple(_index_item(e, scope) for e in node.elts)
    return _index_item(node, scope)


def _index_item(node, scope):
    if isinstance(node, ast.Slice):
        return slice(
            *(
                None if p is None else evaluate(p, scope)
                for p in (node.lower, node.upper, node.step)
            )
        )
    if isinstance(node, ast.EllipsisLit):
        return Ellipsis
    value = evaluate(node, scope)
    if isinstance(value, list):
        return ops.array(value)
    return value


def _ellipsis(node, scope):
    return Ellipsis


def _starred(node, scope):
    raise JxTypeError("a starred expression is only allowed in calls and tuples", node.span)


#: The rule evaluating each kind of expression; control.py adds conditional expressions
#: and comprehensions.
EXPRESSIONS = {
    ast.Name: _name,
    ast.Const: _const,
    ast.TupleExpr: _tuple,
    ast.ListExpr: _list,
    ast.DictExpr: _dict,
    ast.BinOp: _binop,
    ast.UnaryOp: _unary,
    ast.Compare: _compare,
    ast.BoolOp: _boolop,
    ast.Lambda: _lambda,
    ast.Call: _call,
    ast.Attribute: _attribute,
    ast.Subscript: _subscript,
    ast.EllipsisLit: _ellipsis,
    ast.Starred: _starred,
}


__all__ = ["Closure", "ReturnValue", "ShapeError", "evaluate", "exec_block"]
