"""The IR checker: one hand-built broken program per rule, each error naming the rule and
showing the failing equation between its neighbours; the hooks after a builder and after
each pass; and programs from real transforms (grad, vmap, jit's passes, loops) passing."""

import os
import re

import jx
import numpy as np
import pytest
from jx import ir_check, passes, registry
from jx.api import using
from jx.backends import numpy as numpy_backend
from jx.core import Builder, bind, trace_into
from jx.dtypes import ShapedArray, f32, f64, i32
from jx.functions import trace_function, traced_leaf
from jx.ir import Eqn, Literal, Program, Var
from jx.ir_check import check_program

F3 = ShapedArray((3,), f32)
UNARY = ["sin", "cos", "exp", "tanh", "neg"]


def eqn(name, ins, outs, **params):
    prim = registry.REGISTRY[name]
    return Eqn(prim, ins, outs, params, None)


def chain(middle_out=None, middle_in=None):
    """x -> sin -> cos -> exp -> tanh -> neg; the exp equation (index 2) may be given another
    output Var or operand."""
    x = Var(F3)
    vs = [x]
    eqns = []
    for k, name in enumerate(UNARY):
        out = middle_out if k == 2 and middle_out is not None else Var(F3)
        arg = middle_in if k == 2 and middle_in is not None else vs[-1]
        eqns.append(eqn(name, [arg], [out]))
        vs.append(out)
    return Program([x], eqns, [vs[-1]])


def failure(program, match, **kwargs) -> str:
    with pytest.raises(jx.IRError, match=match) as info:
        check_program(program, **kwargs)
    return info.value.message


def assert_shows_neighbours(message, index, names):
    """The excerpt shows equations index-2 .. index+2, the one at `index` marked."""
    lines = message.splitlines()
    marked = [line for line in lines if line.startswith("> ")]
    assert len(marked) == 1 and re.search(rf"= {names[index]}[ \[]", marked[0])
    for k in range(max(0, index - 2), min(len(names), index + 3)):
        assert any(re.search(rf"= {names[k]}[ \[]", line) for line in lines), names[k]


def test_a_good_chain_passes():
    check_program(chain())


def test_wrong_output_shape():
    message = failure(chain(middle_out=Var(ShapedArray((4,), f32))), "shape differs")
    assert "equation 2 (exp): result 0 is f32[4], its shape rule gives f32[3]" in message
    assert_shows_neighbours(message, 2, UNARY)


def test_wrong_output_dtype():
    message = failure(chain(middle_out=Var(ShapedArray((3,), f64))), "dtype differs")
    assert_shows_neighbours(message, 2, UNARY)


def test_wrong_weak_flag():
    message = failure(chain(middle_out=Var(ShapedArray((3,), f32, True))), "weak flag differs")
    assert_shows_neighbours(message, 2, UNARY)


def test_var_used_before_its_definition():
    p = chain()
    later = p.eqns[3].outputs[0]
    broken = Program(p.inputs, [*p.eqns[:2], p.eqns[2].replace(inputs=(later,)), *p.eqns[3:]], [])
    message = failure(broken, "equation 2 \\(exp\\): operand 0 is used before its definition")
    assert_shows_neighbours(message, 2, UNARY)


def test_var_never_defined():
    message = failure(chain(middle_in=Var(F3)), "operand 0 is never defined in this program")
    assert_shows_neighbours(message, 2, UNARY)


def test_var_defined_twice():
    p = chain()
    again = p.eqns[1].outputs[0]
    eqns = [*p.eqns[:2], p.eqns[2].replace(outputs=(again,)), *p.eqns[3:]]
    eqns[3] = eqns[3].replace(inputs=(again,))
    message = failure(Program(p.inputs, eqns, p.outputs), "result 0 is a Var defined twice")
    assert_shows_neighbours(message, 2, UNARY)


def test_inputs_listed_twice():
    x = Var(F3)
    y = Var(F3)
    message = failure(Program([x, x], [eqn("add", [x, x], [y])], [y]), "input 1 is listed twice")
    assert message.splitlines()[1].startswith("> { lambda a:f32[3] a:f32[3]")


def test_undefined_output():
    p = chain()
    message = failure(Program(p.inputs, p.eqns, [Var(F3)]), "program output 0 is never defined")
    lines = message.splitlines()
    assert lines[-1] == ">   in (g) }"
    assert "= tanh " in lines[-3] and "= neg " in lines[-2]


