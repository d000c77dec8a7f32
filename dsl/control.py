"""Control flow, the evaluator's rules for `if`, `while`, `for`, conditional expressions
and comprehensions: static conditions and loops run while tracing; traced ones become IR.

A traced `if` traces both branches into sub-programs and emits `cond`; the names bound in
both branches (or the returned values) are its outputs, and branches must agree on
structure, shapes and dtypes. A traced `while` emits `while` with the names it rebinds as
the loop state; `for x in traced_array` and comprehensions over traced arrays emit
`scan`. Loops over `range`, tuples or concrete arrays at the top level run (unroll) while
tracing. Names first bound inside a loop do not escape it.
"""

from __future__ import annotations

from . import ast, dtypes, ops, prng, trees
from .backend import is_concrete
from .core import CTX, Builder, Tracer, aval_of, bind, current_builder, describe, trace_into
from .errors import JxError, LimitError, ShapeError
from .errors import TypeError as JxTypeError
from .functions import number_leaf
from .interp import (
    EXPRESSIONS,
    STATEMENTS,
    ReturnValue,
    assign,
    evaluate,
    exec_block,
    is_traced,
    truth,
)
from .ir import Program, Var
from .limits import limits
from .primitives import control as prims
from .prng import Key
from .values import Scope


def assigned_names(stmts) -> set:
    """Names a block (re)binds, not looking into nested functions."""
    out: set = set()

    def targets(t):
        if isinstance(t, ast.Name):
            out.add(t.id)
        elif isinstance(t, ast.TupleExpr):
            for e in t.elts:
                targets(e)

    def visit(stmt):
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                targets(t)
        elif isinstance(stmt, ast.AugAssign):
            targets(stmt.target)
        elif isinstance(stmt, ast.FunctionDef):
            out.add(stmt.name)
        elif isinstance(stmt, ast.For):
            targets(stmt.target)
            for s in stmt.body:
                visit(s)
        elif isinstance(stmt, ast.While):
            for s in stmt.body:
                visit(s)
        elif isinstance(stmt, ast.If):
            for s in stmt.body + stmt.orelse:
                visit(s)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names = (
                [stmt.alias or stmt.module]
                if isinstance(stmt, ast.Import)
                else [a or n for n, a in stmt.names]
            )
            out.update(names)

    for s in stmts:
        visit(s)
    return out


def close(builder: Builder, outputs, n_explicit: int | None = None):
    """Build a sub-program whose inputs are its captured values first, then its own."""
    program, captured = builder.build(outputs)
    explicit = program.inputs[: len(builder.inputs)]
    caps = program.inputs[len(builder.inputs) :]
    return Program(list(caps) + list(explicit), program.eqns, program.outputs), captured


def _predicate(test, span):
    a = aval_of(test)
    if a.shape != ():
        raise JxTypeError(
            f"a traced condition must be a scalar, got shape {a.shape}; use any(), "
            "all() or where()",
            span,
        )
    if a.dtype != dtypes.bool_:
        test = ops.compare("ne", test, 0)
    return test


# ------------------------------------------------------------------ if / else


def _join(values, builders, spans, what: str, span):
    """Make branch results agree: one tree, numbers fixed or promoted, same avals.

    Returns (per-branch output leaves, treedef, static leaves by position)."""
    flat = [trees.flatten(v, number_leaf) for v in values]
    treedef = flat[0][1]
    for (_, t), s in zip(flat[1:], spans[1:]):
        if t != treedef:
            err = ShapeError(
                f"the branches of this {what} give different structures: "
                f"{trees.structure_text(treedef)} and {trees.structure_text(t)}",
                span,
            )
            for note_span, tree in ((spans[0], treedef), (s, t)):
                err.add_note(f"this branch gives {trees.structure_text(tree)}", note_span)
            raise err
    n = len(flat[0][0])
    statics: dict = {}
    outs = [[] for _ in values]
    for k in range(n):
        leaves = [f[0][k] for f in flat]
        if (
            all(ops.is_scalar(x) for x in leaves)
            and all(x == leaves[0] for x in leaves)
            and all(type(x) is type(leaves[0]) for x in leaves)
        ):
            statics[k] = leaves[0]
            continue
        avals = [aval_of(x) for x in leaves]
        if any(a.shape != avals[0].shape for a in avals):
            err = ShapeError(
                f"the branches of this {what} give different shapes: "
                + " and ".join(str(a) for a in avals),
                span,
            )
            for note_span, a in zip(spans, avals):
                err.add_note(f"this branch gives {a}", note_span)
            raise err
        dtype, weak = dtypes.promote_many(avals)
        for i, (x, b) in enumerate(zip(leaves, builders)):
            with trace_into(b):
                outs[i].append(ops.convert(x, dtype, weak))
    return outs, treedef, statics


