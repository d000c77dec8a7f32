"""The differentiation built-ins: jvp, vjp, grad, value_and_grad, jacfwd, jacrev, hessian,
linearize and linear_transpose.

Each traces its function to a closed program, transforms the program (`ad.jvp_program`,
then `transpose.transpose_program` for reverse mode; `batching.batch_program` over a
basis for Jacobians) and runs the result: on the backend as one unit at the top level,
or inline while tracing, so transformations nest and compose with jit and vmap.
Gradients come back in the structure of the differentiated arguments.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes, ops, trees
from ..core import CTX, Builder, aval_of, check_size, current_builder, describe, trace_into
from ..errors import TypeError as JxTypeError
from ..errors import ValueError as JxValueError
from ..functions import input_avals, signature, trace_function, traced_leaf
from ..limits import how_to_raise, limits
from ..values import Builtin, TraceCache, TraceEntry
from .ad import differentiable, jvp_program
from .batching import batch_program
from .trace import eval_program, run_program
from .transpose import partial_eval, transpose_program


def _argnums(argnums, n_args, name):
    argnums = ops.static_ints(argnums)  # a list in a traced function is a constant array
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not isinstance(a, int) or not -n_args <= a < n_args:
            raise JxTypeError(
                f"{name}: argnums {argnums!r} does not fit a call with {n_args} "
                "positional arguments"
            )
    return tuple(a % n_args for a in nums)


class _Prepared:
    """A traced call split into leaves: which program inputs are differentiated."""

    def __init__(self, fn, args, kwargs, argnums, name, span):
        self.args = list(args)
        nums = _argnums(argnums, len(args), name)
        self.nums = nums
        CTX.differentiating += 1
        try:
            if CTX.differentiating > limits.transform_depth:
                raise JxValueError(
                    f"{name}: more than {limits.transform_depth} differentiations nest here "
                    "(each multiplies the program's size); " + how_to_raise("transform_depth"),
                    span,
                )
            self.traced = trace_function(fn, args, kwargs, span, is_leaf=traced_leaf)
        finally:
            CTX.differentiating -= 1
        counts = [len(trees.flatten(a, traced_leaf)[0]) for a in args]
        starts = np.cumsum([0] + counts)
        self.diff_trees = []
        self.diff = [False] * len(self.traced.program.inputs)
        for a in nums:
            leaves, tree = trees.flatten(args[a], traced_leaf)
            if not leaves:
                raise JxTypeError(
                    f"{name} needs float inputs to differentiate, but argument {a} "
                    f"is {describe(args[a])}; pass a float such as 3.0",
                    span,
                )
            self.diff_trees.append(tree)
            for k in range(starts[a], starts[a] + counts[a]):
                aval = self.traced.program.inputs[k].aval
                if not differentiable(aval):
                    raise JxTypeError(
                        f"{name} needs float inputs to differentiate, but argument "
                        f"{a} has a {dtypes.short(aval.dtype)} value; pass a float "
                        "or mark it out with argnums",
                        span,
                    )
                self.diff[k] = True
        leaves, _ = trees.flatten((tuple(args), kwargs), traced_leaf)
        self.values = leaves + list(self.traced.captured)

    def unflatten_grads(self, grads, single):
        # Gradients come in program-input order; argnums may list the arguments in any order.
        it = iter(grads)
        by_arg = {
            a: trees.unflatten(self.diff_trees[self.nums.index(a)], [next(it) for _ in range(n)])
            for a, n in sorted((a, trees.num_leaves(t)) for a, t in zip(self.nums, self.diff_trees))
        }
        out = [by_arg[a] for a in self.nums]
        return out[0] if single else tuple(out)


class _Output(int):
    """The position of a program output in a function's returned tree (unlike a static
    int the function returned)."""


def _outputs(prep):
    traced = prep.traced
    return trees.unflatten(
        traced.out_tree, [_Output(i) for i in range(len(traced.program.outputs))]
    )


def _reverse(prep, has_aux, name, span):
    """(program of (inputs) -> (outputs..., grads...), index of the loss output)."""
    program = prep.traced.program
    positions = _outputs(prep)
    if has_aux:
        if not (isinstance(positions, tuple) and len(positions) == 2):
            raise JxTypeError(
                f"{name}(has_aux=True) needs the function to return (value, aux)", span
            )
        positions = positions[0]
    if type(positions) is not _Output:
        raise JxTypeError(
            f"{name} needs a function returning one float scalar; it returned "
            f"{describe(positions)} — use jacrev or vjp",
            span,
        )
    positions = int(positions)
    loss = program.outputs[positions].aval
    if loss.shape != ():
        raise JxTypeError(
            f"{name} needs a scalar output, got shape {loss.shape}; use jacrev or "
            "vjp for non-scalar outputs",
            span,
        )
    if not differentiable(loss):
        raise JxTypeError(f"{name} needs a float output, got {dtypes.short(loss.dtype)}", span)
    jprog, out_nz = jvp_program(program, prep.diff)
    n_in, n_out = len(program.inputs), len(program.outputs)
    n_t = sum(prep.diff)
    # the loss's tangent among the (float) tangent outputs
    t_index = sum(out_nz[:positions])
    linear_out = [False] * n_out + [k == t_index for k in range(sum(out_nz))]
    tprog = transpose_program(jprog, [False] * n_in + [True] * n_t, linear_out)
    builder = Builder()
    with trace_into(builder):
        ins = [builder.new_input(v.aval) for v in program.inputs]
        outs = eval_program(program, ins)
        one = ops.full((), 1, loss.dtype)
        grads = eval_program(tprog, ins + [one])
        # The gradient with respect to a weak input (a Python float) is weak, as in JAX.
        diff_avals = [v.aval for v, d in zip(program.inputs, prep.diff) if d]
        grads = [ops.convert(g, a.dtype, a.weak) for g, a in zip(grads, diff_avals)]
    final, _ = builder.build([ops.as_array(o) for o in outs] + list(grads))
    return final


def _run(prep, program):
    return run_program(program, prep.values)


class _Transform:
    jx_kind = "a transformed function"

    def __init__(self, fn, name):
        self.fn = fn
        self.name = f"{name}({getattr(fn, 'name', 'f')})"
        self.cache = TraceCache()

    def __repr__(self) -> str:
        return f"<{self.name}>"

    def prepare(self, args, kwargs, span, name, transform):
        """(the traced call, transform(traced call)) for these arguments.

        At the top level both are made once per abstract signature, as for a plain call,
        and made again only if a module-level name the trace read has been rebound; the
        cached entry gets this call's leaf values. Inside a trace they are made afresh,
        since the arguments are the enclosing program's values."""
        if current_builder() is not None:
            prep = _Prepared(self.fn, args, kwargs, self.argnums, name, span)
            return prep, transform(prep)
        leaves, tree = trees.flatten((tuple(args), kwargs), traced_leaf)

        def make():
            prep = _Prepared(self.fn, args, kwargs, self.argnums, name, span)
            return TraceEntry(transform(prep), prep.traced, extra=prep)

        entry = self.cache.lookup(signature(tree, input_avals(leaves)), make)
        prep = entry.extra
        prep.values = leaves + list(prep.traced.captured)
        return prep, entry.program


