"""The `random` module (LANGUAGE.md section 6): its functions check their arguments,
consume their keys (prng.py) and call the implementations written in jx in
`stdlib/random.jx`.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from . import dtypes, ops
from .builtins import BUILTINS, to_dtype
from .core import CTX, aval_of, describe
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .functions import call
from .indexing import getitem
from .modules import NATIVE, load_module
from .prng import Key, is_loop_index, use
from .values import Builtin, Module


def _impl():
    global _IMPL
    if _IMPL is None:
        path = str(resources.files("jx.stdlib").joinpath("random.jx"))
        _IMPL = load_module("random", path).members
    return _IMPL


_IMPL = None


def _run(name, *args):
    return call(_impl()[name], list(args), {}, CTX.span)


def _single(k, what: str, loop_check: bool = True, part: tuple = ()) -> Key:
    if not isinstance(k, Key):
        raise JxTypeError(
            f"random.{what} needs a PRNG key as its first argument, got "
            f"{describe(k)}; make one with random.key(seed)"
        )
    if k.shape:
        raise JxTypeError(
            f"random.{what} needs a single key, got keys of shape {k.shape}; "
            "index the key array (ks[0]) or vmap over it"
        )
    use(k, CTX.span, loop_check, part)
    return k


def _shape(shape, what) -> tuple:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        return (int(shape),)
    if isinstance(shape, tuple) and all(
        isinstance(d, int) and not isinstance(d, bool) for d in shape
    ):
        return shape
    raise JxTypeError(f"random.{what}: shape must be a tuple of static ints, got {describe(shape)}")


def _float_dtype(dtype, what):
    d = to_dtype(dtype) or dtypes.f32
    if not dtypes.is_float(d):
        raise JxTypeError(f"random.{what} needs a float dtype, got {dtypes.short(d)}")
    return d


def key(seed):
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return Key(np.array([0, int(seed) % 2**32], dtype=np.uint32))
    seed = ops.as_array(seed)
    if not dtypes.is_int(aval_of(seed).dtype) or aval_of(seed).shape:
        raise JxTypeError(f"random.key needs an integer scalar seed, got {describe(seed)}")
    lo = ops.convert(seed, dtypes.u32)
    return Key(ops.stack([ops.full((), 0, dtypes.u32), lo]))


def split(key, num=2):
    k = _single(key, "split")
    return Key(_run("split", k.data, _shape(num, "split")))


def fold_in(key, data):
    # fold_in(k, d) for distinct d are distinct keys: each uses k's part d alone. A static
    # d names the part; so does a loop's own index (a new value every iteration, one part
    # per loop); any other traced d could equal anything, so it uses the whole key.
    static = isinstance(data, (int, np.integer)) and not isinstance(data, bool)
    indexed = is_loop_index(data)
    part = (
        (("fold_in", int(data) % 2**32),) if static else (("fold_in", data.var),) if indexed else ()
    )
    k = _single(key, "fold_in", loop_check=not indexed, part=part)
    if static:
        data = int(data) % 2**32
    return Key(_run("fold_in", k.data, data))


def key_data(keys):
    if not isinstance(keys, Key):
        raise JxTypeError(f"random.key_data needs a PRNG key, got {describe(keys)}")
    return keys.data


def wrap_key_data(key_data):
    a = aval_of(ops.as_array(key_data))
    if a.dtype != dtypes.u32 or not a.shape or a.shape[-1] != 2:
        raise JxTypeError(f"random.wrap_key_data needs u32[..., 2] data, got {a}")
    return Key(ops.as_array(key_data))


def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    k = _single(key, "uniform")
    d = _float_dtype(dtype, "uniform")
    lo, hi = ops.convert(minval, d), ops.convert(maxval, d)
    return _run("uniform", k.data, _shape(shape, "uniform"), d, lo, hi)


def normal(key, shape=(), dtype=None):
    k = _single(key, "normal")
    return _run("normal", k.data, _shape(shape, "normal"), _float_dtype(dtype, "normal"))


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    k = _single(key, "truncated_normal")
    d = _float_dtype(dtype, "truncated_normal")
    lower, upper = ops.convert(lower, d), ops.convert(upper, d)
    if shape is None:
        shape = ops.broadcast_shapes(aval_of(lower).shape, aval_of(upper).shape)
    return _run("truncated_normal", k.data, lower, upper, _shape(shape, "truncated_normal"), d)


def bernoulli(key, p=0.5, shape=None):
    k = _single(key, "bernoulli")
    p = ops.inexact(p)
    shape = aval_of(p).shape if shape is None else _shape(shape, "bernoulli")
    return _run("bernoulli", k.data, p, shape)


def _tiny(d) -> float:
    return float(np.finfo(d).tiny)


def gumbel(key, shape=(), dtype=None):
    k = _single(key, "gumbel")
    d = _float_dtype(dtype, "gumbel")
    return _run("gumbel", k.data, _shape(shape, "gumbel"), d, ops.convert(_tiny(d), d))


def randint(key, shape, minval, maxval, dtype=None):
    k = _single(key, "randint")
    d = to_dtype(dtype) or dtypes.i32
    if not dtypes.is_int(d):
        raise JxTypeError(f"random.randint needs an integer dtype, got {dtypes.short(d)}")
    info = np.iinfo(d)
    if isinstance(maxval, int) and isinstance(minval, int):
        out_of_range = np.array(maxval > info.max)
        lo = ops.convert(min(max(minval, info.min), info.max), d)
        hi = ops.convert(min(max(maxval, info.min), info.max), d)
    else:
        lo, hi = ops.convert(minval, d), ops.convert(maxval, d)
        out_of_range = np.array(False)
    return _run("randint", k.data, _shape(shape, "randint"), lo, hi, out_of_range, d)


def permutation(key, x, axis=0):
    k = _single(key, "permutation")
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        arr, n = None, int(x)
    else:
        arr = ops.as_array(x)
        n = aval_of(arr).shape[ops.normalize_axis(axis, aval_of(arr).ndim)]
    rounds = int(np.ceil(3 * np.log(max(1, n)) / np.log(np.iinfo(np.uint32).max)))
    if arr is not None and aval_of(arr).ndim == 1:
        return _run("shuffle", k.data, arr, rounds)
    perm = _run("shuffle", k.data, ops.iota(dtypes.i32, (n,)), rounds)
    if arr is None:
        return perm
    nd = aval_of(arr).ndim
    ax = ops.normalize_axis(axis, nd)
    return getitem(arr, (slice(None),) * ax + (perm,))


def categorical(key, logits, axis=-1, shape=None):
    k = _single(key, "categorical")
    logits = ops.inexact(logits)
    a = aval_of(logits)
    ax = ops.normalize_axis(axis, a.ndim)
    batch = tuple(d for i, d in enumerate(a.shape) if i != ax)
    shape = batch if shape is None else _shape(shape, "categorical")
    if shape[len(shape) - len(batch) :] != batch:
        raise JxValueError(
            f"random.categorical: shape {shape} must end with the logits' batch shape {batch}"
        )
    prefix = shape[: len(shape) - len(batch)]
    return _run(
        "categorical", k.data, logits, ax - a.ndim, prefix, ops.convert(_tiny(a.dtype), a.dtype)
    )


def choice(key, a, shape=(), replace=True, p=None, axis=0):
    k = _single(key, "choice")
    shape = _shape(shape, "choice")
    arr = None if isinstance(a, int) else ops.as_array(a)
    n = a if arr is None else aval_of(arr).shape[ops.normalize_axis(axis, aval_of(arr).ndim)]
    draws = int(np.prod(shape, dtype=np.int64))
    if n <= 0:
        raise JxValueError("random.choice: a must be greater than 0 unless no samples are taken")
    if not replace and draws > n:
        raise JxValueError(
            f"random.choice: cannot take {draws} samples from {n} without replacement"
        )
    fresh = Key(k.data)
    if p is None and replace:
        ind = randint(fresh, shape, 0, n)
    elif p is None:
        ind = ops.static_slice(permutation(fresh, n), (0,), (draws,), (1,))
    else:
        p = ops.inexact(p)
        if aval_of(p).shape != (n,):
            raise JxValueError(f"random.choice: p must have shape ({n},)")
        if not replace:
            raise JxTypeError("random.choice with p and replace=False is not supported yet")
        cum = BUILTINS["cumsum"].fn(p)
        total = ops.static_slice(cum, (n - 1,), (n,), (1,))
        u = uniform(fresh, shape, aval_of(p).dtype)
        r = ops.binary("mul", ops.reshape(total, ()), ops.binary("sub", 1.0, u))
        # searchsorted(cum, r, side="left"): how many cumulative values are below r.
        below = ops.compare("lt", cum, ops.expand_dims(r, -1))
        ind = ops.reduce("reduce_sum", below, -1)
    if arr is None:
        return ops.reshape(ind, shape)
    ax = ops.normalize_axis(axis, aval_of(arr).ndim)
    return getitem(arr, (slice(None),) * ax + (ind,))


def build_module() -> Module:
    fns = [
        key,
        split,
        fold_in,
        key_data,
        wrap_key_data,
        uniform,
        normal,
        truncated_normal,
        bernoulli,
        gumbel,
        randint,
        permutation,
        categorical,
        choice,
    ]
    return Module("random", {f.__name__: Builtin(f.__name__, f) for f in fns})


NATIVE["random"] = build_module
