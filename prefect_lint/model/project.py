"""The project index: flows and tasks defined in other modules of the same project.

`from .tasks import extract` or `import pipelines.steps as steps` in one file must mean the
same task to the rules as a definition in that file. The index maps a dotted module name to
a file the way Python would find it when the project runs (the importing file's directory
first, then the project root, then `src/`), parses each such file at most once per process,
and asks that file's own model what the name is. Installed packages are never indexed:
names from them stay unknown.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections import OrderedDict
from collections.abc import Callable

import libcst as cst

from prefect_lint.model.values import Decorator, Dotted, Flow, Runner, Task, Value

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
_MAX_BYTES = 2_000_000
# Trees parsed for the index but not checked yet, kept for the checker (oldest dropped first).
# Few: keeping every tree alive makes each garbage collection walk millions of nodes.
_MAX_UNCHECKED = 32
_unchecked: OrderedDict[str, tuple[str, object]] = OrderedDict()


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


class ProjectIndex:
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        # path -> the module's top-level names (None: not a readable module)
        self._exports: dict[str, dict[str, Value | None] | None] = {}
        self._resolving: set[tuple[str, str]] = set()
        self._found: dict[tuple[str, str], str | None] = {}
        # Set by the engine: builds a ModuleModel for a parsed module (avoids an import cycle).
        self.model_factory: Callable[[cst.Module, str], object] | None = None

    def contains(self, path: str) -> bool:
        absolute = os.path.abspath(path)
        return absolute == self.root or absolute.startswith(self.root + os.sep)

    # -- files ------------------------------------------------------------------------------

    def _search_dirs(self, importer: str) -> list[str]:
        dirs = [
            os.path.dirname(os.path.abspath(importer)),
            self.root,
            os.path.join(self.root, "src"),
        ]
        unique: list[str] = []
        for directory in dirs:
            if directory not in unique and os.path.isdir(directory):
                unique.append(directory)
        return unique

    def find_module(self, dotted: str, importer: str) -> str | None:
        """The file of module `dotted` (leading dots: relative to `importer`), if in the project."""
        key = (dotted, os.path.dirname(os.path.abspath(importer)))
        if key not in self._found:
            self._found[key] = self._find_module(dotted, importer)
        return self._found[key]

    def _find_module(self, dotted: str, importer: str) -> str | None:
        if dotted.startswith("."):
            level = len(dotted) - len(dotted.lstrip("."))
            base = os.path.dirname(os.path.abspath(importer))
            for _ in range(level - 1):
                base = os.path.dirname(base)
            rest = dotted[level:]
            bases = [base]
        else:
            rest = dotted
            bases = self._search_dirs(importer)
        parts = rest.split(".") if rest else []
        for base in bases:
            target = os.path.join(base, *parts)
            for candidate in (target + ".py", os.path.join(target, "__init__.py")):
                if parts and os.path.isfile(candidate) and self.contains(candidate):
                    return candidate
                if not parts and os.path.isfile(os.path.join(base, "__init__.py")):
                    return os.path.join(base, "__init__.py")
        return None

    def exports_for(self, path: str) -> dict[str, Value | None] | None:
        """What a project module's top-level names are (node-free, so no tree stays alive)."""
        key = os.path.abspath(path)
        if key in self._exports:
            return self._exports[key]
        self._exports[key] = {}  # while it is being read: an import cycle sees nothing
        model = self._parse(key)
        self._exports[key] = summarize(model) if model is not None else None
        return self._exports[key]

    def _parse(self, key: str) -> object | None:
        text = None
        try:
            # Any imported project file may matter: a package `__init__` re-exporting a task
            # need not mention prefect. Only what an import resolves to is ever parsed.
            if os.path.getsize(key) > _MAX_BYTES or self.model_factory is None:
                return None
            with open(key, encoding="utf-8") as handle:
                text = handle.read()
            model = self.model_factory(cst.parse_module(text), key)
        except (OSError, UnicodeDecodeError, ValueError, cst.ParserSyntaxError, RecursionError):
            return None
        # Kept (a few, process-wide) so checking this file later does not parse it again.
        _unchecked[key] = (text, model)
        if len(_unchecked) > _MAX_UNCHECKED:
            _unchecked.popitem(last=False)
        return model

    def remember(self, path: str, model: object) -> None:
        """Record the exports of a file the checker parsed; its tree can then be freed."""
        key = os.path.abspath(path)
        _unchecked.pop(key, None)
        if key not in self._exports:
            self._exports[key] = {}
            self._exports[key] = summarize(model)

    def forget(self, path: str | None = None) -> None:
        """Drop what was learnt from `path`, or from every file: it changed (the editor).

        Summaries of modules that re-export from a changed file go stale with it, and a new
        file changes where imports lead; only forgetting everything is right after a save.
        """
        if path is None:
            self._exports.clear()
            self._found.clear()
        else:
            self._exports.pop(os.path.abspath(path), None)

    @staticmethod
    def model_of_text(path: str, text: str) -> object | None:
        """The model the index already built from exactly `text`: each file parses once."""
        entry = _unchecked.get(os.path.abspath(path))
        if entry is not None and entry[0] == text:
            return entry[1]
        return None

    def preload(self, importer: object) -> None:
        """Parse the project modules `importer` imports (and theirs), before any rule runs.

        Rules resolve names deep inside a recursive walk; parsing another module there could
        exhaust the stack. Loading them up front keeps every parse at a shallow depth.
        """
        pending = [importer]
        seen: set[str] = {os.path.abspath(importer.path)}  # type: ignore[attr-defined]
        while pending:
            model = pending.pop()
            path = model.path  # type: ignore[attr-defined]
            for dotted in model.imported_names():  # type: ignore[attr-defined]
                level = len(dotted) - len(dotted.lstrip("."))
                parts = dotted[level:].split(".")
                for split in range(len(parts), -1, -1):
                    if split == 0 and not level:
                        break
                    module_path = self.find_module("." * level + ".".join(parts[:split]), path)
                    if module_path is None:
                        continue
                    key = os.path.abspath(module_path)
                    if key not in seen and key not in self._exports and key not in _unchecked:
                        seen.add(key)
                        loaded = self._parse(key)
                        if loaded is not None:
                            pending.append(loaded)
                    break

    # -- names -------------------------------------------------------------------------------

    def resolve(self, dotted: str, importer: str) -> Value | None:
        """What `dotted` (a module path plus attributes) is, if a project module defines it."""
        level = len(dotted) - len(dotted.lstrip("."))
        parts = dotted[level:].split(".")
        prefix = "." * level
        # The longest module prefix that is a project file; the rest are attributes of it.
        for split in range(len(parts) - 1, -1, -1):
            if split == 0 and not level:
                continue  # an absolute name needs at least a module part
            module_name = prefix + ".".join(parts[:split])
            path = self.find_module(module_name, importer)
            if path is None:
                continue
            attributes = parts[split:]
            if not attributes:
                return None
            key = (path, ".".join(attributes))
            if key in self._resolving:
                return None  # an import cycle: unknown
            self._resolving.add(key)
            try:
                exports = self.exports_for(path)
                if not exports:
                    return None
                value = exports.get(attributes[0])
                for attribute in attributes[1:]:
                    if not isinstance(value, Dotted):
                        return None
                    value = self.resolve(f"{value.name}.{attribute}", path) or Dotted(
                        f"{value.name}.{attribute}"
                    )
                return value
            finally:
                self._resolving.discard(key)
        return None