class Grad(_Transform):
    def __init__(self, fn, argnums=0, has_aux=False, with_value=False):
        super().__init__(fn, "value_and_grad" if with_value else "grad")
        self.argnums, self.has_aux, self.with_value = argnums, has_aux, with_value

    def jx_call(self, args, kwargs, span):
        name = "value_and_grad" if self.with_value else "grad"
        prep, program = self.prepare(
            args, kwargs, span, name, lambda p: _reverse(p, self.has_aux, name, span)
        )
        results = _run(prep, program)
        n_out = len(prep.traced.program.outputs)
        value = trees.unflatten(prep.traced.out_tree, results[:n_out])
        grads = prep.unflatten_grads(results[n_out:], isinstance(self.argnums, int))
        if self.with_value:
            return value, grads
        return (grads, value[1]) if self.has_aux else grads


def grad(fun, argnums=0, has_aux=False):
    return Grad(fun, argnums, has_aux)


def value_and_grad(fun, argnums=0, has_aux=False):
    return Grad(fun, argnums, has_aux, with_value=True)


def jvp(fun, primals, tangents):
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise JxTypeError("jvp(f, primals, tangents) takes tuples of primals and tangents")
    if len(primals) != len(tangents):
        raise JxTypeError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    prep = _Prepared(fun, primals, {}, tuple(range(len(primals))), "jvp", CTX.span)
    t_leaves = []
    for p, t in zip(primals, tangents):
        pl, ptree = trees.flatten(p, traced_leaf)
        tl, ttree = trees.flatten(t, traced_leaf)
        if ptree != ttree or any(ops.shape(a) != ops.shape(b) for a, b in zip(pl, tl)):
            raise JxTypeError("jvp: tangents must have the structure and shapes of the primals")
        t_leaves += [ops.convert(x, aval_of(a).dtype) for x, a in zip(tl, pl)]
    jprog, out_nz = jvp_program(prep.traced.program, prep.diff)
    results = run_program(jprog, prep.values + t_leaves)
    n_out = len(prep.traced.program.outputs)
    outs = results[:n_out]
    tit = iter(results[n_out:])
    touts = [next(tit) if nz else ops.full_like(o, 0) for o, nz in zip(outs, out_nz)]
    return (
        trees.unflatten(prep.traced.out_tree, outs),
        trees.unflatten(prep.traced.out_tree, touts),
    )


