"""Which files to check: walk the given paths, honouring `exclude` and `.gitignore` files.

Walking a directory finds `*.py` files plus whatever matches `extend-include` (Markdown
documents with `*.md`, `*.mdx`). A file named on the command line is always checked, with
one exception: a Markdown document is checked only if it matches `extend-include`, since
checking Markdown is something a project opts into.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import pathspec

from prefect_lint.config import Settings, SettingsResolver
from prefect_lint.diagnostics import FileError
from prefect_lint.engine.markdown import is_markdown

# Walked by default, like ruff: Python files and Jupyter notebooks.
PYTHON_SUFFIXES = (".py", ".ipynb")


@dataclass
class Discovered:
    files: list[str] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    # Named files that were not checked, with the reason (reported as warnings).
    skipped: list[FileError] = field(default_factory=list)


def _gitignore(directory: str) -> pathspec.GitIgnoreSpec | None:
    path = os.path.join(directory, ".gitignore")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return pathspec.GitIgnoreSpec.from_lines(handle)
    except OSError:
        return None


class _Walk:
    """Walks `top`; each directory's entries are matched against the settings nearest to it
    (a subproject's own `exclude` and `extend-include` apply inside it)."""

    def __init__(self, settings_in: Callable[[str], Settings], top: str) -> None:
        self.settings_in = settings_in
        self.settings = settings_in(top)
        self.top = top
        self.ignores: dict[str, pathspec.GitIgnoreSpec | None] = {}
        if self.settings.respect_gitignore:
            # .gitignore files above the walked directory apply too, up to the repository root.
            directory = os.path.dirname(os.path.abspath(top))
            while True:
                self.ignores[directory] = _gitignore(directory)
                parent = os.path.dirname(directory)
                if os.path.exists(os.path.join(directory, ".git")) or parent == directory:
                    break
                directory = parent

    def _relative(self, path: str, settings: Settings) -> str:
        relative = settings.relative(path)
        if relative.startswith("../") or os.path.isabs(relative):
            relative = os.path.relpath(path, self.top).replace(os.sep, "/")
        return relative

    def excluded(self, path: str, is_dir: bool) -> bool:
        settings = self.settings_in(os.path.dirname(path) or ".")
        relative = self._relative(path, settings) + ("/" if is_dir else "")
        if settings.exclude_spec.match_file(relative):
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
            settings = self.settings_in(directory)
            for name in sorted(filenames):
                path = os.path.normpath(os.path.join(directory, name))
                wanted = name.endswith(PYTHON_SUFFIXES) or settings.included(path)
                if wanted and not self.excluded(path, False):
                    found.append(path)
        return found


def discover(paths: list[str], settings: Settings | SettingsResolver) -> Discovered:
    """The files to check; with a resolver, each file and directory is matched against its
    nearest configuration (ConfigError if one is broken)."""
    settings_in: Callable[[str], Settings] = (
        (lambda _: settings) if isinstance(settings, Settings) else settings.for_directory
    )
    result = Discovered()
    seen: set[str] = set()
    for given in paths:
        if not os.path.lexists(given):
            result.errors.append(FileError(given, "no such file or directory"))
            continue
        if os.path.isdir(given):
            candidates = _Walk(settings_in, os.path.normpath(given)).files()
        elif is_markdown(given) and not (
            own := settings_in(os.path.dirname(given) or ".")
        ).included(given):
            result.skipped.append(
                FileError(
                    given,
                    "not checked: Markdown files are checked only when they match "
                    '`extend-include` (e.g. `--extend-include "*.md"`)',
                )
            )
            continue
        elif (own := settings_in(os.path.dirname(given) or ".")).force_exclude and _force_excluded(
            own, given
        ):
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
