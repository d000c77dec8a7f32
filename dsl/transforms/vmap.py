"""`vmap(f, in_axes=0, out_axes=0, axis_name=None)`: f mapped over an axis of its arguments.

The function is traced once with per-example abstract values (the mapped axis removed; an
array of PRNG keys maps to single keys), the program is batched (batching.py) and the
output batch dims are moved to `out_axes`; at the top level the resulting program is
cached per argument signature, inside a trace it is inlined. `in_axes` follows JAX: an
int or None for every argument, or a tuple with one entry per positional argument, each an
int, None or a tree matching that argument (keyword arguments are mapped over axis 0).
The mapping helpers here are shared with pmap.
"""

from __future__ import annotations

import numpy as np

from .. import trees
from ..builtins import BUILTINS
from ..core import Builder, Tracer, aval_of, current_builder, describe, literal, trace_into
from ..errors import TypeError as JxTypeError
from ..errors import ValueError as JxValueError
from ..functions import Traced, input_avals, number_leaf, signature, trace_function
from ..ir import Literal
from ..primitives.shapes import move_axis, to_front
from ..values import Builtin, TraceCache, TraceEntry
from .batching import batch_program
from .collectives import bound_axis
from .trace import eval_program, run_program


class _Leaf:
    """Marks leaf `index` in a tree rebuilt from a TreeDef (static values stay as they are)."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


def static_axes(spec, what: str):
    """An in_axes/out_axes value as nested tuples/records of ints and None."""
    if isinstance(spec, Tracer) and type(spec.var) is Literal:
        spec = spec.var.value
    if isinstance(spec, np.ndarray) and spec.dtype.kind in "iu":
        spec = int(spec) if spec.ndim == 0 else tuple(int(v) for v in spec.reshape(-1))
    if spec is None or (isinstance(spec, (int, np.integer)) and not isinstance(spec, bool)):
        return None if spec is None else int(spec)
    if isinstance(spec, (tuple, list)):
        return tuple(static_axes(s, what) for s in spec)
    if isinstance(spec, dict):
        return {k: static_axes(v, what) for k, v in spec.items()}
    raise JxTypeError(
        f"{what} must be an int, None, or a tuple or record of them, got {describe(spec)}"
    )


def _spread(spec, tree, out: dict, what: str) -> None:
    """Give every leaf of `tree` (a tree of _Leaf) its axis from the prefix tree `spec`."""
    if spec is None or isinstance(spec, int):
        leaves, _ = trees.flatten(tree, lambda x: isinstance(x, _Leaf))
        for leaf in leaves:
            out[leaf.index] = spec
        return
    if isinstance(spec, tuple) and isinstance(tree, tuple) and len(spec) == len(tree):
        for s, t in zip(spec, tree):
            _spread(s, t, out, what)
        return
    if isinstance(spec, dict) and isinstance(tree, dict) and set(spec) == set(tree):
        for k in tree:
            _spread(spec[k], tree[k], out, what)
        return
    shown = trees.structure_text(trees.flatten(tree, lambda x: isinstance(x, _Leaf))[1])
    raise JxValueError(f"{what} {_text(spec)} does not match the structure {shown}")


def _text(spec) -> str:
    if isinstance(spec, dict):
        return "{" + ", ".join(f"{k!r}: {_text(v)}" for k, v in spec.items()) + "}"
    if isinstance(spec, tuple):
        return "(" + ", ".join(_text(s) for s in spec) + ("," if len(spec) == 1 else "") + ")"
    return repr(spec)


def in_axes_of(in_axes, args, kwargs, leaves, in_tree, what: str):
    """The mapped axis of every argument leaf, normalized (None: not mapped), and the
    leaves' names for messages."""
    targs, tkwargs = trees.unflatten(in_tree, [_Leaf(i) for i in range(len(leaves))])
    names: dict = {}
    for i, t in enumerate(targs):
        _name_leaves(t, f"argument {i}", names)
    for k, t in tkwargs.items():
        _name_leaves(t, f"argument '{k}'", names)
    spread: dict = {}
    if isinstance(in_axes, tuple) and len(in_axes) != len(targs):
        raise JxValueError(
            f"{what} in_axes has {len(in_axes)} entries but the function got "
            f"{len(targs)} positional arguments"
        )
    _spread(in_axes, targs, spread, f"{what} in_axes")
    _spread(0, tkwargs, spread, f"{what} in_axes")
    axes = []
    for i, leaf in enumerate(leaves):
        ax = spread[i]
        if ax is not None:
            nd = aval_of(leaf).ndim
            if not -nd <= ax < nd:
                raise JxValueError(
                    f"{what} in_axes maps axis {ax} of {names[i]}, which has rank "
                    f"{nd} ({describe(leaf)})"
                )
            ax %= nd
        axes.append(ax)
    return axes, [names[i] for i in range(len(leaves))]


def _name_leaves(tree, name: str, out: dict) -> None:
    if isinstance(tree, _Leaf):
        out[tree.index] = name
    elif isinstance(tree, tuple):
        for k, t in enumerate(tree):
            _name_leaves(t, f"{name}[{k}]", out)
    elif isinstance(tree, dict):
        for k, t in tree.items():
            _name_leaves(t, f"{name}[{k!r}]", out)
    else:  # a registered node (a key): its leaves go by its name
        for leaf in trees.flatten(tree, lambda x: isinstance(x, _Leaf))[0]:
            out[leaf.index] = name


