"""The flake8 plugin: the same engine, running only the codes flake8 reports, leaving noqa to it.

flake8 loads this module for every run, whether `PFL` is selected or not, so it imports
nothing heavy: LibCST, the rules and the engine are imported by the first file that has a
code to check. Which codes flake8 reports is decided once per run (per `--per-file-ignores`
pattern), from flake8's own style guides, never per file.
"""

from __future__ import annotations

import argparse
import ast
import gc
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from prefect_lint import __version__
from prefect_lint.rule_codes import RULE_CODES

if TYPE_CHECKING:
    from prefect_lint.config import Settings, SettingsResolver

_ALL_CODES = frozenset(RULE_CODES)
# Whether the long-lived objects were frozen (once per process, see `_check`).
_frozen = False


# What the plugin uses of flake8's `style_guide` module (flake8 ships no type information).
class _Decider(Protocol):
    def decision_for(self, code: str) -> object: ...


class _StyleGuide(Protocol):
    @property
    def decider(self) -> _Decider: ...


class _StyleGuides(Protocol):
    def style_guide_for(self, filename: str) -> _StyleGuide: ...


class _Selection:
    """The PFL codes flake8 reports for a file: its --select/--ignore and their extend- forms,
    narrowed by the `--per-file-ignores` entry that applies to the file."""

    def __init__(self, guides: _StyleGuides, selected: object) -> None:
        self._guides = guides
        self._selected = selected
        # id(style guide) -> (the guide, kept so its id stays unique; its codes)
        self._codes: dict[int, tuple[_StyleGuide, frozenset[str]]] = {}

    def codes_for(self, filename: str) -> frozenset[str]:
        # flake8 picks (and caches) the guide per file name exactly as it does for reporting.
        guide = self._guides.style_guide_for(filename)
        known = self._codes.get(id(guide))
        if known is None:
            decider = guide.decider
            codes = frozenset(
                code for code in RULE_CODES if decider.decision_for(code) is self._selected
            )
            known = self._codes[id(guide)] = (guide, codes)
        return known[1]


class Flake8Plugin:
    name = "prefect-lint"
    version = __version__
    # Set by `parse_options` for each flake8 run; None (the plugin used without flake8's
    # option parsing, or a flake8 whose internals differ): every code, flake8 filters.
    _selection: _Selection | None = None

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        """flake8 hands over its parsed options (in every worker process too): build its
        style guides once, so that a file runs only the rules whose codes flake8 reports."""
        try:
            # flake8 ships no type information; what is used is typed by the Protocols above.
            from flake8.style_guide import (
                Decision,
                StyleGuideManager,
            )

            # The formatter is only used to report, which this copy never does.
            guides: _StyleGuides = StyleGuideManager(options, None)
            cls._selection = _Selection(guides, Decision.Selected)
        except Exception:  # another flake8 version: check every code, as flake8 filters
            cls._selection = None

    # flake8 treats a plugin whose __init__ takes `tree` as a whole-file plugin. The rules run
    # on LibCST; flake8's `ast` tree (parsed once for all its plugins) decides, without a
    # parse of ours, whether the file needs one.
    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str) -> None:
        self._tree = tree if isinstance(tree, ast.Module) else None
        self._lines = lines
        self._filename = filename

    def run(self) -> Iterator[tuple[int, int, str, type[Flake8Plugin]]]:
        selection = self._selection
        codes = _ALL_CODES if selection is None else selection.codes_for(self._filename)
        if not codes:
            return
        source = "".join(self._lines)
        for line, column, message in _check(source, self._filename, codes, self._tree):
            yield line, column, message, type(self)


def _check(
    source: str, filename: str, codes: frozenset[str], tree: ast.Module | None = None
) -> list[tuple[int, int, str]]:
    """(line, column, "CODE message") of each finding; flake8 applies noqa and per-file
    ignores itself."""
    from_file = filename not in ("-", "stdin")
    settings = _settings_for(filename if from_file else ".")
    # Preview rules run only where the configuration nearest the file sets `preview = true`,
    # as with `prefect-lint check` and the language server: selecting `PFL` in flake8 gets
    # the stable rules, the same set the CLI checks by default.
    codes = frozenset(code for code in codes if settings.preview_allows(code))
    if not codes:
        return []
    # Imported here, not with the module: flake8 imports every plugin on every run.
    from prefect_lint.engine.checker import check_source
    from prefect_lint.engine.runner import target_for
    from prefect_lint.model.exports import index_for

    global _frozen
    if not _frozen:
        # What is alive once LibCST and the rules are loaded (their modules, flake8's plugins
        # and options) lives as long as the run: move it out of the collector's reach, so
        # the full collections the LibCST trees trigger stop walking it again and again
        # (measured on the benchmark corpus: their time fell from 0.9 s to 0.3 s).
        gc.freeze()
        _frozen = True
    decorators = settings.user_decorators
    # Per process and per project root (flake8's workers each keep their own): the project
    # index and the detected target are built once, not per file.
    index = index_for(filename, decorators) if from_file else None
    target = target_for(filename, settings) if from_file else None
    diagnostics = check_source(
        source,
        filename,
        codes,
        apply_noqa=False,
        index=index,
        target=target,
        decorators=decorators,
        tree=tree,
    )
    return [(d.start.line, d.start.column, f"{d.code} {d.message}") for d in diagnostics]


# The same resolution as `prefect-lint check` and the language server: each file gets the
# configuration nearest to it (with `extend`); the plugin reads only the target and wrappers.
_resolver: SettingsResolver | None = None


def _settings_for(path: str) -> Settings:
    """The project's `[tool.prefect-lint]` wrappers and target; selection stays flake8's."""
    from prefect_lint.config import ConfigError, Settings, SettingsResolver

    global _resolver
    if _resolver is None:
        _resolver = SettingsResolver()
    try:
        return _resolver(path)
    except ConfigError:
        # flake8 has no channel for our config errors; `prefect-lint check` reports them.
        return Settings()
