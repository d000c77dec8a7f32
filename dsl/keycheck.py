"""Static PRNG key linearity at a script's top level, so `jx check` reports reuse before
anything runs.

It follows names bound to keys made by `random.key/split/fold_in/wrap_key_data` through
the top-level statements. Passing such a name (or `ks[i]` with a static `i`) to any call
but `random.key_data`, `len` and `print` consumes it (`fold_in(k, d)` with a static
int `d` consumes only k's part `d`); a second consumption is a
KeyReuseError naming the first. Exclusive `if` branches count once; a loop body that
consumes a key it does not rebind reuses it on every iteration. A top-level function or
lambda whose body consumes a top-level key consumes it at each call (module-level names are
read at call time). Function bodies are otherwise checked when traced (`prng.py`), where the
values of arguments are known.
"""

from __future__ import annotations

from . import ast
from .errors import KeyReuseError

PRODUCERS = {"key", "split", "fold_in", "wrap_key_data"}
NOT_USES = {"key_data", "len", "print"}
#: Built-in names the checker knows by name (the random functions come through imports).
NAMED_BUILTINS = {"len", "print"}


class KeyChecker:
    def __init__(self):
        self.random_names: set = set()  # aliases of the random module
        self.imported: dict = {}  # local name -> random function name
        # top-level function name -> the top-level keys its body consumes: (name, path, node)
        self.captures: dict = {}

    def run(self, module: ast.Module) -> None:
        self.block(module.body, {}, frozenset())

    def _func_name(self, func) -> str | None:
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in self.random_names
        ):
            return func.attr
        if isinstance(func, ast.Name):
            return self.imported.get(func.id, func.id if func.id in NAMED_BUILTINS else None)
        return None

    def block(self, stmts, keys: dict, loop_outer: frozenset) -> dict:
        for s in stmts:
            keys = self.stmt(s, keys, loop_outer)
        return keys

    def stmt(self, s, keys, loop_outer):
        if isinstance(s, ast.Import) and s.module == "random":
            self.random_names.add(s.alias or "random")
        elif isinstance(s, ast.ImportFrom) and s.module == "random":
            for name, alias in s.names:
                self.imported[alias or name] = name
        elif isinstance(s, ast.Assign):
            self.expr(s.value, keys, loop_outer)
            for t in s.targets:
                keys = self.bind(t, s.value, keys)
        elif isinstance(s, ast.FunctionDef):
            self.captures.pop(s.name, None)
            self.capture(s.name, s.params, s.body)
        elif isinstance(s, ast.AugAssign):
            self.expr(s.value, keys, loop_outer)
            keys = self.bind(s.target, None, keys)
        elif isinstance(s, (ast.ExprStmt, ast.Return)) and s.value is not None:
            self.expr(s.value, keys, loop_outer)
        elif isinstance(s, ast.Assert):
            self.expr(s.test, keys, loop_outer)
        elif isinstance(s, ast.If):
            self.expr(s.test, keys, loop_outer)
            uses = {id(u): u for u, _ in keys.values()}
            before = {k: dict(u) for k, u in uses.items()}
            taken = []
            for body in (s.body, s.orelse):
                self.block(body, dict(keys), loop_outer)
                taken.append({k: dict(u) for k, u in uses.items()})
                for k, u in uses.items():
                    u.clear()
                    u.update(before[k])
            # Exclusive branches: a key used in both is used once.
            for branch in taken:
                for k, u in uses.items():
                    for path, span in branch[k].items():
                        u.setdefault(path, span)
            rebound = ast.bound_names(s.body) | ast.bound_names(s.orelse)
            keys = {n: v for n, v in keys.items() if n not in rebound}
        elif isinstance(s, (ast.For, ast.While)):
            head = s.iter if isinstance(s, ast.For) else s.test
            self.expr(head, keys, loop_outer)
            rebound = ast.bound_names(s.body)
            outer = frozenset(n for n in keys if n not in rebound) | loop_outer
            keys = self.block(s.body, dict(keys), outer)
        return keys

    def capture(self, name, params, body) -> None:
        """Record the top-level keys a function body consumes, to consume them at its calls."""
        local = {p.name for p in params}
        if isinstance(body, tuple):
            local |= ast.bound_names(body)
        else:
            body = (body,)
        found = []
        for node in (n for b in body for n in ast.walk(b)):
            if isinstance(node, ast.Call) and self._func_name(node.func) not in NOT_USES:
                for a in list(node.args) + [k.value for k in node.keywords]:
                    # Any outer name: whether it holds a key is known at the call.
                    ref = self._ref(a)
                    if ref is not None and ref[0] not in local:
                        found.append((ref, a))
        if found:
            self.captures[name] = found

    def bind(self, target, value, keys):
        keys = dict(keys)
        if isinstance(target, ast.Name):
            keys.pop(target.id, None)
            self.captures.pop(target.id, None)
            if isinstance(value, ast.Lambda):
                self.capture(target.id, value.params, value.body)
            if value is not None and self._produces_key(value):
                keys[target.id] = ({}, ())
            elif isinstance(value, ast.Name) and value.id in keys:
                keys[target.id] = keys[value.id]
        elif isinstance(target, ast.TupleExpr):
            fresh = value is not None and self._produces_key(value)
            for t in target.elts:
                if isinstance(t, ast.Name):
                    keys.pop(t.id, None)
                    if fresh:
                        keys[t.id] = ({}, ())
        return keys

    def _produces_key(self, value) -> bool:
        return isinstance(value, ast.Call) and self._func_name(value.func) in PRODUCERS

    def expr(self, e, keys, loop_outer):
        if isinstance(e, ast.Call):
            name = self._func_name(e.func)
            consumes = name not in NOT_USES
            for a in list(e.args) + [k.value for k in e.keywords]:
                target = self._key_ref(a, keys)
                if target is None:
                    self.expr(a, keys, loop_outer)
                elif consumes:
                    if name == "fold_in" and a is e.args[0]:
                        target = (target[0], target[1] + _fold_part(e))
                    self.use(target, a, keys, loop_outer)
            self.expr(e.func, keys, loop_outer)
            if isinstance(e.func, ast.Name):
                for (name, sub), node in self.captures.get(e.func.id, ()):
                    if name in keys:
                        try:
                            self.use((name, sub), e, keys, loop_outer)
                        except KeyReuseError as err:
                            err.add_note(f"'{e.func.id}' uses key '{name}' here", node.span)
                            raise
            return
        if isinstance(e, (ast.Lambda, ast.ListComp)):
            return
        for name in e.__dataclass_fields__:
            value = getattr(e, name)
            if isinstance(value, ast.Node) and name != "span":
                self.expr(value, keys, loop_outer)
            elif isinstance(value, tuple):
                for v in value:
                    if isinstance(v, ast.Node):
                        self.expr(v, keys, loop_outer)

    def _key_ref(self, a, keys):
        ref = self._ref(a)
        return ref if ref is not None and ref[0] in keys else None

    @staticmethod
    def _ref(a):
        """`name` or `name[i]` with a static int `i`, as (name, path)."""
        if isinstance(a, ast.Name):
            return a.id, ()
        if (
            isinstance(a, ast.Subscript)
            and isinstance(a.value, ast.Name)
            and isinstance(a.index, ast.Const)
            and isinstance(a.index.value, int)
        ):
            return a.value.id, (a.index.value,)
        return None

    def use(self, target, node, keys, loop_outer):
        name, sub = target
        uses, base = keys[name]
        path = base + sub
        if name in loop_outer:
            raise KeyReuseError(
                f"key '{name}' is used in a loop body without being rebound: "
                "every iteration would reuse it; split it inside the loop",
                node.span,
            )
        for other, first in uses.items():
            if other[: len(path)] == path or path[: len(other)] == other:
                err = KeyReuseError(
                    f"PRNG key '{name}' was already used; split it for fresh "
                    "keys (k1, k2 = random.split(k))",
                    node.span,
                )
                err.add_note("first used here", first)
                raise err
        uses[path] = node.span


def _fold_part(call) -> tuple:
    """`fold_in(k, d)` with a static int d uses k's part d alone (distinct d, distinct keys),
    as the tracer counts it; any other d uses the whole key."""
    if len(call.args) > 1 and isinstance(call.args[1], ast.Const):
        d = call.args[1].value
        if isinstance(d, int) and not isinstance(d, bool):
            return (("fold_in", d % 2**32),)
    return ()


def check_keys(module: ast.Module) -> None:
    KeyChecker().run(module)
