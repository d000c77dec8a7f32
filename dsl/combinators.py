"""JAX-style control-flow combinators (LANGUAGE.md section 4): cond, while_loop, fori_loop,
scan. Each traces its function arguments to sub-programs and emits the same `cond`,
`while` and `scan` equations that native `if`/`while`/`for` produce, so grad, vmap and
jit treat both spellings alike. At the top level the equation simply runs now.
"""

from __future__ import annotations

import numpy as np

from . import dtypes, ops, prng, trees
from .control import _join, _predicate, emit_cond, emit_scan, emit_while, trace_body
from .core import CTX, Builder, Tracer, aval_of, describe, trace_into
from .errors import ShapeError
from .errors import TypeError as JxTypeError
from .functions import call, number_leaf
from .interp import truth
from .prng import loop_index
from .values import Builtin


def _leaves(value):
    leaves, tree = trees.flatten(value, number_leaf)
    return leaves, tree, [aval_of(x).strong() for x in leaves]


def _fit(builder, value, tree, avals, what, span):
    """A body's new carry, checked against the carry's structure, shapes and dtypes."""
    leaves, new_tree = trees.flatten(value, number_leaf)
    if new_tree != tree:
        raise ShapeError(
            f"{what} must return a carry of the structure it was given: "
            f"{trees.structure_text(tree)} became {trees.structure_text(new_tree)}",
            span,
        )
    outs = []
    for x, a in zip(leaves, avals):
        b = aval_of(x)
        if b.shape != a.shape:
            raise ShapeError(f"{what}: a carry of {a} came back as {b.strong()}", span)
        # A weak number joins a carry of its own kind or a wider one (a Python float
        # into an f16 carry, an int into a float carry), never a narrower kind: v + 0.5
        # in an i32 carry would be truncated each step.
        if b.dtype != a.dtype and a.dtype not in (
            dtypes.promote(a, b)[0],
            dtypes.promote(a.update(weak=True), b)[0],
        ):
            raise JxTypeError(
                f"{what}: a carry of {a} came back as {b.strong()}; cast it with astype", span
            )
        with trace_into(builder):
            outs.append(ops.convert(x, a.dtype))
    return outs


def cond(pred, true_fun, false_fun, *operands):
    span = CTX.span
    if type(pred) is not Tracer:
        return call(true_fun if truth(pred, span) else false_fun, list(operands), {}, span)
    index = ops.convert(_predicate(pred, span), dtypes.i32)
    runs, uses = [], []
    for fn in (false_fun, true_fun):
        # Operands are captured like the names a native `if` reads; key uses in the two
        # exclusive branches count once.
        builder, mark = Builder(), prng.journal_mark()
        with trace_into(builder):
            runs.append((builder, call(fn, list(operands), {}, span)))
        uses.append(prng.journal_take(mark))
    prng.journal_merge(uses)
    builders = [b for b, _ in runs]
    outs, treedef, statics = _join([r for _, r in runs], builders, [span, span], "cond", span)
    results = emit_cond(index, builders, outs)
    it = iter(results)
    n = len(outs[0]) + len(statics)
    return trees.unflatten(treedef, [statics[k] if k in statics else next(it) for k in range(n)])


def while_loop(cond_fun, body_fun, init_val):
    span = CTX.span
    leaves, tree, avals = _leaves(init_val)
    cb, pred = trace_body(
        lambda state, _: _predicate(call(cond_fun, [state], {}, span), span), tree, avals
    )
    bb, new = trace_body(lambda state, _: call(body_fun, [state], {}, span), tree, avals)
    outs = _fit(bb, new, tree, avals, "while_loop's body", span)
    results = emit_while(cb, pred, bb, outs, leaves, avals)
    return trees.unflatten(tree, results)


def scan(f, init, xs=None, length=None, reverse=False):
    return _scan(f, init, xs, length, reverse, "scan's function")


def _scan(f, init, xs, length, reverse, what):
    """scan, naming the function `what` in its errors."""
    span = CTX.span
    x_leaves, x_tree = trees.flatten(xs, number_leaf) if xs is not None else ([], None)
    x_leaves = [ops.as_array(x) for x in x_leaves]
    lengths = {aval_of(x).shape[0] if aval_of(x).shape else None for x in x_leaves}
    if None in lengths:
        raise JxTypeError("scan: every leaf of xs needs a leading axis", span)
    if length is not None:
        lengths.add(length)
    if len(lengths) != 1:
        raise ShapeError(
            f"scan: xs have leading axes {sorted(lengths)} (and length={length}); they must agree",
            span,
        )
    n = lengths.pop()
    leaves, tree, avals = _leaves(init)
    slice_avals = [aval_of(x).update(shape=aval_of(x).shape[1:]).strong() for x in x_leaves]

    def body(carry, slices):
        x = trees.unflatten(x_tree, slices) if x_tree is not None else None
        out = call(f, [carry, x], {}, span)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise JxTypeError(f"scan's function must return (carry, y), got {describe(out)}", span)
        return out

    builder, (new_carry, y) = trace_body(body, tree, avals, slice_avals)
    outs = _fit(builder, new_carry, tree, avals, what, span)
    y_leaves, y_tree = trees.flatten(y, number_leaf)
    with trace_into(builder):
        y_leaves = [ops.as_array(v) for v in y_leaves]
    results = emit_scan(builder, outs + y_leaves, leaves, avals, x_leaves, n, reverse)
    carry = trees.unflatten(tree, results[: len(avals)])
    ys = trees.unflatten(y_tree, results[len(avals) :])
    return carry, ys


def fori_loop(lower, upper, body_fun, init_val):
    span = CTX.span
    static = all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (lower, upper)
    )
    if static:
        # A static trip count is a scan over the indices: reverse-differentiable.
        idx = ops.binary(
            "add", ops.iota(dtypes.i32, (max(int(upper) - int(lower), 0),)), int(lower)
        )

        def step(carry, i):
            with loop_index(i):
                return call(body_fun, [i, carry], {}, span), None

        carry, _ = _scan(_PyFn(step), init_val, idx, None, False, "fori_loop's body")
        return carry
    lo = ops.convert(lower, dtypes.i32)
    hi = ops.convert(upper, dtypes.i32)
    out = while_loop(
        _PyFn(lambda s: ops.compare("lt", s[0], s[2])),
        _PyFn(lambda s: (ops.binary("add", s[0], 1), _indexed_body(body_fun, s, span), s[2])),
        (lo, init_val, hi),
    )
    return out[1]


def _indexed_body(body_fun, state, span):
    with loop_index(state[0]):
        return call(body_fun, [state[0], state[1]], {}, span)


class _PyFn:
    """An internal Python function usable where a jx function is expected."""

    jx_kind = "a function"

    def __init__(self, fn):
        self.fn = fn
        self.name = "body"

    def jx_call(self, args, kwargs, span):
        return self.fn(*args)


def register(table):
    for f in (cond, while_loop, fori_loop, scan):
        table[f.__name__] = Builtin(f.__name__, f)
