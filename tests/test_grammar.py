"""Every construct of the surface syntax (LANGUAGE.md sections 1-5) parses to the AST it should.

Expected trees are written with the small constructors below; spans are left out of node
equality, so `None` stands in for them, and a few tests check spans on their own.
"""

import pytest
from jx import ast
from jx.errors import JxSyntaxError
from jx.syntax import parse, parse_expression


def N(id):
    return ast.Name(None, id)


def C(value):
    return ast.Const(None, value)


def Bin(op, left, right):
    return ast.BinOp(None, op, left, right)


def Un(op, operand):
    return ast.UnaryOp(None, op, operand)


def Tup(*elts):
    return ast.TupleExpr(None, elts)


def Arr(*elts):
    return ast.ListExpr(None, elts)


def Call(func, *args, **keywords):
    kws = tuple(ast.Keyword(None, k, v) for k, v in keywords.items())
    return ast.Call(None, func, args, kws)


def Attr(value, attr):
    return ast.Attribute(None, value, attr)


def Sub(value, index):
    return ast.Subscript(None, value, index)


def Sl(lower=None, upper=None, step=None):
    return ast.Slice(None, lower, upper, step)


def Cmp(left, *rest):
    return ast.Compare(None, left, rest[0::2], rest[1::2])


def P(name, default=None, star=False):
    return ast.Param(None, name, default, star)


def Def(name, params, *body):
    return ast.FunctionDef(None, name, params, body)


def Assign(*targets_and_value):
    return ast.Assign(None, targets_and_value[:-1], targets_and_value[-1])


def Expr(value):
    return ast.ExprStmt(None, value)


def If(test, body, orelse=()):
    return ast.If(None, test, body, orelse)


def Ret(value=None):
    return ast.Return(None, value)


x, y, z, a, b, c, i, j = (N(s) for s in ["x", "y", "z", "a", "b", "c", "i", "j"])


# ------------------------------------------------------------------ expressions

