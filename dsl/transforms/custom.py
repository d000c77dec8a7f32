"""Custom derivative rules, as JAX's `custom_jvp` and `custom_vjp`.

    @custom_jvp                          @custom_vjp
    def f(x) = ...                       def f(x) = ...
    @f.defjvp                            def f_fwd(x) = (f(x), residuals)
    def f_jvp(primals, tangents):        def f_bwd(residuals, ct) = (ct_x,)
        return f(x), tangent             f.defvjp(f_fwd, f_bwd)

A call of such a function traces its body to a sub-program and emits one equation,
`custom_jvp_call` or `custom_vjp_call`, that runs the body when evaluated (the backends
run or lower the sub-program) and whose rules are the user's: the JVP of
`custom_jvp_call` calls the jvp rule on the primals and tangents; the JVP of
`custom_vjp_call` runs `fwd` and emits a linear `custom_vjp_lin` over the tangents whose
transpose calls `bwd` with the residuals, so reverse mode (JVP, then transposition) uses
`bwd`, as in JAX; forward mode through a `custom_vjp` function is an error, as in JAX.
Under vmap the body is batched and the rules are vmapped (every operand moved, or
broadcast, to axis 0), so the rule still applies to vmapped code.
"""

from __future__ import annotations

from .. import dtypes, ops, trees
from ..core import CTX, aval_of, bind, describe
from ..errors import TypeError as JxTypeError
from ..functions import call, number_leaf, trace_function, traced_leaf
from ..ir import Eqn, Program, Var
from ..primitives import dot_general_p
from ..primitives.elementwise import add_tangents
from ..primitives.shapes import broadcast_at, full, move_axis
from ..registry import primitive
from ..values import Builtin
from .autodiff import vjp
from .batching import batch_subprogram
from .trace import eval_program
from .vmap import Vmapped


def _run_body(xp, *args, body, **params):
    """Evaluating the equation: the body, as a unit, on the current backend."""
    return CTX.backend.run(body, list(args))


def _body_avals(*args, body, **params):
    return list(body.out_avals)


custom_jvp_call_p = primitive("custom_jvp_call", _body_avals, _run_body, multiple_results=True)
custom_vjp_call_p = primitive("custom_vjp_call", _body_avals, _run_body, multiple_results=True)


def _lin_avals(*args, out_avals, **params):
    return list(out_avals)


def _lin_impl(xp, *args, **params):
    raise JxTypeError(
        "forward-mode differentiation (jvp, jacfwd) of a custom_vjp function is not "
        "supported, as in JAX; give it a custom_jvp rule instead"
    )


custom_vjp_lin_p = primitive("custom_vjp_lin", _lin_avals, _lin_impl, multiple_results=True)


class CustomFunction:
    """A function with a custom derivative rule (`kind` is custom_jvp or custom_vjp)."""

    jx_kind = "a function with a custom derivative"

    def __init__(self, fn, kind: str):
        self.fn, self.kind = fn, kind
        self.name = getattr(fn, "name", "f")
        self.jvp = self.fwd = self.bwd = None

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}>"

    def jx_attribute(self, name, span):
        if self.kind == "custom_jvp" and name == "defjvp":
            return Builtin("defjvp", self._defjvp)
        if self.kind == "custom_vjp" and name == "defvjp":
            return Builtin("defvjp", self._defvjp)
        rule = "defjvp" if self.kind == "custom_jvp" else "defvjp"
        raise JxTypeError(f"a {self.kind} function has only '.{rule}', not '.{name}'", span)

    def _defjvp(self, jvp):
        self._define()
        self.jvp = jvp
        return jvp

    def _defvjp(self, fwd, bwd):
        self._define()
        self.fwd, self.bwd = fwd, bwd

    def _define(self):
        if self.jvp is not None or self.fwd is not None:
            raise JxTypeError(f"the rule of {self.kind} function '{self.name}' is already defined")

    def jx_call(self, args, kwargs, span, traced=None):
        """Call it: trace the body (unless the caller has, `traced`) and emit its equation."""
        if kwargs:
            raise JxTypeError(f"a {self.kind} function takes positional arguments only", span)
        if self.jvp is None and self.fwd is None:
            rule = "f.defjvp(rule)" if self.kind == "custom_jvp" else "f.defvjp(fwd, bwd)"
            raise JxTypeError(f"'{self.name}' has no rule yet: define it with {rule}", span)
        leaves, in_tree = trees.flatten(tuple(args), number_leaf)
        traced = traced or trace_body(self.fn, args, span, self.kind)
        params = {
            "body": traced.program,
            "rule": self,
            "in_tree": in_tree,
            "out_tree": traced.out_tree,
        }
        prim = custom_jvp_call_p if self.kind == "custom_jvp" else custom_vjp_call_p
        outs = bind(prim, *[ops.as_array(x) for x in leaves], **params)
        return trees.unflatten(traced.out_tree, outs)