def test_literal_whose_aval_disagrees():
    lit = Literal(np.zeros((), f64), ShapedArray((), f32, True))
    x, y, z = Var(F3), Var(F3), Var(F3)
    b = Var(ShapedArray((3,), f32))
    program = Program(
        [x],
        [
            eqn("sin", [x], [y]),
            eqn("broadcast_in_dim", [lit], [b], shape=(3,), broadcast_dimensions=()),
            eqn("add", [y, b], [z]),
        ],
        [z],
    )
    message = failure(program, "operand 0 is a literal that has aval f32\\[\\]~ but its value")
    assert_shows_neighbours(message, 1, ["sin", "broadcast_in_dim", "add"])


def test_shape_rule_that_rejects_the_operands():
    x, y = Var(F3), Var(ShapedArray((4,), f32))
    out = Var(F3)
    program = Program([x, y], [eqn("add", [x, y], [out])], [out])
    failure(program, "its shape rule rejects it: add: operand shapes")


def test_multiple_result_arity():
    x = Var(F3)
    outs = [Var(F3)]
    program = Program([x], [eqn("sort", [x, x], outs, dimension=0, num_keys=1)], outs)
    failure(program, "binds 1 results, its shape rule gives 2")


def test_single_result_primitive_binding_two():
    x = Var(F3)
    outs = [Var(F3), Var(F3)]
    failure(Program([x], [eqn("sin", [x], outs)], outs), "binds 2 results, not one")


def _branch(n_inputs):
    ins = [Var(F3) for _ in range(n_inputs)]
    out = Var(F3)
    return Program(ins, [eqn("sin", [ins[0]], [out])], [out])


def test_cond_branch_with_the_wrong_arity():
    index, x = Var(ShapedArray((), i32)), Var(F3)
    before, out, after = Var(F3), Var(F3), Var(F3)
    program = Program(
        [index, x],
        [
            eqn("cos", [x], [before]),
            eqn("cond", [index, before, x], [out], branches=(_branch(2), _branch(1))),
            eqn("exp", [out], [after]),
        ],
        [after],
    )
    message = failure(program, "branch 1 of equation 1 \\(cond\\): takes 1 inputs, not 2")
    assert_shows_neighbours(message, 1, ["cos", "cond", "exp"])


def test_while_body_giving_too_few_results():
    x, n = Var(F3), Var(ShapedArray((), i32))
    cx, cn, pred = Var(F3), Var(ShapedArray((), i32)), Var(ShapedArray((), np.dtype(bool)))
    cond = Program([cx, cn], [eqn("lt", [cn, cn], [pred])], [pred])
    bx, bn, bout = Var(F3), Var(ShapedArray((), i32)), Var(F3)
    body = Program([bx, bn], [eqn("sin", [bx], [bout])], [bout])
    outs = [Var(F3)]
    params = {"cond_program": cond, "body_program": body, "cond_nconsts": 0, "body_nconsts": 0}
    program = Program([x, n], [eqn("while", [x, n], outs, **params)], outs)
    failure(program, "body_program of equation 0 \\(while\\): gives 1 results, not 2")


def test_scan_operand_without_the_scanned_axis():
    c, xs = Var(F3), Var(ShapedArray((5, 3), f32))
    bc, bx, bout = Var(F3), Var(F3), Var(F3)
    body = Program([bc, bx], [eqn("add", [bc, bx], [bout])], [bout])
    outs = [Var(F3)]
    params = {"body": body, "length": 4, "num_consts": 0, "num_carry": 1, "reverse": False}
    program = Program([c, xs], [eqn("scan", [c, xs], outs, **params)], outs)
    failure(program, "scanned operand 0 is f32\\[5,3\\], its leading axis must be the length 4")


def test_failure_inside_a_sub_program_names_where_it_sits():
    index, x = Var(ShapedArray((), i32)), Var(F3)
    out = Var(F3)
    program = Program([index, x], [eqn("cond", [index, x], [out], branches=(chain(),))], [out])
    bad = chain(middle_out=Var(ShapedArray((4,), f32)))
    program.eqns[0].params["branches"] = (bad,)
    message = failure(program, "in branch 0 of equation 0 \\(cond\\)", after="cse")
    assert message.startswith("after pass 'cse', in branch 0 of equation 0 (cond): equation 2")
    assert_shows_neighbours(message, 2, UNARY)


