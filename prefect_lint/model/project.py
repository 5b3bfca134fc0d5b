"""The project index: flows and tasks defined in other modules of the same project.

`from .tasks import extract` or `import pipelines.steps as steps` in one file must mean the
same task to the rules as a definition in that file. The index maps a dotted module name to
a file the way Python would find it when the project runs (the importing file's directory
first, then the project root, then `src/`), parses each such file at most once per process,
and asks that file's own model what the name is. Installed packages are never indexed:
names from them stay unknown.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable

import libcst as cst

from prefect_lint.digest import digest_bytes, digest_file
from prefect_lint.model.api import NO_USER_DECORATORS, UserDecorators
from prefect_lint.model.module import ModuleModel
from prefect_lint.model.relevance import file_facts, project_names
from prefect_lint.model.root import import_root
from prefect_lint.model.values import Dotted, Value

_MAX_BYTES = 2_000_000
# Trees parsed for the index but not checked yet, kept for the checker (oldest dropped first).
# Few: keeping every tree alive makes each garbage collection walk millions of nodes.
_MAX_UNCHECKED = 32
_unchecked: OrderedDict[str, tuple[str, ModuleModel]] = OrderedDict()
# `from a.b import c, d` / `import a.b as m, e` on one line (enough for a prefilter).
_IMPORT_LINE = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<module>\.*[\w.]*)[ \t]+import[ \t]+\(?(?P<names>[\w., \t]*)"
    r"|import[ \t]+(?P<modules>[\w., \t]+))",
    re.MULTILINE,
)
_AS = re.compile(r"[ \t]+as[ \t]+\w+")


def imported_module_names(text: str) -> list[str]:
    """Dotted names a module's import lines may load, from its text alone."""
    found: list[str] = []
    for match in _IMPORT_LINE.finditer(text):
        if match.group("modules"):
            found.extend(n.strip() for n in _AS.sub("", match.group("modules")).split(","))
            continue
        module = match.group("module")
        found.append(module)
        for name in _AS.sub("", match.group("names") or "").split(","):
            name = name.strip()
            if name:
                # `from pkg import flows` may name a submodule.
                found.append(f"{module}{name}" if module.endswith(".") else f"{module}.{name}")
    return [name for name in found if name.strip(".")]


# What a module offers the others: each top-level name's value, without tree nodes.
Summary = dict[str, Value | None]


