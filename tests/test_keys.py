"""PRNG key linearity (LANGUAGE.md section 6): what is a use, what is a reuse, and where
the error points. These need no JAX."""

import jx
import numpy as np
import pytest


def run(src):
    return jx.compile(src)


def reuse_error(src):
    with pytest.raises(jx.KeyReuseError) as info:
        run(src)
    return info.value


def test_top_level_reuse_found_before_running():
    err = reuse_error(
        "import random\n"
        "k = random.key(0)\n"
        "a = random.normal(k, (3,))\n"
        "b = random.uniform(k, (3,))\n"
    )
    assert err.span.line == 4
    assert err.notes and err.notes[0][1].line == 3
    assert "first used here" in err.render()


def test_check_command_reports_top_level_reuse(tmp_path):
    import subprocess
    import sys

    f = tmp_path / "reuse.jx"
    f.write_text("import random\nk = random.key(0)\nx = random.normal(k)\ny = random.normal(k)\n")
    proc = subprocess.run(
        [sys.executable, "-m", "jx.cli", "check", str(f)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert ":4:" in proc.stderr.splitlines()[0] and "KeyReuseError" in proc.stderr


def test_reuse_in_a_static_loop_inside_a_function():
    err = reuse_error(
        "import random\n"
        "def noisy(x, key):\n"
        "    y = x\n"
        "    for i in range(3):\n"
        "        y = y + random.normal(key, x.shape)\n"
        "    return y\n"
        "z = noisy(zeros(2), random.key(1))\n"
    )
    assert err.span.line == 5
    assert err.notes[0][1].line == 5


def test_rebinding_in_the_loop_is_fine():
    m = run(
        "import random\n"
        "def noisy(x, key):\n"
        "    y = x\n"
        "    for i in range(3):\n"
        "        key, sub = random.split(key)\n"
        "        y = y + random.normal(sub, x.shape)\n"
        "    return y\n"
        "z = noisy(zeros(2), random.key(1))\n"
    )
    assert m.z.shape == (2,)


def test_exclusive_branches_are_one_use():
    m = run(
        "import random\n"
        "def f(x, key):\n"
        "    if x > 0:\n"
        "        y = random.normal(key)\n"
        "    else:\n"
        "        y = random.uniform(key)\n"
        "    return y\n"
        "a = f(1.0, random.key(0))\n"
        "k = random.key(3)\n"
        "if True:\n"
        "    b = random.normal(k)\n"
        "else:\n"
        "    b = random.uniform(k)\n"
    )
    assert np.isfinite(m.a) and np.isfinite(m.b)


def test_key_array_elements_are_distinct_keys():
    m = run(
        "import random\n"
        "ks = random.split(random.key(7), 8)\n"
        "a = random.normal(ks[0])\n"
        "b = random.normal(ks[1])\n"
        "n = len(ks)\n"
        "s = ks.shape\n"
    )
    assert m.n == 8 and m.s == (8,)
    assert m.a != m.b


def test_same_element_twice_is_reuse():
    err = reuse_error(
        "import random\nks = random.split(random.key(7), 4)\n"
        "a = random.normal(ks[2])\nb = random.normal(ks[2])\n"
    )
    assert err.span.line == 4


def test_key_data_is_not_a_use():
    m = run("import random\nk = random.key(0)\nd = random.key_data(k)\nk1, k2 = random.split(k)\n")
    assert list(m.d) == [0, 0]


def test_passing_a_key_to_a_function_uses_it():
    err = reuse_error(
        "import random\n"
        "def draw(k) = random.normal(k)\n"
        "k = random.key(0)\n"
        "a = draw(k)\n"
        "b = draw(k)\n"
    )
    assert err.span.line == 5


def test_traced_loop_body_cannot_consume_an_outer_key():
    with pytest.raises(jx.KeyReuseError) as info:
        run(
            "import random\n"
            "def f(x, key):\n"
            "    while x < 10.0:\n"
            "        x = x + random.uniform(key)\n"
            "    return x\n"
            "y = f(0.0, random.key(0))\n"
        )
    assert info.value.span.line == 4


def test_keys_have_no_arithmetic():
    with pytest.raises(jx.TypeError):
        run("import random\nk = random.key(0)\nj = k + 1\n")


def test_global_rng_call_is_a_type_error():
    with pytest.raises(jx.TypeError) as info:
        run("import random\nx = random.normal((3, 3))\n")
    assert info.value.span.line == 2


def test_single_key_needed():
    with pytest.raises(jx.TypeError) as info:
        run("import random\nks = random.split(random.key(0), 3)\nx = random.normal(ks)\n")
    assert "single key" in info.value.message


def static_check(src):
    """The checks `jx check` runs, without running anything."""
    from jx import modules, syntax

    modules.check_module(syntax.parse(src, "keys.jx"))


def test_printing_a_key_is_not_a_use_for_the_checker():
    static_check("import random\nk = random.key(0)\nprint(k)\nx = random.normal(k, (3,))\n")


@pytest.mark.parametrize(
    "define",
    [
        "f = lambda s: random.normal(k, s)\n",
        "def f(s):\n    return random.normal(k, s)\n",
    ],
)
def test_checker_sees_a_key_used_through_a_closure(define):
    src = (
        "import random\nk = random.key(0)\n" + define + "a = f((2,))\nb = random.normal(k, (2,))\n"
    )
    with pytest.raises(jx.KeyReuseError) as info:
        static_check(src)
    err = info.value
    assert err.span.line == src.count("\n")  # the direct use, last line
    assert err.notes[0][1].line == src.count("\n") - 1  # first used by the call of f
    with pytest.raises(jx.KeyReuseError):  # and the tracer agrees when it runs
        run(src)


def test_checker_reads_a_closure_key_at_call_time():
    # `key` is bound after `g` is defined, and rebinding it gives the next call a fresh key.
    body = "import random\ndef g(n):\n    return random.uniform(key, (n,))\nkey = random.key(0)\n"
    static_check(body + "a = g(2)\nkey = random.key(1)\nb = g(3)\n")
    with pytest.raises(jx.KeyReuseError) as info:
        static_check(body + "a = g(2)\nb = g(3)\n")
    assert info.value.span.line == 6
    assert "'g' uses key 'key' here" in info.value.render()


def test_a_closure_parameter_is_not_the_outer_key():
    static_check(
        "import random\nk = random.key(0)\ndef f(k):\n    return random.normal(k, (2,))\n"
        "a, b = random.split(k)\nx = f(a)\ny = f(b)\n"
    )


LOOP_KEYS = """
import random
rng = random.key(0)
ks = random.split(random.key(1), 3)
def by_fold(i, acc) = acc + random.normal(random.fold_in(rng, i), ())
def by_index(i, acc) = acc + random.normal(ks[i], ())
a = fori_loop(0, 3, by_fold, 0.0)
b = fori_loop(0, 3, by_index, 0.0)
again = random.key(0)  # the same numbers from a key of its own
def by_fold_again(i, acc) = acc + random.normal(random.fold_in(again, i), ())
c = jit(lambda n: fori_loop(0, n, by_fold_again, 0.0))(3)
"""


def test_a_loop_index_gives_each_iteration_its_own_key():
    # fold_in(k, i) and ks[i] with the loop's own index are a new key on every iteration.
    m = run(LOOP_KEYS)
    want = run(
        "import random\nrng = random.key(0)\nks = random.split(random.key(1), 3)\n"
        "a = sum(array([random.normal(random.fold_in(rng, i), ()) for i in range(3)]))\n"
        "b = random.normal(ks[0], ()) + random.normal(ks[1], ()) + random.normal(ks[2], ())\n"
    )
    np.testing.assert_allclose(m.a, want.a, rtol=1e-6)
    np.testing.assert_allclose(m.c, want.a, rtol=1e-6)
    np.testing.assert_allclose(m.b, want.b, rtol=1e-6)


@pytest.mark.parametrize(
    "body",
    [
        "acc + random.normal(random.fold_in(rng, 2), ())",  # the same key every iteration
        "acc + random.normal(random.fold_in(rng, i), ()) + random.normal(random.fold_in(rng, i), ())",
    ],
)
def test_a_loop_still_cannot_reuse_an_outer_key(body):
    src = (
        f"import random\nrng = random.key(0)\ndef f(i, acc) = {body}\nx = fori_loop(0, 3, f, 0.0)\n"
    )
    reuse_error(src)


def test_printing_a_key_is_not_a_use_when_it_runs():
    m = run("import random\nk = random.key(0)\nprint(k)\nx = random.normal(k, (2,))\n")
    assert m.x.shape == (2,)


def test_fold_in_with_distinct_static_data_gives_distinct_keys():
    src = "import random\nk = random.key(0)\na = random.fold_in(k, 0)\nb = random.fold_in(k, 1)\n"
    static_check(src)
    run(src)
    same = "import random\nk = random.key(0)\na = random.fold_in(k, 1)\nb = random.fold_in(k, 1)\n"
    with pytest.raises(jx.KeyReuseError):
        static_check(same)
    assert reuse_error(same.replace("\nb", "\nc = 0\nb")).span.line == 5
