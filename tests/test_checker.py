"""The static checker: every rule gives its error class, the location and a clear message,
before anything runs (LANGUAGE.md section 3)."""

import textwrap

import jx
import numpy as np
import pytest


def error_of(source: str, **kwargs) -> jx.JxError:
    with pytest.raises(jx.JxError) as info:
        jx.compile(textwrap.dedent(source), **kwargs)
    return info.value


def expect(source: str, cls, line: int, column: int, *words: str) -> jx.JxError:
    """Compile `source`; it must fail with `cls` at line:column, the message holding `words`."""
    err = error_of(source)
    assert type(err) is cls, err.render()
    assert (err.span.line, err.span.column) == (line, column), err.render()
    for word in words:
        assert word in err.render(), err.render()
    return err


def caret_line(err: jx.JxError) -> str:
    lines = err.render().splitlines()
    assert lines[0].startswith(f"<string>:{err.span.line}:{err.span.column}: {err.kind}: ")
    return lines[2]


# ------------------------------------------------------------------ names


def test_undefined_name_suggests_a_builtin():
    err = expect(
        "x = onez(3)\n", jx.NameError, 1, 5, "name 'onez' is not defined", "did you mean 'ones'?"
    )
    assert caret_line(err) == "        ^^^^"


def test_undefined_name_suggests_a_local():
    source = """
    def f(total):
        return totl * 2
    """
    expect(source, jx.NameError, 3, 12, "'totl'", "did you mean 'total'?")


def test_undefined_name_without_a_close_match_has_no_hint():
    err = expect("def f(x):\n    return x + yy\n", jx.NameError, 2, 16, "'yy' is not defined")
    assert "did you mean" not in err.message


def test_name_checked_in_a_function_that_is_never_called():
    expect("def f(x):\n    return x + y\n", jx.NameError, 2, 16, "'y'")


def test_comprehension_and_lambda_names_are_scoped():
    jx.compile("f = lambda a: [a * i for i in range(3)]\n")
    expect("f = lambda a: a\ny = a\n", jx.NameError, 2, 5, "'a'")
    expect("y = [i for i in range(3)]\nz = i\n", jx.NameError, 2, 5, "'i'")


def test_names_bound_later_at_top_level_are_visible_in_functions():
    m = jx.compile("def f(x) = x * scale\nscale = 3.0\ny = f(2.0)\n")
    assert float(m.y) == 6.0


# ------------------------------------------------------------------ mutation


def test_element_assignment_is_a_purity_error_with_the_at_hint():
    err = expect(
        "x = zeros(3)\nx[0] = 1.0\n", jx.PurityError, 2, 1, "immutable", "use x = x.at[0].set(1.0)"
    )
    assert caret_line(err) == "    ^^^^"


def test_element_augmented_assignment_hints_add():
    expect("x = zeros(3)\nx[0] += 1.0\n", jx.PurityError, 2, 1, "use x = x.at[0].add(1.0)")


def test_slice_augmented_assignment_inside_a_function():
    source = """
    def f(x):
        x[1:2] *= 3.0
        return x
    """
    expect(source, jx.PurityError, 3, 5, "use x = x.at[1:2].mul(3.0)")


def test_element_assignment_inside_a_function_that_is_never_called():
    source = """
    def f(y):
        z = y * 2
        z[0] = 1.0
        return z
    """
    expect(source, jx.PurityError, 4, 5, "z.at[0].set(1.0)")


def test_attribute_assignment():
    expect("x = zeros(3)\nx.a = 1.0\n", jx.PurityError, 2, 1, "attribute 'a'", "immutable")
    expect("def f(x):\n    x.shape = 3\n    return x\n", jx.PurityError, 2, 5, "'shape'")


def test_tuple_target_with_an_element_is_refused():
    expect("x = zeros(3)\na, x[0] = 1.0, 2.0\n", jx.PurityError, 2, 4, "immutable")


@pytest.mark.parametrize("keyword", ["global", "nonlocal"])
def test_global_and_nonlocal_are_not_in_the_language(keyword):
    source = f"def f(x):\n    {keyword} y\n    return x\n"
    expect(source, jx.PurityError, 2, 5, f"'{keyword}' is not part of jx")


def test_del_is_not_in_the_language():
    expect("x = 1\ndel x\n", jx.PurityError, 2, 1, "'del' is not part of jx", "rebind")


def test_rebinding_is_not_mutation():
    m = jx.compile("x = ones(2)\nx = x + 1\nx += 1\n")
    np.testing.assert_array_equal(m.x, [3.0, 3.0])


# ------------------------------------------------------------------ effects


@pytest.mark.parametrize(
    "call, column",
    [("print(x)", 5), ('save("a.npy", x)', 5), ('y = load("a.npy")', 9)],
)
def test_effects_inside_a_function(call, column):
    name = call.split("(")[0].split()[-1]
    source = f"def f(x):\n    {call}\n    return x\n"
    err = expect(
        source,
        jx.PurityError,
        2,
        column,
        f"{name}() is an effect",
        "functions are pure",
        "at top level",
    )
    assert "^" in caret_line(err)


@pytest.mark.parametrize("call", ["print(x)", 'save("a.npy", x)', 'load("a.npy")'])
def test_effects_inside_a_lambda(call):
    expect(f"g = lambda x: {call}\n", jx.PurityError, 1, 15, "is an effect", "functions are pure")


