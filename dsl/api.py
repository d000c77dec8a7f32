"""The Python face of jx: `compile`, `fn`, `run_file`, and `Function`, a jx function
callable from Python.

Host values enter as NumPy arrays, Python scalars or trees of them (lists become arrays;
dtypes jx lacks map to the nearest one, f64 stays f64); a Python callable is refused, as
functions passed in must be pure jx. Results leave as the backend's arrays (NumPy arrays
on the default backend). Every call runs with the module's backend.
"""

from __future__ import annotations

import contextlib

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
from .errors import JxError, PurityError
from .errors import RecursionError as JxRecursionError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .functions import call, trace_function, traced_leaf
from .interp import exec_block
from .limits import python_frames
from .modules import check_module, module_scope
from .passes import optimize
from .values import Builtin, Closure, Module


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
    except RecursionError:
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
        array = np.asarray(value)
        if _python_numbers(value) and array.dtype.kind in "fi":
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
    # A static number takes its literal's dtype (i32, f32, bool), as jit's outputs do; an int
    # beyond i32 is kept whole in i64 rather than wrapped.
    for dtype in (aval_of(x).dtype, dtypes.i64):
        try:
            return np.asarray(x, dtype=dtype)
        except OverflowError:
            pass
    raise JxTypeError(f"the result {x} does not fit in i64")


class Function:
    """A jx function called from Python: `f(*arrays)`, `f.ir(*arrays)`."""

    def __init__(self, value, backend):
        self.value = value
        self.backend = backend
        self.__name__ = getattr(value, "name", "function")

    def __repr__(self) -> str:
        return f"<jx function {self.__name__}>"

    def __call__(self, *args, **kwargs):
        args, kwargs = self._arguments(args, kwargs)
        with using(self.backend):
            # From Python there is no call site in jx source: errors point at the definition.
            result = call(self.value, args, kwargs, getattr(self.value, "span", None))
        try:
            return to_host(result, self.backend, numbers=True)
        except JxError as e:
            raise e.with_span(getattr(self.value, "span", None)) from None

    def ir(self, *args, **kwargs) -> str:
        """The traced program for these arguments, printed like a jaxpr."""

        args, kwargs = self._arguments(args, kwargs)
        with using(self.backend):
            program = trace_function(
                self.value, args, kwargs, None, is_leaf=traced_leaf, static_outputs=True
            ).program
        return str(program)

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


class CompiledModule:
    """The result of `jx.compile`: its top-level names as attributes."""

    def __init__(self, scope, backend, name):
        self._scope = scope
        self._backend = backend
        self._name = name

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            value = self._scope.vars[name]
        except KeyError:
            raise AttributeError(f"jx module {self._name} has no name '{name}'") from None
        return to_host(value, self._backend)

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


def compile(
    source: str, backend: str = "numpy", env: dict | None = None, name: str = "<string>"
) -> CompiledModule:
    """Compile jx source; its functions become attributes callable from Python."""
    be = get_backend(backend)
    scope = execute(source, name, be, env)
    return CompiledModule(scope, be, name)


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


def run_file(path: str, backend: str = "numpy", env: dict | None = None) -> CompiledModule:
    """Run a `.jx` script's top level; its names afterwards."""
    with open(path, encoding="utf-8-sig") as f:  # -sig: a byte-order mark is not source
        text = f.read()
    be = get_backend(backend)
    scope = execute(text, path, be, env)
    return CompiledModule(scope, be, path)


def _function_transform(name: str):
    """A transformation from Python: jx.grad(f) with f a jx Function gives a Function."""

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


def jvp(f, primals, tangents):
    """(f(*primals), the directional derivative along tangents), from Python."""

    primals = tuple(to_jx(p, "primal") for p in primals)
    tangents = tuple(to_jx(t, "tangent") for t in tangents)
    with using(f.backend):
        out = BUILTINS["jvp"].fn(f.value, primals, tangents)
    return to_host(out, f.backend)


def vjp(f, *primals):
    """(f(*primals), a Function mapping output cotangents to primal cotangents)."""

    primals = [to_jx(p, "primal") for p in primals]
    with using(f.backend):
        out, pullback = BUILTINS["vjp"].fn(f.value, *primals)
    return to_host(out, f.backend), Function(pullback, f.backend)


__all__ = ["CompiledModule", "Function", "Module", "compile", "fn", "jit", "run_file"]
