"""Reading a file into text the way Python would, and writing it back the same way."""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import tempfile
import tokenize
from dataclasses import dataclass, field

from prefect_lint.python_ast import python_tree


class SourceError(Exception):
    """A file we cannot check; the message is one line, without the path."""


@dataclass
class SourceFile:
    path: str
    text: str
    encoding: str
    data: bytes = field(default=b"", repr=False)  # the bytes read

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def decode_source(data: bytes, path: str) -> SourceFile:
    if b"\0" in data:
        raise SourceError("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        # Raised for undecodable bytes in the first two lines as well as for bad cookies.
        encoding = "utf-8"
        if "encoding problem" in error.msg or "unknown encoding" in error.msg:
            raise SourceError(f"bad encoding declaration: {error.msg}") from None
    try:
        codecs.lookup(encoding)
        text = data.decode(encoding)
    except (LookupError, UnicodeDecodeError) as error:
        raise SourceError(f"cannot decode as {encoding}: {error}") from None
    return SourceFile(path=path, text=text, encoding=encoding, data=data)


def read_source(path: str) -> SourceFile:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None
    return decode_source(data, path)


def _new_file_mode() -> int:
    # The mode `open()` would give a new file: 0o666 less the umask (only readable by setting it).
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _can_write(path: str) -> None:
    """Raise PermissionError (or another OSError) when the process may not write `path`.

    Renaming a new file over `path` needs only the directory's permission, so it would
    overwrite a read-only file: opening it for writing (without truncating) asks the kernel
    the real question, for the effective user, ACLs and read-only mounts included.
    """
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
    os.close(fd)


def _temporary_copy(directory: str, data: bytes, *, sync: bool = True) -> str:
    """A new temporary file in `directory` holding `data` (with `sync`: synced to disk)."""
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".prefect-lint-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


def _write_in_place(target: str, data: bytes, directory: str) -> None:
    """Rewrite `target`'s own contents, so every hard link (and the owner, group, mode,
    ACLs) stays as it was.

    The new text is first written and synced to a temporary copy beside it: if rewriting the
    file fails half-way, the old text is put back, and if even that fails the error names the
    copy that holds the new text.
    """
    with open(target, "rb") as handle:
        original = handle.read()
    temp = _temporary_copy(directory, data)
    try:
        with open(target, "r+b") as handle:
            try:
                handle.write(data)
                handle.truncate()
                handle.flush()
                os.fsync(handle.fileno())
            except BaseException:
                handle.seek(0)
                handle.write(original)
                handle.truncate()
                raise
    except OSError as error:
        raise OSError(error.errno, f"{error.strerror}; the fixed text is in {temp}") from None
    os.unlink(temp)


def write_atomic(path: str, data: bytes) -> None:
    """Replace (or create) `path` with `data`, keeping the file's mode, owner and links.

    A file we may not write is refused with PermissionError, even where replacing it would
    be allowed. Normally a temp file is written and renamed over the old one, so readers never
    see a half-written file and a failed write leaves the old one in place. A file with more
    than one hard link, or whose owner or group a new file could not take over, is rewritten
    in place instead (through a synced temporary copy, see `_write_in_place`): replacing it
    would cut it off from its other names, or change who owns it.
    """
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    try:
        status: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        status = None
    if status is not None:
        _can_write(target)
        if status.st_nlink > 1:
            _write_in_place(target, data, directory)
            return
    if not replace_file(target, data, old=status):
        _write_in_place(target, data, directory)


def replace_file(
    path: str, data: bytes, *, old: os.stat_result | None = None, sync: bool = True
) -> bool:
    """Write `data` to a temporary file beside `path` and rename it over `path`, so readers
    never see a half-written file; on failure nothing is left behind.

    With `old` (the status of the file it replaces) the new file takes its mode, owner and
    group, and when it cannot take them over nothing is written and the answer is False;
    otherwise it gets the mode `open()` would give a new file. `sync=False` skips the fsync
    (for data that can be recomputed, like the result cache).
    """
    mode = old.st_mode & 0o7777 if old is not None else _new_file_mode()
    temp = _temporary_copy(os.path.dirname(path), data, sync=sync)
    try:
        if old is not None:
            created = os.stat(temp)
            owner = (old.st_uid, old.st_gid)
            if (created.st_uid, created.st_gid) != owner:
                try:
                    os.chown(temp, *owner)
                except PermissionError:
                    os.unlink(temp)
                    return False
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return True


def python_parses(text: str) -> bool:
    """Whether Python's own parser accepts `text` (its warnings silenced)."""
    return python_tree(text) is not None
