"""One file's text checked or fixed with what surrounds it: its path, enabled rules, project,
Prefect target and the user's wrapper decorators."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TypedDict

from prefect_lint.diagnostics import Diagnostic, Position
from prefect_lint.engine.checker import check_source
from prefect_lint.engine.fixer import FixOutcome, fix_source
from prefect_lint.model.api import UserDecorators
from prefect_lint.model.project import ProjectIndex
from prefect_lint.model.target import Target


@dataclass(frozen=True)
class FileSetup:
    """What checking one file needs besides its text (a Markdown block or a notebook's cells
    are checked with their document's setup)."""

    path: str
    codes: frozenset[str]  # the enabled rules
    index: ProjectIndex | None = None  # the file's project (None: the file alone)
    target: Target | None = None  # the Prefect version it runs on
    decorators: UserDecorators | None = None  # None: the index's (or none without one)

    def check(
        self,
        text: str,
        *,
        render_fixes: bool = False,
        render_only: Collection[tuple[str, Position]] | None = None,
        precheck: bool = True,
    ) -> list[Diagnostic]:
        """`check_source` on `text`; `render_only` limits `render_fixes` to those findings;
        `precheck=False` runs every enabled rule without asking their triggers first."""
        return check_source(
            text,
            self.path,
            self.codes,
            render_fixes=render_fixes,
            render_only=render_only,
            precheck=precheck,
            **self._project(),
        )

    def fix(self, text: str, *, unsafe: bool = False) -> FixOutcome:
        return fix_source(text, self.path, self.codes, unsafe=unsafe, **self._project())

    def _project(self) -> _Project:
        return {"index": self.index, "target": self.target, "decorators": self.decorators}


class _Project(TypedDict):
    """The keywords `check_source` and `fix_source` take about the file's surroundings."""

    index: ProjectIndex | None
    target: Target | None
    decorators: UserDecorators | None
