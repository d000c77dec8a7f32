"""Static checks on the AST, before anything runs.

Scope: every name must be bound somewhere visible (function locals are the names the
function binds anywhere, Python-style; then enclosing functions, the module's top level,
the built-ins) — else NameError with a "did you mean". Purity: no assignment into an
element or attribute (the hint shows the `.at[]` form), no `global`/`nonlocal`/`del`,
no effects (`print`, `save`, `load`, `assert`, `plot.*`) inside functions. Arity of calls to
top-level functions, `return` outside a function, and imports that resolve.
"""

from __future__ import annotations

from . import ast
from .errors import JxSyntaxError, NameError, PurityError, TypeError
from .keycheck import check_keys
from .values import did_you_mean

EFFECTS = ("print", "save", "load")
#: Built-in modules whose every member is an effect (`plot.line(...)`).
EFFECT_MODULES = ("plot",)


class Checker:
    """`resolve(module_name, span)` raises the ImportError of an import that finds nothing;
    `qualify(name)` is the `module.name` of a library member an undefined name may mean."""

    def __init__(self, builtins: set, known: set = frozenset(), resolve=None, qualify=None):
        self.builtins = set(builtins)
        self.known = set(known)  # names bound before this module (REPL, env=)
        self.resolve = resolve
        self.qualify = qualify
        self.functions: dict = {}  # top-level def name -> FunctionDef (unique ones only)

    # -- entry
    def module(self, module: ast.Module) -> None:
        top = self.top = ast.bound_names(module.body) | self.known
        defs = [s for s in module.body if isinstance(s, ast.FunctionDef)]
        rebound = {n for n in top if sum(1 for d in defs if d.name == n) > 1}
        assigned = set()
        for s in module.body:
            if isinstance(s, (ast.Assign, ast.AugAssign, ast.For)):
                assigned |= ast.bound_names((s,))
        # A decorator may change the signature, so only undecorated functions are checked.
        self.functions = {
            d.name: d for d in defs if d.name not in rebound | assigned and not d.decorators
        }
        scopes = [top | self.builtins]
        for stmt in module.body:
            self.stmt(stmt, scopes, in_function=False)

    # -- statements
    def stmt(self, s, scopes, in_function: bool) -> None:
        if isinstance(s, ast.ExprStmt):
            self.expr(s.value, scopes, in_function)
        elif isinstance(s, ast.Assign):
            self.expr(s.value, scopes, in_function)
            for t in s.targets:
                self.target(t, scopes, in_function, s)
        elif isinstance(s, ast.AugAssign):
            if not isinstance(s.target, ast.Name):
                self.mutation(s.target, s, s.op)
            self.expr(s.target, scopes, in_function)
            self.expr(s.value, scopes, in_function)
        elif isinstance(s, ast.FunctionDef):
            for d in s.decorators:
                self.expr(d, scopes, in_function)
            for p in s.params:
                if p.default is not None:
                    self.expr(p.default, scopes, in_function)
            self.function(s.params, s.body, scopes)
        elif isinstance(s, ast.Return):
            if not in_function:
                raise JxSyntaxError("'return' outside a function", s.span)
            if s.value is not None:
                self.expr(s.value, scopes, in_function)
        elif isinstance(s, ast.If):
            self.expr(s.test, scopes, in_function)
            for b in s.body + s.orelse:
                self.stmt(b, scopes, in_function)
        elif isinstance(s, ast.While):
            self.expr(s.test, scopes, in_function)
            for b in s.body:
                self.stmt(b, scopes, in_function)
        elif isinstance(s, ast.For):
            self.expr(s.iter, scopes, in_function)
            self.target(s.target, scopes, in_function, s)
            for b in s.body:
                self.stmt(b, scopes, in_function)
        elif isinstance(s, ast.Assert):
            if in_function:
                raise PurityError(
                    "assert is an effect: functions are pure; check the value at top level", s.span
                )
            self.expr(s.test, scopes, in_function)
            if s.msg is not None:
                self.expr(s.msg, scopes, in_function)
        elif isinstance(s, (ast.Import, ast.ImportFrom)):
            # Resolved here too, so `jx check` reports an unknown module without running.
            if self.resolve is not None:
                self.resolve(s.module, s.span)
        elif isinstance(s, ast.Forbidden):
            raise PurityError(
                f"'{s.keyword}' is not part of jx: values are immutable and "
                "functions pure; rebind a name instead",
                s.span,
            )

    def target(self, t, scopes, in_function, stmt) -> None:
        if isinstance(t, ast.Subscript):
            self.mutation(t, stmt, None)
        elif isinstance(t, ast.Attribute):
            raise PurityError(
                f"cannot assign to attribute '{t.attr}': values are immutable", t.span
            )
        elif isinstance(t, ast.TupleExpr):
            for e in t.elts:
                self.target(e, scopes, in_function, stmt)

    def mutation(self, t, stmt, op) -> None:
        """`x[i] = v` or `x[i] op= v` (op given): an error with the functional form to write."""
        target, index = _source_text(t.value.span), _source_text(t.index.span)
        value = _source_text(stmt.value.span) if hasattr(stmt, "value") else "v"
        if isinstance(t.index, ast.Const) and isinstance(t.index.value, str):
            # A record field: build the record anew with the field replaced.
            err = PurityError("records are immutable: a field cannot be assigned", t.span)
            new = value if op is None else f"{target}[{index}] {op} {value}"
            err.add_note(f"use {target} = {{**{target}, {index}: {new}}}")
            raise err
        err = PurityError("arrays are immutable: an element cannot be assigned", t.span)
        if op is None:
            update = f"set({value})"
        elif op in _AUG_METHOD:
            update = f"{_AUG_METHOD[op]}({value})"
        else:
            update = f"set({target}[{index}] {op} {value})"
        err.add_note(f"use {target} = {target}.at[{index}].{update}")
        raise err

    def function(self, params, body, scopes) -> None:
        local = {p.name for p in params} | ast.bound_names(body)
        inner = scopes + [local]
        for s in body:
            self.stmt(s, inner, in_function=True)

    # -- expressions
    def expr(self, e, scopes, in_function: bool) -> None:
        if isinstance(e, ast.Name):
            if not any(e.id in s for s in scopes):
                visible = set().union(*scopes)
                hint = did_you_mean(e.id, visible)
                member = self.qualify(e.id) if self.qualify and not hint else None
                if member:
                    hint = f"; did you mean '{member}' (import {member.split('.')[0]})?"
                raise NameError(f"name '{e.id}' is not defined{hint}", e.span)
            return
        if isinstance(e, ast.Lambda):
            for p in e.params:
                if p.default is not None:
                    self.expr(p.default, scopes, in_function)
            self.expr(e.body, scopes + [{p.name for p in e.params}], True)
            return
        if isinstance(e, ast.ListComp):
            inner = list(scopes)
            for gen in e.generators:
                self.expr(gen.iter, inner, in_function)
                names: set = set()
                ast.target_names(gen.target, names)
                inner = inner + [names]
                for cond in gen.ifs:
                    self.expr(cond, inner, in_function)
            self.expr(e.elt, inner, in_function)
            return
        if isinstance(e, ast.Call):
            self.call(e, scopes, in_function)
        for name in e.__dataclass_fields__:
            if name == "span":
                continue
            value = getattr(e, name)
            if isinstance(value, ast.Node):
                self.expr(value, scopes, in_function)
            elif isinstance(value, tuple):
                for v in value:
                    if isinstance(v, ast.Node):
                        self.expr(v, scopes, in_function)

    def call(self, e: ast.Call, scopes, in_function: bool) -> None:
        if isinstance(e.func, ast.Attribute) and isinstance(e.func.value, ast.Name):
            module = e.func.value.id
            user_defined = any(module in s for s in scopes[1:]) or module in self.top
            if in_function and module in EFFECT_MODULES and not user_defined:
                name = f"{module}.{e.func.attr}"
                raise PurityError(
                    f"{name}() is an effect: functions are pure; return the value "
                    f"and {name} it at top level",
                    e.span,
                )
        if not isinstance(e.func, ast.Name):
            return
        name = e.func.id
        shadowed = any(name in s for s in scopes[1:])
        # A function the program itself names `load` or `save` is no effect.
        user_defined = shadowed or name in self.top
        if in_function and name in EFFECTS and not user_defined:
            raise PurityError(
                f"{name}() is an effect: functions are pure; return the value "
                f"and {name} it at top level",
                e.span,
            )
        fdef = self.functions.get(name)
        if fdef is None or shadowed or any(isinstance(a, ast.Starred) for a in e.args):
            return
        if any(p.star for p in fdef.params):
            return  # *args and keyword-only parameters: the call's binding checks it
        params = list(fdef.params)
        required = [p for p in params if p.default is None]
        names = {p.name for p in params}
        given = len(e.args)
        for k in e.keywords:
            if k.name not in names:
                raise TypeError(f"{name}() got an unexpected keyword argument '{k.name}'", k.span)
        filled = given + sum(1 for k in e.keywords if k.name in {p.name for p in params[given:]})
        if given > len(params):
            raise TypeError(f"{name}() takes {_args(len(params))} but {given} were given", e.span)
        if filled < len(required) and not all(
            p.name in {k.name for k in e.keywords} for p in required[given:]
        ):
            missing = [
                p.name for p in required[given:] if p.name not in {k.name for k in e.keywords}
            ]
            raise TypeError(f"{name}() missing argument '{missing[0]}'", e.span)


_AUG_METHOD = {"+": "add", "*": "mul"}


def _args(n: int) -> str:
    return f"{n} argument" + ("" if n == 1 else "s")


def _source_text(span) -> str:
    if span.line != span.end_line:
        return "..."
    return span.source.line(span.line)[span.column - 1 : span.end_column - 1]


def check_module(
    module: ast.Module, builtins: set, known: set = frozenset(), resolve=None, qualify=None
):
    """Every static check of a module: scope, purity, arity, imports, key linearity."""
    Checker(builtins, known, resolve, qualify).module(module)
    check_keys(module)
