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

import gc
import os
import warnings
from importlib import resources

import numpy as np

from . import dtypes, nans, ops, trees
from .backend import is_concrete
from .core import (
    CTX,
    Builder,
    Tracer,
    aval_of,
    concrete_results,
    current_builder,
    describe,
    out_of_memory,
    trace_into,
)
from .distributed import LeafMarker, leaf_specs
from .dtypes import ShapedArray, short
from .dtypes import short as dtype_name
from .errors import JxError, JxRuntimeError, PurityError, RetraceWarning
from .errors import RecursionError as JxRecursionError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
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
    if isinstance(fn, np.dtype):
        return _construct(fn, args, kwargs, span)
    raise JxTypeError(f"{describe(fn)} is not callable", span)


def _construct(dtype: np.dtype, args, kwargs, span):
    """A dtype called as a constructor, `f32(x)`: x as a (strong) array of that dtype."""
    if len(args) != 1 or kwargs:
        raise JxTypeError(f"{dtype_name(dtype)}(x) takes one argument", span)
    try:
        return ops.array(args[0], dtype)
    except JxError as e:
        raise e.with_span(span) from None


def call_builtin(fn: Builtin, args, kwargs, span):
    if fn.effect and CTX.checking and not CTX.depth:
        # `jx check` traces the top level: output is not made, while a file read by `load`
        # is only a constant, read for its shape.
        if fn.name != "load":
            fn.check_args(args, kwargs, span)
            return None
    elif fn.effect and (CTX.builders or CTX.depth):
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
    """The abstract values argument leaves are traced with: Python numbers and values
    computed only from them stay weakly typed, arrays keep their own dtype. An int argument
    too big for i32 is a weak i64 or u64 (it meets a u64 array whole, as in JAX with x64)."""
    return [
        ShapedArray((), dtypes.weak_int(x), True) if type(x) is int else aval_of(x) for x in leaves
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
    collecting = gc.isenabled()
    gc.disable()  # tracing makes many objects and frees few: collections only cost time
    try:
        with trace_into(builder):
            inputs = [builder.new_input(a) for a in (avals or input_avals(leaves))]
            targs, tkwargs = trees.unflatten(in_tree, inputs)
            out = call(fn, list(targs), tkwargs, span)
            out_leaves, out_tree = trees.flatten(out, _is_tracer if static_outputs else traced_leaf)
            outs = [ops.as_array(x) for x in out_leaves]
        program, captured = builder.build(outs)
    finally:
        if collecting:
            gc.enable()
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


def run_guarded(runner, values, span, program):
    """Run `program` on the backend with `runner`; a failure there becomes the user's error
    at `span`, and so does a NaN it made when `jx.config.debug_nans` is on."""
    try:
        outs = concrete_results(runner(*values), [v.aval for v in program.outputs])
    except JxError as e:
        _blame_caller(e, span, "the standard library")
        raise e.with_span(span) from None
    except MemoryError:
        raise out_of_memory(span) from None
    except Exception as e:  # noqa: BLE001 - any backend failure becomes the user's error
        raise JxRuntimeError(f"the backend failed: {e}", span) from None
    nans.check_program(program, values, outs, CTX.backend, span)
    return outs


def _needs_eager(out_tree) -> bool:
    return any(
        isinstance(v, (Closure, Builtin, Module)) or hasattr(v, "jx_call")
        for v in trees.static_values(out_tree)
    )


def cached_call(fn, cache: TraceCache, args, kwargs, span, is_leaf, compile_program=None):
    """A top-level call: traced once per signature, then run on the backend (as one
    compiled unit with `compile_program(traced)`, else equation by equation)."""
    leaves, in_tree = trees.flatten((tuple(args), kwargs), is_leaf)
    avals = input_avals(leaves)

    def make():
        if type(fn) is Closure and cache.int_values is not None:
            _note_int_arguments(fn, cache, fn.bind_args(args, kwargs, span), span)
        traced = trace_function(fn, args, kwargs, span, avals, is_leaf, static_outputs=True)
        return TraceEntry(traced.program, traced, extra=_needs_eager(traced.out_tree))

    entry = cache.lookup(signature(in_tree, avals), make)
    if entry.extra:
        return _eager(fn, args, kwargs, span)
    values = [leaf_value(x, a) for x, a in zip(leaves, avals)]
    backend = CTX.backend
    if compile_program is None:
        outs = run_guarded(lambda *v: backend.run(entry.program, v), values, span, entry.program)
    else:
        runner = entry.compiled.get(backend.name)
        if runner is None:
            runner = entry.compiled[backend.name] = compile_program(entry.traced)
        outs = run_guarded(runner, values, span, entry.program)
    return trees.unflatten(entry.traced.out_tree, outs)


#: A plain call traced for this many values of one Python int argument warns, once.
RETRACE_WARNING_AFTER = 3


def _note_int_arguments(fn: Closure, cache, bound: dict, span) -> None:
    """Warn once when a function is traced again for yet another value of an int argument:
    a plain call keeps Python ints static (they may steer shapes and loops), which costs a
    trace per value."""
    for name, value in bound.items():
        if type(value) is not int:
            continue
        values = cache.int_values.setdefault(name, set())
        values.add(value)
        if len(values) >= RETRACE_WARNING_AFTER:
            cache.int_values = None
            where = span or fn.span
            warnings.warn_explicit(
                f"'{fn.name}' was traced again for a new value of its int argument "
                f"'{name}' ({len(values)} values so far): a Python int passed to a plain call "
                f"is static. Pass a float or an array, or call jit({fn.name}), which traces "
                f"ints (jit({fn.name}, static_argnums=...) keeps the ones that must be static)",
                RetraceWarning,
                where.source.name if where else "<jx>",
                where.line if where else 0,
            )
            return


def _eager(fn, args, kwargs, span):
    """Run a call without tracing (its result holds functions, which cannot be outputs)."""
    if type(fn) is Closure:
        return apply_closure(fn, fn.bind_args(args, kwargs, span), span)
    CTX.depth += 1
    try:
        return call(fn, args, kwargs, span)
    finally:
        CTX.depth -= 1


def signature_of(args) -> tuple | None:
    """The key of a call's fast path: each argument's (shape, dtype) for an array of a jx
    dtype, `float` for a Python float; None where another kind of argument (a number
    kept static, a key, a tree) needs the full call."""
    key = []
    for a in args:
        t = type(a)
        if t is np.ndarray:
            key.append((a.shape, a.dtype))
        elif t is float:
            key.append(float)
        else:
            return None
    return tuple(key)


class FastCall:
    """A top-level call of one function on arguments of one `signature_of`, planned once:
    the cached trace and the backend's runner for it, and how its results leave. Calling
    it skips flattening, the signature and the cache; it is `current()` until a module
    name the trace read is rebound (then the full call retraces)."""

    __slots__ = ("backend", "entry", "floats", "out_tree", "runner", "single")

    def __init__(self, entry, runner, backend, floats):
        self.entry = entry
        self.runner = runner
        self.backend = backend
        # positions of Python floats, with the dtype the trace gave them (a weak f64)
        inputs = entry.program.inputs
        self.floats = tuple((i, inputs[i].aval.dtype) for i in floats)
        self.out_tree = entry.traced.out_tree
        self.single = self.out_tree is trees.LEAF

    def current(self) -> bool:
        return self.entry.current()

    def __call__(self, args):
        """The results: a host array for a single one, else the tree of them as traced."""
        values = list(args)
        for i, dtype in self.floats:
            values[i] = self.backend.to_device(np.asarray(values[i], dtype=dtype))
        saved, CTX.backend = CTX.backend, self.backend
        try:
            outs = run_guarded(self.runner, values, None, self.entry.program)
        finally:
            CTX.backend = saved
        # A weak scalar result comes back a Python number: as an array, the dtype it has
        # alone (f32), as the full call gives it.
        outs = [np.asarray(o, dtypes.alone(aval_of(o))) if type(o) is float else o for o in outs]
        if self.single:
            return self.backend.to_host(outs[0])
        return trees.unflatten(self.out_tree, outs)


def fast_call(fn, args, backend) -> FastCall | None:
    """The fast path for calling `fn` (a jx function or a jitted one, at the top level, with
    positional arguments of a `signature_of`) on `backend`, after a full call traced it."""
    if type(fn) is Closure:
        cache, is_leaf = fn.cache, traced_leaf
    elif type(fn) is Jitted and not fn.static_argnums:
        cache, is_leaf = fn.cache, number_leaf
    else:
        return None
    leaves, in_tree = trees.flatten((tuple(args), {}), is_leaf)
    entry = cache.get(signature(in_tree, input_avals(leaves)))
    if entry is None or entry.extra:
        return None
    if type(fn) is Closure:
        program = entry.program
        runner = lambda *values: backend.run(program, values)
    else:
        runner = entry.compiled.get(backend.name)
        if runner is None:
            return None
    floats = tuple(i for i, a in enumerate(args) if type(a) is float)
    return FastCall(entry, runner, backend, floats)


class Jitted:
    """`jit(f)`: a function traced once per signature and run as one compiled unit; with
    `in_shardings`/`out_shardings` (NamedShardings on one mesh, see distributed.py) a
    backend that partitions programs runs it as one program over the mesh's devices (one
    that does not computes the same values on one device)."""

    jx_kind = "a jitted function"

    def __init__(self, fn, static_argnums=(), in_shardings=None, out_shardings=None):
        self.fn = fn
        if type(static_argnums) is int:
            static_argnums = (static_argnums,)
        if not isinstance(static_argnums, tuple) or any(type(i) is not int for i in static_argnums):
            raise JxTypeError(
                f"jit: static_argnums must be a static int or a tuple of them, "
                f"got {describe(static_argnums)}"
            )
        self.static_argnums = static_argnums
        self.shardings = (in_shardings, out_shardings)
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
            compile_program=self._compile,
        )

    def _compile(self, traced: Traced):
        program = optimize(traced.program)
        sharded = getattr(CTX.backend, "compile_sharded", None)
        if self.shardings == (None, None) or sharded is None:
            return CTX.backend.compile(program)
        markers = lambda n: [LeafMarker() for _ in range(n)]
        args, _ = trees.unflatten(traced.in_tree, markers(len(program.inputs)))
        out = trees.unflatten(traced.out_tree, markers(len(program.outputs)))
        in_mesh, in_specs = leaf_specs(self.shardings[0], args, "in_shardings")
        out_mesh, out_specs = leaf_specs(
            self.shardings[1], out if isinstance(out, tuple) else (out,), "out_shardings"
        )
        in_specs += [()] * (len(program.inputs) - len(in_specs))  # keyword arguments
        if in_mesh and out_mesh and in_mesh is not out_mesh:
            raise JxValueError("jit: in_shardings and out_shardings must use the same mesh")
        mesh = in_mesh or out_mesh
        if mesh is None:  # every sharding None: replicated, which is plain jit
            return CTX.backend.compile(program)
        return sharded(program, mesh.shape, mesh.axis_names, in_specs, out_specs)


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
