"""The primitive registry: one `Primitive` per op, holding every rule jx has for it.

A primitive is a name plus its tables: `abstract_eval` (avals in, avals out), the
transformation rules (`jvp`, `transpose`, `batch`) that the interpreters in `transforms/`
look up, `effect` (the equation matters without its outputs, as `debug_print` does: the
clean-up passes keep it), and `impl`, ONE implementation `impl(xp, *arrays, **params)` written against an
array module `xp` (NumPy today), so every array backend shares it. The family files in
`primitives/` define each primitive in one block, registering all of its rules beside it;
this module sits below them and below `core`, so it binds nothing. `Undefined` is the
placeholder a transpose rule receives for a linear input.
"""

from __future__ import annotations

from .errors import TypeError


class Primitive:
    __slots__ = (
        "abstract_eval",
        "batch",
        "effect",
        "impl",
        "jvp",
        "multiple_results",
        "name",
        "transpose",
    )

    def __init__(self, name: str, abstract_eval, impl=None, multiple_results: bool = False):
        self.name = name
        self.effect = False
        self.abstract_eval = abstract_eval
        self.impl = impl
        self.multiple_results = multiple_results
        self.jvp = None
        self.transpose = None
        self.batch = None

    def __repr__(self) -> str:
        return self.name


REGISTRY: dict[str, Primitive] = {}


def primitive(name: str, abstract_eval, impl=None, multiple_results: bool = False) -> Primitive:
    """A new primitive, registered under its name."""
    assert name not in REGISTRY, f"the primitive {name} is defined twice"
    p = Primitive(name, abstract_eval, impl, multiple_results)
    REGISTRY[name] = p
    return p


def need(cond: bool, message: str, cls=TypeError) -> None:
    """A shape rule's check: raise `cls(message)` unless `cond`."""
    if not cond:
        raise cls(message)


class Undefined:
    """Stands for a linear input in a transpose rule's arguments."""

    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval


def undef(x) -> bool:
    return type(x) is Undefined
