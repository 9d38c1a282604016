"""Write files so that a kill at any moment leaves either the old file or the new one.

A writer works in a hidden temporary beside its target, ``.<name>.fverify-<host>-<pid>.<random>.tmp``
(a file, or a staging folder for a whole tree). A SIGKILL leaves it behind; the next writer into
the same folder removes those whose process is gone: same host, same user, pid not running.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from fverify.errors import FverifyError


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on clean exit fsync it and rename it over ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched. ``mode`` is
    ``"w"`` or ``"wb"``; the parent folder is created.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files; mode must be 'w' or 'wb', not {mode!r}")
    target = Path(path)
    if target.is_dir():
        raise FverifyError("is a folder; a file was expected here", where=str(target),
                           fix="give a file name, e.g. inside that folder")
    with _writable(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=_temporary_prefix(target), suffix=".tmp", dir=target.parent)
    os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        with _writable(target):
            os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON (NaN and inf refused: they are not JSON)."""
    with atomic_open(path, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, indent=2, allow_nan=False)
        handle.write("\n")


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Build a whole folder tree in a temporary folder beside ``path``, renamed to ``path`` on
    clean exit (removed on an exception), so a killed run never leaves a half-written tree.

    ``path`` must not exist yet, or be an empty folder: a tree is never merged into another.
    """
    target = Path(path)
    check_new_directory(target)
    with _writable(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target.parent)
        staging = Path(tempfile.mkdtemp(prefix=_temporary_prefix(target), suffix=".tmp", dir=target.parent))
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; give what mkdir() would
    try:
        yield staging
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def check_new_directory(path: str | os.PathLike[str]) -> None:
    """Refuse ``path`` as the target of :func:`atomic_directory` unless it is absent or an empty
    folder. Call it before long work whose results go there, to fail before the work."""
    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FverifyError("exists and is not an empty folder; fverify does not merge into it",
                           where=str(target), fix="choose a new output folder or remove this one")
    _check_creatable(target, "folder")


def check_new_file(path: str | os.PathLike[str]) -> None:
    """Refuse ``path`` as the target of :func:`atomic_open` when it is a folder or cannot be
    created there. Call it before long work whose result goes there, to fail before the work."""
    target = Path(path)
    if target.is_dir():
        raise FverifyError("is a folder; a file was expected here", where=str(target),
                           fix="give a file name, e.g. inside that folder")
    _check_creatable(target, "file")


def check_writable_directory(path: str | os.PathLike[str]) -> None:
    """Refuse ``path`` as a folder to keep writing files into (a cache) when it is a file, is
    not writable, or cannot be created."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise FverifyError("is a file; a folder was expected here", where=str(target),
                           fix="give a folder (it is created when absent)")
    if target.is_dir():
        if not os.access(target, os.W_OK | os.X_OK):
            raise FverifyError("cannot write in this folder", where=str(target),
                               fix="choose a writable location")
        return
    _check_creatable(target, "folder")


def _check_creatable(target: Path, what: str) -> None:
    """``target`` (absent) can be made: its nearest existing ancestor is a writable folder."""
    parent = next((p for p in target.parents if p.exists()), Path("."))
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise FverifyError(f"cannot create a {what} under {parent}", where=str(target),
                           fix="choose a writable location")


# The owner's host and pid, then mkstemp's random letters: see _temporary_prefix.
_TEMPORARY = re.compile(r"^\..*\.fverify-(?P<host>.+)-(?P<pid>[0-9]+)\.[a-z0-9_]+\.tmp$")


def _temporary_prefix(target: Path) -> str:
    return f".{target.name}.fverify-{socket.gethostname()}-{os.getpid()}."


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files and staging folders in ``folder`` that a killed fverify
    process left: only those of this host and user whose process is no longer running (a
    pid in use, even by another program, keeps them). Returns what was removed."""
    host, uid, removed = socket.gethostname(), os.getuid(), []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if not match or match["host"] != host or _running(int(match["pid"])):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != uid:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:  # gone already (another run cleaning up), or not ours to remove
            continue
        removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OverflowError:  # not a pid this system can have
        return False
    return True


@contextlib.contextmanager
def _writable(target: Path) -> Iterator[None]:
    """Turn an OS refusal to create or replace ``target`` into the user-facing error."""
    try:
        yield
    except OSError as error:
        raise FverifyError(f"cannot write here: {error.strerror or error}", where=str(target),
                           fix="choose a writable location") from None


def _umask() -> int:
    # The only portable way to read the umask is to set it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