EXPRESSIONS = [
    # literals
    ("1", C(1)),
    ("0", C(0)),
    ("1_000", C(1000)),
    ("0x1F", C(31)),
    ("0XfF", C(255)),
    ("1.5", C(1.5)),
    ("1.", C(1.0)),
    (".5", C(0.5)),
    ("1e-3", C(1e-3)),
    ("2.5E+2", C(250.0)),
    ("1_0.0_1", C(10.01)),
    ("True", C(True)),
    ("False", C(False)),
    ("None", C(None)),
    ("...", ast.EllipsisLit(None)),
    ('"hello"', C("hello")),
    ("'hello'", C("hello")),
    ('""', C("")),
    (r'"a\"b"', C('a"b')),
    (r"'it\'s'", C("it's")),
    (r'"tab\there\n"', C("tab\there\n")),
    (r'"back\\"', C("back\\")),
    ("'say \"hi\"'", C('say "hi"')),
    ('"ij,jk->ik"', C("ij,jk->ik")),
    ("x", x),
    ("_x1", N("_x1")),
    ("iffy", N("iffy")),
    ("not_", N("not_")),
    # arithmetic: precedence and associativity as in Python
    ("a + b * c", Bin("+", a, Bin("*", b, c))),
    ("a * b + c", Bin("+", Bin("*", a, b), c)),
    ("a - b - c", Bin("-", Bin("-", a, b), c)),
    ("a / b / c", Bin("/", Bin("/", a, b), c)),
    ("a // b % c", Bin("%", Bin("//", a, b), c)),
    ("a @ b * c", Bin("*", Bin("@", a, b), c)),
    ("a + b @ c", Bin("+", a, Bin("@", b, c))),
    ("a ** b ** c", Bin("**", a, Bin("**", b, c))),
    ("-x**2", Un("-", Bin("**", x, C(2)))),
    ("2**-1", Bin("**", C(2), Un("-", C(1)))),
    ("-a * b", Bin("*", Un("-", a), b)),
    ("a * -b", Bin("*", a, Un("-", b))),
    ("+x", Un("+", x)),
    ("- -x", Un("-", Un("-", x))),
    ("~x", Un("~", x)),
    ("(a + b) * c", Bin("*", Bin("+", a, b), c)),
    ("a << b + c", Bin("<<", a, Bin("+", b, c))),
    ("a >> b", Bin(">>", a, b)),
    ("a & b << c", Bin("&", a, Bin("<<", b, c))),
    ("a ^ b & c", Bin("^", a, Bin("&", b, c))),
    ("a | b ^ c", Bin("|", a, Bin("^", b, c))),
    ("a | b | c", Bin("|", Bin("|", a, b), c)),
    ("~a & b", Bin("&", Un("~", a), b)),
    ("-x.y", Un("-", Attr(x, "y"))),
    ("-f(x)[0]", Un("-", Sub(Call(N("f"), x), C(0)))),
    # comparisons and boolean operators
    ("a < b", Cmp(a, "<", b)),
    ("a <= b", Cmp(a, "<=", b)),
    ("a > b", Cmp(a, ">", b)),
    ("a >= b", Cmp(a, ">=", b)),
    ("a == b", Cmp(a, "==", b)),
    ("a != b", Cmp(a, "!=", b)),
    ("a < b <= c", Cmp(a, "<", b, "<=", c)),
    ("a | b == c", Cmp(Bin("|", a, b), "==", c)),
    ("a + 1 > b * 2", Cmp(Bin("+", a, C(1)), ">", Bin("*", b, C(2)))),
    ("not a", Un("not", a)),
    ("not a == b", Un("not", Cmp(a, "==", b))),
    ("not not a", Un("not", Un("not", a))),
    ("a and b", ast.BoolOp(None, "and", (a, b))),
    ("a and b and c", ast.BoolOp(None, "and", (a, b, c))),
    ("a or b or c", ast.BoolOp(None, "or", (a, b, c))),
    (
        "not a and b or c",
        ast.BoolOp(None, "or", (ast.BoolOp(None, "and", (Un("not", a), b)), c)),
    ),
    ("a or b and c", ast.BoolOp(None, "or", (a, ast.BoolOp(None, "and", (b, c))))),
    # conditional expressions and lambdas
    ("a if b else c", ast.IfExp(None, b, a, c)),
    ("a if b else c if x else y", ast.IfExp(None, b, a, ast.IfExp(None, x, c, y))),
    ("a or b if c else x", ast.IfExp(None, c, ast.BoolOp(None, "or", (a, b)), x)),
    ("lambda: 1", ast.Lambda(None, (), C(1))),
    ("lambda x: x + 1", ast.Lambda(None, (P("x"),), Bin("+", x, C(1)))),
    ("lambda x, y=2: x", ast.Lambda(None, (P("x"), P("y", C(2))), x)),
    ("lambda *xs: xs", ast.Lambda(None, (P("xs", star=True),), N("xs"))),
    ("lambda x: a if x else b", ast.Lambda(None, (P("x"),), ast.IfExp(None, x, a, b))),
    ("lambda x: lambda y: x", ast.Lambda(None, (P("x"),), ast.Lambda(None, (P("y"),), x))),
    # calls, attributes, methods
    ("f()", Call(N("f"))),
    ("f(x)", Call(N("f"), x)),
    ("f(x, y,)", Call(N("f"), x, y)),
    ("f(x, axis=0)", Call(N("f"), x, axis=C(0))),
    ("f(a=1, b=2)", Call(N("f"), a=C(1), b=C(2))),
    ("f(*t)", Call(N("f"), ast.Starred(None, N("t")))),
    ("f(x, *t, k=1)", Call(N("f"), x, ast.Starred(None, N("t")), k=C(1))),
    (
        "f(lambda p, g: p - g, x)",
        Call(N("f"), ast.Lambda(None, (P("p"), P("g")), Bin("-", N("p"), N("g"))), x),
    ),
    ("f(x)(y)", Call(Call(N("f"), x), y)),
    ("jit(f)(x).shape", Attr(Call(Call(N("jit"), N("f")), x), "shape")),
    ("x.T", Attr(x, "T")),
    ("random.normal(k, (3, 3))", Call(Attr(N("random"), "normal"), N("k"), Tup(C(3), C(3)))),
    ("x.sum(axis=0, keepdims=True)", Call(Attr(x, "sum"), axis=C(0), keepdims=C(True))),
    ("x.at[i].set(v)", Call(Attr(Sub(Attr(x, "at"), i), "set"), N("v"))),
    ("x.at[i, j].add(1.0)", Call(Attr(Sub(Attr(x, "at"), Tup(i, j)), "add"), C(1.0))),
    ("x.at[i].get()", Call(Attr(Sub(Attr(x, "at"), i), "get"))),
    # indexing
    ("x[i]", Sub(x, i)),
    ("x[-1]", Sub(x, Un("-", C(1)))),
    ("x[i, j]", Sub(x, Tup(i, j))),
    ("x[i][j]", Sub(Sub(x, i), j)),
    ("x[a:b:c]", Sub(x, Sl(a, b, c))),
    ("x[a:b]", Sub(x, Sl(a, b))),
    ("x[a:]", Sub(x, Sl(a))),
    ("x[:b]", Sub(x, Sl(None, b))),
    ("x[:]", Sub(x, Sl())),
    ("x[::2]", Sub(x, Sl(step=C(2)))),
    ("x[::-1]", Sub(x, Sl(step=Un("-", C(1))))),
    ("x[:, 0]", Sub(x, Tup(Sl(), C(0)))),
    ("x[1:, ::2]", Sub(x, Tup(Sl(C(1)), Sl(step=C(2))))),
    ("x[..., None]", Sub(x, Tup(ast.EllipsisLit(None), C(None)))),
    ("x[1,]", Sub(x, Tup(C(1)))),
    ("x[(1,)]", Sub(x, Tup(C(1)))),
    ("x[(1)]", Sub(x, C(1))),
    ("x[i + 1]", Sub(x, Bin("+", i, C(1)))),
    ('p["w"]', Sub(N("p"), C("w"))),
    # tuples, arrays, records
    ("()", Tup()),
    ("(a,)", Tup(a)),
    ("(a, b)", Tup(a, b)),
    ("(a, b,)", Tup(a, b)),
    ("(a)", a),
    ("((a, b), c)", Tup(Tup(a, b), c)),
    ("a, b", Tup(a, b)),
    ("a,", Tup(a)),
    ("[]", Arr()),
    ("[1.0, 2.0]", Arr(C(1.0), C(2.0))),
    ("[[1, 2], [3, 4]]", Arr(Arr(C(1), C(2)), Arr(C(3), C(4)))),
    ("[1, 2,]", Arr(C(1), C(2))),
    ("{}", ast.DictExpr(None, (), ())),
    ('{"w": w, "b": b}', ast.DictExpr(None, ("w", "b"), (N("w"), b))),
    ("{'w': 1,}", ast.DictExpr(None, ("w",), (C(1),))),
    ('{"inner": {"a": 1}}', ast.DictExpr(None, ("inner",), (ast.DictExpr(None, ("a",), (C(1),)),))),
    # comprehensions
    (
        "[r * 2 for r in xs]",
        ast.ListComp(None, Bin("*", N("r"), C(2)), (ast.Comprehension(None, N("r"), N("xs"), ()),)),
    ),
    (
        "[i * i for i in range(n)]",
        ast.ListComp(
            None,
            Bin("*", i, i),
            (ast.Comprehension(None, i, Call(N("range"), N("n")), ()),),
        ),
    ),
    (
        "[i for i in xs if i > 0 if i < 9]",
        ast.ListComp(
            None,
            i,
            (ast.Comprehension(None, i, N("xs"), (Cmp(i, ">", C(0)), Cmp(i, "<", C(9)))),),
        ),
    ),
    (
        "[i + j for i in xs for j in ys if j]",
        ast.ListComp(
            None,
            Bin("+", i, j),
            (
                ast.Comprehension(None, i, N("xs"), ()),
                ast.Comprehension(None, j, N("ys"), (j,)),
            ),
        ),
    ),
    (
        "[a + b for a, b in pairs]",
        ast.ListComp(None, Bin("+", a, b), (ast.Comprehension(None, Tup(a, b), N("pairs"), ()),)),
    ),
    (
        "[a if a > 0 else 0 for a in xs]",
        ast.ListComp(
            None,
            ast.IfExp(None, Cmp(a, ">", C(0)), a, C(0)),
            (ast.Comprehension(None, a, N("xs"), ()),),
        ),
    ),
]


