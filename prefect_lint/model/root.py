"""The project root of a file: cheap, no LibCST (the cached path of the CLI needs it)."""

from __future__ import annotations

import functools
import os

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")


def find_project_root(path: str) -> str:
    """The nearest directory at or above `path` holding a project marker; without one, the
    directory its top-level package sits in (see `import_root`)."""
    return _root_of_directory(os.path.dirname(os.path.abspath(path)))


def import_root(path: str) -> str:
    """Where Python and mypy would import the file from: walk up through the directories that
    hold an `__init__.py`; the first one that does not is the root of `pkg.mod` imports."""
    return _import_root_of_directory(os.path.dirname(os.path.abspath(path)))


@functools.lru_cache(maxsize=1024)
def _root_of_directory(start: str) -> str:
    directory = start
    while True:
        if any(os.path.exists(os.path.join(directory, marker)) for marker in ROOT_MARKERS):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return _import_root_of_directory(start)
        directory = parent


@functools.lru_cache(maxsize=1024)
def _import_root_of_directory(start: str) -> str:
    directory = start
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return directory