def test_builder_hook_checks_what_it_closes(monkeypatch):
    monkeypatch.setattr(ir_check, "ENABLED", True)
    builder = Builder()
    with trace_into(builder):
        x = builder.new_input(F3)
        y = bind(registry.REGISTRY["sin"], x)
    builder.eqns[0] = builder.eqns[0].replace(outputs=(Var(ShapedArray((2,), f32)),))
    with pytest.raises(jx.IRError, match="equation 0 \\(sin\\): result 0 is f32\\[2\\]"):
        builder.build([y])


def test_pass_hook_names_the_pass(monkeypatch):
    def widen(program):
        first = program.eqns[0]
        wrong = first.replace(outputs=(Var(ShapedArray((9,), f32)),))
        return Program(program.inputs, [wrong, *program.eqns[1:]], program.outputs)

    monkeypatch.setattr(ir_check, "ENABLED", True)
    monkeypatch.setattr(passes, "PIPELINE", [("fold", passes.fold), ("widen", widen)])
    with pytest.raises(jx.IRError, match="after pass 'widen': equation 0 \\(sin\\)"):
        passes.optimize(chain())


# ------------------------------------------------------------------ real transforms pass


def traced(src, *args):
    m = jx.compile(src)
    with using(numpy_backend):
        return trace_function(m._scope.vars["f"], list(args), {}, None, is_leaf=traced_leaf).program


X = np.linspace(0.1, 1.0, 4).astype(np.float32)
N = np.int32(3)

WHILE = """
def f(x, n):
    i = 0
    while i < n:
        x = x * 0.5
        i = i + 1
    return x
"""
SCAN = """
def f(x):
    acc = 0.0
    for r in x.reshape(2, 2):
        acc = acc + sum(r)
    return acc
"""
JACFWD_OF_WHILE = """
def g(x, n):
    i = 0
    while i < n:
        x = sin(x)
        i = i + 1
    return x
def f(x, n) = jacfwd(g)(x, n)
"""
VMAP_OF_WHILE = """
def g(x, n):
    i = 0
    acc = 0.0
    while i < n:
        acc = acc * 0.5 + sum(x)
        i = i + 1
    return acc
def f(x, n) = vmap(g, in_axes=(0, None))(x.reshape(2, 2), n)
"""
REAL = {
    "grad": ("def g(x) = sum(sin(x) * x)\ndef f(x) = grad(g)(x)\n", (X,)),
    "hessian": ("def g(x) = sum(exp(x) * x)\ndef f(x) = hessian(g)(x)\n", (X,)),
    "vmap": ("def g(x) = sum(x * x)\ndef f(x) = vmap(g)(x.reshape(2, 2))\n", (X,)),
    "jit passes": ("def f(x) = (sin(x) * 1.0 + 0.0) * sin(x) + exp(zeros(4))\n", (X,)),
    "cond": ("def f(x):\n    if sum(x) > 0.0:\n        return x\n    return 2.0 * x\n", (X,)),
    "while": (WHILE, (X, N)),
    "scan": (SCAN, (X,)),
    "jacfwd of while": (JACFWD_OF_WHILE, (X, N)),
    "vmap of while": (VMAP_OF_WHILE, (X, N)),
}


@pytest.mark.parametrize("name", REAL)
def test_programs_from_real_transforms_pass(name):
    src, args = REAL[name]
    program = traced(src, *args)
    check_program(program)
    for pass_name, _ in passes.PIPELINE:
        check_program(passes.optimize(program, until=pass_name), after=pass_name)


# ------------------------------------------------------------------ bugs the checker found


def test_simplify_forwards_only_a_value_of_the_same_aval():
    # x * 1 with a weak x and a strong 1 is strong: forwarding x made later equations weak.
    program = traced("def g(x) = x * x * x\ndef f(x) = grad(grad(grad(g)))(x)\n", 2.0)
    check_program(passes.simplify(program), after="simplify")


def test_a_program_evaluated_inside_a_trace_keeps_its_literals_weak():
    m = jx.compile(
        "def g(x) = 2.0\ndef f(x) = vmap(g, out_axes=None)(x) + x\ndef f_jit(x) = jit(g)(x) + x\n"
    )
    x = np.ones(3, np.float16)
    assert m.f(x).dtype == m.f_jit(x).dtype == np.float16
    assert jx.jit(m.f)(x).dtype == np.float16


def test_the_suite_runs_with_the_checker_on():
    assert ir_check.ENABLED == (os.environ["JX_CHECK_IR"] != "0")