@pytest.mark.parametrize(("source", "expected"), EXPRESSIONS, ids=[s for s, _ in EXPRESSIONS])
def test_expression(source, expected):
    (stmt,) = parse(source).body
    assert stmt == Expr(expected)


def test_parse_expression():
    assert parse_expression("x + 1") == Bin("+", x, C(1))
    with pytest.raises(JxSyntaxError, match="expected a single expression"):
        parse_expression("x = 1")


# ------------------------------------------------------------------ statements

STATEMENTS = [
    # imports
    ("import nn", [ast.Import(None, "nn", None)]),
    ("import random as r", [ast.Import(None, "random", "r")]),
    ("import nn, random as r", [ast.Import(None, "nn", None), ast.Import(None, "random", "r")]),
    ("import a.b", [ast.Import(None, "a.b", None)]),
    (
        "from nn import relu as r, softmax",
        [ast.ImportFrom(None, "nn", (("relu", "r"), ("softmax", None)))],
    ),
    (
        "from nn import (relu,\n  softmax,)",
        [ast.ImportFrom(None, "nn", (("relu", None), ("softmax", None)))],
    ),
    # functions
    ("def f(x):\n    return x\n", [Def("f", (P("x"),), Ret(x))]),
    ("def f():\n    pass\n", [Def("f", (), ast.Pass(None))]),
    (
        "def f(x, y, axis=0):\n    z = x * y\n    return sum(z, axis=axis)\n",
        [
            Def(
                "f",
                (P("x"), P("y"), P("axis", C(0))),
                Assign(z, Bin("*", x, y)),
                Ret(Call(N("sum"), z, axis=N("axis"))),
            )
        ],
    ),
    ("def f(*args):\n    return args\n", [Def("f", (P("args", star=True),), Ret(N("args")))]),
    (
        "def f(x, *rest, k=1):\n    return x\n",
        [Def("f", (P("x"), P("rest", star=True), P("k", C(1))), Ret(x))],
    ),
    ("def f(\n    x,\n    y,\n):\n    return x\n", [Def("f", (P("x"), P("y")), Ret(x))]),
    ("def h(x) = x * 2", [Def("h", (P("x"),), Ret(Bin("*", x, C(2))))]),
    ("def k() = 1", [Def("k", (), Ret(C(1)))]),
    (
        "def g(x) = -4*x*x*x + 9*x*x + 6*x - 3      # expression-bodied shorthand\n",
        [
            Def(
                "g",
                (P("x"),),
                Ret(
                    Bin(
                        "-",
                        Bin(
                            "+",
                            Bin(
                                "+",
                                Bin("*", Bin("*", Bin("*", Un("-", C(4)), x), x), x),
                                Bin("*", Bin("*", C(9), x), x),
                            ),
                            Bin("*", C(6), x),
                        ),
                        C(3),
                    )
                ),
            )
        ],
    ),
    ("def f(x): return x", [Def("f", (P("x"),), Ret(x))]),
    ("def f(x): y = x; return y", [Def("f", (P("x"),), Assign(y, x), Ret(y))]),
    ("add1 = lambda x: x + 1", [Assign(N("add1"), ast.Lambda(None, (P("x"),), Bin("+", x, C(1))))]),
    ("def f():\n    return\n", [Def("f", (), Ret())]),
    ("def f(x):\n    return x, 1\n", [Def("f", (P("x"),), Ret(Tup(x, C(1))))]),
    # control flow
    ("if x:\n    y = 1\n", [If(x, (Assign(y, C(1)),))]),
    ("if x: y = 1", [If(x, (Assign(y, C(1)),))]),
    (
        "if x > 0:\n    y = x\nelse:\n    y = 2 * x\n",
        [If(Cmp(x, ">", C(0)), (Assign(y, x),), (Assign(y, Bin("*", C(2), x)),))],
    ),
    (
        "if a:\n    x = 1\nelif b:\n    x = 2\nelif c:\n    x = 3\nelse:\n    x = 4\n",
        [
            If(
                a,
                (Assign(x, C(1)),),
                (If(b, (Assign(x, C(2)),), (If(c, (Assign(x, C(3)),), (Assign(x, C(4)),)),)),),
            )
        ],
    ),
    (
        "if a:\n    pass\nelif b:\n    pass\n",
        [If(a, (ast.Pass(None),), (If(b, (ast.Pass(None),)),))],
    ),
    (
        "for i in range(20):\n    x = 0.5 * (x + a / x)\n",
        [
            ast.For(
                None,
                i,
                Call(N("range"), C(20)),
                (Assign(x, Bin("*", C(0.5), Bin("+", x, Bin("/", a, x)))),),
            )
        ],
    ),
    (
        "for row in xs:\n    s += row\n",
        [ast.For(None, N("row"), N("xs"), (ast.AugAssign(None, N("s"), "+", N("row")),))],
    ),
    ("for a, b in pairs:\n    pass\n", [ast.For(None, Tup(a, b), N("pairs"), (ast.Pass(None),))]),
    ("for (a, b) in pairs: pass", [ast.For(None, Tup(a, b), N("pairs"), (ast.Pass(None),))]),
    ("for x in a, b: pass", [ast.For(None, x, Tup(a, b), (ast.Pass(None),))]),
    (
        "while x > 1.0:\n    x = x / 2.0\n    n = n + 1\n",
        [
            ast.While(
                None,
                Cmp(x, ">", C(1.0)),
                (Assign(x, Bin("/", x, C(2.0))), Assign(N("n"), Bin("+", N("n"), C(1)))),
            )
        ],
    ),
    (
        "def f(x):\n    for i in xs:\n        if i:\n            x = x + i\n    return x\n",
        [
            Def(
                "f",
                (P("x"),),
                ast.For(None, i, N("xs"), (If(i, (Assign(x, Bin("+", x, i)),)),)),
                Ret(x),
            )
        ],
    ),
    # assertions and effects
    ("assert x", [ast.Assert(None, x, None)]),
    (
        'assert x > 0, "x must be positive"',
        [ast.Assert(None, Cmp(x, ">", C(0)), C("x must be positive"))],
    ),
    ("pass", [ast.Pass(None)]),
    ("print(x)", [Expr(Call(N("print"), x))]),
    ('save("out.npz", a=x, b=y)', [Expr(Call(N("save"), C("out.npz"), a=x, b=y))]),
    # assignment
    ("x = 1", [Assign(x, C(1))]),
    ("a = b = 1", [Assign(a, b, C(1))]),
    ("a, b = t", [Assign(Tup(a, b), N("t"))]),
    ("(a, b) = t", [Assign(Tup(a, b), N("t"))]),
    ("a, (b, c) = t", [Assign(Tup(a, Tup(b, c)), N("t"))]),
    (
        "k1, k2 = random.split(k)",
        [Assign(Tup(N("k1"), N("k2")), Call(Attr(N("random"), "split"), N("k")))],
    ),
    ("x = a, b", [Assign(x, Tup(a, b))]),
    (
        "params = params + ((w, b),)",
        [Assign(N("params"), Bin("+", N("params"), Tup(Tup(N("w"), b))))],
    ),
    # mutation parses; the checker rejects it with a hint
    ("x[i] = v", [Assign(Sub(x, i), N("v"))]),
    ("x.attr = v", [Assign(Attr(x, "attr"), N("v"))]),
    ("x[i] += v", [ast.AugAssign(None, Sub(x, i), "+", N("v"))]),
    # global, nonlocal and del parse only so the checker can say why not
    ("global x", [ast.Forbidden(None, "global")]),
    ("global x, y", [ast.Forbidden(None, "global")]),
    ("nonlocal x", [ast.Forbidden(None, "nonlocal")]),
    ("del x", [ast.Forbidden(None, "del")]),
    ("del x[0], y", [ast.Forbidden(None, "del")]),
    # layout: comments, blank lines, joining, semicolons, endings
    ("# only a comment", []),
    ("", []),
    ("\n\n\n", []),
    ("x = 1  # one\n# two\n\n\ny = 2 # three\n", [Assign(x, C(1)), Assign(y, C(2))]),
    (
        (
            "def f(x):\n    # leading comment\n\n    y = x  # trailing\n"
            "        # odd indent\n    return y\n"
        ),
        [Def("f", (P("x"),), Assign(y, x), Ret(y))],
    ),
    ("x = (1 +\n     2)", [Assign(x, Bin("+", C(1), C(2)))]),
    ("x = [1,\n  2,\n\n      3]", [Assign(x, Arr(C(1), C(2), C(3)))]),
    (
        'r = {\n  "w": 1,  # weights\n  "b": 2,\n}',
        [Assign(N("r"), ast.DictExpr(None, ("w", "b"), (C(1), C(2))))],
    ),
    ("f(a,\n  b=1)", [Expr(Call(N("f"), a, b=C(1)))]),
    ("x = 1 + \\\n    2", [Assign(x, Bin("+", C(1), C(2)))]),
    ("if a and \\\n   b:\n    pass\n", [If(ast.BoolOp(None, "and", (a, b)), (ast.Pass(None),))]),
    ("x = 1; y = 2", [Assign(x, C(1)), Assign(y, C(2))]),
    ("x = 1; y = 2;", [Assign(x, C(1)), Assign(y, C(2))]),
    ("x = 1", [Assign(x, C(1))]),
    ("x = 1\n", [Assign(x, C(1))]),
    ("x = 1  # no newline at the end", [Assign(x, C(1))]),
    ("x = 1\r\ny = 2\r\n", [Assign(x, C(1)), Assign(y, C(2))]),
    ("if x:\n    y = 1", [If(x, (Assign(y, C(1)),))]),
    (
        "if x:\n    if y:\n        z = 1\nw = 2",
        [If(x, (If(y, (Assign(z, C(1)),)),)), Assign(N("w"), C(2))],
    ),
    ("x = 1\n   \ny = 2", [Assign(x, C(1)), Assign(y, C(2))]),
    ("x =\t1", [Assign(x, C(1))]),
]

