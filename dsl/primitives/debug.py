"""The primitives with an effect: `debug_print`, printing its operands when it runs, and
`progress`, ticking the bar of a loop (`jx.progress`).

They have no outputs; the `effect` flag keeps them through the clean-up passes, so it survives
`jit`. Under `grad` its JVP prints the primal values (once: reverse mode's backward pass
skips effects), under `vmap` it prints the whole batch (batch axis first). It runs wherever the program runs:
equation by equation at the top level, inside the NumPy backend's loops once per
iteration. The xla backend has no lowering for it: a program holding one is split there,
the parts around it compiled, the print run on the host (a loop or branch holding one
runs on the host, through the NumPy backend). `progress(done, total)` shows that `done`
of `total` iterations of the loop labelled `label` have run; under transformations it
ticks as `debug_print` prints.
"""

from __future__ import annotations

import sys

import numpy as np

from .. import progress
from ..core import CTX, bind
from ..formatting import format_value
from ..registry import primitive
from .shapes import move_axis


def _print(xp, *values, fmt):
    out = CTX.out or sys.stdout
    out.write(fmt.format(*(format_value(np.asarray(v)) for v in values)) + "\n")
    out.flush()
    return []


debug_print_p = primitive("debug_print", lambda *avals, fmt: [], _print, multiple_results=True)
debug_print_p.effect = True


def _debug_print_jvp(ps, ts, *, fmt):
    bind(debug_print_p, *ps, fmt=fmt)
    return [], []


def _debug_print_batch(ax, args, dims, *, fmt):
    moved = (x if d is None else move_axis(x, d, 0) for x, d in zip(args, dims))
    bind(debug_print_p, *moved, fmt=fmt)
    return [], []


debug_print_p.jvp = _debug_print_jvp
debug_print_p.batch = _debug_print_batch


def _tick(xp, done, total, *, label):
    # Batched (under vmap) the counts are the same for every example.
    progress.tick(label, int(np.max(done)), int(np.max(total)))
    return []


progress_p = primitive("progress", lambda *avals, label: [], _tick, multiple_results=True)
progress_p.effect = True


def _progress_jvp(ps, ts, *, label):
    bind(progress_p, *ps, label=label)
    return [], []


def _progress_batch(ax, args, dims, *, label):
    bind(progress_p, *args, label=label)
    return [], []


progress_p.jvp = _progress_jvp
progress_p.batch = _progress_batch
