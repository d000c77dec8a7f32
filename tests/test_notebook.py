"""The notebook cases in a real Jupyter kernel (nbclient, ipykernel): a re-run cell that
draws from a key, a jx function reading the current value of a Python global, `%%jx`
names visible to Python, cells named after In[n] in error locations, and keys shown
readably."""

from __future__ import annotations

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

CELLS = [
    "import numpy as np\nW = np.eye(2, dtype=np.float32)\n%load_ext jx",
    "%%jx\nimport random\nk = random.key(0)\ndef f(x) = W @ x",
    "%%jx\nx = random.normal(k, (2,))\nx",  # re-run below: a second draw from k is allowed
    "W = 2 * np.eye(2, dtype=np.float32)",
    "%%jx\nf(ones(2))",
    "print(f(np.ones(2, np.float32)).tolist(), type(x).__name__, x.shape)",
    "%%jx\ny = 1.0\nz = y + nope",
    "%%jx\nrandom.split(random.key(1), 100000)",
]
RERUN = 2


def _text(cell) -> str:
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True)
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        first_draw = _text(nb.cells[RERUN])
        client.execute_cell(nb.cells[RERUN], RERUN)
    return nb, first_draw


def test_rerunning_a_cell_that_draws_from_a_key_works(notebook):
    nb, first_draw = notebook
    again = _text(nb.cells[RERUN])
    assert "KeyReuseError" not in again and again == first_draw and "[" in again


def test_jx_function_sees_the_current_python_global(notebook):
    nb, _ = notebook
    assert "array([2., 2.], dtype=float32)" in _text(nb.cells[4])


def test_jx_names_are_visible_to_python(notebook):
    nb, _ = notebook
    assert _text(nb.cells[5]).strip() == "[2.0, 2.0] ndarray (2,)"


def test_error_locations_name_the_cell_after_its_prompt(notebook):
    nb, _ = notebook
    text = _text(nb.cells[6])
    assert "In[7]:2:9: NameError: name 'nope' is not defined" in text
    assert "Traceback" not in text


def test_huge_key_arrays_are_summarised(notebook):
    nb, _ = notebook
    text = _text(nb.cells[7])
    assert text.startswith("key<threefry2x32>(100000,) [[") and "..." in text
    assert len(text) < 300
