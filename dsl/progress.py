"""Progress bars for long loops: `progress=True` on `scan` and `fori_loop`, and every
top-level `for` loop under `jx run --progress` (`jx.config.progress`).

A bar is drawn on standard error only when it is a terminal (a piped or redirected run stays
quiet): the count, the rate and the time left, redrawn at most ten times a second and ended
with a newline when the loop finishes. Loops inside programs tick through the `progress`
primitive (`primitives/debug.py`), top-level loops directly.
"""

from __future__ import annotations

import sys
import time

WIDTH = 30
REDRAW_SECONDS = 0.1


class Bar:
    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream
        self.start = self.drawn = 0.0

    def update(self, done: int, total: int) -> None:
        """Show that `done` of `total` steps are done (done == 1 starts the clock)."""
        stream = self.stream or sys.stderr
        if not getattr(stream, "isatty", lambda: False)():
            return
        now = time.perf_counter()
        if done <= 1:
            self.start = self.drawn = now
        finished = done >= total
        if not finished and now - self.drawn < REDRAW_SECONDS:
            return
        self.drawn = now
        stream.write("\r" + self.line(done, total, now - self.start) + ("\n" if finished else ""))
        stream.flush()

    def line(self, done: int, total: int, elapsed: float) -> str:
        filled = round(WIDTH * done / total) if total else WIDTH
        rate = (done - 1) / elapsed if elapsed > 0 and done > 1 else 0.0
        left = (total - done) / rate if rate else 0.0
        eta = "done" if done >= total else f"ETA {_clock(left)}" if rate else "ETA ?"
        return (
            f"{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total} "
            f"{rate:.1f} it/s {eta}"
        ).ljust(72)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


_OUTER: list = []  # the top-level loop showing its bar: the loops inside it show none

#: label -> Bar, one per loop of the programs (their ticks name the loop by its label).
BARS: dict[str, Bar] = {}


def tick(label: str, done: int, total: int) -> None:
    if _OUTER:
        return  # a top-level loop's bar is showing: the loops it runs stay quiet
    bar = BARS.get(label)
    if bar is None:
        bar = BARS[label] = Bar(label)
    bar.update(done, total)


def over(items, label: str):
    """The items of a top-level loop, ticking a bar as each is done."""
    if _OUTER:
        yield from items
        return
    total, bar = len(items), Bar(label)
    _OUTER.append(bar)
    try:
        for done, item in enumerate(items, 1):
            yield item
            bar.update(done, total)
    finally:
        _OUTER.pop()
