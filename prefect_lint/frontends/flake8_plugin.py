"""The flake8 plugin: the same engine, running the codes flake8 selects, leaving noqa to it."""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator, Sequence
from typing import Any

from prefect_lint import __version__
from prefect_lint.config import ConfigError, Settings, SettingsResolver, all_codes
from prefect_lint.engine.checker import check_source
from prefect_lint.engine.runner import target_for
from prefect_lint.model.exports import index_for


class Flake8Plugin:
    name = "prefect-lint"
    version = __version__
    # The codes flake8 will report (its --select/--ignore and their extend- forms); None
    # until flake8 has parsed its options (e.g. the plugin used on its own): every code.
    selected: frozenset[str] | None = None

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        """flake8 hands over its parsed options: keep only the codes it would report, so no
        rule runs (and no file is parsed) for codes flake8 would throw away."""
        try:
            from flake8.style_guide import Decision, DecisionEngine

            engine = DecisionEngine(options)
            cls.selected = frozenset(
                code for code in all_codes() if engine.decision_for(code) is Decision.Selected
            )
        except Exception:  # another flake8 version: report everything, as before
            cls.selected = None

    # flake8 treats a plugin whose __init__ takes `tree` as a whole-file plugin; the ast is
    # not used (rules run on LibCST), and flake8 parses it anyway.
    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str) -> None:
        self._lines = lines
        self._filename = filename

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        codes = frozenset(all_codes()) if self.selected is None else self.selected
        if not codes:
            return
        source = "".join(self._lines)
        from_file = self._filename not in ("-", "stdin")
        settings = _settings_for(self._filename if from_file else ".")
        decorators = settings.user_decorators
        index = index_for(self._filename, decorators) if from_file else None
        # flake8 applies noqa and per-file ignores itself. `check_source` does the prefilter;
        # the target is detected once per project root.
        target = target_for(self._filename, settings) if from_file else None
        diagnostics = check_source(
            source,
            self._filename,
            codes,
            apply_noqa=False,
            index=index,
            target=target,
            decorators=decorators,
        )
        for diagnostic in diagnostics:
            yield (
                diagnostic.start.line,
                diagnostic.start.column,
                f"{diagnostic.code} {diagnostic.message}",
                type(self),
            )


# The same resolution as `prefect-lint check` and the language server: each file gets the
# configuration nearest to it (with `extend`); the plugin reads only the target and wrappers.
_RESOLVER = SettingsResolver()


def _settings_for(path: str) -> Settings:
    """The project's `[tool.prefect-lint]` wrappers and target; selection stays flake8's."""
    try:
        return _RESOLVER(path)
    except ConfigError:
        # flake8 has no channel for our config errors; `prefect-lint check` reports them.
        return Settings()
