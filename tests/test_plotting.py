"""The plot family and `jx literate`, run as a user runs them: the figures' data against
NumPy, the checker refusing plots in functions, the Markdown and HTML documents with their
PNG files, and a `%%jx` cell displaying its figure in IPython."""

import subprocess
import sys

import jx
import numpy as np
import pytest

pytest.importorskip("matplotlib")

from jx import literate, plotting


class Captured:
    """A renderer keeping the figures it is given."""

    def __init__(self):
        self.figures = []

    def figure(self):
        from matplotlib.figure import Figure

        return Figure()

    def done(self, fig, kind):
        self.figures.append((kind, fig))


@pytest.fixture
def captured():
    renderer = Captured()
    plotting.RENDERERS.append(renderer)
    yield renderer
    plotting.RENDERERS.remove(renderer)


def test_each_plot_draws_its_data(captured):
    jx.compile(
        """
x = linspace(0.0, 3.0, 7)
plot.line(x, sin(x), title="sine", label="sin")
plot.line(stack([x, 2.0 * x], axis=1))
plot.scatter(x, x * x)
plot.hist(x, bins=3)
plot.image(reshape(arange(6.0), (2, 3)))
"""
    )
    x = np.linspace(0.0, 3.0, 7, dtype=np.float32)
    kinds = [k for k, _ in captured.figures]
    assert kinds == ["line", "line", "scatter", "hist", "image"]
    axes = [fig.axes[0] for _, fig in captured.figures]
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), np.sin(x), rtol=1e-6)
    assert axes[0].get_title() == "sine" and axes[0].get_legend() is not None
    assert [list(line.get_ydata()) for line in axes[1].lines] == [list(x), list(2 * x)]
    np.testing.assert_allclose(axes[2].collections[0].get_offsets(), np.stack([x, x * x], 1))
    counts = [p.get_height() for p in axes[3].patches]
    assert counts == list(np.histogram(x, bins=3)[0])
    np.testing.assert_array_equal(axes[4].images[0].get_array(), np.arange(6.0).reshape(2, 3))


def test_plots_are_refused_in_functions():
    with pytest.raises(jx.PurityError, match=r"plot.line\(\) is an effect") as e:
        jx.compile("def f(x):\n    plot.line(x)\n    return x\n")
    assert (e.value.span.line, e.value.span.column) == (2, 5)
    with pytest.raises(jx.PurityError, match=r"plot.hist\(\) is an effect"):
        jx.compile("g = jit(lambda x: plot.hist(x))\n")
    # past the checker (the effect reached through a name), the call itself refuses
    with pytest.raises(jx.PurityError, match=r"plot.line\(\) is an effect"):
        jx.compile("draw = plot.line\ndef f(x):\n    draw(x)\n    return x\ny = f(1.0)\n")
    # a name of the program's own called plot is no effect
    jx.compile("def plot(x) = x\ndef f(x) = plot(x)\n")


def test_bad_shapes_are_the_users_errors(captured):
    with pytest.raises(jx.ShapeError, match="plot.line takes x of shape"):
        jx.compile("plot.line(ones(3), ones(4))\n")
    with pytest.raises(jx.ShapeError, match="plot.image takes"):
        jx.compile("plot.image(ones(3))\n")


SCRIPT = """\
# # A title
#
# Some prose.
x = linspace(0.0, 1.0, 5)
y = x * 2.0

print(sum(y))
plot.line(x, y)
# More prose, then a bare expression shows its value:
y[1]
"""


def jx_literate(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "jx.cli", "literate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def test_literate_writes_markdown_html_and_pngs(tmp_path):
    import matplotlib.image

    (tmp_path / "doc.jx").write_text(SCRIPT)
    proc = jx_literate("doc.jx", "--html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "wrote doc.md and doc.html with 1 plot(s)"
    md = (tmp_path / "doc.md").read_text()
    assert md == (
        "# A title\n\nSome prose.\n\n"
        "```jx\nx = linspace(0.0, 1.0, 5)\ny = x * 2.0\n\nprint(sum(y))\n```\n\n"
        "```text\n5.0\n```\n\n"
        "```jx\nplot.line(x, y)\n```\n\n![plot](doc-1.png)\n\n"
        "More prose, then a bare expression shows its value:\n\n"
        "```jx\ny[1]\n```\n\n```text\n0.5\n```\n"
    )
    pixels = matplotlib.image.imread(tmp_path / "doc-1.png")
    assert pixels.shape == (400, 600, 4)
    page = (tmp_path / "doc.html").read_text()
    assert '<img src="doc-1.png"' in page and '<pre class="output">5.0</pre>' in page


def test_literate_stops_at_an_error_and_shows_it(tmp_path):
    (tmp_path / "bad.jx").write_text("x = ones(2)\nprint(x)\ny = x + ones(3)\nprint(y)\n")
    proc = jx_literate("bad.jx", "-o", "out/page.md", cwd=tmp_path)
    assert proc.returncode == 1
    assert "bad.jx:3:5: ShapeError" in proc.stderr and "Traceback" not in proc.stderr
    md = (tmp_path / "out" / "page.md").read_text()
    assert md.endswith("```text\nbad.jx:3:5: ShapeError" + md.split("ShapeError", 1)[1])
    assert "print(y)" not in md


def test_render_keeps_no_renderer_or_output_behind(tmp_path):
    (tmp_path / "a.jx").write_text("plot.hist(ones(4))\n")
    blocks, finished = literate.render(str(tmp_path / "a.jx"), str(tmp_path), "a")
    assert finished and [b.kind for b in blocks] == ["code", "image"]
    assert plotting.RENDERERS == [] and jx.core.CTX.out is None


def test_a_jx_cell_displays_its_figure():
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "jx")
    with capture_output() as cap:
        ip.run_cell("%%jx\nplot.line(ones(3))\n", store_history=False)
    shown = [o.data for o in cap.outputs]
    assert len(shown) == 1 and "Figure" in shown[0]["text/plain"]