AUGMENTED = ["+", "-", "*", "/", "//", "%", "**", "@", "&", "|", "^", "<<", ">>"]
STATEMENTS += [(f"x {op}= 2", [ast.AugAssign(None, x, op, C(2))]) for op in AUGMENTED]


@pytest.mark.parametrize(("source", "expected"), STATEMENTS, ids=[s for s, _ in STATEMENTS])
def test_statement(source, expected):
    assert list(parse(source).body) == expected


# ------------------------------------------------------------------ whole programs

SECTION_1 = """\
import nn
import random

def f(x):
    return x + x*x + x*x*x

def g(x) = -4*x*x*x + 9*x*x + 6*x - 3      # expression-bodied shorthand

k1, k2 = random.split(random.key(0))
x = random.normal(k1, (1000, 1000))
print(jit(f)(x).shape)
assert allclose(grad(g)(1.0), 12.0)
"""

SECTION_4 = """\
def f(x, y, axis=0):            # defaults and keyword arguments
    z = x * y
    return sum(z, axis=axis)

def h(x) = x * 2                # shorthand
add1 = lambda x: x + 1

def step(x):
    if x > 0:                   # traced condition: both branches are traced
        y = x                   # names bound in every branch survive the if
    else:
        y = 2 * x
    return y

def newton_sqrt(a):
    x = a
    for i in range(20):         # static trip count; body rebinds loop state
        x = 0.5 * (x + a / x)
    return x

def count(x):
    n = 0
    while x > 1.0:              # traced condition: a while loop in the IR
        x = x / 2.0
        n = n + 1
    return n

def rows(xs) = [r * 2 for r in xs]    # comprehension over the leading axis: stacks
def tri(n) = [i * i for i in range(n)]
"""

