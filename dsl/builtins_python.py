"""Python's own built-ins on jx values (`len`, `range` over static ints, `tuple`, `int`,
`float`) and the built-ins that take a tree or a function: `tree_map`, `ravel_pytree`,
`stop_gradient` on every leaf of a tree, `debug_print`, and `jit`.
"""

from __future__ import annotations

import math
from collections.abc import Sized

from . import dtypes, ops, trees
from . import primitives as prims
from .backend import is_concrete
from .builtins import builtin
from .core import CTX, Tracer, aval_of, bind, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .functions import Jitted, call
from .indexing import unpack
from .prng import Key
from .values import Builtin


@builtin()
def stop_gradient(x):
    leaves, tree = trees.flatten(x)
    return trees.unflatten(tree, [bind(prims.stop_gradient_p, ops.as_array(v)) for v in leaves])


@builtin()
def debug_print(fmt, *values):
    """Print `fmt.format(*values)` when the program runs, with the values it runs with:
    inside functions too, under jit, vmap (the whole batch) and grad (the primal values).
    The one effect allowed in a function; it returns None."""
    if not isinstance(fmt, str):
        raise JxTypeError(f"debug_print takes a format string first, got {describe(fmt)}")
    for v in values:
        if not (ops.is_array(v) or ops.is_scalar(v)):
            raise JxTypeError(f"debug_print prints arrays and numbers, got {describe(v)}")
    try:
        fmt.format(*("" for _ in values))  # the values are printed as print() shows them
    except (IndexError, KeyError, ValueError) as e:
        raise JxTypeError(f"debug_print: the format {fmt!r} does not fit its values: {e}") from None
    bind(prims.debug_print_p, *(ops.as_array(v) for v in values), fmt=fmt)


@builtin()
def len_(obj):
    if ops.is_array(obj):
        shape = ops.shape(obj)
        if not shape:
            raise JxTypeError("len() of a 0-d array")
        return shape[0]
    if isinstance(obj, range):
        return max(0, (obj.stop - obj.start + obj.step - (1 if obj.step > 0 else -1)) // obj.step)
    if isinstance(obj, Sized):  # tuples, records, key arrays
        return len(obj)
    raise JxTypeError(f"len() of {describe(obj)}")


@builtin()
def range_(start, stop=None, step=1):
    for v in (start, stop, step):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
            raise JxTypeError(
                f"range() takes static ints, got {describe(v)}; a loop over a "
                "traced count needs while or fori_loop"
            )
    return range(start) if stop is None else range(start, stop, step)


@builtin()
def tuple_(iterable=()):
    return _items(iterable, "tuple")


@builtin()
def list_(iterable=()):
    """Python's list of the items a loop over `iterable` sees: a list is a tree (as in
    JAX), which becomes an array where one is expected."""
    return list(_items(iterable, "list"))


def _items(iterable, what: str) -> tuple:
    """The items a static loop would see: a tuple's, a range's, an array's (or a key array's)
    leading-axis slices."""
    if isinstance(iterable, (tuple, list, range)):
        return tuple(iterable)
    if isinstance(iterable, Key) and iterable.shape:
        return tuple(iterable.static_items())
    if ops.is_array(iterable) and ops.shape(iterable):
        return unpack(iterable, ops.shape(iterable)[0], None)
    raise JxTypeError(f"{what}() of {describe(iterable)}")


@builtin()
def zip_(*iterables):
    """Python's zip over tuples, ranges and arrays' leading axes, as a tuple of tuples."""
    return tuple(zip(*(_items(it, "zip") for it in iterables)))


@builtin()
def enumerate_(iterable, start=0):
    """Python's enumerate, as a tuple of (index, item) pairs with static indices."""
    if not isinstance(start, int) or isinstance(start, bool):
        raise JxTypeError(f"enumerate: start must be a static int, got {describe(start)}")
    return tuple(enumerate(_items(iterable, "enumerate"), start))


class Partial:
    """`partial(f, *args, **kwargs)`: f with leading arguments and keywords given."""

    jx_kind = "a function"
    __slots__ = ("args", "fn", "kwargs")

    def __init__(self, fn, args, kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs

    def jx_call(self, args, kwargs, span):
        return call(self.fn, [*self.args, *args], {**self.kwargs, **kwargs}, span)


@builtin()
def partial(func, *args, **keywords):
    """functools.partial: `partial(f, 2.0)(x)` is `f(2.0, x)`."""
    return Partial(func, args, keywords)


@builtin()
def int_(x):
    if isinstance(x, float) and not math.isfinite(x):
        raise JxValueError(f"int() of {x}: only finite floats have an integer value")
    if isinstance(x, (int, float, bool)):
        return int(x)
    return ops.convert(x, dtypes.i32)


@builtin()
def float_(x):
    if isinstance(x, (int, float, bool)):
        try:
            return float(x)
        except OverflowError:
            raise JxValueError(
                f"float() of an int too large for a float ({x.bit_length()} bits)"
            ) from None
    return ops.convert(ops.as_array(x), dtypes.f32)


@builtin()
def tree_map(f, tree, *rest):
    leaves, treedef = trees.flatten(tree, _tree_leaf)
    others = []
    for r in rest:
        rl, rt = trees.flatten(r, _tree_leaf)
        if rt != treedef:
            raise JxTypeError(
                f"tree_map: trees of different structures: "
                f"{trees.structure_text(treedef)} and {trees.structure_text(rt)}"
            )
        others.append(rl)
    out = [call(f, [x, *(o[k] for o in others)], {}, CTX.span) for k, x in enumerate(leaves)]
    return trees.unflatten(treedef, out)


def _tree_leaf(x):
    # A key is one value to the function mapped over it, not the data array inside it.
    return type(x) in (Tracer, float, int, bool) or is_concrete(x) or isinstance(x, Key)


@builtin()
def jit(fun, static_argnums=(), in_shardings=None, out_shardings=None):
    return Jitted(fun, static_argnums, in_shardings, out_shardings)


@builtin()
def ravel_pytree(pytree):
    """The leaves of a tree raveled into one 1-d array (their promoted dtype), and the
    function that rebuilds a tree of that structure from such an array."""
    leaves, treedef = trees.flatten(pytree, _tree_leaf)
    arrays = [ops.as_array(v) for v in leaves]
    if any(isinstance(v, Key) for v in leaves):
        raise JxTypeError("ravel_pytree: a tree holding keys cannot be raveled")
    if not arrays:
        return ops.full((0,), 0, dtypes.f32), Builtin("unravel", lambda flat: pytree)
    shapes = [ops.shape(a) for a in arrays]
    dtypes_ = [aval_of(a).dtype for a in arrays]
    flat = ops.concatenate([ops.reshape(a, (-1,)) for a in arrays], 0)
    sizes = [math.prod(s) for s in shapes]

    def unravel(flat_array):
        flat_array = ops.as_array(flat_array)
        if ops.shape(flat_array) != (sum(sizes),):
            raise JxTypeError(
                f"unravel: expected a 1-d array of {sum(sizes)}, got {describe(flat_array)}"
            )
        parts, start = [], 0
        for shape, size, dtype in zip(shapes, sizes, dtypes_):
            part = ops.static_slice(flat_array, [start], [start + size], [1])
            parts.append(ops.convert(ops.reshape(part, shape), dtype))
            start += size
        return trees.unflatten(treedef, parts)

    return flat, Builtin("unravel", unravel)