def _rebuild(treedef, statics, traced, n):
    it = iter(traced)
    leaves = [statics[k] if k in statics else next(it) for k in range(n)]
    return trees.unflatten(treedef, leaves)


def _branch_span(stmts, fallback):
    for s in reversed(stmts):
        return s.span
    return fallback


def exec_if(stmt, scope: Scope, top: bool):
    test = evaluate(stmt.test, scope)
    if is_traced(test):
        return traced_if(stmt, test, scope)
    branch = stmt.body if truth(test, stmt.test.span) else stmt.orelse
    return exec_block(branch, scope, top)


def traced_if(stmt, test, scope: Scope):

    index = ops.convert(_predicate(test, stmt.test.span), dtypes.i32)
    runs, key_uses = [], []
    for body in (stmt.orelse, stmt.body):
        builder, fork = Builder(), scope.fork()
        mark = prng.journal_mark()
        with trace_into(builder):
            result = exec_block(body, fork)
        key_uses.append(prng.journal_take(mark))
        runs.append((builder, fork, result))
    # The branches are exclusive: a key used in both is used once.
    prng.journal_merge(key_uses)
    returned = [r is not None for _, _, r in runs]
    spans = [_branch_span(stmt.orelse, stmt.span), _branch_span(stmt.body, stmt.span)]
    if all(returned):
        values = [r.value for _, _, r in runs]
        names = None
    elif not any(returned):
        before = scope.vars
        common = set(runs[0][1].vars) & set(runs[1][1].vars)
        names = sorted(
            n for n in common if any(f.vars[n] is not before.get(n, _MISSING) for _, f, _ in runs)
        )
        values = [tuple(f.vars[n] for n in names) for _, f, _ in runs]
    else:
        raise JxTypeError(
            "with a traced condition, either every branch returns or none does", stmt.span
        )
    # Join in reading order (the if branch first) so messages name them as written.
    builders = [b for b, _, _ in runs][::-1]
    outs, treedef, statics = _join(values[::-1], builders, spans[::-1], "if", stmt.span)
    results = emit_cond(index, builders[::-1], outs[::-1])
    CTX.span = stmt.span
    value = _rebuild(treedef, statics, results, len(outs[0]) + len(statics))
    if names is None:
        return ReturnValue(value)
    for n, v in zip(names, value):
        scope.vars[n] = v
    return None


_MISSING = object()


def emit_cond(index, builders, outs):
    """The `cond` equation choosing between traced branch builders by `index`."""
    closed = [close(b, o) for b, o in zip(builders, outs)]
    union, seen = [], {}
    for _, caps in closed:
        for v in caps:
            if id(v.var) not in seen:
                seen[id(v.var)] = len(union)
                union.append(v)
    aligned = []
    for program, caps in closed:
        mapping = {id(v.var): var for v, var in zip(caps, program.inputs[: len(caps)])}
        inputs = [mapping.get(id(u.var)) or Var(u.var.aval) for u in union]
        aligned.append(Program(inputs, program.eqns, program.outputs))
    if not aligned[0].outputs:
        return []
    return bind(prims.cond_p, index, *union, branches=tuple(aligned))


