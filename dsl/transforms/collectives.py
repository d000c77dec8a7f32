"""Collectives over a named mapped axis as built-ins: `psum`, `pmax`, `pmin`,
`all_gather`, `axis_index` (binding the primitives of `primitives/collectives.py`) and
`pmean` (psum divided by the axis size).

An axis name is bound while `vmap(..., axis_name=...)` or `pmap` traces its function; a
collective naming an axis that is not bound is a NameError.
"""

from __future__ import annotations

from .. import dtypes, ops, trees
from ..builtins import BUILTINS
from ..core import aval_of, bind, describe
from ..errors import NameError as JxNameError
from ..errors import TypeError as JxTypeError
from ..primitives.collectives import all_gather_p, axis_index_p, pmax_p, pmin_p, psum_p
from ..values import Builtin

# ------------------------------------------------------------------ bound axis names

#: (name, size) of the mapped axes whose functions are being traced, innermost last.
AXES: list = []


class bound_axis:
    """`with bound_axis(name, size):` while tracing a function mapped over that axis."""

    def __init__(self, name, size: int):
        self.name = name
        self.size = size

    def __enter__(self):
        if self.name is not None:
            AXES.append((self.name, self.size))

    def __exit__(self, *exc):
        if self.name is not None:
            AXES.pop()


def axis_size(name) -> int:
    if not isinstance(name, str):
        raise JxTypeError(f"an axis name must be a string, got {describe(name)}")
    for bound, size in reversed(AXES):
        if bound == name:
            return size
    raise JxNameError(
        f"unbound axis name '{name}': collectives need an enclosing "
        f"vmap(..., axis_name='{name}') or pmap(..., "
        f"axis_name='{name}')"
    )


# ------------------------------------------------------------------ built-ins


def _each_leaf(x, fn):
    leaves, tree = trees.flatten(x, lambda v: ops.is_array(v) or ops.is_scalar(v))
    return trees.unflatten(tree, [fn(ops.as_array(v)) for v in leaves])


def _summable(x):
    return ops.convert(x, dtypes.i32) if aval_of(x).dtype == dtypes.bool_ else x


def psum(x, axis_name):
    axis_size(axis_name)
    return _each_leaf(x, lambda v: bind(psum_p, _summable(v), axis_name=axis_name))


def pmean(x, axis_name):
    n = axis_size(axis_name)
    return _each_leaf(
        x, lambda v: ops.true_divide(bind(psum_p, _summable(v), axis_name=axis_name), n)
    )


def pmax(x, axis_name):
    axis_size(axis_name)
    return _each_leaf(x, lambda v: bind(pmax_p, v, axis_name=axis_name))


def pmin(x, axis_name):
    axis_size(axis_name)
    return _each_leaf(x, lambda v: bind(pmin_p, v, axis_name=axis_name))


def all_gather(x, axis_name):
    n = axis_size(axis_name)
    return _each_leaf(x, lambda v: bind(all_gather_p, v, axis_name=axis_name, axis_size=n))


def axis_index(axis_name):
    axis_size(axis_name)
    return bind(axis_index_p, axis_name=axis_name)


for _fn in (psum, pmean, pmax, pmin, all_gather, axis_index):
    BUILTINS[_fn.__name__] = Builtin(_fn.__name__, _fn)