class ProjectIndex:
    # The editor's index: an open document's top-level names come from its text, not the
    # file on disk, so the checker summarizes every text it is given, even one no rule can
    # report on (which the command line never parses: other modules read it from disk).
    summarizes_every_text = False

    def __init__(
        self,
        root: str,
        decorators: UserDecorators = NO_USER_DECORATORS,
        *,
        summarize: Callable[[ModuleModel], Summary],
    ) -> None:
        self.root = os.path.abspath(root)
        self.decorators = decorators
        # Reads a parsed module's summary (`model.exports.summarize`: which rules' facts a
        # summary carries is not the index's business).
        self._summarize_model = summarize
        # path -> the module's top-level names (None: not a readable module)
        self._exports: dict[str, Summary | None] = {}
        self._resolving: set[tuple[str, str]] = set()
        self._mentions: dict[tuple[str, int], bool] = {}
        # (module, importer directory) -> (the file, the candidate files probed for it)
        self._found: dict[tuple[str, str], tuple[str | None, tuple[str, ...]]] = {}
        # Dependency tracking for the result cache. A recorder maps each project file some
        # answer depended on to whether it existed; a file's exports keep their own recorder,
        # since later files reuse them from memory without repeating the lookups.
        self._recorders: list[dict[str, bool]] = []
        self._export_deps: dict[str, dict[str, bool]] = {}
        self._digests: dict[str, str | None] = {}
        # For `reaches_prefect`: per file, whether it may carry Prefect values (None: unknown
        # yet), and the project files each (name, importer directory) may lead to.
        self._reaches: dict[str, bool] = {}
        self._leads: dict[tuple[str, str, bool], tuple[str, ...]] = {}
        self._search: dict[str, tuple[str, ...]] = {}  # importer directory -> search dirs
        self._directories: dict[str, str] = {}  # importer path as given -> its directory

    def imports_prefect_code(self, text: str, importer: str, depth: int = 2) -> bool:
        """Whether `text` imports a project module that mentions prefect (or one re-exporting
        from such a module): code that never names prefect can still use its flows."""
        for dotted in imported_module_names(text):
            path = self.find_module(dotted, importer)
            if path is not None and self._mentions_prefect(path, depth):
                return True
        return False

    def _mentions_prefect(self, path: str, depth: int) -> bool:
        key = (os.path.abspath(path), depth)
        if key not in self._mentions:
            self._mentions[key] = False  # an import cycle answers no
            try:
                if os.path.getsize(path) > _MAX_BYTES:
                    return False
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                return False
            self._mentions[key] = "prefect" in text or (
                depth > 1 and self.imports_prefect_code(text, path, depth - 1)
            )
        return self._mentions[key]

    def reaches_prefect(self, names: Iterable[str], importer: str) -> bool:
        """Whether names used in `importer` may lead to a project module that carries Prefect
        values (it mentions prefect or a configured wrapper, or imports such a module).

        The model resolves a name through the longest module prefix that is a project file,
        then through what that module binds: a module bound there (`import pkg.sub as s`) may
        be extended by attributes in the importer, so for the modules reached every file under
        the directories their names lead to is followed as well. Each file read counts as a
        dependency of the answer for the result cache.
        """
        pending = self._leads_of(names, importer, packages=False)
        seen: set[str] = set(pending)
        while pending:
            path = pending.pop()
            known = self._reaches.get(path)
            if known is not None:
                self._note_file(path)
                if known:
                    return True
                continue
            text = self._text(path)
            self._note_file(path)
            if text is None or "prefect" in text or self.decorators.mentioned_in(text):
                self._reaches[path] = True
                return True
            facts = file_facts(text)
            if facts is None:
                self._reaches[path] = True
                return True
            for found in self._leads_of(project_names(facts, self.decorators), path, True):
                if found not in seen:
                    seen.add(found)
                    pending.append(found)
        # Every file seen leads only to files seen, none of which carries Prefect values.
        for path in seen:
            self._reaches[path] = False
        return False

    def _leads_of(self, names: Iterable[str], importer: str, packages: bool) -> list[str]:
        found: list[str] = []
        for name in names:
            found.extend(self._leads_of_name(name, importer, packages))
        return found

    def _leads_of_name(self, name: str, importer: str, packages: bool) -> tuple[str, ...]:
        key = (name, self._directory_of(importer), packages)
        if key not in self._leads:
            if not self._recorders and not self._may_be_here(name, importer):
                # Recorded lookups probe in full, for the result cache's absent files.
                self._leads[key] = ()
                return ()
            files: list[str] = []
            for prefix in _prefixes(name):
                module = self.find_module(prefix, importer)
                if module is not None:
                    files.append(os.path.abspath(module))
                    if packages:
                        files.extend(self._files_under(module))
            self._leads[key] = tuple(files)
        elif self._recorders:
            # Replayed for the dependency recorder (the probes are cached there).
            for prefix in _prefixes(name):
                self.find_module(prefix, importer)
        return self._leads[key]

    def _may_be_here(self, name: str, importer: str) -> bool:
        """Whether a search directory holds the first part of absolute `name` (a module file
        or a directory): most names a file uses come from the standard library or packages,
        and none of their longer prefixes needs probing then."""
        if name.startswith("."):
            return True
        head = name.partition(".")[0]
        return any(
            head + ".py" in _names_in(base) or _is_directory(os.path.join(base, head))
            for base in self._search_dirs(importer)
        )

    def _files_under(self, module: str) -> list[str]:
        """Python files a module's name can reach by attributes: the rest of its package, or
        a directory beside a module file of the same name."""
        if os.path.basename(module) == "__init__.py":
            directory = os.path.dirname(module)
        else:
            directory = module[: -len(".py")]
        if not os.path.isdir(directory) or not self.contains(directory):
            return []
        files: list[str] = []
        for base, dirs, names in os.walk(directory):
            dirs.sort()
            files.extend(
                os.path.abspath(os.path.join(base, n)) for n in sorted(names) if n.endswith(".py")
            )
        return files

    def _text(self, path: str) -> str | None:
        try:
            if os.path.getsize(path) > _MAX_BYTES:
                return None
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        self._digests[path] = digest_bytes(data)
        return data.decode("utf-8", errors="replace")

    def _note_file(self, path: str) -> None:
        if self._recorders:
            self._recorders[-1][path] = True

    def contains(self, path: str) -> bool:
        absolute = os.path.abspath(path)
        return absolute == self.root or absolute.startswith(self.root + os.sep)

    # -- files ------------------------------------------------------------------------------

    def _directory_of(self, importer: str) -> str:
        """The absolute directory of `importer` (asked for every name a file looks up)."""
        known = self._directories.get(importer)
        if known is None:
            known = self._directories[importer] = os.path.dirname(os.path.abspath(importer))
        return known

    def _search_dirs(self, importer: str) -> tuple[str, ...]:
        directory = self._directory_of(importer)
        known = self._search.get(directory)
        if known is None:
            known = self._search[directory] = self._search_dirs_of(directory, importer)
        return known

    def _search_dirs_of(self, directory: str, importer: str) -> tuple[str, ...]:
        # Directories that do not exist are kept: a module created in them later must still
        # be seen as a change by the result cache (their candidates are probed and absent).
        dirs = [
            directory,
            self.root,
            os.path.join(self.root, "src"),
        ]
        # `pkg/sub/mod.py` importing `pkg.other`, wherever `pkg` sits in the project.
        package_root = import_root(importer)
        if self.contains(package_root):
            dirs.append(package_root)
        return tuple(dict.fromkeys(dirs))

    def find_module(self, dotted: str, importer: str) -> str | None:
        """The file of module `dotted` (leading dots: relative to `importer`), if in the project."""
        key = (dotted, self._directory_of(importer))
        if key not in self._found:
            probed: list[str] = []
            self._found[key] = (self._find_module(dotted, importer, probed), tuple(probed))
        found, probed_paths = self._found[key]
        if self._recorders:
            recorder = self._recorders[-1]
            for candidate in probed_paths:
                recorder.setdefault(candidate, False)
            if found is not None:
                recorder[os.path.abspath(found)] = True
        return found

    def _find_module(self, dotted: str, importer: str, probed: list[str]) -> str | None:
        if dotted.startswith("."):
            level = len(dotted) - len(dotted.lstrip("."))
            base = os.path.dirname(os.path.abspath(importer))
            for _ in range(level - 1):
                base = os.path.dirname(base)
            rest = dotted[level:]
            bases: Iterable[str] = (base,)
        else:
            rest = dotted
            bases = self._search_dirs(importer)
        for base in bases:
            found, candidates = self._probe(base, rest)
            probed.extend(candidates)
            if found is not None:
                return found
        return None

    def _probe(self, base: str, rest: str) -> tuple[str | None, tuple[str, ...]]:
        """Module `rest` (dotted, no leading dots) looked for in `base`: the file found there,
        and the project files probed for it."""
        key = (self.root, base, rest)
        known = _probes.get(key)
        if known is not None:
            return known
        parts = rest.split(".") if rest else []
        target = os.path.join(base, *parts)
        candidates = [target + ".py", os.path.join(target, "__init__.py")] if parts else []
        probed: list[str] = []
        found = None
        for candidate in candidates or [os.path.join(base, "__init__.py")]:
            if not self.contains(candidate):
                continue
            probed.append(os.path.abspath(candidate))
            if _is_file(candidate):
                found = candidate
                break
        known = _probes[key] = (found, tuple(probed))
        return known

    # -- dependency tracking (for the result cache) ------------------------------------------

    def start_recording(self) -> None:
        """Start collecting the project files that checking one file depends on."""
        self._recorders = [{}]

    def stop_recording(self, checked: str) -> dict[str, str | None]:
        """The files consulted since `start_recording`: path -> digest (None: did not exist)."""
        recorded = self._recorders[0] if self._recorders else {}
        self._recorders = []
        own = os.path.abspath(checked)
        return {
            path: (self._digest(path) if present else None)
            for path, present in sorted(recorded.items())
            if path != own
        }

    def _note_exports(self, key: str) -> None:
        """`key`'s exports were used: they depend on the file and on what it resolved."""
        if not self._recorders:
            return
        recorder = self._recorders[-1]
        recorder[key] = True
        for path, present in self._export_deps.get(key, {}).items():
            if present or path not in recorder:
                recorder[path] = present

    def _summarize(self, key: str, model: ModuleModel) -> None:
        self._recorders.append({})
        try:
            self._exports[key] = self._summarize_model(model)
        finally:
            self._export_deps[key] = self._recorders.pop()
        self._note_exports(key)

    def _digest(self, key: str) -> str | None:
        if key not in self._digests:
            self._digests[key] = digest_file(key)
        return self._digests[key]

    def exports_for(self, path: str) -> Summary | None:
        """What a project module's top-level names are (node-free, so no tree stays alive)."""
        key = os.path.abspath(path)
        if key in self._exports:
            self._note_exports(key)
            return self._exports[key]
        self._exports[key] = {}  # while it is being read: an import cycle sees nothing
        model = self._held_model(key) or self._parse(key)
        if model is None:
            self._exports[key] = None
            self._note_exports(key)
        else:
            self._summarize(key, model)
        return self._exports[key]

    def _held_model(self, key: str) -> ModuleModel | None:
        """The model `preload` (or an earlier lookup) parsed for this index and still holds:
        summarizing it must not parse the file a second time."""
        entry = _unchecked.get(key)
        if entry is None or entry[1].index is not self:
            return None
        return entry[1]

    def _parse(self, key: str) -> ModuleModel | None:
        text = None
        try:
            # Any imported project file may matter: a package `__init__` re-exporting a task
            # need not mention prefect. Only what an import resolves to is ever parsed.
            if os.path.getsize(key) > _MAX_BYTES:
                return None
            with open(key, "rb") as handle:
                data = handle.read()
            self._digests[key] = digest_bytes(data)
            text = data.decode("utf-8")
            model = ModuleModel(cst.parse_module(text), key, self)
        except (OSError, UnicodeDecodeError, ValueError, cst.ParserSyntaxError, RecursionError):
            return None
        # Kept (a few, process-wide) so checking this file later does not parse it again.
        _unchecked[key] = (text, model)
        if len(_unchecked) > _MAX_UNCHECKED:
            _unchecked.popitem(last=False)
        return model

    def remember(self, path: str, model: ModuleModel) -> None:
        """Record the exports of a file the checker parsed; its tree can then be freed."""
        key = os.path.abspath(path)
        _unchecked.pop(key, None)
        if key not in self._exports:
            self._exports[key] = {}
            self._summarize(key, model)

    def forget(self, path: str | None = None) -> None:
        """Drop what was learnt from `path`, or from every file: it changed (the editor).

        Summaries of modules that re-export from a changed file go stale with it, and a new
        file changes where imports lead; only forgetting everything is right after a save.
        """
        if path is None:
            self._exports.clear()
            self._found.clear()
            _probes.clear()
            self._search.clear()
            self._directories.clear()
            _files_in.clear()
            self._mentions.clear()
            self._export_deps.clear()
            self._digests.clear()
            self._reaches.clear()
            self._leads.clear()
            _unchecked.clear()
        else:
            key = os.path.abspath(path)
            self._exports.pop(key, None)
            self._digests.pop(key, None)
            _unchecked.pop(key, None)
            # What a changed file leads to may change what other files reach.
            self._reaches.clear()

    def model_of_text(self, path: str, text: str) -> ModuleModel | None:
        """The model the index already built from exactly `text`: each file parses once."""
        key = os.path.abspath(path)
        entry = _unchecked.get(key)
        if entry is not None and entry[0] == text:
            # Its names were looked up (and remembered) while summarizing it for another file.
            self._note_exports(key)
            return entry[1]
        return None

    def preload(self, importer: ModuleModel) -> None:
        """Parse the project modules `importer` imports (and theirs), before any rule runs.

        Rules resolve names deep inside a recursive walk; parsing another module there could
        exhaust the stack. Loading them up front keeps every parse at a shallow depth.
        """
        if importer.path is None:
            return  # a model of no file imports nothing the index could find
        pending = [importer]
        seen: set[str] = {os.path.abspath(importer.path)}
        while pending:
            model = pending.pop()
            path = model.path
            if path is None:
                continue
            for dotted in model.imported_names():
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


