"""The Python face of jx: `compile`, `fn`, `run_file`, and `Function`, a jx function
callable from Python.

Host values enter as NumPy arrays, Python scalars or trees of them (lists become arrays;
dtypes jx lacks map to the nearest one, f64 stays f64); a Python callable is refused, as
functions passed in must be pure jx. Results leave as the backend's arrays (NumPy arrays
on the default backend). Every call runs with the module's backend.

Errors leave as the JxErrors they are (each also a Python built-in error), with jx's own
frames filtered out of the traceback, as JAX filters its own (`JX_TRACEBACK_FILTERING=off`
keeps them), and the "called from here" note of a call from Python pointing at the Python
line that made it.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import linecache
import os
import sys
import types

import numpy as np

from . import (
    ast,
    dtypes,
    effects,  # noqa: F401 - registers print and assert
    files,  # noqa: F401 - registers save and load
    syntax,
    trees,
)
from . import backend as backend_registry
from .backend import is_concrete
from .builtins import BUILTINS
from .core import CTX, aval_of, describe
from .errors import JxError, PurityError, Source, Span
from .errors import RecursionError as JxRecursionError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .functions import call, fast_call, signature_of, trace_function, traced_leaf
from .interp import exec_block
from .limits import python_frames
from .modules import check_module, module_scope
from .passes import optimize
from .values import Builtin, Closure, Module


def python_facing(entry):
    """An entry point from Python: a JxError it raises leaves with a traceback of the
    user's frames only, and notes of calls from Python located at the Python call."""

    @functools.wraps(entry)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True  # read by IPython and pytest
        try:
            return entry(*args, **kwargs)
        except JxError as e:
            if os.environ.get("JX_TRACEBACK_FILTERING") == "off":
                raise
            site = _python_site(sys._getframe(1))
            e.notes = [
                (message, site if span is None and message.startswith("called from") else span)
                for message, span in e.notes
            ]
            raise e.with_traceback(_user_frames(e.__traceback__)) from None

    return wrapper


def _internal(frame) -> bool:
    module = frame.f_globals.get("__name__", "")
    return module == "jx" or module.startswith("jx.") or module == "contextlib"


