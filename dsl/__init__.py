"""jx: a small, pure, functional array language embedded in Python.

    import jx
    m = jx.compile("def f(x) = x + x*x")
    m.f(np.ones(3))

See the README for the tour and LANGUAGE.md for the language contract.
"""

from . import (  # noqa: F401 - the families of core built-ins register themselves
    builtins_arrays,
    builtins_creation,
    builtins_dtypes,
    builtins_lax,
    builtins_math,
    builtins_python,
    builtins_reductions,
    builtins_search,
    builtins_shapes,
    builtins_statistics,
    builtins_ufuncs,
    distributed,
)
from . import combinators as _combinators
from . import effects as _effects  # noqa: F401 - registers print and assert
from . import linalg as _linalg_module  # noqa: F401 - registers the linalg module
from . import plotting as _plotting  # noqa: F401 - registers the plot family
from . import random_module as _random_module  # noqa: F401 - registers the random module
from . import range_loops as _range_loops  # noqa: F401 - takes over `for` and comprehensions
from . import special as _special  # noqa: F401 - registers the special module
from .builtins import BUILTINS as _BUILTINS
from .primitives import collectives as _collectives  # noqa: F401 - registers these three
from .primitives import control as _control  # noqa: F401 - families, which sit above the
from .primitives import linalg as _linalg  # noqa: F401 - interpreters (jx.primitives has the rest)
from .transforms import autodiff as _autodiff
from .transforms import custom as _custom
from .transforms import pmap as _pmap  # noqa: F401 - registers vmap, pmap and the collectives

_autodiff.register(_BUILTINS)
_custom.register(_BUILTINS)
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
    linear_transpose,
    linearize,
    pmap,
    run_file,
    value_and_grad,
    vjp,
    vmap,
)
from .config import config
from .distributed import (
    Mesh,
    NamedSharding,
    PartitionSpec,
    device_count,
    local_device_count,
    process_count,
    process_index,
)
from .errors import (
    AssertionError,
    FloatingPointError,
    ImportError,
    IndexError,
    IRError,
    JxError,
    JxRuntimeError,
    JxSyntaxError,
    KeyReuseError,
    LimitError,
    NameError,
    PurityError,
    RecursionError,
    RetraceWarning,
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
    "FloatingPointError",
    "Function",
    "IRError",
    "ImportError",
    "IndexError",
    "JxError",
    "JxRuntimeError",
    "JxSyntaxError",
    "KeyReuseError",
    "LimitError",
    "Mesh",
    "NameError",
    "NamedSharding",
    "PartitionSpec",
    "PurityError",
    "RecursionError",
    "RetraceWarning",
    "ShapeError",
    "TypeError",
    "ValueError",
    "__version__",
    "allow_path",
    "compile",
    "config",
    "device_count",
    "distributed",
    "fn",
    "grad",
    "hessian",
    "jacfwd",
    "jacrev",
    "jit",
    "jvp",
    "limits",
    "linear_transpose",
    "linearize",
    "local_device_count",
    "pmap",
    "process_count",
    "process_index",
    "run_file",
    "value_and_grad",
    "vjp",
    "vmap",
]