def _without_nodes(value: Value | None) -> Value | None:
    """The part of a value another module can use, without references into the tree."""
    if isinstance(value, (Flow, Task)):
        runner = getattr(value, "task_runner", None)
        changes: dict[str, object] = {"node": None}
        if runner is not None:
            changes["task_runner"] = Runner(runner.name)
        return dataclasses.replace(value, **changes)  # type: ignore[arg-type]
    if isinstance(value, Dotted):
        return value
    if isinstance(value, Runner):
        return Runner(value.name)
    if isinstance(value, Decorator):
        return Decorator(value.kind, None)
    return None  # plain functions, classes...: nothing a rule needs across modules


def summarize(model: object) -> dict[str, Value | None]:
    names = model.module_scope.bindings  # type: ignore[attr-defined]
    return {
        name: _without_nodes(model.lookup(name, model.module_scope))  # type: ignore[attr-defined]
        for name in names
    }


_indexes: dict[str, ProjectIndex] = {}


def index_for(path: str) -> ProjectIndex:
    """The (per-process) index of the project `path` belongs to."""
    root = find_project_root(path)
    index = _indexes.get(root)
    if index is None:
        from prefect_lint.model.module import ModuleModel

        index = ProjectIndex(root)
        index.model_factory = lambda module, file: ModuleModel(module, file, index)
        _indexes[root] = index
    return index