def trace_body(fn, args, span, what):
    """`fn` traced on `args`; it may read only its arguments (and top-level values)."""
    traced = trace_function(fn, list(args), {}, span)
    if traced.captured:
        raise JxTypeError(
            f"a {what} function may only read its arguments, not traced values of an "
            "enclosing function (pass them as arguments)",
            span,
        )
    return traced


def custom_jvp(fun):
    return CustomFunction(fun, "custom_jvp")


def custom_vjp(fun):
    return CustomFunction(fun, "custom_vjp")


# ------------------------------------------------------------------ rules


def _leaves_like(values, avals, what, span):
    """A rule's result as arrays of the avals it must have (numbers become arrays)."""
    leaves, _ = trees.flatten(values, number_leaf)
    if len(leaves) != len(avals):
        raise JxTypeError(f"{what} must give {len(avals)} values, got {describe(values)}", span)
    out = []
    for x, a in zip(leaves, avals):
        x = ops.convert(x, a.dtype)
        if aval_of(x).shape != a.shape:
            raise JxTypeError(f"{what} has shape {aval_of(x).shape}, not {a.shape}", span)
        out.append(x)
    return out


def _custom_jvp_jvp(ps, ts, *, body, rule, in_tree, out_tree):
    span = CTX.span
    primals = trees.unflatten(in_tree, list(ps))
    tangents = trees.unflatten(
        in_tree,
        [full(aval_of(p).shape, 0, aval_of(p).dtype) if t is None else t for p, t in zip(ps, ts)],
    )
    result = call(rule.jvp, [primals, tangents], {}, span)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise JxTypeError("a custom_jvp rule must return (primal_out, tangent_out)", span)
    out, tangent = result
    out_leaves = _leaves_like(out, body.out_avals, "the custom_jvp rule's primal output", span)
    t_leaves = _leaves_like(tangent, body.out_avals, "the custom_jvp rule's tangent output", span)
    return out_leaves, t_leaves


custom_jvp_call_p.jvp = _custom_jvp_jvp


def _custom_vjp_jvp(ps, ts, *, body, rule, in_tree, out_tree):
    span = CTX.span
    result = call(rule.fwd, list(trees.unflatten(in_tree, list(ps))), {}, span)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise JxTypeError("a custom_vjp fwd must return (primal_out, residuals)", span)
    out, residuals = result
    out_leaves = _leaves_like(out, body.out_avals, "the custom_vjp fwd's output", span)
    res_leaves, res_tree = trees.flatten(residuals, number_leaf)
    tangents = [
        full(aval_of(p).shape, 0, aval_of(p).dtype) if t is None else t for p, t in zip(ps, ts)
    ]
    t_out = bind(
        custom_vjp_lin_p,
        *res_leaves,
        *tangents,
        num_res=len(res_leaves),
        res_tree=res_tree,
        in_tree=in_tree,
        out_tree=out_tree,
        rule=rule,
        out_avals=tuple(body.out_avals),
        in_avals=tuple(aval_of(p) for p in ps),
    )
    return out_leaves, list(t_out)


