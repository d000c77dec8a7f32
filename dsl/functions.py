"""Calling functions: inlining while tracing, the one way to trace a function to a
program (`trace_function`), cached traced calls at the top level, `jit`.

Inside a trace a jx function's body is simply evaluated with the traced arguments (it is
inlined into the program being built). At the top level a call is traced once per
abstract signature — array shapes and dtypes, static values, tree structure — into a
Program that the backend runs; later calls with the same signature reuse it, unless a
module-level name the trace read has been rebound since. `jit` does the same with every
number traced (except `static_argnums`) and runs the optimized program as one unit.
"""

from __future__ import annotations

import os
from importlib import resources

import numpy as np

from . import ops, trees
from .backend import is_concrete
from .core import (
    CTX,
    Builder,
    Tracer,
    aval_of,
    current_builder,
    describe,
    out_of_memory,
    trace_into,
)
from .dtypes import short
from .errors import JxError, JxRuntimeError, PurityError
from .errors import RecursionError as JxRecursionError
from .errors import TypeError as JxTypeError
from .passes import optimize
from .prng import use_in_call
from .values import Builtin, Closure, Module, Scope, TraceCache, TraceEntry

MAX_DEPTH = 200


def call(fn, args, kwargs, span):
    if type(fn) is not Builtin:
        args, kwargs = use_in_call(args, kwargs, span)
    if type(fn) is Closure:
        if CTX.builders or CTX.depth:
            return apply_closure(fn, fn.bind_args(args, kwargs, span), span)
        fn.bind_args(args, kwargs, span)  # arity errors before any tracing
        return cached_call(fn, fn.cache, args, kwargs, span, traced_leaf)
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
    CTX.depth += 1
    try:
        if CTX.depth > MAX_DEPTH:
            raise JxRecursionError(
                f"maximum recursion depth ({MAX_DEPTH}) exceeded in '{fn.name}'; recursion "
                "must stop on static values",
                span,
            )
        result = fn.exec_body(fn.body, Scope(fn.scope, vars=bound))
    except JxError as e:
        _blame_caller(e, span, f"'{fn.name}' of the standard library")
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


_LIBRARY = os.path.join(str(resources.files("jx.stdlib")), "")


def _in_library(span) -> bool:
    return span is not None and span.source.name.startswith(_LIBRARY)


def _blame_caller(e: JxError, span, where: str) -> None:
    """A mistake in a call into the standard library is the caller's: the caret goes to
    the call at `span`, and the library line it broke becomes a note."""
    if _in_library(e.span) and span is not None and not _in_library(span):
        e.add_note(f"raised inside {where}", e.span)
        e.span = span


def traced_leaf(x) -> bool:
    """Leaves of a plain call's signature: arrays and Python floats; ints stay static."""
    return type(x) in (Tracer, float) or is_concrete(x)


def number_leaf(x) -> bool:
    """Leaves of `jit` and the transformations: every number is traced, as in JAX."""
    return type(x) in (Tracer, float, int, bool) or is_concrete(x)


def input_avals(leaves) -> list:
    """The abstract values argument leaves are traced with: Python numbers stay weakly
    typed, arrays keep their own dtype."""
    return [
        aval_of(x) if type(x) in (float, int, bool) or is_concrete(x) else aval_of(x).strong()
        for x in leaves
    ]


def signature(in_tree, avals, *extra) -> tuple:
    """A traced function's cache key: the arguments' tree structure (static values
    included), the leaves' abstract values and whatever else the trace depends on."""
    return (in_tree, tuple(avals), *extra)


class Traced:
    """A function traced to a closed program: its inputs are the argument leaves, then the
    values it captured from an enclosing trace (`captured`)."""

    __slots__ = ("captured", "in_tree", "out_tree", "program")

    def __init__(self, program, in_tree, out_tree, captured):
        self.program = program
        self.in_tree = in_tree
        self.out_tree = out_tree
        self.captured = captured


