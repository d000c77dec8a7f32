"""Every primitive of jx, family by family, each primitive one block with all its rules.

The families, in their import order (each imports only those before it): `shapes`
(broadcast_in_dim, reshape, transpose, rev, iota, reduce_sum and the rule-family
helpers), `elementwise`, `indexing` (slice, concatenate, gather, scatter) and
`reductions` (with dot_general and sort) and `debug` (debug_print, the one effect), which this package imports and names for the
layers above. Above the transformation interpreters, whose sub-program rules they use,
sit `control` (cond, while, scan), `linalg` and `collectives`: importing `jx` imports
them too, so the registry is complete before any program runs.
"""

from .debug import debug_print_p, progress_p
from .elementwise import (
    BINARY,
    COMPARE,
    FLOAT_UNARY,
    UNARY,
    bitcast_p,
    convert_p,
    fma_p,
    is_finite_p,
    is_nan_p,
    select_p,
    stop_gradient_p,
)
from .indexing import concatenate_p, gather_p, scatter_p, slice_p
from .reductions import (
    REDUCE,
    argmax_p,
    argmin_p,
    cummax_p,
    cumprod_p,
    cumsum_p,
    dot_general_p,
    sort_p,
)
from .shapes import broadcast_in_dim_p, iota_p, reshape_p, rev_p, transpose_p

__all__ = [
    "BINARY",
    "COMPARE",
    "FLOAT_UNARY",
    "REDUCE",
    "UNARY",
    "argmax_p",
    "argmin_p",
    "bitcast_p",
    "broadcast_in_dim_p",
    "concatenate_p",
    "convert_p",
    "cummax_p",
    "cumprod_p",
    "cumsum_p",
    "debug_print_p",
    "dot_general_p",
    "fma_p",
    "gather_p",
    "iota_p",
    "is_finite_p",
    "is_nan_p",
    "progress_p",
    "reshape_p",
    "rev_p",
    "scatter_p",
    "select_p",
    "slice_p",
    "sort_p",
    "stop_gradient_p",
    "transpose_p",
]
