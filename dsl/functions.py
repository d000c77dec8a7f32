"""Calling functions: inlining while tracing, cached traced calls at the top level, `jit`.

Inside a trace a jx function's body is simply evaluated with the traced arguments (it is
inlined into the program being built). At the top level a call is traced once per
abstract signature — array shapes and dtypes, static values, tree structure — into a
Program that the backend runs; later calls with the same signature reuse it, unless a
module-level name the trace read has been rebound since. `jit` does the same with every
number traced (except `static_argnums`) and runs the optimized program as one unit.
"""

from __future__ import annotations

import numpy as np

from . import trees
from .core import CTX, Builder, Tracer, aval_of, current_builder, describe, trace_into
from .errors import JxError, PurityError
from .errors import RecursionError as JxRecursionError
from .errors import TypeError as JxTypeError
from .prng import use_in_call
from .values import READS, Builtin, Closure, Module, Scope

MAX_DEPTH = 200
CACHE_LIMIT = 256


def call(fn, args, kwargs, span):
    if type(fn) is not Builtin:
        args, kwargs = use_in_call(args, kwargs, span)
    if type(fn) is Closure:
        if CTX.builders or CTX.depth:
            return apply_closure(fn, fn.bind_args(args, kwargs, span), span)
        fn.bind_args(args, kwargs, span)  # arity errors before any tracing
        return cached_call(fn, fn.cache, args, kwargs, span, jit=False)
    if type(fn) is Builtin:
        return call_builtin(fn, args, kwargs, span)
    hook = getattr(fn, "jx_call", None)
    if hook is not None:
        return hook(args, kwargs, span)
    raise JxTypeError(f"{describe(fn)} is not callable", span)


def call_builtin(fn: Builtin, args, kwargs, span):
    if fn.effect and (CTX.builders or CTX.depth):
        raise PurityError(
            f"{fn.name}() is an effect: functions are pure; return the value and "
            f"{fn.name} it at top level",
            span,
        )
    fn.check_args(args, kwargs, span)
    try:
        return fn.fn(*args, **kwargs)
    except JxError as e:
        raise e.with_span(span) from None


def apply_closure(fn: Closure, bound: dict, span):
    """Evaluate a function body with bound arguments (inline, in the current mode)."""
    from .interp import exec_block

    CTX.depth += 1
    try:
        if CTX.depth > MAX_DEPTH:
            raise JxRecursionError(
                f"maximum recursion depth ({MAX_DEPTH}) exceeded in '{fn.name}'; recursion "
                "must stop on static values",
                span,
            )
        result = exec_block(fn.body, Scope(fn.scope, vars=bound))
    except JxError as e:
        # One note per call level on the way out (the error passes each level once, from the
        # innermost), so the whole call chain shows; a recursion repeats one note, kept once.
        note = (f"called from here ('{fn.name}')", span)
        fresh = getattr(e, "_noted_depth", CTX.depth + 1) > CTX.depth
        if e.span is not span and fresh and len(e.notes) < 12 and e.notes[-1:] != [note]:
            e.add_note(*note)
        e._noted_depth = min(CTX.depth, getattr(e, "_noted_depth", CTX.depth))
        raise
    finally:
        CTX.depth -= 1
    return None if result is None else result.value


def traced_leaf(x) -> bool:
    """Leaves of a plain call's signature: arrays and Python floats; ints stay static."""
    return type(x) in (Tracer, np.ndarray, float) or hasattr(x, "jx_leaf")


def jit_leaf(x) -> bool:
    """Leaves of a jitted call: every number is traced, as with jax.jit."""
    return type(x) in (Tracer, np.ndarray, float, int, bool) or hasattr(x, "jx_leaf")


class CacheEntry:
    __slots__ = ("compiled", "eager", "out_tree", "program", "reads")

    def __init__(self, program, out_tree, reads, eager=False):
        self.program = program
        self.out_tree = out_tree
        self.reads = reads
        self.eager = eager
        self.compiled: dict = {}

    def valid(self) -> bool:
        for table, name, value in self.reads:
            if table.get(name, _MISSING) is not value:
                return False
        return True


_MISSING = object()


def leaf_aval(x):
    hook = getattr(x, "jx_aval", None)
    return hook() if hook is not None else aval_of(x)


def leaf_value(x, aval):
    if type(x) is np.ndarray:
        return x
    hook = getattr(x, "jx_data", None)
    if hook is not None:
        return hook()
    return np.asarray(x, dtype=aval.dtype)


