"""Test session set-up. XLA reads its host device count once, when jax first computes, and
jx's xla backend asks for pmap's virtual CPU devices on import: import it before any test
module can use jax, so test order does not decide how many devices there are."""

import importlib.util

if importlib.util.find_spec("jax") is not None:
    import jx.backends.xla  # noqa: F401