def test_effect_inside_a_lambda_inside_a_function():
    source = """
    def f(x):
        g = lambda y: print(y)
        return x
    """
    expect(source, jx.PurityError, 3, 19, "print() is an effect")


def test_assert_inside_a_function():
    source = "def f(x):\n    assert x > 0, 'positive'\n    return x\n"
    expect(source, jx.PurityError, 2, 5, "assert is an effect", "top level")


def test_effect_through_a_rebound_name_is_caught_when_traced():
    source = "def f(x):\n    p = print\n    p(x)\n    return x\ny = f(1.0)\n"
    err = expect(source, jx.PurityError, 3, 5, "print() is an effect")
    assert any(note_span.line == 5 for _, note_span in err.notes if note_span)


def test_a_parameter_named_like_an_effect_is_not_the_effect():
    m = jx.compile("def f(print, x) = print(x)\ny = f(lambda v: v * 2, 3.0)\n")
    assert float(m.y) == 6.0


def test_user_functions_named_like_effects_are_not_effects():
    m = jx.compile("def load(x) = x * 2\ndef f(x) = load(x) + 1\ny = f(1.0)\n")
    assert float(m.y) == 3.0
    m = jx.compile("save = lambda x: -x\ng = lambda x: save(x)\ny = g(1.0)\n")
    assert float(m.y) == -1.0


def test_effects_at_top_level_are_allowed(capsys):
    jx.compile("if True:\n    print(1)\nfor i in range(2):\n    print(i)\n")
    assert capsys.readouterr().out == "1\n0\n1\n"


# ------------------------------------------------------------------ arity


def test_too_many_arguments():
    source = "def f(x, y):\n    return x\nz = f(1.0, 2.0, 3.0)\n"
    expect(source, jx.TypeError, 3, 5, "f() takes 2 arguments but 3 were given")


def test_too_few_arguments():
    expect(
        "def f(x, y):\n    return x\nz = f(1.0)\n", jx.TypeError, 3, 5, "f() missing argument 'y'"
    )


def test_unknown_keyword_points_at_the_keyword():
    source = "def f(x, y):\n    return x\nz = f(1.0, 2.0, w=3.0)\n"
    err = expect(source, jx.TypeError, 3, 17, "unexpected keyword argument 'w'")
    assert caret_line(err) == "                    ^^^^^"


def test_arity_checked_inside_a_function_that_is_never_called():
    source = "def f(x, y) = x\ndef g(a):\n    return f(a)\n"
    expect(source, jx.TypeError, 3, 12, "missing argument 'y'")


def test_arity_allows_defaults_keywords_and_star_args():
    source = """
    def f(x, y=1.0, *rest) = x + y + len(rest)
    a = f(1.0)
    b = f(1.0, y=2.0)
    c = f(y=2.0, x=1.0)
    d = f(1.0, 2.0, 3.0, 4.0)
    """
    m = jx.compile(textwrap.dedent(source))
    assert [float(m[n]) for n in "abcd"] == [2.0, 3.0, 3.0, 5.0]


def test_a_shadowed_name_is_not_checked_against_the_top_level_def():
    m = jx.compile("def f(x) = x\ndef g(f) = f(1.0, 2.0)\ny = g(lambda a, b: a + b)\n")
    assert float(m.y) == 3.0


# ------------------------------------------------------------------ imports and return


def test_unknown_module():
    err = expect("import nosuchmod\n", jx.ImportError, 1, 1, "no module named 'nosuchmod'")
    assert "nn" in err.message  # the standard library's modules are listed


def test_unknown_module_in_from_import():
    expect("x = 1\nfrom nosuchmod import f\n", jx.ImportError, 2, 1, "'nosuchmod'")


def test_unknown_module_is_found_before_anything_runs(capsys):
    expect('print("ran")\nimport nosuchmod\n', jx.ImportError, 2, 1, "nosuchmod")
    assert capsys.readouterr().out == ""


def test_known_module_imports():
    m = jx.compile("import nn\ny = nn.relu(-1.0)\n")
    assert float(m.y) == 0.0


def test_return_at_top_level():
    err = expect("x = 1\nreturn x\n", jx.JxSyntaxError, 2, 1, "'return' outside a function")
    assert caret_line(err) == "    ^^^^^^^^"


def test_return_in_a_top_level_loop():
    expect("for i in range(3):\n    return i\n", jx.JxSyntaxError, 2, 5, "outside a function")


# ------------------------------------------------------------------ host values


def test_python_callable_in_env_is_a_purity_error():
    err = error_of("y = f(1.0)\n", env={"f": lambda x: x})
    assert type(err) is jx.PurityError
    assert "Python callable" in err.message and "'f'" in err.message
    assert (err.span.line, err.span.column) == (1, 5)  # its first use


def test_python_builtin_in_env_is_a_purity_error():
    assert type(error_of("y = 1\n", env={"p": print})) is jx.PurityError


def test_jx_function_in_env_is_accepted():
    double = jx.fn("lambda x: x * 2")
    m = jx.compile("y = g(3.0)\n", env={"g": double})
    assert float(m.y) == 6.0


def test_checker_runs_on_imported_modules(tmp_path):
    (tmp_path / "helper.jx").write_text("def f(x):\n    print(x)\n    return x\n")
    main = tmp_path / "main.jx"
    main.write_text("import helper\n")
    with pytest.raises(jx.PurityError) as info:
        jx.run_file(str(main))
    assert info.value.span.source.name.endswith("helper.jx")
    assert info.value.span.line == 2