class VjpFunction:
    """The pullback returned by vjp: cotangents of the outputs -> of the primals."""

    jx_kind = "a vjp function"

    def __init__(self, prep, tprog, n_out):
        self.prep, self.tprog, self.n_out = prep, tprog, n_out
        self.name = "vjp_fun"

    def jx_call(self, args, kwargs, span):
        if len(args) != 1 or kwargs:
            raise JxTypeError("the vjp function takes one argument: the output cotangent", span)
        leaves, tree = trees.flatten(args[0], traced_leaf)
        if tree != self.prep.traced.out_tree:
            raise JxTypeError(
                "the cotangent must have the structure of the function's output", span
            )
        outs = self.prep.traced.program.outputs
        cts = [ops.convert(c, v.aval.dtype) for c, v in zip(leaves, outs) if differentiable(v.aval)]
        grads = run_program(self.tprog, self.prep.values + cts)
        return self.prep.unflatten_grads(grads, False)


def vjp(fun, *primals):
    prep = _Prepared(fun, primals, {}, tuple(range(len(primals))), "vjp", CTX.span)
    program = prep.traced.program
    jprog, out_nz = jvp_program(program, prep.diff)
    n_in, n_out = len(program.inputs), len(program.outputs)
    tprog = transpose_program(
        jprog, [False] * n_in + [True] * sum(prep.diff), [False] * n_out + [True] * sum(out_nz)
    )
    outs = run_program(program, prep.values)
    return trees.unflatten(prep.traced.out_tree, outs), VjpFunction(prep, tprog, n_out)


class LinearFunction:
    """A linear map from Python's side of the language: `linearize`'s JVP at the
    primals (its residuals computed once) or `linear_transpose`'s transpose. It takes
    values in the structure of `in_trees` and gives them in the structure `out_tree`,
    whose leaves are the program's outputs where `present` says, zeros of `out_avals`
    elsewhere (an int output has no tangent)."""

    jx_kind = "a linear function"

    def __init__(self, name, program, residuals, in_trees, in_avals, out_tree, out_avals, present):
        self.name, self.program, self.residuals = name, program, residuals
        self.in_trees, self.in_avals = in_trees, in_avals
        self.out_tree, self.out_avals, self.present = out_tree, out_avals, present

    def jx_call(self, args, kwargs, span):
        if kwargs or len(args) != len(self.in_trees):
            raise JxTypeError(
                f"the {self.name} function takes {len(self.in_trees)} positional "
                f"argument(s), got {len(args)}",
                span,
            )
        leaves = []
        for a, tree in zip(args, self.in_trees):
            got, got_tree = trees.flatten(a, traced_leaf)
            if got_tree != tree:
                raise JxTypeError(
                    f"the {self.name} function needs {trees.structure_text(tree)}, got "
                    f"{trees.structure_text(got_tree)}",
                    span,
                )
            leaves += got
        for x, aval in zip(leaves, self.in_avals):
            if ops.shape(x) != aval.shape:
                raise JxTypeError(
                    f"the {self.name} function needs shape {aval.shape}, got {ops.shape(x)}",
                    span,
                )
        leaves = [ops.convert(x, a.dtype) for x, a in zip(leaves, self.in_avals)]
        it = iter(run_program(self.program, list(self.residuals) + leaves))
        outs = [
            next(it) if p else ops.full(a.shape, 0, a.dtype)
            for p, a in zip(self.present, self.out_avals)
        ]
        return trees.unflatten(self.out_tree, outs)