def _user_frames(tb):
    """The traceback `tb` without jx's frames (and the context managers they run)."""
    kept = []
    while tb is not None:
        if not _internal(tb.tb_frame):
            kept.append(tb)
        tb = tb.tb_next
    filtered = None
    for entry in reversed(kept):
        filtered = types.TracebackType(filtered, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return filtered


def _python_site(frame) -> Span:
    """The span of the Python expression `frame` is running, in its file's own text."""
    while frame is not None and _internal(frame):
        frame = frame.f_back
    code, name = frame.f_code, frame.f_code.co_filename
    positions = list(code.co_positions())[frame.f_lasti // 2]
    line, end_line, column, end_column = (
        p if p is not None else d for p, d in zip(positions, (frame.f_lineno, None, 0, 0))
    )
    source = Source(name, "".join(linecache.getlines(name)))
    return Span(source, line, column + 1, end_line or line, end_column + 1)


def get_backend(name: str, device: str | None = None):
    """The installed backend `name` (see `jx.backend`); `device` (cpu, gpu, tpu) picks the
    platform of a backend that has several."""
    return backend_registry.load(name, device)


@contextlib.contextmanager
def using(backend):
    """Run jx code with `backend`, converting Python's own recursion failure to a JxError."""
    saved = CTX.backend, CTX.builders, CTX.depth
    CTX.backend, CTX.builders, CTX.depth = backend, [], 0
    try:
        # Each level of jx calls takes a few dozen Python frames: jx's own limit
        # (functions.MAX_DEPTH) should be what stops a runaway recursion, with its message.
        with python_frames():
            yield
    except RecursionError as e:
        if isinstance(e, JxError):  # jx's own, which is also a RecursionError
            raise
        raise JxRecursionError(
            "recursion too deep (does it stop on static values?)", CTX.span
        ) from None
    finally:
        CTX.backend, CTX.builders, CTX.depth = saved


def to_jx(value, what="value"):
    """A host value as a jx value."""
    if isinstance(value, Function):
        return value.value
    if isinstance(value, (np.ndarray, np.generic)):
        try:
            return np.asarray(value, dtype=dtypes.canonical(value.dtype))
        except ValueError:
            raise JxTypeError(
                f"the {what} has dtype {value.dtype}, which jx does not have"
            ) from None
    if isinstance(value, (bool, int, float)) or value is None or isinstance(value, str):
        return value
    if isinstance(value, tuple):
        return tuple(to_jx(v, what) for v in value)
    if isinstance(value, list):
        if not _python_numbers(value) or not _rectangular(value):
            # A list of arrays (or of anything but numbers) is a list: a tree, as in JAX.
            return [to_jx(v, what) for v in value]
        array = np.asarray(value)
        if array.dtype.kind in "fi":
            # Read like a jx array literal, f32 or i32 as in JAX, unless a value does not fit.
            default = dtypes.f32 if array.dtype.kind == "f" else dtypes.i32
            limit = np.finfo(default).max if array.dtype.kind == "f" else np.iinfo(default).max
            if not array.size or np.abs(array).max() <= limit:
                array = array.astype(default)
        return to_jx(array, what)
    if isinstance(value, dict):
        return {str(k): to_jx(v, what) for k, v in value.items()}
    if hasattr(value, "__array__"):
        return to_jx(np.asarray(value), what)
    if callable(value):
        raise PurityError(
            f"the {what} is a Python callable: jx cannot check it is pure; "
            "write it in jx (jx.fn or jx.compile) instead"
        )
    raise JxValueError(f"cannot pass {type(value).__name__} into jx as the {what}")


def _rectangular(value) -> bool:
    """Whether nested lists of numbers make an array (no ragged rows)."""
    if not isinstance(value, list):
        return True
    if not all(_rectangular(v) for v in value):
        return False
    shapes = {np.shape(v) for v in value}
    return len(shapes) <= 1


def _python_numbers(value) -> bool:
    if isinstance(value, list):
        return all(_python_numbers(v) for v in value)
    return type(value) in (bool, int, float)


def to_host(value, backend, numbers=False):
    """A jx value for Python; with `numbers`, static numbers leave as arrays too (results).
    Functions, also inside tuples and records, leave as `Function`s callable from Python."""
    numbers_too = (bool, int, float) if numbers else ()
    leaves, tree = trees.flatten(
        value, lambda x: is_concrete(x) or isinstance(x, numbers_too) or _is_function(x)
    )
    return trees.unflatten(
        tree,
        [
            Function(x, backend) if _is_function(x) else backend.to_host(_as_array(x))
            for x in leaves
        ],
    )


def _is_function(x) -> bool:
    return isinstance(x, (Closure, Builtin)) or hasattr(x, "jx_call")


def _as_array(x):
    if is_concrete(x):
        return x
    # A static number takes the dtype it has alone (i32, f32, bool), as jit's outputs do; an
    # int beyond i32 is kept whole in i64 rather than wrapped.
    for dtype in (dtypes.alone(aval_of(x)), dtypes.i64):
        try:
            return np.asarray(x, dtype=dtype)
        except OverflowError:
            pass
    raise JxTypeError(f"the result {x} does not fit in i64")


def _canonical(arg) -> bool:
    """Whether an argument enters jx unchanged (an array of a jx dtype, or a float)."""
    return type(arg) is float or arg.dtype == dtypes.canonical(arg.dtype)


class Function:
    """A jx function called from Python: `f(*arrays)`, `f.ir(*arrays)`."""

    def __init__(self, value, backend):
        self.value = value
        self.backend = backend
        self.__name__ = self.__qualname__ = getattr(value, "name", "function")
        # help(f) and inspect.signature(f) show the jx definition: its parameters, defaults
        # and docstring; a built-in keeps the Python function's own.
        if isinstance(value, Closure):
            self.__signature__ = closure_signature(value)
            self.__doc__ = docstring(value)
        elif isinstance(value, Builtin):
            self.__signature__ = value.signature
            self.__doc__ = value.fn.__doc__
        self._fast: dict = {}  # signature_of(args) -> FastCall

    def __repr__(self) -> str:
        return f"<jx function {self.__name__}>"

    @python_facing
    def __call__(self, *args, **kwargs):
        key = None if kwargs or CTX.builders else signature_of(args)
        if key is not None:
            fast = self._fast.get(key)
            if fast is not None and fast.current():
                result = fast(args)
                return result if fast.single else self._to_host(result)
        result = self._call(args, kwargs)
        if key is not None and all(map(_canonical, args)):
            if len(self._fast) >= 64:
                self._fast.clear()
            self._fast[key] = fast_call(self.value, args, self.backend)
        return result

    def _call(self, args, kwargs):
        args, kwargs = self._arguments(args, kwargs)
        with using(self.backend):
            result = call(self.value, args, kwargs, None)
        return self._to_host(result)

    def _to_host(self, result):
        try:
            return to_host(result, self.backend, numbers=True)
        except JxError as e:
            raise e.with_span(getattr(self.value, "span", None)) from None

    @python_facing
    def ir(self, *args, **kwargs) -> str:
        """The traced program for these arguments, printed like a jaxpr."""

        args, kwargs = self._arguments(args, kwargs)
        with using(self.backend):
            program = trace_function(
                self.value, args, kwargs, None, is_leaf=traced_leaf, static_outputs=True
            ).program
        return str(program)

    @python_facing
    def hlo(self, *args, **kwargs) -> str:
        """The StableHLO module the xla backend compiles for `jit` of this function."""

        args, kwargs = self._arguments(args, kwargs)
        with using(self.backend):
            program = trace_function(self.value, args, kwargs, None, static_outputs=True).program
        return get_backend("xla").lowered_text(optimize(program))

    def _arguments(self, args, kwargs):
        """Host arguments as jx values, checked against the signature. A call from Python has
        no jx call site, so a bad argument is reported at the function's definition."""
        span = getattr(self.value, "span", None)
        try:
            args = [to_jx(a, "argument") for a in args]
            kwargs = {k: to_jx(v, "argument") for k, v in kwargs.items()}
            if isinstance(self.value, Closure):
                self.value.bind_args(args, kwargs, span)
        except JxError as e:
            raise e.with_span(span) from None
        return args, kwargs


def closure_signature(fn: Closure) -> inspect.Signature:
    """A jx function's parameters as a Python signature (defaults shown as their values)."""
    params, kind = [], inspect.Parameter.POSITIONAL_OR_KEYWORD
    for p in fn.params:
        if p.star:
            if p.name:
                params.append(inspect.Parameter(p.name, inspect.Parameter.VAR_POSITIONAL))
            kind = inspect.Parameter.KEYWORD_ONLY
            continue
        default = fn.defaults.get(p.name, inspect.Parameter.empty)
        params.append(inspect.Parameter(p.name, kind, default=default))
    return inspect.Signature(params)


def docstring(fn: Closure) -> str | None:
    """A `def`'s docstring: a string literal as the body's first statement, dedented."""
    first = fn.body[0] if fn.body else None
    literal = first.value if isinstance(first, ast.ExprStmt) else None
    text = literal.value if isinstance(literal, ast.Const) else None
    return inspect.cleandoc(text) if isinstance(text, str) else None


class CompiledModule:
    """The result of `jx.compile`: its top-level names as attributes."""

    def __init__(self, scope, backend, name):
        self._scope = scope
        self._backend = backend
        self._name = name
        # name -> its Function, kept while the name is bound to the same value, so that
        # `m.f(x)` in a loop meets f's fast path.
        self._functions: dict = {}

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            value = self._scope.vars[name]
        except KeyError:
            raise AttributeError(f"jx module {self._name} has no name '{name}'") from None
        known = self._functions.get(name)
        if known is not None and known.value is value:
            return known
        host = to_host(value, self._backend, numbers=True)
        if isinstance(host, Function):
            self._functions[name] = host
        return host

    def __dir__(self):
        return [k for k in self._scope.vars if not k.startswith("_")]

    def __getitem__(self, name):
        return self.__getattr__(name)

    def __contains__(self, name):
        return name in self._scope.vars and not name.startswith("_")


def _prepare_env(scope, env, module):
    for k, v in (env or {}).items():
        try:
            scope.vars[k] = to_jx(v, f"env value '{k}'")
        except JxError as e:  # a host value has no span of its own: point at its first use
            uses = (n.span for n in ast.walk(module) if isinstance(n, ast.Name) and n.id == k)
            raise e.with_span(next(uses, None)) from None


def execute(text: str, name: str, backend="numpy", env=None, scope=None, echo=None):
    """Parse, check and run jx source at the top level; the module scope it ran in."""
    return run_module(syntax.parse(text, name), name, backend, env, scope, echo)


def run_module(module: ast.Module, name: str, backend="numpy", env=None, scope=None, echo=None):
    """Check and run a parsed module at the top level; the module scope it ran in."""

    be = get_backend(backend) if isinstance(backend, str) else backend
    if scope is None:
        scope = module_scope(name if name not in ("<string>", "<stdin>") else None)
    _prepare_env(scope, env, module)
    known = {k for k in scope.vars if not k.startswith("__")}
    check_module(module, known)
    saved_echo = CTX.echo
    CTX.echo = echo
    try:
        with using(be):
            exec_block(module.body, scope, top=True)
    finally:
        CTX.echo = saved_echo
    return scope


@python_facing
def compile(
    source: str, backend: str = "numpy", env: dict | None = None, name: str = "<string>"
) -> CompiledModule:
    """Compile jx source; its functions become attributes callable from Python."""
    be = get_backend(backend)
    scope = execute(source, name, be, env)
    return CompiledModule(scope, be, name)


@python_facing
def fn(source: str, backend: str = "numpy", env: dict | None = None) -> Function:
    """One jx expression (usually a lambda) as a Python-callable function."""
    be = get_backend(backend)
    # Parsed as an expression of its own, so error columns match the text as written.
    expr = syntax.parse_expression(source.strip())
    target = ast.Name(expr.span, "__result__")
    scope = run_module(
        ast.Module(expr.span, (ast.Assign(expr.span, (target,), expr),)), "<string>", be, env
    )
    value = scope.vars["__result__"]
    if not (isinstance(value, (Closure, Builtin)) or hasattr(value, "jx_call")):
        raise JxValueError(f"jx.fn expects a function expression, got {describe(value)}", expr.span)
    return Function(value, be)


@python_facing
def run_file(path: str, backend: str = "numpy", env: dict | None = None) -> CompiledModule:
    """Run a `.jx` script's top level; its names afterwards."""
    with open(path, encoding="utf-8-sig") as f:  # -sig: a byte-order mark is not source
        text = f.read()
    be = get_backend(backend)
    scope = execute(text, path, be, env)
    return CompiledModule(scope, be, path)


def _function_transform(name: str):
    """A transformation from Python: jx.grad(f) with f a jx Function gives a Function."""

    @python_facing
    def transform(f, *args, **kwargs):
        if not isinstance(f, Function):
            raise PurityError(
                f"jx.{name} takes a jx function (from jx.compile or jx.fn), not {type(f).__name__}"
            )
        with using(f.backend):
            value = BUILTINS[name].fn(f.value, *args, **kwargs)
        return Function(value, f.backend)

    transform.__name__ = name
    transform.__doc__ = f"jx's `{name}` over a jx Function, from Python."
    return transform


jit = _function_transform("jit")
grad = _function_transform("grad")
value_and_grad = _function_transform("value_and_grad")
jacfwd = _function_transform("jacfwd")
jacrev = _function_transform("jacrev")
hessian = _function_transform("hessian")
vmap = _function_transform("vmap")
pmap = _function_transform("pmap")


@python_facing
def jvp(f, primals, tangents):
    """(f(*primals), the directional derivative along tangents), from Python."""

    primals = tuple(to_jx(p, "primal") for p in primals)
    tangents = tuple(to_jx(t, "tangent") for t in tangents)
    with using(f.backend):
        out = BUILTINS["jvp"].fn(f.value, primals, tangents)
    return to_host(out, f.backend)


@python_facing
def vjp(f, *primals):
    """(f(*primals), a Function mapping output cotangents to primal cotangents)."""

    primals = [to_jx(p, "primal") for p in primals]
    with using(f.backend):
        out, pullback = BUILTINS["vjp"].fn(f.value, *primals)
    return to_host(out, f.backend), Function(pullback, f.backend)


__all__ = ["CompiledModule", "Function", "Module", "compile", "fn", "jit", "run_file"]


def linearize(f, *primals):
    """(f(*primals), a Function: the JVP at primals, linear in the tangents), from Python."""
    primals = [to_jx(p, "primal") for p in primals]
    with using(f.backend):
        out, f_jvp = BUILTINS["linearize"].fn(f.value, *primals)
    return to_host(out, f.backend), Function(f_jvp, f.backend)


def linear_transpose(f, *primals):
    """The transpose of a linear Function, for arguments shaped as `primals`, from Python."""
    primals = [to_jx(p, "primal") for p in primals]
    with using(f.backend):
        transposed = BUILTINS["linear_transpose"].fn(f.value, *primals)
    return Function(transposed, f.backend)
