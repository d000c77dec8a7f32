"""A spec table over the primitive registry: every registered primitive has rows (example
operands, params, an independent NumPy reference, the operands it is differentiable and
linear in), and each row generates its checks: the value against the reference; the JVP
against central finite differences in f64; reverse mode (the transposed JVP) against them
and the dot-product identity; the primitive's own transpose rule where it is linear;
batching against a loop over examples; and the XLA backend against the NumPy one. A
primitive without a row fails `test_every_primitive_has_a_row`, and one whose row says a
transformation applies fails where the rule is missing. The rows that need jx itself to
build (control flow with sub-programs, collectives over a named axis) are made here.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from primitive_specs import (
    BINARY_REFS,
    DOMAINS,
    F64,
    LINALG_REFS,
    SQUARE,
    UNARY_REFS,
    Spec,
    ints,
    rand,
    scale_floats,
)
from primitive_specs import SPECS as ARRAY_SPECS

# isort: split
# ------------------------------------------------------------------ jx internals
# Every use of jx's internals sits in this block: only it changes when modules move.
import jx.linalg  # noqa: F401 - imports jx (every primitive) and registers linalg's
from jx import registry
from jx.backends import numpy as numpy_backend
from jx.core import Builder, bind, trace_into
from jx.dtypes import ShapedArray
from jx.errors import JxError
from jx.ir import Eqn, Program, Var
from jx.transforms.ad import jvp_program
from jx.transforms.batching import batch_program
from jx.transforms.transpose import transpose_program

REGISTRY = registry.REGISTRY


def aval(x) -> ShapedArray:
    return ShapedArray(x.shape, x.dtype, False)


def one_eqn_program(name: str, args, params) -> Program:
    prim = REGISTRY[name]
    inputs = [Var(aval(a)) for a in args]
    outputs = [Var(a) for a in prim.abstract_eval(*(v.aval for v in inputs), **params)]
    return Program(inputs, [Eqn(prim, inputs, outputs, params, None)], outputs)


def traced(fn, *examples) -> Program:
    """The closed program of `fn` over tracers shaped like `examples`, built with `prim`."""
    builder = Builder()
    with trace_into(builder):
        outs = fn(*(builder.new_input(aval(x)) for x in examples))
    program, captured = builder.build(list(outs))
    assert not captured
    return program


def prim(name: str, *args, **params):
    return bind(REGISTRY[name], *args, **params)


def run_numpy(program: Program, args) -> list:
    return numpy_backend.run(program, list(args))


def xla_backend():
    pytest.importorskip("jax")
    from jx.backends.xla import runtime as xla

    return xla


# ------------------------------------------------------------------ rows at the edges
# Derivatives at a zero base, of saturating functions, with signs mixed; non-square
# decompositions whose full factors extend past the rank; narrow ints that wrap.


def _binary(name, x, y, diff=()):
    return Spec(name, (x, y), {}, BINARY_REFS[name], diff)


def _unary(name, values, diff=(0,)):
    return Spec(name, (np.asarray(values),), {}, UNARY_REFS[name], diff)


EDGES = (
    [_binary("pow", np.array([0.0, 0.0, 1.5]), np.array([2.0, 3.0, 0.5]), (0,)),
     _binary("rem", np.array([-3.7, 2.2, -0.4, 5.1]), np.array([1.5, -1.3, 0.9, -2.2]), (0, 1)),
     _binary("atan2", np.array([0.0, 1.0, -1.0]), np.array([1.0, 1e-3, -1e-3]), (0, 1))]
    + [_unary(name, values) for name, values in
       [("logistic", [-30.0, -5.0, 0.0, 30.0]), ("expm1", [-1e-3, 1e-5, 0.0]),
        ("log1p", [-1e-3, 1e-5, 0.0]), ("erf_inv", [-0.99, 0.0, 0.995]), ("tanh", [-20.0, 0.0])]]
    + [Spec("svd", (rand(*shape, dtype=F64),), {"full_matrices": True, "compute_uv": True},
            LINALG_REFS["svd"], (0,), vary=scale_floats) for shape in [(4, 3), (3, 4)]]
    + [Spec("qr", (rand(*shape, dtype=F64),), {"full_matrices": full}, LINALG_REFS["qr"], (0,),
            vary=scale_floats) for shape, full in [((4, 3), True), ((3, 4), False)]]
    + [Spec("triangular_solve", (SQUARE + rand(2, 3, 3, dtype=F64), rand(2, 3, 2, dtype=F64)),
            {"left_side": True, "lower": True, "transpose_a": False, "unit_diagonal": False},
            LINALG_REFS["triangular_solve"], (0, 1), (1,))]
)  # fmt: skip

I8 = np.array([-128, -128, 7, -7, -128, 127], np.int8)
# -128 / -1 wraps to -128; no zeros: division by zero is defined above the primitive.
I8_DIVISORS = np.array([-1, 1, -1, 3, -2, -1], np.int8)
U8 = ints(6, dtype=np.uint8, low=0, high=256)
F16 = rand(3, 4, dtype=np.float16, low=0.1, high=2)
NARROW = (
    [_binary(n, I8, I8_DIVISORS) for n in ("div", "floor_divide", "rem", "mul", "add", "sub")]
    + [Spec(n, (I8,), {}, f, ()) for n, f in [("neg", np.negative), ("abs", np.abs)]]
    + [_binary(n, U8, ints(6, dtype=np.uint8, low=1, high=10)) for n in
       ("mul", "add", "sub", "shift_left", "shift_right", "div", "rem", "pow")]
    + [_unary(n, F16, ()) for n in ("exp", "tanh", "sin", "sqrt", "log")]
    + [_binary(n, F16, F16[::-1]) for n in ("add", "mul", "div", "max", "pow", "lt")]
)  # fmt: skip

# ------------------------------------------------------------------ rows built on the IR


def _branch(f):
    return lambda x, y: (f(x, y), prim("sin", x))


BRANCHES = tuple(
    traced(_branch(f), np.zeros(3), np.zeros(3))
    for f in (lambda x, y: prim("mul", x, y), lambda x, y: prim("sub", x, prim("exp", y)))
)


def _cond_ref(index, x, y, *, branches):
    outs = [(x * y, np.sin(x)), (x - np.exp(y), np.sin(x))]
    return outs[int(np.clip(index, 0, 1))]


def _vary_index(i, x, k):
    return np.asarray(x + k, x.dtype) if i == 0 else np.roll(x, k)


def _scan_body(c, carry, x):
    new = prim("add", prim("mul", carry, c), x)
    return new, prim("sin", prim("mul", carry, x))


def _scan_ref(c, carry, xs, *, body, length, num_consts, num_carry, reverse):
    ys = np.zeros_like(xs)
    for i in reversed(range(length)) if reverse else range(length):
        ys[i] = np.sin(carry * xs[i])
        carry = carry * c + xs[i]
    return carry, ys


def _while_ref(limit, c, i, x, **params):
    while i < limit:
        i, x = i + 1, np.cos(x) * c
    return i, x


def _scan_spec(reverse, length=4, xfail=None):
    c, carry, xs = rand(2, dtype=F64), rand(2, dtype=F64), rand(length, 2, dtype=F64)
    body = traced(_scan_body, c, carry, carry)
    params = {"body": body, "length": length, "num_consts": 1, "num_carry": 1, "reverse": reverse}
    return Spec("scan", (c, carry, xs), params, _scan_ref, (0, 1, 2), xfail=xfail or {})


def _while_spec():
    limit, i = np.array(3, np.int32), np.array(0, np.int32)
    c, x = rand(2, dtype=F64), rand(2, dtype=F64)
    cond = traced(lambda lim, i, x: (prim("lt", i, lim),), limit, i, x)
    one = np.array(1, np.int32)
    body = traced(lambda c, i, x: (prim("add", i, one), prim("mul", prim("cos", x), c)), c, i, x)
    params = {"cond_program": cond, "body_program": body, "cond_nconsts": 1, "body_nconsts": 1}
    return Spec("while", (limit, c, i, x), params, _while_ref, (1, 3), reverse=False,
                vary=_vary_index)  # fmt: skip


CONTROL_FLOW = [
    Spec("cond", (np.array(k, np.int32), rand(3, dtype=F64), rand(3, dtype=F64)),
         {"branches": BRANCHES}, _cond_ref, (1, 2), vary=_vary_index)
    for k in (0, 1, 5, -3)
] + [_scan_spec(False), _scan_spec(True), _scan_spec(False, 0),
     _while_spec()]  # fmt: skip

SPECS = ARRAY_SPECS + EDGES + NARROW + CONTROL_FLOW

# Collectives act over a named mapped axis: each row is an example batch of AXIS operands.
AXIS = 4
COLLECTIVES = {
    "psum": (lambda xs: np.broadcast_to(xs.sum(0), xs.shape), {}),
    "pmax": (lambda xs: np.broadcast_to(xs.max(0), xs.shape), {}),
    "pmin": (lambda xs: np.broadcast_to(xs.min(0), xs.shape), {}),
    "all_gather": (lambda xs: np.broadcast_to(xs, (AXIS,) + xs.shape), {"axis_size": AXIS}),
}
COLLECTIVE_ROWS = [
    (name, xs) for name in COLLECTIVES for xs in (rand(AXIS, 3), np.arange(AXIS * 2).reshape(AXIS, 2))
]  # fmt: skip

# ------------------------------------------------------------------ comparing


def as_outputs(value) -> list:
    return [np.asarray(v) for v in value] if isinstance(value, (tuple, list)) else [value]


def tolerance(dtype) -> float:
    return {np.dtype(np.float16): 2e-3, np.dtype(np.float32): 2e-6}.get(np.dtype(dtype), 1e-12)


def assert_matches(got, want, atol=0.0):
    got, want = np.asarray(got), np.asarray(want)
    assert (got.dtype, got.shape) == (want.dtype, want.shape)
    if want.dtype.kind == "f":
        tol = tolerance(want.dtype)
        np.testing.assert_allclose(
            got.astype(F64), want.astype(F64), rtol=tol, atol=tol + atol, equal_nan=True
        )
    else:
        np.testing.assert_array_equal(got, want)


def assert_all_match(got, want, atol=0.0):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_matches(g, w, atol)


def _labels(specs) -> dict:
    """Each row's test id, `NAME-K` for the primitive's K-th row, whatever a test selects."""
    seen: dict = {}
    labels = {}
    for spec in specs:
        seen[spec.name] = seen.get(spec.name, -1) + 1
        labels[id(spec)] = f"{spec.name}-{seen[spec.name]}"
    return labels


LABELS = _labels(SPECS)


def rows(specs, check: str, keep=lambda spec: True):
    params = []
    for spec in specs:
        if keep(spec):
            reason = spec.xfail.get(check)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(spec, id=LABELS[id(spec)], marks=marks))
    return params


def reference(spec: Spec, args) -> list:
    with np.errstate(all="ignore"):  # IEEE results (inf, nan) are part of the specs
        return as_outputs(spec.ref(*args, **spec.params))


def program_of(spec: Spec) -> Program:
    return one_eqn_program(spec.name, spec.args, spec.params)


def dot(xs, ys) -> float:
    return sum(float(np.sum(np.asarray(x, F64) * np.asarray(y, F64))) for x, y in zip(xs, ys))


def rng_for(spec: Spec, stream: int) -> np.random.Generator:
    """Random directions seeded by the row, so that a test run alone draws what it drew;
    stream 0 for tangents, 1 for cotangents."""
    return np.random.default_rng([zlib.crc32(LABELS[id(spec)].encode()), stream])


EPS = 1e-6


# ------------------------------------------------------------------ the table


# The primitives of custom derivative rules carry a user's rule: tests/test_custom_rules.py
# checks them (values, JVP, transpose, batching) against JAX on the rules JAX users write.
CUSTOM_RULES = {"custom_jvp_call", "custom_vjp_call", "custom_vjp_lin", "saved_dot"}


def test_every_primitive_has_a_row():
    # debug_print and progress have no outputs to compare: test_debugging.py and
    # test_progress.py check what they print.
    covered = (
        {s.name for s in SPECS}
        | set(COLLECTIVES)
        | {"axis_index", "debug_print", "progress"}
        | CUSTOM_RULES
    )
    missing, unknown = sorted(set(REGISTRY) - covered), sorted(covered - set(REGISTRY))
    assert set(REGISTRY) == covered, f"no spec row for {missing}; rows for unknown {unknown}"


def test_every_transpose_rule_has_a_linear_row():
    """A transpose rule is checked by a row linear in some operand, or (control flow) by reverse
    mode through the row's sub-programs."""
    # collectives: reverse mode under vmap and pmap against JAX, tests/test_collective_ad.py
    through_reverse_mode = {s.name for s in CONTROL_FLOW} | CUSTOM_RULES | {"psum", "all_gather"}
    linear = {s.name for s in SPECS if s.linear} | through_reverse_mode
    untested = sorted(n for n, p in REGISTRY.items() if p.transpose and n not in linear)
    assert not untested, f"transpose rules no row checks: {untested}"


