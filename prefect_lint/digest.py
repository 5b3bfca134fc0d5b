"""Content digests for the result cache (standard library only: the cached path imports it)."""

from __future__ import annotations

import hashlib


def digest_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def digest_file(path: str) -> str | None:
    """The digest of a file's bytes; None if it is not a readable regular file."""
    try:
        with open(path, "rb") as handle:
            return digest_bytes(handle.read())
    except OSError:  # absent, a directory, unreadable
        return None