def mapped_size(leaves, axes, names, what: str) -> int:
    """The one size of the mapped axes; an error naming every size if they differ."""
    sizes = [
        (name, ax, aval_of(x).shape[ax])
        for x, ax, name in zip(leaves, axes, names)
        if ax is not None
    ]
    if not sizes:
        raise JxValueError(f"{what} needs at least one mapped argument (in_axes is all None)")
    if len({n for _, _, n in sizes}) > 1:
        text = ", ".join(f"{name} has size {n} along axis {ax}" for name, ax, n in sizes)
        raise JxValueError(f"{what} got inconsistent sizes for the mapped axis: {text}")
    return sizes[0][2]


def example_avals(leaves, axes) -> list:
    """Abstract values of one example: the mapped axis removed."""
    out = []
    for x, ax in zip(leaves, axes):
        a = aval_of(x)
        if type(x) is float:
            out.append(a)
            continue
        a = a.strong()
        out.append(a if ax is None else a.update(shape=a.shape[:ax] + a.shape[ax + 1 :]))
    return out


def leaf_data(x, aval):
    """An argument leaf as a program input: a number as a literal."""
    if type(x) in (int, float, bool):
        return literal(x, aval.dtype, aval.weak)
    return x


def out_axes_of(out_axes, traced: Traced, what: str) -> list:
    """The requested axis of every output leaf."""
    n = len(traced.program.outputs)
    tree = trees.unflatten(traced.out_tree, [_Leaf(i) for i in range(n)])
    spread: dict = {}
    _spread(out_axes, tree, spread, f"{what} out_axes")
    return [spread[i] for i in range(n)]


def trace_mapped(fn, args, kwargs, span, avals, axis_name, size) -> Traced:
    """Trace `fn` on one example with the axis name bound."""
    with bound_axis(axis_name, size):
        return trace_function(fn, args, kwargs, span, avals=avals)


class Vmapped:
    """`vmap(f, ...)`: callable like f, on a batch."""

    jx_kind = "a vmapped function"

    def __init__(self, fn, in_axes=0, out_axes=0, axis_name=None, what="vmap"):
        self.fn = fn
        self.in_axes = static_axes(in_axes, "in_axes")
        self.out_axes = static_axes(out_axes, "out_axes")
        if axis_name is not None and not isinstance(axis_name, str):
            raise JxTypeError(f"axis_name must be a string, got {describe(axis_name)}")
        self.axis_name = axis_name
        self.what = what
        self.cache = TraceCache()

    def __repr__(self) -> str:
        return f"<vmap {getattr(self.fn, 'name', 'function')}>"

    def jx_call(self, args, kwargs, span):
        leaves, in_tree = trees.flatten((tuple(args), kwargs), number_leaf)
        axes, names = in_axes_of(self.in_axes, args, kwargs, leaves, in_tree, self.what)
        size = mapped_size(leaves, axes, names, self.what)
        top = current_builder() is None

        def make():
            return self._build(args, kwargs, leaves, axes, size, span)

        key = signature(in_tree, input_avals(leaves), tuple(axes))
        entry = self.cache.lookup(key, make) if top else make()
        avals = entry.program.in_avals
        values = [leaf_data(x, a) for x, a in zip(leaves, avals)] + entry.traced.captured
        run = run_program if top else eval_program
        return trees.unflatten(entry.traced.out_tree, run(entry.program, values))

    def _build(self, args, kwargs, leaves, axes, size, span) -> TraceEntry:
        avals = example_avals(leaves, axes)
        traced = trace_mapped(self.fn, args, kwargs, span, avals, self.axis_name, size)
        in_dims = [*axes, *[None] * len(traced.captured)]
        program, out_dims = batch_program(traced.program, in_dims, size, self.axis_name)
        out_axes = out_axes_of(self.out_axes, traced, self.what)
        return TraceEntry(place_outputs(program, out_dims, out_axes, size, self.what), traced)


def place_outputs(program, out_dims, out_axes, size, what):
    """The batched program with each output's batch dim moved to its out_axes entry."""
    builder = Builder()
    with trace_into(builder):
        ins = [builder.new_input(a) for a in program.in_avals]
        outs = eval_program(program, ins)
        placed = []
        for x, d, ax in zip(outs, out_dims, out_axes):
            if ax is None:
                if d is not None:
                    raise JxValueError(
                        f"{what}: out_axes is None for an output that depends on the mapped axis"
                    )
                placed.append(x)
                continue
            nd = aval_of(x).ndim + 1
            if not -nd <= ax < nd:
                raise JxValueError(
                    f"{what} out_axes {ax} is out of range for an output of rank {nd}"
                )
            placed.append(move_axis(to_front(x, d, size), 0, ax % nd))
    placed_program, captured = builder.build(placed)
    assert not captured
    return placed_program


def vmap(fun, in_axes=0, out_axes=0, axis_name=None):
    return Vmapped(fun, in_axes, out_axes, axis_name)


BUILTINS["vmap"] = Builtin("vmap", vmap)
