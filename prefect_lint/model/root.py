"""The project root of a file: cheap, no LibCST (the cached path of the CLI needs it)."""

from __future__ import annotations

import functools
import os

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")


def find_project_root(path: str) -> str:
    """The nearest directory at or above `path` holding a project marker, else its directory."""
    return _root_of_directory(os.path.dirname(os.path.abspath(path)))


@functools.lru_cache(maxsize=1024)
def _root_of_directory(start: str) -> str:
    directory = start
    while True:
        if any(os.path.exists(os.path.join(directory, marker)) for marker in ROOT_MARKERS):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return start
        directory = parent
