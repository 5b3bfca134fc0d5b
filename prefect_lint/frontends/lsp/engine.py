"""The engine's side of the language server: what checking one document needs, built in one
place, and the calls the server makes. It runs in the engine process and uses no LSP types.

The Prefect target of a project is detected once and kept (`Targets`): detecting it reads the
project's pin files and, when no pin decides it, scans every Python file of the project for
2.x-only names, which is far too slow to repeat on each keystroke.

A check whose document got a newer text is stopped half-way (`Interrupts`, `Superseded`), so
that the newest text is checked at once instead of after it. It may stop anywhere except inside
the project index, whose caches outlive the check: every call into the index runs to its end.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from types import TracebackType

from prefect_lint.config import ConfigError, Settings, SettingsResolver
from prefect_lint.diagnostics import Diagnostic, Fix, Position
from prefect_lint.engine.analysis import FileSetup
from prefect_lint.engine.notebook import check_cells
from prefect_lint.frontends.lsp import MAX_CHARACTERS
from prefect_lint.model.api import UserDecorators
from prefect_lint.model.exports import summarize
from prefect_lint.model.module import ModuleModel
from prefect_lint.model.project import ProjectIndex
from prefect_lint.model.root import find_project_root
from prefect_lint.model.target import Target, detect_target, pin_files, with_text_evidence
from prefect_lint.model.values import Value
from prefect_lint.rule_codes import SYNTAX_ERROR

# A module's top-level names as the other modules of its project see them.
Summary = dict[str, Value | None]

# (path, modification time in ns, size) of each pin file, in reading order.
_Stamp = tuple[tuple[str, int, int], ...]


def _pin_stamp(root: str) -> _Stamp:
    stamp: list[tuple[str, int, int]] = []
    for path in pin_files(root):
        try:
            status = os.stat(path)
        except OSError:
            continue
        stamp.append((path, status.st_mtime_ns, status.st_size))
    return tuple(stamp)


class Targets:
    """The Prefect target of each project (root, `target-version` setting), detected once.

    Kept until what decided it may have changed: a pin file (pyproject.toml, requirements*.txt
    or .in, setup.cfg at the root) that was added, removed or modified is noticed on the next
    request (a few `stat` calls); a change to the project's Python code, which can hold the
    2.x evidence, is reported by the server (`forget`: a document of the project was saved, or
    the client's file watcher saw a Python file change).
    """

    def __init__(self) -> None:
        self._known: dict[tuple[str, str | None], tuple[_Stamp, Target]] = {}

    def __call__(self, root: str, configured: str | None) -> Target:
        if configured:
            return detect_target(root, configured)  # the setting alone decides: nothing read
        key = (root, configured)
        stamp = _pin_stamp(root)
        known = self._known.get(key)
        if known is None or known[0] != stamp:
            known = (stamp, detect_target(root, configured))
            self._known[key] = known
        return known[1]

    def forget(self, root: str | None = None) -> None:
        """Detect the target of the project at `root` (of every project: None) again."""
        if root is None:
            self._known.clear()
            return
        for key in [key for key in self._known if key[0] == root]:
            del self._known[key]


class Superseded(BaseException):
    """Stops a check whose document has a newer text (a BaseException: no `except Exception`
    in the engine may swallow it)."""


class Interrupts:
    """Where a check may be stopped: the server asks with a signal (`request`, called from
    its handler); the check stops at once, or, inside the project index, when it leaves it."""

    def __init__(self) -> None:
        self.armed = False  # a check that may be stopped is running
        self.depth = 0  # calls into the project index under way
        self.pending = False  # asked while inside the index

    def arm(self) -> None:
        self.armed, self.pending = True, False

    def disarm(self) -> None:
        self.armed = self.pending = False

    def request(self) -> None:
        if not self.armed:
            return  # the check is over (or was not to be stopped)
        if self.depth:
            self.pending = True
            return
        self.disarm()
        raise Superseded

    def __enter__(self) -> None:
        self.depth += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.depth -= 1
        if kind is None and self.depth == 0 and self.pending and self.armed:
            self.disarm()
            raise Superseded


INTERRUPTS = Interrupts()


class GuardedIndex(ProjectIndex):
    """The project index, each of its calls shielded from `Superseded`: a placeholder it
    writes while reading a module (an import cycle sees nothing) must not outlive the check.
    A test asserts that every public method of ProjectIndex is shielded here."""

    summarizes_every_text = True

    def imports_prefect_code(self, text: str, importer: str, depth: int = 2) -> bool:
        with INTERRUPTS:
            return super().imports_prefect_code(text, importer, depth)

    def reaches_prefect(self, names: Iterable[str], importer: str) -> bool:
        with INTERRUPTS:
            return super().reaches_prefect(names, importer)

    def contains(self, path: str) -> bool:
        with INTERRUPTS:
            return super().contains(path)

    def find_module(self, dotted: str, importer: str) -> str | None:
        with INTERRUPTS:
            return super().find_module(dotted, importer)

    def start_recording(self) -> None:
        with INTERRUPTS:
            super().start_recording()

    def stop_recording(self, checked: str) -> dict[str, str | None]:
        with INTERRUPTS:
            return super().stop_recording(checked)

    def exports_for(self, path: str) -> dict[str, Value | None] | None:
        with INTERRUPTS:
            return super().exports_for(path)

    def remember(self, path: str, model: ModuleModel) -> None:
        with INTERRUPTS:
            super().remember(path, model)

    def forget(self, path: str | None = None) -> None:
        with INTERRUPTS:
            super().forget(path)

    def model_of_text(self, path: str, text: str) -> ModuleModel | None:
        with INTERRUPTS:
            return super().model_of_text(path, text)

    def preload(self, importer: ModuleModel) -> None:
        with INTERRUPTS:
            super().preload(importer)

    def resolve(self, dotted: str, importer: str) -> Value | None:
        with INTERRUPTS:
            return super().resolve(dotted, importer)

    # -- what the editor's open documents export ---------------------------------------------

    def summary_of(self, path: str) -> Summary | None:
        """What the index holds as `path`'s top-level names, without reading the file."""
        with INTERRUPTS:
            return self._exports.get(os.path.abspath(path))

    def keep(self, path: str, summary: Summary) -> None:
        """Take `summary` as `path`'s top-level names (an open document's, not the disk's)."""
        with INTERRUPTS:
            self._exports[os.path.abspath(path)] = summary


def _excluded(settings: Settings, path: str) -> bool:
    """`exclude` / `extend-exclude`, matched against the path below the settings' root."""
    relative = settings.relative(path)
    if relative.startswith("../") or os.path.isabs(relative):
        return False
    return bool(settings.exclude_spec.match_file(relative))


class Engine:
    """The CLI's engine for documents that live in the editor; runs in the engine process."""

    def __init__(self) -> None:
        # The CLI's resolution (nearest configuration, `extend`), re-reading a configuration
        # whenever a file of its chain changed.
        self._resolver = SettingsResolver(reload=True)
        self.targets = Targets()
        self._indexes: dict[tuple[str, UserDecorators], GuardedIndex] = {}
        # path -> what the open document exported when its text last parsed.
        self._open: dict[str, Summary] = {}
        # The documents whose last check had findings. Their next check skips the rules'
        # triggers: the file will be parsed anyway, and on a 1,000-line flow the triggers
        # took 40 ms to leave out rules that cost less to run.
        self._had_findings: set[str] = set()

    def index_for(self, path: str, decorators: UserDecorators) -> GuardedIndex:
        """The index of the project `path` belongs to (as `model.exports.index_for`, guarded)."""
        key = (find_project_root(path), decorators)
        index = self._indexes.get(key)
        if index is None:
            index = GuardedIndex(key[0], decorators, summarize=summarize)
            self._indexes[key] = index
        return index

    def _settings_for(self, anchor: str) -> tuple[Settings, str | None]:
        try:
            return self._resolver(anchor), None
        except (ConfigError, OSError) as error:
            # Checked with the defaults meanwhile; the user is told what is wrong.
            return Settings(root=find_project_root(anchor)), str(error)

    def setup(
        self, path: str | None, workspace_root: str, size: int, text: str | None = None
    ) -> tuple[FileSetup | None, str | None]:
        """The set-up for a document of `size` characters at `path` (None: not a file), or
        None if it is not to be checked (excluded, or too large); and the configuration
        problem, if any. With `text` (one buffer, not notebook cells) the target also counts
        2.x names in that unsaved text, which the project scan did not see."""
        anchor = path if path is not None else os.path.join(workspace_root, "untitled.py")
        settings, error = self._settings_for(anchor)
        if size > MAX_CHARACTERS or (path is not None and _excluded(settings, path)):
            return None, error
        target = self.targets(find_project_root(anchor), settings.target_version)
        if text is not None:
            target = with_text_evidence(target, text, path if path is not None else "-")
        setup = FileSetup(
            path=path if path is not None else "-",
            codes=settings.codes_for(anchor),
            index=self.index_for(path, settings.user_decorators) if path is not None else None,
            target=target,
            decorators=settings.user_decorators,
        )
        return setup, error

    def check(
        self, path: str | None, workspace_root: str, text: str
    ) -> tuple[list[Diagnostic], str | None]:
        """The diagnostics (fixes not rendered) and the configuration problem, if any."""
        setup, error = self.setup(path, workspace_root, len(text), text)
        if setup is None:
            return [], error
        # This engine builds every set-up with its own (guarded) index.
        index = setup.index if isinstance(setup.index, GuardedIndex) else None
        if index is not None:
            # The buffer's own top-level names may have changed since the last check.
            index.forget(setup.path)
        # An untitled buffer has no path of its own to remember it by.
        known = path is not None and setup.path in self._had_findings
        try:
            found = setup.check(text, precheck=not known)
        except Superseded:
            if index is not None:
                # A tree the index holds for this file may be half-analyzed: drop it.
                index.forget(setup.path)
                self._keep_last_good(index, setup.path)
            raise
        if index is not None:
            summary = index.summary_of(setup.path)
            if summary is not None:
                self._open[setup.path] = summary
            elif any(d.code == SYNTAX_ERROR for d in found):
                # Half-typed: the project keeps seeing the last text of it that parsed.
                self._keep_last_good(index, setup.path)
            else:
                self._open.pop(setup.path, None)  # not Prefect code (any more): nothing to keep
        if path is not None:
            if found:
                self._had_findings.add(setup.path)
            else:
                self._had_findings.discard(setup.path)
        return found, error

    def _keep_last_good(self, index: GuardedIndex, path: str) -> None:
        summary = self._open.get(path)
        if summary is not None:
            index.keep(path, summary)

    def close(self, path: str) -> None:
        """The editor closed the document: the project sees the file on disk again."""
        self._had_findings.discard(path)
        if self._open.pop(path, None) is not None:
            settings, _ = self._settings_for(path)
            self.index_for(path, settings.user_decorators).forget(path)

    def check_cells(
        self, path: str | None, workspace_root: str, cells: list[str]
    ) -> tuple[list[Diagnostic], str | None]:
        """A notebook's code cells, joined as `prefect-lint check` joins an `.ipynb` file's;
        each diagnostic's `cell` is its 1-based position in `cells`."""
        setup, error = self.setup(path, workspace_root, sum(map(len, cells)))
        if setup is None:
            return [], error
        return check_cells(cells, setup), error

    def fix_for(
        self, path: str | None, workspace_root: str, text: str, code: str, start: Position
    ) -> Fix | None:
        """The rendered fix of the `code` diagnostic at `start` (only that one is rendered)."""
        setup, _ = self.setup(path, workspace_root, len(text), text)
        if setup is None:
            return None
        found = setup.check(text, render_fixes=True, render_only={(code, start)})
        return next((d.fix for d in found if d.code == code and d.start == start), None)

    def fix_all(self, path: str | None, workspace_root: str, text: str) -> str:
        """The text after the `--fix` loop (safe fixes only)."""
        setup, _ = self.setup(path, workspace_root, len(text), text)
        return text if setup is None else setup.fix(text).text

    def forget(self, path: str) -> None:
        """A file was saved or changed on disk: what any module of its project exports may
        have changed, and so may the 2.x evidence its Prefect target was found from.

        The open documents of the project keep what they export (as last checked), rather
        than being read from disk again: the editor's text is the truth for them. Each is
        checked again after a save, which refreshes a name it re-exports from the saved file.
        """
        settings, _ = self._settings_for(path)
        index = self.index_for(path, settings.user_decorators)
        index.forget()
        for document, summary in self._open.items():
            if index.contains(document) and document != os.path.abspath(path):
                index.keep(document, summary)
        self.targets.forget(find_project_root(path))