# Per process, until an index forgets everything. A module name is probed in up to four
# directories per importing directory, mostly the same ones (the project root, `src/`):
# (project root, directory, dotted rest) -> (the file, the candidates probed), and
# directory -> the names of the regular files in it.
_probes: dict[tuple[str, str, str], tuple[str | None, tuple[str, ...]]] = {}
_files_in: dict[str, tuple[frozenset[str], frozenset[str]]] = {}


def _is_file(path: str) -> bool:
    """`os.path.isfile(path)`, from one listing of its directory."""
    directory, name = os.path.split(path)
    return name in _names_in(directory)


def _is_directory(path: str) -> bool:
    """`os.path.isdir(path)`, from one listing of its parent."""
    directory, name = os.path.split(path)
    return name in _names_in(directory, directories=True)


def _names_in(directory: str, *, directories: bool = False) -> frozenset[str]:
    """The names of the regular files (or the directories) in `directory`, links followed as
    `os.path.isfile` / `isdir` do; none when it cannot be read."""
    listing = _files_in.get(directory)
    if listing is None:
        listing = _files_in[directory] = _listing(directory)
    return listing[1] if directories else listing[0]


def _listing(directory: str) -> tuple[frozenset[str], frozenset[str]]:
    files: list[str] = []
    directories: list[str] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if _is_kind(entry, directory=False):
                    files.append(entry.name)
                elif _is_kind(entry, directory=True):
                    directories.append(entry.name)
    except OSError:
        pass
    return frozenset(files), frozenset(directories)


def _is_kind(entry: os.DirEntry[str], *, directory: bool) -> bool:
    try:
        return entry.is_dir() if directory else entry.is_file()
    except OSError:
        return False


def _prefixes(name: str) -> list[str]:
    level = len(name) - len(name.lstrip("."))
    parts = name[level:].split(".") if name[level:] else []
    return [
        "." * level + ".".join(parts[:split])
        for split in range(len(parts), -1, -1)
        if split or level
    ]
