"""Tracing: tracers, program builders and `bind`, the one door to every primitive.

While a function is traced, a `Builder` is on the stack and `bind` appends an equation to
it, returning `Tracer`s (a builder and a Var or Literal). With no builder on the stack
(top-level code) `bind` runs the primitive at once on the current backend: that is eager
execution, equation by equation. A tracer of an outer builder used inside an inner one
(a branch or loop body) is captured as an extra input of the inner program, so
sub-programs are closed. `CTX` holds the span of the expression being evaluated and the
backend, so every equation and error knows where it came from.
"""

from __future__ import annotations

import math

import numpy as np

from . import dtypes, ir_check, nans
from .backend import is_concrete
from .dtypes import ShapedArray
from .errors import JxError, JxRuntimeError, Span
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .ir import Eqn, Literal, Program, Var
from .limits import how_to_raise, limits


class Context:
    __slots__ = (
        "backend",
        "builders",
        "checking",
        "depth",
        "differentiating",
        "echo",
        "loop_indices",
        "loop_level",
        "loop_notes",
        "out",
        "span",
    )

    def __init__(self):
        self.span: Span | None = None
        self.backend = None
        self.builders: list[Builder] = []
        self.depth = 0  # nesting of jx function calls, for the recursion limit
        self.differentiating = 0  # nesting of differentiations being traced (transform_depth)
        self.echo = None  # the REPL's printer of expression statements
        self.checking = False  # `jx check` traces the top level: its effects do not act
        self.out = None  # where print() writes (sys.stdout when None)
        self.loop_level = 0  # nesting of traced loop bodies, for PRNG key linearity
        self.loop_indices: set = set()  # Vars of the traced loops' indices (distinct each turn)
        self.loop_notes: list | None = None  # what became of each range loop, for `jx ir`


CTX = Context()


class Tracer:
    """A traced array value: what a program builder knows about it."""

    __slots__ = ("builder", "var")
    __array_priority__ = 1000

    def __init__(self, builder: Builder, var):
        self.builder = builder
        self.var = var

    @property
    def aval(self) -> ShapedArray:
        return self.var.aval

    @property
    def shape(self) -> tuple:
        return self.var.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self.var.aval.dtype

    @property
    def ndim(self) -> int:
        return len(self.var.aval.shape)

    def __bool__(self):
        raise JxTypeError(
            "a traced value has no concrete truth value here; use where() or an if on a scalar"
        )

    def __repr__(self) -> str:
        return f"Traced<{self.aval}>"


class Builder:
    """Collects the equations of one program being traced."""

    def __init__(self):
        self.inputs: list[Var] = []
        self.eqns: list[Eqn] = []
        self.captured: dict[int, tuple[object, Var]] = {}

    def new_input(self, aval: ShapedArray) -> Tracer:
        var = Var(aval)
        self.inputs.append(var)
        return Tracer(self, var)

    def lift(self, value):
        """The Var or Literal standing for `value` inside this builder."""
        if type(value) is Tracer:
            if value.builder is self:
                return value.var
            if type(value.var) is Literal:
                return value.var
            key = id(value.var)
            if key not in self.captured:
                self.captured[key] = (value, Var(value.var.aval))
            return self.captured[key][1]
        if type(value) in (bool, int, float):  # a Python number: weakly typed, as traced
            aval = aval_of(value)
            return Literal(np.asarray(value, aval.dtype), aval)
        array = np.asarray(value)
        return Literal(array, ShapedArray(array.shape, array.dtype, False))

    def build(self, outputs) -> tuple[Program, list]:
        """The closed program (explicit inputs, then captures) and the captured values."""
        outs = [self.lift(o) for o in outputs]
        captured = list(self.captured.values())
        program = Program(self.inputs + [var for _, var in captured], self.eqns, outs)
        if ir_check.ENABLED:
            ir_check.check_program(program)
        return program, [value for value, _ in captured]


def current_builder() -> Builder | None:
    return CTX.builders[-1] if CTX.builders else None


class trace_into:
    """`with trace_into(builder):` makes binds inside record into `builder`."""

    def __init__(self, builder: Builder):
        self.builder = builder

    def __enter__(self):
        CTX.builders.append(self.builder)
        return self.builder

    def __exit__(self, *exc):
        CTX.builders.pop()


def aval_of(x) -> ShapedArray:
    t = type(x)
    if t is Tracer:
        return x.var.aval
    if t is np.ndarray or is_concrete(x):
        return ShapedArray(x.shape, x.dtype, False)
    if t is bool or isinstance(x, np.bool_):
        return ShapedArray((), dtypes.bool_, False)
    if t is int:
        return ShapedArray((), dtypes.i32, True)
    if t is float:
        return ShapedArray((), dtypes.f64, True)
    if isinstance(x, np.generic):
        return ShapedArray((), dtypes.canonical(x.dtype), False)
    if t is list:
        raise JxTypeError(
            f"expected an array, got {describe(x)}: a list is an array only when its items "
            "are numbers and arrays of one shape; use array(x) to make one, stack(x) or "
            "concatenate(x) to join arrays"
        )
    raise JxTypeError(f"expected an array, got {describe(x)}")


