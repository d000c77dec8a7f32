"""The `plot` family: `plot.line`, `plot.scatter`, `plot.hist` and `plot.image`, top-level
effects drawn with matplotlib (an optional dependency: `pip install 'jx[plot]'`).

Like `print`, they exist only at the top level: the checker refuses them in functions, and
so does the call while tracing. Each call draws one figure and hands it to the renderer on
top of `RENDERERS`: by default the screen (in IPython or Jupyter the figure is displayed in
the output; elsewhere matplotlib's window, or a note on stderr where there is no display),
under `jx literate` a PNG file beside the Markdown (`jx.literate`).
"""

from __future__ import annotations

import sys

import numpy as np

from . import ops
from .backend import is_concrete
from .builtins import BUILTINS
from .core import CTX, describe
from .errors import ShapeError
from .errors import TypeError as JxTypeError
from .values import Builtin, Module

#: Where figures go, the innermost last; the screen when empty.
RENDERERS: list = []
_NO_DISPLAY = ("agg", "pdf", "ps", "svg", "pgf", "cairo", "template")


def _pyplot():
    try:
        import matplotlib  # noqa: PLC0415 - an optional dependency (the plot extra)
    except ImportError:
        raise JxTypeError("plots need matplotlib: pip install 'jx[plot]'") from None
    return matplotlib


class Screen:
    """The default renderer: IPython's display, matplotlib's window, or a note."""

    def figure(self):
        _pyplot()
        if _in_ipython():
            from matplotlib.figure import Figure  # noqa: PLC0415 - optional

            return Figure(figsize=(6, 4))
        import matplotlib.pyplot as plt  # noqa: PLC0415 - optional

        return plt.figure(figsize=(6, 4))

    def done(self, fig, kind: str) -> None:
        if _in_ipython():
            from IPython.display import display  # noqa: PLC0415 - optional

            display(fig)
            return
        import matplotlib  # noqa: PLC0415 - optional
        import matplotlib.pyplot as plt  # noqa: PLC0415 - optional

        backend = matplotlib.get_backend().lower()
        if any(backend.startswith(name) for name in _NO_DISPLAY):
            print(
                f"jx: plot.{kind}: no display here (matplotlib's backend is {backend}); "
                "jx literate FILE writes the plots to PNG files",
                file=sys.stderr,
            )
        else:
            plt.show()
        plt.close(fig)


def _in_ipython() -> bool:
    shell = sys.modules.get("IPython")
    return shell is not None and shell.get_ipython() is not None


def _host(x, what: str) -> np.ndarray:
    if not (ops.is_array(x) or ops.is_scalar(x)):
        raise JxTypeError(f"{what} must be an array, got {describe(x)}")
    array = CTX.backend.to_host(x) if is_concrete(x) else np.asarray(x)
    if array.dtype.kind not in "biuf":
        array = array.astype(np.float64)  # bf16 and the other ml_dtypes matplotlib lacks
    return array


def _draw(kind: str, title, paint) -> None:
    renderer = RENDERERS[-1] if RENDERERS else Screen()
    fig = renderer.figure()
    ax = fig.add_subplot()
    paint(ax)
    if title is not None:
        ax.set_title(str(title))
    fig.tight_layout()
    renderer.done(fig, kind)


def _xy(kind: str, x, y):
    if y is None:
        y = _host(x, f"plot.{kind}'s values")
        x = np.arange(len(y)) if y.ndim else np.zeros(1)
    else:
        x, y = _host(x, f"plot.{kind}'s x"), _host(y, f"plot.{kind}'s y")
    if y.ndim > 2 or x.ndim != 1 or (y.ndim and len(y) != len(x)):
        raise ShapeError(
            f"plot.{kind} takes x of shape (n,) and y of shape (n,) or (n, k); "
            f"got {x.shape} and {y.shape}"
        )
    return x, y


def line(x, y=None, *, title=None, label=None):
    """A line plot of `y` against `x` (or against 0, 1, ... when only one array is given);
    a 2-D `y` of shape (n, k) draws k lines. A top-level effect, like `print`."""
    x, y = _xy("line", x, y)

    def paint(ax):
        ax.plot(x, y, label=label)
        if label is not None:
            ax.legend()

    _draw("line", title, paint)


def scatter(x, y, *, title=None, label=None):
    """A scatter plot of the points (x[i], y[i]). A top-level effect."""
    x, y = _xy("scatter", x, y)

    def paint(ax):
        ax.scatter(x, y, s=12, label=label)
        if label is not None:
            ax.legend()

    _draw("scatter", title, paint)


def hist(x, bins=30, *, title=None):
    """A histogram of the elements of `x` in `bins` bins. A top-level effect."""
    values = _host(x, "plot.hist's values").ravel()
    if not isinstance(bins, int) or bins < 1:
        raise JxTypeError(f"plot.hist's bins must be a positive int, got {bins!r}")
    _draw("hist", title, lambda ax: ax.hist(values, bins=bins))


def image(a, *, title=None):
    """An image: a 2-D array (a colour map, with its scale) or (h, w, 3) / (h, w, 4) RGB(A)
    values in [0, 1]. A top-level effect."""
    pixels = _host(a, "plot.image's array")
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] in (3, 4))):
        raise ShapeError(f"plot.image takes (h, w), (h, w, 3) or (h, w, 4), got {pixels.shape}")

    def paint(ax):
        shown = ax.imshow(pixels)
        if pixels.ndim == 2:
            ax.figure.colorbar(shown, ax=ax)

    _draw("image", title, paint)


# Every member of `plot` is an effect: the checker refuses `plot.NAME(...)` in functions.
BUILTINS["plot"] = Module(
    "plot",
    {
        name: Builtin(f"plot.{name}", fn, effect=True)
        for name, fn in {"line": line, "scatter": scatter, "hist": hist, "image": image}.items()
    },
)