@pytest.mark.parametrize("spec", rows(SPECS, "value"))
def test_value_matches_numpy_reference(spec):
    got = run_numpy(program_of(spec), spec.args)
    assert_all_match(got, reference(spec, spec.args), spec.atol)


def _jvp(spec):
    """(the JVP program, out tangent mask, tangents, primal outputs, output tangents)."""
    rule = REGISTRY[spec.name].jvp
    assert rule is not None, f"{spec.name}'s row says it is differentiable: it needs a JVP rule"
    nonzero = [i in spec.diff for i in range(len(spec.args))]
    program, out_nonzero = jvp_program(program_of(spec), nonzero)
    rng = rng_for(spec, 0)
    tangents = [rng.normal(size=spec.args[i].shape) for i in spec.diff]
    results = run_numpy(program, [*spec.args, *tangents])
    n_out = len(out_nonzero)
    return program, out_nonzero, tangents, results[:n_out], results[n_out:]


def _finite_difference(spec, tangents, out_nonzero):
    def at(sign):
        moved = list(spec.args)
        for i, t in zip(spec.diff, tangents):
            moved[i] = moved[i] + sign * EPS * t
        outs = reference(spec, moved)
        return [o for o, nz in zip(outs, out_nonzero) if nz]

    return [(p - m) / (2 * EPS) for p, m in zip(at(1), at(-1))]


