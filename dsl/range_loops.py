"""Loops over `range` inside functions: a long one becomes a real loop, a short one unrolls.

Every jx function call is traced, so a `for i in range(n)` in a function body (or a
comprehension over a range) used to unroll n times. Now a loop of at most
`limits.short_loop` iterations unrolls (cheap, and `i` is a static int), and a longer one
is traced once as a `scan` whose index `i` is a traced integer, which its state carries
with the names the body rebinds. When the body needs `i` as a static value (indexing a
tuple, a shape, `range(i)`), returns from inside, or changes the shape of its state, that
trace fails and the loop unrolls after all, up to `limits.unroll` iterations; a longer one
is an error naming the loop, the reason and the bound. `jx ir` prints which happened to
each loop (`CTX.loop_notes`).
"""

from __future__ import annotations

from . import ast, control, dtypes, ops, prng, trees
from .core import CTX, trace_into
from .dtypes import ShapedArray
from .errors import JxError, LimitError
from .errors import TypeError as JxTypeError
from .functions import number_leaf
from .interp import EXPRESSIONS, STATEMENTS, assign, evaluate, exec_block
from .limits import how_to_raise, limits
from .values import Scope


def run_for(stmt, scope: Scope, top: bool):
    iterable = evaluate(stmt.iter, scope)
    if _long_traced_range(iterable):
        before = set(scope.vars)
        reason = _attempt(lambda: _scan_for(stmt, iterable, scope))
        if reason is None:
            _note(stmt, f"for loop over {_text(iterable)}: a scan of {len(iterable)} iterations")
            control._forget_new_names(scope, before)
            return None
        _unroll_or_fail(stmt, iterable, reason, "for loop")
    return control.run_for(stmt, iterable, scope, top)


def comprehension(node, scope: Scope):
    first = node.generators[0]
    iterable = evaluate(first.iter, scope)
    if _long_traced_range(iterable) and len(node.generators) == 1 and not first.ifs:
        result = None

        def scan():
            nonlocal result
            result = _scan_comprehension(node, iterable, scope)

        reason = _attempt(scan)
        if reason is None:
            _note(
                node,
                f"comprehension over {_text(iterable)}: a scan of {len(iterable)} iterations",
            )
            return result
        _unroll_or_fail(node, iterable, reason, "comprehension")
    return control.comprehension(node, iterable, scope)


def _long_traced_range(iterable) -> bool:
    return isinstance(iterable, range) and bool(CTX.builders) and len(iterable) > limits.short_loop


def _attempt(trace) -> str | None:
    """Run `trace()`; None if it worked, else why (its uses of PRNG keys are undone)."""
    mark = prng.journal_mark()
    try:
        trace()
    except JxError as e:
        prng.journal_take(mark)
        return e.message
    return None


def _unroll_or_fail(node, iterable, reason, what):
    n = len(iterable)
    if n > limits.unroll:
        raise LimitError(
            f"this {what} over {_text(iterable)} must unroll ({n} iterations): as a traced "
            f"loop its body fails with '{reason}'; change the body so `i` need not be a "
            "static int; " + how_to_raise("unroll"),
            node.span,
        )
    _note(node, f"{what} over {_text(iterable)}: unrolled {n} times, because: {reason}")


def _note(node, text):
    if CTX.loop_notes is not None:
        CTX.loop_notes.append(f"line {node.span.line}: {text}")


def _text(r: range) -> str:
    if r.step != 1:
        return f"range({r.start}, {r.stop}, {r.step})"
    return f"range({r.stop})" if r.start == 0 else f"range({r.start}, {r.stop})"


def _index_dtype(r: range):
    fits = all(-(2**31) <= v < 2**31 for v in (r.start, r.stop, r.start + len(r) * r.step))
    return dtypes.i32 if fits else dtypes.i64


def _weak_index(counter, dtype):
    """The body's `i`: a weak int, as the Python int an unrolled loop gives, so `x * i`
    keeps x's dtype; distinct on every iteration for PRNG keys (`fold_in(k, i)`)."""
    return ops.convert(counter, dtype, weak=True)


def _scan_for(stmt, r: range, scope):
    names, _ = control._loop_state(stmt, scope)
    names = [n for n in names if n not in control._target_names(stmt.target)]
    dtype = _index_dtype(r)
    state = (tuple(scope.vars[n] for n in names), ops.convert(r.start, dtype))
    init, tree, avals = control._state_leaves(state)

    def run_body(values, _):
        carried, counter = values
        fork = scope.fork()
        for n, v in zip(names, carried):
            fork.vars[n] = v
        index = _weak_index(counter, dtype)
        assign(stmt.target, index, fork)
        with prng.loop_index(index):
            if exec_block(stmt.body, fork) is not None:
                raise JxTypeError("return inside the loop", stmt.span)
        return tuple(fork.vars[n] for n in names), ops.binary("add", counter, r.step)

    for _ in range(4):
        builder, new_state = control.trace_body(run_body, tree, avals)
        outs, retry = control._fit_carry(builder, new_state, tree, avals, names, stmt.span)
        if retry is None:
            break
        avals = retry
    CTX.span = stmt.span
    results = control.emit_scan(builder, outs, init, avals, [], len(r))
    carried, _ = trees.unflatten(tree, results)
    for n, v in zip(names, carried):
        scope.vars[n] = v


def _scan_comprehension(node, r: range, scope):
    gen = node.generators[0]
    dtype = _index_dtype(r)
    indices = ops.binary("add", ops.binary("mul", ops.iota(dtype, (len(r),)), r.step), r.start)

    def run(_, extras):
        fork = Scope(scope)
        index = _weak_index(extras[0], dtype)
        assign(gen.target, index, fork)
        with prng.loop_index(index):
            leaves, tree = trees.flatten(evaluate(node.elt, fork), number_leaf)
        return [ops.as_array(v) for v in leaves], tree

    no_carry = trees.flatten(())[1]
    index_aval = ShapedArray((), dtype, False)
    builder, (leaves, tree) = control.trace_body(run, no_carry, [], (index_aval,))
    with trace_into(builder):
        leaves = [ops.as_array(v) for v in leaves]
    CTX.span = node.span
    return trees.unflatten(tree, control.emit_scan(builder, leaves, [], [], [indices], len(r)))


STATEMENTS[ast.For] = run_for
EXPRESSIONS[ast.ListComp] = comprehension
