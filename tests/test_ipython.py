"""The `%%jx` cell magic in an IPython shell: a namespace shared across cells, Python values
looked up by name, the last expression as the cell's value, errors without tracebacks."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("IPython")

from IPython.core.interactiveshell import InteractiveShell


@pytest.fixture
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "jx")
    yield ip
    # Each test starts from an empty jx namespace (the extension loads once per shell).
    ip.run_line_magic("jx", ":reset")
    for name in ("w", "f", "pyfun", "n"):
        ip.user_ns.pop(name, None)


def cell(ip, text: str):
    return ip.run_cell(text, store_history=False)


def test_cells_share_a_namespace_and_show_their_last_expression(shell, capsys):
    first = cell(shell, "%%jx\ndef f(x) = x * 2 + 1\ny = f(2.0)\ny\n")
    assert first.success and first.result == 5.0
    second = cell(shell, "%%jx\nprint(y + 1)\nf(ones((2,)))\n")
    np.testing.assert_array_equal(second.result, np.full(2, 3.0, np.float32))
    assert second.result.dtype == np.float32
    out = capsys.readouterr().out
    assert "6.0" in out and "Out[" in out
    # A cell ending in a statement has no value.
    assert cell(shell, "%%jx\nz = y * 3\n").result is None
    assert cell(shell, "%jx z").result == 15.0


def test_python_values_are_looked_up_by_name(shell):
    shell.user_ns["w"] = np.arange(3, dtype=np.float32)
    result = cell(shell, "%%jx\ndef scale(x) = x * w\nscale(2.0)\n").result
    np.testing.assert_array_equal(result, [0.0, 2.0, 4.0])
    # A cell that mentions the name sees Python's current value.
    shell.user_ns["w"] = np.ones(2, np.float32)
    np.testing.assert_array_equal(cell(shell, "%jx w + scale(1.0)").result, [2.0, 2.0])
    # Once jx binds the name, jx's value wins.
    cell(shell, "%%jx\nw = 10.0\n")
    assert cell(shell, "%jx w").result == 10.0


def test_a_jx_function_comes_back_callable_from_python(shell):
    f = cell(shell, "%%jx\ndef f(x) = sum(x * x)\nf\n").result
    assert f(np.arange(3.0, dtype=np.float32)) == 5.0


def test_errors_render_without_traceback_and_change_nothing(shell, capsys):
    cell(shell, "%%jx\nn = 1\n")
    failed = cell(shell, "%%jx\nn = 2\nm = nope + 1\n")
    assert not failed.success
    out = capsys.readouterr()
    text = out.out + out.err
    assert "In[" in text and ":2:5: NameError: name 'nope' is not defined" in text
    assert "Traceback" not in text
    assert cell(shell, "%jx n").result == 1


def test_python_callables_are_refused(shell, capsys):
    shell.user_ns["pyfun"] = lambda x: x
    assert not cell(shell, "%jx pyfun(1.0)").success
    out = capsys.readouterr()
    assert "PurityError" in out.out + out.err


def test_repl_commands_work_as_line_magics(shell, capsys):
    cell(shell, "%%jx\nx = ones((2, 3))\n")
    cell(shell, "%jx :type (x, x.sum())")
    assert "(f32[2,3], f32[])" in capsys.readouterr().out