custom_vjp_call_p.jvp = _custom_vjp_jvp


def _custom_vjp_lin_t(cts, *args, num_res, res_tree, in_tree, out_tree, rule, out_avals, in_avals):
    span = CTX.span
    residuals = trees.unflatten(res_tree, list(args[:num_res]))
    cts = [full(a.shape, 0, a.dtype) if c is None else c for c, a in zip(cts, out_avals)]
    ct = trees.unflatten(out_tree, cts)  # in the structure of the function's output
    result = call(rule.bwd, [residuals, ct], {}, span)
    if not isinstance(result, tuple):
        raise JxTypeError("a custom_vjp bwd must return a tuple, one cotangent per argument", span)
    leaves = _leaves_like(result, in_avals, "the custom_vjp bwd's cotangents", span)
    return [None] * num_res + leaves


custom_vjp_lin_p.transpose = _custom_vjp_lin_t


def _batched_rule(fn, n_args):
    return Vmapped(fn, in_axes=0, out_axes=0) if n_args else fn


def _custom_batch(prim):
    def batch(ax, args, dims, *, body, rule, in_tree, out_tree):
        args = [
            broadcast_at(x, 0, ax.size) if d is None else move_axis(x, d, 0)
            for x, d in zip(args, dims)
        ]
        n_out = len(body.outputs)
        batched_body, _ = batch_subprogram(body, [0] * len(args), ax, force=[True] * n_out)
        batched = CustomFunction(None, rule.kind)
        batched.name = rule.name
        if rule.kind == "custom_jvp":
            batched.jvp = _batched_rule(rule.jvp, len(args))
        else:
            batched.fwd = _batched_rule(rule.fwd, len(args))
            batched.bwd = _batched_rule(rule.bwd, len(args))
        outs = bind(
            prim, *args, body=batched_body, rule=batched, in_tree=in_tree, out_tree=out_tree
        )
        return list(outs), [0] * n_out

    prim.batch = batch


_custom_batch(custom_jvp_call_p)
_custom_batch(custom_vjp_call_p)


# ------------------------------------------------------------------ checkpoint


class _Rule:
    """A rule written in Python, callable as a jx function."""

    jx_kind = "a function"

    def __init__(self, fn, name: str):
        self.fn, self.name = fn, name

    def jx_call(self, args, kwargs, span):
        return self.fn(*args)


POLICIES = ("nothing_saveable", "dots_saveable", "everything_saveable")


def _saved_dot_jvp(ps, ts, *, saved_params):
    """The primal is the value saved in the forward pass; the tangent is the dot's own."""
    (lhs, rhs, saved), (tl, tr, _) = ps, ts
    a = None if tl is None else bind(dot_general_p, tl, rhs, **saved_params)
    b = None if tr is None else bind(dot_general_p, lhs, tr, **saved_params)
    return saved, add_tangents(a, b)


#: A dot_general whose value was saved (`checkpoint(f, policy="dots_saveable")`): it
#: returns the saved value instead of multiplying again, and differentiates as the dot.
saved_dot_p = primitive(
    "saved_dot", lambda lhs, rhs, saved, *, saved_params: [saved], lambda xp, l, r, s, **p: s
)
saved_dot_p.jvp = _saved_dot_jvp


def _with_saved_dots(program):
    """`program` with each dot_general reading its value from a new input; (program, the
    dots' output vars, in order)."""
    dots = [e for e in program.eqns if e.prim is dot_general_p]
    saved = [Var(e.outputs[0].aval) for e in dots]
    by_eqn = {id(e): v for e, v in zip(dots, saved)}
    eqns = [
        Eqn(saved_dot_p, (*e.inputs, by_eqn[id(e)]), e.outputs, {"saved_params": e.params}, e.span)
        if id(e) in by_eqn
        else e
        for e in program.eqns
    ]
    return Program((*program.inputs, *saved), eqns, program.outputs), [e.outputs[0] for e in dots]


