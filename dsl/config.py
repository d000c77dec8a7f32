"""`jx.config`: the switches that change how programs run, not what they compute.

`debug_nans` (also `jx run --debug-nans`, or `JX_DEBUG_NANS=1` in the environment): when a
result holds a NaN or an infinity, the program is re-run equation by equation and the first
equation that made one is reported, a `FloatingPointError` at the user's line with its
operands' values (`jx.nans`). Off by default: the check reads every result.

`progress` (also `jx run --progress`): a progress bar on standard error, when it is a
terminal, for every top-level `for` loop and every `scan` and `fori_loop` not given
`progress=` (`jx.progress`).
"""

from __future__ import annotations

import os


class Config:
    __slots__ = ("debug_nans", "progress")

    def __init__(self):
        self.debug_nans = os.environ.get("JX_DEBUG_NANS", "") not in ("", "0")
        self.progress = False

    def update(self, name: str, value) -> None:
        """`jx.config.update("debug_nans", True)`, as `jax.config.update` reads."""
        if name not in self.__slots__:
            raise AttributeError(f"jx.config has no switch '{name}' (it has {self.__slots__})")
        setattr(self, name, value)

    def __repr__(self) -> str:
        return "jx.config(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


config = Config()
