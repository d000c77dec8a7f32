"""JAX-style control-flow combinators (LANGUAGE.md section 4): cond, while_loop, fori_loop,
scan. Each traces its function arguments to sub-programs and emits the same `cond`,
`while` and `scan` equations that native `if`/`while`/`for` produce, so grad, vmap and
jit treat both spellings alike. At the top level the equation simply runs now.
"""

from __future__ import annotations

import math

import numpy as np

from . import dtypes, ops, prng, trees
from . import primitives as prims
from .config import config
from .control import _join, _predicate, emit_cond, emit_scan, emit_while, trace_body
from .core import CTX, Builder, Tracer, aval_of, bind, describe, trace_into
from .dtypes import ShapedArray
from .errors import ShapeError
from .errors import TypeError as JxTypeError
from .functions import call, number_leaf
from .indexing import getitem
from .interp import truth
from .prng import loop_index
from .transforms.custom import Checkpointed
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


def while_loop(cond_fun, body_fun, init_val, max_steps=None):
    span = CTX.span
    if max_steps is not None:
        return _bounded_while(cond_fun, body_fun, init_val, max_steps, span)
    leaves, tree, avals = _leaves(init_val)
    cb, pred = trace_body(
        lambda state, _: _predicate(call(cond_fun, [state], {}, span), span), tree, avals
    )
    bb, new = trace_body(lambda state, _: call(body_fun, [state], {}, span), tree, avals)
    outs = _fit(bb, new, tree, avals, "while_loop's body", span)
    results = emit_while(cb, pred, bb, outs, leaves, avals)
    return trees.unflatten(tree, results)


def _bounded_while(cond_fun, body_fun, init_val, max_steps, span):
    """`while_loop` with at most `max_steps` iterations, as a scan whose steps after the
    condition fails keep the state: reverse-differentiable (a scan), at the price of
    running the body `max_steps` times. Running out of steps stops, as the bound says."""
    if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 0:
        raise JxTypeError(
            f"while_loop: max_steps must be a static int >= 0, got {describe(max_steps)}", span
        )

    def step(state, _):
        go = _predicate(call(cond_fun, [state], {}, span), span)
        new = call(body_fun, [state], {}, span)
        old_leaves, tree = trees.flatten(state, number_leaf)
        new_leaves, new_tree = trees.flatten(new, number_leaf)
        if new_tree != tree:
            raise ShapeError(
                "while_loop's body must return a state of the structure it was given: "
                f"{trees.structure_text(tree)} became {trees.structure_text(new_tree)}",
                span,
            )
        kept = [ops.where(go, n, o) for n, o in zip(new_leaves, old_leaves)]
        return trees.unflatten(tree, kept), None

    state, _ = scan(_PyFn(step), init_val, None, length=max_steps)
    return state


def _label(what: str, span) -> str:
    return f"{what} {span.source.name}:{span.line}" if span is not None else what


def _ticking(progress, what: str, span):
    """The bar's label when this loop shows progress (`progress=`, else jx.config's)."""
    if not isinstance(progress, (bool, type(None))):
        raise JxTypeError(f"{what}'s progress= is True or False, not {describe(progress)}", span)
    return _label(what, span) if (config.progress if progress is None else progress) else None


def scan(f, init, xs=None, length=None, reverse=False, progress=None, checkpoint=False):
    if checkpoint:
        return _checkpointed_scan(f, init, xs, length, reverse, CTX.span)
    return _scan(f, init, xs, length, reverse, _ticking(progress, "scan", CTX.span))


def _scan(f, init, xs, length, reverse, label, what="scan's function"):
    """scan, with the label of its progress bar (None: no bar), naming the function
    `what` in its errors."""
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
    if label is not None:  # the iteration count, a slice of its own, feeds the bar
        x_leaves = [*x_leaves, ops.iota(dtypes.i32, (n,))]
        slice_avals = [*slice_avals, ShapedArray((), dtypes.i32, False)]

    def body(carry, slices):
        if label is not None:
            k, slices = slices[-1], slices[:-1]
            done = ops.binary("sub", n, k) if reverse else ops.binary("add", k, 1)
            bind(prims.progress_p, done, ops.as_array(n), label=label)
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


def _checkpointed_scan(f, init, xs, length, reverse, span):
    """`scan(..., checkpoint=True)`: the n steps as about sqrt(n) checkpointed segments of
    about sqrt(n) steps, so reverse mode keeps the carries at the segments' starts and one
    segment's steps at a time (O(sqrt n) carries instead of n), recomputing each segment
    once more on the way back."""
    x_leaves, x_tree = trees.flatten(xs, number_leaf) if xs is not None else ([], None)
    x_leaves = [ops.as_array(x) for x in x_leaves]
    if reverse:  # the same steps over the reversed xs, their ys put back in order
        x_leaves = [ops.flip(x, 0) for x in x_leaves]
    n = aval_of(x_leaves[0]).shape[0] if x_leaves else length
    if n is None:
        raise JxTypeError("scan needs xs or a length", span)
    k = max(1, math.isqrt(n))
    segments, rest = divmod(n, k)

    def part(lo, hi, shape):
        return [ops.reshape(getitem(x, slice(lo, hi)), shape(x)) for x in x_leaves]

    def tree_of(leaves):
        return trees.unflatten(x_tree, leaves) if x_tree is not None else None

    def segment(carry, seg_xs):
        return scan(f, carry, seg_xs, length=k)

    main = part(0, segments * k, lambda x: (segments, k) + aval_of(x).shape[1:])
    carry, ys = scan(Checkpointed(_PyFn(segment), None), init, tree_of(main), length=segments)
    y_leaves, y_tree = trees.flatten(ys, number_leaf)
    y_leaves = [ops.reshape(y, (segments * k,) + aval_of(y).shape[2:]) for y in y_leaves]
    if rest:
        tail = part(segments * k, n, lambda x: (rest,) + aval_of(x).shape[1:])
        carry, tail_ys = scan(f, carry, tree_of(tail), length=rest)
        tail_leaves, _ = trees.flatten(tail_ys, number_leaf)
        y_leaves = [ops.concatenate([y, t], 0) for y, t in zip(y_leaves, tail_leaves)]
    if reverse:
        y_leaves = [ops.flip(y, 0) for y in y_leaves]
    return carry, trees.unflatten(y_tree, y_leaves)


def fori_loop(lower, upper, body_fun, init_val, progress=None):
    span = CTX.span
    label = _ticking(progress, "fori_loop", span)
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

        carry, _ = _scan(_PyFn(step), init_val, idx, None, False, label, "fori_loop's body")
        return carry
    lo = ops.convert(lower, dtypes.i32)
    hi = ops.convert(upper, dtypes.i32)
    out = while_loop(
        _PyFn(lambda s: ops.compare("lt", s[0], s[2])),
        _PyFn(
            lambda s: (
                ops.binary("add", s[0], 1),
                _indexed_body(body_fun, s, span, lo, label),
                s[2],
            )
        ),
        (lo, init_val, hi),
    )
    return out[1]


def _indexed_body(body_fun, state, span, lo, label):
    if label is not None:
        done = ops.binary("add", ops.binary("sub", state[0], lo), 1)
        bind(prims.progress_p, done, ops.binary("sub", state[2], lo), label=label)
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