def trace_call(fn, args, kwargs, is_leaf, span):
    """Trace `fn(*args, **kwargs)` with abstract leaves; (program, out_tree, reads, leaves)."""
    leaves, treedef = trees.flatten((tuple(args), kwargs), is_leaf)
    avals = [leaf_aval(x) for x in leaves]
    builder = Builder()
    READS.append([])
    try:
        with trace_into(builder):
            inputs = [wrap_input(builder, x, a) for x, a in zip(leaves, avals)]
            targs, tkwargs = trees.unflatten(treedef, inputs)
            out = call(fn, list(targs), tkwargs, span)
    finally:
        reads = READS.pop()
        if READS:
            READS[-1].extend(reads)
    out_leaves, out_tree = trees.flatten(out, lambda x: type(x) is Tracer or hasattr(x, "jx_leaf"))
    program, captured = builder.build([unwrap_output(o) for o in out_leaves])
    assert not captured, "a top-level trace cannot capture outer values"
    return program, out_tree, reads, leaves, [getattr(o, "jx_rewrap", None) for o in out_leaves]


def wrap_input(builder, x, aval):
    tracer = builder.new_input(aval)
    hook = getattr(x, "jx_wrap", None)
    return hook(tracer) if hook is not None else tracer


def unwrap_output(x):
    hook = getattr(x, "jx_unwrap", None)
    return hook() if hook is not None else x


def _needs_eager(out_tree) -> bool:
    return any(
        isinstance(v, (Closure, Builtin, Module)) or hasattr(v, "jx_call")
        for v in trees.static_values(out_tree)
    )


def cached_call(fn, cache, args, kwargs, span, jit: bool, compile_program=None):
    is_leaf = jit_leaf if jit else traced_leaf
    leaves, treedef = trees.flatten((tuple(args), kwargs), is_leaf)
    key = (
        treedef,
        tuple(leaf_aval(x) for x in leaves),
        tuple(hasattr(x, "jx_leaf") for x in leaves),
    )
    entry = cache.get(key)
    if entry is None or not entry.valid():
        program, out_tree, reads, _, rewraps = trace_call(fn, args, kwargs, is_leaf, span)
        eager = _needs_eager(out_tree)
        if len(cache) >= CACHE_LIMIT:
            cache.clear()
        entry = cache[key] = CacheEntry(program, out_tree, reads, eager)
        entry.compiled["rewraps"] = rewraps
    if entry.eager:
        return _eager(fn, args, kwargs, span)
    values = [leaf_value(x, a) for x, a in zip(leaves, key[1])]
    backend = CTX.backend
    if jit:
        runner = entry.compiled.get(backend.name)
        if runner is None:
            runner = entry.compiled[backend.name] = (compile_program or backend.compile)(
                entry.program
            )
        outs = _run_guarded(runner, values, span)
    else:
        outs = _run_guarded(lambda *v: backend.run(entry.program, v), values, span)
    rewraps = entry.compiled["rewraps"]
    outs = [r(o) if r is not None else o for r, o in zip(rewraps, outs)]
    return trees.unflatten(entry.out_tree, outs)


def _run_guarded(runner, values, span):
    from .errors import JxRuntimeError

    try:
        return runner(*values)
    except JxError:
        raise
    except Exception as e:  # noqa: BLE001 - any backend failure becomes the user's error
        raise JxRuntimeError(f"the backend failed: {e}", span) from None


def _eager(fn, args, kwargs, span):
    """Run a call without tracing (its result holds functions, which cannot be outputs)."""
    if type(fn) is Closure:
        return apply_closure(fn, fn.bind_args(args, kwargs, span), span)
    CTX.depth += 1
    try:
        return call(fn, args, kwargs, span)
    finally:
        CTX.depth -= 1


class Jitted:
    """`jit(f)`: a function traced once per signature and run as one compiled unit."""

    jx_kind = "a jitted function"

    def __init__(self, fn, static_argnums=()):
        self.fn = fn
        if isinstance(static_argnums, int):
            static_argnums = (static_argnums,)
        self.static_argnums = tuple(static_argnums)
        self.cache: dict = {}
        self.name = getattr(fn, "name", "function")

    def __repr__(self) -> str:
        return f"<jit {self.name}>"

    def jx_call(self, args, kwargs, span):
        if current_builder() is not None:
            return call(self.fn, args, kwargs, span)
        statics = {i % max(len(args), 1) for i in self.static_argnums}
        wrapped = [Static(a) if i in statics else a for i, a in enumerate(args)]
        from .passes import optimize

        return cached_call(
            _Unwrapping(self.fn),
            self.cache,
            wrapped,
            kwargs,
            span,
            jit=True,
            compile_program=lambda p: CTX.backend.compile(optimize(p)),
        )


class Static:
    """A jit argument marked static: hashed by value into the signature, never traced."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def static_key(self):
        return (Static, _static_key(self.value))


def _static_key(v):
    try:
        hash(v)
        return (type(v), v)
    except TypeError:
        return (type(v), id(v))


class _Unwrapping:
    """Calls a function after replacing Static markers by their values."""

    def __init__(self, fn):
        self.fn = fn

    def jx_call(self, args, kwargs, span):
        args = [a.value if isinstance(a, Static) else a for a in args]
        return call(self.fn, args, kwargs, span)
