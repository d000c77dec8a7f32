"""`einsum` as transposes, reductions and `dot_general`s, contracted left to right.

Explicit (`"ij,jk->ik"`) and implicit (`"ij,jk"`) forms; a label repeated inside one
operand (a diagonal) and `...` are refused with a clear message.
"""

from __future__ import annotations

from . import ops
from .core import aval_of
from .errors import ShapeError
from .errors import ValueError as JxValueError


def _parse(spec: str, n: int):
    spec = spec.replace(" ", "")
    if "..." in spec:
        raise JxValueError("einsum: '...' is not supported; name every axis")
    if "->" in spec:
        ins, out = spec.split("->")
    else:
        ins, out = spec, None
    terms = ins.split(",")
    if len(terms) != n:
        raise JxValueError(f"einsum: the spec names {len(terms)} operands but {n} were given")
    for t in terms:
        if len(set(t)) != len(t):
            raise JxValueError(f"einsum: repeated label in '{t}' (diagonals) is not supported")
        if not t.isalpha() and t:
            raise JxValueError(f"einsum: labels must be letters, got '{t}'")
    if out is None:
        counts = {}
        for t in terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = "".join(sorted(c for c, k in counts.items() if k == 1))
    return terms, out


def einsum(spec, *operands):
    if not isinstance(spec, str):
        raise JxValueError("einsum's first argument is the subscripts string")
    terms, out = _parse(spec, len(operands))
    xs = [ops.as_array(x) for x in operands]
    sizes = {}
    for t, x in zip(terms, xs):
        shape = aval_of(x).shape
        if len(shape) != len(t):
            raise ShapeError(f"einsum: operand '{t}' has {len(shape)} dimensions, not {len(t)}")
        for c, d in zip(t, shape):
            if sizes.setdefault(c, d) != d:
                raise ShapeError(f"einsum: label '{c}' has sizes {sizes[c]} and {d}")
    for c in out:
        if c not in sizes:
            raise JxValueError(f"einsum: output label '{c}' is in no operand")
    term, acc = terms[0], xs[0]
    for k in range(1, len(xs)):
        later = set(out).union(*terms[k + 1 :])
        acc, term = _sum_unused(acc, term, later | set(terms[k]))
        rhs, rterm = _sum_unused(xs[k], terms[k], later | set(term))
        keep = later
        batch = [c for c in term if c in rterm and c in keep]
        contract = [c for c in term if c in rterm and c not in keep]
        acc = ops.dot_general(
            acc,
            rhs,
            (tuple(term.index(c) for c in contract), tuple(rterm.index(c) for c in contract)),
            (tuple(term.index(c) for c in batch), tuple(rterm.index(c) for c in batch)),
        )
        term = (
            "".join(batch)
            + "".join(c for c in term if c not in batch and c not in contract)
            + ("".join(c for c in rterm if c not in batch and c not in contract))
        )
    acc, term = _sum_unused(acc, term, set(out))
    return ops.transpose(acc, tuple(term.index(c) for c in out)) if term != out else acc


def _sum_unused(x, term, keep):
    drop = tuple(i for i, c in enumerate(term) if c not in keep)
    if not drop:
        return x, term
    return ops.reduce("reduce_sum", x, drop), "".join(c for c in term if c in keep)