class Checkpointed:
    """`checkpoint(f)`: under reverse mode, f's intermediate values are not kept for the
    backward pass but computed again from its arguments there (a `custom_vjp` whose
    residuals are the arguments and whose bwd is f's own VJP)."""

    jx_kind = "a checkpointed function"

    def __init__(self, fn, policy):
        self.fn, self.policy = fn, policy or "nothing_saveable"
        self.name = f"checkpoint({getattr(fn, 'name', 'f')})"

    def jx_call(self, args, kwargs, span):
        if kwargs:
            raise JxTypeError("a checkpointed function takes positional arguments only", span)
        if self.policy == "everything_saveable":
            return call(self.fn, list(args), {}, span)
        if self.policy == "dots_saveable":
            return self._saving_dots(args, span)
        rule = CustomFunction(self.fn, "custom_vjp")
        rule.name = self.name
        rule.fwd = _Rule(lambda *a: (call(self.fn, list(a), {}, span), a), "fwd")
        rule.bwd = _Rule(lambda res, ct: self._pullback(res, ct, span), "bwd")
        return rule.jx_call(list(args), {}, span)

    def _saving_dots(self, args, span):
        """The checkpoint that keeps f's matmul results: the backward pass recomputes
        everything else, reading the dots' values from the forward pass."""
        traced = trace_body(self.fn, args, span, "checkpointed")
        program = traced.program
        replaced, dot_vars = _with_saved_dots(program)
        saving = Program(program.inputs, program.eqns, (*program.outputs, *dot_vars))
        n_out = len(program.outputs)

        def run(program, a, extra=()):
            leaves, _ = trees.flatten((tuple(a), {}), traced_leaf)
            return eval_program(program, [ops.as_array(x) for x in leaves] + list(extra))

        def fwd(*a):
            outs = run(saving, a)
            return trees.unflatten(traced.out_tree, outs[:n_out]), (a, tuple(outs[n_out:]))

        def bwd(res, ct):
            a, dots = res
            again = _Rule(lambda *b: trees.unflatten(traced.out_tree, run(replaced, b, dots)), "f")
            return self._pullback(a, ct, span, again)

        rule = CustomFunction(self.fn, "custom_vjp")
        rule.name = self.name
        rule.fwd, rule.bwd = _Rule(fwd, "fwd"), _Rule(bwd, "bwd")
        return rule.jx_call(list(args), {}, span, traced)

    def _pullback(self, residuals, ct, span, fn=None):
        """f's VJP at its arguments, recomputed: cotangents for the float leaves, zeros
        for the others (ints, bools)."""
        fn = self.fn if fn is None else fn
        leaves, tree = trees.flatten(tuple(residuals), number_leaf)
        floats = [k for k, x in enumerate(leaves) if dtypes.is_float(aval_of(x).dtype)]

        def at(values):
            moved = list(leaves)
            for k, v in zip(floats, values):
                moved[k] = v
            return call(fn, list(trees.unflatten(tree, moved)), {}, span)

        cts = [ops.full_like(x, 0) for x in leaves]
        if floats:
            _, pullback = vjp(_Rule(at, self.name), tuple(leaves[k] for k in floats))
            (grads,) = pullback.jx_call([ct], {}, span)
            for k, g in zip(floats, grads):
                cts[k] = g
        return trees.unflatten(tree, cts)


def checkpoint(fun, policy=None):
    if policy is not None and policy not in POLICIES:
        raise JxTypeError(
            f"checkpoint: policy must be one of {', '.join(POLICIES)}, got {policy!r}"
        )
    return Checkpointed(fun, policy)


def register(table: dict) -> None:
    for f in (custom_jvp, custom_vjp, checkpoint):
        table[f.__name__] = Builtin(f.__name__, f)
    table["remat"] = Builtin("remat", checkpoint)
