"""Test session set-up. Every program the tests build is checked by jx.ir_check: the
environment variable is set before jx is imported (and reaches the `jx` commands the CLI
tests start); `JX_CHECK_IR=0 pytest` runs the suite without the checker. XLA reads its
host device count once, when jax first computes, and jx's xla backend asks for pmap's
virtual CPU devices on import: import it before any test module can use jax, so test order
does not decide how many devices there are."""

import importlib.util
import os

os.environ.setdefault("JX_CHECK_IR", "1")

if importlib.util.find_spec("jax") is not None:
    import jx.backends.xla.runtime  # noqa: F401
