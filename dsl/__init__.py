"""jx: a small, pure, functional array language embedded in Python.

    import jx
    m = jx.compile("def f(x) = x + x*x")
    m.f(np.ones(3))

See the README for the tour and LANGUAGE.md for the language contract.
"""

from . import (  # noqa: F401 - the families of core built-ins register themselves
    builtins_creation,
    builtins_math,
    builtins_python,
    builtins_reductions,
    builtins_shapes,
)
from . import combinators as _combinators
from . import effects as _effects  # noqa: F401 - registers print and assert
from . import linalg as _linalg_module  # noqa: F401 - registers the linalg module
from . import random_module as _random_module  # noqa: F401 - registers the random module
from .builtins import BUILTINS as _BUILTINS
from .primitives import collectives as _collectives  # noqa: F401 - registers these three
from .primitives import control as _control  # noqa: F401 - families, which sit above the
from .primitives import linalg as _linalg  # noqa: F401 - interpreters (jx.primitives has the rest)
from .transforms import autodiff as _autodiff
from .transforms import pmap as _pmap  # noqa: F401 - registers vmap, pmap and the collectives

_autodiff.register(_BUILTINS)
_combinators.register(_BUILTINS)
from .api import (
    CompiledModule,
    Function,
    compile,
    fn,
    grad,
    hessian,
    jacfwd,
    jacrev,
    jit,
    jvp,
    pmap,
    run_file,
    value_and_grad,
    vjp,
    vmap,
)
from .errors import (
    AssertionError,
    ImportError,
    IndexError,
    IRError,
    JxError,
    JxRuntimeError,
    JxSyntaxError,
    KeyReuseError,
    NameError,
    PurityError,
    RecursionError,
    ShapeError,
    TypeError,
    ValueError,
)
from .files import allow_path
from .limits import limits
from .version import __version__


def load_ipython_extension(ipython):
    """`%load_ext jx`: the `%%jx` cell magic (jx.ipython)."""
    from .ipython import load_ipython_extension as load  # noqa: PLC0415 - needs IPython

    load(ipython)


__all__ = [
    "AssertionError",
    "CompiledModule",
    "Function",
    "IRError",
    "ImportError",
    "IndexError",
    "JxError",
    "JxRuntimeError",
    "JxSyntaxError",
    "KeyReuseError",
    "NameError",
    "PurityError",
    "RecursionError",
    "ShapeError",
    "TypeError",
    "ValueError",
    "__version__",
    "allow_path",
    "compile",
    "fn",
    "grad",
    "hessian",
    "jacfwd",
    "jacrev",
    "jit",
    "jvp",
    "limits",
    "pmap",
    "run_file",
    "value_and_grad",
    "vjp",
    "vmap",
]
