"""Reading a file into text the way Python would, and writing it back the same way."""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import tempfile
import tokenize
from dataclasses import dataclass, field


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


def write_atomic(path: str, data: bytes) -> None:
    """Replace (or create) `path` with `data` via a temp file and rename; keeps the file's mode.

    Readers never see a half-written file, and a failed write leaves the old one in place.
    """
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = _new_file_mode()
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".prefect-lint-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
