"""`einsum` as transposes, reductions and `dot_general`s, contracted left to right.

Explicit (`"ij,jk->ik"`) and implicit (`"ij,jk"`) forms, `...` for broadcast leading axes,
a label repeated inside one operand (`"ii->i"`: its diagonal, read by one gather), and
NumPy's sublist form (`einsum(x, [0, 1], y, [1, 2], [0, 2])`).
"""

from __future__ import annotations

import string

import numpy as np

from . import ops
from .core import aval_of
from .errors import ShapeError
from .errors import ValueError as JxValueError
from .indexing import getitem

_ELLIPSIS = "..."


def _from_sublists(args):
    """`(x, [0, 1], y, [1, 2], [0, 2])` as the subscripts string and the operands."""
    k = len(args) // 2
    operands, terms = list(args[0 : 2 * k : 2]), list(args[1 : 2 * k : 2])
    out = args[-1] if len(args) % 2 else None

    def letters(sub):
        sub = ops.static_ints(sub)
        if not isinstance(sub, (tuple, list)):
            raise JxValueError(f"einsum: a sublist must be a list of ints, got {sub!r}")
        text = ""
        for i in sub:
            if i is Ellipsis:
                text += _ELLIPSIS
            elif isinstance(i, int) and 0 <= i < 52:
                text += string.ascii_letters[i]
            else:
                raise JxValueError(f"einsum: sublist labels must be ints in [0, 52), got {i!r}")
        return text

    spec = ",".join(letters(t) for t in terms)
    if out is not None:
        spec += "->" + letters(out)
    return spec, operands


def _parse(spec: str, ndims: list):
    spec = spec.replace(" ", "")
    ins, out = spec.split("->") if "->" in spec else (spec, None)
    terms = ins.split(",")
    if len(terms) != len(ndims):
        raise JxValueError(
            f"einsum: the spec names {len(terms)} operands but {len(ndims)} were given"
        )
    for t in [*terms, out or ""]:
        if (
            t.count(_ELLIPSIS) > 1
            or not t.replace(_ELLIPSIS, "").isalpha()
            and t.replace(_ELLIPSIS, "")
        ):
            raise JxValueError(f"einsum: labels must be letters and at most one '...', got '{t}'")
    # Each '...' stands for unused letters, one per broadcast axis, aligned on the right.
    free = [c for c in string.ascii_letters if c not in spec]
    widths = [nd - len(t.replace(_ELLIPSIS, "")) for t, nd in zip(terms, ndims) if _ELLIPSIS in t]
    if any(w < 0 for w in widths):
        raise ShapeError("einsum: an operand has fewer dimensions than its labels")
    broadcast = "".join(free[: max(widths, default=0)])
    terms = [
        t.replace(_ELLIPSIS, broadcast[len(broadcast) - (nd - len(t) + 3) :])
        if _ELLIPSIS in t
        else t
        for t, nd in zip(terms, ndims)
    ]
    if out is None:
        counts = {}
        for t in terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = broadcast + "".join(
            sorted(c for c, k in counts.items() if k == 1 and c not in broadcast)
        )
    else:
        out = out.replace(_ELLIPSIS, broadcast)
    return terms, out, set(broadcast)


def _diagonals(x, term):
    """x with each label repeated in `term` read along its diagonal (the label kept last)."""
    while len(set(term)) != len(term):
        c = next(c for c in term if term.count(c) > 1)
        i, j = term.index(c), term.index(c, term.index(c) + 1)
        shape = aval_of(x).shape
        if shape[i] != shape[j]:
            raise ShapeError(f"einsum: label '{c}' has sizes {shape[i]} and {shape[j]}")
        rest = [k for k in range(len(term)) if k not in (i, j)]
        x = ops.transpose(x, [*rest, i, j])
        diag = np.arange(shape[i], dtype=np.int32)
        x = getitem(x, (Ellipsis, diag, diag))
        term = "".join(term[k] for k in rest) + c
    return x, term


def einsum(spec, *operands):
    if not isinstance(spec, str):
        if not operands:
            raise JxValueError("einsum's first argument is the subscripts string")
        spec, operands = _from_sublists((spec, *operands))
    xs = [ops.as_array(x) for x in operands]
    terms, out, broadcast = _parse(spec, [aval_of(x).ndim for x in xs])
    sizes = {}
    for t, x in zip(terms, xs):
        shape = aval_of(x).shape
        if len(shape) != len(t):
            raise ShapeError(f"einsum: operand '{t}' has {len(shape)} dimensions, not {len(t)}")
        for c, d in zip(t, shape):
            if c in broadcast and d == 1:
                continue
            if sizes.setdefault(c, d) != d:
                raise ShapeError(f"einsum: label '{c}' has sizes {sizes[c]} and {d}")
    # Broadcast axes of size 1 take the size the other operands give them.
    xs = [
        ops.broadcast_to(
            x, tuple(sizes.get(c, 1) if c in broadcast else d for c, d in zip(t, aval_of(x).shape))
        )
        for t, x in zip(terms, xs)
    ]
    for c in out:
        if c not in sizes and c not in broadcast:
            raise JxValueError(f"einsum: output label '{c}' is in no operand")
    pairs = [_diagonals(x, t) for x, t in zip(xs, terms)]
    xs, terms = [p[0] for p in pairs], [p[1] for p in pairs]
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
