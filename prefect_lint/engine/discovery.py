"""Which files to check: walk the given paths, honouring `exclude` and `.gitignore` files.

Walking a directory finds `*.py` files plus whatever matches `extend-include` (Markdown
documents with `*.md`, `*.mdx`). A file named on the command line is always checked, with
one exception: a Markdown document is checked only if it matches `extend-include`, since
checking Markdown is something a project opts into.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pathspec

from prefect_lint.config import Settings
from prefect_lint.diagnostics import FileError
from prefect_lint.engine.markdown import is_markdown

PYTHON_SUFFIXES = (".py",)


@dataclass
class Discovered:
    files: list[str] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    # Named files that were not checked, with the reason (reported as warnings).
    skipped: list[FileError] = field(default_factory=list)


def _gitignore(directory: str) -> pathspec.PathSpec | None:
    path = os.path.join(directory, ".gitignore")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return pathspec.GitIgnoreSpec.from_lines(handle)
    except OSError:
        return None


class _Walk:
    def __init__(self, settings: Settings, top: str) -> None:
        self.settings = settings
        self.top = top
        self.ignores: dict[str, pathspec.PathSpec | None] = {}
        if settings.respect_gitignore:
            # .gitignore files above the walked directory apply too, up to the repository root.
            directory = os.path.dirname(os.path.abspath(top))
            while True:
                self.ignores[directory] = _gitignore(directory)
                parent = os.path.dirname(directory)
                if os.path.exists(os.path.join(directory, ".git")) or parent == directory:
                    break
                directory = parent

    def _relative(self, path: str) -> str:
        relative = self.settings.relative(path)
        if relative.startswith("../") or os.path.isabs(relative):
            relative = os.path.relpath(path, self.top).replace(os.sep, "/")
        return relative

    def excluded(self, path: str, is_dir: bool) -> bool:
        relative = self._relative(path) + ("/" if is_dir else "")
        if self.settings.exclude_spec.match_file(relative):
            return True
        if not self.settings.respect_gitignore:
            return False
        absolute = os.path.abspath(path)
        directory = os.path.dirname(absolute)
        while True:
            spec = self.ignores.get(directory)
            if spec is not None:
                inner = os.path.relpath(absolute, directory).replace(os.sep, "/")
                if spec.match_file(inner + ("/" if is_dir else "")):
                    return True
            parent = os.path.dirname(directory)
            if parent == directory:
                return False
            directory = parent

    def files(self) -> list[str]:
        found: list[str] = []
        for directory, dirnames, filenames in os.walk(self.top):
            if self.settings.respect_gitignore:
                self.ignores[os.path.abspath(directory)] = _gitignore(directory)
            dirnames[:] = sorted(
                d for d in dirnames if not self.excluded(os.path.join(directory, d), True)
            )
            for name in sorted(filenames):
                path = os.path.normpath(os.path.join(directory, name))
                wanted = name.endswith(PYTHON_SUFFIXES) or self.settings.included(path)
                if wanted and not self.excluded(path, False):
                    found.append(path)
        return found


def discover(paths: list[str], settings: Settings) -> Discovered:
    result = Discovered()
    seen: set[str] = set()
    for given in paths:
        if not os.path.lexists(given):
            result.errors.append(FileError(given, "no such file or directory"))
            continue
        if os.path.isdir(given):
            candidates = _Walk(settings, os.path.normpath(given)).files()
        elif is_markdown(given) and not settings.included(given):
            result.skipped.append(
                FileError(
                    given,
                    "not checked: Markdown files are checked only when they match "
                    '`extend-include` (e.g. `--extend-include "*.md"`)',
                )
            )
            continue
        elif settings.force_exclude and _force_excluded(settings, given):
            continue  # pre-commit & co. name every file: `exclude` must still apply
        else:
            # A file named explicitly is always checked, whatever its name.
            candidates = [given]
        for path in candidates:
            key = os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                result.files.append(path)
    return result


def _force_excluded(settings: Settings, path: str) -> bool:
    """`exclude` applied to a file named explicitly: the file or one of its directories."""
    relative = settings.relative(path)
    if relative.startswith("../") or os.path.isabs(relative):
        return False
    spec = settings.exclude_spec
    parts = relative.split("/")
    return spec.match_file(relative) or any(
        spec.match_file("/".join(parts[:end]) + "/") for end in range(1, len(parts))
    )
