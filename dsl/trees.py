"""Trees of values (tuples, lists, records, their nesting), as JAX's pytrees.

`flatten(x, is_leaf)` gives the leaves and a hashable `TreeDef`. Tuples, lists, records and
the types registered with `register_node` (as `jax.tree_util.register_pytree_node`: a PRNG key
is a node whose child is its data array) are descended into; anything else that is not a
leaf is kept inside the TreeDef as a static value (so it is part of cache keys and comes
back unchanged from `unflatten`). As in JAX, a record's leaves come in the order of its
sorted keys, so records with the same keys written in different orders are the same tree;
`unflatten` gives back the order of the record that was flattened.
"""

from __future__ import annotations

import numpy as np

from .backend import is_concrete
from .core import Tracer

LEAF = ("*",)

#: Registered node types: type -> (flatten, unflatten).
NODE_TYPES: dict = {}


def register_node(cls: type, flatten_node, unflatten_node) -> None:
    """Make `cls` a tree node: `flatten_node(x)` gives (children, aux), where `aux` is
    hashable static data kept in the TreeDef; `unflatten_node(aux, children)` rebuilds it."""
    NODE_TYPES[cls] = (flatten_node, unflatten_node)


def default_is_leaf(x) -> bool:
    return type(x) in (Tracer, float) or is_concrete(x)


def flatten(x, is_leaf=default_is_leaf):
    leaves: list = []
    treedef = _flatten(x, is_leaf, leaves)
    return leaves, treedef


def _flatten(x, is_leaf, leaves):
    if is_leaf(x):
        leaves.append(x)
        return LEAF
    if type(x) is tuple:
        return ("tuple",) + tuple(_flatten(v, is_leaf, leaves) for v in x)
    if type(x) is list:
        return ("list",) + tuple(_flatten(v, is_leaf, leaves) for v in x)
    if type(x) is dict:
        keys = tuple(sorted(x, key=_key_order))
        children = tuple(_flatten(x[k], is_leaf, leaves) for k in keys)
        return ("dict", keys, _WrittenOrder(tuple(x))) + children
    node = NODE_TYPES.get(type(x))
    if node is not None:
        children, aux = node[0](x)
        return ("node", type(x), aux) + tuple(_flatten(c, is_leaf, leaves) for c in children)
    return ("static", _StaticKey(x))


def _key_order(key):
    return (type(key).__name__, key)


class _WrittenOrder:
    """The order a record's keys were written in: kept for `unflatten`, but not part of the
    tree's identity (every order compares equal)."""

    __slots__ = ("keys",)

    def __init__(self, keys):
        self.keys = keys

    def __eq__(self, other):
        return isinstance(other, _WrittenOrder)

    def __hash__(self):
        return 0


class _StaticKey:
    """Wraps a static value so it can sit in a hashable TreeDef (ints by value, others by id)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def _key(self):
        v = self.value
        hook = getattr(v, "static_key", None)
        if hook is not None:
            return hook()
        if type(v) in (int, bool, str, type(None), float, range) or isinstance(v, np.dtype):
            return (type(v), v)
        return (type(v), id(v))

    def __eq__(self, other):
        return isinstance(other, _StaticKey) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())


def unflatten(treedef, leaves):
    return _unflatten(treedef, iter(leaves))


def _unflatten(treedef, it):
    tag = treedef[0]
    if treedef is LEAF or tag == "*":
        return next(it)
    if tag == "tuple":
        return tuple(_unflatten(t, it) for t in treedef[1:])
    if tag == "list":
        return [_unflatten(t, it) for t in treedef[1:]]
    if tag == "dict":
        values = {k: _unflatten(t, it) for k, t in zip(treedef[1], treedef[3:])}
        return {k: values[k] for k in treedef[2].keys}
    if tag == "node":
        children = [_unflatten(t, it) for t in treedef[3:]]
        return NODE_TYPES[treedef[1]][1](treedef[2], children)
    return treedef[1].value


def structure_text(treedef) -> str:
    """A short human description of a tree structure, for error messages."""
    tag = treedef[0]
    if tag == "*":
        return "array"
    if tag == "tuple":
        return (
            "("
            + ", ".join(structure_text(t) for t in treedef[1:])
            + ("," if len(treedef) == 2 else "")
            + ")"
        )
    if tag == "list":
        return "[" + ", ".join(structure_text(t) for t in treedef[1:]) + "]"
    if tag == "dict":
        parts = dict(zip(treedef[1], treedef[3:]))
        return "{" + ", ".join(f"{k!r}: {structure_text(parts[k])}" for k in treedef[2].keys) + "}"
    if tag == "node":
        return f"{treedef[1].__name__}({', '.join(structure_text(t) for t in treedef[3:])})"
    return repr(treedef[1].value)


def num_leaves(treedef) -> int:
    """How many leaves a TreeDef holds."""
    tag = treedef[0]
    if tag == "*":
        return 1
    return sum(num_leaves(t) for t in _children(treedef))


def _children(treedef):
    tag = treedef[0]
    if tag in ("tuple", "list"):
        return treedef[1:]
    if tag == "dict":
        return treedef[3:]
    if tag == "node":
        return treedef[3:]
    return ()


def static_values(treedef):
    """Every static value held in a TreeDef."""
    if treedef[0] == "static":
        yield treedef[1].value
    for t in _children(treedef):
        yield from static_values(t)