def trace_function(
    fn, args, kwargs, span, avals=None, is_leaf=number_leaf, static_outputs=False
) -> Traced:
    """Trace `fn(*args, **kwargs)` with a fresh input for every leaf (`is_leaf` says which
    argument values are leaves; the rest are static) of abstract value `avals`, by default
    `input_avals`. Outputs that are not traced stay static in the out tree when
    `static_outputs`, else arrays and floats become program outputs too."""
    leaves, in_tree = trees.flatten((tuple(args), kwargs), is_leaf)
    builder = Builder()
    with trace_into(builder):
        inputs = [builder.new_input(a) for a in (avals or input_avals(leaves))]
        targs, tkwargs = trees.unflatten(in_tree, inputs)
        out = call(fn, list(targs), tkwargs, span)
        out_leaves, out_tree = trees.flatten(out, _is_tracer if static_outputs else traced_leaf)
        outs = [ops.as_array(x) for x in out_leaves]
    program, captured = builder.build(outs)
    return Traced(program, in_tree, out_tree, captured)


def _is_tracer(x) -> bool:
    return type(x) is Tracer


def leaf_value(x, aval):
    """An argument leaf as the backend's input for a program input of `aval`."""
    if is_concrete(x):
        return x
    try:
        return CTX.backend.to_device(np.asarray(x, dtype=aval.dtype))
    except OverflowError:
        raise JxTypeError(f"the argument {x} does not fit in {short(aval.dtype)}") from None


def run_guarded(runner, values, span):
    """Run a program on the backend; a failure there becomes the user's error at `span`."""
    try:
        return runner(*values)
    except JxError as e:
        _blame_caller(e, span, "the standard library")
        raise e.with_span(span) from None
    except MemoryError:
        raise out_of_memory(span) from None
    except Exception as e:  # noqa: BLE001 - any backend failure becomes the user's error
        raise JxRuntimeError(f"the backend failed: {e}", span) from None


def _needs_eager(out_tree) -> bool:
    return any(
        isinstance(v, (Closure, Builtin, Module)) or hasattr(v, "jx_call")
        for v in trees.static_values(out_tree)
    )


def cached_call(fn, cache: TraceCache, args, kwargs, span, is_leaf, compile_program=None):
    """A top-level call: traced once per signature, then run on the backend (as one
    compiled unit with `compile_program`, else equation by equation)."""
    leaves, in_tree = trees.flatten((tuple(args), kwargs), is_leaf)
    avals = input_avals(leaves)

    def make():
        traced = trace_function(fn, args, kwargs, span, avals, is_leaf, static_outputs=True)
        return TraceEntry(traced.program, traced, extra=_needs_eager(traced.out_tree))

    entry = cache.lookup(signature(in_tree, avals), make)
    if entry.extra:
        return _eager(fn, args, kwargs, span)
    values = [leaf_value(x, a) for x, a in zip(leaves, avals)]
    backend = CTX.backend
    if compile_program is None:
        outs = run_guarded(lambda *v: backend.run(entry.program, v), values, span)
    else:
        runner = entry.compiled.get(backend.name)
        if runner is None:
            runner = entry.compiled[backend.name] = compile_program(entry.program)
        outs = run_guarded(runner, values, span)
    return trees.unflatten(entry.traced.out_tree, outs)


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
        if type(static_argnums) is int:
            static_argnums = (static_argnums,)
        if not isinstance(static_argnums, tuple) or any(type(i) is not int for i in static_argnums):
            raise JxTypeError(
                f"jit: static_argnums must be a static int or a tuple of them, "
                f"got {describe(static_argnums)}"
            )
        self.static_argnums = static_argnums
        self.cache = TraceCache()
        self.name = getattr(fn, "name", "function")

    def __repr__(self) -> str:
        return f"<jit {self.name}>"

    def jx_call(self, args, kwargs, span):
        if current_builder() is not None:
            return call(self.fn, args, kwargs, span)
        statics = {i % max(len(args), 1) for i in self.static_argnums}
        wrapped = [Static(a) if i in statics else a for i, a in enumerate(args)]
        return cached_call(
            _Unwrapping(self.fn),
            self.cache,
            wrapped,
            kwargs,
            span,
            number_leaf,
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