TRAINING = """\
import nn
from nn import relu, softmax as sm

def loss(params, x, y):
    for w, b in params:
        x = relu(x @ w + b)
    return mean((x - y) ** 2)

params = ()
for i in range(3):
    params = params + ((zeros((4, 4)), zeros(4)),)
g = grad(loss)(params, x, y)
params = tree_map(lambda p, d: p - 0.1 * d, params, g)
v = x.at[0, :].set(1.0).at[..., None].get()
save("out.npz", w=params[0][0], b=params[0][1])
"""


@pytest.mark.parametrize("program", [SECTION_1, SECTION_4, TRAINING])
def test_whole_program(program):
    module = parse(program, "prog.jx")
    assert module.body
    assert all(isinstance(node, ast.Node) for stmt in module.body for node in ast.walk(stmt))


def test_section_1_top_level():
    kinds = [type(s).__name__ for s in parse(SECTION_1).body]
    assert kinds == [
        "Import",
        "Import",
        "FunctionDef",
        "FunctionDef",
        "Assign",
        "Assign",
        "ExprStmt",
        "Assert",
    ]


# ------------------------------------------------------------------ keywords are not names

KEYWORD_MISUSE = [
    "x = if",
    "def return(x):\n    pass\n",
    "x.for",
    "def f(None): pass",
    "import if",
    "lambda = 1",
    "True = 1",
    "x = break",
    "class = 1",
]


