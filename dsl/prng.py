"""PRNG keys and the `random` module (LANGUAGE.md section 6).

A `Key` wraps threefry key data (u32[..., 2], concrete or traced) and is not an array: no
arithmetic, not differentiable. Keys are linear: each key value is consumed at most once.
A `KeyRecord` is shared by a key and the elements of a key array; `use()` records where
each path (the whole key, or `ks[i]` by static index) was consumed and raises
KeyReuseError, naming the first use, on a second. Keys made outside a traced loop body
may not be consumed inside it (every iteration would reuse them). The `random` module's
functions are in random_module.py.
"""

from __future__ import annotations

import contextlib

import numpy as np

from . import trees
from .core import CTX, Tracer, aval_of
from .errors import KeyReuseError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .indexing import getitem

#: Every recorded use, in order, so a traced branch's uses can be undone and merged.
JOURNAL: list = []


#: A key array with more raw words than this shows only its first and last three keys
#: (in the order of its flattened key shape).
_SHOWN_WORDS = 24


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
        # The raw words, summarised past a few keys: a split into 10^5 keys stays one line
        # in the REPL and a notebook's Out[n].
        data = np.asarray(self.data)
        if data.size <= _SHOWN_WORDS:
            words = str(data.tolist())
        else:
            keys = [str(k) for k in data.reshape(-1, data.shape[-1]).tolist()]
            words = f"[{', '.join(keys[:3])}, ..., {', '.join(keys[-3:])}]"
        return f"key<threefry2x32>{self.shape} {words}"

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
            return Key(
                getitem(self.data, int(index) % n), self.record, self.path + (int(index) % n,)
            )
        # A slice or traced index takes (uses) the whole key array; indexed by a loop's own
        # index, a key array from outside the loop gives each iteration its own key.
        use(self, span, loop_check=not is_loop_index(index))
        return Key(getitem(self.data, index))

    def unpack(self, n, span):
        if not self.shape or self.shape[0] != n:
            raise JxValueError(f"cannot unpack keys of shape {self.shape} into {n} names", span)
        return tuple(self.getitem(i, span) for i in range(n))

    def static_items(self):
        return [self.getitem(i, CTX.span) for i in range(len(self))]

    @staticmethod
    def reject_binary(op, span):
        raise JxTypeError(f"PRNG keys have no arithmetic ({op}); draw numbers with random.*", span)

    @staticmethod
    def reject_unary(op, span):
        raise JxTypeError("PRNG keys have no arithmetic; draw numbers with random.*", span)

    @staticmethod
    def reject_compare(op, span):
        raise JxTypeError("PRNG keys cannot be compared; compare random.key_data(k)", span)


# A key is a tree node holding its data: tracing, transformations and loops carry that
# array like any other, and rebuild a fresh key (its own use record) around the result.
trees.register_node(Key, lambda k: ((k.data,), None), lambda _, children: Key(children[0]))


@contextlib.contextmanager
def loop_index(index):
    """While a loop body is traced: `index` (a tracer) differs on every iteration, so a key
    from outside the loop folded with it (`fold_in(k, i)`) or indexed by it (`ks[i]`) is a
    new key each time, not a reuse."""
    var = index.var if type(index) is Tracer else None
    if var is not None:
        CTX.loop_indices.add(var)
    try:
        yield
    finally:
        CTX.loop_indices.discard(var)


def is_loop_index(x) -> bool:
    return type(x) is Tracer and x.var in CTX.loop_indices


def use(key: Key, span, loop_check: bool = True, part: tuple = ()) -> None:
    """Consume `key` at `span`; KeyReuseError if it (or an overlapping part) was consumed.
    `part` narrows the use to a part of the key: `fold_in(k, d)` uses k's part `d` alone."""
    record, path = key.record, key.path + part
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


def journal_since(mark: int) -> list:
    """The uses recorded since `mark`, kept (a notebook cell's, to forget when it re-runs)."""
    return JOURNAL[mark:]


def journal_forget(uses: list) -> list:
    """Undo these earlier uses wherever they are in the journal (a re-run cell's old ones);
    what `journal_restore` needs to put them back."""
    gone = {(id(record), path) for record, path in uses}
    JOURNAL[:] = [(r, p) for r, p in JOURNAL if (id(r), p) not in gone]
    return [(record, path, record.uses.pop(path, None)) for record, path in uses]


def journal_restore(forgotten: list) -> None:
    """Record again uses that `journal_forget` undid (the re-run failed, changing nothing)."""
    for record, path, span in forgotten:
        record.uses[path] = span
        JOURNAL.append((record, path))


def journal_merge(branches) -> None:
    """Record the union of exclusive branches' uses: using a key in two branches is one use."""
    for taken in branches:
        for record, path in taken:
            if path not in record.uses:
                record.uses[path] = CTX.span
                JOURNAL.append((record, path))


__all__ = ["Key", "use"]