def conditional_expression(node, scope: Scope):
    test = evaluate(node.test, scope)
    if not is_traced(test):
        return evaluate(node.body if truth(test, node.test.span) else node.orelse, scope)
    return traced_select(node, test, scope)


def traced_select(node, test, scope):

    pred = _predicate(test, node.test.span)
    a, b = evaluate(node.body, scope), evaluate(node.orelse, scope)
    builder = current_builder()
    outs, treedef, statics = _join(
        [b, a],
        [builder, builder],
        [node.orelse.span, node.body.span],
        "conditional expression",
        node.span,
    )
    CTX.span = node.span
    picked = [ops.where(pred, t, f) for f, t in zip(outs[0], outs[1])]
    return _rebuild(treedef, statics, picked, len(picked) + len(statics))


# ------------------------------------------------------------------ loops


def _loop_state(stmt, scope):
    names = sorted(n for n in assigned_names(stmt.body) if n in scope.vars)
    return names, tuple(scope.vars[n] for n in names)


def trace_body(run, tree, avals, extra_avals=()):
    """Trace one loop body or condition, `run(state, extras)`, with the state (of structure
    `tree`) and the per-iteration values bound to fresh inputs of `avals` and `extra_avals`;
    (builder, result). Every loop, native or combinator, traces its bodies here. The body
    runs at a deeper loop level, so PRNG keys from outside cannot be used in it."""
    builder = Builder()
    CTX.loop_level += 1
    try:
        with trace_into(builder):
            ins = [builder.new_input(a) for a in avals]
            extras = [builder.new_input(a) for a in extra_avals]
            result = run(trees.unflatten(tree, ins), extras)
    finally:
        CTX.loop_level -= 1
    return builder, result


def _state_leaves(state):
    # A weak initial value (`s = 0.0`) stays weak, so it takes the dtype of the arrays the
    # body meets it with (f16 stays f16), as it does when a static loop unrolls.
    leaves, tree = trees.flatten(state, number_leaf)
    avals = [aval_of(x) for x in leaves]
    return leaves, tree, avals


def _fit_carry(builder, new_state, tree, avals, names, span):
    """Check a body's new state against the carry; (outputs, new avals or None to retry)."""
    leaves, new_tree = trees.flatten(new_state, number_leaf)
    if new_tree != tree:
        raise ShapeError(
            f"the loop changes the structure of its state ({', '.join(names)}): "
            f"{trees.structure_text(tree)} becomes "
            f"{trees.structure_text(new_tree)}",
            span,
        )
    retry, outs, new_avals = False, [], []
    for x, a in zip(leaves, avals):
        b = aval_of(x)
        if b.shape != a.shape:
            raise ShapeError(
                f"a loop variable changes shape from {a} to {b.strong()}; loop state "
                "must keep its shape (a static range loop may change it)",
                span,
            )
        dtype, weak = dtypes.promote(a, b)
        if (dtype, weak) != (a.dtype, a.weak):  # the carry widens: trace the body again
            retry = True
            a = a.update(dtype=dtype, weak=weak)
        elif (b.dtype, b.weak) != (dtype, weak):
            with trace_into(builder):
                x = ops.convert(x, a.dtype, a.weak)
        outs.append(x)
        new_avals.append(a)
    return outs, (new_avals if retry else None)


def run_while(stmt, scope: Scope, top: bool):

    before = set(scope.vars)
    test = evaluate(stmt.test, scope)
    count = 0
    while not is_traced(test):
        if not truth(test, stmt.test.span):
            _forget_new_names(scope, before)
            return None
        result = exec_block(stmt.body, scope, top)
        if result is not None:
            return result
        count += 1
        if count > limits.unroll and (CTX.builders or CTX.depth):
            raise LimitError(
                f"this while loop ran limits.unroll = {limits.unroll} times on a static "
                "condition while tracing; make its condition depend on traced values, or "
                "raise the bound (JX_LIMIT_UNROLL or jx.limits.unroll)",
                stmt.span,
            )
        test = evaluate(stmt.test, scope)
    _traced_while(stmt, scope)
    _forget_new_names(scope, before)
    return None