def _present(out_nz, tangent_linear) -> list:
    """Which outputs have a tangent the linear program computes: a nonzero one that
    depends on the inputs' tangents (the others are zeros)."""
    it = iter(tangent_linear)
    return [bool(nz) and next(it) for nz in out_nz]


def linearize(fun, *primals):
    """`jax.linearize`: (fun(*primals), the JVP of fun at primals as a linear function of
    the tangents). The primal computation runs once; each call runs only the linear part."""
    prep = _Prepared(fun, primals, {}, tuple(range(len(primals))), "linearize", CTX.span)
    program = prep.traced.program
    jprog, out_nz = jvp_program(program, prep.diff)
    n_in, n_out = len(program.inputs), len(program.outputs)
    known, linear, out_linear = partial_eval(jprog, [False] * n_in + [True] * sum(prep.diff))
    results = run_program(known, prep.values)
    n_known = sum(1 for m in out_linear if not m)
    outs, residuals = results[:n_out], results[n_known:]
    in_trees = [trees.flatten(p, traced_leaf)[1] for p in primals]
    in_avals = [v.aval for v, d in zip(program.inputs, prep.diff) if d]
    f_jvp = LinearFunction(
        "linearized",
        linear,
        residuals,
        in_trees,
        in_avals,
        prep.traced.out_tree,
        list(program.out_avals),
        _present(out_nz, out_linear[n_out:]),
    )
    return trees.unflatten(prep.traced.out_tree, outs), f_jvp


def linear_transpose(fun, *primals):
    """`jax.linear_transpose`: for a function linear in its arguments (the primals give
    their structure, shapes and dtypes), its transpose: output cotangents -> input
    cotangents, as a tuple with one entry per argument."""
    prep = _Prepared(fun, primals, {}, tuple(range(len(primals))), "linear_transpose", CTX.span)
    program = prep.traced.program
    if prep.traced.captured or len(prep.values) != sum(prep.diff):
        raise JxTypeError("linear_transpose: the function may only read its own arguments")
    n_out = len(program.outputs)
    tprog = transpose_program(program, [True] * len(program.inputs), [True] * n_out)
    out_tree = trees.flatten(tuple(primals), traced_leaf)[1]
    return LinearFunction(
        "transposed",
        tprog,
        [],
        [prep.traced.out_tree],
        list(program.out_avals),
        out_tree,
        [v.aval for v in program.inputs],
        [True] * len(program.inputs),
    )


# ------------------------------------------------------------------ Jacobians


def _basis(avals, dtype):
    sizes = [a.size for a in avals]
    for a in avals:
        check_size((sum(sizes), *a.shape), dtype)
    check_size((sum(sizes), sum(sizes)), dtype)
    eye = np.eye(sum(sizes), dtype=dtype)
    out, start = [], 0
    for a, n in zip(avals, sizes):
        out.append(eye[:, start : start + n].reshape((sum(sizes),) + a.shape))
        start += n
    return out, sum(sizes)


