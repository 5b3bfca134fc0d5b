"""The flake8 plugin: the same engine, reporting every code and leaving noqa to flake8."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from typing import Any

from prefect_lint import __version__
from prefect_lint.config import all_codes
from prefect_lint.engine.checker import check_source, may_involve_prefect
from prefect_lint.model.project import index_for
from prefect_lint.model.target import detect_target


class Flake8Plugin:
    name = "prefect-lint"
    version = __version__

    # flake8 treats a plugin whose __init__ takes `tree` as a whole-file plugin; the ast is
    # not used (rules run on LibCST), and flake8 parses it anyway.
    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str) -> None:
        self._lines = lines
        self._filename = filename

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        source = "".join(self._lines)
        if not may_involve_prefect(source):
            return
        codes = frozenset(all_codes())
        # flake8 applies select/ignore/noqa itself, so report everything.
        index = index_for(self._filename) if self._filename not in ("-", "stdin") else None
        target = detect_target(index.root, None) if index is not None else None
        diagnostics = check_source(
            source, self._filename, codes, apply_noqa=False, index=index, target=target
        )
        for diagnostic in diagnostics:
            yield (
                diagnostic.start.line,
                diagnostic.start.column,
                f"{diagnostic.code} {diagnostic.message}",
                type(self),
            )
