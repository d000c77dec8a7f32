"""Trees of values (tuples, records, their nesting), as JAX's pytrees.

`flatten(x, is_leaf)` gives the leaves and a hashable `TreeDef`; anything that is not a
leaf, a tuple or a record is kept inside the TreeDef as a static value (so it is part of
cache keys and comes back unchanged from `unflatten`).
"""

from __future__ import annotations

import numpy as np

from .core import Tracer

LEAF = ("*",)


def default_is_leaf(x) -> bool:
    return type(x) in (Tracer, np.ndarray, float)


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
    if type(x) is dict:
        keys = tuple(x)
        return ("dict", keys) + tuple(_flatten(x[k], is_leaf, leaves) for k in keys)
    return ("static", _StaticKey(x))


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
    it = iter(leaves)
    out = _unflatten(treedef, it)
    return out


def _unflatten(treedef, it):
    tag = treedef[0]
    if treedef is LEAF or tag == "*":
        return next(it)
    if tag == "tuple":
        return tuple(_unflatten(t, it) for t in treedef[1:])
    if tag == "dict":
        keys = treedef[1]
        return {k: _unflatten(t, it) for k, t in zip(keys, treedef[2:])}
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
    if tag == "dict":
        return (
            "{"
            + ", ".join(f"{k!r}: {structure_text(t)}" for k, t in zip(treedef[1], treedef[2:]))
            + "}"
        )
    return repr(treedef[1].value)


def static_values(treedef):
    """Every static value held in a TreeDef."""
    tag = treedef[0]
    if tag == "tuple":
        for t in treedef[1:]:
            yield from static_values(t)
    elif tag == "dict":
        for t in treedef[2:]:
            yield from static_values(t)
    elif tag == "static":
        yield treedef[1].value