DIFFERENTIABLE = [s for s in SPECS if s.diff]


@pytest.mark.parametrize("spec", rows(DIFFERENTIABLE, "jvp"))
def test_jvp_matches_finite_differences(spec):
    _, out_nonzero, tangents, outs, touts = _jvp(spec)
    assert_all_match(outs, reference(spec, spec.args))
    fd = _finite_difference(spec, tangents, out_nonzero)
    assert len(touts) == len(fd)
    for got, want in zip(touts, fd):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("spec", rows(DIFFERENTIABLE, "vjp", lambda s: s.reverse))
def test_vjp_matches_finite_differences(spec):
    program, out_nonzero, tangents, _, touts = _jvp(spec)
    n_in, n_out = len(spec.args), len(out_nonzero)
    linear_in = [False] * n_in + [True] * len(tangents)
    linear_out = [False] * n_out + [True] * len(touts)
    backward = transpose_program(program, linear_in, linear_out)
    rng = rng_for(spec, 1)
    cotangents = [rng.normal(size=t.shape) for t in touts]
    grads = run_numpy(backward, [*spec.args, *cotangents])
    assert [g.shape for g in grads] == [t.shape for t in tangents]
    forward = dot(cotangents, touts)
    reverse = dot(grads, tangents)
    assert reverse == pytest.approx(forward, rel=1e-9, abs=1e-12)  # <v, J t> = <J^T v, t>
    fd = dot(cotangents, _finite_difference(spec, tangents, out_nonzero))
    assert reverse == pytest.approx(fd, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("spec", rows(DIFFERENTIABLE, "refused", lambda s: not s.reverse))
def test_refused_reverse_mode_names_the_primitive(spec):
    program, out_nonzero, tangents, _, touts = _jvp(spec)
    linear_in = [False] * len(spec.args) + [True] * len(tangents)
    linear_out = [False] * len(out_nonzero) + [True] * len(touts)
    with pytest.raises(JxError, match=spec.name):
        transpose_program(program, linear_in, linear_out)


NEVER_DIFFERENTIABLE = {s.name for s in SPECS} - {s.name for s in DIFFERENTIABLE}


@pytest.mark.parametrize(
    "spec",
    rows(SPECS, "zero tangent", lambda s: s.name in NEVER_DIFFERENTIABLE
         and any(a.dtype.kind == "f" for a in s.args)),
)  # fmt: skip
def test_non_differentiable_primitives_have_zero_tangents(spec):
    floats = [i for i, a in enumerate(spec.args) if a.dtype.kind == "f"]
    program, out_nonzero = jvp_program(
        program_of(spec), [i in floats for i in range(len(spec.args))]
    )
    tangents = [np.ones_like(spec.args[i]) for i in floats]
    touts = run_numpy(program, [*spec.args, *tangents])[len(out_nonzero) :]
    for t in touts:
        np.testing.assert_array_equal(t, np.zeros_like(t))


@pytest.mark.parametrize("spec", rows(SPECS, "transpose", lambda s: s.linear))
def test_transpose_rule_satisfies_dot_product_identity(spec):
    assert REGISTRY[spec.name].transpose is not None, (
        f"{spec.name}'s row says it is linear in operands {spec.linear}: it needs a transpose rule"
    )
    program = program_of(spec)
    linear_in = [i in spec.linear for i in range(len(spec.args))]
    backward = transpose_program(program, linear_in, [True] * len(program.outputs))
    rng = rng_for(spec, 0)
    tangents = {i: rng.normal(size=spec.args[i].shape).astype(spec.args[i].dtype)
                for i in spec.linear}  # fmt: skip
    applied = run_numpy(program, [tangents.get(i, a) for i, a in enumerate(spec.args)])
    rng = rng_for(spec, 1)
    cotangents = [rng.normal(size=o.shape).astype(o.dtype) for o in applied]
    fixed = [a for i, a in enumerate(spec.args) if i not in spec.linear]
    grads = run_numpy(backward, [*fixed, *cotangents])
    tol = max(tolerance(o.dtype) for o in applied) * 10
    assert dot(grads, tangents.values()) == pytest.approx(dot(cotangents, applied), rel=tol)


# ------------------------------------------------------------------ batching

BATCH = 3


def _roll(i, x, k):
    return np.roll(x.ravel(), k).reshape(x.shape)


def _batch_variants(spec):
    """In-dims per operand: all at 0, all last, only the first, only the last batched."""
    n = len(spec.args)
    variants = [
        ("front", [0] * n),
        ("back", [a.ndim for a in spec.args]),
        ("first", [0] + [None] * (n - 1)),
        ("last", [None] * (n - 1) + [0]),
    ]
    unique, seen = [], set()
    for name, dims in variants:
        if tuple(dims) not in seen:
            seen.add(tuple(dims))
            unique.append((name, dims))
    return unique


BATCH_ROWS = [
    pytest.param(p.values[0], dims, id=f"{p.id}-{name}", marks=p.marks)
    for p in rows(SPECS, "batch", lambda s: s.args)
    for name, dims in _batch_variants(p.values[0])
]


@pytest.mark.parametrize(("spec", "in_dims"), BATCH_ROWS)
def test_batching_matches_a_loop(spec, in_dims):
    assert REGISTRY[spec.name].batch is not None, f"{spec.name} needs a batching rule"
    vary = spec.vary or _roll
    examples = [
        [a if d is None else vary(i, a, k) for i, (a, d) in enumerate(zip(spec.args, in_dims))]
        for k in range(BATCH)
    ]
    stacked = [
        a if d is None else np.stack([ex[i] for ex in examples], axis=d)
        for i, (a, d) in enumerate(zip(spec.args, in_dims))
    ]
    program = program_of(spec)
    batched, out_dims = batch_program(program, in_dims, BATCH)
    got = run_numpy(batched, stacked)
    loop = [run_numpy(program, ex) for ex in examples]
    for k, (g, d) in enumerate(zip(got, out_dims)):
        want = np.stack([outs[k] for outs in loop])
        assert_matches(g if d is not None else np.broadcast_to(g, want.shape), want)


# ------------------------------------------------------------------ collectives


def _collective_program(name, example):
    return one_eqn_program(name, [example], {"axis_name": "i", **COLLECTIVES[name][1]})


def _named_vmap(program, xs):
    batched, (d,) = batch_program(program, [0], AXIS, "i")
    (out,) = run_numpy(batched, [xs])
    return out if d is not None else np.broadcast_to(out, (AXIS,) + out.shape)


@pytest.mark.parametrize(("name", "xs"), COLLECTIVE_ROWS)
def test_collective_under_named_vmap_matches_reference(name, xs):
    got = _named_vmap(_collective_program(name, xs[0]), xs)
    assert_matches(got, np.ascontiguousarray(COLLECTIVES[name][0](xs)))


@pytest.mark.parametrize(("name", "xs"), COLLECTIVE_ROWS)
def test_collective_batched_over_another_axis_matches_a_loop(name, xs):
    inner, _ = batch_program(_collective_program(name, xs[0]), [0], 2)  # an unnamed axis
    pairs = np.stack([xs, xs[::-1] * 2], axis=1)  # (AXIS, 2, ...)
    got = _named_vmap(inner, pairs)
    loop = [_named_vmap(_collective_program(name, xs[0]), pairs[:, j]) for j in range(2)]
    assert_matches(got, np.stack(loop, axis=1))


def test_axis_index_under_named_vmap():
    program = one_eqn_program("axis_index", [], {"axis_name": "i"})
    batched, (d,) = batch_program(program, [], AXIS, "i")
    assert d == 0
    assert_matches(run_numpy(batched, [])[0], np.arange(AXIS, dtype=np.int32))


@pytest.mark.parametrize("name", ["psum", "pmax", "pmin", "all_gather"])
def test_collective_jvp_under_named_vmap(name):
    xs = rand(AXIS, 3).astype(F64)
    program, _ = jvp_program(_collective_program(name, xs[0]), [True])
    tangents = np.random.default_rng(0).normal(size=xs.shape)
    batched, _ = batch_program(program, [0, 0], AXIS, "i")
    _, tout = run_numpy(batched, [xs, tangents])
    ref = COLLECTIVES[name][0]
    want = (ref(xs + EPS * tangents) - ref(xs - EPS * tangents)) / (2 * EPS)
    np.testing.assert_allclose(np.broadcast_to(tout, want.shape), want, rtol=1e-6)


# ------------------------------------------------------------------ families, by hypothesis

SMALL = hnp.array_shapes(max_dims=2, max_side=5)


@pytest.mark.parametrize("name", sorted(UNARY_REFS))
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_unary_float_family(name, data):
    low, high = (float(np.float32(b)) for b in DOMAINS.get(name, (-3, 3)))
    values = st.floats(low, high, width=32)
    x = data.draw(hnp.arrays(np.float32, SMALL, elements=values))
    (got,) = run_numpy(one_eqn_program(name, [x], {}), [x])
    assert_matches(got, np.asarray(UNARY_REFS[name](x)).astype(np.float32), atol=1e-6)


@pytest.mark.parametrize("name", ["div", "floor_divide", "rem", "max", "min", "mul", "sub"])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_integer_binary_family(name, data):
    shape = data.draw(SMALL)
    values = st.integers(-50, 50)
    x = data.draw(hnp.arrays(np.int32, shape, elements=values))
    y = data.draw(hnp.arrays(np.int32, shape, elements=values))
    (got,) = run_numpy(one_eqn_program(name, [x, y], {}), [x, y])
    assert_matches(got, BINARY_REFS[name](x, y))


FLOATS = st.floats(-4, 4, width=32) | st.sampled_from([0.0, -0.0, 1.0, -1.0])


@pytest.mark.parametrize("name", ["div", "floor_divide", "rem", "atan2", "pow", "max", "nextafter"])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_float_binary_family(name, data):
    shape = data.draw(SMALL)
    x = data.draw(hnp.arrays(np.float32, shape, elements=FLOATS))
    y = data.draw(hnp.arrays(np.float32, shape, elements=FLOATS))
    (got,) = run_numpy(one_eqn_program(name, [x, y], {}), [x, y])
    with np.errstate(all="ignore"):
        assert_matches(got, BINARY_REFS[name](x, y))


# ------------------------------------------------------------------ the XLA backend


@pytest.fixture(scope="module")
def xla_results():
    """The results of every row expected to lower from one compiled program holding them all
    (compiling one small module per row would take a tenth of a second each)."""
    xla = xla_backend()
    specs = [spec for spec in SPECS if "xla" not in spec.xfail]
    programs = [program_of(spec) for spec in specs]
    inputs = [v for p in programs for v in p.inputs]
    eqns = [e for p in programs for e in p.eqns]
    outputs = [v for p in programs for v in p.outputs]
    results = xla.compile(Program(inputs, eqns, outputs))(*(a for s in specs for a in s.args))
    starts = np.cumsum([0] + [len(p.outputs) for p in programs])
    return {id(s): results[a:b] for s, a, b in zip(specs, starts[:-1], starts[1:])}


@pytest.mark.parametrize("spec", rows(SPECS, "xla"))
def test_xla_matches_numpy(xla_results, spec):
    got = xla_results.get(id(spec))
    if got is None:  # a known failure, run alone so that it cannot break the others
        got = xla_backend().run(program_of(spec), list(spec.args))
    assert_all_match(got, run_numpy(program_of(spec), spec.args), atol=1e-6)


@pytest.mark.parametrize(("name", "xs"), COLLECTIVE_ROWS)
def test_collective_under_xla_pmap(name, xs):
    xla = xla_backend()
    shards = [[x] for x in xs]
    got = np.stack([out for (out,) in xla.pmap(_collective_program(name, xs[0]), shards, "i")])
    assert_matches(got, np.ascontiguousarray(COLLECTIVES[name][0](xs)))
