"""save and load (LANGUAGE.md section 7): .npy and .npz files, read and written safely.

Where: a program reads and writes files under the working directory or under the folder of
the script it runs (symbolic links resolved), and under any folder added to
`ALLOWED_FOLDERS` (`jx run --allow-path DIR`, `JX_ALLOW_PATH=DIR1:DIR2`, or
`jx.allow_path(DIR)` from Python); any other path is a PurityError naming the way to allow it.

Writing: the file is written to a temporary file beside the target, synced, then renamed
over it, so a failure or a kill leaves the old file or the new one, never a torn one. The
temporary file's name holds the writer's process id; a save removes the temporary files of
writers no longer running (killed mid-save) from the folder it writes to. A payload larger
than `jx.limits.file_bytes` is refused before anything is written. An .npz is written
member by member here, so every keyword of `save` names an array.

Reading: the .npy header is parsed and checked (a known dtype, no objects, a size within
`jx.limits.array_bytes` and within the bytes the file holds) before the data is read, so a
corrupt or hostile file is a JxRuntimeError naming the file, never an exception from NumPy's
parser or an allocation the file merely claims.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import zipfile

import numpy as np

from . import dtypes, ops
from .builtins import builtin
from .core import CTX, describe
from .distributed import is_lead, process_index
from .errors import JxRuntimeError, PurityError
from .errors import TypeError as JxTypeError
from .errors import ValueError as JxValueError
from .limits import how_to_raise, limits

#: Folders save and load may use besides the working directory and the script's folder.
ALLOWED_FOLDERS: list[str] = [p for p in os.environ.get("JX_ALLOW_PATH", "").split(os.pathsep) if p]

_TEMP_PREFIX = ".jx-save-"
_TEMP_NAME = re.compile(re.escape(_TEMP_PREFIX) + r"(\d+)-\w+\.tmp\Z")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


def allow_path(folder: str) -> None:
    """Let save and load use files under `folder` too."""
    ALLOWED_FOLDERS.append(os.fspath(folder))


def _roots() -> list[str]:
    roots = [os.getcwd(), *ALLOWED_FOLDERS]
    script = CTX.span.source.name if CTX.span is not None else None
    if script and os.path.isfile(script):
        roots.append(os.path.dirname(os.path.abspath(script)))
    return [os.path.realpath(r) for r in roots]


def _path(path, verb: str) -> str:
    """The real path of `path`, refused unless it lies under an allowed folder."""
    if not isinstance(path, str):
        raise JxTypeError(f"a file path must be a string literal, got {describe(path)}")
    if not path or "\0" in path:
        raise JxValueError(f"not a file path: {path!r}")
    target = os.path.realpath(path)
    if not any(os.path.commonpath([root, target]) == root for root in _roots()):
        raise PurityError(
            f"{verb} {path}: a program may use files under the working directory and its "
            "script's folder only; allow another folder with jx run --allow-path DIR, "
            "JX_ALLOW_PATH or jx.allow_path(DIR)"
        )
    return target


def _host(x) -> np.ndarray:
    if not ops.is_array(x) and not ops.is_scalar(x):
        raise JxTypeError(f"save() writes arrays, got {describe(x)}")
    # Contiguous: NumPy's writer crashes on a strided view (a broadcast) of many dimensions.
    return np.asarray(x, order="C")


@builtin("save", effect=True)
def save(path, *arrays, **named):
    """Write .npy or .npz, from process 0 of a run; a path holding `{process}` is written
    by every process, with its index there."""
    if isinstance(path, str) and "{process}" in path:
        path = path.replace("{process}", str(process_index()))
    elif not is_lead():
        return
    suffix = os.path.splitext(path)[1] if isinstance(path, str) else None
    if suffix == ".npy":
        if len(arrays) != 1 or named:
            raise JxTypeError('save("x.npy", x) takes exactly one array; use .npz for several')
        payload = _host(arrays[0])
        size = payload.nbytes
    elif suffix == ".npz":
        if arrays and named:
            raise JxTypeError("save(.npz) takes either positional or named arrays, not both")
        payload = {f"arr_{i}": _host(a) for i, a in enumerate(arrays)}
        payload.update({k: _host(v) for k, v in named.items()})
        size = sum(a.nbytes for a in payload.values())
    else:
        raise JxTypeError("save() writes .npy or .npz files")
    target = _path(path, "cannot write")
    if size > limits.file_bytes:
        raise JxValueError(
            f"save({path!r}) would write {size:_} bytes, more than {limits.file_bytes:_}; "
            + how_to_raise("file_bytes")
        )
    folder = os.path.dirname(target)
    _remove_stale_temporaries(folder)
    try:
        fd, tmp = tempfile.mkstemp(
            dir=folder, prefix=f"{_TEMP_PREFIX}{os.getpid()}-", suffix=".tmp"
        )
    except OSError as e:
        raise JxRuntimeError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), _file_mode())  # mkstemp's file is private; a save is not
            if isinstance(payload, dict):
                _write_npz(f, payload)
            else:
                np.save(f, payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise JxRuntimeError(f"cannot write {path}: {e.strerror or e}") from None
        raise


def _write_npz(f, payload: dict) -> None:
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in payload.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.save(member, array)


def _remove_stale_temporaries(folder: str) -> None:
    """Delete the temporary files that killed saves left in `folder`."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        found = _TEMP_NAME.match(name)
        if found and not _running(int(found[1])):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass  # another process removed it first, or the folder is read-only


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _file_mode() -> int:
    """The permissions `open()` would give a new file (0o666 less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@builtin("load", effect=True)
def load(path):
    target = _path(path, "cannot read")
    try:
        with open(target, "rb") as f:
            magic = f.read(6)
            f.seek(0)
            if magic == _NPY_MAGIC:
                return _loaded(_read_npy(f, os.fstat(f.fileno()).st_size, path), path)
            if magic[:4] in _ZIP_MAGICS:
                return _read_npz(f, path)
    except FileNotFoundError:
        raise JxRuntimeError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise JxRuntimeError(f"cannot read {path}: it is a folder") from None
    except OSError as e:
        raise JxRuntimeError(f"cannot read {path}: {e.strerror or e}") from None
    raise JxRuntimeError(f"cannot read {path}: not an .npy or .npz file")


def _read_npz(f, path) -> dict:
    try:
        archive = zipfile.ZipFile(f)
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        raise _corrupt(path, e) from None
    out = {}
    with archive:
        for info in members:
            if not info.filename.endswith(".npy"):
                raise _corrupt(path, f"the member {info.filename!r} is not an .npy file")
            try:
                with archive.open(info) as member:
                    array = _read_npy(member, info.file_size, f"{path}:{info.filename}")
            except JxRuntimeError:
                raise
            except Exception as e:  # noqa: BLE001 - zipfile and zlib on corrupt bytes
                raise _corrupt(path, e) from None
            out[info.filename[:-4]] = _loaded(array, path)
    return out


def _read_npy(f, available: int, path) -> np.ndarray:
    """One .npy array from the stream `f` holding `available` bytes, checked first."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise _corrupt(path, f".npy format version {version} is not supported")
    except JxRuntimeError:
        raise
    except Exception as e:  # noqa: BLE001 - NumPy's header parser on corrupt bytes
        raise _corrupt(path, e) from None
    if not all(type(d) is int and d >= 0 for d in shape):
        raise _corrupt(path, f"the shape {shape!r} is not a shape")
    if dtype.hasobject:
        raise _corrupt(path, "it holds Python objects, which load never reads")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > limits.array_bytes:
        raise JxValueError(
            f"{path} holds an array of {nbytes:_} bytes; " + how_to_raise("array_bytes")
        )
    data = f.read(nbytes)
    if len(data) != nbytes or nbytes > available:
        raise _corrupt(path, f"it is truncated ({len(data)} of {nbytes} data bytes)")
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return array.copy()


def _corrupt(path, why) -> JxRuntimeError:
    return JxRuntimeError(f"cannot read {path}: not a valid .npy/.npz file ({why})")


def _loaded(array: np.ndarray, path) -> np.ndarray:
    # np.save writes ml_dtypes' bfloat16 as two-byte void records: read those back as bf16.
    if array.dtype == np.dtype("V2"):
        return array.view(dtypes.bf16)
    try:
        return array.astype(dtypes.canonical(array.dtype), copy=False)
    except (ValueError, TypeError):
        raise JxTypeError(
            f"{path} holds an array of dtype {array.dtype}, which jx does not have"
        ) from None