class Jacobian(_Transform):
    def __init__(self, fn, argnums=0, forward=True):
        super().__init__(fn, "jacfwd" if forward else "jacrev")
        self.argnums, self.forward = argnums, forward

    def jx_call(self, args, kwargs, span):
        name = "jacfwd" if self.forward else "jacrev"
        prep, (bprog, out_dims, basis, n) = self.prepare(
            args, kwargs, span, name, lambda p: self._transform(p, name, span)
        )
        program = prep.traced.program
        n_out = len(program.outputs)
        in_avals = [v.aval for v, d in zip(program.inputs, prep.diff) if d]
        out_avals = [v.aval for v in program.outputs]
        results = run_program(bprog, prep.values + basis)
        if self.forward:
            blocks = results[n_out:]
            dims = out_dims[n_out:]
            # (n, *out) -> (*out, n), then split n into the inputs' shapes.
            jac = [_move_batch_last(b, d, a) for b, d, a in zip(blocks, dims, out_avals)]
            per_out = [_split_last(j, o.shape, in_avals) for j, o in zip(jac, out_avals)]
        else:
            blocks = [_move_batch_first(b, d, n) for b, d in zip(results, out_dims)]
            per_out = []
            start = 0
            for o in out_avals:
                rows = [
                    ops.reshape(
                        ops.static_slice(
                            b,
                            (start,) + (0,) * a.ndim,
                            (start + o.size,) + a.shape,
                            (1,) * (a.ndim + 1),
                        ),
                        o.shape + a.shape,
                    )
                    for b, a in zip(blocks, in_avals)
                ]
                per_out.append(rows)
                start += o.size
        single = isinstance(self.argnums, int)
        outs = [prep.unflatten_grads(rows, single) for rows in per_out]
        return trees.unflatten(prep.traced.out_tree, outs)

    def _transform(self, prep, name, span):
        """The JVP (forward) or its transpose (reverse), batched over a basis of the inputs
        or outputs: (program, its output batch dims, the basis, its size)."""
        program = prep.traced.program
        n_in, n_out = len(program.inputs), len(program.outputs)
        in_avals = [v.aval for v, d in zip(program.inputs, prep.diff) if d]
        out_avals = [v.aval for v in program.outputs]
        if not all(differentiable(a) for a in out_avals):
            raise JxTypeError(f"{name} needs float outputs", span)
        dtype = dtypes.promote_many([a.strong() for a in in_avals + out_avals])[0]
        jprog, _ = jvp_program(program, prep.diff)
        if self.forward:
            basis, n = _basis(in_avals, dtype)
            basis = [b.astype(a.dtype) for b, a in zip(basis, in_avals)]
            bprog, out_dims = batch_program(jprog, [None] * n_in + [0] * len(basis), n)
            return bprog, out_dims, basis, n
        tprog = transpose_program(
            jprog,
            [False] * n_in + [True] * len(in_avals),
            [False] * n_out + [True] * n_out,
            effects=True,  # the Jacobian's program is all that runs: its forward pass prints
        )
        basis, n = _basis(out_avals, dtype)
        basis = [b.astype(a.dtype) for b, a in zip(basis, out_avals)]
        bprog, out_dims = batch_program(tprog, [None] * n_in + [0] * n_out, n)
        return bprog, out_dims, basis, n


def _move_batch_last(x, dim, out_aval):
    x = ops.as_array(x)
    nd = aval_of(x).ndim
    if dim is None:
        raise JxTypeError("internal: jacobian block is not batched")
    perm = [i for i in range(nd) if i != dim] + [dim]
    return ops.transpose(x, perm)


def _move_batch_first(x, dim, n):
    x = ops.as_array(x)
    if dim is None:
        return ops.broadcast_to(ops.expand_dims(x, 0), (n,) + aval_of(x).shape)
    nd = aval_of(x).ndim
    return ops.transpose(x, [dim] + [i for i in range(nd) if i != dim])


def _split_last(j, out_shape, in_avals):
    out, start = [], 0
    nd = aval_of(j).ndim
    for a in in_avals:
        lo = (0,) * (nd - 1) + (start,)
        hi = tuple(aval_of(j).shape[:-1]) + (start + a.size,)
        block = ops.static_slice(j, lo, hi, (1,) * nd)
        out.append(ops.reshape(block, tuple(out_shape) + a.shape))
        start += a.size
    return out


def jacfwd(fun, argnums=0):
    return Jacobian(fun, argnums, forward=True)


def jacrev(fun, argnums=0):
    return Jacobian(fun, argnums, forward=False)


def hessian(fun, argnums=0):
    return Jacobian(Jacobian(fun, argnums, forward=False), argnums, forward=True)


def register(table: dict) -> None:
    for f in (grad, value_and_grad, jvp, vjp, jacfwd, jacrev, hessian, linearize, linear_transpose):
        table[f.__name__] = Builtin(f.__name__, f)
