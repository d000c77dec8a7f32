"""Python's own built-ins on jx values (`len`, `range` over static ints, `tuple`, `int`,
`float`) and the built-ins that take a tree or a function: `tree_map`, `stop_gradient` on
every leaf of a tree, and `jit`.
"""

from __future__ import annotations

import math
from collections.abc import Sized

from . import dtypes, ops, trees
from . import primitives as prims
from .backend import is_concrete
from .builtins import builtin
from .core import CTX, Tracer, bind, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .functions import Jitted, call
from .indexing import unpack
from .prng import Key


@builtin()
def stop_gradient(x):
    leaves, tree = trees.flatten(x)
    return trees.unflatten(tree, [bind(prims.stop_gradient_p, ops.as_array(v)) for v in leaves])


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
    if isinstance(iterable, (tuple, range)):
        return tuple(iterable)
    if ops.is_array(iterable):
        return unpack(iterable, ops.shape(iterable)[0], None)
    raise JxTypeError(f"tuple() of {describe(iterable)}")


def _items(iterable, what: str) -> tuple:
    """The items a static loop would see: a tuple's, a range's, an array's (or a key array's)
    leading-axis slices."""
    if isinstance(iterable, (tuple, range)):
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
def jit(fun, static_argnums=()):
    return Jitted(fun, static_argnums)