def _traced_while(stmt, scope):

    names, state = _loop_state(stmt, scope)
    init, tree, avals = _state_leaves(state)

    def bind_state(values):
        fork = scope.fork()
        for n, v in zip(names, values):
            assign(ast.Name(stmt.span, n), v, fork)
        return fork

    def run_test(values, _):
        return _predicate(evaluate(stmt.test, bind_state(values)), stmt.test.span)

    def run_body(values, _):
        fork = bind_state(values)
        if exec_block(stmt.body, fork) is not None:
            raise JxTypeError(
                "return inside a traced while loop is not supported; set a "
                "variable and return after the loop",
                stmt.span,
            )
        return tuple(fork.vars[n] for n in names)

    for _ in range(4):
        cb, pred = trace_body(run_test, tree, avals)
        bb, new_state = trace_body(run_body, tree, avals)
        outs, retry = _fit_carry(bb, new_state, tree, avals, names, stmt.span)
        if retry is None:
            break
        avals = retry
    CTX.span = stmt.span
    results = emit_while(cb, pred, bb, outs, init, avals)
    for n, v in zip(names, trees.unflatten(tree, results)):
        scope.vars[n] = v


def emit_while(cond_builder, pred, body_builder, outs, init, avals):
    """The `while` equation for traced cond and body builders, from the state leaves
    `init` (converted to the carry's `avals`); every traced while loop is emitted here."""
    cond_prog, cond_caps = close(cond_builder, [pred])
    body_prog, body_caps = close(body_builder, outs)
    data = [ops.convert(x, a.dtype, a.weak) for x, a in zip(init, avals)]
    return bind(
        prims.while_p,
        *cond_caps,
        *body_caps,
        *data,
        cond_program=cond_prog,
        body_program=body_prog,
        cond_nconsts=len(cond_caps),
        body_nconsts=len(body_caps),
    )


def emit_scan(builder, outs, init, avals, xs, length, reverse=False):
    """The `scan` equation for a traced body builder whose outputs `outs` are the new carry
    then the per-iteration results, from the carry leaves `init` (converted to `avals`)
    and the scanned arrays `xs`; every traced scan is emitted here."""
    body, caps = close(builder, outs)
    data = [ops.convert(x, a.dtype, a.weak) for x, a in zip(init, avals)]
    return bind(
        prims.scan_p,
        *caps,
        *data,
        *xs,
        body=body,
        length=length,
        num_consts=len(caps),
        num_carry=len(data),
        reverse=bool(reverse),
    )


def _forget_new_names(scope, before):
    for n in [n for n in scope.vars if n not in before]:
        del scope.vars[n]


def _static_items(iterable, span):
    """The items of a loop over a static or concrete value, or None if it must be traced."""
    if isinstance(iterable, range):
        return iterable
    if isinstance(iterable, (tuple, list)):
        return iterable
    if isinstance(iterable, dict):
        return tuple(iterable)
    if isinstance(iterable, Key):
        return iterable.static_items()
    if is_concrete(iterable) and not CTX.builders:
        if iterable.ndim == 0:
            raise JxTypeError("cannot iterate over a 0-d array", span)
        return [iterable[i] for i in range(iterable.shape[0])]
    if ops.is_array(iterable):
        if not aval_of(iterable).shape:
            raise JxTypeError("cannot iterate over a 0-d array", span)
        return None
    raise JxTypeError(f"cannot iterate over {describe(iterable)}", span)


def run_for(stmt, iterable, scope: Scope, top: bool):
    """Run a `for` over an evaluated `iterable`: static items unroll, a traced array scans."""
    before = set(scope.vars)
    items = _static_items(iterable, stmt.iter.span)
    if items is not None:
        for item in items:
            assign(stmt.target, item, scope)
            result = exec_block(stmt.body, scope, top)
            if result is not None:
                return result
        _forget_new_names(scope, before)
        return None
    _traced_for(stmt, iterable, scope)
    _forget_new_names(scope, before)
    return None


