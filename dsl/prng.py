"""PRNG keys and the `random` module (LANGUAGE.md section 6).

A `Key` wraps threefry key data (u32[..., 2], concrete or traced) and is not an array: no
arithmetic, not differentiable. Keys are linear: each key value is consumed at most once.
A `KeyRecord` is shared by a key and the elements of a key array; `use()` records where
each path (the whole key, or `ks[i]` by static index) was consumed and raises
KeyReuseError, naming the first use, on a second. Keys made outside a traced loop body
may not be consumed inside it (every iteration would reuse them). The numbers come from
`stdlib/random.jx`; this module checks arguments, handles keys and calls it.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from . import dtypes, ops, trees
from .core import CTX, aval_of, describe
from .errors import KeyReuseError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .values import Builtin, Module

#: Every recorded use, in order, so a traced branch's uses can be undone and merged.
JOURNAL: list = []


class KeyRecord:
    __slots__ = ("level", "uses")

    def __init__(self):
        self.uses: dict = {}
        self.level = CTX.loop_level


class Key:
    """A PRNG key, or an array of them (the data's leading axes are the key shape)."""

    jx_kind = "a PRNG key"
    __slots__ = ("data", "path", "record")

    def __init__(self, data, record: KeyRecord | None = None, path: tuple = ()):
        self.data = data
        self.record = record or KeyRecord()
        self.path = path

    @property
    def shape(self) -> tuple:
        return aval_of(self.data).shape[:-1]

    def __repr__(self) -> str:
        return f"key<threefry2x32>{self.shape} {np.asarray(self.data).tolist()}"

    def __len__(self) -> int:
        if not self.shape:
            raise JxTypeError("len() of a single PRNG key")
        return self.shape[0]

    def attribute(self, name, span):
        if name == "shape":
            return self.shape
        if name == "ndim":
            return len(self.shape)
        raise JxTypeError(f"a PRNG key has no attribute '{name}'", span)

    def getitem(self, index, span):
        if not self.shape:
            raise JxTypeError("a single PRNG key cannot be indexed", span)
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
            n = self.shape[0]
            if not -n <= index < n:
                raise JxTypeError(f"key index {index} is out of range for {n} keys", span)
            from .indexing import getitem

            return Key(
                getitem(self.data, int(index) % n), self.record, self.path + (int(index) % n,)
            )
        # A slice or traced index takes (uses) the whole key array.
        use(self, span)
        from .indexing import getitem

        return Key(getitem(self.data, index))

    def unpack(self, n, span):
        if not self.shape or self.shape[0] != n:
            raise JxValueError(f"cannot unpack keys of shape {self.shape} into {n} names", span)
        return tuple(self.getitem(i, span) for i in range(n))

    def static_items(self):
        return [self.getitem(i, CTX.span) for i in range(len(self))]

    def binary_op(self, op, x, y, span):
        raise JxTypeError(f"PRNG keys have no arithmetic ({op}); draw numbers with random.*", span)

    def unary_op(self, op, span):
        raise JxTypeError("PRNG keys have no arithmetic; draw numbers with random.*", span)

    def compare_op(self, op, x, y, span):
        raise JxTypeError("PRNG keys cannot be compared; compare random.key_data(k)", span)


# A key is a tree node holding its data: tracing, transformations and loops carry that
# array like any other, and rebuild a fresh key (its own use record) around the result.
trees.register_node(Key, lambda k: ((k.data,), None), lambda _, children: Key(children[0]))


def use(key: Key, span, loop_check: bool = True) -> None:
    """Consume `key` at `span`; KeyReuseError if it (or an overlapping part) was consumed."""
    record, path = key.record, key.path
    if loop_check and record.level < CTX.loop_level:
        raise KeyReuseError(
            "this key comes from outside the loop and is used in its body "
            "without being rebound: every iteration would reuse it; split it "
            "inside the loop (key, sub = random.split(key))",
            span,
        )
    for other, first in record.uses.items():
        if other[: len(path)] == path or path[: len(other)] == other:
            err = KeyReuseError(
                "this PRNG key was already used; split it for fresh keys "
                "(k1, k2 = random.split(k))",
                span,
            )
            err.add_note("first used here", first)
            raise err
    record.uses[path] = span
    JOURNAL.append((record, path))


def use_in_call(args, kwargs, span):
    """Passing keys to a function consumes them; the callee gets fresh key values."""

    def fresh(x):
        if isinstance(x, Key):
            use(x, span)
            return Key(x.data)
        return x

    if not _has_key(args) and not _has_key(kwargs):
        return args, kwargs
    leaves, tree = trees.flatten((tuple(args), kwargs), lambda x: isinstance(x, Key))
    args, kwargs = trees.unflatten(tree, [fresh(x) for x in leaves])
    return list(args), kwargs


def _has_key(x) -> bool:
    if isinstance(x, Key):
        return True
    if isinstance(x, (tuple, list)):
        return any(_has_key(v) for v in x)
    if isinstance(x, dict):
        return any(_has_key(v) for v in x.values())
    return False


def journal_mark() -> int:
    return len(JOURNAL)


def journal_take(mark: int) -> list:
    """Undo the uses recorded since `mark` (a traced branch's) and return them."""
    taken = JOURNAL[mark:]
    del JOURNAL[mark:]
    for record, path in taken:
        record.uses.pop(path, None)
    return taken


def journal_merge(branches) -> None:
    """Record the union of exclusive branches' uses: using a key in two branches is one use."""
    for taken in branches:
        for record, path in taken:
            if path not in record.uses:
                record.uses[path] = CTX.span
                JOURNAL.append((record, path))


# ------------------------------------------------------------------ the random module


def _impl():
    global _IMPL
    if _IMPL is None:
        from .modules import load_module

        path = str(resources.files("jx.stdlib").joinpath("random.jx"))
        _IMPL = load_module("random", path).members
    return _IMPL


_IMPL = None


def _run(name, *args):
    from .functions import call

    return call(_impl()[name], list(args), {}, CTX.span)


def _single(k, what: str) -> Key:
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
    use(k, CTX.span)
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
    from .builtins import to_dtype

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
    k = _single(key, "fold_in")
    if isinstance(data, (int, np.integer)) and not isinstance(data, bool):
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
    from .builtins import to_dtype

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
    from .indexing import getitem

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
        from .builtins import BUILTINS

        cum = BUILTINS["cumsum"].fn(p)
        total = ops.static_slice(cum, (n - 1,), (n,), (1,))
        u = uniform(fresh, shape, aval_of(p).dtype)
        r = ops.binary("mul", ops.reshape(total, ()), ops.binary("sub", 1.0, u))
        # searchsorted(cum, r, side="left"): how many cumulative values are below r.
        below = ops.compare("lt", cum, ops.expand_dims(r, -1))
        ind = ops.reduce("reduce_sum", below, -1)
    if arr is None:
        return ops.reshape(ind, shape)
    from .indexing import getitem

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


__all__ = ["Key", "build_module", "use"]