def describe(x) -> str:
    """A short user-facing description of a value's kind."""
    if type(x) is Tracer or is_concrete(x):
        return f"an array {aval_of(x)}"
    if isinstance(x, bool):
        return "a bool"
    if isinstance(x, int):
        return "an int"
    if isinstance(x, float):
        return "a float"
    if isinstance(x, tuple):
        return f"a tuple of {len(x)}"
    if isinstance(x, list):
        return f"a list of {len(x)}"
    if isinstance(x, dict):
        return "a record"
    if x is None:
        return "None"
    if isinstance(x, str):
        return "a string"
    kind = getattr(x, "jx_kind", None)
    return kind or type(x).__name__


#: The Python number a weak scalar of each dtype is when computed at once.
_PYTHON_TYPE_OF_WEAK = {dtypes.f64: float, dtypes.i32: int}


def literal(value, dtype: np.dtype, weak: bool):
    """A scalar constant of `dtype`: a Literal tracer while tracing, else a 0-d array (or,
    for a weak f64 or i32, a Python number)."""
    try:
        array = np.asarray(value, dtype=dtype)
    except OverflowError:
        raise JxTypeError(f"the literal {value} does not fit in {dtypes.short(dtype)}") from None
    builder = current_builder()
    if builder is None:
        # Computed at once, a weak value stays a Python number, so what is computed from
        # it stays weak too (a concrete array has no weak flag).
        if weak and dtype in _PYTHON_TYPE_OF_WEAK:
            return _PYTHON_TYPE_OF_WEAK[dtype](array.item())
        return array
    return Tracer(builder, Literal(array, ShapedArray((), dtype, weak)))


def bind(prim, *args, **params):
    """Apply a primitive: record it while tracing, run it at once otherwise."""
    builder = CTX.builders[-1] if CTX.builders else None
    if builder is None:
        avals = [aval_of(a) for a in args]
        out_avals = _abstract(prim, avals, params)
        arrays = [
            a if is_concrete(a) else CTX.backend.to_device(np.asarray(a, dtype=v.dtype))
            for a, v in zip(args, avals)
        ]
        try:
            outs = CTX.backend.run_eqn(prim, arrays, params)
        except JxError as e:
            raise e.with_span(CTX.span) from None
        except MemoryError:
            raise out_of_memory(CTX.span) from None
        except Exception as e:  # noqa: BLE001 - any backend failure becomes the user's error
            raise JxRuntimeError(f"{prim.name} failed on the backend: {e}", CTX.span) from None
        outs = concrete_results(outs, out_avals)
        nans.check_eqn(prim, arrays, outs, CTX.span)
        return outs if prim.multiple_results else outs[0]
    ins = [builder.lift(a) for a in args]
    out_avals = _abstract(prim, [v.aval for v in ins], params)
    outs = [Var(a) for a in out_avals]
    if len(builder.eqns) >= limits.program_equations:
        raise JxValueError(
            f"a program of more than {limits.program_equations:_} equations; "
            + how_to_raise("program_equations"),
            CTX.span,
        )
    builder.eqns.append(Eqn(prim, ins, outs, params, CTX.span))
    if prim.multiple_results:
        return [Tracer(builder, v) for v in outs]
    return Tracer(builder, outs[0])


def concrete_results(outs, avals) -> list:
    """Computed values as the program's values: a weak scalar stays a Python number (exact,
    and still weak for what it meets next); a weak array takes the dtype it has alone."""
    results = []
    for out, aval in zip(outs, avals):
        if aval.weak and aval.shape == () and aval.dtype in _PYTHON_TYPE_OF_WEAK:
            # Only the dtypes a Python number reads back as: a weak f32 stays an array.
            out = _PYTHON_TYPE_OF_WEAK[aval.dtype](CTX.backend.to_host(out).item())
        elif aval.weak and dtypes.alone(aval) != aval.dtype:
            out = CTX.backend.to_device(CTX.backend.to_host(out).astype(dtypes.alone(aval)))
        results.append(out)
    return results


def _abstract(prim, avals, params):
    try:
        out_avals = prim.abstract_eval(*avals, **params)
    except JxError as e:
        raise e.with_span(CTX.span) from None
    for a in out_avals:
        check_size(a.shape, a.dtype)
    return out_avals


def out_of_memory(span) -> JxRuntimeError:
    return JxRuntimeError(
        "out of memory: the machine cannot hold an array this program makes (arrays may "
        f"be up to {limits.array_bytes:_} bytes: lower jx.limits.array_bytes or "
        "JX_LIMIT_ARRAY_BYTES to be stopped before allocating)",
        span,
    )


#: The most dimensions an array has (NumPy's bound, which every backend meets).
MAX_NDIM = 64


def check_size(shape, dtype) -> None:
    """Refuse an array bigger than `limits.array_bytes` (or with one dimension bigger), so
    no backend is asked to allocate it."""
    if len(shape) > MAX_NDIM:
        raise JxValueError(
            f"an array of {len(shape)} dimensions; arrays have at most {MAX_NDIM}", CTX.span
        )
    item = np.dtype(dtype).itemsize
    if math.prod(shape) * item > limits.array_bytes or any(
        d * item > limits.array_bytes for d in shape
    ):
        raise JxValueError(
            f"an array of shape {tuple(shape)} and dtype {dtypes.short(dtype)} is larger than "
            f"{limits.array_bytes:_} bytes; {how_to_raise('array_bytes')}",
            CTX.span,
        )
