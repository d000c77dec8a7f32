"""The error contract under fuzzing: every bad input is a JxError with a span in its source.

`test_bounded_campaign` runs a fixed, bounded campaign (tests/fuzz) and fails on any failure
signature outside KNOWN_BUGS, the one allow-list of open bugs; strike an entry when its bug
is fixed. The reproducers from the issue each get a test of their own; those that fail today
are strict xfails, so a fix shows up as an unexpected pass.
"""

import jx
import pytest

from tests.fuzz.cases import Case, make_case
from tests.fuzz.runner import Limits, run_cases, run_in_process

SEED, CASES, WORKERS = 1, 2000, 2
# The CLI cases start `python -m jx.cli` (fork, then exec at once) from a process that has
# jax loaded; jax warns about any fork.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")

# Known bugs: each signature with a minimised reproducer. Strike an entry once it is fixed.
KNOWN_BUGS = {
    # known bug (the change that makes host lists trees fixes it):
    # from Python, jx.compile("def f(x) = x").f([[1, 2], [3]])
    "ValueError@jx.api:to_jx",
    # known bug: import nn / nn.gelu("nope"): span in nn.jx
    "jx.TypeError-span-elsewhere@jx.interp:binary_op",
    # known bug: import nn / nn.gelu(nn.sigmoid, ones(4)): span in nn.jx
    "jx.TypeError-span-elsewhere@jx.control:_predicate",
}


def test_bounded_campaign():
    found: dict[str, str] = {}

    def on_outcome(case, outcome):
        if outcome.signature is not None and outcome.signature not in KNOWN_BUGS:
            found.setdefault(outcome.signature, f"{case.name} via {case.via}")

    cases = (make_case(SEED, i, cli_every=300) for i in range(CASES))
    run_cases(cases, "numpy", Limits(seconds=5.0), WORKERS, on_outcome)
    assert not found, "new failure signatures:\n" + "\n".join(
        f"{signature}  (first: {where})" for signature, where in sorted(found.items())
    )


def judged(source: str, via: str = "compile", arguments: str = "") -> str | None:
    return run_in_process(Case("repro.jx", source, via, arguments), "numpy").signature


FIXED = [
    "print(ones((2, 3)).sum(axiss=0))",
    "print(1, 2, sep=3)",
    "print(1, end=2)",
    "std(1.0, axis=0)",
    "max(1.0, 0)",
    "argmin(1, 0)",
    "hstack(())",
    "f = lambda x: x\njit(f, static_argnums=i64)",
    'x = ones(2)\nsave("o.npz", file=x)',
    'x = ones(2)\nsave("k.npz", allow_pickle=x)',
    "array([2**70])",
    "reshape(ones(1), (2**64,))",
    "int(inf)",
    "int(nan)",
    "float(10**400)",
    "len(range(10**20))",
    "round(ones(3), 400)",
    "arange(nan)",
    "print(10**5000)",
    "x = 2 ** (10**10)",
    "jit(lambda x: x + zeros((2**40, 2**40)))(ones(1))",
    "jacfwd(lambda x: x * 2.0)(ones(200000))",
    "print(sum(zeros((1 << 40,))))",
    "y = while_loop(lambda v: v < 3, lambda v: v + 0.5, 0)",
    "import nn\nnn.one_hot(2, 1)()",
    "import nn\nprint(nn.softmax(f32))",
    "import nn\nnn.normalize(1e320)",
    "import nn\nprint(nn.logsumexp([[]]))",
    "import nn\nnn.one_hot(3.5, num_classes=f64)",
    "import nn\nnn.he_uniform((), ones(4))",
    "import nn\n[() @ nn.glorot_normal(inf, True) for v in ones(3)]",
    "import nn\nprint(sin(where(ones(4) > 0, i64, nn.logsumexp(f32))))",
    "import nn\nnn.log_sigmoid(x='nope')",
    "import random\nrandom.normal(random.key(3), (-1))",
    "import random\nrandom.normal(random.key(3), (2**63))",
    "import random\nrandom.uniform(random.key(0), (10**203))",
    "mean(transpose(eye(4), (5)))",
    "r = pmap(lambda r: r * 0)(eye(0))",
    "y = grad(lambda x: 3)(1.0)",
    "y = grad(lambda x: True)(1.0)",
    "y = (())[::0]",
    "z = arange(10).at[2:f64].add(100)",
    "print(sin(any(eye(4), keepdims=ones(4))))",
    "def fn(x) = " + "[" * 70 + "sum(square(x))" + "]" * 70 + "\nh = jacfwd(jacrev(fn))(ones(3))",
    "import linalg\nlinalg.eigh(eye(2), eye(2))",
    "import linalg\nlinalg.cholesky(eye(2), eye(2))",
    "digitize(ones(2), ones(2), eye(2))",
    "import linalg\nlinalg.eigvalsh(eye(3), eye(3))",
    "import linalg\nx = ones((2, 2))\nlinalg.qr(x, x)",
    "import linalg\nx = ones((2, 2))\nlinalg.svd(x, full_matrices=x)",
    "trace(ones(3))",
    "jit(lambda x: x)(2**63)",
]


@pytest.mark.parametrize("source", FIXED)
def test_fixed_reproducer(source, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert judged(source) is None


def test_fori_loop_int_carry_is_an_error():
    with pytest.raises(jx.JxError) as caught:
        jx.compile("y = fori_loop(0, 3, lambda i, v: v + 0.5, 0)", name="repro.jx")
    assert caught.value.span is not None


def test_an_empty_loop_from_python_on_xla_keeps_its_carry():
    m = jx.compile("def f(x) = fori_loop(0, -1, lambda i, v: v + 1.0, x)", backend="xla")
    assert float(m.f(2.0)) == 2.0


def test_ragged_host_argument():  # a list, as a jx list literal would be
    assert judged("def f(x) = x", "call", "[[1, 2], [3]]") is None
