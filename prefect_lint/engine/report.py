"""What checking one file produced, as plain data (no LibCST: the cached path imports this)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from prefect_lint.diagnostics import Diagnostic, FileError


@dataclass(frozen=True)
class Mode:
    """What a run does with each file besides checking it."""

    fix: bool = False  # apply fixes
    unsafe_fixes: bool = False
    write: bool = True  # write fixed files back (False for --diff)
    render_fixes: bool = False  # attach edits to diagnostics (JSON, editors)
    # Record the project files each result depends on (for the result cache).
    track_dependencies: bool = False


@dataclass
class Outcome:
    """What checking (with `--fix`: fixing) one module, Markdown document or notebook gave."""

    text: str  # the text after the fixes (the checked text when nothing was fixed)
    diagnostics: list[Diagnostic]
    fixed: Counter[str] = field(default_factory=Counter)
    # One line per fix that was not applied (its result did not parse, or it crossed cells).
    dropped: list[str] = field(default_factory=list)
    # A notebook's code cells (1-based number -> source), which its diagnostics point into.
    cell_sources: dict[int, str] | None = None


@dataclass
class FileReport:
    """Everything checking one file produced, in plain data (it crosses process boundaries)."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: FileError | None = None
    # The text that was checked (after fixes, if any were applied).
    source: str | None = None
    fixed: dict[str, int] = field(default_factory=dict)
    changed: bool = False
    original_source: str | None = None
    dropped_fixes: list[str] = field(default_factory=list)
    # For the result cache: the digest of the bytes that were checked, and the project files
    # the analysis consulted (path -> digest, None for a candidate that did not exist).
    digest: str | None = None
    dependencies: dict[str, str | None] | None = None
    # True when the report came from the cache instead of an analysis.
    cached: bool = False
    # A notebook's code cells (1-based number -> source), which its diagnostics point into.
    cell_sources: dict[int, str] | None = None
