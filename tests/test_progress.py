"""Progress bars run as a user sees them: on a real terminal (a pty) `jx run --progress` and
`progress=True` draw a bar with the count, the rate and the time left; piped, nothing; and
the option never changes what a loop computes, on either backend or under grad and vmap."""

import subprocess
import sys

import jx
import numpy as np
import pytest
from jx import progress

SCRIPT = """\
def step(i, x) = x * 0.99 + 0.01 * sin(x)
def f(x) = fori_loop(0, 400, step, x, progress=True)
print(f(ones(2)))
def s(c, x):
    return c + x, c
print(scan(s, 0.0, arange(50.0), progress=True)[0])
total = 0.0
for i in range(20):
    total = total + 1.0
print(total)
"""


def test_bars_on_a_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    (tmp_path / "p.jx").write_text(SCRIPT)
    child = pexpect.spawn(
        sys.executable, ["-m", "jx.cli", "run", "--progress", "p.jx"],
        cwd=str(tmp_path), encoding="utf-8", timeout=120,
    )  # fmt: skip
    child.expect(pexpect.EOF)
    screen = child.before
    assert "fori_loop p.jx:2 [" + "#" * progress.WIDTH + "] 400/400" in screen
    assert "scan p.jx:6 [" + "#" * progress.WIDTH + "] 50/50" in screen
    assert "for p.jx:8 [" + "#" * progress.WIDTH + "] 20/20" in screen
    assert screen.count(" done") == 3 and "it/s" in screen
    assert "[0.6" in screen and "1225.0" in screen and "20.0" in screen


def test_quiet_when_piped(tmp_path):
    (tmp_path / "p.jx").write_text(SCRIPT)
    proc = subprocess.run(
        [sys.executable, "-m", "jx.cli", "run", "--progress", "p.jx"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.splitlines()[1:] == ["1225.0", "20.0"]


def test_the_bar_line():
    bar = progress.Bar("loop")
    line = bar.line(5, 10, 2.0)  # 4 steps after the first in 2 s: 2 it/s, 5 left: 2.5 s
    assert line.startswith("loop [" + "#" * 15 + "." * 15 + "] 5/10 2.0 it/s ETA 0:03")
    assert bar.line(10, 10, 3.0).rstrip().endswith("done")
    assert progress._clock(3725) == "1:02:05"


class Terminal:
    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_a_bar_redraws_sparingly_and_ends_its_line():
    term = Terminal()
    bar = progress.Bar("x", term)
    for done in range(1, 1001):
        bar.update(done, 1000)
    assert term.text.endswith("\n") and term.text.count("\n") == 1
    assert term.text.count("\r") < 50  # ten redraws a second at most, and the last


@pytest.mark.parametrize("backend", ["numpy", "xla"])
def test_progress_changes_no_result(backend):
    source = """
def step(i, x) = x * 0.9 + sin(x) * i.astype(f32) * 0.01
def f(x, on) = fori_loop(0, 30, step, x, progress=on)
def g(x, n, on) = fori_loop(0, n, step, x, progress=on)
def s(x, on) = scan(lambda c, v: (c * v, c), 1.0, x, progress=on)[1]
def s_on(x) = s(x, True)
"""
    m = jx.compile(source, backend=backend)
    x = np.linspace(0.5, 1.5, 4, dtype=np.float32)
    np.testing.assert_allclose(m.f(x, True), m.f(x, False), rtol=1e-6)
    np.testing.assert_allclose(jx.jit(m.f, static_argnums=1)(x, True), m.f(x, False), rtol=1e-6)
    np.testing.assert_allclose(m.g(x, 30, True), m.f(x, False), rtol=1e-6)
    np.testing.assert_allclose(m.s(x, True), m.s(x, False), rtol=1e-6)
    np.testing.assert_allclose(jx.vmap(m.s_on)(np.stack([x, x])),
                               np.stack([m.s(x, False)] * 2), rtol=1e-6)  # fmt: skip
    with pytest.raises(jx.TypeError, match="progress= is True or False"):
        jx.vmap(m.s, in_axes=(0, None))(np.stack([x, x]), True)
    loss = jx.compile(source + "def loss(x, on) = sum(f(x, on))\n", backend=backend).loss
    np.testing.assert_allclose(jx.grad(loss)(x, True), jx.grad(loss)(x, False), rtol=1e-6)