@pytest.mark.parametrize("source", KEYWORD_MISUSE)
def test_keyword_is_not_a_name(source):
    with pytest.raises(JxSyntaxError):
        parse(source)


# ------------------------------------------------------------------ spans


def _find(module, cls, **fields):
    for stmt in module.body:
        for node in ast.walk(stmt):
            if isinstance(node, cls) and all(getattr(node, k) == v for k, v in fields.items()):
                return node
    raise AssertionError(f"no {cls.__name__} with {fields}")


def _where(node):
    s = node.span
    return (s.line, s.column, s.end_line, s.end_column)


def test_spans_of_names_and_operators():
    module = parse("a = 1\n\nc = x + yy\n", "f.jx")
    assert _where(_find(module, ast.Name, id="yy")) == (3, 9, 3, 11)
    assert _where(_find(module, ast.Name, id="x")) == (3, 5, 3, 6)
    assert _where(_find(module, ast.BinOp, op="+")) == (3, 5, 3, 11)
    assert _where(module.body[1]) == (3, 1, 3, 11)
    assert module.body[1].span.source.name == "f.jx"


def test_spans_inside_blocks():
    source = "def f(x):\n    if x:\n        return x\n    elif y:\n        return g(x, k=2)\n"
    module = parse(source)
    fn = module.body[0]
    assert _where(fn)[:2] == (1, 1)
    assert (fn.name_span.line, fn.name_span.column, fn.name_span.end_column) == (1, 5, 6)
    inner = _find(module, ast.If, test=y)
    assert _where(inner)[:2] == (4, 5)
    assert _where(_find(module, ast.Call, func=N("g"))) == (5, 16, 5, 25)
    assert _where(_find(module, ast.Keyword, name="k")) == (5, 21, 5, 24)
    assert _where(_find(module, ast.Const, value=2)) == (5, 23, 5, 24)


def test_spans_across_joined_lines():
    module = parse("x = f(1,\n      zz)\ny = 1 + \\\n    qq\n")
    assert _where(_find(module, ast.Name, id="zz")) == (2, 7, 2, 9)
    assert _where(_find(module, ast.Call)) == (1, 5, 2, 10)
    assert _where(_find(module, ast.Name, id="qq")) == (4, 5, 4, 7)


def test_spans_of_literals_and_subscripts():
    module = parse('r = {"w": 1.5e-3}\nv = x[1:, ..., None]\n')
    assert _where(_find(module, ast.Const, value=1.5e-3)) == (1, 11, 1, 17)
    assert _where(_find(module, ast.Subscript)) == (2, 5, 2, 21)
    assert _where(_find(module, ast.EllipsisLit)) == (2, 11, 2, 14)
    assert _where(_find(module, ast.DictExpr)) == (1, 5, 1, 18)