def _traced_for(stmt, xs, scope):

    xs = ops.as_array(xs)
    xa = aval_of(xs)
    names, state = _loop_state(stmt, scope)
    names = [n for n in names if n not in _target_names(stmt.target)]
    state = tuple(scope.vars[n] for n in names)
    init, tree, avals = _state_leaves(state)
    slice_aval = xa.update(shape=xa.shape[1:])

    def run_body(values, extras):
        fork = scope.fork()
        for n, v in zip(names, values):
            fork.vars[n] = v
        assign(stmt.target, extras[0], fork)
        if exec_block(stmt.body, fork) is not None:
            raise JxTypeError(
                "return inside a loop over a traced array is not supported", stmt.span
            )
        return tuple(fork.vars[n] for n in names)

    for _ in range(4):
        bb, new_state = trace_body(run_body, tree, avals, (slice_aval,))
        outs, retry = _fit_carry(bb, new_state, tree, avals, names, stmt.span)
        if retry is None:
            break
        avals = retry
    CTX.span = stmt.span
    results = emit_scan(bb, outs, init, avals, [xs], xa.shape[0])
    for n, v in zip(names, trees.unflatten(tree, results)):
        scope.vars[n] = v


def _target_names(target) -> set:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, ast.TupleExpr):
        return set().union(*(_target_names(e) for e in target.elts))
    return set()


# ------------------------------------------------------------------ comprehensions


def comprehension(node, iterable, scope: Scope):
    """A list comprehension whose first generator's iterable is evaluated: `iterable`."""
    first = node.generators[0]
    items = _static_items(iterable, first.iter.span)
    if items is None:
        if len(node.generators) > 1 or first.ifs:
            raise JxTypeError(
                "a comprehension over a traced array takes one 'for' and no 'if' "
                "(the result's length must be static)",
                node.span,
            )
        return _traced_comprehension(node, iterable, scope)
    results: list = []
    _static_comprehension(node, 0, Scope(scope), results, items)
    return stack_results(results, node.span)


def _static_comprehension(node, level, scope, results, items=None):

    gen = node.generators[level]
    if items is None:
        iterable = evaluate(gen.iter, scope)
        items = _static_items(iterable, gen.iter.span)
        if items is None:
            raise JxTypeError(
                "a nested comprehension cannot loop over a traced array", gen.iter.span
            )
    for item in items:
        assign(gen.target, item, scope)
        keep = True
        for cond in gen.ifs:
            c = evaluate(cond, scope)
            if isinstance(c, Tracer):
                raise JxTypeError(
                    "a comprehension filter must be static: a traced filter makes "
                    "the length data-dependent; use where()",
                    cond.span,
                )
            if not truth(c, cond.span):
                keep = False
                break
        if not keep:
            continue
        if level + 1 < len(node.generators):
            _static_comprehension(node, level + 1, scope, results)
        else:
            results.append(evaluate(node.elt, scope))


def stack_results(results, span):
    """A static comprehension's value, as a list literal of its results would be: an array
    when they are numbers and arrays of one shape, else a list."""
    CTX.span = span
    try:
        return ops.list_value(results)
    except JxError as e:
        raise e.with_span(span) from None


def _traced_comprehension(node, xs, scope):

    gen = node.generators[0]
    xs = ops.as_array(xs)
    xa = aval_of(xs)

    def run(_, extras):
        fork = Scope(scope)
        assign(gen.target, extras[0], fork)
        leaves, tree = trees.flatten(evaluate(node.elt, fork), number_leaf)
        return [ops.as_array(v) for v in leaves], tree

    no_carry = trees.flatten(())[1]
    slice_aval = xa.update(shape=xa.shape[1:]).strong()
    builder, (leaves, tree) = trace_body(run, no_carry, [], (slice_aval,))
    CTX.span = node.span
    return trees.unflatten(tree, emit_scan(builder, leaves, [], [], [xs], xa.shape[0]))


STATEMENTS[ast.If] = exec_if
STATEMENTS[ast.While] = run_while
EXPRESSIONS[ast.IfExp] = conditional_expression
